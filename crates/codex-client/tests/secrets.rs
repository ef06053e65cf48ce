//! Secrets never show up in `Debug`, `Display`, `tracing` or `log` output: environment values
//! given to the app-server ([`SpawnConfig::env`]), the bearer token of remote transports
//! ([`ConnectOptions::bearer_token`]) and an API key given to [`Codex::login_api_key`].
//!
//! `tracing` output is captured at TRACE level, every field of every span and event, by a small
//! subscriber installed for the test's (current-thread) runtime. `log` records (what any
//! dependency writes — the websocket library tungstenite, which the SDK used before, logged the
//! upgrade request and every frame's payload at TRACE —, what an application with `env_logger` or
//! `tracing-subscriber`'s `log` bridge would record) are captured at TRACE by a process-wide
//! logger: `log` takes one
//! logger per process, so every test of this binary shares it, and each checks the whole
//! process's record for the secret (all tests use the same secret, so a leak anywhere fails).

use codex_client::core::{Connection, ConnectionConfig};
use codex_client::transport::ConnectOptions;
use codex_client::{Codex, SpawnConfig};
use futures::{SinkExt, StreamExt};
use std::fmt::Write as _;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_websockets::Message;

const SECRET: &str = "sk-live-DO-NOT-LEAK-4242";

/// Records every span and event field, formatted, at every level.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<String>>);

struct Fields<'a>(&'a mut String);

impl tracing::field::Visit for Fields<'_> {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        let _ = write!(self.0, " {}={:?}", field.name(), value);
    }
}

impl tracing::Subscriber for Capture {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, span: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        let mut out = self.0.lock().unwrap();
        let _ = write!(out, "\nspan {}", span.metadata().name());
        span.record(&mut Fields(&mut out));
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, values: &tracing::span::Record<'_>) {
        values.record(&mut Fields(&mut self.0.lock().unwrap()));
    }
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        let mut out = self.0.lock().unwrap();
        let _ = write!(out, "\nevent {}", event.metadata().target());
        event.record(&mut Fields(&mut out));
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

impl Capture {
    fn text(&self) -> String {
        self.0.lock().unwrap().clone()
    }
}

/// The process-wide `log` logger: every record at every level, with its target.
struct LogCapture(Mutex<String>);

impl log::Log for LogCapture {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &log::Record<'_>) {
        let mut out = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let _ = write!(
            out,
            "\n{} {} {}",
            record.level(),
            record.target(),
            record.args()
        );
    }
    fn flush(&self) {}
}

/// Installs the `log` capture (once per process) at TRACE and returns it.
fn log_capture() -> &'static LogCapture {
    static LOGGER: OnceLock<&'static LogCapture> = OnceLock::new();
    LOGGER.get_or_init(|| {
        let logger: &'static LogCapture =
            Box::leak(Box::new(LogCapture(Mutex::new(String::new()))));
        log::set_logger(logger).expect("the only `log` logger of this test binary");
        log::set_max_level(log::LevelFilter::Trace);
        logger
    })
}

impl LogCapture {
    fn text(&self) -> String {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// Fails unless the `log` capture records TRACE (a probe record of our own: the SDK and its
/// dependencies may log nothing at all).
fn assert_log_capture_works() {
    log::trace!(target: "secrets_probe", "the log capture records TRACE");
    assert!(
        log_capture()
            .text()
            .contains("secrets_probe the log capture records TRACE"),
        "the log capture works"
    );
}

/// Fails if `SECRET` is in the `log` record of the process or in `also`.
fn assert_no_secret(also: &str) {
    let logged = log_capture().text();
    assert!(
        !logged.contains(SECRET),
        "a `log` record has the secret:\n{logged}"
    );
    assert!(!also.contains(SECRET), "{also}");
}

#[test]
fn spawn_config_debug_names_env_variables_but_never_prints_their_values() {
    let spawn = SpawnConfig::new()
        .env("OPENAI_API_KEY", SECRET)
        .env("SOMETHING_HARMLESS", "visible?")
        .env_remove("CODEX_API_KEY");
    let text = format!("{spawn:?}");
    assert!(!text.contains(SECRET), "{text}");
    assert!(
        !text.contains("visible?"),
        "every value is redacted: {text}"
    );
    assert!(text.contains("OPENAI_API_KEY=<redacted>"), "{text}");
    assert!(text.contains("CODEX_API_KEY"), "{text}");
    let text = format!("{spawn:#?}");
    assert!(!text.contains(SECRET), "{text}");
}

/// Spawning with a secret in the environment, running, failing and closing: the secret is in no
/// log line, no error and no `Debug` of the connection.
#[tokio::test]
async fn spawning_with_a_secret_env_logs_no_secret() {
    log_capture();
    let capture = Capture::default();
    let _guard = tracing::subscriber::set_default(capture.clone());
    let spawn = SpawnConfig::explicit(
        "/bin/sh",
        [
            "-c",
            "read line; echo '{\"id\":1,\"result\":{}}'; echo 'bye' >&2; exit 3",
        ],
    )
    .env("OPENAI_API_KEY", SECRET);
    tracing::debug!(config = ?spawn, "spawning");
    let conn = Connection::spawn(spawn, ConnectionConfig::new().handshake(false))
        .await
        .expect("spawn");
    conn.request_raw("x", None).await.expect("answered");
    let info = tokio::time::timeout(Duration::from_secs(30), conn.wait_closed())
        .await
        .expect("closed");
    let err = conn.request_raw("y", None).await.unwrap_err();
    let everything = format!("{}\n{info}\n{err}\n{err:?}\n{conn:?}", capture.text());
    assert!(everything.contains("spawning"), "the capture works");
    assert_no_secret(&everything);
}

/// A hostile loopback HTTP server for one connection: reads the upgrade request, answers with
/// `status` and, as the body, the request itself (token included). Returns the request.
async fn refusing_server(status: &'static str) -> (String, tokio::task::JoinHandle<String>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut request = Vec::new();
        let mut chunk = [0u8; 4096];
        while !request.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = socket.read(&mut chunk).await.unwrap();
            assert!(n > 0, "the client sends a whole request head");
            request.extend_from_slice(&chunk[..n]);
        }
        let answer = format!(
            "HTTP/1.1 {status}\r\ncontent-length: {}\r\n\r\n",
            request.len()
        );
        let _ = socket.write_all(answer.as_bytes()).await;
        let _ = socket.write_all(&request).await;
        String::from_utf8_lossy(&request).into_owned()
    });
    (url, server)
}

/// A bearer token sent to a server that refuses the upgrade (401 and 500, the body echoing the
/// request): not in the error, not in `tracing`, not in `log` (tungstenite, which the SDK used
/// before, logged the request it wrote at TRACE).
#[tokio::test]
async fn an_upgrade_refused_with_401_or_500_leaks_the_token_nowhere() {
    log_capture();
    let capture = Capture::default();
    let _guard = tracing::subscriber::set_default(capture.clone());
    let options = ConnectOptions::new()
        .bearer_token(SECRET)
        .connect_timeout(Duration::from_secs(20));
    tracing::debug!(options = ?options, "connecting");
    let mut everything = String::new();
    for (status, code) in [
        ("401 Unauthorized", 401),
        ("500 Internal Server Error", 500),
    ] {
        let (url, server) = refusing_server(status).await;
        let err = Connection::connect_url(&url, &options, ConnectionConfig::new())
            .await
            .unwrap_err();
        let request = server.await.unwrap();
        assert!(
            request
                .lines()
                .any(|line| line.eq_ignore_ascii_case(&format!("authorization: Bearer {SECRET}"))),
            "the token was sent (to loopback): {request}"
        );
        let kind = connect_kind(&err);
        assert_eq!(
            kind,
            Some(codex_client::transport::ConnectErrorKind::Http(code)),
            "{err}"
        );
        assert!(
            err.to_string().contains("<redacted>"),
            "the echoed body is shown, redacted: {err}"
        );
        let _ = write!(everything, "\n{err}\n{err:?}");
    }
    let _ = write!(everything, "\n{}\n{options:?}", capture.text());
    assert!(
        everything.contains("connecting"),
        "the tracing capture works"
    );
    assert_log_capture_works();
    assert_no_secret(&everything);
}

/// How the fake websocket server ends a connection.
#[derive(Clone, Copy)]
enum Ending {
    /// Waits for the client's close frame (a graceful `close()`).
    ClientCloses,
    /// Drops the TCP connection without a close frame.
    Drop,
    /// Sends a close frame itself.
    ServerCloses,
}

/// A loopback websocket server: for each ending in turn, accepts one connection (recording its
/// `Authorization` header), answers the first request with `{}`, then ends as told.
async fn websocket_server(
    endings: Vec<Ending>,
) -> (String, tokio::task::JoinHandle<Vec<Option<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(async move {
        let mut seen = Vec::new();
        for ending in endings {
            let (socket, _) = listener.accept().await.unwrap();
            let (upgrade, mut ws) = tokio_websockets::ServerBuilder::new()
                .accept(socket)
                .await
                .expect("the upgrade");
            seen.push(
                upgrade
                    .headers()
                    .get("authorization")
                    .map(|v| v.to_str().unwrap().to_owned()),
            );
            let message = ws.next().await.expect("a request").expect("a frame");
            let text = message.as_text().expect("a text frame");
            let request: serde_json::Value = serde_json::from_str(text).unwrap();
            let answer = serde_json::json!({"id": request["id"], "result": {}});
            ws.send(Message::text(answer.to_string())).await.unwrap();
            match ending {
                Ending::ClientCloses => while let Some(Ok(_)) = ws.next().await {},
                Ending::Drop => drop(ws),
                Ending::ServerCloses => {
                    let _ = ws.close().await;
                }
            }
        }
        seen
    });
    (url, server)
}

/// The token on every path of a websocket connection that works: connect, a request, a graceful
/// close, a reconnect that the server drops, one that the server closes. In no `tracing`
/// field, no `log` record (at TRACE, where tungstenite, which the SDK used before, logged the
/// upgrade request), no error or `Debug`.
#[tokio::test]
async fn a_bearer_token_is_in_no_log_on_connect_reconnect_and_close() {
    log_capture();
    let capture = Capture::default();
    let _guard = tracing::subscriber::set_default(capture.clone());
    let endings = vec![Ending::ClientCloses, Ending::Drop, Ending::ServerCloses];
    let (url, server) = websocket_server(endings.clone()).await;
    let options = ConnectOptions::new()
        .bearer_token(SECRET)
        .connect_timeout(Duration::from_secs(20));
    let mut everything = String::new();
    for ending in endings {
        let conn =
            Connection::connect_url(&url, &options, ConnectionConfig::new().handshake(false))
                .await
                .expect("connect");
        conn.request_raw("thread/loaded/list", Some(serde_json::json!({})))
            .await
            .expect("answered");
        let info = match ending {
            Ending::ClientCloses => conn.close().await,
            Ending::Drop | Ending::ServerCloses => {
                tokio::time::timeout(Duration::from_secs(20), conn.wait_closed())
                    .await
                    .expect("the connection ends")
            }
        };
        let after = conn.request_raw("x", None).await.unwrap_err();
        let _ = write!(
            everything,
            "\n{info}\n{info:?}\n{after}\n{after:?}\n{conn:?}"
        );
    }
    let seen = server.await.unwrap();
    let expected = Some(format!("Bearer {SECRET}"));
    assert_eq!(
        seen,
        [expected.clone(), expected.clone(), expected],
        "the token reached the server each time"
    );
    let _ = write!(everything, "\n{}", capture.text());
    assert!(
        everything.contains("websocket"),
        "the tracing capture works: {everything}"
    );
    assert_log_capture_works();
    assert_no_secret(&everything);
}

/// An API-key login (on the memory transport: the SDK's own logging) puts the key in no log.
#[tokio::test]
async fn an_api_key_login_logs_no_key() {
    log_capture();
    let capture = Capture::default();
    let _guard = tracing::subscriber::set_default(capture.clone());
    let (transport, mut peer) = codex_client::Transport::memory();
    let conn = Connection::connect(transport, ConnectionConfig::new().handshake(false))
        .await
        .unwrap();
    let codex = Codex::from_connection(conn);
    let login = tokio::spawn({
        let codex = codex.clone();
        async move { codex.account().login_api_key(SECRET).await }
    });
    let request = tokio::time::timeout(Duration::from_secs(5), peer.recv_json())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(request["params"]["apiKey"], SECRET, "the key was sent");
    peer.send_json(&serde_json::json!({"id": request["id"], "result": {"type": "apiKey"}}));
    login.await.unwrap().expect("logged in");
    let info = codex.close().await;
    let everything = format!("{}\n{info}\n{codex:?}", capture.text());
    assert!(
        everything.contains("codex.request"),
        "the tracing capture works: {everything}"
    );
    assert_no_secret(&everything);
}

/// Plain `ws://` to a host that is not a loopback name or address (here `0.0.0.0`, which
/// reaches this machine): one `tracing` warning per connection that the traffic is not
/// encrypted, however many messages it carries; none for `127.0.0.1`; with a token the connection
/// is refused before any byte is sent.
#[tokio::test]
async fn clear_text_ws_to_a_host_that_is_not_loopback_warns_once_per_connection() {
    const WARNING: &str = "plain ws:// to a host that is not loopback";
    let capture = Capture::default();
    let _guard = tracing::subscriber::set_default(capture.clone());
    let endings = vec![Ending::ClientCloses; 3];
    let (loopback_url, server) = websocket_server(endings).await;
    let remote_url = loopback_url.replace("127.0.0.1", "0.0.0.0");
    let refused = Connection::connect_url(
        &remote_url,
        &ConnectOptions::new().bearer_token(SECRET),
        ConnectionConfig::new().handshake(false),
    )
    .await
    .unwrap_err();
    assert_eq!(
        connect_kind(&refused),
        Some(codex_client::transport::ConnectErrorKind::InsecureToken),
        "{refused}"
    );
    let mut warnings = Vec::new();
    for url in [&remote_url, &remote_url, &loopback_url] {
        let conn = Connection::connect_url(
            url,
            &ConnectOptions::new(),
            ConnectionConfig::new().handshake(false),
        )
        .await
        .expect("connect");
        conn.request_raw("thread/loaded/list", Some(serde_json::json!({})))
            .await
            .expect("answered");
        conn.close().await;
        warnings.push(capture.text().matches(WARNING).count());
    }
    server.await.unwrap();
    assert_eq!(
        warnings,
        [1, 2, 2],
        "one warning per clear-text connection to 0.0.0.0, none to 127.0.0.1"
    );
    assert!(!capture.text().contains(SECRET));
}

/// An API-key login over a loopback websocket (`Codex::login_api_key` on a `ws://` connection):
/// the key travels in the payload of a text frame, and no `log` record (the websocket library's
/// included: tungstenite logged every frame's payload at TRACE) and no `tracing` event has it.
/// The fake peer answers the login and then the client's close frame.
#[tokio::test]
async fn an_api_key_login_over_a_websocket_logs_no_key() {
    log_capture();
    let capture = Capture::default();
    let _guard = tracing::subscriber::set_default(capture.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(async move {
        let (socket, _) = listener.accept().await.unwrap();
        let (_, mut ws) = tokio_websockets::ServerBuilder::new()
            .accept(socket)
            .await
            .expect("the upgrade");
        let request = ws.next().await.expect("a request").expect("a frame");
        let request: serde_json::Value =
            serde_json::from_str(request.as_text().expect("a text frame")).unwrap();
        let answer = serde_json::json!({"id": request["id"], "result": {"type": "apiKey"}});
        ws.send(Message::text(answer.to_string())).await.unwrap();
        // Until the client's close frame (answered by the library).
        while let Some(Ok(_)) = ws.next().await {}
        request
    });
    let conn = Connection::connect_url(
        &url,
        &ConnectOptions::new().connect_timeout(Duration::from_secs(20)),
        ConnectionConfig::new().handshake(false),
    )
    .await
    .expect("connect");
    let codex = Codex::from_connection(conn);
    tokio::time::timeout(
        Duration::from_secs(20),
        codex.account().login_api_key(SECRET),
    )
    .await
    .expect("answered in time")
    .expect("logged in");
    let info = codex.close().await;
    let request = tokio::time::timeout(Duration::from_secs(20), server)
        .await
        .expect("the peer ends")
        .unwrap();
    assert_eq!(request["method"], "account/login/start", "{request}");
    assert_eq!(request["params"]["apiKey"], SECRET, "the key was sent");
    assert_log_capture_works();
    let everything = format!("{}\n{info}\n{info:?}\n{codex:?}", capture.text());
    assert!(
        everything.contains("codex.request") && everything.contains("websocket"),
        "the tracing capture works: {everything}"
    );
    assert_no_secret(&everything);
}

/// The kind of a connect error (`Error::Connect`), `None` for any other error.
fn connect_kind(err: &codex_client::Error) -> Option<codex_client::transport::ConnectErrorKind> {
    match err {
        codex_client::Error::Connect(connect) => Some(connect.kind),
        _ => None,
    }
}

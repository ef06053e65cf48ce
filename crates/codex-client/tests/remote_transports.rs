//! The websocket and unix-socket transports against the real `codex app-server` started in
//! listen mode by the test kit (`--listen ws://127.0.0.1:0`, `--listen unix://PATH`), offline
//! against the mock model. Loopback only. Skipped loudly when the binary is missing, unless
//! CODEX_CLIENT_REQUIRE_APP_SERVER=1.

mod common;

use codex_client::core::{
    ClientInfo, Connection, ConnectionConfig, RequestOptions, SubscribeOptions, TurnStream,
};
use codex_client::protocol::ServerNotification;
use codex_client::transport::{ConnectError, ConnectErrorKind, ConnectOptions};
use codex_client::{Codex, Error, ThreadOptions, TurnEvent};
use codex_client_testkit::{
    CodexSandbox, ListeningAppServer, Matcher, MockModel, MockResponse, STARTUP_TIMEOUT, StallGate,
};
use futures::StreamExt;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};

const TURN_TIMEOUT: Duration = Duration::from_secs(60);
const TOKEN: &str = "capability-token-for-tests-0123456789";

/// Field order = drop order: the server first, then its directories, then the mock.
struct Remote {
    server: ListeningAppServer,
    sandbox: CodexSandbox,
    mock: MockModel,
}

/// Starts the app-server listening on `listen(&sandbox)` with `extra` arguments.
async fn listen(
    name: &str,
    listen: impl FnOnce(&CodexSandbox) -> String,
    extra: &[String],
) -> Option<Remote> {
    let binary = codex_client_testkit::require_codex_binary(name)?;
    let mock = MockModel::start().await.expect("mock model");
    let sandbox = CodexSandbox::new(binary, mock.base_url()).expect("sandbox");
    let url = listen(&sandbox);
    let server = ListeningAppServer::start(&sandbox.launch(), &url, extra, STARTUP_TIMEOUT)
        .await
        .expect("the app-server listens");
    Some(Remote {
        server,
        sandbox,
        mock,
    })
}

fn ws(_: &CodexSandbox) -> String {
    "ws://127.0.0.1:0".to_owned()
}

fn unix_path(sandbox: &CodexSandbox) -> String {
    format!(
        "unix://{}",
        sandbox.root().join("app-server.sock").display()
    )
}

fn config(name: &str) -> ConnectionConfig {
    ConnectionConfig::default().client_info(ClientInfo::new(name, "0.0.0"))
}

impl Remote {
    async fn connect(&self, config: ConnectionConfig) -> Connection {
        Connection::connect_url(self.server.url(), &ConnectOptions::new(), config)
            .await
            .unwrap_or_else(|e| panic!("connect to {}: {e}", self.server.url()))
    }

    async fn start_thread(&self, conn: &Connection, params: Value) -> String {
        let params = self.sandbox.thread_start_params(params);
        let result = conn
            .request_raw("thread/start", Some(params))
            .await
            .expect("thread/start");
        result["thread"]["id"].as_str().unwrap().to_owned()
    }
}

#[derive(Debug, Default)]
struct Collected {
    deltas: Vec<String>,
    status: Option<String>,
    lagged: u64,
    errors: Vec<String>,
}

async fn collect(mut stream: TurnStream, per_event_delay: Option<Duration>) -> Collected {
    let mut out = Collected::default();
    loop {
        let item = tokio::time::timeout(TURN_TIMEOUT, stream.next())
            .await
            .expect("the turn stream ends in time");
        let Some(item) = item else { break };
        match item {
            Ok(TurnEvent::Notification(n)) => match &*n {
                ServerNotification::ItemAgentMessageDelta(d) => out.deltas.push(d.delta.clone()),
                ServerNotification::TurnCompleted(c) => {
                    out.status = Some(serde_json::to_value(&c.turn.status).unwrap().to_string())
                }
                _ => {}
            },
            Ok(TurnEvent::ServerRequest(r)) => out.errors.push(format!("request {}", r.method())),
            Ok(TurnEvent::Lagged(n)) => out.lagged += n,
            Ok(other) => out.errors.push(format!("unexpected {other:?}")),
            Err(e) => out.errors.push(e.to_string()),
        }
        if let Some(delay) = per_event_delay {
            tokio::time::sleep(delay).await;
        }
    }
    out
}

async fn assert_alive(conn: &Connection) {
    conn.request_raw("thread/loaded/list", Some(json!({})))
        .await
        .expect("the connection is alive");
}

#[tokio::test]
async fn ws_two_concurrent_turns_stream_their_own_events_and_close_gracefully() {
    let Some(remote) = listen("ws_two_turns", ws, &[]).await else {
        return;
    };
    assert!(remote.server.url().starts_with("ws://127.0.0.1:"));
    let conn = remote.connect(config("ws_two_turns")).await;
    assert!(conn.server_info().unwrap().version_matches());
    let gate = StallGate::new();
    let scripts: Vec<Vec<String>> = (0..2)
        .map(|t| (0..(4 + t)).map(|i| format!("T{t}.{i} ")).collect())
        .collect();
    for (t, deltas) in scripts.iter().enumerate() {
        remote.mock.route(
            Matcher::user_text_contains(format!("[thread-{t}]")),
            MockResponse::stalled(deltas.clone(), &gate),
        );
    }
    let mut tasks = Vec::new();
    for t in 0..2 {
        let thread = remote.start_thread(&conn, json!({})).await;
        let conn = conn.clone();
        tasks.push(tokio::spawn(async move {
            let (_, stream) = conn
                .start_turn(common::turn_params(&thread, &format!("[thread-{t}] go")))
                .await
                .expect("turn/start");
            collect(stream, None).await
        }));
    }
    assert!(
        gate.wait_stalled(2, TURN_TIMEOUT).await,
        "both turns are running at once"
    );
    gate.release();
    for (t, task) in tasks.into_iter().enumerate() {
        let got = task.await.unwrap();
        assert!(got.errors.is_empty(), "turn {t}: {:?}", got.errors);
        assert_eq!(
            got.deltas, scripts[t],
            "turn {t} got exactly its own deltas"
        );
        assert_eq!(got.status.as_deref(), Some("\"completed\""));
    }
    let stats = conn.stats();
    assert_eq!((stats.turn_routes, stats.waiters), (0, 0), "{stats:?}");
    let info = conn.close().await;
    assert!(info.reason.contains("closed by the client"), "{info}");
    // The server is still up for other clients.
    let again = remote.connect(config("ws_two_turns_2")).await;
    assert_alive(&again).await;
}

#[tokio::test]
async fn unix_socket_full_turn_through_codex_connect_then_resume_on_a_new_connection() {
    let Some(remote) = listen("unix_full_turn", unix_path, &[]).await else {
        return;
    };
    remote.mock.route_sequence(
        Matcher::Any,
        [
            MockResponse::deltas(["Hello ", "over ", "unix"]),
            MockResponse::message("Again."),
        ],
    );
    let options = ConnectOptions::new();
    let connect = || {
        Codex::builder()
            .connection(
                ConnectionConfig::new().client_info(ClientInfo::new("unix_full_turn", "0.0.0")),
            )
            .connect(remote.server.url(), options.clone())
    };
    let codex = connect().await.expect("CodexBuilder::connect over unix://");
    let thread_options = ThreadOptions::new().cwd(remote.sandbox.workdir());
    let thread = codex.threads().start(thread_options.clone()).await.unwrap();
    let result = thread.run("Say hello").await.unwrap();
    assert_eq!(result.final_response(), Some("Hello over unix"));
    let thread_id = thread.id().to_owned();
    // Reconnecting is explicit: a new connection, then resume the thread on it.
    codex.close().await;
    let codex = connect().await.expect("reconnect");
    let thread = codex
        .threads()
        .resume(&thread_id, thread_options)
        .await
        .unwrap();
    let result = thread.run("Once more").await.unwrap();
    assert_eq!(result.final_response(), Some("Again."));
    codex.close().await;
}

#[tokio::test]
async fn unix_default_control_socket_under_codex_home() {
    let Some(remote) = listen("unix_default", |_| "unix://".to_owned(), &[]).await else {
        return;
    };
    let expected =
        codex_client::transport::default_control_socket(Some(&remote.sandbox.codex_home()))
            .unwrap();
    assert!(expected.exists(), "{}", expected.display());
    let options = ConnectOptions::new().codex_home(remote.sandbox.codex_home());
    let conn = Connection::connect_url("unix://", &options, config("unix_default"))
        .await
        .expect("connect to the default control socket");
    assert_alive(&conn).await;
    conn.close().await;
}

#[tokio::test]
async fn ws_command_approval_answered_in_the_turn_stream() {
    let Some(remote) = listen("ws_approval", ws, &[]).await else {
        return;
    };
    remote.mock.route_sequence(
        Matcher::Any,
        [
            MockResponse::exec_command("touch approved.txt && echo approved-command-ran"),
            MockResponse::message("The command ran."),
        ],
    );
    let conn = remote.connect(config("ws_approval")).await;
    let thread = remote
        .start_thread(
            &conn,
            json!({"approvalPolicy": "untrusted", "sandbox": "workspace-write"}),
        )
        .await;
    let (_, mut stream) = conn
        .request_turn::<codex_client::protocol::methods::TurnStart>(
            common::turn_params(&thread, "Create the marker file"),
            SubscribeOptions::new().server_requests(true),
            RequestOptions::new(),
        )
        .await
        .unwrap();
    let mut approvals = 0;
    let mut status = None;
    while let Some(item) = tokio::time::timeout(TURN_TIMEOUT, stream.next())
        .await
        .unwrap()
    {
        match item.expect("no stream error") {
            TurnEvent::ServerRequest(request) => {
                assert_eq!(request.method(), "item/commandExecution/requestApproval");
                approvals += 1;
                request.accept().unwrap();
            }
            TurnEvent::Notification(n) => {
                if let ServerNotification::TurnCompleted(c) = &*n {
                    status = Some(serde_json::to_value(&c.turn.status).unwrap());
                }
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(approvals, 1);
    assert_eq!(status, Some(json!("completed")));
    assert!(remote.sandbox.workdir().join("approved.txt").is_file());
}

#[tokio::test]
async fn unix_interrupt_ends_the_turn_as_interrupted() {
    let Some(remote) = listen("unix_interrupt", unix_path, &[]).await else {
        return;
    };
    let gate = StallGate::new();
    remote
        .mock
        .set_default(MockResponse::stalled(["partial "], &gate));
    let conn = remote.connect(config("unix_interrupt")).await;
    let thread = remote.start_thread(&conn, json!({})).await;
    let (response, stream) = conn
        .start_turn(common::turn_params(&thread, "hang"))
        .await
        .unwrap();
    assert!(gate.wait_stalled(1, TURN_TIMEOUT).await);
    conn.request_raw(
        "turn/interrupt",
        Some(json!({"threadId": thread, "turnId": response.turn.id})),
    )
    .await
    .expect("turn/interrupt");
    let got = collect(stream, None).await;
    assert!(got.errors.is_empty(), "{:?}", got.errors);
    assert_eq!(got.status.as_deref(), Some("\"interrupted\""));
    gate.release();
}

async fn token_server(name: &str) -> Option<Remote> {
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("ws-token");
    std::fs::write(&token_file, format!("{TOKEN}\n")).unwrap();
    let extra = [
        "--ws-auth".to_owned(),
        "capability-token".to_owned(),
        "--ws-token-file".to_owned(),
        token_file.display().to_string(),
    ];
    let remote = listen(name, ws, &extra).await;
    drop(dir); // read at startup
    remote
}

#[tokio::test]
async fn capability_token_right_one_accepted_wrong_or_missing_refused_with_401() {
    let Some(remote) = token_server("ws_token").await else {
        return;
    };
    let url = remote.server.url();
    let err = Connection::connect_url(url, &ConnectOptions::new(), config("ws_token"))
        .await
        .unwrap_err();
    let connect = connect_error(&err);
    assert_eq!(connect.kind, ConnectErrorKind::Http(401), "{err}");
    assert!(
        err.to_string().contains("missing websocket bearer token"),
        "{err}"
    );
    assert!(err.to_string().contains("requires a bearer token"), "{err}");

    let wrong = ConnectOptions::new().bearer_token("not-the-token");
    let err = Connection::connect_url(url, &wrong, config("ws_token"))
        .await
        .unwrap_err();
    assert_eq!(connect_error(&err).kind, ConnectErrorKind::Http(401));
    assert!(
        err.to_string().contains("invalid websocket bearer token"),
        "{err}"
    );
    assert!(
        !err.to_string().contains("not-the-token"),
        "the token is never echoed: {err}"
    );

    // `localhost` is loopback too: the token may go there in clear.
    let right = ConnectOptions::new().bearer_token(TOKEN);
    let localhost = url.replace("127.0.0.1", "localhost");
    for url in [url.to_owned(), localhost] {
        let conn = Connection::connect_url(&url, &right, config("ws_token"))
            .await
            .unwrap_or_else(|e| panic!("{url}: {e}"));
        assert_alive(&conn).await;
        conn.close().await;
    }
}

#[tokio::test]
async fn a_token_is_never_sent_in_clear_to_a_remote_host() {
    // Refused before any name resolution or connection: `.invalid` never resolves anyway.
    let options = ConnectOptions::new().bearer_token(TOKEN);
    let err = Connection::connect_url("ws://codex.example.invalid:4500", &options, config("t"))
        .await
        .unwrap_err();
    let connect = connect_error(&err);
    assert_eq!(connect.kind, ConnectErrorKind::InsecureToken, "{err}");
    assert!(
        err.to_string().contains("wss://"),
        "the error says what to do: {err}"
    );
    assert!(!err.to_string().contains(TOKEN));
}

#[tokio::test]
async fn connect_errors_say_what_failed() {
    // Nobody listens on a port we just released.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let err = Connection::connect_url(
        &format!("ws://127.0.0.1:{port}"),
        &ConnectOptions::new(),
        config("t"),
    )
    .await
    .unwrap_err();
    assert_eq!(connect_error(&err).kind, ConnectErrorKind::Refused, "{err}");
    assert!(err.to_string().contains("connection refused"), "{err}");

    let dir = tempfile::tempdir().unwrap();
    let missing = format!("unix://{}", dir.path().join("nope.sock").display());
    let err = Connection::connect_url(&missing, &ConnectOptions::new(), config("t"))
        .await
        .unwrap_err();
    assert_eq!(connect_error(&err).kind, ConnectErrorKind::Refused, "{err}");
    assert!(err.to_string().contains("nope.sock"), "{err}");

    let err = Connection::connect_url("tcp://127.0.0.1:1", &ConnectOptions::new(), config("t"))
        .await
        .unwrap_err();
    assert_eq!(
        connect_error(&err).kind,
        ConnectErrorKind::InvalidUrl,
        "{err}"
    );

    // An HTTP server that is not a websocket server: the status of the upgrade is reported.
    let mock = MockModel::start().await.unwrap();
    let url = mock.base_url().replace("http://", "ws://");
    let err = Connection::connect_url(&url, &ConnectOptions::new(), config("t"))
        .await
        .unwrap_err();
    let kind = connect_error(&err).kind;
    assert!(
        matches!(kind, ConnectErrorKind::Http(s) if s >= 400)
            || kind == ConnectErrorKind::Handshake,
        "{kind:?}: {err}"
    );

    // A listener that never answers the upgrade: the connect timeout applies.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}", silent.local_addr().unwrap());
    let started = Instant::now();
    let err = Connection::connect_url(
        &url,
        &ConnectOptions::new().connect_timeout(Duration::from_millis(300)),
        config("t"),
    )
    .await
    .unwrap_err();
    assert_eq!(connect_error(&err).kind, ConnectErrorKind::Timeout, "{err}");
    assert!(started.elapsed() < Duration::from_secs(5));
    drop(silent);
}

#[tokio::test]
async fn a_slow_consumer_does_not_get_the_websocket_dropped() {
    let Some(remote) = listen("ws_slow_consumer", ws, &[]).await else {
        return;
    };
    // Far more than the server's 128-message outbound queue, sent as fast as codex can.
    const DELTAS: usize = 3000;
    let flood: Vec<String> = (0..DELTAS).map(|i| format!("d{i} ")).collect();
    remote.mock.route_sequence(
        Matcher::Any,
        [
            MockResponse::deltas(flood.clone()),
            MockResponse::message("still here"),
        ],
    );
    let conn = remote
        .connect(config("ws_slow_consumer").turn_queue_capacity(64))
        .await;
    let thread = remote.start_thread(&conn, json!({})).await;
    let started = Instant::now();
    let (_, stream) = conn
        .start_turn(common::turn_params(&thread, "flood"))
        .await
        .unwrap();
    // 5 ms per event: reading all 3000 would take 15 s; the server produces them far faster.
    let got = collect(stream, Some(Duration::from_millis(5))).await;
    let elapsed = started.elapsed();
    assert!(got.errors.is_empty(), "{:?}", got.errors);
    assert!(
        got.deltas.len() == DELTAS || got.lagged > 0,
        "either everything or an explicit Lagged: {} deltas, lagged {}",
        got.deltas.len(),
        got.lagged
    );
    // The deltas that did arrive are in order, without holes other than the lag.
    let mut last = None;
    for d in &got.deltas {
        let n: usize = d.trim_start_matches('d').trim().parse().unwrap();
        assert!(last.is_none_or(|l| n > l), "in order");
        last = Some(n);
    }
    eprintln!(
        "slow consumer over ws: {} of {DELTAS} deltas delivered, {} events lagged, {:?}, stats {:?}",
        got.deltas.len(),
        got.lagged,
        elapsed,
        conn.stats()
    );
    assert!(
        conn.closed().is_none(),
        "the connection survived: {:?}",
        conn.closed()
    );
    assert!(
        !remote.server.stderr_tail().contains("slow connection"),
        "the server did not drop us: {}",
        remote.server.stderr_tail()
    );
    // And it still works: a second turn on the same connection.
    let (_, stream) = conn
        .start_turn(common::turn_params(&thread, "again"))
        .await
        .unwrap();
    let again = collect(stream, None).await;
    assert_eq!(again.deltas.concat(), "still here");
}

#[tokio::test]
async fn the_server_killed_ends_pending_calls_and_streams_with_closed() {
    let Some(mut remote) = listen("ws_server_killed", ws, &[]).await else {
        return;
    };
    let gate = StallGate::new();
    remote
        .mock
        .set_default(MockResponse::stalled(["partial "], &gate));
    let conn = remote.connect(config("ws_server_killed")).await;
    let thread = remote.start_thread(&conn, json!({})).await;
    let (_, turn) = conn
        .start_turn(common::turn_params(&thread, "hang"))
        .await
        .unwrap();
    let global = conn.notifications();
    assert!(gate.wait_stalled(1, TURN_TIMEOUT).await);
    let mut calls = Vec::new();
    for _ in 0..4 {
        let conn = conn.clone();
        calls.push(tokio::spawn(async move {
            conn.request_raw("thread/loaded/list", Some(json!({})))
                .await
        }));
    }
    let killed_at = Instant::now();
    remote.server.kill().await.unwrap();
    let got = collect(turn, None).await;
    let last = got
        .errors
        .last()
        .expect("the turn stream ended with an error");
    assert!(last.contains("connection closed"), "{last}");
    for call in calls {
        match tokio::time::timeout(Duration::from_secs(10), call)
            .await
            .unwrap()
            .unwrap()
        {
            Ok(_) => {} // answered before the kill landed
            Err(err) => assert!(err.is_closed(), "{err}"),
        }
    }
    let items: Vec<_> = tokio::time::timeout(Duration::from_secs(10), global.collect::<Vec<_>>())
        .await
        .unwrap();
    assert!(
        matches!(items.last(), Some(Err(Error::Closed(_)))),
        "{items:?}"
    );
    assert!(
        killed_at.elapsed() < Duration::from_secs(5),
        "{:?}",
        killed_at.elapsed()
    );
    let info = conn.closed().expect("latched closed");
    assert!(info.reason.contains("websocket ws://127.0.0.1:"), "{info}");
    let err = conn
        .request_raw("thread/loaded/list", Some(json!({})))
        .await
        .unwrap_err();
    assert!(err.is_closed(), "later calls fail fast: {err}");
    gate.release();
}

// ----- wss:// through a TLS-terminating proxy on loopback ------------------------------------

mod tls {
    use super::*;
    use tokio_rustls::rustls;
    use tokio_rustls::rustls::pki_types::pem::PemObject;
    use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

    pub const CA: &[u8] = include_bytes!("fixtures/tls/ca.pem");
    const CERT: &[u8] = include_bytes!("fixtures/tls/server.pem");
    const KEY: &[u8] = include_bytes!("fixtures/tls/server.key");

    /// Accepts TLS on 127.0.0.1 and relays each connection to `backend` (the app-server's ws
    /// port). Returns the proxy's port; the task ends with the test's runtime.
    pub async fn proxy(backend: std::net::SocketAddr) -> u16 {
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(CERT)
            .collect::<Result<_, _>>()
            .unwrap();
        let key = PrivateKeyDer::from_pem_slice(KEY).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let Ok(mut tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let Ok(mut upstream) = tokio::net::TcpStream::connect(backend).await else {
                        return;
                    };
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut upstream).await;
                });
            }
        });
        port
    }
}

#[tokio::test]
async fn wss_with_a_private_ca_carries_the_token_and_a_full_turn() {
    let Some(remote) = token_server("wss_turn").await else {
        return;
    };
    remote.mock.push(MockResponse::deltas(["over ", "TLS"]));
    let backend: std::net::SocketAddr = remote
        .server
        .url()
        .trim_start_matches("ws://")
        .parse()
        .unwrap();
    let port = tls::proxy(backend).await;
    let url = format!("wss://localhost:{port}");

    // The test CA is not in the system store: the TLS error says so.
    let err = Connection::connect_url(
        &url,
        &ConnectOptions::new().bearer_token(TOKEN),
        config("wss"),
    )
    .await
    .unwrap_err();
    assert_eq!(connect_error(&err).kind, ConnectErrorKind::Tls, "{err}");

    let options = ConnectOptions::new()
        .native_roots(false)
        .add_root_certificates_pem(tls::CA)
        .unwrap()
        .bearer_token(TOKEN);
    let conn = Connection::connect_url(&url, &options, config("wss"))
        .await
        .unwrap_or_else(|e| panic!("{url}: {e}"));
    let thread = remote.start_thread(&conn, json!({})).await;
    let (_, stream) = conn
        .start_turn(common::turn_params(&thread, "hello"))
        .await
        .unwrap();
    let got = collect(stream, None).await;
    assert!(got.errors.is_empty(), "{:?}", got.errors);
    assert_eq!(got.deltas.concat(), "over TLS");
    conn.close().await;
}

#[tokio::test]
async fn a_peer_that_stops_answering_is_detected_by_keepalive() {
    // A websocket server that completes the upgrade, then never reads again: no pong, no answer.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let (_, ws) = tokio_websockets::ServerBuilder::new()
            .accept(tcp)
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_secs(30)).await;
        drop(ws);
    });
    let options = ConnectOptions::new().keepalive(Some(Duration::from_millis(100)));
    let conn = Connection::connect_url(&url, &options, config("keepalive").handshake(false))
        .await
        .unwrap();
    let started = Instant::now();
    let err = conn
        .request_raw_with(
            "thread/loaded/list",
            Some(json!({})),
            RequestOptions::new().timeout(Duration::from_secs(20)),
        )
        .await
        .unwrap_err();
    assert!(err.is_closed(), "{err}");
    assert!(err.to_string().contains("keepalive"), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    server.abort();
}

/// The message bound holds on the wire: a frame whose header declares 1 GiB (then nothing) ends
/// the connection with `LineTooLong` at once, without waiting for (or buffering) the payload; a
/// message fragmented into small frames that add up past the bound ends it the same way.
#[tokio::test]
async fn a_message_over_the_bound_ends_the_websocket_without_buffering_it() {
    use futures::SinkExt;
    use tokio::io::AsyncWriteExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(async move {
        // First connection: one frame header (FIN, text, 64-bit length 1 GiB), no payload.
        let (tcp, _) = listener.accept().await.unwrap();
        let (_, mut huge) = tokio_websockets::ServerBuilder::new()
            .accept(tcp)
            .await
            .unwrap();
        let header = [0x81, 127, 0, 0, 0, 0, 0x40, 0, 0, 0];
        huge.get_mut().write_all(&header).await.unwrap();
        // Second connection: 64 KiB in frames of 4 KiB.
        let (tcp, _) = listener.accept().await.unwrap();
        let (_, mut fragmented) = tokio_websockets::ServerBuilder::new()
            .config(tokio_websockets::Config::default().frame_size(4096))
            .accept(tcp)
            .await
            .unwrap();
        let _ = fragmented
            .send(tokio_websockets::Message::text("x".repeat(64 * 1024)))
            .await;
        tokio::time::sleep(Duration::from_secs(30)).await;
        drop((huge, fragmented));
    });
    for what in ["a 1 GiB frame header", "a fragmented 64 KiB message"] {
        let conn = Connection::connect_url(
            &url,
            &ConnectOptions::new(),
            config("bound").handshake(false).max_line_bytes(16 * 1024),
        )
        .await
        .unwrap();
        let info = tokio::time::timeout(Duration::from_secs(10), conn.wait_closed())
            .await
            .unwrap_or_else(|_| panic!("{what}: the connection ends at once"));
        assert!(
            info.reason.contains("longer than 16384 bytes"),
            "{what}: {info}"
        );
    }
    server.abort();
}

/// The [`ConnectError`] of a failed connect (`Error::Connect`), or a panic saying what came
/// instead.
fn connect_error(err: &Error) -> &ConnectError {
    match err {
        Error::Connect(connect) => connect,
        other => panic!("expected Error::Connect, got {other}"),
    }
}

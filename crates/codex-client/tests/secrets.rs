//! Secrets never show up in `Debug`, `Display` or `tracing` output: environment values given to
//! the app-server ([`SpawnConfig::env`]) and the bearer token of remote transports
//! ([`ConnectOptions::bearer_token`]). (The API-key login's `Secret` type has its own tests.)
//!
//! `tracing` output is captured at TRACE level, every field of every span and event, by a small
//! subscriber installed for the test's (current-thread) runtime.

use codex_client::transport::ConnectOptions;
use codex_client::{CodexConfig, Connection, ConnectionConfig, SpawnConfig};
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;

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
    let codex = CodexConfig::from_parts(spawn, ConnectionConfig::new());
    let text = format!("{codex:?} {codex:#?}");
    assert!(!text.contains(SECRET), "{text}");
}

/// Spawning with a secret in the environment, running, failing and closing: the secret is in no
/// log line, no error and no `Debug` of the connection.
#[tokio::test]
async fn spawning_with_a_secret_env_logs_no_secret() {
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
    assert!(!everything.contains(SECRET), "{everything}");
}

/// A bearer token sent to a server that refuses the upgrade: not in the error, not in the logs.
#[tokio::test]
async fn a_bearer_token_is_in_no_error_and_no_log() {
    let capture = Capture::default();
    let _guard = tracing::subscriber::set_default(capture.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut request = vec![0u8; 8192];
        let n = socket.read(&mut request).await.unwrap();
        let request = String::from_utf8_lossy(&request[..n]).into_owned();
        let _ = socket
            .write_all(b"HTTP/1.1 401 Unauthorized\r\ncontent-length: 0\r\n\r\n")
            .await;
        request
    });
    let options = ConnectOptions::new()
        .bearer_token(SECRET)
        .connect_timeout(Duration::from_secs(20));
    tracing::debug!(options = ?options, "connecting");
    let err = Connection::connect_url(&format!("ws://{addr}"), &options, ConnectionConfig::new())
        .await
        .unwrap_err();
    let request = server.await.unwrap();
    assert!(
        request.contains(&format!("Bearer {SECRET}")),
        "the token was sent (to loopback): {request}"
    );
    let everything = format!("{}\n{err}\n{err:?}\n{options:?}", capture.text());
    assert!(everything.contains("connecting"), "the capture works");
    assert!(!everything.contains(SECRET), "{everything}");
}

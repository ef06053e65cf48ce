//! Fault injection: a misbehaving server (scripted over the memory transport, or a `/bin/sh`
//! stand-in process for what only a real pipe and a real process can do) and misbehaving callers.
//! Each test injects one fault and checks that the client reports it, loses nothing it was not
//! forced to lose, never hangs, and ends with the router's tables empty.
//!
//! What other test files already prove is not repeated here; RELIABILITY.md maps every fault of
//! issue 7 to the test that covers it.

mod common;

use codex_client::protocol::ServerNotification;
use codex_client::{
    Connection, ConnectionConfig, Error, MemoryPeer, RequestOptions, RetryPolicy, SpawnConfig,
    TurnEvent, TurnStream, retry_on_overload,
};
use common::*;
use futures::StreamExt;
use serde_json::{Value, json};
use std::time::Duration;

/// Generous: these run on a loaded 2-core CI machine.
const LONG: Duration = Duration::from_secs(30);

/// A round trip through the reader: everything the peer sent before is routed once this returns.
async fn sync(conn: &Connection, peer: &mut MemoryPeer) {
    let c = conn.clone();
    let call = tokio::spawn(async move { c.request_raw("sync", None).await });
    loop {
        let msg = next_message(peer).await;
        if msg["method"] == "sync" {
            respond(peer, &msg["id"], json!({}));
            break;
        }
    }
    call.await.unwrap().expect("sync answered");
}

/// Waits (bounded) for a condition that some task will make true.
async fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + LONG;
    while !cond() {
        assert!(tokio::time::Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn describe(item: &Result<TurnEvent, Error>) -> String {
    match item {
        Ok(TurnEvent::Notification(n)) => match delta_text(n) {
            Some(d) => format!("delta:{d}"),
            None => n.method().to_owned(),
        },
        Ok(TurnEvent::ServerRequest(r)) => format!("request:{}", r.method()),
        Err(Error::Lagged(n)) => format!("lagged:{n}"),
        Err(Error::Closed(_)) => "closed".to_owned(),
        Err(e) => format!("error:{e}"),
    }
}

async fn drain(mut stream: TurnStream) -> Vec<String> {
    let mut out = Vec::new();
    while let Some(item) = tokio::time::timeout(LONG, stream.next())
        .await
        .expect("the turn stream ends in time")
    {
        out.push(describe(&item));
    }
    out
}

async fn start_turn(
    conn: &Connection,
    peer: &mut MemoryPeer,
    thread: &str,
    turn: &str,
) -> TurnStream {
    let c = conn.clone();
    let thread_owned = thread.to_owned();
    let call = tokio::spawn(async move { c.start_turn(turn_start_params(&thread_owned)).await });
    let (id, method, _) = next_request(peer).await;
    assert_eq!(method, "turn/start");
    respond(peer, &id, turn_start_result(turn));
    call.await.unwrap().expect("turn/start").1
}

// ----- the stand-in process (what needs a real pipe and a real process) ----------------------

fn sh(script: &str) -> SpawnConfig {
    SpawnConfig::explicit("/bin/sh", ["-c", script])
}

/// `echo '<json>'` for a shell script (the JSON has no single quotes).
fn echo(value: &Value) -> String {
    let text = value.to_string();
    assert!(!text.contains('\''));
    format!("echo '{text}'")
}

fn no_handshake() -> ConnectionConfig {
    ConnectionConfig::default().handshake(false)
}

/// Bytes that are not UTF-8 on stdout are a malformed line like any other, not the end of the
/// connection.
#[tokio::test]
async fn a_line_that_is_not_utf8_is_skipped_and_the_connection_goes_on() {
    let script = format!(
        "read line; printf '\\377\\376 not utf-8\\n'; printf '{{\"id\":1,\"res\\200\\n'; {}; cat >/dev/null",
        echo(&json!({"id": 1, "result": {"ok": true}}))
    );
    let conn = Connection::spawn(sh(&script), no_handshake())
        .await
        .unwrap();
    let result = conn
        .request_raw_with("x", None, RequestOptions::new().timeout(LONG))
        .await
        .unwrap_or_else(|e| panic!("the connection survived the bad bytes: {e}"));
    assert_eq!(result["ok"], true);
    assert!(conn.malformed_lines() >= 2, "{}", conn.malformed_lines());
    assert!(conn.closed().is_none());
    conn.close().await;
}


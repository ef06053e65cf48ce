//! What the `connection_*` tests (the connection core against a scriptable fake server on the
//! in-memory transport) share: reading a turn stream to its end, a turn started and answered
//! by the fake server, a round trip through the reader, waiting for a condition.
#![allow(dead_code)]

use crate::common::*;
use codex_client::core::TurnStream;
use codex_client::protocol::ServerNotification;
use codex_client::{Error, TurnEvent};
use futures::StreamExt;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

/// Collects a turn stream until it ends: (method or "lagged:n" / "closed", delta texts).
pub async fn drain(mut stream: TurnStream) -> Vec<String> {
    let mut out = Vec::new();
    while let Some(item) = tokio::time::timeout(T, stream.next())
        .await
        .expect("the turn stream ends in time")
    {
        out.push(match item {
            Ok(TurnEvent::Notification(n)) => describe(&n),
            Ok(TurnEvent::ServerRequest(r)) => format!("request:{}", r.method()),
            Ok(TurnEvent::Lagged(n)) => format!("lagged:{n}"),
            Ok(other) => format!("other:{other:?}"),
            Err(Error::Closed(_)) => "closed".to_owned(),
            Err(e) => format!("error:{e}"),
        });
    }
    out
}

pub fn describe(n: &ServerNotification) -> String {
    match delta_text(n) {
        Some(d) => format!("delta:{d}"),
        None => n.method().to_owned(),
    }
}

pub async fn start_turn_answered_by(
    conn: &codex_client::core::Connection,
    peer: &mut codex_client::MemoryPeer,
    thread: &str,
    turn: &str,
    before_response: &[String],
) -> TurnStream {
    let c = conn.clone();
    let thread_owned = thread.to_owned();
    let call = tokio::spawn(async move { c.start_turn(turn_start_params(&thread_owned)).await });
    let (id, method, _) = next_request(peer).await;
    assert_eq!(method, "turn/start");
    for line in before_response {
        peer.send(line.clone());
    }
    respond(peer, &id, turn_start_result(turn));
    let (response, stream) = call.await.unwrap().expect("turn/start");
    assert_eq!(response.turn.id, turn);
    stream
}

/// A round trip through the reader: everything sent before is routed once this returns.
pub async fn sync(conn: &codex_client::core::Connection, peer: &mut codex_client::MemoryPeer) {
    let c = conn.clone();
    let call = tokio::spawn(async move { c.request_raw("sync", None).await });
    loop {
        let msg = next_message(peer).await;
        if msg["method"] == "sync" {
            respond(peer, &msg["id"], json!({}));
            break;
        }
    }
    call.await.unwrap().unwrap();
}

pub async fn wait_until(mut cond: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + T;
    while !cond() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "condition not reached in time"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[allow(dead_code)]
pub fn _assert_send_sync() {
    fn is<T: Send + Sync>() {}
    is::<codex_client::core::Connection>();
    fn send<T: Send>() {}
    send::<TurnStream>();
    let _ = Arc::new(());
}

//! What one fuzz input does, and what must hold after it. Shared by the cargo-fuzz targets
//! (`fuzz/fuzz_targets/*.rs`, nightly) and their stable-Rust twin
//! (`crates/codex-client/tests/fuzz_inputs.rs`, which CI runs), so both check the same thing.
//!
//! An input is text: one server line per `\n`-separated line, exactly as the app-server would
//! write them on stdout.

#![allow(dead_code)]

use codex_client::core::{Connection, ConnectionConfig, TurnStream};
use codex_client::protocol::envelope::Incoming;
use codex_client::protocol::{ServerNotification, ServerRequest};
use codex_client::{MemoryPeer, Transport, TurnEvent};
use futures::{FutureExt, StreamExt};
use std::time::Duration;

/// Envelope decoding, the reader's first step: classify each line, then decode notifications and
/// server requests into their types. Nothing may panic; what decodes must agree with itself.
pub fn envelope(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for line in text.split('\n') {
        match Incoming::parse(line) {
            Err(err) => {
                let _ = err.to_string();
            }
            Ok(Incoming::Notification { method, params, .. }) => {
                if let Ok(n) = ServerNotification::decode(&method, params) {
                    assert_eq!(n.method(), method, "a notification keeps its method");
                    let _ = (n.thread_id(), n.turn_id());
                }
                // What the router does: route by the raw ids, decode reporting them.
                let route = ServerNotification::route_raw(&method, params);
                let (n, _) = ServerNotification::decode_routed(
                    &method,
                    params.map(serde_json::value::RawValue::get),
                    &route,
                );
                assert_eq!(n.method(), method, "a notification keeps its method");
                assert_eq!(
                    (n.thread_id(), n.turn_id()),
                    (route.thread_id.as_deref(), route.turn_id.as_deref()),
                    "decoded as routed: {n:?}"
                );
            }
            Ok(Incoming::Request { method, params, .. }) => {
                if let Ok(r) = ServerRequest::decode(&method, params) {
                    assert_eq!(r.method(), method, "a server request keeps its method");
                    let _ = (r.thread_id(), r.turn_id());
                }
            }
            Ok(Incoming::Response { result, .. }) => {
                let _ = result.get();
            }
            Ok(Incoming::Error { error, .. }) => {
                let _ = error.message.len();
            }
        }
    }
}

/// Turn ids the input's notifications are routed by (at most `max`, first seen first).
fn turn_ids(text: &str, max: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for line in text.split('\n') {
        if let Ok(Incoming::Notification { method, params, .. }) = Incoming::parse(line)
            && let Some(turn) = ServerNotification::route_raw(&method, params).turn_id
            && !ids.iter().any(|t| *t == turn)
        {
            ids.push(turn.into_owned());
            if ids.len() == max {
                break;
            }
        }
    }
    ids
}

/// What the router did with one input.
#[derive(Debug, Default, Clone, Copy)]
pub struct RouterOutcome {
    /// Lines fed.
    pub lines: usize,
    /// Events the turn streams received.
    pub delivered: usize,
}

/// The router fed an arbitrary inbound sequence through the memory transport, with a stream
/// subscribed to the first turns the input mentions (half of them before the lines, half after),
/// a thread and a global subscriber, and requests waiting for ids 1..=3. Then it checks:
///
/// - the connection survives every line (no line is fatal: the limit is set above any input);
/// - a turn stream yields only its own turn's events, nothing after its `turn/completed`;
/// - after everything is dropped, no route, waiter or subscription is left, and the pending
///   buffer is within its bounds.
pub fn router(data: &[u8]) -> RouterOutcome {
    let Ok(text) = std::str::from_utf8(data) else {
        return RouterOutcome::default();
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("runtime");
    runtime.block_on(router_async(text))
}

const PENDING_EVENTS: usize = 64;

/// The thread the harness subscribes to (the made-up inputs of `fuzz_inputs.rs` use it).
const THREAD: &str = "th";

async fn router_async(text: &str) -> RouterOutcome {
    let (transport, mut peer) = Transport::memory();
    let config = ConnectionConfig::default()
        .handshake(false)
        .max_line_bytes(usize::MAX / 2)
        .turn_queue_capacity(16)
        .pending_limits(PENDING_EVENTS, 1 << 20, Duration::from_secs(60))
        .request_timeout(Duration::from_secs(60));
    let conn = Connection::connect(transport, config)
        .await
        .expect("connect");
    let turns = turn_ids(text, 4);
    let (early, late) = turns.split_at(turns.len() / 2);
    let mut streams: Vec<TurnStream> = early.iter().map(|t| conn.subscribe_turn(t)).collect();
    let mut thread = conn.subscribe_thread(THREAD);
    let mut global = conn.notifications();
    // Requests 1..=3 wait, so that responses in the input find (or do not find) a waiter.
    let mut calls = Vec::new();
    for _ in 0..3 {
        let c = conn.clone();
        calls.push(tokio::spawn(
            async move { c.request_raw("fuzz", None).await },
        ));
    }
    for _ in 0..3 {
        peer.recv().await.expect("request sent");
    }
    let mut outcome = RouterOutcome::default();
    for line in text.split('\n') {
        peer.send(line);
        outcome.lines += 1;
    }
    streams.extend(late.iter().map(|t| conn.subscribe_turn(t)));
    sync(&conn, &mut peer).await;
    assert!(conn.closed().is_none(), "no line closes the connection");
    for (turn, stream) in turns.iter().zip(streams.iter_mut()) {
        outcome.delivered += check_turn_stream(turn, stream);
    }
    check_notifications(&mut thread, |n| n.thread_id() == Some(THREAD));
    check_notifications(&mut global, |n| n.thread_id() != Some(THREAD));
    drop(streams);
    drop((thread, global));
    // Answer whatever is still waiting, so the callers end.
    for id in 1..=3 {
        peer.send(format!(r#"{{"id":{id},"result":null}}"#));
    }
    for call in calls {
        let _ = call.await.expect("caller task");
    }
    let stats = conn.stats();
    assert_eq!(stats.turn_routes, 0, "{stats:?}");
    assert_eq!(stats.turn_subscribers, 0, "{stats:?}");
    assert_eq!(stats.waiters, 0, "{stats:?}");
    assert_eq!(
        stats.thread_subscriptions + stats.global_subscriptions,
        0,
        "{stats:?}"
    );
    assert!(stats.pending_events <= PENDING_EVENTS, "{stats:?}");
    outcome
}

/// Takes what `stream` holds now; checks it is `turn`'s and nothing follows `turn/completed`.
fn check_turn_stream(turn: &str, stream: &mut TurnStream) -> usize {
    let mut seen = 0;
    let mut completed = false;
    while let Some(Some(item)) = stream.next().now_or_never() {
        match item {
            Ok(TurnEvent::Notification(n)) => {
                assert!(!completed, "an event after turn/completed");
                // Decoded or not (`Unknown`), it reports the turn it was routed by.
                assert_eq!(n.turn_id(), Some(turn), "another turn's event: {n:?}");
                completed = n.method() == "turn/completed";
                seen += 1;
            }
            Ok(TurnEvent::ServerRequest(r)) => {
                assert_eq!(r.turn_id(), Some(turn));
            }
            Ok(_) => {}
            Err(e) => panic!("unexpected stream error: {e}"),
        }
    }
    seen
}

/// Takes what a thread or global stream holds now; checks each notification is one it may get.
fn check_notifications(
    stream: &mut codex_client::core::NotificationStream,
    belongs: impl Fn(&ServerNotification) -> bool,
) {
    while let Some(Some(item)) = stream.next().now_or_never() {
        match item {
            Ok(n) => assert!(belongs(&n), "routed to the wrong stream: {n:?}"),
            Err(codex_client::Error::Lagged(_)) => {}
            Err(e) => panic!("unexpected stream error: {e}"),
        }
    }
}

/// A round trip through the reader: everything sent before has been routed when it returns.
async fn sync(conn: &Connection, peer: &mut MemoryPeer) {
    let c = conn.clone();
    let call = tokio::spawn(async move { c.request_raw("sync", None).await });
    loop {
        let line = peer.recv().await.expect("the client is connected");
        let msg: serde_json::Value = serde_json::from_str(&line).expect("the client writes JSON");
        if msg["method"] == "sync" {
            peer.send(format!(r#"{{"id":{},"result":{{}}}}"#, msg["id"]));
            break;
        }
        // The client's answers to server requests in the input (fail-closed): fine.
    }
    call.await.expect("sync task").expect("sync answered");
}

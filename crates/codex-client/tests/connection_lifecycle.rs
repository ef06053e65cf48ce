//! The connection core's lifecycle, against a scriptable fake server on the in-memory transport:
//! the `initialize` handshake, `close` and dropping the connection, the transport dying or a
//! line over the limit ending everything with `Closed`, and cancelled futures and dropped
//! handles leaving nothing behind.

mod common;
mod memory;

use codex_client::Error;
use codex_client::core::ConnectionConfig;
use common::*;
use futures::StreamExt;
use memory::*;
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn a_line_over_the_limit_closes_the_connection_cleanly() {
    let (conn, mut peer) = connect(ConnectionConfig::default().max_line_bytes(4096)).await;
    let c = conn.clone();
    let call = tokio::spawn(async move { c.request_raw("thread/list", Some(json!({}))).await });
    let _ = next_request(&mut peer).await;
    peer.send(format!(
        r#"{{"method":"warning","params":{{"message":"{}"}}}}"#,
        "x".repeat(10_000)
    ));
    let err = call.await.unwrap().unwrap_err();
    let info = err.closed_info().expect("closed");
    assert!(info.reason.contains("longer than 4096"), "{info}");
}

#[tokio::test]
async fn the_transport_dying_ends_every_waiter_and_stream_with_closed() {
    let (conn, mut peer) = connect(ConnectionConfig::default()).await;
    let turn =
        start_turn_answered_by(&conn, &mut peer, "th", "tu", &[turn_started("th", "tu")]).await;
    let thread = conn.subscribe_thread("th");
    let global = conn.notifications();
    let mut calls = Vec::new();
    for _ in 0..5 {
        let c = conn.clone();
        calls.push(tokio::spawn(async move {
            c.request_raw("thread/list", Some(json!({}))).await
        }));
    }
    for _ in 0..5 {
        next_request(&mut peer).await;
    }
    peer.set_stderr_tail("thread 'main' panicked at 'boom'");
    peer.close();
    for call in calls {
        let err = tokio::time::timeout(T, call)
            .await
            .unwrap()
            .unwrap()
            .unwrap_err();
        let info = err.closed_info().unwrap_or_else(|| panic!("closed: {err}"));
        assert!(info.stderr_tail.contains("boom"), "{info}");
    }
    assert_eq!(drain(turn).await, ["turn/started", "closed"]);
    for stream in [thread, global] {
        let items: Vec<_> = tokio::time::timeout(T, stream.collect::<Vec<_>>())
            .await
            .unwrap();
        assert_eq!(items.len(), 1);
        assert!(matches!(&items[0], Err(Error::Closed(_))));
    }
    // Latched: later calls fail fast, later streams end at once.
    let err = conn
        .request_raw("thread/list", Some(json!({})))
        .await
        .unwrap_err();
    assert!(err.is_closed(), "{err}");
    assert_eq!(drain(conn.subscribe_turn("other")).await, ["closed"]);
    assert!(conn.is_closed());
}

#[tokio::test]
async fn cancelled_futures_and_dropped_handles_leave_nothing_behind() {
    let (conn, mut peer) = connect(ConnectionConfig::default()).await;
    // Cancelled plain requests.
    for _ in 0..10 {
        let c = conn.clone();
        let task = tokio::spawn(async move { c.request_raw("thread/list", Some(json!({}))).await });
        next_request(&mut peer).await;
        task.abort();
        let _ = task.await;
    }
    // A turn/start cancelled before its response: the response then finds no waiter.
    let c = conn.clone();
    let task = tokio::spawn(async move { c.start_turn(turn_start_params("th")).await });
    let (id, _, _) = next_request(&mut peer).await;
    task.abort();
    let _ = task.await;
    respond(&peer, &id, turn_start_result("cancelled-turn"));
    peer.send(delta("th", "cancelled-turn", "x"));
    // Many turns: half consumed to the end, half dropped mid-way.
    for i in 0..100 {
        let turn = format!("turn-{i}");
        let stream =
            start_turn_answered_by(&conn, &mut peer, "th", &turn, &[turn_started("th", &turn)])
                .await;
        peer.send(delta("th", &turn, "a"));
        if i % 2 == 0 {
            peer.send(turn_completed("th", &turn));
            assert_eq!(drain(stream).await.last().unwrap(), "turn/completed");
        } else {
            drop(stream);
            peer.send(delta("th", &turn, "late"));
            peer.send(turn_completed("th", &turn));
        }
    }
    // Thread and global subscriptions dropped.
    drop(conn.subscribe_thread("th"));
    drop(conn.notifications());
    // Let the reader catch up, then let the pending buffer age out.
    let c = conn.clone();
    let sync = tokio::spawn(async move { c.request_raw("thread/list", Some(json!({}))).await });
    let (id, _, _) = next_request(&mut peer).await;
    respond(&peer, &id, json!({}));
    sync.await.unwrap().unwrap();
    let stats = conn.stats();
    assert_eq!(stats.turn_routes, 0, "{stats:?}");
    assert_eq!(stats.waiters, 0, "{stats:?}");
    assert_eq!(stats.thread_subscriptions + stats.global_subscriptions, 0);
    // Only the cancelled turn's events wait in the (bounded, aging) pending buffer.
    assert!(stats.pending_turns <= 1, "{stats:?}");
}

#[tokio::test]
async fn the_handshake_sends_capabilities_and_reads_the_server_version() {
    let (transport, mut peer) = codex_client::Transport::memory();
    let config = ConnectionConfig::default()
        .client_info(codex_client::core::ClientInfo::new("probe", "1.0.0").title("Probe"))
        .experimental_api(true)
        .opt_out_notification("item/agentMessage/delta");
    let connect = tokio::spawn(codex_client::core::Connection::connect(transport, config));
    let (id, method, params) = next_request(&mut peer).await;
    assert_eq!(method, "initialize");
    assert_eq!(
        params["clientInfo"],
        json!({"name": "probe", "title": "Probe", "version": "1.0.0"})
    );
    assert_eq!(params["capabilities"]["experimentalApi"], true);
    assert_eq!(
        params["capabilities"]["optOutNotificationMethods"],
        json!(["item/agentMessage/delta"])
    );
    respond(
        &peer,
        &id,
        json!({"userAgent": "probe/0.150.0 (Debian 12.0.0; x86_64) xterm (probe; 1.0.0)",
               "codexHome": "/h", "platformFamily": "unix", "platformOs": "linux"}),
    );
    // Notifications right after the response, before `initialized`, are routed normally.
    peer.send(config_warning("early"));
    let conn = connect.await.unwrap().unwrap();
    let initialized = next_message(&mut peer).await;
    assert_eq!(initialized, json!({"method": "initialized"}));
    let info = conn.server_info().unwrap();
    assert_eq!(info.server_version.as_deref(), Some("0.150.0"));
    assert!(!info.version_matches(), "a mismatch is reported, not fatal");
    assert_eq!(info.codex_home.as_deref(), Some("/h"));
}

#[tokio::test]
async fn close_closes_stdin_then_waits_for_the_end() {
    let (conn, mut peer) = connect(ConnectionConfig::default()).await;
    let stream = conn.subscribe_turn("tu");
    let c = conn.clone();
    let closing = tokio::spawn(async move { c.close().await });
    // The server sees EOF on its input, then exits.
    assert!(
        tokio::time::timeout(T, peer.recv())
            .await
            .unwrap()
            .is_none()
    );
    peer.close();
    let info = tokio::time::timeout(T, closing).await.unwrap().unwrap();
    assert!(info.reason.contains("closed by the client"), "{info}");
    assert_eq!(drain(stream).await, ["closed"]);
    assert!(conn.request_raw("x", None).await.unwrap_err().is_closed());
}

#[tokio::test]
async fn close_forces_a_peer_that_does_not_exit() {
    let config = ConnectionConfig::default().close_timeout(Duration::from_millis(100));
    let (conn, peer) = connect(config).await;
    let info = tokio::time::timeout(T, conn.close()).await.unwrap();
    assert!(peer.shutdown_requested());
    assert!(conn.is_closed(), "{info}");
}

#[tokio::test]
async fn dropping_the_connection_stops_the_peer() {
    let (conn, peer) = connect(ConnectionConfig::default()).await;
    let stream = conn.subscribe_turn("tu");
    drop(conn);
    assert!(peer.shutdown_requested());
    assert_eq!(drain(stream).await, ["closed"]);
}

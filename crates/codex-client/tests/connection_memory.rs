//! The connection core against a scriptable fake server on the in-memory transport: every
//! guarantee of the router, the server-request handling and the lifecycle.

mod common;

use codex_client::core::{ConnectionConfig, RequestOptions, SubscribeOptions, TurnStream};
use codex_client::protocol::ServerNotification;
use codex_client::{Error, HandlerResult, ServerRequestHandler, TurnEvent};
use common::*;
use futures::StreamExt;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

/// Collects a turn stream until it ends: (method or "lagged:n" / "closed", delta texts).
async fn drain(mut stream: TurnStream) -> Vec<String> {
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

fn describe(n: &ServerNotification) -> String {
    match delta_text(n) {
        Some(d) => format!("delta:{d}"),
        None => n.method().to_owned(),
    }
}

async fn start_turn_answered_by(
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

#[tokio::test]
async fn early_events_and_an_early_turn_completed_are_replayed() {
    let (conn, mut peer) = connect(ConnectionConfig::default()).await;
    // The whole turn happens before the turn/start response is read.
    let early = vec![
        turn_started("th", "tu"),
        delta("th", "tu", "Hello"),
        delta("th", "tu", " world"),
        thread_status_idle("th"),
        turn_completed("th", "tu"),
    ];
    let stream = start_turn_answered_by(&conn, &mut peer, "th", "tu", &early).await;
    assert_eq!(
        drain(stream).await,
        [
            "turn/started",
            "delta:Hello",
            "delta: world",
            "turn/completed"
        ]
    );
    assert!(conn.stats().is_idle(), "{:?}", conn.stats());
}

#[tokio::test]
async fn events_before_the_response_and_after_it_come_in_order() {
    let (conn, mut peer) = connect(ConnectionConfig::default()).await;
    let early = vec![turn_started("th", "tu"), delta("th", "tu", "a")];
    let stream = start_turn_answered_by(&conn, &mut peer, "th", "tu", &early).await;
    peer.send(delta("th", "tu", "b"));
    peer.send(turn_completed("th", "tu"));
    assert_eq!(
        drain(stream).await,
        ["turn/started", "delta:a", "delta:b", "turn/completed"]
    );
}

#[tokio::test]
async fn a_subscriber_after_the_response_gets_buffered_events() {
    // The generic request path: no route at response time; the buffer holds the events.
    let (conn, mut peer) = connect(ConnectionConfig::default()).await;
    let c = conn.clone();
    let call = tokio::spawn(async move {
        c.request::<codex_client::protocol::methods::TurnStart>(turn_start_params("th"))
            .await
    });
    let (id, _, _) = next_request(&mut peer).await;
    peer.send(turn_started("th", "tu"));
    respond(&peer, &id, turn_start_result("tu"));
    peer.send(delta("th", "tu", "x"));
    peer.send(turn_completed("th", "tu"));
    let response = call.await.unwrap().unwrap();
    // Wait until the reader routed everything.
    wait_until(|| conn.stats().pending_events == 3).await;
    let stream = conn.subscribe_turn(&response.turn.id);
    assert_eq!(
        drain(stream).await,
        ["turn/started", "delta:x", "turn/completed"]
    );
    assert!(conn.stats().is_idle());
}

#[tokio::test]
async fn a_late_subscriber_of_a_completed_turn_gets_its_completion() {
    let (conn, mut peer) = connect(ConnectionConfig::default()).await;
    let stream = start_turn_answered_by(&conn, &mut peer, "th", "tu", &[]).await;
    peer.send(turn_completed("th", "tu"));
    assert_eq!(drain(stream).await, ["turn/completed"]);
    assert_eq!(drain(conn.subscribe_turn("tu")).await, ["turn/completed"]);
}

#[tokio::test]
async fn turn_start_during_an_active_turn_shares_the_route() {
    let (conn, mut peer) = connect(ConnectionConfig::default()).await;
    let first = start_turn_answered_by(
        &conn,
        &mut peer,
        "th",
        "tu",
        &[turn_started("th", "tu"), delta("th", "tu", "1")],
    )
    .await;
    // A second turn/start on the same thread returns the active turn's id.
    let second = start_turn_answered_by(&conn, &mut peer, "th", "tu", &[]).await;
    assert_eq!(conn.stats().turn_routes, 1);
    assert_eq!(conn.stats().turn_subscribers, 2);
    peer.send(delta("th", "tu", "2"));
    peer.send(turn_completed("th", "tu"));
    assert_eq!(
        drain(first).await,
        ["turn/started", "delta:1", "delta:2", "turn/completed"]
    );
    assert_eq!(drain(second).await, ["delta:2", "turn/completed"]);
    assert!(conn.stats().is_idle());
}

#[tokio::test]
async fn several_consumers_of_one_turn_each_get_every_event() {
    let (conn, mut peer) = connect(ConnectionConfig::default()).await;
    let ui =
        start_turn_answered_by(&conn, &mut peer, "th", "tu", &[turn_started("th", "tu")]).await;
    let logger = conn.subscribe_turn("tu");
    for i in 0..50 {
        peer.send(delta("th", "tu", &i.to_string()));
    }
    peer.send(turn_completed("th", "tu"));
    let (a, b) = tokio::join!(drain(ui), drain(logger));
    assert_eq!(a.len(), 52);
    assert_eq!(a[1..], b[..]);
}

#[tokio::test]
async fn lines_of_every_size_and_escaped_ids_come_through_the_queue_intact_and_in_order() {
    // A queue keeps its lines back to back in one buffer that the stream takes whole and hands
    // back emptied (a large one freed): mix short deltas, deltas far larger than a reused
    // buffer, and lines whose escaped turn id makes the reader decode them itself.
    let (conn, mut peer) = connect(ConnectionConfig::default()).await;
    let mut stream =
        start_turn_answered_by(&conn, &mut peer, "th", "tu", &[turn_started("th", "tu")]).await;
    let mut expected = vec!["turn/started".to_owned()];
    let mut received = Vec::new();
    for i in 0..120 {
        let text = match i % 3 {
            0 => format!("short {i}"),
            1 => format!("{i}:{}", "x".repeat(20_000 + i)),
            _ => format!("escaped {i}"),
        };
        let line = delta("th", "tu", &text);
        peer.send(if i % 3 == 2 {
            let escaped = line.replace(r#""turnId":"tu""#, r#""turnId":"t\u0075""#);
            assert_ne!(escaped, line, "the turn id is escaped");
            escaped
        } else {
            line
        });
        expected.push(format!("delta:{text}"));
        if i % 7 == 0 {
            // Take one event now and then, while more is queued behind it.
            match within(T, "an event", stream.next()).await {
                Some(Ok(TurnEvent::Notification(n))) => received.push(describe(&n)),
                other => panic!("{other:?}"),
            }
        }
    }
    peer.send(turn_completed("th", "tu"));
    expected.push("turn/completed".to_owned());
    received.extend(drain(stream).await);
    assert_eq!(received.len(), expected.len());
    assert!(
        received == expected,
        "the events differ from what the server sent"
    );
    assert!(conn.stats().is_idle(), "{:?}", conn.stats());
}

#[tokio::test]
async fn out_of_order_responses_reach_their_callers() {
    let (conn, mut peer) = connect(ConnectionConfig::default()).await;
    let mut calls = Vec::new();
    for i in 0..40 {
        let c = conn.clone();
        calls.push(tokio::spawn(async move {
            let v = c
                .request_raw("thread/loaded/list", Some(json!({"tag": i})))
                .await
                .unwrap();
            (i, v)
        }));
    }
    let mut requests = Vec::new();
    for _ in 0..40 {
        requests.push(next_request(&mut peer).await);
    }
    // Answer in reverse order, echoing the tag; a notification in between for good measure.
    for (n, (id, _, params)) in requests.iter().rev().enumerate() {
        respond(&peer, id, json!({"data": [], "tag": params["tag"]}));
        if n == 20 {
            peer.send(config_warning("hi"));
        }
    }
    for call in calls {
        let (i, v) = call.await.unwrap();
        assert_eq!(v["tag"], i);
    }
    assert_eq!(conn.stats().waiters, 0);
}

#[tokio::test]
async fn client_and_server_request_ids_are_separate_spaces() {
    let (conn, mut peer) = connect(ConnectionConfig::default()).await;
    let c = conn.clone();
    let call = tokio::spawn(async move { c.request_raw("thread/list", Some(json!({}))).await });
    let (id, _, _) = next_request(&mut peer).await;
    // A server request with the same numeric id as the client's pending request.
    peer.send(command_approval_request(id.as_i64().unwrap(), "th", "tu"));
    let answer = next_message(&mut peer).await;
    assert_eq!(answer["id"], id);
    assert_eq!(answer["result"], json!({"decision": "decline"}));
    respond(&peer, &id, json!({"data": []}));
    assert_eq!(call.await.unwrap().unwrap(), json!({"data": []}));
}

#[tokio::test]
async fn rpc_errors_are_typed_and_overload_is_recognized() {
    let (conn, mut peer) = connect(ConnectionConfig::default()).await;
    let c = conn.clone();
    let call = tokio::spawn(async move { c.request_raw("thread/list", Some(json!({}))).await });
    let (id, _, _) = next_request(&mut peer).await;
    respond_error(&peer, &id, -32001, "Server overloaded; retry later.");
    let err = call.await.unwrap().unwrap_err();
    assert!(err.is_overloaded() && err.is_retryable(), "{err}");
    assert_eq!(err.rpc_error().unwrap().code, -32001);
}

#[tokio::test]
async fn retry_on_overload_retries_until_the_server_accepts() {
    let (conn, mut peer) = connect(ConnectionConfig::default()).await;
    let c = conn.clone();
    let call = tokio::spawn(async move {
        codex_client::retry_on_overload(
            codex_client::RetryPolicy::new()
                .max_attempts(5)
                .initial_delay(Duration::from_millis(5)),
            || c.request_raw("thread/list", Some(json!({}))),
        )
        .await
    });
    for _ in 0..2 {
        let (id, _, _) = next_request(&mut peer).await;
        respond_error(&peer, &id, -32001, "Server overloaded; retry later.");
    }
    let (id, _, _) = next_request(&mut peer).await;
    respond(&peer, &id, json!({"ok": true}));
    assert_eq!(call.await.unwrap().unwrap(), json!({"ok": true}));
}

#[tokio::test]
async fn a_slow_consumer_lags_while_another_turn_streams_on() {
    let config = ConnectionConfig::default().turn_queue_capacity(8);
    let (conn, mut peer) = connect(config).await;
    let slow = start_turn_answered_by(&conn, &mut peer, "ta", "slow", &[]).await;
    let fast = start_turn_answered_by(&conn, &mut peer, "tb", "fast", &[]).await;
    let fast_task = tokio::spawn(drain(fast));
    for i in 0..100 {
        peer.send(delta("ta", "slow", &format!("s{i}")));
        peer.send(delta("tb", "fast", &format!("f{i}")));
        if i % 10 == 0 {
            tokio::task::yield_now().await;
        }
    }
    peer.send(turn_completed("ta", "slow"));
    peer.send(turn_completed("tb", "fast"));
    // Meanwhile the connection answers requests normally.
    let c = conn.clone();
    let call = tokio::spawn(async move { c.request_raw("thread/list", Some(json!({}))).await });
    let (id, _, _) = next_request(&mut peer).await;
    respond(&peer, &id, json!({"data": []}));
    call.await.unwrap().unwrap();

    let fast_events = fast_task.await.unwrap();
    let expected_fast: Vec<String> = (0..100)
        .map(|i| format!("delta:f{i}"))
        .chain(["turn/completed".to_owned()])
        .collect();
    // The fast consumer may lag too on a loaded machine; when it did not, it has everything.
    if !fast_events.iter().any(|e| e.starts_with("lagged")) {
        assert_eq!(fast_events, expected_fast);
    }
    let slow_events = drain(slow).await;
    let lagged: u64 = slow_events
        .iter()
        .filter_map(|e| e.strip_prefix("lagged:"))
        .map(|n| n.parse::<u64>().unwrap())
        .sum();
    let delivered = slow_events
        .iter()
        .filter(|e| !e.starts_with("lagged"))
        .count() as u64;
    assert!(lagged > 0, "the slow consumer lagged: {slow_events:?}");
    assert_eq!(
        delivered + lagged,
        101,
        "every event is either delivered or counted: {slow_events:?}"
    );
    // At most two queue-fulls (the queue, and the batch the stream took) plus the markers.
    assert!(slow_events.len() <= 2 * 8 + 2, "{slow_events:?}");
    assert!(conn.stats().lagged_events >= lagged);
    assert!(conn.stats().grace_expired >= 1, "{:?}", conn.stats());
    assert!(conn.stats().is_idle());
}

/// A turn `tu` on thread `ta` over a connection with a queue of 8 and `grace`, then a request
/// whose response the peer writes behind `deltas` deltas of the turn (and its `turn/completed`
/// when `complete`): the response reaches the caller only once the reader got past the flood.
async fn flood_before_a_response(
    grace: Duration,
    deltas: usize,
    complete: bool,
) -> (
    codex_client::core::Connection,
    codex_client::MemoryPeer,
    TurnStream,
    tokio::task::JoinHandle<codex_client::Result<serde_json::Value>>,
) {
    let config = ConnectionConfig::default()
        .turn_queue_capacity(8)
        .slow_consumer_grace(grace);
    let (conn, mut peer) = connect(config).await;
    let stream = start_turn_answered_by(&conn, &mut peer, "ta", "tu", &[]).await;
    let c = conn.clone();
    let call = tokio::spawn(async move { c.request_raw("thread/list", Some(json!({}))).await });
    let (id, _, _) = next_request(&mut peer).await;
    for i in 0..deltas {
        peer.send(delta("ta", "tu", &format!("d{i}")));
    }
    if complete {
        peer.send(turn_completed("ta", "tu"));
    }
    respond(&peer, &id, json!({"data": []}));
    (conn, peer, stream, call)
}

/// A consumer that is behind but not stalled: the reader waits for it (the slow-consumer
/// grace) instead of dropping its events, and reads nothing else meanwhile.
#[tokio::test]
async fn a_consumer_behind_within_the_grace_loses_nothing_and_holds_the_reader() {
    let (conn, _peer, behind, mut call) =
        flood_before_a_response(Duration::from_secs(30), 100, true).await;
    // The reader is waiting for room in the full queue: the response behind the deltas is
    // not read while nobody consumes (bounded check; the grace is 30 s).
    assert!(
        tokio::time::timeout(Duration::from_millis(200), &mut call)
            .await
            .is_err(),
        "the reader read past a full queue"
    );
    let events = drain(behind).await;
    let expected: Vec<String> = (0..100)
        .map(|i| format!("delta:d{i}"))
        .chain(["turn/completed".to_owned()])
        .collect();
    assert_eq!(events, expected, "nothing lost, nothing reordered");
    call.await.unwrap().unwrap();
    assert_eq!(conn.stats().lagged_events, 0);
    assert!(conn.stats().reader_waits >= 1, "{:?}", conn.stats());
    assert_eq!(conn.stats().grace_expired, 0);
    assert!(conn.stats().is_idle());
}

/// A stream dropped while the reader waits for room in its queue releases the reader at once
/// (not at the end of the grace), and its route and queue are gone.
#[tokio::test]
async fn dropping_a_stream_the_reader_waits_for_releases_the_reader() {
    let (conn, mut peer, stalled, mut call) =
        flood_before_a_response(Duration::from_secs(300), 50, false).await;
    assert!(
        tokio::time::timeout(Duration::from_millis(200), &mut call)
            .await
            .is_err(),
        "the reader waits for the full queue"
    );
    drop(stalled);
    // Well within the 300 s grace: the drop woke the reader.
    within(T, "the response once the stream is dropped", call)
        .await
        .unwrap()
        .unwrap();
    peer.send(turn_completed("ta", "tu"));
    sync(&conn, &mut peer).await;
    assert!(conn.stats().is_idle(), "{:?}", conn.stats());
}

/// With no grace a full queue drops at once: the reader never waits for a consumer.
#[tokio::test]
async fn without_a_grace_a_full_queue_drops_and_the_reader_reads_on() {
    let (_conn, _peer, stalled, call) = flood_before_a_response(Duration::ZERO, 100, true).await;
    // Answered while the stream's consumer has not read anything.
    within(T, "the response behind the flood", call)
        .await
        .unwrap()
        .unwrap();
    let events = drain(stalled).await;
    let lagged: u64 = events
        .iter()
        .filter_map(|e| e.strip_prefix("lagged:"))
        .map(|n| n.parse::<u64>().unwrap())
        .sum();
    let delivered = events.iter().filter(|e| !e.starts_with("lagged")).count() as u64;
    assert!(lagged >= 100 - 8, "{events:?}");
    assert_eq!(delivered + lagged, 101, "{events:?}");
    assert_eq!(events.last().map(String::as_str), Some("turn/completed"));
}

#[tokio::test]
async fn a_garbage_line_is_skipped_and_normal_traffic_goes_on() {
    let (conn, mut peer) = connect(ConnectionConfig::default()).await;
    let c = conn.clone();
    let call = tokio::spawn(async move { c.request_raw("thread/list", Some(json!({}))).await });
    let (id, _, _) = next_request(&mut peer).await;
    for garbage in [
        "this is not json",
        "[1,2,3]",
        "42",
        "{}",
        r#"{"id":999999,"result":{}}"#,
        r#"{"id":1,"error":"not an object"}"#,
        r#"{"id":1,"error":{"code":"x","message":"bad code"}}"#,
        "",
    ] {
        peer.send(garbage);
    }
    respond(&peer, &id, json!({"data": [1]}));
    assert_eq!(call.await.unwrap().unwrap(), json!({"data": [1]}));
    assert!(conn.malformed_lines() >= 6, "{}", conn.malformed_lines());
    assert!(conn.closed().is_none());
}

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
async fn a_request_times_out_and_leaves_no_waiter() {
    let (conn, mut peer) = connect(ConnectionConfig::default()).await;
    let err = conn
        .request_raw_with(
            "thread/list",
            Some(json!({})),
            RequestOptions::new().timeout(Duration::from_millis(50)),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err}");
    assert_eq!(conn.stats().waiters, 0);
    // A late answer is skipped, not delivered to anyone.
    let (id, _, _) = next_request(&mut peer).await;
    respond(&peer, &id, json!({}));
    wait_until(|| conn.malformed_lines() == 1).await;
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
async fn the_pending_buffer_is_bounded_in_count_and_age() {
    let config =
        ConnectionConfig::default().pending_limits(50, 1 << 20, Duration::from_millis(200));
    let (conn, mut peer) = connect(config).await;
    for t in 0..20 {
        for i in 0..10 {
            peer.send(delta("th", &format!("nobody-{t}"), &i.to_string()));
        }
    }
    sync(&conn, &mut peer).await;
    let stats = conn.stats();
    assert!(stats.pending_events <= 50, "{stats:?}");
    assert!(stats.dropped_events >= 150, "{stats:?}");
    // A subscriber of an evicted turn learns what it lost.
    let evicted = drain_some(conn.subscribe_turn("nobody-0"), 1).await;
    assert_eq!(evicted, ["lagged:10"]);
    tokio::time::sleep(Duration::from_millis(400)).await;
    let stats = conn.stats();
    assert_eq!(stats.pending_events, 0, "{stats:?}");
    assert_eq!(stats.pending_turns, 0, "{stats:?}");
}

#[tokio::test]
async fn thread_and_global_subscribers_get_what_no_turn_stream_takes() {
    let (conn, mut peer) = connect(ConnectionConfig::default()).await;
    let mut thread = conn.subscribe_thread("th");
    let mut global = conn.notifications();
    let turn = start_turn_answered_by(&conn, &mut peer, "th", "tu", &[]).await;
    peer.send(delta("th", "tu", "to the turn"));
    peer.send(thread_status_idle("th"));
    peer.send(thread_status_idle("other-thread"));
    peer.send(config_warning("global"));
    peer.send(turn_completed("th", "tu"));
    assert_eq!(drain(turn).await, ["delta:to the turn", "turn/completed"]);
    let n = thread.next().await.unwrap().unwrap();
    assert_eq!(n.method(), "thread/status/changed");
    assert_eq!(n.thread_id(), Some("th"));
    let g1 = global.next().await.unwrap().unwrap();
    assert_eq!(g1.thread_id(), Some("other-thread"));
    let g2 = global.next().await.unwrap().unwrap();
    assert_eq!(g2.method(), "configWarning");
}

// ----- server requests --------------------------------------------------------------------

struct Panics;
impl ServerRequestHandler for Panics {
    async fn command_execution_approval(
        &self,
        _params: codex_client::protocol::CommandExecutionRequestApprovalParams,
    ) -> HandlerResult<codex_client::protocol::CommandExecutionRequestApprovalResponse> {
        panic!("handler bug");
    }
}

struct NeverReturns;
impl ServerRequestHandler for NeverReturns {
    async fn command_execution_approval(
        &self,
        _params: codex_client::protocol::CommandExecutionRequestApprovalParams,
    ) -> HandlerResult<codex_client::protocol::CommandExecutionRequestApprovalResponse> {
        std::future::pending().await
    }
}

struct Accepts;
impl ServerRequestHandler for Accepts {
    async fn command_execution_approval(
        &self,
        _params: codex_client::protocol::CommandExecutionRequestApprovalParams,
    ) -> HandlerResult<codex_client::protocol::CommandExecutionRequestApprovalResponse> {
        Ok(serde_json::from_value(json!({"decision": "accept"})).unwrap())
    }
}

#[tokio::test]
async fn a_panicking_handler_gives_the_fail_closed_answer_and_the_reader_goes_on() {
    let (conn, mut peer) = connect(ConnectionConfig::default().handler(Panics)).await;
    peer.send(command_approval_request(0, "th", "tu"));
    let answer = next_message(&mut peer).await;
    assert_eq!(answer, json!({"id": 0, "result": {"decision": "decline"}}));
    sync(&conn, &mut peer).await;
}

#[tokio::test]
async fn a_handler_that_never_returns_times_out_fail_closed() {
    let config = ConnectionConfig::default()
        .handler(NeverReturns)
        .server_request_timeout(Duration::from_millis(100));
    let (conn, mut peer) = connect(config).await;
    peer.send(command_approval_request(7, "th", "tu"));
    // Other traffic is not held up meanwhile.
    sync(&conn, &mut peer).await;
    let answer = next_message(&mut peer).await;
    assert_eq!(answer, json!({"id": 7, "result": {"decision": "decline"}}));
}

#[tokio::test]
async fn a_custom_handler_answers() {
    let (_conn, mut peer) = connect(ConnectionConfig::default().handler(Accepts)).await;
    peer.send(command_approval_request(3, "th", "tu"));
    assert_eq!(
        next_message(&mut peer).await,
        json!({"id": 3, "result": {"decision": "accept"}})
    );
}

#[tokio::test]
async fn default_answers_are_fail_closed_for_every_kind() {
    let (_conn, mut peer) = connect(ConnectionConfig::default()).await;
    let base = json!({"threadId": "th", "turnId": "tu", "itemId": "i", "startedAtMs": 1});
    let with = |extra: serde_json::Value| {
        let mut v = base.clone();
        v.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        v
    };
    let cases = vec![
        (
            "item/commandExecution/requestApproval",
            with(json!({})),
            Ok(json!({"decision": "decline"})),
        ),
        (
            "item/fileChange/requestApproval",
            with(json!({})),
            Ok(json!({"decision": "decline"})),
        ),
        (
            "item/tool/requestUserInput",
            with(json!({"questions": [], "isBlocking": true})),
            Ok(json!({"answers": {}})),
        ),
        (
            "mcpServer/elicitation/request",
            json!({"threadId": "th", "turnId": null, "serverName": "s", "mode": "url", "message": "m", "url": "http://127.0.0.1/", "elicitationId": "e"}),
            Ok(json!({"action": "decline"})),
        ),
        (
            "item/permissions/requestApproval",
            with(json!({"cwd": "/tmp", "permissions": {}})),
            Ok(json!({"permissions": {}})),
        ),
        (
            "item/tool/call",
            json!({"threadId": "th", "turnId": "tu", "callId": "c", "tool": "t", "arguments": {}}),
            Ok(json!({"contentItems": [], "success": false})),
        ),
        (
            "execCommandApproval",
            json!({"callId": "c", "conversationId": "th", "command": ["ls"], "cwd": "/tmp", "parsedCmd": []}),
            Ok(
                json!({"decision": {"denied": {"rejection": "declined by the client (no approval given)"}}}),
            ),
        ),
        (
            "applyPatchApproval",
            json!({"callId": "c", "conversationId": "th", "fileChanges": {}}),
            Ok(
                json!({"decision": {"denied": {"rejection": "declined by the client (no approval given)"}}}),
            ),
        ),
        (
            "account/chatgptAuthTokens/refresh",
            json!({"reason": "unauthorized"}),
            Err(-32000),
        ),
        ("attestation/generate", json!({}), Err(-32000)),
        ("some/future/request", json!({"x": 1}), Err(-32601)),
    ];
    for (i, (method, params, expected)) in cases.into_iter().enumerate() {
        peer.send_json(&json!({"id": i, "method": method, "params": params}));
        let answer = next_message(&mut peer).await;
        assert_eq!(answer["id"], i, "{method}: {answer}");
        match expected {
            Ok(result) => assert_eq!(answer["result"], result, "{method}: {answer}"),
            Err(code) => assert_eq!(answer["error"]["code"], code, "{method}: {answer}"),
        }
    }
}

#[tokio::test]
async fn a_turn_consumer_answers_its_own_server_requests() {
    let (conn, mut peer) = connect(ConnectionConfig::default()).await;
    let c = conn.clone();
    let call = tokio::spawn(async move {
        c.request_turn::<codex_client::protocol::methods::TurnStart>(
            turn_start_params("th"),
            SubscribeOptions::new().server_requests(true),
            RequestOptions::new(),
        )
        .await
    });
    let (id, _, _) = next_request(&mut peer).await;
    respond(&peer, &id, turn_start_result("tu"));
    let (_, mut stream) = call.await.unwrap().unwrap();
    peer.send(command_approval_request(5, "th", "tu"));
    let TurnEvent::ServerRequest(request) = stream.next().await.unwrap().unwrap() else {
        panic!("expected the approval in the stream");
    };
    assert_eq!(request.turn_id(), Some("tu"));
    request.accept().unwrap();
    assert_eq!(
        next_message(&mut peer).await,
        json!({"id": 5, "result": {"decision": "accept"}})
    );
    // Dropped unanswered: fail-closed.
    peer.send(command_approval_request(6, "th", "tu"));
    let item = stream.next().await.unwrap().unwrap();
    drop(item);
    assert_eq!(
        next_message(&mut peer).await,
        json!({"id": 6, "result": {"decision": "decline"}})
    );
    // A request of another turn goes to the handler (default: decline).
    peer.send(command_approval_request(8, "th", "other"));
    assert_eq!(
        next_message(&mut peer).await,
        json!({"id": 8, "result": {"decision": "decline"}})
    );
    // Dropping the stream with an unanswered request in its queue answers it too.
    peer.send(command_approval_request(9, "th", "tu"));
    sync(&conn, &mut peer).await;
    drop(stream);
    assert_eq!(
        next_message(&mut peer).await,
        json!({"id": 9, "result": {"decision": "decline"}})
    );
}

#[tokio::test]
async fn an_ignored_request_in_a_stream_is_answered_at_the_timeout() {
    let config = ConnectionConfig::default().server_request_timeout(Duration::from_millis(100));
    let (conn, mut peer) = connect(config).await;
    let c = conn.clone();
    let call = tokio::spawn(async move {
        c.request_turn::<codex_client::protocol::methods::TurnStart>(
            turn_start_params("th"),
            SubscribeOptions::new().server_requests(true),
            RequestOptions::new(),
        )
        .await
    });
    let (id, _, _) = next_request(&mut peer).await;
    respond(&peer, &id, turn_start_result("tu"));
    let (_, mut stream) = call.await.unwrap().unwrap();
    peer.send(command_approval_request(5, "th", "tu"));
    let TurnEvent::ServerRequest(request) = stream.next().await.unwrap().unwrap() else {
        panic!("expected the approval");
    };
    assert_eq!(
        next_message(&mut peer).await,
        json!({"id": 5, "result": {"decision": "decline"}})
    );
    assert!(
        request.accept().is_err(),
        "already answered by the watchdog"
    );
}

// ----- handshake and close ----------------------------------------------------------------------

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

// ----- helpers ----------------------------------------------------------------------------------

/// A round trip through the reader: everything sent before is routed once this returns.
async fn sync(conn: &codex_client::core::Connection, peer: &mut codex_client::MemoryPeer) {
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

async fn wait_until(mut cond: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + T;
    while !cond() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "condition not reached in time"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

async fn drain_some(mut stream: TurnStream, n: usize) -> Vec<String> {
    let mut out = Vec::new();
    for _ in 0..n {
        let item = tokio::time::timeout(T, stream.next())
            .await
            .unwrap()
            .unwrap();
        out.push(match item {
            Ok(TurnEvent::Notification(n)) => describe(&n),
            Ok(TurnEvent::ServerRequest(r)) => format!("request:{}", r.method()),
            Ok(TurnEvent::Lagged(n)) => format!("lagged:{n}"),
            Ok(other) => format!("other:{other:?}"),
            Err(e) => format!("error:{e}"),
        });
    }
    out
}

#[allow(dead_code)]
fn _assert_send_sync() {
    fn is<T: Send + Sync>() {}
    is::<codex_client::core::Connection>();
    fn send<T: Send>() {}
    send::<TurnStream>();
    let _ = Arc::new(());
}

#[tokio::test]
async fn a_thread_subscriber_sees_turns_nobody_started_here() {
    // e.g. a turn the server starts on its own (goal mode) or another client's turn.
    let (conn, mut peer) = connect(ConnectionConfig::default()).await;
    let mut thread = conn.subscribe_thread("th");
    peer.send(turn_started("th", "server-turn"));
    peer.send(delta("th", "server-turn", "x"));
    peer.send(turn_completed("th", "server-turn"));
    let mut methods = Vec::new();
    for _ in 0..3 {
        methods.push(thread.next().await.unwrap().unwrap().method().to_owned());
    }
    assert_eq!(
        methods,
        ["turn/started", "item/agentMessage/delta", "turn/completed"]
    );
    // And a later subscriber of that turn still gets it from the start.
    sync(&conn, &mut peer).await;
    assert_eq!(
        drain(conn.subscribe_turn("server-turn")).await,
        ["turn/started", "delta:x", "turn/completed"]
    );
}

#[tokio::test]
async fn a_server_request_whose_params_do_not_decode_is_answered_fail_closed() {
    let (conn, mut peer) = connect(ConnectionConfig::default()).await;
    peer.send(
        r#"{"id":11,"method":"item/commandExecution/requestApproval","params":{"threadId":5}}"#,
    );
    assert_eq!(
        next_message(&mut peer).await,
        json!({"id": 11, "result": {"decision": "decline"}})
    );
    sync(&conn, &mut peer).await;
}

#[tokio::test]
async fn in_flight_requests_are_bounded() {
    let (conn, mut peer) = connect(ConnectionConfig::default().max_in_flight(2)).await;
    let mut calls = Vec::new();
    for i in 0..5 {
        let c = conn.clone();
        calls.push(tokio::spawn(async move {
            c.request_raw("thread/list", Some(json!({"i": i}))).await
        }));
    }
    let first = next_request(&mut peer).await;
    let second = next_request(&mut peer).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(peer.try_recv().is_none(), "only two requests in flight");
    respond(&peer, &first.0, json!({}));
    let third = next_request(&mut peer).await;
    respond(&peer, &second.0, json!({}));
    respond(&peer, &third.0, json!({}));
    for _ in 0..2 {
        let (id, _, _) = next_request(&mut peer).await;
        respond(&peer, &id, json!({}));
    }
    for call in calls {
        call.await.unwrap().unwrap();
    }
}

fn resolved(id: i64, thread: &str) -> String {
    notification(
        "serverRequest/resolved",
        json!({"threadId": thread, "requestId": id}),
    )
}

#[tokio::test]
async fn server_request_resolved_cancels_the_handler_and_answers_nothing() {
    let config = ConnectionConfig::default()
        .handler(NeverReturns)
        .server_request_timeout(Duration::from_millis(300));
    let (conn, mut peer) = connect(config).await;
    peer.send(command_approval_request(4, "th", "tu"));
    wait_until(|| conn.open_server_requests() == 1).await;
    peer.send(resolved(4, "th"));
    sync(&conn, &mut peer).await;
    assert_eq!(conn.open_server_requests(), 0);
    // Past the handler timeout: still no (fail-closed) answer for the resolved request.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        peer.try_recv().is_none(),
        "nothing is sent for a resolved request"
    );
}

#[tokio::test]
async fn a_resolved_request_in_a_stream_says_so_and_is_not_answered() {
    let (conn, mut peer) = connect(ConnectionConfig::default()).await;
    let c = conn.clone();
    let call = tokio::spawn(async move {
        c.request_turn::<codex_client::protocol::methods::TurnStart>(
            turn_start_params("th"),
            SubscribeOptions::new().server_requests(true),
            RequestOptions::new(),
        )
        .await
    });
    let (id, _, _) = next_request(&mut peer).await;
    respond(&peer, &id, turn_start_result("tu"));
    let (_, mut stream) = call.await.unwrap().unwrap();
    peer.send(command_approval_request(5, "th", "tu"));
    peer.send(resolved(5, "th"));
    let TurnEvent::ServerRequest(request) = stream.next().await.unwrap().unwrap() else {
        panic!("expected the approval");
    };
    sync(&conn, &mut peer).await;
    assert!(request.is_resolved());
    assert!(request.accept().is_err());
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(
        peer.try_recv().is_none(),
        "no answer for a resolved request"
    );
    assert_eq!(conn.open_server_requests(), 0);
}

/// A command approval of turn `tu` whose `id` member is `raw_id`, as written.
fn approval_with_raw_id(raw_id: &str) -> String {
    let line = command_approval_request(0, "th", "tu");
    assert_eq!(line.matches(r#""id":0"#).count(), 1);
    line.replace(r#""id":0"#, &format!(r#""id":{raw_id}"#))
}

/// A hostile server sends requests whose ids the client cannot use: each is answered with
/// JSON-RPC -32600 (the id echoed where it is a number, `null` otherwise), counted, and reaches
/// no handler; so is a request whose method is not a string; a string id is an id (answered
/// fail-closed, echoed); the connection goes on.
#[tokio::test]
async fn a_server_request_with_an_unusable_id_is_answered_invalid_request() {
    let (conn, mut peer) = connect(ConnectionConfig::default().handler(Accepts)).await;
    let cases = [
        ("18446744073709551615", json!(18446744073709551615u64)),
        ("1.5", json!(1.5)),
        ("null", json!(null)),
        ("{}", json!(null)),
        ("[1]", json!(null)),
        ("true", json!(null)),
    ];
    for (n, (raw, echoed)) in cases.iter().enumerate() {
        peer.send(approval_with_raw_id(raw));
        let answer = next_message(&mut peer).await;
        assert_eq!(answer["jsonrpc"], "2.0", "{answer}");
        assert_eq!(&answer["id"], echoed, "id {raw}: {answer}");
        assert_eq!(
            answer["error"]["code"],
            codex_client::INVALID_REQUEST_CODE,
            "{answer}"
        );
        assert!(
            answer.get("result").is_none(),
            "never a handler's answer: {answer}"
        );
        let line = serde_json::to_string(&answer).unwrap();
        if echoed.is_number() {
            assert!(
                line.contains(&format!(r#""id":{raw}"#)),
                "echoed as written: {line}"
            );
        }
        assert_eq!(conn.malformed_lines(), n as u64 + 1);
    }
    // A usable id but a method that is not a string: still a request, still answered.
    peer.send(r#"{"id":9,"method":7,"params":{}}"#);
    let answer = next_message(&mut peer).await;
    assert_eq!(answer["id"], 9, "{answer}");
    assert_eq!(
        answer["error"]["code"],
        codex_client::INVALID_REQUEST_CODE,
        "{answer}"
    );
    assert_eq!(conn.open_server_requests(), 0);
    peer.send(approval_with_raw_id(r#""srv-7""#));
    assert_eq!(
        next_message(&mut peer).await,
        json!({"id": "srv-7", "result": {"decision": "accept"}}),
        "a string id is an id: handled and echoed"
    );
    sync(&conn, &mut peer).await;
    assert_eq!(conn.malformed_lines(), cases.len() as u64 + 1);
    assert_eq!(conn.open_server_requests(), 0);
}

/// Starts turn `tu` on thread `th` with its server requests in its stream.
async fn turn_with_requests(
    conn: &codex_client::core::Connection,
    peer: &mut codex_client::MemoryPeer,
) -> TurnStream {
    let c = conn.clone();
    let call = tokio::spawn(async move {
        c.request_turn::<codex_client::protocol::methods::TurnStart>(
            turn_start_params("th"),
            SubscribeOptions::new().server_requests(true),
            RequestOptions::new(),
        )
        .await
    });
    let (id, _, _) = next_request(peer).await;
    respond(peer, &id, turn_start_result("tu"));
    call.await.unwrap().unwrap().1
}

/// Two requests with id 5 while the first is open: the second is refused with -32600 at once
/// (never shown to the consumer), the first stays tracked and is the one answered; the count
/// is exact throughout, and id 5 can be used again once the first is answered.
#[tokio::test]
async fn a_duplicate_server_request_id_is_refused_and_the_first_stays_tracked() {
    let (conn, mut peer) = connect(ConnectionConfig::default()).await;
    let mut stream = turn_with_requests(&conn, &mut peer).await;
    peer.send(command_approval_request(5, "th", "tu"));
    wait_until(|| conn.open_server_requests() == 1).await;
    peer.send(command_approval_request(5, "th", "tu"));
    let refusal = next_message(&mut peer).await;
    assert_eq!(refusal["id"], 5, "{refusal}");
    assert_eq!(
        refusal["error"]["code"],
        codex_client::INVALID_REQUEST_CODE,
        "{refusal}"
    );
    assert!(
        refusal["error"]["message"]
            .as_str()
            .unwrap()
            .contains("duplicate"),
        "{refusal}"
    );
    assert_eq!(
        conn.open_server_requests(),
        1,
        "one open request, not two, not zero"
    );
    assert_eq!(conn.malformed_lines(), 1);
    let TurnEvent::ServerRequest(first) = stream.next().await.unwrap().unwrap() else {
        panic!("the first request")
    };
    first.accept().unwrap();
    assert_eq!(
        next_message(&mut peer).await,
        json!({"id": 5, "result": {"decision": "accept"}})
    );
    assert_eq!(conn.open_server_requests(), 0);
    peer.send(command_approval_request(5, "th", "tu"));
    let TurnEvent::ServerRequest(again) = stream.next().await.unwrap().unwrap() else {
        panic!("the duplicate was not delivered; the new request with the reused id is")
    };
    assert_eq!(conn.open_server_requests(), 1);
    again.decline().unwrap();
    assert_eq!(
        next_message(&mut peer).await,
        json!({"id": 5, "result": {"decision": "decline"}})
    );
    assert_eq!(conn.open_server_requests(), 0);
}

/// `serverRequest/resolved` for an id that was sent twice settles the one open request with
/// that id (the first; the duplicate was refused and never tracked): `is_resolved()` true, the
/// count back to 0, and nothing more is written for it.
#[tokio::test]
async fn resolved_for_a_duplicated_id_settles_the_one_open_request() {
    let config = ConnectionConfig::default().server_request_timeout(Duration::from_millis(300));
    let (conn, mut peer) = connect(config).await;
    let mut stream = turn_with_requests(&conn, &mut peer).await;
    peer.send(command_approval_request(5, "th", "tu"));
    peer.send(command_approval_request(5, "th", "tu"));
    assert_eq!(next_message(&mut peer).await["error"]["code"], -32600);
    let TurnEvent::ServerRequest(first) = stream.next().await.unwrap().unwrap() else {
        panic!("the first request")
    };
    assert_eq!(conn.open_server_requests(), 1);
    peer.send(resolved(5, "th"));
    sync(&conn, &mut peer).await;
    assert!(first.is_resolved());
    assert_eq!(conn.open_server_requests(), 0);
    // Past the server-request timeout: no fail-closed answer for the resolved request either.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        peer.try_recv().is_none(),
        "nothing written for a resolved request"
    );
    assert!(first.accept().is_err());
    peer.send(turn_completed("th", "tu"));
    assert_eq!(drain(stream).await, ["turn/completed"]);
}

/// Issue 15, item 4: every late subscriber of a finished turn ends — three at once, then one
/// more — whether the turn completed with a live stream (each gets the remembered completion),
/// with nobody subscribed (the first gets the replay, the others the completion), or after its
/// buffered events were evicted (the first gets `Lagged(n)` and the completion, the others the
/// completion). Before, only the first late subscriber ended; the second waited forever.
#[tokio::test]
async fn every_late_subscriber_of_a_finished_turn_ends() {
    let config = ConnectionConfig::default().pending_limits(5, 1 << 20, Duration::from_secs(60));
    let (conn, mut peer) = connect(config).await;
    // "live": completed while streamed.
    let stream = start_turn_answered_by(&conn, &mut peer, "th", "live", &[]).await;
    peer.send(turn_completed("th", "live"));
    assert_eq!(drain(stream).await, ["turn/completed"]);
    // "lost": evicted from the pending buffer (5 events at most, oldest turn first) by the
    // next turn's event.
    peer.send(turn_started("th", "lost"));
    peer.send(delta("th", "lost", "x"));
    peer.send(turn_completed("th", "lost"));
    // "done": the whole turn with nobody subscribed (kept in the pending buffer).
    peer.send(turn_started("th", "done"));
    peer.send(turn_completed("th", "done"));
    peer.send(delta("th", "other", "y"));
    sync(&conn, &mut peer).await;
    let stats = conn.stats();
    assert_eq!(
        (stats.pending_events, stats.pending_turns),
        (3, 2),
        "{stats:?}"
    );
    for (turn, first) in [
        ("live", &["turn/completed"][..]),
        ("done", &["turn/started", "turn/completed"][..]),
        ("lost", &["lagged:2", "turn/completed"][..]),
    ] {
        let streams: Vec<TurnStream> = (0..3).map(|_| conn.subscribe_turn(turn)).collect();
        let mut ended = Vec::new();
        for stream in streams {
            ended.push(drain(stream).await);
        }
        ended.push(drain(conn.subscribe_turn(turn)).await);
        assert_eq!(ended[0], first, "{turn}: the first late subscriber");
        for later in &ended[1..] {
            assert_eq!(later, &["turn/completed"], "{turn}: {ended:?}");
        }
    }
    let stats = conn.stats();
    assert_eq!(
        (stats.turn_routes, stats.turn_subscribers),
        (0, 0),
        "{stats:?}"
    );
}

/// Reads the stream's items to its end: (deltas, total lagged, last item).
async fn count_to_end(mut stream: TurnStream) -> (usize, u64, String) {
    let (mut deltas, mut lagged, mut last) = (0, 0, String::new());
    while let Some(item) = tokio::time::timeout(T, stream.next())
        .await
        .expect("the turn stream ends in time")
    {
        last = match item {
            Ok(TurnEvent::Notification(n)) if delta_text(&n).is_some() => {
                deltas += 1;
                "delta".to_owned()
            }
            Ok(TurnEvent::Notification(n)) => n.method().to_owned(),
            Ok(TurnEvent::Lagged(n)) => {
                lagged += n;
                format!("lagged:{n}")
            }
            Ok(other) => format!("{other:?}"),
            Err(e) => format!("error:{e}"),
        };
    }
    (deltas, lagged, last)
}

/// Issue 15, item 3: a subscriber queue is bounded in bytes, not only in events. 200 deltas of
/// 16 KiB to turn and thread streams that do not read, with a 256 KiB byte bound and room for
/// 1024 events: after one grace the reader gives up on them, each keeps about 256 KiB of
/// deltas and the rest is counted (the turn stream's `Lagged`), the turn stream still gets its
/// `turn/completed`, and a stream that reads gets everything. Before, all 200 were queued for
/// each.
#[tokio::test]
async fn a_queue_full_in_bytes_lags_like_a_queue_full_in_events() {
    let config = ConnectionConfig::default()
        .turn_queue_limits(1024, 256 << 10)
        .subscription_queue_limits(4096, 256 << 10);
    let (conn, mut peer) = connect(config).await;
    let stalled = conn.subscribe_turn("big");
    let thread = conn.subscribe_thread("th2");
    let reader = tokio::spawn(count_to_end(conn.subscribe_turn("read")));
    let chunk = "x".repeat(16 << 10);
    for _ in 0..200 {
        peer.send(delta("th", "big", &chunk));
        peer.send(delta("th2", "nobody", &chunk));
        peer.send(delta("th", "read", &chunk));
    }
    peer.send(turn_completed("th", "big"));
    peer.send(turn_completed("th", "read"));
    sync(&conn, &mut peer).await;
    let stats = conn.stats();
    assert!(stats.grace_expired >= 2, "{stats:?}");
    let (deltas, lagged, last) = count_to_end(stalled).await;
    assert!((1..=17).contains(&deltas), "about 256 KiB kept: {deltas}");
    assert_eq!(deltas as u64 + lagged, 200);
    assert_eq!(last, "turn/completed");
    assert_eq!(reader.await.unwrap(), (200, 0, "turn/completed".to_owned()));
    // Everything was routed (`sync`): take what the thread stream holds.
    let mut thread = thread;
    let mut got = 0u64;
    while let Some(Some(item)) = futures::FutureExt::now_or_never(thread.next()) {
        item.expect("a notification");
        got += 1;
    }
    assert!((1..=17).contains(&got), "{got}");
    // What the thread stream lost is counted (and reported at its next delivery).
    let lost = conn.stats().lagged_events;
    assert_eq!(lost, 200 - deltas as u64 + 200 - got, "{:?}", conn.stats());
}

/// The resident set of this process, in KiB (Linux).
fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// Issue 15, item 3's figure (RELIABILITY.md §9): 1,000 deltas of 1 MiB to a turn consumer that
/// does not read, default configuration. Run alone:
/// `cargo test --release -p codex-client --test connection_memory rss_of_1000_deltas_of_1_mib -- --ignored --nocapture`.
#[tokio::test]
#[ignore = "a measurement, run alone"]
async fn rss_of_1000_deltas_of_1_mib_to_a_consumer_that_does_not_read() {
    let (conn, mut peer) = connect(ConnectionConfig::default()).await;
    let stalled = conn.subscribe_turn("big");
    let chunk = "x".repeat(1 << 20);
    let before = rss_kib();
    for _ in 0..1000 {
        peer.send(delta("th", "big", &chunk));
        // One at a time, so the peer's side holds no backlog.
        sync(&conn, &mut peer).await;
    }
    let after = rss_kib();
    println!(
        "RSS before {before} KiB, after 1000 x 1 MiB deltas {after} KiB; stats {:?}",
        conn.stats()
    );
    drop(stalled);
}

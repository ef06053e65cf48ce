//! The connection core's bounds and slow consumers, against a scriptable fake server on the
//! in-memory transport: the slow-consumer grace (the reader waits, then `Lagged`), subscriber
//! queues bounded in events and in bytes, the pending buffer bounded in count and age, and the
//! memory measurement of RELIABILITY.md §9 (ignored, run alone).

mod common;
mod memory;

use codex_client::TurnEvent;
use codex_client::core::{ConnectionConfig, TurnStream};
use common::*;
use futures::StreamExt;
use memory::*;
use serde_json::json;
use std::time::Duration;

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
/// `cargo test --release -p codex-client --test connection_bounds rss_of_1000_deltas_of_1_mib -- --ignored --nocapture`.
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

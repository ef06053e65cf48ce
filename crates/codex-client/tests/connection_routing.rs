//! The connection core's routing of notifications, against a scriptable fake server on the
//! in-memory transport: to turn streams (events before the `turn/start` response replayed, one
//! route shared, several consumers, lines of every size intact and in order), to thread and
//! global subscribers, and to late subscribers of a finished turn.

mod common;
mod memory;

use codex_client::TurnEvent;
use codex_client::core::{ConnectionConfig, TurnStream};
use common::*;
use futures::StreamExt;
use memory::*;
use std::time::Duration;

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

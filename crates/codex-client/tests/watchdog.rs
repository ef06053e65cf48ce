//! The turn watchdog ([`TurnOptions::inactivity_timeout`]) against a fake server on the memory
//! transport that never sends `turn/completed` — the app-server bug it exists for (protocol
//! reference §8 item 6). Both outcomes: the server's record shows the turn finished (the stream
//! ends with a `turn/completed` built from it and `run()` returns the real result), or it does not
//! (still in progress, unknown, no answer: `Error::TurnTimeout`). Never a hang.
//!
//! The same fake also shows the handle's rule for gaps: a lag is an `Ok(TurnEvent::Lagged(n))`
//! item, so a consumer that uses `event?` reads on to the turn's end.

mod common;

use codex_client::core::ConnectionConfig;
use codex_client::protocol::TurnStatus;
use codex_client::{Codex, Error, MemoryPeer, Thread, TurnEvent, TurnOptions};
use common::*;
use futures::StreamExt;
use serde_json::{Value, json};
use std::time::Duration;

const LONG: Duration = Duration::from_secs(30);

/// The `thread/start` response the real 0.163.0 server sent (recorded traffic).
fn recorded_thread_start() -> Value {
    let fixture = include_str!("../../codex-client-protocol/tests/fixtures/simple_turn.jsonl");
    fixture
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .map(|v| v.get("message").cloned().unwrap_or(v))
        .find(|v| v["result"]["thread"].is_object() && v["result"]["approvalPolicy"].is_string())
        .map(|v| v["result"].clone())
        .expect("a thread/start response in the fixture")
}

async fn thread_over_fake() -> (Codex, Thread, MemoryPeer, String) {
    thread_over_fake_with(ConnectionConfig::default()).await
}

async fn thread_over_fake_with(config: ConnectionConfig) -> (Codex, Thread, MemoryPeer, String) {
    let (conn, mut peer) = connect(config).await;
    let codex = Codex::from_connection(conn);
    let c = codex.clone();
    let start = tokio::spawn(async move { c.threads().start(Default::default()).await });
    let (id, method, _) = next_request(&mut peer).await;
    assert_eq!(method, "thread/start");
    let response = recorded_thread_start();
    let thread_id = response["thread"]["id"].as_str().unwrap().to_owned();
    respond(&peer, &id, response);
    let thread = start.await.unwrap().expect("thread/start");
    (codex, thread, peer, thread_id)
}

fn agent_message_completed(thread: &str, turn: &str, text: &str) -> String {
    notification(
        "item/completed",
        json!({"threadId": thread, "turnId": turn, "completedAtMs": 1,
               "item": agent_message(text)}),
    )
}

fn agent_message(text: &str) -> Value {
    json!({"type": "agentMessage", "id": "msg_1", "text": text, "phase": "final_answer"})
}

/// `thread/read`'s answer: the recorded thread, with this one turn in `status`.
fn thread_read_answer(turn: &str, status: &str, items: Vec<Value>) -> Value {
    let mut thread = recorded_thread_start()["thread"].clone();
    let mut turn = turn_obj(turn, status);
    turn["items"] = Value::Array(items);
    thread["turns"] = json!([turn]);
    json!({"thread": thread})
}

/// Starts a turn with the watchdog armed; the fake sends `turn/started` and one final agent
/// message, and never `turn/completed`.
async fn turn_that_never_completes(
    thread: &Thread,
    peer: &mut MemoryPeer,
    thread_id: &str,
    idle: Duration,
) -> tokio::task::JoinHandle<codex_client::Result<codex_client::TurnResult>> {
    let t = thread.clone();
    let run = tokio::spawn(async move {
        t.turn_with("hi", TurnOptions::new().inactivity_timeout(idle))
            .await?
            .run()
            .await
    });
    let (id, method, _) = next_request(peer).await;
    assert_eq!(method, "turn/start");
    respond(peer, &id, turn_start_result("tu"));
    peer.send(turn_started(thread_id, "tu"));
    peer.send(agent_message_completed(thread_id, "tu", "Hello"));
    run
}

/// The next `thread/read` the watchdog sends (with turns).
async fn expect_thread_read(peer: &mut MemoryPeer, thread_id: &str) -> Value {
    let msg = tokio::time::timeout(LONG, peer.recv_json())
        .await
        .expect("the watchdog asks the server in time")
        .expect("connected");
    assert_eq!(msg["method"], "thread/read", "{msg}");
    assert_eq!(msg["params"]["threadId"], thread_id);
    assert_eq!(msg["params"]["includeTurns"], true);
    msg["id"].clone()
}

const IDLE: Duration = Duration::from_millis(300);

/// A turn that never completes; the watchdog's question is answered by `answer` (or not at all).
async fn watchdog_answered_by(
    answer: impl FnOnce(&MemoryPeer, &Value),
) -> codex_client::Result<codex_client::TurnResult> {
    let (codex, thread, mut peer, thread_id) = thread_over_fake().await;
    let run = turn_that_never_completes(&thread, &mut peer, &thread_id, IDLE).await;
    let id = expect_thread_read(&mut peer, &thread_id).await;
    answer(&peer, &id);
    let result = tokio::time::timeout(LONG, run)
        .await
        .expect("no hang: the question has its own timeout")
        .unwrap();
    drop(thread);
    if result.is_err() {
        // The turn may still be running: its dropped handle interrupts it, and the route goes
        // when the interrupted turn's `turn/completed` has come.
        let (id, method, params) = next_request(&mut peer).await;
        assert_eq!(method, "turn/interrupt");
        assert_eq!(params["turnId"], "tu");
        respond(&peer, &id, json!({}));
        peer.send(turn_completed(&thread_id, "tu"));
    }
    let conn = codex.connection().clone();
    let deadline = tokio::time::Instant::now() + LONG;
    loop {
        let stats = conn.stats();
        if (stats.turn_routes, stats.turn_subscribers, stats.waiters) == (0, 0, 0) {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{stats:?}");
        tokio::task::yield_now().await;
    }
    result
}

/// What the server said, from a `TurnTimeout`.
fn server_says(result: codex_client::Result<codex_client::TurnResult>) -> String {
    match result {
        Err(Error::TurnTimeout {
            turn_id,
            idle,
            server_says,
        }) => {
            assert_eq!((turn_id.as_str(), idle), ("tu", IDLE));
            server_says
        }
        other => panic!("expected TurnTimeout, got {other:?}"),
    }
}

#[tokio::test]
async fn a_lost_turn_completed_is_recovered_from_the_servers_record() {
    let result = watchdog_answered_by(|peer, id| {
        respond(
            peer,
            id,
            thread_read_answer("tu", "completed", vec![agent_message("Hello")]),
        )
    })
    .await
    .expect("the real outcome");
    assert_eq!(result.status, TurnStatus::Completed);
    assert_eq!(result.final_response(), Some("Hello"));
}

#[tokio::test]
async fn a_turn_the_server_reports_interrupted_ends_interrupted() {
    let result = watchdog_answered_by(|peer, id| {
        respond(peer, id, thread_read_answer("tu", "interrupted", vec![]))
    })
    .await
    .expect("interrupted is a result");
    assert!(result.is_interrupted());
}

#[tokio::test]
async fn a_turn_the_server_still_runs_ends_with_turn_timeout() {
    let result = watchdog_answered_by(|peer, id| {
        respond(peer, id, thread_read_answer("tu", "inProgress", vec![]))
    })
    .await;
    let err = result.as_ref().unwrap_err().to_string();
    assert!(err.contains("no event for 300ms"), "{err}");
    assert!(server_says(result).contains("inProgress"));
}

#[tokio::test]
async fn a_turn_the_server_does_not_know_ends_with_turn_timeout() {
    let result = watchdog_answered_by(|peer, id| {
        respond(
            peer,
            id,
            thread_read_answer("another-turn", "completed", vec![]),
        )
    })
    .await;
    assert!(server_says(result).contains("does not list"));
}

#[tokio::test]
async fn no_answer_to_the_question_ends_with_turn_timeout() {
    let result = watchdog_answered_by(|_, _| {}).await;
    assert!(server_says(result).contains("timed out"));
}

#[tokio::test]
async fn an_error_answer_ends_with_turn_timeout_carrying_it() {
    let result =
        watchdog_answered_by(|peer, id| respond_error(peer, id, -32600, "thread not found: x"))
            .await;
    assert!(server_says(result).contains("thread not found"));
}

/// The real `turn/completed` arriving while the watchdog's question is out wins; the late answer
/// is ignored.
#[tokio::test]
async fn the_real_completion_wins_over_the_watchdogs_question() {
    let (codex, thread, mut peer, thread_id) = thread_over_fake().await;
    let run = turn_that_never_completes(&thread, &mut peer, &thread_id, IDLE).await;
    let id = expect_thread_read(&mut peer, &thread_id).await;
    peer.send(turn_completed(&thread_id, "tu"));
    let result = run.await.unwrap().expect("completed");
    assert_eq!(result.status, TurnStatus::Completed);
    respond(&peer, &id, thread_read_answer("tu", "inProgress", vec![]));
    drop(thread);
    let conn = codex.connection().clone();
    // The late answer finds no waiter (the question was dropped with the stream's end).
    let deadline = tokio::time::Instant::now() + LONG;
    while conn.malformed_lines() < 1 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the late answer is skipped"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(conn.stats().is_idle(), "{:?}", conn.stats());
}

/// Events keep the watchdog quiet: a turn whose events come well within the timeout completes
/// normally and the server is never asked.
#[tokio::test]
async fn a_turn_with_steady_events_never_asks_the_server() {
    let (_codex, thread, mut peer, thread_id) = thread_over_fake().await;
    let idle = Duration::from_secs(2);
    let run = turn_that_never_completes(&thread, &mut peer, &thread_id, idle).await;
    // 60 events 50 ms apart: longer than the timeout in total, never a gap that long.
    for i in 0..60 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        peer.send(delta(&thread_id, "tu", &i.to_string()));
    }
    peer.send(turn_completed(&thread_id, "tu"));
    let result = run.await.unwrap().expect("completed");
    assert_eq!(result.status, TurnStatus::Completed);
    assert!(peer.try_recv().is_none(), "no thread/read was sent");
}

/// The watchdog's state keeps the handle `Send + Sync` (so `&TurnHandle` futures, e.g.
/// `turn.interrupt()`, can be spawned).
#[allow(dead_code)]
fn turn_handle_stays_send_and_sync() {
    fn is<T: Send + Sync>() {}
    is::<codex_client::TurnHandle>();
}

/// A consumer that falls behind gets the gap as an `Ok` item and, with `event?`, reads on to
/// the turn's end; the result counts what it missed.
#[tokio::test]
async fn a_gap_is_an_ok_event_and_event_question_mark_reads_to_the_end() {
    let config = ConnectionConfig::default()
        .turn_queue_capacity(4)
        .slow_consumer_grace(Duration::from_millis(1));
    let (codex, thread, mut peer, thread_id) = thread_over_fake_with(config).await;
    let t = thread.clone();
    let start = tokio::spawn(async move { t.turn("hi").await });
    let (id, method, _) = next_request(&mut peer).await;
    assert_eq!(method, "turn/start");
    respond(&peer, &id, turn_start_result("tu"));
    let mut turn = start.await.unwrap().expect("turn/start");
    // A flood the consumer does not read while it comes.
    peer.send(turn_started(&thread_id, "tu"));
    for i in 0..200 {
        peer.send(delta(&thread_id, "tu", &i.to_string()));
    }
    peer.send(turn_completed(&thread_id, "tu"));
    // Wait (bounded) until the reader has dropped events for this consumer.
    let deadline = tokio::time::Instant::now() + LONG;
    while codex.connection().stats().lagged_events == 0 {
        assert!(tokio::time::Instant::now() < deadline, "no lag happened");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let consume = async {
        let (mut lagged, mut completed) = (0u64, false);
        while let Some(event) = turn.next().await {
            match event? {
                TurnEvent::Lagged(n) => lagged += n,
                event if event.is_turn_completed() => completed = true,
                _ => {}
            }
        }
        Ok::<_, Error>((lagged, completed))
    };
    let (lagged, completed) = tokio::time::timeout(LONG, consume)
        .await
        .expect("the stream ends")
        .expect("no Err item: a gap is not an error");
    assert!(lagged > 0, "the consumer fell behind");
    assert!(completed, "and still read the turn's end");
    let result = turn.run().await.expect("completed");
    assert_eq!(result.missed_events, lagged);
    assert_eq!(result.status, TurnStatus::Completed);
}

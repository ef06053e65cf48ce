//! Fault injection: a misbehaving server (scripted over the memory transport, or a `/bin/sh`
//! stand-in process for what only a real pipe and a real process can do) and misbehaving callers.
//! Each test injects one fault and checks that the client reports it, loses nothing it was not
//! forced to lose, never hangs, and ends with the router's tables empty.
//!
//! What other test files already prove is not repeated here; RELIABILITY.md maps every fault of
//! issue 7 to the test that covers it.

mod common;

use codex_client::core::{Connection, ConnectionConfig, RequestOptions, TurnStream};
use codex_client::protocol::ServerNotification;
use codex_client::{Error, MemoryPeer, RetryPolicy, SpawnConfig, TurnEvent, retry_on_overload};
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
        Ok(TurnEvent::Lagged(n)) => format!("lagged:{n}"),
        Ok(other) => format!("other:{other:?}"),
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

// ----- server output faults -----------------------------------------------------------------

/// Every kind of bad line, between every two events of a streaming turn: the turn loses nothing,
/// the bad lines are counted, the connection stays open.
#[tokio::test]
async fn bad_lines_between_every_event_of_a_turn_lose_nothing() {
    let (conn, mut peer) = connect(ConnectionConfig::default()).await;
    let stream = start_turn(&conn, &mut peer, "th", "tu").await;
    let garbage = [
        "this is not json",
        "[1,2,3]",
        r#"[{"id":1,"result":{}}]"#,
        "42",
        "null",
        r#""a string""#,
        "{",
        r#"{"id":999999,"result":{}}"#,
        r#"{"id":-5,"result":{}}"#,
        r#"{"id":1.5,"result":{}}"#,
        r#"{"id":null,"result":{}}"#,
        r#"{"id":"str","result":{}}"#,
        r#"{"id":1,"error":{"code":"x","message":"code is a string"}}"#,
        r#"{"id":1,"error":{"code":1.5,"message":"code is a float"}}"#,
        r#"{"id":1,"error":"not an object"}"#,
        r#"{"method":42}"#,
        r#"{"method":"item/agentMessage/delta","params":"not an object"}"#,
        r#"{"method":"item/agentMessage/delta","params":{"threadId":"th","turnId":7}}"#,
        "\u{feff}{\"method\":\"x\"",
        &"[".repeat(10_000),
        &format!("{{\"a\":{}1{}}}", "[".repeat(200), "]".repeat(200)),
    ];
    let mut expected = vec!["turn/started".to_owned()];
    peer.send(turn_started("th", "tu"));
    for (i, bad) in garbage.iter().enumerate() {
        peer.send(*bad);
        peer.send(delta("th", "tu", &i.to_string()));
        expected.push(format!("delta:{i}"));
    }
    peer.send(turn_completed("th", "tu"));
    expected.push("turn/completed".to_owned());
    assert_eq!(drain(stream).await, expected);
    sync(&conn, &mut peer).await;
    assert!(conn.closed().is_none(), "the connection stays open");
    // Lines that do not parse as an envelope, and responses nobody waits for, are counted (the
    // two undecodable notifications are delivered as `Unknown` instead, see below).
    assert!(conn.malformed_lines() >= 15, "{}", conn.malformed_lines());
    assert!(conn.stats().is_idle(), "{:?}", conn.stats());
}

/// A notification whose params do not decode is delivered as `Unknown` (with its raw params), not
/// dropped and not fatal.
#[tokio::test]
async fn an_undecodable_notification_is_delivered_as_unknown() {
    let (conn, mut peer) = connect(ConnectionConfig::default()).await;
    let mut all = conn.notifications();
    peer.send(r#"{"method":"turn/started","params":{"threadId":5}}"#);
    let n = tokio::time::timeout(LONG, all.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    match &*n {
        ServerNotification::Unknown { method, params } => {
            assert_eq!(method, "turn/started");
            assert_eq!(params["threadId"], 5);
        }
        other => panic!("expected Unknown, got {other:?}"),
    }
    sync(&conn, &mut peer).await;
}

/// A duplicate response goes nowhere: the first answer wins, the copy is counted, and it is not
/// delivered to the next request that happens to be waiting.
#[tokio::test]
async fn a_duplicate_response_is_skipped_and_reaches_no_other_caller() {
    let (conn, mut peer) = connect(ConnectionConfig::default()).await;
    let c = conn.clone();
    let first = tokio::spawn(async move { c.request_raw("a", None).await });
    let (id1, _, _) = next_request(&mut peer).await;
    let c = conn.clone();
    let second = tokio::spawn(async move { c.request_raw("b", None).await });
    let (id2, _, _) = next_request(&mut peer).await;
    respond(&peer, &id1, json!("first"));
    respond(&peer, &id1, json!("duplicate"));
    respond(&peer, &id1, json!("triplicate"));
    assert_eq!(first.await.unwrap().unwrap(), json!("first"));
    sync(&conn, &mut peer).await;
    assert_eq!(conn.malformed_lines(), 2);
    respond(&peer, &id2, json!("second"));
    assert_eq!(second.await.unwrap().unwrap(), json!("second"));
    assert!(conn.stats().is_idle());
}

/// An error whose `code` is not an integer does not take the reader down (the Python SDK's
/// reader dies on it). The caller it was meant for still gets an answer: the real one, or its
/// timeout.
#[tokio::test]
async fn an_error_with_a_non_integer_code_is_skipped_and_the_caller_times_out() {
    let (conn, mut peer) = connect(ConnectionConfig::default()).await;
    let c = conn.clone();
    let call = tokio::spawn(async move {
        c.request_raw_with(
            "a",
            None,
            RequestOptions::new().timeout(Duration::from_millis(300)),
        )
        .await
    });
    let (id, _, _) = next_request(&mut peer).await;
    peer.send(json!({"id": id, "error": {"code": "overloaded", "message": "m"}}).to_string());
    let err = call.await.unwrap().unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err}");
    sync(&conn, &mut peer).await;
    assert!(conn.malformed_lines() >= 1);
    assert!(conn.stats().is_idle());
}

// ----- server faults ------------------------------------------------------------------------

/// The server stops answering one request: that caller gets `Timeout`, every other caller in
/// flight at the same time gets its answer, and the connection goes on.
#[tokio::test]
async fn one_unanswered_request_times_out_and_the_others_go_on() {
    let (conn, mut peer) = connect(ConnectionConfig::default()).await;
    let mut calls = Vec::new();
    for i in 0..5 {
        let c = conn.clone();
        let timeout = Duration::from_millis(if i == 2 { 200 } else { 20_000 });
        calls.push(tokio::spawn(async move {
            c.request_raw_with(
                "m",
                Some(json!({"i": i})),
                RequestOptions::new().timeout(timeout),
            )
            .await
        }));
    }
    let mut ids = Vec::new();
    for _ in 0..5 {
        let (id, _, params) = next_request(&mut peer).await;
        ids.push((id, params["i"].as_i64().unwrap()));
    }
    let (skipped_id, _) = ids.iter().find(|(_, i)| *i == 2).cloned().unwrap();
    // The unanswered one times out while the others are still pending.
    wait_until("the stalled request times out", || {
        conn.stats().waiters == 4
    })
    .await;
    for (id, i) in &ids {
        if *i != 2 {
            respond(&peer, id, json!({"i": i}));
        }
    }
    for (i, call) in calls.into_iter().enumerate() {
        let result = call.await.unwrap();
        if i == 2 {
            assert!(matches!(result, Err(Error::Timeout { .. })), "{result:?}");
        } else {
            assert_eq!(result.unwrap(), json!({"i": i}));
        }
    }
    // Its answer arriving late is skipped; the connection still works.
    respond(&peer, &skipped_id, json!({"late": true}));
    sync(&conn, &mut peer).await;
    assert!(conn.closed().is_none());
    assert!(conn.stats().is_idle());
}

/// Thousands of concurrent requests against a server that answers "overloaded" (-32001) to a
/// third of them and silently drops a tenth: with retry and timeouts, every caller ends with its
/// own answer or an error, none hangs, no answer goes to the wrong caller, no waiter is left.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_thousands_with_overload_and_silent_drops_never_hangs() {
    const CALLERS: usize = 3000;
    let config = ConnectionConfig::default()
        .max_in_flight(512)
        .request_timeout(Duration::from_secs(3));
    let (conn, mut peer) = connect(config).await;
    let server = tokio::spawn(async move {
        let (mut overloaded, mut dropped, mut answered) = (0u64, 0u64, 0u64);
        while let Some(line) = peer.recv().await {
            let msg: Value = serde_json::from_str(&line).unwrap();
            let id = msg["id"].as_i64().unwrap();
            if id % 10 == 7 {
                dropped += 1; // never answered
            } else if id % 3 == 0 {
                overloaded += 1;
                respond_error(&peer, &msg["id"], -32001, "Server overloaded; retry later.");
            } else {
                answered += 1;
                respond(&peer, &msg["id"], json!({"echo": msg["params"]["caller"]}));
            }
        }
        (overloaded, dropped, answered)
    });
    let policy = RetryPolicy::new()
        .max_attempts(6)
        .initial_delay(Duration::from_millis(5))
        .max_delay(Duration::from_millis(50));
    let mut callers = Vec::new();
    for caller in 0..CALLERS {
        let c = conn.clone();
        callers.push(tokio::spawn(async move {
            retry_on_overload(policy, || {
                c.request_raw("thread/list", Some(json!({"caller": caller})))
            })
            .await
        }));
    }
    let (mut ok, mut timeouts, mut overloaded) = (0, 0, 0);
    let all = async {
        for (caller, task) in callers.into_iter().enumerate() {
            match task.await.unwrap() {
                Ok(v) => {
                    assert_eq!(
                        v,
                        json!({"echo": caller}),
                        "an answer reached the wrong caller"
                    );
                    ok += 1;
                }
                Err(Error::Timeout { .. }) => timeouts += 1,
                Err(e) if e.is_overloaded() => overloaded += 1,
                Err(e) => panic!("unexpected error: {e}"),
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(120), all)
        .await
        .expect("every caller ended: none hangs");
    assert_eq!(ok + timeouts + overloaded, CALLERS);
    assert!(
        ok > CALLERS / 2,
        "ok {ok}, timeouts {timeouts}, overloaded {overloaded}"
    );
    assert!(timeouts > 0, "some requests were dropped");
    assert_eq!(conn.stats().waiters, 0);
    assert!(conn.stats().is_idle());
    assert!(conn.closed().is_none());
    drop(conn);
    let (srv_overloaded, srv_dropped, srv_answered) = server.await.unwrap();
    // Every dropped request is one caller's timeout; an answer can only be missed by a caller
    // that timed out first (on a loaded machine), never by one that is still waiting.
    assert!(
        timeouts as u64 >= srv_dropped,
        "{timeouts} timeouts, {srv_dropped} dropped"
    );
    assert!(srv_answered >= ok as u64);
    eprintln!(
        "burst: {CALLERS} callers, {} requests: {srv_answered} answered, {srv_overloaded} overloaded (retried), {srv_dropped} dropped -> {ok} ok, {timeouts} timeouts, {overloaded} gave up overloaded",
        srv_answered + srv_overloaded + srv_dropped
    );
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

/// A partial line then EOF: the caller waiting for that response gets `Closed` (with the exit
/// status), not a hang and not a half-parsed answer.
#[tokio::test]
async fn a_partial_line_then_eof_closes_the_connection_cleanly() {
    let conn = Connection::spawn(
        sh("read line; printf '{\"id\":1,\"result\":{\"ok\":'; exit 4"),
        no_handshake(),
    )
    .await
    .unwrap();
    let err = tokio::time::timeout(LONG, conn.request_raw("x", None))
        .await
        .expect("no hang")
        .unwrap_err();
    let info = err.closed_info().unwrap_or_else(|| panic!("closed: {err}"));
    assert_eq!(info.exit_status.and_then(|s| s.code()), Some(4), "{info}");
    assert!(conn.stats().is_idle());
}

/// The server exits in the middle of a turn: the turn's stream yields what arrived, then
/// `Closed` with the exit code and the last lines of stderr; later calls fail fast.
#[tokio::test]
async fn the_server_exiting_mid_turn_ends_the_turn_with_its_exit_status_and_stderr() {
    let script = format!(
        "read line; {}; {}; {}; echo 'fatal: the model runner crashed' >&2; exit 7",
        echo(&json!({"id": 1, "result": turn_start_result("tu")})),
        echo(&serde_json::from_str::<Value>(&turn_started("th", "tu")).unwrap()),
        echo(&serde_json::from_str::<Value>(&delta("th", "tu", "partial")).unwrap()),
    );
    let conn = Connection::spawn(sh(&script), no_handshake())
        .await
        .unwrap();
    let (_, stream) = conn.start_turn(turn_start_params("th")).await.unwrap();
    assert_eq!(
        drain(stream).await,
        ["turn/started", "delta:partial", "closed"]
    );
    let info = conn.closed().expect("latched closed");
    assert_eq!(info.exit_status.and_then(|s| s.code()), Some(7), "{info}");
    assert!(info.stderr_tail.contains("model runner crashed"), "{info}");
    let err = conn.request_raw("x", None).await.unwrap_err();
    assert!(err.is_closed());
    assert!(conn.stats().is_idle());
}

/// `true` while `pid` is a live (not zombie) process.
fn running(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            let state = stat
                .rsplit(')')
                .next()
                .and_then(|s| s.split_whitespace().next());
            state != Some("Z")
        }
        Err(_) => false,
    }
}

/// The server closes stdout but keeps running (and has a child of its own holding stderr): the
/// client sees EOF, waits a bounded time for an exit that does not come, kills the process group
/// and reaps the server; the pending request ends with `Closed`.
#[tokio::test]
async fn a_server_that_closes_stdout_but_keeps_running_is_killed_and_reaped() {
    let conn = Connection::spawn(
        sh("read line; sleep 300 >/dev/null & echo \"child $!\" >&2; exec 1>&-; wait"),
        no_handshake(),
    )
    .await
    .unwrap();
    let pid = conn.pid().expect("a process");
    let started = std::time::Instant::now();
    let err = tokio::time::timeout(LONG, conn.request_raw("x", None))
        .await
        .expect("no hang")
        .unwrap_err();
    let info = err.closed_info().unwrap_or_else(|| panic!("closed: {err}"));
    assert!(info.reason.contains("closed its output"), "{info}");
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(info.exit_status.and_then(|s| s.signal()), Some(9), "{info}");
    }
    eprintln!("stdout closed -> Closed after {:?}", started.elapsed());
    wait_until("the server is reaped", || !running(pid)).await;
    let child: u32 = info
        .stderr_tail
        .lines()
        .find_map(|l| l.strip_prefix("child "))
        .and_then(|p| p.trim().parse().ok())
        .unwrap_or_else(|| panic!("the child's pid is in the stderr tail: {info}"));
    wait_until("the server's own child is killed with its group", || {
        !running(child)
    })
    .await;
}

/// A flood of stderr while stdout carries a turn: stderr is drained concurrently (the server
/// never blocks on it), the turn loses nothing, the kept tail stays bounded.
#[tokio::test]
async fn a_stderr_flood_during_a_turn_neither_blocks_nor_loses_events() {
    let mut script = String::from("read line; ");
    script.push_str(&echo(&json!({"id": 1, "result": turn_start_result("tu")})));
    script.push_str("; (head -c 20000000 /dev/zero | tr '\\0' 'e' | fold -w 200 >&2) & ");
    script.push_str("i=0; while [ $i -lt 2000 ]; do ");
    script.push_str(
        "echo '{\"method\":\"item/agentMessage/delta\",\"params\":{\"threadId\":\"th\",\"turnId\":\"tu\",\"itemId\":\"m\",\"delta\":\"'$i'\"}}'; ",
    );
    script.push_str("i=$((i+1)); done; wait; ");
    script.push_str(&echo(
        &serde_json::from_str::<Value>(&turn_completed("th", "tu")).unwrap(),
    ));
    script.push_str("; cat >/dev/null");
    let conn = Connection::spawn(sh(&script), no_handshake().turn_queue_capacity(4096))
        .await
        .unwrap();
    let (_, stream) = conn.start_turn(turn_start_params("th")).await.unwrap();
    let got = tokio::time::timeout(Duration::from_secs(120), drain(stream))
        .await
        .expect("the turn ends");
    let mut expected: Vec<String> = (0..2000).map(|i| format!("delta:{i}")).collect();
    expected.push("turn/completed".into());
    assert_eq!(got, expected);
    assert!(conn.stderr_tail().len() <= 16 * 1024);
    assert!(conn.stderr_tail().contains("eeee"));
    conn.close().await;
}

// ----- the user's side ------------------------------------------------------------------------

/// Polls `fut` once (it must not finish), returning it for later dropping.
async fn poll_once<F: std::future::Future + Unpin>(fut: &mut F) {
    assert!(
        futures::poll!(fut).is_pending(),
        "the call waits at this point"
    );
}

/// A request or turn start cancelled at each of its await points — waiting for an in-flight
/// permit, waiting for the response, and after the response was routed but before the caller
/// woke — leaves no waiter, no route and (once the abandoned turn's events arrive) no buffered
/// events.
#[tokio::test]
async fn futures_cancelled_at_every_await_point_leave_the_router_empty() {
    let (conn, mut peer) = connect(ConnectionConfig::default().max_in_flight(1)).await;
    // 1. Waiting for a permit (the only one is held by a request the server has not answered).
    let c = conn.clone();
    let holder = tokio::spawn(async move { c.request_raw("hold", None).await });
    let (hold_id, _, _) = next_request(&mut peer).await;
    let mut plain = Box::pin(conn.request_raw("queued", None));
    let mut turn = Box::pin(conn.start_turn(turn_start_params("th")));
    poll_once(&mut plain).await;
    poll_once(&mut turn).await;
    drop((plain, turn));
    assert_eq!(conn.stats().waiters, 1, "only the holder waits");
    respond(&peer, &hold_id, json!({}));
    holder.await.unwrap().unwrap();
    assert!(
        peer.try_recv().is_none(),
        "the cancelled calls were never sent"
    );
    // 2. Sent, waiting for the response.
    let mut plain = Box::pin(conn.request_raw("plain", None));
    poll_once(&mut plain).await;
    let (plain_id, _, _) = next_request(&mut peer).await;
    drop(plain);
    let mut turn = Box::pin(conn.start_turn(turn_start_params("th")));
    poll_once(&mut turn).await;
    let (turn_id, _, _) = next_request(&mut peer).await;
    drop(turn);
    assert_eq!(conn.stats().waiters, 0);
    respond(&peer, &plain_id, json!({}));
    respond(
        &peer,
        &turn_id,
        turn_start_result("cancelled-before-response"),
    );
    // 3. The response routed (the turn's route registered by the reader) but the caller never
    //    polled again.
    let mut turn = Box::pin(conn.start_turn(turn_start_params("th")));
    poll_once(&mut turn).await;
    let (id, _, _) = next_request(&mut peer).await;
    respond(&peer, &id, turn_start_result("cancelled-after-response"));
    // Lines are routed in order: once this marker arrives, so did the response (a request would
    // not do: the cancelled call still holds the only in-flight permit).
    let mut marker = conn.subscribe_thread("marker");
    peer.send(thread_status_idle("marker"));
    tokio::time::timeout(LONG, marker.next())
        .await
        .expect("the marker is routed")
        .unwrap()
        .unwrap();
    assert_eq!(
        conn.stats().turn_routes,
        1,
        "the reader registered the route"
    );
    drop(turn);
    drop(marker);
    // The abandoned turns' events arrive afterwards.
    for t in ["cancelled-after-response", "cancelled-before-response"] {
        peer.send(turn_started("th", t));
        peer.send(delta("th", t, "x"));
        peer.send(turn_completed("th", t));
    }
    sync(&conn, &mut peer).await;
    let stats = conn.stats();
    assert_eq!(stats.waiters, 0, "{stats:?}");
    assert_eq!(stats.turn_routes + stats.turn_subscribers, 0, "{stats:?}");
    // A turn whose turn/start was cancelled before its response is unknown to the router; its
    // events are buffered (bounded, aging) for a possible subscriber — and its turn/completed
    // ends that: a finished turn's buffer is kept only until it ages out.
    assert!(stats.pending_turns <= 1, "{stats:?}");
    assert_eq!(
        conn.malformed_lines(),
        2,
        "the two late responses were skipped"
    );
}

/// A consumer that never reads while its turn floods: the reader and the other turn go on, the
/// stalled queue stays bounded, and when the consumer finally reads it learns how much it lost
/// and still gets the turn's end.
#[tokio::test]
async fn a_stalled_consumer_under_flood_costs_only_itself() {
    let (conn, mut peer) = connect(ConnectionConfig::default().turn_queue_capacity(64)).await;
    let stalled = start_turn(&conn, &mut peer, "th", "flooded").await;
    let other = start_turn(&conn, &mut peer, "th", "other").await;
    let other_reader = tokio::spawn(drain(other));
    const FLOOD: usize = 50_000;
    for i in 0..FLOOD {
        peer.send(delta("th", "flooded", &i.to_string()));
        if i % 1000 == 0 {
            peer.send(delta("th", "other", &i.to_string()));
        }
    }
    peer.send(turn_completed("th", "other"));
    peer.send(turn_completed("th", "flooded"));
    let got = tokio::time::timeout(LONG, other_reader)
        .await
        .expect("the other turn is not held up")
        .unwrap();
    assert_eq!(got.len(), FLOOD / 1000 + 1, "{got:?}");
    assert_eq!(got.last().unwrap(), "turn/completed");
    sync(&conn, &mut peer).await;
    let stats = conn.stats();
    assert!(stats.lagged_events as usize >= FLOOD - 2 * 64, "{stats:?}");
    // Now the stalled consumer reads: at most what its queue holds, then the gap, then the end.
    let items = drain(stalled).await;
    assert!(items.len() <= 64 + 3, "bounded: {} items", items.len());
    let lagged: u64 = items
        .iter()
        .filter_map(|i| i.strip_prefix("lagged:"))
        .map(|n| n.parse::<u64>().unwrap())
        .sum();
    let delivered = items.iter().filter(|i| i.starts_with("delta:")).count();
    assert_eq!(
        delivered as u64 + lagged,
        FLOOD as u64,
        "every delta delivered or counted: {:?}",
        &items[items.len().saturating_sub(3)..]
    );
    assert_eq!(
        items.last().map(String::as_str),
        Some("turn/completed"),
        "the turn's end is never lost to lag: {:?}",
        &items[items.len().saturating_sub(3)..]
    );
    assert!(conn.stats().is_idle());
}

// ----- issue 15, item 2: a server that stops reading its input ---------------------------------

/// A file path of its own for a test's stand-in server to write to.
fn scratch_file(name: &str) -> std::path::PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    std::env::temp_dir().join(format!(
        "codex-client-{name}-{}-{nanos}",
        std::process::id()
    ))
}

/// A request with `n` bytes of params and its own timeout, in a task.
fn request_of(
    conn: &Connection,
    method: &str,
    n: usize,
    timeout: Duration,
) -> tokio::task::JoinHandle<codex_client::Result<Value>> {
    let (conn, method) = (conn.clone(), method.to_owned());
    tokio::spawn(async move {
        let params = json!({ "x": "a".repeat(n) });
        let options = RequestOptions::new().timeout(timeout);
        conn.request_raw_with(&method, Some(params), options).await
    })
}

/// Sends two 100 KB requests the stand-in server's pipe (64 KiB) cannot take, as it does not
/// read, and waits until the writer took both lines out of its queue: it is then stuck writing
/// them (the second cannot even be buffered before the first is flushed), so what is sent next
/// stays in the writer's queue.
async fn writer_stuck_on_long_requests(
    conn: &Connection,
) -> [tokio::task::JoinHandle<codex_client::Result<Value>>; 2] {
    let stuck = [
        request_of(conn, "first", 100_000, LONG),
        request_of(conn, "second", 100_000, LONG),
    ];
    wait_until("the writer took both long lines", || {
        conn.stats().waiters == 2 && conn.write_queue_bytes() == 0
    })
    .await;
    stuck
}

/// Sends a request with `n` bytes of params and waits until its line is in the writer's queue
/// (its waiter is registered just before).
async fn queued_request(
    conn: &Connection,
    method: &str,
    n: usize,
    timeout: Duration,
) -> tokio::task::JoinHandle<codex_client::Result<Value>> {
    let waiters = conn.stats().waiters;
    let request = request_of(conn, method, n, timeout);
    wait_until("the request is queued", || {
        conn.stats().waiters == waiters + 1
    })
    .await;
    assert!(conn.write_queue_bytes() >= n, "queued, not taken");
    request
}

/// A request whose caller timed out before the writer took its line is never written: the
/// server does not read for a second (the writer is stuck on two 100 KB lines the pipe cannot
/// take), two requests time out meanwhile, a third waits; when the server reads again it gets
/// the long ones and the third only. Before, the timed-out lines stayed queued and were written later —
/// requests whose callers had been told `Timeout`.
#[tokio::test]
async fn a_request_given_up_before_it_was_written_is_never_written() {
    let out = scratch_file("given-up");
    let script = format!("sleep 1; exec cat > '{}'", out.display());
    let conn = Connection::spawn(sh(&script), no_handshake())
        .await
        .unwrap();
    let stuck = writer_stuck_on_long_requests(&conn).await;
    let short = Duration::from_millis(100);
    let given_up = [
        queued_request(&conn, "given-up-1", 1000, short).await,
        queued_request(&conn, "given-up-2", 1000, short).await,
    ];
    for request in given_up {
        let err = request.await.unwrap().unwrap_err();
        assert!(matches!(err, Error::Timeout { .. }), "{err}");
    }
    assert_eq!(
        conn.write_queue_bytes(),
        0,
        "the timed-out lines were freed"
    );
    let last = request_of(&conn, "last", 10, LONG);
    wait_until("the server read the last request", || {
        std::fs::read_to_string(&out).is_ok_and(|t| t.contains(r#""method":"last""#))
    })
    .await;
    let written = std::fs::read_to_string(&out).unwrap();
    let _ = std::fs::remove_file(&out);
    let methods: Vec<String> = written
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["method"].to_string())
        .collect();
    assert_eq!(methods, [r#""first""#, r#""second""#, r#""last""#]);
    stuck.iter().for_each(|r| r.abort());
    last.abort();
    conn.close().await;
}

/// A full writer's queue refuses a new request at once, with a clear error, and sends nothing
/// of it; the connection goes on (the queued request is written when the server reads).
#[tokio::test]
async fn a_full_write_queue_refuses_a_request_at_once() {
    let conn = Connection::spawn(
        sh("exec sleep 30"),
        no_handshake().write_queue_limit(256 * 1024),
    )
    .await
    .unwrap();
    let stuck = writer_stuck_on_long_requests(&conn).await;
    let queued = queued_request(&conn, "queued", 200_000, LONG).await;
    let started = std::time::Instant::now();
    let err = request_of(&conn, "refused", 100_000, LONG)
        .await
        .unwrap()
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(2), "fails fast");
    let Error::WriteQueueFull {
        method,
        queued: bytes,
        limit,
        ..
    } = &err
    else {
        panic!("{err}")
    };
    assert_eq!((method.as_str(), *limit), ("refused", 256 * 1024));
    assert!(*bytes > 200_000);
    assert!(err.to_string().contains("not reading"), "{err}");
    assert!(
        conn.write_queue_bytes() < 256 * 1024,
        "nothing of it queued"
    );
    assert!(!conn.is_closed());
    stuck.iter().for_each(|r| r.abort());
    queued.abort();
    drop(conn);
}

/// A server that floods the client with server requests and never reads its input: the
/// answers fill the writer's queue past its bound, then the reader reads no more, so the
/// server stalls on its own output. The queue stays near its bound (300 000 requests would be
/// ~30 MB of answers), and the connection still closes.
#[tokio::test]
async fn answers_to_a_server_that_does_not_read_stay_bounded() {
    let limit = 256 * 1024;
    let script =
        r#"seq 1 300000 | sed 's/.*/{"id":&,"method":"nope\/nope","params":{}}/'; exec sleep 30"#;
    let conn = Connection::spawn(sh(script), no_handshake().write_queue_limit(limit))
        .await
        .unwrap();
    wait_until("the answers filled the queue", || {
        conn.write_queue_bytes() > limit
    })
    .await;
    // Give the flood time to go on, if it could.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let queued = conn.write_queue_bytes();
    assert!(queued < limit + 4 * 1024 * 1024, "{queued}");
    assert!(
        conn.open_server_requests() < 50_000,
        "{}",
        conn.open_server_requests()
    );
    let closed = tokio::time::timeout(LONG, conn.close())
        .await
        .expect("closes");
    assert!(!closed.reason.is_empty());
}

/// The resident set of this process, in KiB (Linux).
fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// Issue 15, item 2's figures (RELIABILITY.md §9), default configuration, a stand-in server that
/// never reads its stdin: 19,968 requests of 10 KB that time out, then 300,000 server requests
/// whose answers it never reads. Run alone:
/// `cargo test -p codex-client --test faults rss_of_a_server_that_does_not_read -- --ignored --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement, run alone"]
async fn rss_of_a_server_that_does_not_read() {
    let conn = Connection::spawn(sh("exec sleep 600"), no_handshake())
        .await
        .unwrap();
    let start = rss_kib();
    let mut outcomes = std::collections::BTreeMap::<String, usize>::new();
    // 64 callers (the in-flight bound), one request after another: each gets its slot, queues
    // its line and times out.
    for _ in 0..(20_000 / 64) {
        let batch: Vec<_> = (0..64)
            .map(|_| request_of(&conn, "x", 10_000, Duration::from_millis(100)))
            .collect();
        for request in batch {
            let what = match request.await.unwrap() {
                Ok(_) => "answered".to_owned(),
                Err(e) => format!("{e}").split(':').next().unwrap().to_owned(),
            };
            *outcomes.entry(what).or_default() += 1;
        }
    }
    let stats = conn.stats();
    println!(
        "19968 timed-out 10 KB requests: RSS {start} KiB -> {} KiB, write queue {} bytes, waiters {}, outcomes {outcomes:?}",
        rss_kib(),
        conn.write_queue_bytes(),
        stats.waiters
    );
    drop(conn);
    let script =
        r#"seq 1 300000 | sed 's/.*/{"id":&,"method":"nope\/nope","params":{}}/'; exec sleep 600"#;
    let conn = Connection::spawn(sh(script), no_handshake()).await.unwrap();
    let start = rss_kib();
    // The flood, then as long again for anything still growing.
    tokio::time::sleep(Duration::from_secs(45)).await;
    println!(
        "300000 server requests, answers never read: RSS {start} KiB -> {} KiB, write queue {} bytes, open server requests {}",
        rss_kib(),
        conn.write_queue_bytes(),
        conn.open_server_requests()
    );
}

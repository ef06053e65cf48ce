//! The blocking facade (`codex_client::blocking`) against the real `codex app-server`, offline:
//! what only the facade has to get right — turns iterated on several OS threads at once, the
//! last drop closing and reaping the app-server, a dead server ending iterators, bounded waits
//! (`next_timeout`), and the documented panic when called from inside an async context. The
//! flows both APIs share are written once in `api_e2e.rs` and run there both ways.
//!
//! The tests are plain `#[test]`s. The test kit's mock model is async; each test holds a small
//! tokio runtime of its own for the mock only (the client under test brings its own runtime).
//! Skipped loudly when the binary is missing, unless CODEX_CLIENT_REQUIRE_APP_SERVER=1. Every
//! wait is bounded (`TURN_TIMEOUT`); nothing sleeps and hopes.

mod common;
mod sides;

use codex_client::blocking::{
    Codex, Error, ListThreads, Thread, TurnEvent, TurnHandle, TurnOptions, TurnResult, WhenBusy,
};
use codex_client::protocol::{
    CommandExecutionRequestApprovalParams, CommandExecutionRequestApprovalResponse,
    ServerNotification, TurnStatus,
};
use codex_client::{HandlerResult, ServerRequestHandler, SpawnConfig};
use codex_client_testkit::{Matcher, MockModel, MockResponse, StallGate, item_of_type, user_texts};
use serde_json::{Value, json};
use sides::TURN_TIMEOUT;
use sides::blocking::{Env, start, start_with};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Runs `f` on another OS thread and waits at most `TURN_TIMEOUT` for its answer (a blocking
/// call that hangs fails the test instead of hanging it).
fn within<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(TURN_TIMEOUT)
        .unwrap_or_else(|err| panic!("{what}: {err}"))
}

/// The next event of `turn`, bounded; `None` at the end of the turn.
fn next_event(turn: &mut TurnHandle) -> Option<TurnEvent> {
    match turn.next_timeout(TURN_TIMEOUT)? {
        Ok(event) => Some(event),
        Err(err) => panic!("turn {}: {err}", turn.id()),
    }
}

/// Iterates `turn` to its end (bounded), then returns its result.
fn finish(mut turn: TurnHandle) -> codex_client::Result<TurnResult> {
    while next_event(&mut turn).is_some() {}
    assert!(turn.is_completed());
    turn.run()
}

/// The turn's command item, as JSON.
fn command_item(result: &TurnResult) -> Value {
    item_of_type(&result.items, "commandExecution").expect("a command item")
}

/// The model asks to run `cmd`, then answers `reply`.
fn script_command(mock: &MockModel, cmd: &str, reply: &str) {
    mock.route_sequence(
        Matcher::Any,
        [
            MockResponse::exec_command(cmd),
            MockResponse::message(reply),
        ],
    );
}

/// `true` once the process is gone *and reaped* (a zombie still has its `/proc` entry).
fn reaped(pid: u32) -> bool {
    !std::path::Path::new(&format!("/proc/{pid}")).exists()
}

/// Waits (bounded) until `pid` is reaped.
fn wait_reaped(pid: u32, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if reaped(pid) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    reaped(pid)
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_default()
}

#[test]
fn the_blocking_types_are_thread_safe() {
    fn clone_send_sync<T: Clone + Send + Sync + 'static>() {}
    fn send<T: Send + 'static>() {}
    clone_send_sync::<Codex>();
    clone_send_sync::<Thread>();
    clone_send_sync::<codex_client::blocking::TurnControl>();
    send::<TurnHandle>();
    send::<codex_client::blocking::NotificationStream>();
}

#[test]
fn steer_adds_input_to_the_running_turn_and_next_timeout_reports_quiet() {
    let Some(env) = start("blocking_steer") else {
        return;
    };
    let gate = StallGate::new();
    env.mock
        .push(MockResponse::stalled(["Working on it "], &gate));
    env.mock.push(MockResponse::message("Steered answer."));
    let thread = env.thread();
    let mut turn = thread.turn("Write a poem").expect("turn/start");
    assert!(
        env.mock_wait("stall", gate.wait_stalled(1, TURN_TIMEOUT)),
        "the first model stream is open"
    );
    // The model stream is stalled: once its events are drained, `next_timeout` reports the
    // quiet as a Timeout item, and the turn goes on.
    let quiet = loop {
        match turn.next_timeout(Duration::from_millis(300)) {
            Some(Ok(event)) => assert!(!event.is_turn_completed(), "{event:?}"),
            Some(Err(err)) => break err,
            None => panic!("the turn ended while stalled"),
        }
    };
    assert!(matches!(quiet, Error::Timeout { .. }), "{quiet}");
    assert!(quiet.to_string().contains(turn.id()), "{quiet}");

    turn.steer("Make it about the sea").expect("turn/steer");
    let requests = env
        .mock_wait(
            "second request",
            env.mock.wait_for_requests(2, TURN_TIMEOUT),
        )
        .expect("a second model request");
    let texts = requests[1].user_texts();
    assert!(
        texts.iter().any(|t| t.contains("Make it about the sea")),
        "the steer input reaches the model: {texts:?}"
    );
    gate.release();
    let result = finish(turn).expect("result");
    assert_eq!(result.status, TurnStatus::Completed);
    assert_eq!(
        user_texts(&result.items),
        ["Write a poem", "Make it about the sea"]
    );
    assert_eq!(result.final_response(), Some("Steered answer."));
}

#[test]
fn a_dropped_turn_is_interrupted_and_a_busy_thread_is_refused_or_queued() {
    let Some(env) = start("blocking_lifecycle") else {
        return;
    };
    let (thread, turn, gate) = env.stalled_turn();
    let stale_id = turn.id().to_owned();
    // Busy: refused before anything is sent.
    let err = thread.turn("second").expect_err("busy");
    assert!(
        matches!(&err, Error::ThreadBusy { turn_id: Some(t), .. } if *t == stale_id),
        "{err:?}"
    );
    assert_eq!(env.mock.request_count(), 1);
    // Dropping the unfinished handle interrupts the turn; a queued prompt then gets its own.
    env.mock.push(MockResponse::message("fresh"));
    drop(turn);
    let t = thread.clone();
    let next = within("queued prompt", move || {
        t.run_with("next", TurnOptions::new().when_busy(WhenBusy::Queue))
    })
    .expect("next");
    assert_ne!(next.id, stale_id);
    assert_eq!(user_texts(&next.items), ["next"]);
    assert_eq!(next.final_response(), Some("fresh"));
    let turns = thread.read_with_turns().expect("read").turns;
    let stale = turns
        .iter()
        .find(|t| t.id == stale_id)
        .expect("the stale turn");
    assert_eq!(stale.status, TurnStatus::Interrupted);
    gate.release();
}

#[test]
fn interrupt_from_another_os_thread_ends_the_turn_interrupted() {
    let Some(env) = start("blocking_interrupt") else {
        return;
    };
    let gate = StallGate::new();
    env.mock
        .push(MockResponse::stalled(["partial answer"], &gate));
    let thread = env.thread();
    let mut turn = thread.turn("Take your time").expect("turn/start");
    let control = turn.control();
    assert_eq!(control.turn_id(), turn.id());
    assert_eq!(control.thread_id(), thread.id());
    // Wait until the agent message is streaming, so the interrupt lands mid-item.
    loop {
        let event = next_event(&mut turn).expect("the turn is running");
        if let TurnEvent::Notification(n) = &event
            && matches!(&**n, ServerNotification::ItemAgentMessageDelta(_))
        {
            break;
        }
    }
    let interrupter = std::thread::spawn(move || control.interrupt());
    let result = finish(turn).expect("an interrupted turn is Ok");
    interrupter
        .join()
        .expect("the interrupting thread")
        .expect("turn/interrupt");
    assert_eq!(result.status, TurnStatus::Interrupted);
    assert!(result.is_interrupted());
    let open: Vec<Value> = result
        .open_items
        .iter()
        .map(|i| serde_json::to_value(i).unwrap())
        .collect();
    assert!(
        open.iter().any(|i| i["type"] == "agentMessage"),
        "the streaming agent message is reported open: {open:?}"
    );
    assert_eq!(result.final_response(), None);
    gate.release();
}

/// Accepts every command; counts the calls.
struct AcceptCommands(std::sync::Arc<std::sync::atomic::AtomicUsize>);

impl ServerRequestHandler for AcceptCommands {
    async fn command_execution_approval(
        &self,
        _params: CommandExecutionRequestApprovalParams,
    ) -> HandlerResult<CommandExecutionRequestApprovalResponse> {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Ok(serde_json::from_value(json!({"decision": "accept"})).unwrap())
    }
}

#[test]
fn a_client_wide_handler_answers_approvals() {
    let calls = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let handler = AcceptCommands(calls.clone());
    let Some(env) = start_with("blocking_approval_handler", |c| c.handler(handler)) else {
        return;
    };
    script_command(&env.mock, "touch handled.txt && echo handled", "Done.");
    let thread = env.asking_thread();
    let t = thread.clone();
    let result = within("run", move || t.run("Create the marker file")).unwrap();
    assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 1);
    assert_eq!(command_item(&result)["status"], "completed");
    assert!(env.sandbox.workdir().join("handled.txt").is_file());
}

#[test]
fn four_turns_iterate_on_four_os_threads_at_once_over_one_codex() {
    let Some(env) = start("blocking_concurrent") else {
        return;
    };
    let gate = StallGate::new();
    for t in 0..4 {
        env.mock.route(
            Matcher::user_text_contains(format!("[task-{t}]")),
            MockResponse::stalled([format!("answer {t} "), format!("done {t}")], &gate),
        );
    }
    let (tx, rx) = mpsc::channel();
    let mut workers = Vec::new();
    for t in 0..4 {
        // Each OS thread gets a clone of the client and does everything itself: start a thread,
        // start a turn, iterate it.
        let codex = env.codex.clone();
        let options = env.options();
        let tx = tx.clone();
        workers.push(std::thread::spawn(move || {
            let thread = codex.threads().start(options).expect("thread/start");
            let mut turn = thread.turn(format!("[task-{t}] go")).expect("turn/start");
            let mut deltas = String::new();
            while let Some(event) = next_event(&mut turn) {
                if let Some(ServerNotification::ItemAgentMessageDelta(d)) = event.notification() {
                    deltas.push_str(&d.delta);
                }
            }
            let result = turn.run().expect("turn result");
            let _ = tx.send(t);
            (thread.id().to_owned(), deltas, result)
        }));
    }
    assert!(
        env.mock_wait("stall", gate.wait_stalled(4, TURN_TIMEOUT)),
        "all four turns are in flight at once"
    );
    assert!(
        rx.try_recv().is_err(),
        "no turn finished before the release"
    );
    gate.release();
    for _ in 0..4 {
        rx.recv_timeout(TURN_TIMEOUT)
            .expect("every worker finishes");
    }
    for (t, worker) in workers.into_iter().enumerate() {
        let (thread_id, deltas, result) = worker.join().expect("worker");
        let expected = format!("answer {t} done {t}");
        assert_eq!(result.thread_id, thread_id);
        assert_eq!(deltas, expected, "task {t} iterated its own deltas");
        assert_eq!(result.final_response(), Some(expected.as_str()));
    }
    let stats = env.codex.connection().stats();
    assert_eq!(stats.turn_routes, 0, "{stats:?}");
    assert_eq!(stats.lagged_events, 0, "{stats:?}");
}

#[test]
fn dropping_the_last_handle_with_turns_open_closes_and_reaps_the_app_server() {
    let Some(env) = start("blocking_drop") else {
        return;
    };
    let gate = StallGate::new();
    env.mock
        .set_default(MockResponse::stalled(["never ends"], &gate));
    let a = env.thread();
    let b = env.thread();
    let turn_a = a.turn("first").unwrap();
    let turn_b = b.turn("second").unwrap();
    let control = turn_b.control();
    let events = a.notifications();
    assert!(env.mock_wait("stall", gate.wait_stalled(2, TURN_TIMEOUT)));
    let pid = env.codex.connection().pid().expect("a child process");
    assert!(!reaped(pid));

    let Env {
        codex,
        sandbox,
        mock,
        mock_runtime,
    } = env;
    // Every object of the client but one goes; the app-server stays.
    drop((codex, a, b, turn_a, turn_b, events));
    assert!(!reaped(pid), "a TurnControl still holds the client");
    // The last one: the close and the reap happen before `drop` returns, within the bound.
    let started = Instant::now();
    drop(control);
    assert!(reaped(pid), "the app-server is reaped when drop returns");
    assert!(
        started.elapsed() < Duration::from_secs(25),
        "{:?}",
        started.elapsed()
    );
    gate.release();
    drop((sandbox, mock, mock_runtime));
}

/// Iterates `turn` on another OS thread with a plain `for` (no timeout of its own) and returns
/// its last item, or fails the test if the iterator does not end within `TURN_TIMEOUT`.
fn iterate_elsewhere(mut turn: TurnHandle) -> impl FnOnce() -> Option<codex_client::Result<()>> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut last = None;
        for event in &mut turn {
            last = Some(event.map(drop));
        }
        let _ = tx.send(last);
    });
    move || rx.recv_timeout(TURN_TIMEOUT).expect("the iterator ends")
}

#[test]
fn close_ends_iterators_on_other_threads_with_closed() {
    let Some(env) = start("blocking_close") else {
        return;
    };
    let (thread, turn, gate) = env.stalled_turn();
    let mut notifications = thread.notifications();
    let last_item = iterate_elsewhere(turn);
    let closed = env.codex.close();
    assert!(closed.exit_status.is_some(), "{closed}");
    let last = last_item();
    assert!(
        matches!(last, Some(Err(Error::Closed(_)))),
        "the last item is Closed: {last:?}"
    );
    let tail: Vec<_> = std::iter::from_fn(|| notifications.next_timeout(TURN_TIMEOUT)).collect();
    assert!(
        matches!(tail.last(), Some(Err(Error::Closed(_)))),
        "{tail:?}"
    );
    gate.release();
}

#[test]
fn a_killed_server_ends_the_iterator_with_closed_and_calls_fail_fast() {
    let Some(env) = start("blocking_killed") else {
        return;
    };
    let (thread, turn, gate) = env.stalled_turn();
    let last_item = iterate_elsewhere(turn);
    let pid = env.codex.connection().pid().unwrap();
    // SAFETY: signalling our own child process.
    assert_eq!(unsafe { libc::kill(pid as i32, libc::SIGKILL) }, 0);
    match last_item() {
        Some(Err(Error::Closed(info))) => {
            assert!(info.exit_status.is_some_and(|s| !s.success()), "{info}")
        }
        other => panic!("the last item is Closed: {other:?}"),
    }
    let again = thread.run("again").unwrap_err();
    assert!(again.is_closed(), "calls fail fast: {again:?}");
    assert!(wait_reaped(pid, TURN_TIMEOUT));
    gate.release();
}

#[test]
fn inside_an_async_context_calls_panic_spawn_blocking_works_and_drop_is_safe() {
    let Some(env) = start("blocking_in_async") else {
        return;
    };
    let pid = env.codex.connection().pid().unwrap();
    let Env {
        codex,
        sandbox,
        mock,
        mock_runtime,
    } = env;
    let user_runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    // From a task: the documented panic, not a deadlock.
    let c = codex.clone();
    let panic = user_runtime
        .block_on(user_runtime.spawn(async move { c.threads().list(ListThreads::new()).map(drop) }))
        .expect_err("a blocking call inside a task panics");
    let message = panic_message(&*panic.into_panic());
    assert!(
        message.contains("Cannot start a runtime from within a runtime"),
        "{message}"
    );
    // From spawn_blocking: allowed.
    let c = codex.clone();
    let page = user_runtime
        .block_on(user_runtime.spawn_blocking(move || c.threads().list(ListThreads::new())))
        .expect("the blocking task")
        .expect("thread/list");
    assert!(page.threads.is_empty());
    // The last drop inside an async context: no panic, no block; the close finishes on a
    // thread of its own and the app-server is reaped.
    let started = Instant::now();
    user_runtime.block_on(async move { drop(codex) });
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert!(
        wait_reaped(pid, Duration::from_secs(25)),
        "the app-server is reaped"
    );
    drop(user_runtime);
    drop((sandbox, mock, mock_runtime));
}

#[tokio::test]
async fn spawning_inside_a_current_thread_runtime_panics_without_aborting() {
    // The runtime the client builds is dropped while unwinding inside this async context: that
    // must not turn into a double panic (abort).
    let outcome = std::panic::catch_unwind(|| {
        Codex::builder()
            .spawn(SpawnConfig::new().codex_bin("/nonexistent/codex"))
            .map(drop)
    });
    let message =
        panic_message(&*outcome.expect_err("a blocking call inside an async context panics"));
    assert!(
        message.contains("Cannot start a runtime from within a runtime"),
        "{message}"
    );
}

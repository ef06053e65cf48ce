//! The blocking facade (`codex_client::blocking`) against the real `codex app-server`, offline:
//! the same flows as `api_e2e.rs`, written as a synchronous program would write them, plus what
//! only the facade has to get right — turns iterated on several OS threads at once, the last
//! drop closing and reaping the app-server, a dead server ending iterators, and the documented
//! panic when called from inside an async context.
//!
//! The tests are plain `#[test]`s. The test kit's mock model is async; each test holds a small
//! tokio runtime of its own for the mock only (the client under test brings its own runtime).
//! Skipped loudly when the binary is missing, unless CODEX_CLIENT_REQUIRE_APP_SERVER=1. Every
//! wait is bounded (`TURN_TIMEOUT`); nothing sleeps and hopes.

mod common;

use codex_client::blocking::{
    ApprovalMode, Codex, Error, Input, InputItem, ListThreads, Sandbox, Thread, ThreadOptions,
    TurnEvent, TurnHandle, TurnOptions, TurnResult, TurnSettings, WhenBusy,
};
use codex_client::core::{ClientInfo, ConnectionConfig};
use codex_client::protocol::{
    CommandExecutionRequestApprovalParams, CommandExecutionRequestApprovalResponse,
    ServerNotification, SortDirection, ThreadSortKey, TurnStatus,
};
use codex_client::{HandlerResult, ServerRequestHandler, SpawnConfig};
use codex_client_testkit::{
    CodexSandbox, MOCK_MODEL_NAME, Matcher, MockModel, MockResponse, StallGate, TINY_PNG,
    agent_texts, item_of_type, user_texts,
};
use serde_json::{Value, json};
use std::future::Future;
use std::sync::mpsc;
use std::time::{Duration, Instant};

const TURN_TIMEOUT: Duration = Duration::from_secs(60);

/// Field order = drop order: the client (and its process) first, then directories, the mock,
/// and last the runtime the mock runs on.
struct Env {
    codex: Codex,
    sandbox: CodexSandbox,
    mock: MockModel,
    mock_runtime: tokio::runtime::Runtime,
}

fn start(name: &str) -> Option<Env> {
    start_with(name, |c| c)
}

fn start_with(name: &str, edit: impl FnOnce(ConnectionConfig) -> ConnectionConfig) -> Option<Env> {
    let binary = codex_client_testkit::require_codex_binary(name)?;
    let mock_runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("the mock's runtime");
    let mock = mock_runtime
        .block_on(MockModel::start())
        .expect("mock model");
    let sandbox = CodexSandbox::new(binary, mock.base_url()).expect("sandbox");
    let launch = sandbox.launch();
    let spawn = common::spawn_config(&launch);
    let connection = ConnectionConfig::new().client_info(ClientInfo::new(name, "0.0.0"));
    // No tokio anywhere near the client: a plain call on the test's thread.
    let codex = Codex::builder()
        .connection(edit(connection))
        .spawn(spawn)
        .expect("spawn + initialize");
    Some(Env {
        codex,
        sandbox,
        mock,
        mock_runtime,
    })
}

impl Env {
    /// Thread options for the sandbox: its workdir, no approvals, read-only.
    fn options(&self) -> ThreadOptions {
        ThreadOptions::new()
            .cwd(self.sandbox.workdir())
            .approval_mode(ApprovalMode::DenyAll)
            .sandbox(Sandbox::ReadOnly)
    }

    fn thread(&self) -> Thread {
        self.codex
            .threads()
            .start(self.options())
            .expect("thread/start")
    }

    /// A thread that asks before running commands (the workdir is writable).
    fn asking_thread(&self) -> Thread {
        let options = self
            .options()
            .approval_mode(ApprovalMode::Untrusted)
            .sandbox(Sandbox::WorkspaceWrite);
        self.codex.threads().start(options).expect("thread/start")
    }

    /// A thread with a turn whose model stream has sent its first delta and stalls until the
    /// returned gate is released.
    fn stalled_turn(&self) -> (Thread, TurnHandle, StallGate) {
        let gate = StallGate::new();
        self.mock
            .set_default(MockResponse::stalled(["waiting"], &gate));
        let thread = self.thread();
        let turn = thread.turn("go").expect("turn/start");
        assert!(self.mock_wait("stall", gate.wait_stalled(1, TURN_TIMEOUT)));
        (thread, turn, gate)
    }

    /// Runs one of the mock's async waits, bounded.
    fn mock_wait<T>(&self, what: &str, fut: impl Future<Output = T>) -> T {
        self.mock_runtime
            .block_on(async { tokio::time::timeout(TURN_TIMEOUT, fut).await })
            .unwrap_or_else(|_| panic!("timed out: {what}"))
    }
}

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

/// Returns once the wall clock (Unix seconds) is past `secs` (polls the clock, bounded).
fn next_second(secs: i64) {
    let deadline = Instant::now() + Duration::from_secs(3);
    while std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
        <= secs
    {
        assert!(Instant::now() < deadline, "the clock does not move");
        std::thread::sleep(Duration::from_millis(20));
    }
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
fn run_returns_the_final_response_items_usage_and_times() {
    let Some(env) = start("blocking_run") else {
        return;
    };
    let info = env.codex.server_info().expect("initialized");
    assert!(info.version_matches(), "{info:?}");

    env.mock.push(MockResponse::deltas(["Hello ", "world"]));
    let thread = env.thread();
    assert_eq!(thread.model(), Some(MOCK_MODEL_NAME));
    assert_eq!(thread.model_provider(), "mock");
    assert_eq!(
        thread.approval_policy(),
        Some(&codex_client::protocol::AskForApproval::Never)
    );
    assert_eq!(
        std::path::Path::new(thread.cwd()),
        env.sandbox.workdir().as_path()
    );

    let t = thread.clone();
    let result = within("run", move || t.run("Say hello")).expect("run");
    assert_eq!(result.status, TurnStatus::Completed);
    assert_eq!(result.final_response(), Some("Hello world"));
    assert_eq!(result.thread_id, thread.id());
    assert_eq!(user_texts(&result.items), ["Say hello"]);
    assert_eq!(agent_texts(&result.items), ["Hello world"]);
    assert!(result.open_items.is_empty(), "{:?}", result.open_items);
    assert!(
        result
            .usage
            .as_ref()
            .is_some_and(|u| u.total.total_tokens > 0)
    );
    assert!(result.started_at.is_some() && result.completed_at.is_some());
    assert_eq!(env.mock.last_user_text().as_deref(), Some("Say hello"));
    assert_eq!(env.codex.connection().stats().turn_routes, 0);

    let closed = env.codex.close();
    assert!(closed.exit_status.is_some_and(|s| s.success()), "{closed}");
    // Closed is latched: later calls fail fast.
    assert!(thread.run("again").unwrap_err().is_closed());
}

#[test]
fn iterated_deltas_concatenate_to_the_final_response() {
    let Some(env) = start("blocking_stream") else {
        return;
    };
    let deltas = ["One ", "two ", "three ", "four."];
    env.mock
        .push(MockResponse::deltas(deltas).with_delay(Duration::from_millis(5)));
    let thread = env.thread();
    let mut turn = thread.turn("Count to four").expect("turn/start");
    assert!(!turn.id().is_empty());
    assert_eq!(turn.thread_id(), thread.id());
    let mut streamed = String::new();
    let mut last = None;
    while let Some(event) = next_event(&mut turn) {
        if let TurnEvent::Notification(n) = &event {
            if let ServerNotification::ItemAgentMessageDelta(d) = &**n {
                streamed.push_str(&d.delta);
            }
            last = Some(n.method().to_owned());
        }
    }
    assert_eq!(last.as_deref(), Some("turn/completed"));
    assert!(turn.is_completed());
    assert_eq!(streamed, deltas.concat());
    // The iterator stays ended, and `run` returns everything it saw.
    assert!(turn.next().is_none());
    assert_eq!(turn.snapshot().final_response(), Some(streamed.as_str()));
    let result = turn.run().expect("result");
    assert_eq!(result.final_response(), Some(streamed.as_str()));
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

#[test]
fn resume_and_fork_keep_the_history() {
    let Some(env) = start("blocking_resume_fork") else {
        return;
    };
    env.mock.push(MockResponse::message("First answer."));
    env.mock.push(MockResponse::message("Second answer."));
    env.mock.push(MockResponse::message("From the fork."));
    let thread = env.thread();
    finish(thread.turn("remember the word kiwi").unwrap()).unwrap();

    let resumed = env
        .codex
        .threads()
        .resume(thread.id(), ThreadOptions::new())
        .expect("thread/resume");
    assert_eq!(resumed.id(), thread.id());
    assert_eq!(resumed.model(), Some(MOCK_MODEL_NAME));
    assert_eq!(resumed.turns().len(), 1, "the history comes back");
    assert_eq!(
        resumed.approval_policy(),
        Some(&codex_client::protocol::AskForApproval::Never),
        "settings are inherited"
    );
    let result = finish(resumed.turn("second question").unwrap()).unwrap();
    assert_eq!(result.final_response(), Some("Second answer."));
    let last = env.mock.requests().pop().unwrap();
    assert!(
        last.user_texts()
            .iter()
            .any(|t| t == "remember the word kiwi")
    );

    let fork = thread.fork(ThreadOptions::new()).expect("thread/fork");
    assert_ne!(fork.id(), thread.id());
    assert_eq!(fork.info().forked_from_id.as_deref(), Some(thread.id()));
    assert_eq!(
        fork.codex().connection().pid(),
        env.codex.connection().pid()
    );
    let result = finish(fork.turn("what was the word?").unwrap()).unwrap();
    assert_eq!(result.final_response(), Some("From the fork."));
    let last = env.mock.requests().pop().unwrap();
    assert_eq!(last.session_id(), Some(fork.id()));
    assert!(
        last.user_texts()
            .iter()
            .any(|t| t == "remember the word kiwi"),
        "the fork carries the history"
    );
    let by_codex = env
        .codex
        .threads()
        .fork(thread.id(), ThreadOptions::new())
        .expect("Codex::fork_thread");
    assert_eq!(by_codex.info().forked_from_id.as_deref(), Some(thread.id()));
}

#[test]
fn list_pages_read_archive_unarchive_and_name() {
    let Some(env) = start("blocking_lifecycle") else {
        return;
    };
    env.mock.set_default(MockResponse::message("ok"));
    let mut threads = Vec::new();
    for word in ["alpha", "bravo", "charlie"] {
        let thread = env.thread();
        finish(thread.turn(format!("topic {word}")).unwrap()).unwrap();
        // The list cursor has one-second resolution (see ListThreads::cursor).
        next_second(thread.info().created_at);
        threads.push(thread);
    }
    let ids: Vec<String> = threads.iter().map(|t| t.id().to_owned()).collect();

    let by_creation = || ListThreads::new().sort(ThreadSortKey::CreatedAt, SortDirection::Desc);
    let first = env.codex.threads().list(by_creation().limit(2)).unwrap();
    assert_eq!(first.threads.len(), 2, "{first:?}");
    assert_eq!(first.threads[0].id, ids[2], "newest first");
    let cursor = first.next_cursor.clone().expect("a next page");
    let second = env
        .codex
        .threads()
        .list(by_creation().limit(2).cursor(cursor))
        .unwrap();
    let mut listed: Vec<String> = first
        .threads
        .iter()
        .chain(&second.threads)
        .map(|t| t.id.clone())
        .collect();
    listed.sort();
    let mut expected = ids.clone();
    expected.sort();
    assert_eq!(listed, expected);

    let found = env
        .codex
        .threads()
        .list(ListThreads::new().search("bravo"))
        .unwrap();
    let found: Vec<&str> = found.threads.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(found, [ids[1].as_str()]);

    let bare = threads[0].read().unwrap();
    assert!(bare.turns.is_empty());
    let full = threads[0].read_with_turns().unwrap();
    assert_eq!(user_texts(&full.turns[0].items), ["topic alpha"]);

    let mut named = threads[0].clone();
    named.set_name("the alpha thread").unwrap();
    assert_eq!(named.name(), Some("the alpha thread"));
    let read = env.codex.threads().read(named.id()).unwrap();
    assert_eq!(read.name.as_deref(), Some("the alpha thread"));
    assert_eq!(threads[0].name(), None, "the clone's snapshot is its own");
    threads[0].refresh().unwrap();
    assert_eq!(threads[0].name(), Some("the alpha thread"));

    let active = |codex: &Codex, archived: bool| -> Vec<String> {
        codex
            .threads()
            .list(ListThreads::new().archived(archived))
            .unwrap()
            .threads
            .into_iter()
            .map(|t| t.id)
            .collect()
    };
    threads[2].archive().unwrap();
    assert!(!active(&env.codex, false).contains(&ids[2]));
    assert_eq!(active(&env.codex, true), [ids[2].clone()]);
    let back = env.codex.threads().unarchive(&ids[2]).unwrap();
    assert_eq!(back.id(), ids[2]);
    assert!(active(&env.codex, false).contains(&ids[2]));
    env.codex.threads().archive(&ids[1]).unwrap();
    assert_eq!(active(&env.codex, true), [ids[1].clone()]);
    threads[1].unarchive().unwrap();
    assert!(active(&env.codex, true).is_empty());
}

#[test]
fn without_a_handler_a_command_approval_is_declined() {
    let Some(env) = start("blocking_approval_default") else {
        return;
    };
    script_command(&env.mock, "touch declined.txt && echo ran", "Understood.");
    let thread = env.asking_thread();
    let result = finish(thread.turn("Create the marker file").unwrap())
        .expect("the turn goes on after the decline");
    let command = command_item(&result);
    assert_eq!(command["status"], "declined", "{command}");
    assert!(!env.sandbox.workdir().join("declined.txt").exists());
    assert_eq!(result.final_response(), Some("Understood."));
}

#[test]
fn an_approval_accepted_in_the_iterator_runs_the_command() {
    let Some(env) = start("blocking_approval_in_stream") else {
        return;
    };
    script_command(
        &env.mock,
        "touch approved.txt && echo approved-ran",
        "The command ran.",
    );
    let thread = env.thread();
    let options = TurnOptions::new()
        .settings(
            TurnSettings::new()
                .approval_mode(ApprovalMode::Untrusted)
                .sandbox(Sandbox::WorkspaceWrite),
        )
        .approvals_in_stream();
    let mut turn = thread.turn_with("Create the marker file", options).unwrap();
    let mut approvals = 0;
    while let Some(event) = next_event(&mut turn) {
        if let TurnEvent::ServerRequest(request) = event {
            assert_eq!(request.method(), "item/commandExecution/requestApproval");
            assert_eq!(request.turn_id(), Some(turn.id()));
            approvals += 1;
            request.accept().expect("answered synchronously");
        }
    }
    let result = turn.run().unwrap();
    assert_eq!(approvals, 1);
    let command = command_item(&result);
    assert_eq!(command["status"], "completed", "{command}");
    assert!(env.sandbox.workdir().join("approved.txt").is_file());
    assert_eq!(result.final_response(), Some("The command ran."));
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
fn a_failed_turn_is_an_error_with_the_turn_error_and_the_partial_result() {
    let Some(env) = start("blocking_failed_turn") else {
        return;
    };
    env.mock
        .push(MockResponse::http_error(500, "mock forced HTTP 500"));
    let thread = env.thread();
    let t = thread.clone();
    let err = within("failing turn", move || t.run("this will fail"))
        .expect_err("a failed turn is an error");
    let failure = err.turn_failure().expect("Error::TurnFailed");
    assert!(!failure.error.message.is_empty(), "{failure:?}");
    assert!(failure.error.codex_error_info.is_some(), "{failure:?}");
    assert_eq!(failure.result.status, TurnStatus::Failed);
    assert_eq!(user_texts(&failure.result.items), ["this will fail"]);
    // The thread is still usable.
    env.mock.push(MockResponse::message("Recovered."));
    let again = finish(thread.turn("try again").unwrap()).unwrap();
    assert_eq!(again.final_response(), Some("Recovered."));
}

#[test]
fn the_output_schema_is_sent_to_the_model() {
    let Some(env) = start("blocking_output_schema") else {
        return;
    };
    env.mock
        .push(MockResponse::message(r#"{"answer_value_x":4}"#));
    let thread = env.thread();
    let schema = json!({
        "type": "object",
        "properties": {"answer_value_x": {"type": "integer"}},
        "required": ["answer_value_x"],
        "additionalProperties": false
    });
    let options = TurnSettings::new().output_schema(schema.clone());
    let t = thread.clone();
    let result = within("turn", move || t.run_with("2 + 2?", options)).unwrap();
    let answer: Value = serde_json::from_str(result.final_response().unwrap()).unwrap();
    assert_eq!(answer["answer_value_x"], 4);
    let request = env.mock.requests().pop().unwrap();
    assert_eq!(request.body["text"]["format"]["schema"], schema);
}

#[test]
fn image_url_and_local_image_inputs_reach_the_model() {
    let Some(env) = start("blocking_images") else {
        return;
    };
    env.mock.push(MockResponse::message("Two images."));
    let path = env.sandbox.workdir().join("tiny.png");
    std::fs::write(&path, TINY_PNG).unwrap();
    let data_url = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";
    let thread = env.thread();
    let input = Input::new()
        .text("Describe these")
        .image_url(data_url)
        .item(InputItem::local_image(&path));
    let result = finish(thread.turn(input).unwrap()).unwrap();
    assert_eq!(result.final_response(), Some("Two images."));
    let request = env.mock.requests().pop().unwrap();
    let images: Vec<Value> = request
        .input()
        .iter()
        .filter(|m| m["role"] == "user")
        .flat_map(|m| m["content"].as_array().cloned().unwrap_or_default())
        .filter(|c| c["type"] == "input_image")
        .collect();
    assert_eq!(images.len(), 2, "both images reach the model: {images:?}");
    assert_eq!(images[0]["image_url"], data_url);
    assert!(
        images[1]["image_url"]
            .as_str()
            .is_some_and(|u| u.starts_with("data:image/png;base64,"))
    );
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
            .spawn(SpawnConfig::new().program("/nonexistent/codex"))
            .map(drop)
    });
    let message =
        panic_message(&*outcome.expect_err("a blocking call inside an async context panics"));
    assert!(
        message.contains("Cannot start a runtime from within a runtime"),
        "{message}"
    );
}

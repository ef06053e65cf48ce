//! The high-level API (`Codex`, `Thread`, `TurnHandle`, `TurnResult`) against the real
//! `codex app-server`, offline: the test kit's mock model on 127.0.0.1 and its sandbox. Skipped
//! loudly when the binary is missing, unless CODEX_CLIENT_REQUIRE_APP_SERVER=1.
//!
//! Each `#[both_ways]` scenario is written once and runs twice, as `NAME::asynchronous`
//! against the async API and as `NAME::blocking` against `codex_client::blocking` (see
//! crates/codex-client-testkit-macros; the two sides' harnesses are `sides/`). The scenarios
//! only the async API has (tasks) are plain `#[tokio::test]`s; those only the blocking twin has
//! are in `blocking_e2e.rs`. Every wait is bounded; nothing sleeps and hopes.

mod common;
mod sides;

use codex_client::protocol::{
    CodexErrorInfo, ServerNotification, SortDirection, ThreadItem, ThreadSortKey, TurnStatus,
    UserInput,
};
use codex_client::{
    ApprovalMode, Error, Input, InputItem, ListThreads, Sandbox, ThreadOptions, TurnEvent,
    TurnOptions, TurnResult, TurnSettings,
};
use codex_client_testkit::{MOCK_MODEL_NAME, Matcher, MockModel, MockResponse, StallGate};
use codex_client_testkit_macros::both_ways;
use futures::StreamExt;
use serde_json::{Value, json};
use sides::TURN_TIMEOUT;
use sides::asynchronous::{start, within};
use std::time::Duration;

fn agent_texts(result: &TurnResult) -> Vec<String> {
    result
        .items
        .iter()
        .filter_map(|i| match i {
            ThreadItem::AgentMessage(m) => Some(m.text.clone()),
            _ => None,
        })
        .collect()
}

fn user_texts(items: &[ThreadItem]) -> Vec<String> {
    items
        .iter()
        .filter_map(|i| match i {
            ThreadItem::UserMessage(m) => Some(
                m.content
                    .iter()
                    .filter_map(|c| match c {
                        UserInput::Text(t) => Some(t.text.clone()),
                        _ => None,
                    })
                    .collect::<String>(),
            ),
            _ => None,
        })
        .collect()
}

fn item_json(item: &ThreadItem) -> Value {
    serde_json::to_value(item).unwrap()
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

/// The turn's command item, as JSON.
fn command_item(result: &TurnResult) -> Value {
    result
        .items
        .iter()
        .map(item_json)
        .find(|i| i["type"] == "commandExecution")
        .expect("a command item")
}

/// Every string anywhere in `value`.
fn strings(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|v| strings(v, out)),
        Value::Object(o) => o.values().for_each(|v| strings(v, out)),
        _ => {}
    }
}

#[both_ways]
async fn run_returns_the_final_response_items_usage_and_times() {
    let Some(env) = side::start("api_run").await else {
        return;
    };
    let info = env.codex.server_info().expect("initialized");
    assert!(info.version_matches(), "{info:?}");
    assert!(info.codex_home.is_some(), "{info:?}");

    env.mock.push(MockResponse::deltas(["Hello ", "world"]));
    let thread = env.thread().await;
    // The thread keeps what the server answered.
    assert_eq!(thread.model(), Some(MOCK_MODEL_NAME));
    assert_eq!(thread.model_provider(), "mock");
    assert_eq!(
        thread.approval_policy(),
        Some(&codex_client::protocol::AskForApproval::Never)
    );
    assert!(
        matches!(
            thread.sandbox(),
            Some(codex_client::protocol::SandboxPolicy::ReadOnly(_))
        ),
        "{:?}",
        thread.sandbox()
    );
    assert_eq!(
        std::path::Path::new(thread.cwd()),
        env.sandbox.workdir().as_path()
    );

    let result = side::within("run", thread.run("Say hello"))
        .await
        .expect("run");
    assert_eq!(result.status, TurnStatus::Completed);
    assert!(result.is_completed());
    assert_eq!(result.final_response(), Some("Hello world"));
    assert_eq!(result.thread_id, thread.id());
    assert_eq!(user_texts(&result.items), ["Say hello"]);
    assert_eq!(agent_texts(&result), ["Hello world"]);
    assert!(
        matches!(result.items.first(), Some(ThreadItem::UserMessage(_))),
        "items in order: {:?}",
        result.items
    );
    assert!(result.open_items.is_empty(), "{:?}", result.open_items);
    let usage = result.usage.as_ref().expect("token usage");
    assert!(usage.total.total_tokens > 0, "{usage:?}");
    assert!(result.started_at.is_some() && result.completed_at.is_some());
    assert!(result.duration_ms.is_some());
    assert_eq!(result.missed_events, 0);
    assert_eq!(env.mock.last_user_text().as_deref(), Some("Say hello"));
    let stats = env.codex.connection().stats();
    assert_eq!(stats.turn_routes, 0, "{stats:?}");
    let closed = env.codex.close().await;
    assert!(closed.exit_status.is_some_and(|s| s.success()), "{closed}");
    // Closed is latched: later calls fail fast.
    assert!(thread.run("again").await.unwrap_err().is_closed());
}

#[both_ways]
async fn streamed_deltas_concatenate_to_the_final_response() {
    let Some(env) = side::start("api_stream").await else {
        return;
    };
    let deltas = ["One ", "two ", "three ", "four."];
    env.mock
        .push(MockResponse::deltas(deltas).with_delay(Duration::from_millis(5)));
    let thread = env.thread().await;
    let mut turn = thread.turn("Count to four").await.expect("turn/start");
    assert!(!turn.id().is_empty());
    let mut streamed = String::new();
    let mut last = None;
    while let Some(event) = side::within("next event", turn.next()).await {
        let event = event.expect("no stream error");
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
    // `run` after streaming returns everything the stream saw.
    let result = turn.run().await.expect("result");
    assert_eq!(result.final_response(), Some(streamed.as_str()));
}

#[both_ways]
async fn a_turn_that_keeps_no_items_still_streams_them_and_reports_its_outcome() {
    let Some(env) = side::start("api_keep_items").await else {
        return;
    };
    env.mock.push(MockResponse::deltas(["All ", "streamed."]));
    let thread = env.thread().await;
    let mut turn = thread
        .turn_with("Stream only", TurnOptions::new().keep_items(false))
        .await
        .expect("turn/start");
    let mut completed_items = Vec::new();
    while let Some(event) = side::within("next event", turn.next()).await {
        if let TurnEvent::Notification(n) = event.expect("no stream error")
            && let ServerNotification::ItemCompleted(done) = &*n
        {
            completed_items.push(done.item.clone());
        }
    }
    // The consumer got every item; the handle kept none of them.
    assert!(
        completed_items
            .iter()
            .any(|i| matches!(i, ThreadItem::AgentMessage(m) if m.text == "All streamed.")),
        "{completed_items:?}"
    );
    assert!(turn.snapshot().items.is_empty());
    let result = turn.run().await.expect("result");
    assert_eq!(result.status, TurnStatus::Completed);
    assert!(result.items.is_empty() && result.open_items.is_empty());
    assert!(result.usage.is_some(), "usage is still reported");
    // The answer is still found: in the summary `turn/completed` carries.
    assert_eq!(result.final_response(), Some("All streamed."));
}

#[both_ways]
async fn steer_adds_input_to_the_running_turn_and_the_model_gets_it() {
    let Some(env) = side::start("api_steer").await else {
        return;
    };
    let gate = StallGate::new();
    env.mock
        .push(MockResponse::stalled(["Working on it "], &gate));
    env.mock.push(MockResponse::message("Steered answer."));
    let thread = env.thread().await;
    let turn = thread.turn("Write a poem").await.expect("turn/start");
    assert!(
        env.mock_wait("stall", gate.wait_stalled(1, TURN_TIMEOUT))
            .await,
        "the first model stream is open"
    );
    side::within("steer", turn.steer("Make it about the sea"))
        .await
        .expect("turn/steer");
    let requests = env
        .mock_wait(
            "the model is asked again",
            env.mock.wait_for_requests(2, TURN_TIMEOUT),
        )
        .await
        .expect("a second model request");
    let texts = requests[1].user_texts();
    assert!(
        texts.iter().any(|t| t.contains("Make it about the sea")),
        "the steer input reaches the model: {texts:?}"
    );
    gate.release();
    let result = side::within("steered turn", turn.run())
        .await
        .expect("result");
    assert_eq!(result.status, TurnStatus::Completed);
    assert_eq!(
        user_texts(&result.items),
        ["Write a poem", "Make it about the sea"],
        "both inputs are items of the same turn"
    );
    assert_eq!(result.final_response(), Some("Steered answer."));
}

#[tokio::test]
async fn interrupt_ends_the_turn_interrupted_and_reports_open_items() {
    let Some(env) = start("api_interrupt").await else {
        return;
    };
    let gate = StallGate::new();
    env.mock
        .push(MockResponse::stalled(["partial answer"], &gate));
    let thread = env.thread().await;
    let mut turn = thread.turn("Take your time").await.expect("turn/start");
    let control = turn.control();
    assert_eq!(control.turn_id(), turn.id());
    // Wait until the agent message is streaming, so the interrupt lands mid-item.
    loop {
        let event = within("a delta", turn.next())
            .await
            .expect("the turn is running")
            .expect("no stream error");
        if let TurnEvent::Notification(n) = &event
            && matches!(&**n, ServerNotification::ItemAgentMessageDelta(_))
        {
            break;
        }
    }
    // Interrupt from another task while this one collects the rest.
    let interrupter = tokio::spawn(async move { control.interrupt().await });
    let result = within("interrupted turn", turn.run())
        .await
        .expect("an interrupted turn is Ok");
    within("interrupt", interrupter)
        .await
        .expect("task")
        .expect("turn/interrupt");
    assert_eq!(result.status, TurnStatus::Interrupted);
    assert!(result.is_interrupted());
    let open: Vec<_> = result.open_items.iter().map(item_json).collect();
    assert!(
        open.iter().any(|i| i["type"] == "agentMessage"),
        "the streaming agent message is reported open: {open:?}"
    );
    assert_eq!(result.final_response(), None, "no answer completed");
    gate.release();
}

#[both_ways]
async fn resume_keeps_the_history_and_the_settings() {
    let Some(env) = side::start("api_resume").await else {
        return;
    };
    env.mock.push(MockResponse::message("First answer."));
    env.mock.push(MockResponse::message("Second answer."));
    let thread = env.thread().await;
    side::within("first turn", thread.run("first question"))
        .await
        .unwrap();
    let resumed = side::within(
        "resume",
        env.codex
            .threads()
            .resume(thread.id(), ThreadOptions::new()),
    )
    .await
    .expect("thread/resume");
    assert_eq!(resumed.id(), thread.id());
    assert_eq!(resumed.model(), Some(MOCK_MODEL_NAME));
    assert_eq!(resumed.cwd(), thread.cwd());
    assert_eq!(resumed.turns().len(), 1, "the history comes back");
    assert_eq!(
        resumed.approval_policy(),
        Some(&codex_client::protocol::AskForApproval::Never),
        "settings are inherited"
    );
    let result = side::within("turn after resume", resumed.run("second question"))
        .await
        .unwrap();
    assert_eq!(result.final_response(), Some("Second answer."));
    let last = env.mock.requests().pop().unwrap();
    let texts = last.user_texts();
    assert!(
        texts.iter().any(|t| t == "first question"),
        "the earlier turn is part of the context: {texts:?}"
    );
}

#[both_ways]
async fn fork_makes_a_new_thread_with_the_history() {
    let Some(env) = side::start("api_fork").await else {
        return;
    };
    env.mock.push(MockResponse::message("Original."));
    env.mock.push(MockResponse::message("From the fork."));
    let thread = env.thread().await;
    side::within("turn", thread.run("remember the word kiwi"))
        .await
        .unwrap();
    let fork = side::within("fork", thread.fork(ThreadOptions::new()))
        .await
        .expect("thread/fork");
    assert_ne!(fork.id(), thread.id());
    assert_eq!(fork.info().forked_from_id.as_deref(), Some(thread.id()));
    assert_eq!(fork.model(), Some(MOCK_MODEL_NAME));
    let result = side::within("turn on the fork", fork.run("what was the word?"))
        .await
        .unwrap();
    assert_eq!(result.final_response(), Some("From the fork."));
    let last = env.mock.requests().pop().unwrap();
    assert_eq!(last.session_id(), Some(fork.id()));
    assert!(
        last.user_texts()
            .iter()
            .any(|t| t == "remember the word kiwi"),
        "the fork carries the history"
    );
}

#[both_ways]
async fn list_filters_and_pages_read_archive_unarchive_and_name() {
    let Some(env) = side::start("api_lifecycle").await else {
        return;
    };
    env.mock.set_default(MockResponse::message("ok"));
    let mut threads = Vec::new();
    for word in ["alpha", "bravo", "charlie"] {
        let thread = env.thread().await;
        side::within("turn", thread.run(format!("topic {word}")))
            .await
            .unwrap();
        // The server's list cursor is a timestamp with one-second resolution: threads created
        // in the same second as a page boundary are skipped. Give each thread its own second.
        side::next_second(thread.info().created_at).await;
        threads.push(thread);
    }
    let ids: Vec<&str> = threads.iter().map(api::Thread::id).collect();

    // Pages of two, followed by cursor, cover the three threads exactly once.
    let by_creation = || ListThreads::new().sort(ThreadSortKey::CreatedAt, SortDirection::Desc);
    let first = side::within("list", env.codex.threads().list(by_creation().limit(2)))
        .await
        .unwrap();
    assert_eq!(first.threads.len(), 2, "{first:?}");
    let cursor = first.next_cursor.clone().expect("a next page");
    let second = side::within(
        "list page 2",
        env.codex
            .threads()
            .list(by_creation().limit(2).cursor(cursor)),
    )
    .await
    .unwrap();
    let mut listed: Vec<String> = first
        .threads
        .iter()
        .chain(&second.threads)
        .map(|t| t.id.clone())
        .collect();
    listed.sort();
    let mut expected: Vec<String> = ids.iter().map(|s| s.to_string()).collect();
    expected.sort();
    assert_eq!(listed, expected);
    assert_eq!(second.threads.len(), 1);
    assert_eq!(first.threads[0].id, ids[2], "newest first");

    // Search filter.
    let found = side::within(
        "search",
        env.codex.threads().list(ListThreads::new().search("bravo")),
    )
    .await
    .unwrap();
    let found: Vec<&str> = found.threads.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(found, [ids[1]]);
    // The raw params give the same page.
    let raw = codex_client::protocol::ThreadListParams {
        search_term: Some("bravo".into()),
        ..Default::default()
    };
    let found = side::within("search raw", env.codex.threads().list_params(raw))
        .await
        .unwrap();
    let found: Vec<&str> = found.threads.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(found, [ids[1]]);

    // Read without and with turns.
    let bare = side::within("read", threads[0].read()).await.unwrap();
    assert!(bare.turns.is_empty());
    let full = side::within("read turns", threads[0].read_with_turns())
        .await
        .unwrap();
    assert_eq!(full.turns.len(), 1);
    assert_eq!(user_texts(&full.turns[0].items), ["topic alpha"]);
    // The same two reads by id, through the threads handle.
    let by_id = side::within("read by id", env.codex.threads().read(threads[0].id()))
        .await
        .unwrap();
    assert!(by_id.turns.is_empty());
    let by_id = side::within(
        "read by id with turns",
        env.codex.threads().read_with_turns(threads[0].id()),
    )
    .await
    .unwrap();
    assert_eq!(user_texts(&by_id.turns[0].items), ["topic alpha"]);

    // Name.
    let mut named = threads[0].clone();
    side::within("set name", named.set_name("the alpha thread"))
        .await
        .unwrap();
    assert_eq!(named.name(), Some("the alpha thread"));
    let read = side::within("read name", env.codex.threads().read(named.id()))
        .await
        .unwrap();
    assert_eq!(read.name.as_deref(), Some("the alpha thread"));

    // Archive moves a thread to the archived list; unarchive brings it back.
    side::within("archive", threads[2].archive()).await.unwrap();
    let listed_ids = |page: codex_client::ThreadPage| -> Vec<String> {
        page.threads.into_iter().map(|t| t.id).collect()
    };
    let active = listed_ids(
        side::within("list", env.codex.threads().list(ListThreads::new()))
            .await
            .unwrap(),
    );
    assert!(!active.contains(&ids[2].to_owned()), "{active:?}");
    let archived = listed_ids(
        side::within(
            "list archived",
            env.codex.threads().list(ListThreads::new().archived(true)),
        )
        .await
        .unwrap(),
    );
    assert_eq!(archived, [ids[2]]);
    let back = side::within("unarchive", env.codex.threads().unarchive(ids[2]))
        .await
        .unwrap();
    assert_eq!(back.id(), ids[2]);
    let active = listed_ids(
        side::within("list", env.codex.threads().list(ListThreads::new()))
            .await
            .unwrap(),
    );
    assert!(active.contains(&ids[2].to_owned()), "{active:?}");
}

#[both_ways]
async fn without_a_handler_a_command_approval_is_declined() {
    let Some(env) = side::start("api_approval_default").await else {
        return;
    };
    script_command(&env.mock, "touch declined.txt && echo ran", "Understood.");
    let thread = env
        .codex
        .threads()
        .start(
            env.options()
                .approval_mode(ApprovalMode::Untrusted)
                .sandbox(Sandbox::WorkspaceWrite),
        )
        .await
        .unwrap();
    let result = side::within("turn", thread.run("Create the marker file"))
        .await
        .expect("the turn goes on after the decline");
    let command = command_item(&result);
    assert_eq!(command["status"], "declined", "{command}");
    assert!(!env.sandbox.workdir().join("declined.txt").exists());
    assert_eq!(result.final_response(), Some("Understood."));
}

#[both_ways]
async fn an_approval_accepted_in_the_turn_stream_runs_the_command() {
    let Some(env) = side::start("api_approval_in_stream").await else {
        return;
    };
    script_command(
        &env.mock,
        "touch approved.txt && echo approved-ran",
        "The command ran.",
    );
    let thread = env.thread().await;
    let options = TurnOptions::new()
        .settings(
            TurnSettings::new()
                .approval_mode(ApprovalMode::Untrusted)
                .sandbox(Sandbox::WorkspaceWrite),
        )
        .approvals_in_stream();
    let mut turn = thread
        .turn_with("Create the marker file", options)
        .await
        .unwrap();
    let mut approvals = 0;
    while let Some(event) = side::within("next event", turn.next()).await {
        if let TurnEvent::ServerRequest(request) = event.expect("no stream error") {
            assert_eq!(request.method(), "item/commandExecution/requestApproval");
            assert_eq!(request.turn_id(), Some(turn.id()));
            approvals += 1;
            request.accept().expect("answer sent");
        }
    }
    let result = turn.run().await.unwrap();
    assert_eq!(approvals, 1);
    let command = command_item(&result);
    assert_eq!(command["status"], "completed", "{command}");
    assert!(env.sandbox.workdir().join("approved.txt").is_file());
    assert_eq!(result.final_response(), Some("The command ran."));
}

#[both_ways]
async fn a_failed_turn_is_an_error_with_the_turn_error_and_the_partial_result() {
    let Some(env) = side::start("api_failed_turn").await else {
        return;
    };
    env.mock
        .push(MockResponse::http_error(500, "mock forced HTTP 500"));
    let thread = env.thread().await;
    let err = side::within("failing turn", thread.run("this will fail"))
        .await
        .expect_err("a failed turn is an error");
    let failure = err.turn_failure().expect("Error::TurnFailed");
    assert!(!failure.error.message.is_empty(), "{failure:?}");
    assert!(
        failure.error.codex_error_info.is_some(),
        "codexErrorInfo is carried: {failure:?}"
    );
    assert!(
        !matches!(
            failure.error.codex_error_info,
            Some(CodexErrorInfo::Unknown(_))
        ),
        "{failure:?}"
    );
    assert_eq!(failure.result.status, TurnStatus::Failed);
    assert_eq!(
        user_texts(&failure.result.items),
        ["this will fail"],
        "the partial result keeps what completed"
    );
    assert!(err.to_string().contains(&failure.error.message));
    // The thread is still usable.
    env.mock.push(MockResponse::message("Recovered."));
    let again = side::within("next turn", thread.run("try again"))
        .await
        .unwrap();
    assert_eq!(again.final_response(), Some("Recovered."));
    assert!(matches!(err, Error::TurnFailed(_)));
}

#[both_ways]
async fn the_output_schema_is_sent_to_the_model() {
    let Some(env) = side::start("api_output_schema").await else {
        return;
    };
    env.mock
        .push(MockResponse::message(r#"{"answer_value_x":4}"#));
    let thread = env.thread().await;
    let schema = json!({
        "type": "object",
        "properties": {"answer_value_x": {"type": "integer"}},
        "required": ["answer_value_x"],
        "additionalProperties": false
    });
    let result = side::within(
        "turn",
        thread.run_with("2 + 2?", TurnSettings::new().output_schema(schema.clone())),
    )
    .await
    .unwrap();
    let answer: Value = serde_json::from_str(result.final_response().unwrap()).unwrap();
    assert_eq!(answer["answer_value_x"], 4);
    let request = env.mock.requests().pop().unwrap();
    let format = &request.body["text"]["format"];
    assert_eq!(format["schema"], schema, "body: {}", request.body);
}

/// A 1x1 PNG.
const TINY_PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0xda, 0x63, 0x64, 0x60, 0xf8, 0x5f,
    0x0f, 0x00, 0x02, 0x87, 0x01, 0x80, 0xeb, 0x47, 0xba, 0x92, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
    0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

#[both_ways]
async fn image_url_and_local_image_inputs_reach_the_model() {
    let Some(env) = side::start("api_images").await else {
        return;
    };
    env.mock.push(MockResponse::message("Two images."));
    let path = env.sandbox.workdir().join("tiny.png");
    std::fs::write(&path, TINY_PNG).unwrap();
    let data_url = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";
    let thread = env.thread().await;
    let input = Input::new()
        .text("Describe these")
        .image_url(data_url)
        .item(InputItem::local_image(&path));
    let result = side::within("turn", thread.run(input)).await.unwrap();
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
    let local = images[1]["image_url"].as_str().unwrap_or_default();
    assert!(
        local.starts_with("data:image/png;base64,"),
        "the local image is sent inline: {}",
        &local[..local.len().min(60)]
    );
    let mut all = Vec::new();
    strings(&request.body, &mut all);
    assert!(all.iter().any(|s| s.contains("Describe these")));
}

#[tokio::test]
async fn four_turns_run_at_once_from_separate_tasks_on_one_codex() {
    let Some(env) = start("api_concurrent").await else {
        return;
    };
    let gate = StallGate::new();
    let mut threads = Vec::new();
    for t in 0..4 {
        env.mock.route(
            Matcher::user_text_contains(format!("[task-{t}]")),
            MockResponse::stalled([format!("answer {t} "), format!("done {t}")], &gate),
        );
        threads.push(env.thread().await);
    }
    let mut tasks = Vec::new();
    for (t, thread) in threads.into_iter().enumerate() {
        tasks.push(tokio::spawn(async move {
            let result = thread.run(format!("[task-{t}] go")).await;
            (thread.id().to_owned(), result)
        }));
    }
    assert!(
        gate.wait_stalled(4, TURN_TIMEOUT).await,
        "all four turns are in flight at once"
    );
    gate.release();
    for (t, task) in tasks.into_iter().enumerate() {
        let (thread_id, result) = within("task", task).await.expect("task");
        let result = result.expect("turn result");
        assert_eq!(result.thread_id, thread_id);
        assert_eq!(
            result.final_response(),
            Some(format!("answer {t} done {t}").as_str()),
            "task {t} got its own answer"
        );
    }
    let stats = env.codex.connection().stats();
    assert_eq!(stats.turn_routes, 0, "{stats:?}");
    assert_eq!(stats.lagged_events, 0, "{stats:?}");
}

#[both_ways]
async fn compact_asks_the_model_to_summarize_the_thread() {
    let Some(env) = side::start("api_compact").await else {
        return;
    };
    env.mock.set_default(MockResponse::message("summary"));
    let thread = env.thread().await;
    side::within("turn", thread.run("some history"))
        .await
        .unwrap();
    let before = env.mock.request_count();
    side::within("compact", thread.compact())
        .await
        .expect("thread/compact/start");
    env.mock_wait(
        "the compaction request",
        env.mock.wait_for_requests(before + 1, TURN_TIMEOUT),
    )
    .await
    .expect("compaction reaches the model");
    // Conflicting presets are refused before anything is sent.
    let err = thread
        .run_with(
            "x",
            TurnSettings::new()
                .approval_mode(ApprovalMode::DangerouslyBypass)
                .sandbox(Sandbox::ReadOnly),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidOptions(_)), "{err}");
}

//! End-to-end scenarios against the real `codex app-server`, driven with raw JSON lines through the
//! kit: a streamed turn, concurrent turns on two threads, a command approval, an interrupt and
//! failed model calls. Every line the server sends must decode into the protocol crate's types.
//!
//! Each test has its own mock, ports and directories, so they run in parallel. With
//! `CODEX_TESTKIT_RECORD_FIXTURES=1` they also rewrite the protocol crate's recorded fixtures.

mod common;

use codex_client_testkit::{
    AppServerHarness, Error, ExecCommand, Matcher, MockResponse, StallGate,
};
use common::*;
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn simple_streamed_turn() -> Result<(), Error> {
    let Some(mut h) = AppServerHarness::start("simple_streamed_turn").await? else {
        return Ok(());
    };
    let deltas = ["Hello", ", ", "offline", " world", "!"];
    h.mock()
        .push(MockResponse::deltas(deltas).with_delay(Duration::from_millis(2)));

    let thread_id = h.start_thread(json!({})).await?;
    let turn_id = h.start_turn(&thread_id, "Say hello").await?;
    let turn = wait_turn_completed(h.server(), &turn_id).await;

    assert_eq!(turn["status"], "completed", "{turn}");
    let all = messages(h.server());
    let expected = deltas.concat();
    assert_eq!(
        deltas_of_turn(&all, &turn_id),
        deltas,
        "every delta arrived, in order"
    );
    let agent = completed_items(&all, &turn_id, "agentMessage");
    assert_eq!(agent.len(), 1);
    assert_eq!(agent[0]["text"], expected.as_str());
    assert_eq!(
        turn["items"][0]["text"],
        expected.as_str(),
        "the summary carries the final message"
    );

    let request = h.mock().wait_for_request(0, TURN_TIMEOUT).await?;
    assert_eq!(request.last_user_text().as_deref(), Some("Say hello"));
    assert_eq!(request.session_id(), Some(thread_id.as_str()));
    assert_eq!(h.mock().request_count(), 1);
    assert_eq!(
        request.path, "/v1/responses",
        "codex asks the provider for nothing else"
    );

    assert_every_line_decodes(h.server());
    record_fixture(h.server(), "simple_turn");
    let status = h.shutdown().await?;
    assert!(
        status.success(),
        "closing stdin ends the server cleanly: {status}"
    );
    Ok(())
}

#[tokio::test]
async fn concurrent_turns_on_two_threads() -> Result<(), Error> {
    let Some(mut h) = AppServerHarness::start("concurrent_turns_on_two_threads").await? else {
        return Ok(());
    };
    // Both streams stall half-way until both model requests are in flight, so the turns overlap
    // by construction, not by timing luck.
    let gate = StallGate::new();
    let a = ["A1 ", "A2 ", "A3"];
    let b = ["B1 ", "B2 ", "B3 ", "B4"];
    h.mock().route(
        Matcher::user_text_contains("[thread-a]"),
        MockResponse::stalled(a, &gate),
    );
    h.mock().route(
        Matcher::user_text_contains("[thread-b]"),
        MockResponse::stalled(b, &gate),
    );

    let thread_a = h.start_thread(json!({})).await?;
    let thread_b = h.start_thread(json!({})).await?;
    let input = |text: &str| json!([{"type": "text", "text": text}]);
    let req_a = h
        .server()
        .request(
            "turn/start",
            json!({"threadId": thread_a, "input": input("[thread-a] go")}),
        )
        .await?;
    let req_b = h
        .server()
        .request(
            "turn/start",
            json!({"threadId": thread_b, "input": input("[thread-b] go")}),
        )
        .await?;
    let turn_b = h.server().wait_response(req_b, TURN_TIMEOUT).await?["turn"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let turn_a = h.server().wait_response(req_a, TURN_TIMEOUT).await?["turn"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    assert!(
        gate.wait_stalled(2, TURN_TIMEOUT).await,
        "both model streams should be open at once"
    );
    gate.release();
    let done_a = wait_turn_completed(h.server(), &turn_a).await;
    let done_b = wait_turn_completed(h.server(), &turn_b).await;
    assert_eq!(done_a["status"], "completed");
    assert_eq!(done_b["status"], "completed");

    let all = messages(h.server());
    assert_eq!(deltas_of_turn(&all, &turn_a), a);
    assert_eq!(deltas_of_turn(&all, &turn_b), b);
    for (turn, thread, text) in [
        (&turn_a, &thread_a, a.concat()),
        (&turn_b, &thread_b, b.concat()),
    ] {
        let agent = completed_items(&all, turn, "agentMessage");
        assert_eq!(agent.len(), 1);
        assert_eq!(
            agent[0]["text"],
            text.as_str(),
            "each thread gets exactly its own text"
        );
        // Every notification of the turn names its own thread.
        for m in all
            .iter()
            .filter(|m| m["params"]["turnId"] == turn.as_str())
        {
            assert_eq!(m["params"]["threadId"], thread.as_str(), "{m}");
        }
    }
    // Interleaved: both turns streamed before either completed.
    let first_completed = position(&all, |m| is_notification(m, "turn/completed")).unwrap();
    for turn in [&turn_a, &turn_b] {
        let first_delta = position(&all, |m| {
            is_notification(m, "item/agentMessage/delta") && m["params"]["turnId"] == turn.as_str()
        })
        .unwrap();
        assert!(
            first_delta < first_completed,
            "turn {turn} streamed before the first turn/completed"
        );
    }
    // Each model request was scripted by its own thread's marker and session id.
    let requests = h.mock().requests();
    assert_eq!(requests.len(), 2);
    for r in &requests {
        let text = r.last_user_text().unwrap_or_default();
        let expected = if text.contains("[thread-a]") {
            &thread_a
        } else {
            &thread_b
        };
        assert_eq!(r.session_id(), Some(expected.as_str()));
    }

    assert_every_line_decodes(h.server());
    record_fixture(h.server(), "concurrent_turns");
    Ok(())
}

#[tokio::test]
async fn command_approval_accepted() -> Result<(), Error> {
    let Some(mut h) = AppServerHarness::start("command_approval_accepted").await? else {
        return Ok(());
    };
    h.mock().route_sequence(
        Matcher::Any,
        [
            MockResponse::exec_command("touch approved.txt && echo approved-command-ran"),
            MockResponse::message("The command ran."),
        ],
    );
    let thread_id = h
        .start_thread(json!({"approvalPolicy": "untrusted", "sandbox": "workspace-write"}))
        .await?;
    let turn_id = h.start_turn(&thread_id, "Create the marker file").await?;

    let request = h
        .server()
        .wait_for("an approval request", TURN_TIMEOUT, |m| {
            m["method"] == "item/commandExecution/requestApproval" && m.get("id").is_some()
        })
        .await?;
    let params = &request["params"];
    assert_eq!(params["threadId"], thread_id.as_str());
    assert_eq!(params["turnId"], turn_id.as_str());
    assert!(
        params["command"]
            .as_str()
            .unwrap_or_default()
            .contains("touch approved.txt"),
        "{params}"
    );
    let request_id = request["id"].clone();
    h.server()
        .respond(&request_id, json!({"decision": "accept"}))
        .await?;

    let turn = wait_turn_completed(h.server(), &turn_id).await;
    assert_eq!(turn["status"], "completed", "{turn}");
    assert!(
        h.sandbox().workdir().join("approved.txt").is_file(),
        "the command ran"
    );

    let all = messages(h.server());
    let resolved = all
        .iter()
        .find(|m| is_notification(m, "serverRequest/resolved"))
        .expect("serverRequest/resolved");
    assert_eq!(resolved["params"]["requestId"], request_id);
    let commands = completed_items(&all, &turn_id, "commandExecution");
    assert_eq!(commands.len(), 1);
    assert_eq!(commands[0]["status"], "completed", "{}", commands[0]);
    assert_eq!(commands[0]["exitCode"], 0);
    let agent = completed_items(&all, &turn_id, "agentMessage");
    assert_eq!(agent.last().unwrap()["text"], "The command ran.");

    // The follow-up model request carries the tool output.
    let follow_up = h.mock().wait_for_request(1, TURN_TIMEOUT).await?;
    assert!(follow_up.ends_with_tool_output());
    let outputs = follow_up.function_call_outputs();
    assert_eq!(outputs.len(), 1);
    assert_eq!(outputs[0].0, "call_mock_1");
    assert!(
        outputs[0].1.contains("approved-command-ran"),
        "{}",
        outputs[0].1
    );

    assert_every_line_decodes(h.server());
    record_fixture(h.server(), "command_approval");
    Ok(())
}

#[tokio::test]
async fn escalation_request_declined() -> Result<(), Error> {
    let Some(mut h) = AppServerHarness::start("escalation_request_declined").await? else {
        return Ok(());
    };
    let justification = "The mock model wants to run this outside the sandbox.";
    h.mock().route_sequence(
        Matcher::Any,
        [
            ExecCommand::new("touch declined.txt")
                .escalated(justification)
                .into(),
            MockResponse::message("Understood, not running it."),
        ],
    );
    let thread_id = h
        .start_thread(json!({"approvalPolicy": "on-request", "sandbox": "read-only"}))
        .await?;
    let turn_id = h.start_turn(&thread_id, "Try to escalate").await?;
    let request = h
        .server()
        .wait_for("an approval request", TURN_TIMEOUT, |m| {
            m["method"] == "item/commandExecution/requestApproval" && m.get("id").is_some()
        })
        .await?;
    assert_eq!(request["params"]["reason"], justification);
    h.server()
        .respond(&request["id"], json!({"decision": "decline"}))
        .await?;

    let turn = wait_turn_completed(h.server(), &turn_id).await;
    assert_eq!(
        turn["status"], "completed",
        "a declined command does not end the turn"
    );
    assert!(!h.sandbox().workdir().join("declined.txt").exists());
    let all = messages(h.server());
    let commands = completed_items(&all, &turn_id, "commandExecution");
    assert_eq!(commands.len(), 1);
    assert_eq!(commands[0]["status"], "declined", "{}", commands[0]);
    let follow_up = h.mock().wait_for_request(1, TURN_TIMEOUT).await?;
    assert!(follow_up.ends_with_tool_output());

    assert_every_line_decodes(h.server());
    Ok(())
}

#[tokio::test]
async fn interrupt_mid_stream() -> Result<(), Error> {
    let Some(mut h) = AppServerHarness::start("interrupt_mid_stream").await? else {
        return Ok(());
    };
    let gate = StallGate::new();
    h.mock()
        .push(MockResponse::stalled(["partial ", "answer"], &gate));
    h.mock().push(MockResponse::message("After the interrupt."));

    let thread_id = h.start_thread(json!({})).await?;
    let turn_id = h.start_turn(&thread_id, "Talk for a long time").await?;
    // Both deltas reached the client: the turn is mid-stream.
    for n in 1..=2 {
        h.server()
            .wait_for(&format!("delta {n}"), TURN_TIMEOUT, |m| {
                is_notification(m, "item/agentMessage/delta") && m["params"]["turnId"] == turn_id
            })
            .await?;
    }
    assert!(gate.wait_stalled(1, TURN_TIMEOUT).await);

    let result = h
        .server()
        .call(
            "turn/interrupt",
            json!({"threadId": thread_id, "turnId": turn_id}),
            TURN_TIMEOUT,
        )
        .await?;
    assert_eq!(result, json!({}));
    let turn = wait_turn_completed(h.server(), &turn_id).await;
    assert_eq!(turn["status"], "interrupted", "{turn}");
    assert!(
        gate.wait_disconnected(1, TURN_TIMEOUT).await,
        "codex drops the model stream on interrupt"
    );
    let all = messages(h.server());
    assert!(
        completed_items(&all, &turn_id, "agentMessage").is_empty(),
        "an interrupted message is never completed"
    );

    // The thread is usable afterwards, and the model hears about the interrupt.
    let next = h.start_turn(&thread_id, "Are you still there?").await?;
    let turn = wait_turn_completed(h.server(), &next).await;
    assert_eq!(turn["status"], "completed");
    let request = h.mock().wait_for_request(1, TURN_TIMEOUT).await?;
    assert!(
        request
            .user_texts()
            .iter()
            .any(|t| t.contains("<turn_aborted>")),
        "{:?}",
        request.user_texts()
    );
    assert_eq!(
        request.last_user_text().as_deref(),
        Some("Are you still there?")
    );

    assert_every_line_decodes(h.server());
    record_fixture(h.server(), "interrupt");
    Ok(())
}

#[tokio::test]
async fn failed_model_call_http_500() -> Result<(), Error> {
    let Some(mut h) = AppServerHarness::start("failed_model_call_http_500").await? else {
        return Ok(());
    };
    h.mock()
        .push(MockResponse::http_error(500, "mock forced HTTP 500"));
    let thread_id = h.start_thread(json!({})).await?;
    let turn_id = h.start_turn(&thread_id, "Fail please").await?;
    let turn = wait_turn_completed(h.server(), &turn_id).await;

    assert_eq!(turn["status"], "failed", "{turn}");
    assert_eq!(
        turn["error"]["codexErrorInfo"], "internalServerError",
        "{turn}"
    );
    let all = messages(h.server());
    let error = all
        .iter()
        .find(|m| is_notification(m, "error") && m["params"]["turnId"] == turn_id.as_str())
        .expect("an error notification precedes the failure");
    assert_eq!(error["params"]["willRetry"], false);
    assert_eq!(error["params"]["error"], turn["error"]);
    assert_eq!(h.mock().request_count(), 1, "no retries");

    assert_every_line_decodes(h.server());
    record_fixture(h.server(), "failed_turn");
    Ok(())
}

#[tokio::test]
async fn failed_model_call_response_failed_and_http_400() -> Result<(), Error> {
    let Some(mut h) =
        AppServerHarness::start("failed_model_call_response_failed_and_http_400").await?
    else {
        return Ok(());
    };
    h.mock()
        .push(MockResponse::response_failed("mock forced response.failed"));
    h.mock()
        .push(MockResponse::http_error(400, "mock forced HTTP 400"));
    let thread_id = h.start_thread(json!({})).await?;

    let first = h.start_turn(&thread_id, "Fail in the stream").await?;
    let turn = wait_turn_completed(h.server(), &first).await;
    assert_eq!(turn["status"], "failed", "{turn}");
    let message = turn["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("mock forced response.failed"), "{turn}");

    let second = h.start_turn(&thread_id, "Fail with a 400").await?;
    let turn = wait_turn_completed(h.server(), &second).await;
    assert_eq!(turn["status"], "failed", "{turn}");
    assert_eq!(turn["error"]["codexErrorInfo"], "other", "{turn}");
    let message = turn["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("mock forced HTTP 400"), "{turn}");

    assert_every_line_decodes(h.server());
    record_fixture(h.server(), "failed_turns_stream_and_http_400");
    Ok(())
}

/// Not a scenario: checks that a finished harness leaves no process and no directory behind.
#[tokio::test]
async fn harness_cleans_up_process_and_directories() -> Result<(), Error> {
    let Some(mut h) = AppServerHarness::start("harness_cleans_up").await? else {
        return Ok(());
    };
    let pid = h.server().pid().expect("running");
    let root = h.sandbox().root().to_path_buf();
    h.start_thread(json!({})).await?;
    assert!(process_exists(pid));
    drop(h);
    assert!(!process_exists(pid), "the app-server was killed and reaped");
    assert!(!root.exists(), "the sandbox directories were removed");
    Ok(())
}

#[tokio::test]
async fn harness_cleans_up_when_a_test_panics() {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let outcome = tokio::spawn(async move {
        let Some(mut h) = AppServerHarness::start("harness_cleans_up_on_panic")
            .await
            .expect("start")
        else {
            let _ = tx.send(None);
            return;
        };
        h.start_thread(json!({})).await.expect("thread/start");
        let _ = tx.send(Some((
            h.server().pid().unwrap(),
            h.sandbox().root().to_path_buf(),
        )));
        panic!("a failing test");
    })
    .await;
    assert!(outcome.unwrap_err().is_panic());
    let Some((pid, root)) = rx.await.unwrap() else {
        return; // skipped: no binary
    };
    assert!(
        !process_exists(pid),
        "the app-server was killed during unwinding"
    );
    assert!(
        !root.exists(),
        "the sandbox directories were removed during unwinding"
    );
}

fn process_exists(pid: u32) -> bool {
    // A reaped process has no /proc entry; a zombie would still have one.
    std::path::Path::new(&format!("/proc/{pid}")).exists()
}

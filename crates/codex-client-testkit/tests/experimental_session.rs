//! An experimental-API session against the real `codex app-server`, driven with raw JSON lines:
//! `initialize` asks for `capabilities.experimentalApi`, then a turn runs while a thread's turn
//! queue (`thread/queue/*`) is added to, listed, reordered, updated and deleted from, and the
//! queued submission the server starts when the turn ends runs too.
//!
//! The typed check of these lines needs the protocol crate's `experimental` feature, which this
//! crate's tests do not enable (it would change the stable build of the whole workspace): with
//! `CODEX_TESTKIT_RECORD_FIXTURES=1` the transcript is written to
//! `codex-client-protocol/tests/fixtures/experimental/session.jsonl`, which that crate's
//! `tests/round_trip.rs` decodes and re-serializes with `--features experimental`.

mod common;

use codex_client_testkit::{
    CodexSandbox, Error, MockModel, MockResponse, RawAppServer, STARTUP_TIMEOUT, StallGate,
    require_codex_binary,
};
use common::*;
use serde_json::{Value, json};

fn text(t: &str) -> Value {
    json!([{"type": "text", "text": t}])
}

#[tokio::test]
async fn an_experimental_session_with_a_turn_and_its_queue() -> Result<(), Error> {
    let Some(binary) = require_codex_binary("an_experimental_session_with_a_turn_and_its_queue")
    else {
        return Ok(());
    };
    let mock = MockModel::start().await?;
    let sandbox = CodexSandbox::new(binary, mock.base_url())?;
    let mut server = RawAppServer::spawn(&sandbox.launch())?;
    let info = server
        .call(
            "initialize",
            json!({
                "clientInfo": {"name": "experimental_session", "title": "codex-client-testkit", "version": env!("CARGO_PKG_VERSION")},
                "capabilities": {"experimentalApi": true}
            }),
            STARTUP_TIMEOUT,
        )
        .await?;
    assert!(info["userAgent"].is_string(), "{info}");
    server.notify("initialized", None).await?;

    let thread = server
        .call(
            "thread/start",
            sandbox.thread_start_params(json!({})),
            STARTUP_TIMEOUT,
        )
        .await?;
    let thread_id = thread["thread"]["id"].as_str().unwrap().to_owned();

    // The first turn's model stream is held open, so that what is queued stays queued (an idle
    // thread starts a queued submission at once).
    let gate = StallGate::new();
    mock.push(MockResponse::stalled(["Working", " on it."], &gate));
    mock.push(MockResponse::deltas(["Queued", " answer."]));
    let turn = server
        .call(
            "turn/start",
            json!({"threadId": thread_id, "input": text("hold the thread busy")}),
            TURN_TIMEOUT,
        )
        .await?;
    let first_turn = turn["turn"]["id"].as_str().unwrap().to_owned();
    assert!(gate.wait_stalled(1, TURN_TIMEOUT).await, "the model stream");

    let add = |t: &str| json!({"threadId": thread_id, "input": text(t), "clientUserMessageId": format!("queued-{t}")});
    let a = server
        .call("thread/queue/add", add("first"), TURN_TIMEOUT)
        .await?;
    let b = server
        .call("thread/queue/add", add("second"), TURN_TIMEOUT)
        .await?;
    let (a, b) = (
        a["queuedSubmission"]["id"].as_str().unwrap().to_owned(),
        b["queuedSubmission"]["id"].as_str().unwrap().to_owned(),
    );
    let ids = |list: &Value| -> Vec<String> {
        list["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let list = server
        .call(
            "thread/queue/list",
            json!({"threadId": thread_id}),
            TURN_TIMEOUT,
        )
        .await?;
    assert_eq!(ids(&list), [a.clone(), b.clone()]);
    server
        .call(
            "thread/queue/reorder",
            json!({"threadId": thread_id, "queuedSubmissionIds": [b, a]}),
            TURN_TIMEOUT,
        )
        .await?;
    let updated = server
        .call(
            "thread/queue/update",
            json!({"threadId": thread_id, "queuedSubmissionId": a, "input": text("first, changed")}),
            TURN_TIMEOUT,
        )
        .await?;
    assert_eq!(updated["queuedSubmission"]["id"], a.as_str());
    server
        .call(
            "thread/queue/delete",
            json!({"threadId": thread_id, "queuedSubmissionId": b}),
            TURN_TIMEOUT,
        )
        .await?;
    let list = server
        .call(
            "thread/queue/list",
            json!({"threadId": thread_id}),
            TURN_TIMEOUT,
        )
        .await?;
    assert_eq!(ids(&list), [a]);

    // The turn ends; the server starts the queued submission as the next turn.
    gate.release();
    let done = wait_turn_completed(&mut server, &first_turn).await;
    assert_eq!(done["status"], "completed", "{done}");
    let next = server
        .wait_for("the queued turn's turn/started", TURN_TIMEOUT, |m| {
            is_notification(m, "turn/started") && m["params"]["turn"]["id"] != first_turn.as_str()
        })
        .await?;
    let queued_turn = next["params"]["turn"]["id"].as_str().unwrap().to_owned();
    let done = wait_turn_completed(&mut server, &queued_turn).await;
    assert_eq!(done["status"], "completed", "{done}");
    let all = messages(&server);
    assert_eq!(deltas_of_turn(&all, &queued_turn), ["Queued", " answer."]);
    let user = mock.wait_for_request(1, TURN_TIMEOUT).await?;
    assert_eq!(user.last_user_text().as_deref(), Some("first, changed"));

    record_fixture(&server, "experimental/session");
    let status = server.shutdown(STARTUP_TIMEOUT).await?;
    assert!(status.success(), "{status}");
    Ok(())
}

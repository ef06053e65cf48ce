//! The experimental API (`--features experimental`) against the real `codex app-server`,
//! offline: `initialize` asks for it by default, and a thread's turn queue (`thread/queue/*`)
//! works through `Thread::queue_*`. Skipped loudly when the binary is missing, unless
//! CODEX_CLIENT_REQUIRE_APP_SERVER=1.
#![cfg(feature = "experimental")]

mod common;

use codex_client::{ApprovalMode, Sandbox, ThreadOptions};
use codex_client_testkit::{MockResponse, StallGate};
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_threads_turn_queue_adds_lists_reorders_updates_and_deletes() {
    let Some(env) = common::start_app_server("experimental_queue", |s| s, |l| l).await else {
        return;
    };
    let options = ThreadOptions::new()
        .cwd(env.sandbox.workdir())
        .approval_mode(ApprovalMode::DenyAll)
        .sandbox(Sandbox::ReadOnly);
    let thread = common::within(TIMEOUT, "thread/start", env.codex.threads().start(options))
        .await
        .expect("thread/start");
    // A running turn (its model stream held open) keeps what is queued in the queue: on an
    // idle thread the server starts a queued submission at once.
    let gate = StallGate::new();
    env.mock.push(MockResponse::stalled(["working "], &gate));
    let running = common::within(TIMEOUT, "turn/start", thread.turn("hold the thread busy"))
        .await
        .expect("turn/start");
    let first = common::within(TIMEOUT, "queue add", thread.queue_add("first"))
        .await
        .expect("thread/queue/add (the experimental API was granted)");
    let second = common::within(TIMEOUT, "queue add", thread.queue_add("second"))
        .await
        .expect("thread/queue/add");
    let ids = |q: Vec<codex_client::protocol::QueuedSubmission>| -> Vec<String> {
        q.into_iter().map(|s| s.id).collect()
    };
    let listed = common::within(TIMEOUT, "queue list", thread.queue())
        .await
        .unwrap();
    assert_eq!(ids(listed), vec![first.id.clone(), second.id.clone()]);

    common::within(
        TIMEOUT,
        "queue reorder",
        thread.queue_reorder(&[second.id.clone(), first.id.clone()]),
    )
    .await
    .unwrap();
    let listed = common::within(TIMEOUT, "queue list", thread.queue())
        .await
        .unwrap();
    assert_eq!(ids(listed), vec![second.id.clone(), first.id.clone()]);

    let updated = common::within(
        TIMEOUT,
        "queue update",
        thread.queue_update(&first.id, "changed"),
    )
    .await
    .unwrap();
    assert_eq!(updated.id, first.id);

    common::within(TIMEOUT, "queue delete", thread.queue_delete(&second.id))
        .await
        .unwrap();
    let err = common::within(TIMEOUT, "queue delete", thread.queue_delete(&second.id)).await;
    assert!(err.is_err(), "deleting twice: {err:?}");
    let listed = common::within(TIMEOUT, "queue list", thread.queue())
        .await
        .unwrap();
    assert_eq!(ids(listed), vec![first.id.clone()]);
    gate.release();
    drop(running);
}

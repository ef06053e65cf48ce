//! The turn lifecycle against the real `codex app-server` (offline, the test kit's mock model):
//! a busy thread (refuse / queue / steer, and a join the client could not foresee), cancellation
//! (a dropped `run()` future or `TurnHandle`, a `timeout` around `run()`, `detach`), the bound
//! on the server's retries, and the error `run()` returns after the connection died.
//!
//! Every wait is bounded; the mock's `StallGate` keeps a turn running for as long as a test
//! needs (its model stream stays open until released).

mod common;

use codex_client::protocol::{ThreadItem, TurnStatus};
use codex_client::{
    ApprovalMode, Error, Sandbox, Thread, ThreadOptions, TurnOptions, TurnOrigin, TurnResult,
    WhenBusy,
};
use codex_client_testkit::{MockResponse, StallGate};
use futures::StreamExt;
use std::future::Future;
use std::time::Duration;

const TURN_TIMEOUT: Duration = Duration::from_secs(60);

use common::AppServerEnv as Env;

async fn start(name: &str) -> Option<Env> {
    common::start_app_server(name, |s| s, |l| l).await
}

async fn thread(env: &Env) -> Thread {
    let options = ThreadOptions::new()
        .cwd(env.sandbox.workdir())
        .approval_mode(ApprovalMode::DenyAll)
        .sandbox(Sandbox::ReadOnly);
    env.codex
        .threads()
        .start(options)
        .await
        .expect("thread/start")
}

async fn within<T>(what: &str, fut: impl Future<Output = T>) -> T {
    common::within(TURN_TIMEOUT, what, fut).await
}

fn user_texts(result: &TurnResult) -> Vec<String> {
    let mut out = Vec::new();
    for item in &result.items {
        if let ThreadItem::UserMessage(message) = item {
            for input in &message.content {
                if let codex_client::protocol::UserInput::Text(t) = input {
                    out.push(t.text.clone());
                }
            }
        }
    }
    out
}

/// The server's status of `turn_id`, once it is no longer in progress (bounded wait on the
/// server's record: `thread/read` until the turn is finished).
async fn server_status(thread: &Thread, turn_id: &str) -> TurnStatus {
    within("the server records the turn's end", async {
        loop {
            let now = thread.read_with_turns().await.expect("thread/read");
            let turn = now.turns.iter().find(|t| t.id == turn_id).cloned();
            match turn {
                Some(turn) if turn.status != TurnStatus::InProgress => return turn.status,
                _ => tokio::task::yield_now().await,
            }
            // Ask again only after the thread's next notification (or a short tick).
            let mut events = thread.notifications();
            let _ = tokio::time::timeout(Duration::from_millis(200), events.next()).await;
        }
    })
    .await
}

#[tokio::test]
async fn a_second_turn_on_a_busy_thread_is_refused_before_anything_is_sent() {
    let Some(env) = start("lifecycle_refuse").await else {
        return;
    };
    let gate = StallGate::new();
    env.mock.push(MockResponse::stalled(["working "], &gate));
    env.mock.push(MockResponse::message("second answer"));
    let thread = thread(&env).await;
    let first = thread.turn("first prompt").await.expect("turn/start");
    assert!(
        gate.wait_stalled(1, TURN_TIMEOUT).await,
        "the first turn runs"
    );
    let err = thread
        .turn("second prompt")
        .await
        .expect_err("the thread is busy");
    match &err {
        Error::ThreadBusy { thread_id, turn_id } => {
            assert_eq!(thread_id, thread.id());
            assert_eq!(turn_id.as_deref(), Some(first.id()));
        }
        other => panic!("expected ThreadBusy, got {other:?}"),
    }
    assert!(err.to_string().contains("WhenBusy::Queue"), "{err}");
    assert_eq!(
        env.mock.request_count(),
        1,
        "nothing was sent for the second prompt"
    );
    gate.release();
    let result = within("first turn", first.run()).await.expect("first");
    assert_eq!(user_texts(&result), ["first prompt"]);
    assert_eq!(result.origin, TurnOrigin::Started);
    // Free again: the next turn is its own.
    let next = within("next turn", thread.run("second prompt"))
        .await
        .expect("the thread is free after the turn");
    assert_ne!(next.id, result.id);
    assert_eq!(next.final_response(), Some("second answer"));
}

#[tokio::test]
async fn queued_turns_run_one_after_the_other_in_order() {
    let Some(env) = start("lifecycle_queue").await else {
        return;
    };
    let gate = StallGate::new();
    env.mock.push(MockResponse::stalled(["one "], &gate));
    env.mock.push(MockResponse::message("answer two"));
    env.mock.push(MockResponse::message("answer three"));
    let thread = thread(&env).await;
    let first = thread.turn("prompt one").await.expect("turn/start");
    assert!(gate.wait_stalled(1, TURN_TIMEOUT).await);
    let queued = |text: &'static str| {
        let thread = thread.clone();
        async move {
            thread
                .run_with(text, TurnOptions::new().when_busy(WhenBusy::Queue))
                .await
        }
    };
    let second = tokio::spawn(queued("prompt two"));
    // The third asks after the second is waiting (FIFO): wait for the second to be queued by
    // giving it the runtime until it blocks.
    for _ in 0..50 {
        tokio::task::yield_now().await;
    }
    let third = tokio::spawn(queued("prompt three"));
    for _ in 0..50 {
        tokio::task::yield_now().await;
    }
    assert_eq!(
        env.mock.request_count(),
        1,
        "queued turns wait, nothing sent"
    );
    gate.release();
    let one = within("first", first.run()).await.expect("first");
    let two = within("second", second).await.unwrap().expect("second");
    let three = within("third", third).await.unwrap().expect("third");
    assert_eq!(user_texts(&one), ["prompt one"]);
    assert_eq!(user_texts(&two), ["prompt two"]);
    assert_eq!(user_texts(&three), ["prompt three"]);
    assert_eq!(two.final_response(), Some("answer two"));
    assert_eq!(three.final_response(), Some("answer three"));
    let ids = [&one.id, &two.id, &three.id];
    assert!(
        ids[0] != ids[1] && ids[1] != ids[2] && ids[0] != ids[2],
        "{ids:?}"
    );
    let texts: Vec<_> = env
        .mock
        .requests()
        .iter()
        .filter_map(|r| r.last_user_text())
        .collect();
    assert_eq!(texts, ["prompt one", "prompt two", "prompt three"], "FIFO");
}

#[tokio::test]
async fn when_busy_steer_adds_the_input_to_the_running_turn() {
    let Some(env) = start("lifecycle_steer").await else {
        return;
    };
    let gate = StallGate::new();
    env.mock.push(MockResponse::stalled(["draft "], &gate));
    env.mock.push(MockResponse::message("steered answer"));
    let thread = thread(&env).await;
    let first = thread.turn("write a poem").await.expect("turn/start");
    assert!(gate.wait_stalled(1, TURN_TIMEOUT).await);
    let steered = within(
        "steer",
        thread.turn_with(
            "about the sea",
            TurnOptions::new().when_busy(WhenBusy::Steer),
        ),
    )
    .await
    .expect("steered");
    assert_eq!(steered.origin(), TurnOrigin::Steered);
    assert_eq!(steered.id(), first.id(), "the same turn");
    gate.release();
    let (a, b) = tokio::join!(first.run(), steered.run());
    let (a, b) = (a.expect("owner's result"), b.expect("steerer's result"));
    assert_eq!(user_texts(&a), ["write a poem", "about the sea"]);
    assert_eq!(b.origin, TurnOrigin::Steered);
    assert_eq!(b.final_response(), Some("steered answer"));
}

#[tokio::test]
async fn a_join_the_client_could_not_foresee_is_reported_on_the_handle() {
    let Some(env) = start("lifecycle_join").await else {
        return;
    };
    let gate = StallGate::new();
    env.mock.push(MockResponse::stalled(["theirs "], &gate));
    env.mock.push(MockResponse::message("joined answer"));
    let thread = thread(&env).await;
    // A turn this client's `Thread` knows nothing of: started through the raw connection (as
    // another client of the same app-server would).
    let (_response, other) = env
        .codex
        .connection()
        .start_turn(common::turn_params(thread.id(), "someone else's prompt"))
        .await
        .expect("raw turn/start");
    assert!(gate.wait_stalled(1, TURN_TIMEOUT).await);
    let mut joined = thread.turn("my prompt").await.expect("turn/start answers");
    assert_eq!(joined.id(), other.turn_id(), "the server folded it in");
    // The first events tell.
    while joined.origin() == TurnOrigin::Started {
        let event = within("an event", joined.next()).await;
        assert!(event.is_some(), "the stream goes on");
    }
    assert_eq!(joined.origin(), TurnOrigin::Joined);
    gate.release();
    let result = within("joined turn", joined.run()).await.expect("result");
    assert_eq!(result.origin, TurnOrigin::Joined);
    assert_eq!(result.final_response(), Some("joined answer"));
    drop(other);
}

#[tokio::test]
async fn a_timeout_around_run_interrupts_the_turn_and_the_next_prompt_is_a_turn_of_its_own() {
    let Some(env) = start("lifecycle_timeout").await else {
        return;
    };
    let gate = StallGate::new();
    env.mock
        .push(MockResponse::stalled(["stale partial answer"], &gate));
    env.mock.push(MockResponse::message("fresh answer"));
    let thread = thread(&env).await;
    // The timeout expires while the model is streaming: the `run()` future is dropped.
    let mut run = Box::pin(thread.run("slow prompt"));
    tokio::select! {
        r = &mut run => panic!("the stalled turn cannot finish: {r:?}"),
        stalled = gate.wait_stalled(1, TURN_TIMEOUT) => assert!(stalled),
    }
    let expired = tokio::time::timeout(Duration::from_millis(50), &mut run).await;
    assert!(expired.is_err(), "still running");
    drop(run);
    let stale_id = thread.read_with_turns().await.expect("read").turns[0]
        .id
        .clone();
    // The next prompt (default WhenBusy::Refuse) waits for the interrupted turn, then runs.
    let next = within("next prompt", thread.run("next prompt"))
        .await
        .expect("the next prompt runs");
    assert_ne!(next.id, stale_id, "a turn of its own");
    assert_eq!(user_texts(&next), ["next prompt"]);
    assert_eq!(next.final_response(), Some("fresh answer"));
    assert!(
        !next
            .items
            .iter()
            .any(|i| matches!(i, ThreadItem::AgentMessage(m) if m.text.contains("stale"))),
        "no stale partial message: {:?}",
        next.items
    );
    assert_eq!(
        server_status(&thread, &stale_id).await,
        TurnStatus::Interrupted
    );
    gate.release();
}

/// A first turn (kept running by the mock) whose caller gave up (`abandon`) before
/// `turn/start` answered; then a second prompt. The second must be a turn of its own, and the
/// server must record the first as interrupted.
async fn an_abandoned_start_is_interrupted<F, Fut>(name: &str, abandon: F)
where
    F: FnOnce(Thread) -> Fut,
    Fut: Future<Output = ()>,
{
    let Some(env) = start(name).await else {
        return;
    };
    let gate = StallGate::new();
    env.mock.push(MockResponse::stalled(["never seen"], &gate));
    env.mock.push(MockResponse::message("fresh answer"));
    let thread = thread(&env).await;
    abandon(thread.clone()).await;
    let next = within("next prompt", thread.run("next prompt"))
        .await
        .expect("the next prompt runs");
    assert_eq!(user_texts(&next), ["next prompt"]);
    assert_eq!(next.final_response(), Some("fresh answer"));
    let turns = thread.read_with_turns().await.expect("read").turns;
    assert_eq!(
        turns.len(),
        2,
        "the abandoned start made one turn: {turns:?}"
    );
    assert_eq!(
        server_status(&thread, &turns[0].id).await,
        TurnStatus::Interrupted
    );
    gate.release();
}

#[tokio::test]
async fn a_timeout_that_expires_before_turn_start_answers_still_interrupts_the_turn() {
    an_abandoned_start_is_interrupted("lifecycle_early_timeout", |thread| async move {
        // Far shorter than a `turn/start` round trip: the caller is gone before the answer.
        let expired =
            tokio::time::timeout(Duration::from_micros(1), thread.run("slow prompt")).await;
        assert!(expired.is_err());
    })
    .await;
}

#[tokio::test]
async fn a_start_timeout_whose_turn_did_start_interrupts_it() {
    an_abandoned_start_is_interrupted("lifecycle_start_timeout", |thread| async move {
        let options = TurnOptions::new().start_timeout(Duration::from_micros(1));
        let err = thread
            .turn_with("slow prompt", options)
            .await
            .expect_err("start timeout");
        assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
    })
    .await;
}

#[tokio::test]
async fn a_detached_turn_runs_on_and_keeps_the_thread_busy_until_it_ends() {
    let Some(env) = start("lifecycle_detach").await else {
        return;
    };
    let gate = StallGate::new();
    env.mock.push(MockResponse::stalled(["background "], &gate));
    env.mock.push(MockResponse::message("after"));
    let thread = thread(&env).await;
    let turn = thread.turn("background job").await.expect("turn/start");
    let turn_id = turn.id().to_owned();
    assert!(gate.wait_stalled(1, TURN_TIMEOUT).await);
    let control = turn.detach();
    assert_eq!(control.turn_id(), turn_id);
    let err = thread.turn("meanwhile").await.expect_err("still busy");
    assert!(matches!(err, Error::ThreadBusy { .. }), "{err:?}");
    gate.release();
    assert_eq!(
        server_status(&thread, &turn_id).await,
        TurnStatus::Completed,
        "not interrupted"
    );
    let next = within(
        "queued behind the detached turn",
        thread.run_with("after", TurnOptions::new().when_busy(WhenBusy::Queue)),
    )
    .await
    .expect("next");
    assert_eq!(next.final_response(), Some("after"));
}

/// An app-server whose provider retries a broken model stream up to 20 times, and a mock
/// that always answers HTTP 500: every turn retries, with `error {willRetry: true}` each time.
async fn retrying(name: &str) -> Option<(Env, Thread)> {
    let env = common::start_app_server(
        name,
        |s| s.config("model_providers.mock.stream_max_retries", "20"),
        |l| l,
    )
    .await?;
    env.mock
        .set_default(MockResponse::http_error(500, "mock forced HTTP 500"));
    let thread = thread(&env).await;
    Some((env, thread))
}

#[tokio::test]
async fn retries_are_kept_and_bounded_and_the_bound_interrupts_the_turn() {
    let Some((_env, thread)) = retrying("lifecycle_retries").await else {
        return;
    };
    let mut turn = thread
        .turn_with("doomed", TurnOptions::new().max_retries(2))
        .await
        .expect("turn/start");
    let turn_id = turn.id().to_owned();
    let mut last = None;
    while let Some(event) = within("the turn's events", turn.next()).await {
        if let Err(err) = event {
            last = Some(err);
        }
    }
    let err = last.expect("the stream ends with an error");
    match &err {
        Error::TurnRetriesExhausted {
            turn_id: id,
            retries,
            last_error,
            ..
        } => {
            assert_eq!(id, &turn_id);
            assert_eq!(*retries, 3, "the third retry is past the bound of 2");
            assert!(last_error.contains("Reconnecting"), "{last_error}");
        }
        other => panic!("expected TurnRetriesExhausted, got {other:?}"),
    }
    let kept = turn.snapshot().errors;
    assert_eq!(kept.len(), 3, "every retry is in the result: {kept:?}");
    assert!(kept.iter().all(|e| e.will_retry));
    // `run()` afterwards returns the same error.
    let again = turn.run().await.expect_err("the same error");
    assert!(
        matches!(again, Error::TurnRetriesExhausted { .. }),
        "{again:?}"
    );
    assert_eq!(
        server_status(&thread, &turn_id).await,
        TurnStatus::Interrupted
    );
}

#[tokio::test]
async fn retry_for_bounds_the_time_the_server_may_keep_retrying() {
    let Some((_env, thread)) = retrying("lifecycle_retry_for").await else {
        return;
    };
    let options = TurnOptions::new().retry_for(Duration::from_millis(300));
    let err = within("bounded turn", thread.run_with("doomed", options))
        .await
        .expect_err("gave up");
    match &err {
        Error::TurnRetriesExhausted {
            retries, elapsed, ..
        } => {
            assert!(*retries >= 1);
            assert!(*elapsed >= Duration::from_millis(300), "{elapsed:?}");
        }
        other => panic!("expected TurnRetriesExhausted, got {other:?}"),
    }
}

#[tokio::test]
async fn after_the_stream_yielded_closed_run_returns_closed() {
    let Some(env) = start("lifecycle_closed").await else {
        return;
    };
    let gate = StallGate::new();
    env.mock.push(MockResponse::stalled(["partial"], &gate));
    let thread = thread(&env).await;
    let mut turn = thread.turn("a turn").await.expect("turn/start");
    assert!(gate.wait_stalled(1, TURN_TIMEOUT).await);
    let pid = env.codex.connection().pid().expect("a process");
    let killed = std::process::Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let mut closed = false;
    while let Some(event) = within("the stream ends", turn.next()).await {
        if let Err(err) = event {
            assert!(err.is_closed(), "{err:?}");
            closed = true;
        }
    }
    assert!(closed, "the stream yielded Closed");
    let err = turn.run().await.expect_err("the connection is gone");
    assert!(
        err.is_closed(),
        "run() after Closed returns Closed: {err:?}"
    );
    gate.release();
}

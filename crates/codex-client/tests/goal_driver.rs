//! The goal driver against a scripted server on the in-memory transport: one logical turn over
//! the physical turns the server starts by itself, every way a goal ends, steer and interrupt
//! following the running turn, and the clean-up. The scripts follow what codex 0.163.0 sends
//! (captured from the real server, see the goal part's notes): the `thread/goal/set` response,
//! then `thread/goal/updated` (no turn id), then per turn `thread/status/changed` active,
//! `turn/started`, the items, `thread/goal/updated` with the turn's id and accounting,
//! `thread/status/changed` idle, `turn/completed`. Every wait is bounded; nothing sleeps.

mod common;
#[path = "goal_driver/script.rs"]
mod script;

use codex_client::protocol::{ThreadGoalStatus, TurnStatus};
use codex_client::{Error, GoalOptions};
use common::{T, notification, within};
use script::*;
use serde_json::{Value, json};
use std::time::Duration;
use tokio::sync::mpsc;

#[tokio::test]
async fn a_goal_completed_in_one_turn_is_one_logical_turn() {
    let (codex, thread, mut server) = setup().await;
    let goal = start_goal(&thread, &mut server, GoalOptions::new()).await;
    assert_eq!((goal.id(), goal.thread_id()), ("turn-1", TH));
    assert_eq!(goal.turn_ids(), ["turn-1"]);
    let (tx, _rx) = mpsc::unbounded_channel();
    let task = consume(goal, tx);
    server
        .goal_turn("turn-1", "done", "complete", 15, vec![])
        .await;
    let (seen, result) = ended(task).await;
    assert_eq!(
        seen.events,
        [
            "goal:-:active",
            "started:turn-1",
            "item/started",
            "delta:done",
            "item/completed",
            "goal:turn-1:complete",
            "completed:turn-1:completed",
        ]
    );
    let done = result.expect("the goal's result");
    assert_eq!(done.status(), Some(&ThreadGoalStatus::Complete));
    assert_eq!(done.goal.as_ref().map(|g| g.tokens_used), Some(15));
    assert_eq!(done.turn_ids, ["turn-1"]);
    assert_eq!(done.turn.id, "turn-1");
    assert_eq!(done.turn.status, TurnStatus::Completed);
    assert_eq!(done.final_response(), Some("done"));
    assert!(!done.turn_limit_reached);
    // The driver asked nothing more, and nothing of the goal is left in the router.
    assert!(server.peer.try_recv().is_none());
    let stats = codex.connection().stats();
    assert_eq!(
        (stats.thread_subscriptions, stats.waiters),
        (0, 0),
        "{stats:?}"
    );
}

#[tokio::test]
async fn continuations_merge_into_one_logical_turn_until_the_token_budget_is_used_up() {
    let (_codex, thread, mut server) = setup().await;
    let goal = start_goal(&thread, &mut server, GoalOptions::new().token_budget(40)).await;
    let (tx, _rx) = mpsc::unbounded_channel();
    let task = consume(goal, tx);
    // The server's three turns: 15 tokens each, the third passes the budget of 40.
    server
        .goal_turn("turn-1", "step 1", "active", 15, vec![])
        .await;
    server.start_turn("turn-2");
    server
        .goal_turn("turn-2", "step 2", "active", 30, vec![])
        .await;
    server.start_turn("turn-3");
    server
        .goal_turn("turn-3", "step 3", "budgetLimited", 45, vec![])
        .await;
    let (seen, result) = ended(task).await;

    // One start and one completion, both with the logical id; every physical turn's events.
    let started: Vec<_> = seen
        .events
        .iter()
        .filter(|e| e.starts_with("started"))
        .collect();
    let completed: Vec<_> = seen
        .events
        .iter()
        .filter(|e| e.starts_with("completed"))
        .collect();
    assert_eq!(started, ["started:turn-1"]);
    assert_eq!(completed, ["completed:turn-1:completed"]);
    assert_eq!(
        seen.events.last().map(String::as_str),
        Some("completed:turn-1:completed")
    );
    let deltas: Vec<_> = seen
        .events
        .iter()
        .filter(|e| e.starts_with("delta"))
        .collect();
    assert_eq!(deltas, ["delta:step 1", "delta:step 2", "delta:step 3"]);

    // Along the way: the turns so far, the merged items so far, still in progress, and the
    // control following the running turn.
    let ids = |n: usize| (1..=n).map(|i| format!("turn-{i}")).collect::<Vec<_>>();
    assert_eq!(
        seen.along,
        [
            (ids(1), 1, TurnStatus::InProgress, Some("turn-1".to_owned())),
            (ids(2), 2, TurnStatus::InProgress, Some("turn-2".to_owned())),
            (ids(3), 3, TurnStatus::InProgress, Some("turn-3".to_owned())),
        ]
    );

    let done = result.expect("the goal's result");
    assert_eq!(done.status(), Some(&ThreadGoalStatus::BudgetLimited));
    assert_eq!(done.turn_ids, ids(3));
    assert_eq!(texts(&done), ["step 1", "step 2", "step 3"]);
    assert_eq!(done.final_response(), Some("step 3"));
    // The logical turn: the first turn's id and start, the last one's end.
    assert_eq!(done.turn.id, "turn-1");
    assert_eq!(done.turn.started_at, Some(1796284810));
    assert_eq!(done.turn.completed_at, Some(1796284835));
    assert_eq!(done.turn.status, TurnStatus::Completed);
    assert!(!done.turn_limit_reached);
}

#[tokio::test]
async fn the_turn_limit_pauses_the_goal_and_interrupts_the_turn_started_past_it() {
    let (_codex, thread, mut server) = setup().await;
    let goal = start_goal(&thread, &mut server, GoalOptions::new().max_turns(2)).await;
    let (tx, _rx) = mpsc::unbounded_channel();
    let task = consume(goal, tx);
    server.goal_turn("turn-1", "a", "active", 15, vec![]).await;
    server.start_turn("turn-2");
    // The goal is still active after its second turn, and the server has started a third
    // before the SDK can pause it.
    server
        .goal_turn(
            "turn-2",
            "b",
            "active",
            30,
            vec![thread_status("active"), turn_started("turn-3")],
        )
        .await;
    let (id, params) = server.expect("thread/goal/set").await;
    assert_eq!(
        (&params["status"], &params["threadId"]),
        (&json!("paused"), &json!(TH))
    );
    assert!(
        params.get("objective").is_none_or(Value::is_null),
        "{params}"
    );
    server.answer(&id, json!({"goal": goal_json("paused", 30)}));
    server.send(goal_updated(None, "paused", 30));
    let (id, params) = server.expect("turn/interrupt").await;
    assert_eq!(params, json!({"threadId": TH, "turnId": "turn-3"}));
    server.answer(&id, json!({}));
    server.send(thread_status("idle"));
    server.send(turn_completed("turn-3", "interrupted", None));
    server.answer_goal_get(Some(goal_json("paused", 30))).await;

    let (seen, result) = ended(task).await;
    assert_eq!(
        seen.events.last().map(String::as_str),
        Some("completed:turn-1:interrupted")
    );
    let done = result.expect("an interrupted goal is a result, not an error");
    assert!(done.turn_limit_reached);
    assert_eq!(done.status(), Some(&ThreadGoalStatus::Paused));
    assert_eq!(done.turn_ids, ["turn-1", "turn-2", "turn-3"]);
    assert_eq!(done.turn.status, TurnStatus::Interrupted);
    assert_eq!(texts(&done), ["a", "b"]);
}

#[tokio::test]
async fn at_the_turn_limit_between_turns_the_pause_ends_the_goal() {
    let (_codex, thread, mut server) = setup().await;
    let goal = start_goal(&thread, &mut server, GoalOptions::new().max_turns(1)).await;
    let (tx, _rx) = mpsc::unbounded_channel();
    let task = consume(goal, tx);
    server.goal_turn("turn-1", "a", "active", 15, vec![]).await;
    let (id, params) = server.expect("thread/goal/set").await;
    assert_eq!(params["status"], "paused");
    server.answer(&id, json!({"goal": goal_json("paused", 15)}));
    server.send(goal_updated(None, "paused", 15));
    let (seen, result) = ended(task).await;
    assert_eq!(
        seen.events.last().map(String::as_str),
        Some("completed:turn-1:completed")
    );
    let done = result.expect("the goal's result");
    assert!(done.turn_limit_reached);
    assert_eq!(done.status(), Some(&ThreadGoalStatus::Paused));
    assert_eq!(done.turn_ids, ["turn-1"]);
    // No interrupt: nothing was running.
    assert!(server.peer.try_recv().is_none());
}

#[tokio::test]
async fn interrupt_pauses_the_goal_then_interrupts_the_running_turn() {
    let (_codex, thread, mut server) = setup().await;
    let goal = start_goal(&thread, &mut server, GoalOptions::new()).await;
    let control = goal.control();
    assert_eq!(control.current_turn_id().as_deref(), Some("turn-1"));
    let (tx, mut rx) = mpsc::unbounded_channel();
    let task = consume(goal, tx);
    server.send_all(agent_message("turn-1", "half")[..2].to_vec());
    wait_event(&mut rx, "delta:half").await;

    let c = control.clone();
    let interrupt = tokio::spawn(async move { c.interrupt().await });
    let (id, params) = server.expect("thread/goal/set").await;
    assert_eq!(params["status"], "paused");
    server.answer(&id, json!({"goal": goal_json("paused", 0)}));
    server.send(goal_updated(None, "paused", 0));
    let (id, params) = server.expect("turn/interrupt").await;
    assert_eq!(params, json!({"threadId": TH, "turnId": "turn-1"}));
    server.answer(&id, json!({}));
    within(T, "interrupt", interrupt)
        .await
        .unwrap()
        .expect("interrupt");
    server.send(thread_status("idle"));
    server.send(turn_completed("turn-1", "interrupted", None));
    server.answer_goal_get(Some(goal_json("paused", 0))).await;

    let (seen, result) = ended(task).await;
    assert_eq!(
        seen.events[seen.events.len() - 2..],
        ["goal:-:paused", "completed:turn-1:interrupted"]
    );
    let done = result.expect("an interrupted goal is a result");
    assert_eq!(done.turn.status, TurnStatus::Interrupted);
    assert_eq!(done.status(), Some(&ThreadGoalStatus::Paused));
    assert!(!done.turn_limit_reached);

    // Over: nothing to steer, interrupting again asks nothing of the server.
    assert_eq!(control.current_turn_id(), None);
    let err = within(T, "steer after the end", control.steer("more"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidOptions(_)), "{err}");
    within(T, "interrupt after the end", control.interrupt())
        .await
        .expect("a no-op");
    assert!(server.peer.try_recv().is_none());
}

#[tokio::test]
async fn steer_goes_to_the_physical_turn_running_now() {
    let (_codex, thread, mut server) = setup().await;
    let goal = start_goal(&thread, &mut server, GoalOptions::new()).await;
    let control = goal.control();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let task = consume(goal, tx);

    let steer = |text: &'static str| {
        let c = control.clone();
        tokio::spawn(async move { c.steer(text).await })
    };
    let call = steer("first");
    let (id, params) = server.expect("turn/steer").await;
    assert_eq!(
        (&params["expectedTurnId"], &params["threadId"]),
        (&json!("turn-1"), &json!(TH))
    );
    assert_eq!(params["input"][0]["text"], "first");
    server.answer(&id, json!({"turnId": "turn-1"}));
    within(T, "steer", call)
        .await
        .unwrap()
        .expect("steer on turn-1");

    server
        .goal_turn("turn-1", "one", "active", 15, vec![])
        .await;
    server.start_turn("turn-2");
    server.send_all(agent_message("turn-2", "two")[..2].to_vec());
    wait_event(&mut rx, "delta:two").await;
    let call = steer("second");
    let (id, params) = server.expect("turn/steer").await;
    assert_eq!(params["expectedTurnId"], "turn-2");
    server.answer(&id, json!({"turnId": "turn-2"}));
    within(T, "steer", call)
        .await
        .unwrap()
        .expect("steer on turn-2");

    server.send_all(agent_message("turn-2", "two")[2..].to_vec());
    server.finish_turn("turn-2", "complete", 30, "completed", Some("two"));
    server
        .answer_goal_get(Some(goal_json("complete", 30)))
        .await;
    let (_, result) = ended(task).await;
    assert_eq!(result.expect("result").turn_ids, ["turn-1", "turn-2"]);
}

#[tokio::test]
async fn a_failed_physical_turn_fails_the_goal_with_the_merged_partial_result() {
    let (_codex, thread, mut server) = setup().await;
    let goal = start_goal(&thread, &mut server, GoalOptions::new()).await;
    let (tx, _rx) = mpsc::unbounded_channel();
    let task = consume(goal, tx);
    server
        .goal_turn("turn-1", "one", "active", 15, vec![])
        .await;
    server.start_turn("turn-2");
    server.finish_turn("turn-2", "active", 15, "failed", None);
    server.answer_goal_get(Some(goal_json("active", 15))).await;
    let (seen, result) = ended(task).await;
    assert_eq!(
        seen.events.last().map(String::as_str),
        Some("completed:turn-1:failed")
    );
    match result {
        Err(Error::TurnFailed(failure)) => {
            assert!(
                failure.error.message.contains("high demand"),
                "{}",
                failure.error.message
            );
            assert_eq!(failure.result.id, "turn-1");
            assert_eq!(failure.result.final_response(), Some("one"));
        }
        other => panic!("expected TurnFailed, got {other:?}"),
    }
}

#[tokio::test]
async fn the_server_dying_mid_goal_ends_it_with_closed() {
    let (codex, thread, mut server) = setup().await;
    let goal = start_goal(&thread, &mut server, GoalOptions::new()).await;
    let control = goal.control();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let task = consume(goal, tx);
    server.send_all(agent_message("turn-1", "half")[..2].to_vec());
    wait_event(&mut rx, "delta:half").await;
    server
        .peer
        .set_stderr_tail("thread 'main' panicked at core/src/goal.rs");
    server.peer.close();
    let (seen, result) = ended(task).await;
    assert_eq!(seen.events.last().map(String::as_str), Some("closed"));
    match result {
        Err(Error::Closed(info)) => assert!(info.to_string().contains("panicked"), "{info}"),
        other => panic!("expected Closed, got {other:?}"),
    }
    assert_eq!(control.current_turn_id(), None);
    let err = within(T, "steer after close", control.steer("x"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::InvalidOptions(_) | Error::Closed(_)),
        "{err}"
    );
    assert_eq!(codex.connection().stats().thread_subscriptions, 0);
}

#[tokio::test]
async fn a_goal_the_server_pauses_between_turns_ends_paused() {
    let (_codex, thread, mut server) = setup().await;
    let goal = start_goal(&thread, &mut server, GoalOptions::new()).await;
    let (tx, _rx) = mpsc::unbounded_channel();
    let task = consume(goal, tx);
    server
        .goal_turn("turn-1", "one", "active", 15, vec![])
        .await;
    // Another client pauses the goal before the server starts a continuation.
    server.send(goal_updated(None, "paused", 15));
    let (seen, result) = ended(task).await;
    assert_eq!(
        seen.events[seen.events.len() - 2..],
        ["goal:-:paused", "completed:turn-1:completed"]
    );
    let done = result.expect("result");
    assert_eq!(done.status(), Some(&ThreadGoalStatus::Paused));
    assert_eq!(done.turn_ids, ["turn-1"]);
    assert!(!done.turn_limit_reached);
}

#[tokio::test]
async fn a_goal_cleared_during_a_turn_ends_with_that_turn_and_no_goal() {
    let (_codex, thread, mut server) = setup().await;
    let goal = start_goal(&thread, &mut server, GoalOptions::new()).await;
    let (tx, _rx) = mpsc::unbounded_channel();
    let task = consume(goal, tx);
    server.send_all(agent_message("turn-1", "one"));
    server.send(notification("thread/goal/cleared", json!({"threadId": TH})));
    server.send(thread_status("idle"));
    server.send(turn_completed("turn-1", "completed", Some("one")));
    server.answer_goal_get(None).await;
    let (seen, result) = ended(task).await;
    assert_eq!(
        seen.events[seen.events.len() - 2..],
        ["goal:cleared", "completed:turn-1:completed"]
    );
    let done = result.expect("result");
    assert_eq!(done.goal, None);
    assert_eq!(done.status(), None);
    assert_eq!(done.final_response(), Some("one"));
}

#[tokio::test]
async fn no_first_turn_within_the_start_timeout_pauses_the_goal_and_times_out() {
    let (_codex, thread, mut server) = setup().await;
    let t = thread.clone();
    let options = GoalOptions::new().start_timeout(Duration::from_millis(200));
    let call = tokio::spawn(async move { t.start_goal_with(OBJECTIVE, options).await });
    let (id, _) = server.expect("thread/read").await;
    server.answer(&id, json!({"thread": thread_obj()}));
    // A previous goal is cleared first.
    let (id, _) = server.expect("thread/goal/get").await;
    server.answer(&id, json!({"goal": goal_json("complete", 5)}));
    let (id, params) = server.expect("thread/goal/clear").await;
    assert_eq!(params["threadId"], TH);
    server.answer(&id, json!({"cleared": true}));
    let (id, _) = server.expect("thread/goal/set").await;
    server.answer(&id, json!({"goal": goal_json("active", 0)}));
    // The server never starts a turn.
    let (id, params) = server.expect("thread/goal/set").await;
    assert_eq!(params["status"], "paused");
    server.answer(&id, json!({"goal": goal_json("paused", 0)}));
    match within(T, "start_goal", call).await.unwrap() {
        Err(Error::Timeout { method, timeout }) => {
            assert_eq!(
                (method.as_str(), timeout),
                ("thread/goal/set", Duration::from_millis(200))
            )
        }
        other => panic!("expected Timeout, got {other:?}"),
    }
}

#[tokio::test]
async fn dropping_the_handle_ends_its_thread_subscription() {
    let (codex, thread, mut server) = setup().await;
    let goal = start_goal(&thread, &mut server, GoalOptions::new()).await;
    assert_eq!(codex.connection().stats().thread_subscriptions, 1);
    let control = goal.control();
    drop(goal);
    let stats = codex.connection().stats();
    assert_eq!(
        (stats.thread_subscriptions, stats.waiters),
        (0, 0),
        "{stats:?}"
    );
    // The server goes on with the goal (dropping does not stop it); a control kept from the
    // handle still stops it.
    server.send_all(agent_message("turn-1", "unheard"));
    let interrupt = tokio::spawn(async move { control.interrupt().await });
    let (id, params) = server.expect("thread/goal/set").await;
    assert_eq!(params["status"], "paused");
    server.answer(&id, json!({"goal": goal_json("paused", 0)}));
    let (id, params) = server.expect("turn/interrupt").await;
    assert_eq!(params["turnId"], "turn-1");
    server.answer(&id, json!({}));
    within(T, "interrupt", interrupt)
        .await
        .unwrap()
        .expect("interrupt");
}

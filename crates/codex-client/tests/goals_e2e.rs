//! Goals against the real `codex app-server`, offline (the test kit's mock model on 127.0.0.1
//! and its sandbox): a goal over several physical turns to its token budget, interrupt, the turn
//! limit, the preconditions. The driver's every path is tested on a scripted server in
//! `goal_driver.rs`; these check that the real server behaves as those scripts say. Skipped
//! loudly when the binary is missing, unless CODEX_CLIENT_REQUIRE_APP_SERVER=1. Every wait is
//! bounded (`TIMEOUT`); nothing sleeps and hopes.

mod common;

use codex_client::protocol::{ServerNotification, ThreadGoalStatus, TurnStatus};
use codex_client::{Error, GoalOptions, ThreadOptions, TurnEvent};
use codex_client_testkit::{MockResponse, agent_texts};
use futures::StreamExt;
use std::future::Future;
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(60);

use common::AppServerEnv as Env;

async fn start(name: &str) -> Option<Env> {
    common::start_app_server(name, |s| s, |c| c).await
}

async fn within<T>(what: &str, fut: impl Future<Output = T>) -> T {
    common::within(TIMEOUT, what, fut).await
}

#[tokio::test]
async fn a_goal_runs_as_one_logical_turn_over_several_physical_turns() {
    let Some(env) = start("goal_turns").await else {
        return;
    };
    // Each mock answer reports 15 tokens: a budget of 40 lasts three turns (15, 30, 45).
    env.mock.set_default(MockResponse::message("still working"));
    let thread = env.thread().await;
    let mut goal = within(
        "goal start",
        thread.start_goal_with("Write a haiku", GoalOptions::new().token_budget(40)),
    )
    .await
    .expect("goal starts");
    let logical = goal.id().to_owned();
    let (mut started, mut completed, mut goal_updates) = (0, 0, 0);
    while let Some(event) = within("goal event", goal.next()).await {
        let TurnEvent::Notification(n) = event.expect("event") else {
            continue;
        };
        match &*n {
            ServerNotification::TurnStarted(s) => {
                started += 1;
                assert_eq!(s.turn.id, logical);
            }
            ServerNotification::TurnCompleted(c) => {
                completed += 1;
                assert_eq!(c.turn.id, logical);
            }
            ServerNotification::ThreadGoalUpdated(_) => goal_updates += 1,
            _ => {}
        }
    }
    assert_eq!(
        (started, completed),
        (1, 1),
        "one logical start and completion"
    );
    assert!(goal_updates >= 2);
    let done = within("goal result", goal.run())
        .await
        .expect("goal result");
    assert!(done.turn_ids.len() >= 2, "{:?}", done.turn_ids);
    assert_eq!(done.turn_ids[0], logical);
    assert_eq!(done.turn.id, logical);
    assert_eq!(done.status(), Some(&ThreadGoalStatus::BudgetLimited));
    assert_eq!(done.turn.status, TurnStatus::Completed);
    let texts = agent_texts(&done.turn.items);
    assert_eq!(
        texts.len(),
        done.turn_ids.len(),
        "one answer per physical turn: {texts:?}"
    );
    assert!(
        done.turn
            .usage
            .as_ref()
            .is_some_and(|u| u.total.total_tokens >= 40)
    );
    assert_eq!(done.final_response(), Some("still working"));
    assert_eq!(env.mock.request_count(), done.turn_ids.len());

    // The thread is usable for an ordinary turn afterwards, and the goal is not swallowing it.
    env.mock.push(MockResponse::message("ordinary"));
    let ordinary = within("ordinary turn", thread.run("hi"))
        .await
        .expect("turn");
    assert_eq!(ordinary.final_response(), Some("ordinary"));
    assert_eq!(
        within("goal/get", thread.goal())
            .await
            .unwrap()
            .map(|g| g.status),
        Some(ThreadGoalStatus::BudgetLimited)
    );
}

#[tokio::test]
async fn interrupting_a_goal_pauses_it_and_ends_the_logical_turn() {
    let Some(env) = start("goal_interrupt").await else {
        return;
    };
    env.mock.set_default(
        MockResponse::deltas(["working", " on", " it"]).with_delay(Duration::from_millis(50)),
    );
    let thread = env.thread().await;
    let goal = within("goal start", thread.start_goal("Keep going"))
        .await
        .unwrap();
    let control = goal.control();
    let running = tokio::spawn(goal.run());
    within("interrupt", control.interrupt())
        .await
        .expect("interrupt");
    let done = within("goal end", running)
        .await
        .unwrap()
        .expect("goal result");
    assert_eq!(done.status(), Some(&ThreadGoalStatus::Paused));
    assert!(matches!(
        done.turn.status,
        TurnStatus::Interrupted | TurnStatus::Completed
    ));
    assert!(
        within("steer after end", control.steer("more"))
            .await
            .is_err()
    );
}

#[tokio::test]
async fn a_goal_without_a_budget_stops_at_its_turn_limit() {
    let Some(env) = start("goal_turn_limit").await else {
        return;
    };
    // The model never marks the goal complete and there is no budget: the server would start
    // turns without end.
    env.mock.set_default(MockResponse::message("not done yet"));
    let thread = env.thread().await;
    let options = GoalOptions::new().max_turns(3);
    let done = within("the goal ends at its turn limit", async {
        thread
            .start_goal_with("Never finish", options)
            .await?
            .run()
            .await
    })
    .await
    .expect("goal result");
    assert!(done.turn_limit_reached, "{done:?}");
    assert_eq!(done.status(), Some(&ThreadGoalStatus::Paused));
    let turns = done.turn_ids.len();
    assert!(
        (3..=4).contains(&turns),
        "3 turns, and at most one started before the pause: {:?}",
        done.turn_ids
    );
    // Nothing runs on: the thread is idle and no model request follows.
    let requests = env.mock.request_count();
    assert!(requests <= 4, "{requests} model requests");
    env.mock.push(MockResponse::message("ordinary"));
    let ordinary = within("ordinary turn", thread.run("hi"))
        .await
        .expect("turn");
    assert_eq!(ordinary.final_response(), Some("ordinary"));
    assert_eq!(
        env.mock.request_count(),
        requests + 1,
        "no goal turn ran meanwhile"
    );
}

#[tokio::test]
async fn goal_preconditions_are_checked_before_anything_is_set() {
    let Some(env) = start("goal_preconditions").await else {
        return;
    };
    let thread = env.thread().await;
    for objective in [
        "",
        "   ",
        &"x".repeat(codex_client::MAX_GOAL_OBJECTIVE_CHARS + 1),
    ] {
        let err = thread.start_goal(objective).await.unwrap_err();
        assert!(matches!(err, Error::InvalidOptions(_)), "{err:?}");
    }
    let ephemeral = env
        .codex
        .threads()
        .start(
            ThreadOptions::new()
                .cwd(env.sandbox.workdir())
                .ephemeral(true),
        )
        .await
        .unwrap();
    let err = ephemeral.start_goal("Do it").await.unwrap_err();
    assert!(
        matches!(err, Error::InvalidOptions(ref m) if m.contains("persisted")),
        "{err:?}"
    );
    assert_eq!(within("goal/get", thread.goal()).await.unwrap(), None);
    assert_eq!(env.mock.request_count(), 0);
}

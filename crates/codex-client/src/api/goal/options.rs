//! What a goal is started with ([`GoalOptions`]) and what it amounts to ([`GoalResult`]), and
//! the two bounds: the objective's length and the default turn limit.

use crate::api::result::TurnResult;
use crate::proto::{ThreadGoal, ThreadGoalStatus};
use std::time::Duration;

/// The longest objective accepted (the server's own limit).
pub const MAX_GOAL_OBJECTIVE_CHARS: usize = 4000;

/// How many physical turns a goal may run by default before the SDK stops it
/// ([`GoalOptions::max_turns`]). A goal without a token budget that the model never marks
/// complete makes the server start turn after turn for ever (observed: about 900 model
/// requests in 40 s against a model that never completes it); this bound ends it.
pub const DEFAULT_GOAL_MAX_TURNS: usize = 20;

/// How a goal is started: its token budget, how long the server may take to start the first
/// turn, and how many physical turns the SDK lets it run.
///
/// ```no_run
/// # async fn f(thread: codex_client::Thread) -> Result<(), codex_client::Error> {
/// use codex_client::GoalOptions;
/// use std::time::Duration;
///
/// let options = GoalOptions::new()
///     .token_budget(50_000)
///     .start_timeout(Duration::from_secs(60))
///     .max_turns(5);
/// let done = thread.start_goal_with("Make the test suite pass", options).await?.run().await?;
/// if done.turn_limit_reached {
///     eprintln!("stopped after {} turns; the goal is paused", done.turn_ids.len());
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct GoalOptions {
    pub(super) token_budget: Option<i64>,
    pub(super) start_timeout: Duration,
    pub(super) max_turns: Option<usize>,
}

impl Default for GoalOptions {
    fn default() -> Self {
        GoalOptions {
            token_budget: None,
            start_timeout: Duration::from_secs(30),
            max_turns: Some(DEFAULT_GOAL_MAX_TURNS),
        }
    }
}

impl GoalOptions {
    /// No token budget, 30 s for the first turn to start, at most
    /// [`DEFAULT_GOAL_MAX_TURNS`] physical turns.
    pub fn new() -> Self {
        Self::default()
    }

    /// Tokens the goal may use; past it the server marks the goal `budgetLimited` and the
    /// logical turn ends after the running physical turn.
    pub fn token_budget(mut self, tokens: i64) -> Self {
        self.token_budget = Some(tokens);
        self
    }

    /// How long to wait for the server to start the goal's first turn (default 30 s).
    pub fn start_timeout(mut self, timeout: Duration) -> Self {
        self.start_timeout = timeout;
        self
    }

    /// The most physical turns the goal may run (default [`DEFAULT_GOAL_MAX_TURNS`]; at least
    /// 1). When the last allowed turn completes and the goal is still `active`, the SDK pauses
    /// the goal (`thread/goal/set status: paused`) and interrupts a turn the server started
    /// meanwhile; the logical turn then ends with [`GoalResult::turn_limit_reached`] set and
    /// the goal `paused` (a `tracing` warning says so). Resume it with
    /// [`Thread::set_goal_status`](crate::Thread::set_goal_status) if you want more.
    pub fn max_turns(mut self, turns: usize) -> Self {
        self.max_turns = Some(turns.max(1));
        self
    }

    /// No SDK bound on the number of turns: only the goal's own end (complete, budget, usage
    /// limits, pause, clear) stops it. Set a [`token_budget`](Self::token_budget) or wrap
    /// [`GoalHandle::run`](crate::GoalHandle::run) in a timeout, or the server may start turns
    /// without end.
    pub fn unlimited_turns(mut self) -> Self {
        self.max_turns = None;
        self
    }
}

/// What a goal's logical turn amounts to: the merged [`TurnResult`], the goal as last reported,
/// and the physical turns it ran.
///
/// ```no_run
/// # async fn f(thread: codex_client::Thread) -> Result<(), codex_client::Error> {
/// use codex_client::protocol::ThreadGoalStatus;
///
/// let done = thread.run_goal("Fix the flaky test in tests/net.rs").await?;
/// match done.status() {
///     Some(ThreadGoalStatus::Complete) => println!("{}", done.final_response().unwrap_or("(none)")),
///     Some(other) => eprintln!("stopped: {other} after {} turns", done.turn_ids.len()),
///     None => eprintln!("the goal was cleared"),
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct GoalResult {
    /// The logical turn: id of the first physical turn, items and errors of all of them in
    /// order, the last usage, `startedAt` of the first and `completedAt` of the last.
    pub turn: TurnResult,
    /// The goal as the server last reported it (its status says why it stopped: `complete`,
    /// `budgetLimited`, `paused`, ...); `None` if it was cleared.
    pub goal: Option<ThreadGoal>,
    /// The physical turns of the goal, in order.
    pub turn_ids: Vec<String>,
    /// The SDK stopped the goal because it ran its [`GoalOptions::max_turns`] (the goal is then
    /// `paused`, not complete).
    pub turn_limit_reached: bool,
}

impl GoalResult {
    /// The goal's answer: the final response of the last physical turn that had one.
    pub fn final_response(&self) -> Option<&str> {
        self.turn.final_response()
    }

    /// The goal's last status (`None` if it was cleared).
    pub fn status(&self) -> Option<&ThreadGoalStatus> {
        self.goal.as_ref().map(|g| &g.status)
    }
}

//! The goal calls on a [`Thread`]: read, set the status of, and clear its goal; start one
//! (preconditions checked before anything is set) and run one to its end.

use super::driver::Driver;
use super::handle::GoalHandle;
use super::options::{GoalOptions, GoalResult, MAX_GOAL_OBJECTIVE_CHARS};
use crate::api::thread::Thread;
use crate::connection::Connection;
use crate::error::{Error, Result};
use crate::proto::methods::{ThreadGoalClear, ThreadGoalGet, ThreadGoalSet};
use crate::proto::{
    ThreadGoal, ThreadGoalClearParams, ThreadGoalGetParams, ThreadGoalMutationOrigin,
    ThreadGoalSetParams, ThreadGoalStatus, ThreadStatus,
};

/// `thread/goal/set` with only a status (the objective and budget kept).
pub(super) async fn set_status(
    conn: &Connection,
    thread_id: &str,
    status: ThreadGoalStatus,
) -> Result<ThreadGoal> {
    let params = ThreadGoalSetParams {
        objective: None,
        origin: Some(ThreadGoalMutationOrigin::User),
        status: Some(status),
        thread_id: thread_id.to_owned(),
        token_budget: None,
    };
    Ok(conn.request::<ThreadGoalSet>(params).await?.goal)
}

fn check_objective(objective: &str) -> Result<()> {
    if objective.trim().is_empty() {
        return Err(Error::InvalidOptions(
            "a goal objective must not be empty".to_owned(),
        ));
    }
    let chars = objective.chars().count();
    if chars > MAX_GOAL_OBJECTIVE_CHARS {
        return Err(Error::InvalidOptions(format!(
            "a goal objective has at most {MAX_GOAL_OBJECTIVE_CHARS} characters (this one has {chars})"
        )));
    }
    Ok(())
}

impl Thread {
    /// The thread's goal (`thread/goal/get`), if it has one.
    pub async fn goal(&self) -> Result<Option<ThreadGoal>> {
        let params = ThreadGoalGetParams {
            thread_id: self.id().to_owned(),
        };
        Ok(self.codex().request::<ThreadGoalGet>(params).await?.goal)
    }

    /// Sets the goal's status (`thread/goal/set`), e.g. `paused` to stop it or `active` to
    /// resume it (which makes the server start a turn). Returns the goal.
    ///
    /// ```no_run
    /// # async fn f(thread: codex_client::Thread) -> Result<(), codex_client::Error> {
    /// use codex_client::protocol::ThreadGoalStatus;
    ///
    /// if let Some(goal) = thread.goal().await? {
    ///     println!("{} [{}], {} tokens", goal.objective, goal.status, goal.tokens_used);
    ///     let paused = thread.set_goal_status(ThreadGoalStatus::Paused).await?;
    ///     assert_eq!(paused.status, ThreadGoalStatus::Paused);
    ///     assert!(thread.clear_goal().await?, "there was a goal to clear");
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn set_goal_status(&self, status: ThreadGoalStatus) -> Result<ThreadGoal> {
        set_status(self.codex().connection(), self.id(), status).await
    }

    /// Removes the thread's goal (`thread/goal/clear`); `true` if there was one.
    pub async fn clear_goal(&self) -> Result<bool> {
        let params = ThreadGoalClearParams {
            origin: Some(ThreadGoalMutationOrigin::User),
            thread_id: self.id().to_owned(),
        };
        Ok(self
            .codex()
            .request::<ThreadGoalClear>(params)
            .await?
            .cleared)
    }

    /// Runs a goal to its end ([`start_goal`](Self::start_goal) + [`GoalHandle::run`]).
    ///
    /// ```no_run
    /// # async fn f(thread: codex_client::Thread) -> Result<(), codex_client::Error> {
    /// let done = thread.run_goal("Fix the flaky test in tests/net.rs").await?;
    /// println!("{:?} in {} turns", done.status(), done.turn_ids.len());
    /// # Ok(()) }
    /// ```
    pub async fn run_goal(&self, objective: &str) -> Result<GoalResult> {
        self.start_goal(objective).await?.run().await
    }

    /// Starts a goal with the default [`GoalOptions`]; see
    /// [`start_goal_with`](Self::start_goal_with).
    pub async fn start_goal(&self, objective: &str) -> Result<GoalHandle> {
        self.start_goal_with(objective, GoalOptions::default())
            .await
    }

    /// Starts a goal and returns its logical turn once the server has started the first
    /// physical turn. Preconditions, checked before the goal is set: the objective is not blank
    /// and has at most [`MAX_GOAL_OBJECTIVE_CHARS`] characters; the thread is idle and
    /// persisted (not ephemeral) — otherwise [`Error::InvalidOptions`]. A previous goal of the
    /// thread is cleared. If the server starts no turn within the start timeout the goal is
    /// paused and [`Error::Timeout`] returned; a server error on `thread/goal/set` (e.g. goals
    /// disabled) is returned as is.
    ///
    /// See [`GoalOptions`] for an example.
    pub async fn start_goal_with(
        &self,
        objective: &str,
        options: GoalOptions,
    ) -> Result<GoalHandle> {
        check_objective(objective)?;
        let info = self.read().await?;
        if info.status != ThreadStatus::Idle {
            return Err(Error::InvalidOptions(format!(
                "thread {} must be idle before starting a goal (it is {:?})",
                self.id(),
                info.status
            )));
        }
        if info.ephemeral || info.path.is_none() {
            return Err(Error::InvalidOptions(format!(
                "thread {} must be persisted (not ephemeral) before starting a goal",
                self.id()
            )));
        }
        let conn = self.codex().connection();
        if self.goal().await?.is_some() {
            self.clear_goal().await?;
        }
        // Subscribed before the goal is set: the server's first turn cannot be missed.
        let events = conn.subscribe_thread(self.id());
        let params = ThreadGoalSetParams {
            objective: Some(objective.to_owned()),
            origin: Some(ThreadGoalMutationOrigin::User),
            status: Some(ThreadGoalStatus::Active),
            thread_id: self.id().to_owned(),
            token_budget: options.token_budget,
        };
        let goal = conn.request::<ThreadGoalSet>(params).await?.goal;
        Driver::new(conn.clone(), self.id(), events, goal, options.max_turns)
            .start(options.start_timeout)
            .await
    }
}

//! Goals: an objective the server pursues over as many turns as it takes, run as **one
//! logical turn** ([`GoalHandle`]): one start, one completion, the items and usage of every
//! physical turn accumulated, steer and interrupt that follow whichever physical turn is
//! running. Plus the plain goal calls on a [`Thread`] (`goal`, `set_goal_status`, `clear_goal`).
//!
//! # What the server does (codex 0.163.0, observed)
//!
//! Goals are on by default (feature `goals`, stage "stable"); no experimental opt-in is needed.
//! `thread/goal/set {objective, status: "active"}` on an idle thread makes the server start a
//! turn by itself (no `turn/start`); when a turn completes and the goal is still `active`, it
//! starts another one (a continuation, prompted with the objective). Each goal turn ends with a
//! `thread/goal/updated` carrying that turn's id and the goal's accounting (`tokensUsed`,
//! `timeUsedSeconds`), then `thread/status/changed` idle, then `turn/completed`. The goal leaves
//! `active` when the model marks it `complete` (its `update_goal` tool), when `tokenBudget` is
//! used up (`budgetLimited`), on usage limits (`usageLimited`), when it is `paused` or
//! `blocked`, or when it is cleared (`thread/goal/cleared`).
//!
//! # How a logical turn is followed
//!
//! The server's goal turns have no client route, so their events reach the thread's
//! subscribers: the handle subscribes to the thread before `thread/goal/set` and reads only
//! that. It never subscribes to a turn itself, so an ordinary turn you start on the same thread
//! (`Thread::turn`) keeps its own route and its [`TurnHandle`](crate::TurnHandle) gets all of
//! its events — the goal does not swallow it. Conversely such a turn is not part of the goal's
//! result. A turn whose `turn/started` reached the thread stream before its route was registered
//! is recognised structurally, never from error text: the next `turn/started` replaces it; and
//! if the thread goes idle without its `turn/completed`, a `thread/goal/get` is issued (the
//! reader delivers every notification written before the response first): if the turn is still
//! open and the goal no longer active, the logical turn ends there.
//!
//! The logical turn ends when a physical turn fails (→ [`Error::TurnFailed`]) or is
//! interrupted, or when the goal is no longer `active` (or was cleared) and no goal turn is
//! running. Its id is the id of the first physical turn. The stream yields that turn's
//! `turn/started`, every event of every physical turn except their own `turn/started` /
//! `turn/completed`, the `thread/goal/*` notifications, and at the end one `turn/completed`
//! built from the last physical one (id = the logical id, `startedAt` of the first turn,
//! `completedAt` of the last). Events keep their physical turn ids. Server requests of goal
//! turns (approvals) go to the connection's handler (fail-closed unless you set one).

use super::codex::Codex;
use super::input::Input;
use super::result::{Collector, TurnFailure, TurnResult};
use super::thread::Thread;
use crate::connection::Connection;
use crate::error::{Error, Result};
use crate::proto::methods::{
    ThreadGoalClear, ThreadGoalGet, ThreadGoalSet, TurnInterrupt, TurnSteer,
};
use crate::proto::{
    ServerNotification, ThreadGoal, ThreadGoalClearParams, ThreadGoalGetParams,
    ThreadGoalMutationOrigin, ThreadGoalSetParams, ThreadGoalStatus, ThreadStatus,
    TurnCompletedNotification, TurnError, TurnInterruptParams, TurnStatus, TurnSteerParams,
};
use crate::router::{NotificationStream, TurnEvent};
use futures::{FutureExt, Stream, StreamExt};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::sync::watch;

/// The longest objective accepted (the server's own limit).
pub const MAX_GOAL_OBJECTIVE_CHARS: usize = 4000;

/// How many physical turns a goal may run by default before the SDK stops it
/// ([`GoalOptions::max_turns`]). A goal without a token budget that the model never marks
/// complete makes the server start turn after turn for ever (observed: about 900 model
/// requests in 40 s against a model that never completes it); this bound ends it.
pub const DEFAULT_GOAL_MAX_TURNS: usize = 20;

/// How a goal is started.
///
/// ```
/// use codex_client::GoalOptions;
/// use std::time::Duration;
/// let options = GoalOptions::new().token_budget(50_000).start_timeout(Duration::from_secs(60));
/// # let _ = options;
/// ```
#[derive(Debug, Clone)]
pub struct GoalOptions {
    token_budget: Option<i64>,
    start_timeout: Duration,
    max_turns: Option<usize>,
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
    ///
    /// ```
    /// let options = codex_client::GoalOptions::new();
    /// # let _ = options;
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Tokens the goal may use; past it the server marks the goal `budgetLimited` and the
    /// logical turn ends after the running physical turn.
    ///
    /// ```
    /// let options = codex_client::GoalOptions::new().token_budget(100_000);
    /// # let _ = options;
    /// ```
    pub fn token_budget(mut self, tokens: i64) -> Self {
        self.token_budget = Some(tokens);
        self
    }

    /// How long to wait for the server to start the goal's first turn (default 30 s).
    ///
    /// ```
    /// let options = codex_client::GoalOptions::new().start_timeout(std::time::Duration::from_secs(5));
    /// # let _ = options;
    /// ```
    pub fn start_timeout(mut self, timeout: Duration) -> Self {
        self.start_timeout = timeout;
        self
    }

    /// The most physical turns the goal may run (default [`DEFAULT_GOAL_MAX_TURNS`]). When the
    /// last allowed turn completes and the goal is still `active`, the SDK pauses the goal
    /// (`thread/goal/set status: paused`) and interrupts a turn the server started meanwhile;
    /// the logical turn then ends with [`GoalResult::turn_limit_reached`] set and the goal
    /// `paused` (a `tracing` warning says so). Resume it with
    /// [`Thread::set_goal_status`](crate::Thread::set_goal_status) if you want more.
    ///
    /// ```
    /// let options = codex_client::GoalOptions::new().max_turns(5);
    /// # let _ = options;
    /// ```
    pub fn max_turns(mut self, turns: usize) -> Self {
        self.max_turns = Some(turns.max(1));
        self
    }

    /// No SDK bound on the number of turns: only the goal's own end (complete, budget, usage
    /// limits, pause, clear) stops it. Set a [`token_budget`](Self::token_budget) or wrap
    /// [`GoalHandle::run`] in a timeout, or the server may start turns without end.
    ///
    /// ```
    /// let options = codex_client::GoalOptions::new().unlimited_turns().token_budget(200_000);
    /// # let _ = options;
    /// ```
    pub fn unlimited_turns(mut self) -> Self {
        self.max_turns = None;
        self
    }
}

/// What a goal's logical turn amounts to: the merged [`TurnResult`], the goal as last reported,
/// and the physical turns it ran.
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
    ///
    /// ```no_run
    /// # async fn f(thread: codex_client::Thread) -> Result<(), codex_client::Error> {
    /// let done = thread.run_goal("Make the test suite pass").await?;
    /// println!("{}", done.final_response().unwrap_or("(none)"));
    /// # Ok(()) }
    /// ```
    pub fn final_response(&self) -> Option<&str> {
        self.turn.final_response()
    }

    /// The goal's last status (`None` if it was cleared).
    ///
    /// ```no_run
    /// # fn f(done: codex_client::GoalResult) { println!("{:?}", done.status()); }
    /// ```
    pub fn status(&self) -> Option<&ThreadGoalStatus> {
        self.goal.as_ref().map(|g| &g.status)
    }
}

/// Where the logical turn is, shared between the driver and [`GoalControl`]s.
#[derive(Debug, Clone, Default)]
struct Progress {
    /// The physical turn running now.
    current: Option<String>,
    done: bool,
}

#[derive(Debug, Default)]
struct Shared {
    goal: Option<ThreadGoal>,
    turn_ids: Vec<String>,
    turn_limit_reached: bool,
    result: Option<Result<TurnResult>>,
    snapshot: Option<TurnResult>,
}

/// Steers or interrupts a goal's logical turn, whichever physical turn is running. Cheap to
/// clone and `Send`.
#[derive(Debug, Clone)]
pub struct GoalControl {
    conn: Connection,
    thread_id: Arc<str>,
    progress: watch::Receiver<Progress>,
}

/// How long steer / interrupt wait for a physical turn to be running (between two goal turns
/// there is a short gap).
const ROLLOVER_WAIT: Duration = Duration::from_secs(10);

impl GoalControl {
    /// The thread's id.
    ///
    /// ```no_run
    /// # fn f(control: codex_client::GoalControl) { println!("{}", control.thread_id()); }
    /// ```
    pub fn thread_id(&self) -> &str {
        &self.thread_id
    }

    /// The physical turn running now (`None` between two goal turns and after the end).
    ///
    /// ```no_run
    /// # fn f(control: codex_client::GoalControl) { println!("{:?}", control.current_turn_id()); }
    /// ```
    pub fn current_turn_id(&self) -> Option<String> {
        self.progress.borrow().current.clone()
    }

    /// Waits (bounded) for a running physical turn other than `not`; `None` once the logical
    /// turn is over or nothing started in time.
    async fn running_turn(&self, not: Option<&str>) -> Option<String> {
        let mut progress = self.progress.clone();
        let wait =
            progress.wait_for(|p| p.done || (p.current.is_some() && p.current.as_deref() != not));
        match tokio::time::timeout(ROLLOVER_WAIT, wait).await {
            Ok(Ok(p)) if !p.done => p.current.clone(),
            _ => None,
        }
    }

    /// Adds input to the physical turn running now (`turn/steer` with its id as
    /// `expectedTurnId`). Between two goal turns it waits for the next one; if the turn ends
    /// while the request is in flight, it retries once on the turn that follows (detected from
    /// the goal's own events, not from the error text). Fails with
    /// [`Error::InvalidOptions`] once the logical turn is over.
    ///
    /// ```no_run
    /// # async fn f(control: codex_client::GoalControl) -> Result<(), codex_client::Error> {
    /// control.steer("Prefer small commits.").await?;
    /// # Ok(()) }
    /// ```
    pub async fn steer(&self, input: impl Into<Input>) -> Result<()> {
        let input = input.into().to_wire();
        let mut tried: Option<String> = None;
        loop {
            let Some(turn) = self.running_turn(tried.as_deref()).await else {
                return Err(Error::InvalidOptions(
                    "the goal's logical turn has ended: there is no turn to steer".to_owned(),
                ));
            };
            let params = TurnSteerParams {
                client_user_message_id: None,
                expected_turn_id: turn.clone(),
                input: input.clone(),
                thread_id: self.thread_id.to_string(),
                #[cfg(feature = "experimental")]
                additional_context: None,
                #[cfg(feature = "experimental")]
                responsesapi_client_metadata: None,
            };
            match self.conn.request::<TurnSteer>(params).await {
                Ok(_) => return Ok(()),
                Err(err @ Error::Rpc { .. }) if tried.is_none() => {
                    // The turn may have rolled over under us: retry once on the next one.
                    tracing::debug!(%turn, error = %err, "goal steer refused; retrying on the next physical turn");
                    tried = Some(turn);
                    if self.progress.borrow().current.as_deref() == tried.as_deref()
                        && !self.progress.borrow().done
                    {
                        // Still the same turn according to its events: the refusal is real.
                        return Err(err);
                    }
                }
                Err(err) => return Err(err),
            }
        }
    }

    /// Stops the goal: sets it `paused` (so the server starts no further turn), then interrupts
    /// the physical turn running now, if any. The logical turn then ends with status
    /// `interrupted` (or, between two turns, as soon as the pause is reported).
    ///
    /// ```no_run
    /// # async fn f(control: codex_client::GoalControl) -> Result<(), codex_client::Error> {
    /// control.interrupt().await?;
    /// # Ok(()) }
    /// ```
    pub async fn interrupt(&self) -> Result<()> {
        if self.progress.borrow().done {
            return Ok(());
        }
        set_status(&self.conn, &self.thread_id, ThreadGoalStatus::Paused).await?;
        let current = self.progress.borrow().current.clone();
        if let Some(turn) = current {
            let params = TurnInterruptParams {
                thread_id: self.thread_id.to_string(),
                turn_id: turn.clone(),
            };
            if let Err(err) = self.conn.request::<TurnInterrupt>(params).await {
                // Fine if that turn ended meanwhile (the pause stops the goal anyway).
                if self.progress.borrow().current.as_deref() == Some(turn.as_str()) {
                    return Err(err);
                }
            }
        }
        Ok(())
    }
}

async fn set_status(
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

/// A goal running as one logical turn: a [`Stream`] of [`TurnEvent`]s (see the module doc for
/// which), a [`GoalControl`] for steer / interrupt, and [`run`](Self::run) for the
/// [`GoalResult`]. Dropping it stops following the goal (the server goes on with it; use
/// [`GoalControl::interrupt`] to stop it).
///
/// ```no_run
/// # async fn f(thread: codex_client::Thread) -> Result<(), codex_client::Error> {
/// use codex_client::TurnEvent;
/// use codex_client::protocol::ServerNotification;
/// use futures::StreamExt;
///
/// let mut goal = thread.start_goal("Make `cargo test` pass").await?;
/// while let Some(event) = goal.next().await {
///     if let TurnEvent::Notification(n) = event? {
///         match &*n {
///             ServerNotification::ItemAgentMessageDelta(d) => print!("{}", d.delta),
///             ServerNotification::ThreadGoalUpdated(g) => eprintln!("[goal: {}]", g.goal.status),
///             _ => {}
///         }
///     }
/// }
/// let done = goal.run().await?;
/// println!("{:?} after {} turns", done.status(), done.turn_ids.len());
/// # Ok(()) }
/// ```
pub struct GoalHandle {
    events: Pin<Box<dyn Stream<Item = Result<TurnEvent>> + Send>>,
    shared: Arc<Mutex<Shared>>,
    control: GoalControl,
    logical_id: String,
}

impl std::fmt::Debug for GoalHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GoalHandle")
            .field("thread_id", &self.control.thread_id)
            .field("logical_turn_id", &self.logical_id)
            .field("current_turn_id", &self.control.current_turn_id())
            .finish_non_exhaustive()
    }
}

impl GoalHandle {
    /// The logical turn's id (the first physical turn's id).
    ///
    /// ```no_run
    /// # fn f(goal: codex_client::GoalHandle) { println!("{}", goal.id()); }
    /// ```
    pub fn id(&self) -> &str {
        &self.logical_id
    }

    /// The thread's id.
    ///
    /// ```no_run
    /// # fn f(goal: codex_client::GoalHandle) { println!("{}", goal.thread_id()); }
    /// ```
    pub fn thread_id(&self) -> &str {
        &self.control.thread_id
    }

    /// A steer / interrupt remote that follows the running physical turn.
    ///
    /// ```no_run
    /// # fn f(goal: codex_client::GoalHandle) { let control = goal.control(); let _ = control; }
    /// ```
    pub fn control(&self) -> GoalControl {
        self.control.clone()
    }

    /// See [`GoalControl::steer`].
    ///
    /// ```no_run
    /// # async fn f(goal: codex_client::GoalHandle) -> Result<(), codex_client::Error> {
    /// goal.steer("Skip the docs for now.").await?;
    /// # Ok(()) }
    /// ```
    pub async fn steer(&self, input: impl Into<Input>) -> Result<()> {
        self.control.steer(input).await
    }

    /// See [`GoalControl::interrupt`].
    ///
    /// ```no_run
    /// # async fn f(goal: codex_client::GoalHandle) -> Result<(), codex_client::Error> {
    /// goal.interrupt().await?;
    /// let done = goal.run().await?;
    /// assert!(done.turn.is_interrupted() || done.status() == Some(&codex_client::protocol::ThreadGoalStatus::Paused));
    /// # Ok(()) }
    /// ```
    pub async fn interrupt(&self) -> Result<()> {
        self.control.interrupt().await
    }

    /// The goal as last reported by the server.
    ///
    /// ```no_run
    /// # fn f(goal: codex_client::GoalHandle) { println!("{:?}", goal.goal().map(|g| g.tokens_used)); }
    /// ```
    pub fn goal(&self) -> Option<ThreadGoal> {
        lock(&self.shared).goal.clone()
    }

    /// The physical turns seen so far.
    ///
    /// ```no_run
    /// # fn f(goal: codex_client::GoalHandle) { println!("{:?}", goal.turn_ids()); }
    /// ```
    pub fn turn_ids(&self) -> Vec<String> {
        lock(&self.shared).turn_ids.clone()
    }

    /// The merged result so far (status `inProgress` until the logical turn ends).
    ///
    /// ```no_run
    /// # fn f(goal: codex_client::GoalHandle) { println!("{} items", goal.snapshot().items.len()); }
    /// ```
    pub fn snapshot(&self) -> TurnResult {
        let shared = lock(&self.shared);
        match (&shared.result, &shared.snapshot) {
            (Some(Ok(r)), _) => r.clone(),
            (Some(Err(Error::TurnFailed(f))), _) => f.result.clone(),
            (_, Some(s)) => s.clone(),
            _ => TurnResult::empty(self.logical_id.clone(), self.control.thread_id.to_string()),
        }
    }

    /// Consumes the rest of the logical turn and returns its [`GoalResult`]; a failed physical
    /// turn is [`Error::TurnFailed`] (with the merged partial result).
    ///
    /// ```no_run
    /// # async fn f(thread: codex_client::Thread) -> Result<(), codex_client::Error> {
    /// let done = thread.start_goal("Write CHANGELOG entries").await?.run().await?;
    /// println!("{:?}: {}", done.status(), done.final_response().unwrap_or_default());
    /// # Ok(()) }
    /// ```
    pub async fn run(mut self) -> Result<GoalResult> {
        while let Some(event) = self.events.next().await {
            match event {
                Ok(_) => {}
                Err(err) => return Err(err),
            }
        }
        let mut shared = lock(&self.shared);
        let turn = shared.result.take().unwrap_or_else(|| {
            Err(Error::Protocol(format!(
                "the events of goal turn {} ended before the goal did",
                self.logical_id
            )))
        })?;
        Ok(GoalResult {
            turn,
            goal: shared.goal.clone(),
            turn_ids: shared.turn_ids.clone(),
            turn_limit_reached: shared.turn_limit_reached,
        })
    }
}

impl Stream for GoalHandle {
    type Item = Result<TurnEvent>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().events.poll_next_unpin(cx)
    }
}

fn lock(shared: &Mutex<Shared>) -> std::sync::MutexGuard<'_, Shared> {
    shared.lock().unwrap_or_else(|e| e.into_inner())
}

/// One physical turn being followed.
struct Physical {
    id: String,
    collector: Collector,
}

/// Follows the thread's events and turns them into the logical turn (runs inside the handle's
/// stream).
struct Driver {
    conn: Connection,
    thread_id: String,
    events: NotificationStream,
    progress: watch::Sender<Progress>,
    shared: Arc<Mutex<Shared>>,
    logical_id: String,
    /// Physical turns that completed, in order.
    finished: Vec<Collector>,
    current: Option<Physical>,
    goal_active: bool,
    /// Events of the first `turn/started`, queued by `start_goal` before the stream began.
    queued: std::collections::VecDeque<Result<TurnEvent>>,
    done: bool,
    /// [`GoalOptions::max_turns`].
    max_turns: Option<usize>,
    /// The limit was reached: pause the goal and interrupt any further turn (done in `next`).
    stop_for_limit: bool,
}

impl Driver {
    fn publish(&self) {
        let current = self.current.as_ref().map(|p| p.id.clone());
        let done = self.done;
        self.progress.send_modify(|p| {
            p.current = current;
            p.done = done;
        });
        let snapshot = self.merged();
        lock(&self.shared).snapshot = Some(snapshot);
    }

    fn begin(&mut self, id: &str) {
        if let Some(dropped) = self.current.take() {
            tracing::debug!(turn_id = %dropped.id, "turn routed to another stream; not part of the goal");
        }
        self.current = Some(Physical {
            id: id.to_owned(),
            collector: Collector::new(id, &self.thread_id),
        });
        let turns = {
            let mut shared = lock(&self.shared);
            shared.turn_ids.push(id.to_owned());
            shared.turn_ids.len()
        };
        if self.max_turns.is_some_and(|max| turns > max) {
            // Started before the pause took effect: interrupted in `next`.
            self.stop_for_limit = true;
        }
        self.publish();
    }

    /// Feeds one notification of the thread; returns the event to yield, if any.
    fn observe(&mut self, n: Arc<ServerNotification>) -> Option<TurnEvent> {
        let pass = Some(TurnEvent::Notification(n.clone()));
        match &*n {
            ServerNotification::TurnStarted(started) => {
                let first = self.finished.is_empty() && self.current.is_none();
                if self
                    .current
                    .as_ref()
                    .is_some_and(|c| c.id == started.turn.id)
                {
                    return None;
                }
                self.begin(&started.turn.id);
                if let Some(c) = self.current.as_mut() {
                    c.collector.observe(&n);
                }
                first.then_some(TurnEvent::Notification(n))
            }
            ServerNotification::ThreadGoalUpdated(update) => {
                self.goal_active = update.goal.status == ThreadGoalStatus::Active;
                lock(&self.shared).goal = Some(update.goal.clone());
                if !self.goal_active && self.current.is_none() {
                    self.finish(None);
                }
                pass
            }
            ServerNotification::ThreadGoalCleared(_) => {
                self.goal_active = false;
                lock(&self.shared).goal = None;
                if self.current.is_none() {
                    self.finish(None);
                }
                pass
            }
            ServerNotification::TurnCompleted(completed)
                if self
                    .current
                    .as_ref()
                    .is_some_and(|c| c.id == completed.turn.id) =>
            {
                let mut physical = self.current.take()?;
                physical.collector.observe(&n);
                self.finished.push(physical.collector);
                match completed.turn.status {
                    TurnStatus::Failed | TurnStatus::Interrupted => {
                        self.finish(Some(&completed.turn.status))
                    }
                    _ if !self.goal_active => self.finish(None),
                    _ => {
                        if self.max_turns.is_some_and(|max| self.finished.len() >= max) {
                            self.stop_for_limit = true;
                        }
                        self.publish()
                    }
                }
                None
            }
            other => {
                let current = self.current.as_mut()?;
                if other.turn_id() != Some(current.id.as_str()) {
                    return None;
                }
                current.collector.observe(&n);
                pass
            }
        }
    }

    /// The logical result from the physical turns so far.
    fn merged(&self) -> TurnResult {
        let mut result = TurnResult::empty(self.logical_id.clone(), self.thread_id.clone());
        let parts: Vec<TurnResult> = self
            .finished
            .iter()
            .map(Collector::snapshot)
            .chain(self.current.iter().map(|c| c.collector.snapshot()))
            .collect();
        for part in &parts {
            result.items.extend(part.items.iter().cloned());
            result.errors.extend(part.errors.iter().cloned());
            result.missed_events += part.missed_events;
            if part.usage.is_some() {
                result.usage = part.usage.clone();
            }
        }
        if let Some(first) = parts.first() {
            result.started_at = first.started_at;
        }
        if let Some(last) = parts.last() {
            result.open_items = last.open_items.clone();
            result.status = last.status.clone();
            result.error = last.error.clone();
            result.completed_at = last.completed_at;
            result.duration_ms = match (result.started_at, last.completed_at) {
                (Some(start), Some(end)) => Some((end - start) * 1000),
                _ => last.duration_ms,
            };
            result.turn = last.turn.clone().map(|mut turn| {
                turn.id = self.logical_id.clone();
                turn.started_at = result.started_at;
                turn.duration_ms = result.duration_ms;
                turn
            });
        }
        result
    }

    /// Ends the logical turn and queues its one `turn/completed`.
    fn finish(&mut self, physical_status: Option<&TurnStatus>) {
        if self.done {
            return;
        }
        self.done = true;
        // A turn still open here is one we will not see the end of: keep what it produced.
        if let Some(open) = self.current.take() {
            self.finished.push(open.collector);
        }
        let mut result = self.merged();
        if physical_status.is_none() && result.status == TurnStatus::InProgress {
            result.status = TurnStatus::Completed;
        }
        let turn = result.turn.clone().unwrap_or_else(|| crate::proto::Turn {
            completed_at: result.completed_at,
            duration_ms: result.duration_ms,
            error: result.error.clone(),
            id: self.logical_id.clone(),
            items: Vec::new(),
            items_view: None,
            root_turn_id: None,
            started_at: result.started_at,
            status: result.status.clone(),
        });
        // `.into()`: the generator may box large variants' payloads; this builds either way.
        #[allow(clippy::useless_conversion)]
        let completed = ServerNotification::TurnCompleted(
            TurnCompletedNotification {
                thread_id: self.thread_id.clone(),
                turn,
            }
            .into(),
        );
        let outcome = if result.status == TurnStatus::Failed {
            let error = result.error.clone().unwrap_or_else(|| TurnError {
                additional_details: None,
                codex_error_info: None,
                message: "a turn of the goal failed (the server gave no error)".to_owned(),
                misalignment: None,
            });
            Err(Error::TurnFailed(Box::new(TurnFailure { error, result })))
        } else {
            Ok(result)
        };
        lock(&self.shared).result = Some(outcome);
        self.queued
            .push_back(Ok(TurnEvent::Notification(Arc::new(completed))));
        self.publish();
    }

    /// The thread went idle while a physical turn had not completed on this stream: either its
    /// `turn/completed` is about to arrive (the server sends idle first) or the turn was started
    /// by a client and its events go to that client's route. If no goal turn follows, nothing
    /// else would end the logical turn, so: a `thread/goal/get` round trip (the reader delivers
    /// every notification the server wrote before the response before waking us), then, if the
    /// goal is no longer active and the turn is still open, the logical turn ends.
    async fn settle_after_idle(&mut self) -> Result<()> {
        let params = ThreadGoalGetParams {
            thread_id: self.thread_id.clone(),
        };
        let goal = self.conn.request::<ThreadGoalGet>(params).await?.goal;
        while let Some(Some(event)) = self.events.next().now_or_never() {
            self.accept(event);
            if self.done {
                return Ok(());
            }
        }
        let active = goal
            .as_ref()
            .is_some_and(|g| g.status == ThreadGoalStatus::Active);
        if !active && self.current.is_some() {
            tracing::debug!(
                "goal no longer active and the open turn's events went elsewhere; ending the goal"
            );
            self.goal_active = false;
            lock(&self.shared).goal = goal;
            self.finish(None);
        }
        Ok(())
    }

    fn accept(&mut self, event: Result<Arc<ServerNotification>>) {
        match event {
            Ok(n) => {
                if let Some(out) = self.observe(n) {
                    // `finish` may have queued the completion: it must come after this event.
                    let at = self.queued.len() - usize::from(self.done && !self.queued.is_empty());
                    self.queued.insert(at, Ok(out));
                }
            }
            Err(Error::Lagged(k)) => {
                if let Some(c) = self.current.as_mut() {
                    c.collector.missed(k);
                }
                self.queued.push_back(Ok(TurnEvent::Lagged(k)));
            }
            Err(err) => {
                self.queued.push_back(Err(err));
                self.done = true;
            }
        }
    }

    /// The goal ran its [`GoalOptions::max_turns`]: pause it, and interrupt a turn the server
    /// started before the pause (the logical turn then ends as the goal's events say).
    async fn stop_for_limit(&mut self) {
        self.stop_for_limit = false;
        let turns = lock(&self.shared).turn_ids.len();
        tracing::warn!(thread_id = %self.thread_id, turns, max_turns = ?self.max_turns,
            "the goal reached its turn limit (GoalOptions::max_turns); pausing it");
        lock(&self.shared).turn_limit_reached = true;
        if let Err(err) = set_status(&self.conn, &self.thread_id, ThreadGoalStatus::Paused).await {
            tracing::warn!(error = %err, "could not pause the goal at its turn limit");
        }
        if let Some(current) = &self.current
            && self
                .max_turns
                .is_some_and(|max| lock(&self.shared).turn_ids.len() > max)
        {
            let params = TurnInterruptParams {
                thread_id: self.thread_id.clone(),
                turn_id: current.id.clone(),
            };
            if let Err(err) = self.conn.request::<TurnInterrupt>(params).await {
                tracing::debug!(error = %err, "interrupting the goal's turn past its limit failed (it may have ended)");
            }
        }
    }

    async fn next(&mut self) -> Option<Result<TurnEvent>> {
        loop {
            if self.stop_for_limit && !self.done {
                self.stop_for_limit().await;
            }
            if let Some(event) = self.queued.pop_front() {
                return Some(event);
            }
            if self.done {
                return None;
            }
            let Some(event) = self.events.next().await else {
                self.done = true;
                return Some(Err(Error::Protocol(
                    "the thread's notification stream ended during a goal".to_owned(),
                )));
            };
            let idle_with_open_turn = matches!(
                event.as_deref(),
                Ok(ServerNotification::ThreadStatusChanged(s))
                    if matches!(s.status, ThreadStatus::Idle | ThreadStatus::SystemError)
            ) && self.current.is_some();
            self.accept(event);
            if idle_with_open_turn
                && !self.done
                && self.current.is_some()
                && let Err(err) = self.settle_after_idle().await
            {
                self.queued.push_back(Err(err));
            }
        }
    }
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
    ///
    /// ```no_run
    /// # async fn f(thread: codex_client::Thread) -> Result<(), codex_client::Error> {
    /// if let Some(goal) = thread.goal().await? {
    ///     println!("{} [{}], {} tokens", goal.objective, goal.status, goal.tokens_used);
    /// }
    /// # Ok(()) }
    /// ```
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
    /// let goal = thread.set_goal_status(ThreadGoalStatus::Paused).await?;
    /// assert_eq!(goal.status, ThreadGoalStatus::Paused);
    /// # Ok(()) }
    /// ```
    pub async fn set_goal_status(&self, status: ThreadGoalStatus) -> Result<ThreadGoal> {
        set_status(self.codex().connection(), self.id(), status).await
    }

    /// Removes the thread's goal (`thread/goal/clear`); `true` if there was one.
    ///
    /// ```no_run
    /// # async fn f(thread: codex_client::Thread) -> Result<(), codex_client::Error> {
    /// thread.clear_goal().await?;
    /// # Ok(()) }
    /// ```
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

    /// Starts a goal and returns its logical turn once the server has started the first
    /// physical turn. See [`start_goal_with`](Self::start_goal_with).
    ///
    /// ```no_run
    /// # async fn f(thread: codex_client::Thread) -> Result<(), codex_client::Error> {
    /// let goal = thread.start_goal("Port the CLI to clap 4").await?;
    /// println!("logical turn {}", goal.id());
    /// # Ok(()) }
    /// ```
    pub async fn start_goal(&self, objective: &str) -> Result<GoalHandle> {
        self.start_goal_with(objective, GoalOptions::default())
            .await
    }

    /// Starts a goal with options. Preconditions, checked before the goal is set: the
    /// objective is not blank and has at most [`MAX_GOAL_OBJECTIVE_CHARS`] characters; the
    /// thread is idle and persisted (not ephemeral) — otherwise [`Error::InvalidOptions`]. A
    /// previous goal of the thread is cleared. If the server starts no turn within the start
    /// timeout the goal is paused and [`Error::Timeout`] returned; a server error on
    /// `thread/goal/set` (e.g. goals disabled) is returned as is.
    ///
    /// ```no_run
    /// # async fn f(thread: codex_client::Thread) -> Result<(), codex_client::Error> {
    /// use codex_client::GoalOptions;
    /// let goal = thread.start_goal_with("Refactor the parser", GoalOptions::new().token_budget(200_000)).await?;
    /// let done = goal.run().await?;
    /// println!("{:?}", done.goal.map(|g| g.tokens_used));
    /// # Ok(()) }
    /// ```
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
        let codex: &Codex = self.codex();
        if self.goal().await?.is_some() {
            self.clear_goal().await?;
        }
        let events = codex.connection().subscribe_thread(self.id());
        let params = ThreadGoalSetParams {
            objective: Some(objective.to_owned()),
            origin: Some(ThreadGoalMutationOrigin::User),
            status: Some(ThreadGoalStatus::Active),
            thread_id: self.id().to_owned(),
            token_budget: options.token_budget,
        };
        let goal = codex.request::<ThreadGoalSet>(params).await?.goal;
        let (progress, progress_rx) = watch::channel(Progress::default());
        let shared = Arc::new(Mutex::new(Shared {
            goal: Some(goal),
            ..Shared::default()
        }));
        let mut driver = Driver {
            conn: codex.connection().clone(),
            thread_id: self.id().to_owned(),
            events,
            progress,
            shared: shared.clone(),
            logical_id: String::new(),
            finished: Vec::new(),
            current: None,
            goal_active: true,
            queued: Default::default(),
            done: false,
            max_turns: options.max_turns,
            stop_for_limit: false,
        };
        // Wait for the first physical turn; what comes before it (goal updates) is kept.
        let first = tokio::time::timeout(options.start_timeout, async {
            loop {
                match driver.events.next().await {
                    Some(Ok(n)) => {
                        if let ServerNotification::TurnStarted(started) = &*n {
                            return Ok((started.turn.id.clone(), n));
                        }
                        driver.accept(Ok(n));
                        if driver.done {
                            let status = lock(&driver.shared)
                                .goal
                                .as_ref()
                                .map(|g| g.status.to_string());
                            return Err(Error::Protocol(format!(
                                "the goal stopped ({}) before the server started a turn",
                                status.as_deref().unwrap_or("cleared")
                            )));
                        }
                    }
                    Some(Err(Error::Lagged(k))) => {
                        driver.queued.push_back(Ok(TurnEvent::Lagged(k)))
                    }
                    Some(Err(err)) => return Err(err),
                    None => {
                        return Err(Error::Protocol(
                            "the thread's notification stream ended before the goal started"
                                .to_owned(),
                        ));
                    }
                }
            }
        })
        .await;
        let (first_turn, started) = match first {
            Ok(Ok(first)) => first,
            Ok(Err(err)) => return Err(err),
            Err(_) => {
                let _ = set_status(codex.connection(), self.id(), ThreadGoalStatus::Paused).await;
                return Err(Error::Timeout {
                    method: "thread/goal/set".to_owned(),
                    timeout: options.start_timeout,
                });
            }
        };
        driver.logical_id = first_turn.clone();
        // The first `turn/started` is the logical turn's start: the stream's first turn event.
        driver.accept(Ok(started));
        let control = GoalControl {
            conn: codex.connection().clone(),
            thread_id: self.id().into(),
            progress: progress_rx,
        };
        let events = futures::stream::unfold(driver, |mut d| async move {
            d.next().await.map(|event| (event, d))
        })
        .fuse();
        Ok(GoalHandle {
            events: Box::pin(events),
            shared,
            control,
            logical_id: first_turn,
        })
    }
}

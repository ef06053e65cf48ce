//! The caller's side of a running goal: [`GoalHandle`] (the logical turn's event stream, its
//! state so far, its result) and [`GoalControl`] (steer / interrupt, cloneable). Both only read
//! what the driver publishes; neither subscribes to anything.

use super::driver::{GoalProgress, Progress, lock};
use super::options::GoalResult;
use super::thread::set_status;
use crate::api::input::Input;
use crate::api::result::TurnResult;
use crate::connection::Connection;
use crate::error::{Error, Result};
use crate::proto::methods::{TurnInterrupt, TurnSteer};
use crate::proto::{ThreadGoal, ThreadGoalStatus, TurnInterruptParams, TurnSteerParams};
use crate::router::TurnEvent;
use futures::{Stream, StreamExt};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::sync::watch;

/// How long steer / interrupt wait for a physical turn to be running (between two goal turns
/// there is a short gap).
const ROLLOVER_WAIT: Duration = Duration::from_secs(10);

/// Steers or interrupts a goal's logical turn, whichever physical turn is running. Cheap to
/// clone and `Send`, so another task can hold it while one consumes the [`GoalHandle`].
///
/// ```no_run
/// # async fn f(thread: codex_client::Thread) -> Result<(), codex_client::Error> {
/// let goal = thread.start_goal("Port the CLI to clap 4").await?;
/// let control = goal.control();
/// let running = tokio::spawn(goal.run());
/// control.steer("Keep the old flag names as aliases.").await?;
/// // ... later: stop it (the goal is paused, the running turn interrupted).
/// control.interrupt().await?;
/// let done = running.await.expect("the goal task")?;
/// println!("{:?} after {} turns", done.status(), done.turn_ids.len());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct GoalControl {
    pub(super) conn: Connection,
    pub(super) thread_id: Arc<str>,
    pub(super) progress: watch::Receiver<Progress>,
}

impl GoalControl {
    /// The thread's id.
    pub fn thread_id(&self) -> &str {
        &self.thread_id
    }

    /// The physical turn running now (`None` between two goal turns and after the end).
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
    /// `interrupted` (or, between two turns, as soon as the pause is reported). A no-op once
    /// the logical turn is over.
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

/// A goal running as one logical turn: a [`Stream`] of [`TurnEvent`]s (see the module doc for
/// which), a [`GoalControl`] for steer / interrupt, and [`run`](Self::run) for the
/// [`GoalResult`]. Dropping it stops following the goal (its thread subscription ends; the
/// server goes on with the goal: use [`GoalControl::interrupt`] to stop it).
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
///             ServerNotification::ThreadGoalUpdated(g) => {
///                 eprintln!("[goal: {}, turns so far {:?}]", g.goal.status, goal.turn_ids())
///             }
///             _ => {}
///         }
///     }
/// }
/// let done = goal.run().await?;
/// println!("{:?} after {} turns", done.status(), done.turn_ids.len());
/// # Ok(()) }
/// ```
pub struct GoalHandle {
    pub(super) events: Pin<Box<dyn Stream<Item = Result<TurnEvent>> + Send>>,
    pub(super) shared: Arc<Mutex<GoalProgress>>,
    pub(super) control: GoalControl,
    pub(super) logical_id: String,
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
    pub fn id(&self) -> &str {
        &self.logical_id
    }

    /// The thread's id.
    pub fn thread_id(&self) -> &str {
        &self.control.thread_id
    }

    /// A steer / interrupt remote that follows the running physical turn.
    pub fn control(&self) -> GoalControl {
        self.control.clone()
    }

    /// See [`GoalControl::steer`].
    pub async fn steer(&self, input: impl Into<Input>) -> Result<()> {
        self.control.steer(input).await
    }

    /// See [`GoalControl::interrupt`].
    pub async fn interrupt(&self) -> Result<()> {
        self.control.interrupt().await
    }

    /// The goal as last reported by the server (`None` once cleared).
    pub fn goal(&self) -> Option<ThreadGoal> {
        lock(&self.shared).goal.clone()
    }

    /// The physical turns seen so far, in order.
    pub fn turn_ids(&self) -> Vec<String> {
        lock(&self.shared).turn_ids.clone()
    }

    /// The merged result so far (status `inProgress` until the logical turn ends).
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
    /// turn is [`Error::TurnFailed`] (with the merged partial result), a connection that closes
    /// first is [`Error::Closed`].
    pub async fn run(mut self) -> Result<GoalResult> {
        while let Some(event) = self.events.next().await {
            event?;
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

//! The goal driver: the state machine that turns the thread's notification stream into one
//! logical turn. It runs inside the [`GoalHandle`]'s stream (no task of its own: nothing runs
//! when nobody polls, and dropping the handle drops the thread subscription), and publishes
//! where it is ([`Progress`] for steer / interrupt, [`GoalProgress`] for `snapshot`, `turn_ids`,
//! `goal` and the result).
//!
//! # States
//!
//! - **Starting** (`logical_id` empty; [`Driver::start`]): `thread/goal/set` answered, no
//!   `turn/started` yet. Goal updates are kept; the first `turn/started` fixes the logical id.
//!   A goal that stops first, a closed stream or the start timeout end it with an error.
//! - **Running** (`current` is `Some`): a physical turn is open. Its events are collected and
//!   yielded; its `turn/completed` moves it to `finished` and leads to *Between* or *Done*.
//! - **Between** (`current` is `None`, `goal_active`): the server is about to start a
//!   continuation. The next `turn/started` is *Running* again; a goal update that leaves
//!   `active`, or `thread/goal/cleared`, is *Done*.
//! - **Done** (`done`): the one synthetic `turn/completed` is queued, the result stored; the
//!   stream yields what is queued, then ends.

use super::handle::{GoalControl, GoalHandle};
use super::thread::set_status;
use crate::api::result::{Collector, TurnFailure, TurnResult};
use crate::connection::Connection;
use crate::error::{Error, Result};
use crate::proto::methods::{ThreadGoalGet, TurnInterrupt};
use crate::proto::{
    ServerNotification, ThreadGoal, ThreadGoalGetParams, ThreadGoalStatus, ThreadStatus,
    TurnCompletedNotification, TurnError, TurnInterruptParams, TurnStatus,
};
use crate::router::{NotificationStream, TurnEvent};
use futures::{FutureExt, StreamExt};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;

/// Where the logical turn is, published to the [`GoalControl`]s.
#[derive(Debug, Clone, Default)]
pub(super) struct Progress {
    /// The physical turn running now.
    pub(super) current: Option<String>,
    pub(super) done: bool,
}

/// What the [`GoalHandle`] reads while the driver runs inside its stream.
#[derive(Debug, Default)]
pub(super) struct GoalProgress {
    pub(super) goal: Option<ThreadGoal>,
    pub(super) turn_ids: Vec<String>,
    pub(super) turn_limit_reached: bool,
    /// Set once, when the logical turn ends.
    pub(super) result: Option<Result<TurnResult>>,
    /// The merged result after the last event.
    pub(super) snapshot: Option<TurnResult>,
}

pub(super) fn lock(shared: &Mutex<GoalProgress>) -> std::sync::MutexGuard<'_, GoalProgress> {
    shared.lock().unwrap_or_else(|e| e.into_inner())
}

/// One physical turn being followed.
struct Physical {
    id: String,
    collector: Collector,
}

/// Follows the thread's events and turns them into the logical turn.
pub(super) struct Driver {
    conn: Connection,
    thread_id: String,
    /// The thread subscription, taken before `thread/goal/set` so that nothing is missed.
    events: NotificationStream,
    progress: watch::Sender<Progress>,
    shared: Arc<Mutex<GoalProgress>>,
    /// The first physical turn's id; empty while *Starting*.
    logical_id: String,
    /// Physical turns that completed, in order.
    finished: Vec<Collector>,
    /// The open physical turn (*Running*), if any.
    current: Option<Physical>,
    /// The goal's last reported status was `active` (so a continuation is expected).
    goal_active: bool,
    /// Events to yield before reading more: the first `turn/started`, lag markers, and at the
    /// end the synthetic `turn/completed`.
    queued: VecDeque<Result<TurnEvent>>,
    done: bool,
    /// [`GoalOptions::max_turns`](super::GoalOptions::max_turns).
    max_turns: Option<usize>,
    /// The limit was reached: pause the goal and interrupt any further turn (done in `next`,
    /// which may await; `observe` may not).
    stop_for_limit: bool,
    /// The goal was paused for the limit (once; a turn started past it is only interrupted).
    limit_paused: bool,
}

impl Driver {
    /// A driver in *Starting*, for the goal `thread/goal/set` answered with.
    pub(super) fn new(
        conn: Connection,
        thread_id: &str,
        events: NotificationStream,
        goal: ThreadGoal,
        max_turns: Option<usize>,
    ) -> Self {
        let (progress, _) = watch::channel(Progress::default());
        Driver {
            conn,
            thread_id: thread_id.to_owned(),
            events,
            progress,
            shared: Arc::new(Mutex::new(GoalProgress {
                goal: Some(goal),
                ..GoalProgress::default()
            })),
            logical_id: String::new(),
            finished: Vec::new(),
            current: None,
            goal_active: true,
            queued: VecDeque::new(),
            done: false,
            max_turns,
            stop_for_limit: false,
            limit_paused: false,
        }
    }

    /// *Starting* → *Running*: waits for the server's first goal turn, then hands the driver to
    /// a [`GoalHandle`]. If the server starts none within `start_timeout` the goal is paused
    /// (so that it does not start one later, unobserved) and [`Error::Timeout`] returned.
    pub(super) async fn start(mut self, start_timeout: Duration) -> Result<GoalHandle> {
        let started = match tokio::time::timeout(start_timeout, self.first_turn()).await {
            Ok(Ok(started)) => started,
            Ok(Err(err)) => return Err(err),
            Err(_) => {
                if let Err(err) =
                    set_status(&self.conn, &self.thread_id, ThreadGoalStatus::Paused).await
                {
                    tracing::warn!(error = %err, "could not pause a goal whose first turn did not start");
                }
                return Err(Error::Timeout {
                    method: "thread/goal/set".to_owned(),
                    timeout: start_timeout,
                });
            }
        };
        let ServerNotification::TurnStarted(first) = &*started else {
            unreachable!("first_turn returns a turn/started");
        };
        self.logical_id = first.turn.id.clone();
        // The first `turn/started` is the logical turn's start: the stream's first turn event.
        self.accept(Ok(started));
        let control = GoalControl {
            conn: self.conn.clone(),
            thread_id: self.thread_id.as_str().into(),
            progress: self.progress.subscribe(),
        };
        let shared = self.shared.clone();
        let logical_id = self.logical_id.clone();
        let events = futures::stream::unfold(self, |mut d| async move {
            d.next().await.map(|event| (event, d))
        })
        .fuse();
        Ok(GoalHandle {
            events: Box::pin(events),
            shared,
            control,
            logical_id,
        })
    }

    /// Reads the thread's events up to the first `turn/started` (returned); what comes before
    /// it (goal updates, status changes) is observed as usual.
    async fn first_turn(&mut self) -> Result<Arc<ServerNotification>> {
        loop {
            match self.events.next().await {
                Some(Ok(n)) => {
                    if matches!(&*n, ServerNotification::TurnStarted(_)) {
                        return Ok(n);
                    }
                    self.accept(Ok(n));
                    if self.done {
                        // The goal left `active` (or was cleared) before any turn.
                        let status = lock(&self.shared)
                            .goal
                            .as_ref()
                            .map(|g| g.status.to_string());
                        return Err(Error::Protocol(format!(
                            "the goal stopped ({}) before the server started a turn",
                            status.as_deref().unwrap_or("cleared")
                        )));
                    }
                }
                Some(Err(Error::Lagged(k))) => self.queued.push_back(Ok(TurnEvent::Lagged(k))),
                Some(Err(err)) => return Err(err),
                None => {
                    return Err(Error::Protocol(
                        "the thread's notification stream ended before the goal started".to_owned(),
                    ));
                }
            }
        }
    }

    fn publish(&self) {
        let current = self.current.as_ref().map(|p| p.id.clone());
        let done = self.done;
        self.progress.send_modify(|p| {
            p.current = current;
            p.done = done;
        });
        self.refresh_snapshot();
    }

    /// What [`GoalHandle::snapshot`] returns: rebuilt at each turn boundary and completed item
    /// (not per delta: merging copies the items).
    fn refresh_snapshot(&self) {
        let snapshot = self.merged();
        lock(&self.shared).snapshot = Some(snapshot);
    }

    /// *Starting* / *Between* → *Running*: a physical turn begins.
    fn begin(&mut self, id: &str) {
        if let Some(dropped) = self.current.take() {
            // A `turn/started` whose `turn/completed` never reached the thread stream: a turn a
            // client started (its route took the rest). The goal's turn is the new one.
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
                // Only the first physical turn's `turn/started` is yielded: the logical start.
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
                // The goal's status decides what follows the running turn: a continuation
                // (`active`) or the end. With no turn running, leaving `active` ends it now.
                self.goal_active = update.goal.status == ThreadGoalStatus::Active;
                lock(&self.shared).goal = Some(update.goal.clone());
                if !self.goal_active && self.current.is_none() {
                    self.finish(None);
                }
                pass
            }
            ServerNotification::ThreadGoalCleared(_) => {
                // Cleared: no continuation; the running turn, if any, is the last.
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
                // *Running* → *Between* or *Done*. Its own `turn/completed` is not yielded:
                // the logical one is built in `finish`.
                let mut physical = self.current.take()?;
                physical.collector.observe(&n);
                self.finished.push(physical.collector);
                match completed.turn.status {
                    // A failed or interrupted turn ends the logical turn, whatever the goal.
                    TurnStatus::Failed | TurnStatus::Interrupted => {
                        self.finish(Some(&completed.turn.status))
                    }
                    // The goal left `active` during the turn (complete, budget, paused, ...).
                    _ if !self.goal_active => self.finish(None),
                    // Still active: the server starts a continuation (*Between*), unless this
                    // was the last turn allowed.
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
                // Any other event: the running physical turn's (collected, yielded), or not
                // the goal's (another turn's, or a thread-level event): skipped.
                let current = self.current.as_mut()?;
                if other.turn_id() != Some(current.id.as_str()) {
                    return None;
                }
                current.collector.observe(&n);
                if matches!(other, ServerNotification::ItemCompleted(_)) {
                    self.refresh_snapshot();
                }
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

    /// → *Done*: ends the logical turn, stores its result and queues its one `turn/completed`.
    /// `physical_status` is the status of the physical turn that ended it, `None` when the
    /// goal's own end did.
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
        let open = self.current.as_ref().map(|c| c.id.clone());
        let goal = self.conn.request::<ThreadGoalGet>(params).await?.goal;
        // Take what is already delivered, up to the open turn's `turn/completed`: what follows
        // it (a continuation, with its own idle) goes through `next` like any other event.
        while self.current.as_ref().map(|c| &c.id) == open.as_ref() {
            let Some(Some(event)) = self.events.next().now_or_never() else {
                break;
            };
            self.accept(event);
            if self.done {
                return Ok(());
            }
        }
        let active = goal
            .as_ref()
            .is_some_and(|g| g.status == ThreadGoalStatus::Active);
        if !active
            && self.current.is_some()
            && self.current.as_ref().map(|c| &c.id) == open.as_ref()
        {
            tracing::debug!(
                "goal no longer active and the open turn's events went elsewhere; ending the goal"
            );
            self.goal_active = false;
            lock(&self.shared).goal = goal;
            self.finish(None);
        }
        Ok(())
    }

    /// One item of the thread stream: a notification is observed, a gap is a `Lagged` marker
    /// (counted in the running turn's result), an error (closed) ends the logical turn.
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
                // The stream failed (the connection closed): the logical turn ends with that
                // error, for the stream's consumer now and for `run` afterwards.
                self.fail(&err);
                self.queued.push_back(Err(err));
            }
        }
    }

    /// → *Done* by an error: the result is that error (a closed connection's
    /// [`Error::Closed`] with its exit status and stderr tail), unless the logical turn had
    /// already ended.
    fn fail(&mut self, err: &Error) {
        if self.done {
            return;
        }
        self.done = true;
        let stored = match err {
            Error::Closed(info) => Error::Closed(info.clone()),
            other => Error::Protocol(format!("the goal's events ended with an error: {other}")),
        };
        lock(&self.shared).result = Some(Err(stored));
        // What the open turn produced stays in the snapshot.
        if let Some(open) = self.current.take() {
            self.finished.push(open.collector);
        }
        self.publish();
    }

    /// The goal ran its [`GoalOptions::max_turns`](super::GoalOptions::max_turns): pause it,
    /// and interrupt a turn the server started before the pause (the logical turn then ends as
    /// the goal's events say).
    async fn stop_for_limit(&mut self) {
        self.stop_for_limit = false;
        if !self.limit_paused {
            self.limit_paused = true;
            let turns = lock(&self.shared).turn_ids.len();
            tracing::warn!(thread_id = %self.thread_id, turns, max_turns = ?self.max_turns,
                "the goal reached its turn limit (GoalOptions::max_turns); pausing it");
            lock(&self.shared).turn_limit_reached = true;
            if let Err(err) =
                set_status(&self.conn, &self.thread_id, ThreadGoalStatus::Paused).await
            {
                tracing::warn!(error = %err, "could not pause the goal at its turn limit");
            }
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

    /// The stream's next item: what is queued first, then the thread's events, until *Done*.
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
                let err = Error::Protocol(
                    "the thread's notification stream ended during a goal".to_owned(),
                );
                self.fail(&err);
                return Some(Err(err));
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

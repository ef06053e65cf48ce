//! A running turn: [`TurnHandle`], the stream of its events (ending with `turn/completed`) that
//! also builds the turn's [`TurnResult`] as the events pass, and [`TurnControl`], the cloneable
//! steer / interrupt remote that other tasks can hold while one task consumes the stream.
//!
//! Why the handle collects while it streams: a caller that prints deltas and then wants the
//! result should not have to choose. Whatever it already consumed is in the result that
//! [`TurnHandle::run`] returns.
//!
//! Why dropping an unfinished handle interrupts its turn: that is what a Rust caller means by
//! dropping it (`tokio::time::timeout` around `run()`, a `select!` that lost, an early return),
//! and a turn left running would swallow the thread's next prompt (the server folds a
//! `turn/start` on a busy thread into the running turn). `Drop` cannot await, so it hands the
//! turn's stream to a small task on the runtime the handle was made on: it sends
//! `turn/interrupt`, drains the stream to `turn/completed` (bounded: 30 s), then
//! frees the thread for the next turn. [`TurnHandle::detach`] opts out: the turn runs on and the
//! thread stays busy until it ends.
//!
//! Parts: `control` (the cloneable remote, and how a handle came to follow its turn), `stream`
//! (the `Stream` state machine: collecting, the retry bound, the watchdog), `cancel` (what
//! dropping an unfinished handle does).

mod cancel;
mod control;
mod stream;

pub use control::{TurnControl, TurnOrigin};

use self::stream::{Ending, Retries, Watchdog};
use super::input::Input;
use super::lanes::LaneSlot;
use super::result::{Collector, TurnResult};
use crate::connection::Connection;
use crate::error::{Error, Result};
use crate::proto::ServerNotification;
use crate::router::{TurnEvent, TurnStream};
use futures::StreamExt;
use std::time::Duration;

/// A running turn, as a [`Stream`](futures::Stream) of its events: `Ok(TurnEvent::Notification(..))` (deltas,
/// items, usage, ... ending with `turn/completed`), `Ok(TurnEvent::ServerRequest(..))` when the
/// turn was started with [`approvals_in_stream`](crate::TurnOptions::approvals_in_stream),
/// `Ok(TurnEvent::Lagged(n))` if this consumer fell behind (the stream goes on), or a last
/// `Err` when the stream cannot go on: `Error::Closed(..)` (the connection died),
/// `Error::TurnTimeout` (the watchdog), `Error::TurnRetriesExhausted` (the retry bound).
///
/// The handle records what passes through it; [`run`](Self::run) consumes the rest and returns
/// the [`TurnResult`]. Retrying `error` notifications of the server (`willRetry: true`) are
/// logged as `tracing` warnings with the turn id and kept in [`TurnResult::errors`].
///
/// **Dropping an unfinished handle interrupts the turn** (`turn/interrupt`, sent from a task;
/// see the module doc), so a `tokio::time::timeout` around [`run`](Self::run) cancels for
/// real and the thread's next turn is a turn of its own. [`detach`](Self::detach) lets the
/// turn run on instead. Handles that do not own their turn ([`TurnOrigin::Steered`],
/// [`TurnOrigin::Joined`]) never interrupt it.
///
/// ```no_run
/// # async fn f(thread: codex_client::Thread) -> Result<(), codex_client::Error> {
/// use codex_client::TurnEvent;
/// use codex_client::protocol::ServerNotification;
/// use futures::StreamExt;
///
/// let mut turn = thread.turn("Tell me a story").await?;
/// while let Some(event) = turn.next().await {
///     if let TurnEvent::Notification(n) = event? {
///         if let ServerNotification::ItemAgentMessageDelta(delta) = &*n {
///             print!("{}", delta.delta);
///         }
///     }
/// }
/// let result = turn.run().await?; // everything it saw, already complete
/// println!("\n[{:?}]", result.status);
/// # Ok(()) }
/// ```
pub struct TurnHandle {
    /// `None` once handed to the task that interrupts a dropped turn.
    stream: Option<TurnStream>,
    collector: Collector,
    control: TurnControl,
    span: tracing::Span,
    watchdog: Option<Watchdog>,
    /// The handle ended the stream (a synthesized completion, `TurnTimeout`, the retry bound).
    ended: bool,
    /// The error that ended the stream, for a later [`run`](Self::run) to return again.
    ending: Option<Ending>,
    origin: TurnOrigin,
    /// This client's claim of the thread, released when the turn has ended.
    slot: Option<LaneSlot>,
    detached: bool,
    /// Where `Drop` spawns the interrupt (the runtime the handle was made on).
    runtime: Option<tokio::runtime::Handle>,
    retries: Retries,
    /// While set: the `clientId` of the input this handle's `turn/start` sent, until the
    /// stream shows whether the server started a turn for it or folded it into a running one.
    join_check: Option<JoinCheck>,
}

/// How a `turn/start` that answered with some turn id is told apart from a join: the server's
/// answer is the same either way (reference/protocol.md §6.5), but a new turn's stream opens
/// with its `turn/started` and then the input this client sent (its `clientId`); a joined turn
/// shows its `userMessage` without a `turn/started` before it, or someone else's first.
#[derive(Debug)]
struct JoinCheck {
    client_id: String,
    saw_started: bool,
}

impl std::fmt::Debug for TurnHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TurnHandle")
            .field("thread_id", &self.control.thread_id)
            .field("turn_id", &self.control.turn_id)
            .field("completed", &self.collector.is_done())
            .field("origin", &self.origin)
            .field("detached", &self.detached)
            .finish_non_exhaustive()
    }
}

impl TurnHandle {
    pub(crate) fn new(conn: Connection, thread_id: &str, stream: TurnStream) -> Self {
        let turn_id = stream.turn_id().to_owned();
        let span = tracing::info_span!("codex.turn", thread_id = %thread_id, turn_id = %turn_id);
        TurnHandle {
            collector: Collector::new(&turn_id, thread_id),
            control: TurnControl {
                conn,
                thread_id: thread_id.into(),
                turn_id: turn_id.into(),
            },
            stream: Some(stream),
            span,
            watchdog: None,
            ended: false,
            ending: None,
            origin: TurnOrigin::Started,
            slot: None,
            detached: false,
            runtime: tokio::runtime::Handle::try_current().ok(),
            retries: Retries::default(),
            join_check: None,
        }
    }

    /// Watches the stream for a join the client could not foresee (see [`JoinCheck`]).
    pub(crate) fn checking_join(mut self, client_id: String) -> Self {
        self.join_check = Some(JoinCheck {
            client_id,
            saw_started: false,
        });
        self
    }

    /// Decides the origin from the first events of the turn (while a [`JoinCheck`] is set).
    fn check_join(&mut self, n: &ServerNotification) {
        let Some(check) = &mut self.join_check else {
            return;
        };
        let item = match n {
            ServerNotification::TurnStarted(_) => {
                check.saw_started = true;
                return;
            }
            ServerNotification::ItemStarted(started) => &started.item,
            ServerNotification::ItemCompleted(completed) => &completed.item,
            ServerNotification::TurnCompleted(_) => {
                self.join_check = None;
                return;
            }
            _ => return,
        };
        let crate::proto::ThreadItem::UserMessage(message) = item else {
            return;
        };
        let ours = message
            .client_id
            .as_deref()
            .is_none_or(|id| id == check.client_id);
        if !(check.saw_started && ours) {
            self.origin = TurnOrigin::Joined;
            tracing::warn!(parent: &self.span, "turn/start joined a turn this client did not start (another client, or the raw connection API): the input was folded into it");
        }
        self.join_check = None;
    }

    /// Sets how the handle came to follow its turn.
    pub(crate) fn origin_is(mut self, origin: TurnOrigin) -> Self {
        self.origin = origin;
        self
    }

    /// Gives the handle this client's claim of the thread (released when the turn ends).
    pub(crate) fn holding(mut self, slot: LaneSlot) -> Self {
        slot.set_turn(self.id());
        self.slot = Some(slot);
        self
    }

    /// Arms the inactivity watchdog (`None`: off).
    pub(crate) fn watchdog(mut self, idle: Option<Duration>) -> Self {
        self.watchdog = idle.map(|idle| Watchdog {
            idle,
            timer: None,
            probe: None,
        });
        self
    }

    /// Applies the per-turn options that live in the handle: the inactivity watchdog and
    /// whether items are kept for the result.
    pub(crate) fn with_options(mut self, options: &crate::TurnOptions) -> Self {
        if options.discard_items {
            self.collector.discard_items();
        }
        self.retries.max = options.max_retries;
        self.retries.within = options.retry_for;
        self.watchdog(options.inactivity_timeout)
    }
}

impl TurnHandle {
    /// The turn's id.
    ///
    /// ```no_run
    /// # fn f(turn: codex_client::TurnHandle) { println!("{}", turn.id()); }
    /// ```
    pub fn id(&self) -> &str {
        &self.control.turn_id
    }

    /// The thread's id.
    ///
    /// ```no_run
    /// # fn f(turn: codex_client::TurnHandle) { println!("{}", turn.thread_id()); }
    /// ```
    pub fn thread_id(&self) -> &str {
        &self.control.thread_id
    }

    /// A steer / interrupt remote for this turn, for other tasks.
    ///
    /// ```no_run
    /// # async fn f(turn: codex_client::TurnHandle) -> Result<(), codex_client::Error> {
    /// let control = turn.control();
    /// let stop = tokio::spawn(async move { control.interrupt().await });
    /// let result = turn.run().await?;
    /// stop.await.expect("task")?;
    /// println!("{:?}", result.status);
    /// # Ok(()) }
    /// ```
    pub fn control(&self) -> TurnControl {
        self.control.clone()
    }

    /// How this handle came to follow its turn: started it, steered into a turn of this client,
    /// or joined a turn the client did not start (see [`TurnOrigin`]).
    ///
    /// ```no_run
    /// # async fn f(thread: codex_client::Thread) -> Result<(), codex_client::Error> {
    /// let turn = thread.turn("hi").await?;
    /// assert_eq!(turn.origin(), codex_client::TurnOrigin::Started);
    /// # Ok(()) }
    /// ```
    pub fn origin(&self) -> TurnOrigin {
        self.origin
    }

    /// Lets the turn run on without this handle: it is not interrupted. The thread stays busy
    /// for this client until the turn ends (a task follows its stream to `turn/completed`, or
    /// to the connection's end), so the thread's next turn still meets its
    /// [`WhenBusy`](crate::WhenBusy) choice. Returns the turn's [`TurnControl`], to steer or
    /// interrupt it later.
    ///
    /// ```no_run
    /// # async fn f(thread: codex_client::Thread) -> Result<(), codex_client::Error> {
    /// let control = thread.turn("Refactor in the background").await?.detach();
    /// // ... later, if needed:
    /// control.interrupt().await?;
    /// # Ok(()) }
    /// ```
    pub fn detach(mut self) -> TurnControl {
        self.detached = true;
        self.control.clone()
    }

    /// Adds input to the running turn (see [`TurnControl::steer`]).
    ///
    /// ```no_run
    /// # async fn f(turn: codex_client::TurnHandle) -> Result<(), codex_client::Error> {
    /// turn.steer("Focus on the failing test.").await?;
    /// # Ok(()) }
    /// ```
    pub async fn steer(&self, input: impl Into<Input>) -> Result<()> {
        self.control.steer(input).await
    }

    /// Interrupts the turn (see [`TurnControl::interrupt`]).
    ///
    /// ```no_run
    /// # async fn f(turn: codex_client::TurnHandle) -> Result<(), codex_client::Error> {
    /// turn.interrupt().await?;
    /// let result = turn.run().await?;
    /// assert!(result.is_interrupted());
    /// # Ok(()) }
    /// ```
    pub async fn interrupt(&self) -> Result<()> {
        self.control.interrupt().await
    }

    /// `true` once `turn/completed` has gone past.
    ///
    /// ```no_run
    /// # fn f(turn: codex_client::TurnHandle) { assert!(!turn.is_completed()); }
    /// ```
    pub fn is_completed(&self) -> bool {
        self.collector.is_done()
    }

    /// The result so far (status `inProgress` until the turn completes), without consuming.
    ///
    /// ```no_run
    /// # fn f(turn: codex_client::TurnHandle) { println!("{} items so far", turn.snapshot().items.len()); }
    /// ```
    pub fn snapshot(&self) -> TurnResult {
        self.collector.snapshot()
    }

    /// Consumes the rest of the turn and returns its result: `Ok` for a completed or interrupted
    /// turn, [`Error::TurnFailed`] (with the server's error and the partial result) for a failed
    /// one, [`Error::Closed`] if the connection died first — also when the stream already
    /// yielded that `Closed` to the caller — and likewise the `TurnTimeout` /
    /// `TurnRetriesExhausted` that ended it. Server requests still arriving in the stream (with
    /// [`approvals_in_stream`](crate::TurnOptions::approvals_in_stream)) get the fail-closed
    /// answer; lagged events are counted in [`TurnResult::missed_events`].
    ///
    /// Dropping the future before it returns interrupts the turn (see [`TurnHandle`]), so a
    /// timeout is just:
    ///
    /// ```no_run
    /// # async fn f(thread: codex_client::Thread) -> Result<(), codex_client::Error> {
    /// use std::time::Duration;
    /// match tokio::time::timeout(Duration::from_secs(300), thread.run("Fix the build")).await {
    ///     Ok(result) => println!("{}", result?.final_response().unwrap_or_default()),
    ///     // The turn is being interrupted; the thread's next turn is a fresh one.
    ///     Err(_elapsed) => eprintln!("gave up after 5 minutes"),
    /// }
    /// # Ok(()) }
    /// ```
    ///
    /// ```no_run
    /// # async fn f(thread: codex_client::Thread) -> Result<(), codex_client::Error> {
    /// let result = thread.turn("Summarize README.md").await?.run().await?;
    /// println!("{}", result.final_response().unwrap_or_default());
    /// # Ok(()) }
    /// ```
    pub async fn run(mut self) -> Result<TurnResult> {
        while let Some(event) = self.next().await {
            match event {
                Ok(TurnEvent::ServerRequest(request)) => {
                    tracing::debug!(parent: &self.span, method = request.method(), "server request while collecting a turn; answering fail-closed");
                    drop(request);
                }
                Ok(_) => {}
                Err(err) => return Err(err),
            }
        }
        if let Some(ending) = &self.ending {
            return Err(ending.to_error(&self.control.turn_id));
        }
        if !self.collector.is_done() {
            return Err(Error::Protocol(format!(
                "the stream of turn {} ended before turn/completed",
                self.control.turn_id
            )));
        }
        // Finished: nothing for `Drop` to interrupt or free.
        self.stream = None;
        self.slot = None;
        let collector = std::mem::replace(&mut self.collector, Collector::new("", ""));
        collector.finish(self.origin)
    }
}

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

use super::input::Input;
use super::lanes::LaneSlot;
use super::result::{Collector, TurnResult};
use crate::connection::Connection;
use crate::core::RequestOptions;
use crate::error::{ClosedInfo, Error, Result};
use crate::proto::methods::ThreadRead;
use crate::proto::methods::{TurnInterrupt, TurnSteer};
use crate::proto::{ErrorNotification, ServerNotification, ThreadReadParams, TurnStatus};
use crate::proto::{TurnInterruptParams, TurnSteerParams};
use crate::router::{TurnEvent, TurnStream};
use futures::future::BoxFuture;
use futures::{FutureExt, Stream, StreamExt};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tracing::Instrument;

/// Steers or interrupts one turn. Cheap to clone and `Send`, so a task other than the one
/// streaming the turn can hold it.
///
/// ```no_run
/// # async fn f(thread: codex_client::Thread) -> Result<(), codex_client::Error> {
/// let turn = thread.turn("Write a long essay").await?;
/// let control = turn.control();
/// let running = tokio::spawn(turn.run());
/// control.interrupt().await?;
/// let result = running.await.expect("task")?;
/// assert!(result.is_interrupted());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct TurnControl {
    conn: Connection,
    thread_id: Arc<str>,
    turn_id: Arc<str>,
}

impl TurnControl {
    /// The turn's id.
    ///
    /// ```no_run
    /// # fn f(control: codex_client::TurnControl) { println!("{}", control.turn_id()); }
    /// ```
    pub fn turn_id(&self) -> &str {
        &self.turn_id
    }

    /// The thread's id.
    ///
    /// ```no_run
    /// # fn f(control: codex_client::TurnControl) { println!("{}", control.thread_id()); }
    /// ```
    pub fn thread_id(&self) -> &str {
        &self.thread_id
    }

    /// Adds input to the running turn (`turn/steer` with `expectedTurnId`, so it never lands in
    /// another turn). The input shows up as a `userMessage` item of this same turn. Fails with
    /// the server's error if the turn is no longer active.
    ///
    /// ```no_run
    /// # async fn f(control: codex_client::TurnControl) -> Result<(), codex_client::Error> {
    /// control.steer("Also update the tests.").await?;
    /// # Ok(()) }
    /// ```
    pub async fn steer(&self, input: impl Into<Input>) -> Result<()> {
        let params = TurnSteerParams {
            client_user_message_id: None,
            expected_turn_id: self.turn_id.to_string(),
            input: input.into().to_wire(),
            thread_id: self.thread_id.to_string(),
            #[cfg(feature = "experimental")]
            additional_context: None,
            #[cfg(feature = "experimental")]
            responsesapi_client_metadata: None,
        };
        let response = self.conn.request::<TurnSteer>(params).await?;
        if response.turn_id != *self.turn_id {
            return Err(Error::Protocol(format!(
                "turn/steer went to turn {} instead of {}",
                response.turn_id, self.turn_id
            )));
        }
        Ok(())
    }

    /// Interrupts the turn (`turn/interrupt`). The turn's stream then ends with `turn/completed`
    /// status `interrupted`; items in flight stay open (see [`TurnResult::open_items`]). On a
    /// turn that has already finished the server answers `Error::Rpc` -32600 "no active turn
    /// to interrupt" (like [`steer`](Self::steer)'s "no active turn to steer"): harmless, the
    /// turn is over.
    ///
    /// ```no_run
    /// # async fn f(control: codex_client::TurnControl) -> Result<(), codex_client::Error> {
    /// control.interrupt().await?;
    /// # Ok(()) }
    /// ```
    pub async fn interrupt(&self) -> Result<()> {
        let params = TurnInterruptParams {
            thread_id: self.thread_id.to_string(),
            turn_id: self.turn_id.to_string(),
        };
        self.conn.request::<TurnInterrupt>(params).await?;
        Ok(())
    }
}

/// How long the task that interrupts a dropped turn waits for its `turn/completed` before it
/// frees the thread anyway (with a warning).
pub(crate) const CANCEL_DRAIN: Duration = Duration::from_secs(30);

/// How a [`TurnHandle`] came to follow its turn ([`TurnHandle::origin`]).
///
/// ```no_run
/// # async fn f(thread: codex_client::Thread) -> Result<(), codex_client::Error> {
/// use codex_client::TurnOrigin;
/// let turn = thread.turn("hi").await?;
/// if turn.origin() == TurnOrigin::Joined {
///     eprintln!("the thread was already running turn {} (another client?)", turn.id());
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TurnOrigin {
    /// `turn/start` started a new turn: the handle owns it (dropping the handle unfinished
    /// interrupts it).
    Started,
    /// The thread was running a turn of this client and the input was steered into it
    /// ([`WhenBusy::Steer`](crate::WhenBusy::Steer)). The handle is one more subscriber of that
    /// turn, from the steer on; dropping it does not interrupt the turn (its owner's handle
    /// decides).
    Steered,
    /// The server answered `turn/start` with a turn that was already running and that this
    /// client did not start (another client of the same app-server, or a turn started through
    /// the raw [`Connection`]): the input was folded into that turn. The handle follows it (a
    /// `tracing` warning says so); its result has that turn's events from the join on, and
    /// dropping it does not interrupt a turn that is not this client's.
    Joined,
}

/// A running turn, as a [`Stream`] of its events: `Ok(TurnEvent::Notification(..))` (deltas,
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

/// A terminal error of the stream, kept so that `run()` after the stream ended returns it
/// again (`Error` is not `Clone`).
#[derive(Debug, Clone)]
enum Ending {
    Closed(Arc<ClosedInfo>),
    Timeout {
        idle: Duration,
        server_says: String,
    },
    Retries {
        retries: u32,
        elapsed: Duration,
        last_error: String,
    },
}

impl Ending {
    fn of(err: &Error) -> Option<Self> {
        match err {
            Error::Closed(info) => Some(Ending::Closed(info.clone())),
            Error::TurnTimeout {
                idle, server_says, ..
            } => Some(Ending::Timeout {
                idle: *idle,
                server_says: server_says.clone(),
            }),
            Error::TurnRetriesExhausted {
                retries,
                elapsed,
                last_error,
                ..
            } => Some(Ending::Retries {
                retries: *retries,
                elapsed: *elapsed,
                last_error: last_error.clone(),
            }),
            _ => None,
        }
    }

    fn to_error(&self, turn_id: &str) -> Error {
        let turn_id = turn_id.to_owned();
        match self.clone() {
            Ending::Closed(info) => Error::Closed(info),
            Ending::Timeout { idle, server_says } => Error::TurnTimeout {
                turn_id,
                idle,
                server_says,
            },
            Ending::Retries {
                retries,
                elapsed,
                last_error,
            } => Error::TurnRetriesExhausted {
                turn_id,
                retries,
                elapsed,
                last_error,
            },
        }
    }
}

/// The server's retries of the turn's model request, and the caller's bound on them
/// ([`TurnOptions::max_retries`](crate::TurnOptions::max_retries),
/// [`TurnOptions::retry_for`](crate::TurnOptions::retry_for)).
#[derive(Default)]
struct Retries {
    max: Option<u32>,
    within: Option<Duration>,
    seen: u32,
    first: Option<tokio::time::Instant>,
    last_error: String,
    /// Armed at the first retry when `within` is set.
    deadline: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl Retries {
    /// Counts a retrying `error`; `true` when that exceeds the count bound.
    fn on_retry(&mut self, error: &ErrorNotification) -> bool {
        self.seen += 1;
        self.last_error = match &error.error.additional_details {
            Some(details) => format!("{} ({details})", error.error.message),
            None => error.error.message.clone(),
        };
        let now = tokio::time::Instant::now();
        if self.first.is_none() {
            self.first = Some(now);
            if let Some(within) = self.within {
                self.deadline = Some(Box::pin(tokio::time::sleep_until(now + within)));
            }
        }
        self.max.is_some_and(|max| self.seen > max)
    }

    fn exhausted(&self, turn_id: &str) -> Error {
        Error::TurnRetriesExhausted {
            turn_id: turn_id.to_owned(),
            retries: self.seen,
            elapsed: self.first.map(|t| t.elapsed()).unwrap_or_default(),
            last_error: self.last_error.clone(),
        }
    }
}

/// The opt-in inactivity timeout of a turn (see
/// [`TurnOptions::inactivity_timeout`](crate::TurnOptions::inactivity_timeout)). It lives in the
/// handle, not in the router: no task, no lock; the timer only runs while the handle is polled.
struct Watchdog {
    idle: Duration,
    /// Created on first poll (inside the runtime) and reset by every event.
    timer: Option<Pin<Box<tokio::time::Sleep>>>,
    /// The `thread/read` asked when the timer fired. In a `Mutex` only to keep `TurnHandle`
    /// `Sync` (a boxed future is not); it is only ever reached through `&mut self`.
    probe: Option<std::sync::Mutex<Probe>>,
}

impl Watchdog {
    fn rearm(&mut self) {
        self.probe = None;
        let deadline = tokio::time::Instant::now() + self.idle;
        match &mut self.timer {
            Some(timer) => timer.as_mut().reset(deadline),
            None => self.timer = Some(Box::pin(tokio::time::sleep_until(deadline))),
        }
    }
}

type Probe = BoxFuture<'static, Result<crate::proto::Thread>>;

/// The `turn/completed` the server would have sent, built from its record of a finished turn.
fn synthesized_completion(
    thread_id: &str,
    turn: &crate::proto::Turn,
) -> Result<ServerNotification> {
    let params = serde_json::json!({ "threadId": thread_id, "turn": turn });
    let raw = serde_json::value::to_raw_value(&params).map_err(|source| Error::Encode {
        method: crate::router::TURN_COMPLETED.to_owned(),
        source,
    })?;
    ServerNotification::decode(crate::router::TURN_COMPLETED, Some(&raw)).map_err(|e| {
        Error::Protocol(format!(
            "could not build turn/completed from thread/read: {e}"
        ))
    })
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

    /// The watchdog fired: what does the server say about the turn?
    fn probe(&self, idle: Duration) -> Probe {
        let conn = self.control.conn.clone();
        let params = ThreadReadParams {
            include_turns: Some(true),
            thread_id: self.control.thread_id.to_string(),
        };
        let timeout = idle.max(Duration::from_secs(5));
        async move {
            let response = conn
                .request_with::<ThreadRead>(params, RequestOptions::new().timeout(timeout))
                .await?;
            Ok(response.thread)
        }
        .boxed()
    }

    /// The end of the stream the watchdog decides from the server's answer.
    fn watchdog_verdict(
        &mut self,
        idle: Duration,
        answer: Result<crate::proto::Thread>,
    ) -> Result<TurnEvent> {
        let turn_id = self.control.turn_id.to_string();
        let server_says = match answer {
            Ok(thread) => match thread.turns.iter().find(|t| t.id == turn_id) {
                Some(turn) if turn.status == TurnStatus::InProgress => {
                    "thread/read shows it still inProgress".to_owned()
                }
                Some(turn) if matches!(turn.status, TurnStatus::Unknown(_)) => {
                    format!("thread/read shows it {}", turn.status.as_str())
                }
                Some(turn) => {
                    tracing::warn!(parent: &self.span, ?idle, status = turn.status.as_str(),
                        "turn/completed never came; ending the turn from the server's record (thread/read)");
                    let completion =
                        Arc::new(synthesized_completion(&self.control.thread_id, turn)?);
                    self.collector.observe(&completion);
                    return Ok(TurnEvent::Notification(completion));
                }
                None => "thread/read does not list it".to_owned(),
            },
            Err(err) => format!("thread/read failed: {err}"),
        };
        tracing::warn!(parent: &self.span, ?idle, %server_says, "turn watchdog: no event and not finished");
        Err(Error::TurnTimeout {
            turn_id,
            idle,
            server_says,
        })
    }

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
    /// # fn f(turn: codex_client::TurnHandle) { let control = turn.control(); let _ = control; }
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

impl Stream for TurnHandle {
    type Item = Result<TurnEvent>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.ended {
            return Poll::Ready(None);
        }
        let span = this.span.clone();
        let _enter = span.enter();
        let Some(stream) = this.stream.as_mut() else {
            return Poll::Ready(None);
        };
        if let Poll::Ready(item) = stream.poll_next_unpin(cx) {
            match &item {
                Some(Ok(TurnEvent::Notification(n))) => {
                    this.collector.observe(n);
                    this.check_join(n);
                    if this.collector.is_done() {
                        // The thread is free for this client's next turn.
                        this.slot = None;
                    } else if let ServerNotification::Error(error) = &**n
                        && error.will_retry
                    {
                        tracing::warn!(turn_id = %this.control.turn_id, retry = this.retries.seen + 1,
                            message = %error.error.message, details = ?error.error.additional_details,
                            "the server is retrying the turn's model request");
                        if this.retries.on_retry(error) {
                            return Poll::Ready(Some(Err(this.give_up())));
                        }
                    }
                }
                Some(Ok(TurnEvent::Lagged(n))) => this.collector.missed(*n),
                Some(Err(err)) => this.ending = Ending::of(err),
                _ => {}
            }
            if let Some(watchdog) = &mut this.watchdog {
                watchdog.rearm();
            }
            return Poll::Ready(item);
        }
        // Nothing from the server: past the retry bound's deadline?
        if let Some(deadline) = &mut this.retries.deadline
            && !this.collector.is_done()
            && deadline.as_mut().poll(cx).is_ready()
        {
            return Poll::Ready(Some(Err(this.give_up())));
        }
        // Nothing from the server: the watchdog's turn (if armed and the turn is not over).
        let Some(watchdog) = &mut this.watchdog else {
            return Poll::Pending;
        };
        if this.collector.is_done() {
            return Poll::Pending;
        }
        let idle = watchdog.idle;
        if watchdog.probe.is_none() {
            if watchdog.timer.is_none() {
                watchdog.rearm();
            }
            let timer = watchdog.timer.as_mut().expect("armed");
            if timer.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            tracing::debug!(
                ?idle,
                "turn watchdog fired; asking the server (thread/read)"
            );
            let probe = this.probe(idle);
            this.watchdog.as_mut().expect("armed").probe = Some(std::sync::Mutex::new(probe));
        }
        let watchdog = this.watchdog.as_mut().expect("armed");
        let probe = watchdog.probe.as_mut().expect("probing");
        let probe = probe.get_mut().unwrap_or_else(|e| e.into_inner());
        let answer = std::task::ready!(probe.as_mut().poll(cx));
        watchdog.probe = None;
        this.ended = true;
        let verdict = this.watchdog_verdict(idle, answer);
        if let Err(err) = &verdict {
            this.ending = Ending::of(err);
        }
        Poll::Ready(Some(verdict))
    }
}

impl TurnHandle {
    /// The retry bound is exceeded: end the stream with the error and interrupt the turn.
    fn give_up(&mut self) -> Error {
        let err = self.retries.exhausted(&self.control.turn_id);
        tracing::warn!(parent: &self.span, error = %err, "giving up on the turn; interrupting it");
        self.ended = true;
        self.ending = Ending::of(&err);
        self.retries.deadline = None;
        self.cancel_in_background(true);
        err
    }

    /// Hands the turn's stream (and this client's claim of the thread) to a task that
    /// interrupts the turn if `interrupt`, then follows the stream to its end before it frees
    /// the thread. Nothing to do for a finished turn.
    fn cancel_in_background(&mut self, interrupt: bool) {
        if self.collector.is_done() {
            return;
        }
        let Some(stream) = self.stream.take() else {
            return;
        };
        let slot = self.slot.take();
        let control = self.control.clone();
        if control.conn.is_closed() {
            return;
        }
        let Some(runtime) = &self.runtime else {
            tracing::warn!(parent: &self.span, "an unfinished turn's handle was dropped outside a tokio runtime: the turn is not interrupted");
            return;
        };
        if interrupt && let Some(slot) = &slot {
            slot.set_cancelling();
        }
        let span = self.span.clone();
        let bound = interrupt.then_some(CANCEL_DRAIN);
        runtime.spawn(
            async move {
                let ended = async {
                    if interrupt {
                        interrupt_and_follow(&control, stream).await
                    } else {
                        follow(&mut { stream }).await
                    }
                };
                let outcome = match bound {
                    Some(bound) => tokio::time::timeout(bound, ended).await.ok(),
                    None => Some(ended.await),
                };
                match outcome {
                    Some(Some(status)) => {
                        tracing::debug!(status, "the dropped turn ended; its thread is free")
                    }
                    Some(None) => {
                        tracing::debug!("the dropped turn's stream ended without turn/completed")
                    }
                    None => tracing::warn!(
                        ?bound,
                        "the interrupted turn did not complete in time; freeing its thread anyway"
                    ),
                }
                drop(slot);
            }
            .instrument(span),
        );
    }
}

/// How often the task that cancels a dropped turn sends `turn/interrupt` again while the turn
/// has not ended: right after `turn/start` answers, the server may not have the turn active yet
/// (`-32600 no active turn to interrupt`), or may accept an interrupt that the turn, still
/// setting up, never sees.
const REINTERRUPT: Duration = Duration::from_millis(500);

/// Interrupts the turn (again every [`REINTERRUPT`] until it ends) and follows its stream to
/// the end.
async fn interrupt_and_follow(
    control: &TurnControl,
    mut stream: TurnStream,
) -> Option<&'static str> {
    let mut attempt = 0u32;
    loop {
        attempt += 1;
        match control.interrupt().await {
            Ok(()) => tracing::debug!(attempt, "turn/interrupt sent for a dropped turn"),
            Err(Error::Rpc { error, .. }) => {
                tracing::debug!(attempt, %error, "turn/interrupt refused (the turn is not active yet?)")
            }
            Err(err) => {
                tracing::warn!(error = %err, "could not interrupt a dropped turn");
                return follow(&mut stream).await;
            }
        }
        if let Ok(status) = tokio::time::timeout(REINTERRUPT, follow(&mut stream)).await {
            return status;
        }
    }
}

/// Follows a turn's stream to its end; server requests in it get their fail-closed answer.
/// The status of its `turn/completed`, if that came. Cancel-safe.
async fn follow(stream: &mut TurnStream) -> Option<&'static str> {
    while let Some(event) = stream.next().await {
        if let Ok(TurnEvent::Notification(n)) = event
            && let ServerNotification::TurnCompleted(completed) = &*n
        {
            return Some(match completed.turn.status {
                TurnStatus::Completed => "completed",
                TurnStatus::Interrupted => "interrupted",
                TurnStatus::Failed => "failed",
                _ => "other",
            });
        }
    }
    None
}

impl Drop for TurnHandle {
    fn drop(&mut self) {
        let owns = self.origin == TurnOrigin::Started && !self.detached;
        if owns || self.slot.is_some() {
            self.cancel_in_background(owns);
        }
    }
}

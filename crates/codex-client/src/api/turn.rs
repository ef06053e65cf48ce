//! A running turn: [`TurnHandle`], the stream of its events (ending with `turn/completed`) that
//! also builds the turn's [`TurnResult`] as the events pass, and [`TurnControl`], the cloneable
//! steer / interrupt remote that other tasks can hold while one task consumes the stream.
//!
//! Why the handle collects while it streams: a caller that prints deltas and then wants the
//! result should not have to choose. Whatever it already consumed is in the result that
//! [`TurnHandle::run`] returns.

use super::input::Input;
use super::result::{Collector, TurnResult};
use crate::RequestOptions;
use crate::connection::Connection;
use crate::error::{Error, Result};
use crate::proto::methods::ThreadRead;
use crate::proto::methods::{TurnInterrupt, TurnSteer};
use crate::proto::{ServerNotification, ThreadReadParams, TurnStatus};
use crate::proto::{TurnInterruptParams, TurnSteerParams};
use crate::router::{TurnEvent, TurnStream};
use futures::future::BoxFuture;
use futures::{FutureExt, Stream, StreamExt};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

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
    /// status `interrupted`; items in flight stay open (see [`TurnResult::open_items`]).
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

/// A running turn, as a [`Stream`] of its events: `Ok(TurnEvent::Notification(..))` (deltas,
/// items, usage, ... ending with `turn/completed`), `Ok(TurnEvent::ServerRequest(..))` when the
/// turn was started with [`approvals_in_stream`](crate::TurnOptions::approvals_in_stream),
/// `Err(Error::Lagged(n))` if this consumer fell behind (the stream goes on), or a last
/// `Err(Error::Closed(..))` if the connection died.
///
/// The handle records what passes through it; [`run`](Self::run) consumes the rest and returns
/// the [`TurnResult`]. Dropping the handle unsubscribes (the turn keeps running on the server).
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
    stream: TurnStream,
    collector: Collector,
    control: TurnControl,
    span: tracing::Span,
    watchdog: Option<Watchdog>,
    /// The watchdog ended the stream (with a synthesized completion or `TurnTimeout`).
    ended: bool,
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
            stream,
            span,
            watchdog: None,
            ended: false,
        }
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
    /// one, [`Error::Closed`] if the connection died first. Server requests still arriving in
    /// the stream (with [`approvals_in_stream`](crate::TurnOptions::approvals_in_stream)) get
    /// the fail-closed answer; lagged events are counted in [`TurnResult::missed_events`].
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
                Ok(TurnEvent::Notification(_)) => {}
                Ok(TurnEvent::ServerRequest(request)) => {
                    tracing::debug!(parent: &self.span, method = request.method(), "server request while collecting a turn; answering fail-closed");
                    drop(request);
                }
                Err(Error::Lagged(_)) => {}
                Err(err) => return Err(err),
            }
        }
        if !self.collector.is_done() {
            return Err(Error::Protocol(format!(
                "the stream of turn {} ended before turn/completed",
                self.control.turn_id
            )));
        }
        let TurnHandle { collector, .. } = self;
        collector.finish()
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
        if let Poll::Ready(item) = this.stream.poll_next_unpin(cx) {
            match &item {
                Some(Ok(TurnEvent::Notification(n))) => this.collector.observe(n),
                Some(Err(Error::Lagged(n))) => this.collector.missed(*n),
                _ => {}
            }
            if let Some(watchdog) = &mut this.watchdog {
                watchdog.rearm();
            }
            return Poll::Ready(item);
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
        Poll::Ready(Some(this.watchdog_verdict(idle, answer)))
    }
}

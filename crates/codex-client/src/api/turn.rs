//! A running turn: [`TurnHandle`], the stream of its events (ending with `turn/completed`) that
//! also builds the turn's [`TurnResult`] as the events pass, and [`TurnControl`], the cloneable
//! steer / interrupt remote that other tasks can hold while one task consumes the stream.
//!
//! Why the handle collects while it streams: a caller that prints deltas and then wants the
//! result should not have to choose. Whatever it already consumed is in the result that
//! [`TurnHandle::run`] returns.

use super::input::Input;
use super::result::{Collector, TurnResult};
use crate::connection::Connection;
use crate::error::{Error, Result};
use crate::proto::methods::{TurnInterrupt, TurnSteer};
use crate::proto::{TurnInterruptParams, TurnSteerParams};
use crate::router::{TurnEvent, TurnStream};
use futures::{Stream, StreamExt};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

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
        }
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
        let _enter = this.span.enter();
        let item = std::task::ready!(this.stream.poll_next_unpin(cx));
        match &item {
            Some(Ok(TurnEvent::Notification(n))) => this.collector.observe(n),
            Some(Err(Error::Lagged(n))) => this.collector.missed(*n),
            _ => {}
        }
        Poll::Ready(item)
    }
}

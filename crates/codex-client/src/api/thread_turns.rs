//! Turns on a [`Thread`]: `run` / `turn` (and their `_with` forms taking [`TurnOptions`] or a
//! bare [`TurnSettings`](crate::TurnSettings)), the busy check of this client's lane on the
//! thread ([`WhenBusy`]), and `turn/start` sent from a task of its own so that a caller who
//! stops waiting leaves no turn running unseen.

use super::input::Input;
use super::lanes::{LaneRef, LaneSlot};
use super::options::{TurnOptions, WhenBusy};
use super::result::TurnResult;
use super::thread::Thread;
use super::turn::{TurnHandle, TurnOrigin};
use crate::connection::RequestOptions;
use crate::error::{Error, Result};
use crate::proto::methods::TurnStart;
use crate::router::SubscribeOptions;
use tracing::Instrument;

impl Thread {
    /// Runs a turn to its end and returns its result ([`TurnHandle::run`]).
    ///
    /// ```no_run
    /// # async fn f(thread: codex_client::Thread) -> Result<(), codex_client::Error> {
    /// let result = thread.run("What is 2 + 2?").await?;
    /// println!("{}", result.final_response().unwrap_or_default());
    /// # Ok(()) }
    /// ```
    pub async fn run(&self, input: impl Into<Input>) -> Result<TurnResult> {
        self.run_with(input, TurnOptions::default()).await
    }

    /// [`run`](Self::run) with options: a [`TurnOptions`] (the client's behaviour, carrying the
    /// turn's wire settings), or a bare [`TurnSettings`](crate::TurnSettings).
    ///
    /// ```no_run
    /// # async fn f(thread: codex_client::Thread) -> Result<(), codex_client::Error> {
    /// use codex_client::TurnSettings;
    /// let schema = serde_json::json!({"type": "object", "properties": {"n": {"type": "integer"}},
    ///     "required": ["n"], "additionalProperties": false});
    /// let result = thread.run_with("2 + 2?", TurnSettings::new().output_schema(schema)).await?;
    /// let answer: serde_json::Value = serde_json::from_str(result.final_response().unwrap_or("{}")).unwrap();
    /// println!("2 + 2 = {}", answer["n"]);
    /// # Ok(()) }
    /// ```
    pub async fn run_with(
        &self,
        input: impl Into<Input>,
        options: impl Into<TurnOptions>,
    ) -> Result<TurnResult> {
        let options = options.into();
        let span = tracing::info_span!(
            "codex.run",
            thread_id = %self.id(),
            turn_id = tracing::field::Empty
        );
        let input = input.into();
        async {
            let turn = self.turn_with(input, options).await?;
            tracing::Span::current().record("turn_id", turn.id());
            turn.run().await
        }
        .instrument(span)
        .await
    }

    /// Starts a turn and returns its [`TurnHandle`] (a stream of its events). The route of the
    /// turn's events is in place before this returns: nothing is lost, even if the turn
    /// finishes at once.
    ///
    /// ```no_run
    /// # async fn f(thread: codex_client::Thread) -> Result<(), codex_client::Error> {
    /// use futures::StreamExt;
    /// let mut turn = thread.turn("Explain lib.rs").await?;
    /// while let Some(event) = turn.next().await {
    ///     if let Some(n) = event?.notification() {
    ///         println!("{}", n.method());
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn turn(&self, input: impl Into<Input>) -> Result<TurnHandle> {
        self.turn_with(input, TurnOptions::default()).await
    }

    /// [`turn`](Self::turn) with options: a [`TurnOptions`] (approvals in the stream, timeouts,
    /// retries, [`WhenBusy`], ... and the turn's [`TurnSettings`](crate::TurnSettings)), or a
    /// bare `TurnSettings` (model, effort, output schema, sandbox, ...).
    ///
    /// ```no_run
    /// # async fn f(thread: codex_client::Thread) -> Result<(), codex_client::Error> {
    /// use codex_client::{ApprovalMode, TurnEvent, TurnOptions, TurnSettings};
    /// use futures::StreamExt;
    /// let options = TurnOptions::new()
    ///     .settings(TurnSettings::new().approval_mode(ApprovalMode::OnRequest))
    ///     .approvals_in_stream();
    /// let mut turn = thread.turn_with("Run the tests", options).await?;
    /// while let Some(event) = turn.next().await {
    ///     if let TurnEvent::ServerRequest(request) = event? {
    ///         request.accept()?; // or decline()
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn turn_with(
        &self,
        input: impl Into<Input>,
        options: impl Into<TurnOptions>,
    ) -> Result<TurnHandle> {
        let input = input.into();
        let options = options.into();
        let params = options.settings.to_params(self.id(), input.to_wire())?;
        let start = async {
            // A closed connection is the answer, whatever the thread's lane says (the turn that
            // holds it may still be winding down after the same close).
            if let Some(info) = self.codex().connection().closed() {
                return Err(Error::Closed(info));
            }
            let slot = match self.codex().lanes().lane(self.id()).try_claim() {
                Ok(slot) => slot,
                Err(busy) => match self.when_busy(busy, &input, &options).await? {
                    Busy::Claimed(slot) => slot,
                    Busy::Steered(handle) => return Ok(*handle),
                },
            };
            self.start_turn(params, slot, options.clone()).await
        };
        match options.start_timeout {
            None => start.await,
            Some(timeout) => tokio::time::timeout(timeout, start)
                .await
                .unwrap_or_else(|_| {
                    Err(Error::Timeout {
                        method: "turn/start".to_owned(),
                        timeout,
                    })
                }),
        }
    }

    /// The thread is running a turn of this client: what `options.when_busy` says to do.
    async fn when_busy(&self, busy: LaneRef, input: &Input, options: &TurnOptions) -> Result<Busy> {
        let state = busy.state();
        match options.when_busy {
            // A dropped turn being interrupted ends soon: wait for it rather than fail.
            WhenBusy::Refuse if state.cancelling => Ok(Busy::Claimed(busy.claim().await)),
            WhenBusy::Steer if !state.cancelling && state.turn_id.is_some() => {
                let turn_id = state.turn_id.expect("checked");
                let conn = self.codex().connection();
                // Subscribed before the steer, so the steered input's items are in the stream.
                let subscribe =
                    SubscribeOptions::new().server_requests(options.approvals_in_stream);
                let stream = conn.subscribe_turn_with(&turn_id, subscribe);
                let handle = TurnHandle::new(conn.clone(), self.id(), stream)
                    .origin_is(TurnOrigin::Steered)
                    .with_options(options);
                match handle.steer(input.clone()).await {
                    Ok(()) => {
                        tracing::debug!(thread_id = %self.id(), %turn_id, "thread busy: input steered into the running turn");
                        Ok(Busy::Steered(Box::new(handle)))
                    }
                    // The turn ended meanwhile (no active turn to steer): queue instead.
                    Err(Error::Rpc { .. }) => Ok(Busy::Claimed(busy.claim().await)),
                    Err(err) => Err(err),
                }
            }
            WhenBusy::Queue | WhenBusy::Steer => {
                tracing::debug!(thread_id = %self.id(), turn_id = ?state.turn_id, "thread busy: queued behind its running turn");
                Ok(Busy::Claimed(busy.claim().await))
            }
            _ => Err(Error::ThreadBusy {
                thread_id: self.id().to_owned(),
                turn_id: state.turn_id,
            }),
        }
    }

    /// Sends `turn/start` from a task of its own, so that a caller who stops waiting (a
    /// dropped future, `start_timeout`) does not leave a started turn running unseen: the task
    /// then drops the new turn's handle, which interrupts it.
    async fn start_turn(
        &self,
        mut params: crate::proto::TurnStartParams,
        slot: LaneSlot,
        options: TurnOptions,
    ) -> Result<TurnHandle> {
        // Marks the input, so the stream shows whether it started a turn or joined one.
        let client_id = params
            .client_user_message_id
            .get_or_insert_with(next_client_message_id)
            .clone();
        let conn = self.codex().connection().clone();
        let thread_id = self.id().to_owned();
        // If this future is dropped before the answer, the turn it started is being cancelled
        // (by the task below): the thread's next caller waits for that instead of failing.
        let abandon = slot.abandon_guard();
        let (tx, rx) = tokio::sync::oneshot::channel();
        tokio::spawn(async move {
            let subscribe = SubscribeOptions::new().server_requests(options.approvals_in_stream);
            let started = conn
                .request_turn::<TurnStart>(params, subscribe, RequestOptions::new())
                .await
                .map(|(_response, stream)| {
                    tracing::debug!(%thread_id, turn_id = %stream.turn_id(), "turn started");
                    TurnHandle::new(conn.clone(), &thread_id, stream)
                        .checking_join(client_id)
                        .holding(slot)
                        .with_options(&options)
                });
            if let Err(Ok(handle)) = tx.send(started) {
                tracing::debug!(turn_id = %handle.id(), "the caller stopped waiting for turn/start; interrupting the turn it started");
                drop(handle);
            }
        });
        let answer = rx.await;
        abandon.disarm();
        answer.unwrap_or_else(|_| {
            Err(Error::Protocol(
                "the task sending turn/start ended without an answer".to_owned(),
            ))
        })
    }
}

/// What a busy thread led to.
enum Busy {
    /// The thread's lane, after waiting.
    Claimed(LaneSlot),
    /// A handle on the running turn, the input steered into it.
    Steered(Box<TurnHandle>),
}

/// A `clientUserMessageId` unique in this process, for `turn/start`.
fn next_client_message_id() -> String {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("codex-client-{}-{n}", std::process::id())
}

//! The [`Stream`] state machine of a [`TurnHandle`]: each event is recorded by the collector
//! and checked for a join; a retrying `error` counts against the retry bound; silence arms the
//! watchdog, which asks the server (`thread/read`) and ends the stream from its answer. A
//! terminal error is kept ([`Ending`]) so that `run()` returns it again.

use super::TurnHandle;
use crate::connection::RequestOptions;
use crate::error::{ClosedInfo, Error, Result};
use crate::proto::methods::ThreadRead;
use crate::proto::{ErrorNotification, ServerNotification, ThreadReadParams, TurnStatus};
use crate::router::TurnEvent;
use futures::future::BoxFuture;
use futures::{FutureExt, Stream, StreamExt};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

/// A terminal error of the stream, kept so that `run()` after the stream ended returns it
/// again (`Error` is not `Clone`).
#[derive(Debug, Clone)]
pub(super) enum Ending {
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
    pub(super) fn of(err: &Error) -> Option<Self> {
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

    pub(super) fn to_error(&self, turn_id: &str) -> Error {
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
pub(super) struct Retries {
    pub(super) max: Option<u32>,
    pub(super) within: Option<Duration>,
    pub(super) seen: u32,
    pub(super) first: Option<tokio::time::Instant>,
    pub(super) last_error: String,
    /// Armed at the first retry when `within` is set.
    pub(super) deadline: Option<Pin<Box<tokio::time::Sleep>>>,
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
pub(super) struct Watchdog {
    pub(super) idle: Duration,
    /// Created on first poll (inside the runtime) and reset by every event.
    pub(super) timer: Option<Pin<Box<tokio::time::Sleep>>>,
    /// The `thread/read` asked when the timer fired. In a `Mutex` only to keep `TurnHandle`
    /// `Sync` (a boxed future is not); it is only ever reached through `&mut self`.
    pub(super) probe: Option<std::sync::Mutex<Probe>>,
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

pub(super) type Probe = BoxFuture<'static, Result<crate::proto::Thread>>;

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

impl TurnHandle {
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

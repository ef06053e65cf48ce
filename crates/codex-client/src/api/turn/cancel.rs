//! What dropping an unfinished [`TurnHandle`] does: its stream (and this client's claim of the
//! thread) goes to a task that interrupts the turn — again every [`REINTERRUPT`] until it ends,
//! bounded by [`CANCEL_DRAIN`] — then frees the thread. A detached handle's task only follows
//! the stream to its end.

use super::TurnHandle;
use super::control::{TurnControl, TurnOrigin};
use crate::error::Error;
use crate::proto::{ServerNotification, TurnStatus};
use crate::router::{TurnEvent, TurnStream};
use futures::StreamExt;
use std::time::Duration;
use tracing::Instrument;

/// How long the task that interrupts a dropped turn waits for its `turn/completed` before it
/// frees the thread anyway (with a warning).
const CANCEL_DRAIN: Duration = Duration::from_secs(30);

impl TurnHandle {
    /// interrupts the turn if `interrupt`, then follows the stream to its end before it frees
    /// the thread. Nothing to do for a finished turn.
    pub(super) fn cancel_in_background(&mut self, interrupt: bool) {
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

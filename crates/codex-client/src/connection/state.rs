//! [`Core`]: the state of one connection, and the request path — a waiter in the table, the
//! line in the write queue, the reply awaited within the request's timeout (a caller that gives
//! up takes its waiter and, if not yet written, its line back).

use super::options::{RequestOptions, ServerInfo};
use super::waiters::{Reply, Waiter, WaiterGuard, Waiters};
use super::write_queue::{Withdraw, WriteQueue, encode_request};
use crate::error::{ClosedInfo, Error, Result};
use crate::router::{Router, SubscribeOptions};
use crate::server_requests::{AnswerSink, ErasedHandler, OpenRequests};
use crate::transport::TransportControl;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::sync::{Semaphore, oneshot, watch};
use tracing::Instrument;

/// What every clone of a [`Connection`](super::Connection), the reader task and the writer task
/// share.
pub(super) struct Core {
    pub(super) router: Arc<Router>,
    pub(super) waiters: Waiters,
    pub(super) writes: Arc<WriteQueue>,
    pub(super) answers: Arc<dyn AnswerSink>,
    pub(super) open_requests: Arc<OpenRequests>,
    pub(super) handler: Arc<dyn ErasedHandler>,
    pub(super) control: Arc<dyn TransportControl>,
    pub(super) next_id: AtomicI64,
    pub(super) in_flight: Arc<Semaphore>,
    pub(super) closing: AtomicBool,
    pub(super) reader_done: watch::Receiver<bool>,
    pub(super) server_info: OnceLock<ServerInfo>,
    pub(super) malformed_lines: AtomicU64,
    pub(super) request_timeout: Duration,
    pub(super) server_request_timeout: Duration,
    pub(super) max_line_bytes: usize,
}

impl Core {
    /// Latches the connection closed: the router (every stream ends) and the waiters (every
    /// request fails) with the same reason, the first one given. Idempotent.
    pub(super) fn fail_all(&self, info: Arc<ClosedInfo>) -> Arc<ClosedInfo> {
        let info = self.router.fail_all(info);
        self.waiters.fail_all(&info);
        info
    }

    pub(super) fn closed_error(&self) -> Error {
        Error::Closed(self.router.closed().unwrap_or_else(|| {
            Arc::new(
                ClosedInfo::new("the connection is closing")
                    .with_stderr_tail(self.control.stderr_tail()),
            )
        }))
    }

    pub(super) fn check_open(&self) -> Result<()> {
        if self.closing.load(Ordering::Acquire) || self.router.closed().is_some() {
            return Err(self.closed_error());
        }
        Ok(())
    }

    pub(super) async fn wait_reader(&self, timeout: Duration) -> bool {
        let mut done = self.reader_done.clone();
        tokio::time::timeout(timeout, done.wait_for(|d| *d))
            .await
            .is_ok()
    }

    pub(super) async fn call(
        &self,
        method: &str,
        params: Option<String>,
        options: RequestOptions,
        turn: Option<SubscribeOptions>,
    ) -> Result<Reply> {
        self.check_open()?;
        let timeout = options.timeout.unwrap_or(self.request_timeout);
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let span = tracing::debug_span!("codex.request", method, id);
        let line = encode_request(id, method, params.as_deref());
        drop(params);
        // A full queue fails at once, not after waiting for a slot: the server is not reading.
        if !self
            .writes
            .fits(self.writes.bytes.load(Ordering::Relaxed), line.len())
        {
            let err = self.writes.full_error(method, line.len());
            tracing::warn!(method, id, %err, "request refused");
            return Err(err);
        }
        let fut = async {
            let _permit = self
                .in_flight
                .acquire()
                .await
                .map_err(|_| self.closed_error())?;
            let (tx, rx) = oneshot::channel();
            self.waiters.add(
                id,
                Waiter {
                    method: method.into(),
                    tx,
                    turn,
                },
            )?;
            let mut guard = WaiterGuard {
                waiters: &self.waiters,
                id,
                answered: false,
            };
            let queued = match self.writes.send_request(method, line) {
                Ok(queued) => queued,
                Err(Error::Closed(_)) => return Err(self.closed_error()),
                Err(err) => {
                    tracing::warn!(method, id, %err, "request refused");
                    return Err(err);
                }
            };
            // Given up (timeout, cancellation) before the writer took it: not written at all.
            let _unsent = Withdraw {
                writes: &self.writes,
                request: queued,
            };
            tracing::trace!("request queued");
            let reply = rx.await;
            guard.answered = reply.is_ok();
            match reply {
                Ok(reply) => reply,
                Err(_) => Err(self.closed_error()),
            }
        };
        match tokio::time::timeout(timeout, fut).instrument(span).await {
            Ok(result) => result,
            Err(_) => {
                tracing::warn!(method, id, ?timeout, "request timed out");
                Err(Error::Timeout {
                    method: method.to_owned(),
                    timeout,
                })
            }
        }
    }
}

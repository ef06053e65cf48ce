//! The server requests waiting for this client's answer: the table of open requests (so that
//! `serverRequest/resolved` cancels one), the answer-exactly-once [`Responder`] with its
//! timeout watchdog, [`PendingServerRequest`] (a request in a turn's stream), and the task
//! that runs the connection's handler for one request.

use super::{AnswerSink, ErasedHandler, accept_of, fail_closed_answer};
use crate::error::{Error, Result};
use crate::proto::ServerRequest;
use crate::proto::envelope::{RequestId, RpcError};
use futures::FutureExt;
use serde::Serialize;
use serde_json::Value;
use serde_json::value::RawValue;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// The server requests not answered yet, so that a `serverRequest/resolved` from the server
/// (the request was settled elsewhere: another client, an interrupt, the turn ended) cancels
/// the handler and turns a later answer into a no-op. An entry is removed when the request is
/// answered or resolved.
///
/// An id names one open request at a time: the reader refuses a request whose id is already
/// here (see [`INVALID_REQUEST_CODE`]) before it builds anything for it, so every entry is one
/// request, its answer or `serverRequest/resolved` removes exactly that one, and [`len`] is
/// exact. (The app-server's ids come from one process-wide counter: a duplicate is a server
/// fault, and both answers would carry the same id.)
///
/// [`len`]: OpenRequests::len
#[derive(Default)]
pub(crate) struct OpenRequests {
    map: std::sync::Mutex<std::collections::HashMap<RequestId, OpenEntry>>,
}

struct OpenEntry {
    answered: Arc<AtomicBool>,
    resolved: Arc<AtomicBool>,
    task: Option<tokio::task::AbortHandle>,
}

impl OpenRequests {
    fn lock(&self) -> std::sync::MutexGuard<'_, std::collections::HashMap<RequestId, OpenEntry>> {
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `true` while a request with this id waits for its answer.
    pub(crate) fn contains(&self, id: &RequestId) -> bool {
        self.lock().contains_key(id)
    }

    /// Tracks a new request; its id is not open (the reader checked [`contains`](Self::contains)
    /// first, and only the reader inserts).
    pub(crate) fn insert(&self, responder: &Responder) {
        let previous = self.lock().insert(
            responder.id.clone(),
            OpenEntry {
                answered: responder.answered.clone(),
                resolved: responder.resolved.clone(),
                task: None,
            },
        );
        debug_assert!(previous.is_none(), "request {} tracked twice", responder.id);
    }

    fn set_task(&self, id: &RequestId, task: tokio::task::AbortHandle) {
        if let Some(entry) = self.lock().get_mut(id) {
            entry.task = Some(task);
        }
    }

    /// Forgets an answered request.
    pub(crate) fn remove(&self, id: &RequestId) {
        self.lock().remove(id);
    }

    /// The server settled request `id` itself: stop its handler, answer nothing.
    pub(crate) fn resolve(&self, id: &RequestId) {
        let Some(entry) = self.lock().remove(id) else {
            return;
        };
        entry.resolved.store(true, Ordering::Release);
        if !entry.answered.swap(true, Ordering::AcqRel) {
            tracing::debug!(%id, "server request resolved by the server before this client answered");
        }
        if let Some(task) = entry.task {
            task.abort();
        }
    }

    /// How many requests wait for an answer.
    pub(crate) fn len(&self) -> usize {
        self.lock().len()
    }
}

/// The "answered exactly once" state shared by a [`PendingServerRequest`] and its watchdog.
pub(crate) struct Responder {
    id: RequestId,
    method: String,
    sink: Arc<dyn AnswerSink>,
    answered: Arc<AtomicBool>,
    resolved: Arc<AtomicBool>,
    watchdog: Option<tokio::task::AbortHandle>,
}

impl Responder {
    pub(crate) fn new(id: RequestId, method: String, sink: Arc<dyn AnswerSink>) -> Self {
        Self {
            id,
            method,
            sink,
            answered: Arc::new(AtomicBool::new(false)),
            resolved: Arc::new(AtomicBool::new(false)),
            watchdog: None,
        }
    }

    /// Sends the fail-closed answer if nobody answered within `timeout`.
    pub(crate) fn arm_watchdog(&mut self, timeout: Duration) {
        let answered = self.answered.clone();
        let sink = self.sink.clone();
        let id = self.id.clone();
        let method = self.method.clone();
        let task = tokio::spawn(async move {
            tokio::time::sleep(timeout).await;
            if !answered.swap(true, Ordering::AcqRel) {
                tracing::warn!(%id, %method, ?timeout, "server request not answered in time; sending the fail-closed answer");
                sink.send_answer(&id, fail_closed_answer(&method));
            }
        });
        self.watchdog = Some(task.abort_handle());
    }

    /// Cancels the watchdog (the request goes to a handler, which has its own timeout).
    pub(crate) fn disarm_watchdog(&mut self) {
        if let Some(w) = self.watchdog.take() {
            w.abort();
        }
    }

    /// Sends `answer` unless an answer was already sent. `true` if this call sent it.
    pub(crate) fn answer(&self, answer: std::result::Result<Value, RpcError>) -> bool {
        if self.answered.swap(true, Ordering::AcqRel) {
            return false;
        }
        if let Some(w) = &self.watchdog {
            w.abort();
        }
        self.sink.send_answer(&self.id, answer)
    }

    pub(crate) fn fail_closed(&self) -> bool {
        self.answer(fail_closed_answer(&self.method))
    }
}

impl Drop for Responder {
    fn drop(&mut self) {
        if !self.answered.load(Ordering::Acquire) {
            tracing::debug!(id = %self.id, method = %self.method, "server request dropped unanswered; sending the fail-closed answer");
            self.fail_closed();
        }
    }
}

/// A request from the server waiting for this client's answer, delivered in a turn's stream.
/// Answer it exactly once with one of the consuming methods; dropping it unanswered sends the
/// fail-closed answer ([`fail_closed_answer`]).
///
/// ```no_run
/// # async fn f(mut turn: codex_client::core::TurnStream) -> Result<(), codex_client::Error> {
/// use codex_client::TurnEvent;
/// use codex_client::protocol::ServerRequest;
/// use futures::StreamExt;
///
/// // Approves the turn's commands, declines everything else (file changes, user input, ...).
/// while let Some(event) = turn.next().await {
///     if let TurnEvent::ServerRequest(request) = event? {
///         match request.request() {
///             ServerRequest::ItemCommandExecutionRequestApproval(_) => request.accept()?,
///             _ => request.decline()?,
///         }
///     }
/// }
/// # Ok(()) }
/// ```
pub struct PendingServerRequest {
    // Boxed: the typed requests are large, and this travels through queues and streams.
    request: Box<ServerRequest>,
    /// The params as the server sent them (`None`: absent or `null`).
    params: Option<Box<RawValue>>,
    responder: Responder,
}

impl std::fmt::Debug for PendingServerRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingServerRequest")
            .field("id", &self.responder.id)
            .field("request", &self.request)
            .finish()
    }
}

impl PendingServerRequest {
    pub(crate) fn new(
        request: ServerRequest,
        params: Option<Box<RawValue>>,
        responder: Responder,
    ) -> Self {
        Self {
            request: Box::new(request),
            params,
            responder,
        }
    }

    pub(crate) fn into_parts(self) -> (ServerRequest, Responder) {
        (*self.request, self.responder)
    }

    /// No stream took it: the handler answers, within its own timeout.
    pub(crate) fn disarm_watchdog(&mut self) {
        self.responder.disarm_watchdog();
    }

    /// The server's id of this request.
    pub fn id(&self) -> &RequestId {
        &self.responder.id
    }

    /// The method, e.g. `item/commandExecution/requestApproval`.
    pub fn method(&self) -> &str {
        &self.responder.method
    }

    /// `true` once the server said (`serverRequest/resolved`) that the request was settled
    /// without this client (another client answered, the turn was interrupted or ended); an
    /// answer is then pointless and is not sent.
    pub fn is_resolved(&self) -> bool {
        self.responder.resolved.load(Ordering::Acquire)
    }

    /// The typed request.
    pub fn request(&self) -> &ServerRequest {
        &self.request
    }

    /// The request's `params` exactly as the server sent them, fields no schema names included
    /// (`None` when absent or `null`). Kept for every server request (they are few: one copy
    /// of the params each).
    ///
    /// ```no_run
    /// # async fn f(mut turn: codex_client::core::TurnStream) -> Result<(), codex_client::Error> {
    /// use codex_client::TurnEvent;
    /// use futures::StreamExt;
    /// while let Some(event) = turn.next().await {
    ///     if let TurnEvent::ServerRequest(request) = event? {
    ///         let params = request.raw_params().map(|p| p.get()).unwrap_or("null");
    ///         println!("{} {params}", request.method());
    ///         request.decline()?;
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub fn raw_params(&self) -> Option<&RawValue> {
        self.params.as_deref()
    }

    /// The thread the request belongs to, if any.
    pub fn thread_id(&self) -> Option<&str> {
        self.request.thread_id()
    }

    /// The turn the request belongs to, if any.
    pub fn turn_id(&self) -> Option<&str> {
        self.request.turn_id()
    }

    /// Answers with `result` (the method's response type, or any serializable value).
    pub fn respond(self, result: impl Serialize) -> Result<()> {
        let value = serde_json::to_value(result).map_err(|source| Error::Encode {
            method: self.method().to_owned(),
            source,
        })?;
        self.send(Ok(value))
    }

    /// Answers with a JSON-RPC error (the server treats it as a failure, not as a refusal: a
    /// command item ends `failed`, not `declined`).
    pub fn respond_error(self, error: RpcError) -> Result<()> {
        self.send(Err(error))
    }

    /// Answers with the fail-closed answer (decline / empty grant / error; see
    /// [`fail_closed_answer`]).
    pub fn decline(self) -> Result<()> {
        let answer = fail_closed_answer(self.method());
        self.send(answer)
    }

    /// Approves a command or file-change approval (`{"decision":"accept"}`; legacy requests:
    /// `{"decision":"approved"}`). Any other kind of request gets its fail-closed answer and an
    /// error is returned: there is no generic "yes".
    pub fn accept(self) -> Result<()> {
        let Some(answer) = accept_of(self.method()) else {
            let err = Error::Protocol(format!(
                "`{}` is not an approval request; it was answered fail-closed",
                self.method()
            ));
            drop(self.decline());
            return Err(err);
        };
        self.send(Ok(answer))
    }

    fn send(self, answer: std::result::Result<Value, RpcError>) -> Result<()> {
        if self.responder.answer(answer) {
            Ok(())
        } else {
            Err(Error::Protocol(format!(
                "the answer to server request {} (`{}`) was not sent: already answered (timeout), resolved by the server, or the connection is closed",
                self.responder.id, self.responder.method
            )))
        }
    }
}

/// Runs the handler for one request in its own task: timeout and panic produce the fail-closed
/// answer.
pub(crate) fn spawn_handler(
    handler: Arc<dyn ErasedHandler>,
    pending: PendingServerRequest,
    timeout: Duration,
    open: &OpenRequests,
) {
    let (request, responder) = pending.into_parts();
    let id = responder.id.clone();
    let span = tracing::debug_span!("codex.server_request", method = %responder.method, id = %responder.id);
    let task = async move {
        let fut = AssertUnwindSafe(handler.handle(request)).catch_unwind();
        match tokio::time::timeout(timeout, fut).await {
            Ok(Ok(answer)) => {
                responder.answer(answer);
            }
            Ok(Err(panic)) => {
                let msg = panic
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "non-string panic".to_owned());
                tracing::error!(method = %responder.method, id = %responder.id, panic = %msg, "server-request handler panicked; sending the fail-closed answer");
                responder.fail_closed();
            }
            Err(_) => {
                tracing::warn!(method = %responder.method, id = %responder.id, ?timeout, "server-request handler timed out; sending the fail-closed answer");
                responder.fail_closed();
            }
        }
    };
    let task = tokio::spawn(tracing::Instrument::instrument(task, span));
    open.set_task(&id, task.abort_handle());
}

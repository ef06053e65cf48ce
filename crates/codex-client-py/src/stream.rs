//! `NativeStream`: one of the router's streams (a turn's, a thread's, or the connection's
//! global one) handed to Python in batches.
//!
//! A batch is every event already queued, up to `max`, taken in one release of the GIL: the
//! first event is waited for, the rest are taken without waiting. The batch reaches Python as a
//! [`NotificationBatch`], which makes each event a `Notification` (with the package's
//! [`NotificationDecoder`]) when Python's iteration reaches it; a gap (this consumer
//! fell behind and the router dropped events for it alone) is the decoder's value for it, at
//! its place. `None` instead of a batch means the stream ended
//! (a turn's after its `turn/completed`); the end of the connection raises
//! `TransportClosedError` once what was queued before it has been handed out.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use codex_client::Error;
use codex_client::core::{NotificationStream, RawEvent, TurnStream};
use pyo3::prelude::*;
use tokio::sync::{Mutex, Notify};

use crate::decode::{NotificationBatch, NotificationDecoder};
use crate::errors;
use crate::runtime;

enum Inner {
    Turn(TurnStream),
    Notifications(NotificationStream),
}

/// What a stream holds: the router's stream (`None` once it ended or was closed) and an error
/// met while a batch was being filled, raised at the next call.
struct State {
    inner: Option<Inner>,
    deferred: Option<Error>,
}

/// What a stream's callers share: the state, and the close signal, which a waiting call (an
/// asyncio task awaiting the next batch holds the state's lock) sees at once.
struct Shared {
    state: Mutex<State>,
    closed: AtomicBool,
    close: Notify,
}

/// A stream of notifications from the router.
#[pyclass(module = "codex_client._native", frozen)]
pub(crate) struct NativeStream {
    shared: Arc<Shared>,
    turn_id: Option<String>,
}

impl NativeStream {
    pub(crate) fn turn(stream: TurnStream) -> Self {
        let turn_id = Some(stream.turn_id().to_string());
        Self::new(Inner::Turn(stream), turn_id)
    }

    pub(crate) fn notifications(stream: NotificationStream) -> Self {
        Self::new(Inner::Notifications(stream), None)
    }

    fn new(inner: Inner, turn_id: Option<String>) -> Self {
        Self {
            shared: Arc::new(Shared {
                state: Mutex::new(State {
                    inner: Some(inner),
                    deferred: None,
                }),
                closed: AtomicBool::new(false),
                close: Notify::new(),
            }),
            turn_id,
        }
    }
}

/// Appends the next events of `inner` to `out`: waits for one, then takes what is queued, up
/// to `max`, without any typed decode (the params stay the server's text). `None` at the end.
async fn next_raw(
    inner: &mut Inner,
    out: &mut Vec<RawEvent>,
    max: usize,
) -> Option<Result<usize, Error>> {
    match inner {
        Inner::Turn(stream) => stream.next_raw_batch(out, max).await,
        Inner::Notifications(stream) => stream.next_raw_batch(out, max).await,
    }
}

/// Why `event` cannot be handed to Python, if it cannot: only notifications and gaps can.
fn unexpected(event: &RawEvent) -> Option<Error> {
    match event {
        RawEvent::Notification(_) | RawEvent::Lagged(_) => None,
        // Server requests are answered by the connection's handler (the Python one or the
        // fail-closed default); streams are subscribed without them.
        RawEvent::ServerRequest(request) => Some(Error::Protocol(format!(
            "server request `{}` reached a stream that did not ask for it",
            request.method()
        ))),
        other => Some(Error::Protocol(format!(
            "an event this module does not know: {other:?}"
        ))),
    }
}

/// Fills a batch: waits for the first event, then takes what is queued, up to `max`.
/// `Ok(None)`: the stream ended.
async fn next_batch(shared: &Shared, max: usize) -> Result<Option<Vec<RawEvent>>, Error> {
    let mut state = shared.state.lock().await;
    // Registered before the flag is read, so a close between the two is not missed.
    let closed = shared.close.notified();
    tokio::pin!(closed);
    closed.as_mut().enable();
    if shared.closed.load(Ordering::Acquire) {
        state.inner = None;
        return Ok(None);
    }
    if let Some(err) = state.deferred.take() {
        state.inner = None;
        return Err(err);
    }
    let Some(inner) = state.inner.as_mut() else {
        return Ok(None);
    };
    let mut raw = Vec::with_capacity(64);
    let taken = tokio::select! {
        taken = next_raw(inner, &mut raw, max) => taken,
        () = closed => {
            state.inner = None;
            return Ok(None);
        }
    };
    match taken {
        None => {
            state.inner = None;
            return Ok(None);
        }
        Some(Err(err)) => {
            state.inner = None;
            return Err(err);
        }
        Some(Ok(_)) => {}
    }
    if let Some(at) = raw.iter().position(|event| unexpected(event).is_some()) {
        // What came before it is handed out; the error at the next call.
        state.deferred = unexpected(&raw[at]);
        raw.truncate(at);
    }
    Ok(Some(raw))
}

#[pymethods]
impl NativeStream {
    /// The turn's id, for a turn stream.
    #[getter]
    fn turn_id(&self) -> Option<String> {
        self.turn_id.clone()
    }

    /// The next batch (a `NotificationBatch`: an iterator of the `Notification`s `decoder`
    /// makes, each made when it is reached), or `None` at the end. Blocks with the GIL
    /// released; Ctrl-C raises `KeyboardInterrupt` (nothing of the stream is lost).
    #[pyo3(signature = (decoder, max = 256))]
    fn next_batch<'py>(
        &self,
        py: Python<'py>,
        decoder: &Bound<'py, NotificationDecoder>,
        max: usize,
    ) -> PyResult<Option<Bound<'py, NotificationBatch>>> {
        let shared = self.shared.clone();
        let batch = runtime::wait(py, async move { next_batch(&shared, max.max(1)).await })?;
        match batch {
            Ok(Some(events)) => {
                Bound::new(py, NotificationBatch::new(events, decoder.clone().unbind())).map(Some)
            }
            Ok(None) => Ok(None),
            Err(err) => Err(errors::to_py(err)),
        }
    }

    /// [`next_batch`](Self::next_batch) for asyncio: an awaitable of the batch or `None`.
    #[pyo3(signature = (decoder, max = 256))]
    fn next_batch_async<'py>(
        &self,
        py: Python<'py>,
        decoder: &Bound<'py, NotificationDecoder>,
        max: usize,
    ) -> PyResult<Bound<'py, PyAny>> {
        let shared = self.shared.clone();
        let decoder = decoder.clone().unbind();
        pyo3_async_runtimes::tokio::future_into_py(py, async move {
            match next_batch(&shared, max.max(1)).await {
                Ok(batch) => Ok(batch.map(|events| NotificationBatch::new(events, decoder))),
                Err(err) => Err(errors::to_py(err)),
            }
        })
    }

    /// Ends the stream here: the router forgets this subscriber (a turn's buffers are freed
    /// when its last stream goes); a call waiting for the next batch returns `None`. Never
    /// blocks. Idempotent.
    fn close(&self) {
        self.shared.closed.store(true, Ordering::Release);
        self.shared.close.notify_waiters();
        // Nobody waiting: drop the router's stream now; else the waiting call drops it.
        if let Ok(mut state) = self.shared.state.try_lock() {
            state.inner = None;
            state.deferred = None;
        }
    }
}

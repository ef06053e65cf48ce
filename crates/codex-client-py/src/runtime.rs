//! The one tokio runtime of the module (pyo3-async-runtimes' runtime, so that the blocking
//! and the asyncio API share it), and [`wait`]: running a future to completion from a Python
//! thread with the GIL released, interruptible by Ctrl-C.

use std::future::Future;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use pyo3::prelude::*;

/// How often a blocked call comes back to the interpreter to run its signal handlers (so that
/// Ctrl-C raises `KeyboardInterrupt` in the main thread instead of waiting for the server).
const SIGNAL_CHECK_INTERVAL: Duration = Duration::from_millis(100);

/// The runtime every connection lives on: two worker threads (the reader and writer of each
/// connection are tasks on it; Python threads never run its tasks).
pub(crate) fn runtime() -> &'static tokio::runtime::Runtime {
    pyo3_async_runtimes::tokio::get_runtime()
}

/// Sets up the runtime's builder before its first use: multi-thread, two workers.
pub(crate) fn configure_once() {
    static CONFIGURED: std::sync::Once = std::sync::Once::new();
    CONFIGURED.call_once(configure);
}

fn configure() {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    builder
        .worker_threads(2)
        .thread_name("codex-client-rt")
        .enable_all();
    pyo3_async_runtimes::tokio::init(builder);
}

/// Runs `future` on the runtime from the calling Python thread, with the GIL released. Every
/// [`SIGNAL_CHECK_INTERVAL`] the thread takes the GIL back to run Python's signal handlers; if
/// one raises (Ctrl-C → `KeyboardInterrupt`), the future is dropped and the exception returned:
/// dropping is how every operation of the core is cancelled (a request given up is taken back
/// from the writer's queue or its answer discarded; a stream keeps what it had not handed out).
pub(crate) fn wait<F>(py: Python<'_>, future: F) -> PyResult<F::Output>
where
    F: Future + Send,
    F::Output: Send,
{
    let mut future = std::pin::pin!(future);
    // Polled once on this thread first, the GIL kept: when what is waited for is already there
    // (a stream with events queued), no release of the GIL and no park. A pending poll leaves
    // the future registered as usual; the polls below replace its waker.
    {
        let _runtime = runtime().enter();
        let mut context = Context::from_waker(Waker::noop());
        if let Poll::Ready(output) = future.as_mut().poll(&mut context) {
            return Ok(output);
        }
    }
    loop {
        let polled = py.detach(|| {
            runtime().block_on(async {
                tokio::time::timeout(SIGNAL_CHECK_INTERVAL, future.as_mut()).await
            })
        });
        match polled {
            Ok(output) => return Ok(output),
            Err(_elapsed) => py.check_signals()?,
        }
    }
}

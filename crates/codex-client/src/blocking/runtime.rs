//! [`ClientRuntime`]: the tokio runtime and the connection that every blocking object of one client
//! shares. It starts the runtime for the call that makes a client ([`ClientRuntime::start`]), runs
//! futures to completion on the caller's thread ([`ClientRuntime::wait`]), and, when the last object
//! goes away, closes the connection and stops the runtime within a bound.

use crate::connection::Connection;
use crate::error::{Error, Result};
use futures::{Stream, StreamExt};
use std::future::Future;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// Worker threads of the runtime. Callers' futures run on their own threads, so the workers only
/// carry the background tasks; two keep a slow server-request handler from stalling the reader.
const WORKER_THREADS: usize = 2;

/// The longest the last drop waits for a graceful close (stdin closed, exit, reap). The close
/// itself is bounded by the connection's close timeout at each step; this is the outer fence.
const DROP_CLOSE_LIMIT: Duration = Duration::from_secs(20);

/// The longest the last drop waits for the runtime's tasks and blocking threads to stop.
const SHUTDOWN_LIMIT: Duration = Duration::from_secs(2);

/// The runtime and connection one blocking client shares across all its clones, threads, turns
/// and streams (each holds an `Arc<ClientRuntime>`).
#[derive(Debug)]
pub(crate) struct ClientRuntime {
    handle: tokio::runtime::Handle,
    /// `None` only while dropping.
    runtime: Option<tokio::runtime::Runtime>,
    /// Set once the client is connected; closed gracefully on the last drop.
    connection: OnceLock<Connection>,
}

impl ClientRuntime {
    /// Builds the runtime (no connection yet).
    fn new() -> Result<Arc<Self>> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(WORKER_THREADS)
            .thread_name("codex-client-blocking")
            .enable_all()
            .build()
            .map_err(|err| Error::Transport(Arc::new(err)))?;
        Ok(Arc::new(ClientRuntime {
            handle: runtime.handle().clone(),
            runtime: Some(runtime),
            connection: OnceLock::new(),
        }))
    }

    /// Records the connection to close on the last drop.
    fn adopt(&self, connection: &Connection) {
        let _ = self.connection.set(connection.clone());
    }

    /// Builds a runtime and runs on it `connecting`, an async call that makes a client
    /// (`Codex::spawn`, a builder's end); the client's connection is closed on the last drop.
    pub(crate) fn start<C: Client>(
        connecting: impl Future<Output = Result<C>>,
    ) -> Result<(C, Arc<Self>)> {
        let shared = Self::new()?;
        let client = shared.wait(connecting)?;
        shared.adopt(client.connection());
        Ok((client, shared))
    }

    /// Runs `future` to completion on the calling thread.
    ///
    /// Panics when called from inside an async context (a tokio worker thread, or the body of a
    /// `block_on` / `#[tokio::main]`), with tokio's message "Cannot start a runtime from within
    /// a runtime": blocking there would stall the caller's executor. `spawn_blocking` threads
    /// are not async contexts; calling from them is fine.
    pub(crate) fn wait<F: Future>(&self, future: F) -> F::Output {
        self.handle.block_on(future)
    }

    /// The next item of `stream`, waiting at most `timeout`; on expiry an
    /// `Err(Error::Timeout)` item (the stream itself goes on: nothing is lost, the pending
    /// poll is simply abandoned).
    pub(crate) fn next_within<S, T>(
        &self,
        stream: &mut S,
        timeout: Duration,
        what: impl FnOnce() -> String,
    ) -> Option<Result<T>>
    where
        S: Stream<Item = Result<T>> + Unpin,
    {
        // The timer is created inside the future: it needs the runtime's context.
        match self.wait(async { tokio::time::timeout(timeout, stream.next()).await }) {
            Ok(item) => item,
            Err(_elapsed) => Some(Err(Error::Timeout {
                method: what(),
                timeout,
            })),
        }
    }
}

/// An async value that owns a connection: what [`ClientRuntime::start`] makes.
pub(crate) trait Client {
    fn connection(&self) -> &Connection;
}

impl Client for crate::api::Codex {
    fn connection(&self) -> &Connection {
        crate::api::Codex::connection(self)
    }
}

impl Drop for ClientRuntime {
    fn drop(&mut self) {
        let Some(runtime) = self.runtime.take() else {
            return;
        };
        let connection = self.connection.take();
        if tokio::runtime::Handle::try_current().is_err() {
            finish(runtime, connection);
            return;
        }
        // Dropped inside some runtime (an async task, a handler on our own workers, the unwind
        // of a refused call): blocking or dropping a runtime here is not allowed, so the close
        // finishes on a short-lived thread of its own.
        let slot = Arc::new(Mutex::new(Some((runtime, connection))));
        let moved = slot.clone();
        let spawned = std::thread::Builder::new()
            .name("codex-client-close".into())
            .spawn(move || {
                if let Some((runtime, connection)) = take(&moved) {
                    finish(runtime, connection);
                }
            });
        if spawned.is_err()
            && let Some((runtime, connection)) = take(&slot)
        {
            tracing::warn!(
                "could not start a thread to close the blocking client; killing the app-server"
            );
            drop(connection); // the last `Connection` kills the process group
            runtime.shutdown_background();
        }
    }
}

type Parts = (tokio::runtime::Runtime, Option<Connection>);

fn take(slot: &Mutex<Option<Parts>>) -> Option<Parts> {
    slot.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .take()
}

/// Graceful close (bounded), then the runtime stops (bounded). The close waits for the
/// child's exit status, so the child is reaped before the runtime goes.
fn finish(runtime: tokio::runtime::Runtime, connection: Option<Connection>) {
    if let Some(connection) = connection {
        if connection.closed().is_none() {
            runtime.block_on(async {
                if tokio::time::timeout(DROP_CLOSE_LIMIT, connection.close())
                    .await
                    .is_err()
                {
                    tracing::warn!(
                        ?DROP_CLOSE_LIMIT,
                        "the app-server did not close in time; killing it"
                    );
                }
            });
        }
        drop(connection);
    }
    runtime.shutdown_timeout(SHUTDOWN_LIMIT);
}

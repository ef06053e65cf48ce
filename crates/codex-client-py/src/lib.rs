//! `codex_client._native`: the Rust core of the `codex-client` Python package.
//!
//! The Python layer (`python/codex_client/`) is the `openai_codex` API; this module is what it
//! stands on: the connection of `codex-client` (spawn, handshake, requests with timeouts, the
//! bounded writer), the router's turn, thread and global streams (events handed to Python in
//! batches, one release of the GIL per batch), and the server-request handler that asks a
//! Python callable and fails closed. What each file owns:
//!
//! - `runtime.rs`: the one tokio runtime, and waiting on it from Python with the GIL released
//!   while staying interruptible (Ctrl-C);
//! - `client.rs`: `NativeClient`, a `codex_client::core::Connection`;
//! - `stream.rs`: `NativeStream`, a turn, thread or global stream of notifications;
//! - `decode.rs`: `NotificationDecoder`, raw events → `Notification` values, the flat delta
//!   models built in Rust; `NotificationBatch`, a batch decoded one event at a time as Python
//!   iterates it;
//! - `handler.rs`: server requests answered by a Python callable;
//! - `errors.rs`: `codex_client::Error` → the exceptions of `codex_client.errors`.

use pyo3::prelude::*;

mod client;
mod decode;
mod errors;
mod handler;
mod runtime;
mod stream;
mod testing;

/// The module `codex_client._native`.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("CODEX_VERSION", codex_client::protocol::CODEX_VERSION)?;
    m.add_class::<client::NativeClient>()?;
    m.add_class::<stream::NativeStream>()?;
    m.add_class::<decode::NotificationDecoder>()?;
    m.add_class::<decode::NotificationBatch>()?;
    testing::register(m)?;
    Ok(())
}

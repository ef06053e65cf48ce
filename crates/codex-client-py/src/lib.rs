//! `codex_client._native`: the Rust core of the `codex-client` Python package.
//!
//! The Python layer (`python/codex_client/`) is the `openai_codex` API; this module is what it
//! stands on: the connection (spawn, handshake, requests with timeouts), the router's turn and
//! notification streams, and the server-request handler, all from `codex-client`.

use pyo3::prelude::*;

/// The module `codex_client._native`.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}

//! [`Error`]: everything that can go wrong in the kit, with enough context (what was awaited, the
//! app-server's exit status and the tail of its stderr) to make a failing test explain itself.

use std::path::PathBuf;
use std::process::ExitStatus;
use std::time::Duration;

/// An error of the test kit.
///
/// ```
/// use codex_client_testkit::Error;
/// use std::time::Duration;
///
/// let err = Error::Timeout {
///     waiting_for: "turn/completed".into(),
///     after: Duration::from_secs(5),
///     stderr_tail: String::new(),
/// };
/// assert!(err.to_string().contains("turn/completed"));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Something awaited did not happen in time.
    #[error(
        "timed out after {after:?} waiting for {waiting_for}{}",
        tail(stderr_tail)
    )]
    Timeout {
        /// What was awaited.
        waiting_for: String,
        /// How long.
        after: Duration,
        /// The last lines the app-server wrote to stderr (empty for the mock).
        stderr_tail: String,
    },
    /// The app-server closed its stdout (it exited or crashed).
    #[error("the app-server closed its output while waiting for {waiting_for} (exit status: {}){}",
        status.map_or_else(|| "still running".to_owned(), |s| s.to_string()), tail(stderr_tail))]
    Closed {
        /// What was awaited.
        waiting_for: String,
        /// The exit status, if the process was reaped.
        status: Option<ExitStatus>,
        /// The last lines the app-server wrote to stderr.
        stderr_tail: String,
    },
    /// The app-server answered a request with a JSON-RPC error.
    #[error("{method} failed: {error}")]
    Rpc {
        /// The method of the request.
        method: String,
        /// The `error` object as received.
        error: serde_json::Value,
    },
    /// A line from the app-server was not a JSON object.
    #[error("the app-server sent a line that is not JSON: {line:?}: {source}")]
    BadLine {
        /// The line.
        line: String,
        /// Why it did not parse.
        source: serde_json::Error,
    },
    /// No `codex` binary was found.
    #[error("no codex binary found (searched: {}); set CODEX_BIN to a codex {v}, e.g. the pinned \
        runtime: `pip install openai-codex-cli-bin=={v}` in a virtualenv, then \
        CODEX_BIN=\"$(<venv>/bin/python -c 'import codex_cli_bin; print(codex_cli_bin.bundled_codex_path())')\"",
        searched.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "),
        v = codex_client_protocol::CODEX_VERSION)]
    BinaryNotFound {
        /// Every place looked at.
        searched: Vec<PathBuf>,
    },
    /// An I/O error (spawning, pipes, sockets, temp dirs).
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// Serializing a message failed.
    #[error(transparent)]
    Json(#[from] serde_json::Error),
}

fn tail(stderr: &str) -> String {
    if stderr.trim().is_empty() {
        String::new()
    } else {
        format!("\n--- app-server stderr (tail) ---\n{stderr}")
    }
}

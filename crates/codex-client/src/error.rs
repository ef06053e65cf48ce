//! The one error type of the crate, [`Error`], and [`ClosedInfo`], the description of a dead
//! connection that every waiter and stream receives when the transport ends.
//!
//! The variants are the questions a caller asks of a failure: did the connection die (and why:
//! exit status, last lines of stderr), did the server answer with an error (and is it the
//! retryable "overloaded" one), did we give up waiting, did the server send something we could not
//! decode, did this consumer fall behind, could the process not even start.

use crate::proto::envelope::RpcError;
use std::path::PathBuf;
use std::process::ExitStatus;
use std::sync::Arc;
use std::time::Duration;

/// The JSON-RPC error code the app-server uses for "Server overloaded; retry later."
pub const OVERLOADED_CODE: i64 = -32001;

/// Shorthand for `Result<T, codex_client::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong talking to the app-server.
///
/// ```
/// use codex_client::Error;
/// use codex_client::protocol::envelope::RpcError;
///
/// let err = Error::Rpc {
///     method: "thread/list".into(),
///     error: RpcError { code: -32001, message: "Server overloaded; retry later.".into(), data: None },
/// };
/// assert!(err.is_overloaded());
/// assert!(err.is_retryable());
/// ```
///
/// `Debug` prints the same message as `Display` (so that `fn main() -> Result<(), Error>` shows
/// what went wrong and what to do, not a structure); match on the variants for their data.
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading from or writing to the transport failed (the connection is then closed).
    #[error("transport error: {0}")]
    Transport(#[source] Arc<std::io::Error>),

    /// Connecting to a running app-server failed (`ws://`, `wss://`, `unix://`): the
    /// [`ConnectError`](crate::transport::ConnectError) says what failed (bad URL, refused,
    /// timeout, TLS, the HTTP status of the upgrade, a token that would travel in clear text) and
    /// where (never the token). Match on it for the kind:
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use codex_client::transport::{ConnectErrorKind, ConnectOptions};
    /// use codex_client::{Codex, Error};
    /// match Codex::builder().connect("http://example.com", ConnectOptions::new()).await {
    ///     Err(Error::Connect(err)) => assert_eq!(err.kind, ConnectErrorKind::InvalidUrl),
    ///     other => panic!("expected a connect error, got {:?}", other.map(drop)),
    /// }
    /// # }
    /// ```
    #[error(transparent)]
    Connect(crate::transport::ConnectError),

    /// The connection is closed: the process exited, was killed, closed its stdout, or
    /// [`Connection::close`](crate::core::Connection::close) was called. Carries the exit status and
    /// the tail of stderr when there was a process.
    #[error("{0}")]
    Closed(Arc<ClosedInfo>),

    /// No answer within the request's timeout (the server silently drops malformed requests and
    /// some requests under overload).
    #[error("`{method}` timed out after {timeout:?}")]
    Timeout {
        /// The request's method.
        method: String,
        /// The timeout that expired.
        timeout: Duration,
    },

    /// The request was not sent: the lines already waiting to be written to the app-server
    /// reach the connection's bound
    /// ([`ConnectionConfig::write_queue_limit`](crate::core::ConnectionConfig::write_queue_limit)) —
    /// the server is not reading its input. Nothing was written, so trying again later is safe.
    #[error(
        "`{method}` was not sent: {queued} bytes already wait to be written to the app-server          (limit {limit}, this request {bytes}); the server is not reading its input"
    )]
    WriteQueueFull {
        /// The request's method.
        method: String,
        /// The size of the request's line.
        bytes: usize,
        /// The bytes waiting in the writer's queue.
        queued: usize,
        /// The bound.
        limit: usize,
    },
    /// The server answered the request with a JSON-RPC error.
    #[error("`{method}` failed: JSON-RPC error {}: {}", error.code, error.message)]
    Rpc {
        /// The request's method.
        method: String,
        /// The error object as sent by the server.
        error: RpcError,
    },

    /// A message from the server did not decode into its type. The method and the raw payload
    /// are kept for diagnosis.
    #[error(
        "could not decode `{method}`: {source} (payload: {})",
        truncate(raw, 300)
    )]
    Decode {
        /// The method whose payload failed to decode.
        method: String,
        /// The raw JSON payload.
        raw: String,
        /// The serde error.
        #[source]
        source: serde_json::Error,
    },

    /// Parameters could not be serialized.
    #[error("could not encode the parameters of `{method}`: {source}")]
    Encode {
        /// The request's method.
        method: String,
        /// The serde error.
        #[source]
        source: serde_json::Error,
    },

    /// This consumer fell behind and `n` events were dropped from its stream (the connection and
    /// every other stream went on). The stream continues after this item.
    #[error("stream lagged behind: {0} events were dropped")]
    Lagged(u64),

    /// The server sent a line longer than the configured limit; the connection was closed.
    #[error("the server sent a line longer than {limit} bytes")]
    LineTooLong {
        /// The configured limit, in bytes.
        limit: usize,
    },

    /// The server broke the protocol in a way that matters to this call (e.g. a `turn/start`
    /// response without a turn id).
    #[error("protocol error: {0}")]
    Protocol(String),

    /// A turn ended with status `failed`. Carries the server's `TurnError` (message,
    /// `codexErrorInfo`, additional details) and the partial [`TurnResult`](crate::TurnResult).
    #[error("{0}")]
    TurnFailed(Box<crate::api::TurnFailure>),

    /// A turn's stream had no event for its inactivity timeout
    /// ([`TurnOptions::inactivity_timeout`](crate::TurnOptions::inactivity_timeout)) and the
    /// server's record of the turn did not show it finished. The stream ends after this error;
    /// the turn may still be running on the server: dropping its handle interrupts it (unless
    /// detached).
    #[error("turn {turn_id} had no event for {idle:?} and is not finished: {server_says}")]
    TurnTimeout {
        /// The turn's id.
        turn_id: String,
        /// The inactivity timeout that expired.
        idle: Duration,
        /// What the server said when asked (`thread/read`): the turn's status, that it does
        /// not know the turn, or why the question failed.
        server_says: String,
    },

    /// Options that cannot be combined (refused before anything was sent).
    #[error("invalid options: {0}")]
    InvalidOptions(String),

    /// The `codex` binary was not found. The message lists every place searched and the commands
    /// that install the pinned runtime (docs/getting-started.md, "The runtime").
    #[error(
        "the codex binary was not found; searched: {}.\n\
         Install the pinned runtime {version} into a virtualenv and point CODEX_BIN at it:\n  \
         python3 -m venv ~/.codex-runtime && ~/.codex-runtime/bin/pip install openai-codex-cli-bin=={version}\n  \
         export CODEX_BIN=\"$(~/.codex-runtime/bin/python -c 'import codex_cli_bin; print(codex_cli_bin.bundled_codex_path())')\"\n\
         (or activate that virtualenv, or put a `codex` {version} on PATH, or set SpawnConfig::codex_bin)",
        searched.join("; ")
    )]
    BinaryNotFound {
        /// Every place searched, in order.
        searched: Vec<String>,
        /// The Codex version this crate is built for.
        version: &'static str,
    },

    /// The process could not be started.
    #[error("could not start `{}`: {source}", program.display())]
    Spawn {
        /// The program.
        program: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },

    /// A turn of this client is already running on the thread, and the turn was started with
    /// the default [`WhenBusy::Refuse`](crate::WhenBusy::Refuse): nothing was sent (a
    /// `turn/start` on a busy thread would be folded into the running turn by the server).
    /// Wait for it ([`WhenBusy::Queue`](crate::WhenBusy::Queue)), steer it
    /// ([`WhenBusy::Steer`](crate::WhenBusy::Steer)) or interrupt it first.
    #[error(
        "thread {thread_id} is busy with turn {} of this client; nothing was sent. Queue behind it \
         (TurnOptions::when_busy(WhenBusy::Queue)), steer it (WhenBusy::Steer) or interrupt it first",
        turn_id.as_deref().unwrap_or("(being started)")
    )]
    ThreadBusy {
        /// The thread.
        thread_id: String,
        /// The running turn (`None` while its `turn/start` is in flight).
        turn_id: Option<String>,
    },

    /// The server kept retrying a turn's model request (`error` notifications with
    /// `willRetry: true`) past the bound set with
    /// [`TurnOptions::max_retries`](crate::TurnOptions::max_retries) /
    /// [`TurnOptions::retry_for`](crate::TurnOptions::retry_for). The turn was interrupted;
    /// the stream ends after this error.
    #[error("turn {turn_id} gave up after {retries} server retries in {elapsed:?}: {last_error}")]
    TurnRetriesExhausted {
        /// The turn's id.
        turn_id: String,
        /// How many retrying `error` notifications the turn had.
        retries: u32,
        /// The time from the first of them to giving up.
        elapsed: Duration,
        /// The last retry's message (e.g. `Reconnecting... 3/5`, with its details).
        last_error: String,
    },
    /// The app-server has no account and its model provider needs OpenAI auth (`account/read`
    /// answered `account: null, requiresOpenaiAuth: true`), so no turn could succeed: the server
    /// would retry the model forever. Returned by `threads().start` / `resume` / `fork` before
    /// anything is started; see
    /// [`CodexBuilder::skip_login_check`](crate::CodexBuilder::skip_login_check).
    #[error(
        "not logged in: the app-server{} has no account and its model provider needs OpenAI auth, \
         so no turn can succeed. Log in with `codex login` (ChatGPT) or \
         `printenv OPENAI_API_KEY | codex login --with-api-key`, with the same CODEX_HOME, or call \
         codex.account().login_api_key / login_chatgpt before starting a thread. (A custom model \
         provider that needs no OpenAI auth is not affected; Codex::builder().skip_login_check() \
         turns this check off.)",
        codex_home.as_ref().map(|h| format!(" (CODEX_HOME {})", h.display())).unwrap_or_default()
    )]
    NotLoggedIn {
        /// The server's `CODEX_HOME`, when it said at `initialize`.
        codex_home: Option<PathBuf>,
    },
}

impl std::fmt::Debug for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

impl Error {
    /// The JSON-RPC error, if the server answered with one.
    ///
    /// ```
    /// # use codex_client::Error;
    /// assert!(Error::Lagged(3).rpc_error().is_none());
    /// ```
    pub fn rpc_error(&self) -> Option<&RpcError> {
        match self {
            Error::Rpc { error, .. } => Some(error),
            _ => None,
        }
    }

    /// `true` for the server's "overloaded, retry later" answer (code -32001).
    ///
    /// ```
    /// # use codex_client::Error;
    /// assert!(!Error::Lagged(1).is_overloaded());
    /// ```
    pub fn is_overloaded(&self) -> bool {
        self.rpc_error().is_some_and(|e| e.code == OVERLOADED_CODE)
    }

    /// `true` when retrying the same call may succeed: only the server's overload answer (the
    /// request was not processed). Timeouts are not retryable: the request may have been applied.
    ///
    /// ```
    /// # use codex_client::Error;
    /// let timeout = Error::Timeout { method: "turn/start".into(), timeout: std::time::Duration::from_secs(1) };
    /// assert!(!timeout.is_retryable());
    /// ```
    pub fn is_retryable(&self) -> bool {
        self.is_overloaded()
    }

    /// `true` when the connection is closed (the client is unusable).
    ///
    /// ```
    /// # use codex_client::{Error, ClosedInfo};
    /// let err = Error::Closed(std::sync::Arc::new(ClosedInfo::new("stdout closed")));
    /// assert!(err.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        matches!(self, Error::Closed(_))
    }

    /// The failed turn's error and partial result, for [`Error::TurnFailed`].
    ///
    /// ```
    /// # use codex_client::Error;
    /// assert!(Error::Lagged(1).turn_failure().is_none());
    /// ```
    pub fn turn_failure(&self) -> Option<&crate::api::TurnFailure> {
        match self {
            Error::TurnFailed(failure) => Some(failure),
            _ => None,
        }
    }

    /// The close description, if the connection is closed.
    ///
    /// ```
    /// # use codex_client::{Error, ClosedInfo};
    /// let err = Error::Closed(std::sync::Arc::new(ClosedInfo::new("killed")));
    /// assert_eq!(err.closed_info().unwrap().reason, "killed");
    /// ```
    pub fn closed_info(&self) -> Option<&ClosedInfo> {
        match self {
            Error::Closed(info) => Some(info),
            _ => None,
        }
    }
}

/// Why and how a connection ended.
///
/// ```
/// use codex_client::ClosedInfo;
/// let info = ClosedInfo::new("the app-server closed its stdout");
/// assert!(info.to_string().contains("closed its stdout"));
/// ```
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct ClosedInfo {
    /// What happened, in words.
    pub reason: String,
    /// The exit status of the process, when there was one and it has exited.
    pub exit_status: Option<ExitStatus>,
    /// The last lines the process wrote on stderr (empty when none or not a process).
    pub stderr_tail: String,
}

impl ClosedInfo {
    /// A close description with only a reason.
    ///
    /// ```
    /// # use codex_client::ClosedInfo;
    /// assert!(ClosedInfo::new("x").exit_status.is_none());
    /// ```
    pub fn new(reason: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
            exit_status: None,
            stderr_tail: String::new(),
        }
    }

    /// Adds the exit status.
    ///
    /// ```
    /// # use codex_client::ClosedInfo;
    /// let info = ClosedInfo::new("x").with_exit_status(None);
    /// assert!(info.exit_status.is_none());
    /// ```
    pub fn with_exit_status(mut self, status: Option<ExitStatus>) -> Self {
        self.exit_status = status;
        self
    }

    /// Adds the stderr tail.
    ///
    /// ```
    /// # use codex_client::ClosedInfo;
    /// let info = ClosedInfo::new("x").with_stderr_tail("boom");
    /// assert!(info.to_string().contains("boom"));
    /// ```
    pub fn with_stderr_tail(mut self, tail: impl Into<String>) -> Self {
        self.stderr_tail = tail.into();
        self
    }
}

impl std::fmt::Display for ClosedInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "connection closed: {}", self.reason)?;
        if let Some(status) = &self.exit_status {
            write!(f, " (app-server {status})")?;
        }
        if !self.stderr_tail.is_empty() {
            write!(f, "; stderr tail:\n{}", self.stderr_tail)?;
        }
        Ok(())
    }
}

fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

//! [`MockResponse`], one answer of the mock model to one model request: what kind of answer it
//! is (a message, a tool call, an HTTP error, a failed stream, a stalled message), built by its
//! constructors, and how it is paced. The [`plan`](super::plan) module turns it into steps.

use super::exec_command::ExecCommand;
use super::stall_gate::StallGate;
use std::time::Duration;

/// One answer of the mock model to one `POST /v1/responses`.
///
/// Build one with a constructor ([`message`](Self::message), [`deltas`](Self::deltas),
/// [`exec_command`](Self::exec_command), [`http_error`](Self::http_error),
/// [`response_failed`](Self::response_failed), [`stalled`](Self::stalled)) and optionally
/// pace it with [`with_delay`](Self::with_delay).
///
/// ```
/// use codex_client_testkit::MockResponse;
/// use std::time::Duration;
///
/// // "Hello world" as two deltas, 20 ms apart.
/// let answer = MockResponse::deltas(["Hello ", "world"]).with_delay(Duration::from_millis(20));
/// assert_eq!(answer.text(), Some("Hello world".to_string()));
/// ```
#[derive(Debug, Clone)]
pub struct MockResponse {
    pub(super) kind: Kind,
    pub(super) delay: Duration,
}

/// What kind of answer a [`MockResponse`] is, with what it streams.
#[derive(Debug, Clone)]
pub(super) enum Kind {
    Message {
        deltas: Vec<String>,
    },
    ExecCommand(ExecCommand),
    HttpError {
        status: u16,
        message: String,
        error_type: String,
    },
    Failed {
        code: String,
        message: String,
    },
    Stalled {
        deltas: Vec<String>,
        gate: StallGate,
    },
}

impl MockResponse {
    /// An assistant message streamed as a single delta.
    ///
    /// ```
    /// # use codex_client_testkit::MockResponse;
    /// assert_eq!(MockResponse::message("Done.").text().as_deref(), Some("Done."));
    /// ```
    pub fn message(text: impl Into<String>) -> Self {
        Self::deltas([text.into()])
    }

    /// An assistant message streamed as these deltas, in order; the final text is their
    /// concatenation.
    ///
    /// ```
    /// # use codex_client_testkit::MockResponse;
    /// let answer = MockResponse::deltas(["a", "b", "c"]);
    /// assert_eq!(answer.text().as_deref(), Some("abc"));
    /// ```
    pub fn deltas<I, S>(deltas: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            kind: Kind::Message {
                deltas: deltas.into_iter().map(Into::into).collect(),
            },
            delay: Duration::ZERO,
        }
    }

    /// An `exec_command` function call running `cmd` (see [`ExecCommand`] for the options).
    /// Codex runs the command (after an approval, depending on the policy) and then asks the
    /// model again with the command's output; script that follow-up answer too.
    ///
    /// ```
    /// # use codex_client_testkit::MockResponse;
    /// let call = MockResponse::exec_command("touch marker.txt");
    /// assert_eq!(call.text(), None);
    /// ```
    pub fn exec_command(cmd: impl Into<String>) -> Self {
        ExecCommand::new(cmd).into()
    }

    /// An HTTP error: `status` with the JSON body
    /// `{"error":{"message":..,"type":..,"code":null}}`. The type is `server_error` for 5xx and
    /// `invalid_request_error` otherwise.
    ///
    /// ```
    /// # use codex_client_testkit::MockResponse;
    /// let answer = MockResponse::http_error(500, "mock forced HTTP 500");
    /// assert_eq!(answer.status(), 500);
    /// ```
    pub fn http_error(status: u16, message: impl Into<String>) -> Self {
        let error_type = if status >= 500 {
            "server_error"
        } else {
            "invalid_request_error"
        };
        Self {
            kind: Kind::HttpError {
                status,
                message: message.into(),
                error_type: error_type.to_owned(),
            },
            delay: Duration::ZERO,
        }
    }

    /// A stream (status 200) that reports `response.failed` with code `server_error` and this
    /// message right after `response.created`.
    ///
    /// ```
    /// # use codex_client_testkit::MockResponse;
    /// assert_eq!(MockResponse::response_failed("boom").status(), 200);
    /// ```
    pub fn response_failed(message: impl Into<String>) -> Self {
        Self {
            kind: Kind::Failed {
                code: "server_error".to_owned(),
                message: message.into(),
            },
            delay: Duration::ZERO,
        }
    }

    /// An assistant message that streams `deltas` and then stalls, holding the connection open,
    /// until `gate` is [released](StallGate::release) (the message then completes normally), the
    /// client disconnects, or the mock shuts down.
    ///
    /// ```
    /// # use codex_client_testkit::{MockResponse, StallGate};
    /// let gate = StallGate::new();
    /// let answer = MockResponse::stalled(["partial "], &gate);
    /// # let _ = answer;
    /// ```
    pub fn stalled<I, S>(deltas: I, gate: &StallGate) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            kind: Kind::Stalled {
                deltas: deltas.into_iter().map(Into::into).collect(),
                gate: gate.clone(),
            },
            delay: Duration::ZERO,
        }
    }

    /// Waits `delay` before each delta (and before the events that close a message), so that a
    /// turn takes a predictable time and events of concurrent turns interleave.
    ///
    /// ```
    /// # use codex_client_testkit::MockResponse;
    /// # use std::time::Duration;
    /// let slow = MockResponse::deltas(["x"; 10]).with_delay(Duration::from_millis(30));
    /// # let _ = slow;
    /// ```
    pub fn with_delay(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    /// The full assistant text this response streams, if it is a message (stalled ones included).
    ///
    /// ```
    /// # use codex_client_testkit::MockResponse;
    /// assert_eq!(MockResponse::http_error(400, "bad").text(), None);
    /// ```
    pub fn text(&self) -> Option<String> {
        match &self.kind {
            Kind::Message { deltas } | Kind::Stalled { deltas, .. } => Some(deltas.concat()),
            _ => None,
        }
    }

    /// The HTTP status this response is sent with.
    ///
    /// ```
    /// # use codex_client_testkit::MockResponse;
    /// assert_eq!(MockResponse::message("hi").status(), 200);
    /// ```
    pub fn status(&self) -> u16 {
        match &self.kind {
            Kind::HttpError { status, .. } => *status,
            _ => 200,
        }
    }
}

impl From<ExecCommand> for MockResponse {
    fn from(exec: ExecCommand) -> Self {
        Self {
            kind: Kind::ExecCommand(exec),
            delay: Duration::ZERO,
        }
    }
}

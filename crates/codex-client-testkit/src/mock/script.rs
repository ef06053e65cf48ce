//! What the mock answers: [`MockResponse`] (one answer to one model request), [`ExecCommand`] (a
//! tool call), [`StallGate`] (holds a stream open until a test lets it go) and [`Matcher`] (which
//! requests a scripted answer applies to).
//!
//! A response is turned into a [`Plan`]: an HTTP status, a content type and a list of steps
//! (send these bytes, sleep, stall). The server executes the plan without knowing what kind of
//! answer it was, so adding a new kind of answer never touches the HTTP code.

use super::recorded::RecordedRequest;
use super::sse::{self, ResponseIds};
use bytes::Bytes;
use serde_json::json;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

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
    kind: Kind,
    delay: Duration,
}

#[derive(Debug, Clone)]
enum Kind {
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

    /// Turns the answer into the steps the server executes, using the ids of the `n`-th response.
    pub(crate) fn plan(&self, n: u64) -> Plan {
        let ids = ResponseIds::nth(n);
        let delay = self.delay;
        let mut steps = Vec::new();
        let paced = |steps: &mut Vec<Step>, bytes: Bytes| {
            if !delay.is_zero() {
                steps.push(Step::Sleep(delay));
            }
            steps.push(Step::Send(bytes));
        };
        match &self.kind {
            Kind::Message { deltas } => {
                message_head(&mut steps, &ids);
                for delta in deltas {
                    paced(&mut steps, sse::text_delta(&ids, delta));
                }
                paced(&mut steps, sse::text_done(&ids, &deltas.concat()));
                message_tail(&mut steps, &ids, &deltas.concat());
            }
            Kind::Stalled { deltas, gate } => {
                message_head(&mut steps, &ids);
                for delta in deltas {
                    paced(&mut steps, sse::text_delta(&ids, delta));
                }
                steps.push(Step::Stall(gate.clone()));
                steps.push(Step::Send(sse::text_done(&ids, &deltas.concat())));
                message_tail(&mut steps, &ids, &deltas.concat());
            }
            Kind::ExecCommand(exec) => {
                let arguments = exec.arguments();
                steps.push(Step::Send(sse::created(&ids)));
                steps.push(Step::Send(sse::function_call_added(&ids, "exec_command")));
                paced(
                    &mut steps,
                    sse::function_call_done(&ids, "exec_command", &arguments),
                );
                steps.push(Step::Send(sse::completed(&ids)));
            }
            Kind::Failed { code, message } => {
                steps.push(Step::Send(sse::created(&ids)));
                paced(&mut steps, sse::failed(&ids, code, message));
            }
            Kind::HttpError {
                status,
                message,
                error_type,
            } => {
                return Plan {
                    status: *status,
                    content_type: "application/json",
                    steps: vec![Step::Send(sse::http_error_body(message, error_type))],
                };
            }
        }
        Plan {
            status: 200,
            content_type: "text/event-stream",
            steps,
        }
    }
}

fn message_head(steps: &mut Vec<Step>, ids: &ResponseIds) {
    steps.push(Step::Send(sse::created(ids)));
    steps.push(Step::Send(sse::message_added(ids)));
    steps.push(Step::Send(sse::content_part_added(ids)));
}

fn message_tail(steps: &mut Vec<Step>, ids: &ResponseIds, text: &str) {
    steps.push(Step::Send(sse::message_done(ids, text)));
    steps.push(Step::Send(sse::completed(ids)));
}

impl From<ExecCommand> for MockResponse {
    fn from(exec: ExecCommand) -> Self {
        Self {
            kind: Kind::ExecCommand(exec),
            delay: Duration::ZERO,
        }
    }
}

/// An `exec_command` function call (codex's unified-exec shell tool).
///
/// The arguments sent are `{"cmd": .., "yield_time_ms": ..}`, plus
/// `"sandbox_permissions": "require_escalated"` and `"justification"` when
/// [escalated](Self::escalated) (under `approvalPolicy: "on-request"` that is what makes codex ask
/// for approval).
///
/// ```
/// use codex_client_testkit::{ExecCommand, MockResponse};
///
/// let call: MockResponse = ExecCommand::new("touch /tmp/outside")
///     .escalated("The mock model wants to run this outside the sandbox.")
///     .into();
/// # let _ = call;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecCommand {
    /// The shell command line.
    pub cmd: String,
    /// How long codex waits for output before returning to the model (default 2000 ms).
    pub yield_time_ms: u64,
    /// `Some(justification)` asks to run outside the sandbox.
    pub escalation: Option<String>,
}

impl ExecCommand {
    /// A call of `cmd` with `yield_time_ms` 2000 and no escalation.
    ///
    /// ```
    /// # use codex_client_testkit::ExecCommand;
    /// assert_eq!(ExecCommand::new("ls").yield_time_ms, 2000);
    /// ```
    pub fn new(cmd: impl Into<String>) -> Self {
        Self {
            cmd: cmd.into(),
            yield_time_ms: 2000,
            escalation: None,
        }
    }

    /// Sets `yield_time_ms`.
    ///
    /// ```
    /// # use codex_client_testkit::ExecCommand;
    /// assert_eq!(ExecCommand::new("ls").yield_time_ms(500).yield_time_ms, 500);
    /// ```
    pub fn yield_time_ms(mut self, ms: u64) -> Self {
        self.yield_time_ms = ms;
        self
    }

    /// Asks for `sandbox_permissions: "require_escalated"` with this justification.
    ///
    /// ```
    /// # use codex_client_testkit::ExecCommand;
    /// let call = ExecCommand::new("ls").escalated("why");
    /// assert_eq!(call.escalation.as_deref(), Some("why"));
    /// ```
    pub fn escalated(mut self, justification: impl Into<String>) -> Self {
        self.escalation = Some(justification.into());
        self
    }

    /// The `arguments` string of the function call (a JSON document in a string).
    ///
    /// ```
    /// # use codex_client_testkit::ExecCommand;
    /// let args: serde_json::Value = serde_json::from_str(&ExecCommand::new("ls").arguments()).unwrap();
    /// assert_eq!(args["cmd"], "ls");
    /// ```
    pub fn arguments(&self) -> String {
        let mut args = json!({"cmd": self.cmd, "yield_time_ms": self.yield_time_ms});
        if let Some(justification) = &self.escalation {
            args["sandbox_permissions"] = json!("require_escalated");
            args["justification"] = json!(justification);
        }
        args.to_string()
    }
}

/// Holds [stalled](MockResponse::stalled) streams open until a test releases them, and tells the
/// test when a stream reached its stall point and when the client went away.
///
/// Clones share state. A gate can hold any number of streams; [`release`](Self::release) lets all
/// of them (and any that stall later) finish.
///
/// ```
/// use codex_client_testkit::StallGate;
///
/// let gate = StallGate::new();
/// assert_eq!(gate.stalled(), 0);
/// gate.release();
/// assert!(gate.is_released());
/// ```
#[derive(Clone)]
pub struct StallGate {
    state: Arc<watch::Sender<GateState>>,
}

#[derive(Debug, Clone, Copy, Default)]
struct GateState {
    released: bool,
    stalled: usize,
    disconnected: usize,
}

impl fmt::Debug for StallGate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("StallGate")
            .field(&*self.state.borrow())
            .finish()
    }
}

impl Default for StallGate {
    fn default() -> Self {
        Self::new()
    }
}

impl StallGate {
    /// A closed gate: streams that reach it wait.
    ///
    /// ```
    /// # use codex_client_testkit::StallGate;
    /// assert!(!StallGate::new().is_released());
    /// ```
    pub fn new() -> Self {
        Self {
            state: Arc::new(watch::Sender::new(GateState::default())),
        }
    }

    /// Opens the gate: every stream waiting on it completes its message, and later ones do not
    /// stop.
    ///
    /// ```
    /// # use codex_client_testkit::StallGate;
    /// let gate = StallGate::new();
    /// gate.release();
    /// assert!(gate.is_released());
    /// ```
    pub fn release(&self) {
        self.state.send_modify(|s| s.released = true);
    }

    /// Whether [`release`](Self::release) was called.
    ///
    /// ```
    /// # use codex_client_testkit::StallGate;
    /// assert!(!StallGate::new().is_released());
    /// ```
    pub fn is_released(&self) -> bool {
        self.state.borrow().released
    }

    /// How many streams have reached the stall point so far (released or not).
    ///
    /// ```
    /// # use codex_client_testkit::StallGate;
    /// assert_eq!(StallGate::new().stalled(), 0);
    /// ```
    pub fn stalled(&self) -> usize {
        self.state.borrow().stalled
    }

    /// How many stalled streams ended because the client disconnected.
    ///
    /// ```
    /// # use codex_client_testkit::StallGate;
    /// assert_eq!(StallGate::new().disconnected(), 0);
    /// ```
    pub fn disconnected(&self) -> usize {
        self.state.borrow().disconnected
    }

    /// Waits until at least `count` streams have sent all their deltas and stalled. `false` on
    /// timeout.
    ///
    /// ```
    /// # use codex_client_testkit::StallGate;
    /// # use std::time::Duration;
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let gate = StallGate::new();
    /// assert!(!gate.wait_stalled(1, Duration::from_millis(10)).await);
    /// # });
    /// ```
    pub async fn wait_stalled(&self, count: usize, timeout: Duration) -> bool {
        self.wait(timeout, |s| s.stalled >= count).await
    }

    /// Waits until at least `count` stalled streams were dropped by the client. `false` on
    /// timeout.
    ///
    /// ```
    /// # use codex_client_testkit::StallGate;
    /// # use std::time::Duration;
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let gate = StallGate::new();
    /// assert!(!gate.wait_disconnected(1, Duration::from_millis(10)).await);
    /// # });
    /// ```
    pub async fn wait_disconnected(&self, count: usize, timeout: Duration) -> bool {
        self.wait(timeout, |s| s.disconnected >= count).await
    }

    async fn wait(&self, timeout: Duration, mut done: impl FnMut(&GateState) -> bool) -> bool {
        let mut rx = self.state.subscribe();
        tokio::time::timeout(timeout, rx.wait_for(|s| done(s)))
            .await
            .is_ok()
    }

    pub(crate) fn note_stalled(&self) {
        self.state.send_modify(|s| s.stalled += 1);
    }

    pub(crate) fn note_disconnected(&self) {
        self.state.send_modify(|s| s.disconnected += 1);
    }

    /// Resolves once the gate is released.
    pub(crate) async fn released(&self) {
        let mut rx = self.state.subscribe();
        // The sender lives in `self`, so `wait_for` cannot fail while we hold it.
        let _ = rx.wait_for(|s| s.released).await;
    }
}

/// Which requests a scripted answer applies to (see [`MockModel::route`](crate::MockModel::route)).
///
/// ```
/// use codex_client_testkit::Matcher;
///
/// let for_thread_a = Matcher::user_text_contains("[thread-a]");
/// # let _ = for_thread_a;
/// ```
#[derive(Clone)]
pub enum Matcher {
    /// Every request.
    Any,
    /// The latest user message of the request's `input` contains this text. Tool-call follow-up
    /// requests keep the same latest user message, so they match too.
    UserTextContains(String),
    /// The `session-id` header (codex sends the thread id there) equals this.
    SessionId(String),
    /// Any predicate over the recorded request.
    Custom(Arc<dyn Fn(&RecordedRequest) -> bool + Send + Sync>),
}

impl Matcher {
    /// [`Matcher::UserTextContains`].
    ///
    /// ```
    /// # use codex_client_testkit::Matcher;
    /// let m = Matcher::user_text_contains("marker");
    /// # let _ = m;
    /// ```
    pub fn user_text_contains(text: impl Into<String>) -> Self {
        Self::UserTextContains(text.into())
    }

    /// [`Matcher::SessionId`].
    ///
    /// ```
    /// # use codex_client_testkit::Matcher;
    /// let m = Matcher::session_id("019a-thread-id");
    /// # let _ = m;
    /// ```
    pub fn session_id(thread_id: impl Into<String>) -> Self {
        Self::SessionId(thread_id.into())
    }

    /// [`Matcher::Custom`].
    ///
    /// ```
    /// # use codex_client_testkit::Matcher;
    /// let follow_ups = Matcher::custom(|req| req.ends_with_tool_output());
    /// # let _ = follow_ups;
    /// ```
    pub fn custom(predicate: impl Fn(&RecordedRequest) -> bool + Send + Sync + 'static) -> Self {
        Self::Custom(Arc::new(predicate))
    }

    /// Whether `request` is one this matcher applies to.
    ///
    /// ```
    /// # use codex_client_testkit::Matcher;
    /// # use codex_client_testkit::RecordedRequest;
    /// let req = RecordedRequest::from_body(serde_json::json!({"input": []}));
    /// assert!(Matcher::Any.matches(&req));
    /// assert!(!Matcher::user_text_contains("x").matches(&req));
    /// ```
    pub fn matches(&self, request: &RecordedRequest) -> bool {
        match self {
            Matcher::Any => true,
            Matcher::UserTextContains(text) => request
                .last_user_text()
                .is_some_and(|user| user.contains(text.as_str())),
            Matcher::SessionId(id) => request.session_id() == Some(id.as_str()),
            Matcher::Custom(predicate) => predicate(request),
        }
    }
}

impl fmt::Debug for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Matcher::Any => f.write_str("Any"),
            Matcher::UserTextContains(t) => f.debug_tuple("UserTextContains").field(t).finish(),
            Matcher::SessionId(t) => f.debug_tuple("SessionId").field(t).finish(),
            Matcher::Custom(_) => f.write_str("Custom(..)"),
        }
    }
}

/// What the server does to answer one request.
#[derive(Debug)]
pub(crate) struct Plan {
    pub status: u16,
    pub content_type: &'static str,
    pub steps: Vec<Step>,
}

/// One step of a [`Plan`].
#[derive(Debug)]
pub(crate) enum Step {
    Send(Bytes),
    Sleep(Duration),
    Stall(StallGate),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sent_events(plan: &Plan) -> Vec<String> {
        plan.steps
            .iter()
            .filter_map(|s| match s {
                Step::Send(b) => {
                    let text = String::from_utf8(b.to_vec()).unwrap();
                    Some(
                        text.lines()
                            .next()
                            .unwrap()
                            .trim_start_matches("event: ")
                            .to_owned(),
                    )
                }
                _ => None,
            })
            .collect()
    }

    #[test]
    fn message_plan_has_the_accepted_event_sequence() {
        let plan = MockResponse::deltas(["Hello ", "world"]).plan(1);
        assert_eq!(plan.status, 200);
        assert_eq!(plan.content_type, "text/event-stream");
        assert_eq!(
            sent_events(&plan),
            [
                "response.created",
                "response.output_item.added",
                "response.content_part.added",
                "response.output_text.delta",
                "response.output_text.delta",
                "response.output_text.done",
                "response.output_item.done",
                "response.completed",
            ]
        );
    }

    #[test]
    fn pacing_inserts_sleeps_before_deltas() {
        let plan = MockResponse::deltas(["a", "b"])
            .with_delay(Duration::from_millis(5))
            .plan(1);
        let sleeps = plan
            .steps
            .iter()
            .filter(|s| matches!(s, Step::Sleep(_)))
            .count();
        assert_eq!(sleeps, 3, "two deltas and the done event are paced");
    }

    #[test]
    fn escalated_exec_command_arguments() {
        let args: serde_json::Value =
            serde_json::from_str(&ExecCommand::new("ls").escalated("because").arguments()).unwrap();
        assert_eq!(args["cmd"], "ls");
        assert_eq!(args["yield_time_ms"], 2000);
        assert_eq!(args["sandbox_permissions"], "require_escalated");
        assert_eq!(args["justification"], "because");
    }

    #[test]
    fn http_error_plan_is_json() {
        let plan = MockResponse::http_error(400, "bad").plan(1);
        assert_eq!(plan.status, 400);
        assert_eq!(plan.content_type, "application/json");
        let Step::Send(body) = &plan.steps[0] else {
            panic!("expected a body")
        };
        let body: serde_json::Value = serde_json::from_slice(body).unwrap();
        assert_eq!(body["error"]["type"], "invalid_request_error");
        assert_eq!(body["error"]["code"], serde_json::Value::Null);
    }
}

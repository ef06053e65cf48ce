//! Requests the server sends to the client — approvals, user input, MCP elicitation, permission
//! grants, dynamic tool calls, auth-token refresh, attestation — and how they are answered.
//!
//! Two ways to answer, chosen per request by the router:
//!
//! 1. **In a turn's own stream.** A turn consumer that subscribed with
//!    [`SubscribeOptions::server_requests`](crate::core::SubscribeOptions::server_requests) receives
//!    the requests of its turn as [`TurnEvent::ServerRequest`](crate::TurnEvent::ServerRequest),
//!    a [`PendingServerRequest`] that answers exactly once; dropping it unanswered sends the
//!    fail-closed answer, and so does the connection's server-request timeout.
//! 2. **The connection's handler**, a [`ServerRequestHandler`], for everything else. It runs in a
//!    task of its own, never on the reader; a handler that does not answer within the timeout or
//!    that panics produces the fail-closed answer (and a `tracing` error), and the connection
//!    goes on.
//!
//! "Fail-closed" means: a valid answer that grants nothing and keeps the turn going — never
//! silence (the server would wait forever) and never auto-accept. See [`fail_closed_answer`].

use crate::error::{Error, Result};
use crate::proto::envelope::{RequestId, RpcError};
use crate::proto::{
    ApplyPatchApprovalParams, ApplyPatchApprovalResponse, AttestationGenerateParams,
    AttestationGenerateResponse, ChatgptAuthTokensRefreshParams, ChatgptAuthTokensRefreshResponse,
    CommandExecutionRequestApprovalParams, CommandExecutionRequestApprovalResponse,
    DynamicToolCallParams, DynamicToolCallResponse, ExecCommandApprovalParams,
    ExecCommandApprovalResponse, FileChangeRequestApprovalParams,
    FileChangeRequestApprovalResponse, McpServerElicitationRequestParams,
    McpServerElicitationRequestResponse, PermissionsRequestApprovalParams,
    PermissionsRequestApprovalResponse, ServerRequest, ToolRequestUserInputParams,
    ToolRequestUserInputResponse,
};
use futures::FutureExt;
use futures::future::BoxFuture;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// JSON-RPC error code sent for a server request that has no valid "no" answer and no handler
/// (`account/chatgptAuthTokens/refresh`, `attestation/generate`).
pub const NO_HANDLER_CODE: i64 = -32000;
/// JSON-RPC error code sent for a server request method this client does not know.
pub const UNKNOWN_METHOD_CODE: i64 = -32601;
/// JSON-RPC error code (Invalid Request) sent for a server request this client cannot take: its
/// `id` is not a string or an `i64` (`1.5`, `null`, `{}`, `[1]`, `true`, `u64::MAX`), or another
/// request with the same id is still open. Such a request never reaches a handler or a stream,
/// and is counted in [`Connection::malformed_lines`](crate::core::Connection::malformed_lines).
///
/// ```
/// assert_eq!(codex_client::INVALID_REQUEST_CODE, -32600);
/// ```
pub const INVALID_REQUEST_CODE: i64 = -32600;

/// The Invalid Request answer (JSON-RPC 2.0's own shape, `"jsonrpc":"2.0"` included) to a
/// server request this client cannot take. `raw_id` is the request's `id` as written: echoed
/// when it is a JSON number (bounded in length) or string, `null` otherwise (`null`, objects,
/// arrays, booleans are not JSON-RPC ids).
pub(crate) fn invalid_request_answer(raw_id: &str, message: &str) -> String {
    let echoed = match serde_json::from_str::<Value>(raw_id) {
        Ok(Value::Number(_)) if raw_id.len() <= 64 => raw_id,
        Ok(Value::String(_)) => raw_id,
        _ => "null",
    };
    let error = json!({"code": INVALID_REQUEST_CODE, "message": message});
    format!(r#"{{"jsonrpc":"2.0","id":{echoed},"error":{error}}}"#)
}

/// What a handler method returns: the typed answer, or a JSON-RPC error to send instead.
pub type HandlerResult<T> = std::result::Result<T, RpcError>;

/// The fail-closed answer to a server request `method`: `Ok(result)` to send as the result, or
/// `Err(error)` to send as a JSON-RPC error where no valid refusal exists.
///
/// | method | answer |
/// |---|---|
/// | `item/commandExecution/requestApproval`, `item/fileChange/requestApproval` | `{"decision":"decline"}` (the item ends `declined`, the turn goes on) |
/// | `item/permissions/requestApproval` | `{"permissions":{}}` (nothing granted) |
/// | `mcpServer/elicitation/request` | `{"action":"decline"}` |
/// | `item/tool/requestUserInput` | `{"answers":{}}` |
/// | `item/tool/call` | `{"contentItems":[],"success":false}` |
/// | `applyPatchApproval`, `execCommandApproval` (legacy) | `{"decision":{"denied":{"rejection":…}}}` |
/// | `account/chatgptAuthTokens/refresh`, `attestation/generate` | error -32000 |
/// | anything else | error -32601 |
///
/// ```
/// use codex_client::fail_closed_answer;
/// assert_eq!(
///     fail_closed_answer("item/commandExecution/requestApproval").unwrap(),
///     serde_json::json!({"decision": "decline"})
/// );
/// assert!(fail_closed_answer("attestation/generate").is_err());
/// ```
pub fn fail_closed_answer(method: &str) -> std::result::Result<Value, RpcError> {
    match method {
        "item/commandExecution/requestApproval" | "item/fileChange/requestApproval" => {
            Ok(json!({"decision": "decline"}))
        }
        "item/permissions/requestApproval" => Ok(json!({"permissions": {}})),
        "mcpServer/elicitation/request" => Ok(json!({"action": "decline"})),
        "item/tool/requestUserInput" => Ok(json!({"answers": {}})),
        "item/tool/call" => Ok(json!({"contentItems": [], "success": false})),
        "applyPatchApproval" | "execCommandApproval" => Ok(json!({
            "decision": {"denied": {"rejection": "declined by the client (no approval given)"}}
        })),
        "account/chatgptAuthTokens/refresh" | "attestation/generate" => Err(RpcError {
            code: NO_HANDLER_CODE,
            message: format!("codex-client: no handler installed for `{method}`"),
            data: None,
        }),
        other => Err(RpcError {
            code: UNKNOWN_METHOD_CODE,
            message: format!("codex-client: unknown server request method `{other}`"),
            data: None,
        }),
    }
}

/// The fail-closed answer of `method` as its typed response.
fn fail_closed_typed<T: DeserializeOwned>(method: &str) -> HandlerResult<T> {
    let value = fail_closed_answer(method)?;
    serde_json::from_value(value).map_err(|err| RpcError {
        code: -32603,
        message: format!("codex-client: fail-closed answer of `{method}` does not decode: {err}"),
        data: None,
    })
}

/// Answers the server's requests. Every method has a fail-closed default (see
/// [`fail_closed_answer`]), so implement only what you handle. Implementations may be written
/// with `async fn`.
///
/// Handlers run in their own task with the connection's server-request timeout; they may call
/// the connection (e.g. to read a thread) without deadlocking it.
///
/// ```
/// use codex_client::{HandlerResult, ServerRequestHandler};
/// use codex_client::protocol::{
///     CommandExecutionRequestApprovalParams, CommandExecutionRequestApprovalResponse,
/// };
///
/// struct AllowEcho;
///
/// impl ServerRequestHandler for AllowEcho {
///     async fn command_execution_approval(
///         &self,
///         params: CommandExecutionRequestApprovalParams,
///     ) -> HandlerResult<CommandExecutionRequestApprovalResponse> {
///         let text = serde_json::to_value(&params).unwrap();
///         let decision = if text["command"].as_str().is_some_and(|c| c.starts_with("echo ")) {
///             "accept"
///         } else {
///             "decline"
///         };
///         Ok(serde_json::from_value(serde_json::json!({ "decision": decision })).unwrap())
///     }
/// }
/// let config = codex_client::core::ConnectionConfig::new().handler(AllowEcho);
/// # let _ = config;
/// ```
pub trait ServerRequestHandler: Send + Sync + 'static {
    /// `item/commandExecution/requestApproval`. Default: `{"decision":"decline"}`.
    fn command_execution_approval(
        &self,
        params: CommandExecutionRequestApprovalParams,
    ) -> impl Future<Output = HandlerResult<CommandExecutionRequestApprovalResponse>> + Send {
        let _ = params;
        async { fail_closed_typed("item/commandExecution/requestApproval") }
    }

    /// `item/fileChange/requestApproval`. Default: `{"decision":"decline"}`.
    fn file_change_approval(
        &self,
        params: FileChangeRequestApprovalParams,
    ) -> impl Future<Output = HandlerResult<FileChangeRequestApprovalResponse>> + Send {
        let _ = params;
        async { fail_closed_typed("item/fileChange/requestApproval") }
    }

    /// `item/tool/requestUserInput`. Default: `{"answers":{}}`.
    fn tool_user_input(
        &self,
        params: ToolRequestUserInputParams,
    ) -> impl Future<Output = HandlerResult<ToolRequestUserInputResponse>> + Send {
        let _ = params;
        async { fail_closed_typed("item/tool/requestUserInput") }
    }

    /// `mcpServer/elicitation/request`. Default: `{"action":"decline"}`.
    fn mcp_elicitation(
        &self,
        params: McpServerElicitationRequestParams,
    ) -> impl Future<Output = HandlerResult<McpServerElicitationRequestResponse>> + Send {
        let _ = params;
        async { fail_closed_typed("mcpServer/elicitation/request") }
    }

    /// `item/permissions/requestApproval`. Default: `{"permissions":{}}` (nothing granted).
    fn permissions_approval(
        &self,
        params: PermissionsRequestApprovalParams,
    ) -> impl Future<Output = HandlerResult<PermissionsRequestApprovalResponse>> + Send {
        let _ = params;
        async { fail_closed_typed("item/permissions/requestApproval") }
    }

    /// `item/tool/call` (dynamic tools). Default: `{"contentItems":[],"success":false}`.
    fn dynamic_tool_call(
        &self,
        params: DynamicToolCallParams,
    ) -> impl Future<Output = HandlerResult<DynamicToolCallResponse>> + Send {
        let _ = params;
        async { fail_closed_typed("item/tool/call") }
    }

    /// `account/chatgptAuthTokens/refresh`. Default: a JSON-RPC error (no valid refusal exists).
    fn chatgpt_auth_tokens_refresh(
        &self,
        params: ChatgptAuthTokensRefreshParams,
    ) -> impl Future<Output = HandlerResult<ChatgptAuthTokensRefreshResponse>> + Send {
        let _ = params;
        async { fail_closed_typed("account/chatgptAuthTokens/refresh") }
    }

    /// `attestation/generate`. Default: a JSON-RPC error.
    fn attestation_generate(
        &self,
        params: AttestationGenerateParams,
    ) -> impl Future<Output = HandlerResult<AttestationGenerateResponse>> + Send {
        let _ = params;
        async { fail_closed_typed("attestation/generate") }
    }

    /// Legacy `applyPatchApproval`. Default: denied.
    fn apply_patch_approval(
        &self,
        params: ApplyPatchApprovalParams,
    ) -> impl Future<Output = HandlerResult<ApplyPatchApprovalResponse>> + Send {
        let _ = params;
        async { fail_closed_typed("applyPatchApproval") }
    }

    /// Legacy `execCommandApproval`. Default: denied.
    fn exec_command_approval(
        &self,
        params: ExecCommandApprovalParams,
    ) -> impl Future<Output = HandlerResult<ExecCommandApprovalResponse>> + Send {
        let _ = params;
        async { fail_closed_typed("execCommandApproval") }
    }

    /// A method this version of the client does not know. Default: a JSON-RPC error (-32601).
    fn unknown(
        &self,
        method: String,
        params: Value,
    ) -> impl Future<Output = HandlerResult<Value>> + Send {
        let _ = params;
        async move { fail_closed_answer(&method) }
    }
}

/// The default handler: every request gets its fail-closed answer.
///
/// ```
/// let config = codex_client::core::ConnectionConfig::new().handler(codex_client::FailClosed);
/// # let _ = config;
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct FailClosed;

impl ServerRequestHandler for FailClosed {}

/// Object-safe form of [`ServerRequestHandler`], so a connection can hold any handler.
pub(crate) trait ErasedHandler: Send + Sync + 'static {
    fn handle(&self, request: ServerRequest) -> BoxFuture<'_, HandlerResult<Value>>;
}

fn to_value<T: Serialize>(method: &str, answer: HandlerResult<T>) -> HandlerResult<Value> {
    let answer = answer?;
    serde_json::to_value(answer).map_err(|err| RpcError {
        code: -32603,
        message: format!("codex-client: the answer to `{method}` does not serialize: {err}"),
        data: None,
    })
}

impl<H: ServerRequestHandler> ErasedHandler for H {
    fn handle(&self, request: ServerRequest) -> BoxFuture<'_, HandlerResult<Value>> {
        let method = request.method().to_owned();
        match request {
            ServerRequest::ItemCommandExecutionRequestApproval(p) => {
                Box::pin(async move { to_value(&method, self.command_execution_approval(p).await) })
            }
            ServerRequest::ItemFileChangeRequestApproval(p) => {
                Box::pin(async move { to_value(&method, self.file_change_approval(p).await) })
            }
            ServerRequest::ItemToolRequestUserInput(p) => {
                Box::pin(async move { to_value(&method, self.tool_user_input(p).await) })
            }
            ServerRequest::McpServerElicitationRequest(p) => {
                Box::pin(async move { to_value(&method, self.mcp_elicitation(p).await) })
            }
            ServerRequest::ItemPermissionsRequestApproval(p) => {
                Box::pin(async move { to_value(&method, self.permissions_approval(p).await) })
            }
            ServerRequest::ItemToolCall(p) => {
                Box::pin(async move { to_value(&method, self.dynamic_tool_call(p).await) })
            }
            ServerRequest::AccountChatgptAuthTokensRefresh(p) => {
                Box::pin(
                    async move { to_value(&method, self.chatgpt_auth_tokens_refresh(p).await) },
                )
            }
            ServerRequest::AttestationGenerate(p) => {
                Box::pin(async move { to_value(&method, self.attestation_generate(p).await) })
            }
            ServerRequest::ApplyPatchApproval(p) => {
                Box::pin(async move { to_value(&method, self.apply_patch_approval(p).await) })
            }
            ServerRequest::ExecCommandApproval(p) => {
                Box::pin(async move { to_value(&method, self.exec_command_approval(p).await) })
            }
            ServerRequest::Unknown { method, params } => Box::pin(self.unknown(method, params)),
            // Requests of the experimental API (`experimental` feature) have no method of their
            // own here: they reach `unknown` with their params, as an unknown method would.
            #[cfg(feature = "experimental")]
            other => {
                let params = serde_json::to_value(&other)
                    .ok()
                    .and_then(|mut v| v.get_mut("params").map(Value::take))
                    .unwrap_or(Value::Null);
                Box::pin(self.unknown(method, params))
            }
        }
    }
}

/// Writes answers to server requests; implemented by the connection's writer.
pub(crate) trait AnswerSink: Send + Sync + 'static {
    fn send_answer(&self, id: &RequestId, answer: std::result::Result<Value, RpcError>) -> bool;
}

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
/// use futures::StreamExt;
/// while let Some(event) = turn.next().await {
///     if let TurnEvent::ServerRequest(request) = event? {
///         if request.method() == "item/commandExecution/requestApproval" {
///             request.accept()?;
///         } else {
///             request.decline()?;
///         }
///     }
/// }
/// # Ok(()) }
/// ```
pub struct PendingServerRequest {
    // Boxed: the typed requests are large, and this travels through queues and streams.
    request: Box<ServerRequest>,
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
    pub(crate) fn new(request: ServerRequest, responder: Responder) -> Self {
        Self {
            request: Box::new(request),
            responder,
        }
    }

    pub(crate) fn into_parts(self) -> (ServerRequest, Responder) {
        (*self.request, self.responder)
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
        let answer = match self.method() {
            "item/commandExecution/requestApproval" | "item/fileChange/requestApproval" => {
                json!({"decision": "accept"})
            }
            "applyPatchApproval" | "execCommandApproval" => json!({"decision": "approved"}),
            other => {
                let err = Error::Protocol(format!(
                    "`{other}` is not an approval request; it was answered fail-closed"
                ));
                drop(self.decline());
                return Err(err);
            }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The fail-closed answers are valid values of the generated response types (so the server
    /// accepts them as answers, not as malformed results).
    #[test]
    fn every_fail_closed_answer_decodes_into_its_response_type() {
        fail_closed_typed::<CommandExecutionRequestApprovalResponse>(
            "item/commandExecution/requestApproval",
        )
        .unwrap();
        fail_closed_typed::<FileChangeRequestApprovalResponse>("item/fileChange/requestApproval")
            .unwrap();
        fail_closed_typed::<ToolRequestUserInputResponse>("item/tool/requestUserInput").unwrap();
        fail_closed_typed::<McpServerElicitationRequestResponse>("mcpServer/elicitation/request")
            .unwrap();
        fail_closed_typed::<PermissionsRequestApprovalResponse>("item/permissions/requestApproval")
            .unwrap();
        fail_closed_typed::<DynamicToolCallResponse>("item/tool/call").unwrap();
        fail_closed_typed::<ApplyPatchApprovalResponse>("applyPatchApproval").unwrap();
        fail_closed_typed::<ExecCommandApprovalResponse>("execCommandApproval").unwrap();
        assert_eq!(
            fail_closed_typed::<ChatgptAuthTokensRefreshResponse>(
                "account/chatgptAuthTokens/refresh"
            )
            .unwrap_err()
            .code,
            NO_HANDLER_CODE
        );
        assert_eq!(
            fail_closed_typed::<AttestationGenerateResponse>("attestation/generate")
                .unwrap_err()
                .code,
            NO_HANDLER_CODE
        );
        assert_eq!(
            fail_closed_answer("x/y").unwrap_err().code,
            UNKNOWN_METHOD_CODE
        );
    }

    #[test]
    fn typed_answers_round_trip_to_the_exact_wire_shape() {
        let typed: CommandExecutionRequestApprovalResponse =
            fail_closed_typed("item/commandExecution/requestApproval").unwrap();
        assert_eq!(
            serde_json::to_value(typed).unwrap(),
            json!({"decision": "decline"})
        );
        let typed: PermissionsRequestApprovalResponse =
            fail_closed_typed("item/permissions/requestApproval").unwrap();
        let value = serde_json::to_value(typed).unwrap();
        assert_eq!(value["permissions"], json!({}), "{value}");
    }
}

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

mod generated;
mod open;

pub use generated::ServerRequestHandler;
pub use open::PendingServerRequest;
pub(crate) use open::{OpenRequests, Responder, spawn_handler};

use crate::proto::ServerRequest;
use crate::proto::ServerRequestMethod;
use crate::proto::envelope::{RequestId, RpcError};
use futures::future::BoxFuture;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

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
/// `Err(error)` to send as a JSON-RPC error where no valid refusal exists
/// ([`NO_HANDLER_CODE`]); a method this client does not know gets [`UNKNOWN_METHOD_CODE`].
/// Each request's answer is on its [`ServerRequestHandler`] method: a decline, an empty grant
/// or answer, a failed tool call — never an accept.
///
/// ```
/// use codex_client::protocol::{ServerRequestMethod, server_methods};
/// use codex_client::server_requests::{NO_HANDLER_CODE, UNKNOWN_METHOD_CODE, fail_closed_answer};
///
/// let approval = server_methods::ItemCommandExecutionRequestApproval::METHOD;
/// assert_eq!(fail_closed_answer(approval).unwrap(), serde_json::json!({"decision": "decline"}));
/// let attestation = server_methods::AttestationGenerate::METHOD;
/// assert_eq!(fail_closed_answer(attestation).unwrap_err().code, NO_HANDLER_CODE);
/// assert_eq!(fail_closed_answer("some/future/request").unwrap_err().code, UNKNOWN_METHOD_CODE);
/// ```
pub fn fail_closed_answer(method: &str) -> std::result::Result<Value, RpcError> {
    match generated::fail_closed_of(method) {
        Some(FailClosedAnswer::Result(value)) => Ok(value),
        Some(FailClosedAnswer::NoHandler) => Err(RpcError {
            code: NO_HANDLER_CODE,
            message: format!("codex-client: no handler installed for `{method}`"),
            data: None,
        }),
        None => Err(RpcError {
            code: UNKNOWN_METHOD_CODE,
            message: format!("codex-client: unknown server request method `{method}`"),
            data: None,
        }),
    }
}

/// A server request's fail-closed answer, as the generated table states it.
enum FailClosedAnswer {
    /// A valid answer that grants nothing.
    Result(Value),
    /// No valid refusal exists: a JSON-RPC error with [`NO_HANDLER_CODE`].
    NoHandler,
}

/// What [`PendingServerRequest::accept`] sends for `method`; `None` when it is no approval.
fn accept_of(method: &str) -> Option<Value> {
    generated::accept_of(method)
}

/// The fail-closed answer of `M` as its typed response.
fn fail_closed_typed<M: ServerRequestMethod>() -> HandlerResult<M::Response>
where
    M::Response: DeserializeOwned,
{
    let value = fail_closed_answer(M::METHOD)?;
    serde_json::from_value(value).map_err(|err| RpcError {
        code: -32603,
        message: format!(
            "codex-client: fail-closed answer of `{}` does not decode: {err}",
            M::METHOD
        ),
        data: None,
    })
}

/// A handler's typed answer to `M` as the JSON result to send.
fn to_value<M: ServerRequestMethod>(answer: HandlerResult<M::Response>) -> HandlerResult<Value> {
    serde_json::to_value(answer?).map_err(|err| RpcError {
        code: -32603,
        message: format!(
            "codex-client: the answer to `{}` does not serialize: {err}",
            M::METHOD
        ),
        data: None,
    })
}

/// The default handler: every request gets its fail-closed answer.
///
/// ```
/// use codex_client::protocol::ExecCommandApprovalParams;
/// use codex_client::server_requests::{FailClosed, ServerRequestHandler};
///
/// let params: ExecCommandApprovalParams = serde_json::from_value(serde_json::json!({
///     "conversationId": "thr_1", "callId": "call_1", "approvalId": null,
///     "command": ["rm", "-rf", "/"], "cwd": "/", "reason": null, "parsedCmd": [],
/// }))?;
/// let answer = futures::executor::block_on(FailClosed.exec_command_approval(params)).unwrap();
/// assert!(serde_json::to_value(answer)?["decision"].get("denied").is_some());
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct FailClosed;

impl ServerRequestHandler for FailClosed {}

/// Object-safe form of [`ServerRequestHandler`], so a connection can hold any handler; the
/// generated dispatch implements it for every handler.
pub(crate) trait ErasedHandler: Send + Sync + 'static {
    fn handle(&self, request: ServerRequest) -> BoxFuture<'_, HandlerResult<Value>>;
}

/// Writes answers to server requests; implemented by the connection's writer.
pub(crate) trait AnswerSink: Send + Sync + 'static {
    fn send_answer(&self, id: &RequestId, answer: std::result::Result<Value, RpcError>) -> bool;
}

/// One server request of the schema as the generated code states it, for the tests.
#[cfg(test)]
struct SchemaRow {
    method: &'static str,
    handler: &'static str,
    /// A sample of its params, built from the schema.
    params: &'static str,
    /// Its fail-closed answer decoded into its typed response (`Err` when it is an error).
    fail_closed: fn() -> HandlerResult<()>,
}

#[cfg(test)]
mod tests;

//! The typed description of a method: [`ClientMethod`] for requests the client sends (one
//! generated marker per method in [`methods`](crate::methods)), [`ServerRequestMethod`] for
//! requests the server sends (markers in [`server_methods`](crate::server_methods)).

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// A client → server request method: its name, its params type and its response type.
///
/// Implemented by the marker types of [`methods`](crate::methods), one per method of the
/// pinned schema, so a connection can offer one typed `request::<M>(params)`.
///
/// ```
/// use codex_client_protocol::{ClientMethod, methods::ThreadStart, ThreadStartParams};
///
/// fn encode<M: ClientMethod>(params: &M::Params) -> String {
///     format!("{} {}", M::METHOD, serde_json::to_string(params).unwrap())
/// }
/// let params = ThreadStartParams { model: Some("gpt-5".into()), ..Default::default() };
/// assert_eq!(encode::<ThreadStart>(&params), r#"thread/start {"model":"gpt-5"}"#);
/// ```
pub trait ClientMethod {
    /// The method name on the wire, e.g. `thread/start`.
    const METHOD: &'static str;
    /// The params; [`NoParams`] for methods without params (then `params` is omitted on the wire).
    type Params: Serialize + Send + Sync + 'static;
    /// The `result` of a successful response.
    type Response: DeserializeOwned + Send + 'static;
}

/// A server → client request method: its name, its params and the answer it expects.
///
/// ```
/// use codex_client_protocol::ServerRequestMethod;
/// use codex_client_protocol::server_methods::ItemCommandExecutionRequestApproval as M;
/// use codex_client_protocol::{CommandExecutionApprovalDecision, CommandExecutionRequestApprovalResponse};
///
/// assert_eq!(M::METHOD, "item/commandExecution/requestApproval");
/// let answer: <M as ServerRequestMethod>::Response =
///     CommandExecutionRequestApprovalResponse { decision: CommandExecutionApprovalDecision::Decline };
/// assert_eq!(serde_json::to_string(&answer).unwrap(), r#"{"decision":"decline"}"#);
/// ```
pub trait ServerRequestMethod {
    /// The method name on the wire.
    const METHOD: &'static str;
    /// The params the server sends.
    type Params: DeserializeOwned + Send + 'static;
    /// The `result` the server expects back.
    type Response: Serialize + Send + Sync + 'static;
}

/// The params of a method that takes none. Serializes to `null`, which the connection omits.
///
/// ```
/// assert_eq!(serde_json::to_string(&codex_client_protocol::NoParams).unwrap(), "null");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct NoParams;

//! Server requests (approvals, user input, elicitations, ...) answered by a Python callable.
//!
//! The connection runs the handler in a task of its own with its server-request timeout; this
//! handler hands the request to Python on a blocking thread (`callable(method, params_json)`
//! with the GIL taken there, never on the reader) and decodes what it returns. It fails closed:
//! a callable that returns `None`, raises, returns something that is not the method's answer,
//! or takes longer than the timeout gives the request's fail-closed answer (decline, an empty
//! grant, an error), never an accept.

use std::sync::Arc;

use codex_client::protocol::envelope::RpcError;
use codex_client::protocol::{self as proto, ServerRequestMethod, server_methods};
use codex_client::server_requests::{HandlerResult, ServerRequestHandler, fail_closed_answer};
use pyo3::prelude::*;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// A Python callable `(method: str, params_json: str) -> str | None`.
pub(crate) struct PyHandler {
    callable: Arc<Py<PyAny>>,
}

impl PyHandler {
    pub(crate) fn new(callable: Py<PyAny>) -> Self {
        Self {
            callable: Arc::new(callable),
        }
    }

    /// Asks Python; `Ok(None)` when it declines to answer (the fail-closed answer is sent).
    /// An answer whose decision this version does not know (`{"decision":"maybe"}`: the
    /// protocol's open enums keep such values) is not forwarded: the server would read it as
    /// it likes, and an unread decision must not become an accept.
    async fn ask<R: DeserializeOwned + KnownAnswer>(
        &self,
        method: &'static str,
        params: impl Serialize,
    ) -> HandlerResult<R> {
        let params = serde_json::to_string(&params).map_err(|err| internal(method, &err))?;
        let answer = self.ask_raw(method.to_string(), params).await;
        match answer {
            Some(json) => match serde_json::from_str::<R>(&json) {
                Ok(typed) => match typed.unknown_choice() {
                    None => Ok(typed),
                    Some(value) => {
                        tracing::warn!(method, value = %value, "the Python handler answered with a decision this version does not know; failing closed");
                        fail_closed::<R>(method)
                    }
                },
                Err(err) => {
                    tracing::warn!(method, error = %err, "the Python handler's answer is not this request's answer; failing closed");
                    fail_closed::<R>(method)
                }
            },
            None => fail_closed::<R>(method),
        }
    }

    /// The callable's answer as JSON text, or `None` (it returned `None`, raised, or the task
    /// could not run).
    async fn ask_raw(&self, method: String, params: String) -> Option<String> {
        let callable = self.callable.clone();
        let task_method = method.clone();
        let answered = tokio::task::spawn_blocking(move || {
            Python::attach(|py| -> PyResult<Option<String>> {
                let answer = callable.call1(py, (task_method, params))?;
                if answer.is_none(py) {
                    return Ok(None);
                }
                answer.extract::<String>(py).map(Some)
            })
        })
        .await;
        match answered {
            Ok(Ok(answer)) => answer,
            Ok(Err(err)) => {
                Python::attach(|py| {
                    tracing::warn!(method = %method, error = %err, "the Python handler raised; failing closed");
                    err.print(py);
                });
                None
            }
            Err(join) => {
                tracing::warn!(method = %method, error = %join, "the Python handler did not run; failing closed");
                None
            }
        }
    }
}

fn internal(method: &str, err: &dyn std::fmt::Display) -> RpcError {
    RpcError {
        code: -32603,
        message: format!("codex-client: `{method}` could not be handed to the handler: {err}"),
        data: None,
    }
}

fn fail_closed<R: DeserializeOwned>(method: &str) -> HandlerResult<R> {
    let value = fail_closed_answer(method)?;
    serde_json::from_value(value).map_err(|err| internal(method, &err))
}

/// The choice an answer makes (an approval's decision, an elicitation's action, a grant's
/// scope), when it is a value the protocol does not name: such an answer is refused.
trait KnownAnswer {
    fn unknown_choice(&self) -> Option<String> {
        None
    }
}

/// `KnownAnswer` for answers that make a choice: the field holding it, and the pattern of its
/// unknown value (the protocol's open enums keep what they do not name).
macro_rules! refuses_unknown_choice {
    ($($response:ident . $field:ident : $unknown:pat => $value:ident;)*) => {$(
        impl KnownAnswer for proto::$response {
            fn unknown_choice(&self) -> Option<String> {
                match &self.$field {
                    $unknown => Some($value.to_string()),
                    _ => None,
                }
            }
        }
    )*};
}

refuses_unknown_choice! {
    CommandExecutionRequestApprovalResponse.decision:
        proto::CommandExecutionApprovalDecision::Unknown(value) => value;
    FileChangeRequestApprovalResponse.decision:
        proto::FileChangeApprovalDecision::Unknown(value) => value;
    ApplyPatchApprovalResponse.decision: proto::ReviewDecision::Unknown(value) => value;
    ExecCommandApprovalResponse.decision: proto::ReviewDecision::Unknown(value) => value;
    McpServerElicitationRequestResponse.action:
        proto::McpServerElicitationAction::Unknown(value) => value;
    PermissionsRequestApprovalResponse.scope:
        Some(proto::PermissionGrantScope::Unknown(value)) => value;
}

impl KnownAnswer for proto::ToolRequestUserInputResponse {}
impl KnownAnswer for proto::DynamicToolCallResponse {}
impl KnownAnswer for proto::ChatgptAuthTokensRefreshResponse {}
impl KnownAnswer for proto::AttestationGenerateResponse {}
impl KnownAnswer for proto::CurrentTimeReadResponse {}

/// One trait method per server request, each asking Python under the request's method name.
macro_rules! ask_python {
    ($($name:ident($params:ty) -> $response:ty = $marker:ident;)*) => {
        impl ServerRequestHandler for PyHandler {
            $(
                async fn $name(&self, params: $params) -> HandlerResult<$response> {
                    self.ask(<server_methods::$marker as ServerRequestMethod>::METHOD, params).await
                }
            )*

            async fn unknown(&self, method: String, params: Value) -> HandlerResult<Value> {
                match self.ask_raw(method.clone(), params.to_string()).await {
                    Some(json) => serde_json::from_str(&json).map_err(|err| internal(&method, &err)),
                    None => fail_closed_answer(&method),
                }
            }
        }
    };
}

ask_python! {
    command_execution_approval(proto::CommandExecutionRequestApprovalParams)
        -> proto::CommandExecutionRequestApprovalResponse = ItemCommandExecutionRequestApproval;
    file_change_approval(proto::FileChangeRequestApprovalParams)
        -> proto::FileChangeRequestApprovalResponse = ItemFileChangeRequestApproval;
    tool_user_input(proto::ToolRequestUserInputParams)
        -> proto::ToolRequestUserInputResponse = ItemToolRequestUserInput;
    mcp_elicitation(proto::McpServerElicitationRequestParams)
        -> proto::McpServerElicitationRequestResponse = McpServerElicitationRequest;
    permissions_approval(proto::PermissionsRequestApprovalParams)
        -> proto::PermissionsRequestApprovalResponse = ItemPermissionsRequestApproval;
    dynamic_tool_call(proto::DynamicToolCallParams)
        -> proto::DynamicToolCallResponse = ItemToolCall;
    chatgpt_auth_tokens_refresh(proto::ChatgptAuthTokensRefreshParams)
        -> proto::ChatgptAuthTokensRefreshResponse = AccountChatgptAuthTokensRefresh;
    attestation_generate(proto::AttestationGenerateParams)
        -> proto::AttestationGenerateResponse = AttestationGenerate;
    current_time_read(proto::CurrentTimeReadParams)
        -> proto::CurrentTimeReadResponse = CurrentTimeRead;
    apply_patch_approval(proto::ApplyPatchApprovalParams)
        -> proto::ApplyPatchApprovalResponse = ApplyPatchApproval;
    exec_command_approval(proto::ExecCommandApprovalParams)
        -> proto::ExecCommandApprovalResponse = ExecCommandApproval;
}

//! TEMPORARY stand-in for `codex-client-protocol` following the agreed contract, so the connection
//! core compiles and its tests run before the generated crate lands. Deleted when it lands.
#![allow(dead_code, missing_docs)]

pub const CODEX_VERSION: &str = "0.163.0";

pub mod envelope {
    use serde::{Deserialize, Serialize};
    use serde_json::value::RawValue;
    use std::borrow::Cow;

    #[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
    #[serde(untagged)]
    pub enum RequestId {
        Integer(i64),
        String(String),
    }
    impl std::fmt::Display for RequestId {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            match self {
                RequestId::Integer(i) => write!(f, "{i}"),
                RequestId::String(s) => write!(f, "{s:?}"),
            }
        }
    }
    impl From<i64> for RequestId {
        fn from(v: i64) -> Self {
            RequestId::Integer(v)
        }
    }

    #[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
    pub struct RpcError {
        pub code: i64,
        pub message: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub data: Option<serde_json::Value>,
    }

    #[derive(Debug)]
    pub enum Incoming<'a> {
        Response {
            id: RequestId,
            result: &'a RawValue,
        },
        Error {
            id: RequestId,
            error: RpcError,
        },
        Notification {
            method: Cow<'a, str>,
            params: Option<&'a RawValue>,
            emitted_at_ms: Option<i64>,
        },
        Request {
            id: RequestId,
            method: Cow<'a, str>,
            params: Option<&'a RawValue>,
        },
    }

    #[derive(Debug)]
    pub struct EnvelopeError(pub String);
    impl std::fmt::Display for EnvelopeError {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(&self.0)
        }
    }
    impl std::error::Error for EnvelopeError {}

    #[derive(Deserialize)]
    struct Raw<'a> {
        #[serde(default)]
        id: Option<RequestId>,
        #[serde(borrow, default)]
        method: Option<Cow<'a, str>>,
        #[serde(borrow, default)]
        params: Option<&'a RawValue>,
        #[serde(borrow, default)]
        result: Option<&'a RawValue>,
        #[serde(default)]
        error: Option<RpcError>,
        #[serde(default, rename = "emittedAtMs")]
        emitted_at_ms: Option<i64>,
    }

    impl<'a> Incoming<'a> {
        pub fn parse(line: &'a str) -> Result<Incoming<'a>, EnvelopeError> {
            let raw: Raw<'a> =
                serde_json::from_str(line).map_err(|e| EnvelopeError(e.to_string()))?;
            match (raw.id, raw.method) {
                (Some(id), Some(method)) => Ok(Incoming::Request {
                    id,
                    method,
                    params: raw.params,
                }),
                (None, Some(method)) => Ok(Incoming::Notification {
                    method,
                    params: raw.params,
                    emitted_at_ms: raw.emitted_at_ms,
                }),
                (Some(id), None) => match (raw.result, raw.error) {
                    (Some(result), _) => Ok(Incoming::Response { id, result }),
                    (None, Some(error)) => Ok(Incoming::Error { id, error }),
                    _ => Err(EnvelopeError("no result or error".into())),
                },
                (None, None) => Err(EnvelopeError("neither id nor method".into())),
            }
        }
    }
}

pub trait ClientMethod {
    const METHOD: &'static str;
    type Params: serde::Serialize + Send + Sync + 'static;
    type Response: serde::de::DeserializeOwned + Send + 'static;
}

#[derive(Debug)]
pub struct DecodeError {
    pub method: String,
    pub raw: String,
    pub source: serde_json::Error,
}
impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.method, self.source)
    }
}
impl std::error::Error for DecodeError {}

pub mod types {
    use serde::{Deserialize, Serialize};
    #[derive(Debug, Clone, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Turn {
        pub id: String,
        #[serde(default)]
        pub status: String,
    }
    #[derive(Debug, Clone, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct TurnStartedNotification {
        pub thread_id: String,
        pub turn: Turn,
    }
    #[derive(Debug, Clone, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct TurnCompletedNotification {
        pub thread_id: String,
        pub turn: Turn,
    }
    #[derive(Debug, Clone, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct AgentMessageDeltaNotification {
        pub thread_id: String,
        pub turn_id: String,
        pub item_id: String,
        pub delta: String,
    }
    #[derive(Debug, Clone, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct ItemCompletedNotification {
        pub thread_id: String,
        pub turn_id: String,
        pub item: serde_json::Value,
    }
    #[derive(Debug, Clone, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct ThreadStatusChangedNotification {
        pub thread_id: String,
    }
    #[derive(Debug, Clone, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct TurnStartParams {
        pub thread_id: String,
        pub input: serde_json::Value,
    }
    #[derive(Debug, Clone, Serialize, Deserialize)]
    pub struct TurnStartResponse {
        pub turn: Turn,
    }
    macro_rules! value_types {
        ($($n:ident),*) => {$(
            #[derive(Debug, Clone, Serialize, Deserialize)]
            pub struct $n(pub serde_json::Value);
        )*};
    }
    value_types!(
        CommandExecutionRequestApprovalParams,
        CommandExecutionRequestApprovalResponse,
        FileChangeRequestApprovalParams,
        FileChangeRequestApprovalResponse,
        ToolRequestUserInputParams,
        ToolRequestUserInputResponse,
        McpServerElicitationRequestParams,
        McpServerElicitationRequestResponse,
        PermissionsRequestApprovalParams,
        PermissionsRequestApprovalResponse,
        DynamicToolCallParams,
        DynamicToolCallResponse,
        ChatgptAuthTokensRefreshParams,
        ChatgptAuthTokensRefreshResponse,
        AttestationGenerateParams,
        AttestationGenerateResponse,
        ApplyPatchApprovalParams,
        ApplyPatchApprovalResponse,
        ExecCommandApprovalParams,
        ExecCommandApprovalResponse
    );
}
pub use types::*;

pub mod methods {
    use super::ClientMethod;
    use super::types::*;
    pub struct ThreadStart;
    impl ClientMethod for ThreadStart {
        const METHOD: &'static str = "thread/start";
        type Params = serde_json::Value;
        type Response = serde_json::Value;
    }
    pub struct TurnStart;
    impl ClientMethod for TurnStart {
        const METHOD: &'static str = "turn/start";
        type Params = TurnStartParams;
        type Response = TurnStartResponse;
    }
}

use serde_json::value::RawValue;

#[derive(Debug, Clone)]
pub enum ServerNotification {
    TurnStarted(TurnStartedNotification),
    TurnCompleted(TurnCompletedNotification),
    ItemAgentMessageDelta(AgentMessageDeltaNotification),
    ThreadStatusChanged(ThreadStatusChangedNotification),
    ItemCompleted(ItemCompletedNotification),
    Unknown {
        method: String,
        params: serde_json::Value,
    },
}

fn de<T: serde::de::DeserializeOwned>(
    method: &str,
    params: Option<&RawValue>,
) -> Result<T, DecodeError> {
    let raw = params.map(|p| p.get()).unwrap_or("null");
    serde_json::from_str(raw).map_err(|source| DecodeError {
        method: method.to_owned(),
        raw: raw.to_owned(),
        source,
    })
}

impl ServerNotification {
    pub fn decode(method: &str, params: Option<&RawValue>) -> Result<Self, DecodeError> {
        Ok(match method {
            "turn/started" => Self::TurnStarted(de(method, params)?),
            "turn/completed" => Self::TurnCompleted(de(method, params)?),
            "item/agentMessage/delta" => Self::ItemAgentMessageDelta(de(method, params)?),
            "thread/status/changed" => Self::ThreadStatusChanged(de(method, params)?),
            "item/completed" => Self::ItemCompleted(de(method, params)?),
            _ => Self::Unknown {
                method: method.to_owned(),
                params: de(method, params)?,
            },
        })
    }
    pub fn method(&self) -> &str {
        match self {
            Self::TurnStarted(_) => "turn/started",
            Self::TurnCompleted(_) => "turn/completed",
            Self::ItemAgentMessageDelta(_) => "item/agentMessage/delta",
            Self::ThreadStatusChanged(_) => "thread/status/changed",
            Self::ItemCompleted(_) => "item/completed",
            Self::Unknown { method, .. } => method,
        }
    }
    pub fn thread_id(&self) -> Option<&str> {
        match self {
            Self::TurnStarted(n) => Some(&n.thread_id),
            Self::TurnCompleted(n) => Some(&n.thread_id),
            Self::ItemAgentMessageDelta(n) => Some(&n.thread_id),
            Self::ThreadStatusChanged(n) => Some(&n.thread_id),
            Self::ItemCompleted(n) => Some(&n.thread_id),
            Self::Unknown { params, .. } => params.get("threadId").and_then(|v| v.as_str()),
        }
    }
    pub fn turn_id(&self) -> Option<&str> {
        match self {
            Self::TurnStarted(n) => Some(&n.turn.id),
            Self::TurnCompleted(n) => Some(&n.turn.id),
            Self::ItemAgentMessageDelta(n) => Some(&n.turn_id),
            Self::ThreadStatusChanged(_) => None,
            Self::ItemCompleted(n) => Some(&n.turn_id),
            Self::Unknown { params, .. } => params.get("turnId").and_then(|v| v.as_str()),
        }
    }
}

#[derive(Debug, Clone)]
pub enum ServerRequest {
    ItemCommandExecutionRequestApproval(CommandExecutionRequestApprovalParams),
    ItemFileChangeRequestApproval(FileChangeRequestApprovalParams),
    ItemToolRequestUserInput(ToolRequestUserInputParams),
    McpServerElicitationRequest(McpServerElicitationRequestParams),
    ItemPermissionsRequestApproval(PermissionsRequestApprovalParams),
    ItemToolCall(DynamicToolCallParams),
    AccountChatgptAuthTokensRefresh(ChatgptAuthTokensRefreshParams),
    AttestationGenerate(AttestationGenerateParams),
    ApplyPatchApproval(ApplyPatchApprovalParams),
    ExecCommandApproval(ExecCommandApprovalParams),
    Unknown {
        method: String,
        params: serde_json::Value,
    },
}

impl ServerRequest {
    pub fn decode(method: &str, params: Option<&RawValue>) -> Result<Self, DecodeError> {
        Ok(match method {
            "item/commandExecution/requestApproval" => {
                Self::ItemCommandExecutionRequestApproval(de(method, params)?)
            }
            "item/fileChange/requestApproval" => {
                Self::ItemFileChangeRequestApproval(de(method, params)?)
            }
            "item/tool/requestUserInput" => Self::ItemToolRequestUserInput(de(method, params)?),
            "mcpServer/elicitation/request" => {
                Self::McpServerElicitationRequest(de(method, params)?)
            }
            "item/permissions/requestApproval" => {
                Self::ItemPermissionsRequestApproval(de(method, params)?)
            }
            "item/tool/call" => Self::ItemToolCall(de(method, params)?),
            "account/chatgptAuthTokens/refresh" => {
                Self::AccountChatgptAuthTokensRefresh(de(method, params)?)
            }
            "attestation/generate" => Self::AttestationGenerate(de(method, params)?),
            "applyPatchApproval" => Self::ApplyPatchApproval(de(method, params)?),
            "execCommandApproval" => Self::ExecCommandApproval(de(method, params)?),
            _ => Self::Unknown {
                method: method.to_owned(),
                params: de(method, params)?,
            },
        })
    }
    fn value(&self) -> &serde_json::Value {
        match self {
            Self::ItemCommandExecutionRequestApproval(p) => &p.0,
            Self::ItemFileChangeRequestApproval(p) => &p.0,
            Self::ItemToolRequestUserInput(p) => &p.0,
            Self::McpServerElicitationRequest(p) => &p.0,
            Self::ItemPermissionsRequestApproval(p) => &p.0,
            Self::ItemToolCall(p) => &p.0,
            Self::AccountChatgptAuthTokensRefresh(p) => &p.0,
            Self::AttestationGenerate(p) => &p.0,
            Self::ApplyPatchApproval(p) => &p.0,
            Self::ExecCommandApproval(p) => &p.0,
            Self::Unknown { params, .. } => params,
        }
    }
    pub fn method(&self) -> &str {
        match self {
            Self::ItemCommandExecutionRequestApproval(_) => "item/commandExecution/requestApproval",
            Self::ItemFileChangeRequestApproval(_) => "item/fileChange/requestApproval",
            Self::ItemToolRequestUserInput(_) => "item/tool/requestUserInput",
            Self::McpServerElicitationRequest(_) => "mcpServer/elicitation/request",
            Self::ItemPermissionsRequestApproval(_) => "item/permissions/requestApproval",
            Self::ItemToolCall(_) => "item/tool/call",
            Self::AccountChatgptAuthTokensRefresh(_) => "account/chatgptAuthTokens/refresh",
            Self::AttestationGenerate(_) => "attestation/generate",
            Self::ApplyPatchApproval(_) => "applyPatchApproval",
            Self::ExecCommandApproval(_) => "execCommandApproval",
            Self::Unknown { method, .. } => method,
        }
    }
    pub fn thread_id(&self) -> Option<&str> {
        let v = self.value();
        v.get("threadId")
            .or_else(|| v.get("conversationId"))
            .and_then(|v| v.as_str())
    }
    pub fn turn_id(&self) -> Option<&str> {
        self.value().get("turnId").and_then(|v| v.as_str())
    }
}

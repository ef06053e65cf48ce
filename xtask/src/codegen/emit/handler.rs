//! `crates/codex-client/src/server_requests/generated.rs`: the client's answering side of the
//! server requests — `ServerRequestHandler` with one method per server request of the schema
//! (default: its fail-closed answer), the dispatch from a decoded `ServerRequest` to that
//! method, the fail-closed and accept answers keyed by the method markers, and the table the
//! tests check against the protocol crate's list.
//!
//! What the schema cannot say is in [`POLICY`]: the handler method's name and what "no" is. A
//! server request without a row there stops the generator.

use super::routed::RoutedMethod;
use crate::codegen::docs::markdown;
use crate::codegen::model::Model;
use anyhow::{Context, Result, bail};

/// The answer a server request gets when nobody answers it (no handler, timeout, panic, a
/// dropped `PendingServerRequest`).
enum FailClosed {
    /// A valid answer that grants nothing: this JSON as the result.
    Result(&'static str),
    /// No valid refusal exists: a JSON-RPC error (`NO_HANDLER_CODE`).
    NoHandler,
}

/// One server request: the handler method that answers it, its fail-closed answer and why
/// that answer is safe, and what `PendingServerRequest::accept` sends (approvals only).
struct Policy {
    method: &'static str,
    handler: &'static str,
    fail_closed: FailClosed,
    effect: &'static str,
    accept: Option<&'static str>,
}

const LEGACY_DENIED: &str =
    r#"{"decision": {"denied": {"rejection": "declined by the client (no approval given)"}}}"#;

/// The answering policy of every server request this client knows, in no particular order.
const POLICY: &[Policy] = &[
    Policy {
        method: "item/commandExecution/requestApproval",
        handler: "command_execution_approval",
        fail_closed: FailClosed::Result(r#"{"decision": "decline"}"#),
        effect: "the item ends `declined`, the turn goes on",
        accept: Some(r#"{"decision": "accept"}"#),
    },
    Policy {
        method: "item/fileChange/requestApproval",
        handler: "file_change_approval",
        fail_closed: FailClosed::Result(r#"{"decision": "decline"}"#),
        effect: "the item ends `declined`, the turn goes on",
        accept: Some(r#"{"decision": "accept"}"#),
    },
    Policy {
        method: "item/tool/requestUserInput",
        handler: "tool_user_input",
        fail_closed: FailClosed::Result(r#"{"answers": {}}"#),
        effect: "no answers",
        accept: None,
    },
    Policy {
        method: "mcpServer/elicitation/request",
        handler: "mcp_elicitation",
        fail_closed: FailClosed::Result(r#"{"action": "decline"}"#),
        effect: "the elicitation is declined",
        accept: None,
    },
    Policy {
        method: "item/permissions/requestApproval",
        handler: "permissions_approval",
        fail_closed: FailClosed::Result(r#"{"permissions": {}}"#),
        effect: "nothing granted",
        accept: None,
    },
    Policy {
        method: "item/tool/call",
        handler: "dynamic_tool_call",
        fail_closed: FailClosed::Result(r#"{"contentItems": [], "success": false}"#),
        effect: "the tool call fails",
        accept: None,
    },
    Policy {
        method: "account/chatgptAuthTokens/refresh",
        handler: "chatgpt_auth_tokens_refresh",
        fail_closed: FailClosed::NoHandler,
        effect: "no valid refusal exists",
        accept: None,
    },
    Policy {
        method: "attestation/generate",
        handler: "attestation_generate",
        fail_closed: FailClosed::NoHandler,
        effect: "no valid refusal exists",
        accept: None,
    },
    Policy {
        method: "applyPatchApproval",
        handler: "apply_patch_approval",
        fail_closed: FailClosed::Result(LEGACY_DENIED),
        effect: "the legacy patch is denied",
        accept: Some(r#"{"decision": "approved"}"#),
    },
    Policy {
        method: "execCommandApproval",
        handler: "exec_command_approval",
        fail_closed: FailClosed::Result(LEGACY_DENIED),
        effect: "the legacy command is denied",
        accept: Some(r#"{"decision": "approved"}"#),
    },
    Policy {
        method: "currentTime/read",
        handler: "current_time_read",
        fail_closed: FailClosed::NoHandler,
        effect: "no valid refusal exists (the server keeps its own clock)",
        accept: None,
    },
];

/// A server request of either bundle, with the `cfg` its items need (empty when both have it).
pub struct Gated<'a> {
    pub method: &'a RoutedMethod,
    pub cfg: &'static str,
    /// The params sample of each version of the params type: one with `cfg`, or a stable and
    /// an experimental one when the bundles' types differ.
    pub samples: Vec<(&'static str, String)>,
}

/// The server requests of both bundles: the experimental bundle's order, a request only one
/// bundle has gated on the feature.
pub fn merge<'a>(
    stable: (&'a Model, &'a [RoutedMethod]),
    experimental: (&'a Model, &'a [RoutedMethod]),
) -> Result<Vec<Gated<'a>>> {
    const EXPERIMENTAL: &str = "#[cfg(feature = \"experimental\")]";
    const STABLE: &str = "#[cfg(not(feature = \"experimental\"))]";
    let sample = |model: &Model, m: &RoutedMethod| {
        super::super::samples::of(model, &m.params)
            .map(|v| v.to_string())
            .with_context(|| format!("server request `{}`: no sample of `{}`", m.method, m.params))
    };
    let mut out = Vec::new();
    for m in experimental.1 {
        match stable.1.iter().find(|s| s.method == m.method) {
            Some(s) => {
                let (a, b) = (sample(stable.0, s)?, sample(experimental.0, m)?);
                let samples = if a == b {
                    vec![("", a)]
                } else {
                    vec![(STABLE, a), (EXPERIMENTAL, b)]
                };
                out.push(Gated {
                    method: m,
                    cfg: "",
                    samples,
                });
            }
            None => out.push(Gated {
                method: m,
                cfg: EXPERIMENTAL,
                samples: vec![("", sample(experimental.0, m)?)],
            }),
        }
    }
    for s in stable.1 {
        if !experimental.1.iter().any(|m| m.method == s.method) {
            out.push(Gated {
                method: s,
                cfg: STABLE,
                samples: vec![("", sample(stable.0, s)?)],
            });
        }
    }
    Ok(out)
}

fn policy(method: &str) -> Result<&'static Policy> {
    POLICY.iter().find(|p| p.method == method).with_context(|| {
        format!(
            "server request `{method}` has no answering policy: add a row to POLICY in \
             xtask/src/codegen/emit/handler.rs (its handler method's name and a fail-closed \
             answer that grants nothing; `FailClosed::NoHandler` when no valid refusal exists)"
        )
    })
}

const FILE: &str = r#"$header
//! The server-request side generated from the schema: [`ServerRequestHandler`] with one
//! method per server request (default: the fail-closed answer), the dispatch of a decoded
//! [`ServerRequest`] to that method, and the fail-closed and accept answers by method marker.

use super::{ErasedHandler, FailClosedAnswer, HandlerResult, fail_closed_typed, to_value};
use crate::proto::server_methods as m;
use crate::proto::{ServerRequest, ServerRequestMethod};
use futures::future::BoxFuture;
use serde_json::Value;
use std::future::Future;

/// Answers the server's requests. Every method has a fail-closed default (see
/// [`fail_closed_answer`](super::fail_closed_answer)), so implement only what you handle;
/// implementations may be written with `async fn`. Install one with
/// [`ConnectionConfig::handler`](crate::core::ConnectionConfig::handler).
///
/// Handlers run in their own task with the connection's server-request timeout; they may call
/// the connection (e.g. to read a thread) without deadlocking it. A handler that times out or
/// panics produces the fail-closed answer.
///
/// ```
/// use codex_client::protocol::{
///     CommandExecutionApprovalDecision, CommandExecutionRequestApprovalParams,
///     CommandExecutionRequestApprovalResponse,
/// };
/// use codex_client::server_requests::{HandlerResult, ServerRequestHandler};
///
/// /// Lets `echo` run, declines every other command.
/// struct AllowEcho;
///
/// impl ServerRequestHandler for AllowEcho {
///     async fn command_execution_approval(
///         &self,
///         params: CommandExecutionRequestApprovalParams,
///     ) -> HandlerResult<CommandExecutionRequestApprovalResponse> {
///         let echo = params.command.as_deref().is_some_and(|c| c.starts_with("echo "));
///         let decision = if echo {
///             CommandExecutionApprovalDecision::Accept
///         } else {
///             CommandExecutionApprovalDecision::Decline
///         };
///         Ok(CommandExecutionRequestApprovalResponse { decision })
///     }
/// }
///
/// // The connection calls it for each request; here it is called directly.
/// let params: CommandExecutionRequestApprovalParams = serde_json::from_value(serde_json::json!({
///     "threadId": "thr_1", "turnId": "turn_1", "itemId": "item_1", "startedAtMs": 1,
///     "command": "rm -rf target",
/// }))?;
/// let answer = futures::executor::block_on(AllowEcho.command_execution_approval(params));
/// assert_eq!(answer.unwrap().decision, CommandExecutionApprovalDecision::Decline);
/// # Ok::<(), serde_json::Error>(())
/// ```
pub trait ServerRequestHandler: Send + Sync + 'static {
$methods
    /// A method this version of the client does not know. Default: a JSON-RPC error
    /// ([`UNKNOWN_METHOD_CODE`](super::UNKNOWN_METHOD_CODE)).
    fn unknown(
        &self,
        method: String,
        params: Value,
    ) -> impl Future<Output = HandlerResult<Value>> + Send {
        let _ = params;
        async move { super::fail_closed_answer(&method) }
    }
}

impl<H: ServerRequestHandler> ErasedHandler for H {
    fn handle(&self, request: ServerRequest) -> BoxFuture<'_, HandlerResult<Value>> {
        match request {
$dispatch
            ServerRequest::Unknown { method, params } => Box::pin(self.unknown(method, params)),
        }
    }
}

/// The fail-closed answer of each server request of the schema; `None` for a method it does
/// not have.
pub(super) fn fail_closed_of(method: &str) -> Option<FailClosedAnswer> {
    Some(match method {
$fail_closed
        _ => return None,
    })
}

/// What [`PendingServerRequest::accept`](super::PendingServerRequest::accept) sends: the
/// approval of an approval request; `None` for every other request.
pub(super) fn accept_of(method: &str) -> Option<Value> {
    Some(match method {
$accept
        _ => return None,
    })
}

/// Every server request of the schema, for the tests: its method (from the marker), the
/// handler method that answers it, a sample of its params, and its fail-closed answer decoded
/// into its typed response.
#[cfg(test)]
pub(super) const SCHEMA: &[super::SchemaRow] = &[
$rows
];
"#;

const METHOD: &str = r#"
    /// `$method` ([`$marker`](crate::protocol::server_methods::$marker)).$doc
    ///
    /// Default: $default.
    $cfg
    fn $handler(
        &self,
        params: crate::proto::$params,
    ) -> impl Future<Output = HandlerResult<crate::proto::$response>> + Send {
        let _ = params;
        async { fail_closed_typed::<m::$marker>() }
    }

"#;

const DISPATCH: &str = r#"
            $cfg
            ServerRequest::$marker(p) => {
                Box::pin(async move { to_value::<m::$marker>(self.$handler(p).await) })
            }
"#;

const FAIL_CLOSED_ARM: &str = r#"
        $cfg
        m::$marker::METHOD => $answer,
"#;

const ACCEPT_ARM: &str = r#"
        $cfg
        m::$marker::METHOD => serde_json::json!($accept),
"#;

const ROW: &str = r#"
    $cfg
    super::SchemaRow {
        method: m::$marker::METHOD,
        handler: "$handler",
        params: r#"$sample"$hash,
        fail_closed: || fail_closed_typed::<m::$marker>().map(drop),
    },

"#;

/// The text of `generated.rs`, unformatted.
pub fn generated_rs(requests: &[Gated]) -> Result<String> {
    let (mut methods, mut dispatch, mut fail_closed, mut accept, mut rows) = (
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
    );
    for g in requests {
        let m = g.method;
        let p = policy(&m.method)?;
        let marker = &m.variant;
        let response = m
            .response
            .as_deref()
            .context("a server request's response")?;
        let cfg = g.cfg;
        let doc: String = m
            .doc
            .as_deref()
            .map(|d| {
                let lines: Vec<String> = markdown(d)
                    .into_iter()
                    .map(|l| format!("\n    ///{}{l}", if l.is_empty() { "" } else { " " }))
                    .collect();
                format!("\n    ///{}", lines.concat())
            })
            .unwrap_or_default();
        let (default, answer) = match p.fail_closed {
            FailClosed::Result(json) => (
                format!("`{}` ({})", compact(json)?, p.effect),
                format!("FailClosedAnswer::Result(serde_json::json!({json}))"),
            ),
            FailClosed::NoHandler => (
                format!(
                    "a JSON-RPC error, [`NO_HANDLER_CODE`](super::NO_HANDLER_CODE) ({})",
                    p.effect
                ),
                "FailClosedAnswer::NoHandler".to_string(),
            ),
        };
        methods.push_str(&fill!(
            METHOD,
            method = m.method,
            marker = marker,
            doc = doc,
            default = default,
            cfg = cfg,
            handler = p.handler,
            params = m.params,
            response = response,
        ));
        dispatch.push_str(&fill!(
            DISPATCH,
            cfg = cfg,
            marker = marker,
            handler = p.handler
        ));
        fail_closed.push_str(&fill!(
            FAIL_CLOSED_ARM,
            cfg = cfg,
            marker = marker,
            answer = answer
        ));
        if let Some(json) = p.accept {
            accept.push_str(&fill!(
                ACCEPT_ARM,
                cfg = cfg,
                marker = marker,
                accept = json
            ));
        }
        for (sample_cfg, sample) in &g.samples {
            if sample.contains("\"#") {
                bail!("the params sample of `{}` cannot be a raw string", m.method);
            }
            rows.push_str(&fill!(
                ROW,
                cfg = format!("{cfg}{sample_cfg}"),
                marker = marker,
                handler = p.handler,
                sample = sample,
                hash = "#",
            ));
        }
    }
    for p in POLICY {
        if !requests.iter().any(|g| g.method.method == p.method) {
            bail!(
                "POLICY in xtask/src/codegen/emit/handler.rs has a row for `{}`, which neither \
                 schema has: remove it",
                p.method
            );
        }
    }
    Ok(fill!(
        FILE,
        header = super::HEADER,
        methods = methods.trim_end(),
        dispatch = dispatch.trim_end(),
        fail_closed = fail_closed.trim_end(),
        accept = accept.trim_end(),
        rows = rows.trim_end(),
    ))
}

/// A policy's JSON on one line, as a doc shows it.
fn compact(json: &str) -> Result<String> {
    let value: serde_json::Value =
        serde_json::from_str(json).with_context(|| format!("POLICY answer {json}"))?;
    Ok(value.to_string())
}

//! `methods.rs`: one marker per client request method, implementing `ClientMethod`.

use super::{HEADER, link, raw_doc_lines};
use crate::codegen::load::Params;
use crate::codegen::model::Model;
use crate::codegen::names::pascal;
use anyhow::{Context, Result, bail};
use std::collections::BTreeSet;

/// Client methods whose params schema is `null`: their response types, by method (the schema
/// does not name response types; these follow `codex-rs/app-server-protocol`'s `common.rs`).
const NO_PARAMS_RESPONSES: &[(&str, &str)] = &[
    ("account/gatewayOAuth/read", "GatewayOAuthReadResponse"),
    ("account/gatewayOAuth/login", "GatewayOAuthLoginResponse"),
    ("account/gatewayOAuth/cancel", "GatewayOAuthCancelResponse"),
    ("account/logout", "LogoutAccountResponse"),
    (
        "account/workspaceMessages/read",
        "GetWorkspaceMessagesResponse",
    ),
    ("config/mcpServer/reload", "McpServerRefreshResponse"),
    (
        "windowsSandbox/readiness",
        "WindowsSandboxReadinessResponse",
    ),
    (
        "externalAgentConfig/import/readHistories",
        "ExternalAgentConfigImportHistoriesReadResponse",
    ),
    ("configRequirements/read", "ConfigRequirementsReadResponse"),
    // Experimental bundle only.
    ("memory/reset", "MemoryResetResponse"),
    ("rollout/compress", "RolloutCompressResponse"),
    (
        "remoteControl/status/read",
        "RemoteControlStatusReadResponse",
    ),
];

/// Params types whose response type is not `<Stem>Response`.
const RESPONSE_EXCEPTIONS: &[(&str, &str)] = &[
    ("ConfigValueWriteParams", "ConfigWriteResponse"),
    ("ConfigBatchWriteParams", "ConfigWriteResponse"),
];

pub struct ClientMethodInfo {
    pub method: String,
    pub marker: String,
    pub params: Option<String>,
    pub response: String,
    pub doc: Option<String>,
}

pub fn client_methods(model: &Model) -> Result<Vec<ClientMethodInfo>> {
    let mut out = Vec::new();
    let mut markers = BTreeSet::new();
    for m in &model.input.client_requests {
        let (params, response) = match &m.params {
            Params::None => {
                let r = NO_PARAMS_RESPONSES
                    .iter()
                    .find(|(meth, _)| *meth == m.method)
                    .map(|(_, r)| r.to_string())
                    .with_context(|| {
                        format!(
                            "client method `{}` has no params and no known response type: add it to NO_PARAMS_RESPONSES in xtask/src/codegen/emit/methods.rs",
                            m.method
                        )
                    })?;
                (None, r)
            }
            Params::Type(p) | Params::Optional(p) => {
                let r = RESPONSE_EXCEPTIONS
                    .iter()
                    .find(|(pp, _)| pp == p)
                    .map(|(_, r)| r.to_string())
                    .unwrap_or_else(|| {
                        format!("{}Response", p.strip_suffix("Params").unwrap_or(p))
                    });
                (Some(p.clone()), r)
            }
        };
        for t in params.iter().chain(std::iter::once(&response)) {
            if !model.types.contains_key(t) {
                bail!(
                    "client method `{}`: type `{t}` is not in the schema",
                    m.method
                );
            }
        }
        let marker = pascal(&m.method);
        if !markers.insert(marker.clone()) {
            bail!("two client methods map to the marker `{marker}`");
        }
        out.push(ClientMethodInfo {
            method: m.method.clone(),
            marker,
            params,
            response,
            doc: m.doc.clone(),
        });
    }
    Ok(out)
}

const FILE_DOC: &str = r#"
//! One marker type per client request method of the pinned schema, each implementing
//! [`ClientMethod`](crate::ClientMethod) with the method name and its params and response types.

"#;

const MARKER: &str = r#"
$doc
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct $marker;

impl crate::ClientMethod for $marker {
    const METHOD: &'static str = "$method";
    type Params = $params;
    type Response = crate::types::$response;
}

"#;

const ALL: &str = r#"
/// The $count client request methods of the pinned schema, in schema order.
pub const ALL: &[&str] = &[
$methods
];
"#;

pub fn methods_rs(methods: &[ClientMethodInfo]) -> String {
    let mut s = format!("{HEADER}\n{}", fill!(FILE_DOC));
    for m in methods {
        let params = m
            .params
            .as_deref()
            .map(link)
            .unwrap_or_else(|| "none ([`NoParams`](crate::NoParams))".into());
        let mut doc = format!(
            "`{}`: params {params}, response {}.",
            m.method,
            link(&m.response)
        );
        if let Some(d) = &m.doc {
            doc.push_str("\n\n");
            doc.push_str(&crate::codegen::docs::markdown(d).join("\n"));
        }
        s.push_str(&fill!(
            MARKER,
            doc = raw_doc_lines(&doc).trim_end(),
            marker = m.marker,
            method = m.method,
            params = m
                .params
                .as_deref()
                .map(|p| format!("crate::types::{p}"))
                .unwrap_or_else(|| "crate::NoParams".into()),
            response = m.response,
        ));
    }
    let list: Vec<String> = methods
        .iter()
        .map(|m| format!("    \"{}\",", m.method))
        .collect();
    s.push_str(&fill!(
        ALL,
        count = methods.len(),
        methods = list.join("\n")
    ));
    s
}

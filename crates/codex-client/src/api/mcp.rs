//! MCP: [`Mcp`], the status of the configured MCP servers (`mcpServerStatus/list`), and
//! [`Thread::call_mcp_tool`] (`mcpServer/tool/call`), which acts on one thread.

use super::codex::Codex;
use super::thread::Thread;
use crate::error::Result;
use crate::proto::methods::{McpServerStatusList, McpServerToolCall};
use crate::proto::{
    ListMcpServerStatusParams, McpServerStatus, McpServerToolCallParams, McpServerToolCallResponse,
};

/// Upper bound on `mcpServerStatus/list` pages followed by [`Mcp::servers`].
const MAX_PAGES: usize = 100;

/// The MCP calls of a [`Codex`] ([`Codex::mcp`]). A borrowed handle: copy it freely.
///
/// Fails with [`Error::Rpc`](crate::Error::Rpc) when the server refuses the call, and with
/// [`Error::Closed`](crate::Error::Closed) / [`Error::Timeout`](crate::Error::Timeout) as any
/// request does.
///
/// ```no_run
/// # async fn f(codex: codex_client::Codex, thread: codex_client::Thread) -> Result<(), codex_client::Error> {
/// for server in codex.mcp().servers().await? {
///     println!("{} {:?} ({} tools)", server.name, server.runtime_status, server.tools.len());
/// }
/// let out = thread.call_mcp_tool("docs", "search", serde_json::json!({"q": "tokio"})).await?;
/// println!("{:?}", out.content);
/// # Ok(()) }
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Mcp<'a> {
    codex: &'a Codex,
}

impl<'a> Mcp<'a> {
    pub(crate) fn new(codex: &'a Codex) -> Self {
        Self { codex }
    }

    /// The configured MCP servers and their state (`mcpServerStatus/list`, every page, at most
    /// 100).
    pub async fn servers(self) -> Result<Vec<McpServerStatus>> {
        let mut all = Vec::new();
        let mut cursor = None;
        for _ in 0..MAX_PAGES {
            let params = ListMcpServerStatusParams {
                cursor: cursor.take(),
                ..Default::default()
            };
            let page = self.codex.request::<McpServerStatusList>(params).await?;
            all.extend(page.data);
            match page.next_cursor {
                Some(next) if !next.is_empty() => cursor = Some(next),
                _ => break,
            }
        }
        Ok(all)
    }
}

impl Thread {
    /// Calls a tool of an MCP server configured for this thread (`mcpServer/tool/call`). A
    /// tool that fails answers normally, with `is_error` set; an unknown server or tool is
    /// [`Error::Rpc`](crate::Error::Rpc). Example: [`Mcp`].
    pub async fn call_mcp_tool(
        &self,
        server: &str,
        tool: &str,
        arguments: serde_json::Value,
    ) -> Result<McpServerToolCallResponse> {
        let params = McpServerToolCallParams {
            meta: None,
            arguments: Some(arguments),
            server: server.to_owned(),
            thread_id: self.id().to_owned(),
            tool: tool.to_owned(),
        };
        self.codex().request::<McpServerToolCall>(params).await
    }
}

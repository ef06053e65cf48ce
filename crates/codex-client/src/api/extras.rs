//! Convenience wrappers over the rest of the protocol, where a user would reach for one: review
//! ([`Thread::review`], a turn), command exec with its output stream ([`Codex::exec`],
//! [`Codex::exec_streaming`] → [`CommandExec`]), the app-server's file system (`fs/*`), config
//! read and write, MCP server status and tool calls, skills.
//!
//! Each is a thin typed call: the generated params and responses are used as they are, and
//! everything else stays reachable through [`Codex::request`] (`docs/api-coverage.md` lists
//! which method is wrapped where).

use super::codex::Codex;
use super::thread::Thread;
use super::turn::TurnHandle;
use crate::connection::RequestOptions;
use crate::error::{Error, Result};
use crate::proto::methods::{
    CommandExec as CommandExecMethod, CommandExecTerminate, CommandExecWrite, ConfigBatchWrite,
    ConfigRead, ConfigValueWrite, FsCopy, FsCreateDirectory, FsGetMetadata, FsReadDirectory,
    FsReadFile, FsRemove, FsWriteFile, McpServerStatusList, McpServerToolCall, ReviewStart,
    SkillsList,
};
use crate::proto::{
    CommandExecOutputStream, CommandExecParams, CommandExecResponse, CommandExecTerminateParams,
    CommandExecWriteParams, ConfigBatchWriteParams, ConfigEdit, ConfigReadParams,
    ConfigReadResponse, ConfigValueWriteParams, ConfigWriteResponse, FsCopyParams,
    FsCreateDirectoryParams, FsGetMetadataParams, FsGetMetadataResponse, FsReadDirectoryEntry,
    FsReadDirectoryParams, FsReadFileParams, FsRemoveParams, FsWriteFileParams,
    ListMcpServerStatusParams, McpServerStatus, McpServerToolCallParams, McpServerToolCallResponse,
    MergeStrategy, ReviewStartParams, ReviewTarget, ServerNotification, SkillsListEntry,
    SkillsListParams,
};
use crate::router::{NotificationStream, SubscribeOptions};
use futures::{FutureExt, Stream, StreamExt};
use std::path::Path;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

// ----- review ------------------------------------------------------------------------------------

impl Thread {
    /// Starts a code review of this thread's workspace (`review/start`) and returns the review
    /// turn's [`TurnHandle`] (route in place before this returns, like
    /// [`turn`](Thread::turn)). Inline reviews run in this thread; a detached one runs in a new
    /// thread, whose id is the handle's [`thread_id`](TurnHandle::thread_id).
    ///
    /// ```no_run
    /// # async fn f(thread: codex_client::Thread) -> Result<(), codex_client::Error> {
    /// use codex_client::protocol::ReviewTarget;
    /// let review = thread.review(ReviewTarget::UncommittedChanges).await?.run().await?;
    /// println!("{}", review.final_response().unwrap_or_default());
    /// # Ok(()) }
    /// ```
    pub async fn review(&self, target: ReviewTarget) -> Result<TurnHandle> {
        let params = ReviewStartParams {
            delivery: None,
            target,
            thread_id: self.id().to_owned(),
        };
        let conn = self.codex().connection();
        let (response, stream) = conn
            .request_turn::<ReviewStart>(params, SubscribeOptions::new(), RequestOptions::new())
            .await?;
        Ok(TurnHandle::new(
            conn.clone(),
            &response.review_thread_id,
            stream,
        ))
    }

    /// Calls a tool of an MCP server configured for this thread (`mcpServer/tool/call`).
    ///
    /// ```no_run
    /// # async fn f(thread: codex_client::Thread) -> Result<(), codex_client::Error> {
    /// let out = thread.call_mcp_tool("docs", "search", serde_json::json!({"q": "tokio"})).await?;
    /// println!("{:?}", out.content);
    /// # Ok(()) }
    /// ```
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

// ----- command exec ------------------------------------------------------------------------------

/// One chunk of a streamed command's output.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExecOutput {
    /// `stdout` or `stderr` (PTY output is all `stdout`).
    pub stream: CommandExecOutputStream,
    /// The bytes (decoded from the wire's base64).
    pub data: Vec<u8>,
    /// The server's output cap was reached: later output of this stream is dropped.
    pub cap_reached: bool,
}

/// A command started with [`Codex::exec_streaming`]: a [`Stream`] of its output
/// ([`ExecOutput`], from `command/exec/outputDelta`), stdin writes, terminate, and
/// [`wait`](Self::wait) for the exit code.
///
/// The server answers `command/exec` only when the process exits, after its last output delta;
/// the stream ends there. The request runs on a spawned task so the process starts at once,
/// whether or not the stream is polled. Processes die when the connection closes.
///
/// ```no_run
/// # async fn f(codex: codex_client::Codex) -> Result<(), codex_client::Error> {
/// use futures::StreamExt;
/// let params = serde_json::from_value(serde_json::json!({"command": ["sh", "-c", "echo hi; echo oops >&2"]})).unwrap();
/// let mut exec = codex.exec_streaming(params).await?;
/// while let Some(chunk) = exec.next().await {
///     let chunk = chunk?;
///     print!("[{}] {}", chunk.stream, String::from_utf8_lossy(&chunk.data));
/// }
/// println!("exit {}", exec.wait().await?.exit_code);
/// # Ok(()) }
/// ```
pub struct CommandExec {
    codex: Codex,
    process_id: String,
    events: NotificationStream,
    response: Option<tokio::task::JoinHandle<Result<CommandExecResponse>>>,
    result: Option<Result<CommandExecResponse>>,
    ended: bool,
}

impl std::fmt::Debug for CommandExec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CommandExec")
            .field("process_id", &self.process_id)
            .field("exited", &self.result.is_some())
            .finish_non_exhaustive()
    }
}

static NEXT_PROCESS: AtomicU64 = AtomicU64::new(1);

/// How long `command/exec` may take: the command's own timeout plus a margin, else a day when
/// the timeout is disabled, else the connection's default.
fn exec_request_options(params: &CommandExecParams) -> RequestOptions {
    match (params.timeout_ms, params.disable_timeout) {
        (Some(ms), _) => RequestOptions::new()
            .timeout(Duration::from_millis(ms.max(0) as u64) + Duration::from_secs(60)),
        (None, Some(true)) => RequestOptions::new().timeout(Duration::from_secs(24 * 3600)),
        _ => RequestOptions::new(),
    }
}

impl CommandExec {
    /// The connection-scoped process id (generated when the params had none).
    ///
    /// ```no_run
    /// # fn f(exec: codex_client::CommandExec) { println!("{}", exec.process_id()); }
    /// ```
    pub fn process_id(&self) -> &str {
        &self.process_id
    }

    /// Writes to the process's stdin (`command/exec/write`; the command must have been started
    /// with `streamStdin`), closing it after if `close` is set.
    ///
    /// ```no_run
    /// # async fn f(exec: codex_client::CommandExec) -> Result<(), codex_client::Error> {
    /// exec.write_stdin(b"y\n", true).await?;
    /// # Ok(()) }
    /// ```
    pub async fn write_stdin(&self, data: &[u8], close: bool) -> Result<()> {
        let params = CommandExecWriteParams {
            close_stdin: Some(close),
            delta_base64: Some(base64::encode(data)),
            process_id: self.process_id.clone(),
        };
        self.codex.request::<CommandExecWrite>(params).await?;
        Ok(())
    }

    /// Terminates the process (`command/exec/terminate`).
    ///
    /// ```no_run
    /// # async fn f(exec: codex_client::CommandExec) -> Result<(), codex_client::Error> {
    /// exec.terminate().await?;
    /// # Ok(()) }
    /// ```
    pub async fn terminate(&self) -> Result<()> {
        let params = CommandExecTerminateParams {
            process_id: self.process_id.clone(),
        };
        self.codex.request::<CommandExecTerminate>(params).await?;
        Ok(())
    }

    /// Waits for the process to exit and returns the server's answer (exit code; stdout and
    /// stderr are empty when streamed). Output not yet consumed from the stream is discarded.
    ///
    /// ```no_run
    /// # async fn f(exec: codex_client::CommandExec) -> Result<(), codex_client::Error> {
    /// let done = exec.wait().await?;
    /// assert_eq!(done.exit_code, 0);
    /// # Ok(()) }
    /// ```
    pub async fn wait(mut self) -> Result<CommandExecResponse> {
        if let Some(result) = self.result.take() {
            return result;
        }
        match self.response.take() {
            Some(task) => join(task.await),
            None => Err(Error::Protocol(
                "command/exec was already awaited".to_owned(),
            )),
        }
    }
}

fn join(
    joined: std::result::Result<Result<CommandExecResponse>, tokio::task::JoinError>,
) -> Result<CommandExecResponse> {
    joined.unwrap_or_else(|e| {
        Err(Error::Protocol(format!(
            "the command/exec task failed: {e}"
        )))
    })
}

impl Stream for CommandExec {
    type Item = Result<ExecOutput>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.ended {
            return Poll::Ready(None);
        }
        loop {
            if this.result.is_none()
                && let Some(task) = this.response.as_mut()
                && let Poll::Ready(joined) = task.poll_unpin(cx)
            {
                this.response = None;
                this.result = Some(join(joined));
            }
            match this.events.poll_next_unpin(cx) {
                Poll::Ready(Some(Ok(n))) => {
                    if let ServerNotification::CommandExecOutputDelta(delta) = &*n
                        && delta.process_id == this.process_id
                    {
                        let data = base64::decode(&delta.delta_base64).ok_or_else(|| {
                            Error::Protocol(format!(
                                "command/exec/outputDelta of {} is not base64",
                                this.process_id
                            ))
                        });
                        return Poll::Ready(Some(data.map(|data| ExecOutput {
                            stream: delta.stream.clone(),
                            data,
                            cap_reached: delta.cap_reached,
                        })));
                    }
                }
                Poll::Ready(Some(Err(err))) => return Poll::Ready(Some(Err(err))),
                Poll::Ready(None) => {
                    this.ended = true;
                    return Poll::Ready(None);
                }
                // The response comes after the last delta, and the reader queues every delta
                // before it wakes the response's waiter: once answered, nothing more will come.
                Poll::Pending if this.result.is_some() => {
                    this.ended = true;
                    return Poll::Ready(None);
                }
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

impl Codex {
    /// Runs a command on the app-server's machine and returns its buffered output
    /// (`command/exec`; sandboxed by the user's configured policy unless the params say
    /// otherwise).
    ///
    /// ```no_run
    /// # async fn f(codex: codex_client::Codex) -> Result<(), codex_client::Error> {
    /// let out = codex.exec(["git", "status", "--short"]).await?;
    /// println!("{} (exit {})", out.stdout, out.exit_code);
    /// # Ok(()) }
    /// ```
    pub async fn exec<I, S>(&self, command: I) -> Result<CommandExecResponse>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let params: CommandExecParams = serde_json::from_value(serde_json::json!({
            "command": command.into_iter().map(Into::into).collect::<Vec<String>>(),
        }))
        .map_err(|source| Error::Encode {
            method: "command/exec".to_owned(),
            source,
        })?;
        self.exec_with(params).await
    }

    /// [`exec`](Self::exec) with full params (cwd, env, sandbox policy, timeout, caps, ...).
    ///
    /// ```no_run
    /// # async fn f(codex: codex_client::Codex) -> Result<(), codex_client::Error> {
    /// let params = serde_json::from_value(serde_json::json!({"command": ["ls"], "cwd": "/tmp", "timeoutMs": 5000})).unwrap();
    /// let out = codex.exec_with(params).await?;
    /// # let _ = out;
    /// # Ok(()) }
    /// ```
    pub async fn exec_with(&self, params: CommandExecParams) -> Result<CommandExecResponse> {
        let options = exec_request_options(&params);
        self.connection()
            .request_with::<CommandExecMethod>(params, options)
            .await
    }

    /// Starts a command whose output streams back as it is produced (`command/exec` with
    /// `streamStdoutStderr`; a process id is generated if `params` has none). See
    /// [`CommandExec`].
    ///
    /// ```no_run
    /// # async fn f(codex: codex_client::Codex) -> Result<(), codex_client::Error> {
    /// use futures::StreamExt;
    /// let params = serde_json::from_value(serde_json::json!({"command": ["cargo", "build"]})).unwrap();
    /// let mut build = codex.exec_streaming(params).await?;
    /// while let Some(chunk) = build.next().await {
    ///     print!("{}", String::from_utf8_lossy(&chunk?.data));
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn exec_streaming(&self, mut params: CommandExecParams) -> Result<CommandExec> {
        let process_id = params.process_id.clone().unwrap_or_else(|| {
            format!(
                "codex-client-exec-{}-{}",
                std::process::id(),
                NEXT_PROCESS.fetch_add(1, Ordering::Relaxed)
            )
        });
        params.process_id = Some(process_id.clone());
        params.stream_stdout_stderr = Some(true);
        // Subscribed before the request is sent: no delta can precede the subscription.
        let events = self.notifications();
        let options = exec_request_options(&params);
        let codex = self.clone();
        let response = tokio::spawn(async move {
            codex
                .connection()
                .request_with::<CommandExecMethod>(params, options)
                .await
        });
        Ok(CommandExec {
            codex: self.clone(),
            process_id,
            events,
            response: Some(response),
            result: None,
            ended: false,
        })
    }
}

// ----- file system -------------------------------------------------------------------------------

fn absolute(path: &Path) -> Result<String> {
    if !path.is_absolute() {
        return Err(Error::InvalidOptions(format!(
            "fs paths must be absolute (the server has no base path): {}",
            path.display()
        )));
    }
    Ok(path.to_string_lossy().into_owned())
}

impl Codex {
    /// Reads a file on the app-server's machine (`fs/readFile`); `path` must be absolute.
    ///
    /// ```no_run
    /// # async fn f(codex: codex_client::Codex) -> Result<(), codex_client::Error> {
    /// let bytes = codex.read_file("/etc/hostname").await?;
    /// # let _ = bytes;
    /// # Ok(()) }
    /// ```
    pub async fn read_file(&self, path: impl AsRef<Path>) -> Result<Vec<u8>> {
        let params = FsReadFileParams {
            path: absolute(path.as_ref())?,
        };
        let response = self.request::<FsReadFile>(params).await?;
        base64::decode(&response.data_base64)
            .ok_or_else(|| Error::Protocol("fs/readFile answered with invalid base64".to_owned()))
    }

    /// Writes a file (`fs/writeFile`), replacing it; `path` must be absolute.
    ///
    /// ```no_run
    /// # async fn f(codex: codex_client::Codex) -> Result<(), codex_client::Error> {
    /// codex.write_file("/tmp/notes.txt", b"hello").await?;
    /// # Ok(()) }
    /// ```
    pub async fn write_file(&self, path: impl AsRef<Path>, data: &[u8]) -> Result<()> {
        let params = FsWriteFileParams {
            data_base64: base64::encode(data),
            path: absolute(path.as_ref())?,
        };
        self.request::<FsWriteFile>(params).await?;
        Ok(())
    }

    /// Lists a directory (`fs/readDirectory`).
    ///
    /// ```no_run
    /// # async fn f(codex: codex_client::Codex) -> Result<(), codex_client::Error> {
    /// for entry in codex.read_directory("/tmp").await? {
    ///     println!("{}{}", entry.file_name, if entry.is_directory { "/" } else { "" });
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn read_directory(
        &self,
        path: impl AsRef<Path>,
    ) -> Result<Vec<FsReadDirectoryEntry>> {
        let params = FsReadDirectoryParams {
            path: absolute(path.as_ref())?,
        };
        Ok(self.request::<FsReadDirectory>(params).await?.entries)
    }

    /// A path's metadata (`fs/getMetadata`).
    ///
    /// ```no_run
    /// # async fn f(codex: codex_client::Codex) -> Result<(), codex_client::Error> {
    /// let meta = codex.file_metadata("/tmp").await?;
    /// assert!(meta.is_directory);
    /// # Ok(()) }
    /// ```
    pub async fn file_metadata(&self, path: impl AsRef<Path>) -> Result<FsGetMetadataResponse> {
        let params = FsGetMetadataParams {
            path: absolute(path.as_ref())?,
        };
        self.request::<FsGetMetadata>(params).await
    }

    /// Creates a directory (`fs/createDirectory`), with its parents if `recursive`.
    ///
    /// ```no_run
    /// # async fn f(codex: codex_client::Codex) -> Result<(), codex_client::Error> {
    /// codex.create_directory("/tmp/a/b", true).await?;
    /// # Ok(()) }
    /// ```
    pub async fn create_directory(&self, path: impl AsRef<Path>, recursive: bool) -> Result<()> {
        let params = FsCreateDirectoryParams {
            path: absolute(path.as_ref())?,
            recursive: Some(recursive),
        };
        self.request::<FsCreateDirectory>(params).await?;
        Ok(())
    }

    /// Removes a file or directory (`fs/remove`; a non-empty directory needs `recursive`).
    ///
    /// ```no_run
    /// # async fn f(codex: codex_client::Codex) -> Result<(), codex_client::Error> {
    /// codex.remove_path("/tmp/a", true).await?;
    /// # Ok(()) }
    /// ```
    pub async fn remove_path(&self, path: impl AsRef<Path>, recursive: bool) -> Result<()> {
        let params = FsRemoveParams {
            force: None,
            path: absolute(path.as_ref())?,
            recursive: Some(recursive),
        };
        self.request::<FsRemove>(params).await?;
        Ok(())
    }

    /// Copies a file or directory (`fs/copy`; a directory needs `recursive`).
    ///
    /// ```no_run
    /// # async fn f(codex: codex_client::Codex) -> Result<(), codex_client::Error> {
    /// codex.copy_path("/tmp/a.txt", "/tmp/b.txt", false).await?;
    /// # Ok(()) }
    /// ```
    pub async fn copy_path(
        &self,
        from: impl AsRef<Path>,
        to: impl AsRef<Path>,
        recursive: bool,
    ) -> Result<()> {
        let params = FsCopyParams {
            destination_path: absolute(to.as_ref())?,
            recursive: Some(recursive),
            source_path: absolute(from.as_ref())?,
        };
        self.request::<FsCopy>(params).await?;
        Ok(())
    }
}

// ----- config, MCP, skills -----------------------------------------------------------------------

/// Upper bound on pages followed by the listing wrappers.
const MAX_PAGES: usize = 100;

impl Codex {
    /// The effective configuration (`config/read`), as seen from `cwd` (project config layers
    /// apply) or the server's cwd.
    ///
    /// ```no_run
    /// # async fn f(codex: codex_client::Codex) -> Result<(), codex_client::Error> {
    /// let config = codex.config(None).await?;
    /// println!("{:?}", config.config.model);
    /// # Ok(()) }
    /// ```
    pub async fn config(&self, cwd: Option<&str>) -> Result<ConfigReadResponse> {
        let params = ConfigReadParams {
            cwd: cwd.map(str::to_owned),
            include_layers: Some(false),
        };
        self.request::<ConfigRead>(params).await
    }

    /// Writes one value into the user's `config.toml` (`config/value/write`, replacing what is
    /// at `key_path`, e.g. `"model"` or `"features.goals"`).
    ///
    /// ```no_run
    /// # async fn f(codex: codex_client::Codex) -> Result<(), codex_client::Error> {
    /// codex.write_config_value("model_reasoning_effort", serde_json::json!("high")).await?;
    /// # Ok(()) }
    /// ```
    pub async fn write_config_value(
        &self,
        key_path: &str,
        value: serde_json::Value,
    ) -> Result<ConfigWriteResponse> {
        let params = ConfigValueWriteParams {
            expected_version: None,
            file_path: None,
            key_path: key_path.to_owned(),
            merge_strategy: MergeStrategy::Replace,
            value,
        };
        self.request::<ConfigValueWrite>(params).await
    }

    /// Applies several edits to the user's `config.toml` at once (`config/batchWrite`).
    ///
    /// ```no_run
    /// # async fn f(codex: codex_client::Codex) -> Result<(), codex_client::Error> {
    /// use codex_client::protocol::{ConfigEdit, MergeStrategy};
    /// let edits = vec![ConfigEdit { key_path: "model".into(), merge_strategy: MergeStrategy::Replace, value: "gpt-5".into() }];
    /// codex.write_config(edits).await?;
    /// # Ok(()) }
    /// ```
    pub async fn write_config(&self, edits: Vec<ConfigEdit>) -> Result<ConfigWriteResponse> {
        let params = ConfigBatchWriteParams {
            edits,
            expected_version: None,
            file_path: None,
            reload_user_config: Some(true),
        };
        self.request::<ConfigBatchWrite>(params).await
    }

    /// The configured MCP servers and their state (`mcpServerStatus/list`, every page).
    ///
    /// ```no_run
    /// # async fn f(codex: codex_client::Codex) -> Result<(), codex_client::Error> {
    /// for server in codex.mcp_servers().await? {
    ///     println!("{} {:?}", server.name, server.runtime_status);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn mcp_servers(&self) -> Result<Vec<McpServerStatus>> {
        let mut all = Vec::new();
        let mut cursor = None;
        for _ in 0..MAX_PAGES {
            let params = ListMcpServerStatusParams {
                cursor: cursor.take(),
                ..Default::default()
            };
            let page = self.request::<McpServerStatusList>(params).await?;
            all.extend(page.data);
            match page.next_cursor {
                Some(next) if !next.is_empty() => cursor = Some(next),
                _ => break,
            }
        }
        Ok(all)
    }

    /// The skills available in each of `cwds` (`skills/list`; empty = the server's cwd).
    ///
    /// ```no_run
    /// # async fn f(codex: codex_client::Codex) -> Result<(), codex_client::Error> {
    /// for entry in codex.skills(&["/work/repo"]).await? {
    ///     println!("{}: {} skills", entry.cwd, entry.skills.len());
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn skills(&self, cwds: &[&str]) -> Result<Vec<SkillsListEntry>> {
        let params = SkillsListParams {
            cwds: (!cwds.is_empty()).then(|| cwds.iter().map(|c| (*c).to_owned()).collect()),
            force_reload: None,
        };
        Ok(self.request::<SkillsList>(params).await?.data)
    }
}

/// Standard base64 (RFC 4648, with padding): what the protocol's `*Base64` fields carry.
mod base64 {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    pub(super) fn encode(data: &[u8]) -> String {
        let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
        for chunk in data.chunks(3) {
            let b = [
                chunk[0],
                *chunk.get(1).unwrap_or(&0),
                *chunk.get(2).unwrap_or(&0),
            ];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            for i in 0..4 {
                if i <= chunk.len() {
                    out.push(ALPHABET[(n >> (18 - 6 * i)) as usize & 63] as char);
                } else {
                    out.push('=');
                }
            }
        }
        out
    }

    fn value(c: u8) -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        } as u32)
    }

    /// Decodes padded or unpadded input (whitespace ignored); `None` if it is not base64.
    pub(super) fn decode(text: &str) -> Option<Vec<u8>> {
        let digits: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
        let digits = digits
            .strip_suffix(b"==")
            .or_else(|| digits.strip_suffix(b"="))
            .unwrap_or(&digits);
        if digits.len() % 4 == 1 {
            return None;
        }
        let mut out = Vec::with_capacity(digits.len() * 3 / 4);
        for chunk in digits.chunks(4) {
            let mut n = 0u32;
            for (i, c) in chunk.iter().enumerate() {
                n |= value(*c)? << (18 - 6 * i);
            }
            for i in 0..chunk.len() - 1 {
                out.push((n >> (16 - 8 * i)) as u8);
            }
        }
        Some(out)
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn round_trips_every_length() {
            let data: Vec<u8> = (0..=255u8).collect();
            for len in 0..40 {
                let encoded = encode(&data[..len]);
                assert_eq!(encoded.len() % 4, 0);
                assert_eq!(decode(&encoded).as_deref(), Some(&data[..len]), "{encoded}");
            }
            assert_eq!(encode(b"hello\n"), "aGVsbG8K");
            assert_eq!(decode("aGk=").unwrap(), b"hi");
            assert_eq!(decode("aGk").unwrap(), b"hi");
            assert!(decode("a").is_none());
            assert!(decode("a*==").is_none());
        }
    }
}

#[cfg(test)]
mod tests {
    /// `docs/api-coverage.md` has one row per method of the pinned (stable) protocol, and no
    /// other. The `experimental` feature's extra methods are not listed there (the experimental
    /// API is typed, reachable through `request::<M>()`, and only the turn queue has calls of
    /// its own, `api/queue.rs`), so the check is for the stable build.
    #[cfg(not(feature = "experimental"))]
    #[test]
    fn api_coverage_lists_every_method() {
        let doc = include_str!("../../../../docs/api-coverage.md");
        let rows: Vec<&str> = doc
            .lines()
            .filter_map(|l| l.strip_prefix("| `"))
            .filter_map(|l| l.split('`').next())
            .collect();
        for method in crate::proto::methods::ALL {
            assert!(
                rows.contains(method),
                "docs/api-coverage.md has no row for `{method}`"
            );
        }
        assert_eq!(rows.len(), crate::proto::methods::ALL.len(), "{rows:?}");
    }
}

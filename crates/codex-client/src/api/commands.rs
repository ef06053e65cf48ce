//! [`Commands`]: commands run on the app-server's machine (`command/exec`) — buffered
//! ([`run`](Commands::run), [`run_params`](Commands::run_params)) or streamed
//! ([`spawn`](Commands::spawn) → [`CommandExec`], a [`Stream`] of [`ExecOutput`] with stdin,
//! terminate and the exit code).
//!
//! The server answers `command/exec` only when the process exits, after its last output delta
//! (`command/exec/outputDelta`, a global notification matched by `processId`); a streamed
//! command's output stream ends there. Commands are sandboxed by the user's configured policy
//! unless the params say otherwise, and die when the connection closes.

use super::base64;
use super::codex::Codex;
use crate::connection::RequestOptions;
use crate::error::{Error, Result};
use crate::proto::methods::{
    CommandExec as CommandExecMethod, CommandExecTerminate, CommandExecWrite,
};
use crate::proto::{
    CommandExecOutputStream, CommandExecParams, CommandExecResponse, CommandExecTerminateParams,
    CommandExecWriteParams, ServerNotification,
};
use crate::router::NotificationStream;
use futures::{FutureExt, Stream, StreamExt};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

/// The command calls of a [`Codex`] ([`Codex::commands`]). A borrowed handle: copy it freely.
///
/// The calls fail with [`Error::Rpc`] when the server refuses the command (not found, denied
/// by the sandbox policy, bad params), and with [`Error::Closed`] / [`Error::Timeout`] as any
/// request does; the request's timeout is the command's own (`timeoutMs`) plus a minute, or a
/// day when the params disable it. A command that runs and exits non-zero is not an error:
/// read `exit_code`.
///
/// ```no_run
/// # async fn f(codex: codex_client::Codex) -> Result<(), codex_client::Error> {
/// let commands = codex.commands();
/// let out = commands.run(["git", "status", "--short"]).await?;
/// println!("{} (exit {})", out.stdout, out.exit_code);
///
/// let params = serde_json::from_value(serde_json::json!({
///     "command": ["ls", "-la"], "cwd": "/tmp", "timeoutMs": 5000,
/// })).expect("valid command/exec params");
/// let listing = commands.run_params(params).await?;
/// print!("{}", listing.stdout);
/// # Ok(()) }
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Commands<'a> {
    codex: &'a Codex,
}

impl<'a> Commands<'a> {
    pub(crate) fn new(codex: &'a Codex) -> Self {
        Self { codex }
    }

    /// Runs `argv` (program and arguments, no shell) in the server's working directory and
    /// returns its buffered output and exit code. An empty `argv` is
    /// [`Error::InvalidOptions`] (nothing is sent).
    pub async fn run<I, S>(self, argv: I) -> Result<CommandExecResponse>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let params = command_params(argv)?;
        self.run_params(params).await
    }

    /// [`run`](Self::run) with the raw `command/exec` params (cwd, env, sandbox policy,
    /// timeout, output caps, ...).
    pub async fn run_params(self, params: CommandExecParams) -> Result<CommandExecResponse> {
        let options = exec_request_options(&params);
        self.codex
            .connection()
            .request_with::<CommandExecMethod>(params, options)
            .await
    }

    /// Starts a command whose output streams back as it is produced (`streamStdoutStderr` is
    /// set; a process id is generated if `params` has none) and returns it at once. See
    /// [`CommandExec`]; to write to its stdin, set `streamStdin` in `params`.
    pub async fn spawn(self, mut params: CommandExecParams) -> Result<CommandExec> {
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
        let events = self.codex.notifications();
        let options = exec_request_options(&params);
        let codex = self.codex.clone();
        let mut request = Box::pin(async move {
            codex
                .connection()
                .request_with::<CommandExecMethod>(params, options)
                .await
        });
        // Polled once here, so the request is queued before this returns: a `write_stdin` that
        // follows is written after it (the writer keeps the order), never before the process
        // exists. Only a full in-flight limit leaves it to the task.
        let response = match futures::poll!(&mut request) {
            Poll::Ready(result) => tokio::spawn(async move { result }),
            Poll::Pending => tokio::spawn(request),
        };
        Ok(CommandExec {
            codex: self.codex.clone(),
            process_id,
            events,
            response: Some(response),
            result: None,
            ended: false,
        })
    }
}

/// `command/exec` params running `argv`, everything else the server's default.
fn command_params<I, S>(argv: I) -> Result<CommandExecParams>
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    let command: Vec<String> = argv.into_iter().map(Into::into).collect();
    if command.is_empty() {
        return Err(Error::InvalidOptions(
            "command/exec needs a program to run (argv is empty)".to_owned(),
        ));
    }
    serde_json::from_value(serde_json::json!({ "command": command })).map_err(|source| {
        Error::Encode {
            method: "command/exec".to_owned(),
            source,
        }
    })
}

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

/// A command started with [`Commands::spawn`]: a [`Stream`] of its output ([`ExecOutput`]),
/// its stdin ([`write_stdin`](Self::write_stdin), [`close_stdin`](Self::close_stdin)),
/// [`terminate`](Self::terminate), and [`wait`](Self::wait) for the exit code.
///
/// The request runs on a spawned task, so the process starts at once whether or not the
/// stream is polled. The stream yields [`Error::Protocol`] for an output delta that is not
/// base64, and [`Error::Closed`] when the connection ends.
///
/// ```no_run
/// # async fn f(codex: codex_client::Codex) -> Result<(), codex_client::Error> {
/// use futures::StreamExt;
/// let params = serde_json::from_value(serde_json::json!({
///     "command": ["sort"], "streamStdin": true,
/// })).expect("valid command/exec params");
/// let mut sort = codex.commands().spawn(params).await?;
/// sort.write_stdin(b"pear\napple\n").await?;
/// sort.close_stdin().await?; // sort prints once its input ends
/// while let Some(chunk) = sort.next().await {
///     let chunk = chunk?;
///     print!("[{}] {}", chunk.stream, String::from_utf8_lossy(&chunk.data));
/// }
/// println!("exit {}", sort.wait().await?.exit_code);
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
    pub fn process_id(&self) -> &str {
        &self.process_id
    }

    /// Writes to the process's stdin (`command/exec/write`). The command must have been
    /// started with `streamStdin`, else [`Error::Rpc`].
    pub async fn write_stdin(&self, data: &[u8]) -> Result<()> {
        self.write(Some(data), false).await
    }

    /// Closes the process's stdin (`command/exec/write` with `closeStdin`): the process reads
    /// end of file.
    pub async fn close_stdin(&self) -> Result<()> {
        self.write(None, true).await
    }

    async fn write(&self, data: Option<&[u8]>, close: bool) -> Result<()> {
        let params = CommandExecWriteParams {
            close_stdin: Some(close),
            delta_base64: data.map(base64::encode),
            process_id: self.process_id.clone(),
        };
        self.codex.request::<CommandExecWrite>(params).await?;
        Ok(())
    }

    /// Terminates the process (`command/exec/terminate`); [`wait`](Self::wait) then returns
    /// its exit.
    pub async fn terminate(&self) -> Result<()> {
        let params = CommandExecTerminateParams {
            process_id: self.process_id.clone(),
        };
        self.codex.request::<CommandExecTerminate>(params).await?;
        Ok(())
    }

    /// Waits for the process to exit and returns the server's answer (exit code; stdout and
    /// stderr are empty when streamed). Output not yet taken from the stream is discarded.
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

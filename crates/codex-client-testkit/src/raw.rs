//! [`RawAppServer`]: a JSON-lines driver for the real app-server, with no SDK in between.
//!
//! It spawns the process with piped stdio in its own process group, reads stdout on a task that
//! records every line (the *transcript*), drains stderr continuously into a bounded tail (the
//! server stalls if its stderr pipe fills up), and lets a test send lines and wait for messages
//! with timeouts. Messages that a wait skips over are kept and seen by later waits, so a test can
//! wait for a response and then for notifications that arrived before it.
//!
//! Dropping it kills the whole process group (the app-server and the shells it started) and reaps
//! the app-server, so no process outlives a test, even one that panics.

use crate::{AppServerLaunch, Error};
use serde_json::{Value, json};
use std::collections::{HashMap, VecDeque};
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin};
use tokio::sync::mpsc;

/// How many stderr lines [`RawAppServer::stderr_tail`] keeps.
///
/// ```
/// assert!(codex_client_testkit::STDERR_TAIL_LINES >= 100);
/// ```
pub const STDERR_TAIL_LINES: usize = 200;

/// A running `codex app-server` driven with raw JSON lines.
///
/// ```no_run
/// use codex_client_testkit::{CodexSandbox, MockModel, RawAppServer};
/// use serde_json::json;
/// use std::time::Duration;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), codex_client_testkit::Error> {
/// let mock = MockModel::start().await?;
/// let sandbox = CodexSandbox::new(codex_client_testkit::find_codex_binary()?, mock.base_url())?;
/// let mut server = RawAppServer::spawn(&sandbox.launch())?;
/// let timeout = Duration::from_secs(10);
/// server.initialize("raw_test", timeout).await?;
/// let started = server
///     .call("thread/start", json!({"cwd": sandbox.workdir(), "approvalPolicy": "never"}), timeout)
///     .await?;
/// println!("thread {}", started["thread"]["id"]);
/// # Ok(()) }
/// ```
pub struct RawAppServer {
    child: Option<Child>,
    pid: Option<u32>,
    stdin: Option<ChildStdin>,
    lines: mpsc::UnboundedReceiver<String>,
    pending: VecDeque<Value>,
    transcript: Arc<Mutex<Vec<String>>>,
    stderr: Arc<Mutex<VecDeque<String>>>,
    sent_methods: HashMap<i64, String>,
    next_id: i64,
    exit_status: Option<ExitStatus>,
    stderr_task: Option<tokio::task::JoinHandle<()>>,
}

pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl RawAppServer {
    /// Spawns the app-server described by `launch` (stdio piped, own process group). Needs a
    /// tokio runtime.
    ///
    /// ```no_run
    /// # use codex_client_testkit::{AppServerLaunch, RawAppServer};
    /// # async fn f(launch: AppServerLaunch) -> Result<(), codex_client_testkit::Error> {
    /// let server = RawAppServer::spawn(&launch)?;
    /// println!("pid {:?}", server.pid());
    /// # Ok(()) }
    /// ```
    pub fn spawn(launch: &AppServerLaunch) -> Result<Self, Error> {
        let mut cmd = launch.command();
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(true);
        let mut child = cmd.spawn()?;
        let pid = child.id();
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("stdout is piped");
        let stderr = child.stderr.take().expect("stderr is piped");

        let transcript = Arc::new(Mutex::new(Vec::new()));
        let (tx, lines) = mpsc::unbounded_channel();
        tokio::spawn(read_stdout(stdout, transcript.clone(), tx));
        let stderr_tail = Arc::new(Mutex::new(VecDeque::new()));
        let stderr_task = tokio::spawn(drain_stderr(stderr, stderr_tail.clone()));

        Ok(Self {
            child: Some(child),
            pid,
            stdin,
            lines,
            pending: VecDeque::new(),
            transcript,
            stderr: stderr_tail,
            sent_methods: HashMap::new(),
            next_id: 1,
            exit_status: None,
            stderr_task: Some(stderr_task),
        })
    }

    /// The process id (also the process group id) of the app-server, while it runs.
    ///
    /// ```no_run
    /// # fn f(server: &codex_client_testkit::RawAppServer) {
    /// assert!(server.pid().is_some());
    /// # }
    /// ```
    pub fn pid(&self) -> Option<u32> {
        self.pid
    }

    /// Writes one line (a newline is appended) to the app-server's stdin.
    ///
    /// ```no_run
    /// # async fn f(server: &mut codex_client_testkit::RawAppServer) -> Result<(), codex_client_testkit::Error> {
    /// server.send_line(r#"{"method":"initialized"}"#).await?;
    /// # Ok(()) }
    /// ```
    pub async fn send_line(&mut self, line: &str) -> Result<(), Error> {
        let stdin = self.stdin.as_mut().ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::BrokenPipe, "stdin already closed")
        })?;
        let mut bytes = Vec::with_capacity(line.len() + 1);
        bytes.extend_from_slice(line.as_bytes());
        bytes.push(b'\n');
        stdin.write_all(&bytes).await?;
        stdin.flush().await?;
        Ok(())
    }

    /// Sends one JSON message.
    ///
    /// ```no_run
    /// # async fn f(server: &mut codex_client_testkit::RawAppServer) -> Result<(), codex_client_testkit::Error> {
    /// server.send(&serde_json::json!({"method": "initialized"})).await?;
    /// # Ok(()) }
    /// ```
    pub async fn send(&mut self, message: &Value) -> Result<(), Error> {
        self.send_line(&serde_json::to_string(message)?).await
    }

    /// Sends a request with the next id (1, 2, ...) and returns the id. The id's method is
    /// remembered ([`sent_method`](Self::sent_method)).
    ///
    /// ```no_run
    /// # async fn f(server: &mut codex_client_testkit::RawAppServer) -> Result<(), codex_client_testkit::Error> {
    /// let id = server.request("model/list", serde_json::json!({})).await?;
    /// let response = server.wait_response(id, std::time::Duration::from_secs(5)).await?;
    /// # Ok(()) }
    /// ```
    pub async fn request(&mut self, method: &str, params: Value) -> Result<i64, Error> {
        let id = self.next_id;
        self.next_id += 1;
        self.sent_methods.insert(id, method.to_owned());
        self.send(&json!({"id": id, "method": method, "params": params}))
            .await?;
        Ok(id)
    }

    /// Sends a notification (params omitted when `None`).
    ///
    /// ```no_run
    /// # async fn f(server: &mut codex_client_testkit::RawAppServer) -> Result<(), codex_client_testkit::Error> {
    /// server.notify("initialized", None).await?;
    /// # Ok(()) }
    /// ```
    pub async fn notify(&mut self, method: &str, params: Option<Value>) -> Result<(), Error> {
        let message = match params {
            Some(params) => json!({"method": method, "params": params}),
            None => json!({"method": method}),
        };
        self.send(&message).await
    }

    /// Answers a server request (`id` as received) with `result`.
    ///
    /// ```no_run
    /// # async fn f(server: &mut codex_client_testkit::RawAppServer, request: serde_json::Value) -> Result<(), codex_client_testkit::Error> {
    /// server.respond(&request["id"], serde_json::json!({"decision": "accept"})).await?;
    /// # Ok(()) }
    /// ```
    pub async fn respond(&mut self, id: &Value, result: Value) -> Result<(), Error> {
        self.send(&json!({"id": id, "result": result})).await
    }

    /// The method of the request this driver sent with `id`.
    ///
    /// ```no_run
    /// # async fn f(server: &mut codex_client_testkit::RawAppServer) -> Result<(), codex_client_testkit::Error> {
    /// let id = server.request("model/list", serde_json::json!({})).await?;
    /// assert_eq!(server.sent_method(id), Some("model/list"));
    /// # Ok(()) }
    /// ```
    pub fn sent_method(&self, id: i64) -> Option<&str> {
        self.sent_methods.get(&id).map(String::as_str)
    }

    /// The next message not yet consumed (skipped messages first, then new ones).
    ///
    /// ```no_run
    /// # async fn f(server: &mut codex_client_testkit::RawAppServer) -> Result<(), codex_client_testkit::Error> {
    /// let message = server.next_message(std::time::Duration::from_secs(1)).await?;
    /// # Ok(()) }
    /// ```
    pub async fn next_message(&mut self, timeout: Duration) -> Result<Value, Error> {
        if let Some(message) = self.pending.pop_front() {
            return Ok(message);
        }
        self.read_new(Instant::now() + timeout, "the next message")
            .await
    }

    /// Waits for the first message (consumed or not yet) that `matches`, with a timeout; every
    /// other message stays for later waits. `what` names the message in errors.
    ///
    /// ```no_run
    /// # async fn f(server: &mut codex_client_testkit::RawAppServer) -> Result<(), codex_client_testkit::Error> {
    /// let completed = server
    ///     .wait_for("turn/completed", std::time::Duration::from_secs(10), |m| m["method"] == "turn/completed")
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn wait_for(
        &mut self,
        what: &str,
        timeout: Duration,
        mut matches: impl FnMut(&Value) -> bool,
    ) -> Result<Value, Error> {
        if let Some(pos) = self.pending.iter().position(&mut matches) {
            return Ok(self.pending.remove(pos).expect("position is in range"));
        }
        let deadline = Instant::now() + timeout;
        loop {
            let message = self.read_new(deadline, what).await?;
            if matches(&message) {
                return Ok(message);
            }
            self.pending.push_back(message);
        }
    }

    /// Waits for the notification `method`.
    ///
    /// ```no_run
    /// # async fn f(server: &mut codex_client_testkit::RawAppServer) -> Result<(), codex_client_testkit::Error> {
    /// let started = server.wait_notification("turn/started", std::time::Duration::from_secs(5)).await?;
    /// println!("{}", started["params"]["turn"]["id"]);
    /// # Ok(()) }
    /// ```
    pub async fn wait_notification(
        &mut self,
        method: &str,
        timeout: Duration,
    ) -> Result<Value, Error> {
        self.wait_for(method, timeout, |m| {
            m["method"] == method && m.get("id").is_none()
        })
        .await
    }

    /// Waits for the response to request `id` and returns its `result` ([`Error::Rpc`] for an
    /// error response).
    ///
    /// ```no_run
    /// # async fn f(server: &mut codex_client_testkit::RawAppServer) -> Result<(), codex_client_testkit::Error> {
    /// let id = server.request("thread/loaded/list", serde_json::json!({})).await?;
    /// let result = server.wait_response(id, std::time::Duration::from_secs(5)).await?;
    /// # Ok(()) }
    /// ```
    pub async fn wait_response(&mut self, id: i64, timeout: Duration) -> Result<Value, Error> {
        let method = self.sent_method(id).unwrap_or("?").to_owned();
        let mut message = self
            .wait_for(
                &format!("the response to {method} (id {id})"),
                timeout,
                |m| m.get("method").is_none() && m["id"] == id,
            )
            .await?;
        match message.get_mut("result") {
            Some(result) => Ok(result.take()),
            None => Err(Error::Rpc {
                method,
                error: message["error"].take(),
            }),
        }
    }

    /// Sends a request and waits for its result.
    ///
    /// ```no_run
    /// # async fn f(server: &mut codex_client_testkit::RawAppServer) -> Result<(), codex_client_testkit::Error> {
    /// let models = server.call("model/list", serde_json::json!({}), std::time::Duration::from_secs(5)).await?;
    /// # Ok(()) }
    /// ```
    pub async fn call(
        &mut self,
        method: &str,
        params: Value,
        timeout: Duration,
    ) -> Result<Value, Error> {
        let id = self.request(method, params).await?;
        self.wait_response(id, timeout).await
    }

    /// The handshake: `initialize` with `clientInfo.name = client_name`, then `initialized`.
    /// Returns the `initialize` result.
    ///
    /// ```no_run
    /// # async fn f(server: &mut codex_client_testkit::RawAppServer) -> Result<(), codex_client_testkit::Error> {
    /// let info = server.initialize("my_tests", std::time::Duration::from_secs(10)).await?;
    /// assert!(info["userAgent"].as_str().unwrap().starts_with("my_tests/"));
    /// # Ok(()) }
    /// ```
    pub async fn initialize(
        &mut self,
        client_name: &str,
        timeout: Duration,
    ) -> Result<Value, Error> {
        let params = json!({
            "clientInfo": {"name": client_name, "title": "codex-client-testkit", "version": env!("CARGO_PKG_VERSION")}
        });
        let result = self.call("initialize", params, timeout).await?;
        self.notify("initialized", None).await?;
        Ok(result)
    }

    /// Every line received from stdout so far, in arrival order (consumed or not).
    ///
    /// ```no_run
    /// # fn f(server: &codex_client_testkit::RawAppServer) {
    /// for line in server.transcript() {
    ///     println!("{line}");
    /// }
    /// # }
    /// ```
    pub fn transcript(&self) -> Vec<String> {
        lock(&self.transcript).clone()
    }

    /// The last [`STDERR_TAIL_LINES`] lines of the app-server's stderr.
    ///
    /// ```no_run
    /// # fn f(server: &codex_client_testkit::RawAppServer) {
    /// eprintln!("{}", server.stderr_tail());
    /// # }
    /// ```
    pub fn stderr_tail(&self) -> String {
        lock(&self.stderr)
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Closes stdin (the app-server then exits on its own), waits up to `timeout` for the exit,
    /// kills the process group if it has not exited, and returns the exit status.
    ///
    /// ```no_run
    /// # async fn f(mut server: codex_client_testkit::RawAppServer) -> Result<(), codex_client_testkit::Error> {
    /// let status = server.shutdown(std::time::Duration::from_secs(5)).await?;
    /// assert!(status.success());
    /// # Ok(()) }
    /// ```
    pub async fn shutdown(&mut self, timeout: Duration) -> Result<ExitStatus, Error> {
        self.stdin = None;
        let Some(child) = self.child.as_mut() else {
            return self.exit_status.ok_or_else(|| {
                Error::Io(std::io::Error::other("the app-server was already reaped"))
            });
        };
        let status = match tokio::time::timeout(timeout, child.wait()).await {
            Ok(status) => status?,
            Err(_) => {
                kill_group(self.pid);
                child.wait().await?
            }
        };
        // Sweep any shell the server left behind in its group.
        kill_group(self.pid);
        self.child = None;
        self.exit_status = Some(status);
        Ok(status)
    }

    /// Reads the next new line (recording happens on the reader task), parsing it as JSON.
    async fn read_new(&mut self, deadline: Instant, what: &str) -> Result<Value, Error> {
        let remaining = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(remaining, self.lines.recv()).await {
            Ok(Some(line)) => {
                serde_json::from_str(&line).map_err(|source| Error::BadLine { line, source })
            }
            Ok(None) => {
                let status = match self.child.as_mut() {
                    Some(child) => tokio::time::timeout(Duration::from_secs(2), child.wait())
                        .await
                        .ok()
                        .and_then(Result::ok),
                    None => self.exit_status,
                };
                if status.is_some() {
                    self.exit_status = status;
                    self.child = None;
                }
                // Let the stderr drain reach EOF so the error carries the server's last words
                // (bounded: a leftover grandchild may hold the pipe open).
                if let Some(task) = self.stderr_task.take() {
                    let _ = tokio::time::timeout(Duration::from_secs(2), task).await;
                }
                Err(Error::Closed {
                    waiting_for: what.to_owned(),
                    status,
                    stderr_tail: self.stderr_tail(),
                })
            }
            Err(_) => Err(Error::Timeout {
                waiting_for: what.to_owned(),
                after: remaining,
                stderr_tail: self.stderr_tail(),
            }),
        }
    }
}

/// SIGKILL to the app-server's process group (it was spawned as the group leader).
pub(crate) fn kill_group(pid: Option<u32>) {
    if let Some(pid) = pid.and_then(|p| i32::try_from(p).ok())
        && pid > 0
    {
        // SAFETY: kill(2) with a negative pid signals the process group `pid`, which is the
        // group this driver created for its child; no memory is involved.
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
    }
}

impl std::fmt::Debug for RawAppServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawAppServer")
            .field("pid", &self.pid)
            .field("lines_received", &lock(&self.transcript).len())
            .finish_non_exhaustive()
    }
}

impl Drop for RawAppServer {
    fn drop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        if matches!(child.try_wait(), Ok(Some(_))) {
            kill_group(self.pid);
            return;
        }
        kill_group(self.pid);
        // Reap synchronously so the process is gone when the test ends (SIGKILL takes effect at
        // once; this loop normally runs a single iteration or two).
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            match child.try_wait() {
                Ok(Some(_)) | Err(_) => return,
                Ok(None) => std::thread::sleep(Duration::from_millis(2)),
            }
        }
        // Still not reaped: tokio's orphan reaper takes over (kill_on_drop is set).
    }
}

async fn read_stdout(
    stdout: impl AsyncRead + Unpin,
    transcript: Arc<Mutex<Vec<String>>>,
    tx: mpsc::UnboundedSender<String>,
) {
    let mut lines = BufReader::new(stdout).lines();
    loop {
        match lines.next_line().await {
            Ok(Some(line)) => {
                if line.trim().is_empty() {
                    continue;
                }
                lock(&transcript).push(line.clone());
                // The receiver may be gone (driver dropped): keep draining so the server never
                // blocks on a full pipe while it is being killed.
                let _ = tx.send(line);
            }
            Ok(None) => return,
            Err(err) => {
                tracing::warn!("app-server stdout: {err}");
                return;
            }
        }
    }
}

pub(crate) async fn drain_stderr(
    stderr: impl AsyncRead + Unpin,
    tail: Arc<Mutex<VecDeque<String>>>,
) {
    let mut reader = BufReader::new(stderr);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match reader.read_until(b'\n', &mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {
                let line = strip_ansi(String::from_utf8_lossy(&buf).trim_end());
                tracing::debug!(target: "codex_app_server_stderr", "{line}");
                let mut tail = lock(&tail);
                if tail.len() == STDERR_TAIL_LINES {
                    tail.pop_front();
                }
                tail.push_back(line);
            }
        }
    }
}

/// Removes ANSI escape sequences (`ESC [ ... letter`): codex colours its logs even into a pipe.
fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            if chars.clone().next() == Some('[') {
                chars.next();
                for c in chars.by_ref() {
                    if c.is_ascii_alphabetic() {
                        break;
                    }
                }
            }
            continue;
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::strip_ansi;

    #[test]
    fn ansi_sequences_are_stripped() {
        assert_eq!(
            strip_ansi("\u{1b}[2m2026\u{1b}[0m \u{1b}[33m WARN\u{1b}[0m codex: x"),
            "2026  WARN codex: x"
        );
        assert_eq!(strip_ansi("plain"), "plain");
    }
}

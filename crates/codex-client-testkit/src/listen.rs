//! [`ListeningAppServer`]: the real app-server started in listen mode (`--listen ws://...` or
//! `--listen unix://...`) instead of on stdio, for clients that connect to it over a socket.
//!
//! Readiness is observed, never slept for: for `ws://` the server prints
//! `listening on: ws://IP:PORT` on stderr (with port 0 it picks a free port, read from that
//! line); for `unix://` the socket accepts a connection. Stderr is drained into a bounded tail.
//! Dropping it kills the process group and reaps the server.

use crate::raw::{drain_stderr, kill_group, lock};
use crate::{AppServerLaunch, Error};
use std::collections::VecDeque;
use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::process::Child;

/// How often readiness is checked while waiting for the listener.
const POLL: Duration = Duration::from_millis(20);

/// A running `codex app-server --listen <url>`.
///
/// ```no_run
/// use codex_client_testkit::{CodexSandbox, ListeningAppServer, MockModel, STARTUP_TIMEOUT};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), codex_client_testkit::Error> {
/// let mock = MockModel::start().await?;
/// let sandbox = CodexSandbox::new(codex_client_testkit::find_codex_binary()?, mock.base_url())?;
/// let server = ListeningAppServer::start(&sandbox.launch(), "ws://127.0.0.1:0", &[], STARTUP_TIMEOUT).await?;
/// println!("connect to {}", server.url()); // ws://127.0.0.1:<port>
/// # Ok(()) }
/// ```
pub struct ListeningAppServer {
    child: Option<Child>,
    pid: Option<u32>,
    url: String,
    socket: Option<PathBuf>,
    stderr: Arc<Mutex<VecDeque<String>>>,
}

impl ListeningAppServer {
    /// Starts `launch` with `--listen <listen>` and `extra_args` (e.g. `--ws-auth ...`) appended,
    /// stdin closed, and waits up to `timeout` until the listener accepts connections.
    ///
    /// `listen` is `ws://127.0.0.1:PORT` (`PORT` may be 0), `unix://PATH`, or `unix://` (the
    /// default socket under the launch's `CODEX_HOME`).
    ///
    /// ```no_run
    /// # async fn f(launch: codex_client_testkit::AppServerLaunch) -> Result<(), codex_client_testkit::Error> {
    /// use codex_client_testkit::ListeningAppServer;
    /// let server = ListeningAppServer::start(&launch, "unix:///tmp/t/app.sock", &[], std::time::Duration::from_secs(30)).await?;
    /// assert_eq!(server.url(), "unix:///tmp/t/app.sock");
    /// # Ok(()) }
    /// ```
    pub async fn start(
        launch: &AppServerLaunch,
        listen: &str,
        extra_args: &[String],
        timeout: Duration,
    ) -> Result<Self, Error> {
        let mut launch = launch.clone();
        launch.args.push("--listen".to_owned());
        launch.args.push(listen.to_owned());
        launch.args.extend(extra_args.iter().cloned());
        let socket = match listen.strip_prefix("unix://") {
            Some("") => Some(
                PathBuf::from(launch.env_var("CODEX_HOME").unwrap_or_default())
                    .join("app-server-control")
                    .join("app-server-control.sock"),
            ),
            Some(path) => Some(PathBuf::from(path)),
            None => None,
        };
        let mut cmd = launch.command();
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(true);
        let mut child = cmd.spawn()?;
        let pid = child.id();
        let stderr = Arc::new(Mutex::new(VecDeque::new()));
        tokio::spawn(drain_stderr(
            child.stderr.take().expect("stderr is piped"),
            stderr.clone(),
        ));
        let mut server = Self {
            child: Some(child),
            pid,
            url: listen.to_owned(),
            socket,
            stderr,
        };
        server.wait_ready(timeout).await?;
        Ok(server)
    }

    async fn wait_ready(&mut self, timeout: Duration) -> Result<(), Error> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                return Err(Error::Closed {
                    waiting_for: format!("the listener on {}", self.url),
                    status: Some(status),
                    stderr_tail: self.stderr_tail(),
                });
            }
            match &self.socket {
                Some(path) => {
                    if tokio::net::UnixStream::connect(path).await.is_ok() {
                        return Ok(());
                    }
                }
                None => {
                    let banner = lock(&self.stderr).iter().find_map(|line| {
                        let (_, url) = line.split_once("listening on: ")?;
                        Some(url.trim().to_owned())
                    });
                    if let Some(url) = banner {
                        self.url = url;
                        return Ok(());
                    }
                }
            }
            if Instant::now() >= deadline {
                return Err(Error::Timeout {
                    waiting_for: format!("the listener on {}", self.url),
                    after: timeout,
                    stderr_tail: self.stderr_tail(),
                });
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// The URL to connect to: the `ws://` URL the server printed (the real port when 0 was
    /// asked for), or the `unix://` URL as given.
    ///
    /// ```no_run
    /// # fn f(server: &codex_client_testkit::ListeningAppServer) {
    /// assert!(server.url().starts_with("ws://") || server.url().starts_with("unix://"));
    /// # }
    /// ```
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The process id (and process group id) of the server.
    ///
    /// ```no_run
    /// # fn f(server: &codex_client_testkit::ListeningAppServer) {
    /// assert!(server.pid().is_some());
    /// # }
    /// ```
    pub fn pid(&self) -> Option<u32> {
        self.pid
    }

    /// The last lines of the server's stderr (ANSI colours stripped).
    ///
    /// ```no_run
    /// # fn f(server: &codex_client_testkit::ListeningAppServer) {
    /// println!("{}", server.stderr_tail());
    /// # }
    /// ```
    pub fn stderr_tail(&self) -> String {
        lock(&self.stderr)
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Kills the server's process group with SIGKILL (no goodbye to its clients) and reaps it.
    ///
    /// ```no_run
    /// # async fn f(mut server: codex_client_testkit::ListeningAppServer) -> Result<(), codex_client_testkit::Error> {
    /// let status = server.kill().await?;
    /// assert!(!status.success());
    /// # Ok(()) }
    /// ```
    pub async fn kill(&mut self) -> Result<ExitStatus, Error> {
        let mut child = self
            .child
            .take()
            .ok_or_else(|| Error::Io(std::io::Error::other("the app-server was already reaped")))?;
        kill_group(self.pid);
        let _ = child.start_kill();
        Ok(child.wait().await?)
    }
}

impl std::fmt::Debug for ListeningAppServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ListeningAppServer")
            .field("pid", &self.pid)
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl Drop for ListeningAppServer {
    fn drop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        kill_group(self.pid);
        let _ = child.start_kill();
        // Reap synchronously so the process is gone when the test ends.
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            match child.try_wait() {
                Ok(Some(_)) | Err(_) => return,
                Ok(None) => std::thread::sleep(Duration::from_millis(2)),
            }
        }
    }
}

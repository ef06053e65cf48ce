//! [`AppServerHarness`]: the one-call set-up for a test against the real app-server: a
//! [`MockModel`], a [`CodexSandbox`] pointed at it, and a [`RawAppServer`] spawned in it and
//! initialized.
//!
//! Teardown order is the field order: the app-server is killed and reaped first, then its
//! directories are removed, then the mock stops.

use crate::{CodexSandbox, Error, MockModel, RawAppServer, require_codex_binary};
use serde_json::{Value, json};
use std::time::Duration;

/// How long the harness waits for start-up steps (spawn + `initialize`); generous for a loaded
/// 2-core CI machine, where the real server answers in about 0.1 s.
///
/// ```
/// assert!(codex_client_testkit::STARTUP_TIMEOUT.as_secs() >= 10);
/// ```
pub const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);

/// A real app-server, initialized, running offline against its own mock model.
///
/// ```no_run
/// use codex_client_testkit::{AppServerHarness, MockResponse};
/// use std::time::Duration;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), codex_client_testkit::Error> {
/// let Some(mut h) = AppServerHarness::start("doc_example").await? else { return Ok(()) };
/// h.mock().push(MockResponse::deltas(["Hi ", "there"]));
/// let thread_id = h.start_thread(serde_json::json!({})).await?;
/// let turn_id = h.start_turn(&thread_id, "Say hi").await?;
/// let completed = h.server().wait_notification("turn/completed", Duration::from_secs(10)).await?;
/// assert_eq!(completed["params"]["turn"]["id"], turn_id.as_str());
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct AppServerHarness {
    server: RawAppServer,
    sandbox: CodexSandbox,
    mock: MockModel,
}

impl AppServerHarness {
    /// Starts a mock, a sandbox and an app-server, and performs the handshake with
    /// `clientInfo.name = test_name`. `Ok(None)` when the binary is missing and the test should
    /// be skipped (see [`require_codex_binary`]).
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), codex_client_testkit::Error> {
    /// let Some(harness) = codex_client_testkit::AppServerHarness::start("my_test").await? else {
    ///     return Ok(());
    /// };
    /// # Ok(()) }
    /// ```
    pub async fn start(test_name: &str) -> Result<Option<Self>, Error> {
        let mock = MockModel::start().await?;
        Self::start_with(test_name, mock, |sandbox| sandbox).await
    }

    /// Like [`start`](Self::start), with a mock the caller made and a chance to adjust the
    /// sandbox (extra `-c` overrides, `RUST_LOG`) before launch.
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), codex_client_testkit::Error> {
    /// use codex_client_testkit::{AppServerHarness, MockModel};
    /// let mock = MockModel::start().await?;
    /// let harness = AppServerHarness::start_with("my_test", mock, |s| s.rust_log("info")).await?;
    /// # Ok(()) }
    /// ```
    pub async fn start_with(
        test_name: &str,
        mock: MockModel,
        configure: impl FnOnce(CodexSandbox) -> CodexSandbox,
    ) -> Result<Option<Self>, Error> {
        let Some(binary) = require_codex_binary(test_name) else {
            return Ok(None);
        };
        let sandbox = configure(CodexSandbox::new(binary, mock.base_url())?);
        let mut server = RawAppServer::spawn(&sandbox.launch())?;
        server.initialize(test_name, STARTUP_TIMEOUT).await?;
        Ok(Some(Self {
            server,
            sandbox,
            mock,
        }))
    }

    /// The mock model.
    ///
    /// ```no_run
    /// # fn f(h: &codex_client_testkit::AppServerHarness) {
    /// println!("{} model requests", h.mock().request_count());
    /// # }
    /// ```
    pub fn mock(&self) -> &MockModel {
        &self.mock
    }

    /// The sandbox (directories, launch).
    ///
    /// ```no_run
    /// # fn f(h: &codex_client_testkit::AppServerHarness) {
    /// println!("thread cwd: {}", h.sandbox().workdir().display());
    /// # }
    /// ```
    pub fn sandbox(&self) -> &CodexSandbox {
        &self.sandbox
    }

    /// The raw JSON-lines driver of the app-server.
    ///
    /// ```no_run
    /// # async fn f(h: &mut codex_client_testkit::AppServerHarness) -> Result<(), codex_client_testkit::Error> {
    /// h.server().notify("initialized", None).await?;
    /// # Ok(()) }
    /// ```
    pub fn server(&mut self) -> &mut RawAppServer {
        &mut self.server
    }

    /// Closes the app-server's stdin, waits for it to exit (it exits with status 0) and returns
    /// the exit status; the directories and the mock go away with `self`.
    ///
    /// ```no_run
    /// # async fn f(h: codex_client_testkit::AppServerHarness) -> Result<(), codex_client_testkit::Error> {
    /// assert!(h.shutdown().await?.success());
    /// # Ok(()) }
    /// ```
    pub async fn shutdown(mut self) -> Result<std::process::ExitStatus, Error> {
        self.server.shutdown(STARTUP_TIMEOUT).await
    }

    /// `thread/start` with `params` (`cwd` defaults to the sandbox's workdir, `approvalPolicy`
    /// to `never`, `sandbox` to `read-only`, unless given) and returns the thread id.
    ///
    /// ```no_run
    /// # async fn f(h: &mut codex_client_testkit::AppServerHarness) -> Result<(), codex_client_testkit::Error> {
    /// let thread_id = h
    ///     .start_thread(serde_json::json!({"approvalPolicy": "untrusted", "sandbox": "workspace-write"}))
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn start_thread(&mut self, params: Value) -> Result<String, Error> {
        let params = self.sandbox.thread_start_params(params);
        let result = self
            .server
            .call("thread/start", params, STARTUP_TIMEOUT)
            .await?;
        id_at(&result, "/thread/id", "thread/start")
    }

    /// `turn/start` on `thread_id` with one text input; returns the turn id from the response.
    ///
    /// ```no_run
    /// # async fn f(h: &mut codex_client_testkit::AppServerHarness, thread_id: &str) -> Result<(), codex_client_testkit::Error> {
    /// let turn_id = h.start_turn(thread_id, "Say hello").await?;
    /// # Ok(()) }
    /// ```
    pub async fn start_turn(&mut self, thread_id: &str, text: &str) -> Result<String, Error> {
        let result = self
            .server
            .call(
                "turn/start",
                json!({"threadId": thread_id, "input": [{"type": "text", "text": text}]}),
                STARTUP_TIMEOUT,
            )
            .await?;
        id_at(&result, "/turn/id", "turn/start")
    }
}

fn id_at(result: &Value, pointer: &str, method: &str) -> Result<String, Error> {
    result
        .pointer(pointer)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| Error::Rpc {
            method: method.to_owned(),
            error: json!({"message": format!("no {pointer} in the result"), "result": result}),
        })
}

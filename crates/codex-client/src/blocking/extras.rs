//! Blocking mirrors of login and account, goals, models and the convenience wrappers
//! (`api/account.rs`, `api/goal.rs`, `api/models.rs`, `api/extras.rs`): one line over each
//! async method, and iterator wrappers for the two streams ([`GoalHandle`], [`CommandExec`]).

use super::codex::Codex;
use super::runtime::Shared;
use super::thread::Thread;
use super::turn::TurnHandle;
use crate::api::{ExecOutput, GoalOptions, GoalResult, Input, Secret};
use crate::error::Result;
use crate::proto::{
    AccountLoginCompletedNotification, CancelLoginAccountStatus, CommandExecParams,
    CommandExecResponse, ConfigEdit, ConfigReadResponse, ConfigWriteResponse,
    FsGetMetadataResponse, FsReadDirectoryEntry, GetAccountRateLimitsResponse, GetAccountResponse,
    GetAccountTokenUsageResponse, McpServerStatus, McpServerToolCallResponse, Model,
    ModelProviderCapabilitiesReadResponse, ReviewTarget, SkillsListEntry, ThreadGoal,
    ThreadGoalStatus,
};
use crate::router::TurnEvent;
use futures::StreamExt;
use std::path::Path;
use std::sync::Arc;

/// A ChatGPT browser login in progress (see [`crate::ChatgptLogin`]).
///
/// ```no_run
/// # fn f(codex: codex_client::blocking::Codex) -> Result<(), codex_client::Error> {
/// let mut login = codex.login_chatgpt()?;
/// println!("Open {}", login.auth_url());
/// println!("success: {}", login.wait()?.success);
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct ChatgptLogin {
    inner: crate::api::ChatgptLogin,
    shared: Arc<Shared>,
}

impl ChatgptLogin {
    /// The login id.
    pub fn login_id(&self) -> &str {
        self.inner.login_id()
    }

    /// The URL to open in a browser.
    pub fn auth_url(&self) -> &str {
        self.inner.auth_url()
    }

    /// Waits for this login's completion (see [`crate::ChatgptLogin::wait`]).
    pub fn wait(&mut self) -> Result<AccountLoginCompletedNotification> {
        self.shared.wait(self.inner.wait())
    }

    /// Cancels the login (see [`crate::ChatgptLogin::cancel`]).
    pub fn cancel(&self) -> Result<CancelLoginAccountStatus> {
        self.shared.wait(self.inner.cancel())
    }
}

/// A ChatGPT device-code login in progress (see [`crate::DeviceCodeLogin`]).
///
/// ```no_run
/// # fn f(codex: codex_client::blocking::Codex) -> Result<(), codex_client::Error> {
/// let mut login = codex.login_chatgpt_device_code()?;
/// println!("Go to {} and enter {}", login.verification_url(), login.user_code());
/// login.wait()?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct DeviceCodeLogin {
    inner: crate::api::DeviceCodeLogin,
    shared: Arc<Shared>,
}

impl DeviceCodeLogin {
    /// The login id.
    pub fn login_id(&self) -> &str {
        self.inner.login_id()
    }

    /// Where the user enters the code.
    pub fn verification_url(&self) -> &str {
        self.inner.verification_url()
    }

    /// The one-time code to show the user.
    pub fn user_code(&self) -> &str {
        self.inner.user_code()
    }

    /// Waits for this login's completion (see [`crate::DeviceCodeLogin::wait`]).
    pub fn wait(&mut self) -> Result<AccountLoginCompletedNotification> {
        self.shared.wait(self.inner.wait())
    }

    /// Cancels the login (see [`crate::DeviceCodeLogin::cancel`]).
    pub fn cancel(&self) -> Result<CancelLoginAccountStatus> {
        self.shared.wait(self.inner.cancel())
    }
}

/// A goal's logical turn as an [`Iterator`] of [`TurnEvent`]s (see [`crate::GoalHandle`]).
///
/// ```no_run
/// # fn f(thread: codex_client::blocking::Thread) -> Result<(), codex_client::Error> {
/// let mut goal = thread.start_goal("Make the tests pass")?;
/// for event in &mut goal {
///     let _ = event?;
/// }
/// println!("{:?}", goal.run()?.status());
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct GoalHandle {
    inner: crate::api::GoalHandle,
    shared: Arc<Shared>,
}

impl GoalHandle {
    /// The logical turn's id (the first physical turn's).
    pub fn id(&self) -> &str {
        self.inner.id()
    }

    /// The thread's id.
    pub fn thread_id(&self) -> &str {
        self.inner.thread_id()
    }

    /// A steer / interrupt remote for other OS threads.
    pub fn control(&self) -> GoalControl {
        GoalControl {
            inner: self.inner.control(),
            shared: self.shared.clone(),
        }
    }

    /// See [`crate::GoalControl::steer`].
    pub fn steer(&self, input: impl Into<Input>) -> Result<()> {
        self.shared.wait(self.inner.steer(input))
    }

    /// See [`crate::GoalControl::interrupt`].
    pub fn interrupt(&self) -> Result<()> {
        self.shared.wait(self.inner.interrupt())
    }

    /// The goal as last reported.
    pub fn goal(&self) -> Option<ThreadGoal> {
        self.inner.goal()
    }

    /// The physical turns seen so far.
    pub fn turn_ids(&self) -> Vec<String> {
        self.inner.turn_ids()
    }

    /// Consumes the rest and returns the [`GoalResult`] (see [`crate::GoalHandle::run`]).
    pub fn run(self) -> Result<GoalResult> {
        let GoalHandle { inner, shared } = self;
        shared.wait(inner.run())
    }
}

impl Iterator for GoalHandle {
    type Item = Result<TurnEvent>;

    fn next(&mut self) -> Option<Self::Item> {
        self.shared.wait(self.inner.next())
    }
}

/// Steers or interrupts a goal from any OS thread (see [`crate::GoalControl`]).
#[derive(Debug, Clone)]
pub struct GoalControl {
    inner: crate::api::GoalControl,
    shared: Arc<Shared>,
}

impl GoalControl {
    /// The physical turn running now.
    pub fn current_turn_id(&self) -> Option<String> {
        self.inner.current_turn_id()
    }

    /// See [`crate::GoalControl::steer`].
    pub fn steer(&self, input: impl Into<Input>) -> Result<()> {
        self.shared.wait(self.inner.steer(input))
    }

    /// See [`crate::GoalControl::interrupt`].
    pub fn interrupt(&self) -> Result<()> {
        self.shared.wait(self.inner.interrupt())
    }
}

/// A streamed command as an [`Iterator`] of its output (see [`crate::CommandExec`]).
///
/// ```no_run
/// # fn f(codex: codex_client::blocking::Codex) -> Result<(), codex_client::Error> {
/// let params = serde_json::from_value(serde_json::json!({"command": ["ls", "-l"]})).unwrap();
/// let mut exec = codex.exec_streaming(params)?;
/// for chunk in &mut exec {
///     print!("{}", String::from_utf8_lossy(&chunk?.data));
/// }
/// println!("exit {}", exec.wait()?.exit_code);
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct CommandExec {
    inner: crate::api::CommandExec,
    shared: Arc<Shared>,
}

impl CommandExec {
    /// The process id.
    pub fn process_id(&self) -> &str {
        self.inner.process_id()
    }

    /// See [`crate::CommandExec::write_stdin`].
    pub fn write_stdin(&self, data: &[u8], close: bool) -> Result<()> {
        self.shared.wait(self.inner.write_stdin(data, close))
    }

    /// See [`crate::CommandExec::terminate`].
    pub fn terminate(&self) -> Result<()> {
        self.shared.wait(self.inner.terminate())
    }

    /// Waits for the exit (see [`crate::CommandExec::wait`]).
    pub fn wait(self) -> Result<CommandExecResponse> {
        let CommandExec { inner, shared } = self;
        shared.wait(inner.wait())
    }
}

impl Iterator for CommandExec {
    type Item = Result<ExecOutput>;

    fn next(&mut self) -> Option<Self::Item> {
        self.shared.wait(self.inner.next())
    }
}

impl Codex {
    fn run<F: std::future::Future>(&self, future: F) -> F::Output {
        self.shared().wait(future)
    }

    /// See [`crate::Codex::login_api_key`].
    pub fn login_api_key(&self, api_key: impl Into<Secret>) -> Result<()> {
        self.run(self.inner().login_api_key(api_key))
    }

    /// See [`crate::Codex::login_chatgpt`].
    pub fn login_chatgpt(&self) -> Result<ChatgptLogin> {
        let inner = self.run(self.inner().login_chatgpt())?;
        Ok(ChatgptLogin {
            inner,
            shared: self.shared().clone(),
        })
    }

    /// See [`crate::Codex::login_chatgpt_device_code`].
    pub fn login_chatgpt_device_code(&self) -> Result<DeviceCodeLogin> {
        let inner = self.run(self.inner().login_chatgpt_device_code())?;
        Ok(DeviceCodeLogin {
            inner,
            shared: self.shared().clone(),
        })
    }

    /// See [`crate::Codex::account`].
    pub fn account(&self, refresh_token: bool) -> Result<GetAccountResponse> {
        self.run(self.inner().account(refresh_token))
    }

    /// See [`crate::Codex::logout`].
    pub fn logout(&self) -> Result<()> {
        self.run(self.inner().logout())
    }

    /// See [`crate::Codex::rate_limits`].
    pub fn rate_limits(&self) -> Result<GetAccountRateLimitsResponse> {
        self.run(self.inner().rate_limits())
    }

    /// See [`crate::Codex::token_usage`].
    pub fn token_usage(&self, thread_id: Option<&str>) -> Result<GetAccountTokenUsageResponse> {
        self.run(self.inner().token_usage(thread_id))
    }

    /// See [`crate::Codex::models`].
    pub fn models(&self, include_hidden: bool) -> Result<Vec<Model>> {
        self.run(self.inner().models(include_hidden))
    }

    /// See [`crate::Codex::model_provider_capabilities`].
    pub fn model_provider_capabilities(&self) -> Result<ModelProviderCapabilitiesReadResponse> {
        self.run(self.inner().model_provider_capabilities())
    }

    /// See [`crate::Codex::exec`].
    pub fn exec<I, S>(&self, command: I) -> Result<CommandExecResponse>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.run(self.inner().exec(command))
    }

    /// See [`crate::Codex::exec_with`].
    pub fn exec_with(&self, params: CommandExecParams) -> Result<CommandExecResponse> {
        self.run(self.inner().exec_with(params))
    }

    /// See [`crate::Codex::exec_streaming`].
    pub fn exec_streaming(&self, params: CommandExecParams) -> Result<CommandExec> {
        let inner = self.run(self.inner().exec_streaming(params))?;
        Ok(CommandExec {
            inner,
            shared: self.shared().clone(),
        })
    }

    /// See [`crate::Codex::read_file`].
    pub fn read_file(&self, path: impl AsRef<Path>) -> Result<Vec<u8>> {
        self.run(self.inner().read_file(path))
    }

    /// See [`crate::Codex::write_file`].
    pub fn write_file(&self, path: impl AsRef<Path>, data: &[u8]) -> Result<()> {
        self.run(self.inner().write_file(path, data))
    }

    /// See [`crate::Codex::read_directory`].
    pub fn read_directory(&self, path: impl AsRef<Path>) -> Result<Vec<FsReadDirectoryEntry>> {
        self.run(self.inner().read_directory(path))
    }

    /// See [`crate::Codex::file_metadata`].
    pub fn file_metadata(&self, path: impl AsRef<Path>) -> Result<FsGetMetadataResponse> {
        self.run(self.inner().file_metadata(path))
    }

    /// See [`crate::Codex::create_directory`].
    pub fn create_directory(&self, path: impl AsRef<Path>, recursive: bool) -> Result<()> {
        self.run(self.inner().create_directory(path, recursive))
    }

    /// See [`crate::Codex::remove_path`].
    pub fn remove_path(&self, path: impl AsRef<Path>, recursive: bool) -> Result<()> {
        self.run(self.inner().remove_path(path, recursive))
    }

    /// See [`crate::Codex::copy_path`].
    pub fn copy_path(
        &self,
        from: impl AsRef<Path>,
        to: impl AsRef<Path>,
        recursive: bool,
    ) -> Result<()> {
        self.run(self.inner().copy_path(from, to, recursive))
    }

    /// See [`crate::Codex::config`].
    pub fn config(&self, cwd: Option<&str>) -> Result<ConfigReadResponse> {
        self.run(self.inner().config(cwd))
    }

    /// See [`crate::Codex::write_config_value`].
    pub fn write_config_value(
        &self,
        key_path: &str,
        value: serde_json::Value,
    ) -> Result<ConfigWriteResponse> {
        self.run(self.inner().write_config_value(key_path, value))
    }

    /// See [`crate::Codex::write_config`].
    pub fn write_config(&self, edits: Vec<ConfigEdit>) -> Result<ConfigWriteResponse> {
        self.run(self.inner().write_config(edits))
    }

    /// See [`crate::Codex::mcp_servers`].
    pub fn mcp_servers(&self) -> Result<Vec<McpServerStatus>> {
        self.run(self.inner().mcp_servers())
    }

    /// See [`crate::Codex::skills`].
    pub fn skills(&self, cwds: &[&str]) -> Result<Vec<SkillsListEntry>> {
        self.run(self.inner().skills(cwds))
    }
}

impl Thread {
    fn run_async<F: std::future::Future>(&self, future: F) -> F::Output {
        self.codex().shared().wait(future)
    }

    fn goal_handle(&self, inner: crate::api::GoalHandle) -> GoalHandle {
        GoalHandle {
            inner,
            shared: self.codex().shared().clone(),
        }
    }

    /// See [`crate::Thread::goal`].
    pub fn goal(&self) -> Result<Option<ThreadGoal>> {
        self.run_async(self.inner().goal())
    }

    /// See [`crate::Thread::set_goal_status`].
    pub fn set_goal_status(&self, status: ThreadGoalStatus) -> Result<ThreadGoal> {
        self.run_async(self.inner().set_goal_status(status))
    }

    /// See [`crate::Thread::clear_goal`].
    pub fn clear_goal(&self) -> Result<bool> {
        self.run_async(self.inner().clear_goal())
    }

    /// See [`crate::Thread::run_goal`].
    pub fn run_goal(&self, objective: &str) -> Result<GoalResult> {
        self.run_async(self.inner().run_goal(objective))
    }

    /// See [`crate::Thread::start_goal`].
    pub fn start_goal(&self, objective: &str) -> Result<GoalHandle> {
        let inner = self.run_async(self.inner().start_goal(objective))?;
        Ok(self.goal_handle(inner))
    }

    /// See [`crate::Thread::start_goal_with`].
    pub fn start_goal_with(&self, objective: &str, options: GoalOptions) -> Result<GoalHandle> {
        let inner = self.run_async(self.inner().start_goal_with(objective, options))?;
        Ok(self.goal_handle(inner))
    }

    /// See [`crate::Thread::review`].
    pub fn review(&self, target: ReviewTarget) -> Result<TurnHandle> {
        let inner = self.run_async(self.inner().review(target))?;
        Ok(self.handle(inner))
    }

    /// See [`crate::Thread::call_mcp_tool`].
    pub fn call_mcp_tool(
        &self,
        server: &str,
        tool: &str,
        arguments: serde_json::Value,
    ) -> Result<McpServerToolCallResponse> {
        self.run_async(self.inner().call_mcp_tool(server, tool, arguments))
    }
}

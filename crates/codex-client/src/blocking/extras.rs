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
        if close {
            self.shared.wait(async {
                self.inner.write_stdin(data).await?;
                self.inner.close_stdin().await
            })
        } else {
            self.shared.wait(self.inner.write_stdin(data))
        }
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

    /// See [`crate::api::Account::login_api_key`].
    pub fn login_api_key(&self, api_key: impl Into<Secret>) -> Result<()> {
        self.run(self.inner().account().login_api_key(api_key))
    }

    /// See [`crate::api::Account::login_chatgpt`].
    pub fn login_chatgpt(&self) -> Result<ChatgptLogin> {
        let inner = self.run(self.inner().account().login_chatgpt())?;
        Ok(ChatgptLogin {
            inner,
            shared: self.shared().clone(),
        })
    }

    /// See [`crate::api::Account::login_device_code`].
    pub fn login_chatgpt_device_code(&self) -> Result<DeviceCodeLogin> {
        let inner = self.run(self.inner().account().login_device_code())?;
        Ok(DeviceCodeLogin {
            inner,
            shared: self.shared().clone(),
        })
    }

    /// See [`crate::api::Account::read`].
    pub fn account(&self, refresh_token: bool) -> Result<GetAccountResponse> {
        if refresh_token {
            self.run(self.inner().account().read_refreshed())
        } else {
            self.run(self.inner().account().read())
        }
    }

    /// See [`crate::api::Account::logout`].
    pub fn logout(&self) -> Result<()> {
        self.run(self.inner().account().logout())
    }

    /// See [`crate::api::Account::rate_limits`].
    pub fn rate_limits(&self) -> Result<GetAccountRateLimitsResponse> {
        self.run(self.inner().account().rate_limits())
    }

    /// See [`crate::api::Account::token_usage`].
    pub fn token_usage(&self, thread_id: Option<&str>) -> Result<GetAccountTokenUsageResponse> {
        self.run(self.inner().account().token_usage(thread_id))
    }

    /// See [`crate::api::Models::list`].
    pub fn models(&self, include_hidden: bool) -> Result<Vec<Model>> {
        if include_hidden {
            self.run(self.inner().models().list_including_hidden())
        } else {
            self.run(self.inner().models().list())
        }
    }

    /// See [`crate::api::Models::provider_capabilities`].
    pub fn model_provider_capabilities(&self) -> Result<ModelProviderCapabilitiesReadResponse> {
        self.run(self.inner().models().provider_capabilities())
    }

    /// See [`crate::api::Commands::run`].
    pub fn exec<I, S>(&self, command: I) -> Result<CommandExecResponse>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.run(self.inner().commands().run(command))
    }

    /// See [`crate::api::Commands::run_params`].
    pub fn exec_with(&self, params: CommandExecParams) -> Result<CommandExecResponse> {
        self.run(self.inner().commands().run_params(params))
    }

    /// See [`crate::api::Commands::spawn`].
    pub fn exec_streaming(&self, params: CommandExecParams) -> Result<CommandExec> {
        let inner = self.run(self.inner().commands().spawn(params))?;
        Ok(CommandExec {
            inner,
            shared: self.shared().clone(),
        })
    }

    /// See [`crate::api::Files::read`].
    pub fn read_file(&self, path: impl AsRef<Path>) -> Result<Vec<u8>> {
        self.run(self.inner().files().read(path))
    }

    /// See [`crate::api::Files::write`].
    pub fn write_file(&self, path: impl AsRef<Path>, data: &[u8]) -> Result<()> {
        self.run(self.inner().files().write(path, data))
    }

    /// See [`crate::api::Files::read_dir`].
    pub fn read_directory(&self, path: impl AsRef<Path>) -> Result<Vec<FsReadDirectoryEntry>> {
        self.run(self.inner().files().read_dir(path))
    }

    /// See [`crate::api::Files::metadata`].
    pub fn file_metadata(&self, path: impl AsRef<Path>) -> Result<FsGetMetadataResponse> {
        self.run(self.inner().files().metadata(path))
    }

    /// See [`crate::api::Files::create_dir`].
    pub fn create_directory(&self, path: impl AsRef<Path>, recursive: bool) -> Result<()> {
        if recursive {
            self.run(self.inner().files().create_dir_all(path))
        } else {
            self.run(self.inner().files().create_dir(path))
        }
    }

    /// See [`crate::api::Files::remove`].
    pub fn remove_path(&self, path: impl AsRef<Path>, recursive: bool) -> Result<()> {
        if recursive {
            self.run(self.inner().files().remove_all(path))
        } else {
            self.run(self.inner().files().remove(path))
        }
    }

    /// See [`crate::api::Files::copy`].
    pub fn copy_path(
        &self,
        from: impl AsRef<Path>,
        to: impl AsRef<Path>,
        recursive: bool,
    ) -> Result<()> {
        let _ = recursive; // `fs/copy` ignores it for a file; a directory is copied whole
        self.run(self.inner().files().copy(from, to))
    }

    /// See [`crate::api::ServerConfig::read`].
    pub fn config(&self, cwd: Option<&str>) -> Result<ConfigReadResponse> {
        match cwd {
            Some(cwd) => self.run(self.inner().server_config().read_for(cwd)),
            None => self.run(self.inner().server_config().read()),
        }
    }

    /// See [`crate::api::ServerConfig::write_value`].
    pub fn write_config_value(
        &self,
        key_path: &str,
        value: serde_json::Value,
    ) -> Result<ConfigWriteResponse> {
        self.run(self.inner().server_config().write_value(key_path, value))
    }

    /// See [`crate::api::ServerConfig::write`].
    pub fn write_config(&self, edits: Vec<ConfigEdit>) -> Result<ConfigWriteResponse> {
        self.run(self.inner().server_config().write(edits))
    }

    /// See [`crate::api::Mcp::servers`].
    pub fn mcp_servers(&self) -> Result<Vec<McpServerStatus>> {
        self.run(self.inner().mcp().servers())
    }

    /// See [`crate::api::Skills::list`].
    pub fn skills(&self, cwds: &[&str]) -> Result<Vec<SkillsListEntry>> {
        self.run(self.inner().skills().list(cwds))
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

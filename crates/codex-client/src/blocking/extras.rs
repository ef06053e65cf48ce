//! Blocking mirrors of the login handles, goals, command exec and the thread calls of their
//! files (`api/account.rs`, `api/goal.rs`, `api/commands.rs`, `api/review.rs`, `api/mcp.rs`):
//! one line over each async method, and iterator wrappers for the two streams
//! ([`GoalHandle`], [`CommandExec`]).

use super::runtime::Shared;
use super::thread::Thread;
use super::turn::TurnHandle;
use crate::api::{ExecOutput, GoalOptions, GoalResult, Input};
use crate::error::Result;
use crate::proto::{
    AccountLoginCompletedNotification, CancelLoginAccountStatus, CommandExecResponse,
    McpServerToolCallResponse, ReviewTarget, ThreadGoal, ThreadGoalStatus,
};
use crate::router::TurnEvent;
use futures::StreamExt;
use std::sync::Arc;

/// A ChatGPT browser login in progress (see [`crate::ChatgptLogin`]).
///
/// ```no_run
/// # fn f(codex: codex_client::blocking::Codex) -> Result<(), codex_client::Error> {
/// let mut login = codex.account().login_chatgpt()?;
/// println!("Open {}", login.auth_url());
/// println!("success: {}", login.wait()?.success);
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct ChatgptLogin {
    pub(super) inner: crate::api::ChatgptLogin,
    pub(super) shared: Arc<Shared>,
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
/// let mut login = codex.account().login_device_code()?;
/// println!("Go to {} and enter {}", login.verification_url(), login.user_code());
/// login.wait()?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct DeviceCodeLogin {
    pub(super) inner: crate::api::DeviceCodeLogin,
    pub(super) shared: Arc<Shared>,
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
/// let mut exec = codex.commands().spawn(params)?;
/// for chunk in &mut exec {
///     print!("{}", String::from_utf8_lossy(&chunk?.data));
/// }
/// println!("exit {}", exec.wait()?.exit_code);
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct CommandExec {
    pub(super) inner: crate::api::CommandExec,
    pub(super) shared: Arc<Shared>,
}

impl CommandExec {
    /// The process id.
    pub fn process_id(&self) -> &str {
        self.inner.process_id()
    }

    /// See [`crate::CommandExec::write_stdin`].
    pub fn write_stdin(&self, data: &[u8]) -> Result<()> {
        self.shared.wait(self.inner.write_stdin(data))
    }

    /// See [`crate::CommandExec::close_stdin`].
    pub fn close_stdin(&self) -> Result<()> {
        self.shared.wait(self.inner.close_stdin())
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

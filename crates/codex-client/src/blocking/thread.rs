//! The blocking [`Thread`]: [`crate::Thread`]'s snapshot accessors passed through unchanged,
//! and its calls (turns, read, refresh, name, compact, archive, fork, notifications) each a
//! `wait` on the async call.

use super::codex::Codex;
use super::notifications::NotificationStream;
use super::turn::TurnHandle;
use crate::api::{Input, ThreadOptions, TurnOptions, TurnResult};
use crate::error::Result;
use crate::proto::{ApprovalsReviewer, AskForApproval, SandboxPolicy, ThreadStatus, Turn};
use std::future::Future;

/// One conversation on a blocking [`Codex`]. Cheap to clone, `Send` and `Sync`: hand clones to
/// other OS threads. Turns on one thread are serialised by the server; turns on different
/// threads run at once.
///
/// ```no_run
/// # fn f(codex: codex_client::blocking::Codex) -> Result<(), codex_client::Error> {
/// use codex_client::ThreadOptions;
/// let thread = codex.threads().start(ThreadOptions::new().model("gpt-5"))?;
/// println!("{} on {:?}", thread.id(), thread.model());
/// let result = thread.run("Say hello in one sentence.")?;
/// println!("{}", result.final_response().unwrap_or_default());
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Thread {
    inner: crate::api::Thread,
    codex: Codex,
}

impl std::fmt::Debug for Thread {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.inner.fmt(f)
    }
}

impl Thread {
    pub(super) fn new(inner: crate::api::Thread, codex: Codex) -> Self {
        Thread { inner, codex }
    }

    /// Runs one async call of this thread to completion on the calling thread.
    fn wait<F: Future>(&self, future: F) -> F::Output {
        self.codex.shared().wait(future)
    }

    /// The async thread (for the mirrors in `extras.rs` and `groups.rs`).
    pub(super) fn inner(&self) -> &crate::api::Thread {
        &self.inner
    }

    pub(super) fn handle(&self, inner: crate::api::TurnHandle) -> TurnHandle {
        TurnHandle::new(inner, self.codex.shared().clone())
    }

    /// The thread's id.
    ///
    /// ```no_run
    /// # fn f(thread: codex_client::blocking::Thread) { println!("{}", thread.id()); }
    /// ```
    pub fn id(&self) -> &str {
        self.inner.id()
    }

    /// The blocking [`Codex`] this thread belongs to.
    ///
    /// ```no_run
    /// # fn f(thread: codex_client::blocking::Thread) { let _codex = thread.codex().clone(); }
    /// ```
    pub fn codex(&self) -> &Codex {
        &self.codex
    }

    /// The thread object as the server last described it (see [`crate::Thread::info`]).
    ///
    /// ```no_run
    /// # fn f(thread: codex_client::blocking::Thread) { println!("created at {}", thread.info().created_at); }
    /// ```
    pub fn info(&self) -> &crate::proto::Thread {
        self.inner.info()
    }

    /// The model (see [`crate::Thread::model`]).
    ///
    /// ```no_run
    /// # fn f(thread: codex_client::blocking::Thread) { println!("{:?}", thread.model()); }
    /// ```
    pub fn model(&self) -> Option<&str> {
        self.inner.model()
    }

    /// The model provider.
    ///
    /// ```no_run
    /// # fn f(thread: codex_client::blocking::Thread) { println!("{}", thread.model_provider()); }
    /// ```
    pub fn model_provider(&self) -> &str {
        self.inner.model_provider()
    }

    /// The approval policy (see [`crate::Thread::approval_policy`]).
    ///
    /// ```no_run
    /// # fn f(thread: codex_client::blocking::Thread) { println!("{:?}", thread.approval_policy()); }
    /// ```
    pub fn approval_policy(&self) -> Option<&AskForApproval> {
        self.inner.approval_policy()
    }

    /// Who reviews approval requests.
    ///
    /// ```no_run
    /// # fn f(thread: codex_client::blocking::Thread) { println!("{:?}", thread.approvals_reviewer()); }
    /// ```
    pub fn approvals_reviewer(&self) -> Option<&ApprovalsReviewer> {
        self.inner.approvals_reviewer()
    }

    /// The sandbox policy in force.
    ///
    /// ```no_run
    /// # fn f(thread: codex_client::blocking::Thread) { println!("{:?}", thread.sandbox()); }
    /// ```
    pub fn sandbox(&self) -> Option<&SandboxPolicy> {
        self.inner.sandbox()
    }

    /// The working directory.
    ///
    /// ```no_run
    /// # fn f(thread: codex_client::blocking::Thread) { println!("{}", thread.cwd()); }
    /// ```
    pub fn cwd(&self) -> &str {
        self.inner.cwd()
    }

    /// The reasoning effort.
    ///
    /// ```no_run
    /// # fn f(thread: codex_client::blocking::Thread) { println!("{:?}", thread.reasoning_effort()); }
    /// ```
    pub fn reasoning_effort(&self) -> Option<&str> {
        self.inner.reasoning_effort()
    }

    /// The service tier.
    ///
    /// ```no_run
    /// # fn f(thread: codex_client::blocking::Thread) { println!("{:?}", thread.service_tier()); }
    /// ```
    pub fn service_tier(&self) -> Option<&str> {
        self.inner.service_tier()
    }

    /// The status when the snapshot was taken.
    ///
    /// ```no_run
    /// # fn f(thread: codex_client::blocking::Thread) { println!("{:?}", thread.status()); }
    /// ```
    pub fn status(&self) -> &ThreadStatus {
        self.inner.status()
    }

    /// The turns the server included (resume returns the history; start returns none).
    ///
    /// ```no_run
    /// # fn f(thread: codex_client::blocking::Thread) { println!("{} turns", thread.turns().len()); }
    /// ```
    pub fn turns(&self) -> &[Turn] {
        self.inner.turns()
    }

    /// The name, if one was set.
    ///
    /// ```no_run
    /// # fn f(thread: codex_client::blocking::Thread) { println!("{:?}", thread.name()); }
    /// ```
    pub fn name(&self) -> Option<&str> {
        self.inner.name()
    }

    /// The preview (usually the first user message).
    ///
    /// ```no_run
    /// # fn f(thread: codex_client::blocking::Thread) { println!("{}", thread.preview()); }
    /// ```
    pub fn preview(&self) -> &str {
        self.inner.preview()
    }

    /// Runs a turn to its end and returns its result (see [`crate::Thread::run`]).
    ///
    /// ```no_run
    /// # fn f(thread: codex_client::blocking::Thread) -> Result<(), codex_client::Error> {
    /// let result = thread.run("What is 2 + 2?")?;
    /// println!("{}", result.final_response().unwrap_or_default());
    /// # Ok(()) }
    /// ```
    pub fn run(&self, input: impl Into<Input>) -> Result<TurnResult> {
        self.wait(self.inner.run(input))
    }

    /// [`run`](Self::run) with turn options (see [`crate::Thread::run_with`]).
    ///
    /// ```no_run
    /// # fn f(thread: codex_client::blocking::Thread) -> Result<(), codex_client::Error> {
    /// use codex_client::TurnOptions;
    /// let schema = serde_json::json!({"type": "object", "properties": {"n": {"type": "integer"}},
    ///     "required": ["n"], "additionalProperties": false});
    /// let result = thread.run_with("2 + 2?", codex_client::TurnSettings::new().output_schema(schema))?;
    /// println!("{}", result.final_response().unwrap_or("{}"));
    /// # Ok(()) }
    /// ```
    pub fn run_with(
        &self,
        input: impl Into<Input>,
        options: impl Into<TurnOptions>,
    ) -> Result<TurnResult> {
        self.wait(self.inner.run_with(input, options))
    }

    /// Starts a turn and returns its [`TurnHandle`], an iterator of its events (see
    /// [`crate::Thread::turn`]).
    ///
    /// ```no_run
    /// # fn f(thread: codex_client::blocking::Thread) -> Result<(), codex_client::Error> {
    /// for event in thread.turn("Explain lib.rs")? {
    ///     let _ = event?;
    /// }
    /// # Ok(()) }
    /// ```
    pub fn turn(&self, input: impl Into<Input>) -> Result<TurnHandle> {
        self.wait(self.inner.turn(input)).map(|t| self.handle(t))
    }

    /// [`turn`](Self::turn) with turn options (see [`crate::Thread::turn_with`]); with
    /// [`approvals_in_stream`](crate::TurnOptions::approvals_in_stream) the turn's approval
    /// requests arrive in the iterator, answered synchronously.
    ///
    /// ```no_run
    /// # fn f(thread: codex_client::blocking::Thread) -> Result<(), codex_client::Error> {
    /// use codex_client::{ApprovalMode, TurnEvent, TurnOptions};
    /// let options = TurnOptions::new()
    ///     .settings(codex_client::TurnSettings::new().approval_mode(ApprovalMode::OnRequest))
    ///     .approvals_in_stream();
    /// for event in thread.turn_with("Run the tests", options)? {
    ///     if let TurnEvent::ServerRequest(request) = event? {
    ///         request.accept()?; // or decline()
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub fn turn_with(
        &self,
        input: impl Into<Input>,
        options: impl Into<TurnOptions>,
    ) -> Result<TurnHandle> {
        self.wait(self.inner.turn_with(input, options))
            .map(|t| self.handle(t))
    }

    /// The thread as the server has it now, without its turns (see [`crate::Thread::read`]).
    ///
    /// ```no_run
    /// # fn f(thread: codex_client::blocking::Thread) -> Result<(), codex_client::Error> {
    /// let now = thread.read_with_turns()?;
    /// println!("{} turns, status {:?}", now.turns.len(), now.status);
    /// # Ok(()) }
    /// ```
    pub fn read(&self) -> Result<crate::proto::Thread> {
        self.wait(self.inner.read())
    }

    /// [`read`](Self::read), with every turn (see [`crate::Thread::read_with_turns`]).
    pub fn read_with_turns(&self) -> Result<crate::proto::Thread> {
        self.wait(self.inner.read_with_turns())
    }

    /// Re-reads the thread into this `Thread`'s snapshot (see [`crate::Thread::refresh`]).
    ///
    /// ```no_run
    /// # fn f(mut thread: codex_client::blocking::Thread) -> Result<(), codex_client::Error> {
    /// thread.refresh()?;
    /// println!("{:?}", thread.status());
    /// # Ok(()) }
    /// ```
    pub fn refresh(&mut self) -> Result<()> {
        self.codex.shared().wait(self.inner.refresh())
    }

    /// Names the thread and updates the snapshot's name (see [`crate::Thread::set_name`]).
    ///
    /// ```no_run
    /// # fn f(mut thread: codex_client::blocking::Thread) -> Result<(), codex_client::Error> {
    /// thread.set_name("release notes")?;
    /// assert_eq!(thread.name(), Some("release notes"));
    /// # Ok(()) }
    /// ```
    pub fn set_name(&mut self, name: impl Into<String>) -> Result<()> {
        self.codex.shared().wait(self.inner.set_name(name))
    }

    /// Starts compacting the thread's history (see [`crate::Thread::compact`]).
    ///
    /// ```no_run
    /// # fn f(thread: codex_client::blocking::Thread) -> Result<(), codex_client::Error> {
    /// thread.compact()?;
    /// # Ok(()) }
    /// ```
    pub fn compact(&self) -> Result<()> {
        self.wait(self.inner.compact())
    }

    /// Archives the thread (see [`crate::Thread::archive`]).
    ///
    /// ```no_run
    /// # fn f(thread: codex_client::blocking::Thread) -> Result<(), codex_client::Error> {
    /// thread.archive()?;
    /// # Ok(()) }
    /// ```
    pub fn archive(&self) -> Result<()> {
        self.wait(self.inner.archive())
    }

    /// Unarchives the thread (see [`crate::Thread::unarchive`]).
    ///
    /// ```no_run
    /// # fn f(thread: codex_client::blocking::Thread) -> Result<(), codex_client::Error> {
    /// thread.unarchive()?;
    /// # Ok(()) }
    /// ```
    pub fn unarchive(&self) -> Result<()> {
        self.wait(self.inner.unarchive())
    }

    /// Forks the thread into a new one (see [`crate::Thread::fork`]).
    ///
    /// ```no_run
    /// # fn f(thread: codex_client::blocking::Thread) -> Result<(), codex_client::Error> {
    /// let copy = thread.fork(codex_client::ThreadOptions::new())?;
    /// assert_ne!(copy.id(), thread.id());
    /// # Ok(()) }
    /// ```
    pub fn fork(&self, options: ThreadOptions) -> Result<Thread> {
        self.wait(self.inner.fork(options))
            .map(|t| self.codex.thread(t))
    }

    /// The thread's notifications that no turn stream takes, as an iterator (see
    /// [`crate::Thread::notifications`]).
    ///
    /// ```no_run
    /// # fn f(thread: codex_client::blocking::Thread) -> Result<(), codex_client::Error> {
    /// for notification in thread.notifications() {
    ///     println!("{}", notification?.method());
    /// }
    /// # Ok(()) }
    /// ```
    pub fn notifications(&self) -> NotificationStream {
        NotificationStream::new(self.inner.notifications(), self.codex.shared().clone())
    }
}

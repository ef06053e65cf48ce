//! [`Thread`]: one conversation, with what the server answered when it was started, resumed or
//! forked (model, provider, approval policy, sandbox, cwd, reasoning effort, status, turns,
//! name, preview) kept instead of thrown away, and the calls that act on it: `read` /
//! `read_with_turns`, `refresh`, `set_name`, `compact`, `archive`, `unarchive`, `fork` (and, in
//! their own files, `review` and `call_mcp_tool`). Its turns (`run`, `turn`) are in
//! `thread_turns.rs`.
//!
//! A `Thread` is a cheap clone (the [`Codex`] and an `Arc` of the snapshot): clone it into as
//! many tasks as you like; turns on different threads run at once. On one thread the server
//! runs one turn at a time and folds a second `turn/start` into the running turn, so this client
//! never sends one while a turn of its own is running there: the second caller gets
//! [`Error::ThreadBusy`](crate::Error::ThreadBusy), waits its turn, or steers, as its
//! [`WhenBusy`](crate::WhenBusy) says (`api/lanes.rs`).

use super::codex::Codex;
use super::options::ThreadOptions;
use crate::error::Result;
use crate::proto::methods::{ThreadCompactStart, ThreadNameSet};
use crate::proto::{
    ApprovalsReviewer, AskForApproval, SandboxPolicy, ThreadCompactStartParams, ThreadForkResponse,
    ThreadResumeResponse, ThreadSetNameParams, ThreadStartResponse, ThreadStatus, Turn,
};
use crate::router::NotificationStream;
use std::sync::Arc;

/// The thread settings the server reports in the `thread/start` / `resume` / `fork` response.
#[derive(Debug, Clone)]
struct Settings {
    model: String,
    model_provider: String,
    approval_policy: AskForApproval,
    approvals_reviewer: ApprovalsReviewer,
    sandbox: SandboxPolicy,
    cwd: String,
    reasoning_effort: Option<String>,
    service_tier: Option<String>,
}

macro_rules! settings_from {
    ($response:expr) => {{
        let r = $response;
        (
            r.thread,
            Settings {
                model: r.model,
                model_provider: r.model_provider,
                approval_policy: r.approval_policy,
                approvals_reviewer: r.approvals_reviewer,
                sandbox: r.sandbox,
                cwd: r.cwd,
                reasoning_effort: r.reasoning_effort,
                service_tier: r.service_tier,
            },
        )
    }};
}

#[derive(Debug)]
struct Snapshot {
    info: crate::proto::Thread,
    settings: Option<Settings>,
}

/// One conversation on a [`Codex`].
///
/// The accessors read a snapshot: the server's answer to the call that produced this `Thread`
/// (start / resume / fork / unarchive), updated by [`refresh`](Self::refresh) and
/// [`set_name`](Self::set_name). Live changes (status, new turns) come from the server's events;
/// [`read`](Self::read) fetches the current state.
///
/// ```no_run
/// # async fn f(codex: codex_client::Codex) -> Result<(), codex_client::Error> {
/// use codex_client::ThreadOptions;
/// let thread = codex.threads().start(ThreadOptions::new().model("gpt-5")).await?;
/// println!("{} on {} ({:?})", thread.id(), thread.model().unwrap_or("?"), thread.sandbox());
/// let result = thread.run("Say hello in one sentence.").await?;
/// println!("{}", result.final_response().unwrap_or_default());
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Thread {
    codex: Codex,
    snapshot: Arc<Snapshot>,
}

impl std::fmt::Debug for Thread {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Thread")
            .field("id", &self.id())
            .field("model", &self.model())
            .field("status", &self.status())
            .finish_non_exhaustive()
    }
}

impl Thread {
    pub(crate) fn from_start(codex: Codex, r: ThreadStartResponse) -> Self {
        let (info, settings) = settings_from!(r);
        Self::new(codex, info, Some(settings))
    }

    pub(crate) fn from_resume(codex: Codex, r: ThreadResumeResponse) -> Self {
        let (info, settings) = settings_from!(r);
        Self::new(codex, info, Some(settings))
    }

    pub(crate) fn from_fork(codex: Codex, r: ThreadForkResponse) -> Self {
        let (info, settings) = settings_from!(r);
        Self::new(codex, info, Some(settings))
    }

    pub(crate) fn from_info(codex: Codex, info: crate::proto::Thread) -> Self {
        Self::new(codex, info, None)
    }

    fn new(codex: Codex, info: crate::proto::Thread, settings: Option<Settings>) -> Self {
        Thread {
            codex,
            snapshot: Arc::new(Snapshot { info, settings }),
        }
    }

    fn settings(&self) -> Option<&Settings> {
        self.snapshot.settings.as_ref()
    }

    /// The thread's id.
    ///
    /// ```no_run
    /// # fn f(thread: codex_client::Thread) { println!("{}", thread.id()); }
    /// ```
    pub fn id(&self) -> &str {
        &self.snapshot.info.id
    }

    /// The [`Codex`] this thread belongs to.
    ///
    /// ```no_run
    /// # fn f(thread: codex_client::Thread) { let _codex = thread.codex(); }
    /// ```
    pub fn codex(&self) -> &Codex {
        &self.codex
    }

    /// The thread object as the server last described it (everything, including fields this
    /// type has no accessor for).
    ///
    /// ```no_run
    /// # fn f(thread: codex_client::Thread) { println!("created at {}", thread.info().created_at); }
    /// ```
    pub fn info(&self) -> &crate::proto::Thread {
        &self.snapshot.info
    }

    /// The model (from the start / resume / fork response, else the thread object).
    ///
    /// ```no_run
    /// # fn f(thread: codex_client::Thread) { println!("{:?}", thread.model()); }
    /// ```
    pub fn model(&self) -> Option<&str> {
        self.settings()
            .map(|s| s.model.as_str())
            .or(self.snapshot.info.model.as_deref())
    }

    /// The model provider.
    ///
    /// ```no_run
    /// # fn f(thread: codex_client::Thread) { println!("{}", thread.model_provider()); }
    /// ```
    pub fn model_provider(&self) -> &str {
        self.settings()
            .map_or(&self.snapshot.info.model_provider, |s| &s.model_provider)
    }

    /// The approval policy (`None` for a thread obtained without start / resume / fork).
    ///
    /// ```no_run
    /// # fn f(thread: codex_client::Thread) { println!("{:?}", thread.approval_policy()); }
    /// ```
    pub fn approval_policy(&self) -> Option<&AskForApproval> {
        self.settings().map(|s| &s.approval_policy)
    }

    /// Who reviews approval requests.
    ///
    /// ```no_run
    /// # fn f(thread: codex_client::Thread) { println!("{:?}", thread.approvals_reviewer()); }
    /// ```
    pub fn approvals_reviewer(&self) -> Option<&ApprovalsReviewer> {
        self.settings().map(|s| &s.approvals_reviewer)
    }

    /// The sandbox policy in force.
    ///
    /// ```no_run
    /// # fn f(thread: codex_client::Thread) { println!("{:?}", thread.sandbox()); }
    /// ```
    pub fn sandbox(&self) -> Option<&SandboxPolicy> {
        self.settings().map(|s| &s.sandbox)
    }

    /// The working directory.
    ///
    /// ```no_run
    /// # fn f(thread: codex_client::Thread) { println!("{}", thread.cwd()); }
    /// ```
    pub fn cwd(&self) -> &str {
        self.settings().map_or(&self.snapshot.info.cwd, |s| &s.cwd)
    }

    /// The reasoning effort.
    ///
    /// ```no_run
    /// # fn f(thread: codex_client::Thread) { println!("{:?}", thread.reasoning_effort()); }
    /// ```
    pub fn reasoning_effort(&self) -> Option<&str> {
        self.settings()
            .and_then(|s| s.reasoning_effort.as_deref())
            .or(self.snapshot.info.reasoning_effort.as_deref())
    }

    /// The service tier.
    ///
    /// ```no_run
    /// # fn f(thread: codex_client::Thread) { println!("{:?}", thread.service_tier()); }
    /// ```
    pub fn service_tier(&self) -> Option<&str> {
        self.settings().and_then(|s| s.service_tier.as_deref())
    }

    /// The status when the snapshot was taken.
    ///
    /// ```no_run
    /// # fn f(thread: codex_client::Thread) { println!("{:?}", thread.status()); }
    /// ```
    pub fn status(&self) -> &ThreadStatus {
        &self.snapshot.info.status
    }

    /// The turns the server included (resume returns the history; start returns none).
    ///
    /// ```no_run
    /// # fn f(thread: codex_client::Thread) { println!("{} turns", thread.turns().len()); }
    /// ```
    pub fn turns(&self) -> &[Turn] {
        &self.snapshot.info.turns
    }

    /// The name, if one was set.
    ///
    /// ```no_run
    /// # fn f(thread: codex_client::Thread) { println!("{:?}", thread.name()); }
    /// ```
    pub fn name(&self) -> Option<&str> {
        self.snapshot.info.name.as_deref()
    }

    /// The preview (usually the first user message).
    ///
    /// ```no_run
    /// # fn f(thread: codex_client::Thread) { println!("{}", thread.preview()); }
    /// ```
    pub fn preview(&self) -> &str {
        &self.snapshot.info.preview
    }

    /// The thread as the server has it now (`thread/read`), without its turns (`turns` is
    /// empty). The snapshot of this `Thread` is not changed (see [`refresh`](Self::refresh)).
    ///
    /// ```no_run
    /// # async fn f(thread: codex_client::Thread) -> Result<(), codex_client::Error> {
    /// let now = thread.read().await?;
    /// println!("status {:?}", now.status);
    /// let history = thread.read_with_turns().await?;
    /// println!("{} turns", history.turns.len());
    /// # Ok(()) }
    /// ```
    pub async fn read(&self) -> Result<crate::proto::Thread> {
        self.codex.threads().read(self.id()).await
    }

    /// [`read`](Self::read), with every turn and its items.
    pub async fn read_with_turns(&self) -> Result<crate::proto::Thread> {
        self.codex.threads().read_with_turns(self.id()).await
    }

    /// Re-reads the thread (without turns) into this `Thread`'s snapshot. The settings from the
    /// start / resume / fork response are kept.
    ///
    /// ```no_run
    /// # async fn f(mut thread: codex_client::Thread) -> Result<(), codex_client::Error> {
    /// thread.refresh().await?;
    /// println!("{:?}", thread.status());
    /// # Ok(()) }
    /// ```
    pub async fn refresh(&mut self) -> Result<()> {
        let info = self.read().await?;
        self.snapshot = Arc::new(Snapshot {
            info,
            settings: self.snapshot.settings.clone(),
        });
        Ok(())
    }

    /// Names the thread (`thread/name/set`) and updates the snapshot's name.
    ///
    /// ```no_run
    /// # async fn f(mut thread: codex_client::Thread) -> Result<(), codex_client::Error> {
    /// thread.set_name("release notes").await?;
    /// assert_eq!(thread.name(), Some("release notes"));
    /// # Ok(()) }
    /// ```
    pub async fn set_name(&mut self, name: impl Into<String>) -> Result<()> {
        let name = name.into();
        let params = ThreadSetNameParams {
            name: name.clone(),
            thread_id: self.id().to_owned(),
        };
        self.codex.request::<ThreadNameSet>(params).await?;
        let mut info = self.snapshot.info.clone();
        info.name = Some(name);
        self.snapshot = Arc::new(Snapshot {
            info,
            settings: self.snapshot.settings.clone(),
        });
        Ok(())
    }

    /// Starts compacting the thread's history (`thread/compact/start`); the compaction runs as a
    /// turn of its own, reported through the thread's events.
    ///
    /// ```no_run
    /// # async fn f(thread: codex_client::Thread) -> Result<(), codex_client::Error> {
    /// thread.compact().await?;
    /// # Ok(()) }
    /// ```
    pub async fn compact(&self) -> Result<()> {
        let params = ThreadCompactStartParams {
            thread_id: self.id().to_owned(),
        };
        self.codex.request::<ThreadCompactStart>(params).await?;
        Ok(())
    }

    /// Archives the thread (`thread/archive`).
    ///
    /// ```no_run
    /// # async fn f(thread: codex_client::Thread) -> Result<(), codex_client::Error> {
    /// thread.archive().await?;
    /// # Ok(()) }
    /// ```
    pub async fn archive(&self) -> Result<()> {
        self.codex.threads().archive(self.id()).await
    }

    /// Unarchives the thread (`thread/unarchive`).
    ///
    /// ```no_run
    /// # async fn f(thread: codex_client::Thread) -> Result<(), codex_client::Error> {
    /// thread.unarchive().await?;
    /// # Ok(()) }
    /// ```
    pub async fn unarchive(&self) -> Result<()> {
        self.codex.threads().unarchive(self.id()).await.map(drop)
    }

    /// Forks the thread into a new one (`thread/fork`).
    ///
    /// ```no_run
    /// # async fn f(thread: codex_client::Thread) -> Result<(), codex_client::Error> {
    /// let copy = thread.fork(codex_client::ThreadOptions::new()).await?;
    /// assert_ne!(copy.id(), thread.id());
    /// # Ok(()) }
    /// ```
    pub async fn fork(&self, options: ThreadOptions) -> Result<Thread> {
        self.codex.threads().fork(self.id(), options).await
    }

    /// The thread's notifications that no turn stream takes (status changes, name updates,
    /// events of turns nobody streams, ...).
    ///
    /// ```no_run
    /// # async fn f(thread: codex_client::Thread) -> Result<(), codex_client::Error> {
    /// use futures::StreamExt;
    /// let mut events = thread.notifications();
    /// while let Some(n) = events.next().await {
    ///     println!("{}", n?.method());
    /// }
    /// # Ok(()) }
    /// ```
    pub fn notifications(&self) -> NotificationStream {
        self.codex.connection().subscribe_thread(self.id())
    }
}

//! [`Thread`]: one conversation, with what the server answered when it was started, resumed or
//! forked (model, provider, approval policy, sandbox, cwd, reasoning effort, status, turns,
//! name, preview) kept instead of thrown away, and the calls that act on it: turns (`run`,
//! `turn`), `read` / `read_with_turns`, `refresh`, `set_name`, `compact`, `archive`,
//! `unarchive`, `fork` (and, in their own files, `review` and `call_mcp_tool`).
//!
//! A `Thread` is a cheap clone (the [`Codex`] and an `Arc` of the snapshot): clone it into as
//! many tasks as you like; turns on different threads run at once. On one thread the server
//! runs one turn at a time and folds a second `turn/start` into the running turn, so this client
//! never sends one while a turn of its own is running there: the second caller gets
//! [`Error::ThreadBusy`](crate::Error::ThreadBusy), waits its turn, or steers, as its
//! [`WhenBusy`](crate::WhenBusy) says (`api/lanes.rs`).

use super::codex::Codex;
use super::input::Input;
use super::lanes::{LaneRef, LaneSlot};
use super::options::{ThreadOptions, TurnOptions, WhenBusy};
use super::result::TurnResult;
use super::turn::{TurnHandle, TurnOrigin};
use crate::connection::RequestOptions;
use crate::error::{Error, Result};
use crate::proto::methods::{ThreadCompactStart, ThreadNameSet, TurnStart};
use crate::proto::{
    ApprovalsReviewer, AskForApproval, SandboxPolicy, ThreadCompactStartParams, ThreadForkResponse,
    ThreadResumeResponse, ThreadSetNameParams, ThreadStartResponse, ThreadStatus, Turn,
};
use crate::router::{NotificationStream, SubscribeOptions};
use std::sync::Arc;
use tracing::Instrument;

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

    /// Runs a turn to its end and returns its result ([`TurnHandle::run`]).
    ///
    /// ```no_run
    /// # async fn f(thread: codex_client::Thread) -> Result<(), codex_client::Error> {
    /// let result = thread.run("What is 2 + 2?").await?;
    /// println!("{}", result.final_response().unwrap_or_default());
    /// # Ok(()) }
    /// ```
    pub async fn run(&self, input: impl Into<Input>) -> Result<TurnResult> {
        self.run_with(input, TurnOptions::default()).await
    }

    /// [`run`](Self::run) with turn options.
    ///
    /// ```no_run
    /// # async fn f(thread: codex_client::Thread) -> Result<(), codex_client::Error> {
    /// use codex_client::TurnOptions;
    /// let schema = serde_json::json!({"type": "object", "properties": {"n": {"type": "integer"}},
    ///     "required": ["n"], "additionalProperties": false});
    /// let result = thread.run_with("2 + 2?", TurnOptions::new().output_schema(schema)).await?;
    /// let answer: serde_json::Value = serde_json::from_str(result.final_response().unwrap_or("{}")).unwrap();
    /// # let _ = answer;
    /// # Ok(()) }
    /// ```
    pub async fn run_with(
        &self,
        input: impl Into<Input>,
        options: TurnOptions,
    ) -> Result<TurnResult> {
        let span = tracing::info_span!(
            "codex.run",
            thread_id = %self.id(),
            turn_id = tracing::field::Empty
        );
        let input = input.into();
        async {
            let turn = self.turn_with(input, options).await?;
            tracing::Span::current().record("turn_id", turn.id());
            turn.run().await
        }
        .instrument(span)
        .await
    }

    /// Starts a turn and returns its [`TurnHandle`] (a stream of its events). The route of the
    /// turn's events is in place before this returns: nothing is lost, even if the turn
    /// finishes at once.
    ///
    /// ```no_run
    /// # async fn f(thread: codex_client::Thread) -> Result<(), codex_client::Error> {
    /// use futures::StreamExt;
    /// let mut turn = thread.turn("Explain lib.rs").await?;
    /// while let Some(event) = turn.next().await {
    ///     let _ = event?;
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn turn(&self, input: impl Into<Input>) -> Result<TurnHandle> {
        self.turn_with(input, TurnOptions::default()).await
    }

    /// [`turn`](Self::turn) with turn options (model, effort, output schema, sandbox,
    /// approvals in the stream, ...).
    ///
    /// ```no_run
    /// # async fn f(thread: codex_client::Thread) -> Result<(), codex_client::Error> {
    /// use codex_client::{ApprovalMode, TurnEvent, TurnOptions};
    /// use futures::StreamExt;
    /// let options = TurnOptions::new().approval_mode(ApprovalMode::OnRequest).approvals_in_stream();
    /// let mut turn = thread.turn_with("Run the tests", options).await?;
    /// while let Some(event) = turn.next().await {
    ///     if let TurnEvent::ServerRequest(request) = event? {
    ///         request.accept()?; // or decline()
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn turn_with(
        &self,
        input: impl Into<Input>,
        options: TurnOptions,
    ) -> Result<TurnHandle> {
        let input = input.into();
        let params = options.to_params(self.id(), input.to_wire())?;
        let start = async {
            // A closed connection is the answer, whatever the thread's lane says (the turn that
            // holds it may still be winding down after the same close).
            if let Some(info) = self.codex.connection().closed() {
                return Err(Error::Closed(info));
            }
            let slot = match self.codex.lanes().lane(self.id()).try_claim() {
                Ok(slot) => slot,
                Err(busy) => match self.when_busy(busy, &input, &options).await? {
                    Busy::Claimed(slot) => slot,
                    Busy::Steered(handle) => return Ok(*handle),
                },
            };
            self.start_turn(params, slot, options.clone()).await
        };
        match options.start_timeout {
            None => start.await,
            Some(timeout) => tokio::time::timeout(timeout, start)
                .await
                .unwrap_or_else(|_| {
                    Err(Error::Timeout {
                        method: "turn/start".to_owned(),
                        timeout,
                    })
                }),
        }
    }

    /// The thread is running a turn of this client: what `options.when_busy` says to do.
    async fn when_busy(&self, busy: LaneRef, input: &Input, options: &TurnOptions) -> Result<Busy> {
        let state = busy.state();
        match options.when_busy {
            // A dropped turn being interrupted ends soon: wait for it rather than fail.
            WhenBusy::Refuse if state.cancelling => Ok(Busy::Claimed(busy.claim().await)),
            WhenBusy::Steer if !state.cancelling && state.turn_id.is_some() => {
                let turn_id = state.turn_id.expect("checked");
                let conn = self.codex.connection();
                // Subscribed before the steer, so the steered input's items are in the stream.
                let subscribe =
                    SubscribeOptions::new().server_requests(options.approvals_in_stream);
                let stream = conn.subscribe_turn_with(&turn_id, subscribe);
                let handle = TurnHandle::new(conn.clone(), self.id(), stream)
                    .origin_is(TurnOrigin::Steered)
                    .with_options(options);
                match handle.steer(input.clone()).await {
                    Ok(()) => {
                        tracing::debug!(thread_id = %self.id(), %turn_id, "thread busy: input steered into the running turn");
                        Ok(Busy::Steered(Box::new(handle)))
                    }
                    // The turn ended meanwhile (no active turn to steer): queue instead.
                    Err(Error::Rpc { .. }) => Ok(Busy::Claimed(busy.claim().await)),
                    Err(err) => Err(err),
                }
            }
            WhenBusy::Queue | WhenBusy::Steer => {
                tracing::debug!(thread_id = %self.id(), turn_id = ?state.turn_id, "thread busy: queued behind its running turn");
                Ok(Busy::Claimed(busy.claim().await))
            }
            _ => Err(Error::ThreadBusy {
                thread_id: self.id().to_owned(),
                turn_id: state.turn_id,
            }),
        }
    }

    /// Sends `turn/start` from a task of its own, so that a caller who stops waiting (a
    /// dropped future, `start_timeout`) does not leave a started turn running unseen: the task
    /// then drops the new turn's handle, which interrupts it.
    async fn start_turn(
        &self,
        mut params: crate::proto::TurnStartParams,
        slot: LaneSlot,
        options: TurnOptions,
    ) -> Result<TurnHandle> {
        // Marks the input, so the stream shows whether it started a turn or joined one.
        let client_id = params
            .client_user_message_id
            .get_or_insert_with(next_client_message_id)
            .clone();
        let conn = self.codex.connection().clone();
        let thread_id = self.id().to_owned();
        // If this future is dropped before the answer, the turn it started is being cancelled
        // (by the task below): the thread's next caller waits for that instead of failing.
        let abandon = slot.abandon_guard();
        let (tx, rx) = tokio::sync::oneshot::channel();
        tokio::spawn(async move {
            let subscribe = SubscribeOptions::new().server_requests(options.approvals_in_stream);
            let started = conn
                .request_turn::<TurnStart>(params, subscribe, RequestOptions::new())
                .await
                .map(|(_response, stream)| {
                    tracing::debug!(%thread_id, turn_id = %stream.turn_id(), "turn started");
                    TurnHandle::new(conn.clone(), &thread_id, stream)
                        .checking_join(client_id)
                        .holding(slot)
                        .with_options(&options)
                });
            if let Err(Ok(handle)) = tx.send(started) {
                tracing::debug!(turn_id = %handle.id(), "the caller stopped waiting for turn/start; interrupting the turn it started");
                drop(handle);
            }
        });
        let answer = rx.await;
        abandon.disarm();
        answer.unwrap_or_else(|_| {
            Err(Error::Protocol(
                "the task sending turn/start ended without an answer".to_owned(),
            ))
        })
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

/// What a busy thread led to.
enum Busy {
    /// The thread's lane, after waiting.
    Claimed(LaneSlot),
    /// A handle on the running turn, the input steered into it.
    Steered(Box<TurnHandle>),
}

/// A `clientUserMessageId` unique in this process, for `turn/start`.
fn next_client_message_id() -> String {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("codex-client-{}-{n}", std::process::id())
}

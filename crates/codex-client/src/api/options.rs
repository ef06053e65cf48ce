//! Builders for the parameters of threads ([`ThreadOptions`]: `thread/start`, `thread/resume`,
//! `thread/fork`) and turns ([`TurnOptions`]: `turn/start`), and the filters of
//! [`ListThreads`] (`thread/list`).
//!
//! Every setting is optional; an unset one is omitted from the request, which means "keep the
//! thread's current value" (or the server's configuration for a new thread). The presets
//! ([`ApprovalMode`], [`Sandbox`]) are resolved to wire values only when the request is built, so
//! a conflicting combination is refused before anything is sent.

use super::presets::{Access, ApprovalMode, Sandbox};
use crate::proto::{
    ApprovalsReviewer, AskForApproval, Personality, ReasoningEffort, ReasoningSummary, SandboxMode,
    SandboxPolicy, SortDirection, ThreadForkParams, ThreadListCwdFilter, ThreadListParams,
    ThreadResumeParams, ThreadSortKey, ThreadSourceKind, ThreadStartParams, TurnStartParams,
    UserInput,
};
use serde_json::{Map, Value};
use std::path::PathBuf;
use std::time::Duration;

/// The setters [`ThreadOptions`] and [`TurnOptions`] share (same meaning, same wire fields);
/// each type's own wire mapping stays in its `to_*params`.
macro_rules! shared_setters {
    ($ty:ident) => {
        impl $ty {
            /// The model (e.g. `gpt-5`).
            ///
            #[doc = concat!("```\nlet o = codex_client::", stringify!($ty), "::new().model(\"gpt-5\");\n# let _ = o;\n```")]
            pub fn model(mut self, model: impl Into<String>) -> Self {
                self.model = Some(model.into());
                self
            }

            /// The working directory of the agent.
            ///
            #[doc = concat!("```\nlet o = codex_client::", stringify!($ty), "::new().cwd(\"/work/repo\");\n# let _ = o;\n```")]
            pub fn cwd(mut self, cwd: impl Into<PathBuf>) -> Self {
                self.cwd = Some(cwd.into().to_string_lossy().into_owned());
                self
            }

            /// The personality.
            ///
            #[doc = concat!("```\nuse codex_client::protocol::Personality;\nlet o = codex_client::", stringify!($ty), "::new().personality(Personality::Pragmatic);\n# let _ = o;\n```")]
            pub fn personality(mut self, personality: Personality) -> Self {
                self.personality = Some(personality);
                self
            }

            /// The service tier (e.g. `flex`).
            ///
            #[doc = concat!("```\nlet o = codex_client::", stringify!($ty), "::new().service_tier(\"flex\");\n# let _ = o;\n```")]
            pub fn service_tier(mut self, tier: impl Into<String>) -> Self {
                self.service_tier = Some(tier.into());
                self
            }

            /// Approval preset (see [`ApprovalMode`]).
            ///
            #[doc = concat!("```\nlet o = codex_client::", stringify!($ty), "::new().approval_mode(codex_client::ApprovalMode::DenyAll);\n# let _ = o;\n```")]
            pub fn approval_mode(mut self, mode: ApprovalMode) -> Self {
                self.access.mode = Some(mode);
                self
            }

            /// Raw `approvalPolicy` (wins over the preset's).
            ///
            #[doc = concat!("```\nuse codex_client::protocol::AskForApproval;\nlet o = codex_client::", stringify!($ty), "::new().approval_policy(AskForApproval::Untrusted);\n# let _ = o;\n```")]
            pub fn approval_policy(mut self, policy: AskForApproval) -> Self {
                self.access.policy = Some(policy);
                self
            }

            /// Raw `approvalsReviewer` (wins over the preset's).
            ///
            #[doc = concat!("```\nuse codex_client::protocol::ApprovalsReviewer;\nlet o = codex_client::", stringify!($ty), "::new().approvals_reviewer(ApprovalsReviewer::User);\n# let _ = o;\n```")]
            pub fn approvals_reviewer(mut self, reviewer: ApprovalsReviewer) -> Self {
                self.access.reviewer = Some(reviewer);
                self
            }

            /// Sandbox preset (see [`Sandbox`]): a thread gets the `SandboxMode` string, a turn
            /// the `SandboxPolicy` object.
            ///
            #[doc = concat!("```\nlet o = codex_client::", stringify!($ty), "::new().sandbox(codex_client::Sandbox::WorkspaceWrite);\n# let _ = o;\n```")]
            pub fn sandbox(mut self, sandbox: Sandbox) -> Self {
                self.access.sandbox = Some(sandbox);
                self
            }
        }
    };
}

shared_setters!(ThreadOptions);
shared_setters!(TurnOptions);

/// Settings of a thread, for [`Threads::start`](crate::api::Threads::start),
/// [`resume`](crate::api::Threads::resume) and [`fork`](crate::api::Threads::fork).
///
/// Settings a call does not take are ignored by it: `ephemeral` and `service_name` only apply to
/// start (and `ephemeral` to fork), `personality` to start and resume.
///
/// ```
/// use codex_client::{ApprovalMode, Sandbox, ThreadOptions};
/// let options = ThreadOptions::new()
///     .model("gpt-5")
///     .cwd("/work/repo")
///     .approval_mode(ApprovalMode::OnRequest)
///     .sandbox(Sandbox::WorkspaceWrite)
///     .developer_instructions("Answer in one sentence.")
///     .config("model_reasoning_effort", "low");
/// # let _ = options;
/// ```
#[derive(Debug, Clone, Default)]
pub struct ThreadOptions {
    model: Option<String>,
    model_provider: Option<String>,
    cwd: Option<String>,
    access: Access,
    sandbox_mode: Option<SandboxMode>,
    base_instructions: Option<String>,
    developer_instructions: Option<String>,
    personality: Option<Personality>,
    service_tier: Option<String>,
    service_name: Option<String>,
    config: Option<Map<String, Value>>,
    ephemeral: Option<bool>,
}

impl ThreadOptions {
    /// Nothing set: the server's configuration decides.
    ///
    /// ```
    /// let options = codex_client::ThreadOptions::new();
    /// # let _ = options;
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// The model provider (a key of `model_providers` in the Codex config).
    ///
    /// ```
    /// let o = codex_client::ThreadOptions::new().model_provider("openai");
    /// # let _ = o;
    /// ```
    pub fn model_provider(mut self, provider: impl Into<String>) -> Self {
        self.model_provider = Some(provider.into());
        self
    }

    /// Raw sandbox mode (wins over the preset).
    ///
    /// ```
    /// use codex_client::protocol::SandboxMode;
    /// let o = codex_client::ThreadOptions::new().sandbox_mode(SandboxMode::ReadOnly);
    /// # let _ = o;
    /// ```
    pub fn sandbox_mode(mut self, mode: SandboxMode) -> Self {
        self.sandbox_mode = Some(mode);
        self
    }

    /// Replaces the built-in base instructions.
    ///
    /// ```
    /// let o = codex_client::ThreadOptions::new().base_instructions("You are terse.");
    /// # let _ = o;
    /// ```
    pub fn base_instructions(mut self, text: impl Into<String>) -> Self {
        self.base_instructions = Some(text.into());
        self
    }

    /// Adds developer instructions.
    ///
    /// ```
    /// let o = codex_client::ThreadOptions::new().developer_instructions("Use British spelling.");
    /// # let _ = o;
    /// ```
    pub fn developer_instructions(mut self, text: impl Into<String>) -> Self {
        self.developer_instructions = Some(text.into());
        self
    }

    /// The service name recorded with the thread (start only).
    ///
    /// ```
    /// let o = codex_client::ThreadOptions::new().service_name("nightly-bot");
    /// # let _ = o;
    /// ```
    pub fn service_name(mut self, name: impl Into<String>) -> Self {
        self.service_name = Some(name.into());
        self
    }

    /// One config override (`config` object: a dotted key of the Codex config and its value).
    ///
    /// ```
    /// let o = codex_client::ThreadOptions::new().config("model_reasoning_effort", "high");
    /// # let _ = o;
    /// ```
    pub fn config(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.config
            .get_or_insert_with(Map::new)
            .insert(key.into(), value.into());
        self
    }

    /// Every config override at once (replaces earlier ones).
    ///
    /// ```
    /// let mut map = serde_json::Map::new();
    /// map.insert("model_verbosity".into(), "low".into());
    /// let o = codex_client::ThreadOptions::new().config_overrides(map);
    /// # let _ = o;
    /// ```
    pub fn config_overrides(mut self, config: Map<String, Value>) -> Self {
        self.config = Some(config);
        self
    }

    /// An ephemeral thread is not persisted (start and fork only).
    ///
    /// ```
    /// let o = codex_client::ThreadOptions::new().ephemeral(true);
    /// # let _ = o;
    /// ```
    pub fn ephemeral(mut self, ephemeral: bool) -> Self {
        self.ephemeral = Some(ephemeral);
        self
    }

    fn resolved(
        &self,
    ) -> crate::Result<(
        Option<AskForApproval>,
        Option<ApprovalsReviewer>,
        Option<SandboxMode>,
    )> {
        let (policy, reviewer, sandbox) = self.access.resolve()?;
        let sandbox = self.sandbox_mode.clone().or(sandbox.map(Sandbox::mode));
        Ok((policy, reviewer, sandbox))
    }

    /// The `thread/start` parameters.
    ///
    /// ```
    /// let params = codex_client::ThreadOptions::new().model("m").to_start_params()?;
    /// assert_eq!(params.model.as_deref(), Some("m"));
    /// # Ok::<(), codex_client::Error>(())
    /// ```
    pub fn to_start_params(&self) -> crate::Result<ThreadStartParams> {
        let (approval_policy, approvals_reviewer, sandbox) = self.resolved()?;
        Ok(ThreadStartParams {
            approval_policy,
            approvals_reviewer,
            base_instructions: self.base_instructions.clone(),
            config: self.config.clone(),
            cwd: self.cwd.clone(),
            developer_instructions: self.developer_instructions.clone(),
            ephemeral: self.ephemeral,
            model: self.model.clone(),
            model_provider: self.model_provider.clone(),
            personality: self.personality.clone(),
            sandbox,
            service_name: self.service_name.clone(),
            service_tier: self.service_tier.clone(),
            ..ThreadStartParams::default()
        })
    }

    /// The `thread/resume` parameters for `thread_id`.
    ///
    /// ```
    /// let params = codex_client::ThreadOptions::new().to_resume_params("thr_1")?;
    /// assert_eq!(params.thread_id, "thr_1");
    /// # Ok::<(), codex_client::Error>(())
    /// ```
    pub fn to_resume_params(&self, thread_id: &str) -> crate::Result<ThreadResumeParams> {
        let (approval_policy, approvals_reviewer, sandbox) = self.resolved()?;
        Ok(ThreadResumeParams {
            approval_policy,
            approvals_reviewer,
            base_instructions: self.base_instructions.clone(),
            config: self.config.clone(),
            cwd: self.cwd.clone(),
            developer_instructions: self.developer_instructions.clone(),
            exclude_turns: None,
            model: self.model.clone(),
            model_provider: self.model_provider.clone(),
            personality: self.personality.clone(),
            sandbox,
            service_tier: self.service_tier.clone(),
            thread_id: thread_id.to_owned(),
            #[cfg(feature = "experimental")]
            history: None,
            #[cfg(feature = "experimental")]
            initial_turns_page: None,
            #[cfg(feature = "experimental")]
            path: None,
            #[cfg(feature = "experimental")]
            permissions: None,
            #[cfg(feature = "experimental")]
            runtime_workspace_roots: None,
        })
    }

    /// The `thread/fork` parameters for `thread_id`.
    ///
    /// ```
    /// let params = codex_client::ThreadOptions::new().ephemeral(true).to_fork_params("thr_1")?;
    /// assert_eq!(params.ephemeral, Some(true));
    /// # Ok::<(), codex_client::Error>(())
    /// ```
    pub fn to_fork_params(&self, thread_id: &str) -> crate::Result<ThreadForkParams> {
        let (approval_policy, approvals_reviewer, sandbox) = self.resolved()?;
        Ok(ThreadForkParams {
            approval_policy,
            approvals_reviewer,
            base_instructions: self.base_instructions.clone(),
            config: self.config.clone(),
            cwd: self.cwd.clone(),
            developer_instructions: self.developer_instructions.clone(),
            ephemeral: self.ephemeral,
            exclude_turns: None,
            last_turn_id: None,
            model: self.model.clone(),
            model_provider: self.model_provider.clone(),
            sandbox,
            service_tier: self.service_tier.clone(),
            thread_id: thread_id.to_owned(),
            thread_source: None,
            #[cfg(feature = "experimental")]
            before_turn_id: None,
            #[cfg(feature = "experimental")]
            defer_goal_continuation: None,
            #[cfg(feature = "experimental")]
            experimental_prediction_mode: None,
            #[cfg(feature = "experimental")]
            path: None,
            #[cfg(feature = "experimental")]
            permissions: None,
            #[cfg(feature = "experimental")]
            runtime_workspace_roots: None,
        })
    }
}

/// Settings of one turn, for [`Thread::turn_with`](crate::Thread::turn_with) and
/// [`Thread::run_with`](crate::Thread::run_with). What a turn sets (model, approvals, sandbox,
/// cwd, ...) persists for the thread's later turns — the server's rule.
///
/// ```
/// use codex_client::{Sandbox, TurnOptions};
/// use codex_client::protocol::ReasoningSummary;
/// let options = TurnOptions::new()
///     .model("gpt-5")
///     .effort("high")
///     .summary(ReasoningSummary::Concise)
///     .sandbox(Sandbox::WorkspaceWrite)
///     .output_schema(serde_json::json!({"type": "object"}))
///     .approvals_in_stream();
/// # let _ = options;
/// ```
#[derive(Debug, Clone, Default)]
pub struct TurnOptions {
    model: Option<String>,
    effort: Option<ReasoningEffort>,
    summary: Option<ReasoningSummary>,
    output_schema: Option<Value>,
    personality: Option<Personality>,
    cwd: Option<String>,
    service_tier: Option<String>,
    access: Access,
    sandbox_policy: Option<SandboxPolicy>,
    pub(crate) approvals_in_stream: bool,
    pub(crate) start_timeout: Option<Duration>,
    pub(crate) inactivity_timeout: Option<Duration>,
    pub(crate) discard_items: bool,
    pub(crate) when_busy: WhenBusy,
    pub(crate) max_retries: Option<u32>,
    pub(crate) retry_for: Option<Duration>,
    source: Option<String>,
    turn_service_tier: Option<String>,
}

/// What [`Thread::turn_with`](crate::Thread::turn_with) / [`run_with`](crate::Thread::run_with)
/// do when a turn of this client is still running on the thread
/// ([`TurnOptions::when_busy`]). The app-server itself never runs two turns of one thread at
/// once: a `turn/start` on a busy thread is folded into the running turn, so without this
/// choice two prompts would silently share one turn and one answer.
///
/// ```
/// use codex_client::{TurnOptions, WhenBusy};
/// let queued = TurnOptions::new().when_busy(WhenBusy::Queue);
/// assert_eq!(WhenBusy::default(), WhenBusy::Refuse);
/// # let _ = queued;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum WhenBusy {
    /// Fail at once with [`Error::ThreadBusy`](crate::Error::ThreadBusy), before anything is
    /// sent (the default). A turn whose handle was dropped is being interrupted: then this waits
    /// for it to end instead of failing.
    #[default]
    Refuse,
    /// Wait for the running turn (and the turns queued before this one, first come first
    /// served) to complete, then start a turn of its own. `start_timeout` bounds the wait too.
    Queue,
    /// Add the input to the running turn (`turn/steer`) and return a handle on that turn
    /// ([`TurnOrigin::Steered`](crate::TurnOrigin::Steered)): its result is the running turn's,
    /// from the steer on. When no turn id is known yet (the running turn is still being
    /// started), or the turn ends before the steer lands, this queues instead.
    Steer,
}

impl TurnOptions {
    /// Nothing set: the thread's settings apply.
    ///
    /// ```
    /// let o = codex_client::TurnOptions::new();
    /// # let _ = o;
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Reasoning effort (`minimal`, `low`, `medium`, `high`, ... — the model decides which).
    ///
    /// ```
    /// let o = codex_client::TurnOptions::new().effort("low");
    /// # let _ = o;
    /// ```
    pub fn effort(mut self, effort: impl Into<ReasoningEffort>) -> Self {
        self.effort = Some(effort.into());
        self
    }

    /// Reasoning summary.
    ///
    /// ```
    /// let o = codex_client::TurnOptions::new().summary(codex_client::protocol::ReasoningSummary::Auto);
    /// # let _ = o;
    /// ```
    pub fn summary(mut self, summary: ReasoningSummary) -> Self {
        self.summary = Some(summary);
        self
    }

    /// A JSON Schema the final answer must follow (the final message is then the JSON
    /// document).
    ///
    /// ```
    /// let o = codex_client::TurnOptions::new().output_schema(serde_json::json!({
    ///     "type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"],
    ///     "additionalProperties": false
    /// }));
    /// # let _ = o;
    /// ```
    pub fn output_schema(mut self, schema: Value) -> Self {
        self.output_schema = Some(schema);
        self
    }

    /// Raw sandbox policy (wins over the preset).
    ///
    /// ```
    /// let o = codex_client::TurnOptions::new().sandbox_policy(codex_client::protocol::SandboxPolicy::DangerFullAccess);
    /// # let _ = o;
    /// ```
    pub fn sandbox_policy(mut self, policy: SandboxPolicy) -> Self {
        self.sandbox_policy = Some(policy);
        self
    }

    /// Deliver this turn's server requests (approvals, user input, ...) in the turn's own stream
    /// as [`TurnEvent::ServerRequest`](crate::TurnEvent::ServerRequest), for the caller to
    /// answer, instead of to the client-wide handler. A request dropped unanswered gets the
    /// fail-closed answer; so does one still pending when [`TurnHandle::run`](crate::TurnHandle::run)
    /// consumes the stream.
    ///
    /// ```
    /// let o = codex_client::TurnOptions::new().approvals_in_stream();
    /// # let _ = o;
    /// ```
    pub fn approvals_in_stream(mut self) -> Self {
        self.approvals_in_stream = true;
        self
    }

    /// Timeout of the `turn/start` request itself (not of the turn), instead of the
    /// connection's default.
    ///
    /// ```
    /// let o = codex_client::TurnOptions::new().start_timeout(std::time::Duration::from_secs(10));
    /// # let _ = o;
    /// ```
    pub fn start_timeout(mut self, timeout: Duration) -> Self {
        self.start_timeout = Some(timeout);
        self
    }

    /// The turn watchdog: when the turn's stream has had no event for `timeout`, the handle
    /// asks the server for its record of the turn (`thread/read` with turns) instead of waiting
    /// on. If the server says the turn finished, the stream ends with a `turn/completed` built
    /// from that record (so [`TurnHandle::run`](crate::TurnHandle::run) returns the real
    /// outcome); otherwise — still in progress, unknown to the server, or no answer — with
    /// [`Error::TurnTimeout`](crate::Error::TurnTimeout). Either way the stream never waits
    /// forever, even when the server loses a turn's `turn/completed` (it has happened in some
    /// app-server versions).
    ///
    /// Off by default. Pick a timeout longer than the longest silence a healthy turn can have:
    /// a long tool call, or an approval waiting for you (for approvals the connection's
    /// server-request timeout bounds that wait). After a `TurnTimeout` the turn may still be
    /// running on the server: dropping the handle interrupts it (see
    /// [`TurnHandle`](crate::TurnHandle)); [`detach`](crate::TurnHandle::detach) it to let it
    /// run on.
    ///
    /// ```
    /// let o = codex_client::TurnOptions::new().inactivity_timeout(std::time::Duration::from_secs(600));
    /// # let _ = o;
    /// ```
    pub fn inactivity_timeout(mut self, timeout: Duration) -> Self {
        self.inactivity_timeout = Some(timeout);
        self
    }

    /// Whether the [`TurnHandle`](crate::TurnHandle) keeps a copy of every completed item for
    /// its result ([`run`](crate::TurnHandle::run), [`snapshot`](crate::TurnHandle::snapshot)):
    /// `true` by default. A program that consumes the stream itself and never asks for the
    /// result can say `false`: the handle then keeps only the turn's status, usage, times,
    /// errors and the turn as `turn/completed` carries it, and the result's `items` and
    /// `open_items` stay empty ([`final_response`](crate::TurnResult::final_response) then
    /// searches the server's summary in `turn/completed`, which may be empty). What that saves
    /// is the size of the turn's items — a long answer or a command's whole output — for as
    /// long as the handle lives.
    ///
    /// ```
    /// let o = codex_client::TurnOptions::new().keep_items(false);
    /// # let _ = o;
    /// ```
    pub fn keep_items(mut self, keep: bool) -> Self {
        self.discard_items = !keep;
        self
    }

    /// What to do when a turn of this client is still running on the thread (see
    /// [`WhenBusy`]; default [`WhenBusy::Refuse`]: an error before anything is sent).
    ///
    /// ```
    /// use codex_client::{TurnOptions, WhenBusy};
    /// let o = TurnOptions::new().when_busy(WhenBusy::Queue);
    /// # let _ = o;
    /// ```
    pub fn when_busy(mut self, choice: WhenBusy) -> Self {
        self.when_busy = choice;
        self
    }

    /// Gives up on the turn when the server has retried its model request more than `retries`
    /// times (`error` notifications with `willRetry: true`, e.g. `Reconnecting... 2/5` when the
    /// model is unreachable or the user is not logged in): the turn is interrupted and the
    /// stream ends with [`Error::TurnRetriesExhausted`](crate::Error::TurnRetriesExhausted).
    /// Without a bound the server's own retry policy decides (with unbounded connection
    /// retries enabled, that can be for ever). Each retry is logged (`tracing` warning with the
    /// turn id) and kept in [`TurnResult::errors`](crate::TurnResult::errors) either way.
    ///
    /// ```
    /// let o = codex_client::TurnOptions::new().max_retries(3);
    /// # let _ = o;
    /// ```
    pub fn max_retries(mut self, retries: u32) -> Self {
        self.max_retries = Some(retries);
        self
    }

    /// Gives up on the turn when the server is still retrying `duration` after the turn's
    /// first retrying `error` notification (timed by the handle while it is polled): the turn is
    /// interrupted and the stream ends with
    /// [`Error::TurnRetriesExhausted`](crate::Error::TurnRetriesExhausted). Combines with
    /// [`max_retries`](Self::max_retries): whichever comes first.
    ///
    /// ```
    /// let o = codex_client::TurnOptions::new().retry_for(std::time::Duration::from_secs(60));
    /// # let _ = o;
    /// ```
    pub fn retry_for(mut self, duration: Duration) -> Self {
        self.retry_for = Some(duration);
        self
    }

    /// The turn's source classification (`turnTrigger` on the wire; Python's `source`), for
    /// the caller that starts the turn. Ignored when the input is steered into a running turn.
    ///
    /// ```
    /// use codex_client::{Input, TurnOptions};
    /// let params = TurnOptions::new().source("ci-bot").to_params("thr_1", Input::from("hi").to_wire())?;
    /// assert_eq!(params.turn_trigger.as_deref(), Some("ci-bot"));
    /// # Ok::<(), codex_client::Error>(())
    /// ```
    pub fn source(mut self, source: impl Into<String>) -> Self {
        self.source = Some(source.into());
        self
    }

    /// The service tier of this turn only (`serviceTierForTurn`; Python's `turn_service_tier`):
    /// unlike [`service_tier`](Self::service_tier) it does not change the thread's tier.
    /// `"default"` asks for standard speed.
    ///
    /// ```
    /// use codex_client::{Input, TurnOptions};
    /// let params = TurnOptions::new().turn_service_tier("flex").to_params("thr_1", Input::from("hi").to_wire())?;
    /// assert_eq!(params.service_tier_for_turn.as_deref(), Some("flex"));
    /// assert_eq!(params.service_tier, None);
    /// # Ok::<(), codex_client::Error>(())
    /// ```
    pub fn turn_service_tier(mut self, tier: impl Into<String>) -> Self {
        self.turn_service_tier = Some(tier.into());
        self
    }

    /// The `turn/start` parameters for `thread_id` and `input`.
    ///
    /// ```
    /// use codex_client::{Input, TurnOptions};
    /// let params = TurnOptions::new().model("m").to_params("thr_1", Input::from("hi").to_wire())?;
    /// assert_eq!(params.thread_id, "thr_1");
    /// # Ok::<(), codex_client::Error>(())
    /// ```
    pub fn to_params(
        &self,
        thread_id: &str,
        input: Vec<UserInput>,
    ) -> crate::Result<TurnStartParams> {
        let (approval_policy, approvals_reviewer, sandbox) = self.access.resolve()?;
        let sandbox_policy = self.sandbox_policy.clone().or(sandbox.map(Sandbox::policy));
        Ok(TurnStartParams {
            approval_policy,
            approvals_reviewer,
            client_user_message_id: None,
            cwd: self.cwd.clone(),
            disabled_plugin_ids: None,
            effort: self.effort.clone(),
            input,
            model: self.model.clone(),
            output_schema: self.output_schema.clone(),
            parent_turn_id: None,
            personality: self.personality.clone(),
            root_turn_id: None,
            sandbox_policy,
            service_tier: self.service_tier.clone(),
            service_tier_for_turn: self.turn_service_tier.clone(),
            summary: self.summary.clone(),
            thread_id: thread_id.to_owned(),
            tool_output: None,
            turn_trigger: self.source.clone(),
            #[cfg(feature = "experimental")]
            additional_context: None,
            #[cfg(feature = "experimental")]
            collaboration_mode: None,
            #[cfg(feature = "experimental")]
            cyber_access_program: None,
            #[cfg(feature = "experimental")]
            environments: None,
            #[cfg(feature = "experimental")]
            multi_agent_mode: None,
            #[cfg(feature = "experimental")]
            permissions: None,
            #[cfg(feature = "experimental")]
            responsesapi_client_metadata: None,
            #[cfg(feature = "experimental")]
            runtime_workspace_roots: None,
        })
    }
}

/// Filters and paging of [`Threads::list`](crate::api::Threads::list) (`thread/list`).
///
/// ```
/// use codex_client::ListThreads;
/// let query = ListThreads::new().limit(20).search("refactor").archived(false);
/// # let _ = query;
/// ```
#[derive(Debug, Clone, Default)]
pub struct ListThreads {
    params: ThreadListParams,
}

impl ListThreads {
    /// No filter, the server's default page size and order.
    ///
    /// ```
    /// let q = codex_client::ListThreads::new();
    /// # let _ = q;
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Page size.
    ///
    /// ```
    /// let q = codex_client::ListThreads::new().limit(10);
    /// # let _ = q;
    /// ```
    pub fn limit(mut self, limit: u32) -> Self {
        self.params.limit = Some(limit);
        self
    }

    /// Continue after a previous page ([`ThreadPage::next_cursor`](crate::ThreadPage::next_cursor)).
    ///
    /// The app-server's cursor (0.163.0) is a timestamp with one-second resolution: threads
    /// whose sort timestamp falls in the same second as the last thread of the previous page are
    /// not returned on the next one. Use a page size that ends between seconds, or a larger one.
    ///
    /// ```
    /// let q = codex_client::ListThreads::new().cursor("abc");
    /// # let _ = q;
    /// ```
    pub fn cursor(mut self, cursor: impl Into<String>) -> Self {
        self.params.cursor = Some(cursor.into());
        self
    }

    /// Archived threads only (`true`) or unarchived only (`false`, the server's default).
    ///
    /// ```
    /// let q = codex_client::ListThreads::new().archived(true);
    /// # let _ = q;
    /// ```
    pub fn archived(mut self, archived: bool) -> Self {
        self.params.archived = Some(archived);
        self
    }

    /// Threads whose working directory is `cwd`.
    ///
    /// ```
    /// let q = codex_client::ListThreads::new().cwd("/work/repo");
    /// # let _ = q;
    /// ```
    pub fn cwd(mut self, cwd: impl Into<PathBuf>) -> Self {
        self.params.cwd = Some(ThreadListCwdFilter::String(
            cwd.into().to_string_lossy().into_owned(),
        ));
        self
    }

    /// Threads whose title or preview contains `term`.
    ///
    /// ```
    /// let q = codex_client::ListThreads::new().search("bug");
    /// # let _ = q;
    /// ```
    pub fn search(mut self, term: impl Into<String>) -> Self {
        self.params.search_term = Some(term.into());
        self
    }

    /// Threads of these model providers.
    ///
    /// ```
    /// let q = codex_client::ListThreads::new().model_providers(["openai"]);
    /// # let _ = q;
    /// ```
    pub fn model_providers<I, S>(mut self, providers: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.params.model_providers = Some(providers.into_iter().map(Into::into).collect());
        self
    }

    /// Threads created by these kinds of source.
    ///
    /// ```
    /// use codex_client::protocol::ThreadSourceKind;
    /// let q = codex_client::ListThreads::new().source_kinds([ThreadSourceKind::AppServer]);
    /// # let _ = q;
    /// ```
    pub fn source_kinds(mut self, kinds: impl IntoIterator<Item = ThreadSourceKind>) -> Self {
        self.params.source_kinds = Some(kinds.into_iter().collect());
        self
    }

    /// Sort key and direction.
    ///
    /// ```
    /// use codex_client::protocol::{SortDirection, ThreadSortKey};
    /// let q = codex_client::ListThreads::new().sort(ThreadSortKey::CreatedAt, SortDirection::Asc);
    /// # let _ = q;
    /// ```
    pub fn sort(mut self, key: ThreadSortKey, direction: SortDirection) -> Self {
        self.params.sort_key = Some(key);
        self.params.sort_direction = Some(direction);
        self
    }

    /// Everything else of `thread/list`, raw.
    ///
    /// ```
    /// let q = codex_client::ListThreads::new().with_params(|p| p.use_state_db_only = Some(true));
    /// # let _ = q;
    /// ```
    pub fn with_params(mut self, edit: impl FnOnce(&mut ThreadListParams)) -> Self {
        edit(&mut self.params);
        self
    }

    /// The `thread/list` parameters.
    ///
    /// ```
    /// assert_eq!(codex_client::ListThreads::new().limit(3).to_params().limit, Some(3));
    /// ```
    pub fn to_params(&self) -> ThreadListParams {
        self.params.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn thread_options_map_presets_to_the_thread_wire_types() {
        let params = ThreadOptions::new()
            .approval_mode(ApprovalMode::OnRequest)
            .sandbox(Sandbox::WorkspaceWrite)
            .config("a.b", 1)
            .to_start_params()
            .unwrap();
        let v = serde_json::to_value(&params).unwrap();
        assert_eq!(v["approvalPolicy"], "on-request");
        assert_eq!(v["approvalsReviewer"], "user");
        assert_eq!(v["sandbox"], "workspace-write");
        assert_eq!(v["config"], json!({"a.b": 1}));
        assert_eq!(
            serde_json::to_value(ThreadOptions::new().to_start_params().unwrap()).unwrap(),
            json!({}),
            "nothing set, nothing sent"
        );
    }

    #[test]
    fn turn_options_map_presets_to_the_turn_wire_types() {
        let params = TurnOptions::new()
            .sandbox(Sandbox::ReadOnly)
            .approval_mode(ApprovalMode::DenyAll)
            .output_schema(json!({"type": "object"}))
            .to_params("t", vec![])
            .unwrap();
        let v = serde_json::to_value(&params).unwrap();
        assert_eq!(v["sandboxPolicy"]["type"], "readOnly");
        assert_eq!(v["approvalPolicy"], "never");
        assert!(v.get("approvalsReviewer").is_none());
        assert_eq!(v["outputSchema"], json!({"type": "object"}));
        let err = TurnOptions::new()
            .approval_mode(ApprovalMode::DangerouslyBypass)
            .sandbox(Sandbox::ReadOnly)
            .to_params("t", vec![])
            .unwrap_err();
        assert!(matches!(err, crate::Error::InvalidOptions(_)), "{err}");
    }
}

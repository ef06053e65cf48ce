//! [`TurnSettings`] (the wire settings of `turn/start`) and [`TurnOptions`] (what the client
//! does around a turn, carrying its [`TurnSettings`]), and [`WhenBusy`].

use super::shared_setters;
use crate::api::presets::{Access, Sandbox};
use crate::error::Result;
use crate::proto::UserInput;
use crate::proto::{
    Personality, ReasoningEffort, ReasoningSummary, SandboxPolicy, TurnStartParams,
};
use serde_json::Value;
use std::time::Duration;

/// What one turn asks of the server: the settings `turn/start` carries (model, effort, summary,
/// output schema, approvals, sandbox, cwd, personality, service tier, ...). What a turn sets
/// persists for the thread's later turns — the server's rule — except
/// [`turn_service_tier`](Self::turn_service_tier). Give it to a turn through
/// [`TurnOptions::settings`], or directly: a `TurnSettings` is a [`TurnOptions`] with the
/// client's defaults.
///
/// ```no_run
/// # async fn f(thread: codex_client::Thread) -> Result<(), codex_client::Error> {
/// use codex_client::{Sandbox, TurnSettings};
/// use codex_client::protocol::ReasoningSummary;
/// let schema = serde_json::json!({"type": "object", "properties": {"n": {"type": "integer"}},
///     "required": ["n"], "additionalProperties": false});
/// let settings = TurnSettings::new()
///     .effort("high")
///     .summary(ReasoningSummary::Concise)
///     .sandbox(Sandbox::ReadOnly)
///     .output_schema(schema);
/// let result = thread.run_with("2 + 2 as {\"n\": ...}", settings).await?;
/// println!("{}", result.final_response().unwrap_or("{}"));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default)]
pub struct TurnSettings {
    model: Option<String>,
    effort: Option<ReasoningEffort>,
    summary: Option<ReasoningSummary>,
    output_schema: Option<Value>,
    personality: Option<Personality>,
    cwd: Option<String>,
    service_tier: Option<String>,
    access: Access,
    sandbox_policy: Option<SandboxPolicy>,
    source: Option<String>,
    turn_service_tier: Option<String>,
}

shared_setters!(TurnSettings);

impl TurnSettings {
    /// Nothing set: the thread's settings apply.
    pub fn new() -> Self {
        Self::default()
    }

    /// Reasoning effort (`minimal`, `low`, `medium`, `high`, ... — the model decides which).
    pub fn effort(mut self, effort: impl Into<ReasoningEffort>) -> Self {
        self.effort = Some(effort.into());
        self
    }

    /// Reasoning summary.
    pub fn summary(mut self, summary: ReasoningSummary) -> Self {
        self.summary = Some(summary);
        self
    }

    /// A JSON Schema the final answer must follow (the final message is then the JSON
    /// document).
    pub fn output_schema(mut self, schema: Value) -> Self {
        self.output_schema = Some(schema);
        self
    }

    /// Raw sandbox policy (wins over the preset).
    pub fn sandbox_policy(mut self, policy: SandboxPolicy) -> Self {
        self.sandbox_policy = Some(policy);
        self
    }

    /// The turn's source classification (`turnTrigger` on the wire; Python's `source`).
    /// A turn that is steered into a running one ([`WhenBusy::Steer`]) sends no `turn/start`,
    /// so it has no source of its own.
    pub fn source(mut self, source: impl Into<String>) -> Self {
        self.source = Some(source.into());
        self
    }

    /// The service tier of this turn only (`serviceTierForTurn`; Python's `turn_service_tier`):
    /// unlike [`service_tier`](Self::service_tier) it does not change the thread's tier.
    /// `"default"` asks for standard speed.
    pub fn turn_service_tier(mut self, tier: impl Into<String>) -> Self {
        self.turn_service_tier = Some(tier.into());
        self
    }

    /// The `turn/start` parameters for `thread_id` and `input`.
    ///
    /// ```
    /// use codex_client::{Input, TurnSettings};
    /// let params = TurnSettings::new()
    ///     .source("ci-bot")
    ///     .turn_service_tier("flex")
    ///     .to_params("thr_1", Input::from("hi").to_wire())?;
    /// assert_eq!(params.thread_id, "thr_1");
    /// assert_eq!(params.turn_trigger.as_deref(), Some("ci-bot"));
    /// assert_eq!(params.service_tier_for_turn.as_deref(), Some("flex"));
    /// assert_eq!(params.service_tier, None, "the thread's tier is unchanged");
    /// # Ok::<(), codex_client::Error>(())
    /// ```
    pub fn to_params(&self, thread_id: &str, input: Vec<UserInput>) -> Result<TurnStartParams> {
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

/// How the client runs one turn, for [`Thread::turn_with`](crate::Thread::turn_with) and
/// [`Thread::run_with`](crate::Thread::run_with): timeouts, retry bounds, what the handle keeps,
/// what happens on a busy thread, where approvals go — none of it is sent — plus the turn's
/// wire settings ([`settings`](Self::settings), a [`TurnSettings`]).
///
/// ```no_run
/// # async fn f(thread: codex_client::Thread) -> Result<(), codex_client::Error> {
/// use codex_client::{ApprovalMode, TurnEvent, TurnOptions, TurnSettings, WhenBusy};
/// use futures::StreamExt;
/// use std::time::Duration;
/// let options = TurnOptions::new()
///     .settings(TurnSettings::new().effort("low").approval_mode(ApprovalMode::OnRequest))
///     .approvals_in_stream()
///     .when_busy(WhenBusy::Queue)
///     .inactivity_timeout(Duration::from_secs(600))
///     .max_retries(3);
/// let mut turn = thread.turn_with("Run the tests", options).await?;
/// while let Some(event) = turn.next().await {
///     if let TurnEvent::ServerRequest(request) = event? {
///         request.decline()?;
///     }
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default)]
pub struct TurnOptions {
    pub(crate) settings: TurnSettings,
    pub(crate) approvals_in_stream: bool,
    pub(crate) start_timeout: Option<Duration>,
    pub(crate) inactivity_timeout: Option<Duration>,
    pub(crate) discard_items: bool,
    pub(crate) when_busy: WhenBusy,
    pub(crate) max_retries: Option<u32>,
    pub(crate) retry_for: Option<Duration>,
}

/// A turn with these wire settings and the client's defaults.
impl From<TurnSettings> for TurnOptions {
    fn from(settings: TurnSettings) -> Self {
        TurnOptions::new().settings(settings)
    }
}

/// What [`Thread::turn_with`](crate::Thread::turn_with) / [`run_with`](crate::Thread::run_with)
/// do when a turn of this client is still running on the thread
/// ([`TurnOptions::when_busy`]). The app-server itself never runs two turns of one thread at
/// once: a `turn/start` on a busy thread is folded into the running turn, so without this
/// choice two prompts would silently share one turn and one answer.
///
/// ```no_run
/// # async fn f(thread: codex_client::Thread) -> Result<(), codex_client::Error> {
/// use codex_client::{TurnOptions, WhenBusy};
/// let first = thread.turn("Write the changelog").await?;
/// // Waits for `first` to complete, then starts a turn of its own.
/// let second = thread.run_with("Now the release notes", TurnOptions::new().when_busy(WhenBusy::Queue));
/// let (first, second) = futures::join!(first.run(), second);
/// println!("{:?} then {:?}", first?.status, second?.status);
/// # Ok(()) }
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
    /// The client's defaults, no wire settings (the thread's apply).
    pub fn new() -> Self {
        Self::default()
    }

    /// The turn's wire settings (replaces earlier ones).
    pub fn settings(mut self, settings: TurnSettings) -> Self {
        self.settings = settings;
        self
    }

    /// The turn's wire settings, as given.
    pub fn turn_settings(&self) -> &TurnSettings {
        &self.settings
    }

    /// Deliver this turn's server requests (approvals, user input, ...) in the turn's own stream
    /// as [`TurnEvent::ServerRequest`](crate::TurnEvent::ServerRequest), for the caller to
    /// answer, instead of to the client-wide handler. A request dropped unanswered gets the
    /// fail-closed answer; so does one still pending when [`TurnHandle::run`](crate::TurnHandle::run)
    /// consumes the stream.
    pub fn approvals_in_stream(mut self) -> Self {
        self.approvals_in_stream = true;
        self
    }

    /// Timeout of the `turn/start` request itself (not of the turn), instead of the
    /// connection's default.
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
    pub fn keep_items(mut self, keep: bool) -> Self {
        self.discard_items = !keep;
        self
    }

    /// What to do when a turn of this client is still running on the thread (see
    /// [`WhenBusy`]; default [`WhenBusy::Refuse`]: an error before anything is sent).
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
    pub fn max_retries(mut self, retries: u32) -> Self {
        self.max_retries = Some(retries);
        self
    }

    /// Gives up on the turn when the server is still retrying `duration` after the turn's
    /// first retrying `error` notification (timed by the handle while it is polled): the turn is
    /// interrupted and the stream ends with
    /// [`Error::TurnRetriesExhausted`](crate::Error::TurnRetriesExhausted). Combines with
    /// [`max_retries`](Self::max_retries): whichever comes first.
    pub fn retry_for(mut self, duration: Duration) -> Self {
        self.retry_for = Some(duration);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ApprovalMode;
    use serde_json::json;

    #[test]
    fn turn_settings_map_presets_to_the_turn_wire_types() {
        let params = TurnSettings::new()
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
        let err = TurnSettings::new()
            .approval_mode(ApprovalMode::DangerouslyBypass)
            .sandbox(Sandbox::ReadOnly)
            .to_params("t", vec![])
            .unwrap_err();
        assert!(matches!(err, crate::Error::InvalidOptions(_)), "{err}");
    }

    #[test]
    fn the_clients_options_put_nothing_on_the_wire() {
        let options = TurnOptions::new()
            .approvals_in_stream()
            .start_timeout(Duration::from_secs(1))
            .inactivity_timeout(Duration::from_secs(2))
            .keep_items(false)
            .when_busy(WhenBusy::Steer)
            .max_retries(1)
            .retry_for(Duration::from_secs(3));
        let params = options.turn_settings().to_params("t", vec![]).unwrap();
        assert_eq!(
            serde_json::to_value(&params).unwrap(),
            json!({"threadId": "t", "input": []}),
            "client behaviour only: nothing but the thread and the input is sent"
        );
        let options = TurnOptions::from(TurnSettings::new().effort("low"));
        let v =
            serde_json::to_value(options.turn_settings().to_params("t", vec![]).unwrap()).unwrap();
        assert_eq!(v["effort"], "low");
        assert_eq!(options.when_busy, WhenBusy::Refuse, "the client's defaults");
    }
}

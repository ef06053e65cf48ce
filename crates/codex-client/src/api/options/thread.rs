//! [`ThreadOptions`]: the wire settings of `thread/start`, `thread/resume` and `thread/fork`.

use super::shared_setters;
use crate::api::presets::{Access, Sandbox};
use crate::error::{Error, Result};
use crate::proto::{
    ApprovalsReviewer, AskForApproval, Personality, SandboxMode, ThreadForkParams,
    ThreadResumeParams, ThreadStartParams,
};
use serde_json::{Map, Value};

/// Settings of a thread, for [`Threads::start`](crate::api::Threads::start),
/// [`resume`](crate::api::Threads::resume) and [`fork`](crate::api::Threads::fork).
///
/// Not every call takes every setting: `service_name` is for start only, `ephemeral` for start
/// and fork, `personality` for start and resume. A setting the call has no field for fails the
/// call with [`Error::InvalidOptions`] naming the setting and the call, before anything is sent.
///
/// ```no_run
/// # async fn f(codex: codex_client::Codex) -> Result<(), codex_client::Error> {
/// use codex_client::{ApprovalMode, Sandbox, ThreadOptions};
/// let options = ThreadOptions::new()
///     .model("gpt-5")
///     .cwd("/work/repo")
///     .approval_mode(ApprovalMode::OnRequest)
///     .sandbox(Sandbox::WorkspaceWrite)
///     .developer_instructions("Answer in one sentence.")
///     .config("model_reasoning_effort", "low");
/// let thread = codex.threads().start(options.clone()).await?;
/// // The same settings, minus what only start takes, for a fork.
/// let fork = codex.threads().fork(thread.id(), options).await?;
/// # drop(fork); Ok(()) }
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

shared_setters!(ThreadOptions);

impl ThreadOptions {
    /// Nothing set: the server's configuration decides.
    pub fn new() -> Self {
        Self::default()
    }

    /// The model provider (a key of `model_providers` in the Codex config).
    pub fn model_provider(mut self, provider: impl Into<String>) -> Self {
        self.model_provider = Some(provider.into());
        self
    }

    /// Raw sandbox mode (wins over the preset).
    pub fn sandbox_mode(mut self, mode: SandboxMode) -> Self {
        self.sandbox_mode = Some(mode);
        self
    }

    /// Replaces the built-in base instructions.
    pub fn base_instructions(mut self, text: impl Into<String>) -> Self {
        self.base_instructions = Some(text.into());
        self
    }

    /// Adds developer instructions.
    pub fn developer_instructions(mut self, text: impl Into<String>) -> Self {
        self.developer_instructions = Some(text.into());
        self
    }

    /// The service name recorded with the thread (`thread/start` only).
    pub fn service_name(mut self, name: impl Into<String>) -> Self {
        self.service_name = Some(name.into());
        self
    }

    /// One config override (`config` object: a dotted key of the Codex config and its value).
    pub fn config(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.config
            .get_or_insert_with(Map::new)
            .insert(key.into(), value.into());
        self
    }

    /// Every config override at once (replaces earlier ones).
    pub fn config_overrides(mut self, config: Map<String, Value>) -> Self {
        self.config = Some(config);
        self
    }

    /// Whether the thread is ephemeral: not persisted (`thread/start` and `thread/fork` only).
    pub fn ephemeral(mut self, ephemeral: bool) -> Self {
        self.ephemeral = Some(ephemeral);
        self
    }

    fn resolved(
        &self,
    ) -> Result<(
        Option<AskForApproval>,
        Option<ApprovalsReviewer>,
        Option<SandboxMode>,
    )> {
        let (policy, reviewer, sandbox) = self.access.resolve()?;
        let sandbox = self.sandbox_mode.clone().or(sandbox.map(Sandbox::mode));
        Ok((policy, reviewer, sandbox))
    }

    /// [`Error::InvalidOptions`] for the first of `unsupported` (setting name, is set) that is
    /// set: `method` has no field for it.
    fn refuse_unsupported(method: &str, unsupported: &[(&str, bool)]) -> Result<()> {
        match unsupported.iter().find(|(_, set)| *set) {
            Some((setting, _)) => Err(Error::InvalidOptions(format!(
                "ThreadOptions::{setting} is not a setting of `{method}` (it has no field for \
                 it); leave it unset for this call"
            ))),
            None => Ok(()),
        }
    }

    /// The `thread/start` parameters.
    ///
    /// ```
    /// let params = codex_client::ThreadOptions::new().model("m").to_start_params()?;
    /// assert_eq!(params.model.as_deref(), Some("m"));
    /// # Ok::<(), codex_client::Error>(())
    /// ```
    pub fn to_start_params(&self) -> Result<ThreadStartParams> {
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

    /// The `thread/resume` parameters for `thread_id`; [`Error::InvalidOptions`] when
    /// `ephemeral` or `service_name` is set (resume has no field for them).
    pub fn to_resume_params(&self, thread_id: &str) -> Result<ThreadResumeParams> {
        Self::refuse_unsupported(
            "thread/resume",
            &[
                ("ephemeral", self.ephemeral.is_some()),
                ("service_name", self.service_name.is_some()),
            ],
        )?;
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

    /// The `thread/fork` parameters for `thread_id`; [`Error::InvalidOptions`] when
    /// `personality` or `service_name` is set (fork has no field for them).
    pub fn to_fork_params(&self, thread_id: &str) -> Result<ThreadForkParams> {
        Self::refuse_unsupported(
            "thread/fork",
            &[
                ("personality", self.personality.is_some()),
                ("service_name", self.service_name.is_some()),
            ],
        )?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ApprovalMode;
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

    /// The message of the `InvalidOptions` that `result` must be.
    fn invalid<T: std::fmt::Debug>(result: Result<T>) -> String {
        match result {
            Err(Error::InvalidOptions(message)) => message,
            other => panic!("expected InvalidOptions, got {other:?}"),
        }
    }

    #[test]
    fn start_takes_every_setting() {
        let params = ThreadOptions::new()
            .ephemeral(true)
            .service_name("bot")
            .personality(Personality::Pragmatic)
            .to_start_params()
            .unwrap();
        assert_eq!(params.ephemeral, Some(true));
        assert_eq!(params.service_name.as_deref(), Some("bot"));
        assert!(params.personality.is_some());
    }

    #[test]
    fn resume_refuses_ephemeral_and_service_name_naming_them() {
        let message = invalid(
            ThreadOptions::new()
                .ephemeral(false)
                .to_resume_params("thr_1"),
        );
        assert!(message.contains("ThreadOptions::ephemeral"), "{message}");
        assert!(message.contains("`thread/resume`"), "{message}");
        let message = invalid(
            ThreadOptions::new()
                .service_name("bot")
                .to_resume_params("thr_1"),
        );
        assert!(message.contains("ThreadOptions::service_name"), "{message}");
        assert!(message.contains("`thread/resume`"), "{message}");
        // What resume has a field for goes through.
        let params = ThreadOptions::new()
            .personality(Personality::Pragmatic)
            .model("m")
            .to_resume_params("thr_1")
            .unwrap();
        assert_eq!(params.thread_id, "thr_1");
        assert!(params.personality.is_some());
    }

    #[test]
    fn fork_refuses_personality_and_service_name_naming_them() {
        let message = invalid(
            ThreadOptions::new()
                .personality(Personality::Pragmatic)
                .to_fork_params("thr_1"),
        );
        assert!(message.contains("ThreadOptions::personality"), "{message}");
        assert!(message.contains("`thread/fork`"), "{message}");
        let message = invalid(
            ThreadOptions::new()
                .service_name("bot")
                .to_fork_params("thr_1"),
        );
        assert!(message.contains("ThreadOptions::service_name"), "{message}");
        assert!(message.contains("`thread/fork`"), "{message}");
        let params = ThreadOptions::new()
            .ephemeral(true)
            .to_fork_params("thr_1")
            .unwrap();
        assert_eq!(params.ephemeral, Some(true));
    }
}

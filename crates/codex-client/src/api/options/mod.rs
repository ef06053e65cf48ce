//! What a thread or a turn is asked to do, kept apart by who reads it:
//!
//! - the wire's: [`ThreadOptions`] (what `thread/start`, `thread/resume`, `thread/fork` carry)
//!   and [`TurnSettings`] (what `turn/start` carries). Every setting is optional; an unset one
//!   is omitted, which means "keep the thread's current value" (or the server's configuration
//!   for a new thread). A setting the call has no field for is [`Error::InvalidOptions`]
//!   (naming the setting and the call), never dropped.
//! - the client's: [`TurnOptions`] (timeouts, retries, `keep_items`, [`WhenBusy`], approvals in
//!   the stream), which carries the turn's [`TurnSettings`].
//! - [`ListThreads`]: the filters and paging of `thread/list`.
//!
//! The presets ([`ApprovalMode`](crate::ApprovalMode), [`Sandbox`](crate::Sandbox)) are
//! resolved to wire values only when the request is built, so a conflicting combination is
//! refused before anything is sent.
//!
//! [`Error::InvalidOptions`]: crate::Error::InvalidOptions

mod list;
mod thread;
mod turn;

pub use list::ListThreads;
pub use thread::ThreadOptions;
pub use turn::{TurnOptions, TurnSettings, WhenBusy};

/// The setters [`ThreadOptions`] and [`TurnSettings`] share (same meaning, same wire fields);
/// each type's own wire mapping stays in its `to_*params`.
macro_rules! shared_setters {
    ($ty:ident) => {
        impl $ty {
            /// The model (e.g. `gpt-5`).
            pub fn model(mut self, model: impl Into<String>) -> Self {
                self.model = Some(model.into());
                self
            }

            /// The working directory of the agent.
            pub fn cwd(mut self, cwd: impl Into<std::path::PathBuf>) -> Self {
                self.cwd = Some(cwd.into().to_string_lossy().into_owned());
                self
            }

            /// The personality.
            pub fn personality(mut self, personality: crate::proto::Personality) -> Self {
                self.personality = Some(personality);
                self
            }

            /// The service tier (e.g. `flex`).
            pub fn service_tier(mut self, tier: impl Into<String>) -> Self {
                self.service_tier = Some(tier.into());
                self
            }

            /// Approval preset (see [`ApprovalMode`](crate::ApprovalMode)).
            pub fn approval_mode(mut self, mode: crate::ApprovalMode) -> Self {
                self.access.mode = Some(mode);
                self
            }

            /// Raw `approvalPolicy` (wins over the preset's).
            pub fn approval_policy(mut self, policy: crate::proto::AskForApproval) -> Self {
                self.access.policy = Some(policy);
                self
            }

            /// Raw `approvalsReviewer` (wins over the preset's).
            pub fn approvals_reviewer(mut self, reviewer: crate::proto::ApprovalsReviewer) -> Self {
                self.access.reviewer = Some(reviewer);
                self
            }

            /// Sandbox preset (see [`Sandbox`](crate::Sandbox)): a thread gets the
            /// `SandboxMode` string, a turn the `SandboxPolicy` object.
            pub fn sandbox(mut self, sandbox: crate::Sandbox) -> Self {
                self.access.sandbox = Some(sandbox);
                self
            }
        }
    };
}
pub(crate) use shared_setters;

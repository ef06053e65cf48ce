//! The two presets that hide wire-level detail: [`ApprovalMode`] (who answers approval requests,
//! and whether there are any) and [`Sandbox`] (what commands may touch).
//!
//! They exist because the wire types are awkward in two ways. Approval is two fields
//! (`approvalPolicy` and `approvalsReviewer`) whose useful combinations are few. The sandbox is a
//! *string* ([`SandboxMode`]) when a thread is started, resumed or forked, but an *object*
//! ([`SandboxPolicy`]) on `turn/start`; one preset maps to both, so a caller never has to know.

use crate::proto::{
    ApprovalsReviewer, AskForApproval, ReadOnlySandboxPolicy, SandboxMode, SandboxPolicy,
    WorkspaceWriteSandboxPolicy,
};

/// Who decides when the agent wants to run something outside its sandbox.
///
/// Omitting the mode (the default of every option type) keeps what the thread already has (or the
/// server's configuration for a new thread). A mode set on a turn persists for the thread's later
/// turns: that is the server's rule.
///
/// | preset | `approvalPolicy` | `approvalsReviewer` |
/// |---|---|---|
/// | [`DenyAll`](Self::DenyAll) | `never` | — |
/// | [`OnRequest`](Self::OnRequest) | `on-request` | `user` (this client answers) |
/// | [`Untrusted`](Self::Untrusted) | `untrusted` | `user` |
/// | [`AutoReview`](Self::AutoReview) | `on-request` | `auto_review` (a reviewer model decides) |
/// | [`DangerouslyBypass`](Self::DangerouslyBypass) | `never` | — , and the sandbox is full access |
///
/// With `OnRequest` and `Untrusted` the requests reach this client: the [`Codex`](crate::Codex)
/// handler answers them (fail-closed by default), or the turn's own stream does
/// ([`TurnOptions::approvals_in_stream`](crate::TurnOptions::approvals_in_stream)).
///
/// ```
/// use codex_client::{ApprovalMode, ThreadOptions};
/// let options = ThreadOptions::new().approval_mode(ApprovalMode::OnRequest);
/// # let _ = options;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ApprovalMode {
    /// Never ask: anything that would need an approval is refused.
    DenyAll,
    /// The model asks when it wants to leave the sandbox; this client answers.
    OnRequest,
    /// Ask for every command that is not known to be safe; this client answers.
    Untrusted,
    /// The model asks when it wants to leave the sandbox; an automatic reviewer answers.
    AutoReview,
    /// Never ask and run without a sandbox. Only for throwaway environments. Combining it with
    /// a sandbox other than [`Sandbox::FullAccess`] is refused before anything is sent.
    DangerouslyBypass,
}

impl ApprovalMode {
    /// The wire values: `approvalPolicy` and, where the mode fixes it, `approvalsReviewer`.
    ///
    /// ```
    /// use codex_client::ApprovalMode;
    /// use codex_client::protocol::{ApprovalsReviewer, AskForApproval};
    /// assert_eq!(ApprovalMode::DenyAll.wire(), (AskForApproval::Never, None));
    /// assert_eq!(
    ///     ApprovalMode::AutoReview.wire(),
    ///     (AskForApproval::OnRequest, Some(ApprovalsReviewer::AutoReview))
    /// );
    /// ```
    pub fn wire(self) -> (AskForApproval, Option<ApprovalsReviewer>) {
        match self {
            ApprovalMode::DenyAll | ApprovalMode::DangerouslyBypass => {
                (AskForApproval::Never, None)
            }
            ApprovalMode::OnRequest => (AskForApproval::OnRequest, Some(ApprovalsReviewer::User)),
            ApprovalMode::Untrusted => (AskForApproval::Untrusted, Some(ApprovalsReviewer::User)),
            ApprovalMode::AutoReview => (
                AskForApproval::OnRequest,
                Some(ApprovalsReviewer::AutoReview),
            ),
        }
    }

    /// The sandbox this mode forces, if any ([`DangerouslyBypass`](Self::DangerouslyBypass):
    /// full access).
    ///
    /// ```
    /// use codex_client::{ApprovalMode, Sandbox};
    /// assert_eq!(ApprovalMode::DangerouslyBypass.forced_sandbox(), Some(Sandbox::FullAccess));
    /// assert_eq!(ApprovalMode::DenyAll.forced_sandbox(), None);
    /// ```
    pub fn forced_sandbox(self) -> Option<Sandbox> {
        match self {
            ApprovalMode::DangerouslyBypass => Some(Sandbox::FullAccess),
            _ => None,
        }
    }
}

/// What the agent's commands may touch.
///
/// | preset | thread ([`SandboxMode`]) | turn ([`SandboxPolicy`]) |
/// |---|---|---|
/// | [`ReadOnly`](Self::ReadOnly) | `read-only` | `{"type":"readOnly"}` |
/// | [`WorkspaceWrite`](Self::WorkspaceWrite) | `workspace-write` | `{"type":"workspaceWrite"}` (cwd writable, no network) |
/// | [`FullAccess`](Self::FullAccess) | `danger-full-access` | `{"type":"dangerFullAccess"}` |
///
/// ```
/// use codex_client::Sandbox;
/// use codex_client::protocol::SandboxMode;
/// assert_eq!(Sandbox::WorkspaceWrite.mode(), SandboxMode::WorkspaceWrite);
/// assert_eq!(
///     serde_json::to_value(Sandbox::ReadOnly.policy()).unwrap()["type"],
///     "readOnly"
/// );
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Sandbox {
    /// Read anything, write nothing, no network.
    ReadOnly,
    /// Write inside the working directory (and the temp dirs), no network.
    WorkspaceWrite,
    /// No sandbox at all.
    FullAccess,
}

impl Sandbox {
    /// The thread-level wire value (`thread/start`, `thread/resume`, `thread/fork`).
    ///
    /// ```
    /// use codex_client::{Sandbox, protocol::SandboxMode};
    /// assert_eq!(Sandbox::FullAccess.mode(), SandboxMode::DangerFullAccess);
    /// ```
    pub fn mode(self) -> SandboxMode {
        match self {
            Sandbox::ReadOnly => SandboxMode::ReadOnly,
            Sandbox::WorkspaceWrite => SandboxMode::WorkspaceWrite,
            Sandbox::FullAccess => SandboxMode::DangerFullAccess,
        }
    }

    /// The turn-level wire value (`turn/start`).
    ///
    /// ```
    /// use codex_client::{Sandbox, protocol::SandboxPolicy};
    /// assert_eq!(Sandbox::FullAccess.policy(), SandboxPolicy::DangerFullAccess);
    /// ```
    pub fn policy(self) -> SandboxPolicy {
        match self {
            Sandbox::ReadOnly => SandboxPolicy::ReadOnly(ReadOnlySandboxPolicy {
                network_access: false,
            }),
            Sandbox::WorkspaceWrite => SandboxPolicy::WorkspaceWrite(WorkspaceWriteSandboxPolicy {
                exclude_slash_tmp: false,
                exclude_tmpdir_env_var: false,
                network_access: false,
                writable_roots: Vec::new(),
            }),
            Sandbox::FullAccess => SandboxPolicy::DangerFullAccess,
        }
    }
}

/// The approval and sandbox fields of a request, resolved from presets and raw overrides.
#[derive(Debug, Clone, Default)]
pub(crate) struct Access {
    pub(crate) mode: Option<ApprovalMode>,
    pub(crate) policy: Option<AskForApproval>,
    pub(crate) reviewer: Option<ApprovalsReviewer>,
    pub(crate) sandbox: Option<Sandbox>,
}

impl Access {
    /// `(approvalPolicy, approvalsReviewer, sandbox)`; raw values win over the preset's.
    pub(crate) fn resolve(
        &self,
    ) -> crate::Result<(
        Option<AskForApproval>,
        Option<ApprovalsReviewer>,
        Option<Sandbox>,
    )> {
        let (mut policy, mut reviewer, mut sandbox) = (None, None, self.sandbox);
        if let Some(mode) = self.mode {
            let (p, r) = mode.wire();
            policy = Some(p);
            reviewer = r;
            if let Some(forced) = mode.forced_sandbox() {
                match sandbox {
                    Some(s) if s != forced => {
                        return Err(crate::Error::InvalidOptions(format!(
                            "ApprovalMode::{mode:?} runs without a sandbox; it cannot be combined \
                             with Sandbox::{s:?}"
                        )));
                    }
                    _ => sandbox = Some(forced),
                }
            }
        }
        if let Some(p) = &self.policy {
            policy = Some(p.clone());
        }
        if let Some(r) = &self.reviewer {
            reviewer = Some(r.clone());
        }
        Ok((policy, reviewer, sandbox))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_serialize_to_the_wire_values() {
        assert_eq!(v(&Sandbox::ReadOnly.mode()), "read-only");
        assert_eq!(v(&Sandbox::WorkspaceWrite.mode()), "workspace-write");
        assert_eq!(v(&Sandbox::FullAccess.mode()), "danger-full-access");
        assert_eq!(
            v(&Sandbox::ReadOnly.policy()),
            serde_json::json!({"type": "readOnly"})
        );
        assert_eq!(
            v(&Sandbox::WorkspaceWrite.policy())["type"],
            serde_json::json!("workspaceWrite")
        );
        assert_eq!(
            v(&Sandbox::FullAccess.policy()),
            serde_json::json!({"type": "dangerFullAccess"})
        );
        let (p, r) = ApprovalMode::AutoReview.wire();
        assert_eq!(v(&p), "on-request");
        assert_eq!(v(&r.unwrap()), "auto_review");
        assert_eq!(v(&ApprovalMode::Untrusted.wire().0), "untrusted");
    }

    #[test]
    fn bypass_forces_full_access_and_rejects_another_sandbox() {
        let access = Access {
            mode: Some(ApprovalMode::DangerouslyBypass),
            ..Access::default()
        };
        let (policy, _, sandbox) = access.resolve().unwrap();
        assert_eq!(policy, Some(AskForApproval::Never));
        assert_eq!(sandbox, Some(Sandbox::FullAccess));
        let conflict = Access {
            sandbox: Some(Sandbox::ReadOnly),
            ..access
        };
        assert!(matches!(
            conflict.resolve(),
            Err(crate::Error::InvalidOptions(_))
        ));
    }

    #[test]
    fn raw_values_override_the_preset() {
        let access = Access {
            mode: Some(ApprovalMode::DenyAll),
            policy: Some(AskForApproval::Untrusted),
            ..Access::default()
        };
        assert_eq!(access.resolve().unwrap().0, Some(AskForApproval::Untrusted));
    }

    fn v<T: serde::Serialize>(x: &T) -> serde_json::Value {
        serde_json::to_value(x).unwrap()
    }
}

//! [`ExecCommand`], a scripted `exec_command` function call (codex's unified-exec shell tool),
//! and the `arguments` it sends.

use serde_json::json;

/// An `exec_command` function call (codex's unified-exec shell tool).
///
/// The arguments sent are `{"cmd": .., "yield_time_ms": ..}`, plus
/// `"sandbox_permissions": "require_escalated"` and `"justification"` when
/// [escalated](Self::escalated) (under `approvalPolicy: "on-request"` that is what makes codex ask
/// for approval).
///
/// ```
/// use codex_client_testkit::{ExecCommand, MockResponse};
///
/// let call: MockResponse = ExecCommand::new("touch /tmp/outside")
///     .escalated("The mock model wants to run this outside the sandbox.")
///     .into();
/// # let _ = call;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecCommand {
    /// The shell command line.
    pub cmd: String,
    /// How long codex waits for output before returning to the model (default 2000 ms).
    pub yield_time_ms: u64,
    /// `Some(justification)` asks to run outside the sandbox.
    pub escalation: Option<String>,
}

impl ExecCommand {
    /// A call of `cmd` with `yield_time_ms` 2000 and no escalation.
    ///
    /// ```
    /// # use codex_client_testkit::ExecCommand;
    /// assert_eq!(ExecCommand::new("ls").yield_time_ms, 2000);
    /// ```
    pub fn new(cmd: impl Into<String>) -> Self {
        Self {
            cmd: cmd.into(),
            yield_time_ms: 2000,
            escalation: None,
        }
    }

    /// Sets `yield_time_ms`.
    ///
    /// ```
    /// # use codex_client_testkit::ExecCommand;
    /// assert_eq!(ExecCommand::new("ls").yield_time_ms(500).yield_time_ms, 500);
    /// ```
    pub fn yield_time_ms(mut self, ms: u64) -> Self {
        self.yield_time_ms = ms;
        self
    }

    /// Asks for `sandbox_permissions: "require_escalated"` with this justification.
    ///
    /// ```
    /// # use codex_client_testkit::ExecCommand;
    /// let call = ExecCommand::new("ls").escalated("why");
    /// assert_eq!(call.escalation.as_deref(), Some("why"));
    /// ```
    pub fn escalated(mut self, justification: impl Into<String>) -> Self {
        self.escalation = Some(justification.into());
        self
    }

    /// The `arguments` string of the function call (a JSON document in a string).
    ///
    /// ```
    /// # use codex_client_testkit::ExecCommand;
    /// let args: serde_json::Value = serde_json::from_str(&ExecCommand::new("ls").arguments()).unwrap();
    /// assert_eq!(args["cmd"], "ls");
    /// ```
    pub fn arguments(&self) -> String {
        let mut args = json!({"cmd": self.cmd, "yield_time_ms": self.yield_time_ms});
        if let Some(justification) = &self.escalation {
            args["sandbox_permissions"] = json!("require_escalated");
            args["justification"] = json!(justification);
        }
        args.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escalated_exec_command_arguments() {
        let args: serde_json::Value =
            serde_json::from_str(&ExecCommand::new("ls").escalated("because").arguments()).unwrap();
        assert_eq!(args["cmd"], "ls");
        assert_eq!(args["yield_time_ms"], 2000);
        assert_eq!(args["sandbox_permissions"], "require_escalated");
        assert_eq!(args["justification"], "because");
    }
}

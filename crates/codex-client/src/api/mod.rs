//! The high-level API: [`Codex`] → [`Thread`] → [`TurnHandle`] → [`TurnResult`].
//!
//! Where each type lives, file by file: ARCHITECTURE.md, "codex-client: the high-level API".
//!
//! Everything here is built on the connection core ([`Connection`](crate::core::Connection)): a turn's
//! stream *is* the router's per-turn stream, so many turns on one `Codex` from many tasks need
//! nothing more. The one addition is the turn lifecycle: a per-thread lane (one turn of this
//! client at a time per thread), `turn/start` sent from a task, and the task that interrupts a
//! turn whose handle was dropped unfinished (see `turn` and `lanes`). The shapes are chosen so that a blocking
//! twin is mechanical: every call is an `async fn` with owned or borrowed plain arguments, and
//! the one stream ([`TurnHandle`]) maps to an iterator.

mod account;
mod base64;
mod builder;
mod codex;
mod commands;
mod files;
mod goal;
mod input;
mod lanes;
mod mcp;
mod models;
mod options;
mod presets;
#[cfg(feature = "experimental")]
mod queue;
mod result;
mod review;
mod server_config;
mod skills;
mod thread;
mod thread_turns;
mod threads;
mod turn;

pub use account::{Account, ChatgptLogin, DeviceCodeLogin, Secret};
pub use builder::CodexBuilder;
pub use codex::Codex;
pub use commands::{CommandExec, Commands, ExecOutput};
pub use files::Files;
pub use goal::{
    DEFAULT_GOAL_MAX_TURNS, GoalControl, GoalHandle, GoalOptions, GoalResult,
    MAX_GOAL_OBJECTIVE_CHARS,
};
pub use input::{Input, InputItem};
pub use mcp::Mcp;
pub use models::Models;
pub use options::{ListThreads, ThreadOptions, TurnOptions, TurnSettings, WhenBusy};
pub use presets::{ApprovalMode, Sandbox};
pub use result::{TurnFailure, TurnResult};
pub use server_config::ServerConfig;
pub use skills::Skills;
pub use thread::Thread;
pub use threads::{ThreadPage, Threads};
pub use turn::{TurnControl, TurnHandle, TurnOrigin};

#[cfg(test)]
mod tests {
    /// `docs/api-coverage.md` has one row per method of the pinned (stable) protocol, and no
    /// other. The `experimental` feature's extra methods are not listed there (the experimental
    /// API is typed, reachable through `request::<M>()`, and only the turn queue has calls of
    /// its own, `api/queue.rs`), so the check is for the stable build.
    #[cfg(not(feature = "experimental"))]
    #[test]
    fn api_coverage_lists_every_method() {
        let doc = include_str!("../../../../docs/api-coverage.md");
        let rows: Vec<&str> = doc
            .lines()
            .filter_map(|l| l.strip_prefix("| `"))
            .filter_map(|l| l.split('`').next())
            .collect();
        for method in crate::proto::methods::ALL {
            assert!(
                rows.contains(method),
                "docs/api-coverage.md has no row for `{method}`"
            );
        }
        assert_eq!(rows.len(), crate::proto::methods::ALL.len(), "{rows:?}");
    }
}

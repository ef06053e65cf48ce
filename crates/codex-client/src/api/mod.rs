//! The high-level API: [`Codex`] → [`Thread`] → [`TurnHandle`] → [`TurnResult`].
//!
//! | module | owns |
//! |---|---|
//! | `codex` | [`Codex`] (the entry point, thread calls, pass-throughs), [`ThreadPage`] |
//! | `builder` | [`CodexBuilder`]: the connection's settings and the login check, then spawn / connect / transport |
//! | `thread`, `thread_turns` | [`Thread`]: the server's answer kept as a snapshot, read / name / compact / archive / fork; its turns (`run`, `turn`, the busy check) |
//! | `turn` | [`TurnHandle`] (the turn's event stream, collecting as it goes; interrupts its turn when dropped unfinished, unless detached), [`TurnControl`] (steer, interrupt), [`TurnOrigin`] |
//! | `lanes` | one turn at a time per thread for this client: the busy check, the per-thread FIFO queue ([`WhenBusy`]) |
//! | `result` | [`TurnResult`], [`TurnFailure`], the final-response rule |
//! | `input` | [`Input`], [`InputItem`] |
//! | `options` | the wire's [`ThreadOptions`], [`TurnSettings`]; the client's [`TurnOptions`] (carrying a `TurnSettings`); [`ListThreads`] |
//! | `presets` | [`ApprovalMode`], [`Sandbox`] |
//! | `account` | login (API key as a [`Secret`], [`ChatgptLogin`], [`DeviceCodeLogin`]), account, logout, rate limits, usage |
//! | `goal` | [`GoalHandle`] (a goal as one logical turn), [`GoalControl`], [`GoalResult`], [`GoalOptions`], the goal calls on [`Thread`] |
//! | `models` | the model catalog and the provider's capabilities |
//! | `extras` | review ([`Thread::review`]), command exec ([`CommandExec`]), file system, config, MCP, skills |
//!
//! Everything here is built on the connection core ([`Connection`](crate::core::Connection)): a turn's
//! stream *is* the router's per-turn stream, so many turns on one `Codex` from many tasks need
//! nothing more. The one addition is the turn lifecycle: a per-thread lane (one turn of this
//! client at a time per thread), `turn/start` sent from a task, and the task that interrupts a
//! turn whose handle was dropped unfinished (see `turn` and `lanes`). The shapes are chosen so that a blocking
//! twin is mechanical: every call is an `async fn` with owned or borrowed plain arguments, and
//! the one stream ([`TurnHandle`]) maps to an iterator.

mod account;
mod builder;
mod codex;
mod extras;
mod goal;
mod input;
mod lanes;
mod models;
mod options;
mod presets;
#[cfg(feature = "experimental")]
mod queue;
mod result;
mod thread;
mod thread_turns;
mod turn;

pub use account::{ChatgptLogin, DeviceCodeLogin, Secret};
pub use builder::CodexBuilder;
pub use codex::{Codex, ThreadPage};
pub use extras::{CommandExec, ExecOutput};
pub use goal::{
    DEFAULT_GOAL_MAX_TURNS, GoalControl, GoalHandle, GoalOptions, GoalResult,
    MAX_GOAL_OBJECTIVE_CHARS,
};
pub use input::{Input, InputItem};
pub use options::{ListThreads, ThreadOptions, TurnOptions, TurnSettings, WhenBusy};
pub use presets::{ApprovalMode, Sandbox};
pub use result::{TurnFailure, TurnResult};
pub use thread::Thread;
pub use turn::{TurnControl, TurnHandle, TurnOrigin};

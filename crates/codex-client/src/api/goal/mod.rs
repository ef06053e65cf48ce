//! Goals: an objective the server pursues over as many turns as it takes, run as **one
//! logical turn** ([`GoalHandle`]): one `turn/started` (the first physical turn's, whose id is
//! the logical id), the events of every physical turn, the `thread/goal/*` notifications, and
//! one synthetic `turn/completed` at the end (`startedAt` of the first turn, `completedAt` of
//! the last); the items and usage of all of them merged into one [`GoalResult`]; steer and
//! interrupt ([`GoalControl`]) follow whichever physical turn is running. Plus the plain goal
//! calls on a [`Thread`](crate::Thread) (`goal`, `set_goal_status`, `clear_goal`).
//!
//! What the server does (codex 0.163.0, observed): `thread/goal/set {status: "active"}` on an
//! idle thread makes it start a turn by itself; while the goal stays `active` it starts a
//! continuation after each turn. Each goal turn ends with a `thread/goal/updated` (that turn's
//! id, the goal's accounting), `thread/status/changed` idle, then `turn/completed`. The goal
//! leaves `active` when the model marks it `complete`, on its token budget (`budgetLimited`),
//! usage limits, `paused`, `blocked`, or `thread/goal/cleared`.
//!
//! The contract: goal turns have no client route, so the handle follows the **thread's**
//! stream (subscribed before `thread/goal/set`) and never subscribes to a turn — an ordinary
//! turn started on the same thread keeps its own events and is not part of the goal. The
//! logical turn ends when a physical turn fails ([`Error::TurnFailed`](crate::Error::TurnFailed))
//! or is interrupted, when the goal is no longer `active` and no goal turn is running, or at
//! [`GoalOptions::max_turns`] (the SDK pauses the goal). Server requests of goal turns go to the
//! connection's handler (fail-closed unless you set one).

mod driver;
mod handle;
mod options;
mod thread;

pub use handle::{GoalControl, GoalHandle};
pub use options::{DEFAULT_GOAL_MAX_TURNS, GoalOptions, GoalResult, MAX_GOAL_OBJECTIVE_CHARS};

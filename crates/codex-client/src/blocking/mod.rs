//! The blocking facade: the high-level API for synchronous programs, with the same names and
//! arguments as the async one, so switching is changing an import (the `reqwest::blocking`
//! pattern). Iterators where async has streams; no tokio knowledge required.
//!
//! | module | owns |
//! |---|---|
//! | `codex` | [`Codex`]: start, close, the thread calls, `request::<M>()`, notifications |
//! | `builder` | [`CodexBuilder`]: the async builder with blocking ends |
//! | `thread` | [`Thread`]: the snapshot accessors, turns, read / refresh / name / compact / archive / fork |
//! | `turn` | [`TurnHandle`] (an `Iterator` of [`TurnEvent`]s, `next_timeout`, `run`), [`TurnControl`] |
//! | `groups` | the group handles ([`Threads`], [`Account`], [`Models`], [`Files`], [`ServerConfig`], [`Mcp`], [`Skills`], [`Commands`]) |
//! | `extras` | login handles, [`GoalHandle`] (an `Iterator`), [`GoalControl`], [`CommandExec`] (an `Iterator`), and the goal / review / MCP-tool mirrors on [`Thread`] |
//! | `notifications` | [`NotificationStream`] (an `Iterator` of notifications, `next_timeout`) |
//! | `runtime` | the runtime every object of one client shares: running calls, closing on the last drop |
//!
//! The plain-data types are not duplicated: [`SpawnConfig`], [`ConnectionConfig`], [`ThreadOptions`],
//! [`TurnOptions`], [`ListThreads`], [`ThreadPage`], [`Input`], [`TurnResult`], the presets,
//! [`TurnEvent`] and [`Error`] are the async API's own, re-exported here for a one-line switch.
//!
//! ```no_run
//! use codex_client::blocking::{Codex, ThreadOptions, TurnEvent};
//! use codex_client::protocol::ServerNotification;
//!
//! fn main() -> Result<(), codex_client::Error> {
//!     let codex = Codex::start()?;
//!     let thread = codex.threads().start(ThreadOptions::new())?;
//!
//!     // Run a turn to its result.
//!     let result = thread.run("Say hello in one sentence.")?;
//!     println!("{}", result.final_response().unwrap_or_default());
//!
//!     // Or iterate it.
//!     for event in thread.turn("Now in French.")? {
//!         if let TurnEvent::Notification(n) = event? {
//!             if let ServerNotification::ItemAgentMessageDelta(delta) = &*n {
//!                 print!("{}", delta.delta);
//!             }
//!         }
//!     }
//!     Ok(())
//! }
//! ```
//!
//! # The runtime
//!
//! [`Codex::start`] (and every [`CodexBuilder`] end) builds a small **multi-thread** tokio runtime (two worker threads) owned by
//! the client, and every blocking call is `Handle::block_on` of the async call: the future runs
//! on the *calling* OS thread while the workers carry the background tasks (the connection's
//! reader and writer, the stderr drain, the child monitor, server-request handlers) and keep
//! the IO and timer drivers turning. The alternative, a dedicated runtime thread fed through
//! channels, funnels every caller through one thread; here four OS threads iterating four turns
//! progress in parallel with no hop, and the async code runs unchanged (no second
//! implementation to keep in step). [`Codex`], [`Thread`], [`TurnControl`] are
//! `Clone + Send + Sync`; [`TurnHandle`] and [`NotificationStream`] are `Send`.
//!
//! **Called from inside an async context** (a tokio task, or the body of `#[tokio::main]` /
//! `block_on`), every blocking call **panics** with tokio's message "Cannot start a runtime from
//! within a runtime" instead of blocking the caller's executor (which could deadlock it). Use
//! the async API there, or call from `tokio::task::spawn_blocking`, which is allowed. Dropping
//! blocking objects inside an async context is fine (see below).
//!
//! **Lifetime.** Every object of one client ([`Codex`] clones, [`Thread`]s, [`TurnHandle`]s,
//! [`TurnControl`]s, [`NotificationStream`]s) shares the runtime and the connection. When the
//! last of them is dropped, the app-server is closed gracefully (stdin closed, then SIGTERM,
//! then SIGKILL, each step bounded by the close timeout; at most 20 s in all), its exit is
//! reaped, and the runtime stops (at most 2 s more) — on the dropping thread, or on a
//! short-lived thread of its own when dropped inside an async context. [`Codex::close`] does
//! the close explicitly: every open iterator, on whatever thread, then yields
//! `Err(Error::Closed)` and ends.
//!
//! **Never hangs.** When the app-server dies, every iterator yields `Err(Error::Closed(..))`
//! (exit status, stderr tail) then `None`, and calls fail fast. To bound a wait for a live but
//! quiet server, use [`TurnHandle::next_timeout`] / [`NotificationStream::next_timeout`] (or the
//! per-request timeouts of [`ConnectionConfig`]).
//!
//! **Approvals.** A client-wide [`ServerRequestHandler`](crate::ServerRequestHandler) set with
//! [`ConnectionConfig::handler`] works unchanged (it runs on the runtime's workers: keep it quick,
//! or move blocking work off with `tokio::task::spawn_blocking`). In-stream approvals arrive as
//! `TurnEvent::ServerRequest(request)`; [`PendingServerRequest`]'s `accept()`, `decline()`,
//! `respond()` are synchronous already, so the iterating thread answers on the spot. The
//! default stays fail-closed.
//!
//! # Mirroring a new async method
//!
//! Every method here is one line over its async twin, so adding one is mechanical: copy the
//! async signature without `async`, keep the names and arguments, and write the body as
//! `self.wait(self.inner.the_method(args))`. Each type has a private `wait` that runs a future
//! on the calling thread with the client's runtime. Wrap what comes back when it is an async
//! handle: a `crate::Thread` becomes a blocking [`Thread`] with `.map(|t| self.thread(t))` on
//! [`Codex`] (`self.codex.thread(t)` on [`Thread`]), a stream becomes an iterator through its
//! wrapper (as `notifications()` does). Plain data (results, pages, server types) passes
//! through unchanged. Link the async method in the doc (`see [`crate::Codex::...`]`) and give
//! the example in blocking form.

mod builder;
mod codex;
mod extras;
mod groups;
mod notifications;
mod runtime;
mod thread;
mod turn;

pub use builder::CodexBuilder;
pub use codex::Codex;
pub use extras::{ChatgptLogin, CommandExec, DeviceCodeLogin, GoalControl, GoalHandle};
pub use groups::{Account, Commands, Files, Mcp, Models, ServerConfig, Skills, Threads};
pub use notifications::NotificationStream;
pub use thread::Thread;
pub use turn::{TurnControl, TurnHandle};

pub use crate::api::{
    ApprovalMode, Input, InputItem, ListThreads, Sandbox, ThreadOptions, ThreadPage, TurnFailure,
    TurnOptions, TurnResult, TurnSettings,
};
pub use crate::api::{ExecOutput, GoalOptions, GoalResult, Secret};
pub use crate::api::{TurnOrigin, WhenBusy};
pub use crate::config::ConnectionConfig;
pub use crate::error::{ClosedInfo, Error, Result};
pub use crate::router::TurnEvent;
pub use crate::server_requests::PendingServerRequest;
pub use crate::spawn::SpawnConfig;

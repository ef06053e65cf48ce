//! The blocking facade: the high-level API for synchronous programs, with the same names and
//! arguments as the async one, so switching is changing an import (the `reqwest::blocking`
//! pattern). Iterators where async has streams; no tokio knowledge required.
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
//! the IO and timer drivers turning (why this design: ARCHITECTURE.md, the blocking facade).
//! [`Codex`], [`Thread`], [`TurnControl`] are
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
//! # The twin is generated
//!
//! `generated.rs` is written by `cargo xtask codegen` from the async `impl`s (the table of
//! wrapped types and the exceptions, each with its reason, are in
//! `xtask/src/codegen/blocking/`; `cargo xtask codegen --check` fails when an async public
//! method has no twin). A new async method needs nothing but a rerun; a new async type that
//! hands out async values is one line in that table and an example in `examples.rs`. Written
//! here by hand: the runtime (`runtime.rs`), the bounded waits `next_timeout` and
//! [`Thread::codex`] (`extra.rs`).

#[macro_use]
mod examples;
mod extra;
mod generated;
mod runtime;

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
pub use generated::{
    Account, ChatgptLogin, Codex, CodexBuilder, CommandExec, Commands, DeviceCodeLogin, Files,
    GoalControl, GoalHandle, Mcp, Models, NotificationStream, ServerConfig, Skills, Thread,
    Threads, TurnControl, TurnHandle,
};

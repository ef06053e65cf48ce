//! Rust client for the Codex `app-server` (JSON-RPC over stdio): threads, turns, streamed
//! events, approvals — for many turns at once over one connection.
//!
//! Two layers:
//!
//! - **The high-level API** ([`api`], re-exported here): [`Codex`] → [`Thread`] →
//!   [`TurnHandle`] → [`TurnResult`]. Start, resume, fork, list, read, archive and name threads;
//!   run a turn to its result or stream it; steer and interrupt; answer approvals in the turn's
//!   stream or with a client-wide handler (fail-closed by default).
//! - **The blocking facade** ([`blocking`]): the same API for synchronous programs, with the
//!   same names and arguments (switch by changing an import), iterators where async has
//!   streams, usable from many OS threads at once; no tokio knowledge required.
//! - **The connection core**: start `codex app-server` (or take any [`Transport`]), perform the
//!   handshake, send typed requests for every method of the pinned protocol and match their
//!   responses, route the server's notifications to per-turn, per-thread and global streams
//!   without losing or hoarding any, answer the server's requests fail-closed unless you say
//!   otherwise, and end everything promptly with the exit status and stderr tail when the
//!   app-server dies. [`Codex::connection`] and [`Codex::request`] reach it for what the
//!   high-level API does not wrap.
//!
//! | module | owns |
//! |---|---|
//! | [`api`] | [`Codex`], [`CodexConfig`], [`Thread`], [`TurnHandle`], [`TurnControl`], [`TurnResult`], [`Input`], [`ThreadOptions`], [`TurnOptions`], [`ApprovalMode`], [`Sandbox`] |
//! | [`blocking`] | the blocking twin: [`blocking::Codex`], [`blocking::Thread`], [`blocking::TurnHandle`] (an iterator), [`blocking::TurnControl`], [`blocking::NotificationStream`] |
//! | [`transport`] | the [`Transport`] abstraction: stdio child, in-memory pair, your own |
//! | `spawn` | binary discovery ([`find_codex_binary`]) and the command line ([`SpawnConfig`]) |
//! | `connection` | [`Connection`]: reader and writer tasks, requests, handshake, close |
//! | `router` | routing notifications to [`TurnStream`]s / [`NotificationStream`]s, bounded buffers, [`RouterStats`] |
//! | `server_requests` | [`ServerRequestHandler`], [`PendingServerRequest`], the fail-closed answers |
//! | `error` | [`Error`], [`ClosedInfo`] |
//! | `retry` | [`retry_on_overload`] |
//! | `config` | [`ConnectionConfig`], [`ClientInfo`] |
//!
//! # Example
//!
//! ```no_run
//! use codex_client::{Codex, CodexConfig, ThreadOptions, TurnEvent};
//! use codex_client::protocol::ServerNotification;
//! use futures::StreamExt;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), codex_client::Error> {
//! let codex = Codex::spawn(CodexConfig::new()).await?;
//! let thread = codex.threads().start(ThreadOptions::new()).await?;
//!
//! // Run a turn to its result.
//! let result = thread.run("Say hello in one sentence.").await?;
//! println!("{}", result.final_response().unwrap_or_default());
//!
//! // Or stream it.
//! let mut turn = thread.turn("Now in French.").await?;
//! while let Some(event) = turn.next().await {
//!     if let TurnEvent::Notification(n) = event? {
//!         if let ServerNotification::ItemAgentMessageDelta(delta) = &*n {
//!             print!("{}", delta.delta);
//!         }
//!     }
//! }
//! codex.close().await;
//! # Ok(()) }
//! ```
#![warn(missing_docs)]

pub mod api;
pub mod blocking;
mod config;
mod connection;
mod error;
mod event_json;
mod retry;
mod routed;
mod router;
mod server_requests;
mod spawn;
pub mod transport;

/// The wire types this client speaks (re-export of `codex-client-protocol`).
pub use codex_client_protocol as protocol;
pub(crate) use codex_client_protocol as proto;

pub use api::{
    ApprovalMode, Codex, CodexConfig, Input, InputItem, ListThreads, Sandbox, Thread,
    ThreadOptions, ThreadPage, TurnControl, TurnFailure, TurnHandle, TurnOptions, TurnResult,
};
pub use api::{
    ChatgptLogin, CommandExec, DEFAULT_GOAL_MAX_TURNS, DeviceCodeLogin, ExecOutput, GoalControl,
    GoalHandle, GoalOptions, GoalResult, MAX_GOAL_OBJECTIVE_CHARS, Secret,
};
pub use api::{TurnOrigin, WhenBusy};
pub use config::{ClientInfo, ConnectionConfig};
pub use connection::{Connection, RequestOptions, ServerInfo};
pub use error::{ClosedInfo, Error, OVERLOADED_CODE, Result};
pub use retry::{RetryPolicy, retry_on_overload};
pub use router::{NotificationStream, RouterStats, SubscribeOptions, TurnEvent, TurnStream};
pub use server_requests::{
    FailClosed, HandlerResult, INVALID_REQUEST_CODE, NO_HANDLER_CODE, PendingServerRequest,
    ServerRequestHandler, UNKNOWN_METHOD_CODE, fail_closed_answer,
};
pub use spawn::{
    CODEX_BIN_ENV, RUNTIME_PACKAGE, SpawnConfig, VIRTUAL_ENV_ENV, find_codex_binary,
    pip_runtime_binary, runtime_path_dir,
};
pub use transport::{
    ConnectError, ConnectErrorKind, ConnectOptions, MemoryPeer, Transport, TransportControl,
};

/// The snippets of the guides under `docs/`, compiled (and, where they are not `no_run`, run) as
/// doctests so that they stay true. Not part of the API.
#[cfg(doctest)]
mod guides {
    #[doc = include_str!("../../../docs/remote.md")]
    mod remote {}
}

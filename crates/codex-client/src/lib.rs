//! Rust client for the Codex `app-server` (JSON-RPC v2 over stdio, a websocket or a unix
//! socket): start, resume and fork threads, run turns to their result or stream their events,
//! steer and interrupt them, answer approvals — for many turns at once over one connection,
//! with bounded memory, no lost events, and an error (never a hang) when the server dies.
//!
//! # Quickstart
//!
//! ```no_run
//! use codex_client::{Codex, ThreadOptions, TurnEvent, TurnSettings};
//! use codex_client::protocol::ServerNotification;
//! use futures::StreamExt;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), codex_client::Error> {
//! // Spawns `codex app-server` (found through CODEX_BIN, the active virtualenv's runtime or
//! // PATH) and performs the handshake. `Codex::builder()` for anything but the defaults.
//! let codex = Codex::start().await?;
//! let thread = codex.threads().start(ThreadOptions::new()).await?;
//!
//! // Run a turn to its result.
//! let result = thread.run("Say hello in one sentence.").await?;
//! println!("{}", result.final_response().unwrap_or_default());
//!
//! // Or stream one, with settings for this turn.
//! let mut turn = thread.turn_with("Now in French.", TurnSettings::new().effort("low")).await?;
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
//!
//! # Where things are
//!
//! - Here, at the root: the high-level API — [`Codex`] and [`CodexBuilder`] (spawn with a
//!   [`SpawnConfig`], connect to an endpoint, or any transport), [`Thread`], [`TurnHandle`] /
//!   [`TurnControl`] / [`TurnResult`] / [`TurnEvent`], [`Input`], the options
//!   ([`ThreadOptions`] and [`TurnSettings`] for the wire, [`TurnOptions`] for the client), the
//!   presets ([`ApprovalMode`], [`Sandbox`]), [`Error`] and [`retry_on_overload`].
//! - [`api`]: everything of the high-level API, the group handles and their types included.
//! - [`core`]: the connection core ([`core::Connection`], [`core::ConnectionConfig`], the
//!   router's streams): what the high-level API is built on, reached through
//!   [`Codex::connection`] and [`Codex::request`] for every method of the pinned protocol.
//! - [`server_requests`]: answering the server's requests (approvals, elicitations), fail-closed
//!   unless you say otherwise.
//! - [`transport`]: stdio, unix socket, websocket (features), the in-memory pair for tests, your
//!   own.
//! - `blocking` (feature `blocking`): the same API for synchronous programs.
//! - [`protocol`]: the wire types, generated from the pinned schema.
//!
//! # Features
//!
//! Nothing optional is on by default; stdio, `unix://` and the in-memory transport are always
//! there.
//!
//! | feature | what it adds |
//! |---|---|
//! | `websocket` | `ws://` in [`Transport::connect`] / [`core::Connection::connect_url`]: a running `codex app-server --listen ws://...` |
//! | `tls` | `wss://` (implies `websocket`): rustls on `ring`, the system's root certificates, [`ConnectOptions::add_root_certificates_pem`](transport::ConnectOptions) |
//! | `blocking` | the `blocking` module: the same API for synchronous programs |
//! | `full` | `websocket` + `tls` + `blocking` |
//! | `experimental` | the experimental app-server API, typed (changes the protocol types; not in `full`) |
//!
//! A URL whose transport is not compiled in fails with
//! [`ConnectErrorKind::FeatureDisabled`](transport::ConnectErrorKind::FeatureDisabled), naming
//! the feature to enable.
//!
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod api;
#[cfg(feature = "blocking")]
pub mod blocking;
mod config;
mod connection;
pub mod core;
mod error;
mod event_json;
mod retry;
mod router;
pub mod server_requests;
mod spawn;
pub mod transport;

/// The wire types this client speaks (re-export of `codex-client-protocol`).
pub use codex_client_protocol as protocol;
pub(crate) use codex_client_protocol as proto;

// The high-level API.
pub use api::{
    ApprovalMode, Codex, CodexBuilder, Input, InputItem, ListThreads, Sandbox, Thread,
    ThreadOptions, ThreadPage, TurnControl, TurnFailure, TurnHandle, TurnOptions, TurnResult,
    TurnSettings,
};
pub use api::{
    ChatgptLogin, CommandExec, DEFAULT_GOAL_MAX_TURNS, DeviceCodeLogin, ExecOutput, GoalControl,
    GoalHandle, GoalOptions, GoalResult, MAX_GOAL_OBJECTIVE_CHARS, Secret,
};
pub use api::{TurnOrigin, WhenBusy};
pub use error::{ClosedInfo, Error, OVERLOADED_CODE, Result};
pub use retry::{RetryPolicy, retry_on_overload};
pub use router::TurnEvent;
pub use server_requests::{
    FailClosed, HandlerResult, INVALID_REQUEST_CODE, NO_HANDLER_CODE, PendingServerRequest,
    ServerRequestHandler, UNKNOWN_METHOD_CODE, fail_closed_answer,
};
pub use spawn::{
    CODEX_BIN_ENV, RUNTIME_PACKAGE, SpawnConfig, VIRTUAL_ENV_ENV, find_codex_binary,
    pip_runtime_binary, runtime_path_dir,
};
pub use transport::{MemoryPeer, Transport, TransportControl};

/// The snippets of the guides under `docs/`, compiled (and, where they are not `no_run`, run) as
/// doctests so that they stay true. Not part of the API.
#[cfg(all(doctest, feature = "tls"))]
mod guides {
    #[doc = include_str!("../../../docs/remote.md")]
    mod remote {}
    #[doc = include_str!("../../../README.md")]
    mod readme {}
    #[doc = include_str!("../../../docs/getting-started.md")]
    mod getting_started {}
}

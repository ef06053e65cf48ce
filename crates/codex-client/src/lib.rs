//! Rust client for the Codex `app-server` (JSON-RPC over stdio): the connection core.
//!
//! What this crate does: start `codex app-server` (or take any [`Transport`]), perform the
//! handshake, send typed requests for every method of the pinned protocol and match their
//! responses, route the server's notifications to per-turn, per-thread and global streams
//! without losing or hoarding any, answer the server's requests (approvals and friends)
//! fail-closed unless you say otherwise, and end everything promptly with the exit status and
//! stderr tail when the app-server dies.
//!
//! What it leaves to you (or to the higher-level API built on it): threads and turns as objects,
//! input builders, collecting a turn's result.
//!
//! | module | owns |
//! |---|---|
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
//! use codex_client::{Connection, ConnectionConfig, SpawnConfig, TurnEvent};
//! use futures::StreamExt;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), codex_client::Error> {
//! let conn = Connection::spawn(SpawnConfig::new(), ConnectionConfig::default()).await?;
//! let thread = conn.request_raw("thread/start", Some(serde_json::json!({}))).await?;
//! let params = serde_json::from_value(serde_json::json!({
//!     "threadId": thread["thread"]["id"],
//!     "input": [{"type": "text", "text": "Say hello"}],
//! })).expect("valid params");
//! let (_response, mut turn) = conn.start_turn(params).await?;
//! while let Some(event) = turn.next().await {
//!     if let TurnEvent::Notification(n) = event? {
//!         println!("{}", n.method());
//!     }
//! }
//! conn.close().await;
//! # Ok(()) }
//! ```
#![warn(missing_docs)]

pub mod api;
mod config;
mod connection;
mod error;
mod retry;
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
pub use config::{ClientInfo, ConnectionConfig};
pub use connection::{Connection, RequestOptions, ServerInfo};
pub use error::{ClosedInfo, Error, OVERLOADED_CODE, Result};
pub use retry::{RetryPolicy, retry_on_overload};
pub use router::{NotificationStream, RouterStats, SubscribeOptions, TurnEvent, TurnStream};
pub use server_requests::{
    FailClosed, HandlerResult, NO_HANDLER_CODE, PendingServerRequest, ServerRequestHandler,
    UNKNOWN_METHOD_CODE, fail_closed_answer,
};
pub use spawn::{CODEX_BIN_ENV, SpawnConfig, find_codex_binary, pinned_runtime_binary};
pub use transport::{MemoryPeer, Transport, TransportControl};

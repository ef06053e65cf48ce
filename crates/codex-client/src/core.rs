//! The connection core: one JSON-RPC connection to an app-server ([`Connection`], configured by
//! [`ConnectionConfig`]) and what it hands out — typed and raw requests ([`RequestOptions`]),
//! the server's [`ServerInfo`], and the router's streams: a turn's events ([`TurnStream`] of
//! [`TurnEvent`]s) and the notifications of a thread or of the whole connection
//! ([`NotificationStream`]), subscribed with [`SubscribeOptions`], sized by [`RouterStats`].
//!
//! The contract: the reader never blocks on a consumer for longer than the slow-consumer grace
//! (a consumer that falls further behind gets a `Lagged(n)` gap, never the connection's
//! stall); no event of a turn is lost between its start and its first subscriber; every
//! request ends (its response, its timeout, or `Closed`); and when the transport ends, every
//! call and stream ends with [`Error::Closed`](crate::Error::Closed), later calls fail fast.
//! The high-level API ([`Codex`](crate::Codex)) is built on it; reach it with
//! [`Codex::connection`](crate::Codex::connection) for what that does not wrap.
//!
//! ```
//! use codex_client::core::{Connection, ConnectionConfig, SubscribeOptions};
//! use codex_client::transport::Transport;
//! use futures::StreamExt;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), codex_client::Error> {
//! // A connection over an in-memory transport; the test holds the server's end.
//! let (transport, mut server) = Transport::memory();
//! let conn = Connection::connect(transport, ConnectionConfig::default().handshake(false)).await?;
//!
//! // The server sends a turn's events before anyone subscribed: they wait for the subscriber.
//! server.send(r#"{"method":"item/agentMessage/delta","params":{"threadId":"th","turnId":"tu","itemId":"i","delta":"Hi"}}"#);
//! server.send(r#"{"method":"turn/completed","params":{"threadId":"th","turn":{"id":"tu","items":[],"status":"completed"}}}"#);
//! let models = tokio::spawn({
//!     let conn = conn.clone();
//!     async move { conn.request_raw("model/list", None).await }
//! });
//! let request = server.recv_json().await.expect("the request is written");
//! assert_eq!(request["method"], "model/list");
//! server.send_json(&serde_json::json!({"id": request["id"], "result": {"data": []}}));
//! assert_eq!(models.await.unwrap()?, serde_json::json!({"data": []}));
//!
//! let mut turn = conn.subscribe_turn_with("tu", SubscribeOptions::new());
//! let first = turn.next().await.expect("replayed")?;
//! assert_eq!(first.notification().map(|n| n.method()), Some("item/agentMessage/delta"));
//! assert!(turn.next().await.expect("the end")?.is_turn_completed());
//! assert!(turn.next().await.is_none(), "a turn's stream ends after turn/completed");
//! assert!(conn.stats().is_idle());
//! # Ok(()) }
//! ```

pub use crate::config::{ClientInfo, ConnectionConfig};
pub use crate::connection::{Connection, RequestOptions, ServerInfo};
pub use crate::router::{
    NotificationStream, RawEvent, RawNotification, RouterStats, SubscribeOptions, TurnEvent,
    TurnStream,
};

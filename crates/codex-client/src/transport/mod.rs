//! Transports: how lines of JSON get to and from the app-server.
//!
//! | transport | constructor | what it is |
//! |---|---|---|
//! | stdio | [`Transport::spawn`] | a spawned `codex app-server` child: stdin/stdout carry newline-delimited JSON, stderr is drained into a ring buffer and `tracing` |
//! | in-memory | [`Transport::memory`] | a connected pair for tests: the test holds the server end ([`MemoryPeer`]) |
//! | unix socket | [`Transport::connect`] with `unix://PATH` or `unix://` | the app-server's control socket (`--listen unix://`): the websocket protocol over a unix stream; `unix://` is [`default_control_socket`] |
//! | websocket (feature `websocket`) | [`Transport::connect`] with `ws://HOST:PORT[/PATH]` | a running `codex app-server --listen ws://...`: one JSON-RPC message per text frame, optional bearer token ([`ConnectOptions`]) |
//! | websocket over TLS (feature `tls`) | [`Transport::connect`] with `wss://HOST[:PORT][/PATH]` | a TLS proxy in front of one, system roots plus your own CA |
//! | your own | [`Transport::new`] | any stream of inbound lines + sink of outbound lines + a [`TransportControl`] (a websocket or unix-socket transport plugs in here, without touching the router) |
//!
//! A transport is three things: an inbound stream of lines (each one JSON message, without the
//! newline; reading must be bounded so that a huge line is an error and not an allocation of any
//! size), an outbound sink of lines, and a [`TransportControl`] that tells, once the inbound
//! stream has ended, why (exit status, stderr tail) and that can stop the peer.
//!
//! ```no_run
//! use codex_client::{SpawnConfig, Transport};
//! use codex_client::core::{Connection, ConnectionConfig};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), codex_client::Error> {
//! let transport = Transport::spawn(&SpawnConfig::new(), 16 * 1024 * 1024)?;
//! let connection = Connection::connect(transport, ConnectionConfig::default()).await?;
//! # Ok(()) }
//! ```

mod connect;
mod connect_error;
mod endpoint;
mod memory;
mod options;
mod stdio;
#[cfg(feature = "websocket")]
mod tcp;
#[cfg(feature = "tls")]
mod tls;
mod unix;
mod websocket;

pub(crate) use connect::connect;
pub use connect_error::{ConnectError, ConnectErrorKind};
pub use memory::MemoryPeer;
pub use options::ConnectOptions;
pub use unix::default_control_socket;

use crate::error::{ClosedInfo, Error};
use futures::future::BoxFuture;
use futures::{Sink, Stream};
use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

/// Inbound lines. An `Err` item ends the connection.
pub type LineStream = Pin<Box<dyn Stream<Item = Result<String, Error>> + Send>>;

/// Outbound lines (without the trailing newline; the transport frames them).
pub type LineSink = Pin<Box<dyn Sink<String, Error = std::io::Error> + Send>>;

/// The side channel of a transport: why it ended, and how to stop the peer.
///
/// Implemented by the stdio transport (a child process) and the in-memory one; implement it for
/// a custom transport. Every method must return in bounded time.
pub trait TransportControl: Send + Sync + 'static {
    /// Called once, after the inbound stream ended (or failed with `reason`): describe the end,
    /// waiting a bounded time for details such as the exit status and the last stderr lines.
    fn close_info(&self, reason: String) -> BoxFuture<'_, ClosedInfo>;

    /// Stops the peer: ask it to terminate, wait up to `grace`, then force it.
    fn shutdown(&self, grace: Duration) -> BoxFuture<'_, ()>;

    /// Forces the peer to stop now (used on drop; must not block).
    fn kill(&self);

    /// The last lines of the peer's diagnostics (stderr), if any.
    fn stderr_tail(&self) -> String {
        String::new()
    }

    /// The peer's process id, if it is a process.
    fn pid(&self) -> Option<u32> {
        None
    }
}

/// A connection to an app-server, ready to be handed to
/// [`Connection::connect`](crate::core::Connection::connect).
///
/// ```
/// use codex_client::Transport;
/// let (transport, peer) = Transport::memory();
/// # drop((transport, peer));
/// ```
pub struct Transport {
    pub(crate) incoming: LineStream,
    pub(crate) outgoing: LineSink,
    pub(crate) control: Arc<dyn TransportControl>,
}

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transport")
            .field("pid", &self.control.pid())
            .finish_non_exhaustive()
    }
}

impl Transport {
    /// A transport from its three parts.
    ///
    /// ```
    /// use codex_client::{ClosedInfo, Transport, TransportControl};
    /// use futures::future::BoxFuture;
    /// use futures::{SinkExt, StreamExt};
    /// use std::time::Duration;
    ///
    /// struct NoPeer;
    /// impl TransportControl for NoPeer {
    ///     fn close_info(&self, reason: String) -> BoxFuture<'_, ClosedInfo> {
    ///         Box::pin(async move { ClosedInfo::new(reason) })
    ///     }
    ///     fn shutdown(&self, _grace: Duration) -> BoxFuture<'_, ()> { Box::pin(async {}) }
    ///     fn kill(&self) {}
    /// }
    ///
    /// let incoming = futures::stream::empty().boxed();
    /// let outgoing = Box::pin(futures::sink::drain().sink_map_err(|e| match e {}));
    /// let transport = Transport::new(incoming, outgoing, std::sync::Arc::new(NoPeer));
    /// # drop(transport);
    /// ```
    pub fn new(
        incoming: LineStream,
        outgoing: LineSink,
        control: Arc<dyn TransportControl>,
    ) -> Self {
        Self {
            incoming,
            outgoing,
            control,
        }
    }

    /// An in-memory transport and its server end, for tests.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use codex_client::Transport;
    /// let (_transport, peer) = Transport::memory();
    /// assert!(peer.send(r#"{"method":"warning","params":{"message":"hi"}}"#));
    /// # }
    /// ```
    pub fn memory() -> (Transport, MemoryPeer) {
        memory::pair()
    }

    /// Spawns the app-server described by `config` and connects to its stdio. Lines longer than
    /// `max_line_bytes` end the connection with [`Error::LineTooLong`]. Must be called inside a
    /// tokio runtime.
    ///
    /// ```no_run
    /// # fn f() -> Result<(), codex_client::Error> {
    /// let transport = codex_client::Transport::spawn(&codex_client::SpawnConfig::new(), 1 << 24)?;
    /// # Ok(()) }
    /// ```
    pub fn spawn(config: &crate::SpawnConfig, max_line_bytes: usize) -> Result<Transport, Error> {
        stdio::spawn(config, max_line_bytes)
    }

    /// Connects to a running app-server: `unix://PATH`, `unix://` (the default control socket
    /// under `CODEX_HOME`), `ws://HOST:PORT[/PATH]` (feature `websocket`) or
    /// `wss://HOST[:PORT][/PATH]` (feature `tls`). Fails with [`Error::Connect`] with a
    /// [`ConnectError`] that says what failed (bad URL, a scheme whose feature is off, refused,
    /// timeout, TLS, the HTTP status of the upgrade such as 401, a token that would travel in
    /// clear text).
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), codex_client::Error> {
    /// use codex_client::transport::ConnectOptions;
    /// let options = ConnectOptions::new().bearer_token("s3cret");
    /// let transport = codex_client::Transport::connect("ws://127.0.0.1:4500", &options).await?;
    /// # drop(transport); Ok(()) }
    /// ```
    pub async fn connect(url: &str, options: &ConnectOptions) -> Result<Transport, Error> {
        connect(url, options)
            .await
            .map_err(ConnectError::into_error)
    }

    /// The peer's process id, when it is a process.
    ///
    /// ```
    /// let (transport, _peer) = codex_client::Transport::memory();
    /// assert_eq!(transport.pid(), None);
    /// ```
    pub fn pid(&self) -> Option<u32> {
        self.control.pid()
    }
}

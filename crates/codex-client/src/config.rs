//! [`ConnectionConfig`]: everything about a connection that is not how to start the process —
//! the handshake (client info, capabilities), timeouts, buffer bounds and the server-request
//! handler. Every bound has a default; every default is documented on its setter.

use crate::server_requests::{ErasedHandler, FailClosed, ServerRequestHandler};
use std::sync::Arc;
use std::time::Duration;

/// Who the client is, sent in `initialize` (`clientInfo`). The name becomes the `originator` of
/// threads on the server.
///
/// ```
/// let info = codex_client::core::ClientInfo::new("my_app", "1.2.0").title("My App");
/// assert_eq!(info.name, "my_app");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClientInfo {
    /// Machine name (`clientInfo.name`).
    pub name: String,
    /// Version (`clientInfo.version`).
    pub version: String,
    /// Human title (`clientInfo.title`).
    pub title: Option<String>,
}

impl ClientInfo {
    /// Name and version.
    pub fn new(name: impl Into<String>, version: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            version: version.into(),
            title: None,
        }
    }

    /// Adds a human-readable title.
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = Some(title.into());
        self
    }
}

impl Default for ClientInfo {
    fn default() -> Self {
        Self::new("codex_client_rs", env!("CARGO_PKG_VERSION"))
    }
}

/// The two bounds of a subscriber's queue (see [`ConnectionConfig::turn_queue_limits`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct QueueBounds {
    pub(crate) events: usize,
    pub(crate) bytes: usize,
}

impl QueueBounds {
    pub(crate) fn new(events: usize, bytes: usize) -> Self {
        Self {
            events: events.max(2),
            bytes: bytes.max(1),
        }
    }
}

/// Settings of one connection: the handshake, timeouts, bounds, the client-wide answerer of
/// server requests. What every way in uses: give it to
/// [`CodexBuilder::connection`](crate::CodexBuilder::connection) or to
/// [`Connection::connect`](crate::core::Connection::connect).
///
/// ```no_run
/// use codex_client::core::{ClientInfo, ConnectionConfig};
/// use codex_client::{Codex, FailClosed, SpawnConfig};
/// use std::time::Duration;
///
/// # async fn f() -> Result<(), codex_client::Error> {
/// let config = ConnectionConfig::new()
///     .client_info(ClientInfo::new("my_app", "1.0.0").title("My App"))
///     .request_timeout(Duration::from_secs(30))
///     .server_request_timeout(Duration::from_secs(120))
///     .opt_out_notification("item/reasoning/textDelta")
///     .turn_queue_capacity(256)
///     .handler(FailClosed); // or your ServerRequestHandler
/// let codex = Codex::builder().connection(config).spawn(SpawnConfig::new()).await?;
/// # drop(codex); Ok(()) }
/// ```
#[derive(Clone)]
pub struct ConnectionConfig {
    pub(crate) client_info: ClientInfo,
    pub(crate) experimental_api: bool,
    pub(crate) opt_out_notifications: Vec<String>,
    pub(crate) initialize: bool,
    pub(crate) initialize_timeout: Duration,
    pub(crate) request_timeout: Duration,
    pub(crate) max_in_flight: usize,
    pub(crate) max_line_bytes: usize,
    pub(crate) write_queue_limit: usize,
    pub(crate) turn_queue: QueueBounds,
    pub(crate) subscription_queue: QueueBounds,
    pub(crate) pending_max_events: usize,
    pub(crate) pending_max_bytes: usize,
    pub(crate) pending_max_age: Duration,
    pub(crate) recent_turns: usize,
    pub(crate) slow_consumer_grace: Duration,
    pub(crate) server_request_timeout: Duration,
    pub(crate) close_timeout: Duration,
    pub(crate) handler: Arc<dyn ErasedHandler>,
}

impl std::fmt::Debug for ConnectionConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectionConfig")
            .field("client_info", &self.client_info)
            .field("experimental_api", &self.experimental_api)
            .field("opt_out_notifications", &self.opt_out_notifications)
            .field("request_timeout", &self.request_timeout)
            .field("max_in_flight", &self.max_in_flight)
            .field("max_line_bytes", &self.max_line_bytes)
            .field("write_queue_limit", &self.write_queue_limit)
            .field("turn_queue", &self.turn_queue)
            .field("subscription_queue", &self.subscription_queue)
            .field("slow_consumer_grace", &self.slow_consumer_grace)
            .finish_non_exhaustive()
    }
}

impl Default for ConnectionConfig {
    fn default() -> Self {
        Self {
            client_info: ClientInfo::default(),
            experimental_api: cfg!(feature = "experimental"),
            opt_out_notifications: Vec::new(),
            initialize: true,
            initialize_timeout: Duration::from_secs(30),
            request_timeout: Duration::from_secs(120),
            max_in_flight: 64,
            max_line_bytes: 64 * 1024 * 1024,
            write_queue_limit: 16 * 1024 * 1024,
            turn_queue: QueueBounds::new(1024, 16 * 1024 * 1024),
            subscription_queue: QueueBounds::new(4096, 16 * 1024 * 1024),
            pending_max_events: 8192,
            pending_max_bytes: 16 * 1024 * 1024,
            pending_max_age: Duration::from_secs(60),
            recent_turns: 1024,
            slow_consumer_grace: Duration::from_millis(50),
            server_request_timeout: Duration::from_secs(600),
            close_timeout: Duration::from_secs(5),
            handler: Arc::new(FailClosed),
        }
    }
}

impl ConnectionConfig {
    /// The defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// `clientInfo` of the handshake (default: `codex_client_rs` and this crate's version).
    pub fn client_info(mut self, info: ClientInfo) -> Self {
        self.client_info = info;
        self
    }

    /// Opts into experimental methods, fields and notifications (`capabilities.experimentalApi`;
    /// default `false`, or `true` when the crate's `experimental` feature is on: the feature
    /// types the experimental API, and this is what asks the server for it).
    pub fn experimental_api(mut self, enabled: bool) -> Self {
        self.experimental_api = enabled;
        self
    }

    /// Asks the server not to send this notification method on this connection
    /// (`capabilities.optOutNotificationMethods`; exact names).
    pub fn opt_out_notification(mut self, method: impl Into<String>) -> Self {
        self.opt_out_notifications.push(method.into());
        self
    }

    /// Whether [`Connection::connect`](crate::core::Connection::connect) performs the
    /// `initialize`/`initialized` handshake (default `true`; turn off to drive it yourself).
    pub fn handshake(mut self, enabled: bool) -> Self {
        self.initialize = enabled;
        self
    }

    /// Timeout of the `initialize` request (default 30 s).
    pub fn initialize_timeout(mut self, timeout: Duration) -> Self {
        self.initialize_timeout = timeout;
        self
    }

    /// Default timeout of every request (default 120 s); overridable per call with
    /// [`RequestOptions`](crate::core::RequestOptions).
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// At most this many requests in flight at once (default 64); more wait for a slot. The
    /// server drops requests silently under overload, so unbounded pipelining loses requests.
    pub fn max_in_flight(mut self, n: usize) -> Self {
        self.max_in_flight = n.max(1);
        self
    }

    /// The longest line accepted from the server (default 64 MiB); a longer one closes the
    /// connection with [`Error::LineTooLong`](crate::Error::LineTooLong).
    pub fn max_line_bytes(mut self, n: usize) -> Self {
        self.max_line_bytes = n.max(1024);
        self
    }

    /// The bound of the writer's queue, in bytes (default 16 MiB): the lines waiting to be
    /// written to the app-server, each counted as its length plus 128 bytes (the memory a
    /// queued line costs beyond its text). A request whose line does not fit fails at once with
    /// [`Error::WriteQueueFull`](crate::Error::WriteQueueFull), without being sent (an empty
    /// queue takes any one line, however long). Answers to server requests are never refused:
    /// while they keep the queue over its bound, the reader reads nothing more from the server,
    /// so a server that stops reading its input stalls on its own output instead of making the
    /// client's memory grow. A request whose caller times out or is cancelled before its line
    /// was taken by the writer is removed from the queue and never written.
    pub fn write_queue_limit(mut self, max_bytes: usize) -> Self {
        self.write_queue_limit = max_bytes.max(1);
        self
    }

    /// Bounds of each turn stream's queue, in events and in the bytes of their lines (defaults:
    /// 1024 events, 16 MiB), whichever is reached first. A queue full either way makes the
    /// reader wait up to the [slow-consumer grace](Self::slow_consumer_grace) for the consumer;
    /// a consumer still behind after it gets [`Error::Lagged`](crate::Error::Lagged) for what
    /// it loses, and the connection goes on. An empty queue takes any one event, however long
    /// (lines are bounded by [`max_line_bytes`](Self::max_line_bytes)). A stream takes its
    /// queue in batches, so it may hold up to twice these bounds, plus a turn's
    /// `turn/completed`, which is queued even on a full queue.
    pub fn turn_queue_limits(mut self, max_events: usize, max_bytes: usize) -> Self {
        self.turn_queue = QueueBounds::new(max_events, max_bytes);
        self
    }

    /// The event bound of [`turn_queue_limits`](Self::turn_queue_limits) alone (default 1024;
    /// the byte bound is kept).
    pub fn turn_queue_capacity(mut self, n: usize) -> Self {
        self.turn_queue = QueueBounds::new(n, self.turn_queue.bytes);
        self
    }

    /// How long the reader waits for a stream's consumer when that stream's queue is full
    /// (default 50 ms) before it gives up on it: then the consumer loses events (it gets
    /// [`Error::Lagged`](crate::Error::Lagged)) until it has taken what is queued, and the
    /// other streams are not held up by it any more.
    ///
    /// While it waits the reader reads nothing, so a consumer that is only briefly behind (a
    /// busy machine descheduling its thread for a few milliseconds during a flood of deltas)
    /// loses nothing, at the cost of holding up the other streams for that long; a stalled
    /// consumer costs the others one grace period, then none. `Duration::ZERO` never waits: a
    /// full queue drops at once.
    pub fn slow_consumer_grace(mut self, grace: Duration) -> Self {
        self.slow_consumer_grace = grace;
        self
    }

    /// Bounds of each thread or global notification stream's queue, in events and in bytes
    /// (defaults: 4096 events, 16 MiB); they work as the [turn queue's](Self::turn_queue_limits).
    pub fn subscription_queue_limits(mut self, max_events: usize, max_bytes: usize) -> Self {
        self.subscription_queue = QueueBounds::new(max_events, max_bytes);
        self
    }

    /// The event bound of [`subscription_queue_limits`](Self::subscription_queue_limits) alone
    /// (default 4096; the byte bound is kept).
    pub fn subscription_queue_capacity(mut self, n: usize) -> Self {
        self.subscription_queue = QueueBounds::new(n, self.subscription_queue.bytes);
        self
    }

    /// Bounds of the buffer that holds events of turns nobody subscribed to yet (defaults: 8192
    /// events, 16 MiB, 60 s). Beyond them the oldest turn's buffered events are dropped and
    /// counted, and a later subscriber of that turn gets [`Error::Lagged`](crate::Error::Lagged)
    /// first.
    pub fn pending_limits(
        mut self,
        max_events: usize,
        max_bytes: usize,
        max_age: Duration,
    ) -> Self {
        self.pending_max_events = max_events.max(1);
        self.pending_max_bytes = max_bytes.max(1);
        self.pending_max_age = max_age;
        self
    }

    /// How many finished turns the router remembers (default 1024), so that a late subscriber
    /// of a completed turn gets its `turn/completed` instead of waiting forever.
    pub fn recent_turns(mut self, n: usize) -> Self {
        self.recent_turns = n;
        self
    }

    /// Time a server-request handler (or a stream consumer holding a
    /// [`PendingServerRequest`](crate::PendingServerRequest)) has to answer before the
    /// fail-closed answer is sent (default 600 s).
    pub fn server_request_timeout(mut self, timeout: Duration) -> Self {
        self.server_request_timeout = timeout;
        self
    }

    /// How long [`Connection::close`](crate::core::Connection::close) waits at each step (EOF on
    /// stdin, then SIGTERM, then SIGKILL; default 5 s).
    pub fn close_timeout(mut self, timeout: Duration) -> Self {
        self.close_timeout = timeout;
        self
    }

    /// The handler of server requests (approvals, user input, ...). The default answers every
    /// request fail-closed (decline / empty grant / error); see
    /// [`ServerRequestHandler`](crate::ServerRequestHandler).
    pub fn handler(mut self, handler: impl ServerRequestHandler) -> Self {
        self.handler = Arc::new(handler);
        self
    }
}

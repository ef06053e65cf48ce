//! [`Connection`]: one JSON-RPC connection to an app-server, with one reader task and one writer
//! task.
//!
//! ```text
//! caller ── request::<M>(params) ─► waiter (id → oneshot) ─► writer task ─► transport
//! transport ─► reader task ─► Incoming::parse ─┬─ response      → waiter (a turn's route registered first)
//!                                              ├─ notification  → route_raw (ids) → router → stream,
//!                                              │                  decoded by the consumer that takes it
//!                                              └─ server request → turn stream or handler task → writer
//! ```
//!
//! The reader awaits a consumer only when that consumer's queue is full, and then at most the
//! slow-consumer grace (see the router); server requests are answered from spawned tasks.
//! Client request ids (a counter from 1) and server request ids live in separate tables. When
//! the transport ends, the reader latches the router closed: every waiter and stream ends with
//! [`Error::Closed`] carrying the exit status and stderr tail, and later calls fail fast.

use crate::config::ConnectionConfig;
use crate::error::{ClosedInfo, Error, Result};
use crate::proto::envelope::{Incoming, RequestId, RpcError};
use crate::proto::{CODEX_VERSION, ClientMethod, ServerNotification, ServerRequest};
use crate::routed::{Located, RoutedNotification};
use crate::router::{
    NotificationStream, Reply, Router, RouterLimits, RouterStats, SubscribeOptions, TurnStream,
    Waiter, Wakes,
};
use crate::server_requests::{
    AnswerSink, ErasedHandler, OpenRequests, PendingServerRequest, Responder,
    invalid_request_answer, spawn_handler,
};
use crate::spawn::SpawnConfig;
use crate::transport::{LineSink, LineStream, Transport, TransportControl};
use futures::{FutureExt, SinkExt, StreamExt};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use serde_json::value::RawValue;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::sync::{Semaphore, mpsc, oneshot, watch};
use tracing::Instrument;

/// Per-call options of a request.
///
/// ```
/// let options = codex_client::RequestOptions::new().timeout(std::time::Duration::from_secs(5));
/// # let _ = options;
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestOptions {
    timeout: Option<Duration>,
}

impl RequestOptions {
    /// The connection's defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Overrides the connection's default request timeout for this call.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }
}

/// What the server said about itself in the `initialize` response.
///
/// ```
/// let info = codex_client::ServerInfo::from_user_agent("codex_vscode/0.163.0 (Debian 12.0.0; x86_64) xterm");
/// assert_eq!(info.server_version.as_deref(), Some("0.163.0"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServerInfo {
    /// `userAgent`, e.g. `my_client/0.163.0 (Debian 12.0.0; x86_64) ...`.
    pub user_agent: String,
    /// The version parsed from `userAgent` (the part after the first `/`).
    pub server_version: Option<String>,
    /// `codexHome`.
    pub codex_home: Option<String>,
    /// `platformFamily`.
    pub platform_family: Option<String>,
    /// `platformOs`.
    pub platform_os: Option<String>,
}

impl ServerInfo {
    /// Parses the version out of a `userAgent` string.
    pub fn from_user_agent(user_agent: &str) -> Self {
        let first = user_agent.split_whitespace().next().unwrap_or("");
        let server_version = first
            .split_once('/')
            .map(|(_, v)| v.to_owned())
            .filter(|v| !v.is_empty());
        Self {
            user_agent: user_agent.to_owned(),
            server_version,
            ..Self::default()
        }
    }

    /// `true` when the server's version is the one this crate's protocol types were generated
    /// from ([`CODEX_VERSION`](crate::protocol::CODEX_VERSION)).
    pub fn version_matches(&self) -> bool {
        self.server_version.as_deref() == Some(CODEX_VERSION)
    }
}

enum WriterMsg {
    /// An answer or a notification: always written.
    Line(String),
    /// A request's line, which its caller takes back if it gives up before the writer took it.
    Request(Arc<QueuedRequest>),
    Close(Option<oneshot::Sender<()>>),
}

/// A request line in the writer's queue. Whoever takes the line out first owns it: the writer
/// (it is written), or the caller that timed out or was cancelled (it is freed, never written).
struct QueuedRequest {
    line: std::sync::Mutex<Option<String>>,
}

impl QueuedRequest {
    fn take(&self) -> Option<String> {
        self.line.lock().unwrap_or_else(|e| e.into_inner()).take()
    }
}

/// The writer's queue: what callers, handlers and streams have to write and the writer task has
/// not taken yet, bounded in bytes (`ConnectionConfig::write_queue_limit`). A request that
/// does not fit fails at once ([`Error::WriteQueueFull`]); an answer to a server request always
/// goes in, and the reader reads nothing more from the server while the queue is over its
/// bound — so the answers to what the server asks, while it does not read what we write, stop
/// growing too: the server's own output stalls behind them.
struct WriteQueue {
    tx: mpsc::UnboundedSender<WriterMsg>,
    bytes: AtomicUsize,
    limit: usize,
    /// Signalled when the queue gets back within its bound, or the writer ends.
    room: tokio::sync::Notify,
    /// The writer task ended: nothing queued will be written.
    writer_gone: AtomicBool,
}

/// What a queued line costs beyond its bytes (its allocation's rounding, the channel's slot, a
/// request's take-back handle): counted, so that the bound is one of memory even for a flood of
/// short answers.
const LINE_OVERHEAD: usize = 128;

/// The bytes a line of `len` bytes counts for in the queue.
fn queued_cost(len: usize) -> usize {
    len.saturating_add(LINE_OVERHEAD)
}

impl WriteQueue {
    fn new(tx: mpsc::UnboundedSender<WriterMsg>, limit: usize) -> Self {
        Self {
            tx,
            bytes: AtomicUsize::new(0),
            limit,
            room: tokio::sync::Notify::new(),
            writer_gone: AtomicBool::new(false),
        }
    }

    /// Whether a line of `len` bytes fits: an empty queue takes any one line.
    fn fits(&self, queued: usize, len: usize) -> bool {
        queued == 0 || queued.saturating_add(queued_cost(len)) <= self.limit
    }

    fn full_error(&self, method: &str, len: usize) -> Error {
        Error::WriteQueueFull {
            method: method.to_owned(),
            bytes: len,
            queued: self.bytes.load(Ordering::Relaxed),
            limit: self.limit,
        }
    }

    /// Queues a request's line if it fits; the returned handle lets the caller take it back.
    fn send_request(&self, method: &str, line: String) -> Result<Arc<QueuedRequest>, Error> {
        let len = line.len();
        let mut queued = self.bytes.load(Ordering::Relaxed);
        loop {
            if !self.fits(queued, len) {
                return Err(self.full_error(method, len));
            }
            match self.bytes.compare_exchange_weak(
                queued,
                queued + queued_cost(len),
                Ordering::AcqRel,
                Ordering::Relaxed,
            ) {
                Ok(_) => break,
                Err(now) => queued = now,
            }
        }
        let request = Arc::new(QueuedRequest {
            line: std::sync::Mutex::new(Some(line)),
        });
        if self.tx.send(WriterMsg::Request(request.clone())).is_err() {
            self.release(len);
            return Err(Error::Closed(Arc::new(ClosedInfo::new(
                "the connection is closing",
            ))));
        }
        Ok(request)
    }

    /// Queues an answer or a notification, over the bound if need be (see the type's doc).
    fn send_line(&self, line: String) -> bool {
        let len = line.len();
        self.bytes.fetch_add(queued_cost(len), Ordering::AcqRel);
        if self.tx.send(WriterMsg::Line(line)).is_err() {
            self.release(len);
            return false;
        }
        true
    }

    /// A line of `len` bytes left the queue (taken by the writer, or by a caller that gave up).
    fn release(&self, len: usize) {
        let cost = queued_cost(len);
        let before = self.bytes.fetch_sub(cost, Ordering::AcqRel);
        if before > self.limit && before - cost <= self.limit {
            self.room.notify_waiters();
        }
    }

    /// A caller gave up on `request` (timeout, cancellation): if the writer has not taken its
    /// line yet, it is freed and never written.
    fn withdraw(&self, request: &QueuedRequest) {
        if let Some(line) = request.take() {
            self.release(line.len());
            tracing::debug!(
                bytes = line.len(),
                "request given up before it was written: not written"
            );
        }
    }

    fn over_limit(&self) -> bool {
        self.bytes.load(Ordering::Acquire) > self.limit
    }

    /// Waits until the queue is within its bound again, or the writer is gone.
    async fn wait_for_room(&self) {
        loop {
            let notified = self.room.notified();
            let mut notified = std::pin::pin!(notified);
            notified.as_mut().enable();
            if !self.over_limit() || self.writer_gone.load(Ordering::Acquire) {
                return;
            }
            notified.await;
        }
    }

    fn writer_ended(&self) {
        self.writer_gone.store(true, Ordering::Release);
        self.room.notify_waiters();
    }
}

struct WriterHandle {
    writes: Arc<WriteQueue>,
    open: Arc<OpenRequests>,
}

impl AnswerSink for WriterHandle {
    fn send_answer(&self, id: &RequestId, answer: std::result::Result<Value, RpcError>) -> bool {
        self.open.remove(id);
        let line = match encode_answer(id, answer) {
            Ok(line) => line,
            Err(err) => {
                tracing::error!(%id, %err, "could not encode the answer to a server request");
                return false;
            }
        };
        self.writes.send_line(line)
    }
}

fn encode_answer(
    id: &RequestId,
    answer: std::result::Result<Value, RpcError>,
) -> serde_json::Result<String> {
    #[derive(Serialize)]
    struct Ok<'a> {
        id: &'a RequestId,
        result: Value,
    }
    #[derive(Serialize)]
    struct Err<'a> {
        id: &'a RequestId,
        error: RpcError,
    }
    match answer {
        std::result::Result::Ok(result) => serde_json::to_string(&Ok { id, result }),
        std::result::Result::Err(error) => serde_json::to_string(&Err { id, error }),
    }
}

/// Encodes a request line; params that serialize to `null` are omitted (methods without params).
fn encode_request(id: i64, method: &str, params: Option<&str>) -> String {
    let params = params.filter(|p| *p != "null");
    let mut line = String::with_capacity(32 + method.len() + params.map_or(0, str::len));
    let _ = write!(line, "{{\"id\":{id},\"method\":");
    line.push_str(&serde_json::to_string(method).expect("a string serializes"));
    if let Some(p) = params {
        line.push_str(",\"params\":");
        line.push_str(p);
    }
    line.push('}');
    line
}

struct Core {
    router: Arc<Router>,
    writes: Arc<WriteQueue>,
    answers: Arc<dyn AnswerSink>,
    open_requests: Arc<OpenRequests>,
    handler: Arc<dyn ErasedHandler>,
    control: Arc<dyn TransportControl>,
    next_id: AtomicI64,
    in_flight: Arc<Semaphore>,
    closing: AtomicBool,
    reader_done: watch::Receiver<bool>,
    server_info: OnceLock<ServerInfo>,
    malformed_lines: AtomicU64,
    request_timeout: Duration,
    server_request_timeout: Duration,
    max_line_bytes: usize,
}

/// Dropping the last [`Connection`] clone kills the peer (the reader then fails everything).
struct Handle {
    core: Arc<Core>,
    close_timeout: Duration,
}

impl Drop for Handle {
    fn drop(&mut self) {
        if self.core.router.closed().is_none() {
            tracing::debug!("connection dropped without close(); killing the app-server");
            self.core.closing.store(true, Ordering::Release);
            self.core.control.kill();
            let _ = self.core.writes.tx.send(WriterMsg::Close(None));
        }
    }
}

/// A connection to a Codex app-server. Cheap to clone; every clone is the same connection.
/// Dropping the last clone without [`close`](Self::close) kills the app-server.
///
/// ```no_run
/// use codex_client::{Connection, ConnectionConfig, SpawnConfig};
/// use codex_client::protocol::methods;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), codex_client::Error> {
/// let conn = Connection::spawn(SpawnConfig::new(), ConnectionConfig::default()).await?;
/// let models = conn.request_raw("model/list", Some(serde_json::json!({}))).await?;
/// println!("{models}");
/// conn.close().await;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Connection {
    handle: Arc<Handle>,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("pid", &self.handle.core.control.pid())
            .field("closed", &self.is_closed())
            .finish_non_exhaustive()
    }
}

impl Connection {
    /// Spawns `codex app-server` as configured and connects over its stdio (handshake
    /// included unless disabled in `config`).
    ///
    /// ```no_run
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), codex_client::Error> {
    /// use codex_client::{Connection, ConnectionConfig, SpawnConfig};
    /// let conn = Connection::spawn(SpawnConfig::new().disable_feature("plugins"), ConnectionConfig::default()).await?;
    /// println!("{:?}", conn.server_info());
    /// # Ok(()) }
    /// ```
    pub async fn spawn(spawn: SpawnConfig, config: ConnectionConfig) -> Result<Self> {
        let transport = Transport::spawn(&spawn, config.max_line_bytes)?;
        Self::connect(transport, config).await
    }

    /// Connects over `transport`: starts the reader and writer tasks, then (unless disabled)
    /// performs the `initialize` / `initialized` handshake. Must be called inside a tokio
    /// runtime.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), codex_client::Error> {
    /// use codex_client::{Connection, ConnectionConfig, Transport};
    /// let (transport, _peer) = Transport::memory();
    /// let conn = Connection::connect(transport, ConnectionConfig::default().handshake(false)).await?;
    /// assert!(conn.stats().is_idle());
    /// # Ok(()) }
    /// ```
    pub async fn connect(transport: Transport, config: ConnectionConfig) -> Result<Self> {
        let Transport {
            incoming,
            outgoing,
            control,
        } = transport;
        let (writer_tx, writer_rx) = mpsc::unbounded_channel();
        let writes = Arc::new(WriteQueue::new(writer_tx, config.write_queue_limit));
        let (done_tx, done_rx) = watch::channel(false);
        let open_requests = Arc::new(OpenRequests::default());
        let core = Arc::new(Core {
            router: Router::new(RouterLimits::from(&config)),
            writes: writes.clone(),
            answers: Arc::new(WriterHandle {
                writes,
                open: open_requests.clone(),
            }),
            open_requests,
            handler: config.handler.clone(),
            control,
            next_id: AtomicI64::new(1),
            in_flight: Arc::new(Semaphore::new(config.max_in_flight)),
            closing: AtomicBool::new(false),
            reader_done: done_rx,
            server_info: OnceLock::new(),
            malformed_lines: AtomicU64::new(0),
            request_timeout: config.request_timeout,
            server_request_timeout: config.server_request_timeout,
            max_line_bytes: config.max_line_bytes,
        });
        tokio::spawn(run_writer(core.clone(), outgoing, writer_rx));
        tokio::spawn(run_reader(core.clone(), incoming, done_tx));
        let conn = Connection {
            handle: Arc::new(Handle {
                core,
                close_timeout: config.close_timeout,
            }),
        };
        if config.initialize {
            conn.initialize(&config).await?;
        }
        Ok(conn)
    }

    /// Connects to a running app-server by URL (`unix://PATH`, `unix://`, and with their
    /// features `ws://`, `wss://`; see [`Transport::connect`]) and performs the handshake. Messages larger than the
    /// config's `max_line_bytes` end the connection, as on stdio. A lost connection ends every
    /// pending call and stream with [`Error::Closed`]; reconnecting is a new call.
    ///
    /// ```no_run
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), codex_client::Error> {
    /// use codex_client::{Connection, ConnectionConfig};
    /// use codex_client::transport::ConnectOptions;
    /// let options = ConnectOptions::new().bearer_token_file("/etc/codex/ws-token").expect("token");
    /// let conn = Connection::connect_url("ws://127.0.0.1:4500", &options, ConnectionConfig::default()).await?;
    /// println!("{:?}", conn.server_info());
    /// # Ok(()) }
    /// ```
    pub async fn connect_url(
        url: &str,
        options: &crate::transport::ConnectOptions,
        config: ConnectionConfig,
    ) -> Result<Self> {
        let options = options.clone().max_message_bytes(config.max_line_bytes);
        let transport = crate::transport::connect(url, &options)
            .await
            .map_err(crate::transport::ConnectError::into_error)?;
        Self::connect(transport, config).await
    }

    async fn initialize(&self, config: &ConnectionConfig) -> Result<()> {
        let info = &config.client_info;
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("experimentalApi".into(), config.experimental_api.into());
        if !config.opt_out_notifications.is_empty() {
            capabilities.insert(
                "optOutNotificationMethods".into(),
                config.opt_out_notifications.clone().into(),
            );
        }
        let params = serde_json::json!({
            "clientInfo": {"name": info.name, "title": info.title, "version": info.version},
            "capabilities": capabilities,
        });
        let result = self
            .request_raw_with(
                "initialize",
                Some(params),
                RequestOptions::new().timeout(config.initialize_timeout),
            )
            .await?;
        let text = |key: &str| result.get(key).and_then(Value::as_str).map(str::to_owned);
        let mut server = ServerInfo::from_user_agent(&text("userAgent").unwrap_or_default());
        server.codex_home = text("codexHome");
        server.platform_family = text("platformFamily");
        server.platform_os = text("platformOs");
        if server.version_matches() {
            tracing::debug!(user_agent = %server.user_agent, "initialized");
        } else {
            tracing::warn!(
                server_version = ?server.server_version,
                expected = CODEX_VERSION,
                user_agent = %server.user_agent,
                "app-server version differs from the version codex-client was generated for; \
                 unknown methods and fields are tolerated, but expect differences"
            );
        }
        let _ = self.handle.core.server_info.set(server);
        self.notify("initialized", None)?;
        Ok(())
    }

    /// What the server said at `initialize` (`None` before the handshake or without one).
    pub fn server_info(&self) -> Option<&ServerInfo> {
        self.handle.core.server_info.get()
    }

    /// Sends a typed request and waits for its typed response, with the connection's default
    /// timeout.
    ///
    /// ```no_run
    /// # async fn f(conn: codex_client::Connection) -> Result<(), codex_client::Error> {
    /// use codex_client::protocol::methods::ThreadStart;
    /// let params = serde_json::from_value(serde_json::json!({"cwd": "/tmp"})).unwrap();
    /// let response = conn.request::<ThreadStart>(params).await?;
    /// # let _ = response;
    /// # Ok(()) }
    /// ```
    pub async fn request<M: ClientMethod>(&self, params: M::Params) -> Result<M::Response> {
        self.request_with::<M>(params, RequestOptions::default())
            .await
    }

    /// [`request`](Self::request) with per-call options.
    pub async fn request_with<M: ClientMethod>(
        &self,
        params: M::Params,
        options: RequestOptions,
    ) -> Result<M::Response> {
        let params = encode_params(M::METHOD, &params)?;
        let reply = self
            .handle
            .core
            .call(M::METHOD, Some(params), options, None)
            .await?;
        decode_response::<M::Response>(M::METHOD, &reply.raw)
    }

    /// The untyped escape hatch: any method, any params (`None` omits them), the raw result.
    ///
    /// ```no_run
    /// # async fn f(conn: codex_client::Connection) -> Result<(), codex_client::Error> {
    /// let loaded = conn.request_raw("thread/loaded/list", Some(serde_json::json!({}))).await?;
    /// # let _ = loaded;
    /// # Ok(()) }
    /// ```
    pub async fn request_raw(&self, method: &str, params: Option<Value>) -> Result<Value> {
        self.request_raw_with(method, params, RequestOptions::default())
            .await
    }

    /// [`request_raw`](Self::request_raw) with per-call options.
    pub async fn request_raw_with(
        &self,
        method: &str,
        params: Option<Value>,
        options: RequestOptions,
    ) -> Result<Value> {
        let params = params.map(|p| p.to_string());
        let reply = self.handle.core.call(method, params, options, None).await?;
        decode_response::<Value>(method, &reply.raw)
    }

    /// Sends a request whose response starts a turn (`turn/start`, `review/start`) and returns
    /// the response together with the turn's stream. The route is registered by the reader when
    /// it reads the response, before this call returns, so no event of the turn is lost; if the
    /// turn was already running (a `turn/start` during an active turn returns that turn), the
    /// stream is one more subscriber of it.
    ///
    /// ```no_run
    /// # async fn f(conn: codex_client::Connection) -> Result<(), codex_client::Error> {
    /// use codex_client::{RequestOptions, SubscribeOptions};
    /// use codex_client::protocol::methods::TurnStart;
    /// use futures::StreamExt;
    /// let params = serde_json::from_value(serde_json::json!({
    ///     "threadId": "thr_1", "input": [{"type": "text", "text": "hi"}]
    /// })).unwrap();
    /// let (response, mut turn) = conn
    ///     .request_turn::<TurnStart>(params, SubscribeOptions::new(), RequestOptions::new())
    ///     .await?;
    /// while let Some(event) = turn.next().await {
    ///     let _ = event?;
    /// }
    /// # let _ = response;
    /// # Ok(()) }
    /// ```
    pub async fn request_turn<M: ClientMethod>(
        &self,
        params: M::Params,
        subscribe: SubscribeOptions,
        options: RequestOptions,
    ) -> Result<(M::Response, TurnStream)> {
        let params = encode_params(M::METHOD, &params)?;
        let reply = self
            .handle
            .core
            .call(M::METHOD, Some(params), options, Some(subscribe))
            .await?;
        let response = decode_response::<M::Response>(M::METHOD, &reply.raw)?;
        let stream = reply
            .turn
            .ok_or_else(|| Error::Protocol(format!("`{}` did not start a turn", M::METHOD)))?;
        Ok((response, stream))
    }

    /// `turn/start`, returning the response and the turn's stream (see
    /// [`request_turn`](Self::request_turn)).
    ///
    /// ```no_run
    /// # async fn f(conn: codex_client::Connection) -> Result<(), codex_client::Error> {
    /// let params = serde_json::from_value(serde_json::json!({
    ///     "threadId": "thr_1", "input": [{"type": "text", "text": "hi"}]
    /// })).unwrap();
    /// let (response, turn) = conn.start_turn(params).await?;
    /// assert_eq!(response.turn.id, turn.turn_id());
    /// # Ok(()) }
    /// ```
    pub async fn start_turn(
        &self,
        params: crate::proto::TurnStartParams,
    ) -> Result<(crate::proto::TurnStartResponse, TurnStream)> {
        self.request_turn::<crate::proto::methods::TurnStart>(
            params,
            SubscribeOptions::default(),
            RequestOptions::default(),
        )
        .await
    }

    /// Subscribes to a turn by id. The first subscriber of a turn gets its events from the
    /// start (buffered ones replayed); later subscribers from now on.
    ///
    /// ```no_run
    /// # fn f(conn: codex_client::Connection) {
    /// let stream = conn.subscribe_turn("turn_1");
    /// # }
    /// ```
    pub fn subscribe_turn(&self, turn_id: &str) -> TurnStream {
        self.subscribe_turn_with(turn_id, SubscribeOptions::default())
    }

    /// [`subscribe_turn`](Self::subscribe_turn) with options (e.g. receive the turn's server
    /// requests in the stream).
    pub fn subscribe_turn_with(&self, turn_id: &str, options: SubscribeOptions) -> TurnStream {
        self.handle.core.router.subscribe_turn(turn_id, options)
    }

    /// Subscribes to the notifications of a thread that no turn stream takes (thread status,
    /// name, events of turns nobody subscribed to, ...).
    ///
    /// ```no_run
    /// # fn f(conn: codex_client::Connection) {
    /// let stream = conn.subscribe_thread("thr_1");
    /// # }
    /// ```
    pub fn subscribe_thread(&self, thread_id: &str) -> NotificationStream {
        self.handle.core.router.subscribe_thread(thread_id)
    }

    /// Subscribes to every notification that no turn or thread stream takes.
    ///
    /// ```no_run
    /// # fn f(conn: codex_client::Connection) {
    /// let stream = conn.notifications();
    /// # }
    /// ```
    pub fn notifications(&self) -> NotificationStream {
        self.handle.core.router.subscribe_global()
    }

    /// Sends a client notification (the protocol has one: `initialized`, sent by the handshake).
    pub fn notify(&self, method: &str, params: Option<Value>) -> Result<()> {
        let core = &self.handle.core;
        core.check_open()?;
        let mut line = String::from("{\"method\":");
        line.push_str(&serde_json::to_string(method).expect("a string serializes"));
        if let Some(p) = params {
            line.push_str(",\"params\":");
            line.push_str(&p.to_string());
        }
        line.push('}');
        if core.writes.send_line(line) {
            Ok(())
        } else {
            Err(core.closed_error())
        }
    }

    /// Bytes waiting in the writer's queue, not yet taken by the writer — the lines' bytes plus
    /// 128 per line for the queue's own memory (bounded by
    /// [`ConnectionConfig::write_queue_limit`], which answers to server requests may exceed
    /// while the reader holds off).
    ///
    /// ```no_run
    /// # fn f(conn: codex_client::Connection) {
    /// assert_eq!(conn.write_queue_bytes(), 0, "nothing waits to be written");
    /// # }
    /// ```
    pub fn write_queue_bytes(&self) -> usize {
        self.handle.core.writes.bytes.load(Ordering::Relaxed)
    }

    /// Sizes of the router's tables.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), codex_client::Error> {
    /// # let (transport, _peer) = codex_client::Transport::memory();
    /// # let conn = codex_client::Connection::connect(transport, codex_client::ConnectionConfig::default().handshake(false)).await?;
    /// let stats = conn.stats();
    /// assert_eq!(stats.waiters, 0);
    /// # Ok(()) }
    /// ```
    pub fn stats(&self) -> RouterStats {
        self.handle.core.router.stats()
    }

    /// How many server requests wait for this client's answer (handlers running, requests held
    /// in turn streams). Exact: one id is one open request (a duplicate of an open id is
    /// refused, not counted).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), codex_client::Error> {
    /// # let (transport, _peer) = codex_client::Transport::memory();
    /// # let conn = codex_client::Connection::connect(transport, codex_client::ConnectionConfig::default().handshake(false)).await?;
    /// assert_eq!(conn.open_server_requests(), 0);
    /// # Ok(()) }
    /// ```
    pub fn open_server_requests(&self) -> usize {
        self.handle.core.open_requests.len()
    }

    /// How many lines from the server were malformed: skipped, or, for a server request whose
    /// id is unusable (`1.5`, `null`, `{}`, ...) or still open (a duplicate), answered with
    /// [`INVALID_REQUEST_CODE`](crate::INVALID_REQUEST_CODE).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), codex_client::Error> {
    /// # let (transport, _peer) = codex_client::Transport::memory();
    /// # let conn = codex_client::Connection::connect(transport, codex_client::ConnectionConfig::default().handshake(false)).await?;
    /// assert_eq!(conn.malformed_lines(), 0);
    /// # Ok(()) }
    /// ```
    pub fn malformed_lines(&self) -> u64 {
        self.handle.core.malformed_lines.load(Ordering::Relaxed)
    }

    /// `Some` once the connection is closed, with why.
    pub fn closed(&self) -> Option<Arc<ClosedInfo>> {
        self.handle.core.router.closed()
    }

    /// `true` once the connection is closed or closing.
    pub fn is_closed(&self) -> bool {
        self.handle.core.closing.load(Ordering::Acquire) || self.closed().is_some()
    }

    /// The app-server's process id (stdio transport).
    pub fn pid(&self) -> Option<u32> {
        self.handle.core.control.pid()
    }

    /// The last lines of the app-server's stderr so far.
    pub fn stderr_tail(&self) -> String {
        self.handle.core.control.stderr_tail()
    }

    /// Waits until the transport has ended (the reader finished) and returns why.
    pub async fn wait_closed(&self) -> Arc<ClosedInfo> {
        let mut done = self.handle.core.reader_done.clone();
        let _ = done.wait_for(|d| *d).await;
        self.closed()
            .unwrap_or_else(|| Arc::new(ClosedInfo::new("closed")))
    }

    /// Closes gracefully: stops accepting calls, closes the app-server's stdin (it exits on
    /// EOF), waits up to the close timeout, then SIGTERM, wait, SIGKILL. Every pending request
    /// and open stream ends with [`Error::Closed`]. Returns why the connection ended (with the
    /// exit status). Idempotent.
    ///
    /// ```no_run
    /// # async fn f(conn: codex_client::Connection) {
    /// let info = conn.close().await;
    /// println!("{info}");
    /// # }
    /// ```
    pub async fn close(&self) -> Arc<ClosedInfo> {
        let core = &self.handle.core;
        core.closing.store(true, Ordering::Release);
        if let Some(info) = core.router.closed() {
            return info;
        }
        let grace = self.handle.close_timeout;
        let (ack_tx, ack_rx) = oneshot::channel();
        let _ = core.writes.tx.send(WriterMsg::Close(Some(ack_tx)));
        let _ = tokio::time::timeout(grace, ack_rx).await;
        if core.wait_reader(grace).await {
            return self.wait_closed().await;
        }
        tracing::debug!("app-server still running after stdin closed; terminating it");
        core.control.shutdown(grace).await;
        if core.wait_reader(grace).await {
            return self.wait_closed().await;
        }
        tracing::warn!("app-server output did not end after kill; closing the connection anyway");
        core.router.fail_all(Arc::new(
            ClosedInfo::new("closed by the client (the transport did not end)")
                .with_stderr_tail(core.control.stderr_tail()),
        ))
    }
}

fn encode_params<P: Serialize>(method: &str, params: &P) -> Result<String> {
    serde_json::to_string(params).map_err(|source| Error::Encode {
        method: method.to_owned(),
        source,
    })
}

fn decode_response<T: DeserializeOwned>(method: &str, raw: &RawValue) -> Result<T> {
    serde_json::from_str(raw.get()).map_err(|source| Error::Decode {
        method: method.to_owned(),
        raw: raw.get().to_owned(),
        source,
    })
}

/// Takes a request's line back out of the writer's queue when its caller gives up before the
/// writer took it (a no-op once it did).
struct Withdraw<'a> {
    writes: &'a WriteQueue,
    request: Arc<QueuedRequest>,
}

impl Drop for Withdraw<'_> {
    fn drop(&mut self) {
        self.writes.withdraw(&self.request);
    }
}

/// Removes a request's waiter when its caller gives up (timeout, cancellation). Disarmed once the
/// reply arrived: the reader already took the waiter out of the table.
struct WaiterGuard<'a> {
    router: &'a Router,
    id: i64,
    answered: bool,
}

impl Drop for WaiterGuard<'_> {
    fn drop(&mut self) {
        if !self.answered {
            self.router.remove_waiter(self.id);
        }
    }
}

impl Core {
    fn closed_error(&self) -> Error {
        Error::Closed(self.router.closed().unwrap_or_else(|| {
            Arc::new(
                ClosedInfo::new("the connection is closing")
                    .with_stderr_tail(self.control.stderr_tail()),
            )
        }))
    }

    fn check_open(&self) -> Result<()> {
        if self.closing.load(Ordering::Acquire) || self.router.closed().is_some() {
            return Err(self.closed_error());
        }
        Ok(())
    }

    async fn wait_reader(&self, timeout: Duration) -> bool {
        let mut done = self.reader_done.clone();
        tokio::time::timeout(timeout, done.wait_for(|d| *d))
            .await
            .is_ok()
    }

    async fn call(
        &self,
        method: &str,
        params: Option<String>,
        options: RequestOptions,
        turn: Option<SubscribeOptions>,
    ) -> Result<Reply> {
        self.check_open()?;
        let timeout = options.timeout.unwrap_or(self.request_timeout);
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let span = tracing::debug_span!("codex.request", method, id);
        let line = encode_request(id, method, params.as_deref());
        drop(params);
        // A full queue fails at once, not after waiting for a slot: the server is not reading.
        if !self
            .writes
            .fits(self.writes.bytes.load(Ordering::Relaxed), line.len())
        {
            let err = self.writes.full_error(method, line.len());
            tracing::warn!(method, id, %err, "request refused");
            return Err(err);
        }
        let fut = async {
            let _permit = self
                .in_flight
                .acquire()
                .await
                .map_err(|_| self.closed_error())?;
            let (tx, rx) = oneshot::channel();
            self.router.add_waiter(
                id,
                Waiter {
                    method: method.into(),
                    tx,
                    turn,
                },
            )?;
            let mut guard = WaiterGuard {
                router: &self.router,
                id,
                answered: false,
            };
            let queued = match self.writes.send_request(method, line) {
                Ok(queued) => queued,
                Err(Error::Closed(_)) => return Err(self.closed_error()),
                Err(err) => {
                    tracing::warn!(method, id, %err, "request refused");
                    return Err(err);
                }
            };
            // Given up (timeout, cancellation) before the writer took it: not written at all.
            let _unsent = Withdraw {
                writes: &self.writes,
                request: queued,
            };
            tracing::trace!("request queued");
            let reply = rx.await;
            guard.answered = reply.is_ok();
            match reply {
                Ok(reply) => reply,
                Err(_) => Err(self.closed_error()),
            }
        };
        match tokio::time::timeout(timeout, fut).instrument(span).await {
            Ok(result) => result,
            Err(_) => {
                tracing::warn!(method, id, ?timeout, "request timed out");
                Err(Error::Timeout {
                    method: method.to_owned(),
                    timeout,
                })
            }
        }
    }

    // ----- reader side -------------------------------------------------------------------------

    fn handle_line(&self, line: String, wakes: &mut Wakes) {
        if line.trim().is_empty() {
            return;
        }
        let located = match Incoming::parse(&line) {
            Err(err) => {
                self.malformed_lines.fetch_add(1, Ordering::Relaxed);
                if let Some(raw_id) = err.request_id() {
                    let why = format!("codex-client: invalid request: {err}");
                    return self.refuse_server_request(raw_id, &why);
                }
                tracing::warn!(error = %err, line = %truncated(&line, 300), "skipping a malformed line from the app-server");
                return;
            }
            Ok(Incoming::Response { id, result }) => return self.on_response(id, Ok(result)),
            Ok(Incoming::Error { id, error }) => return self.on_response(id, Err(error)),
            Ok(Incoming::Request { id, method, params }) => {
                return self.on_server_request(id, &method, params);
            }
            Ok(Incoming::Notification { method, params, .. }) => {
                Located::find(&line, &method, params)
            }
        };
        self.on_notification(RoutedNotification::new(line, located), wakes);
    }

    fn on_response(&self, id: RequestId, outcome: std::result::Result<&RawValue, RpcError>) {
        let waiter = match &id {
            RequestId::Integer(n) => self.router.take_waiter(*n),
            RequestId::String(_) => None,
        };
        let Some(waiter) = waiter else {
            self.malformed_lines.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(%id, "response to an unknown (or timed-out) request id; skipped");
            return;
        };
        let method = waiter.method;
        let reply = match outcome {
            Err(error) => Err(Error::Rpc {
                method: method.to_string(),
                error,
            }),
            Ok(raw) => match waiter.turn {
                None => Ok(Reply {
                    raw: raw.to_owned(),
                    turn: None,
                }),
                Some(options) => match turn_id_of(raw) {
                    Ok(turn_id) => {
                        // Registered here, on the reader, before the caller wakes up: no event
                        // of the turn can be routed in between.
                        let stream = self.router.subscribe_turn(&turn_id, options);
                        Ok(Reply {
                            raw: raw.to_owned(),
                            turn: Some(stream),
                        })
                    }
                    Err(source) => Err(Error::Decode {
                        method: method.to_string(),
                        raw: raw.get().to_owned(),
                        source,
                    }),
                },
            },
        };
        // If the caller is gone, the reply (and its turn stream) is dropped: no route remains.
        let _ = waiter.tx.send(reply);
    }

    fn on_notification(&self, event: RoutedNotification, wakes: &mut Wakes) {
        if event.method() == SERVER_REQUEST_RESOLVED
            && let ServerNotification::ServerRequestResolved(resolved) = &*event.decoded()
        {
            self.open_requests.resolve(&resolved.request_id);
        }
        self.router.route_notification(event, wakes);
    }

    /// Answers a server request this client cannot take with Invalid Request (-32600), without
    /// tracking it: it reaches no handler and no stream.
    fn refuse_server_request(&self, raw_id: &str, why: &str) {
        tracing::warn!(id = %truncated(raw_id, 100), reason = %why, "refusing a server request (JSON-RPC -32600)");
        let _ = self.writes.send_line(invalid_request_answer(raw_id, why));
    }

    fn on_server_request(&self, id: RequestId, method: &str, params: Option<&RawValue>) {
        if self.open_requests.contains(&id) {
            // One open request per id: the first keeps its handler or stream and its entry.
            self.malformed_lines.fetch_add(1, Ordering::Relaxed);
            let why = format!(
                "codex-client: duplicate request id {id} (`{method}`): request {id} is still open"
            );
            let raw_id = serde_json::to_string(&id).expect("an id serializes");
            return self.refuse_server_request(&raw_id, &why);
        }
        let mut responder = Responder::new(id, method.to_owned(), self.answers.clone());
        let request = match ServerRequest::decode(method, params) {
            Ok(r) => r,
            Err(err) => {
                tracing::warn!(method, error = %err, "server request did not decode; answering fail-closed");
                responder.fail_closed();
                return;
            }
        };
        tracing::debug!(method, "server request");
        // Armed before routing: once in a stream, the request is the consumer's to answer, and
        // the watchdog is what keeps an ignored request from blocking the turn forever.
        self.open_requests.insert(&responder);
        responder.arm_watchdog(self.server_request_timeout);
        let pending = PendingServerRequest::new(request, responder);
        if let Some(pending) = self.router.route_server_request(pending) {
            let (request, mut responder) = pending.into_parts();
            responder.disarm_watchdog();
            spawn_handler(
                self.handler.clone(),
                PendingServerRequest::new(request, responder),
                self.server_request_timeout,
                &self.open_requests,
            );
        }
    }
}

#[derive(serde::Deserialize)]
struct TurnOnly<'a> {
    #[serde(borrow)]
    turn: IdOnly<'a>,
}

#[derive(serde::Deserialize)]
struct IdOnly<'a> {
    #[serde(borrow)]
    id: std::borrow::Cow<'a, str>,
}

/// The `turn.id` of a turn-starting response, without decoding the rest.
fn turn_id_of(raw: &RawValue) -> serde_json::Result<String> {
    let t: TurnOnly<'_> = serde_json::from_str(raw.get())?;
    Ok(t.turn.id.into_owned())
}

pub(crate) fn truncated(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

const SERVER_REQUEST_RESOLVED: &str = "serverRequest/resolved";

/// At most this many lines are routed before the woken consumers are actually woken...
const WAKE_BATCH: usize = 256;

/// ... or this many bytes of lines, whichever comes first: a burst of large lines (the
/// `item/completed` of many long answers at once) is handed over while the reader goes on,
/// instead of waiting in the queues all together until the batch ends.
const WAKE_BATCH_BYTES: usize = 64 * 1024;

async fn run_reader(core: Arc<Core>, mut incoming: LineStream, done: watch::Sender<bool>) {
    // Consumers are woken once per batch of lines (whatever the transport has ready), not once
    // per event: a fast consumer then takes a whole batch per wake-up.
    let mut wakes = Wakes::default();
    let (mut batch, mut batch_bytes) = (0usize, 0usize);
    let (reason, peer_may_live) = loop {
        let next = match incoming.next().now_or_never() {
            Some(item) if batch < WAKE_BATCH && batch_bytes < WAKE_BATCH_BYTES => {
                batch += 1;
                item
            }
            ready => {
                wakes.wake_all();
                (batch, batch_bytes) = (0, 0);
                match ready {
                    Some(item) => item,
                    None => incoming.next().await,
                }
            }
        };
        match next {
            Some(Ok(line)) => {
                if line.len() > core.max_line_bytes {
                    let err = Error::LineTooLong {
                        limit: core.max_line_bytes,
                    };
                    break (format!("{err} (the connection was closed)"), true);
                }
                batch_bytes += line.len();
                core.handle_line(line, &mut wakes);
                if wakes.must_wait() {
                    // A consumer's queue is full: give it the grace to catch up (the line
                    // that filled it is queued) before reading on.
                    core.router.wait_for_room(&mut wakes).await;
                    (batch, batch_bytes) = (0, 0);
                }
                if core.writes.over_limit() {
                    // Our answers are not being read: read nothing more (the server's output
                    // stalls behind them) until they are, or the writer is gone.
                    wakes.wake_all();
                    (batch, batch_bytes) = (0, 0);
                    tracing::debug!(
                        "the app-server is not reading: the reader waits for the writer"
                    );
                    core.writes.wait_for_room().await;
                }
            }
            Some(Err(err)) => break (format!("{err}"), true),
            None if core.closing.load(Ordering::Acquire) => {
                break ("closed by the client".to_owned(), false);
            }
            None => break ("the app-server closed its output".to_owned(), false),
        }
    };
    drop(incoming);
    wakes.wake_all();
    tracing::debug!(%reason, "reader finished");
    // The connection is unusable after a read error: stop the peer now. After EOF the peer is
    // exiting on its own; `close_info` waits (bounded) for its real exit status, then kills.
    if peer_may_live {
        core.control.kill();
    }
    let info = core.control.close_info(reason).await;
    let info = core.router.fail_all(Arc::new(info));
    tracing::debug!(%info, "connection closed");
    let _ = core.writes.tx.send(WriterMsg::Close(None));
    let _ = done.send(true);
}

/// What the writer does with a message taken from its queue.
enum Taken {
    Write(String),
    /// A request whose caller gave up before it was taken: nothing to write.
    Skip,
    Close(Option<oneshot::Sender<()>>),
}

impl WriteQueue {
    /// Takes `msg` out of the queue's byte count (see [`QueuedRequest`]).
    fn taken(&self, msg: WriterMsg) -> Taken {
        let line = match msg {
            WriterMsg::Close(ack) => return Taken::Close(ack),
            WriterMsg::Line(line) => line,
            WriterMsg::Request(request) => match request.take() {
                Some(line) => line,
                None => return Taken::Skip,
            },
        };
        self.release(line.len());
        Taken::Write(line)
    }
}

async fn run_writer(
    core: Arc<Core>,
    mut sink: LineSink,
    mut rx: mpsc::UnboundedReceiver<WriterMsg>,
) {
    let writes = core.writes.clone();
    let result: std::io::Result<Option<oneshot::Sender<()>>> = async {
        while let Some(msg) = rx.recv().await {
            match writes.taken(msg) {
                Taken::Close(ack) => return Ok(ack),
                Taken::Skip => {}
                Taken::Write(line) => {
                    sink.feed(line).await?;
                    // Let the tasks woken with this one queue their lines too, then batch
                    // what is queued into one write.
                    tokio::task::yield_now().await;
                    while let Ok(msg) = rx.try_recv() {
                        match writes.taken(msg) {
                            Taken::Write(line) => sink.feed(line).await?,
                            Taken::Skip => {}
                            Taken::Close(ack) => {
                                sink.flush().await?;
                                return Ok(ack);
                            }
                        }
                    }
                    sink.flush().await?;
                }
            }
        }
        Ok(None)
    }
    .await;
    writes.writer_ended();
    match result {
        Ok(ack) => {
            let _ = sink.close().await;
            drop(sink);
            if let Some(ack) = ack {
                let _ = ack.send(());
            }
        }
        Err(err) => {
            if !core.closing.load(Ordering::Acquire) && core.router.closed().is_none() {
                tracing::warn!(%err, "writing to the app-server failed; closing the connection");
                core.control.kill();
            }
        }
    }
    // Lines queued after this point are refused (the receiver is gone).
    drop(rx);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_lines_omit_null_params_and_escape_the_method() {
        assert_eq!(
            encode_request(7, "thread/start", Some(r#"{"cwd":"/tmp"}"#)),
            r#"{"id":7,"method":"thread/start","params":{"cwd":"/tmp"}}"#
        );
        assert_eq!(
            encode_request(8, "account/rateLimits/read", Some("null")),
            r#"{"id":8,"method":"account/rateLimits/read"}"#
        );
        assert_eq!(
            encode_request(9, "a\"b", None),
            r#"{"id":9,"method":"a\"b"}"#
        );
    }

    #[test]
    fn answers_are_result_or_error_objects() {
        let id = RequestId::Integer(0);
        assert_eq!(
            encode_answer(&id, Ok(serde_json::json!({"decision": "decline"}))).unwrap(),
            r#"{"id":0,"result":{"decision":"decline"}}"#
        );
        let err = RpcError {
            code: -32000,
            message: "no".into(),
            data: None,
        };
        let line = encode_answer(&id, Err(err)).unwrap();
        let v: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["error"]["code"], -32000);
        assert_eq!(v["id"], 0);
    }

    #[test]
    fn the_version_is_read_from_the_user_agent() {
        let info = ServerInfo::from_user_agent(
            "my_client/0.163.0 (Debian 12.0.0; x86_64) xterm (my_client; 0.1.0)",
        );
        assert_eq!(info.server_version.as_deref(), Some("0.163.0"));
        assert_eq!(ServerInfo::from_user_agent("").server_version, None);
        assert_eq!(ServerInfo::from_user_agent("noslash").server_version, None);
    }

    #[test]
    fn the_turn_id_is_read_without_decoding_the_rest() {
        let raw: Box<RawValue> = serde_json::from_str(
            r#"{"turn":{"id":"t-1","items":[{"big":[1,2,3]}],"status":"inProgress"}}"#,
        )
        .unwrap();
        assert_eq!(turn_id_of(&raw).unwrap(), "t-1");
        let raw: Box<RawValue> = serde_json::from_str(r#"{"turnId":"x"}"#).unwrap();
        assert!(turn_id_of(&raw).is_err());
    }
}

//! [`Connection`]: one JSON-RPC connection to an app-server — a reader task, a writer task,
//! and the calls: requests (typed, raw, turn-starting), subscriptions, the handshake, close.
//! Client request ids (a counter from 1) and server request ids live in separate tables. When
//! the transport ends, everything pending ends with [`Error::Closed`] (exit status, stderr tail)
//! and later calls fail fast.

mod options;
mod reader;
mod state;
mod waiters;
mod write_queue;

pub use options::{RequestOptions, ServerInfo};
pub(crate) use reader::truncated;

use crate::config::ConnectionConfig;
use crate::error::{ClosedInfo, Error, Result};
use crate::proto::{CODEX_VERSION, ClientMethod};
use crate::router::{
    NotificationStream, Router, RouterLimits, RouterStats, SubscribeOptions, TurnStream,
};
use crate::server_requests::OpenRequests;
use crate::spawn::SpawnConfig;
use crate::transport::Transport;
use reader::run_reader;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use serde_json::value::RawValue;
use state::Core;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::sync::{Semaphore, mpsc, oneshot, watch};
use waiters::Waiters;
use write_queue::{WriteQueue, WriterHandle, WriterMsg, run_writer};

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
/// use codex_client::SpawnConfig;
/// use codex_client::core::{Connection, ConnectionConfig};
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
    /// use codex_client::SpawnConfig;
    /// use codex_client::core::{Connection, ConnectionConfig};
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
    /// use codex_client::Transport;
    /// use codex_client::core::{Connection, ConnectionConfig};
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
            waiters: Waiters::default(),
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
    /// use codex_client::core::{Connection, ConnectionConfig};
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
    /// # async fn f(conn: codex_client::core::Connection) -> Result<(), codex_client::Error> {
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
        let (response, _raw) = self.request_and_raw_with::<M>(params, options).await?;
        Ok(response)
    }

    /// [`request`](Self::request), also returning the response's raw JSON: the `result` exactly
    /// as the server sent it, fields no schema names included (the typed response ignores
    /// those). Costs nothing more than `request` (the reader keeps the result's text for the
    /// decode either way; it is handed out instead of freed).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), codex_client::Error> {
    /// use codex_client::core::{Connection, ConnectionConfig};
    /// use codex_client::protocol::methods::ThreadLoadedList;
    /// let (transport, mut server) = codex_client::transport::Transport::memory();
    /// let conn = Connection::connect(transport, ConnectionConfig::default().handshake(false)).await?;
    /// let call = tokio::spawn({
    ///     let conn = conn.clone();
    ///     async move { conn.request_and_raw::<ThreadLoadedList>(Default::default()).await }
    /// });
    /// let request = server.recv_json().await.expect("the request");
    /// server.send(&format!(r#"{{"id":{},"result":{{"data":["th"],"nextCursor":null,"new":1}}}}"#, request["id"]));
    /// let (typed, raw) = call.await.unwrap()?;
    /// assert_eq!(typed.data, ["th"]);
    /// assert_eq!(raw.get(), r#"{"data":["th"],"nextCursor":null,"new":1}"#);
    /// # Ok(()) }
    /// ```
    pub async fn request_and_raw<M: ClientMethod>(
        &self,
        params: M::Params,
    ) -> Result<(M::Response, Box<RawValue>)> {
        self.request_and_raw_with::<M>(params, RequestOptions::default())
            .await
    }

    /// [`request_and_raw`](Self::request_and_raw) with per-call options.
    pub async fn request_and_raw_with<M: ClientMethod>(
        &self,
        params: M::Params,
        options: RequestOptions,
    ) -> Result<(M::Response, Box<RawValue>)> {
        let params = encode_params(M::METHOD, &params)?;
        let reply = self
            .handle
            .core
            .call(M::METHOD, Some(params), options, None)
            .await?;
        let response = decode_response::<M::Response>(M::METHOD, &reply.raw)?;
        Ok((response, reply.raw))
    }

    /// Raw JSON in, raw JSON out: any method, its params as JSON text (`None` omits them), the
    /// `result` exactly as the server sent it. No `serde_json::Value` is built either way (for
    /// a binding that has the params as text and hands the result on as text).
    ///
    /// ```no_run
    /// # async fn f(conn: codex_client::core::Connection) -> Result<(), Box<dyn std::error::Error>> {
    /// use serde_json::value::RawValue;
    /// let params = RawValue::from_string(r#"{"limit":5}"#.to_owned())?;
    /// let result = conn.request_raw_json("thread/list", Some(params)).await?;
    /// println!("{}", result.get());
    /// # Ok(()) }
    /// ```
    pub async fn request_raw_json(
        &self,
        method: &str,
        params: Option<Box<RawValue>>,
    ) -> Result<Box<RawValue>> {
        self.request_raw_json_with(method, params, RequestOptions::default())
            .await
    }

    /// [`request_raw_json`](Self::request_raw_json) with per-call options.
    pub async fn request_raw_json_with(
        &self,
        method: &str,
        params: Option<Box<RawValue>>,
        options: RequestOptions,
    ) -> Result<Box<RawValue>> {
        let params = params.map(|p| String::from(Box::<str>::from(p)));
        let reply = self.handle.core.call(method, params, options, None).await?;
        Ok(reply.raw)
    }

    /// The untyped escape hatch: any method, any params (`None` omits them), the raw result.
    ///
    /// ```no_run
    /// # async fn f(conn: codex_client::core::Connection) -> Result<(), codex_client::Error> {
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

    /// [`request_turn`](Self::request_turn) untyped, as [`request_raw_json`](Self::request_raw_json):
    /// the params as the caller wrote them, the response's `result` as the server sent it, and
    /// the turn's stream — its route registered by the reader before this returns, as for the
    /// typed call (what a binding that holds the params as text uses).
    ///
    /// ```no_run
    /// # async fn f(conn: codex_client::core::Connection) -> Result<(), Box<dyn std::error::Error>> {
    /// use codex_client::core::{RequestOptions, SubscribeOptions};
    /// use serde_json::value::RawValue;
    /// let params = RawValue::from_string(
    ///     r#"{"threadId":"thr_1","input":[{"type":"text","text":"hi"}]}"#.to_owned(),
    /// )?;
    /// let (response, turn) = conn
    ///     .request_turn_raw_json("turn/start", params, SubscribeOptions::new(), RequestOptions::new())
    ///     .await?;
    /// println!("{} {}", response.get(), turn.turn_id());
    /// # Ok(()) }
    /// ```
    pub async fn request_turn_raw_json(
        &self,
        method: &str,
        params: Box<RawValue>,
        subscribe: SubscribeOptions,
        options: RequestOptions,
    ) -> Result<(Box<RawValue>, TurnStream)> {
        let params = String::from(Box::<str>::from(params));
        let reply = self
            .handle
            .core
            .call(method, Some(params), options, Some(subscribe))
            .await?;
        let stream = reply
            .turn
            .ok_or_else(|| Error::Protocol(format!("`{method}` did not start a turn")))?;
        Ok((reply.raw, stream))
    }

    /// Sends a request whose response starts a turn (`turn/start`, `review/start`) and returns
    /// the response together with the turn's stream. The route is registered by the reader when
    /// it reads the response, before this call returns, so no event of the turn is lost; if the
    /// turn was already running (a `turn/start` during an active turn returns that turn), the
    /// stream is one more subscriber of it.
    ///
    /// ```no_run
    /// # async fn f(conn: codex_client::core::Connection) -> Result<(), codex_client::Error> {
    /// use codex_client::core::{RequestOptions, SubscribeOptions};
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
    /// # async fn f(conn: codex_client::core::Connection) -> Result<(), codex_client::Error> {
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
    pub fn subscribe_thread(&self, thread_id: &str) -> NotificationStream {
        self.handle.core.router.subscribe_thread(thread_id)
    }

    /// Subscribes to every notification that no turn or thread stream takes.
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
    pub fn write_queue_bytes(&self) -> usize {
        self.handle.core.writes.bytes.load(Ordering::Relaxed)
    }

    /// Sizes of the router's tables.
    pub fn stats(&self) -> RouterStats {
        let core = &self.handle.core;
        RouterStats {
            waiters: core.waiters.len(),
            ..core.router.stats()
        }
    }

    /// How many server requests wait for this client's answer (handlers running, requests held
    /// in turn streams). Exact: one id is one open request (a duplicate of an open id is
    /// refused, not counted).
    pub fn open_server_requests(&self) -> usize {
        self.handle.core.open_requests.len()
    }

    /// How many lines from the server were malformed: skipped, or, for a server request whose
    /// id is unusable (`1.5`, `null`, `{}`, ...) or still open (a duplicate), answered with
    /// [`INVALID_REQUEST_CODE`](crate::INVALID_REQUEST_CODE).
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
        core.fail_all(Arc::new(
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

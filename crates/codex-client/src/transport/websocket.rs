//! The websocket transport: a running app-server reached over `ws://`, `wss://` or (through
//! [`super::unix`]) its `unix://` control socket, which speaks the same websocket protocol.
//!
//! One JSON-RPC message per text frame, both ways. The connection is split in two halves that
//! never wait for each other:
//!
//! - the **read half** is the transport's inbound line stream, polled directly by the
//!   connection's reader task, which never awaits a consumer. The app-server disconnects a
//!   websocket client whose outbound queue reaches 128 messages, so reading must keep up with the
//!   server no matter how slowly the caller consumes events; it does, because every slow consumer
//!   only fills its own bounded queue (and gets `Lagged`). Pings are answered by the websocket
//!   library (tokio-websockets) while reading; a close frame ends the stream after the closing
//!   handshake.
//! - the **write half** belongs to a writer task fed by a bounded channel (the transport's
//!   outbound sink). It batches frames into one flush, sends keepalive pings, and, when the
//!   connection closes its output, sends the close frame.
//!
//! Keepalive: every `keepalive` interval the writer sends a ping; when nothing at all (frame,
//! pong) has arrived for two intervals the connection is declared lost and the inbound stream
//! ends with an error, so every pending call and stream ends with `Closed` instead of waiting on
//! a half-open TCP connection forever.
//!
//! Security: the bearer token (`Authorization: Bearer ...`, the app-server's
//! `--ws-auth capability-token` or `signed-bearer-token` mode) is sent only over `wss://` or to a
//! loopback peer; anything else is refused before a byte is sent. The websocket library,
//! tokio-websockets, logs nothing (it depends on neither `log` nor `tracing`), so neither the
//! upgrade request (token included) nor any message's payload (an API-key login's key included)
//! reaches an application's logger at any level; this module's own `tracing` events carry
//! endpoints, sizes and reasons, never a payload. A server that echoes the request in a
//! refusal's body has the token redacted from the error. Plain `ws://` to a host that is not
//! loopback (possible without a token) is logged as a `tracing` warning, once per connection: the
//! traffic is not encrypted. No `Origin` header is ever sent
//! (the app-server answers 403 to any request carrying one). TLS is rustls on the `ring`
//! provider with the operating system's root certificates (plus any added with
//! [`ConnectOptions::add_root_certificates_pem`]): self-hosted app-servers are typically fronted by
//! an organisation's own CA, which lives in the system store, not in a compiled-in Mozilla list.

use super::{Transport, TransportControl};
use crate::error::{ClosedInfo, Error};
use futures::future::BoxFuture;
use futures::{SinkExt, Stream, StreamExt};
use http::{HeaderValue, StatusCode, Uri, header};
use std::fmt;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::mpsc;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};
use tokio_websockets::{CloseCode, Limits, Message, WebSocketStream};
use tracing::Instrument;

/// How long the writer waits for the close frame to go out when the connection closes.
const CLOSE_WAIT: Duration = Duration::from_secs(2);
/// Lines queued between the connection's writer and the websocket writer.
const OUTBOUND_QUEUE: usize = 256;

/// How to reach a remote app-server: the bearer token, timeouts, TLS roots, limits.
///
/// ```
/// use codex_client::transport::ConnectOptions;
/// use std::time::Duration;
///
/// let options = ConnectOptions::new()
///     .bearer_token("s3cret")
///     .connect_timeout(Duration::from_secs(5))
///     .keepalive(Some(Duration::from_secs(20)));
/// assert!(!format!("{options:?}").contains("s3cret"));
/// ```
#[derive(Clone)]
pub struct ConnectOptions {
    pub(crate) token: Option<String>,
    pub(crate) connect_timeout: Duration,
    pub(crate) keepalive: Option<Duration>,
    pub(crate) max_message_bytes: usize,
    pub(crate) native_roots: bool,
    pub(crate) extra_roots: Vec<CertificateDer<'static>>,
    pub(crate) codex_home: Option<PathBuf>,
}

impl fmt::Debug for ConnectOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectOptions")
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("connect_timeout", &self.connect_timeout)
            .field("keepalive", &self.keepalive)
            .field("max_message_bytes", &self.max_message_bytes)
            .field("native_roots", &self.native_roots)
            .field("extra_roots", &self.extra_roots.len())
            .field("codex_home", &self.codex_home)
            .finish()
    }
}

impl Default for ConnectOptions {
    fn default() -> Self {
        Self {
            token: None,
            connect_timeout: Duration::from_secs(10),
            keepalive: Some(Duration::from_secs(30)),
            max_message_bytes: 64 * 1024 * 1024,
            native_roots: true,
            extra_roots: Vec::new(),
            codex_home: None,
        }
    }
}

impl ConnectOptions {
    /// No token, 10 s to connect, a ping every 30 s, the system's TLS roots.
    ///
    /// ```
    /// let options = codex_client::transport::ConnectOptions::new();
    /// # let _ = options;
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// The bearer token for the app-server's `--ws-auth capability-token` (the content of its
    /// `--ws-token-file`) or `signed-bearer-token` (a JWT) mode. Sent as
    /// `Authorization: Bearer <token>`, and only over `wss://` or to a loopback address.
    ///
    /// ```
    /// let options = codex_client::transport::ConnectOptions::new().bearer_token("abc");
    /// # let _ = options;
    /// ```
    pub fn bearer_token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// Reads the bearer token from a file (trimmed, as the app-server reads its token file).
    ///
    /// ```no_run
    /// let options = codex_client::transport::ConnectOptions::new()
    ///     .bearer_token_file("/etc/codex/ws-token")?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn bearer_token_file(self, path: impl AsRef<Path>) -> std::io::Result<Self> {
        let token = std::fs::read_to_string(path)?;
        Ok(self.bearer_token(token.trim()))
    }

    /// Time allowed for everything before the websocket is open: name resolution, TCP, TLS and
    /// the HTTP upgrade. Default 10 s.
    ///
    /// ```
    /// let options = codex_client::transport::ConnectOptions::new()
    ///     .connect_timeout(std::time::Duration::from_secs(3));
    /// # let _ = options;
    /// ```
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Ping interval (default 30 s; `None` disables). The connection is declared lost when
    /// nothing arrives for two intervals.
    ///
    /// ```
    /// let options = codex_client::transport::ConnectOptions::new().keepalive(None);
    /// # let _ = options;
    /// ```
    pub fn keepalive(mut self, interval: Option<Duration>) -> Self {
        self.keepalive = interval.filter(|d| !d.is_zero());
        self
    }

    /// Largest message accepted from the server (default 64 MiB;
    /// [`Connection::connect_url`](crate::Connection::connect_url) uses the connection's
    /// `max_line_bytes`). A larger one closes the connection with
    /// [`Error::LineTooLong`].
    ///
    /// ```
    /// let options = codex_client::transport::ConnectOptions::new().max_message_bytes(1 << 20);
    /// # let _ = options;
    /// ```
    pub fn max_message_bytes(mut self, bytes: usize) -> Self {
        self.max_message_bytes = bytes.max(1024);
        self
    }

    /// Whether to trust the operating system's root certificates for `wss://` (default `true`).
    ///
    /// ```
    /// let options = codex_client::transport::ConnectOptions::new().native_roots(false);
    /// # let _ = options;
    /// ```
    pub fn native_roots(mut self, enabled: bool) -> Self {
        self.native_roots = enabled;
        self
    }

    /// Trusts the CA certificates in `pem` (one or more `BEGIN CERTIFICATE` blocks) for
    /// `wss://`, in addition to (or, with `native_roots(false)`, instead of) the system's.
    ///
    /// ```
    /// let err = codex_client::transport::ConnectOptions::new()
    ///     .add_root_certificates_pem(b"not a certificate")
    ///     .unwrap_err();
    /// assert!(err.to_string().contains("no certificate"));
    /// ```
    pub fn add_root_certificates_pem(mut self, pem: &[u8]) -> Result<Self, Error> {
        let before = self.extra_roots.len();
        for cert in CertificateDer::pem_slice_iter(pem) {
            let cert = cert.map_err(|e| {
                ConnectError::new(ConnectErrorKind::Tls, "(options)", format!("bad PEM: {e}"))
                    .into_error()
            })?;
            self.extra_roots.push(cert);
        }
        if self.extra_roots.len() == before {
            return Err(ConnectError::new(
                ConnectErrorKind::Tls,
                "(options)",
                "no certificate found in the PEM data",
            )
            .into_error());
        }
        Ok(self)
    }

    /// The `CODEX_HOME` whose default control socket `unix://` means (default: the
    /// `CODEX_HOME` environment variable, else `~/.codex`).
    ///
    /// ```
    /// let options = codex_client::transport::ConnectOptions::new().codex_home("/srv/codex");
    /// # let _ = options;
    /// ```
    pub fn codex_home(mut self, dir: impl Into<PathBuf>) -> Self {
        self.codex_home = Some(dir.into());
        self
    }
}

/// What went wrong while connecting.
///
/// ```
/// use codex_client::transport::ConnectErrorKind;
/// assert_ne!(ConnectErrorKind::Refused, ConnectErrorKind::Timeout);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConnectErrorKind {
    /// The URL is not `ws://HOST:PORT[/PATH]`, `wss://...`, `unix://PATH` or `unix://`.
    InvalidUrl,
    /// A bearer token would have been sent in clear text to a host that is not loopback.
    InsecureToken,
    /// The host name did not resolve.
    Resolve,
    /// Nobody listens there (TCP refused; no such socket file).
    Refused,
    /// Connecting took longer than [`ConnectOptions::connect_timeout`].
    Timeout,
    /// The TLS handshake failed (certificate, protocol) or the TLS set-up is unusable.
    Tls,
    /// The server answered the websocket upgrade with this HTTP status (401: the token is
    /// missing or wrong).
    Http(u16),
    /// The websocket upgrade failed otherwise (not a websocket server, bad answer).
    Handshake,
    /// Another I/O error.
    Io,
}

/// Why [`Transport::connect`] failed: the endpoint (never the token) and what happened.
///
/// It reaches the caller as [`Error::Connect`].
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use codex_client::Error;
/// use codex_client::transport::{ConnectErrorKind, ConnectOptions};
/// let err = codex_client::Transport::connect("http://example.com", &ConnectOptions::new())
///     .await
///     .unwrap_err();
/// let Error::Connect(err) = err else { panic!("a connect error: {err}") };
/// assert_eq!(err.kind, ConnectErrorKind::InvalidUrl);
/// assert_eq!(err.endpoint, "http://example.com");
/// # }
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ConnectError {
    /// What failed.
    pub kind: ConnectErrorKind,
    /// The endpoint, as given (without credentials).
    pub endpoint: String,
    /// Details: the OS or TLS error, the HTTP body, ...
    pub detail: String,
}

impl ConnectError {
    pub(super) fn new(
        kind: ConnectErrorKind,
        endpoint: impl Into<String>,
        detail: impl Into<String>,
    ) -> Self {
        Self {
            kind,
            endpoint: endpoint.into(),
            detail: detail.into(),
        }
    }

    fn into_error(self) -> Error {
        Error::Connect(self)
    }
}

impl fmt::Display for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            ConnectErrorKind::InvalidUrl => "invalid URL".to_owned(),
            ConnectErrorKind::InsecureToken => "refusing to send the bearer token".to_owned(),
            ConnectErrorKind::Resolve => "name resolution failed".to_owned(),
            ConnectErrorKind::Refused => "connection refused".to_owned(),
            ConnectErrorKind::Timeout => "timed out".to_owned(),
            ConnectErrorKind::Tls => "TLS failed".to_owned(),
            ConnectErrorKind::Http(401) => {
                "the server refused the credentials (HTTP 401 from the websocket upgrade)"
                    .to_owned()
            }
            ConnectErrorKind::Http(status) => {
                format!("HTTP {status} from the websocket upgrade")
            }
            ConnectErrorKind::Handshake => "websocket handshake failed".to_owned(),
            ConnectErrorKind::Io => "I/O error".to_owned(),
        };
        write!(f, "could not connect to {}: {what}", self.endpoint)?;
        if !self.detail.is_empty() {
            write!(f, ": {}", self.detail)?;
        }
        Ok(())
    }
}

impl std::error::Error for ConnectError {}

/// A parsed endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Endpoint {
    /// `ws://` or `wss://`.
    Tcp {
        tls: bool,
        /// Host without IPv6 brackets.
        host: String,
        port: u16,
        uri: Uri,
    },
    /// `unix://PATH` or `unix://` (the default control socket).
    Unix { path: PathBuf },
}

impl Endpoint {
    pub(super) fn parse(url: &str, options: &ConnectOptions) -> Result<Endpoint, ConnectError> {
        let invalid = |detail: &str| ConnectError::new(ConnectErrorKind::InvalidUrl, url, detail);
        if let Some(rest) = url.strip_prefix("unix://") {
            let path = if rest.is_empty() {
                super::unix::default_control_socket(options.codex_home.as_deref()).ok_or_else(
                    || invalid("`unix://` means $CODEX_HOME/app-server-control/app-server-control.sock, but neither CODEX_HOME nor HOME is set"),
                )?
            } else {
                PathBuf::from(rest)
            };
            return Ok(Endpoint::Unix { path });
        }
        if let Some((scheme, _)) = url.split_once("://")
            && !matches!(scheme, "ws" | "wss")
        {
            return Err(invalid(&format!(
                "the scheme `{scheme}` is not ws://, wss:// or unix:// (the app-server's --listen URL)"
            )));
        }
        let uri: Uri = url.parse().map_err(|e| {
            invalid(&format!(
                "{e} (expected ws://HOST:PORT, wss://HOST[:PORT], unix://PATH or unix://)"
            ))
        })?;
        let tls = match uri.scheme_str() {
            Some("ws") => false,
            Some("wss") => true,
            _ => {
                return Err(invalid(
                    "the scheme must be ws://, wss:// or unix:// (the app-server's --listen URL)",
                ));
            }
        };
        let authority = uri.authority().ok_or_else(|| invalid("no host"))?;
        if authority.as_str().contains('@') {
            return Err(invalid(
                "credentials in the URL are not supported; pass the token with ConnectOptions::bearer_token",
            ));
        }
        let host = authority
            .host()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        if host.is_empty() {
            return Err(invalid("no host"));
        }
        let port = authority.port_u16().unwrap_or(if tls { 443 } else { 80 });
        Ok(Endpoint::Tcp {
            tls,
            host,
            port,
            uri,
        })
    }
}

/// `true` for `localhost` and loopback IP literals (IPv4-mapped IPv6 ones included:
/// `::ffff:127.0.0.1` is 127.0.0.1).
fn is_loopback_host(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.to_canonical().is_loopback())
}

/// Logs, once for the connection being opened, that plain `ws://` to `host` (not a loopback
/// name or address) or to a peer that turned out not to be loopback carries every message in
/// clear text. (A bearer token is refused there before this point.)
fn warn_if_clear_text(host: &str, peer: Option<std::net::SocketAddr>) {
    let remote_peer = peer.filter(|p| !p.ip().to_canonical().is_loopback());
    if is_loopback_host(host) && remote_peer.is_none() {
        return;
    }
    tracing::warn!(
        %host,
        peer = ?remote_peer,
        "plain ws:// to a host that is not loopback: the connection is not encrypted, every \
         message (prompts, answers, approvals, logins) can be read and changed on the way; \
         use wss:// or an SSH tunnel to 127.0.0.1"
    );
}

pub(super) async fn connect(url: &str, options: &ConnectOptions) -> Result<Transport, Error> {
    // Tokens never appear in URLs (credentials in a URL are refused), so the URL can be logged.
    let shown = url.to_owned();
    let span = tracing::info_span!("codex.connect", endpoint = %shown);
    async {
        let endpoint = Endpoint::parse(url, options).map_err(ConnectError::into_error)?;
        let attempt = async {
            match &endpoint {
                Endpoint::Tcp {
                    tls,
                    host,
                    port,
                    uri,
                } => {
                    if options.token.is_some() && !tls && !is_loopback_host(host) {
                        return Err(ConnectError::new(
                            ConnectErrorKind::InsecureToken,
                            &shown,
                            format!(
                                "`{host}` is not a loopback address and ws:// is clear text; use wss:// \
                                 (TLS) or reach the server through an SSH tunnel to 127.0.0.1"
                            ),
                        ));
                    }
                    let tcp = connect_tcp(host, *port, &shown).await?;
                    let _ = tcp.set_nodelay(true);
                    if !tls {
                        // A name like `localhost` could resolve elsewhere: check what we reached.
                        let peer = tcp.peer_addr().map_err(|e| {
                            ConnectError::new(ConnectErrorKind::Io, &shown, e.to_string())
                        })?;
                        if options.token.is_some() && !peer.ip().to_canonical().is_loopback() {
                            return Err(ConnectError::new(
                                ConnectErrorKind::InsecureToken,
                                &shown,
                                format!("`{host}` resolved to {peer}, which is not loopback"),
                            ));
                        }
                        warn_if_clear_text(host, Some(peer));
                    }
                    if *tls {
                        let stream = connect_tls(tcp, host, options, &shown).await?;
                        upgrade(stream, uri.clone(), options, &shown).await
                    } else {
                        upgrade(tcp, uri.clone(), options, &shown).await
                    }
                }
                Endpoint::Unix { path } => super::unix::connect(path, options, &shown).await,
            }
        };
        let transport = tokio::time::timeout(options.connect_timeout, attempt)
            .await
            .map_err(|_| {
                ConnectError::new(
                    ConnectErrorKind::Timeout,
                    &shown,
                    format!("no open websocket after {:?}", options.connect_timeout),
                )
            })
            .and_then(|r| r)
            .map_err(|e| {
                tracing::debug!(error = %e, "connect failed");
                e.into_error()
            })?;
        tracing::debug!("websocket open");
        Ok(transport)
    }
    .instrument(span)
    .await
}

async fn connect_tcp(
    host: &str,
    port: u16,
    shown: &str,
) -> Result<tokio::net::TcpStream, ConnectError> {
    let addrs: Vec<_> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|e| ConnectError::new(ConnectErrorKind::Resolve, shown, e.to_string()))?
        .collect();
    let mut last = None;
    for addr in &addrs {
        match tokio::net::TcpStream::connect(addr).await {
            Ok(stream) => return Ok(stream),
            Err(e) => last = Some((addr, e)),
        }
    }
    Err(match last {
        None => ConnectError::new(
            ConnectErrorKind::Resolve,
            shown,
            "no address found for the host",
        ),
        Some((addr, e)) => ConnectError::new(
            if e.kind() == std::io::ErrorKind::ConnectionRefused {
                ConnectErrorKind::Refused
            } else {
                ConnectErrorKind::Io
            },
            shown,
            format!("{addr}: {e}"),
        ),
    })
}

fn tls_config(options: &ConnectOptions, shown: &str) -> Result<rustls::ClientConfig, ConnectError> {
    let tls_error = |detail: String| ConnectError::new(ConnectErrorKind::Tls, shown, detail);
    let mut roots = rustls::RootCertStore::empty();
    if options.native_roots {
        let found = rustls_native_certs::load_native_certs();
        for error in &found.errors {
            tracing::debug!(%error, "skipping part of the system certificate store");
        }
        let (added, ignored) = roots.add_parsable_certificates(found.certs);
        tracing::debug!(added, ignored, "system root certificates");
    }
    for cert in &options.extra_roots {
        roots
            .add(cert.clone())
            .map_err(|e| tls_error(format!("unusable root certificate: {e}")))?;
    }
    if roots.is_empty() {
        return Err(tls_error(
            "no trusted root certificate (none in the system store, none added with \
             ConnectOptions::add_root_certificates_pem)"
                .to_owned(),
        ));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| tls_error(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

async fn connect_tls(
    tcp: tokio::net::TcpStream,
    host: &str,
    options: &ConnectOptions,
    shown: &str,
) -> Result<tokio_rustls::client::TlsStream<tokio::net::TcpStream>, ConnectError> {
    let config = tls_config(options, shown)?;
    let name = ServerName::try_from(host.to_owned()).map_err(|e| {
        ConnectError::new(
            ConnectErrorKind::Tls,
            shown,
            format!("bad server name: {e}"),
        )
    })?;
    tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
        .map_err(|e| ConnectError::new(ConnectErrorKind::Tls, shown, e.to_string()))
}

/// The HTTP upgrade over an open stream (TCP, TLS or unix socket), then the transport.
pub(super) async fn upgrade<S>(
    stream: S,
    uri: Uri,
    options: &ConnectOptions,
    shown: &str,
) -> Result<Transport, ConnectError>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let handshake_error =
        |detail: String| ConnectError::new(ConnectErrorKind::Handshake, shown, detail);
    // The frame limit is checked on each frame's header, the message limit on each fragment:
    // no message larger than the bound is ever buffered.
    let limits = Limits::default().max_payload_len(Some(options.max_message_bytes));
    let mut builder = tokio_websockets::ClientBuilder::from_uri(uri)
        .limits(limits)
        .add_header(
            header::USER_AGENT,
            HeaderValue::from_static(concat!("codex-client-rs/", env!("CARGO_PKG_VERSION"))),
        )
        .map_err(|e| handshake_error(e.to_string()))?;
    if let Some(token) = &options.token {
        let mut value = HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| {
            ConnectError::new(
                ConnectErrorKind::InvalidUrl,
                shown,
                "the bearer token contains characters not allowed in an HTTP header",
            )
        })?;
        value.set_sensitive(true);
        builder = builder
            .add_header(header::AUTHORIZATION, value)
            .map_err(|e| handshake_error(e.to_string()))?;
    }
    // Never an Origin header (the app-server rejects any request that has one, 403): the
    // library sends Host, Upgrade, Connection, the key and version, and the two headers above.
    let answer = Arc::new(Mutex::new(Vec::new()));
    let stream = Recorded {
        inner: stream,
        answer: Some(answer.clone()),
    };
    let (mut ws, _response) = builder.connect_on(stream).await.map_err(|e| match e {
        tokio_websockets::Error::Upgrade(
            tokio_websockets::upgrade::Error::DidNotSwitchProtocols(code),
        ) => refusal(code, &answer.lock().unwrap(), options, shown),
        tokio_websockets::Error::Io(io) => {
            ConnectError::new(ConnectErrorKind::Io, shown, io.to_string())
        }
        other => handshake_error(other.to_string()),
    })?;
    ws.get_mut().answer = None;
    Ok(from_websocket(ws, shown.to_owned(), options))
}

/// The error for an upgrade answered with `code`: the status, its reason and the start of the
/// body that came with the answer's head (the app-server says why it refused there), with the
/// token redacted (a hostile server may echo the request, token included).
fn refusal(code: u16, answer: &[u8], options: &ConnectOptions, shown: &str) -> ConnectError {
    let body = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|at| String::from_utf8_lossy(&answer[at + 4..]).trim().to_owned())
        .unwrap_or_default();
    let mut detail = StatusCode::from_u16(code)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("")
        .to_owned();
    if !body.is_empty() {
        detail = format!("{detail} ({})", body.chars().take(300).collect::<String>());
    }
    if let Some(token) = &options.token {
        detail = detail.replace(token.as_str(), "<redacted>");
    }
    if code == 401 && options.token.is_none() {
        detail.push_str("; the server requires a bearer token (ConnectOptions::bearer_token)");
    }
    ConnectError::new(ConnectErrorKind::Http(code), shown, detail)
}

/// The most of the upgrade's answer [`Recorded`] keeps.
const MAX_ANSWER: usize = 16 * 1024;

/// The stream under the websocket: during the upgrade it keeps a copy of what the server
/// answers (at most [`MAX_ANSWER`] bytes), so that a refusal's body can be shown (the library
/// reports only the status); after the upgrade it is a plain pass-through.
struct Recorded<S> {
    inner: S,
    /// The answer so far; `None` once the websocket is open.
    answer: Option<Arc<Mutex<Vec<u8>>>>,
}

impl<S: AsyncRead + Unpin> AsyncRead for Recorded<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let result = Pin::new(&mut this.inner).poll_read(cx, buf);
        if let Some(answer) = &this.answer {
            let mut answer = answer.lock().unwrap();
            let new = &buf.filled()[before..];
            let room = MAX_ANSWER.saturating_sub(answer.len());
            answer.extend_from_slice(&new[..new.len().min(room)]);
        }
        result
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Recorded<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, data)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

/// State shared by the read half, the writer task and the control.
struct Shared {
    endpoint: String,
    /// Cancelled to drop the connection now (kill, keepalive failure, write failure).
    kill: CancellationToken,
    /// Why `kill` was cancelled, when it was not the client's own doing.
    kill_reason: Mutex<Option<String>>,
    /// The server's close frame, if one arrived.
    close_frame: Mutex<Option<String>>,
    /// When the last frame of any kind arrived.
    last_inbound: Mutex<Instant>,
    /// Cancelled when the read half has ended.
    read_done: CancellationToken,
    /// Set once our close frame is on its way: an end without the server's close frame is then
    /// the expected end, not an error.
    close_sent: AtomicBool,
}

impl Shared {
    fn kill_with(&self, reason: String) {
        self.kill_reason.lock().unwrap().get_or_insert(reason);
        self.kill.cancel();
    }
}

fn from_websocket<S>(
    ws: WebSocketStream<Recorded<S>>,
    endpoint: String,
    options: &ConnectOptions,
) -> Transport
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (sink, stream) = ws.split();
    let shared = Arc::new(Shared {
        endpoint: endpoint.clone(),
        kill: CancellationToken::new(),
        kill_reason: Mutex::new(None),
        close_frame: Mutex::new(None),
        last_inbound: Mutex::new(Instant::now()),
        read_done: CancellationToken::new(),
        close_sent: AtomicBool::new(false),
    });
    let (line_tx, line_rx) = mpsc::channel::<String>(OUTBOUND_QUEUE);
    let span = tracing::debug_span!("codex.websocket", endpoint = %endpoint);
    tokio::spawn(run_writer(sink, line_rx, shared.clone(), options.keepalive).instrument(span));
    let incoming = Incoming {
        inner: stream,
        killed: Box::pin(shared.kill.clone().cancelled_owned()),
        shared: shared.clone(),
        max_message_bytes: options.max_message_bytes,
        done: false,
        binary_frames: 0,
    };
    let outgoing = Box::pin(futures::sink::unfold(
        line_tx,
        |tx, line: String| async move {
            tx.send(line).await.map_err(|_| {
                std::io::Error::new(
                    std::io::ErrorKind::BrokenPipe,
                    "the websocket connection is closed",
                )
            })?;
            Ok::<_, std::io::Error>(tx)
        },
    ));
    Transport::new(Box::pin(incoming), outgoing, Arc::new(WsControl { shared }))
}

/// The read half as a line stream.
struct Incoming<S> {
    inner: futures::stream::SplitStream<WebSocketStream<Recorded<S>>>,
    killed: Pin<Box<WaitForCancellationFutureOwned>>,
    shared: Arc<Shared>,
    max_message_bytes: usize,
    done: bool,
    binary_frames: u64,
}

impl<S> Incoming<S> {
    fn finish(&mut self) {
        self.done = true;
        self.shared.read_done.cancel();
    }
}

impl<S> Stream for Incoming<S>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    type Item = Result<String, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.done {
            return Poll::Ready(None);
        }
        if this.killed.as_mut().poll(cx).is_ready() {
            this.finish();
            let reason = this
                .shared
                .kill_reason
                .lock()
                .unwrap()
                .clone()
                .unwrap_or_else(|| "the websocket was closed by the client".to_owned());
            return Poll::Ready(Some(Err(Error::Transport(Arc::new(std::io::Error::new(
                std::io::ErrorKind::ConnectionAborted,
                reason,
            ))))));
        }
        loop {
            let item = match this.inner.poll_next_unpin(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(item) => item,
            };
            match item {
                None => {
                    this.finish();
                    let goodbye = this.shared.close_sent.load(Ordering::Acquire)
                        || this.shared.close_frame.lock().unwrap().is_some();
                    if goodbye {
                        return Poll::Ready(None);
                    }
                    return Poll::Ready(Some(Err(Error::Transport(Arc::new(
                        std::io::Error::new(
                            std::io::ErrorKind::UnexpectedEof,
                            format!(
                                "websocket {}: the connection ended without a close frame",
                                this.shared.endpoint
                            ),
                        ),
                    )))));
                }
                Some(Ok(message)) => {
                    *this.shared.last_inbound.lock().unwrap() = Instant::now();
                    if let Some(text) = message.as_text() {
                        return Poll::Ready(Some(Ok(text.to_owned())));
                    }
                    if message.is_binary() {
                        this.binary_frames += 1;
                        tracing::warn!(
                            len = message.as_payload().len(),
                            total = this.binary_frames,
                            "skipping a binary websocket frame (the protocol uses text frames)"
                        );
                    } else if let Some((code, reason)) = message.as_close() {
                        let code = u16::from(code);
                        let text = if reason.is_empty() {
                            format!("close code {code}")
                        } else {
                            format!("close code {code}: {reason}")
                        };
                        tracing::debug!(%text, "the server closed the websocket");
                        *this.shared.close_frame.lock().unwrap() = Some(text);
                    }
                    // Pongs only feed the keepalive; pings are answered by the library.
                }
                Some(Err(err)) => {
                    this.finish();
                    let closing = this.shared.close_sent.load(Ordering::Acquire);
                    return Poll::Ready(match err {
                        tokio_websockets::Error::AlreadyClosed => None,
                        // We said goodbye; the server may drop the socket without answering.
                        tokio_websockets::Error::Protocol(_) | tokio_websockets::Error::Io(_)
                            if closing =>
                        {
                            None
                        }
                        tokio_websockets::Error::PayloadTooLong { .. } => {
                            Some(Err(Error::LineTooLong {
                                limit: this.max_message_bytes,
                            }))
                        }
                        tokio_websockets::Error::Io(io) => {
                            Some(Err(Error::Transport(Arc::new(std::io::Error::new(
                                io.kind(),
                                format!("websocket {}: {io}", this.shared.endpoint),
                            )))))
                        }
                        other => Some(Err(Error::Transport(Arc::new(std::io::Error::other(
                            format!("websocket {}: {other}", this.shared.endpoint),
                        ))))),
                    });
                }
            }
        }
    }
}

type WsSink<S> = futures::stream::SplitSink<WebSocketStream<Recorded<S>>, Message>;

async fn run_writer<S>(
    mut sink: WsSink<S>,
    mut lines: mpsc::Receiver<String>,
    shared: Arc<Shared>,
    keepalive: Option<Duration>,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let mut ticker = keepalive.map(|every| {
        let mut t = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        (t, every)
    });
    let result: Result<(), String> = loop {
        tokio::select! {
            biased;
            _ = shared.kill.cancelled() => break Ok(()),
            line = lines.recv() => match line {
                Some(line) => {
                    let write = async {
                        sink.feed(Message::text(line)).await?;
                        // Everything already queued goes out with one flush.
                        let mut batched = 0;
                        while batched < 256 {
                            match lines.try_recv() {
                                Ok(line) => sink.feed(Message::text(line)).await?,
                                Err(_) => break,
                            }
                            batched += 1;
                        }
                        sink.flush().await
                    };
                    let outcome = tokio::select! {
                        r = write => r,
                        _ = shared.kill.cancelled() => break Ok(()),
                    };
                    if let Err(e) = outcome {
                        break Err(format!("writing to the websocket {} failed: {e}", shared.endpoint));
                    }
                }
                None => {
                    // The connection closed its output: say goodbye. The server answers with its
                    // own close frame, which ends the read half.
                    tracing::debug!("sending the close frame");
                    shared.close_sent.store(true, Ordering::Release);
                    // `send`, not the sink's `close`: the library's close reads the stream to its
                    // end, which would take the last messages from the read half.
                    let goodbye = Message::close(Some(CloseCode::NORMAL_CLOSURE), "");
                    let _ = tokio::time::timeout(CLOSE_WAIT, sink.send(goodbye)).await;
                    if tokio::time::timeout(CLOSE_WAIT, shared.read_done.cancelled()).await.is_err() {
                        shared.kill_with("the server did not answer the close frame".to_owned());
                    }
                    break Ok(());
                }
            },
            _ = async {
                match ticker.as_mut() {
                    Some((t, _)) => { t.tick().await; }
                    None => std::future::pending::<()>().await,
                }
            } => {
                let every = ticker.as_ref().map(|(_, e)| *e).unwrap_or_default();
                let silent = shared.last_inbound.lock().unwrap().elapsed();
                if silent > every * 2 {
                    break Err(format!(
                        "the websocket {} is lost: nothing received for {:.0?} (keepalive pings unanswered)",
                        shared.endpoint, silent
                    ));
                }
                let ping = tokio::select! {
                    r = sink.send(Message::ping("")) => r,
                    _ = shared.kill.cancelled() => break Ok(()),
                };
                if let Err(e) = ping {
                    break Err(format!("sending a ping to {} failed: {e}", shared.endpoint));
                }
            }
        }
    };
    if let Err(reason) = result {
        tracing::warn!(%reason, "closing the websocket connection");
        shared.kill_with(reason);
    }
}

/// The control side: close information, shutdown (close frame) and kill (drop the socket).
struct WsControl {
    shared: Arc<Shared>,
}

impl TransportControl for WsControl {
    fn close_info(&self, reason: String) -> BoxFuture<'_, ClosedInfo> {
        let mut text = format!("{reason} (websocket {}", self.shared.endpoint);
        if let Some(frame) = self.shared.close_frame.lock().unwrap().as_deref() {
            text.push_str(", ");
            text.push_str(frame);
        }
        text.push(')');
        Box::pin(async move { ClosedInfo::new(text) })
    }

    fn shutdown(&self, grace: Duration) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            // The connection closes its output first (the writer sends the close frame); when
            // this is called the server has not answered in time: drop the socket.
            if tokio::time::timeout(grace, self.shared.read_done.cancelled())
                .await
                .is_err()
            {
                self.shared
                    .kill_with("the server did not close the websocket in time".to_owned());
            }
        })
    }

    fn kill(&self) {
        self.shared.kill.cancel();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(url: &str) -> Result<Endpoint, ConnectError> {
        Endpoint::parse(url, &ConnectOptions::new().codex_home("/ch"))
    }

    #[test]
    fn urls_parse_into_endpoints() {
        match parse("ws://127.0.0.1:4500").unwrap() {
            Endpoint::Tcp {
                tls, host, port, ..
            } => {
                assert!(!tls);
                assert_eq!((host.as_str(), port), ("127.0.0.1", 4500));
            }
            other => panic!("{other:?}"),
        }
        match parse("wss://codex.example.com/rpc").unwrap() {
            Endpoint::Tcp {
                tls,
                host,
                port,
                uri,
            } => {
                assert!(tls);
                assert_eq!((host.as_str(), port), ("codex.example.com", 443));
                assert_eq!(uri.path(), "/rpc");
            }
            other => panic!("{other:?}"),
        }
        match parse("ws://[::1]:9").unwrap() {
            Endpoint::Tcp { host, .. } => assert_eq!(host, "::1"),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            parse("unix:///run/codex.sock").unwrap(),
            Endpoint::Unix {
                path: "/run/codex.sock".into()
            }
        );
        assert_eq!(
            parse("unix://").unwrap(),
            Endpoint::Unix {
                path: "/ch/app-server-control/app-server-control.sock".into()
            }
        );
    }

    #[test]
    fn bad_urls_say_what_is_wrong() {
        for (url, needle) in [
            ("http://x:1", "scheme"),
            ("stdio://", "scheme"),
            ("ws://user:pw@host:1", "credentials"),
            ("not a url", "expected ws://"),
        ] {
            let err = parse(url).unwrap_err();
            assert_eq!(err.kind, ConnectErrorKind::InvalidUrl, "{url}");
            assert!(err.to_string().contains(needle), "{url}: {err}");
        }
    }

    #[test]
    fn loopback_hosts() {
        for host in [
            "127.0.0.1",
            "127.1.2.3",
            "::1",
            "::ffff:127.0.0.1",
            "localhost",
            "LOCALHOST",
        ] {
            assert!(is_loopback_host(host), "{host}");
        }
        for host in [
            "10.0.0.1",
            "example.com",
            "0.0.0.0",
            "localhost.example.com",
        ] {
            assert!(!is_loopback_host(host), "{host}");
        }
    }

    /// The upgrade request as the server reads it (over an in-memory pipe): the bearer token
    /// in `Authorization`, our `User-Agent`, never an `Origin`; a refusal's body is in the error
    /// with the token redacted (the server echoes the request).
    #[tokio::test]
    async fn the_upgrade_request_carries_the_token_and_no_origin() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let (client, mut server) = tokio::io::duplex(64 * 1024);
        let peer = tokio::spawn(async move {
            let mut request = Vec::new();
            let mut chunk = [0u8; 4096];
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                let n = server.read(&mut chunk).await.unwrap();
                assert!(n > 0, "a whole request head");
                request.extend_from_slice(&chunk[..n]);
            }
            let mut answer = format!(
                "HTTP/1.1 401 Unauthorized\r\ncontent-length: {}\r\n\r\n",
                request.len()
            )
            .into_bytes();
            answer.extend_from_slice(&request);
            server.write_all(&answer).await.unwrap();
            String::from_utf8(request).unwrap()
        });
        let options = ConnectOptions::new().bearer_token("tok-123");
        let err = match upgrade(
            client,
            Uri::from_static("ws://localhost/"),
            &options,
            "test",
        )
        .await
        {
            Ok(_) => panic!("the upgrade was refused"),
            Err(err) => err,
        };
        let request = peer.await.unwrap();
        let lower = request.to_ascii_lowercase();
        assert!(request.starts_with("GET / HTTP/1.1\r\n"), "{request}");
        assert!(
            lower.contains("\r\nauthorization: bearer tok-123\r\n"),
            "{request}"
        );
        assert!(
            lower.contains("\r\nuser-agent: codex-client-rs/"),
            "{request}"
        );
        assert!(lower.contains("\r\nhost: localhost\r\n"), "{request}");
        assert!(!lower.contains("origin:"), "{request}");
        assert_eq!(err.kind, ConnectErrorKind::Http(401), "{err}");
        assert!(err.detail.contains("Unauthorized (GET / HTTP/1.1"), "{err}");
        assert!(err.detail.contains("Bearer <redacted>"), "{err}");
        assert!(!err.to_string().contains("tok-123"), "{err}");
    }

    #[test]
    fn connect_errors_reach_the_caller_as_error_connect() {
        let err = ConnectError::new(
            ConnectErrorKind::Http(401),
            "ws://127.0.0.1:1",
            "Unauthorized",
        )
        .into_error();
        assert!(err.to_string().contains("refused the credentials"), "{err}");
        let Error::Connect(back) = err else {
            panic!("Error::Connect, got {err}")
        };
        assert_eq!(back.kind, ConnectErrorKind::Http(401));
    }
}

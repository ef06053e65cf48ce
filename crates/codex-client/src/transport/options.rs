//! [`ConnectOptions`]: how to reach a running app-server (`ws://`, `wss://`, `unix://`) — the
//! bearer token, the connect timeout, keepalive, the message bound, TLS roots, `CODEX_HOME`.
//! Always compiled; the TLS settings exist with the `tls` feature.

#[cfg(feature = "tls")]
use super::{ConnectError, ConnectErrorKind};
#[cfg(feature = "tls")]
use crate::error::Error;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;
#[cfg(feature = "tls")]
use tokio_rustls::rustls::pki_types::{CertificateDer, pem::PemObject};

/// How to reach a running app-server: the bearer token, timeouts, keepalive, the message
/// bound, TLS roots (feature `tls`) and the `CODEX_HOME` of `unix://`. `Debug` never shows the
/// token.
///
/// ```no_run
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use codex_client::transport::ConnectOptions;
/// use codex_client::core::{Connection, ConnectionConfig};
/// use std::time::Duration;
///
/// let options = ConnectOptions::new()
///     .bearer_token_file("/etc/codex/ws-token")?
///     .connect_timeout(Duration::from_secs(5))
///     .keepalive(Some(Duration::from_secs(20)));
/// assert!(!format!("{options:?}").contains("Bearer"));
/// let conn = Connection::connect_url("unix://", &options, ConnectionConfig::default()).await?;
/// println!("{:?}", conn.server_info());
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct ConnectOptions {
    pub(crate) token: Option<String>,
    pub(crate) connect_timeout: Duration,
    pub(crate) keepalive: Option<Duration>,
    pub(crate) max_message_bytes: usize,
    #[cfg(feature = "tls")]
    pub(crate) native_roots: bool,
    #[cfg(feature = "tls")]
    pub(crate) extra_roots: Vec<CertificateDer<'static>>,
    pub(crate) codex_home: Option<PathBuf>,
}

impl fmt::Debug for ConnectOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut f = f.debug_struct("ConnectOptions");
        f.field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("connect_timeout", &self.connect_timeout)
            .field("keepalive", &self.keepalive)
            .field("max_message_bytes", &self.max_message_bytes);
        #[cfg(feature = "tls")]
        f.field("native_roots", &self.native_roots)
            .field("extra_roots", &self.extra_roots.len());
        f.field("codex_home", &self.codex_home).finish()
    }
}

impl Default for ConnectOptions {
    fn default() -> Self {
        Self {
            token: None,
            connect_timeout: Duration::from_secs(10),
            keepalive: Some(Duration::from_secs(30)),
            max_message_bytes: 64 * 1024 * 1024,
            #[cfg(feature = "tls")]
            native_roots: true,
            #[cfg(feature = "tls")]
            extra_roots: Vec::new(),
            codex_home: None,
        }
    }
}

impl ConnectOptions {
    /// No token, 10 s to connect, a ping every 30 s, the system's TLS roots (with `tls`).
    pub fn new() -> Self {
        Self::default()
    }

    /// The bearer token for the app-server's `--ws-auth capability-token` (the content of its
    /// `--ws-token-file`) or `signed-bearer-token` (a JWT) mode. Sent as
    /// `Authorization: Bearer <token>`, and only over `wss://` or to a loopback address.
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
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Ping interval (default 30 s; `None` disables). The connection is declared lost when
    /// nothing arrives for two intervals.
    pub fn keepalive(mut self, interval: Option<Duration>) -> Self {
        self.keepalive = interval.filter(|d| !d.is_zero());
        self
    }

    /// Largest message accepted from the server (default 64 MiB;
    /// [`Connection::connect_url`](crate::core::Connection::connect_url) uses the connection's
    /// `max_line_bytes`). A larger one closes the connection with
    /// [`Error::LineTooLong`](crate::Error::LineTooLong).
    pub fn max_message_bytes(mut self, bytes: usize) -> Self {
        self.max_message_bytes = bytes.max(1024);
        self
    }

    /// Whether to trust the operating system's root certificates for `wss://` (default `true`).
    #[cfg(feature = "tls")]
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
    #[cfg(feature = "tls")]
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
    pub fn codex_home(mut self, dir: impl Into<PathBuf>) -> Self {
        self.codex_home = Some(dir.into());
        self
    }
}

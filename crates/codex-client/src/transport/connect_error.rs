//! [`ConnectError`] / [`ConnectErrorKind`]: why connecting to a running app-server failed (the
//! endpoint, never the token, and what happened). Always compiled: `unix://` uses them too, and
//! a URL whose transport is not compiled in is one of them.

use crate::error::Error;
use std::fmt;

/// What went wrong while connecting.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use codex_client::Error;
/// use codex_client::transport::{ConnectErrorKind, ConnectOptions};
/// let url = "unix:///nonexistent/app-server-control.sock";
/// let err = codex_client::Transport::connect(url, &ConnectOptions::new()).await.unwrap_err();
/// let kind = match &err {
///     Error::Connect(connect) => Some(connect.kind),
///     _ => None,
/// };
/// match kind {
///     Some(ConnectErrorKind::Refused) => eprintln!("no app-server there: {err}"),
///     Some(ConnectErrorKind::Http(401)) => eprintln!("a missing or wrong token: {err}"),
///     Some(ConnectErrorKind::FeatureDisabled(feature)) => eprintln!("rebuild with `{feature}`"),
///     _ => eprintln!("{err}"),
/// }
/// # assert_eq!(kind, Some(ConnectErrorKind::Refused));
/// # }
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
    /// Connecting took longer than [`ConnectOptions::connect_timeout`](super::ConnectOptions::connect_timeout).
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
    /// The URL's transport is not compiled in: enable this Cargo feature of `codex-client`
    /// (`websocket` for `ws://`, `tls` for `wss://`).
    FeatureDisabled(&'static str),
}

/// Why [`Transport::connect`](super::Transport::connect) failed: the endpoint (never the token) and what happened.
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
    pub(crate) fn new(
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

    /// The error for a `scheme` URL whose transport needs the Cargo `feature`.
    #[cfg_attr(all(feature = "websocket", feature = "tls"), allow(dead_code))]
    pub(crate) fn not_compiled(endpoint: &str, scheme: &str, feature: &'static str) -> Self {
        Self::new(
            ConnectErrorKind::FeatureDisabled(feature),
            endpoint,
            format!(
                "{scheme} needs the `{feature}` feature of codex-client, which this build does not \
                 have (in Cargo.toml: codex-client = {{ version = \"...\", features = [\"{feature}\"] }})"
            ),
        )
    }

    /// This error as the crate's [`Error`].
    pub(crate) fn into_error(self) -> Error {
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
            ConnectErrorKind::FeatureDisabled(feature) => {
                format!("the transport is not compiled in (Cargo feature `{feature}`)")
            }
        };
        write!(f, "could not connect to {}: {what}", self.endpoint)?;
        if !self.detail.is_empty() {
            write!(f, ": {}", self.detail)?;
        }
        Ok(())
    }
}

impl std::error::Error for ConnectError {}

#[cfg(test)]
mod tests {
    use super::*;

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

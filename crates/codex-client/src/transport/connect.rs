//! Connecting by URL: the one place that maps a scheme to its transport — `unix://` (always),
//! `ws://` (feature `websocket`), `wss://` (feature `tls`) — under the connect timeout, in a
//! `codex.connect` span. A scheme whose transport is not compiled in is a
//! [`ConnectErrorKind::FeatureDisabled`] naming the feature.

use super::endpoint::Endpoint;
use super::{ConnectError, ConnectErrorKind, ConnectOptions, Transport};
use tracing::Instrument;

/// Connects to the app-server at `url` with `options` (see [`Transport::connect`]).
pub(crate) async fn connect(
    url: &str,
    options: &ConnectOptions,
) -> Result<Transport, ConnectError> {
    // Tokens never appear in URLs (credentials in a URL are refused), so the URL can be logged.
    let shown = url;
    let span = tracing::info_span!("codex.connect", endpoint = %shown);
    async {
        let endpoint = Endpoint::parse(url, options)?;
        let attempt = async {
            match &endpoint {
                Endpoint::Unix { path } => super::unix::connect(path, options, shown).await,
                #[cfg(feature = "websocket")]
                Endpoint::Tcp {
                    tls,
                    host,
                    port,
                    uri,
                } => super::tcp::connect(*tls, host, *port, uri, options, shown).await,
                #[cfg(not(feature = "websocket"))]
                Endpoint::Tcp { tls, .. } => Err(if *tls {
                    ConnectError::not_compiled(shown, "wss://", "tls")
                } else {
                    ConnectError::not_compiled(shown, "ws://", "websocket")
                }),
            }
        };
        let result = tokio::time::timeout(options.connect_timeout, attempt)
            .await
            .map_err(|_| {
                ConnectError::new(
                    ConnectErrorKind::Timeout,
                    shown,
                    format!("no open websocket after {:?}", options.connect_timeout),
                )
            })
            .and_then(|r| r);
        match &result {
            Ok(_) => tracing::debug!("websocket open"),
            Err(e) => tracing::debug!(error = %e, "connect failed"),
        }
        result
    }
    .instrument(span)
    .await
}

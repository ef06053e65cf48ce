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

#[cfg(test)]
mod tests {
    use super::*;
    use futures::{SinkExt, StreamExt};
    use std::time::Duration;

    async fn refused(url: &str) -> ConnectError {
        match connect(url, &ConnectOptions::new()).await {
            Ok(_) => panic!("{url} connected"),
            Err(err) => err,
        }
    }

    #[cfg(not(feature = "websocket"))]
    #[tokio::test]
    async fn ws_without_the_websocket_feature_names_the_feature() {
        let err = refused("ws://127.0.0.1:1").await;
        assert_eq!(err.kind, ConnectErrorKind::FeatureDisabled("websocket"));
        let text = err.to_string();
        assert!(text.contains("`websocket` feature"), "{text}");
        assert!(text.contains("features = [\"websocket\"]"), "{text}");
        // A malformed URL is still said to be one, whatever is compiled in.
        assert_eq!(
            refused("ws://user:pw@h:1").await.kind,
            ConnectErrorKind::InvalidUrl
        );
    }

    #[cfg(not(feature = "tls"))]
    #[tokio::test]
    async fn wss_without_the_tls_feature_names_the_feature() {
        let err = refused("wss://localhost:1/rpc").await;
        assert_eq!(err.kind, ConnectErrorKind::FeatureDisabled("tls"));
        assert!(err.to_string().contains("`tls` feature"), "{err}");
        // Through the crate's error, as a caller of `Transport::connect` sees it.
        let err = Transport::connect("wss://localhost:1", &ConnectOptions::new())
            .await
            .unwrap_err();
        let crate::Error::Connect(err) = err else {
            panic!("Error::Connect, got {err}")
        };
        assert_eq!(err.kind, ConnectErrorKind::FeatureDisabled("tls"));
    }

    /// `unix://` needs no feature: the upgrade and a message each way over a socket served by a
    /// websocket server in the test.
    #[cfg(unix)]
    #[tokio::test]
    async fn unix_sockets_carry_messages_in_every_build() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("control.sock");
        let listener = tokio::net::UnixListener::bind(&path).unwrap();
        let server = tokio::spawn(async move {
            let (socket, _) = listener.accept().await.unwrap();
            let (_, mut ws) = tokio_websockets::ServerBuilder::new()
                .accept(socket)
                .await
                .unwrap();
            let got = ws.next().await.unwrap().unwrap();
            let text = got.as_text().unwrap().to_owned();
            ws.send(tokio_websockets::Message::text(format!("echo {text}")))
                .await
                .unwrap();
            text
        });
        let url = format!("unix://{}", path.display());
        let mut transport = connect(&url, &ConnectOptions::new().keepalive(None))
            .await
            .unwrap();
        transport
            .outgoing
            .send("{\"id\":1}".to_owned())
            .await
            .unwrap();
        let answer = tokio::time::timeout(Duration::from_secs(10), transport.incoming.next())
            .await
            .expect("an answer within 10 s")
            .expect("a line")
            .unwrap();
        assert_eq!(answer, "echo {\"id\":1}");
        assert_eq!(server.await.unwrap(), "{\"id\":1}");
    }

    #[tokio::test]
    async fn other_schemes_are_invalid_urls() {
        let err = refused("http://127.0.0.1:1").await;
        assert_eq!(err.kind, ConnectErrorKind::InvalidUrl);
        assert!(
            err.to_string().contains("ws://, wss:// or unix://"),
            "{err}"
        );
    }
}

//! `wss://`: the TLS client (rustls on the `ring` provider, no process-wide provider) with the
//! operating system's root certificates plus any added with
//! [`ConnectOptions::add_root_certificates_pem`]. Feature `tls`.

use super::{ConnectError, ConnectErrorKind, ConnectOptions};
use std::sync::Arc;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::ServerName;

/// The client configuration: the roots `options` ask for (none at all is an error, not a
/// connection that trusts nothing), safe protocol versions, ALPN `http/1.1` for the upgrade.
fn config(options: &ConnectOptions, shown: &str) -> Result<rustls::ClientConfig, ConnectError> {
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

/// The TLS handshake over `tcp` for the server name `host`.
pub(super) async fn connect(
    tcp: tokio::net::TcpStream,
    host: &str,
    options: &ConnectOptions,
    shown: &str,
) -> Result<tokio_rustls::client::TlsStream<tokio::net::TcpStream>, ConnectError> {
    let config = config(options, shown)?;
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

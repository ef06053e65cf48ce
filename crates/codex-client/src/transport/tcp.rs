//! `ws://` and `wss://`: a TCP connection to the app-server's `--listen ws://` (TLS on top for
//! `wss://`, feature `tls`), then the websocket upgrade. The bearer token goes only over TLS or to
//! a loopback peer (checked on the name, then on the address reached); plain `ws://` to a host
//! that is not loopback is logged as a warning. Feature `websocket`.

use super::{ConnectError, ConnectErrorKind, ConnectOptions, Transport, websocket};
use http::Uri;

/// Opens `ws://` (`tls == false`) or `wss://` to `host:port` and upgrades to the websocket at
/// `uri`. `shown` is the endpoint as the errors name it.
pub(super) async fn connect(
    tls: bool,
    host: &str,
    port: u16,
    uri: &Uri,
    options: &ConnectOptions,
    shown: &str,
) -> Result<Transport, ConnectError> {
    if options.token.is_some() && !tls && !is_loopback_host(host) {
        return Err(ConnectError::new(
            ConnectErrorKind::InsecureToken,
            shown,
            format!(
                "`{host}` is not a loopback address and ws:// is clear text; use wss:// \
                 (TLS) or reach the server through an SSH tunnel to 127.0.0.1"
            ),
        ));
    }
    let tcp = connect_tcp(host, port, shown).await?;
    let _ = tcp.set_nodelay(true);
    if !tls {
        // A name like `localhost` could resolve elsewhere: check what we reached.
        let peer = tcp
            .peer_addr()
            .map_err(|e| ConnectError::new(ConnectErrorKind::Io, shown, e.to_string()))?;
        if options.token.is_some() && !peer.ip().to_canonical().is_loopback() {
            return Err(ConnectError::new(
                ConnectErrorKind::InsecureToken,
                shown,
                format!("`{host}` resolved to {peer}, which is not loopback"),
            ));
        }
        warn_if_clear_text(host, Some(peer));
        return websocket::upgrade(tcp, uri.clone(), options, shown).await;
    }
    #[cfg(feature = "tls")]
    {
        let stream = super::tls::connect(tcp, host, options, shown).await?;
        websocket::upgrade(stream, uri.clone(), options, shown).await
    }
    #[cfg(not(feature = "tls"))]
    Err(ConnectError::not_compiled(shown, "wss://", "tls"))
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

/// `true` for `localhost` and loopback IP literals (IPv4-mapped IPv6 ones included:
/// `::ffff:127.0.0.1` is 127.0.0.1).
fn is_loopback_host(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.to_canonical().is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

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
}

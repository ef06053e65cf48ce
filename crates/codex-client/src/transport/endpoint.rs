//! Endpoint URLs: `ws://HOST:PORT[/PATH]`, `wss://HOST[:PORT][/PATH]`, `unix://PATH` and
//! `unix://` parsed into an [`Endpoint`], whatever transports are compiled in (a known scheme
//! whose transport is not compiled in is refused by [`super::connect`], naming the feature).

use super::{ConnectError, ConnectErrorKind, ConnectOptions};
use http::Uri;
use std::path::PathBuf;

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
}

//! The per-call options of a request ([`RequestOptions`]) and what the server says about itself
//! at `initialize` ([`ServerInfo`]).

use crate::proto::CODEX_VERSION;
use std::time::Duration;

/// Per-call options of a request.
///
/// ```no_run
/// # async fn f(conn: codex_client::core::Connection) -> Result<(), codex_client::Error> {
/// use codex_client::core::RequestOptions;
/// use std::time::Duration;
/// let quick = RequestOptions::new().timeout(Duration::from_secs(5));
/// match conn.request_raw_with("model/list", None, quick).await {
///     Ok(models) => println!("{models}"),
///     Err(codex_client::Error::Timeout { method, timeout }) => eprintln!("{method}: no answer in {timeout:?}"),
///     Err(err) => return Err(err),
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestOptions {
    pub(super) timeout: Option<Duration>,
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
/// let info = codex_client::core::ServerInfo::from_user_agent("codex_vscode/0.163.0 (Debian 12.0.0; x86_64) xterm");
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_version_is_read_from_the_user_agent() {
        let info = ServerInfo::from_user_agent(
            "my_client/0.163.0 (Debian 12.0.0; x86_64) xterm (my_client; 0.1.0)",
        );
        assert_eq!(info.server_version.as_deref(), Some("0.163.0"));
        assert_eq!(ServerInfo::from_user_agent("").server_version, None);
        assert_eq!(ServerInfo::from_user_agent("noslash").server_version, None);
    }
}

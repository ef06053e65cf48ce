//! [`CodexBuilder`]: the one way to make a [`Codex`] with anything other than defaults.
//!
//! The builder holds what every way in uses — the connection's settings ([`ConnectionConfig`])
//! and the login check — and ends in one of three async calls that each take what only that way
//! in needs: [`spawn`](CodexBuilder::spawn) (a [`SpawnConfig`]), [`connect`](CodexBuilder::connect)
//! (an endpoint and [`ConnectOptions`]) or [`transport`](CodexBuilder::transport) (any
//! [`Transport`]). Nothing set on the builder is ignored by any end.

use super::codex::Codex;
use crate::config::ConnectionConfig;
use crate::connection::Connection;
use crate::error::Result;
use crate::spawn::SpawnConfig;
use crate::transport::{ConnectOptions, Transport};

/// Builds a [`Codex`]: the connection's settings and the login check, then one of the three ends
/// ([`spawn`](Self::spawn), [`connect`](Self::connect), [`transport`](Self::transport)), each
/// of which performs the `initialize` handshake (unless the connection's settings turn it off).
///
/// Made by [`Codex::builder`]. [The login check](Codex#the-login-check) is on for every end
/// unless [`skip_login_check`](Self::skip_login_check) is called.
///
/// ```no_run
/// use codex_client::{Codex, SpawnConfig};
/// use codex_client::core::{ClientInfo, ConnectionConfig};
/// use std::time::Duration;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), codex_client::Error> {
/// let codex = Codex::builder()
///     .connection(
///         ConnectionConfig::new()
///             .client_info(ClientInfo::new("my-tool", "1.0.0"))
///             .request_timeout(Duration::from_secs(30)),
///     )
///     .spawn(
///         SpawnConfig::new()
///             .codex_bin("/opt/codex/bin/codex")
///             .config_override("model", "\"gpt-5\"")
///             .cwd("/work/repo"),
///     )
///     .await?;
/// println!("{:?}", codex.server_info().map(|info| &info.user_agent));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default)]
#[must_use = "a builder does nothing until one of its ends (spawn, connect, transport) is awaited"]
pub struct CodexBuilder {
    connection: ConnectionConfig,
    skip_login_check: bool,
}

impl CodexBuilder {
    /// Default connection settings, login check on (what [`Codex::builder`] returns).
    pub fn new() -> Self {
        Self::default()
    }

    /// The connection's settings: bounds, timeouts, the client-wide server-request handler,
    /// client info, the handshake (replaces the defaults).
    pub fn connection(mut self, config: ConnectionConfig) -> Self {
        self.connection = config;
        self
    }

    /// Turns [the login check](Codex#the-login-check) off: for a server that needs no login
    /// which `account/read` does not describe.
    pub fn skip_login_check(mut self) -> Self {
        self.skip_login_check = true;
        self
    }

    /// Starts `codex app-server` as `spawn` says (binary, arguments, `-c` overrides, features,
    /// cwd, environment) and performs the handshake. Fails with
    /// [`Error::BinaryNotFound`](crate::Error::BinaryNotFound) (where it searched, how to
    /// install one) or [`Error::Spawn`](crate::Error::Spawn) before anything runs.
    pub async fn spawn(self, spawn: SpawnConfig) -> Result<Codex> {
        let conn = Connection::spawn(spawn, self.connection).await?;
        Ok(Codex::with_login_check(conn, !self.skip_login_check))
    }

    /// Connects to a running app-server at `endpoint` (`ws://HOST:PORT[/PATH]`,
    /// `wss://HOST[:PORT][/PATH]`, `unix://PATH`, or `unix://` for the default control socket)
    /// and performs the handshake. Fails with [`Error::Connect`](crate::Error::Connect), whose
    /// [`ConnectError`](crate::transport::ConnectError) says what failed (bad URL, refused,
    /// timeout, TLS, the upgrade's HTTP status).
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), codex_client::Error> {
    /// use codex_client::Codex;
    /// use codex_client::transport::ConnectOptions;
    /// let codex = Codex::builder()
    ///     .connect("ws://127.0.0.1:4500", ConnectOptions::new().bearer_token("s3cret"))
    ///     .await?;
    /// # drop(codex); Ok(()) }
    /// ```
    pub async fn connect(self, endpoint: &str, options: ConnectOptions) -> Result<Codex> {
        let conn = Connection::connect_url(endpoint, &options, self.connection).await?;
        Ok(Codex::with_login_check(conn, !self.skip_login_check))
    }

    /// Connects over any [`Transport`] (stdio of a process you started, the in-memory pair of a
    /// test, your own) and performs the handshake.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), codex_client::Error> {
    /// use codex_client::{Codex, Transport};
    /// use codex_client::core::ConnectionConfig;
    /// let (transport, _server) = Transport::memory();
    /// let codex = Codex::builder()
    ///     .connection(ConnectionConfig::new().handshake(false))
    ///     .transport(transport)
    ///     .await?;
    /// assert!(codex.server_info().is_none(), "no handshake, no server info");
    /// # Ok(()) }
    /// ```
    pub async fn transport(self, transport: Transport) -> Result<Codex> {
        let conn = Connection::connect(transport, self.connection).await?;
        Ok(Codex::with_login_check(conn, !self.skip_login_check))
    }
}

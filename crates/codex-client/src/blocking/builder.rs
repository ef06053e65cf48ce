//! The blocking [`CodexBuilder`]: the async [`crate::CodexBuilder`] with ends that block.

use super::codex::Codex;
use crate::config::ConnectionConfig;
use crate::error::Result;
use crate::spawn::SpawnConfig;
use crate::transport::{ConnectOptions, Transport};

/// Builds a blocking [`Codex`] (see [`crate::CodexBuilder`]): the connection's settings and the
/// login check, then one of the three ends, each of which starts the client's runtime first.
///
/// ```no_run
/// use codex_client::blocking::{Codex, ConnectionConfig, SpawnConfig};
///
/// let codex = Codex::builder()
///     .connection(ConnectionConfig::new().request_timeout(std::time::Duration::from_secs(30)))
///     .spawn(SpawnConfig::new().cwd("/work/repo"))?;
/// println!("{:?}", codex.server_info().map(|info| &info.user_agent));
/// # Ok::<(), codex_client::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
#[must_use = "a builder does nothing until one of its ends (spawn, connect, transport) is called"]
pub struct CodexBuilder {
    inner: crate::api::CodexBuilder,
}

impl CodexBuilder {
    /// Default connection settings, login check on (see [`crate::CodexBuilder::new`]).
    pub fn new() -> Self {
        Self::default()
    }

    /// The connection's settings (see [`crate::CodexBuilder::connection`]).
    pub fn connection(self, config: ConnectionConfig) -> Self {
        Self {
            inner: self.inner.connection(config),
        }
    }

    /// Turns the login check off (see [`crate::CodexBuilder::skip_login_check`]).
    pub fn skip_login_check(self) -> Self {
        Self {
            inner: self.inner.skip_login_check(),
        }
    }

    /// Starts `codex app-server` and performs the handshake (see [`crate::CodexBuilder::spawn`]).
    pub fn spawn(self, spawn: SpawnConfig) -> Result<Codex> {
        Codex::on_new_runtime(self.inner.spawn(spawn))
    }

    /// Connects to a running app-server (see [`crate::CodexBuilder::connect`]).
    pub fn connect(self, endpoint: &str, options: ConnectOptions) -> Result<Codex> {
        let endpoint = endpoint.to_owned();
        Codex::on_new_runtime(async move { self.inner.connect(&endpoint, options).await })
    }

    /// Connects over any transport (see [`crate::CodexBuilder::transport`]).
    pub fn transport(self, transport: Transport) -> Result<Codex> {
        Codex::on_new_runtime(self.inner.transport(transport))
    }
}

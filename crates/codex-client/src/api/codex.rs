//! [`Codex`], the entry point of the high-level API: how it is made ([`Codex::start`],
//! [`Codex::builder`], [`Codex::from_connection`]), the thread calls, and the pass-throughs to
//! the connection (`request::<M>()`, `connection()`, `server_info()`, the global notification
//! stream).
//!
//! A `Codex` is a [`Connection`] with the calls grouped on top (one accessor per group:
//! [`threads`](Codex::threads), [`account`](Codex::account), [`files`](Codex::files), ...),
//! plus the pass-throughs a user needs when the high-level
//! API does not cover something (`request::<M>()`, `connection()`, the global notification
//! stream). It is a cheap clone; all clones share one app-server, and any number of turns can
//! run at once from any number of tasks. Dropping the last clone kills the app-server;
//! [`close`](Codex::close) ends it gracefully.
//!
//! The login check (see [`Codex`]) lives here too: one `account/read` before the first thread
//! call, [`Error::NotLoggedIn`] when no turn could succeed.

use super::builder::CodexBuilder;
use crate::connection::{Connection, ServerInfo};
use crate::error::{ClosedInfo, Error, Result};
use crate::proto::ClientMethod;
use crate::router::NotificationStream;
use crate::spawn::SpawnConfig;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// A Codex app-server and the threads on it. Cheap to clone.
///
/// ```no_run
/// use codex_client::{Codex, ThreadOptions};
///
/// # #[tokio::main]
/// # async fn main() -> Result<(), codex_client::Error> {
/// let codex = Codex::start().await?;
/// let thread = codex.threads().start(ThreadOptions::new()).await?;
/// let result = thread.run("Say hello in one sentence.").await?;
/// println!("{}", result.final_response().unwrap_or_default());
/// codex.close().await;
/// # Ok(()) }
/// ```
///
/// # The login check
///
/// A program whose app-server has no account while its model provider needs OpenAI auth cannot
/// succeed: every turn would retry the model for minutes. So the first
/// [`threads()`](Codex::threads) `.start`, `.resume` or `.fork` of a `Codex` made by
/// [`Codex::start`] or a [`CodexBuilder`] end first asks `account/read` (one round trip, ~1 ms
/// to a local server) and fails with
/// [`Error::NotLoggedIn`] when it answers `account: null, requiresOpenaiAuth: true` — nothing
/// is started, and the message says how to log in. Once it passes it is not asked again. The
/// check runs there, not at spawn, so that a program can spawn, log in through the API
/// ([`Account::login_api_key`](super::Account::login_api_key),
/// [`Account::login_chatgpt`](super::Account::login_chatgpt)) and then start threads. A configuration
/// whose model provider needs no OpenAI auth (a custom `model_provider`, e.g. the test kit's
/// mock) answers `requiresOpenaiAuth: false` and passes. A server that does not know
/// `account/read` (a JSON-RPC error) is let through with a `tracing` warning.
/// [`CodexBuilder::skip_login_check`] turns the check off; [`Codex::from_connection`] has it
/// off ([`CodexBuilder::transport`] wraps a transport with it on).
#[derive(Debug, Clone)]
pub struct Codex {
    conn: Connection,
    /// Which threads run a turn of this client (shared by clones; see `api/lanes.rs`).
    lanes: Arc<super::lanes::Lanes>,
    login: Arc<LoginCheck>,
}

/// The state of the login check, shared by a `Codex`'s clones.
#[derive(Debug)]
struct LoginCheck {
    enabled: bool,
    passed: AtomicBool,
}

impl LoginCheck {
    fn new(enabled: bool) -> Arc<Self> {
        Arc::new(Self {
            enabled,
            passed: AtomicBool::new(false),
        })
    }
}

impl Codex {
    /// Starts `codex app-server` with the defaults (the binary found the usual way: `CODEX_BIN`,
    /// the active virtualenv's runtime, `PATH`), performs the handshake, and keeps
    /// [the login check](Codex#the-login-check) on. Everything else goes through
    /// [`builder`](Self::builder).
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), codex_client::Error> {
    /// let codex = codex_client::Codex::start().await?;
    /// println!("{:?}", codex.server_info().map(|info| &info.user_agent));
    /// # Ok(()) }
    /// ```
    pub async fn start() -> Result<Self> {
        Self::builder().spawn(SpawnConfig::new()).await
    }

    /// A [`CodexBuilder`]: the connection's settings and the login check, then one of its ends
    /// (spawn a process, connect to an endpoint, or any transport).
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), codex_client::Error> {
    /// use codex_client::{Codex, SpawnConfig};
    /// use codex_client::core::ConnectionConfig;
    /// let codex = Codex::builder()
    ///     .connection(ConnectionConfig::new().request_timeout(std::time::Duration::from_secs(30)))
    ///     .skip_login_check()
    ///     .spawn(SpawnConfig::new().cwd("/work/repo"))
    ///     .await?;
    /// # drop(codex); Ok(()) }
    /// ```
    pub fn builder() -> CodexBuilder {
        CodexBuilder::new()
    }

    /// Wraps an already connected core (any transport, handshake done or not). The login check
    /// is **off** here: the connection is yours, and so is knowing whether it can use a model
    /// (use [`CodexBuilder::transport`] for the same with the check on).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), codex_client::Error> {
    /// use codex_client::{Codex, Transport};
    /// use codex_client::core::{Connection, ConnectionConfig};
    /// let (transport, _server) = Transport::memory();
    /// let conn = Connection::connect(transport, ConnectionConfig::new().handshake(false)).await?;
    /// let codex = Codex::from_connection(conn);
    /// assert!(codex.server_info().is_none());
    /// # Ok(()) }
    /// ```
    pub fn from_connection(conn: Connection) -> Self {
        Self::with_login_check(conn, false)
    }

    /// A `Codex` on `conn`, with the login check on or off (the builder's ends).
    pub(crate) fn with_login_check(conn: Connection, login_check: bool) -> Self {
        Codex {
            conn,
            lanes: Arc::default(),
            login: LoginCheck::new(login_check),
        }
    }

    /// [The login check](Codex#the-login-check), before a thread call.
    pub(super) async fn ensure_logged_in(&self) -> Result<()> {
        if !self.login.enabled || self.login.passed.load(Ordering::Acquire) {
            return Ok(());
        }
        match self.account().read().await {
            Ok(answer) if answer.account.is_none() && answer.requires_openai_auth => {
                tracing::warn!(
                    "account/read: no account, and the model provider needs OpenAI auth"
                );
                Err(Error::NotLoggedIn {
                    codex_home: self
                        .server_info()
                        .and_then(|m| m.codex_home.as_deref())
                        .map(PathBuf::from),
                })
            }
            Ok(_) => {
                self.login.passed.store(true, Ordering::Release);
                Ok(())
            }
            Err(err @ Error::Rpc { .. }) => {
                tracing::warn!(%err, "the login check could not ask account/read; not checking");
                self.login.passed.store(true, Ordering::Release);
                Ok(())
            }
            Err(err) => Err(err),
        }
    }

    /// The underlying connection (every method of the protocol, raw requests, statistics).
    ///
    /// ```no_run
    /// # fn f(codex: codex_client::Codex) { println!("{:?}", codex.connection().stats()); }
    /// ```
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// Which threads run a turn of this client (the busy check of `Thread::turn_with`).
    pub(crate) fn lanes(&self) -> &Arc<super::lanes::Lanes> {
        &self.lanes
    }

    /// What the server said at `initialize`: user agent, server version, codex home, platform
    /// (`None` without a handshake); the same as [`Connection::server_info`].
    ///
    /// ```no_run
    /// # fn f(codex: codex_client::Codex) {
    /// if let Some(info) = codex.server_info() {
    ///     println!("{} ({:?}, home {:?})", info.user_agent, info.server_version, info.codex_home);
    /// }
    /// # }
    /// ```
    pub fn server_info(&self) -> Option<&ServerInfo> {
        self.conn.server_info()
    }

    /// A typed request for any method of the protocol (for what this API does not wrap).
    ///
    /// ```no_run
    /// # async fn f(codex: codex_client::Codex) -> Result<(), codex_client::Error> {
    /// use codex_client::protocol::methods::ModelList;
    /// let models = codex.request::<ModelList>(Default::default()).await?;
    /// println!("{} models", models.data.len());
    /// # Ok(()) }
    /// ```
    pub async fn request<M: ClientMethod>(&self, params: M::Params) -> Result<M::Response> {
        self.conn.request::<M>(params).await
    }

    /// Every notification that no turn or thread stream takes (warnings, config warnings,
    /// account and rate-limit updates, ...).
    ///
    /// ```no_run
    /// # async fn f(codex: codex_client::Codex) -> Result<(), codex_client::Error> {
    /// use futures::StreamExt;
    /// let mut events = codex.notifications();
    /// while let Some(n) = events.next().await {
    ///     println!("{}", n?.method());
    /// }
    /// # Ok(()) }
    /// ```
    pub fn notifications(&self) -> NotificationStream {
        self.conn.notifications()
    }

    /// Closes gracefully (see [`Connection::close`]); every open stream ends. Idempotent.
    ///
    /// ```no_run
    /// # async fn f(codex: codex_client::Codex) {
    /// let info = codex.close().await;
    /// println!("{info}");
    /// # }
    /// ```
    pub async fn close(&self) -> Arc<ClosedInfo> {
        self.conn.close().await
    }
}

/// The calls, grouped by what they act on: each accessor returns a borrowed handle (one file
/// each under `src/api/`).
impl Codex {
    /// Threads by id: start, resume, fork, list, read, archive, unarchive.
    pub fn threads(&self) -> super::Threads<'_> {
        super::Threads::new(self)
    }

    /// Login and account: API key, ChatGPT and device-code login, account, logout, limits.
    pub fn account(&self) -> super::Account<'_> {
        super::Account::new(self)
    }

    /// The model catalog and the provider's capabilities.
    pub fn models(&self) -> super::Models<'_> {
        super::Models::new(self)
    }

    /// The file system of the app-server's machine.
    pub fn files(&self) -> super::Files<'_> {
        super::Files::new(self)
    }

    /// The app-server's own configuration (`config.toml`), read and written.
    pub fn server_config(&self) -> super::ServerConfig<'_> {
        super::ServerConfig::new(self)
    }

    /// The configured MCP servers.
    pub fn mcp(&self) -> super::Mcp<'_> {
        super::Mcp::new(self)
    }

    /// The skills of working directories.
    pub fn skills(&self) -> super::Skills<'_> {
        super::Skills::new(self)
    }

    /// Commands run on the app-server's machine, buffered or streamed.
    pub fn commands(&self) -> super::Commands<'_> {
        super::Commands::new(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::ThreadOptions;
    use crate::config::ConnectionConfig;
    use crate::proto::ListMcpServerStatusParams;
    use crate::proto::methods::McpServerStatusList;
    use crate::transport::Transport;
    use std::time::Duration;

    /// A refused `ThreadOptions` setting sends nothing: the first line the server sees is the
    /// request made after the refusals.
    #[tokio::test]
    async fn a_setting_the_call_has_no_field_for_is_refused_before_anything_is_sent() {
        let (transport, mut peer) = Transport::memory();
        let codex = Codex::builder()
            .connection(
                // A request sent by mistake would fail the test in 2 s, not hang it.
                ConnectionConfig::new()
                    .handshake(false)
                    .request_timeout(Duration::from_secs(2)),
            )
            .skip_login_check()
            .transport(transport)
            .await
            .unwrap();
        let refused = [
            codex
                .threads()
                .resume("thr_1", ThreadOptions::new().ephemeral(true))
                .await,
            codex
                .threads()
                .resume("thr_1", ThreadOptions::new().service_name("bot"))
                .await,
            codex
                .threads()
                .fork(
                    "thr_1",
                    ThreadOptions::new().personality(crate::proto::Personality::Pragmatic),
                )
                .await,
            codex
                .threads()
                .fork("thr_1", ThreadOptions::new().service_name("bot"))
                .await,
        ];
        for result in refused {
            let err = result.expect_err("refused");
            assert!(matches!(err, Error::InvalidOptions(_)), "{err}");
        }
        let marker = tokio::spawn({
            let codex = codex.clone();
            async move {
                codex
                    .request::<McpServerStatusList>(ListMcpServerStatusParams::default())
                    .await
            }
        });
        let first = tokio::time::timeout(Duration::from_secs(5), peer.recv_json())
            .await
            .expect("a request in time")
            .expect("connected");
        assert_eq!(first["method"], "mcpServerStatus/list", "{first}");
        marker.abort();
    }
}

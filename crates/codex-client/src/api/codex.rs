//! [`Codex`], the entry point of the high-level API, and [`CodexConfig`], how to start it.
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

use crate::config::{ClientInfo, ConnectionConfig};
use crate::connection::{Connection, ServerInfo};
use crate::error::{ClosedInfo, Error, Result};
use crate::proto::ClientMethod;
use crate::router::NotificationStream;
use crate::server_requests::ServerRequestHandler;
use crate::spawn::SpawnConfig;
use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// How to start a [`Codex`]: the process ([`SpawnConfig`]) and the connection
/// ([`ConnectionConfig`]), with builder methods for what is commonly set.
///
/// ```
/// use codex_client::CodexConfig;
/// use std::time::Duration;
/// let config = CodexConfig::new()
///     .codex_bin("/usr/local/bin/codex")
///     .config_override("model", "\"gpt-5\"")
///     .disable_feature("plugins")
///     .cwd("/work/repo")
///     .env("RUST_LOG", "warn")
///     .request_timeout(Duration::from_secs(60));
/// # let _ = config;
/// ```
#[derive(Debug, Clone, Default)]
pub struct CodexConfig {
    spawn: SpawnConfig,
    connection: ConnectionConfig,
    /// `true` turns the login check off (the default, `false`, checks).
    skip_login_check: bool,
}

impl CodexConfig {
    /// Defaults: the discovered `codex` binary, inherited environment, fail-closed approvals.
    ///
    /// ```
    /// let config = codex_client::CodexConfig::new();
    /// # let _ = config;
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Both halves, fully specified.
    ///
    /// ```
    /// use codex_client::{CodexConfig, ConnectionConfig, SpawnConfig};
    /// let config = CodexConfig::from_parts(SpawnConfig::new(), ConnectionConfig::new());
    /// # let _ = config;
    /// ```
    pub fn from_parts(spawn: SpawnConfig, connection: ConnectionConfig) -> Self {
        Self {
            spawn,
            connection,
            skip_login_check: false,
        }
    }

    /// Whether the first thread call checks that the server can use a model at all (default
    /// `true`; see [the login check](Codex#the-login-check)). Turn it off for a server you know
    /// needs no login that `account/read` does not describe.
    ///
    /// ```
    /// let config = codex_client::CodexConfig::new().login_check(false);
    /// # let _ = config;
    /// ```
    pub fn login_check(mut self, enabled: bool) -> Self {
        self.skip_login_check = !enabled;
        self
    }

    /// Edits the process half.
    ///
    /// ```
    /// let config = codex_client::CodexConfig::new().with_spawn(|s| s.env_clear(true));
    /// # let _ = config;
    /// ```
    pub fn with_spawn(mut self, edit: impl FnOnce(SpawnConfig) -> SpawnConfig) -> Self {
        self.spawn = edit(self.spawn);
        self
    }

    /// Edits the connection half.
    ///
    /// ```
    /// let config = codex_client::CodexConfig::new().with_connection(|c| c.turn_queue_capacity(512));
    /// # let _ = config;
    /// ```
    pub fn with_connection(
        mut self,
        edit: impl FnOnce(ConnectionConfig) -> ConnectionConfig,
    ) -> Self {
        self.connection = edit(self.connection);
        self
    }

    /// The `codex` binary to run (instead of `CODEX_BIN`, `PATH`, the pinned runtime).
    ///
    /// ```
    /// let config = codex_client::CodexConfig::new().codex_bin("/opt/codex/bin/codex");
    /// # let _ = config;
    /// ```
    pub fn codex_bin(self, path: impl Into<PathBuf>) -> Self {
        self.with_spawn(|s| s.program(path))
    }

    /// A `-c key=value` override (`value` is TOML).
    ///
    /// ```
    /// let config = codex_client::CodexConfig::new().config_override("analytics.enabled", "false");
    /// # let _ = config;
    /// ```
    pub fn config_override(self, key: &str, value: &str) -> Self {
        self.with_spawn(|s| s.config_override(key, value))
    }

    /// `--enable <feature>`.
    ///
    /// ```
    /// let config = codex_client::CodexConfig::new().enable_feature("goals");
    /// # let _ = config;
    /// ```
    pub fn enable_feature(self, feature: impl Into<String>) -> Self {
        self.with_spawn(|s| s.enable_feature(feature))
    }

    /// `--disable <feature>`.
    ///
    /// ```
    /// let config = codex_client::CodexConfig::new().disable_feature("plugins");
    /// # let _ = config;
    /// ```
    pub fn disable_feature(self, feature: impl Into<String>) -> Self {
        self.with_spawn(|s| s.disable_feature(feature))
    }

    /// The app-server's working directory.
    ///
    /// ```
    /// let config = codex_client::CodexConfig::new().cwd("/work/repo");
    /// # let _ = config;
    /// ```
    pub fn cwd(self, dir: impl Into<PathBuf>) -> Self {
        self.with_spawn(|s| s.cwd(dir))
    }

    /// One environment variable of the app-server.
    ///
    /// ```
    /// let config = codex_client::CodexConfig::new().env("CODEX_HOME", "/tmp/codex-home");
    /// # let _ = config;
    /// ```
    pub fn env(self, key: impl Into<OsString>, value: impl Into<OsString>) -> Self {
        self.with_spawn(|s| s.env(key, value))
    }

    /// The client-wide answerer of server requests (approvals, user input, ...) that no turn
    /// stream takes. The default, [`FailClosed`](crate::FailClosed), declines everything.
    ///
    /// ```
    /// let config = codex_client::CodexConfig::new().handler(codex_client::FailClosed);
    /// # let _ = config;
    /// ```
    pub fn handler(self, handler: impl ServerRequestHandler) -> Self {
        self.with_connection(|c| c.handler(handler))
    }

    /// Default timeout of every request.
    ///
    /// ```
    /// let config = codex_client::CodexConfig::new().request_timeout(std::time::Duration::from_secs(30));
    /// # let _ = config;
    /// ```
    pub fn request_timeout(self, timeout: Duration) -> Self {
        self.with_connection(|c| c.request_timeout(timeout))
    }

    /// How long a server request may wait for its answer before the fail-closed one is sent.
    ///
    /// ```
    /// let config = codex_client::CodexConfig::new().server_request_timeout(std::time::Duration::from_secs(60));
    /// # let _ = config;
    /// ```
    pub fn server_request_timeout(self, timeout: Duration) -> Self {
        self.with_connection(|c| c.server_request_timeout(timeout))
    }

    /// Grace period of [`Codex::close`] at each step (stdin closed, SIGTERM).
    ///
    /// ```
    /// let config = codex_client::CodexConfig::new().close_timeout(std::time::Duration::from_secs(2));
    /// # let _ = config;
    /// ```
    pub fn close_timeout(self, timeout: Duration) -> Self {
        self.with_connection(|c| c.close_timeout(timeout))
    }

    /// Who the client is (`initialize.clientInfo`; the name becomes the threads' originator).
    ///
    /// ```
    /// let config = codex_client::CodexConfig::new()
    ///     .client_info(codex_client::ClientInfo::new("my_app", "1.0.0"));
    /// # let _ = config;
    /// ```
    pub fn client_info(self, info: ClientInfo) -> Self {
        self.with_connection(|c| c.client_info(info))
    }

    /// Opt in to the server's experimental API.
    ///
    /// ```
    /// let config = codex_client::CodexConfig::new().experimental_api(true);
    /// # let _ = config;
    /// ```
    pub fn experimental_api(self, enabled: bool) -> Self {
        self.with_connection(|c| c.experimental_api(enabled))
    }
}

/// A process half with the default connection settings, e.g. the bridge from the test kit's
/// launch data ([`SpawnConfig::from_launch`]).
///
/// ```
/// use codex_client::{CodexConfig, SpawnConfig};
/// use codex_client_testkit::{AppServerLaunch, CodexSandbox};
///
/// let sandbox = CodexSandbox::new("/opt/codex/bin/codex", "http://127.0.0.1:9/v1")?;
/// let AppServerLaunch { program, args, env_clear, env, cwd } = sandbox.launch();
/// let config = CodexConfig::from(SpawnConfig::from_launch(program, args, env_clear, env, cwd));
/// # let _ = config;
/// # Ok::<(), std::io::Error>(())
/// ```
impl From<SpawnConfig> for CodexConfig {
    fn from(spawn: SpawnConfig) -> Self {
        Self::from_parts(spawn, ConnectionConfig::new())
    }
}

/// A Codex app-server and the threads on it. Cheap to clone.
///
/// ```no_run
/// use codex_client::{Codex, CodexConfig, ThreadOptions};
///
/// # #[tokio::main]
/// # async fn main() -> Result<(), codex_client::Error> {
/// let codex = Codex::spawn(CodexConfig::new()).await?;
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
/// [`threads()`](Codex::threads) `.start`, `.resume` or `.fork` of a `Codex` made by [`Codex::spawn`] or [`Codex::connect`]
/// first asks `account/read` (one round trip, ~1 ms to a local server) and fails with
/// [`Error::NotLoggedIn`] when it answers `account: null, requiresOpenaiAuth: true` — nothing
/// is started, and the message says how to log in. Once it passes it is not asked again. The
/// check runs there, not at spawn, so that a program can spawn, log in through the API
/// ([`Account::login_api_key`](super::Account::login_api_key),
/// [`Account::login_chatgpt`](super::Account::login_chatgpt)) and then start threads. A configuration
/// whose model provider needs no OpenAI auth (a custom `model_provider`, e.g. the test kit's
/// mock) answers `requiresOpenaiAuth: false` and passes. A server that does not know
/// `account/read` (a JSON-RPC error) is let through with a `tracing` warning.
/// [`CodexConfig::login_check(false)`](CodexConfig::login_check) turns the check off;
/// [`Codex::from_connection`] has it off (turn it on with [`Codex::with_login_check`]).
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
    /// Starts `codex app-server` as configured and performs the handshake.
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), codex_client::Error> {
    /// let codex = codex_client::Codex::spawn(codex_client::CodexConfig::new()).await?;
    /// println!("{:?}", codex.metadata());
    /// # Ok(()) }
    /// ```
    pub async fn spawn(config: CodexConfig) -> Result<Self> {
        let conn = Connection::spawn(config.spawn, config.connection).await?;
        Ok(Self::from_connection(conn).with_login_check(!config.skip_login_check))
    }

    /// Connects to a running app-server (`ws://`, `wss://`, `unix://PATH`, `unix://`) and
    /// performs the handshake; `config`'s connection half applies (its process half is
    /// unused). See [`Connection::connect_url`].
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), codex_client::Error> {
    /// use codex_client::transport::ConnectOptions;
    /// let options = ConnectOptions::new().bearer_token("s3cret");
    /// let codex = codex_client::Codex::connect("ws://127.0.0.1:4500", &options, codex_client::CodexConfig::new()).await?;
    /// # drop(codex); Ok(()) }
    /// ```
    pub async fn connect(
        url: &str,
        options: &crate::transport::ConnectOptions,
        config: CodexConfig,
    ) -> Result<Self> {
        let conn = Connection::connect_url(url, options, config.connection).await?;
        Ok(Self::from_connection(conn).with_login_check(!config.skip_login_check))
    }

    /// Wraps an existing connection (any transport: stdio, memory, your own).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), codex_client::Error> {
    /// use codex_client::{Codex, Connection, ConnectionConfig, Transport};
    /// let (transport, _server) = Transport::memory();
    /// let conn = Connection::connect(transport, ConnectionConfig::new().handshake(false)).await?;
    /// let codex = Codex::from_connection(conn);
    /// assert!(codex.metadata().is_none());
    /// # Ok(()) }
    /// ```
    pub fn from_connection(conn: Connection) -> Self {
        Codex {
            conn,
            lanes: Arc::default(),
            login: LoginCheck::new(false),
        }
    }

    /// Turns [the login check](Codex#the-login-check) on or off for this client and its later
    /// clones (on by default for [`spawn`](Self::spawn) and [`connect`](Self::connect), off for
    /// [`from_connection`](Self::from_connection)).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), codex_client::Error> {
    /// use codex_client::{Codex, Connection, ConnectionConfig, Transport};
    /// let (transport, _server) = Transport::memory();
    /// let conn = Connection::connect(transport, ConnectionConfig::new().handshake(false)).await?;
    /// let codex = Codex::from_connection(conn).with_login_check(true);
    /// # drop(codex); Ok(()) }
    /// ```
    pub fn with_login_check(mut self, enabled: bool) -> Self {
        self.login = LoginCheck::new(enabled);
        self
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
                        .metadata()
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
    /// (`None` without a handshake).
    ///
    /// ```no_run
    /// # fn f(codex: codex_client::Codex) {
    /// if let Some(info) = codex.metadata() {
    ///     println!("{} ({:?}, home {:?})", info.user_agent, info.server_version, info.codex_home);
    /// }
    /// # }
    /// ```
    pub fn metadata(&self) -> Option<&ServerInfo> {
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

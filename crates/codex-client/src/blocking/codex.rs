//! The blocking [`Codex`]: the entry point of the blocking facade, mirroring
//! [`crate::Codex`] method for method (spawn, close, the group accessors, `request::<M>()`,
//! the global notification stream), each one a `wait` on the async call.

use super::builder::CodexBuilder;
use super::notifications::NotificationStream;
use super::runtime::Shared;
use super::thread::Thread;
use crate::connection::{Connection, ServerInfo};
use crate::error::{ClosedInfo, Result};
use crate::proto::ClientMethod;
use crate::spawn::SpawnConfig;
use std::future::Future;
use std::sync::Arc;

/// A Codex app-server and the threads on it, for synchronous programs. Cheap to clone, `Send`
/// and `Sync`: share it between OS threads freely; all clones, and every [`Thread`] and
/// [`TurnHandle`](super::TurnHandle) made from them, share one app-server and one runtime.
/// When the last of them is dropped, the app-server is closed (gracefully, bounded) and
/// reaped, and the runtime stops.
///
/// ```no_run
/// use codex_client::blocking::{Codex, ThreadOptions};
///
/// fn main() -> Result<(), codex_client::Error> {
///     let codex = Codex::start()?;
///     let thread = codex.threads().start(ThreadOptions::new())?;
///     let result = thread.run("Say hello in one sentence.")?;
///     println!("{}", result.final_response().unwrap_or_default());
///     codex.close();
///     Ok(())
/// }
/// ```
#[derive(Debug, Clone)]
pub struct Codex {
    inner: crate::api::Codex,
    shared: Arc<Shared>,
}

impl Codex {
    /// Runs one async call of this client to completion on the calling thread.
    fn wait<F: Future>(&self, future: F) -> F::Output {
        self.shared.wait(future)
    }

    /// Builds the runtime, then runs `connecting` (an async constructor) on it.
    pub(super) fn on_new_runtime(
        connecting: impl Future<Output = Result<crate::api::Codex>>,
    ) -> Result<Self> {
        let shared = Shared::new()?;
        let inner = shared.wait(connecting)?;
        shared.adopt(inner.connection());
        Ok(Codex { inner, shared })
    }

    pub(super) fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// The async client (for the mirrors in `extras.rs` and `groups.rs`).
    pub(super) fn inner(&self) -> &crate::api::Codex {
        &self.inner
    }

    pub(super) fn thread(&self, inner: crate::api::Thread) -> Thread {
        Thread::new(inner, self.clone())
    }

    /// Starts `codex app-server` with the defaults (see [`crate::Codex::start`]). Starts the
    /// client's runtime first; no tokio setup is needed.
    ///
    /// ```no_run
    /// let codex = codex_client::blocking::Codex::start()?;
    /// println!("{:?}", codex.server_info());
    /// # Ok::<(), codex_client::Error>(())
    /// ```
    pub fn start() -> Result<Self> {
        Self::builder().spawn(SpawnConfig::new())
    }

    /// A blocking [`CodexBuilder`] (see [`crate::Codex::builder`]).
    pub fn builder() -> CodexBuilder {
        CodexBuilder::new()
    }

    /// The underlying async connection: its synchronous accessors (`stats()`, `pid()`,
    /// `closed()`, `stderr_tail()`, ...) are usable as is.
    ///
    /// ```no_run
    /// # fn f(codex: codex_client::blocking::Codex) {
    /// println!("{:?} {:?}", codex.connection().pid(), codex.connection().stats());
    /// # }
    /// ```
    pub fn connection(&self) -> &Connection {
        self.inner.connection()
    }

    /// What the server said at `initialize` (see [`crate::Codex::server_info`]).
    ///
    /// ```no_run
    /// # fn f(codex: codex_client::blocking::Codex) {
    /// if let Some(info) = codex.server_info() {
    ///     println!("{} ({:?})", info.user_agent, info.server_version);
    /// }
    /// # }
    /// ```
    pub fn server_info(&self) -> Option<&ServerInfo> {
        self.inner.server_info()
    }

    /// A typed request for any method of the protocol (see [`crate::Codex::request`]).
    ///
    /// ```no_run
    /// # fn f(codex: codex_client::blocking::Codex) -> Result<(), codex_client::Error> {
    /// use codex_client::protocol::methods::ModelList;
    /// let models = codex.request::<ModelList>(Default::default())?;
    /// println!("{} models", models.data.len());
    /// # Ok(()) }
    /// ```
    pub fn request<M: ClientMethod>(&self, params: M::Params) -> Result<M::Response> {
        self.wait(self.inner.request::<M>(params))
    }

    /// Every notification that no turn or thread stream takes, as an iterator (see
    /// [`crate::Codex::notifications`]).
    ///
    /// ```no_run
    /// # fn f(codex: codex_client::blocking::Codex) -> Result<(), codex_client::Error> {
    /// for notification in codex.notifications() {
    ///     println!("{}", notification?.method());
    /// }
    /// # Ok(()) }
    /// ```
    pub fn notifications(&self) -> NotificationStream {
        NotificationStream::new(self.inner.notifications(), self.shared.clone())
    }

    /// Closes gracefully (see [`crate::Codex::close`]); every open iterator ends with
    /// `Err(Error::Closed)` then `None`, on whatever thread it is being iterated. Idempotent.
    ///
    /// ```no_run
    /// # fn f(codex: codex_client::blocking::Codex) {
    /// let info = codex.close();
    /// println!("{info}");
    /// # }
    /// ```
    pub fn close(&self) -> Arc<ClosedInfo> {
        self.wait(self.inner.close())
    }
}

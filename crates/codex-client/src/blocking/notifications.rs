//! The blocking [`NotificationStream`]: the async [`crate::core::NotificationStream`] (global or
//! per-thread notifications) as an [`Iterator`], with `next_timeout`.

use super::runtime::Shared;
use crate::error::Result;
use crate::proto::ServerNotification;
use futures::StreamExt;
use std::sync::Arc;
use std::time::Duration;

/// Notifications of a thread ([`Thread::notifications`](super::Thread::notifications)) or of
/// the whole client ([`Codex::notifications`](super::Codex::notifications)) that no more
/// specific stream took, as an iterator. Items: `Ok(notification)`, `Err(Error::Lagged(n))`
/// (iteration goes on), or a last `Err(Error::Closed(..))` when the connection died. It ends
/// only when the connection does: use [`next_timeout`](Self::next_timeout) to wait a bounded
/// time. Dropping it unsubscribes.
///
/// ```no_run
/// # fn f(codex: codex_client::blocking::Codex) -> Result<(), codex_client::Error> {
/// let mut events = codex.notifications();
/// std::thread::spawn(move || {
///     for n in &mut events {
///         match n {
///             Ok(n) => println!("{}", n.method()),
///             Err(err) => eprintln!("{err}"),
///         }
///     }
/// });
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct NotificationStream {
    inner: crate::router::NotificationStream,
    shared: Arc<Shared>,
}

impl NotificationStream {
    pub(super) fn new(inner: crate::router::NotificationStream, shared: Arc<Shared>) -> Self {
        NotificationStream { inner, shared }
    }

    /// The next notification, waiting at most `timeout`. On expiry:
    /// `Some(Err(Error::Timeout { .. }))`, and the stream goes on. Otherwise as
    /// [`Iterator::next`].
    ///
    /// ```no_run
    /// # fn f(thread: codex_client::blocking::Thread) {
    /// use std::time::Duration;
    /// let mut events = thread.notifications();
    /// match events.next_timeout(Duration::from_secs(5)) {
    ///     Some(Ok(n)) => println!("{}", n.method()),
    ///     Some(Err(err)) => println!("{err}"),
    ///     None => println!("the connection is closed"),
    /// }
    /// # }
    /// ```
    pub fn next_timeout(&mut self, timeout: Duration) -> Option<Result<Arc<ServerNotification>>> {
        self.shared
            .next_within(&mut self.inner, timeout, || "next notification".to_owned())
    }
}

impl Iterator for NotificationStream {
    type Item = Result<Arc<ServerNotification>>;

    fn next(&mut self) -> Option<Self::Item> {
        self.shared.wait(self.inner.next())
    }
}

//! What the blocking twin has beyond the generated mirror: bounded waits on its iterators
//! (`next_timeout`, which async writes as `tokio::time::timeout(d, s.next())`) and
//! [`Thread::codex`], which returns the blocking client by value; `Default` for
//! [`CodexBuilder`].

use super::{Codex, CodexBuilder, GoalHandle, NotificationStream, Thread, TurnHandle};
use crate::error::Result;
use crate::proto::ServerNotification;
use crate::router::TurnEvent;
use std::sync::Arc;
use std::time::Duration;

impl Thread {
    /// The blocking [`Codex`] this thread belongs to (a clone: it shares the client).
    ///
    /// ```no_run
    /// # fn f(thread: codex_client::blocking::Thread) -> Result<(), codex_client::Error> {
    /// let other = thread.codex().threads().start(codex_client::ThreadOptions::new())?;
    /// assert_ne!(other.id(), thread.id());
    /// # Ok(()) }
    /// ```
    pub fn codex(&self) -> Codex {
        Codex::wrap(self.inner.codex().clone(), &self.shared)
    }
}

impl TurnHandle {
    /// The next event, waiting at most `timeout`. On expiry: `Some(Err(Error::Timeout { .. }))`,
    /// and the turn goes on (nothing is lost; call again). Otherwise as [`Iterator::next`].
    ///
    /// ```no_run
    /// # fn f(mut turn: codex_client::blocking::TurnHandle) -> Result<(), codex_client::Error> {
    /// use std::time::Duration;
    /// while let Some(event) = turn.next_timeout(Duration::from_secs(30)) {
    ///     match event {
    ///         Ok(event) => println!("{event:?}"),
    ///         Err(codex_client::Error::Timeout { .. }) => println!("still waiting..."),
    ///         Err(err) => return Err(err),
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub fn next_timeout(&mut self, timeout: Duration) -> Option<Result<TurnEvent>> {
        let turn_id = self.inner.id().to_owned();
        self.shared.next_within(&mut self.inner, timeout, || {
            format!("next event of turn {turn_id}")
        })
    }
}

impl GoalHandle {
    /// The next event of the goal, waiting at most `timeout`; as
    /// [`TurnHandle::next_timeout`].
    ///
    /// ```no_run
    /// # fn f(mut goal: codex_client::blocking::GoalHandle) {
    /// if let Some(Err(codex_client::Error::Timeout { .. })) =
    ///     goal.next_timeout(std::time::Duration::from_secs(5))
    /// {
    ///     println!("quiet for 5 s, still running");
    /// }
    /// # }
    /// ```
    pub fn next_timeout(&mut self, timeout: Duration) -> Option<Result<TurnEvent>> {
        let goal_id = self.inner.id().to_owned();
        self.shared.next_within(&mut self.inner, timeout, || {
            format!("next event of goal {goal_id}")
        })
    }
}

impl NotificationStream {
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

/// The same as [`CodexBuilder::new`]: the defaults, nothing set.
impl Default for CodexBuilder {
    fn default() -> Self {
        Self::new()
    }
}

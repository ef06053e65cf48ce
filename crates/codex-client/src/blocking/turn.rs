//! The blocking [`TurnHandle`] (an [`Iterator`] of the turn's events where the async one is a
//! `Stream`, plus `next_timeout`) and [`TurnControl`] (steer / interrupt from any OS thread).
//! Both wrap their async twins; the events, the collecting and the result rules are theirs.

use super::runtime::Shared;
use crate::api::{Input, TurnResult};
use crate::error::Result;
use crate::router::TurnEvent;
use futures::StreamExt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// Steers or interrupts one turn. Cheap to clone, `Send` and `Sync`, so an OS thread other
/// than the one iterating the turn can hold it.
///
/// ```no_run
/// # fn f(thread: codex_client::blocking::Thread) -> Result<(), codex_client::Error> {
/// let turn = thread.turn("Write a long essay")?;
/// let control = turn.control();
/// let running = std::thread::spawn(move || turn.run());
/// control.interrupt()?;
/// let result = running.join().expect("thread")?;
/// assert!(result.is_interrupted());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct TurnControl {
    inner: crate::api::TurnControl,
    shared: Arc<Shared>,
}

impl TurnControl {
    /// Runs one async call of this turn to completion on the calling thread.
    fn wait<F: Future>(&self, future: F) -> F::Output {
        self.shared.wait(future)
    }

    /// The turn's id.
    ///
    /// ```no_run
    /// # fn f(control: codex_client::blocking::TurnControl) { println!("{}", control.turn_id()); }
    /// ```
    pub fn turn_id(&self) -> &str {
        self.inner.turn_id()
    }

    /// The thread's id.
    ///
    /// ```no_run
    /// # fn f(control: codex_client::blocking::TurnControl) { println!("{}", control.thread_id()); }
    /// ```
    pub fn thread_id(&self) -> &str {
        self.inner.thread_id()
    }

    /// Adds input to the running turn (see [`crate::TurnControl::steer`]).
    ///
    /// ```no_run
    /// # fn f(control: codex_client::blocking::TurnControl) -> Result<(), codex_client::Error> {
    /// control.steer("Also update the tests.")?;
    /// # Ok(()) }
    /// ```
    pub fn steer(&self, input: impl Into<Input>) -> Result<()> {
        self.wait(self.inner.steer(input))
    }

    /// Interrupts the turn (see [`crate::TurnControl::interrupt`]).
    ///
    /// ```no_run
    /// # fn f(control: codex_client::blocking::TurnControl) -> Result<(), codex_client::Error> {
    /// control.interrupt()?;
    /// # Ok(()) }
    /// ```
    pub fn interrupt(&self) -> Result<()> {
        self.wait(self.inner.interrupt())
    }
}

/// A running turn, as an [`Iterator`] of its events: `Ok(TurnEvent::Notification(..))`
/// (deltas, items, usage, ... ending with `turn/completed`), `Ok(TurnEvent::ServerRequest(..))`
/// when the turn was started with
/// [`approvals_in_stream`](crate::TurnOptions::approvals_in_stream) (answer it on the spot with
/// its synchronous `accept()` / `decline()` / `respond()`), `Ok(TurnEvent::Lagged(n))` if this
/// consumer fell behind (iteration goes on), or a last `Err` when it cannot go on:
/// `Error::Closed(..)` if the connection died — the iterator never waits for a dead server —
/// `Error::TurnTimeout`, `Error::TurnRetriesExhausted`.
///
/// The handle records what passes through it; [`run`](Self::run) consumes the rest and returns
/// the [`TurnResult`]. Iterate with `for event in &mut turn` to keep the handle for `run()`.
/// `Send`: move it to another OS thread to iterate there. Dropping an unfinished handle
/// interrupts its turn, unless [`detach`](Self::detach)ed (see [`crate::TurnHandle`]).
///
/// ```no_run
/// # fn f(thread: codex_client::blocking::Thread) -> Result<(), codex_client::Error> {
/// use codex_client::TurnEvent;
/// use codex_client::protocol::ServerNotification;
///
/// let mut turn = thread.turn("Tell me a story")?;
/// for event in &mut turn {
///     if let TurnEvent::Notification(n) = event? {
///         if let ServerNotification::ItemAgentMessageDelta(delta) = &*n {
///             print!("{}", delta.delta);
///         }
///     }
/// }
/// let result = turn.run()?; // everything it saw, already complete
/// println!("\n[{:?}]", result.status);
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct TurnHandle {
    inner: crate::api::TurnHandle,
    shared: Arc<Shared>,
}

impl TurnHandle {
    pub(super) fn new(inner: crate::api::TurnHandle, shared: Arc<Shared>) -> Self {
        TurnHandle { inner, shared }
    }

    /// Runs one async call of this turn to completion on the calling thread.
    fn wait<F: Future>(&self, future: F) -> F::Output {
        self.shared.wait(future)
    }

    /// The turn's id.
    ///
    /// ```no_run
    /// # fn f(turn: codex_client::blocking::TurnHandle) { println!("{}", turn.id()); }
    /// ```
    pub fn id(&self) -> &str {
        self.inner.id()
    }

    /// The thread's id.
    ///
    /// ```no_run
    /// # fn f(turn: codex_client::blocking::TurnHandle) { println!("{}", turn.thread_id()); }
    /// ```
    pub fn thread_id(&self) -> &str {
        self.inner.thread_id()
    }

    /// A steer / interrupt remote for this turn, for other OS threads.
    ///
    /// ```no_run
    /// # fn f(turn: codex_client::blocking::TurnHandle) {
    /// let control = turn.control();
    /// std::thread::spawn(move || control.interrupt());
    /// # }
    /// ```
    pub fn control(&self) -> TurnControl {
        TurnControl {
            inner: self.inner.control(),
            shared: self.shared.clone(),
        }
    }

    /// How this handle came to follow its turn (see [`crate::TurnHandle::origin`]).
    ///
    /// ```no_run
    /// # fn f(turn: codex_client::blocking::TurnHandle) {
    /// assert_eq!(turn.origin(), codex_client::TurnOrigin::Started);
    /// # }
    /// ```
    pub fn origin(&self) -> crate::TurnOrigin {
        self.inner.origin()
    }

    /// Lets the turn run on: dropping the handle no longer interrupts it (see
    /// [`crate::TurnHandle::detach`]). Returns its [`TurnControl`].
    ///
    /// ```no_run
    /// # fn f(thread: codex_client::blocking::Thread) -> Result<(), codex_client::Error> {
    /// let control = thread.turn("Refactor in the background")?.detach();
    /// control.interrupt()?;
    /// # Ok(()) }
    /// ```
    pub fn detach(self) -> TurnControl {
        let TurnHandle { inner, shared } = self;
        TurnControl {
            inner: inner.detach(),
            shared,
        }
    }

    /// Adds input to the running turn (see [`crate::TurnControl::steer`]).
    ///
    /// ```no_run
    /// # fn f(turn: codex_client::blocking::TurnHandle) -> Result<(), codex_client::Error> {
    /// turn.steer("Focus on the failing test.")?;
    /// # Ok(()) }
    /// ```
    pub fn steer(&self, input: impl Into<Input>) -> Result<()> {
        self.wait(self.inner.steer(input))
    }

    /// Interrupts the turn (see [`crate::TurnControl::interrupt`]).
    ///
    /// ```no_run
    /// # fn f(turn: codex_client::blocking::TurnHandle) -> Result<(), codex_client::Error> {
    /// turn.interrupt()?;
    /// let result = turn.run()?;
    /// assert!(result.is_interrupted());
    /// # Ok(()) }
    /// ```
    pub fn interrupt(&self) -> Result<()> {
        self.wait(self.inner.interrupt())
    }

    /// `true` once `turn/completed` has gone past.
    ///
    /// ```no_run
    /// # fn f(turn: codex_client::blocking::TurnHandle) { assert!(!turn.is_completed()); }
    /// ```
    pub fn is_completed(&self) -> bool {
        self.inner.is_completed()
    }

    /// The result so far (status `inProgress` until the turn completes), without consuming.
    ///
    /// ```no_run
    /// # fn f(turn: codex_client::blocking::TurnHandle) { println!("{} items so far", turn.snapshot().items.len()); }
    /// ```
    pub fn snapshot(&self) -> TurnResult {
        self.inner.snapshot()
    }

    /// Consumes the rest of the turn and returns its result (see [`crate::TurnHandle::run`]:
    /// `Ok` for completed or interrupted, `Error::TurnFailed` for failed, `Error::Closed` if
    /// the connection died first).
    ///
    /// ```no_run
    /// # fn f(thread: codex_client::blocking::Thread) -> Result<(), codex_client::Error> {
    /// let result = thread.turn("Summarize README.md")?.run()?;
    /// println!("{}", result.final_response().unwrap_or_default());
    /// # Ok(()) }
    /// ```
    pub fn run(self) -> Result<TurnResult> {
        let TurnHandle { inner, shared } = self;
        shared.wait(inner.run())
    }

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

impl Iterator for TurnHandle {
    type Item = Result<TurnEvent>;

    fn next(&mut self) -> Option<Self::Item> {
        self.shared.wait(self.inner.next())
    }
}

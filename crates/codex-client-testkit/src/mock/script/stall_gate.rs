//! [`StallGate`], which holds [stalled](super::MockResponse::stalled) streams open until a test
//! releases them, and counts the streams that stalled and the clients that went away.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

#[cfg(doc)]
use super::MockResponse;

/// Holds [stalled](MockResponse::stalled) streams open until a test releases them, and tells the
/// test when a stream reached its stall point and when the client went away.
///
/// Clones share state. A gate can hold any number of streams; [`release`](Self::release) lets all
/// of them (and any that stall later) finish.
///
/// ```
/// use codex_client_testkit::StallGate;
///
/// let gate = StallGate::new();
/// assert_eq!(gate.stalled(), 0);
/// gate.release();
/// assert!(gate.is_released());
/// ```
#[derive(Clone)]
pub struct StallGate {
    state: Arc<watch::Sender<GateState>>,
}

#[derive(Debug, Clone, Copy, Default)]
struct GateState {
    released: bool,
    stalled: usize,
    disconnected: usize,
}

impl fmt::Debug for StallGate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("StallGate")
            .field(&*self.state.borrow())
            .finish()
    }
}

impl Default for StallGate {
    fn default() -> Self {
        Self::new()
    }
}

impl StallGate {
    /// A closed gate: streams that reach it wait.
    ///
    /// ```
    /// # use codex_client_testkit::StallGate;
    /// assert!(!StallGate::new().is_released());
    /// ```
    pub fn new() -> Self {
        Self {
            state: Arc::new(watch::Sender::new(GateState::default())),
        }
    }

    /// Opens the gate: every stream waiting on it completes its message, and later ones do not
    /// stop.
    ///
    /// ```
    /// # use codex_client_testkit::StallGate;
    /// let gate = StallGate::new();
    /// gate.release();
    /// assert!(gate.is_released());
    /// ```
    pub fn release(&self) {
        self.state.send_modify(|s| s.released = true);
    }

    /// Whether [`release`](Self::release) was called.
    ///
    /// ```
    /// # use codex_client_testkit::StallGate;
    /// assert!(!StallGate::new().is_released());
    /// ```
    pub fn is_released(&self) -> bool {
        self.state.borrow().released
    }

    /// How many streams have reached the stall point so far (released or not).
    ///
    /// ```
    /// # use codex_client_testkit::StallGate;
    /// assert_eq!(StallGate::new().stalled(), 0);
    /// ```
    pub fn stalled(&self) -> usize {
        self.state.borrow().stalled
    }

    /// How many stalled streams ended because the client disconnected.
    ///
    /// ```
    /// # use codex_client_testkit::StallGate;
    /// assert_eq!(StallGate::new().disconnected(), 0);
    /// ```
    pub fn disconnected(&self) -> usize {
        self.state.borrow().disconnected
    }

    /// Waits until at least `count` streams have sent all their deltas and stalled. `false` on
    /// timeout.
    ///
    /// ```
    /// # use codex_client_testkit::StallGate;
    /// # use std::time::Duration;
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let gate = StallGate::new();
    /// assert!(!gate.wait_stalled(1, Duration::from_millis(10)).await);
    /// # });
    /// ```
    pub async fn wait_stalled(&self, count: usize, timeout: Duration) -> bool {
        self.wait(timeout, |s| s.stalled >= count).await
    }

    /// Waits until at least `count` stalled streams were dropped by the client. `false` on
    /// timeout.
    ///
    /// ```
    /// # use codex_client_testkit::StallGate;
    /// # use std::time::Duration;
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let gate = StallGate::new();
    /// assert!(!gate.wait_disconnected(1, Duration::from_millis(10)).await);
    /// # });
    /// ```
    pub async fn wait_disconnected(&self, count: usize, timeout: Duration) -> bool {
        self.wait(timeout, |s| s.disconnected >= count).await
    }

    async fn wait(&self, timeout: Duration, mut done: impl FnMut(&GateState) -> bool) -> bool {
        let mut rx = self.state.subscribe();
        tokio::time::timeout(timeout, rx.wait_for(|s| done(s)))
            .await
            .is_ok()
    }

    pub(crate) fn note_stalled(&self) {
        self.state.send_modify(|s| s.stalled += 1);
    }

    pub(crate) fn note_disconnected(&self) {
        self.state.send_modify(|s| s.disconnected += 1);
    }

    /// Resolves once the gate is released.
    pub(crate) async fn released(&self) {
        let mut rx = self.state.subscribe();
        // The sender lives in `self`, so `wait_for` cannot fail while we hold it.
        let _ = rx.wait_for(|s| s.released).await;
    }
}

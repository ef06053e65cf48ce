//! Which threads of this client are running a turn: one [`Lane`] per thread, holding at most
//! one turn at a time, so that two `turn()` / `run()` calls on one thread are never silently
//! merged into one turn by the server (a `turn/start` on a busy thread is folded into the
//! running turn, reference/protocol.md §6.5).
//!
//! A turn claims its thread's lane before `turn/start` is sent ([`LaneSlot`]) and keeps it
//! until its `turn/completed` has gone past — or, when its handle is dropped unfinished, until
//! the background task that interrupts (or, for a detached turn, follows) it has seen the turn
//! end. What a second caller meets is its [`WhenBusy`](crate::WhenBusy) choice: an error before
//! anything is sent (the default), a place in the thread's FIFO queue, or a steer of the
//! running turn. The gate is a one-permit tokio [`Semaphore`], which is fair: waiters are served
//! in the order they asked.
//!
//! The lanes live in the [`Codex`](crate::Codex) (shared by its clones and by every `Thread`
//! value of one thread); an entry is removed when its last user is gone.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The lanes of one client, by thread id.
#[derive(Debug, Default)]
pub(crate) struct Lanes {
    map: Mutex<HashMap<String, Arc<Lane>>>,
}

impl Lanes {
    /// The lane of `thread_id` (created on first use).
    pub(crate) fn lane(self: &Arc<Self>, thread_id: &str) -> LaneRef {
        let lane = lock(&self.map)
            .entry(thread_id.to_owned())
            .or_insert_with(|| {
                Arc::new(Lane {
                    gate: Arc::new(Semaphore::new(1)),
                    state: Mutex::new(LaneState::default()),
                })
            })
            .clone();
        LaneRef {
            lanes: self.clone(),
            thread_id: thread_id.to_owned(),
            lane: Some(lane),
        }
    }

    /// Drops the entry of `thread_id` when nobody but the map holds it.
    fn release(&self, thread_id: &str, lane: Arc<Lane>) {
        let mut map = lock(&self.map);
        drop(lane);
        if map
            .get(thread_id)
            .is_some_and(|l| Arc::strong_count(l) == 1)
        {
            map.remove(thread_id);
        }
    }

    /// How many threads have a lane now (for tests).
    #[cfg(test)]
    fn len(&self) -> usize {
        lock(&self.map).len()
    }
}

#[derive(Debug)]
struct Lane {
    gate: Arc<Semaphore>,
    state: Mutex<LaneState>,
}

/// What the holder of a lane is doing.
#[derive(Debug, Default, Clone)]
pub(crate) struct LaneState {
    /// The running turn, once `turn/start` answered (`None` while it is being started).
    pub(crate) turn_id: Option<String>,
    /// Its handle was dropped and the turn is being interrupted: it ends soon.
    pub(crate) cancelling: bool,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A use of one thread's lane (not yet a claim). Dropping it lets the entry go.
#[derive(Debug)]
pub(crate) struct LaneRef {
    lanes: Arc<Lanes>,
    thread_id: String,
    lane: Option<Arc<Lane>>,
}

impl LaneRef {
    fn lane(&self) -> &Arc<Lane> {
        self.lane.as_ref().expect("present until drop")
    }

    /// The lane at once, if no turn of this client holds it.
    pub(crate) fn try_claim(self) -> std::result::Result<LaneSlot, LaneRef> {
        match self.lane().gate.clone().try_acquire_owned() {
            Ok(permit) => Ok(self.slot(permit)),
            Err(_) => Err(self),
        }
    }

    /// The lane, after the turns queued before this call (FIFO).
    pub(crate) async fn claim(self) -> LaneSlot {
        let permit = self
            .lane()
            .gate
            .clone()
            .acquire_owned()
            .await
            .expect("the gate is never closed");
        self.slot(permit)
    }

    /// What the current holder is doing.
    pub(crate) fn state(&self) -> LaneState {
        lock(&self.lane().state).clone()
    }

    fn slot(self, permit: OwnedSemaphorePermit) -> LaneSlot {
        *lock(&self.lane().state) = LaneState::default();
        LaneSlot {
            lane: self,
            _permit: permit,
        }
    }
}

impl Drop for LaneRef {
    fn drop(&mut self) {
        if let Some(lane) = self.lane.take() {
            self.lanes.release(&self.thread_id, lane);
        }
    }
}

/// The claim of one thread's lane by one turn; dropping it frees the thread for the next turn
/// (the next in the queue, if any).
#[derive(Debug)]
pub(crate) struct LaneSlot {
    lane: LaneRef,
    _permit: OwnedSemaphorePermit,
}

impl LaneSlot {
    /// Records the turn that holds the lane.
    pub(crate) fn set_turn(&self, turn_id: &str) {
        lock(&self.lane.lane().state).turn_id = Some(turn_id.to_owned());
    }

    /// Records that the turn is being interrupted (a busy caller then waits instead of failing).
    pub(crate) fn set_cancelling(&self) {
        lock(&self.lane.lane().state).cancelling = true;
    }

    /// A guard that marks the lane's turn as being cancelled when dropped before
    /// [`Abandon::disarm`]: held by a caller waiting for `turn/start`, whose claim has moved to
    /// the task that sends it.
    pub(crate) fn abandon_guard(&self) -> Abandon {
        Abandon(Some(self.lane.lane().clone()))
    }
}

/// See [`LaneSlot::abandon_guard`].
#[derive(Debug)]
pub(crate) struct Abandon(Option<Arc<Lane>>);

impl Abandon {
    /// The caller got its answer: nothing to mark.
    pub(crate) fn disarm(mut self) {
        self.0 = None;
    }
}

impl Drop for Abandon {
    fn drop(&mut self) {
        if let Some(lane) = self.0.take() {
            lock(&lane.state).cancelling = true;
        }
    }
}

impl Drop for LaneSlot {
    fn drop(&mut self) {
        *lock(&self.lane.lane().state) = LaneState::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_turn_per_thread_fifo_and_the_entry_goes_away() {
        let lanes = Arc::new(Lanes::default());
        let first = lanes.lane("t").try_claim().expect("free");
        first.set_turn("u1");
        let busy = lanes.lane("t").try_claim().expect_err("held");
        assert_eq!(busy.state().turn_id.as_deref(), Some("u1"));
        assert!(!busy.state().cancelling);
        drop(busy);
        // Another thread is independent.
        let other = lanes.lane("x").try_claim().expect("another thread is free");
        // Two waiters are served in order.
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut waiters = Vec::new();
        for n in 0..2 {
            let (lanes, order) = (lanes.clone(), order.clone());
            waiters.push(tokio::spawn(async move {
                let slot = lanes.lane("t").claim().await;
                lock(&order).push(n);
                drop(slot);
            }));
            tokio::task::yield_now().await;
        }
        first.set_cancelling();
        assert!(lanes.lane("t").state().cancelling);
        drop(first);
        for w in waiters {
            w.await.unwrap();
        }
        assert_eq!(*lock(&order), [0, 1]);
        drop(other);
        assert_eq!(lanes.len(), 0, "no entry is left behind");
    }
}

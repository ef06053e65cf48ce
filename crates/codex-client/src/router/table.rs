//! The routing table: who is subscribed to what (turn routes, thread and global subscribers),
//! behind one mutex, and the routing step that sends each notification to its subscribers —
//! the rule is in the module documentation of [`crate::router`].

use super::pending::{ForTurn, MemoryLimits, TurnMemory};
use super::queue::{Batch, Offer, OnFull, PushError, Sub, SubQueue, Wakes};
use super::routed::RoutedNotification;
use super::streams::{
    NotificationStream, RouterStats, SubStream, SubscribeOptions, TURN_COMPLETED, TurnStream,
};
use crate::config::{ConnectionConfig, QueueBounds};
use crate::error::ClosedInfo;
use crate::server_requests::PendingServerRequest;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::time::Instant;

/// The hash of the router's maps. They are keyed by ids the app-server generates (UUIDs, 36
/// bytes), looked up once per event, and there is no untrusted key to defend against: a simple
/// multiplicative hash taking 8 bytes per step (FxHash-style) is enough, and about 8x fewer
/// dependent multiplications than hashing byte by byte (FNV), which profiling showed as half of
/// the routing step.
#[derive(Clone, Copy, Default)]
pub(super) struct IdHasher(u64);

impl IdHasher {
    const K: u64 = 0x517c_c1b7_2722_0a95;

    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(Self::K);
    }
}

impl std::hash::Hasher for IdHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            self.add(u64::from_le_bytes(chunk.try_into().expect("8 bytes")));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut last = [0u8; 8];
            last[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(last));
        }
    }
    fn write_u8(&mut self, byte: u8) {
        // `str`'s Hash ends with 0xff: keep "ab" and "a" + "b" apart as the byte loop did.
        self.add(u64::from(byte));
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// A map keyed by a server-generated id (see [`IdHasher`]).
pub(super) type IdMap<V> = HashMap<String, V, std::hash::BuildHasherDefault<IdHasher>>;

/// Bounds of the router's buffers.
#[derive(Debug, Clone)]
pub(crate) struct RouterLimits {
    pub turn_queue: QueueBounds,
    pub subscription_queue: QueueBounds,
    pub pending_max_events: usize,
    pub pending_max_bytes: usize,
    pub pending_max_age: Duration,
    pub recent_turns: usize,
    pub slow_consumer_grace: Duration,
}

impl From<&ConnectionConfig> for RouterLimits {
    fn from(c: &ConnectionConfig) -> Self {
        Self {
            turn_queue: c.turn_queue,
            subscription_queue: c.subscription_queue,
            pending_max_events: c.pending_max_events,
            pending_max_bytes: c.pending_max_bytes,
            pending_max_age: c.pending_max_age,
            recent_turns: c.recent_turns,
            slow_consumer_grace: c.slow_consumer_grace,
        }
    }
}

impl RouterLimits {
    fn memory(&self) -> MemoryLimits {
        MemoryLimits {
            max_events: self.pending_max_events,
            max_bytes: self.pending_max_bytes,
            max_age: self.pending_max_age,
            recent_turns: self.recent_turns,
        }
    }
}

/// The subscribers of one turn.
struct TurnRoute {
    subs: Vec<Sub>,
}

/// The table, behind the router's one mutex.
struct State {
    closed: Option<Arc<ClosedInfo>>,
    turns: IdMap<TurnRoute>,
    /// The pending buffer and the recent turns: what turns without route are owed.
    memory: TurnMemory,
    threads: IdMap<Vec<Sub>>,
    global: Vec<Sub>,
    next_sub: u64,
    dropped_events: u64,
    lagged_events: u64,
}

/// See the module documentation.
pub(crate) struct Router {
    state: Mutex<State>,
    limits: RouterLimits,
    reader_waits: AtomicU64,
    grace_expired: AtomicU64,
}

/// Where a subscription sits in the table (for its stream to unsubscribe).
#[derive(Debug, Clone)]
pub(super) enum SubKey {
    Turn(String),
    Thread(String),
    Global,
}

impl Router {
    pub(crate) fn new(limits: RouterLimits) -> Arc<Self> {
        Arc::new(Self {
            state: Mutex::new(State {
                closed: None,
                turns: IdMap::default(),
                memory: TurnMemory::new(limits.memory()),
                threads: IdMap::default(),
                global: Vec::new(),
                next_sub: 0,
                dropped_events: 0,
                lagged_events: 0,
            }),
            limits,
            reader_waits: AtomicU64::new(0),
            grace_expired: AtomicU64::new(0),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the table inconsistent in a way that
        // matters more than stopping all routing would; keep going.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Wakes the consumers of the last batch, then waits until every queue that went past its
    /// capacity has room again — at most the slow-consumer grace in all; a consumer still
    /// behind at the end is marked lagging (its events are dropped, reported as `Lagged`).
    pub(crate) async fn wait_for_room(&self, wakes: &mut Wakes) {
        wakes.wake_all();
        self.reader_waits.fetch_add(1, Ordering::Relaxed);
        let deadline = Instant::now() + self.limits.slow_consumer_grace;
        for queue in wakes.take_full() {
            if !queue.wait_for_room(deadline).await {
                self.grace_expired.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    pub(crate) fn closed(&self) -> Option<Arc<ClosedInfo>> {
        self.lock().closed.clone()
    }

    // ----- subscriptions ---------------------------------------------------------------------

    fn new_sub(
        self: &Arc<Self>,
        st: &mut State,
        bounds: QueueBounds,
        server_requests: bool,
        key: SubKey,
    ) -> (Sub, SubStream) {
        let on_full = if self.limits.slow_consumer_grace.is_zero() {
            OnFull::Refuse
        } else {
            OnFull::Wait
        };
        st.next_sub += 1;
        let queue = SubQueue::new(bounds);
        let sub = Sub {
            id: st.next_sub,
            queue: queue.clone(),
            missed: 0,
            server_requests,
            on_full,
        };
        let stream = SubStream {
            queue,
            local: Batch::default(),
            router: Some(self.clone()),
            key,
            id: st.next_sub,
        };
        (sub, stream)
    }

    fn closed_stream(info: &Arc<ClosedInfo>) -> SubStream {
        let queue = SubQueue::new(QueueBounds::new(1, 1));
        queue.finish(0, Some(info));
        SubStream {
            queue,
            local: Batch::default(),
            router: None,
            key: SubKey::Global,
            id: 0,
        }
    }

    /// Subscribes to turn `turn_id`. The first subscriber gets the turn's buffered events;
    /// later ones get events from now on. Every subscriber of a turn that already completed
    /// (while the router remembers it: the last `recent_turns`) yields its `turn/completed` and
    /// ends — the first one after the replay of what was buffered, or `Lagged(n)` for what was
    /// lost; the others the completion alone.
    pub(crate) fn subscribe_turn(
        self: &Arc<Self>,
        turn_id: &str,
        options: SubscribeOptions,
    ) -> TurnStream {
        let mut st = self.lock();
        let span = tracing::debug_span!("codex.turn", turn_id);
        if let Some(info) = &st.closed {
            return TurnStream::new(Self::closed_stream(info), turn_id, span);
        }
        let (mut sub, stream) = self.new_sub(
            &mut st,
            self.limits.turn_queue,
            options.server_requests,
            SubKey::Turn(turn_id.to_owned()),
        );
        if let Some(route) = st.turns.get_mut(turn_id) {
            route.subs.push(sub);
            return TurnStream::new(stream, turn_id, span);
        }
        // No route: what was lost, then what was buffered. (Nobody waits on the new stream
        // yet, so there is nobody to wake.)
        let mut wakes = Wakes::default();
        let replayed = st.memory.replay(turn_id, &mut sub, &mut wakes);
        st.lagged_events += replayed.lagged;
        if replayed.finished {
            sub.finish(None);
        } else {
            st.turns
                .insert(turn_id.to_owned(), TurnRoute { subs: vec![sub] });
        }
        TurnStream::new(stream, turn_id, span)
    }

    /// Subscribes to the notifications of thread `thread_id` that no turn stream takes.
    pub(crate) fn subscribe_thread(self: &Arc<Self>, thread_id: &str) -> NotificationStream {
        let mut st = self.lock();
        if let Some(info) = &st.closed {
            return NotificationStream(Self::closed_stream(info));
        }
        let (sub, stream) = self.new_sub(
            &mut st,
            self.limits.subscription_queue,
            false,
            SubKey::Thread(thread_id.to_owned()),
        );
        st.threads
            .entry(thread_id.to_owned())
            .or_default()
            .push(sub);
        NotificationStream(stream)
    }

    /// Subscribes to every notification that no turn or thread stream takes.
    pub(crate) fn subscribe_global(self: &Arc<Self>) -> NotificationStream {
        let mut st = self.lock();
        if let Some(info) = &st.closed {
            return NotificationStream(Self::closed_stream(info));
        }
        let (sub, stream) = self.new_sub(
            &mut st,
            self.limits.subscription_queue,
            false,
            SubKey::Global,
        );
        st.global.push(sub);
        NotificationStream(stream)
    }

    /// Removes a subscription whose stream was dropped; a turn left without subscribers is
    /// remembered as abandoned.
    pub(super) fn unsubscribe(&self, key: &SubKey, id: u64) {
        let mut st = self.lock();
        let st = &mut *st;
        let removed = match key {
            SubKey::Turn(turn) => {
                let Some(route) = st.turns.get_mut(turn) else {
                    return;
                };
                let removed = take_sub(&mut route.subs, id);
                if route.subs.is_empty() {
                    st.turns.remove(turn);
                    st.memory.abandoned(turn);
                }
                removed
            }
            SubKey::Thread(thread) => {
                let Some(subs) = st.threads.get_mut(thread) else {
                    return;
                };
                let removed = take_sub(subs, id);
                if subs.is_empty() {
                    st.threads.remove(thread);
                }
                removed
            }
            SubKey::Global => take_sub(&mut st.global, id),
        };
        drop(removed);
    }

    // ----- routing -----------------------------------------------------------------------------

    /// Routes one notification by the ids found in its raw params (decoding is the consumer's):
    /// its line is copied into the queue of every subscriber it goes to, and kept (moved) in the
    /// pending buffer when its turn has no route yet. The consumers to wake are added to
    /// `wakes`: the caller wakes them (once per batch).
    pub(crate) fn route_notification(&self, event: RoutedNotification, wakes: &mut Wakes) {
        let completed = event.method() == TURN_COMPLETED;
        let mut st = self.lock();
        if st.closed.is_some() {
            return;
        }
        let st = &mut *st;
        // 1. The turn's subscribers, and nobody else.
        if let Some(turn) = event.turn_id()
            && let Some(route) = st.turns.get_mut(turn)
        {
            for sub in &mut route.subs {
                if completed {
                    sub.offer_end(&event, wakes);
                } else if sub.offer(&event, wakes) {
                    st.lagged_events += 1;
                }
            }
            if completed {
                if let Some(route) = st.turns.remove(turn) {
                    for sub in route.subs {
                        sub.finish(None);
                    }
                }
                let turn = turn.to_owned();
                st.memory.completed(&turn, event);
            }
            return;
        }
        // 2. What the turn's first subscriber will get, decided before the event goes on to
        // live observers (3/4) and done after (it may keep the event itself).
        let for_turn = st.memory.for_turn(event.turn_id(), completed);
        // 3. Subscribers of the thread; 4. else global subscribers.
        let thread_subs = event.thread_id().and_then(|t| st.threads.get_mut(t));
        let observers = match thread_subs {
            Some(subs) => subs,
            None => &mut st.global,
        };
        for sub in observers.iter_mut() {
            if sub.offer(&event, wakes) {
                st.lagged_events += 1;
            }
        }
        // 5. Nobody has it, nor will.
        if observers.is_empty() && matches!(for_turn, ForTurn::Nothing | ForTurn::Completion) {
            st.dropped_events += 1;
            tracing::trace!(
                method = event.method(),
                "notification dropped: nobody subscribed"
            );
        }
        st.dropped_events += st.memory.keep(for_turn, event);
    }

    /// Offers a server request to the turn stream that asked for them; gives it back if none
    /// takes it.
    pub(crate) fn route_server_request(
        &self,
        request: PendingServerRequest,
    ) -> Option<PendingServerRequest> {
        let mut st = self.lock();
        if st.closed.is_some() {
            return Some(request);
        }
        let Some(turn) = request.turn_id() else {
            return Some(request);
        };
        let Some(route) = st.turns.get_mut(turn) else {
            return Some(request);
        };
        let mut request = request;
        let mut wakes = Wakes::default();
        for sub in route.subs.iter_mut().filter(|s| s.server_requests) {
            match sub.queue.push(
                Offer::Request(Box::new(request)),
                OnFull::Refuse,
                &mut wakes,
            ) {
                Ok(()) => {
                    drop(st);
                    wakes.wake_all();
                    return None;
                }
                Err(PushError::Full(Offer::Request(r)))
                | Err(PushError::Gone(Offer::Request(r))) => request = *r,
                Err(_) => unreachable!("a request was pushed"),
            }
        }
        Some(request)
    }

    /// Sizes of the table (the waiters are not the router's: 0 here).
    pub(crate) fn stats(&self) -> RouterStats {
        let mut st = self.lock();
        // Ages out the pending buffer now (also done while routing).
        st.dropped_events += st.memory.sweep();
        RouterStats {
            turn_routes: st.turns.len(),
            turn_subscribers: st.turns.values().map(|r| r.subs.len()).sum(),
            pending_turns: st.memory.pending_turns(),
            pending_events: st.memory.pending_events(),
            pending_bytes: st.memory.pending_bytes(),
            waiters: 0,
            thread_subscriptions: st.threads.values().map(Vec::len).sum(),
            global_subscriptions: st.global.len(),
            recent_turns: st.memory.recent_turns(),
            dropped_events: st.dropped_events,
            lagged_events: st.lagged_events,
            reader_waits: self.reader_waits.load(Ordering::Relaxed),
            grace_expired: self.grace_expired.load(Ordering::Relaxed),
        }
    }

    /// Latches the router closed: every stream ends (after draining what it holds) with
    /// `Closed`, buffers are freed. Idempotent; the first reason wins (returned).
    pub(crate) fn fail_all(&self, info: Arc<ClosedInfo>) -> Arc<ClosedInfo> {
        let mut st = self.lock();
        if let Some(existing) = &st.closed {
            return existing.clone();
        }
        st.closed = Some(info.clone());
        let turns = std::mem::take(&mut st.turns);
        let threads = std::mem::take(&mut st.threads);
        let global = std::mem::take(&mut st.global);
        let memory = std::mem::replace(&mut st.memory, TurnMemory::new(self.limits.memory()));
        drop(st);
        let subs = turns
            .into_values()
            .flat_map(|r| r.subs)
            .chain(threads.into_values().flatten())
            .chain(global);
        for sub in subs {
            sub.finish(Some(&info));
        }
        drop(memory);
        info
    }
}

fn take_sub(subs: &mut Vec<Sub>, id: u64) -> Option<Sub> {
    let pos = subs.iter().position(|s| s.id == id)?;
    Some(subs.remove(pos))
}

//! The message router: where every decoded notification and server request goes, and the table
//! of response waiters.
//!
//! # Routing rule
//!
//! For a notification with turn id `T` and thread id `H` (from the generated routing metadata):
//!
//! 1. a route for `T` exists: every subscriber of the turn gets it (and nobody else);
//! 2. no route for `T` yet: it is kept in the **pending buffer** of `T` (bounded in events, bytes
//!    and age) and replayed, in order, to the first subscriber of `T` — `turn/completed`
//!    included — and it also goes on to 3/4 so live observers see it;
//! 3. somebody subscribed to thread `H`: those subscribers get it;
//! 4. else the global subscribers get it;
//! 5. else it is dropped and counted ([`RouterStats::dropped_events`]).
//!
//! Server requests of a turn go to the first subscriber of that turn that asked for them
//! ([`SubscribeOptions::server_requests`]); otherwise (or if its queue is full) to the
//! connection's handler.
//!
//! # Bounded memory
//!
//! Every subscriber has a bounded queue. When a push fills it, the event is still queued and the
//! reader waits — at most the slow-consumer grace — for the consumer to take its batch
//! ([`Router::wait_for_room`]): a consumer that is only briefly behind loses nothing. Past the
//! grace the subscriber is marked lagging: a full queue then drops the event for that subscriber
//! only (without waiting), and its stream later yields the count at the position of the gap
//! ([`TurnEvent::Lagged`] in a turn's stream, `Err(`[`Error::Lagged`]`)` in a notification
//! stream), until the consumer takes what is queued. A turn's route is removed as
//! soon as its `turn/completed` has been queued (the stream drains what it holds, then ends) or
//! when its last stream is dropped. The pending buffer evicts whole turns (oldest first) past its
//! bounds; the router then remembers, in a bounded list of recent turns, how many events such a
//! turn lost (a later subscriber gets `Lagged(n)` first) and its `turn/completed` if it came — so
//! every late subscriber of a finished turn gets its completion instead of waiting forever (the
//! first one after the replay of what was buffered, or `Lagged(n)` for what was lost).
//!
//! # Locking
//!
//! One mutex over the whole table. The reader takes it once per event, for a hash lookup and a
//! non-blocking push per subscriber (a full queue is only noted, for the reader to wait on after
//! the lock is released); consumers never take it to receive. The reader routes
//! a notification by the ids in its raw params and copies its line into each subscriber's queue;
//! the typed decode happens when the consumer takes it ([`crate::routed`]).

use crate::config::QueueBounds;
use crate::error::{ClosedInfo, Error, Result};
use crate::proto::ServerNotification;
use crate::routed::{QueuedLines, QueuedNotification, RoutedNotification};
use crate::server_requests::PendingServerRequest;
use futures::Stream;
use serde_json::value::RawValue;
use std::collections::{HashMap, VecDeque};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::time::Instant;

/// One item of a turn's stream.
///
/// A gap is an item too ([`Lagged`](Self::Lagged)): the stream's `Err` items are only the ones
/// that end it (`Closed`, a watchdog's `TurnTimeout`, a retry bound), so `event?` in a loop never
/// stops a consumer that merely fell behind.
///
/// ```
/// use codex_client::TurnEvent;
/// let gap = TurnEvent::Lagged(3);
/// assert_eq!(gap.lagged(), Some(3));
/// assert!(gap.notification().is_none() && !gap.is_turn_completed());
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum TurnEvent {
    /// A notification of the turn, decoded by the stream when it took it.
    Notification(Arc<ServerNotification>),
    /// A request of the server about this turn (approval, user input, ...), delivered here
    /// because the stream asked for them ([`SubscribeOptions::server_requests`]).
    ServerRequest(PendingServerRequest),
    /// This consumer fell behind and `n` events of the turn were dropped here, at this position
    /// (the connection and every other stream went on). The stream continues; the turn's
    /// `turn/completed` is never among the dropped events.
    Lagged(u64),
}

impl TurnEvent {
    /// The notification, if this is one.
    pub fn notification(&self) -> Option<&ServerNotification> {
        match self {
            TurnEvent::Notification(n) => Some(n),
            TurnEvent::ServerRequest(_) | TurnEvent::Lagged(_) => None,
        }
    }

    /// The count of a gap ([`Lagged`](Self::Lagged)), if this is one.
    pub fn lagged(&self) -> Option<u64> {
        match self {
            TurnEvent::Lagged(n) => Some(*n),
            _ => None,
        }
    }

    /// `true` for the turn's `turn/completed` (always the last event of a turn's stream).
    pub fn is_turn_completed(&self) -> bool {
        self.notification()
            .is_some_and(|n| n.method() == TURN_COMPLETED)
    }
}

/// How a stream subscribes.
///
/// ```
/// let options = codex_client::SubscribeOptions::new().server_requests(true);
/// # let _ = options;
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SubscribeOptions {
    pub(crate) server_requests: bool,
}

impl SubscribeOptions {
    /// The default: notifications only; server requests go to the connection's handler.
    pub fn new() -> Self {
        Self::default()
    }

    /// Deliver this turn's server requests (approvals, ...) in this stream as
    /// [`TurnEvent::ServerRequest`], instead of to the connection's handler. Only the first such
    /// subscriber of a turn gets them.
    pub fn server_requests(mut self, yes: bool) -> Self {
        self.server_requests = yes;
        self
    }
}

/// Sizes of the router's tables, for tests and monitoring. After every turn has completed and
/// every stream was dropped, all counts but the counters (`dropped_events`, `lagged_events`,
/// `reader_waits`, `grace_expired`) return to zero.
///
/// ```
/// let stats = codex_client::RouterStats::default();
/// assert!(stats.is_idle());
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RouterStats {
    /// Turns with a live route.
    pub turn_routes: usize,
    /// Subscribers over all turn routes.
    pub turn_subscribers: usize,
    /// Turns with buffered events and no route yet.
    pub pending_turns: usize,
    /// Events in the pending buffer.
    pub pending_events: usize,
    /// Bytes (raw line lengths) in the pending buffer.
    pub pending_bytes: usize,
    /// Requests waiting for their response.
    pub waiters: usize,
    /// Thread subscribers (over all threads).
    pub thread_subscriptions: usize,
    /// Global subscribers.
    pub global_subscriptions: usize,
    /// Finished or abandoned turns remembered (bounded by `recent_turns`).
    pub recent_turns: usize,
    /// Events nobody received (no subscriber, or evicted from the pending buffer), total.
    pub dropped_events: u64,
    /// Events dropped because a subscriber's queue was full, total.
    pub lagged_events: u64,
    /// Times the reader waited for a consumer whose queue was full (the slow-consumer grace),
    /// total: how often backpressure held the whole connection up.
    pub reader_waits: u64,
    /// Consumers given up on after a whole grace without taking anything, total.
    pub grace_expired: u64,
}

impl RouterStats {
    /// `true` when no route, pending event, waiter or subscription is left.
    pub fn is_idle(&self) -> bool {
        self.turn_routes == 0
            && self.turn_subscribers == 0
            && self.pending_turns == 0
            && self.pending_events == 0
            && self.pending_bytes == 0
            && self.waiters == 0
            && self.thread_subscriptions == 0
            && self.global_subscriptions == 0
    }
}

pub(crate) const TURN_COMPLETED: &str = "turn/completed";

/// The hash of the router's maps. They are keyed by ids the app-server generates (UUIDs, 36
/// bytes), looked up once per event, and there is no untrusted key to defend against: a simple
/// multiplicative hash taking 8 bytes per step (FxHash-style) is enough, and about 8x fewer
/// dependent multiplications than hashing byte by byte (FNV), which profiling showed as half of
/// the routing step.
#[derive(Clone, Copy, Default)]
struct IdHasher(u64);

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

type IdMap<V> = HashMap<String, V, std::hash::BuildHasherDefault<IdHasher>>;

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

impl From<&crate::ConnectionConfig> for RouterLimits {
    fn from(c: &crate::ConnectionConfig) -> Self {
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

/// What a waiter receives.
pub(crate) struct Reply {
    pub raw: Box<RawValue>,
    pub turn: Option<TurnStream>,
}

pub(crate) struct Waiter {
    pub method: Box<str>,
    pub tx: oneshot::Sender<Result<Reply>>,
    /// `Some` when the caller wants the turn its response starts, as a stream.
    pub turn: Option<SubscribeOptions>,
}

pub(crate) enum Delivery {
    /// A notification, its line in the [`Batch`]'s lines.
    Notification(QueuedNotification),
    Request(Box<PendingServerRequest>),
    Lagged(u64),
}

/// What a queue holds, and what its stream takes in one go: the deliveries in order, and the
/// lines of the notifications among them, back to back ([`QueuedLines`]). The stream hands its
/// emptied batch back in exchange, so the memory of both is reused rather than allocated per
/// event.
#[derive(Default)]
struct Batch {
    items: VecDeque<Delivery>,
    lines: QueuedLines,
    /// The line bytes of the notifications among `items` (eagerly decoded ones counted at
    /// their line's length too): what the queue's byte bound is checked against.
    bytes: usize,
}

/// What the router pushes to a queue (a [`Delivery`] once queued).
enum Offer<'a> {
    /// A notification: its line is copied into the queue's lines.
    Notification(&'a RoutedNotification),
    Request(Box<PendingServerRequest>),
    Lagged(u64),
}

/// What routing leaves for the reader to do once it has routed a batch of lines: the consumers
/// to wake (once per batch, not once per event), and the queues that went past their capacity,
/// which the reader waits on — up to the slow-consumer grace — before it reads on.
#[derive(Default)]
pub(crate) struct Wakes {
    wakers: Vec<Waker>,
    full: Vec<Arc<SubQueue>>,
}

impl Wakes {
    /// Wakes every consumer that has new items.
    pub(crate) fn wake_all(&mut self) {
        self.wakers.drain(..).for_each(Waker::wake);
    }

    /// `true` when a queue is over its capacity and the reader should wait for room.
    pub(crate) fn must_wait(&self) -> bool {
        !self.full.is_empty()
    }
}

/// One subscriber's bounded queue. The reader pushes without blocking; the stream takes
/// everything queued at once (one lock per batch, not per event). Wake-ups are handed back to the
/// caller so the reader can wake each consumer once per batch of lines instead of once per event.
struct SubQueue {
    state: Mutex<QueueState>,
    capacity: usize,
    /// The byte bound ([`Batch::bytes`]): full like `capacity`, whichever comes first.
    max_bytes: usize,
    /// Signalled by the consumer when it takes a batch while the reader waits for room.
    room: tokio::sync::Notify,
}

#[derive(Default)]
struct QueueState {
    batch: Batch,
    waker: Option<Waker>,
    /// No more items will come (turn completed, unsubscribed by the router, or closed).
    done: bool,
    /// The stream was dropped.
    gone: bool,
    final_missed: u64,
    closed: Option<Arc<ClosedInfo>>,
    /// The reader waited the whole grace period for room: from now on a full queue drops
    /// (`Lagged`) instead of making the reader wait, until the consumer takes a batch.
    lagging: bool,
    /// The reader waits for room in this queue (the consumer signals `room` when it takes).
    reader_waiting: bool,
}

enum PushError<'a> {
    Full(Offer<'a>),
    Gone(Offer<'a>),
}

/// How a push treats a full queue.
#[derive(Clone, Copy, PartialEq, Eq)]
enum OnFull {
    /// Refuse the item (the caller counts it as missed, or gives a request back).
    Refuse,
    /// Queue it past the capacity and have the reader wait for room (the slow-consumer grace),
    /// unless the consumer already used up its grace (then: refuse).
    Wait,
    /// Queue it anyway: a turn's end, at most twice per turn (see [`Sub::offer_end`]).
    Force,
}

impl SubQueue {
    fn new(bounds: QueueBounds) -> Arc<Self> {
        Arc::new(Self {
            state: Mutex::new(QueueState::default()),
            capacity: bounds.events,
            max_bytes: bounds.bytes,
            room: tokio::sync::Notify::new(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, QueueState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn push<'a>(
        self: &Arc<Self>,
        item: Offer<'a>,
        on_full: OnFull,
        wakes: &mut Wakes,
    ) -> std::result::Result<(), PushError<'a>> {
        let mut q = self.lock();
        if q.gone {
            return Err(PushError::Gone(item));
        }
        let bytes = match &item {
            Offer::Notification(event) => event.line_len(),
            Offer::Request(_) | Offer::Lagged(_) => 0,
        };
        // Full in events, or in bytes — an event that does not fit after what is queued (an
        // empty queue takes any one event, however long: a line is bounded by the codec).
        let full = q.batch.items.len() >= self.capacity
            || (q.batch.bytes > 0 && q.batch.bytes + bytes > self.max_bytes);
        if full {
            match on_full {
                OnFull::Force => {}
                OnFull::Wait if !q.lagging => {
                    if !wakes.full.iter().any(|f| Arc::ptr_eq(f, self)) {
                        wakes.full.push(self.clone());
                    }
                }
                OnFull::Wait | OnFull::Refuse => return Err(PushError::Full(item)),
            }
        }
        let delivery = match item {
            Offer::Notification(event) => Delivery::Notification(q.batch.lines.push(event)),
            Offer::Request(request) => Delivery::Request(request),
            Offer::Lagged(n) => Delivery::Lagged(n),
        };
        q.batch.items.push_back(delivery);
        q.batch.bytes += bytes;
        if let Some(w) = q.waker.take() {
            wakes.wakers.push(w);
        }
        Ok(())
    }

    /// Waits until the consumer made room, it went away, or `deadline`; at the deadline the
    /// consumer is marked lagging (its full queue drops events until it takes a batch) and this
    /// returns `false`.
    async fn wait_for_room(&self, deadline: Instant) -> bool {
        loop {
            let notified = self.room.notified();
            let mut notified = std::pin::pin!(notified);
            notified.as_mut().enable();
            {
                let mut q = self.lock();
                if !self.over(&q) || q.gone || q.done {
                    q.reader_waiting = false;
                    return true;
                }
                q.reader_waiting = true;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                let mut q = self.lock();
                q.reader_waiting = false;
                if self.over(&q) && !q.gone && !q.done {
                    q.lagging = true;
                    tracing::debug!(
                        queued = q.batch.items.len(),
                        queued_bytes = q.batch.bytes,
                        "a stream's consumer is too slow: its events are dropped (Lagged) until it catches up"
                    );
                    return false;
                }
                return true;
            }
        }
    }

    /// Past a bound (events or bytes): the reader waits for room, within the grace.
    fn over(&self, q: &QueueState) -> bool {
        q.batch.items.len() >= self.capacity || q.batch.bytes > self.max_bytes
    }

    fn finish(&self, missed: u64, closed: Option<&Arc<ClosedInfo>>) {
        let waker = {
            let mut q = self.lock();
            q.done = true;
            q.final_missed += missed;
            if q.closed.is_none() {
                q.closed = closed.cloned();
            }
            q.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }
}

struct Sub {
    id: u64,
    queue: Arc<SubQueue>,
    missed: u64,
    server_requests: bool,
    /// What a full queue does to an event: [`OnFull::Wait`] when the connection has a
    /// slow-consumer grace, else [`OnFull::Refuse`].
    on_full: OnFull,
}

impl Sub {
    /// Queues `event`; on a full queue counts it as missed (returned: whether it was dropped).
    fn offer(&mut self, event: &RoutedNotification, wakes: &mut Wakes) -> bool {
        if self.missed > 0 {
            match self
                .queue
                .push(Offer::Lagged(self.missed), OnFull::Refuse, wakes)
            {
                Ok(()) => self.missed = 0,
                Err(PushError::Full(_)) => {
                    self.missed += 1;
                    return true;
                }
                Err(PushError::Gone(_)) => return false,
            }
        }
        match self
            .queue
            .push(Offer::Notification(event), self.on_full, wakes)
        {
            Ok(()) => false,
            Err(PushError::Full(_)) => {
                self.missed += 1;
                true
            }
            Err(PushError::Gone(_)) => false,
        }
    }

    /// Queues a turn's `turn/completed` even when the queue is full (after the count of what
    /// this subscriber missed): a consumer that fell behind loses events, never the turn's end
    /// and its status. Bounded: the queue exceeds its capacity by at most these two items, once.
    fn offer_end(&mut self, event: &RoutedNotification, wakes: &mut Wakes) {
        if self.missed > 0 {
            let _ = self
                .queue
                .push(Offer::Lagged(self.missed), OnFull::Force, wakes);
            self.missed = 0;
        }
        let _ = self
            .queue
            .push(Offer::Notification(event), OnFull::Force, wakes);
    }

    fn offer_lagged(&mut self, n: u64, wakes: &mut Wakes) {
        self.missed += n;
        if let Ok(()) = self
            .queue
            .push(Offer::Lagged(self.missed), OnFull::Refuse, wakes)
        {
            self.missed = 0;
        }
    }

    /// Ends the subscription: the stream drains its queue, reports what it missed, then the
    /// close reason if any, then ends.
    fn finish(self, closed: Option<&Arc<ClosedInfo>>) {
        self.queue.finish(self.missed, closed);
    }
}

struct TurnRoute {
    subs: Vec<Sub>,
}

struct PendingTurn {
    events: VecDeque<RoutedNotification>,
    bytes: usize,
    since: Instant,
}

/// What the router remembers of a turn that has no route.
#[derive(Default)]
struct RecentTurn {
    /// Its route was dropped by its consumer: later events are not buffered.
    abandoned: bool,
    /// Events of the turn lost before anybody subscribed.
    missed: u64,
    /// Its `turn/completed`, once seen.
    completion: Option<RoutedNotification>,
}

#[derive(Default)]
struct RecentTurns {
    order: VecDeque<String>,
    map: IdMap<RecentTurn>,
}

impl RecentTurns {
    fn entry(&mut self, turn: &str, cap: usize) -> Option<&mut RecentTurn> {
        if cap == 0 {
            return None;
        }
        if !self.map.contains_key(turn) {
            while self.order.len() >= cap {
                if let Some(old) = self.order.pop_front() {
                    self.map.remove(&old);
                }
            }
            self.order.push_back(turn.to_owned());
            self.map.insert(turn.to_owned(), RecentTurn::default());
        }
        self.map.get_mut(turn)
    }

    fn take(&mut self, turn: &str) -> Option<RecentTurn> {
        let entry = self.map.remove(turn)?;
        if let Some(pos) = self.order.iter().position(|t| t == turn) {
            self.order.remove(pos);
        }
        Some(entry)
    }
}

/// What routing does for the first subscriber of a turn that has no route.
enum ForTurn {
    Nothing,
    /// Keep the event in the pending buffer, to replay.
    Buffer,
    /// The turn's buffered events were evicted: count the event as missed, for the
    /// subscriber's `Lagged`.
    CountMissed,
    /// The turn is remembered: keep its `turn/completed`.
    Completion,
}

#[derive(Default)]
struct State {
    closed: Option<Arc<ClosedInfo>>,
    waiters: HashMap<i64, Waiter>,
    turns: IdMap<TurnRoute>,
    pending: IdMap<PendingTurn>,
    pending_events: usize,
    pending_bytes: usize,
    next_sweep: Option<Instant>,
    recent: RecentTurns,
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
    reader_waits: std::sync::atomic::AtomicU64,
    grace_expired: std::sync::atomic::AtomicU64,
}

#[derive(Debug, Clone)]
enum SubKey {
    Turn(String),
    Thread(String),
    Global,
}

impl Router {
    pub(crate) fn new(limits: RouterLimits) -> Arc<Self> {
        Arc::new(Self {
            state: Mutex::new(State::default()),
            limits,
            reader_waits: Default::default(),
            grace_expired: Default::default(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the table inconsistent in a way that
        // matters more than stopping all routing would; keep going.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    // ----- waiters -------------------------------------------------------------------------

    pub(crate) fn add_waiter(&self, id: i64, waiter: Waiter) -> Result<()> {
        let mut st = self.lock();
        if let Some(info) = &st.closed {
            return Err(Error::Closed(info.clone()));
        }
        st.waiters.insert(id, waiter);
        Ok(())
    }

    pub(crate) fn take_waiter(&self, id: i64) -> Option<Waiter> {
        self.lock().waiters.remove(&id)
    }

    pub(crate) fn remove_waiter(&self, id: i64) {
        let removed = self.lock().waiters.remove(&id);
        drop(removed);
    }

    /// Wakes the consumers of the last batch, then waits until every queue that went past its
    /// capacity has room again — at most the slow-consumer grace in all; a consumer still
    /// behind at the end is marked lagging (its events are dropped, reported as `Lagged`).
    pub(crate) async fn wait_for_room(&self, wakes: &mut Wakes) {
        use std::sync::atomic::Ordering::Relaxed;
        wakes.wake_all();
        self.reader_waits.fetch_add(1, Relaxed);
        let deadline = Instant::now() + self.limits.slow_consumer_grace;
        for queue in std::mem::take(&mut wakes.full) {
            if !queue.wait_for_room(deadline).await {
                self.grace_expired.fetch_add(1, Relaxed);
            }
        }
    }

    pub(crate) fn closed(&self) -> Option<Arc<ClosedInfo>> {
        self.lock().closed.clone()
    }

    // ----- subscriptions ---------------------------------------------------------------------

    fn new_sub(
        &self,
        st: &mut State,
        bounds: QueueBounds,
        server_requests: bool,
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
            router: None,
            key: SubKey::Global,
            id: st.next_sub,
            closed_reported: false,
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
            closed_reported: false,
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
        let (mut sub, mut stream) =
            self.new_sub(&mut st, self.limits.turn_queue, options.server_requests);
        stream.router = Some(self.clone());
        stream.key = SubKey::Turn(turn_id.to_owned());
        if let Some(route) = st.turns.get_mut(turn_id) {
            route.subs.push(sub);
            return TurnStream::new(stream, turn_id, span);
        }
        // No route: what was lost, then what was buffered. (Nobody waits on the new stream
        // yet, so there is nobody to wake.)
        let mut wakes = Wakes::default();
        // A finished turn the router remembers: every subscriber gets its end (the first one
        // after the count of what was lost), and the turn stays remembered for the next.
        if let Some(recent) = st.recent.map.get_mut(turn_id)
            && let Some(done) = &recent.completion
        {
            let missed = std::mem::take(&mut recent.missed);
            if missed > 0 {
                sub.offer_lagged(missed, &mut wakes);
            }
            sub.offer_end(done, &mut wakes);
            sub.finish(None);
            return TurnStream::new(stream, turn_id, span);
        }
        if let Some(recent) = st.recent.take(turn_id)
            && recent.missed > 0
        {
            sub.offer_lagged(recent.missed, &mut wakes);
        }
        let mut completion = None;
        if let Some(pending) = st.pending.remove(turn_id) {
            st.pending_events -= pending.events.len();
            st.pending_bytes -= pending.bytes;
            for event in pending.events {
                if event.method() == TURN_COMPLETED {
                    sub.offer_end(&event, &mut wakes);
                    completion = Some(event);
                } else if sub.offer(&event, &mut wakes) {
                    st.lagged_events += 1;
                }
            }
        }
        match completion {
            // The whole turn was buffered: replayed to this first subscriber; its end is
            // remembered for later ones.
            Some(done) => {
                sub.finish(None);
                if let Some(recent) = st.recent.entry(turn_id, self.limits.recent_turns) {
                    recent.completion = Some(done);
                }
            }
            None => {
                st.turns
                    .insert(turn_id.to_owned(), TurnRoute { subs: vec![sub] });
            }
        }
        TurnStream::new(stream, turn_id, span)
    }

    /// Subscribes to the notifications of thread `thread_id` that no turn stream takes.
    pub(crate) fn subscribe_thread(self: &Arc<Self>, thread_id: &str) -> NotificationStream {
        let mut st = self.lock();
        if let Some(info) = &st.closed {
            return NotificationStream(Self::closed_stream(info));
        }
        let (sub, mut stream) = self.new_sub(&mut st, self.limits.subscription_queue, false);
        stream.router = Some(self.clone());
        stream.key = SubKey::Thread(thread_id.to_owned());
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
        let (sub, mut stream) = self.new_sub(&mut st, self.limits.subscription_queue, false);
        stream.router = Some(self.clone());
        st.global.push(sub);
        NotificationStream(stream)
    }

    fn unsubscribe(&self, key: &SubKey, id: u64) {
        let mut st = self.lock();
        let removed = match key {
            SubKey::Turn(turn) => {
                let Some(route) = st.turns.get_mut(turn) else {
                    return;
                };
                let removed = take_sub(&mut route.subs, id);
                if route.subs.is_empty() {
                    st.turns.remove(turn);
                    if let Some(recent) = st.recent.entry(turn, self.limits.recent_turns) {
                        recent.abandoned = true;
                    }
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
        drop(st);
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
                if let Some(recent) = st.recent.entry(turn, self.limits.recent_turns) {
                    recent.completion = Some(event);
                }
            }
            return;
        }
        // 2. What the turn's first subscriber will get, decided before the event goes on to
        // live observers (3/4) and done after (it may keep the event itself).
        let for_turn = match event.turn_id() {
            None => ForTurn::Nothing,
            Some(turn) => match st.recent.map.get(turn) {
                // Finished, abandoned or evicted: never buffered again.
                Some(_) if completed => ForTurn::Completion,
                Some(recent) if !recent.abandoned && recent.completion.is_none() => {
                    ForTurn::CountMissed
                }
                Some(_) => ForTurn::Nothing,
                None => ForTurn::Buffer,
            },
        };
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
        match for_turn {
            ForTurn::Nothing => {}
            ForTurn::Completion | ForTurn::CountMissed => {
                let turn = event.turn_id().expect("routed by its turn id");
                if let Some(recent) = st.recent.map.get_mut(turn) {
                    if completed {
                        recent.completion = Some(event);
                    } else {
                        recent.missed += 1;
                    }
                }
            }
            ForTurn::Buffer => self.stash(st, event),
        }
    }

    /// Keeps `event` (of a turn without route) in the pending buffer.
    fn stash(&self, st: &mut State, event: RoutedNotification) {
        let now = Instant::now();
        let bytes = event.line_len();
        let turn = event.turn_id().expect("stashed by its turn id");
        match st.pending.get_mut(turn) {
            Some(pending) => {
                pending.events.push_back(event);
                pending.bytes += bytes;
            }
            None => {
                let turn = turn.to_owned();
                let pending = PendingTurn {
                    events: VecDeque::from([event]),
                    bytes,
                    since: now,
                };
                st.pending.insert(turn, pending);
            }
        }
        st.pending_events += 1;
        st.pending_bytes += bytes;
        if st.next_sweep.is_none() {
            st.next_sweep = Some(now + self.sweep_interval());
        }
        self.enforce_pending_bounds(st, now);
    }

    fn sweep_interval(&self) -> Duration {
        (self.limits.pending_max_age / 4).clamp(Duration::from_millis(10), Duration::from_secs(1))
    }

    /// Evicts whole pending turns, oldest first, past the count/byte bounds or the age limit.
    fn enforce_pending_bounds(&self, st: &mut State, now: Instant) {
        while st.pending_events > self.limits.pending_max_events
            || st.pending_bytes > self.limits.pending_max_bytes
        {
            let Some(oldest) = st
                .pending
                .iter()
                .min_by_key(|(_, p)| p.since)
                .map(|(t, _)| t.clone())
            else {
                break;
            };
            self.evict(st, &oldest, "pending buffer full");
        }
        if st.next_sweep.is_some_and(|t| now >= t) {
            let max_age = self.limits.pending_max_age;
            let expired: Vec<String> = st
                .pending
                .iter()
                .filter(|(_, p)| now.duration_since(p.since) >= max_age)
                .map(|(t, _)| t.clone())
                .collect();
            for turn in expired {
                self.evict(st, &turn, "pending events too old");
            }
            st.next_sweep = (!st.pending.is_empty()).then(|| now + self.sweep_interval());
        }
    }

    fn evict(&self, st: &mut State, turn: &str, why: &str) {
        let Some(pending) = st.pending.remove(turn) else {
            return;
        };
        st.pending_events -= pending.events.len();
        st.pending_bytes -= pending.bytes;
        let buffered = pending.events.len() as u64;
        let completion = pending
            .events
            .into_iter()
            .rev()
            .find(|e| e.method() == TURN_COMPLETED);
        let lost = buffered - u64::from(completion.is_some());
        st.dropped_events += lost;
        tracing::warn!(
            turn_id = turn,
            lost,
            why,
            "dropping buffered events of a turn nobody subscribed to"
        );
        if let Some(recent) = st.recent.entry(turn, self.limits.recent_turns) {
            recent.missed += lost;
            if completion.is_some() {
                recent.completion = completion;
            }
        }
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

    /// Ages out the pending buffer now (also done while routing).
    fn sweep(&self) {
        let mut st = self.lock();
        let now = Instant::now();
        if st.next_sweep.is_some() {
            st.next_sweep = Some(now);
            self.enforce_pending_bounds(&mut st, now);
        }
    }

    pub(crate) fn stats(&self) -> RouterStats {
        self.sweep();
        let st = self.lock();
        RouterStats {
            turn_routes: st.turns.len(),
            turn_subscribers: st.turns.values().map(|r| r.subs.len()).sum(),
            pending_turns: st.pending.len(),
            pending_events: st.pending_events,
            pending_bytes: st.pending_bytes,
            waiters: st.waiters.len(),
            thread_subscriptions: st.threads.values().map(Vec::len).sum(),
            global_subscriptions: st.global.len(),
            recent_turns: st.recent.map.len(),
            dropped_events: st.dropped_events,
            lagged_events: st.lagged_events,
            reader_waits: self.reader_waits.load(std::sync::atomic::Ordering::Relaxed),
            grace_expired: self
                .grace_expired
                .load(std::sync::atomic::Ordering::Relaxed),
        }
    }

    /// Latches the router closed: every waiter gets `Closed`, every stream ends (after draining
    /// what it holds) with `Closed`, buffers are freed. Idempotent; the first reason wins.
    pub(crate) fn fail_all(&self, info: Arc<ClosedInfo>) -> Arc<ClosedInfo> {
        let mut st = self.lock();
        if let Some(existing) = &st.closed {
            return existing.clone();
        }
        st.closed = Some(info.clone());
        let waiters = std::mem::take(&mut st.waiters);
        let turns = std::mem::take(&mut st.turns);
        let threads = std::mem::take(&mut st.threads);
        let global = std::mem::take(&mut st.global);
        let pending = std::mem::take(&mut st.pending);
        st.pending_events = 0;
        st.pending_bytes = 0;
        st.next_sweep = None;
        st.recent = RecentTurns::default();
        drop(st);
        for (_, waiter) in waiters {
            let _ = waiter.tx.send(Err(Error::Closed(info.clone())));
        }
        let subs = turns
            .into_values()
            .flat_map(|r| r.subs)
            .chain(threads.into_values().flatten())
            .chain(global);
        for sub in subs {
            sub.finish(Some(&info));
        }
        drop(pending);
        info
    }
}

fn take_sub(subs: &mut Vec<Sub>, id: u64) -> Option<Sub> {
    let pos = subs.iter().position(|s| s.id == id)?;
    Some(subs.remove(pos))
}

/// The receiving end shared by turn, thread and global streams.
struct SubStream {
    queue: Arc<SubQueue>,
    /// What was taken from the queue in the last batch.
    local: Batch,
    router: Option<Arc<Router>>,
    key: SubKey,
    id: u64,
    closed_reported: bool,
}

/// What a stream takes from its queue.
enum Taken {
    Notification(Arc<ServerNotification>),
    Request(Box<PendingServerRequest>),
}

impl SubStream {
    /// The next delivery of the batch taken last; a notification is decoded here, on the
    /// consumer's side. The batch's lines are emptied for reuse as soon as the last one is
    /// decoded.
    fn next_taken(&mut self) -> Option<Result<Taken>> {
        let taken = match self.local.items.pop_front()? {
            Delivery::Notification(n) => Ok(Taken::Notification(self.local.lines.decode(n))),
            Delivery::Request(r) => Ok(Taken::Request(r)),
            Delivery::Lagged(n) => Err(Error::Lagged(n)),
        };
        if self.local.items.is_empty() {
            self.local.lines.recycle();
            self.local.bytes = 0;
        }
        Some(taken)
    }

    fn poll_delivery(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Taken>>> {
        if let Some(taken) = self.next_taken() {
            return Poll::Ready(Some(taken));
        }
        let mut q = self.queue.lock();
        if !q.batch.items.is_empty() {
            // Everything queued, in exchange for the emptied batch (its memory reused).
            std::mem::swap(&mut q.batch, &mut self.local);
            // Caught up: a full queue makes the reader wait again (within the grace).
            q.lagging = false;
            let reader_waits = std::mem::take(&mut q.reader_waiting);
            drop(q);
            if reader_waits {
                self.queue.room.notify_one();
            }
            return Poll::Ready(self.next_taken());
        }
        if q.done {
            let missed = std::mem::take(&mut q.final_missed);
            if missed > 0 {
                return Poll::Ready(Some(Err(Error::Lagged(missed))));
            }
            if !self.closed_reported
                && let Some(info) = q.closed.clone()
            {
                self.closed_reported = true;
                return Poll::Ready(Some(Err(Error::Closed(info))));
            }
            return Poll::Ready(None);
        }
        match &q.waker {
            Some(w) if w.will_wake(cx.waker()) => {}
            _ => q.waker = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}

impl Drop for SubStream {
    fn drop(&mut self) {
        let queued = {
            let mut q = self.queue.lock();
            q.gone = true;
            q.waker = None;
            if std::mem::take(&mut q.reader_waiting) {
                self.queue.room.notify_one();
            }
            std::mem::take(&mut q.batch)
        };
        // Unanswered server requests in the queue send their fail-closed answers here.
        drop(queued);
        if let Some(router) = self.router.take() {
            router.unsubscribe(&self.key, self.id);
        }
    }
}

/// The events of one turn, in order, from the moment of subscription (the first subscriber:
/// from the turn's start), ending after `turn/completed`.
///
/// Items: `Ok(TurnEvent)` — [`TurnEvent::Lagged(n)`](TurnEvent::Lagged) where this consumer
/// fell behind and lost `n` events (the stream goes on) — or `Err(Error::Closed(..))` as the
/// last item when the connection died. Dropping the stream unsubscribes.
///
/// ```no_run
/// # async fn f(conn: codex_client::Connection, turn_id: &str) -> Result<(), codex_client::Error> {
/// use futures::StreamExt;
/// let mut turn = conn.subscribe_turn(turn_id);
/// while let Some(event) = turn.next().await {
///     println!("{:?}", event?);
/// }
/// # Ok(()) }
/// ```
pub struct TurnStream {
    inner: SubStream,
    turn_id: String,
    span: tracing::Span,
}

impl std::fmt::Debug for TurnStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TurnStream")
            .field("turn_id", &self.turn_id)
            .finish_non_exhaustive()
    }
}

impl TurnStream {
    fn new(inner: SubStream, turn_id: &str, span: tracing::Span) -> Self {
        Self {
            inner,
            turn_id: turn_id.to_owned(),
            span,
        }
    }

    /// The turn's id.
    pub fn turn_id(&self) -> &str {
        &self.turn_id
    }
}

impl Stream for TurnStream {
    type Item = Result<TurnEvent>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        let _enter = this.span.enter();
        this.inner.poll_delivery(cx).map(|item| {
            item.map(|r| match r {
                Ok(Taken::Notification(n)) => Ok(TurnEvent::Notification(n)),
                Ok(Taken::Request(r)) => Ok(TurnEvent::ServerRequest(*r)),
                // A gap is an event of a turn's stream, not an error (it does not end it).
                Err(Error::Lagged(n)) => Ok(TurnEvent::Lagged(n)),
                Err(err) => Err(err),
            })
        })
    }
}

/// Notifications of a thread, or of the whole connection, that no more specific stream took.
///
/// Items: `Ok(notification)`, `Err(Error::Lagged(n))` (the stream goes on), or a last
/// `Err(Error::Closed(..))` when the connection died.
///
/// Unlike a turn's stream (where a gap is [`TurnEvent::Lagged`], an `Ok` item), this stream
/// keeps the gap as `Err(Error::Lagged(n))`: its item is the notification itself, and a
/// notification stream has no end of its own to tell apart (it ends only with the connection).
/// A consumer that uses `?` on its items should match `Error::Lagged` first, as below.
///
/// ```no_run
/// # async fn f(conn: codex_client::Connection) -> Result<(), codex_client::Error> {
/// use futures::StreamExt;
/// let mut all = conn.notifications();
/// while let Some(n) = all.next().await {
///     match n {
///         Ok(n) => println!("{}", n.method()),
///         Err(codex_client::Error::Lagged(missed)) => eprintln!("missed {missed} notifications"),
///         Err(err) => return Err(err),
///     }
/// }
/// # Ok(()) }
/// ```
pub struct NotificationStream(SubStream);

impl std::fmt::Debug for NotificationStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NotificationStream")
            .field("key", &self.0.key)
            .finish_non_exhaustive()
    }
}

impl Stream for NotificationStream {
    type Item = Result<Arc<ServerNotification>>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().0.poll_delivery(cx).map(|item| {
            item.map(|r| {
                r.and_then(|taken| match taken {
                    Taken::Notification(n) => Ok(n),
                    // Never routed here; answer it fail-closed by dropping it.
                    Taken::Request(_) => Err(Error::Protocol(
                        "unexpected server request in a notification stream".into(),
                    )),
                })
            })
        })
    }
}

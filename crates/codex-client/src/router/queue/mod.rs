//! One subscriber's bounded queue: the reader pushes without blocking, the consumer takes all
//! that is queued in one go. Full means `capacity` items or `max_bytes` of lines, whichever comes
//! first (an empty queue takes any one line). A push on a full queue is refused, forced (a
//! turn's end), or queued with the reader asked to wait for room ([`Wakes::must_wait`]); a
//! consumer that does not take anything within that grace is marked lagging and its full queue
//! refuses until it takes a batch — what it missed is queued as `Lagged(n)` at the gap
//! ([`Sub`]), or reported at the end ([`Take::Missed`]).

use super::routed::{QueuedLines, QueuedNotification, RoutedNotification};
use crate::config::QueueBounds;
use crate::error::ClosedInfo;
use crate::server_requests::PendingServerRequest;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::Waker;
use tokio::time::Instant;

/// One item of a queue.
pub(super) enum Delivery {
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
pub(super) struct Batch {
    pub(super) items: VecDeque<Delivery>,
    pub(super) lines: QueuedLines,
    /// The line bytes of the notifications among `items` (eagerly decoded ones counted at
    /// their line's length too): what the queue's byte bound is checked against.
    pub(super) bytes: usize,
}

/// What the router pushes to a queue (a [`Delivery`] once queued).
pub(super) enum Offer<'a> {
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

    /// The queues past their capacity, for the reader to wait on (emptied).
    pub(super) fn take_full(&mut self) -> Vec<Arc<SubQueue>> {
        std::mem::take(&mut self.full)
    }
}

/// One subscriber's bounded queue. The reader pushes without blocking; the stream takes
/// everything queued at once (one lock per batch, not per event). Wake-ups are handed back to the
/// caller so the reader can wake each consumer once per batch of lines instead of once per event.
pub(super) struct SubQueue {
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
    /// The end's `Closed` was handed to the consumer (it is reported once).
    closed_reported: bool,
}

/// What the consumer finds when it asks its queue ([`SubQueue::take`]).
#[derive(Debug)]
pub(super) enum Take {
    /// Everything queued is now in the consumer's batch.
    Batch,
    /// The queue ended, and the subscriber missed this many events since its last gap.
    Missed(u64),
    /// The queue ended with the connection (after the count of what was missed; once).
    Closed(Arc<ClosedInfo>),
    /// The queue ended and everything was reported.
    End,
    /// Nothing queued yet: the waker given is woken when something is.
    Pending,
}

pub(super) enum PushError<'a> {
    Full(Offer<'a>),
    Gone(Offer<'a>),
}

/// How a push treats a full queue.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum OnFull {
    /// Refuse the item (the caller counts it as missed, or gives a request back).
    Refuse,
    /// Queue it past the capacity and have the reader wait for room (the slow-consumer grace),
    /// unless the consumer already used up its grace (then: refuse).
    Wait,
    /// Queue it anyway: a turn's end, at most twice per turn (see [`Sub::offer_end`]).
    Force,
}

impl SubQueue {
    pub(super) fn new(bounds: QueueBounds) -> Arc<Self> {
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

    pub(super) fn push<'a>(
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
    pub(super) async fn wait_for_room(&self, deadline: Instant) -> bool {
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

    /// The consumer's side: hands everything queued over in exchange for `local` (the consumer's
    /// emptied batch, whose memory is reused), or reports the end, or registers `waker`.
    /// Taking a batch ends a lag (a full queue makes the reader wait again) and lets a waiting
    /// reader go on.
    pub(super) fn take(&self, local: &mut Batch, waker: &Waker) -> Take {
        debug_assert!(
            local.items.is_empty(),
            "the consumer's batch is emptied first"
        );
        let mut q = self.lock();
        if !q.batch.items.is_empty() {
            self.hand_over(q, local);
            return Take::Batch;
        }
        if q.done {
            let missed = std::mem::take(&mut q.final_missed);
            if missed > 0 {
                return Take::Missed(missed);
            }
            if !q.closed_reported
                && let Some(info) = q.closed.clone()
            {
                q.closed_reported = true;
                return Take::Closed(info);
            }
            return Take::End;
        }
        match &q.waker {
            Some(w) if w.will_wake(waker) => {}
            _ => q.waker = Some(waker.clone()),
        }
        Take::Pending
    }

    /// The consumer's side, without waiting: hands everything queued over as [`take`](Self::take)
    /// does and returns `true`, or returns `false` when nothing is queued (the end, if it came,
    /// is left for `take` to report; no waker is registered).
    pub(super) fn take_ready(&self, local: &mut Batch) -> bool {
        debug_assert!(
            local.items.is_empty(),
            "the consumer's batch is emptied first"
        );
        let q = self.lock();
        if q.batch.items.is_empty() {
            return false;
        }
        self.hand_over(q, local);
        true
    }

    /// Swaps the queued batch with the consumer's emptied one; ends a lag and lets a waiting
    /// reader go on.
    fn hand_over(&self, mut q: MutexGuard<'_, QueueState>, local: &mut Batch) {
        std::mem::swap(&mut q.batch, local);
        q.lagging = false;
        let reader_waits = std::mem::take(&mut q.reader_waiting);
        drop(q);
        if reader_waits {
            self.room.notify_one();
        }
    }

    /// The consumer went away: later pushes are refused ([`PushError::Gone`]), a reader waiting
    /// for room goes on. Returns what was queued, for the caller to drop outside the lock
    /// (unanswered server requests in it send their fail-closed answers when dropped).
    pub(super) fn release(&self) -> Batch {
        let mut q = self.lock();
        q.gone = true;
        q.waker = None;
        if std::mem::take(&mut q.reader_waiting) {
            self.room.notify_one();
        }
        std::mem::take(&mut q.batch)
    }

    /// Past a bound (events or bytes): the reader waits for room, within the grace.
    fn over(&self, q: &QueueState) -> bool {
        q.batch.items.len() >= self.capacity || q.batch.bytes > self.max_bytes
    }

    pub(super) fn finish(&self, missed: u64, closed: Option<&Arc<ClosedInfo>>) {
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

/// The router's end of one subscription: its queue, and the count of what it missed that the
/// queue has not been told yet.
pub(super) struct Sub {
    pub(super) id: u64,
    pub(super) queue: Arc<SubQueue>,
    pub(super) missed: u64,
    pub(super) server_requests: bool,
    /// What a full queue does to an event: [`OnFull::Wait`] when the connection has a
    /// slow-consumer grace, else [`OnFull::Refuse`].
    pub(super) on_full: OnFull,
}

impl Sub {
    /// Queues `event`; on a full queue counts it as missed (returned: whether it was dropped).
    pub(super) fn offer(&mut self, event: &RoutedNotification, wakes: &mut Wakes) -> bool {
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
    pub(super) fn offer_end(&mut self, event: &RoutedNotification, wakes: &mut Wakes) {
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

    pub(super) fn offer_lagged(&mut self, n: u64, wakes: &mut Wakes) {
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
    pub(super) fn finish(self, closed: Option<&Arc<ClosedInfo>>) {
        self.queue.finish(self.missed, closed);
    }
}

#[cfg(test)]
mod tests;

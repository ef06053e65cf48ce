//! What the router keeps of turns that have no route: the **pending buffer** (events of a turn
//! nobody subscribed to yet, replayed in order to its first subscriber — `turn/completed`
//! included; bounded in events, bytes and age, whole turns evicted oldest first) and the
//! **recent turns** (a bounded list of turns that finished, were abandoned by their consumer, or
//! lost buffered events: how many events were lost, and the `turn/completed` once seen).
//!
//! The late-subscriber rules: the first subscriber of a turn gets `Lagged(n)` for what was
//! lost, then what was buffered; every subscriber of a turn that is known to have finished gets
//! its `turn/completed` (the first one after the replay or the count) and ends.

use super::queue::{Sub, Wakes};
use super::routed::RoutedNotification;
use super::streams::TURN_COMPLETED;
use super::table::IdMap;
use std::collections::VecDeque;
use std::time::Duration;
use tokio::time::Instant;

/// The bounds of the pending buffer and of the recent turns.
#[derive(Debug, Clone, Copy)]
pub(super) struct MemoryLimits {
    pub(super) max_events: usize,
    pub(super) max_bytes: usize,
    pub(super) max_age: Duration,
    pub(super) recent_turns: usize,
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
    /// The turn's entry, made (forgetting the oldest past `cap`) if there is none; `None` when
    /// nothing is remembered (`cap` 0).
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

/// What routing does, for the first subscriber to come, with an event of a turn that has no
/// route ([`TurnMemory::for_turn`], then [`TurnMemory::keep`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ForTurn {
    /// Nothing: no turn, or the turn is finished or abandoned.
    Nothing,
    /// Keep the event in the pending buffer, to replay.
    Buffer,
    /// The turn's buffered events were evicted: count the event as missed, for the
    /// subscriber's `Lagged`.
    CountMissed,
    /// The turn is remembered: keep its `turn/completed`.
    Completion,
}

/// What the first subscriber of a turn without route was given ([`TurnMemory::replay`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Replayed {
    /// The turn is known to have finished: the subscriber has its end, and is to be finished,
    /// not routed.
    pub(super) finished: bool,
    /// Buffered events its full queue refused (counted as lagged).
    pub(super) lagged: u64,
}

/// See the module documentation.
pub(super) struct TurnMemory {
    limits: MemoryLimits,
    pending: IdMap<PendingTurn>,
    pending_events: usize,
    pending_bytes: usize,
    next_sweep: Option<Instant>,
    recent: RecentTurns,
}

impl TurnMemory {
    pub(super) fn new(limits: MemoryLimits) -> Self {
        Self {
            limits,
            pending: IdMap::default(),
            pending_events: 0,
            pending_bytes: 0,
            next_sweep: None,
            recent: RecentTurns::default(),
        }
    }

    /// What to do with an event of `turn` (which has no route); `completed` when it is the
    /// turn's `turn/completed`.
    pub(super) fn for_turn(&self, turn: Option<&str>, completed: bool) -> ForTurn {
        let Some(turn) = turn else {
            return ForTurn::Nothing;
        };
        match self.recent.map.get(turn) {
            // Finished, abandoned or evicted: never buffered again.
            Some(_) if completed => ForTurn::Completion,
            Some(recent) if !recent.abandoned && recent.completion.is_none() => {
                ForTurn::CountMissed
            }
            Some(_) => ForTurn::Nothing,
            None => ForTurn::Buffer,
        }
    }

    /// Does what [`for_turn`](Self::for_turn) decided for `event`. Returns how many events
    /// the pending buffer dropped to stay within its bounds.
    pub(super) fn keep(&mut self, for_turn: ForTurn, event: RoutedNotification) -> u64 {
        match for_turn {
            ForTurn::Nothing => 0,
            ForTurn::Completion | ForTurn::CountMissed => {
                let turn = event.turn_id().expect("routed by its turn id");
                if let Some(recent) = self.recent.map.get_mut(turn) {
                    if event.method() == TURN_COMPLETED {
                        recent.completion = Some(event);
                    } else {
                        recent.missed += 1;
                    }
                }
                0
            }
            ForTurn::Buffer => self.stash(event),
        }
    }

    /// A routed turn completed (its route is gone): later subscribers get `event` and end.
    pub(super) fn completed(&mut self, turn: &str, event: RoutedNotification) {
        if let Some(recent) = self.recent.entry(turn, self.limits.recent_turns) {
            recent.completion = Some(event);
        }
    }

    /// The last stream of a routed turn was dropped: its later events are not buffered.
    pub(super) fn abandoned(&mut self, turn: &str) {
        if let Some(recent) = self.recent.entry(turn, self.limits.recent_turns) {
            recent.abandoned = true;
        }
    }

    /// Gives the first subscriber of `turn` (which has no route) what it is owed: for a turn
    /// known to have finished, the count of what was lost and the `turn/completed` (and the turn
    /// stays remembered for the next one); else the count of what was lost, then the buffered
    /// events in order (the end too, if it was buffered: then the turn is remembered as
    /// finished).
    pub(super) fn replay(&mut self, turn: &str, sub: &mut Sub, wakes: &mut Wakes) -> Replayed {
        if let Some(recent) = self.recent.map.get_mut(turn)
            && let Some(done) = &recent.completion
        {
            let missed = std::mem::take(&mut recent.missed);
            if missed > 0 {
                sub.offer_lagged(missed, wakes);
            }
            sub.offer_end(done, wakes);
            return Replayed {
                finished: true,
                lagged: 0,
            };
        }
        if let Some(recent) = self.recent.take(turn)
            && recent.missed > 0
        {
            sub.offer_lagged(recent.missed, wakes);
        }
        let mut completion = None;
        let mut lagged = 0;
        if let Some(pending) = self.pending.remove(turn) {
            self.pending_events -= pending.events.len();
            self.pending_bytes -= pending.bytes;
            for event in pending.events {
                if event.method() == TURN_COMPLETED {
                    sub.offer_end(&event, wakes);
                    completion = Some(event);
                } else if sub.offer(&event, wakes) {
                    lagged += 1;
                }
            }
        }
        let finished = completion.is_some();
        if let Some(done) = completion {
            // The whole turn was buffered: its end is remembered for later subscribers.
            self.completed(turn, done);
        }
        Replayed { finished, lagged }
    }

    /// Keeps `event` (of a turn without route) in the pending buffer; returns how many events
    /// were dropped to stay within the bounds.
    fn stash(&mut self, event: RoutedNotification) -> u64 {
        let now = Instant::now();
        let bytes = event.line_len();
        let turn = event.turn_id().expect("stashed by its turn id");
        match self.pending.get_mut(turn) {
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
                self.pending.insert(turn, pending);
            }
        }
        self.pending_events += 1;
        self.pending_bytes += bytes;
        if self.next_sweep.is_none() {
            self.next_sweep = Some(now + self.sweep_interval());
        }
        self.enforce_bounds(now)
    }

    fn sweep_interval(&self) -> Duration {
        (self.limits.max_age / 4).clamp(Duration::from_millis(10), Duration::from_secs(1))
    }

    /// Evicts whole pending turns, oldest first, past the count/byte bounds or the age limit;
    /// returns how many events were dropped.
    fn enforce_bounds(&mut self, now: Instant) -> u64 {
        let mut dropped = 0;
        while self.pending_events > self.limits.max_events
            || self.pending_bytes > self.limits.max_bytes
        {
            let Some(oldest) = self
                .pending
                .iter()
                .min_by_key(|(_, p)| p.since)
                .map(|(t, _)| t.clone())
            else {
                break;
            };
            dropped += self.evict(&oldest, "pending buffer full");
        }
        if self.next_sweep.is_some_and(|t| now >= t) {
            let max_age = self.limits.max_age;
            let expired: Vec<String> = self
                .pending
                .iter()
                .filter(|(_, p)| now.duration_since(p.since) >= max_age)
                .map(|(t, _)| t.clone())
                .collect();
            for turn in expired {
                dropped += self.evict(&turn, "pending events too old");
            }
            self.next_sweep = (!self.pending.is_empty()).then(|| now + self.sweep_interval());
        }
        dropped
    }

    /// Drops a pending turn's events, remembering how many were lost (and its end if it came).
    fn evict(&mut self, turn: &str, why: &str) -> u64 {
        let Some(pending) = self.pending.remove(turn) else {
            return 0;
        };
        self.pending_events -= pending.events.len();
        self.pending_bytes -= pending.bytes;
        let buffered = pending.events.len() as u64;
        let completion = pending
            .events
            .into_iter()
            .rev()
            .find(|e| e.method() == TURN_COMPLETED);
        let lost = buffered - u64::from(completion.is_some());
        tracing::warn!(
            turn_id = turn,
            lost,
            why,
            "dropping buffered events of a turn nobody subscribed to"
        );
        if let Some(recent) = self.recent.entry(turn, self.limits.recent_turns) {
            recent.missed += lost;
            if completion.is_some() {
                recent.completion = completion;
            }
        }
        lost
    }

    /// Ages out the pending buffer now (also done while stashing); returns how many events
    /// were dropped.
    pub(super) fn sweep(&mut self) -> u64 {
        let now = Instant::now();
        if self.next_sweep.is_some() {
            self.next_sweep = Some(now);
            return self.enforce_bounds(now);
        }
        0
    }

    /// Turns with buffered events.
    pub(super) fn pending_turns(&self) -> usize {
        self.pending.len()
    }

    /// Buffered events.
    pub(super) fn pending_events(&self) -> usize {
        self.pending_events
    }

    /// Bytes of the buffered events' lines.
    pub(super) fn pending_bytes(&self) -> usize {
        self.pending_bytes
    }

    /// Turns remembered.
    pub(super) fn recent_turns(&self) -> usize {
        self.recent.map.len()
    }
}

#[cfg(test)]
mod tests {
    use super::super::queue::{OnFull, Take};
    use super::super::testing::{completed, delta_of, queue, sub, take_all};
    use super::*;

    fn limits() -> MemoryLimits {
        MemoryLimits {
            max_events: 100,
            max_bytes: 1 << 20,
            max_age: Duration::from_secs(60),
            recent_turns: 16,
        }
    }

    /// Routes `event` as the router does for a turn without route.
    fn route(memory: &mut TurnMemory, event: RoutedNotification) -> u64 {
        let turn = event.turn_id().map(str::to_owned);
        let for_turn = memory.for_turn(turn.as_deref(), event.method() == TURN_COMPLETED);
        memory.keep(for_turn, event)
    }

    /// A new subscriber of `turn`: what it was given, and whether the turn was finished.
    fn subscribe(memory: &mut TurnMemory, turn: &str) -> (Vec<String>, Replayed) {
        let q = queue(64, 1 << 20);
        let mut s = sub(&q, OnFull::Refuse);
        let replayed = memory.replay(turn, &mut s, &mut Wakes::default());
        let got = match take_all(&q) {
            Ok(got) => got,
            Err(Take::Pending) => Vec::new(),
            Err(other) => panic!("{other:?}"),
        };
        (got, replayed)
    }

    const LIVE: Replayed = Replayed {
        finished: false,
        lagged: 0,
    };
    const FINISHED: Replayed = Replayed {
        finished: true,
        lagged: 0,
    };

    #[test]
    fn the_first_subscriber_gets_the_buffered_events_in_order_and_the_buffer_empties() {
        let mut memory = TurnMemory::new(limits());
        for text in ["1", "2", "3"] {
            assert_eq!(route(&mut memory, delta_of("t1", text)), 0);
        }
        route(&mut memory, delta_of("t2", "other"));
        assert_eq!((memory.pending_turns(), memory.pending_events()), (2, 4));
        assert_eq!(
            subscribe(&mut memory, "t1"),
            (vec!["1".into(), "2".into(), "3".into()], LIVE)
        );
        assert_eq!((memory.pending_turns(), memory.pending_events()), (1, 1));
        assert_eq!(
            subscribe(&mut memory, "t1"),
            (vec![], LIVE),
            "replayed once"
        );
    }

    #[test]
    fn every_late_subscriber_of_a_finished_turn_gets_its_end_and_ends() {
        let mut memory = TurnMemory::new(limits());
        route(&mut memory, delta_of("t1", "1"));
        route(&mut memory, completed("t1"));
        assert_eq!(
            subscribe(&mut memory, "t1"),
            (vec!["1".into(), "turn/completed".into()], FINISHED),
            "the first: the replay, its end included"
        );
        assert_eq!(memory.pending_events(), 0);
        for _ in 0..2 {
            assert_eq!(
                subscribe(&mut memory, "t1"),
                (vec!["turn/completed".into()], FINISHED),
                "later ones: the end alone"
            );
        }
        // A routed turn that completed: the same for its late subscribers.
        memory.completed("t2", completed("t2"));
        assert_eq!(
            subscribe(&mut memory, "t2"),
            (vec!["turn/completed".into()], FINISHED)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn past_the_byte_cap_the_oldest_turn_is_evicted_and_its_loss_is_counted() {
        let one = delta_of("t1", "1").line_len();
        let mut memory = TurnMemory::new(MemoryLimits {
            max_bytes: 3 * one,
            ..limits()
        });
        route(&mut memory, delta_of("t1", "1"));
        route(&mut memory, delta_of("t1", "2"));
        tokio::time::advance(Duration::from_millis(1)).await;
        route(&mut memory, delta_of("t2", "a"));
        assert_eq!(
            route(&mut memory, delta_of("t2", "b")),
            2,
            "t1's two events dropped"
        );
        assert_eq!(memory.pending_bytes(), 2 * one);
        assert_eq!(memory.pending_turns(), 1);
        // Later events of the evicted turn are counted, not buffered.
        assert_eq!(route(&mut memory, delta_of("t1", "3")), 0);
        assert_eq!(memory.pending_events(), 2);
        assert_eq!(
            subscribe(&mut memory, "t1"),
            (vec!["lagged 3".into()], LIVE)
        );
        assert_eq!(
            subscribe(&mut memory, "t2"),
            (vec!["a".into(), "b".into()], LIVE)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn an_evicted_turn_keeps_its_end_for_its_subscribers() {
        let mut memory = TurnMemory::new(MemoryLimits {
            max_events: 2,
            ..limits()
        });
        route(&mut memory, delta_of("t1", "1"));
        route(&mut memory, completed("t1"));
        tokio::time::advance(Duration::from_millis(1)).await;
        assert_eq!(
            route(&mut memory, delta_of("t2", "a")),
            1,
            "the end is not lost"
        );
        assert_eq!(
            subscribe(&mut memory, "t1"),
            (vec!["lagged 1".into(), "turn/completed".into()], FINISHED)
        );
        assert_eq!(
            subscribe(&mut memory, "t1"),
            (vec!["turn/completed".into()], FINISHED)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn buffered_events_older_than_the_age_limit_are_dropped_by_a_sweep() {
        let mut memory = TurnMemory::new(MemoryLimits {
            max_age: Duration::from_secs(1),
            ..limits()
        });
        route(&mut memory, delta_of("t1", "1"));
        assert_eq!(memory.sweep(), 0, "not old yet");
        tokio::time::advance(Duration::from_secs(1)).await;
        assert_eq!(memory.sweep(), 1);
        assert_eq!((memory.pending_turns(), memory.pending_events()), (0, 0));
        assert_eq!(
            subscribe(&mut memory, "t1"),
            (vec!["lagged 1".into()], LIVE)
        );
    }

    #[test]
    fn an_abandoned_turn_buffers_nothing_more_but_keeps_its_end() {
        let mut memory = TurnMemory::new(limits());
        memory.abandoned("t1");
        assert_eq!(memory.for_turn(Some("t1"), false), ForTurn::Nothing);
        route(&mut memory, delta_of("t1", "late"));
        assert_eq!(memory.pending_events(), 0);
        assert_eq!(memory.for_turn(Some("t1"), true), ForTurn::Completion);
        route(&mut memory, completed("t1"));
        assert_eq!(
            subscribe(&mut memory, "t1"),
            (vec!["turn/completed".into()], FINISHED)
        );
        assert_eq!(memory.for_turn(None, false), ForTurn::Nothing);
    }

    #[test]
    fn the_recent_turns_are_bounded_oldest_forgotten_first() {
        let mut memory = TurnMemory::new(MemoryLimits {
            recent_turns: 2,
            ..limits()
        });
        for turn in ["t1", "t2", "t3"] {
            memory.completed(turn, completed(turn));
        }
        assert_eq!(memory.recent_turns(), 2);
        assert_eq!(subscribe(&mut memory, "t3").1, FINISHED);
        assert_eq!(subscribe(&mut memory, "t2").1, FINISHED);
        assert_eq!(
            subscribe(&mut memory, "t1"),
            (vec![], LIVE),
            "forgotten: a live route"
        );
    }
}

//! The message router: where every notification, and every server request of a turn, goes.
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
//! ([`Router::wait_for_room`](table::Router::wait_for_room)): a consumer that is only briefly behind loses nothing. Past the
//! grace the subscriber is marked lagging: a full queue then drops the event for that subscriber
//! only (without waiting), and its stream later yields the count at the position of the gap
//! ([`TurnEvent::Lagged`] in a turn's stream, `Err(`[`Error::Lagged`](crate::Error::Lagged)`)` in a notification
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
//! the typed decode happens when the consumer takes it ([`routed`]).

mod pending;
mod queue;
mod raw;
mod routed;
mod streams;
mod table;
#[cfg(test)]
mod testing;

pub(crate) use queue::Wakes;
pub use raw::{RawEvent, RawNotification};
pub(crate) use routed::{Located, RoutedNotification};
pub(crate) use streams::TURN_COMPLETED;
pub use streams::{NotificationStream, RouterStats, SubscribeOptions, TurnEvent, TurnStream};
pub(crate) use table::{Router, RouterLimits};

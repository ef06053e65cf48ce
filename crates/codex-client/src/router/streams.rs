//! The public stream types of the router: [`TurnStream`] (one turn's events, [`TurnEvent`]s),
//! [`NotificationStream`] (a thread's or the whole connection's notifications), how to
//! subscribe ([`SubscribeOptions`]) and the table sizes ([`RouterStats`]). A stream takes its
//! queue's batch in one go and decodes each notification as it yields it; dropping a stream
//! unsubscribes it.

use super::queue::{Batch, Delivery, SubQueue, Take};
use super::table::{Router, SubKey};
use crate::error::{Error, Result};
use crate::proto::ServerNotification;
use crate::server_requests::PendingServerRequest;
use futures::Stream;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

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
/// ```no_run
/// # async fn f(conn: codex_client::core::Connection, turn_id: &str) -> Result<(), codex_client::Error> {
/// use codex_client::TurnEvent;
/// use codex_client::core::SubscribeOptions;
/// use futures::StreamExt;
/// // This turn's approvals come in its stream, not to the connection's handler.
/// let mut turn = conn.subscribe_turn_with(turn_id, SubscribeOptions::new().server_requests(true));
/// while let Some(event) = turn.next().await {
///     if let TurnEvent::ServerRequest(request) = event? {
///         println!("declining {}", request.method());
///         request.decline()?;
///     }
/// }
/// # Ok(()) }
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
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), codex_client::Error> {
/// use codex_client::core::{Connection, ConnectionConfig};
/// let (transport, _server) = codex_client::transport::Transport::memory();
/// let conn = Connection::connect(transport, ConnectionConfig::default().handshake(false)).await?;
/// let turn = conn.subscribe_turn("turn_1");
/// assert_eq!((conn.stats().turn_routes, conn.stats().turn_subscribers), (1, 1));
/// drop(turn);
/// let stats = conn.stats();
/// assert!(stats.is_idle(), "a dropped stream leaves nothing behind: {stats:?}");
/// assert_eq!(stats.recent_turns, 1, "the abandoned turn is remembered (bounded)");
/// # Ok(()) }
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

/// The method that ends a turn's stream.
pub(crate) const TURN_COMPLETED: &str = "turn/completed";

/// The receiving end shared by turn, thread and global streams.
pub(super) struct SubStream {
    pub(super) queue: Arc<SubQueue>,
    /// What was taken from the queue in the last batch.
    pub(super) local: Batch,
    pub(super) router: Option<Arc<Router>>,
    pub(super) key: SubKey,
    pub(super) id: u64,
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
        match self.queue.take(&mut self.local, cx.waker()) {
            Take::Batch => Poll::Ready(self.next_taken()),
            Take::Missed(n) => Poll::Ready(Some(Err(Error::Lagged(n)))),
            Take::Closed(info) => Poll::Ready(Some(Err(Error::Closed(info)))),
            Take::End => Poll::Ready(None),
            Take::Pending => Poll::Pending,
        }
    }
}

impl Drop for SubStream {
    fn drop(&mut self) {
        // Unanswered server requests in the queue send their fail-closed answers here.
        drop(self.queue.release());
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
/// # async fn f(conn: codex_client::core::Connection, turn_id: &str) -> Result<(), codex_client::Error> {
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
    pub(super) fn new(inner: SubStream, turn_id: &str, span: tracing::Span) -> Self {
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
/// # async fn f(conn: codex_client::core::Connection) -> Result<(), codex_client::Error> {
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
pub struct NotificationStream(pub(super) SubStream);

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

//! The public stream types of the router: [`TurnStream`] (one turn's events, [`TurnEvent`]s),
//! [`NotificationStream`] (a thread's or the whole connection's notifications), how to
//! subscribe ([`SubscribeOptions`]) and the table sizes ([`RouterStats`]). A stream takes its
//! queue's batch in one go and decodes each notification as it yields it; dropping a stream
//! unsubscribes it.

use super::queue::{Batch, Delivery, SubQueue, Take};
use super::raw::{RawEvent, RawNotification};
use super::routed::{QueuedLines, QueuedNotification};
use super::table::{Router, SubKey};
use crate::error::{Error, Result};
use crate::proto::ServerNotification;
use crate::server_requests::PendingServerRequest;
use futures::Stream;
use std::future::poll_fn;
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

/// What a stream takes from its queue; a notification as the path asked for it (`N`: typed,
/// raw, or both).
enum Taken<N> {
    Notification(N),
    Request(Box<PendingServerRequest>),
}

/// How a path reads a queued notification: the typed path decodes it
/// ([`QueuedLines::decode`]), the raw path copies its line out ([`QueuedLines::raw`]), the
/// path with both does both. Monomorphized: the typed path runs exactly as it would alone.
type Read<N> = fn(&QueuedLines, QueuedNotification) -> N;

fn typed(lines: &QueuedLines, queued: QueuedNotification) -> Arc<ServerNotification> {
    lines.decode(queued)
}

fn raw(lines: &QueuedLines, queued: QueuedNotification) -> RawNotification {
    lines.raw(&queued)
}

fn both(
    lines: &QueuedLines,
    queued: QueuedNotification,
) -> (Arc<ServerNotification>, RawNotification) {
    let raw = lines.raw(&queued);
    (lines.decode(queued), raw)
}

impl SubStream {
    /// The next delivery of the batch taken last; a notification is read here (decoded, or its
    /// line copied out), on the consumer's side. The batch's lines are emptied for reuse as
    /// soon as the last one is read.
    fn next_taken<N>(&mut self, read: Read<N>) -> Option<Result<Taken<N>>> {
        let taken = match self.local.items.pop_front()? {
            Delivery::Notification(n) => Ok(Taken::Notification(read(&self.local.lines, n))),
            Delivery::Request(r) => Ok(Taken::Request(r)),
            Delivery::Lagged(n) => Err(Error::Lagged(n)),
        };
        if self.local.items.is_empty() {
            self.local.lines.recycle();
            self.local.bytes = 0;
        }
        Some(taken)
    }

    fn poll_delivery<N>(
        &mut self,
        cx: &mut Context<'_>,
        read: Read<N>,
    ) -> Poll<Option<Result<Taken<N>>>> {
        if let Some(taken) = self.next_taken(read) {
            return Poll::Ready(Some(taken));
        }
        match self.queue.take(&mut self.local, cx.waker()) {
            Take::Batch => Poll::Ready(self.next_taken(read)),
            Take::Missed(n) => Poll::Ready(Some(Err(Error::Lagged(n)))),
            Take::Closed(info) => Poll::Ready(Some(Err(Error::Closed(info)))),
            Take::End => Poll::Ready(None),
            Take::Pending => Poll::Pending,
        }
    }

    /// The raw path's next item: a gap is an `Ok` item ([`RawEvent::Lagged`]).
    fn poll_raw(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<RawEvent>>> {
        self.poll_delivery(cx, raw).map(|item| item.map(raw_event))
    }

    /// The next raw item (waiting for it), then, without waiting, every item already queued,
    /// up to `max` in all, appended to `out`: `Some(Ok(n))` with `n >= 1` items appended, or
    /// the end (`None`, or the `Err` that ends the stream) when it comes first. An end that
    /// comes after some items is left for the next call.
    fn poll_raw_batch(
        &mut self,
        cx: &mut Context<'_>,
        out: &mut Vec<RawEvent>,
        max: usize,
    ) -> Poll<Option<Result<usize>>> {
        let first = match std::task::ready!(self.poll_raw(cx)) {
            None => return Poll::Ready(None),
            Some(Err(err)) => return Poll::Ready(Some(Err(err))),
            Some(Ok(first)) => first,
        };
        out.push(first);
        let mut n = 1;
        while n < max {
            match self.next_taken(raw) {
                Some(item) => {
                    out.push(raw_event(item).expect("a queued item is never an error"));
                    n += 1;
                }
                None if self.queue.take_ready(&mut self.local) => {}
                None => break,
            }
        }
        Poll::Ready(Some(Ok(n)))
    }
}

/// A raw item of the queue, or the error that ends the stream.
fn raw_event(item: Result<Taken<RawNotification>>) -> Result<RawEvent> {
    match item {
        Ok(Taken::Notification(n)) => Ok(RawEvent::Notification(n)),
        Ok(Taken::Request(r)) => Ok(RawEvent::ServerRequest(*r)),
        Err(Error::Lagged(n)) => Ok(RawEvent::Lagged(n)),
        Err(err) => Err(err),
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

    /// The next event with the raw JSON of its notification: the typed [`TurnEvent`] as
    /// [`next()`](futures::StreamExt::next) yields it, and `Some(`[`RawNotification`]`)` — the
    /// line exactly as the server sent it, fields no schema names included — when the event is
    /// a notification (`None` for a server request, whose raw params are
    /// [`PendingServerRequest::raw_params`], and for a gap). Costs the copy of the line out of
    /// the queue; `next()` does not pay it.
    ///
    /// Ends like the stream: `None` after `turn/completed`, or a last `Err`.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), codex_client::Error> {
    /// use codex_client::core::{Connection, ConnectionConfig};
    /// let (transport, server) = codex_client::transport::Transport::memory();
    /// let conn = Connection::connect(transport, ConnectionConfig::default().handshake(false)).await?;
    /// let mut turn = conn.subscribe_turn("tu");
    /// let line = r#"{"method":"item/agentMessage/delta","params":{"threadId":"th","turnId":"tu","itemId":"i","delta":"Hi","notInTheSchema":true}}"#;
    /// server.send(line);
    /// let (event, raw) = turn.next_with_raw().await.expect("an event")?;
    /// assert_eq!(event.notification().map(|n| n.method()), Some("item/agentMessage/delta"));
    /// assert_eq!(raw.expect("a notification's line").line(), line);
    /// # Ok(()) }
    /// ```
    pub async fn next_with_raw(&mut self) -> Option<Result<(TurnEvent, Option<RawNotification>)>> {
        poll_fn(|cx| {
            let _enter = self.span.enter();
            self.inner.poll_delivery(cx, both).map(|item| {
                item.map(|r| {
                    turn_event(r.map(|taken| match taken {
                        Taken::Notification((n, raw)) => (Taken::Notification(n), Some(raw)),
                        Taken::Request(r) => (Taken::Request(r), None),
                    }))
                })
            })
        })
        .await
    }

    /// The next event, raw: the typed decode is skipped entirely. A notification is its line
    /// ([`RawEvent::Notification`]), a server request and a gap are as in the typed path.
    /// For consumers that decode elsewhere (a binding handing the params to Python).
    ///
    /// Ends like the stream: `None` after `turn/completed` (check
    /// [`RawEvent::is_turn_completed`]), or a last `Err`.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), codex_client::Error> {
    /// use codex_client::core::{Connection, ConnectionConfig, RawEvent};
    /// let (transport, server) = codex_client::transport::Transport::memory();
    /// let conn = Connection::connect(transport, ConnectionConfig::default().handshake(false)).await?;
    /// let mut turn = conn.subscribe_turn("tu");
    /// server.send(r#"{"method":"turn/completed","params":{"threadId":"th","turn":{"id":"tu","items":[],"status":"completed"}}}"#);
    /// while let Some(event) = turn.next_raw().await {
    ///     if let RawEvent::Notification(n) = event? {
    ///         println!("{} {}", n.method(), n.params().unwrap_or("null"));
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn next_raw(&mut self) -> Option<Result<RawEvent>> {
        poll_fn(|cx| {
            let _enter = self.span.enter();
            self.inner.poll_raw(cx)
        })
        .await
    }

    /// Raw events in batches: waits for the next one, then appends it and every event already
    /// queued — up to `max` in all (at least one) — to `out`, without waiting again. Returns
    /// `Some(Ok(n))`, `n >= 1` events appended; `None` when the stream has ended, or the `Err`
    /// that ends it (an end that comes after some events is returned by the next call). A
    /// binding can take a burst of deltas in one call (one GIL acquisition per batch).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), codex_client::Error> {
    /// use codex_client::core::{Connection, ConnectionConfig};
    /// let (transport, server) = codex_client::transport::Transport::memory();
    /// let conn = Connection::connect(transport, ConnectionConfig::default().handshake(false)).await?;
    /// let mut turn = conn.subscribe_turn("tu");
    /// for delta in ["a", "b", "c"] {
    ///     server.send(&format!(r#"{{"method":"item/agentMessage/delta","params":{{"threadId":"th","turnId":"tu","itemId":"i","delta":"{delta}"}}}}"#));
    /// }
    /// server.send(r#"{"method":"turn/completed","params":{"threadId":"th","turn":{"id":"tu","items":[],"status":"completed"}}}"#);
    /// let mut events = Vec::new();
    /// while let Some(n) = turn.next_raw_batch(&mut events, 256).await {
    ///     n?;
    /// }
    /// assert_eq!(events.len(), 4);
    /// assert!(events.last().unwrap().is_turn_completed());
    /// # Ok(()) }
    /// ```
    pub async fn next_raw_batch(
        &mut self,
        out: &mut Vec<RawEvent>,
        max: usize,
    ) -> Option<Result<usize>> {
        poll_fn(|cx| {
            let _enter = self.span.enter();
            self.inner.poll_raw_batch(cx, out, max)
        })
        .await
    }
}

impl Stream for TurnStream {
    type Item = Result<TurnEvent>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        let _enter = this.span.enter();
        this.inner
            .poll_delivery(cx, typed)
            .map(|item| item.map(|r| turn_event(r.map(|t| (t, None))).map(|(e, _)| e)))
    }
}

/// A turn stream's typed item (with the raw line, if read), or the error that ends it.
fn turn_event(
    item: Result<(Taken<Arc<ServerNotification>>, Option<RawNotification>)>,
) -> Result<(TurnEvent, Option<RawNotification>)> {
    match item {
        Ok((Taken::Notification(n), raw)) => Ok((TurnEvent::Notification(n), raw)),
        Ok((Taken::Request(r), _)) => Ok((TurnEvent::ServerRequest(*r), None)),
        // A gap is an event of a turn's stream, not an error (it does not end it).
        Err(Error::Lagged(n)) => Ok((TurnEvent::Lagged(n), None)),
        Err(err) => Err(err),
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

impl NotificationStream {
    fn poll_read<N>(&mut self, cx: &mut Context<'_>, read: Read<N>) -> Poll<Option<Result<N>>> {
        self.0.poll_delivery(cx, read).map(|item| {
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

    /// The next notification with its raw JSON: the typed notification as
    /// [`next()`](futures::StreamExt::next) yields it and the [`RawNotification`] — the line
    /// exactly as the server sent it, fields no schema names included. Costs the copy of the
    /// line out of the queue; `next()` does not pay it. Gaps and the end as in `next()`
    /// (`Err(Error::Lagged(n))`, a last `Err(Error::Closed(..))`).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), codex_client::Error> {
    /// use codex_client::core::{Connection, ConnectionConfig};
    /// let (transport, server) = codex_client::transport::Transport::memory();
    /// let conn = Connection::connect(transport, ConnectionConfig::default().handshake(false)).await?;
    /// let mut all = conn.notifications();
    /// server.send(r#"{"method":"thread/name/updated","params":{"threadId":"th","threadName":"n","extra":[1]}}"#);
    /// let (typed, raw) = all.next_with_raw().await.expect("a notification")?;
    /// assert_eq!(typed.thread_id(), Some("th"));
    /// assert!(raw.params().unwrap().contains(r#""extra":[1]"#), "kept in the raw JSON");
    /// # Ok(()) }
    /// ```
    pub async fn next_with_raw(
        &mut self,
    ) -> Option<Result<(Arc<ServerNotification>, RawNotification)>> {
        poll_fn(|cx| self.poll_read(cx, both)).await
    }

    /// The next notification, raw (the typed decode skipped entirely). Unlike `next()`, a gap
    /// is an `Ok` item here ([`RawEvent::Lagged`]), the same shape as a turn's raw path; the
    /// `Err` items end the stream (`Closed`). Never [`RawEvent::ServerRequest`].
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), codex_client::Error> {
    /// use codex_client::core::{Connection, ConnectionConfig, RawEvent};
    /// let (transport, server) = codex_client::transport::Transport::memory();
    /// let conn = Connection::connect(transport, ConnectionConfig::default().handshake(false)).await?;
    /// let mut all = conn.notifications();
    /// server.send(r#"{"method":"some/future/notification","params":{"x":1}}"#);
    /// match all.next_raw().await.expect("a notification")? {
    ///     RawEvent::Notification(n) => assert_eq!(n.params(), Some(r#"{"x":1}"#)),
    ///     RawEvent::Lagged(missed) => eprintln!("missed {missed}"),
    ///     other => unreachable!("{other:?}"),
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn next_raw(&mut self) -> Option<Result<RawEvent>> {
        poll_fn(|cx| self.0.poll_raw(cx)).await
    }

    /// Raw notifications in batches, as [`TurnStream::next_raw_batch`]: waits for the next
    /// one, then appends it and every one already queued (up to `max`, at least one) to `out`.
    /// `Some(Ok(n))` with `n >= 1` appended, or the end.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), codex_client::Error> {
    /// use codex_client::core::{Connection, ConnectionConfig};
    /// let (transport, server) = codex_client::transport::Transport::memory();
    /// let conn = Connection::connect(transport, ConnectionConfig::default().handshake(false)).await?;
    /// let mut all = conn.notifications();
    /// server.send(r#"{"method":"a/b","params":{}}"#);
    /// server.send(r#"{"method":"c/d","params":{}}"#);
    /// let mut batch = Vec::new();
    /// while batch.len() < 2 {
    ///     all.next_raw_batch(&mut batch, 64).await.expect("open")?;
    /// }
    /// let methods: Vec<_> = batch.iter().filter_map(|e| e.notification()).map(|n| n.method()).collect();
    /// assert_eq!(methods, ["a/b", "c/d"]);
    /// # Ok(()) }
    /// ```
    pub async fn next_raw_batch(
        &mut self,
        out: &mut Vec<RawEvent>,
        max: usize,
    ) -> Option<Result<usize>> {
        poll_fn(|cx| self.0.poll_raw_batch(cx, out, max)).await
    }
}

impl Stream for NotificationStream {
    type Item = Result<Arc<ServerNotification>>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_read(cx, typed)
    }
}

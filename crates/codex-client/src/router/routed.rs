//! A notification as the reader routes it — the line it came in, with its method and params
//! located — and as it waits in a consumer's queue: copied into the queue's line buffer, decoded
//! into its [`ServerNotification`] type only when the consumer takes it.
//!
//! The reader does the least work per line — classify the envelope, read the routing ids from
//! the raw params ([`ServerNotification::route_raw`]), append the line to each subscriber's
//! [`QueuedLines`] — and the typed decode runs on the consumer's side. With many turns that
//! spreads the decoding over the consumers' threads, and no allocation crosses threads per
//! event: the reader's line is freed where it was allocated, a queue's lines sit back to back in
//! one buffer that the consumer takes whole and hands back empty for reuse, and everything the
//! decode allocates is allocated and freed on the consumer's thread. (Freeing on one thread what
//! another allocated made the allocator's cross-thread path the largest cost of routing with
//! many turns on a multi-thread runtime: BENCHMARKS.md.)

use super::raw::RawNotification;
use crate::proto::{RawRoute, ServerNotification};
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::ops::Range;
use std::sync::Arc;

/// A span of a line, as `u32`s (lines are bounded by `max_line_bytes`; a span that does not
/// fit takes the eager path of [`RoutedNotification::new`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Span {
    start: u32,
    len: u32,
}

impl Span {
    /// Where `part` (a sub-slice of `line`) sits in `line`, if it is one.
    pub(super) fn of(line: &str, part: &str) -> Option<Self> {
        let start = (part.as_ptr() as usize).checked_sub(line.as_ptr() as usize)?;
        let end = start.checked_add(part.len())?;
        if end > line.len() {
            return None;
        }
        Some(Self {
            start: u32::try_from(start).ok()?,
            len: u32::try_from(part.len()).ok()?,
        })
    }

    /// The span as a range of the text that starts `offset` bytes before the line.
    fn range_from(self, offset: usize) -> Range<usize> {
        let start = offset + self.start as usize;
        start..start + self.len as usize
    }

    pub(super) fn range(self) -> Range<usize> {
        self.range_from(0)
    }
}

/// See the module documentation.
pub(crate) struct RoutedNotification {
    line: String,
    located: Located,
}

/// Where the method, the params and the routing ids of a notification sit in its line:
/// computed while the envelope parser's borrows of the line are alive, before the line moves
/// into the [`RoutedNotification`].
pub(crate) struct Located {
    method: Option<Span>,
    params: Option<Span>,
    thread_id: Option<Span>,
    turn_id: Option<Span>,
    /// Set when one of them is not a plain slice of the line (an escaped method name or id):
    /// then the notification is decoded at once and routed by its decoded ids.
    eager: Option<Arc<ServerNotification>>,
}

impl Located {
    /// `method` and `params` as the envelope parser found them in `line`; the routing ids are
    /// read from the raw params ([`ServerNotification::route_raw`]).
    pub(crate) fn find(line: &str, method: &str, params: Option<&RawValue>) -> Self {
        let route = ServerNotification::route_raw(method, params);
        let in_line = |part: Option<&str>| match part {
            None => Some(None),
            Some(part) => Span::of(line, part).map(Some),
        };
        let borrowed = |id: &Option<Cow<'_, str>>| match id {
            Some(Cow::Owned(_)) => None,
            Some(Cow::Borrowed(id)) => in_line(Some(id)),
            None => Some(None),
        };
        match (
            Span::of(line, method),
            in_line(params.map(RawValue::get)),
            borrowed(&route.thread_id),
            borrowed(&route.turn_id),
        ) {
            (Some(method), Some(params), Some(thread_id), Some(turn_id)) => Self {
                method: Some(method),
                params,
                thread_id,
                turn_id,
                eager: None,
            },
            _ => Self {
                method: None,
                params: None,
                thread_id: None,
                turn_id: None,
                eager: Some(Arc::new(decode(method, params.map(RawValue::get), &route))),
            },
        }
    }
}

impl RoutedNotification {
    /// The notification of `line`, located by [`Located::find`] on the same text.
    pub(crate) fn new(line: String, located: Located) -> Self {
        Self { line, located }
    }

    /// The notification a whole line holds (the reader's steps, for tests).
    #[cfg(test)]
    pub(crate) fn from_line(line: &str) -> Self {
        use crate::proto::envelope::Incoming;
        let line = line.to_owned();
        let located = {
            let Ok(Incoming::Notification { method, params, .. }) = Incoming::parse(&line) else {
                panic!("not a notification: {line}");
            };
            Located::find(&line, &method, params)
        };
        Self::new(line, located)
    }

    fn part(&self, span: Option<Span>) -> Option<&str> {
        span.map(|span| &self.line[span.range()])
    }

    /// The notification's method.
    pub(crate) fn method(&self) -> &str {
        match (self.located.method, &self.located.eager) {
            (Some(span), _) => &self.line[span.range()],
            (None, Some(n)) => n.method(),
            (None, None) => unreachable!("a notification without a located method is decoded"),
        }
    }

    /// The thread id to route by.
    pub(crate) fn thread_id(&self) -> Option<&str> {
        match &self.located.eager {
            None => self.part(self.located.thread_id),
            Some(n) => n.thread_id(),
        }
    }

    /// The turn id to route by.
    pub(crate) fn turn_id(&self) -> Option<&str> {
        match &self.located.eager {
            None => self.part(self.located.turn_id),
            Some(n) => n.turn_id(),
        }
    }

    /// The size of the line (for the pending buffer's bound).
    pub(crate) fn line_len(&self) -> usize {
        self.line.len()
    }

    /// The typed notification, decoded now (on the reader: for the few notifications the
    /// connection itself acts on).
    pub(crate) fn decoded(&self) -> Arc<ServerNotification> {
        match &self.located.eager {
            Some(n) => n.clone(),
            None => Arc::new(decode(
                self.method(),
                self.part(self.located.params),
                &RawRoute {
                    thread_id: self.thread_id().map(Cow::Borrowed),
                    turn_id: self.turn_id().map(Cow::Borrowed),
                },
            )),
        }
    }
}

/// The notifications in one consumer's queue: their lines back to back in one buffer. The queue
/// and its stream swap whole `QueuedLines` (with the deliveries that point into it), so the
/// buffer's memory goes back and forth between the two instead of being allocated per event.
#[derive(Default)]
pub(crate) struct QueuedLines {
    text: String,
}

/// A notification in a [`QueuedLines`]: where its line is there, and where its parts are in the
/// line, or (decoded at once by the reader) the notification itself and where its line is
/// (kept for the raw path, [`QueuedLines::raw`]).
#[derive(Debug)]
pub(crate) enum QueuedNotification {
    Line {
        at: usize,
        len: usize,
        method: Span,
        params: Option<Span>,
        /// The ids it was routed by, which the decoded notification reports.
        thread_id: Option<Span>,
        turn_id: Option<Span>,
    },
    Decoded {
        at: usize,
        len: usize,
        notification: Arc<ServerNotification>,
    },
}

impl QueuedLines {
    /// A buffer that grew past this is not kept for reuse: a burst of long lines must not pin
    /// its memory in an idle stream. (A stream and its queue hold at most two such buffers; a
    /// batch of ordinary events — deltas of a few hundred bytes — fits.)
    const KEEP_CAPACITY: usize = 8 * 1024;

    /// Copies `event`'s line to the end of the buffer.
    pub(crate) fn push(&mut self, event: &RoutedNotification) -> QueuedNotification {
        let at = self.text.len();
        self.text.push_str(&event.line);
        match (&event.located.eager, event.located.method) {
            (None, Some(method)) => QueuedNotification::Line {
                at,
                len: event.line.len(),
                method,
                params: event.located.params,
                thread_id: event.located.thread_id,
                turn_id: event.located.turn_id,
            },
            (Some(decoded), _) => QueuedNotification::Decoded {
                at,
                len: event.line.len(),
                notification: decoded.clone(),
            },
            (None, None) => unreachable!("a notification without a located method is decoded"),
        }
    }

    /// The raw notification of `queued`, a notification pushed to this buffer: its line copied
    /// out (the one cost of the raw path), its method and params located by the reader's spans.
    pub(crate) fn raw(&self, queued: &QueuedNotification) -> RawNotification {
        match queued {
            QueuedNotification::Line {
                at,
                len,
                method,
                params,
                ..
            } => RawNotification::located(self.text[*at..*at + *len].to_owned(), *method, *params),
            QueuedNotification::Decoded {
                at,
                len,
                notification,
            } => {
                RawNotification::parse(self.text[*at..*at + len].to_owned(), notification.method())
            }
        }
    }

    /// The typed notification of `queued`, a notification pushed to this buffer.
    pub(crate) fn decode(&self, queued: QueuedNotification) -> Arc<ServerNotification> {
        match queued {
            QueuedNotification::Line {
                at,
                method,
                params,
                thread_id,
                turn_id,
                ..
            } => {
                let part = |span: Option<Span>| span.map(|span| &self.text[span.range_from(at)]);
                Arc::new(decode(
                    &self.text[method.range_from(at)],
                    part(params),
                    &RawRoute {
                        thread_id: part(thread_id).map(Cow::Borrowed),
                        turn_id: part(turn_id).map(Cow::Borrowed),
                    },
                ))
            }
            QueuedNotification::Decoded { notification, .. } => notification,
        }
    }

    /// Empties the buffer for reuse (every notification in it was taken); a buffer that grew
    /// large is freed instead.
    pub(crate) fn recycle(&mut self) {
        if self.text.capacity() > Self::KEEP_CAPACITY {
            self.text = String::new();
        } else {
            self.text.clear();
        }
    }

    /// Bytes held (for tests).
    #[cfg(test)]
    pub(crate) fn capacity(&self) -> usize {
        self.text.capacity()
    }
}

/// Decodes into the method's type, reporting the ids it was routed by (`route`); params that
/// do not match the type (or match it only by a reading routing does not share) become
/// [`ServerNotification::Unknown`] (logged), so that nothing the server sent is lost and its
/// `turn_id()` / `thread_id()` are those it was routed by
/// ([`ServerNotification::decode_routed`]).
fn decode(method: &str, params: Option<&str>, route: &RawRoute<'_>) -> ServerNotification {
    let (decoded, error) = ServerNotification::decode_routed(method, params, route);
    if let Some(err) = error {
        tracing::warn!(
            method,
            error = %err,
            params = %crate::connection::truncated(params.unwrap_or(""), 300),
            "notification did not decode into its type; delivering it as Unknown"
        );
    }
    decoded
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn routed(line: &str) -> RoutedNotification {
        RoutedNotification::from_line(line)
    }

    #[test]
    fn a_delta_is_routed_by_its_raw_ids_and_decoded_where_it_is_queued() {
        let line = r#"{"method":"item/agentMessage/delta","params":{"threadId":"th","turnId":"tu","itemId":"i","delta":"hi"}}"#;
        let event = routed(line);
        assert_eq!(event.method(), "item/agentMessage/delta");
        assert_eq!(event.line_len(), line.len());
        assert_eq!(event.thread_id(), Some("th"));
        assert_eq!(event.turn_id(), Some("tu"));
        assert!(event.located.eager.is_none(), "not decoded by routing");
        let mut queued = QueuedLines::default();
        let first = queued.push(&routed(
            r#"{"method":"thread/started","params":{"thread":{}}}"#,
        ));
        let second = queued.push(&event);
        assert!(matches!(second, QueuedNotification::Line { at, .. } if at > 0));
        let decoded = queued.decode(second);
        let ServerNotification::ItemAgentMessageDelta(delta) = &*decoded else {
            panic!("{decoded:?}")
        };
        assert_eq!((delta.turn_id.as_str(), delta.delta.as_str()), ("tu", "hi"));
        assert_eq!(queued.decode(first).method(), "thread/started");
    }

    #[test]
    fn a_recycled_buffer_keeps_its_memory_unless_it_grew_large() {
        let mut queued = QueuedLines::default();
        let small = routed(
            r#"{"method":"item/agentMessage/delta","params":{"threadId":"th","turnId":"tu","itemId":"i","delta":"hi"}}"#,
        );
        queued.push(&small);
        let kept = queued.capacity();
        queued.recycle();
        assert_eq!(queued.capacity(), kept, "reused, not reallocated");
        let long = format!(
            r#"{{"method":"item/agentMessage/delta","params":{{"threadId":"th","turnId":"tu","itemId":"i","delta":"{}"}}}}"#,
            "x".repeat(QueuedLines::KEEP_CAPACITY)
        );
        queued.push(&routed(&long));
        queued.recycle();
        assert_eq!(queued.capacity(), 0, "a burst's buffer is freed");
    }

    #[test]
    fn params_of_the_wrong_shape_become_unknown_and_keep_their_route() {
        let line = r#"{"method":"item/agentMessage/delta","params":{"threadId":"th","turnId":"tu","delta":5}}"#;
        let event = routed(line);
        assert_eq!(event.turn_id(), Some("tu"));
        let decoded = event.decoded();
        let ServerNotification::Unknown { method, params } = &*decoded else {
            panic!("{decoded:?}")
        };
        assert_eq!(method, "item/agentMessage/delta");
        assert_eq!(params["delta"], 5);
    }

    #[test]
    fn an_escaped_method_is_decoded_at_once() {
        let line = r#"{"method":"turn\/completed","params":{"threadId":"th","turn":{"id":"tu","items":[],"status":"completed","error":null}}}"#;
        let event = routed(line);
        assert_eq!(event.method(), "turn/completed");
        assert!(event.located.eager.is_some());
        assert_eq!(event.turn_id(), Some("tu"));
        let mut queued = QueuedLines::default();
        let pushed = queued.push(&event);
        assert!(matches!(pushed, QueuedNotification::Decoded { .. }));
        let raw = queued.raw(&pushed);
        assert_eq!(raw.line(), line, "the line is kept for the raw path");
        assert_eq!(raw.method(), "turn/completed", "unescaped");
        assert!(raw.params().unwrap().starts_with(r#"{"threadId":"th""#));
        assert_eq!(queued.decode(pushed).turn_id(), Some("tu"));
    }

    #[test]
    fn an_escaped_id_is_routed_by_the_decoded_notification() {
        let line = r#"{"method":"item/agentMessage/delta","params":{"threadId":"th","turnId":"t\u0075","itemId":"i","delta":"x"}}"#;
        let event = routed(line);
        assert!(event.located.eager.is_some(), "decoded at once");
        assert_eq!(event.method(), "item/agentMessage/delta");
        assert_eq!(
            (event.thread_id(), event.turn_id()),
            (Some("th"), Some("tu"))
        );
    }

    #[test]
    fn a_notification_without_params_routes_nowhere_and_decodes() {
        let event = routed(r#"{"method":"some/new/thing"}"#);
        assert_eq!(event.method(), "some/new/thing");
        assert_eq!((event.thread_id(), event.turn_id()), (None, None));
        assert!(matches!(
            &*event.decoded(),
            ServerNotification::Unknown {
                params: Value::Null,
                ..
            }
        ));
    }

    /// The fuzzer's find: `turn/started` routes by `turn.id`; params that do not decode (no
    /// status) with a conflicting `turnId` used to decode as an `Unknown` reporting `turnId`.
    /// Queued, decoded on the reader, and eagerly decoded (escaped id): the route's ids.
    #[test]
    fn an_undecodable_notification_reports_the_ids_it_was_routed_by() {
        for line in [
            r#"{"method":"turn/started","params":{"threadId":"th","turn":{"id":"T1"},"turnId":"T2"}}"#,
            r#"{"method":"turn/completed","params":{"threadId":"th","turn":{"id":"T\u0031"},"turnId":"T2"}}"#,
            r#"{"method":"item/agentMessage/delta","params":{"threadId":"th","turnId":"T1","delta":"\ud800"}}"#,
        ] {
            let event = routed(line);
            assert_eq!(
                (event.thread_id(), event.turn_id()),
                (Some("th"), Some("T1")),
                "{line}"
            );
            let mut queued = QueuedLines::default();
            let pushed = queued.push(&event);
            for decoded in [event.decoded(), queued.decode(pushed)] {
                assert!(
                    matches!(&*decoded, ServerNotification::Unknown { .. }),
                    "{decoded:?}"
                );
                assert_eq!(
                    (decoded.thread_id(), decoded.turn_id()),
                    (Some("th"), Some("T1"))
                );
            }
        }
    }
}

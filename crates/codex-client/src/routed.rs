//! A notification as the reader routes it: the line it came in, with its method and params
//! located, decoded into its [`ServerNotification`] type only when a consumer takes it.
//!
//! The reader does the least work per line — classify the envelope, read the routing ids from
//! the raw params ([`ServerNotification::route_raw`]), hand the line to its queue — and the
//! typed decode runs on the consumer's side, once per notification however many streams share
//! it. With many turns that spreads the decoding over the consumers' threads, and everything
//! the decode allocates (the typed params, their strings) is allocated and freed on the thread
//! that uses it; only the line and this small record cross from the reader.

use crate::proto::ServerNotification;
use serde_json::Value;
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::ops::Range;
use std::sync::{Arc, OnceLock};

/// A span of the line, as `u32`s (lines are bounded by `max_line_bytes`; a span that does not
/// fit takes the eager path of [`RoutedNotification::new`]).
#[derive(Clone, Copy)]
struct Span {
    start: u32,
    len: u32,
}

impl Span {
    /// Where `part` (a sub-slice of `line`) sits in `line`, if it is one.
    fn of(line: &str, part: &str) -> Option<Self> {
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

    fn range(self) -> Range<usize> {
        let start = self.start as usize;
        start..start + self.len as usize
    }
}

/// See the module documentation.
pub(crate) struct RoutedNotification {
    line: String,
    /// `None`: the notification was decoded eagerly (see [`Located::eager`]); its method and ids
    /// are then the decoded one's.
    method: Option<Span>,
    params: Option<Span>,
    thread_id: Option<Span>,
    turn_id: Option<Span>,
    decoded: OnceLock<Arc<ServerNotification>>,
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
    eager: Option<ServerNotification>,
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
                eager: Some(decode(method, params.map(RawValue::get))),
            },
        }
    }
}

impl RoutedNotification {
    /// The notification of `line`, located by [`Located::find`] on the same text.
    pub(crate) fn new(line: String, located: Located) -> Self {
        let decoded = OnceLock::new();
        if let Some(eager) = located.eager {
            let _ = decoded.set(Arc::new(eager));
        }
        Self {
            line,
            method: located.method,
            params: located.params,
            thread_id: located.thread_id,
            turn_id: located.turn_id,
            decoded,
        }
    }

    /// The notification's method.
    pub(crate) fn method(&self) -> &str {
        match (self.method, self.decoded.get()) {
            (Some(span), _) => &self.line[span.range()],
            (None, Some(n)) => n.method(),
            (None, None) => unreachable!("a notification without a located method is decoded"),
        }
    }

    /// The thread id to route by.
    pub(crate) fn thread_id(&self) -> Option<&str> {
        match (self.method, self.decoded.get()) {
            (Some(_), _) => self.thread_id.map(|span| &self.line[span.range()]),
            (None, Some(n)) => n.thread_id(),
            (None, None) => None,
        }
    }

    /// The turn id to route by.
    pub(crate) fn turn_id(&self) -> Option<&str> {
        match (self.method, self.decoded.get()) {
            (Some(_), _) => self.turn_id.map(|span| &self.line[span.range()]),
            (None, Some(n)) => n.turn_id(),
            (None, None) => None,
        }
    }

    /// The size of the line (for the pending buffer's bound).
    pub(crate) fn line_len(&self) -> usize {
        self.line.len()
    }

    /// The typed notification of a routed event: decoded by the first stream that takes it,
    /// shared with the others. The usual case, an event only one stream holds, decodes without
    /// going through the shared cell.
    pub(crate) fn take_decoded(event: Arc<Self>) -> Arc<ServerNotification> {
        match Arc::try_unwrap(event) {
            Ok(only) => match only.decoded.into_inner() {
                Some(decoded) => decoded,
                None => {
                    let params = only.params.map(|span| &only.line[span.range()]);
                    let method = only.method.map_or("", |span| &only.line[span.range()]);
                    Arc::new(decode(method, params))
                }
            },
            Err(shared) => shared.decoded(),
        }
    }

    /// The typed notification: decoded by the first caller, shared with the others.
    pub(crate) fn decoded(&self) -> Arc<ServerNotification> {
        self.decoded
            .get_or_init(|| {
                let params = self.params.map(|span| &self.line[span.range()]);
                Arc::new(decode(self.method(), params))
            })
            .clone()
    }
}

/// Decodes into the method's type; params that do not match it become
/// [`ServerNotification::Unknown`] (logged), so that nothing the server sent is lost.
fn decode(method: &str, params: Option<&str>) -> ServerNotification {
    match ServerNotification::decode_str(method, params) {
        Ok(n) => n,
        Err(err) => {
            tracing::warn!(
                method,
                error = %err,
                params = %crate::connection::truncated(params.unwrap_or(""), 300),
                "notification did not decode into its type; delivering it as Unknown"
            );
            ServerNotification::Unknown {
                method: method.to_owned(),
                params: params
                    .and_then(|p| serde_json::from_str(p).ok())
                    .unwrap_or(Value::Null),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::envelope::Incoming;

    fn routed(line: &str) -> RoutedNotification {
        let line = line.to_owned();
        let located = {
            let Ok(Incoming::Notification { method, params, .. }) = Incoming::parse(&line) else {
                panic!("not a notification: {line}");
            };
            Located::find(&line, &method, params)
        };
        RoutedNotification::new(line, located)
    }

    #[test]
    fn a_delta_is_routed_by_its_raw_ids_and_decoded_on_demand() {
        let line = r#"{"method":"item/agentMessage/delta","params":{"threadId":"th","turnId":"tu","itemId":"i","delta":"hi"}}"#;
        let event = routed(line);
        assert_eq!(event.method(), "item/agentMessage/delta");
        assert_eq!(event.line_len(), line.len());
        assert_eq!(event.thread_id(), Some("th"));
        assert_eq!(event.turn_id(), Some("tu"));
        assert!(event.decoded.get().is_none(), "not decoded by routing");
        let decoded = event.decoded();
        let ServerNotification::ItemAgentMessageDelta(delta) = &*decoded else {
            panic!("{decoded:?}")
        };
        assert_eq!(delta.delta, "hi");
        assert!(
            Arc::ptr_eq(&decoded, &event.decoded()),
            "decoded once, shared"
        );
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
        assert!(event.decoded.get().is_some());
        assert_eq!(event.turn_id(), Some("tu"));
    }

    #[test]
    fn an_escaped_id_is_routed_by_the_decoded_notification() {
        let line = r#"{"method":"item/agentMessage/delta","params":{"threadId":"th","turnId":"t\u0075","itemId":"i","delta":"x"}}"#;
        let event = routed(line);
        assert!(event.decoded.get().is_some(), "decoded at once");
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
}

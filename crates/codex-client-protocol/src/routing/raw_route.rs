//! [`RawRoute`], the routing ids of one notification, and [`ServerNotification::route_raw`],
//! which reads them from the raw params: at the places the schema gives a known method, or the
//! fallback places of an unknown one, in one pass of the [scanner](super::scanner).

use super::id_path::{IdPath, UNKNOWN_THREAD, UNKNOWN_TURN};
use super::scanner::scan;
use crate::ServerNotification;
use crate::generated::notifications::id_paths;
use serde_json::value::RawValue;
use std::borrow::Cow;

/// The routing ids of one notification, read from its raw params (borrowed when unescaped).
///
/// Built by [`ServerNotification::route_raw`]; the ids are those `thread_id()` / `turn_id()`
/// give after [`ServerNotification::decode`].
///
/// ```
/// use codex_client_protocol::{RawRoute, ServerNotification};
/// use serde_json::value::RawValue;
/// use std::borrow::Cow;
///
/// let params = RawValue::from_string(r#"{"threadId":"thr_1","turnId":"turn_1","itemId":"m","delta":"Hi"}"#.into())?;
/// let route = ServerNotification::route_raw("item/agentMessage/delta", Some(&params));
/// assert_eq!(route, RawRoute {
///     thread_id: Some(Cow::Borrowed("thr_1")),
///     turn_id: Some(Cow::Borrowed("turn_1")),
/// });
/// // Borrowed from the params text: no allocation.
/// assert!(matches!(route.thread_id, Some(Cow::Borrowed(_))));
/// assert_eq!(RawRoute::default(), RawRoute { thread_id: None, turn_id: None });
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawRoute<'a> {
    /// The id of the thread the notification belongs to, if it carries one.
    pub thread_id: Option<Cow<'a, str>>,
    /// The id of the turn the notification belongs to, if it carries one.
    pub turn_id: Option<Cow<'a, str>>,
}

impl ServerNotification {
    /// The routing ids of a notification read straight from its raw params: the same ids
    /// [`decode(method, params)`](Self::decode) followed by [`thread_id`](Self::thread_id) /
    /// [`turn_id`](Self::turn_id) gives whenever that decode succeeds, without building the
    /// typed params.
    ///
    /// For a method this crate knows, the ids are read at the schema's paths (see
    /// [`ROUTING`](crate::notifications::ROUTING)); for any other method, from the usual places
    /// (thread: `threadId`, then `thread.id`, then `conversationId`; turn: `turnId`, then
    /// `turn.id`), as [`ServerNotification::Unknown`] does. One pass over the params text; only
    /// the wanted keys' values are looked at (every other value is skipped unparsed, however
    /// deeply it nests), and an id is borrowed from the text unless it contains escapes.
    /// Nothing is allocated unless an id or a key contains escapes. A place holding `null` or a
    /// value other than a string gives `None`; absent, `null` or non-object params give no ids;
    /// a repeated key is read as its last occurrence. Never fails and never panics, whatever
    /// the input.
    ///
    /// One exception to "the same ids as decoding": params (or the `thread` / `turn` object
    /// holding an id) in array form. serde's derived structs accept an array positionally, so
    /// `warning` with params `["msg", "thr_1"]` decodes with thread id `thr_1`; here an array
    /// carries no ids. The app-server sends params by name, always as an object.
    /// [`decode_routed`](Self::decode_routed) has no exception: it decodes such params as
    /// [`Self::Unknown`], reporting the ids read here.
    ///
    /// ```
    /// use codex_client_protocol::ServerNotification;
    /// use codex_client_protocol::envelope::Incoming;
    ///
    /// let line = r#"{"method":"turn/started","params":{"threadId":"thr_1","turn":{"id":"turn_1","items":[],"status":"inProgress"}},"emittedAtMs":1}"#;
    /// let Incoming::Notification { method, params, .. } = Incoming::parse(line)? else { unreachable!() };
    /// let route = ServerNotification::route_raw(&method, params);
    /// assert_eq!(route.thread_id.as_deref(), Some("thr_1"));
    /// assert_eq!(route.turn_id.as_deref(), Some("turn_1"));
    ///
    /// // Unknown methods: the usual places, in order.
    /// let params = serde_json::value::RawValue::from_string(r#"{"conversationId":"c_1","turn":{"id":"t_1"}}"#.into())?;
    /// let route = ServerNotification::route_raw("future/thing", Some(&params));
    /// assert_eq!((route.thread_id.as_deref(), route.turn_id.as_deref()), (Some("c_1"), Some("t_1")));
    ///
    /// // No params, or not an object: no ids.
    /// assert_eq!(ServerNotification::route_raw("future/thing", None), Default::default());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn route_raw<'a>(method: &str, params: Option<&'a RawValue>) -> RawRoute<'a> {
        let known = id_paths(method);
        let want = match known {
            Some((thread, turn)) => thread.map_or(0, IdPath::bit) | turn.map_or(0, IdPath::bit),
            None => UNKNOWN_THREAD
                .iter()
                .chain(&UNKNOWN_TURN)
                .fold(0, |want, p| want | p.bit()),
        };
        let Some(params) = params.filter(|_| want != 0) else {
            return RawRoute::default();
        };
        let mut found = scan(params.get(), want);
        match known {
            Some((thread, turn)) => {
                let thread_id = thread.and_then(|p| found[p as usize].take());
                // Never the same place in the schema; cloned rather than lost if it ever were.
                let turn_id = match turn {
                    Some(p) if Some(p) == thread => thread_id.clone(),
                    Some(p) => found[p as usize].take(),
                    None => None,
                };
                RawRoute { thread_id, turn_id }
            }
            None => {
                let mut first =
                    |order: &[IdPath]| order.iter().find_map(|p| found[*p as usize].take());
                RawRoute {
                    thread_id: first(&UNKNOWN_THREAD),
                    turn_id: first(&UNKNOWN_TURN),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fallback_orders_are_those_of_unknown_params() {
        let value = serde_json::json!({
            "conversationId": "c", "thread": {"id": "t"}, "threadId": "T",
            "turn": {"id": "u"}, "turnId": "U",
        });
        assert_eq!(crate::support::unknown_thread_id(&value), Some("T"));
        assert_eq!(crate::support::unknown_turn_id(&value), Some("U"));
        let raw = RawValue::from_string(value.to_string()).unwrap();
        let route = ServerNotification::route_raw("x", Some(&raw));
        assert_eq!(route.thread_id.as_deref(), Some("T"));
        assert_eq!(route.turn_id.as_deref(), Some("U"));
    }
}

//! Routing without decoding: [`ServerNotification::route_raw`] finds the thread and turn a
//! notification belongs to ([`RawRoute`]) in one borrowed pass over its raw params, without
//! building the typed params, so a reader thread can route a line and leave the decoding to
//! whoever consumes it.
//!
//! Hand-written. What it owns: `IdPath` (the places in params where the schema puts a routing
//! id; the generated `id_paths` maps every known method to them, and `cargo xtask codegen`
//! fails if the schema ever uses a place this enum cannot express) and the scanner, a serde
//! [`Visitor`] over `serde_json::Deserializer::from_str` that looks only at the keys it wants
//! and skips every other value with [`IgnoredAny`]. The answers are those of
//! [`ServerNotification::decode`] followed by [`thread_id`](ServerNotification::thread_id) /
//! [`turn_id`](ServerNotification::turn_id), including the fallback order for methods this
//! crate does not know (`crate::support::unknown_thread_id` / `unknown_turn_id`).

use crate::ServerNotification;
use crate::generated::notifications::id_paths;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::fmt;

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

/// A place in a notification's params where the schema puts a routing id. The generated
/// `id_paths` maps each known method to these; `cargo xtask codegen` fails on a path this enum
/// cannot express (its `ID_PATHS` table maps the schema's paths to the variants).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(clippy::enum_variant_names)] // named after the wire keys, which all end in `id`
pub(crate) enum IdPath {
    /// `params.threadId`
    ThreadId = 0,
    /// `params.thread.id`
    ThreadDotId = 1,
    /// `params.conversationId` (the legacy name of a thread id)
    ConversationId = 2,
    /// `params.turnId`
    TurnId = 3,
    /// `params.turn.id`
    TurnDotId = 4,
}

/// Where a method this crate does not know carries its thread id, first match wins; the same
/// order as `crate::support::unknown_thread_id`.
const UNKNOWN_THREAD: [IdPath; 3] = [
    IdPath::ThreadId,
    IdPath::ThreadDotId,
    IdPath::ConversationId,
];
/// Where a method this crate does not know carries its turn id, first match wins; the same
/// order as `crate::support::unknown_turn_id`.
const UNKNOWN_TURN: [IdPath; 2] = [IdPath::TurnId, IdPath::TurnDotId];

impl IdPath {
    const fn bit(self) -> u8 {
        1 << self as u8
    }

    /// Whether the id sits in a nested object (`thread`, `turn`) under the key `id`.
    const fn nested(self) -> bool {
        matches!(self, IdPath::ThreadDotId | IdPath::TurnDotId)
    }
}

/// The id found at each [`IdPath`] (indexed by it): a string, or `None` when the place is
/// absent, holds another JSON type, or was not wanted.
type Found<'a> = [Option<Cow<'a, str>>; 5];

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
    /// the wanted keys' values are looked at (every other value is skipped unparsed), and an id
    /// is borrowed from the text unless it contains escapes. Nothing is allocated for unescaped
    /// ids, except that serde_json's skipper keeps a small nesting stack (one allocation) when
    /// a skipped value nests two containers deep, as the `item` of `item/completed` does; flat
    /// params such as every streamed delta allocate nothing. A place holding `null` or a value
    /// other than a string gives `None`; absent, `null` or non-object params give no ids. Never
    /// fails and never panics, whatever the input.
    ///
    /// One exception to "the same ids as decoding": params (or the `thread` / `turn` object
    /// holding an id) in array form. serde's derived structs accept an array positionally, so
    /// `warning` with params `["msg", "thr_1"]` decodes with thread id `thr_1`; here an array
    /// carries no ids. The app-server sends params by name, always as an object.
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

/// The ids at the wanted places (a bit set of [`IdPath::bit`]) of a params text. The params
/// come from a `RawValue` (valid JSON) and the visitors nest three deep at most, skipping
/// anything deeper without recursion, so the scan does not fail; if it ever did, no ids rather
/// than half of them.
fn scan(raw: &str, want: u8) -> Found<'_> {
    let mut found = Found::default();
    let mut de = serde_json::Deserializer::from_str(raw);
    let seed = Params {
        want,
        found: &mut found,
    };
    match seed.deserialize(&mut de) {
        Ok(()) => found,
        Err(_) => Found::default(),
    }
}

/// The visit methods of a visitor whose value is `Default` for every JSON type but the ones it
/// implements itself: scalars give the default, arrays (and with `map`, objects) are skipped.
macro_rules! default_for_other_types {
    (scalars) => {
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Ok(Self::Value::default())
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
            Ok(Self::Value::default())
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
            Ok(Self::Value::default())
        }
        fn visit_i128<E: de::Error>(self, _: i128) -> Result<Self::Value, E> {
            Ok(Self::Value::default())
        }
        fn visit_u128<E: de::Error>(self, _: u128) -> Result<Self::Value, E> {
            Ok(Self::Value::default())
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
            Ok(Self::Value::default())
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(Self::Value::default())
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(Self::Value::default())
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok(Self::Value::default())
        }
    };
    (strings) => {
        fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
            Ok(Self::Value::default())
        }
    };
    (map) => {
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            Ok(Self::Value::default())
        }
    };
}

/// A key of the params object, or of a nested `thread` / `turn` object, matched where it is
/// read (borrowed, or serde_json's scratch buffer when escaped): never allocated.
enum Key {
    /// A key some [`IdPath`] starts with (`threadId`, `thread`, `conversationId`, `turnId`,
    /// `turn`).
    Path(IdPath),
    /// `id` (wanted inside `thread` / `turn`).
    Id,
    /// Any other key.
    Other,
}

impl<'de> de::Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object key")
            }
            fn visit_str<E: de::Error>(self, key: &str) -> Result<Key, E> {
                Ok(match key {
                    "threadId" => Key::Path(IdPath::ThreadId),
                    "thread" => Key::Path(IdPath::ThreadDotId),
                    "conversationId" => Key::Path(IdPath::ConversationId),
                    "turnId" => Key::Path(IdPath::TurnId),
                    "turn" => Key::Path(IdPath::TurnDotId),
                    "id" => Key::Id,
                    _ => Key::Other,
                })
            }
            fn visit_bytes<E: de::Error>(self, _: &[u8]) -> Result<Key, E> {
                Ok(Key::Other)
            }
        }
        deserializer.deserialize_identifier(KeyVisitor)
    }
}

/// The params object: records the wanted places into `found`. A repeated key overrides the
/// earlier one, as in a `serde_json::Value` (the typed params reject repeated keys).
struct Params<'f, 'a> {
    want: u8,
    found: &'f mut Found<'a>,
}

impl<'de> DeserializeSeed<'de> for Params<'_, 'de> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Params<'_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("notification params")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<Key>()? {
            match key {
                Key::Path(path) if self.want & path.bit() != 0 => {
                    self.found[path as usize] = if path.nested() {
                        map.next_value_seed(NestedId)?
                    } else {
                        map.next_value_seed(Id)?
                    };
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }

    // Params that are not an object carry no ids.
    default_for_other_types!(scalars);
    default_for_other_types!(strings);
}

/// The value at an id place: the string (borrowed when unescaped), `None` for any other type.
struct Id;

impl<'de> DeserializeSeed<'de> for Id {
    type Value = Option<Cow<'de, str>>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Id {
    type Value = Option<Cow<'de, str>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an id")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Some(Cow::Borrowed(v)))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Some(Cow::Owned(v.to_owned())))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Some(Cow::Owned(v)))
    }

    default_for_other_types!(scalars);
    default_for_other_types!(map);
}

/// The value of `thread` / `turn`: the id at its `id` key when it is an object (the last one
/// if repeated), `None` for any other type.
struct NestedId;

impl<'de> DeserializeSeed<'de> for NestedId {
    type Value = Option<Cow<'de, str>>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for NestedId {
    type Value = Option<Cow<'de, str>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object with an id")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut id = None;
        while let Some(key) = map.next_key::<Key>()? {
            if let Key::Id = key {
                id = map.next_value_seed(Id)?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(id)
    }

    default_for_other_types!(scalars);
    default_for_other_types!(strings);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notifications::{METHODS, ROUTING};

    fn path_str(p: IdPath) -> &'static str {
        match p {
            IdPath::ThreadId => "params.threadId",
            IdPath::ThreadDotId => "params.thread.id",
            IdPath::ConversationId => "params.conversationId",
            IdPath::TurnId => "params.turnId",
            IdPath::TurnDotId => "params.turn.id",
        }
    }

    /// The generated `id_paths` says what the generated `ROUTING` table says, for every method.
    #[test]
    fn id_paths_match_the_routing_table() {
        assert_eq!(ROUTING.len(), METHODS.len());
        for (method, thread, turn) in ROUTING {
            let (t, u) = id_paths(method).unwrap_or_else(|| panic!("no id_paths for {method}"));
            assert_eq!(t.map(path_str), *thread, "{method}");
            assert_eq!(u.map(path_str), *turn, "{method}");
        }
        assert_eq!(id_paths("no/such/method"), None);
        assert_eq!(id_paths(""), None);
    }

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

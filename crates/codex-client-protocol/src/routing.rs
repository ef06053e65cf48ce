//! Routing without decoding: [`ServerNotification::route_raw`] finds the thread and turn a
//! notification belongs to ([`RawRoute`]) in one borrowed pass over its raw params, without
//! building the typed params, so a reader thread can route a line and leave the decoding to
//! whoever consumes it.
//!
//! Hand-written. What it owns: `IdPath` (the places in params where the schema puts a routing
//! id; the generated `id_paths` maps every known method to them, and `cargo xtask codegen`
//! fails if the schema ever uses a place this enum cannot express) and the scanner, a byte scan
//! of the params text (`Cursor`) that reads only the keys and the values it wants and jumps
//! over every other value (it trusts the text to be valid JSON, as a `RawValue` is, and gives
//! no ids rather than panicking when it is not). The answers are those of
//! [`ServerNotification::decode`] followed by [`thread_id`](ServerNotification::thread_id) /
//! [`turn_id`](ServerNotification::turn_id), including the fallback order for methods this
//! crate does not know (`crate::support::unknown_thread_id` / `unknown_turn_id`).

use crate::generated::notifications::id_paths;
use crate::{DecodeError, ServerNotification};
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};
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

impl ServerNotification {
    /// Decodes a notification that was routed by `route` — what [`route_raw`](Self::route_raw)
    /// gave for the same `method` and `params` — so that the value's
    /// [`thread_id`](Self::thread_id) / [`turn_id`](Self::turn_id) are exactly `route`'s,
    /// whatever the params hold. It never fails: the second value says why the notification is
    /// [`Self::Unknown`] when its method is known (or its params are not JSON).
    ///
    /// - params that decode into the method's type, with the ids `route` has: that type;
    /// - params that do not decode (wrong shape, missing field, a repeated key), or that decode
    ///   only by a reading routing does not share (params, or the `thread` / `turn` object
    ///   holding an id, in array form): [`Self::Unknown`] with the params as a JSON value —
    ///   whose ids, for a method this crate knows, are read at the schema's places, as routing
    ///   reads them;
    /// - params that are valid JSON text but not a [`serde_json::Value`] (a lone surrogate
    ///   escape such as `"\ud800"`, a number beyond `f64`, nesting deeper than serde_json's
    ///   128 levels): [`Self::Unknown`] whose params hold only the routing ids, at the places
    ///   they were read from (the error keeps the raw text).
    ///
    /// ```
    /// use codex_client_protocol::ServerNotification;
    /// use serde_json::value::RawValue;
    ///
    /// // `turn/started` carries its turn id at `turn.id`; `turnId` is not where it is routed by.
    /// let text = r#"{"threadId":"th","turn":{"id":"T1"},"turnId":"T2"}"#;
    /// let params = RawValue::from_string(text.into())?;
    /// let route = ServerNotification::route_raw("turn/started", Some(&params));
    /// assert_eq!(route.turn_id.as_deref(), Some("T1"));
    /// let (decoded, why) = ServerNotification::decode_routed("turn/started", Some(text), &route);
    /// assert!(matches!(decoded, ServerNotification::Unknown { .. }), "a turn needs its status");
    /// assert!(why.is_some());
    /// assert_eq!((decoded.thread_id(), decoded.turn_id()), (Some("th"), Some("T1")));
    ///
    /// // Not a JSON value (a lone surrogate): the ids are kept.
    /// let text = r#"{"threadId":"th","turnId":"T","itemId":"i","delta":"\ud800"}"#;
    /// let params = RawValue::from_string(text.into())?;
    /// let route = ServerNotification::route_raw("item/agentMessage/delta", Some(&params));
    /// let (decoded, _) = ServerNotification::decode_routed("item/agentMessage/delta", Some(text), &route);
    /// assert_eq!(decoded.turn_id(), Some("T"));
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    pub fn decode_routed(
        method: &str,
        params: Option<&str>,
        route: &RawRoute<'_>,
    ) -> (Self, Option<DecodeError>) {
        let error = match Self::decode_str(method, params) {
            Ok(decoded) if agrees(&decoded, route) => return (decoded, None),
            Ok(_) => mismatch(method, params.unwrap_or("null")),
            Err(error) => error,
        };
        let value = match params {
            None => Some(Value::Null),
            Some(text) => serde_json::from_str(text).ok(),
        };
        if let Some(value) = value {
            let unknown = ServerNotification::Unknown {
                method: method.to_owned(),
                params: value,
            };
            if agrees(&unknown, route) {
                return (unknown, Some(error));
            }
        }
        let unknown = ServerNotification::Unknown {
            method: method.to_owned(),
            params: route_params(method, route),
        };
        (unknown, Some(error))
    }
}

/// Whether `n` reports the ids `route` has.
fn agrees(n: &ServerNotification, route: &RawRoute<'_>) -> bool {
    n.thread_id() == route.thread_id.as_deref() && n.turn_id() == route.turn_id.as_deref()
}

/// The error of params that decoded, but not with the ids routing read from them.
fn mismatch(method: &str, raw: &str) -> DecodeError {
    DecodeError {
        method: method.to_owned(),
        raw: raw.to_owned(),
        source: <serde_json::Error as serde::de::Error>::custom(
            "the decoded ids are not those at the routing places (params or an id's object in array form?)",
        ),
    }
}

/// The places `method`'s ids are read from: the schema's for a method this crate knows, the
/// first of the usual places otherwise.
fn places(method: &str) -> (Option<IdPath>, Option<IdPath>) {
    id_paths(method).unwrap_or((Some(UNKNOWN_THREAD[0]), Some(UNKNOWN_TURN[0])))
}

/// Params holding only `route`'s ids, each at the place `method` is routed by.
fn route_params(method: &str, route: &RawRoute<'_>) -> Value {
    let (thread, turn) = places(method);
    let mut params = Map::new();
    for (place, id) in [(thread, &route.thread_id), (turn, &route.turn_id)] {
        let (Some(place), Some(id)) = (place, id) else {
            continue;
        };
        let id = Value::String(id.clone().into_owned());
        match place {
            IdPath::ThreadId => params.insert("threadId".into(), id),
            IdPath::ConversationId => params.insert("conversationId".into(), id),
            IdPath::TurnId => params.insert("turnId".into(), id),
            IdPath::ThreadDotId => params.insert("thread".into(), json!({ "id": id })),
            IdPath::TurnDotId => params.insert("turn".into(), json!({ "id": id })),
        };
    }
    Value::Object(params)
}

/// The thread id of [`ServerNotification::Unknown`]: at the schema's place for a method this
/// crate knows (params that did not decode into its type), as [`ServerNotification::route_raw`]
/// reads it; from the usual places otherwise.
pub(crate) fn unknown_thread_id<'v>(method: &str, params: &'v Value) -> Option<&'v str> {
    match id_paths(method) {
        Some((place, _)) => place.and_then(|p| p.read(params)),
        None => crate::support::unknown_thread_id(params),
    }
}

/// The turn id of [`ServerNotification::Unknown`]; see [`unknown_thread_id`].
pub(crate) fn unknown_turn_id<'v>(method: &str, params: &'v Value) -> Option<&'v str> {
    match id_paths(method) {
        Some((_, place)) => place.and_then(|p| p.read(params)),
        None => crate::support::unknown_turn_id(params),
    }
}

impl IdPath {
    /// The string at this place of `params`, if there is one.
    fn read(self, params: &Value) -> Option<&str> {
        let at = match self {
            IdPath::ThreadId => params.get("threadId"),
            IdPath::ThreadDotId => params.get("thread").and_then(|t| t.get("id")),
            IdPath::ConversationId => params.get("conversationId"),
            IdPath::TurnId => params.get("turnId"),
            IdPath::TurnDotId => params.get("turn").and_then(|t| t.get("id")),
        };
        at?.as_str()
    }
}

/// The ids at the wanted places (a bit set of [`IdPath::bit`]) of a params text: a byte scan
/// of the params object's members (see [`Cursor`]). The params come from a `RawValue` (valid
/// JSON), so the scan does not fail; if it ever did, no ids rather than half of them.
fn scan(raw: &str, want: u8) -> Found<'_> {
    let mut found = Found::default();
    match Cursor::new(raw).params(want, &mut found) {
        Some(()) => found,
        None => Found::default(),
    }
}

/// An id (borrowed from the params text unless it has escapes), or `None` when the place holds
/// another JSON type.
type Id<'a> = Option<Cow<'a, str>>;

/// A key of the params object, or of a nested `thread` / `turn` object.
enum Key {
    /// A key some [`IdPath`] starts with (`threadId`, `thread`, `conversationId`, `turnId`,
    /// `turn`).
    Path(IdPath),
    /// `id` (wanted inside `thread` / `turn`).
    Id,
    /// Any other key.
    Other,
}

impl Key {
    /// The key an (unescaped) key name is. Compared by length first, so that each comparison
    /// is of a known size (a load or two, not a call).
    #[inline(always)]
    fn of(name: &[u8]) -> Key {
        match name.len() {
            2 if name == b"id" => Key::Id,
            4 if name == b"turn" => Key::Path(IdPath::TurnDotId),
            6 if name == b"thread" => Key::Path(IdPath::ThreadDotId),
            6 if name == b"turnId" => Key::Path(IdPath::TurnId),
            8 if name == b"threadId" => Key::Path(IdPath::ThreadId),
            14 if name == b"conversationId" => Key::Path(IdPath::ConversationId),
            _ => Key::Other,
        }
    }
}

/// A forward-only scanner over a params text, which it trusts to be valid JSON (it comes from a
/// `RawValue`): it finds the structure (strings, objects, arrays, where a value ends) without
/// checking it. Every method either moves forward or returns `None`, so nothing loops; byte
/// positions are only used through `str::get` / `slice::get`, so nothing panics. `None` means
/// the text is not what valid JSON has there (or ended early), and the whole scan gives no ids.
///
/// Nothing recurses: the params object is walked member by member, a `thread` / `turn` object
/// one level below it the same way, and every other value is skipped by a loop (containers by
/// counting their depth), however deeply it nests.
///
/// The steps run for every member (`key`, `string`, `id`, `skip_value`, with `Key::of` and
/// `quote_or_backslash`) are `#[inline(always)]`: inlined into the member loop, they take a
/// third off the time of a delta's params (`cargo bench -p codex-client-protocol --bench
/// route_raw`).
struct Cursor<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn new(text: &'a str) -> Self {
        Cursor { text, pos: 0 }
    }

    fn bytes(&self) -> &'a [u8] {
        self.text.as_bytes()
    }

    /// The next byte that is not JSON whitespace, without consuming it (the whitespace is).
    fn peek(&mut self) -> Option<u8> {
        let bytes = self.bytes();
        while let Some(&b) = bytes.get(self.pos) {
            if !matches!(b, b' ' | b'\t' | b'\n' | b'\r') {
                return Some(b);
            }
            self.pos += 1;
        }
        None
    }

    /// Consumes `byte`, the next one after whitespace, or fails.
    fn eat(&mut self, byte: u8) -> Option<()> {
        (self.peek()? == byte).then(|| self.pos += 1)
    }

    /// The params object: records the id at each wanted place into `found`. Params that are
    /// not an object carry no ids. A repeated key overrides the earlier one, as in a
    /// `serde_json::Value` (the typed params reject repeated keys): every member is walked, and
    /// the last one read at a place is what stays.
    fn params(&mut self, want: u8, found: &mut Found<'a>) -> Option<()> {
        if self.peek()? != b'{' {
            return Some(());
        }
        self.members(|cursor, key| {
            match key {
                Key::Path(path) if want & path.bit() != 0 => {
                    found[path as usize] = if path.nested() {
                        cursor.nested_id()?
                    } else {
                        cursor.id()?
                    };
                }
                _ => cursor.skip_value()?,
            }
            Some(())
        })
    }

    /// Walks the members of the object that starts at the next byte: reads each key and calls
    /// `member` with it, positioned before the value, which `member` must consume. Ends after
    /// the closing `}`.
    fn members(&mut self, mut member: impl FnMut(&mut Self, Key) -> Option<()>) -> Option<()> {
        self.eat(b'{')?;
        if self.peek()? == b'}' {
            self.pos += 1;
            return Some(());
        }
        loop {
            let key = self.key()?;
            self.eat(b':')?;
            member(self, key)?;
            match self.peek()? {
                b',' => self.pos += 1,
                b'}' => {
                    self.pos += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// A member's key. A key with escapes is the key it spells: unescaped first (allocating,
    /// which keys the app-server writes never need).
    #[inline(always)]
    fn key(&mut self) -> Option<Key> {
        self.peek()?;
        let start = self.pos;
        let escaped = self.string()?;
        let token = self.bytes().get(start..self.pos)?;
        Some(if escaped {
            Key::of(unescape(token)?.as_bytes())
        } else {
            // Without its quotes (the token has both).
            Key::of(token.get(1..token.len() - 1)?)
        })
    }

    /// The value at an id place: the string (borrowed when it has no escapes, unescaped into an
    /// owned one otherwise); any other value is skipped and gives `None`.
    #[inline(always)]
    fn id(&mut self) -> Option<Id<'a>> {
        if self.peek()? != b'"' {
            self.skip_value()?;
            return Some(None);
        }
        let start = self.pos;
        let escaped = self.string()?;
        Some(Some(if escaped {
            Cow::Owned(unescape(self.bytes().get(start..self.pos)?)?)
        } else {
            // Without its quotes (the token has both).
            Cow::Borrowed(self.text.get(start + 1..self.pos - 1)?)
        }))
    }

    /// The value of `thread` / `turn`: when it is an object, the id at its `id` key (the last
    /// one if repeated; `None` without one); any other value is skipped and gives `None`.
    fn nested_id(&mut self) -> Option<Id<'a>> {
        if self.peek()? != b'{' {
            self.skip_value()?;
            return Some(None);
        }
        let mut id = None;
        self.members(|cursor, key| {
            match key {
                Key::Id => id = cursor.id()?,
                _ => cursor.skip_value()?,
            }
            Some(())
        })?;
        Some(id)
    }

    /// Skips the string whose opening `"` is at the position (callers have peeked past
    /// whitespace), to after its closing quote, the first `"` not escaped by a backslash (its
    /// token, quotes included, is the text in between); returns whether it has escapes.
    #[inline(always)]
    fn string(&mut self) -> Option<bool> {
        let bytes = self.bytes();
        let start = self.pos;
        if bytes.get(start) != Some(&b'"') {
            return None;
        }
        let mut end = start + 1;
        let mut escaped = false;
        loop {
            end += quote_or_backslash(bytes.get(end..)?)?;
            if bytes.get(end) == Some(&b'"') {
                break;
            }
            // A backslash and the byte it escapes (a `\uXXXX` escape's hex digits are neither
            // quotes nor backslashes, so the search goes on over them).
            escaped = true;
            end += 2;
        }
        self.pos = end + 1;
        Some(escaped)
    }

    /// Skips the value that starts at the next byte, whatever it is.
    #[inline(always)]
    fn skip_value(&mut self) -> Option<()> {
        match self.peek()? {
            b'"' => self.string().map(drop),
            b'{' | b'[' => self.skip_container(),
            _ => self.skip_scalar(),
        }
    }

    /// Skips the object or array whose opening bracket is at the position: counts the depth of
    /// the brackets, jumping over strings (which may hold brackets), until it is back to zero.
    fn skip_container(&mut self) -> Option<()> {
        let bytes = self.bytes();
        let mut depth = 0usize;
        loop {
            let rest = bytes.get(self.pos..)?;
            self.pos += rest
                .iter()
                .position(|&b| matches!(b, b'"' | b'{' | b'[' | b'}' | b']'))?;
            match bytes.get(self.pos)? {
                b'"' => {
                    self.string()?;
                    continue;
                }
                b'{' | b'[' => depth += 1,
                // Valid JSON closes only what it opened, and the first byte opened something.
                _ => {
                    depth = depth.checked_sub(1)?;
                    if depth == 0 {
                        self.pos += 1;
                        return Some(());
                    }
                }
            }
            self.pos += 1;
        }
    }

    /// Skips a number, `true`, `false` or `null`: up to the `,`, `}` or `]` (or whitespace)
    /// that ends it.
    fn skip_scalar(&mut self) -> Option<()> {
        let rest = self.bytes().get(self.pos..)?;
        self.pos += rest
            .iter()
            .position(|&b| matches!(b, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r'))
            .unwrap_or(rest.len());
        Some(())
    }
}

/// The index of the first `"` or `\` in `bytes`. Eight bytes at a time, as `memchr` does: in
/// a `u64` of eight bytes, `(x - 0x01..01) & !x & 0x80..80` sets the high bit of the lowest
/// byte of `x` that is zero (and maybe of higher ones, never of lower ones), so the lowest set
/// bit of that, with `x` the word XOR the byte searched, is the first match.
#[inline(always)]
fn quote_or_backslash(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    const QUOTES: u64 = u64::from_ne_bytes([b'"'; 8]);
    const BACKSLASHES: u64 = u64::from_ne_bytes([b'\\'; 8]);
    let zero_bytes = |x: u64| x.wrapping_sub(ONES) & !x & HIGHS;
    let (words, tail) = bytes.as_chunks::<8>();
    for (i, word) in words.iter().enumerate() {
        // Little-endian: the first byte is the lowest.
        let word = u64::from_le_bytes(*word);
        let found = zero_bytes(word ^ QUOTES) | zero_bytes(word ^ BACKSLASHES);
        if found != 0 {
            return Some(i * 8 + found.trailing_zeros() as usize / 8);
        }
    }
    let at = tail.iter().position(|&b| b == b'"' || b == b'\\')?;
    Some(words.len() * 8 + at)
}

/// The contents of a string token (quotes included) with escapes, unescaped: serde_json
/// decodes that token alone. `None` if it cannot, e.g. a lone surrogate `\ud800`, which JSON
/// text may hold but a Rust string cannot (decoding fails there too).
fn unescape(token: &[u8]) -> Option<String> {
    serde_json::from_slice(token).ok()
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

    /// Every place wanted.
    const ALL: u8 = 0b1_1111;

    /// The scanner trusts its text to be valid JSON (a `RawValue`'s), but on any other text it
    /// still ends, without panicking: every prefix of a params text, and the text with each
    /// byte replaced by each byte that means something to JSON, or removed.
    #[test]
    fn scan_ends_without_panicking_on_invalid_text() {
        let text = r#" { "threadId" : "a\"b\\" , "x":[{"y":"}]"},-1.5e+5,true,null,[]], "\u0074urn":{"id":"U","z":{}} , "turnId":"V" } "#;
        let found = scan(text, ALL);
        assert_eq!(found[IdPath::ThreadId as usize].as_deref(), Some("a\"b\\"));
        assert_eq!(found[IdPath::TurnDotId as usize].as_deref(), Some("U"));
        assert_eq!(found[IdPath::TurnId as usize].as_deref(), Some("V"));
        for end in 0..text.len() {
            let _ = scan(&text[..end], ALL);
        }
        for i in 0..text.len() {
            let mut removed = text.as_bytes().to_vec();
            removed.remove(i);
            let _ = scan(std::str::from_utf8(&removed).unwrap(), ALL);
            for &b in b"{}[]\",:\\ 0etu" {
                let mut replaced = text.as_bytes().to_vec();
                replaced[i] = b;
                let _ = scan(std::str::from_utf8(&replaced).unwrap(), ALL);
            }
        }
        for text in [
            "",
            " ",
            "{",
            "}",
            "\"",
            "{\"",
            "{\"\\",
            "[",
            "]]]",
            "{\"id\":}",
            "{,}",
            "{\"turn\":{",
        ] {
            assert_eq!(scan(text, ALL), Found::default(), "{text}");
        }
    }

    proptest::proptest! {
        /// Any text at all (mostly JSON's own characters): the scan ends, without panicking.
        #[test]
        fn scan_ends_without_panicking_on_any_text(
            text in "[{}\\[\\]\",:\\\\ \n0-9a-zA-Z.+-]{0,64}|.{0,64}",
            want in 0..32u8,
        ) {
            let _ = scan(&text, want);
            let _ = scan(&format!("{{\"threadId\":\"T\",\"turn\":{text}"), want);
        }
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

//! [`ServerNotification::decode_routed`]: decoding a notification that was routed, so that the
//! decoded value's ids are exactly its route's (falling back to [`ServerNotification::Unknown`]
//! with params that carry them).

use super::RawRoute;
use super::id_path::{IdPath, UNKNOWN_THREAD, UNKNOWN_TURN};
use crate::generated::notifications::id_paths;
use crate::{DecodeError, ServerNotification};
use serde_json::{Map, Value, json};

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

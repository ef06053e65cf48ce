//! Small helpers the generated code calls, kept here so the generated files stay declarative
//! and the helpers are compiled once instead of once per type.

use crate::DecodeError;
use serde::Serialize;
use serde::de::{DeserializeOwned, Deserializer, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde_json::{Map, Value};
use std::fmt;

/// What the generated `Debug` of a struct prints in place of a credential field (`apiKey`,
/// `accessToken`, ...): `[REDACTED]` when it holds a value, `None` when an optional one is unset.
pub(crate) struct Redacted {
    present: bool,
}

impl Redacted {
    pub(crate) fn of(value: &impl SecretValue) -> Self {
        Redacted {
            present: value.is_present(),
        }
    }
}

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.present { "[REDACTED]" } else { "None" })
    }
}

/// The shapes a credential field has in the schema.
pub(crate) trait SecretValue {
    fn is_present(&self) -> bool;
}

impl SecretValue for String {
    fn is_present(&self) -> bool {
        true
    }
}

impl SecretValue for Option<String> {
    fn is_present(&self) -> bool {
        self.is_some()
    }
}

/// `skip_serializing_if` for optional bools that default to `false`.
#[allow(clippy::trivially_copy_pass_by_ref)] // serde passes a reference
pub(crate) fn is_false(b: &bool) -> bool {
    !*b
}

/// Deserializes a string enum through `from_wire` (which maps unknown values to the catch-all)
/// without allocating for known values.
pub(crate) fn deserialize_wire_str<'de, D, T>(
    deserializer: D,
    from_wire: fn(&str) -> T,
) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
{
    struct WireStr<T>(fn(&str) -> T);
    impl<T> Visitor<'_> for WireStr<T> {
        type Value = T;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a string")
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<T, E> {
            Ok((self.0)(v))
        }
    }
    deserializer.deserialize_str(WireStr(from_wire))
}

/// The discriminator of an internally tagged union value.
pub(crate) fn tag<'v>(value: &'v Value, tag: &str) -> Result<&'v str, String> {
    match value {
        Value::Object(map) => match map.get(tag) {
            Some(Value::String(s)) => Ok(s),
            Some(other) => Err(format!("`{tag}` must be a string, found {other}")),
            None => Err(format!("missing field `{tag}`")),
        },
        other => Err(format!(
            "expected an object with a `{tag}` field, found {}",
            kind(other)
        )),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Decodes the payload of the union variant `variant` (errors name the variant).
pub(crate) fn payload<T: DeserializeOwned>(variant: &str, value: Value) -> Result<T, String> {
    serde_json::from_value(value).map_err(|e| format!("invalid `{variant}` value: {e}"))
}

/// Serializes `{key: value}` (the object form of a string-or-object union).
pub(crate) fn serialize_entry<S: Serializer, T: Serialize + ?Sized>(
    serializer: S,
    key: &str,
    value: &T,
) -> Result<S::Ok, S::Error> {
    let mut map = serializer.serialize_map(Some(1))?;
    map.serialize_entry(key, value)?;
    map.end()
}

/// The only entry of a one-entry map.
pub(crate) fn single_entry(map: Map<String, Value>) -> (String, Value) {
    map.into_iter().next().unwrap_or_default()
}

/// `{key: value}` as a JSON value.
pub(crate) fn entry_value(key: String, value: Value) -> Value {
    let mut map = Map::new();
    map.insert(key, value);
    Value::Object(map)
}

/// Decodes the params of `method` from their raw text (`null` when absent).
pub(crate) fn decode_params<T: DeserializeOwned>(
    method: &str,
    params: Option<&str>,
) -> Result<T, DecodeError> {
    let raw = params.unwrap_or("null");
    serde_json::from_str(raw).map_err(|source| DecodeError {
        method: method.to_owned(),
        raw: raw.to_owned(),
        source,
    })
}

fn str_at<'v>(v: &'v Value, path: &[&str]) -> Option<&'v str> {
    let mut cur = v;
    for key in path {
        cur = cur.get(key)?;
    }
    cur.as_str()
}

/// The thread id of params of a method this crate does not know, from the usual places.
pub(crate) fn unknown_thread_id(params: &Value) -> Option<&str> {
    str_at(params, &["threadId"])
        .or_else(|| str_at(params, &["thread", "id"]))
        .or_else(|| str_at(params, &["conversationId"]))
}

/// The turn id of params of a method this crate does not know, from the usual places.
pub(crate) fn unknown_turn_id(params: &Value) -> Option<&str> {
    str_at(params, &["turnId"]).or_else(|| str_at(params, &["turn", "id"]))
}

/// `with` module for patch-style fields (`Option<Option<T>>`): absent → `None` (and omitted
/// when serializing, through `skip_serializing_if`), `null` → `Some(None)`, a value →
/// `Some(Some(v))`.
pub(crate) mod patch {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    #[allow(clippy::ref_option)] // serde's `with` passes `&Option<Option<T>>`
    pub(crate) fn serialize<S: Serializer, T: Serialize>(
        value: &Option<Option<T>>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(Some(v)) => v.serialize(serializer),
            _ => serializer.serialize_none(),
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
        deserializer: D,
    ) -> Result<Option<Option<T>>, D::Error> {
        Option::<T>::deserialize(deserializer).map(Some)
    }
}

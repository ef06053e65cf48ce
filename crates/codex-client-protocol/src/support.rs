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

/// What a variant of an untagged union looks like on the wire, for choosing the variant of a
/// value by what distinguishes them (the generated `Deserialize` of every untagged union).
#[allow(dead_code)] // the generated unions use the variants their schema needs
pub(crate) enum Expect {
    /// `null`.
    Null,
    /// A boolean.
    Bool,
    /// An integer.
    Integer,
    /// Any number.
    Number,
    /// Any string (a string enum with a catch-all, or a plain string).
    Str,
    /// One of these strings (a string enum's known values).
    StrIn(&'static [&'static str]),
    /// An array.
    Array,
    /// An object of this shape.
    Object(ObjectShape),
    /// A string or a single-entry object (a string-or-object union).
    StrOrObject,
    /// Another untagged union: its best variant's score.
    Union(fn(&Value) -> Option<Score>),
    /// Anything.
    Any,
}

/// The fields of an object variant: the required ones, the ones whose value is one of a few
/// strings (discriminators), and every field it knows (`None`: it keeps extra fields).
pub(crate) struct ObjectShape {
    pub(crate) required: &'static [&'static str],
    pub(crate) consts: &'static [(&'static str, &'static [&'static str])],
    pub(crate) known: Option<&'static [&'static str]>,
}

/// How well a value fits a variant: `(fields the variant does not know, constraints it met)`;
/// fewer unknown fields first, then more constraints (the most specific variant).
pub(crate) type Score = (usize, usize);

/// The score of `value` for a variant, `None` when the value cannot be that variant.
pub(crate) fn score(value: &Value, expect: &Expect) -> Option<Score> {
    match (expect, value) {
        (Expect::Any, _) => Some((0, 0)),
        (Expect::Null, Value::Null) | (Expect::Bool, Value::Bool(_)) => Some((0, 1)),
        (Expect::Integer, Value::Number(n)) if n.is_i64() || n.is_u64() => Some((0, 2)),
        (Expect::Number, Value::Number(_)) | (Expect::Str, Value::String(_)) => Some((0, 1)),
        (Expect::StrIn(values), Value::String(s)) if values.contains(&s.as_str()) => Some((0, 2)),
        (Expect::Array, Value::Array(_)) => Some((0, 1)),
        (Expect::StrOrObject, Value::String(_) | Value::Object(_)) => Some((0, 1)),
        (Expect::Union(best), _) => best(value),
        (Expect::Object(shape), Value::Object(map)) => {
            if !shape.required.iter().all(|k| map.contains_key(*k)) {
                return None;
            }
            let mut met = 1 + shape.required.len();
            for (key, values) in shape.consts {
                match map.get(*key) {
                    Some(Value::String(s)) if values.contains(&s.as_str()) => met += 2,
                    Some(_) => return None,
                    None => {}
                }
            }
            let unknown = shape.known.map_or(0, |known| {
                map.keys().filter(|k| !known.contains(&k.as_str())).count()
            });
            Some((unknown, met))
        }
        _ => None,
    }
}

/// The best score among `variants` (an untagged union nested in another one).
pub(crate) fn best_score(value: &Value, variants: &[Expect]) -> Option<Score> {
    variants
        .iter()
        .filter_map(|e| score(value, e))
        .min_by_key(|&(unknown, met)| (unknown, std::cmp::Reverse(met)))
}

/// Decodes an untagged union: the variants that fit `value` best first (fewest unknown fields,
/// then most specific, then declaration order); when none fits (a value of a newer server),
/// every variant in declaration order. The first that decodes wins.
pub(crate) fn untagged<T>(
    union: &str,
    value: Value,
    variants: &[Expect],
    decode: impl Fn(usize, Value) -> Result<T, serde_json::Error>,
) -> Result<T, String> {
    let mut ranked: Vec<(usize, Score)> = variants
        .iter()
        .enumerate()
        .filter_map(|(i, e)| score(&value, e).map(|s| (i, s)))
        .collect();
    ranked.sort_by_key(|&(i, (unknown, met))| (unknown, std::cmp::Reverse(met), i));
    let mut order: Vec<usize> = ranked.into_iter().map(|(i, _)| i).collect();
    let rest: Vec<usize> = (0..variants.len()).filter(|i| !order.contains(i)).collect();
    order.extend(rest);
    let mut first_error = None;
    for i in order {
        match decode(i, value.clone()) {
            Ok(v) => return Ok(v),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    Err(match first_error {
        Some(e) => format!("no variant of `{union}` matches the value: {e}"),
        None => format!("`{union}` has no variants"),
    })
}

/// Serializes a routed message as `{"method": method, "params": params}` (no `params` when
/// `None`).
pub(crate) fn serialize_message<S: Serializer, T: Serialize + ?Sized>(
    serializer: S,
    method: &str,
    params: Option<&T>,
) -> Result<S::Ok, S::Error> {
    let mut map = serializer.serialize_map(Some(1 + usize::from(params.is_some())))?;
    map.serialize_entry("method", method)?;
    if let Some(params) = params {
        map.serialize_entry("params", params)?;
    }
    map.end()
}

//! Reading one JSON-schema node: its description and title, union members, null and string-enum
//! schemas, properties and required keys, discriminator values, the patch-style convention.

use crate::codegen::names::is_type_ident;
use serde_json::{Map, Value};

pub(super) fn desc(v: &Value) -> Option<String> {
    v.get("description")
        .and_then(Value::as_str)
        .map(str::to_string)
        .filter(|s| !s.trim().is_empty())
}

pub(super) fn title(v: &Value) -> Option<String> {
    v.get("title")
        .and_then(Value::as_str)
        .filter(|t| is_type_ident(t))
        .map(str::to_string)
}

pub(super) fn union_members(v: &Value) -> Option<(&'static str, &Vec<Value>)> {
    if let Some(a) = v.get("oneOf").and_then(Value::as_array) {
        return Some(("oneOf", a));
    }
    v.get("anyOf")
        .and_then(Value::as_array)
        .map(|a| ("anyOf", a))
}

pub(super) fn is_null_schema(v: &Value) -> bool {
    v.get("type").and_then(Value::as_str) == Some("null")
        && v.as_object().is_some_and(|o| o.len() == 1)
}

/// The string values of an `enum` schema (nulls dropped), if it is one.
pub(super) fn string_enum(v: &Value) -> Option<Vec<String>> {
    if v.get("properties").is_some() {
        return None;
    }
    let e = v.get("enum")?.as_array()?;
    let vals: Vec<String> = e
        .iter()
        .filter_map(|x| x.as_str().map(str::to_string))
        .collect();
    if vals.len() + e.iter().filter(|x| x.is_null()).count() != e.len() {
        return None;
    }
    Some(vals)
}

pub(super) fn props(v: &Value) -> Option<&Map<String, Value>> {
    v.get("properties").and_then(Value::as_object)
}

pub(super) fn required(v: &Value) -> Vec<String> {
    v.get("required")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// A single-valued string enum property (a discriminator value).
pub(super) fn const_value(v: &Value) -> Option<String> {
    let vals = string_enum(v)?;
    (vals.len() == 1).then(|| vals[0].clone())
}

/// A patch-style field: its description says that omitting it and sending `null` differ.
pub(super) fn is_patch(p: &Value) -> bool {
    desc(p).is_some_and(|d| d.starts_with("Omit") && d.contains("`null` to clear"))
}

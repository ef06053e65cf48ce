//! `types.rs`: every reachable schema type as Rust (structs, aliases, string enums,
//! externally tagged unions; the other unions are in `unions.rs`), both bundles merged.

use super::HEADER;
use super::template::block;
use super::unions::{tagged_src, untagged_src};
use crate::codegen::docs::doc_lines;
use crate::codegen::model::{Field, Mode, Model, Shape, Ty, TypeDef, refs};
use anyhow::Result;
use std::collections::BTreeSet;

/// Names reachable from the method types.
pub fn reachable(model: &Model, roots: &[String]) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut stack: Vec<String> = roots.to_vec();
    while let Some(n) = stack.pop() {
        if !seen.insert(n.clone()) {
            continue;
        }
        if let Some(td) = model.types.get(&n) {
            stack.extend(refs(td));
        }
    }
    seen.retain(|n| model.types.contains_key(n));
    seen
}

pub fn rust_ty(t: &Ty) -> String {
    match t {
        Ty::Any => "serde_json::Value".into(),
        Ty::Unit => "()".into(),
        Ty::Bool => "bool".into(),
        Ty::Str => "String".into(),
        Ty::Int(i) => (*i).into(),
        Ty::F64 => "f64".into(),
        Ty::Named(n) if n == "RequestId" => "crate::envelope::RequestId".into(),
        Ty::Named(n) => n.clone(),
        Ty::Vec(i) => format!("Vec<{}>", rust_ty(i)),
        Ty::Map(i) => format!("std::collections::BTreeMap<String, {}>", rust_ty(i)),
        Ty::Object => "serde_json::Map<String, serde_json::Value>".into(),
        Ty::Opt(i) => format!("Option<{}>", rust_ty(i)),
    }
}

fn field_ty(f: &Field) -> String {
    match f.mode {
        Mode::Required | Mode::DefaultVec | Mode::DefaultFalse | Mode::Flatten | Mode::Extra => {
            rust_ty(&f.ty)
        }
        Mode::Nullable | Mode::Optional => format!("Option<{}>", rust_ty(&f.ty)),
        Mode::Patch => format!("Option<Option<{}>>", rust_ty(&f.ty)),
    }
}

fn field_attr(f: &Field) -> String {
    let w = &f.wire;
    match f.mode {
        Mode::Required | Mode::Nullable => format!("#[serde(rename = \"{w}\")]"),
        Mode::Optional => format!(
            "#[serde(rename = \"{w}\", default, skip_serializing_if = \"Option::is_none\")]"
        ),
        Mode::DefaultVec => {
            format!("#[serde(rename = \"{w}\", default, skip_serializing_if = \"Vec::is_empty\")]")
        }
        Mode::DefaultFalse => format!(
            "#[serde(rename = \"{w}\", default, skip_serializing_if = \"crate::support::is_false\")]"
        ),
        Mode::Flatten | Mode::Extra => "#[serde(flatten)]".into(),
        Mode::Patch => format!(
            "#[serde(rename = \"{w}\", default, skip_serializing_if = \"Option::is_none\", with = \"crate::support::patch\")]"
        ),
    }
}

fn field_doc(f: &Field, indent: &str) -> String {
    let mut text = f.doc.clone().unwrap_or_default();
    let note = match f.mode {
        Mode::Nullable => Some("Required on the wire, may be `null`."),
        Mode::Patch => Some(
            "`None` leaves the stored value unchanged (omitted), `Some(None)` clears it (`null`).",
        ),
        _ => None,
    };
    if let Some(n) = note {
        if !text.is_empty() {
            text.push_str("\n\n");
        }
        text.push_str(n);
    }
    doc_lines(&text, indent)
}

pub(super) fn fields_src(fields: &[Field], public: bool) -> String {
    let mut s = String::new();
    for f in fields {
        let vis = if public { "pub " } else { "" };
        s.push_str(&field_doc(f, "    "));
        s.push_str(&format!(
            "    {}\n    {vis}{}: {},\n",
            field_attr(f),
            f.ident,
            field_ty(f)
        ));
    }
    s
}

/// Wire names of fields that carry credentials: the generated `Debug` of their struct prints
/// `[REDACTED]` in their place, so a logged params value never shows a key or a token.
const SECRET_FIELDS: [&str; 8] = [
    "apiKey",
    "secretAccessKey",
    "sessionToken",
    "accessToken",
    "refreshToken",
    "idToken",
    "token",
    "password",
];

/// A string field named like a credential (a `refreshToken: bool` flag is not one).
fn is_secret_field(field: &Field) -> bool {
    SECRET_FIELDS.contains(&field.wire.as_str()) && rust_ty(&field.ty).contains("String")
}

/// A hand-shaped `Debug` for a struct with credential fields (its first line is blank: it
/// follows the struct).
const REDACTING_DEBUG: &str = r#"

impl std::fmt::Debug for $name {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("$name")
$fields
            .finish()
    }
}
"#;

/// A hand-shaped `Debug` for a struct with credential fields: the others as derived, the
/// credentials through `support::Redacted`.
fn redacting_debug_src(name: &str, fields: &[Field]) -> String {
    let lines: Vec<String> = fields
        .iter()
        .map(|field| {
            let ident = &field.ident;
            let label = ident.trim_start_matches("r#");
            if is_secret_field(field) {
                format!(
                    "            .field(\"{label}\", &crate::support::Redacted::of(&self.{ident}))"
                )
            } else {
                format!("            .field(\"{label}\", &self.{ident})")
            }
        })
        .collect();
    fill!(REDACTING_DEBUG, name = name, fields = lines.join("\n"))
}

/// A struct; `$redacts` names its credential fields (empty when it has none), `$debug` is then
/// its [`REDACTING_DEBUG`].
const STRUCT: &str = r#"
$redacts
#[derive($derives)]
pub struct $name {
$fields
}
$debug
"#;

/// A string enum: the known values, and `$unknown` keeping any other.
const STR_ENUM: &str = r#"
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum $name {
$variants
    /// A value this version of the crate does not know, kept verbatim.
    $unknown(String),
}

impl $name {
    /// The value as it is on the wire.
    pub fn as_str(&self) -> &str {
        match self {
$as_str_arms
            Self::$unknown(value) => value,
        }
    }

    /// The variant for a wire value; values this version does not know become [`Self::$unknown`].
    pub fn from_wire(value: &str) -> Self {
        match value {
$from_wire_arms
            other => Self::$unknown(other.to_owned()),
        }
    }
}

impl std::fmt::Display for $name {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for $name {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for $name {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        crate::support::deserialize_wire_str(deserializer, Self::from_wire)
    }
}
"#;

/// An externally tagged union: unit variants as strings, the others as a one-entry object;
/// `$units` and `$structs` decode each kind ([`EXTERNAL_UNITS`], [`EXTERNAL_STRUCTS`]; empty
/// when there is none of the kind).
const EXTERNAL: &str = r#"
#[derive(Debug, Clone, PartialEq)]
pub enum $name {
$variants
    /// A value this version of the crate does not know: the raw JSON, kept verbatim.
    $unknown(serde_json::Value),
}

impl Serialize for $name {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
$serialize_arms
            Self::$unknown(value) => value.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for $name {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(deserializer)?;
        Ok(match value {
$units
$structs
            other => Self::$unknown(other),
        })
    }
}
"#;

const EXTERNAL_UNITS: &str = r#"
            serde_json::Value::String(text) => match text.as_str() {
$arms
                _ => Self::$unknown(serde_json::Value::String(text)),
            },
"#;

const EXTERNAL_STRUCTS: &str = r#"
            serde_json::Value::Object(map) if map.len() == 1 => {
                let (key, inner) = crate::support::single_entry(map);
                match key.as_str() {
$arms
                    _ => Self::$unknown(crate::support::entry_value(key, inner)),
                }
            }
"#;

fn type_src(model: &Model, td: &TypeDef, s: &mut String) -> Result<()> {
    let name = &td.name;
    let doc = td.doc.clone().unwrap_or_default();
    s.push_str(&doc_lines(&doc, ""));
    match &td.shape {
        Shape::Struct(fields) => {
            let default = fields
                .iter()
                .all(|f| !matches!(f.mode, Mode::Required | Mode::Flatten));
            let secrets: Vec<&Field> = fields.iter().filter(|f| is_secret_field(f)).collect();
            let (redacts, debug) = if secrets.is_empty() {
                (String::new(), String::new())
            } else {
                let wires: Vec<String> = secrets.iter().map(|f| format!("`{}`", f.wire)).collect();
                let gap = if doc.is_empty() { "" } else { "///\n" };
                (
                    format!("{gap}/// `Debug` output redacts {}.", wires.join(", ")),
                    redacting_debug_src(name, fields),
                )
            };
            let derives = format!(
                "{}Clone, PartialEq, Serialize, Deserialize{}",
                if secrets.is_empty() { "Debug, " } else { "" },
                if default { ", Default" } else { "" }
            );
            let fields = fields_src(fields, true);
            s.push_str(&fill!(
                STRUCT,
                redacts = redacts,
                derives = derives,
                name = name,
                fields = block(&fields),
                debug = block(&debug),
            ));
        }
        Shape::Alias(t) => s.push_str(&format!("pub type {name} = {};\n", rust_ty(t))),
        Shape::StrEnum { values, unknown } => {
            let mut variants = String::new();
            let mut as_str_arms = Vec::new();
            let mut from_wire_arms = Vec::new();
            for v in values {
                let (variant, wire) = (&v.variant, &v.wire);
                variants.push_str(&variant_doc(v.doc.as_deref(), &format!("`{wire}`")));
                variants.push_str(&format!("    {variant},\n"));
                as_str_arms.push(format!("            Self::{variant} => \"{wire}\","));
                from_wire_arms.push(format!("            \"{wire}\" => Self::{variant},"));
            }
            s.push_str(&fill!(
                STR_ENUM,
                name = name,
                variants = block(&variants),
                unknown = unknown,
                as_str_arms = as_str_arms.join("\n"),
                from_wire_arms = from_wire_arms.join("\n"),
            ));
        }
        Shape::Tagged {
            tag,
            variants,
            unknown,
        } => tagged_src(model, name, tag, variants, unknown, s)?,
        Shape::External {
            units,
            structs,
            unknown,
        } => {
            let mut variants = String::new();
            let mut serialize_arms = Vec::new();
            let mut unit_arms = Vec::new();
            let mut struct_arms = Vec::new();
            for v in units {
                let (variant, wire) = (&v.variant, &v.wire);
                variants.push_str(&variant_doc(v.doc.as_deref(), &format!("`\"{wire}\"`")));
                variants.push_str(&format!("    {variant},\n"));
                serialize_arms.push(format!(
                    "            Self::{variant} => serializer.serialize_str(\"{wire}\"),"
                ));
                unit_arms.push(format!("                \"{wire}\" => Self::{variant},"));
            }
            for v in structs {
                let (variant, key) = (&v.variant, &v.key);
                variants.push_str(&variant_doc(
                    v.doc.as_deref(),
                    &format!("`{{\"{key}\": ...}}`"),
                ));
                variants.push_str(&format!("    {variant}({}),\n", rust_ty(&v.ty)));
                serialize_arms.push(format!(
                    "            Self::{variant}(value) => crate::support::serialize_entry(serializer, \"{key}\", value),"
                ));
                struct_arms.push(format!(
                    "                    \"{key}\" => Self::{variant}(crate::support::payload(\"{key}\", inner).map_err(serde::de::Error::custom)?),"
                ));
            }
            let units = if units.is_empty() {
                String::new()
            } else {
                fill!(
                    EXTERNAL_UNITS,
                    arms = unit_arms.join("\n"),
                    unknown = unknown
                )
            };
            let structs = if structs.is_empty() {
                String::new()
            } else {
                fill!(
                    EXTERNAL_STRUCTS,
                    arms = struct_arms.join("\n"),
                    unknown = unknown
                )
            };
            s.push_str(&fill!(
                EXTERNAL,
                name = name,
                variants = block(&variants),
                unknown = unknown,
                serialize_arms = serialize_arms.join("\n"),
                units = block(&units),
                structs = block(&structs),
            ));
        }
        Shape::Untagged(variants) => untagged_src(model, name, variants, s),
    }
    Ok(())
}

pub(super) fn variant_doc(doc: Option<&str>, wire: &str) -> String {
    let text = match doc {
        Some(d) => format!("{wire}: {d}"),
        None => wire.to_string(),
    };
    doc_lines(&text, "    ")
}

/// The attribute of items only the experimental bundle has.
const CFG_EXPERIMENTAL: &str = "#[cfg(feature = \"experimental\")]";
/// The attribute of the stable version of an item the experimental bundle changes.
const CFG_STABLE: &str = "#[cfg(not(feature = \"experimental\"))]";

/// `text` (one type's items, unformatted) with `cfg` before each top-level item: before its
/// first attribute, or before `pub`/`impl` when it has none. Doc comments stay above it.
fn gate(text: &str, cfg: &str) -> String {
    let mut out = String::with_capacity(text.len() + 256);
    let mut in_attrs = false;
    for line in text.lines() {
        let item = line.starts_with("pub ") || line.starts_with("impl");
        if line.starts_with("#[") {
            if !in_attrs {
                out.push_str(cfg);
                out.push('\n');
                in_attrs = true;
            }
        } else if item {
            if !in_attrs {
                out.push_str(cfg);
                out.push('\n');
            }
            in_attrs = false;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

const FILE_DOC: &str = r#"
//! Every type of the pinned schema reachable from the client requests, server notifications
//! and server requests (their params and results), generated from its definitions. With the
//! `experimental` feature, the types of the experimental bundle (`schema-experimental/`): its
//! own types, and its version of the types whose experimental fields or variants it adds.

use serde::{Deserialize, Serialize};

"#;

/// `types.rs` of both bundles: a type both have alike is written once, a type only the
/// experimental bundle has is gated on the feature, and a type the experimental bundle changes
/// (new fields, variants, values) is written twice, each version gated.
pub(super) fn merged_types(
    stable: &Model,
    stable_names: &BTreeSet<String>,
    experimental: &Model,
    experimental_names: &BTreeSet<String>,
) -> Result<String> {
    let mut s = format!("{HEADER}\n{}", fill!(FILE_DOC));
    let text = |model: &Model, name: &str| -> Result<String> {
        let mut t = String::new();
        type_src(model, &model.types[name], &mut t)?;
        t.push('\n');
        Ok(t)
    };
    for name in stable_names.union(experimental_names) {
        let a = stable_names
            .contains(name)
            .then(|| text(stable, name))
            .transpose()?;
        let b = experimental_names
            .contains(name)
            .then(|| text(experimental, name))
            .transpose()?;
        match (a, b) {
            (Some(a), Some(b)) if a == b => s.push_str(&a),
            (a, b) => {
                if let Some(a) = a {
                    s.push_str(&gate(&a, CFG_STABLE));
                }
                if let Some(b) = b {
                    s.push_str(&gate(&b, CFG_EXPERIMENTAL));
                }
            }
        }
        s.push('\n');
    }
    Ok(s)
}

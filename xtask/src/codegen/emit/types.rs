//! `types.rs`: every reachable schema type as Rust (structs, aliases, string enums,
//! externally tagged unions; the other unions are in `unions.rs`), both bundles merged.

use super::HEADER;
use super::unions::{tagged_src, untagged_src};
use crate::codegen::docs::doc_lines;
use crate::codegen::model::{Field, Mode, Model, Shape, Ty, TypeDef, refs};
use anyhow::Result;
use std::collections::BTreeSet;
use std::fmt::Write;

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
        s.push_str(&field_doc(f, "    "));
        let _ = writeln!(s, "    {}", field_attr(f));
        let vis = if public { "pub " } else { "" };
        let _ = writeln!(s, "    {vis}{}: {},", f.ident, field_ty(f));
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

/// A hand-shaped `Debug` for a struct with credential fields: the others as derived, the
/// credentials through `support::Redacted`.
fn redacting_debug_src(name: &str, fields: &[Field]) -> String {
    let mut s = format!(
        "\nimpl std::fmt::Debug for {name} {{\n    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {{\n        f.debug_struct(\"{name}\")\n"
    );
    for field in fields {
        let ident = &field.ident;
        let label = ident.trim_start_matches("r#");
        if is_secret_field(field) {
            let _ = writeln!(
                s,
                "            .field(\"{label}\", &crate::support::Redacted::of(&self.{ident}))"
            );
        } else {
            let _ = writeln!(s, "            .field(\"{label}\", &self.{ident})");
        }
    }
    s.push_str("            .finish()\n    }\n}\n");
    s
}

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
            if !secrets.is_empty() {
                let wires: Vec<String> = secrets.iter().map(|f| format!("`{}`", f.wire)).collect();
                let gap = if doc.is_empty() { "" } else { "///\n" };
                let _ = writeln!(s, "{gap}/// `Debug` output redacts {}.", wires.join(", "));
            }
            let _ = writeln!(
                s,
                "#[derive({}Clone, PartialEq, Serialize, Deserialize{})]",
                if secrets.is_empty() { "Debug, " } else { "" },
                if default { ", Default" } else { "" }
            );
            let _ = writeln!(s, "pub struct {name} {{");
            s.push_str(&fields_src(fields, true));
            s.push_str("}\n");
            if !secrets.is_empty() {
                s.push_str(&redacting_debug_src(name, fields));
            }
        }
        Shape::Alias(t) => {
            let _ = writeln!(s, "pub type {name} = {};", rust_ty(t));
        }
        Shape::StrEnum { values, unknown } => {
            s.push_str("#[derive(Debug, Clone, PartialEq, Eq, Hash)]\n");
            let _ = writeln!(s, "pub enum {name} {{");
            for v in values {
                s.push_str(&variant_doc(v.doc.as_deref(), &format!("`{}`", v.wire)));
                let _ = writeln!(s, "    {},", v.variant);
            }
            let _ = writeln!(
                s,
                "    /// A value this version of the crate does not know, kept verbatim.\n    {unknown}(String),\n}}\n"
            );
            let _ = writeln!(s, "impl {name} {{");
            s.push_str("    /// The value as it is on the wire.\n    pub fn as_str(&self) -> &str {\n        match self {\n");
            for v in values {
                let _ = writeln!(s, "            Self::{} => \"{}\",", v.variant, v.wire);
            }
            let _ = writeln!(
                s,
                "            Self::{unknown}(value) => value,\n        }}\n    }}\n"
            );
            let _ = writeln!(
                s,
                "    /// The variant for a wire value; values this version does not know become [`Self::{unknown}`].\n    pub fn from_wire(value: &str) -> Self {{\n        match value {{"
            );
            for v in values {
                let _ = writeln!(s, "            \"{}\" => Self::{},", v.wire, v.variant);
            }
            let _ = writeln!(
                s,
                "            other => Self::{unknown}(other.to_owned()),\n        }}\n    }}\n}}\n"
            );
            let _ = writeln!(
                s,
                "impl std::fmt::Display for {name} {{\n    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {{\n        f.write_str(self.as_str())\n    }}\n}}\n"
            );
            let _ = writeln!(
                s,
                "impl Serialize for {name} {{\n    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {{\n        serializer.serialize_str(self.as_str())\n    }}\n}}\n"
            );
            let _ = writeln!(
                s,
                "impl<'de> Deserialize<'de> for {name} {{\n    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {{\n        crate::support::deserialize_wire_str(deserializer, Self::from_wire)\n    }}\n}}"
            );
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
            s.push_str("#[derive(Debug, Clone, PartialEq)]\n");
            let _ = writeln!(s, "pub enum {name} {{");
            for v in units {
                s.push_str(&variant_doc(v.doc.as_deref(), &format!("`\"{}\"`", v.wire)));
                let _ = writeln!(s, "    {},", v.variant);
            }
            for v in structs {
                s.push_str(&variant_doc(
                    v.doc.as_deref(),
                    &format!("`{{\"{}\": ...}}`", v.key),
                ));
                let _ = writeln!(s, "    {}({}),", v.variant, rust_ty(&v.ty));
            }
            let _ = writeln!(
                s,
                "    /// A value this version of the crate does not know: the raw JSON, kept verbatim.\n    {unknown}(serde_json::Value),\n}}\n"
            );
            // Serialize
            let _ = writeln!(
                s,
                "impl Serialize for {name} {{\n    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {{\n        match self {{"
            );
            for v in units {
                let _ = writeln!(
                    s,
                    "            Self::{} => serializer.serialize_str(\"{}\"),",
                    v.variant, v.wire
                );
            }
            for v in structs {
                let _ = writeln!(
                    s,
                    "            Self::{}(value) => crate::support::serialize_entry(serializer, \"{}\", value),",
                    v.variant, v.key
                );
            }
            let _ = writeln!(
                s,
                "            Self::{unknown}(value) => value.serialize(serializer),\n        }}\n    }}\n}}\n"
            );
            // Deserialize
            let _ = writeln!(
                s,
                "impl<'de> Deserialize<'de> for {name} {{\n    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {{\n        let value = serde_json::Value::deserialize(deserializer)?;\n        Ok(match value {{"
            );
            if !units.is_empty() {
                s.push_str(
                    "            serde_json::Value::String(text) => match text.as_str() {\n",
                );
                for v in units {
                    let _ = writeln!(s, "                \"{}\" => Self::{},", v.wire, v.variant);
                }
                let _ = writeln!(
                    s,
                    "                _ => Self::{unknown}(serde_json::Value::String(text)),\n            }},"
                );
            }
            if !structs.is_empty() {
                s.push_str("            serde_json::Value::Object(map) if map.len() == 1 => {\n                let (key, inner) = crate::support::single_entry(map);\n                match key.as_str() {\n");
                for v in structs {
                    let _ = writeln!(
                        s,
                        "                    \"{}\" => Self::{}(crate::support::payload(\"{}\", inner).map_err(serde::de::Error::custom)?),",
                        v.key, v.variant, v.key
                    );
                }
                let _ = writeln!(
                    s,
                    "                    _ => Self::{unknown}(crate::support::entry_value(key, inner)),\n                }}\n            }}"
                );
            }
            let _ = writeln!(
                s,
                "            other => Self::{unknown}(other),\n        }})\n    }}\n}}"
            );
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

/// `types.rs` of both bundles: a type both have alike is written once, a type only the
/// experimental bundle has is gated on the feature, and a type the experimental bundle changes
/// (new fields, variants, values) is written twice, each version gated.
pub(super) fn merged_types(
    stable: &Model,
    stable_names: &BTreeSet<String>,
    experimental: &Model,
    experimental_names: &BTreeSet<String>,
) -> Result<String> {
    let mut s = String::new();
    s.push_str(HEADER);
    s.push_str("\n//! Every type of the pinned schema reachable from the client requests, server notifications\n//! and server requests (their params and results), generated from its definitions. With the\n//! `experimental` feature, the types of the experimental bundle (`schema-experimental/`): its\n//! own types, and its version of the types whose experimental fields or variants it adds.\n\n");
    s.push_str("use serde::{Deserialize, Serialize};\n\n");
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

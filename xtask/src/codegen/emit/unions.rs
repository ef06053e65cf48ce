//! The tagged and untagged unions of `types.rs`: the enum, its accessors, `Serialize`, and a
//! `Deserialize` that keeps what it does not know.

use super::routed::{shared_str_field, str_expr};
use super::types::{fields_src, rust_ty, variant_doc};
use crate::codegen::docs::doc_lines;
use crate::codegen::model::{
    Field, Mode, Model, Shape, TaggedVariant, Ty, UntaggedPayload, UntaggedVariant,
};
use crate::codegen::names::bare;
use anyhow::{Context, Result};
use std::fmt::Write;

/// An untagged union: serialized as its variant, decoded by what distinguishes the variants
/// (`support::untagged`: required fields, discriminating string values, fewest unknown fields),
/// trying them in declaration order only when nothing does.
pub(super) fn untagged_src(
    model: &Model,
    name: &str,
    variants: &[UntaggedVariant],
    s: &mut String,
) {
    s.push_str("#[derive(Debug, Clone, PartialEq, Serialize)]\n#[serde(untagged)]\n");
    let _ = writeln!(s, "pub enum {name} {{");
    for v in variants {
        s.push_str(&doc_lines(v.doc.as_deref().unwrap_or(""), "    "));
        match &v.payload {
            UntaggedPayload::Newtype(t) => {
                let _ = writeln!(s, "    {}({}),", v.variant, rust_ty(t));
            }
            UntaggedPayload::Fields(fields) => {
                let _ = writeln!(s, "    {} {{", v.variant);
                s.push_str(&fields_src(fields, false));
                s.push_str("    },\n");
            }
        }
    }
    s.push_str("}\n\n");
    let _ = writeln!(
        s,
        "impl {name} {{\n    /// What each variant looks like on the wire, in declaration order.\n    pub(crate) const VARIANTS: &'static [crate::support::Expect] = &["
    );
    for v in variants {
        let e = match &v.payload {
            UntaggedPayload::Newtype(t) => expect_src(model, t),
            UntaggedPayload::Fields(fields) => object_expect_src(model, fields),
        };
        let _ = writeln!(s, "        {e},");
    }
    s.push_str("    ];\n\n    /// How well `value` fits the best variant (for a union nesting this one).\n    #[allow(dead_code)] // only unions that nest this one call it\n    pub(crate) fn fit(value: &serde_json::Value) -> Option<crate::support::Score> {\n        crate::support::best_score(value, Self::VARIANTS)\n    }\n}\n\n");
    let _ = writeln!(
        s,
        "impl<'de> Deserialize<'de> for {name} {{\n    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {{\n        let value = serde_json::Value::deserialize(deserializer)?;\n        crate::support::untagged(\"{name}\", value, Self::VARIANTS, |i, value| {{\n            Ok(match i {{"
    );
    for (i, v) in variants.iter().enumerate() {
        match &v.payload {
            UntaggedPayload::Newtype(_) => {
                let _ = writeln!(
                    s,
                    "                {i} => Self::{}(serde_json::from_value(value)?),",
                    v.variant
                );
            }
            UntaggedPayload::Fields(fields) => {
                let _ = writeln!(
                    s,
                    "                {i} => {{\n                    #[derive(Deserialize)]\n                    struct Fields {{"
                );
                s.push_str(&fields_src(fields, false));
                let idents: Vec<&str> = fields.iter().map(|f| f.ident.as_str()).collect();
                let _ = writeln!(
                    s,
                    "                    }}\n                    let Fields {{ {0} }} = serde_json::from_value(value)?;\n                    Self::{1} {{ {0} }}\n                }}",
                    idents.join(", "),
                    v.variant
                );
            }
        }
    }
    s.push_str("                _ => unreachable!(\"a variant index\"),\n            })\n        })\n        .map_err(serde::de::Error::custom)\n    }\n}\n");
}

/// The `support::Expect` of a variant holding a `ty`.
fn expect_src(model: &Model, ty: &Ty) -> String {
    match model.resolve(ty) {
        Ty::Any => "crate::support::Expect::Any".into(),
        Ty::Unit => "crate::support::Expect::Null".into(),
        Ty::Bool => "crate::support::Expect::Bool".into(),
        Ty::Str => "crate::support::Expect::Str".into(),
        Ty::Int(_) => "crate::support::Expect::Integer".into(),
        Ty::F64 => "crate::support::Expect::Number".into(),
        Ty::Vec(_) => "crate::support::Expect::Array".into(),
        Ty::Map(_) | Ty::Object => {
            "crate::support::Expect::Object(crate::support::ObjectShape { required: &[], consts: &[], known: None })".into()
        }
        Ty::Opt(inner) => expect_src(model, inner),
        Ty::Named(n) => match model.types.get(n).map(|d| &d.shape) {
            Some(Shape::Struct(fields)) => object_expect_src(model, fields),
            Some(Shape::StrEnum { values, .. }) => format!(
                "crate::support::Expect::StrIn(&[{}])",
                values
                    .iter()
                    .map(|v| format!("\"{}\"", v.wire))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Some(Shape::Tagged { tag, variants, .. }) => format!(
                "crate::support::Expect::Object(crate::support::ObjectShape {{ required: &[\"{tag}\"], consts: &[(\"{tag}\", &[{}])], known: None }})",
                variants
                    .iter()
                    .map(|v| format!("\"{}\"", v.wire))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Some(Shape::External { .. }) => "crate::support::Expect::StrOrObject".into(),
            Some(Shape::Untagged(_)) => format!("crate::support::Expect::Union({n}::fit)"),
            _ => "crate::support::Expect::Any".into(),
        },
    }
}

/// The `support::Expect::Object` of a variant with these fields: required fields, fields whose
/// type is a string enum (their known values discriminate), every known field (none when the
/// struct flattens another type or keeps extra fields).
fn object_expect_src(model: &Model, fields: &[Field]) -> String {
    let q = |w: &str| format!("\"{w}\"");
    let required: Vec<String> = fields
        .iter()
        .filter(|f| matches!(f.mode, Mode::Required | Mode::Nullable))
        .map(|f| q(&f.wire))
        .collect();
    let mut consts = Vec::new();
    for f in fields {
        if f.mode == Mode::Flatten {
            continue;
        }
        if let Ty::Named(n) = model.resolve(&f.ty)
            && let Some(Shape::StrEnum { values, .. }) = model.types.get(n).map(|d| &d.shape)
        {
            let vals: Vec<String> = values.iter().map(|v| q(&v.wire)).collect();
            consts.push(format!("({}, &[{}])", q(&f.wire), vals.join(", ")));
        }
    }
    let known = if fields
        .iter()
        .any(|f| matches!(f.mode, Mode::Flatten | Mode::Extra))
    {
        "None".to_string()
    } else {
        let all: Vec<String> = fields.iter().map(|f| q(&f.wire)).collect();
        format!("Some(&[{}])", all.join(", "))
    };
    format!(
        "crate::support::Expect::Object(crate::support::ObjectShape {{ required: &[{}], consts: &[{}], known: {known} }})",
        required.join(", "),
        consts.join(", ")
    )
}

pub(super) fn tagged_src(
    model: &Model,
    name: &str,
    tag: &str,
    variants: &[TaggedVariant],
    unknown: &str,
    s: &mut String,
) -> Result<()> {
    s.push_str("#[derive(Debug, Clone, PartialEq)]\n");
    let _ = writeln!(s, "pub enum {name} {{");
    for v in variants {
        s.push_str(&variant_doc(
            v.doc.as_deref(),
            &format!("`\"{tag}\": \"{}\"`", v.wire),
        ));
        match &v.payload {
            Some(p) => {
                let _ = writeln!(s, "    {}({p}),", v.variant);
            }
            None => {
                let _ = writeln!(s, "    {},", v.variant);
            }
        }
    }
    let _ = writeln!(
        s,
        "    /// A `{tag}` this version of the crate does not know: the whole JSON object, kept verbatim.\n    {unknown}(serde_json::Value),\n}}\n"
    );
    // accessors
    let _ = writeln!(s, "impl {name} {{");
    let _ = writeln!(
        s,
        "    /// The `{tag}` discriminator as it is on the wire (empty for an [`Self::{unknown}`] value without one).\n    pub fn tag(&self) -> &str {{\n        match self {{"
    );
    for v in variants {
        let pat = if v.payload.is_some() { "(_)" } else { "" };
        let _ = writeln!(s, "            Self::{}{pat} => \"{}\",", v.variant, v.wire);
    }
    let _ = writeln!(
        s,
        "            Self::{unknown}(value) => value.get(\"{tag}\").and_then(serde_json::Value::as_str).unwrap_or_default(),\n        }}\n    }}"
    );
    // shared string fields
    let first_fields = variants
        .first()
        .and_then(|v| v.payload.as_deref())
        .and_then(|p| model.struct_fields(p))
        .unwrap_or(&[]);
    for f in first_fields {
        if f.ident == "tag" {
            continue;
        }
        let Some(ident) = shared_str_field(model, variants, &f.wire) else {
            continue;
        };
        let _ = writeln!(
            s,
            "\n    /// The `{}` every variant carries (read from the raw JSON for [`Self::{unknown}`]).\n    pub fn {}(&self) -> Option<&str> {{\n        match self {{",
            f.wire,
            bare(&ident)
        );
        for v in variants {
            let payload = v.payload.as_deref().context("payload")?;
            let g = model
                .struct_fields(payload)
                .and_then(|fs| fs.iter().find(|g| g.wire == f.wire))
                .context("shared field")?;
            let _ = writeln!(
                s,
                "            Self::{}(v) => {},",
                v.variant,
                str_expr("v", g)
            );
        }
        let _ = writeln!(
            s,
            "            Self::{unknown}(value) => value.get(\"{}\").and_then(serde_json::Value::as_str),\n        }}\n    }}",
            f.wire
        );
    }
    s.push_str("}\n\n");
    // Serialize through a borrowed internally tagged mirror.
    let has_payload = variants.iter().any(|v| v.payload.is_some());
    let lt = if has_payload { "<'a>" } else { "" };
    let _ = writeln!(
        s,
        "impl Serialize for {name} {{\n    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {{\n        #[derive(Serialize)]\n        #[serde(tag = \"{tag}\")]\n        enum Tagged{lt} {{"
    );
    for v in variants {
        let _ = writeln!(s, "            #[serde(rename = \"{}\")]", v.wire);
        match &v.payload {
            Some(p) => {
                let _ = writeln!(s, "            {}(&'a {p}),", v.variant);
            }
            None => {
                let _ = writeln!(s, "            {},", v.variant);
            }
        }
    }
    s.push_str("        }\n        match self {\n");
    for v in variants {
        match &v.payload {
            Some(_) => {
                let _ = writeln!(
                    s,
                    "            Self::{0}(value) => Tagged::{0}(value).serialize(serializer),",
                    v.variant
                );
            }
            None => {
                let _ = writeln!(
                    s,
                    "            Self::{0} => Tagged::{0}.serialize(serializer),",
                    v.variant
                );
            }
        }
    }
    let _ = writeln!(
        s,
        "            Self::{unknown}(value) => value.serialize(serializer),\n        }}\n    }}\n}}\n"
    );
    // Deserialize: read the tag, dispatch, keep unknown tags raw.
    let _ = writeln!(
        s,
        "impl<'de> Deserialize<'de> for {name} {{\n    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {{\n        let value = serde_json::Value::deserialize(deserializer)?;\n        let tag = crate::support::tag(&value, \"{tag}\").map_err(serde::de::Error::custom)?;\n        Ok(match tag {{"
    );
    for v in variants {
        match &v.payload {
            Some(_) => {
                let _ = writeln!(
                    s,
                    "            \"{0}\" => Self::{1}(crate::support::payload(\"{0}\", value).map_err(serde::de::Error::custom)?),",
                    v.wire, v.variant
                );
            }
            None => {
                let _ = writeln!(s, "            \"{}\" => Self::{},", v.wire, v.variant);
            }
        }
    }
    let _ = writeln!(
        s,
        "            _ => Self::{unknown}(value),\n        }})\n    }}\n}}"
    );
    Ok(())
}

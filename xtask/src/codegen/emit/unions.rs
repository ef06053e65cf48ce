//! The tagged and untagged unions of `types.rs`: the enum, its accessors, `Serialize`, and a
//! `Deserialize` that keeps what it does not know.

use super::routed::{shared_str_field, str_expr};
use super::template::block;
use super::types::{fields_src, rust_ty, variant_doc};
use crate::codegen::docs::doc_lines;
use crate::codegen::model::{
    Field, Mode, Model, Shape, TaggedVariant, Ty, UntaggedPayload, UntaggedVariant,
};
use crate::codegen::names::bare;
use anyhow::{Context, Result};

const UNTAGGED: &str = r#"
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum $name {
$variants
}

impl $name {
    /// What each variant looks like on the wire, in declaration order.
    pub(crate) const VARIANTS: &'static [crate::support::Expect] = &[
$expects
    ];

    /// How well `value` fits the best variant (for a union nesting this one).
    #[allow(dead_code)] // only unions that nest this one call it
    pub(crate) fn fit(value: &serde_json::Value) -> Option<crate::support::Score> {
        crate::support::best_score(value, Self::VARIANTS)
    }
}

impl<'de> Deserialize<'de> for $name {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(deserializer)?;
        crate::support::untagged("$name", value, Self::VARIANTS, |i, value| {
            Ok(match i {
$arms
                _ => unreachable!("a variant index"),
            })
        })
        .map_err(serde::de::Error::custom)
    }
}
"#;

/// An untagged variant with fields (`$fields`: their lines, from `fields_src`).
const UNTAGGED_FIELDS_VARIANT: &str = r#"
    $variant {
$fields
    },
"#;

/// The decoding of an untagged variant with fields: through a struct of the same fields.
const UNTAGGED_FIELDS_ARM: &str = r#"
                $i => {
                    #[derive(Deserialize)]
                    struct Fields {
$fields
                    }
                    let Fields { $idents } = serde_json::from_value(value)?;
                    Self::$variant { $idents }
                }
"#;

/// An untagged union: serialized as its variant, decoded by what distinguishes the variants
/// (`support::untagged`: required fields, discriminating string values, fewest unknown fields),
/// trying them in declaration order only when nothing does.
pub(super) fn untagged_src(
    model: &Model,
    name: &str,
    variants: &[UntaggedVariant],
    s: &mut String,
) {
    let mut variants_src = String::new();
    let mut expects = String::new();
    let mut arms = String::new();
    for (i, v) in variants.iter().enumerate() {
        variants_src.push_str(&doc_lines(v.doc.as_deref().unwrap_or(""), "    "));
        match &v.payload {
            UntaggedPayload::Newtype(t) => {
                variants_src.push_str(&format!("    {}({}),\n", v.variant, rust_ty(t)));
                expects.push_str(&format!("        {},\n", expect_src(model, t)));
                arms.push_str(&format!(
                    "                {i} => Self::{}(serde_json::from_value(value)?),\n",
                    v.variant
                ));
            }
            UntaggedPayload::Fields(fields) => {
                let fields_lines = fields_src(fields, false);
                variants_src.push_str(&fill!(
                    UNTAGGED_FIELDS_VARIANT,
                    variant = v.variant,
                    fields = block(&fields_lines),
                ));
                expects.push_str(&format!("        {},\n", object_expect_src(model, fields)));
                let idents: Vec<&str> = fields.iter().map(|f| f.ident.as_str()).collect();
                arms.push_str(&fill!(
                    UNTAGGED_FIELDS_ARM,
                    i = i,
                    fields = block(&fields_lines),
                    idents = idents.join(", "),
                    variant = v.variant,
                ));
            }
        }
    }
    s.push_str(&fill!(
        UNTAGGED,
        name = name,
        variants = block(&variants_src),
        expects = block(&expects),
        arms = block(&arms),
    ));
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

/// A tagged union: a variant per known tag, `$unknown` keeping any other object verbatim;
/// `$accessors` are the string fields every variant carries ([`TAGGED_ACCESSOR`]).
const TAGGED: &str = r#"
#[derive(Debug, Clone, PartialEq)]
pub enum $name {
$variants
    /// A `$tag` this version of the crate does not know: the whole JSON object, kept verbatim.
    $unknown(serde_json::Value),
}

impl $name {
    /// The `$tag` discriminator as it is on the wire (empty for an [`Self::$unknown`] value without one).
    pub fn tag(&self) -> &str {
        match self {
$tag_arms
            Self::$unknown(value) => value.get("$tag").and_then(serde_json::Value::as_str).unwrap_or_default(),
        }
    }
$accessors
}

impl Serialize for $name {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        #[serde(tag = "$tag")]
        enum Tagged$lt {
$mirror
        }
        match self {
$serialize_arms
            Self::$unknown(value) => value.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for $name {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(deserializer)?;
        let tag = crate::support::tag(&value, "$tag").map_err(serde::de::Error::custom)?;
        Ok(match tag {
$deserialize_arms
            _ => Self::$unknown(value),
        })
    }
}
"#;

/// The accessor of a string field every variant of a tagged union carries (its first line is
/// blank: it follows the previous method).
const TAGGED_ACCESSOR: &str = r#"

    /// The `$wire` every variant carries (read from the raw JSON for [`Self::$unknown`]).
    pub fn $ident(&self) -> Option<&str> {
        match self {
$arms
            Self::$unknown(value) => value.get("$wire").and_then(serde_json::Value::as_str),
        }
    }
"#;

pub(super) fn tagged_src(
    model: &Model,
    name: &str,
    tag: &str,
    variants: &[TaggedVariant],
    unknown: &str,
    s: &mut String,
) -> Result<()> {
    let mut variants_src = String::new();
    let mut tag_arms = String::new();
    let mut mirror = String::new();
    let mut serialize_arms = String::new();
    let mut deserialize_arms = String::new();
    for v in variants {
        let (variant, wire) = (&v.variant, &v.wire);
        variants_src.push_str(&variant_doc(
            v.doc.as_deref(),
            &format!("`\"{tag}\": \"{wire}\"`"),
        ));
        mirror.push_str(&format!("            #[serde(rename = \"{wire}\")]\n"));
        match &v.payload {
            Some(p) => {
                variants_src.push_str(&format!("    {variant}({p}),\n"));
                tag_arms.push_str(&format!("            Self::{variant}(_) => \"{wire}\",\n"));
                mirror.push_str(&format!("            {variant}(&'a {p}),\n"));
                serialize_arms.push_str(&format!(
                    "            Self::{variant}(value) => Tagged::{variant}(value).serialize(serializer),\n"
                ));
                deserialize_arms.push_str(&format!(
                    "            \"{wire}\" => Self::{variant}(crate::support::payload(\"{wire}\", value).map_err(serde::de::Error::custom)?),\n"
                ));
            }
            None => {
                variants_src.push_str(&format!("    {variant},\n"));
                tag_arms.push_str(&format!("            Self::{variant} => \"{wire}\",\n"));
                mirror.push_str(&format!("            {variant},\n"));
                serialize_arms.push_str(&format!(
                    "            Self::{variant} => Tagged::{variant}.serialize(serializer),\n"
                ));
                deserialize_arms.push_str(&format!("            \"{wire}\" => Self::{variant},\n"));
            }
        }
    }
    // The string fields every variant carries get an accessor.
    let mut accessors = String::new();
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
        let mut arms = Vec::new();
        for v in variants {
            let payload = v.payload.as_deref().context("payload")?;
            let g = model
                .struct_fields(payload)
                .and_then(|fs| fs.iter().find(|g| g.wire == f.wire))
                .context("shared field")?;
            arms.push(format!(
                "            Self::{}(v) => {},",
                v.variant,
                str_expr("v", g)
            ));
        }
        accessors.push_str(&fill!(
            TAGGED_ACCESSOR,
            wire = f.wire,
            unknown = unknown,
            ident = bare(&ident),
            arms = arms.join("\n"),
        ));
    }
    // Serialize goes through a borrowed internally tagged mirror.
    let has_payload = variants.iter().any(|v| v.payload.is_some());
    s.push_str(&fill!(
        TAGGED,
        name = name,
        tag = tag,
        unknown = unknown,
        variants = block(&variants_src),
        tag_arms = block(&tag_arms),
        accessors = block(&accessors),
        lt = if has_payload { "<'a>" } else { "" },
        mirror = block(&mirror),
        serialize_arms = block(&serialize_arms),
        deserialize_arms = block(&deserialize_arms),
    ));
    Ok(())
}

//! The method-tagged enums (`ServerNotification`, `ServerRequest`): the methods they route,
//! where each carries its thread and turn ids, and the enum with its `decode`, `method`,
//! `thread_id`/`turn_id`, `Serialize`, `METHODS` and `ROUTING`.

use super::{link, raw_doc_lines};
use crate::codegen::load::{Method, Params};
use crate::codegen::model::{Field, Mode, Model, Shape, TaggedVariant, Ty, TypeDef};
use crate::codegen::names::{bare, pascal};
use anyhow::{Result, bail};
use std::collections::BTreeSet;

pub struct RoutedMethod {
    pub method: String,
    pub variant: String,
    pub params: String,
    pub response: Option<String>,
    pub doc: Option<String>,
    pub thread: Option<(String, String)>,
    pub turn: Option<(String, String)>,
    /// The params are large: the variant holds them in a `Box` (see [`BOX_OVER_BYTES`]).
    pub boxed: bool,
}

/// Variants of the routed enums (`ServerNotification`, `ServerRequest`) whose params are
/// estimated larger than this are boxed: an enum is as large as its largest variant, and every
/// decoded message (an agent-message delta is ~100 bytes) would otherwise be allocated and
/// copied at the size of the largest one (~800 bytes).
pub const BOX_OVER_BYTES: usize = 128;

pub fn routed(model: &Model, methods: &[Method], with_response: bool) -> Result<Vec<RoutedMethod>> {
    let mut out = Vec::new();
    let mut variants = BTreeSet::new();
    for m in methods {
        let Params::Type(p) = &m.params else {
            bail!("`{}`: params must be a type", m.method);
        };
        let response = if with_response {
            let r = format!("{}Response", p.strip_suffix("Params").unwrap_or(p));
            if !model.types.contains_key(&r) {
                bail!("server request `{}`: no response type `{r}`", m.method);
            }
            Some(r)
        } else {
            None
        };
        let variant = pascal(&m.method);
        if !variants.insert(variant.clone()) || variant == "Unknown" {
            bail!(
                "method `{}` maps to a duplicate variant `{variant}`",
                m.method
            );
        }
        let thread = route(model, p, &["threadId", "conversationId"], "thread");
        let turn = route(model, p, &["turnId"], "turn");
        out.push(RoutedMethod {
            method: m.method.clone(),
            variant,
            params: p.clone(),
            response,
            doc: m.doc.clone(),
            thread,
            turn,
            boxed: model.approx_size(&Ty::Named(p.clone())) > BOX_OVER_BYTES,
        });
    }
    Ok(out)
}

/// Where a params type carries a thread/turn id: `(path, rust expression on `p`)`.
fn route(model: &Model, params: &str, keys: &[&str], container: &str) -> Option<(String, String)> {
    if let Some(fields) = model.struct_fields(params) {
        for key in keys {
            if let Some(f) = fields.iter().find(|f| f.wire == *key)
                && model.resolve(&f.ty) == &Ty::Str
            {
                return Some((format!("params.{key}"), str_expr("p", f)));
            }
        }
        if let Some(f) = fields.iter().find(|f| f.wire == container)
            && let Ty::Named(inner) = model.resolve(&f.ty)
            && let Some(id) = model
                .struct_fields(inner)
                .and_then(|fs| fs.iter().find(|g| g.wire == "id"))
            && model.resolve(&id.ty) == &Ty::Str
        {
            let outer = format!("p.{}", f.ident);
            let expr = match (f.mode, id.mode) {
                (Mode::Required, Mode::Required) => format!("Some({outer}.{}.as_str())", id.ident),
                (Mode::Required, _) => format!("{outer}.{}.as_deref()", id.ident),
                (_, Mode::Required) => format!("{outer}.as_ref().map(|t| t.{}.as_str())", id.ident),
                _ => format!("{outer}.as_ref().and_then(|t| t.{}.as_deref())", id.ident),
            };
            return Some((format!("params.{container}.id"), expr));
        }
        return None;
    }
    // A tagged union with the key shared by every variant: its generated accessor.
    if let Some(TypeDef {
        shape: Shape::Tagged { variants, .. },
        ..
    }) = model.types.get(params)
    {
        for key in keys {
            if let Some(ident) = shared_str_field(model, variants, key) {
                return Some((format!("params.{key}"), format!("p.{}()", bare(&ident))));
            }
        }
    }
    None
}

pub(super) fn str_expr(var: &str, f: &Field) -> String {
    match f.mode {
        Mode::Required => format!("Some({var}.{}.as_str())", f.ident),
        _ => format!("{var}.{}.as_deref()", f.ident),
    }
}

/// A string field every variant's payload has: its identifier.
pub(super) fn shared_str_field(
    model: &Model,
    variants: &[TaggedVariant],
    wire: &str,
) -> Option<String> {
    let mut ident = None;
    for v in variants {
        let fields = model.struct_fields(v.payload.as_deref()?)?;
        let f = fields.iter().find(|f| f.wire == wire)?;
        if model.resolve(&f.ty) != &Ty::Str
            || !matches!(f.mode, Mode::Required | Mode::Nullable | Mode::Optional)
        {
            return None;
        }
        ident = Some(f.ident.clone());
    }
    ident
}

pub struct EnumSpec<'a> {
    pub name: &'a str,
    pub what: &'a str,
    pub doc: &'a str,
    /// Box the variants whose params are large ([`RoutedMethod::boxed`]): done for the
    /// notifications, the hot path (one per streamed event); server requests are rare.
    pub box_large: bool,
    /// How `thread_id()` / `turn_id()` read the ids of `Unknown`: where (for their doc), the
    /// pattern's fields, then the thread and the turn expression.
    pub unknown_ids: [&'a str; 4],
}

const ENUM: &str = r##"
$doc
#[derive(Debug, Clone, PartialEq)]
pub enum $name {
$variants
    /// A $what method this version of the crate does not know, with its raw params (`null` when absent).
    Unknown {
        /// The method name.
        method: String,
        /// The params, as sent.
        params: serde_json::Value,
    },
}

impl $name {
    /// Decodes the params of `method` into their type. An unknown method is not an error: it
    /// becomes [`Self::Unknown`]. Params that do not match the method's type are a [`DecodeError`](crate::DecodeError).
    pub fn decode(method: &str, params: Option<&serde_json::value::RawValue>) -> Result<Self, crate::DecodeError> {
        Self::decode_str(method, params.map(serde_json::value::RawValue::get))
    }

    /// [`Self::decode`] from the params' JSON text, for a caller that kept the text rather than
    /// a [`RawValue`](serde_json::value::RawValue) (text that is not JSON is a [`DecodeError`](crate::DecodeError) too).
    ///
    /// ```
    /// use codex_client_protocol::$name;
    ///
    /// let message = $name::decode_str("some/future/method", Some(r#"{"x":1}"#)).unwrap();
    /// assert_eq!(message.method(), "some/future/method");
    /// assert!($name::decode_str("some/future/method", Some("not json")).is_err());
    /// ```
    pub fn decode_str(method: &str, params: Option<&str>) -> Result<Self, crate::DecodeError> {
        Ok(match method {
$decode_arms
            _ => Self::Unknown {
                method: method.to_owned(),
                params: crate::support::decode_params(method, params)?,
            },
        })
    }

    /// The method name.
    pub fn method(&self) -> &str {
        match self {
$method_arms
            Self::Unknown { method, .. } => method,
        }
    }

$id_fns
}

/// Serialized as the message's `{"method": ..., "params": ...}` (params omitted when
/// absent): for logging a $what as JSON.
impl serde::Serialize for $name {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
$serialize_arms
            Self::Unknown { method, params } => crate::support::serialize_message(serializer, method, (!params.is_null()).then_some(params)),
        }
    }
}

/// The $count $what methods of the pinned schema, in schema order.
pub const METHODS: &[&str] = &[
$methods
];

/// Routing metadata generated from the schema: `(method, thread id path, turn id path)`, the
/// paths as in `params.threadId` / `params.turn.id`, `None` where the message carries no such id.
/// `thread_id()` and `turn_id()` read exactly these paths.
pub const ROUTING: &[(&str, Option<&str>, Option<&str>)] = &[
$routing
];
"##;

/// `thread_id()` / `turn_id()`: `$none` is the arm of the methods without such an id (empty
/// when every method has one).
const ID_FN: &str = r#"
    /// The id of the $kind this message belongs to, where the schema puts one (see [`ROUTING`]);
    /// for [`Self::Unknown`], read $places.
    pub fn $id_fn(&self) -> Option<&str> {
        match self {
$arms
$none
            Self::Unknown { $fields } => $fallback,
        }
    }

"#;

pub fn routed_enum_src(spec: &EnumSpec, methods: &[RoutedMethod], s: &mut String) {
    let boxed = |m: &RoutedMethod| spec.box_large && m.boxed;
    let lines = |line: &dyn Fn(&RoutedMethod) -> String| -> String {
        methods.iter().map(line).collect::<Vec<_>>().join("\n")
    };
    let variants = lines(&|m| {
        let mut doc = format!("`{}`: {}.", m.method, link(&m.params));
        if let Some(d) = &m.doc {
            doc.push_str("\n\n");
            doc.push_str(&crate::codegen::docs::markdown(d).join("\n"));
        }
        let mut variant: String = raw_doc_lines(&doc)
            .lines()
            .map(|l| format!("    {l}\n"))
            .collect();
        let params = format!("crate::types::{}", m.params);
        if boxed(m) {
            variant.push_str(&format!("    {}(Box<{params}>),", m.variant));
        } else {
            variant.push_str(&format!("    {}({params}),", m.variant));
        }
        variant
    });
    let decode_arms = lines(&|m| {
        let decode = "crate::support::decode_params(method, params)?";
        let decode = if boxed(m) {
            format!("Box::new({decode})")
        } else {
            decode.to_owned()
        };
        format!(
            "            \"{}\" => Self::{}({decode}),",
            m.method, m.variant
        )
    });
    let method_arms =
        lines(&|m| format!("            Self::{}(_) => \"{}\",", m.variant, m.method));
    let [places, fields, thread_fallback, turn_fallback] = spec.unknown_ids;
    let mut id_fns = String::new();
    for (kind, pick, fallback) in [
        ("thread", 0usize, thread_fallback),
        ("turn", 1, turn_fallback),
    ] {
        let mut arms = Vec::new();
        let mut none = Vec::new();
        for m in methods {
            let r = if pick == 0 { &m.thread } else { &m.turn };
            match r {
                Some((_, expr)) => {
                    arms.push(format!("            Self::{}(p) => {expr},", m.variant))
                }
                None => none.push(format!("Self::{}(_)", m.variant)),
            }
        }
        let none = if none.is_empty() {
            String::new()
        } else {
            format!("            {} => None,", none.join(" | "))
        };
        id_fns.push_str(&fill!(
            ID_FN,
            kind = kind,
            places = places,
            id_fn = format!("{kind}_id"),
            arms = arms.join("\n"),
            none = none,
            fields = fields,
            fallback = fallback,
        ));
    }
    let serialize_arms = lines(&|m| {
        format!(
            "            Self::{}(p) => crate::support::serialize_message(serializer, \"{}\", Some(p)),",
            m.variant, m.method
        )
    });
    let method_list = lines(&|m| format!("    \"{}\",", m.method));
    let routing = lines(&|m| {
        let p = |r: &Option<(String, String)>| match r {
            Some((path, _)) => format!("Some(\"{path}\")"),
            None => "None".into(),
        };
        format!("    (\"{}\", {}, {}),", m.method, p(&m.thread), p(&m.turn))
    });
    s.push_str(&fill!(
        ENUM,
        doc = raw_doc_lines(spec.doc).trim_end(),
        name = spec.name,
        what = spec.what,
        variants = variants,
        decode_arms = decode_arms,
        method_arms = method_arms,
        id_fns = id_fns.strip_suffix('\n').unwrap_or(&id_fns),
        serialize_arms = serialize_arms,
        count = methods.len(),
        methods = method_list,
        routing = routing,
    ));
}

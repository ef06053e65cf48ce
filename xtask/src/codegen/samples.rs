//! `union_tests.rs`: for every union of the generated types (tagged, string-or-object,
//! untagged), a sample of each variant built from the schema, and a test that decodes it and
//! asserts the variant. A sample has every field its variant names (so a variant that knows a
//! field the others do not is told apart by it), filled with a value of the field's type.

use super::model::{Field, Mode, Model, Shape, Ty, UntaggedPayload};
use super::names::{bare, snake};
use serde_json::{Map, Value, json};
use std::collections::BTreeSet;
use std::fmt::Write;

/// Below this depth optional fields are left out and lists stay empty (recursive types).
const DEEP: usize = 6;

fn sample(model: &Model, ty: &Ty, depth: usize) -> Value {
    match ty {
        Ty::Any => json!("any"),
        Ty::Unit => Value::Null,
        Ty::Bool => json!(true),
        Ty::Str => json!("s"),
        Ty::Int(_) => json!(1),
        Ty::F64 => json!(1.5),
        Ty::Vec(item) if depth < DEEP => json!([sample(model, item, depth + 1)]),
        Ty::Vec(_) => json!([]),
        Ty::Map(v) if depth < DEEP => json!({"k": sample(model, v, depth + 1)}),
        Ty::Map(_) | Ty::Object => json!({}),
        Ty::Opt(inner) => sample(model, inner, depth),
        Ty::Named(n) => named_sample(model, n, 0, depth + 1).unwrap_or(Value::Null),
    }
}

/// The sample of variant `variant` of the named type (variant 0 for a non-union).
fn named_sample(model: &Model, name: &str, variant: usize, depth: usize) -> Option<Value> {
    let def = model.types.get(name)?;
    Some(match &def.shape {
        Shape::Struct(fields) => object_sample(model, fields, depth),
        Shape::StrEnum { values, .. } => json!(values.first().map_or("x", |v| v.wire.as_str())),
        Shape::Alias(inner) => sample(model, inner, depth),
        Shape::Tagged { tag, variants, .. } => {
            let v = variants.get(variant)?;
            let mut obj = match &v.payload {
                Some(p) => named_sample(model, p, 0, depth + 1)?,
                None => json!({}),
            };
            obj.as_object_mut()?.insert(tag.clone(), json!(v.wire));
            obj
        }
        Shape::External { units, structs, .. } => match units.get(variant) {
            Some(u) => json!(u.wire),
            None => {
                let s = structs.get(variant - units.len())?;
                json!({ s.key.clone(): sample(model, &s.ty, depth + 1) })
            }
        },
        Shape::Untagged(variants) => match &variants.get(variant)?.payload {
            UntaggedPayload::Newtype(t) => sample(model, t, depth),
            UntaggedPayload::Fields(fields) => object_sample(model, fields, depth),
        },
    })
}

fn object_sample(model: &Model, fields: &[Field], depth: usize) -> Value {
    let mut obj = Map::new();
    for f in fields {
        let required = matches!(f.mode, Mode::Required | Mode::Nullable);
        match f.mode {
            Mode::Extra => {}
            Mode::Flatten => {
                if let Value::Object(inner) = sample(model, &f.ty, depth) {
                    obj.extend(inner);
                }
            }
            _ if required || depth < DEEP => {
                obj.insert(f.wire.clone(), sample(model, &f.ty, depth + 1));
            }
            _ => {}
        }
    }
    Value::Object(obj)
}

/// A sample value of the named type (a struct: every field it names; a union: its first
/// variant), `None` for a name the schema does not define.
pub fn of(model: &Model, name: &str) -> Option<Value> {
    named_sample(model, name, 0, 0)
}

/// One union's test: `(variant pattern, sample)` for each variant.
fn cases(model: &Model, name: &str) -> Vec<(String, Value)> {
    let Some(def) = model.types.get(name) else {
        return Vec::new();
    };
    let patterns: Vec<String> = match &def.shape {
        Shape::Tagged { variants, .. } => variants
            .iter()
            .map(|v| {
                let pat = if v.payload.is_some() { "(..)" } else { "" };
                format!("{name}::{}{pat}", v.variant)
            })
            .collect(),
        Shape::External { units, structs, .. } => units
            .iter()
            .map(|u| format!("{name}::{}", u.variant))
            .chain(structs.iter().map(|s| format!("{name}::{}(..)", s.variant)))
            .collect(),
        Shape::Untagged(variants) => variants
            .iter()
            .map(|v| match v.payload {
                UntaggedPayload::Newtype(_) => format!("{name}::{}(..)", v.variant),
                UntaggedPayload::Fields(_) => format!("{name}::{} {{ .. }}", v.variant),
            })
            .collect(),
        _ => return Vec::new(),
    };
    patterns
        .into_iter()
        .enumerate()
        .filter_map(|(i, p)| named_sample(model, name, i, 0).map(|s| (p, s)))
        .collect()
}

/// The test module for the unions among `names`.
pub fn union_tests_rs(model: &Model, names: &BTreeSet<String>) -> String {
    let mut s = String::from(super::emit::HEADER);
    s.push_str("\n//! One test per union of the generated types: a sample of each variant, built from the\n//! schema, decodes to that variant.\n\nuse crate::types::*;\n\nfn decode<T: serde::de::DeserializeOwned>(json: &str) -> T {\n    serde_json::from_str(json).unwrap_or_else(|e| panic!(\"{json}: {e}\"))\n}\n\n");
    for name in names {
        let cases = cases(model, name);
        if cases.is_empty() {
            continue;
        }
        let _ = writeln!(s, "#[test]\nfn {}() {{", bare(&snake(name)));
        for (pattern, sample) in cases {
            let _ = writeln!(
                s,
                "    let v: {name} = decode(r#\"{sample}\"#);\n    assert!(matches!(v, {pattern}), \"{{v:?}}\");"
            );
        }
        s.push_str("}\n\n");
    }
    s
}

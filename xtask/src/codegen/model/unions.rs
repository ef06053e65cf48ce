//! Classifying a union schema — `[X, null]`, string enum split per value, internally tagged,
//! strings and single-key objects (externally tagged), untagged — and naming its variants.

use super::builder::Builder;
use super::schema::{const_value, desc, is_null_schema, props, required, string_enum, title};
use super::{
    EnumValue, ExternalVariant, Shape, TaggedVariant, Ty, TypeDef, UntaggedPayload, UntaggedVariant,
};
use crate::codegen::names::pascal;
use anyhow::{Context, Result, bail};
use serde_json::Value;
use std::collections::BTreeSet;

impl Builder<'_> {
    pub(super) fn union_shape(
        &mut self,
        name: &str,
        schema: &Value,
        members: &[Value],
    ) -> Result<Shape> {
        // [X, null] → Option<X>
        let non_null: Vec<&Value> = members.iter().filter(|m| !is_null_schema(m)).collect();
        if non_null.len() == 1 && members.len() == 2 && props(schema).is_none() {
            let (ty, _) = self.ty(non_null[0], name)?;
            return Ok(Shape::Alias(Ty::Opt(Box::new(ty))));
        }
        // string enum split per value (one doc per value)
        if members.iter().all(|m| string_enum(m).is_some()) {
            let mut values = Vec::new();
            for m in members {
                let vals = string_enum(m).unwrap_or_default();
                let doc = if vals.len() == 1 { desc(m) } else { None };
                values.extend(vals.into_iter().map(|v| (v, doc.clone())));
            }
            return Ok(str_enum(values));
        }
        // internally tagged
        if let Some(tag) = find_tag(members) {
            return self.tagged(name, schema, members, &tag);
        }
        // strings and single-key objects (serde's externally tagged layout)
        let is_catch_all = |m: &Value| {
            m.get("type")
                .and_then(Value::as_array)
                .is_some_and(|t| t.iter().any(|x| x == "object"))
                && props(m).is_none()
        };
        let single_key =
            |m: &Value| props(m).is_some_and(|p| p.len() == 1) && required(m).len() == 1;
        if members.iter().any(|m| string_enum(m).is_some())
            && members.iter().any(single_key)
            && members
                .iter()
                .all(|m| string_enum(m).is_some() || single_key(m) || is_catch_all(m))
        {
            return self.external(name, members);
        }
        if props(schema).is_some() {
            bail!("`{name}`: union with sibling properties is not supported");
        }
        self.untagged(name, name, members).map(Shape::Untagged)
    }

    fn tagged(
        &mut self,
        name: &str,
        schema: &Value,
        members: &[Value],
        tag: &str,
    ) -> Result<Shape> {
        let mut taken = BTreeSet::new();
        let mut variants = Vec::new();
        for m in members {
            let wire = props(m)
                .and_then(|p| p.get(tag))
                .and_then(const_value)
                .context("tag value")?;
            let variant = unique_name(pascal(&wire), &mut taken);
            let payload_name = title(m).unwrap_or_else(|| format!("{variant}{name}"));
            let fields = self.fields(&payload_name, m, &[tag], Some(schema))?;
            let payload = if fields.is_empty() {
                None
            } else {
                let n = self.inline_name(&payload_name)?;
                self.add(TypeDef {
                    name: n.clone(),
                    doc: desc(m),
                    shape: Shape::Struct(fields),
                })?;
                Some(n)
            };
            variants.push(TaggedVariant {
                variant,
                wire,
                payload,
                doc: desc(m),
            });
        }
        let unknown = unknown_name(&taken);
        Ok(Shape::Tagged {
            tag: tag.to_string(),
            variants,
            unknown,
        })
    }

    fn external(&mut self, name: &str, members: &[Value]) -> Result<Shape> {
        let mut taken = BTreeSet::new();
        let mut units = Vec::new();
        let mut structs = Vec::new();
        for m in members {
            if let Some(vals) = string_enum(m) {
                let doc = if vals.len() == 1 { desc(m) } else { None };
                for v in vals {
                    units.push(EnumValue {
                        variant: unique_name(pascal(&v), &mut taken),
                        wire: v,
                        doc: doc.clone(),
                    });
                }
            } else if let Some(p) = props(m) {
                let (key, inner) = p.iter().next().context("single key")?;
                let variant = unique_name(pascal(key), &mut taken);
                let hint = title(m).unwrap_or_else(|| format!("{name}{variant}"));
                let (ty, nullable) = self.ty(inner, &hint)?;
                let ty = if nullable { Ty::Opt(Box::new(ty)) } else { ty };
                structs.push(ExternalVariant {
                    variant,
                    key: key.clone(),
                    ty,
                    doc: desc(m).or_else(|| desc(inner)),
                });
            }
        }
        let unknown = unknown_name(&taken);
        Ok(Shape::External {
            units,
            structs,
            unknown,
        })
    }

    /// Variants of an untagged union; `strip` is removed from member titles to name variants.
    pub(super) fn untagged(
        &mut self,
        name: &str,
        strip: &str,
        members: &[Value],
    ) -> Result<Vec<UntaggedVariant>> {
        let mut taken = BTreeSet::new();
        let mut out = Vec::new();
        // required properties unique to one member name untitled object variants
        let all_req: Vec<Vec<String>> = members.iter().map(required).collect();
        for (i, m) in members.iter().enumerate() {
            if props(m).is_some() {
                let base = match title(m) {
                    Some(t) => t
                        .strip_suffix(strip)
                        .filter(|s| !s.is_empty())
                        .unwrap_or(&t)
                        .to_string(),
                    None => {
                        let unique = all_req[i].iter().find(|r| {
                            all_req
                                .iter()
                                .enumerate()
                                .all(|(j, o)| j == i || !o.contains(r))
                        });
                        pascal(unique.map(String::as_str).unwrap_or("Object"))
                    }
                };
                let variant = unique_name(base, &mut taken);
                let fields = self.fields(&format!("{name}{variant}"), m, &[], None)?;
                out.push(UntaggedVariant {
                    variant,
                    payload: UntaggedPayload::Fields(fields),
                    doc: desc(m),
                });
            } else {
                let (ty, nullable) = self.ty(m, &format!("{name}Variant{i}"))?;
                let base = match &ty {
                    Ty::Str => "String".to_string(),
                    Ty::Int(_) => "Integer".to_string(),
                    Ty::F64 => "Number".to_string(),
                    Ty::Bool => "Bool".to_string(),
                    Ty::Vec(_) => "List".to_string(),
                    Ty::Map(_) | Ty::Object => "Object".to_string(),
                    Ty::Named(n) => n.clone(),
                    _ => "Other".to_string(),
                };
                let ty = if nullable { Ty::Opt(Box::new(ty)) } else { ty };
                out.push(UntaggedVariant {
                    variant: unique_name(base, &mut taken),
                    payload: UntaggedPayload::Newtype(ty),
                    doc: desc(m),
                });
            }
        }
        Ok(out)
    }
}

pub(super) fn str_enum(values: Vec<(String, Option<String>)>) -> Shape {
    let mut taken = BTreeSet::new();
    let values: Vec<EnumValue> = values
        .into_iter()
        .map(|(wire, doc)| EnumValue {
            variant: unique_name(pascal(&wire), &mut taken),
            wire,
            doc,
        })
        .collect();
    Shape::StrEnum {
        values,
        unknown: unknown_name(&taken),
    }
}

/// The name of the catch-all variant: `Unknown`, or `Unrecognized` when a real value is `unknown`.
fn unknown_name(taken: &BTreeSet<String>) -> String {
    if taken.contains("Unknown") {
        "Unrecognized".into()
    } else {
        "Unknown".into()
    }
}

/// The longest common suffix of the member titles that is also a suffix of the owner's name
/// family (`UrlUserInput`, `FileIdUserInput` → `UserInput`).
pub(super) fn owner_suffix(_owner: &str, members: &[Value]) -> String {
    let titles: Vec<String> = members.iter().filter_map(title).collect();
    if titles.len() < 2 {
        return String::new();
    }
    let first = &titles[0];
    let mut best = String::new();
    for (i, _) in first.char_indices() {
        let suf = &first[i..];
        if suf.starts_with(|c: char| c.is_ascii_uppercase())
            && titles
                .iter()
                .all(|t| t.ends_with(suf) && t.len() > suf.len())
        {
            best = suf.to_string();
            break;
        }
    }
    best
}

/// The discriminator of an internally tagged union: a property present in every member as a
/// required single-valued string enum, with distinct values.
fn find_tag(members: &[Value]) -> Option<String> {
    let first = props(members.first()?)?;
    let mut candidates: Vec<&String> = first.keys().collect();
    let order = ["type", "method", "kind", "handlerType", "mode"];
    candidates.sort_by_key(|k| order.iter().position(|o| o == k).unwrap_or(order.len()));
    'cand: for c in candidates {
        let mut seen = BTreeSet::new();
        for m in members {
            let Some(v) = props(m)
                .and_then(|p| p.get(c.as_str()))
                .and_then(const_value)
            else {
                continue 'cand;
            };
            if !required(m).contains(c) || !seen.insert(v) {
                continue 'cand;
            }
        }
        return Some(c.clone());
    }
    None
}

fn unique_name(base: String, taken: &mut BTreeSet<String>) -> String {
    let mut name = base.clone();
    let mut n = 2;
    while !taken.insert(name.clone()) {
        name = format!("{base}{n}");
        n += 1;
    }
    name
}

//! The builder of the model: one definition at a time, into a [`Shape`]; an object's fields and
//! their [`Mode`]s; the [`Ty`] of a field or item schema, naming and defining inline types.

use super::schema::{desc, is_null_schema, is_patch, props, required, string_enum, union_members};
use super::unions::{owner_suffix, str_enum};
use super::{Field, Mode, Shape, Ty, TypeDef};
use crate::codegen::load::ref_name;
use crate::codegen::names::{pascal, snake};
use anyhow::{Result, bail};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// The schema's definitions (to keep inline names clear of them) and the types built so far.
pub(super) struct Builder<'a> {
    defs: &'a BTreeMap<String, Value>,
    pub(super) types: BTreeMap<String, TypeDef>,
}

impl<'a> Builder<'a> {
    pub(super) fn new(defs: &'a BTreeMap<String, Value>) -> Self {
        Builder {
            defs,
            types: BTreeMap::new(),
        }
    }

    pub(super) fn add(&mut self, td: TypeDef) -> Result<()> {
        if self.types.contains_key(&td.name) {
            bail!("two generated types are named `{}`", td.name);
        }
        self.types.insert(td.name.clone(), td);
        Ok(())
    }

    /// A name for an inline type: `preferred` unless a definition or generated type has it.
    pub(super) fn inline_name(&self, preferred: &str) -> Result<String> {
        if self.types.contains_key(preferred) || self.defs.contains_key(preferred) {
            bail!("inline type name `{preferred}` collides with another type");
        }
        Ok(preferred.to_string())
    }

    pub(super) fn define(&mut self, name: &str, schema: &Value) -> Result<()> {
        let doc = desc(schema);
        let shape = self.shape(name, schema)?;
        self.add(TypeDef {
            name: name.to_string(),
            doc,
            shape,
        })
    }

    fn shape(&mut self, name: &str, schema: &Value) -> Result<Shape> {
        if let Some((_, members)) = union_members(schema) {
            return self.union_shape(name, schema, members);
        }
        if let Some(vals) = string_enum(schema) {
            return Ok(str_enum(vals.into_iter().map(|v| (v, None)).collect()));
        }
        if props(schema).is_some() {
            let fields = self.fields(name, schema, &[], None)?;
            return Ok(Shape::Struct(fields));
        }
        // `{"type": "object"}` alone is what schemars emits for a struct without fields.
        if schema.get("type").and_then(Value::as_str) == Some("object")
            && !matches!(
                schema.get("additionalProperties"),
                Some(Value::Object(_) | Value::Bool(true))
            )
        {
            return Ok(Shape::Struct(Vec::new()));
        }
        let (ty, nullable) = self.ty(schema, name)?;
        Ok(Shape::Alias(if nullable {
            Ty::Opt(Box::new(ty))
        } else {
            ty
        }))
    }

    /// The fields of an object schema (plus the `shared` union's sibling properties), minus
    /// `skip`; an inner `anyOf` of alternative field sets becomes a flattened untagged enum.
    pub(super) fn fields(
        &mut self,
        owner: &str,
        schema: &Value,
        skip: &[&str],
        shared: Option<&Value>,
    ) -> Result<Vec<Field>> {
        let mut all: BTreeMap<String, Value> = BTreeMap::new();
        let mut req: BTreeSet<String> = BTreeSet::new();
        for s in shared.into_iter().chain(std::iter::once(schema)) {
            if let Some(p) = props(s) {
                for (k, v) in p {
                    all.insert(k.clone(), v.clone());
                }
            }
            req.extend(required(s));
        }
        let mut fields = Vec::new();
        let mut idents = BTreeSet::new();
        for (wire, p) in &all {
            if skip.contains(&wire.as_str()) {
                continue;
            }
            let (ty, nullable) = self.ty(p, &format!("{owner}{}", pascal(wire)))?;
            let default = p.get("default");
            let mode = match (req.contains(wire), nullable) {
                (true, false) => Mode::Required,
                (true, true) => Mode::Nullable,
                (false, false)
                    if matches!(ty, Ty::Vec(_)) && default == Some(&Value::Array(vec![])) =>
                {
                    Mode::DefaultVec
                }
                (false, false) if ty == Ty::Bool && default == Some(&Value::Bool(false)) => {
                    Mode::DefaultFalse
                }
                (false, true) if is_patch(p) => Mode::Patch,
                (false, _) => Mode::Optional,
            };
            let ident = snake(wire);
            if !idents.insert(ident.clone()) {
                bail!("`{owner}`: two fields map to `{ident}`");
            }
            let doc = desc(p).or_else(|| {
                p.get("allOf")
                    .and_then(Value::as_array)
                    .and_then(|a| a.first())
                    .and_then(desc)
            });
            fields.push(Field {
                wire: wire.clone(),
                ident,
                ty,
                mode,
                doc,
            });
        }
        let extra = match schema.get("additionalProperties") {
            Some(Value::Bool(true)) => Some(Ty::Object),
            Some(ap @ Value::Object(_)) if props(schema).is_some() => {
                let (vt, n) = self.ty(ap, &format!("{owner}Value"))?;
                Some(Ty::Map(Box::new(if n {
                    Ty::Opt(Box::new(vt))
                } else {
                    vt
                })))
            }
            _ => None,
        };
        if let Some(ty) = extra.filter(|_| props(schema).is_some()) {
            if !idents.insert("additional_properties".into()) {
                bail!("`{owner}`: a field is already named `additional_properties`");
            }
            fields.push(Field {
                wire: String::new(),
                ident: "additional_properties".into(),
                ty,
                mode: Mode::Extra,
                doc: Some(
                    "The fields the schema does not name (it allows any: `additionalProperties`), as they came."
                        .into(),
                ),
            });
        }
        if let Some(inner) = schema.get("anyOf").and_then(Value::as_array) {
            if props(schema).is_none() {
                bail!("`{owner}`: anyOf inside an object without properties");
            }
            let enum_name = self.inline_name(&format!("{owner}Source"))?;
            let strip = owner_suffix(owner, inner);
            let variants = self.untagged(&enum_name, &strip, inner)?;
            self.add(TypeDef {
                name: enum_name.clone(),
                doc: Some(format!("The alternative fields of [`{owner}`].")),
                shape: Shape::Untagged(variants),
            })?;
            if !idents.insert("source".into()) {
                bail!("`{owner}`: a field is already named `source`");
            }
            fields.push(Field {
                wire: String::new(),
                ident: "source".into(),
                ty: Ty::Named(enum_name),
                mode: Mode::Flatten,
                doc: None,
            });
        }
        Ok(fields)
    }

    /// The Rust type of a schema used in a field/item position, and whether it is nullable.
    pub(super) fn ty(&mut self, schema: &Value, hint: &str) -> Result<(Ty, bool)> {
        let o = match schema {
            Value::Bool(true) => return Ok((Ty::Any, false)),
            Value::Object(o) => o,
            other => bail!("unsupported schema {other}"),
        };
        if let Some(r) = o.get("$ref").and_then(Value::as_str) {
            return Ok((Ty::Named(ref_name(r)?.to_string()), false));
        }
        if let Some(all) = o.get("allOf").and_then(Value::as_array) {
            if all.len() != 1 {
                bail!("allOf with {} members", all.len());
            }
            return self.ty(&all[0], hint);
        }
        if let Some((_, members)) = union_members(schema) {
            let non_null: Vec<&Value> = members.iter().filter(|m| !is_null_schema(m)).collect();
            let nullable = non_null.len() < members.len();
            if non_null.len() == 1 && props(schema).is_none() {
                let (t, n) = self.ty(non_null[0], hint)?;
                return Ok((t, nullable || n));
            }
            let mut copy = schema.clone();
            if nullable {
                let key = if o.contains_key("oneOf") {
                    "oneOf"
                } else {
                    "anyOf"
                };
                copy[key] = Value::Array(non_null.into_iter().cloned().collect());
            }
            let name = self.inline_name(hint)?;
            self.define(&name, &copy)?;
            return Ok((Ty::Named(name), nullable));
        }
        let types: Vec<&str> = match o.get("type") {
            Some(Value::String(s)) => vec![s.as_str()],
            Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        let mut nullable = types.contains(&"null");
        if let Some(vals) = string_enum(schema) {
            nullable |= o
                .get("enum")
                .and_then(Value::as_array)
                .is_some_and(|a| a.iter().any(Value::is_null));
            let name = self.inline_name(hint)?;
            self.add(TypeDef {
                name: name.clone(),
                doc: desc(schema),
                shape: str_enum(vals.into_iter().map(|v| (v, None)).collect()),
            })?;
            return Ok((Ty::Named(name), nullable));
        }
        let non_null: Vec<&str> = types.iter().copied().filter(|t| *t != "null").collect();
        let t = match non_null.as_slice() {
            [] if types.is_empty() && props(schema).is_some() => "object",
            [] if types.is_empty() => return Ok((Ty::Any, false)),
            [] => return Ok((Ty::Unit, false)),
            [one] => *one,
            _ => return Ok((Ty::Any, nullable)),
        };
        let ty = match t {
            "string" => Ty::Str,
            "boolean" => Ty::Bool,
            "number" => Ty::F64,
            "integer" => Ty::Int(match o.get("format").and_then(Value::as_str) {
                Some("int32") => "i32",
                Some("uint16") => "u16",
                Some("uint32") => "u32",
                Some("uint64" | "uint") => "u64",
                _ => "i64",
            }),
            "array" => match o.get("items") {
                Some(items) => {
                    let (it, n) = self.ty(items, &format!("{hint}Item"))?;
                    Ty::Vec(Box::new(if n { Ty::Opt(Box::new(it)) } else { it }))
                }
                None => Ty::Vec(Box::new(Ty::Any)),
            },
            "object" => {
                if props(schema).is_some_and(|p| !p.is_empty()) {
                    let name = self.inline_name(hint)?;
                    let mut copy = schema.clone();
                    if let Some(m) = copy.as_object_mut() {
                        m.insert("type".into(), Value::String("object".into()));
                    }
                    self.define(&name, &copy)?;
                    Ty::Named(name)
                } else {
                    match o.get("additionalProperties") {
                        Some(ap @ Value::Object(_)) => {
                            let (vt, n) = self.ty(ap, &format!("{hint}Value"))?;
                            Ty::Map(Box::new(if n { Ty::Opt(Box::new(vt)) } else { vt }))
                        }
                        _ => Ty::Object,
                    }
                }
            }
            other => bail!("unsupported type `{other}`"),
        };
        Ok((ty, nullable))
    }
}

//! The generator's model: every schema definition (and every inline object/enum/union that
//! needs a name) classified into one Rust shape — struct, string enum, internally tagged union,
//! string-or-single-key-object union, untagged union, or alias.

use super::load::{self, Input, ref_name};
use super::names::{is_type_ident, pascal, snake};
use anyhow::{Context, Result, bail};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, PartialEq)]
pub enum Ty {
    Any,
    Unit,
    Bool,
    Str,
    Int(&'static str),
    F64,
    Named(String),
    Vec(Box<Ty>),
    Map(Box<Ty>),
    Object,
    Opt(Box<Ty>),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Mode {
    /// Required, not nullable: `T`.
    Required,
    /// Required but nullable: `Option<T>`, always serialized (`null`).
    Nullable,
    /// Optional (nullable or not): `Option<T>`, omitted when `None`.
    Optional,
    /// Optional array defaulting to `[]`: `Vec<T>`, omitted when empty.
    DefaultVec,
    /// Optional bool defaulting to `false`: `bool`, omitted when false.
    DefaultFalse,
    /// An inner `anyOf` of alternative field sets: `#[serde(flatten)]`.
    Flatten,
    /// Optional and nullable in a patch-style params type where absent and `null` differ
    /// ("Omit to leave ... unchanged, set to `null` to clear"): `Option<Option<T>>`.
    Patch,
    /// The object's `additionalProperties`: the keys the schema does not name, in a map
    /// (`#[serde(flatten)]`), so that none is lost.
    Extra,
}

#[derive(Debug, Clone)]
pub struct Field {
    pub wire: String,
    pub ident: String,
    pub ty: Ty,
    pub mode: Mode,
    pub doc: Option<String>,
}

#[derive(Debug, Clone)]
pub struct EnumValue {
    pub variant: String,
    pub wire: String,
    pub doc: Option<String>,
}

#[derive(Debug, Clone)]
pub struct TaggedVariant {
    pub variant: String,
    pub wire: String,
    /// The payload struct (fields other than the tag); `None` for a tag-only variant.
    pub payload: Option<String>,
    pub doc: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ExternalVariant {
    pub variant: String,
    pub key: String,
    pub ty: Ty,
    pub doc: Option<String>,
}

#[derive(Debug, Clone)]
pub enum UntaggedPayload {
    Newtype(Ty),
    Fields(Vec<Field>),
}

#[derive(Debug, Clone)]
pub struct UntaggedVariant {
    pub variant: String,
    pub payload: UntaggedPayload,
    pub doc: Option<String>,
}

#[derive(Debug, Clone)]
pub enum Shape {
    Struct(Vec<Field>),
    StrEnum {
        values: Vec<EnumValue>,
        unknown: String,
    },
    Tagged {
        tag: String,
        variants: Vec<TaggedVariant>,
        unknown: String,
    },
    External {
        units: Vec<EnumValue>,
        structs: Vec<ExternalVariant>,
        unknown: String,
    },
    Untagged(Vec<UntaggedVariant>),
    Alias(Ty),
}

#[derive(Debug, Clone)]
pub struct TypeDef {
    pub name: String,
    pub doc: Option<String>,
    pub shape: Shape,
}

pub struct Model {
    pub types: BTreeMap<String, TypeDef>,
    pub input: Input,
}

impl Model {
    /// Follows aliases to the underlying type.
    pub fn resolve<'a>(&'a self, ty: &'a Ty) -> &'a Ty {
        let mut t = ty;
        for _ in 0..16 {
            match t {
                Ty::Named(n) => match self.types.get(n).map(|d| &d.shape) {
                    Some(Shape::Alias(inner)) => t = inner,
                    _ => return t,
                },
                _ => return t,
            }
        }
        t
    }

    /// A rough size in bytes of the Rust value of `ty` (x86_64 layout, ignoring niches and
    /// padding subtleties). Only used to decide which variants of the big routed enums to box,
    /// so that one large payload does not make every value of the enum large.
    pub fn approx_size(&self, ty: &Ty) -> usize {
        self.approx_size_at(ty, 0)
    }

    fn approx_size_at(&self, ty: &Ty, depth: usize) -> usize {
        if depth > 12 {
            return 8; // deep enough to be behind a pointer in practice
        }
        match ty {
            Ty::Unit => 0,
            Ty::Bool => 1,
            Ty::Int(_) | Ty::F64 => 8,
            Ty::Str | Ty::Vec(_) | Ty::Object => 24,
            Ty::Any => 32,
            Ty::Map(_) => 48,
            Ty::Opt(inner) => self.approx_size_at(inner, depth + 1) + 8,
            Ty::Named(name) => self.named_size(name, depth + 1),
        }
    }

    fn named_size(&self, name: &str, depth: usize) -> usize {
        let Some(def) = self.types.get(name) else {
            return 24;
        };
        let fields_size = |fields: &[Field]| -> usize {
            fields
                .iter()
                .map(|f| match f.mode {
                    Mode::Required => self.approx_size_at(&f.ty, depth),
                    Mode::Nullable | Mode::Optional | Mode::Patch => {
                        self.approx_size_at(&f.ty, depth) + 8
                    }
                    Mode::DefaultVec => 24,
                    Mode::DefaultFalse => 1,
                    Mode::Flatten => self.approx_size_at(&f.ty, depth),
                    Mode::Extra => 48,
                })
                .sum()
        };
        match &def.shape {
            Shape::Struct(fields) => fields_size(fields),
            Shape::StrEnum { .. } => 24,
            Shape::Tagged { variants, .. } => {
                let largest = variants
                    .iter()
                    .filter_map(|v| v.payload.as_deref())
                    .map(|p| self.named_size(p, depth + 1))
                    .max()
                    .unwrap_or(0);
                largest.max(24) + 8
            }
            Shape::External { structs, .. } => {
                let largest = structs
                    .iter()
                    .map(|v| self.approx_size_at(&v.ty, depth + 1))
                    .max()
                    .unwrap_or(0);
                largest.max(24) + 8
            }
            Shape::Untagged(variants) => {
                let largest = variants
                    .iter()
                    .map(|v| match &v.payload {
                        UntaggedPayload::Newtype(t) => self.approx_size_at(t, depth + 1),
                        UntaggedPayload::Fields(f) => fields_size(f),
                    })
                    .max()
                    .unwrap_or(0);
                largest.max(32) + 8
            }
            Shape::Alias(inner) => self.approx_size_at(inner, depth),
        }
    }

    pub fn struct_fields(&self, name: &str) -> Option<&[Field]> {
        match &self.types.get(name)?.shape {
            Shape::Struct(f) => Some(f),
            Shape::Alias(Ty::Named(n)) => self.struct_fields(n),
            _ => None,
        }
    }
}

struct Builder<'a> {
    defs: &'a BTreeMap<String, Value>,
    types: BTreeMap<String, TypeDef>,
}

pub fn build(input: Input) -> Result<Model> {
    let mut b = Builder {
        defs: &input.defs,
        types: BTreeMap::new(),
    };
    for (name, def) in &input.defs {
        if load::ENVELOPE_DEFS.contains(&name.as_str()) || name == "RequestId" {
            continue;
        }
        if !is_type_ident(name) {
            bail!("definition name `{name}` is not a Rust type name");
        }
        b.define(name, def)
            .with_context(|| format!("definition `{name}`"))?;
    }
    let types = b.types;
    // Every reference must resolve.
    for td in types.values() {
        for r in refs(td) {
            if r != "RequestId" && !types.contains_key(&r) {
                bail!("`{}` refers to `{r}`, which is not generated", td.name);
            }
        }
    }
    Ok(Model { types, input })
}

/// Named types a type definition refers to.
pub fn refs(td: &TypeDef) -> Vec<String> {
    let mut out = Vec::new();
    fn ty(t: &Ty, out: &mut Vec<String>) {
        match t {
            Ty::Named(n) => out.push(n.clone()),
            Ty::Vec(i) | Ty::Map(i) | Ty::Opt(i) => ty(i, out),
            _ => {}
        }
    }
    match &td.shape {
        Shape::Struct(fields) => fields.iter().for_each(|f| ty(&f.ty, &mut out)),
        Shape::StrEnum { .. } => {}
        Shape::Tagged { variants, .. } => {
            out.extend(variants.iter().filter_map(|v| v.payload.clone()))
        }
        Shape::External { structs, .. } => structs.iter().for_each(|s| ty(&s.ty, &mut out)),
        Shape::Untagged(vs) => {
            for v in vs {
                match &v.payload {
                    UntaggedPayload::Newtype(t) => ty(t, &mut out),
                    UntaggedPayload::Fields(fs) => fs.iter().for_each(|f| ty(&f.ty, &mut out)),
                }
            }
        }
        Shape::Alias(t) => ty(t, &mut out),
    }
    out
}

fn desc(v: &Value) -> Option<String> {
    v.get("description")
        .and_then(Value::as_str)
        .map(str::to_string)
        .filter(|s| !s.trim().is_empty())
}

fn title(v: &Value) -> Option<String> {
    v.get("title")
        .and_then(Value::as_str)
        .filter(|t| is_type_ident(t))
        .map(str::to_string)
}

fn union_members(v: &Value) -> Option<(&'static str, &Vec<Value>)> {
    if let Some(a) = v.get("oneOf").and_then(Value::as_array) {
        return Some(("oneOf", a));
    }
    v.get("anyOf")
        .and_then(Value::as_array)
        .map(|a| ("anyOf", a))
}

fn is_null_schema(v: &Value) -> bool {
    v.get("type").and_then(Value::as_str) == Some("null")
        && v.as_object().is_some_and(|o| o.len() == 1)
}

/// The string values of an `enum` schema (nulls dropped), if it is one.
fn string_enum(v: &Value) -> Option<Vec<String>> {
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

fn props(v: &Value) -> Option<&Map<String, Value>> {
    v.get("properties").and_then(Value::as_object)
}

fn required(v: &Value) -> Vec<String> {
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
fn const_value(v: &Value) -> Option<String> {
    let vals = string_enum(v)?;
    (vals.len() == 1).then(|| vals[0].clone())
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

impl Builder<'_> {
    fn add(&mut self, td: TypeDef) -> Result<()> {
        if self.types.contains_key(&td.name) {
            bail!("two generated types are named `{}`", td.name);
        }
        self.types.insert(td.name.clone(), td);
        Ok(())
    }

    /// A name for an inline type: `preferred` unless a definition or generated type has it.
    fn inline_name(&self, preferred: &str) -> Result<String> {
        if self.types.contains_key(preferred) || self.defs.contains_key(preferred) {
            bail!("inline type name `{preferred}` collides with another type");
        }
        Ok(preferred.to_string())
    }

    fn define(&mut self, name: &str, schema: &Value) -> Result<()> {
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

    fn union_shape(&mut self, name: &str, schema: &Value, members: &[Value]) -> Result<Shape> {
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
    fn untagged(
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

    /// The fields of an object schema (plus the `shared` union's sibling properties), minus
    /// `skip`; an inner `anyOf` of alternative field sets becomes a flattened untagged enum.
    fn fields(
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
    fn ty(&mut self, schema: &Value, hint: &str) -> Result<(Ty, bool)> {
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

fn str_enum(values: Vec<(String, Option<String>)>) -> Shape {
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
fn owner_suffix(_owner: &str, members: &[Value]) -> String {
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

/// A patch-style field: its description says that omitting it and sending `null` differ.
fn is_patch(p: &Value) -> bool {
    desc(p).is_some_and(|d| d.starts_with("Omit") && d.contains("`null` to clear"))
}

//! The generator's model: every schema definition (and every inline object/enum/union that
//! needs a name) classified into one Rust shape — struct, string enum, internally tagged union,
//! string-or-single-key-object union, untagged union, or alias.
//!
//! | module | owns |
//! |---|---|
//! | this one | the model's types ([`Ty`], [`Mode`], [`Field`], [`Shape`], [`TypeDef`], [`Model`]), [`build`], [`refs`] |
//! | `schema` | reading a JSON-schema node: description, title, union members, string enums, properties |
//! | `builder` | the `Builder`: definitions, objects' fields, field/item types, inline type names |
//! | `unions` | classifying a union (option, string enum, internally/externally tagged, untagged), variant names |
//! | `size` | the approximate in-memory size of a type, which decides what the routed enums box |

mod builder;
mod schema;
mod size;
mod unions;

use super::load::{self, Input};
use super::names::is_type_ident;
use anyhow::{Context, Result, bail};
use builder::Builder;
use std::collections::BTreeMap;

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

    pub fn struct_fields(&self, name: &str) -> Option<&[Field]> {
        match &self.types.get(name)?.shape {
            Shape::Struct(f) => Some(f),
            Shape::Alias(Ty::Named(n)) => self.struct_fields(n),
            _ => None,
        }
    }
}

pub fn build(input: Input) -> Result<Model> {
    let mut b = Builder::new(&input.defs);
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

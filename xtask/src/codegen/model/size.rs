//! The approximate in-memory size of a model type, used only to decide which variants of the
//! big routed enums to box.

use super::{Field, Mode, Model, Shape, Ty, UntaggedPayload};

impl Model {
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
}

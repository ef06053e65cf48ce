//! One method's twin: the async signature resolved and mapped to the blocking one (a wrapped
//! type in the output becomes its twin: [`Conv`]), and the body that forwards the arguments and
//! blocks on the client's runtime when the method is async.

use super::docs::{docs, prefix_space};
use super::{Found, Gen, path_tokens};
use crate::codegen::blocking::Kind;
use crate::codegen::blocking::source::SourceFile;
use anyhow::{Result, bail};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use std::collections::HashSet;
use std::fmt::Write;
use syn::visit_mut::VisitMut;

/// How a value of an async type becomes the blocking one.
pub(super) enum Conv {
    Same,
    Wrap {
        name: syn::Ident,
        kind: Kind,
    },
    /// `Result<T>` / `Option<T>`: `.map` over the `T`.
    Map(Box<Conv>),
    Vec(Box<Conv>),
}

impl Gen<'_> {
    fn wrapped_of(&self, path: &syn::Path, current: &Found<'_>) -> Option<(syn::Ident, Kind)> {
        let names: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        if names == ["Self"] {
            return Some((format_ident!("Self"), current.wrapped.kind));
        }
        self.found.iter().find_map(|f| {
            let root_alias = ["crate".to_owned(), f.wrapped.name.to_owned()];
            (names == f.path || names == root_alias)
                .then(|| (format_ident!("{}", f.wrapped.name), f.wrapped.kind))
        })
    }

    fn mentions_wrapped(&self, ty: &syn::Type, current: &Found<'_>) -> bool {
        struct Seek<'a, 'k> {
            generator: &'a Gen<'k>,
            current: &'a Found<'a>,
            hit: bool,
        }
        impl VisitMut for Seek<'_, '_> {
            fn visit_path_mut(&mut self, path: &mut syn::Path) {
                if self.generator.wrapped_of(path, self.current).is_some() {
                    self.hit = true;
                }
                syn::visit_mut::visit_path_mut(self, path);
            }
        }
        let mut seek = Seek {
            generator: self,
            current,
            hit: false,
        };
        seek.visit_type_mut(&mut ty.clone());
        seek.hit
    }

    /// The conversion of a (resolved) async type, and the blocking type.
    pub(super) fn conv(&self, ty: &syn::Type, current: &Found<'_>) -> Result<(Conv, syn::Type)> {
        if let syn::Type::Path(p) = ty
            && p.qself.is_none()
        {
            if let Some((name, kind)) = self.wrapped_of(&p.path, current) {
                let last = p.path.segments.last().expect("a segment");
                let mut segment = last.clone();
                segment.ident = name.clone();
                let blocking = syn::Type::Path(syn::TypePath {
                    qself: None,
                    path: segment.into(),
                });
                return Ok((Conv::Wrap { name, kind }, blocking));
            }
            let last = p.path.segments.last().expect("a segment");
            let outer = last.ident.to_string();
            if matches!(outer.as_str(), "Result" | "Option" | "Vec")
                && let syn::PathArguments::AngleBracketed(args) = &last.arguments
                && let Some(syn::GenericArgument::Type(inner)) = args.args.first()
            {
                let (conv, blocking_inner) = self.conv(inner, current)?;
                if matches!(conv, Conv::Same) {
                    return Ok((Conv::Same, ty.clone()));
                }
                let mut blocking = p.clone();
                let segment = blocking.path.segments.last_mut().expect("a segment");
                if let syn::PathArguments::AngleBracketed(args) = &mut segment.arguments {
                    args.args[0] = syn::GenericArgument::Type(blocking_inner);
                }
                let conv = if outer == "Vec" {
                    Conv::Vec(Box::new(conv))
                } else {
                    Conv::Map(Box::new(conv))
                };
                return Ok((conv, syn::Type::Path(blocking)));
            }
        }
        if self.mentions_wrapped(ty, current) {
            bail!(
                "`{}` holds a wrapped type in a way the generator does not map (only `W`, `Result<W>`, `Option<W>`, `Vec<W>` are)",
                quote!(#ty)
            );
        }
        Ok((Conv::Same, ty.clone()))
    }

    pub(super) fn emit_method(
        &self,
        f: &Found<'_>,
        file: &SourceFile,
        imp: &syn::ItemImpl,
        method: &syn::ImplItemFn,
        generics: &HashSet<String>,
    ) -> Result<String> {
        let _ = imp;
        let mut sig = method.sig.clone();
        self.krate.resolve_in(file, generics, &mut sig);
        for input in &mut sig.inputs {
            if let syn::FnArg::Receiver(receiver) = input
                && receiver.reference.is_none()
            {
                receiver.mutability = None;
            }
        }
        let is_async = sig.asyncness.take().is_some();
        let name = &sig.ident;
        // Arguments: forwarded by name.
        let mut args = Vec::new();
        let mut impl_trait_arg = false;
        for input in &mut sig.inputs {
            let syn::FnArg::Typed(typed) = input else {
                continue;
            };
            let syn::Pat::Ident(ident) = &mut *typed.pat else {
                bail!("an argument that is not a plain name");
            };
            ident.mutability = None;
            if self.mentions_wrapped(&typed.ty, f) {
                bail!("an argument of a wrapped type");
            }
            if matches!(*typed.ty, syn::Type::ImplTrait(_)) {
                impl_trait_arg = true;
            }
            args.push(ident.ident.clone());
        }
        let type_params: Vec<TokenStream> = sig
            .generics
            .params
            .iter()
            .filter_map(|p| match p {
                syn::GenericParam::Type(t) => {
                    let i = &t.ident;
                    Some(quote!(#i))
                }
                syn::GenericParam::Const(c) => {
                    let i = &c.ident;
                    Some(quote!(#i))
                }
                syn::GenericParam::Lifetime(_) => None,
            })
            .collect();
        let turbofish = if type_params.is_empty() || impl_trait_arg {
            quote!()
        } else {
            quote!(::<#(#type_params),*>)
        };
        let (conv, blocking_output) = match &sig.output {
            syn::ReturnType::Default => (Conv::Same, None),
            syn::ReturnType::Type(_, ty) => {
                let (conv, blocking) = self.conv(ty, f)?;
                (conv, Some(blocking))
            }
        };
        if let Some(ty) = blocking_output {
            sig.output = syn::ReturnType::Type(Default::default(), Box::new(ty));
        }
        let kind = f.wrapped.kind;
        let receiver = sig.receiver().map(|r| r.reference.is_some());
        let async_path = path_tokens(&f.path);
        let (prelude, call, runtime, shared) = match (receiver, kind) {
            (None, _) => (
                quote!(),
                quote!(#async_path::#name #turbofish (#(#args),*)),
                None,
                None,
            ),
            (Some(true), Kind::Root) => (
                quote!(),
                quote!(self.inner.#name #turbofish (#(#args),*)),
                None,
                None,
            ),
            (Some(false), Kind::Root) => (
                quote!(let Self { inner } = self;),
                quote!(inner.#name #turbofish (#(#args),*)),
                None,
                None,
            ),
            (Some(true), _) => (
                quote!(),
                quote!(self.inner.#name #turbofish (#(#args),*)),
                Some(quote!(self.shared)),
                Some(if kind == Kind::Owned {
                    quote!(&self.shared)
                } else {
                    quote!(self.shared)
                }),
            ),
            (Some(false), _) => (
                quote!(let Self { inner, shared } = self;),
                quote!(inner.#name #turbofish (#(#args),*)),
                Some(quote!(shared)),
                Some(if kind == Kind::Owned {
                    quote!(&shared)
                } else {
                    quote!(shared)
                }),
            ),
        };
        let body = match (is_async, runtime) {
            (true, Some(runtime)) => apply(&conv, quote!(#runtime.wait(#call)), shared.as_ref())?,
            (true, None) => {
                // No runtime yet: this call makes the client (`Codex::spawn`, a builder's end).
                let Conv::Map(inner) = &conv else {
                    bail!(
                        "an async call that makes no runtime must return `Result<W>` of a wrapped type"
                    );
                };
                let wrapped = apply(inner, quote!(inner), Some(&quote!(&shared)))?;
                quote!(ClientRuntime::start(#call).map(|(inner, shared)| #wrapped))
            }
            (false, _) => apply(&conv, call, shared.as_ref())?,
        };
        let mut text = String::new();
        let mut doc = docs(self, f, file, &method.attrs);
        doc.push(String::new());
        let see = format!("{}::{}", f.path.join("::"), name);
        doc.push(if is_async {
            format!("Blocks the calling thread until [`{see}`] completes, which runs on the client's runtime.")
        } else {
            format!("Does not block: [`{see}`] as is.")
        });
        for line in &doc {
            writeln!(text, "///{}", prefix_space(line))?;
        }
        let attrs = method.attrs.iter().filter(|a| {
            a.path().is_ident("cfg")
                || a.path().is_ident("must_use")
                || a.path().is_ident("deprecated")
        });
        let tokens = quote! {
            #(#attrs)*
            pub #sig {
                #prelude
                #body
            }
        };
        writeln!(text, "{tokens}\n")?;
        Ok(text)
    }
}

pub(super) fn apply(
    conv: &Conv,
    expr: TokenStream,
    shared: Option<&TokenStream>,
) -> Result<TokenStream> {
    Ok(match conv {
        Conv::Same => expr,
        Conv::Wrap { name, kind } => match (kind, shared) {
            (Kind::Root, _) => quote!(#name::wrap(#expr)),
            (_, Some(shared)) => quote!(#name::wrap(#expr, #shared)),
            (_, None) => bail!("returns a `{name}` but has no runtime to give it"),
        },
        Conv::Map(inner) => {
            let inner = apply(inner, quote!(v), shared)?;
            quote!(#expr.map(|v| #inner))
        }
        Conv::Vec(inner) => {
            let inner = apply(inner, quote!(v), shared)?;
            quote!(#expr.into_iter().map(|v| #inner).collect())
        }
    })
}

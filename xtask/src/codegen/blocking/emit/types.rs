//! One wrapped type's twin: the struct (holding the async value and the runtime), `Debug`,
//! `wrap`, one `impl` per async inherent `impl` with its mirrored methods, and an `Iterator`
//! when the async type is a `Stream`.

use super::docs::{docs, prefix_space};
use super::methods::{Conv, apply};
use super::{Found, Gen, path_tokens, type_name};
use crate::codegen::blocking::source::{SourceFile, generic_names};
use crate::codegen::blocking::{Exception, HandWritten, Kind};
use anyhow::{Context, Result, bail};
use quote::{format_ident, quote};
use std::collections::HashSet;
use std::fmt::Write;

impl Gen<'_> {
    pub(super) fn emit_type(
        &self,
        f: &Found<'_>,
        exceptions: &[(&str, &str, Exception)],
        hand: &HandWritten,
        out: &mut String,
        generated: &mut Vec<(String, String)>,
        used_exceptions: &mut HashSet<(String, String)>,
    ) -> Result<()> {
        let name = format_ident!("{}", f.wrapped.name);
        let async_path = path_tokens(&f.path);
        let generics = &f.def.generics;
        let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
        let async_ty = quote!(#async_path #ty_generics);
        let cfgs: Vec<&syn::Attribute> = f
            .file
            .cfgs
            .iter()
            .chain(f.def.attrs.iter().filter(|a| a.path().is_ident("cfg")))
            .collect();
        let (clone, copy) = derives(f);
        let shared_field = match f.wrapped.kind {
            Kind::Owned => quote!(pub(super) shared: Arc<ClientRuntime>,),
            Kind::Borrowed => {
                let Some(lifetime) = generics.lifetimes().next() else {
                    bail!(
                        "`{}` is marked borrowed but has no lifetime",
                        f.wrapped.name
                    );
                };
                let lifetime = &lifetime.lifetime;
                quote!(pub(super) shared: &#lifetime Arc<ClientRuntime>,)
            }
            Kind::Root => quote!(),
        };
        let derive = match (clone, copy) {
            (true, true) if f.wrapped.kind != Kind::Owned => quote!(#[derive(Clone, Copy)]),
            (true, _) => quote!(#[derive(Clone)]),
            _ => quote!(),
        };
        if !hand.examples.iter().any(|e| e == f.wrapped.name) {
            bail!(
                "the blocking `{}` has no example: add an arm `({}) => ...` to src/blocking/examples.rs",
                f.wrapped.name,
                f.wrapped.name
            );
        }
        let mut doc = docs(self, f, f.file, &f.def.attrs);
        doc.push(String::new());
        doc.push(format!(
            "The blocking twin of [`{}`]: the same calls, each run to completion on the client's runtime.",
            f.path.join("::")
        ));
        for line in &doc {
            writeln!(out, "///{}", prefix_space(line))?;
        }
        writeln!(out, "#[doc = example!({})]", f.wrapped.name)?;
        let (wrap_param, wrap_value) = match f.wrapped.kind {
            Kind::Owned => (
                quote!(, shared: &Arc<ClientRuntime>),
                quote!(shared: shared.clone(),),
            ),
            Kind::Borrowed => {
                let lifetime = &generics.lifetimes().next().expect("checked").lifetime;
                (
                    quote!(, shared: &#lifetime Arc<ClientRuntime>),
                    quote!(shared,),
                )
            }
            Kind::Root => (quote!(), quote!()),
        };
        let tokens = quote! {
            #(#cfgs)*
            #derive
            pub struct #name #impl_generics #where_clause {
                pub(super) inner: #async_ty,
                #shared_field
            }

            #(#cfgs)*
            impl #impl_generics std::fmt::Debug for #name #ty_generics #where_clause {
                fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    std::fmt::Debug::fmt(&self.inner, f)
                }
            }

            #(#cfgs)*
            impl #impl_generics #name #ty_generics #where_clause {
                #[allow(dead_code)]
                pub(super) fn wrap(inner: #async_ty #wrap_param) -> Self {
                    Self { inner, #wrap_value }
                }
            }
        };
        writeln!(out, "{tokens}\n")?;
        for file in &self.krate.files {
            for item in &file.syntax.items {
                match item {
                    syn::Item::Impl(imp) if imp.trait_.is_none() => {
                        if !self.same_type(file, &imp.self_ty, f) {
                            continue;
                        }
                        self.emit_impl(
                            f,
                            file,
                            imp,
                            exceptions,
                            hand,
                            out,
                            generated,
                            used_exceptions,
                        )
                        .with_context(|| format!("in {}", file.file.display()))?;
                    }
                    syn::Item::Impl(imp) => {
                        let (_, trait_path, _) = imp.trait_.as_ref().expect("a trait impl");
                        let is_stream = trait_path
                            .segments
                            .last()
                            .is_some_and(|s| s.ident == "Stream");
                        if is_stream && self.same_type(file, &imp.self_ty, f) {
                            self.emit_iterator(f, file, imp, out)?;
                        }
                    }
                    _ => {}
                }
            }
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn emit_impl(
        &self,
        f: &Found<'_>,
        file: &SourceFile,
        imp: &syn::ItemImpl,
        exceptions: &[(&str, &str, Exception)],
        hand: &HandWritten,
        out: &mut String,
        generated: &mut Vec<(String, String)>,
        used_exceptions: &mut HashSet<(String, String)>,
    ) -> Result<()> {
        let mut methods = String::new();
        let impl_generic_names = generic_names(&imp.generics);
        for item in &imp.items {
            let syn::ImplItem::Fn(method) = item else {
                continue;
            };
            if !matches!(method.vis, syn::Visibility::Public(_)) {
                continue;
            }
            let method_name = method.sig.ident.to_string();
            if let Some((_, _, exception)) = exceptions
                .iter()
                .find(|(t, m, _)| *t == f.wrapped.name && *m == method_name)
            {
                used_exceptions.insert((f.wrapped.name.to_owned(), method_name.clone()));
                if let Exception::Hand(_) = exception
                    && !hand
                        .methods
                        .iter()
                        .any(|(t, m)| t == f.wrapped.name && *m == method_name)
                {
                    bail!(
                        "`{}::{method_name}` is an exception written by hand, but src/blocking/ has no `pub fn {method_name}` in an `impl {}`",
                        f.wrapped.name,
                        f.wrapped.name
                    );
                }
                continue;
            }
            let mut generics = impl_generic_names.clone();
            generics.extend(generic_names(&method.sig.generics));
            let text = self
                .emit_method(f, file, imp, method, &generics)
                .with_context(|| {
                    format!(
                        "`{}::{method_name}` has no blocking twin the generator can write; add it to EXCEPTIONS (xtask/src/codegen/blocking/mod.rs) with a reason",
                        f.wrapped.name
                    )
                })?;
            methods.push_str(&text);
            generated.push((f.wrapped.name.to_owned(), method_name));
        }
        if methods.is_empty() {
            return Ok(());
        }
        let name = format_ident!("{}", f.wrapped.name);
        let mut impl_generics = imp.generics.clone();
        self.krate
            .resolve_in(file, &impl_generic_names, &mut impl_generics);
        let (ig, _, wc) = impl_generics.split_for_impl();
        let ty_args = match &*imp.self_ty {
            syn::Type::Path(p) => p.path.segments.last().map(|s| s.arguments.clone()),
            _ => None,
        };
        let cfgs = file
            .cfgs
            .iter()
            .chain(imp.attrs.iter().filter(|a| a.path().is_ident("cfg")));
        let head = quote!(#(#cfgs)* impl #ig #name #ty_args #wc);
        writeln!(out, "{head} {{\n{methods}}}\n")?;
        Ok(())
    }

    fn emit_iterator(
        &self,
        f: &Found<'_>,
        file: &SourceFile,
        imp: &syn::ItemImpl,
        out: &mut String,
    ) -> Result<()> {
        let item = imp.items.iter().find_map(|i| match i {
            syn::ImplItem::Type(t) if t.ident == "Item" => Some(t.ty.clone()),
            _ => None,
        });
        let Some(mut item) = item else {
            bail!("`impl Stream for {}` has no `type Item`", f.wrapped.name);
        };
        self.krate.resolve_in(file, &HashSet::new(), &mut item);
        let (conv, blocking) = self.conv(&item, f)?;
        let shared = if f.wrapped.kind == Kind::Owned {
            quote!(&self.shared)
        } else {
            quote!(self.shared)
        };
        let next = quote!(self.shared.wait(futures::StreamExt::next(&mut self.inner)));
        let body = match conv {
            Conv::Same => next,
            conv => {
                let inner = apply(&conv, quote!(v), Some(&shared))?;
                quote!(#next.map(|v| #inner))
            }
        };
        let name = format_ident!("{}", f.wrapped.name);
        let (ig, tg, wc) = f.def.generics.split_for_impl();
        let cfgs = file
            .cfgs
            .iter()
            .chain(imp.attrs.iter().filter(|a| a.path().is_ident("cfg")));
        let see = f.path.join("::");
        let doc = format!(
            " The async [`{see}`] is a `Stream`; its twin an `Iterator` whose `next` blocks the calling thread until the next item."
        );
        let tokens = quote! {
            #[doc = #doc]
            #(#cfgs)*
            impl #ig Iterator for #name #tg #wc {
                type Item = #blocking;

                fn next(&mut self) -> Option<Self::Item> {
                    #body
                }
            }
        };
        writeln!(out, "{tokens}\n")?;
        Ok(())
    }
}

fn derives(f: &Found<'_>) -> (bool, bool) {
    let mut clone = false;
    let mut copy = false;
    for attr in &f.def.attrs {
        if attr.path().is_ident("derive") {
            let _ = attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("Clone") {
                    clone = true;
                }
                if meta.path.is_ident("Copy") {
                    copy = true;
                }
                Ok(())
            });
        }
    }
    for item in &f.file.syntax.items {
        if let syn::Item::Impl(imp) = item
            && let Some((_, path, _)) = &imp.trait_
            && type_name(&imp.self_ty).as_deref() == Some(f.wrapped.name)
        {
            clone |= path.segments.last().is_some_and(|s| s.ident == "Clone");
            copy |= path.segments.last().is_some_and(|s| s.ident == "Copy");
        }
    }
    (clone, copy)
}

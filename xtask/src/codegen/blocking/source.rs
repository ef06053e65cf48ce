//! The async surface as the generator reads it: codex-client's module tree walked from `lib.rs`
//! (each file parsed with `syn`, the `cfg`s of its `mod` lines kept), and the resolution of a
//! path written in one file into a path the blocking module can name: through the file's `use`s
//! and its own items, then to where the item is public: through the `pub use` re-exports of the
//! crate (the shortest public path wins: `crate::TurnEvent` over `crate::core::TurnEvent`), else
//! with the private modules dropped (an item of a private module re-exported by its parent, the
//! crate's convention). Glob imports are not followed.

use anyhow::{Context, Result, bail};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use syn::visit_mut::VisitMut;

/// One source file of the crate.
pub struct SourceFile {
    /// The module path, without `crate` (`["api", "thread"]`).
    pub module: Vec<String>,
    /// Where it was read from, for messages.
    pub file: PathBuf,
    pub syntax: syn::File,
    /// The `#[cfg(..)]`s on the `mod` lines that lead to it.
    pub cfgs: Vec<syn::Attribute>,
    uses: HashMap<String, Vec<String>>,
    locals: HashSet<String>,
}

/// The crate: its files, which of its modules are public, and its `pub use` re-exports.
pub struct Crate {
    pub files: Vec<SourceFile>,
    modules: HashMap<Vec<String>, bool>,
    /// Absolute path of an item → the absolute paths a `pub use` re-exports it as.
    reexports: HashMap<Vec<String>, Vec<Vec<String>>>,
}

/// Reads a file's text: the disk, or a map in tests.
pub type Reader<'r> = &'r dyn Fn(&Path) -> Option<String>;

impl Crate {
    /// Walks the module tree from `lib`, skipping the modules named in `skip` (the blocking
    /// module itself), `#[cfg(test)]` and `#[cfg(doctest)]` modules.
    pub fn load(lib: &Path, skip: &[&str], read: Reader<'_>) -> Result<Crate> {
        let mut krate = Crate {
            files: Vec::new(),
            modules: HashMap::new(),
            reexports: HashMap::new(),
        };
        krate.modules.insert(Vec::new(), true);
        krate.walk(lib, Vec::new(), Vec::new(), true, skip, read)?;
        Ok(krate)
    }

    fn walk(
        &mut self,
        file: &Path,
        module: Vec<String>,
        cfgs: Vec<syn::Attribute>,
        is_dir_owner: bool,
        skip: &[&str],
        read: Reader<'_>,
    ) -> Result<()> {
        let text = read(file).with_context(|| format!("reading {}", file.display()))?;
        let mut syntax =
            syn::parse_file(&text).with_context(|| format!("parsing {}", file.display()))?;
        expand_local_macros(&mut syntax).with_context(|| format!("in {}", file.display()))?;
        let dir = if is_dir_owner {
            file.parent().unwrap_or(Path::new("")).to_path_buf()
        } else {
            file.with_extension("")
        };
        let mut children = Vec::new();
        for item in &syntax.items {
            let syn::Item::Mod(m) = item else { continue };
            let name = m.ident.to_string();
            if skip.contains(&name.as_str()) || is_test_only(&m.attrs) {
                continue;
            }
            if m.content.is_some() {
                continue; // inline modules hold no public surface here
            }
            let mut path = module.clone();
            path.push(name.clone());
            self.modules
                .insert(path.clone(), matches!(m.vis, syn::Visibility::Public(_)));
            let mut child_cfgs = cfgs.clone();
            child_cfgs.extend(m.attrs.iter().filter(|a| a.path().is_ident("cfg")).cloned());
            let flat = dir.join(format!("{name}.rs"));
            let nested = dir.join(&name).join("mod.rs");
            let (child, owner) = if read(&flat).is_some() {
                (flat, false)
            } else if read(&nested).is_some() {
                (nested, true)
            } else {
                bail!(
                    "module {} of {}: no {name}.rs or {name}/mod.rs",
                    path.join("::"),
                    file.display()
                );
            };
            children.push((child, path, child_cfgs, owner));
        }
        let (uses, locals, reexported) = scope_of(&syntax, &module);
        for (name, target) in reexported {
            let mut at = absolute(&module);
            at.push(name);
            self.reexports.entry(target).or_default().push(at);
        }
        self.files.push(SourceFile {
            module,
            file: file.to_path_buf(),
            syntax,
            cfgs,
            uses,
            locals,
        });
        for (child, path, child_cfgs, owner) in children {
            self.walk(&child, path, child_cfgs, owner, skip, read)?;
        }
        Ok(())
    }

    /// Where the item at `segments` (absolute, `crate` first) can be named: itself when no
    /// module on the way is private, else the shortest such path a chain of `pub use`s gives,
    /// else `segments` with the private modules left out.
    pub fn public(&self, segments: &[String]) -> Vec<String> {
        if segments.first().map(String::as_str) != Some("crate") || self.is_reachable(segments) {
            return segments.to_vec();
        }
        let mut found: Option<Vec<String>> = None;
        let mut frontier = vec![segments.to_vec()];
        for _ in 0..8 {
            let mut next = Vec::new();
            for path in &frontier {
                for at in self.reexports.get(path).into_iter().flatten() {
                    if self.is_reachable(at) {
                        if found.as_ref().is_none_or(|f| at.len() < f.len()) {
                            found = Some(at.clone());
                        }
                    } else {
                        next.push(at.clone());
                    }
                }
            }
            if next.is_empty() {
                break;
            }
            frontier = next;
        }
        found.unwrap_or_else(|| self.dropping_private_modules(segments))
    }

    /// No module on the way to the item at `segments` is private.
    fn is_reachable(&self, segments: &[String]) -> bool {
        (2..segments.len()).all(|end| self.modules.get(&segments[1..end]) != Some(&false))
    }

    fn dropping_private_modules(&self, segments: &[String]) -> Vec<String> {
        let mut out = vec!["crate".to_owned()];
        let mut module = Vec::new();
        for (i, segment) in segments.iter().enumerate().skip(1) {
            module.push(segment.clone());
            let last = i + 1 == segments.len();
            if !last && self.modules.get(&module) == Some(&false) {
                continue;
            }
            out.push(segment.clone());
        }
        out
    }

    /// The public path of an item defined at the top of `file`.
    pub fn item_path(&self, file: &SourceFile, name: &str) -> Vec<String> {
        let mut segments = vec!["crate".to_owned()];
        segments.extend(file.module.iter().cloned());
        segments.push(name.to_owned());
        self.public(&segments)
    }

    /// Where the first segment of a path written in `file` points, absolute and public;
    /// `None` for what needs no resolution (generics, `Self`, the prelude, extern crates).
    pub fn resolve_head(
        &self,
        file: &SourceFile,
        head: &str,
        generics: &HashSet<String>,
    ) -> Option<Vec<String>> {
        if generics.contains(head) || head == "Self" {
            return None;
        }
        match head {
            "crate" => Some(vec!["crate".to_owned()]),
            "self" => Some(absolute(&file.module)),
            "super" => {
                let mut module = file.module.clone();
                module.pop();
                Some(absolute(&module))
            }
            _ => {
                if let Some(target) = file.uses.get(head) {
                    Some(self.public(target))
                } else if file.locals.contains(head) {
                    Some(self.item_path(file, head))
                } else {
                    None
                }
            }
        }
    }

    /// Rewrites every path in `node` (a signature, a type) as the blocking module must write it.
    pub fn resolve_in<'a, T>(
        &'a self,
        file: &'a SourceFile,
        generics: &'a HashSet<String>,
        node: &mut T,
    ) where
        Resolver<'a>: VisitMutFor<T>,
    {
        let mut resolver = Resolver {
            krate: self,
            file,
            generics,
        };
        resolver.visit(node);
    }
}

/// Expands, in place, the top-level invocations of the file's own one-arm `macro_rules!`
/// whose arguments are plain `$name:ident` / `$name:ty` fragments (`login_handle_common!(X)`
/// writing `impl X { .. }`), so that the methods they write are seen.
fn expand_local_macros(syntax: &mut syn::File) -> Result<()> {
    use proc_macro2::{TokenStream, TokenTree};
    let mut macros: HashMap<String, (Vec<String>, TokenStream)> = HashMap::new();
    for item in &syntax.items {
        let syn::Item::Macro(m) = item else { continue };
        if !m.mac.path.is_ident("macro_rules") {
            continue;
        }
        let Some(name) = &m.ident else { continue };
        let tokens: Vec<TokenTree> = m.mac.tokens.clone().into_iter().collect();
        // One arm: `( $a:ident, $b:ty ) => { body }` (a trailing `;` allowed).
        let arm = match &tokens[..] {
            [
                TokenTree::Group(params),
                TokenTree::Punct(eq),
                TokenTree::Punct(gt),
                TokenTree::Group(body),
            ]
            | [
                TokenTree::Group(params),
                TokenTree::Punct(eq),
                TokenTree::Punct(gt),
                TokenTree::Group(body),
                TokenTree::Punct(_),
            ] if eq.as_char() == '=' && gt.as_char() == '>' => {
                Some((params.stream(), body.stream()))
            }
            _ => None,
        };
        let Some((params, body)) = arm else { continue };
        let mut names = Vec::new();
        let mut plain = true;
        let params: Vec<TokenTree> = params.into_iter().collect();
        for chunk in params.split(|t| matches!(t, TokenTree::Punct(p) if p.as_char() == ',')) {
            match chunk {
                [
                    TokenTree::Punct(d),
                    TokenTree::Ident(n),
                    TokenTree::Punct(c),
                    TokenTree::Ident(k),
                ] if d.as_char() == '$' && c.as_char() == ':' && (k == "ident" || k == "ty") => {
                    names.push(n.to_string())
                }
                [] => {}
                _ => plain = false,
            }
        }
        if plain {
            macros.insert(name.to_string(), (names, body));
        }
    }
    let mut expanded = Vec::new();
    for item in &syntax.items {
        let syn::Item::Macro(m) = item else { continue };
        let Some(name) = m.mac.path.get_ident() else {
            continue;
        };
        let Some((names, body)) = macros.get(&name.to_string()) else {
            continue;
        };
        let args: Vec<TokenTree> = m.mac.tokens.clone().into_iter().collect();
        let args: Vec<TokenStream> = args
            .split(|t| matches!(t, TokenTree::Punct(p) if p.as_char() == ','))
            .map(|chunk| chunk.iter().cloned().collect())
            .collect();
        if args.len() != names.len() {
            bail!("`{name}!` takes {} arguments", names.len());
        }
        fn substitute(body: TokenStream, names: &[String], args: &[TokenStream]) -> TokenStream {
            let mut out = Vec::new();
            let mut tokens = body.into_iter().peekable();
            while let Some(token) = tokens.next() {
                match token {
                    TokenTree::Punct(p) if p.as_char() == '$' => {
                        if let Some(TokenTree::Ident(n)) = tokens.peek()
                            && let Some(i) = names.iter().position(|x| n == x)
                        {
                            tokens.next();
                            out.extend(args[i].clone());
                            continue;
                        }
                        out.push(TokenTree::Punct(p));
                    }
                    TokenTree::Group(g) => {
                        let mut group = proc_macro2::Group::new(
                            g.delimiter(),
                            substitute(g.stream(), names, args),
                        );
                        group.set_span(g.span());
                        out.push(TokenTree::Group(group));
                    }
                    other => out.push(other),
                }
            }
            out.into_iter().collect()
        }
        let tokens = substitute(body.clone(), names, &args);
        let file: syn::File =
            syn::parse2(tokens).with_context(|| format!("expanding `{name}!`: not items"))?;
        expanded.extend(file.items);
    }
    syntax.items.extend(expanded);
    Ok(())
}

fn absolute(module: &[String]) -> Vec<String> {
    let mut out = vec!["crate".to_owned()];
    out.extend(module.iter().cloned());
    out
}

fn is_test_only(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("cfg")
            && a.parse_args::<syn::Ident>()
                .is_ok_and(|i| i == "test" || i == "doctest")
    })
}

/// What a file names: its `use`s (name → absolute path), its own top-level item names, and
/// its `pub use`s (the name it re-exports → the absolute path of the item).
type Scope = (
    HashMap<String, Vec<String>>,
    HashSet<String>,
    Vec<(String, Vec<String>)>,
);

/// The [`Scope`] of a file of module `module`.
fn scope_of(syntax: &syn::File, module: &[String]) -> Scope {
    let mut uses = HashMap::new();
    let mut locals = HashSet::new();
    let mut reexported = Vec::new();
    let children: HashSet<String> = syntax
        .items
        .iter()
        .filter_map(|item| match item {
            syn::Item::Mod(m) => Some(m.ident.to_string()),
            _ => None,
        })
        .collect();
    for item in &syntax.items {
        let name = match item {
            syn::Item::Use(u) => {
                let mut these = HashMap::new();
                collect_use(&u.tree, Vec::new(), module, &children, &mut these);
                if matches!(u.vis, syn::Visibility::Public(_)) {
                    reexported.extend(these.iter().map(|(n, t)| (n.clone(), t.clone())));
                }
                uses.extend(these);
                continue;
            }
            syn::Item::Struct(i) => &i.ident,
            syn::Item::Enum(i) => &i.ident,
            syn::Item::Type(i) => &i.ident,
            syn::Item::Trait(i) => &i.ident,
            syn::Item::Union(i) => &i.ident,
            syn::Item::Fn(i) => &i.sig.ident,
            syn::Item::Const(i) => &i.ident,
            syn::Item::Static(i) => &i.ident,
            syn::Item::Mod(i) => &i.ident,
            _ => continue,
        };
        locals.insert(name.to_string());
    }
    (uses, locals, reexported)
}

fn collect_use(
    tree: &syn::UseTree,
    mut prefix: Vec<String>,
    module: &[String],
    children: &HashSet<String>,
    out: &mut HashMap<String, Vec<String>>,
) {
    let absolutize = |mut path: Vec<String>| -> Vec<String> {
        match path.first().map(String::as_str) {
            Some("self") => {
                path.remove(0);
                let mut abs = absolute(module);
                abs.extend(path);
                abs
            }
            Some("super") => {
                let mut base = module.to_vec();
                while path.first().map(String::as_str) == Some("super") {
                    path.remove(0);
                    base.pop();
                }
                let mut abs = absolute(&base);
                abs.extend(path);
                abs
            }
            // `use child::Item` names a child module of this one (2018 paths).
            Some(head) if children.contains(head) => {
                let mut abs = absolute(module);
                abs.extend(path);
                abs
            }
            _ => path,
        }
    };
    match tree {
        syn::UseTree::Path(p) => {
            prefix.push(p.ident.to_string());
            collect_use(&p.tree, prefix, module, children, out);
        }
        syn::UseTree::Name(n) => {
            let name = n.ident.to_string();
            if name == "self" {
                if let Some(last) = prefix.last().cloned() {
                    out.insert(last, absolutize(prefix));
                }
            } else {
                prefix.push(name.clone());
                out.insert(name, absolutize(prefix));
            }
        }
        syn::UseTree::Rename(r) => {
            prefix.push(r.ident.to_string());
            out.insert(r.rename.to_string(), absolutize(prefix));
        }
        syn::UseTree::Group(g) => {
            for tree in &g.items {
                collect_use(tree, prefix.clone(), module, children, out);
            }
        }
        syn::UseTree::Glob(_) => {}
    }
}

/// The `syn` visitor behind [`Crate::resolve_in`].
pub struct Resolver<'a> {
    krate: &'a Crate,
    file: &'a SourceFile,
    generics: &'a HashSet<String>,
}

/// What [`Crate::resolve_in`] can rewrite.
pub trait VisitMutFor<T> {
    fn visit(&mut self, node: &mut T);
}

impl VisitMutFor<syn::Signature> for Resolver<'_> {
    fn visit(&mut self, node: &mut syn::Signature) {
        self.visit_signature_mut(node);
    }
}

impl VisitMutFor<syn::Type> for Resolver<'_> {
    fn visit(&mut self, node: &mut syn::Type) {
        self.visit_type_mut(node);
    }
}

impl VisitMutFor<syn::Generics> for Resolver<'_> {
    fn visit(&mut self, node: &mut syn::Generics) {
        self.visit_generics_mut(node);
    }
}

impl VisitMut for Resolver<'_> {
    fn visit_path_mut(&mut self, path: &mut syn::Path) {
        // Generic arguments first (they are resolved in the same scope).
        for segment in &mut path.segments {
            self.visit_path_arguments_mut(&mut segment.arguments);
        }
        if path.leading_colon.is_some() {
            return;
        }
        let head = path.segments[0].ident.to_string();
        let Some(target) = self.krate.resolve_head(self.file, &head, self.generics) else {
            return;
        };
        let mut rest: Vec<syn::PathSegment> = path.segments.iter().cloned().collect();
        let first = rest.remove(0);
        let mut segments = syn::punctuated::Punctuated::new();
        let keyword = matches!(head.as_str(), "crate" | "self" | "super");
        let n = target.len();
        for (i, name) in target.iter().enumerate() {
            let ident = syn::Ident::new(name, first.ident.span());
            let arguments = if i + 1 == n && !keyword {
                first.arguments.clone()
            } else {
                syn::PathArguments::None
            };
            segments.push(syn::PathSegment { ident, arguments });
        }
        if keyword {
            // `crate::x::y`, `super::x`: the rest follows the module, then goes public.
            let mut names: Vec<String> = target.clone();
            names.extend(rest.iter().map(|s| s.ident.to_string()));
            let public = self.krate.public(&names);
            let args: Vec<syn::PathArguments> = rest.iter().map(|s| s.arguments.clone()).collect();
            let mut out = syn::punctuated::Punctuated::new();
            let m = public.len();
            for (i, name) in public.iter().enumerate() {
                let arguments = if i + 1 == m {
                    args.last().cloned().unwrap_or(syn::PathArguments::None)
                } else {
                    syn::PathArguments::None
                };
                out.push(syn::PathSegment {
                    ident: syn::Ident::new(name, first.ident.span()),
                    arguments,
                });
            }
            path.segments = out;
            return;
        }
        segments.extend(rest);
        path.segments = segments;
    }
}

/// The generic parameter names of `generics` (they are never resolved).
pub fn generic_names(generics: &syn::Generics) -> HashSet<String> {
    generics
        .params
        .iter()
        .filter_map(|p| match p {
            syn::GenericParam::Type(t) => Some(t.ident.to_string()),
            syn::GenericParam::Const(c) => Some(c.ident.to_string()),
            syn::GenericParam::Lifetime(_) => None,
        })
        .collect()
}

/// Reads from the disk.
pub fn disk(path: &Path) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

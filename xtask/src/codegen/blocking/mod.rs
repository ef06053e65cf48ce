//! `cargo xtask codegen` (and `--check`), the blocking part: generates
//! `crates/codex-client/src/blocking/generated.rs`, the blocking twin of the async surface, and
//! checks its parity.
//!
//! The twin of each type of [`WRAPPED`] has the same name and holds the async value and the
//! client's runtime; every `pub fn` / `pub async fn` of the async type's inherent `impl`s gets
//! a method of the same name and arguments (async ones run to completion on the runtime, return
//! types with a wrapped type in them mapped to its twin), and an `impl Stream` becomes an
//! `impl Iterator`. A public method that cannot be generated fails the generator unless
//! [`EXCEPTIONS`] names it with a reason; the exceptions marked hand-written must then exist in
//! the hand-written files of `src/blocking/` (the parity check). Trait methods (`poll_next`,
//! `fmt`, ...) are not the surface and are not mirrored.

mod emit;
mod source;

use anyhow::{Result, bail};
use std::path::Path;

/// How a wrapped type holds the client's runtime.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    /// Owns a share of the runtime (`Arc<ClientRuntime>`): the client and what it hands out.
    Owned,
    /// Borrows it for `'a`, as the async type borrows the `Codex` (`Threads<'a>`).
    Borrowed,
    /// Holds no runtime: a builder whose async ends start one (`CodexBuilder`).
    Root,
}

/// One wrapped type: the async type of this name gets a blocking twin of the same name.
#[derive(Clone, Copy, Debug)]
pub struct Wrapped {
    pub name: &'static str,
    pub kind: Kind,
}

const fn owned(name: &'static str) -> Wrapped {
    Wrapped {
        name,
        kind: Kind::Owned,
    }
}

#[allow(dead_code)] // the group handles (`Threads<'a>`, ...) and `CodexBuilder` of issue 18
const fn borrowed(name: &'static str) -> Wrapped {
    Wrapped {
        name,
        kind: Kind::Borrowed,
    }
}

#[allow(dead_code)]
const fn root(name: &'static str) -> Wrapped {
    Wrapped {
        name,
        kind: Kind::Root,
    }
}

/// The types that have a blocking twin, one line each. Everything else a signature mentions
/// (options, results, wire types, errors) is plain data, shared by both APIs as is. A borrowed
/// group handle is `borrowed("Threads")`, a builder `root("CodexBuilder")`.
pub const WRAPPED: &[Wrapped] = &[
    owned("Codex"),
    owned("Thread"),
    owned("TurnHandle"),
    owned("TurnControl"),
    owned("NotificationStream"),
    owned("ChatgptLogin"),
    owned("DeviceCodeLogin"),
    owned("GoalHandle"),
    owned("GoalControl"),
    owned("CommandExec"),
    root("CodexBuilder"),
    borrowed("Threads"),
    borrowed("Account"),
    borrowed("Models"),
    borrowed("Files"),
    borrowed("ServerConfig"),
    borrowed("Mcp"),
    borrowed("Skills"),
    borrowed("Commands"),
];

/// Why an async public method has no generated twin.
#[derive(Clone, Copy, Debug)]
pub enum Exception {
    /// Written by hand in `src/blocking/` (checked: it must be there).
    Hand(&'static str),
    /// Not mirrored, on purpose.
    Omit(&'static str),
}

/// The async public methods with no generated twin: (type, method, why).
pub const EXCEPTIONS: &[(&str, &str, Exception)] = &[
    (
        "Codex",
        "from_connection",
        Exception::Omit(
            "a `Connection` runs on the runtime that made it; the blocking client makes its own runtime and connection",
        ),
    ),
    (
        "Thread",
        "codex",
        Exception::Hand(
            "returns the blocking `Codex` by value: a blocking `Thread` holds the runtime, not a blocking `Codex` to lend",
        ),
    ),
];

/// The generated file, relative to the workspace.
pub const OUTPUT: &str = "crates/codex-client/src/blocking/generated.rs";

/// Generate the blocking twin; with `check`, fail when the checked-in file is stale.
pub fn run(workspace: &Path, check: bool) -> Result<()> {
    let src = workspace.join("crates/codex-client/src");
    let krate = source::Crate::load(&src.join("lib.rs"), &["blocking"], &source::disk)?;
    let hand = hand_written(&src.join("blocking"))?;
    let text = emit::generate(&krate, WRAPPED, EXCEPTIONS, &hand)?;
    let text = super::rustfmt(&text)?;
    let path = workspace.join(OUTPUT);
    let current = std::fs::read_to_string(&path).ok();
    if current.as_deref() == Some(text.as_str()) {
        println!("codegen: {OUTPUT} is up to date");
        return Ok(());
    }
    if check {
        bail!("the blocking twin is stale: {OUTPUT} differs; run `cargo xtask codegen`");
    }
    std::fs::write(&path, text)?;
    println!("codegen: wrote {OUTPUT}");
    Ok(())
}

/// The hand-written part of `src/blocking/`: (type, method) of every `pub fn` in an inherent
/// `impl`, and the names given an example in `examples.rs`.
pub struct HandWritten {
    pub methods: Vec<(String, String)>,
    pub examples: Vec<String>,
}

fn hand_written(dir: &Path) -> Result<HandWritten> {
    let mut methods = Vec::new();
    let mut examples = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<std::io::Result<_>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.ends_with(".rs") || name == "generated.rs" {
            continue;
        }
        let text = std::fs::read_to_string(entry.path())?;
        if name == "examples.rs" {
            examples = example_names(&text);
        }
        let file = syn::parse_file(&text)?;
        for item in &file.items {
            let syn::Item::Impl(imp) = item else { continue };
            if imp.trait_.is_some() {
                continue;
            }
            let Some(ty) = emit::type_name(&imp.self_ty) else {
                continue;
            };
            for item in &imp.items {
                if let syn::ImplItem::Fn(f) = item
                    && matches!(f.vis, syn::Visibility::Public(_))
                {
                    methods.push((ty.clone(), f.sig.ident.to_string()));
                }
            }
        }
    }
    Ok(HandWritten { methods, examples })
}

/// The arms `(Name) => ...` of the `example!` macro in `examples.rs`.
fn example_names(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|line| {
            let line = line.trim_start();
            let rest = line.strip_prefix('(')?;
            let (name, tail) = rest.split_once(')')?;
            tail.trim_start()
                .starts_with("=>")
                .then(|| name.trim().to_owned())
        })
        .collect()
}

#[cfg(test)]
mod tests;

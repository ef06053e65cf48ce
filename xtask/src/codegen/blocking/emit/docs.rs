//! The rustdoc of a twin: the async item's prose (code blocks left out, they show the async
//! API), its intra-doc links re-pointed to resolve from the blocking module.

use super::{Found, Gen};
use crate::codegen::blocking::source::SourceFile;
use std::collections::HashSet;
use std::fmt::Write;

pub(super) fn prefix_space(line: &str) -> String {
    if line.is_empty() {
        String::new()
    } else {
        format!(" {line}")
    }
}

/// The prose of an item's rustdoc: code blocks left out (they show the async API), the
/// intra-doc links rewritten to resolve from the blocking module.
pub(super) fn docs(
    generator: &Gen<'_>,
    current: &Found<'_>,
    file: &SourceFile,
    attrs: &[syn::Attribute],
) -> Vec<String> {
    let mut lines = Vec::new();
    for attr in attrs {
        if !attr.path().is_ident("doc") {
            continue;
        }
        let syn::Meta::NameValue(nv) = &attr.meta else {
            continue;
        };
        let syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(s),
            ..
        }) = &nv.value
        else {
            continue;
        };
        let value = s.value();
        if value.trim().is_empty() {
            lines.push(String::new());
        }
        for line in value.lines() {
            lines.push(line.strip_prefix(' ').unwrap_or(line).to_owned());
        }
    }
    let mut out: Vec<String> = Vec::new();
    let mut in_code = false;
    for line in lines {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if in_code {
            continue;
        }
        if line.trim().is_empty() && out.last().is_none_or(|l: &String| l.is_empty()) {
            continue;
        }
        out.push(if line.trim().is_empty() {
            String::new()
        } else {
            links(generator, current, file, &line)
        });
    }
    while out.last().is_some_and(|l| l.is_empty()) {
        out.pop();
    }
    out
}

/// Rewrites the intra-doc links of one doc line written in `file`.
fn links(generator: &Gen<'_>, current: &Found<'_>, file: &SourceFile, line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(open) = rest.find('[') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find(']') else {
            out.push_str(&rest[open..]);
            return out;
        };
        let label = &after[..close];
        let tail = &after[close + 1..];
        if let Some(target_rest) = tail.strip_prefix('(')
            && let Some(end) = target_rest.find(')')
        {
            let target = &target_rest[..end];
            let target =
                link_target(generator, current, file, target).unwrap_or_else(|| target.to_owned());
            write!(out, "[{label}]({target})").expect("a String");
            rest = &target_rest[end + 1..];
            continue;
        }
        let code = label.strip_prefix('`').and_then(|l| l.strip_suffix('`'));
        match code.and_then(|c| link_target(generator, current, file, c)) {
            Some(target) if !tail.starts_with('[') => {
                write!(out, "[{label}]({target})").expect("a String")
            }
            _ => write!(out, "[{label}]").expect("a String"),
        }
        rest = tail;
    }
    out.push_str(rest);
    out
}

/// Where a link written in `file` points, seen from the blocking module; `None` to leave it
/// (not a path, or a wrapped type's name, which means its twin there).
fn link_target(
    generator: &Gen<'_>,
    current: &Found<'_>,
    file: &SourceFile,
    target: &str,
) -> Option<String> {
    let bare = target.trim_end_matches("()").trim_end_matches('!');
    if bare.is_empty()
        || bare.contains("://")
        || !bare.chars().next()?.is_ascii_alphabetic()
        || !bare
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
    {
        return None;
    }
    let mut segments: Vec<String> = bare.split("::").map(str::to_owned).collect();
    let head = segments.remove(0);
    let twin = if head == "Self" {
        Some(current)
    } else {
        generator.found.iter().find(|f| f.wrapped.name == head)
    };
    if let Some(twin) = twin {
        // A method the twin lacks is linked on the async type.
        let method = segments.first()?;
        if generator.twins[twin.wrapped.name].contains(method) {
            return None;
        }
        return Some(format!("{}::{method}", twin.path.join("::")));
    }
    let abs = generator.krate.resolve_head(file, &head, &HashSet::new())?;
    let mut full = abs;
    full.extend(segments);
    let full = generator.krate.public(&full);
    // A wrapped type named by its path still means its twin.
    if generator.found.iter().any(|f| full.starts_with(&f.path)) {
        let f = generator.found.iter().find(|f| full.starts_with(&f.path))?;
        let mut twin = vec![f.wrapped.name.to_owned()];
        twin.extend(full[f.path.len()..].iter().cloned());
        return Some(twin.join("::"));
    }
    Some(full.join("::"))
}

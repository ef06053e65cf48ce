//! Protocol drift between two schema bundles: the summary `bump-codex` prints for the CHANGELOG.
//!
//! It compares what a client author cares about: the methods of the three envelopes
//! (`ClientRequest`, `ServerNotification`, `ServerRequest`), the definitions, and for each
//! definition present in both, the fields added, removed, made required or optional, or changed.

use anyhow::{Context, Result};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;

/// The parts of a schema bundle that drift is measured on.
pub struct Bundle {
    /// method names per envelope file (`ClientRequest`, `ServerNotification`, `ServerRequest`)
    envelopes: BTreeMap<&'static str, BTreeSet<String>>,
    /// every named definition, merged from all files of the bundle
    definitions: BTreeMap<String, Value>,
}

const ENVELOPES: [&str; 3] = ["ClientRequest", "ServerNotification", "ServerRequest"];

impl Bundle {
    /// Loads a bundle written by `codex app-server generate-json-schema --out dir`.
    pub fn load(dir: &Path) -> Result<Bundle> {
        let mut envelopes = BTreeMap::new();
        let mut definitions = BTreeMap::new();
        for name in ENVELOPES {
            let root = read_json(&dir.join(format!("{name}.json")))?;
            let methods = root["oneOf"]
                .as_array()
                .map(|variants| {
                    variants
                        .iter()
                        .filter_map(|v| v["properties"]["method"]["enum"][0].as_str())
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default();
            envelopes.insert(name, methods);
        }
        let v2 = read_json(&dir.join("codex_app_server_protocol.v2.schemas.json"))?;
        collect_definitions(&v2, &mut definitions);
        for file in crate::schema::read_tree(dir)?.keys() {
            if file.extension().is_some_and(|e| e == "json") {
                let root = read_json(&dir.join(file))?;
                collect_definitions(&root, &mut definitions);
            }
        }
        Ok(Bundle {
            envelopes,
            definitions,
        })
    }
}

fn read_json(path: &Path) -> Result<Value> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
}

fn collect_definitions(root: &Value, into: &mut BTreeMap<String, Value>) {
    if let Some(defs) = root["definitions"].as_object() {
        for (name, def) in defs {
            // The combined bundle nests v2 under `definitions.v2`; the flat v2 file has them all.
            if name == "v2" {
                continue;
            }
            into.entry(name.clone()).or_insert_with(|| def.clone());
        }
    }
}

/// A markdown summary of what changed from `old` to `new`; empty sections are left out.
pub fn summarize(old: &Bundle, new: &Bundle, old_label: &str, new_label: &str) -> String {
    let mut out = format!("### Protocol changes from Codex {old_label} to {new_label}\n");
    for name in ENVELOPES {
        let (a, b) = (&old.envelopes[name], &new.envelopes[name]);
        let added: Vec<_> = b.difference(a).collect();
        let removed: Vec<_> = a.difference(b).collect();
        let _ = writeln!(out, "\n{name}: {} → {} methods", a.len(), b.len());
        list(&mut out, "added", &added);
        list(&mut out, "removed", &removed);
    }
    let old_defs: BTreeSet<_> = old.definitions.keys().collect();
    let new_defs: BTreeSet<_> = new.definitions.keys().collect();
    let _ = writeln!(
        out,
        "\nDefinitions: {} → {}",
        old_defs.len(),
        new_defs.len()
    );
    list(
        &mut out,
        "added",
        &new_defs.difference(&old_defs).collect::<Vec<_>>(),
    );
    list(
        &mut out,
        "removed",
        &old_defs.difference(&new_defs).collect::<Vec<_>>(),
    );
    let mut changed = String::new();
    for name in old_defs.intersection(&new_defs) {
        let lines = field_changes(&old.definitions[*name], &new.definitions[*name]);
        if !lines.is_empty() {
            let _ = writeln!(changed, "- `{name}`: {}", lines.join("; "));
        }
    }
    if !changed.is_empty() {
        let _ = write!(out, "\nChanged definitions:\n{changed}");
    }
    out
}

fn list<T: std::fmt::Display>(out: &mut String, what: &str, items: &[T]) {
    if !items.is_empty() {
        let names: Vec<String> = items.iter().map(|i| format!("`{i}`")).collect();
        let _ = writeln!(out, "- {what} ({}): {}", items.len(), names.join(", "));
    }
}

/// Field-level changes of one definition (also for enums and unions, compared as a whole).
fn field_changes(old: &Value, new: &Value) -> Vec<String> {
    if old == new {
        return Vec::new();
    }
    let (Some(op), Some(np)) = (old["properties"].as_object(), new["properties"].as_object())
    else {
        return vec![describe_shape_change(old, new)];
    };
    let required = |v: &Value| -> BTreeSet<String> {
        v["required"]
            .as_array()
            .map(|r| {
                r.iter()
                    .filter_map(|s| s.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    let (oreq, nreq) = (required(old), required(new));
    let mut lines = Vec::new();
    for key in np.keys().filter(|k| !op.contains_key(*k)) {
        let req = if nreq.contains(key) {
            "required"
        } else {
            "optional"
        };
        lines.push(format!("+`{key}` ({req})"));
    }
    for key in op.keys().filter(|k| !np.contains_key(*k)) {
        lines.push(format!("-`{key}`"));
    }
    for (key, nv) in np {
        let Some(ov) = op.get(key) else { continue };
        if strip_docs(ov) != strip_docs(nv) {
            lines.push(format!("`{key}` type changed"));
        }
        match (oreq.contains(key), nreq.contains(key)) {
            (false, true) => lines.push(format!("`{key}` now required")),
            (true, false) => lines.push(format!("`{key}` now optional")),
            _ => {}
        }
    }
    if lines.is_empty() && strip_docs(old) != strip_docs(new) {
        lines.push(describe_shape_change(old, new));
    }
    lines
}

fn describe_shape_change(old: &Value, new: &Value) -> String {
    let values = |v: &Value| -> BTreeSet<String> {
        let mut set = BTreeSet::new();
        for e in v["enum"].as_array().into_iter().flatten() {
            set.insert(e.to_string());
        }
        for alt in v["oneOf"].as_array().into_iter().flatten() {
            for e in alt["enum"].as_array().into_iter().flatten() {
                set.insert(e.to_string());
            }
            if let Some(tag) = alt["properties"]["type"]["enum"][0].as_str() {
                set.insert(format!("{{type: {tag}}}"));
            }
        }
        set
    };
    let (a, b) = (values(old), values(new));
    if a.is_empty() && b.is_empty() {
        if strip_docs(old) == strip_docs(new) {
            return "documentation changed".to_string();
        }
        return "shape changed".to_string();
    }
    let added: Vec<_> = b.difference(&a).cloned().collect();
    let removed: Vec<_> = a.difference(&b).cloned().collect();
    let mut parts = Vec::new();
    if !added.is_empty() {
        parts.push(format!("values added {}", added.join(", ")));
    }
    if !removed.is_empty() {
        parts.push(format!("values removed {}", removed.join(", ")));
    }
    if parts.is_empty() {
        "documentation changed".to_string()
    } else {
        parts.join("; ")
    }
}

/// The schema without `description`s, so that doc-only edits do not count as type changes.
fn strip_docs(v: &Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(k, _)| k.as_str() != "description")
                .map(|(k, v)| (k.clone(), strip_docs(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(strip_docs).collect()),
        other => other.clone(),
    }
}

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
    let mut doc_only = Vec::new();
    // The envelopes' own definitions changed exactly when their method lists did: said above.
    for name in old_defs
        .intersection(&new_defs)
        .filter(|n| !ENVELOPES.contains(&n.as_str()))
    {
        let (a, b) = (&old.definitions[*name], &new.definitions[*name]);
        let lines = field_changes(a, b);
        if !lines.is_empty() {
            let _ = writeln!(changed, "- `{name}`: {}", lines.join("; "));
        } else if a != b {
            doc_only.push(name);
        }
    }
    if !changed.is_empty() {
        let _ = write!(out, "\nChanged definitions:\n{changed}");
    }
    if !doc_only.is_empty() {
        out.push('\n');
        list(&mut out, "documentation only", &doc_only);
    }
    out
}

fn list<T: std::fmt::Display>(out: &mut String, what: &str, items: &[T]) {
    if !items.is_empty() {
        let names: Vec<String> = items.iter().map(|i| format!("`{i}`")).collect();
        let _ = writeln!(out, "- {what} ({}): {}", items.len(), names.join(", "));
    }
}

/// Field-level changes of one definition (also for enums and unions, compared as a whole);
/// empty when only the documentation changed.
fn field_changes(old: &Value, new: &Value) -> Vec<String> {
    if strip_docs(old) == strip_docs(new) {
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
    if lines.is_empty() {
        lines.push(describe_shape_change(old, new));
    }
    lines
}

/// Changes of an enum or a union: the values / tagged variants added and removed, and for each
/// tagged variant present in both, its own field changes.
fn describe_shape_change(old: &Value, new: &Value) -> String {
    let (a, b) = (variants(old), variants(new));
    if a.is_empty() && b.is_empty() {
        return "shape changed".to_string();
    }
    let added: Vec<&str> = b
        .keys()
        .filter(|k| !a.contains_key(*k))
        .map(String::as_str)
        .collect();
    let removed: Vec<&str> = a
        .keys()
        .filter(|k| !b.contains_key(*k))
        .map(String::as_str)
        .collect();
    let mut parts = Vec::new();
    if !added.is_empty() {
        parts.push(format!("values added {}", added.join(", ")));
    }
    if !removed.is_empty() {
        parts.push(format!("values removed {}", removed.join(", ")));
    }
    for (label, ov) in &a {
        if let Some(nv) = b.get(label) {
            let inner = field_changes(ov, nv);
            if !inner.is_empty() {
                parts.push(format!("{label}: {}", inner.join(", ")));
            }
        }
    }
    if parts.is_empty() {
        "shape changed".to_string()
    } else {
        parts.join("; ")
    }
}

/// The values of an enum (label → `null`) or the variants of a union tagged by `type` or
/// `method` (label `{type: tag}` → the variant's schema).
fn variants(v: &Value) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    for e in v["enum"].as_array().into_iter().flatten() {
        out.insert(e.to_string(), Value::Null);
    }
    for alt in v["oneOf"].as_array().into_iter().flatten() {
        for e in alt["enum"].as_array().into_iter().flatten() {
            out.insert(e.to_string(), Value::Null);
        }
        for key in ["type", "method"] {
            if let Some(tag) = alt["properties"][key]["enum"][0].as_str() {
                out.insert(format!("{{{key}: {tag}}}"), alt.clone());
            }
        }
    }
    out
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn bundle(methods: &[&str], definitions: Value) -> Bundle {
        let set: BTreeSet<String> = methods.iter().map(|m| m.to_string()).collect();
        Bundle {
            envelopes: ENVELOPES.iter().map(|e| (*e, set.clone())).collect(),
            definitions: definitions
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        }
    }

    fn notification(method: &str) -> Value {
        json!({"type": "object", "properties": {"method": {"enum": [method]}}})
    }

    #[test]
    fn no_drift_is_a_header_and_counts_only() {
        let defs = json!({"A": {"type": "object", "properties": {"x": {"type": "string"}}}});
        let a = bundle(&["thread/start"], defs.clone());
        let text = summarize(&a, &bundle(&["thread/start"], defs), "1.0.0", "1.0.0");
        assert_eq!(
            text,
            "### Protocol changes from Codex 1.0.0 to 1.0.0\n\n\
             ClientRequest: 1 → 1 methods\n\n\
             ServerNotification: 1 → 1 methods\n\n\
             ServerRequest: 1 → 1 methods\n\n\
             Definitions: 1 → 1\n"
        );
    }

    #[test]
    fn methods_definitions_fields_and_values_are_reported() {
        let old = bundle(
            &["a", "gone"],
            json!({
                "Params": {"type": "object", "required": ["id"],
                           "properties": {"id": {"type": "string"}, "old": {"type": "string"},
                                          "n": {"type": "integer"}, "m": {"type": "string"}}},
                "Voice": {"type": "string", "enum": ["x", "y"]},
                "Doc": {"type": "object", "description": "old words",
                        "properties": {"x": {"type": "string", "description": "a"}}},
                "ServerNotification": {"oneOf": [notification("a"), notification("gone")]},
                "Removed": {"type": "string"},
            }),
        );
        let new = bundle(
            &["a", "new"],
            json!({
                "Params": {"type": "object", "required": ["id", "m"],
                           "properties": {"id": {"type": "string"}, "added": {"type": "string"},
                                          "n": {"type": "string"}, "m": {"type": "string"}}},
                "Voice": {"type": "string", "enum": ["x", "z"]},
                "Doc": {"type": "object", "description": "new words",
                        "properties": {"x": {"type": "string", "description": "b"}}},
                "ServerNotification": {"oneOf": [notification("a"), notification("new")]},
                "Added": {"type": "string"},
            }),
        );
        let text = summarize(&old, &new, "0.163.0", "0.162.1");
        for line in [
            "### Protocol changes from Codex 0.163.0 to 0.162.1",
            "ServerNotification: 2 → 2 methods\n- added (1): `new`\n- removed (1): `gone`",
            "Definitions: 5 → 5\n- added (1): `Added`\n- removed (1): `Removed`",
            "- `Params`: +`added` (optional); -`old`; `m` now required; `n` type changed",
            "- `Voice`: values added \"z\"; values removed \"y\"",
            "- documentation only (1): `Doc`",
        ] {
            assert!(text.contains(line), "missing {line:?} in:\n{text}");
        }
        // The envelope definition is not repeated under "Changed definitions".
        assert!(!text.contains("- `ServerNotification`"), "{text}");
    }

    #[test]
    fn method_tagged_unions_name_the_methods() {
        let old = json!({"oneOf": [notification("a"), notification("b")], "properties": {}});
        let new = json!({"oneOf": [notification("a")], "properties": {}});
        assert_eq!(
            field_changes(&old, &new),
            ["values removed {method: b}".to_string()]
        );
    }

    #[test]
    fn variants_present_in_both_report_their_own_fields() {
        let text = |extra: Value| {
            let mut props = json!({"type": {"enum": ["output_text"]}, "text": {"type": "string"}});
            props
                .as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            json!({"type": "object", "properties": props})
        };
        let old = json!({"oneOf": [text(json!({}))]});
        let new = json!({"oneOf": [text(json!({"logprobs": {"type": "array"}}))]});
        assert_eq!(
            field_changes(&old, &new),
            ["{type: output_text}: +`logprobs` (optional)".to_string()]
        );
    }
}

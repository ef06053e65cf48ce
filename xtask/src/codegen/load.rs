//! Reads the pinned schema directory: the v2 bundle plus the per-file schemas that carry the v1
//! and server-request types, deduplicated by name (duplicates must agree), and the three method
//! lists (client requests, server notifications, server requests).

use anyhow::{Context, Result, bail};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// How a client method takes its params.
#[derive(Debug, Clone)]
pub enum Params {
    /// `params` schema `{"type":"null"}`: no params (omitted on the wire).
    None,
    /// A params type.
    Type(String),
    /// `anyOf: [Type, null]`: optional params (sent as the type, which has only optional fields).
    Optional(String),
}

#[derive(Debug, Clone)]
pub struct Method {
    pub method: String,
    pub params: Params,
    pub doc: Option<String>,
}

pub struct Input {
    /// Every definition by name (`title`/`$schema` of file roots removed).
    pub defs: BTreeMap<String, Value>,
    pub client_requests: Vec<Method>,
    pub notifications: Vec<Method>,
    pub server_requests: Vec<Method>,
}

/// Definitions that are envelopes handled by hand-written code (never generated as types).
pub const ENVELOPE_DEFS: &[&str] = &["ClientRequest", "ServerNotification", "ServerRequest"];

pub fn load(dir: &Path) -> Result<Input> {
    let mut defs: BTreeMap<String, (Value, String)> = BTreeMap::new();
    let bundle = read(&dir.join("codex_app_server_protocol.v2.schemas.json"))?;
    for (name, def) in object(&bundle, "definitions")? {
        add(&mut defs, name, def, "v2 bundle")?;
    }
    let mut files: Vec<PathBuf> = vec![
        dir.join("ClientRequest.json"),
        dir.join("ServerNotification.json"),
        dir.join("ServerRequest.json"),
    ];
    let mut extra: Vec<PathBuf> = std::fs::read_dir(dir)?
        .chain(std::fs::read_dir(dir.join("v1"))?)
        .map(|e| e.map(|e| e.path()))
        .collect::<std::io::Result<_>>()?;
    extra.retain(|p| {
        let n = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
        (n.ends_with("Params.json") || n.ends_with("Response.json")) && !n.starts_with("JSONRPC")
    });
    extra.sort();
    files.extend(extra);
    for file in &files {
        let json = read(file)?;
        let label = file.strip_prefix(dir).unwrap_or(file).display().to_string();
        if let Some(d) = json.get("definitions").and_then(Value::as_object) {
            for (name, def) in d {
                add(&mut defs, name, def, &label)?;
            }
        }
        let stem = file.file_stem().and_then(|s| s.to_str()).unwrap_or("");
        if !ENVELOPE_DEFS.contains(&stem) {
            let mut root = json.as_object().cloned().unwrap_or_default();
            root.remove("definitions");
            add(&mut defs, stem, &Value::Object(root), &label)?;
        }
    }
    let client_requests = methods(
        &read(&dir.join("ClientRequest.json"))?,
        "ClientRequest.json",
    )?;
    let notifications = methods(
        &read(&dir.join("ServerNotification.json"))?,
        "ServerNotification.json",
    )?;
    let server_requests = methods(
        &read(&dir.join("ServerRequest.json"))?,
        "ServerRequest.json",
    )?;
    Ok(Input {
        defs: defs.into_iter().map(|(k, (v, _))| (k, v)).collect(),
        client_requests,
        notifications,
        server_requests,
    })
}

fn read(path: &Path) -> Result<Value> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
}

fn object<'a>(v: &'a Value, key: &str) -> Result<&'a Map<String, Value>> {
    v.get(key)
        .and_then(Value::as_object)
        .with_context(|| format!("no `{key}` object"))
}

/// A definition without `$schema`, with titles sanitized (`ApiKeyv2::LoginAccountParams` →
/// `ApiKeyLoginAccountParams`, the spelling the per-file schemas use).
fn normalize(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(k, _)| k.as_str() != "$schema")
                .map(|(k, v)| match (k.as_str(), v) {
                    ("title", Value::String(t)) => {
                        (k.clone(), Value::String(t.replace("v2::", "")))
                    }
                    _ => (k.clone(), normalize(v)),
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(normalize).collect()),
        other => other.clone(),
    }
}

fn without_titles(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(k, _)| k.as_str() != "title")
                .map(|(k, v)| (k.clone(), without_titles(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(without_titles).collect()),
        other => other.clone(),
    }
}

fn add(
    defs: &mut BTreeMap<String, (Value, String)>,
    name: &str,
    def: &Value,
    from: &str,
) -> Result<()> {
    let def = normalize(def);
    match defs.get(name) {
        None => {
            defs.insert(name.to_string(), (def, from.to_string()));
        }
        Some((existing, first)) => {
            // Copies may differ in their root `title` only; anything else is a schema problem.
            if without_titles(existing) != without_titles(&def) {
                bail!("definition `{name}` differs between {first} and {from}");
            }
        }
    }
    Ok(())
}

fn methods(root: &Value, file: &str) -> Result<Vec<Method>> {
    let variants = root
        .get("oneOf")
        .and_then(Value::as_array)
        .with_context(|| format!("{file}: no oneOf"))?;
    let mut out = Vec::new();
    for v in variants {
        let props = object(v, "properties").with_context(|| format!("{file}: variant"))?;
        let method = props
            .get("method")
            .and_then(|m| m.get("enum"))
            .and_then(Value::as_array)
            .and_then(|a| a.first())
            .and_then(Value::as_str)
            .with_context(|| format!("{file}: variant without a method"))?
            .to_string();
        let params = match props.get("params") {
            None => Params::None,
            Some(p) => params_of(p).with_context(|| format!("{file}: params of `{method}`"))?,
        };
        out.push(Method {
            method,
            params,
            doc: v
                .get("description")
                .and_then(Value::as_str)
                .map(str::to_string),
        });
    }
    Ok(out)
}

fn params_of(p: &Value) -> Result<Params> {
    if let Some(r) = p.get("$ref").and_then(Value::as_str) {
        return Ok(Params::Type(ref_name(r)?.to_string()));
    }
    if p.get("type").and_then(Value::as_str) == Some("null") {
        return Ok(Params::None);
    }
    if let Some(any) = p.get("anyOf").and_then(Value::as_array) {
        let refs: Vec<&str> = any
            .iter()
            .filter_map(|a| a.get("$ref").and_then(Value::as_str))
            .collect();
        let nulls = any
            .iter()
            .filter(|a| a.get("type").and_then(Value::as_str) == Some("null"))
            .count();
        if refs.len() == 1 && nulls == 1 && any.len() == 2 {
            return Ok(Params::Optional(ref_name(refs[0])?.to_string()));
        }
    }
    bail!("unsupported params schema {p}")
}

pub fn ref_name(r: &str) -> Result<&str> {
    r.strip_prefix("#/definitions/")
        .filter(|n| !n.contains('/'))
        .with_context(|| format!("unsupported $ref `{r}`"))
}

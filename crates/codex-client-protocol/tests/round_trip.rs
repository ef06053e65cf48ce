//! Fidelity over recorded real traffic: every line of `tests/fixtures/*.jsonl` decodes into its
//! typed value, serializes back, and the result equals the original JSON except for `null` ↔
//! absent and omitted empty arrays / `false` defaults. No line reaches a catch-all (`Unknown`).
//!
//! With the `experimental` feature nothing may be lost. Without it, the only fields lost are
//! ones the stable schema does not name and the experimental bundle does (the real server sends
//! some of them in stable sessions too); users reach them through the raw JSON.

use codex_client_protocol::envelope::Incoming;
use codex_client_protocol::{
    InitializeResponse, ServerNotification, ServerRequest, ThreadStartResponse, TurnStartResponse,
};
use serde_json::{Map, Value};
use std::collections::BTreeSet;
use std::path::Path;

/// `v` without the keys whose value is `null`, `[]` or `false` (what serializing may omit).
fn normalized(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(_, x)| !matches!(x, Value::Null | Value::Bool(false)))
                .filter(|(_, x)| !matches!(x, Value::Array(a) if a.is_empty()))
                .map(|(k, x)| (k.clone(), normalized(x)))
                .collect::<Map<_, _>>(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(normalized).collect()),
        other => other.clone(),
    }
}

/// Where `back` differs from `original`: `dropped` keys (in the original only) and other
/// differences, as JSON paths.
fn diff(
    original: &Value,
    back: &Value,
    path: &str,
    dropped: &mut Vec<String>,
    other: &mut Vec<String>,
) {
    match (original, back) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, x) in a {
                let p = format!("{path}.{k}");
                match b.get(k) {
                    Some(y) => diff(x, y, &p, dropped, other),
                    None => dropped.push(p),
                }
            }
            for k in b.keys().filter(|k| !a.contains_key(*k)) {
                other.push(format!("{path}.{k} (added)"));
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                diff(x, y, &format!("{path}[{i}]"), dropped, other);
            }
        }
        (Value::Number(a), Value::Number(b)) if a.as_f64() == b.as_f64() => {}
        (a, b) if a == b => {}
        (a, b) => other.push(format!("{path}: {a} became {b}")),
    }
}

/// `result` decoded into `T` (no catch-all reached) and serialized back.
fn back<T: serde::de::DeserializeOwned + serde::Serialize + std::fmt::Debug>(
    result: &Value,
) -> Result<Value, String> {
    let typed: T = serde_json::from_value(result.clone()).map_err(|e| e.to_string())?;
    let debug = format!("{typed:?}");
    if reached_catch_all(&debug) {
        return Err(format!("reached a catch-all: {debug}"));
    }
    serde_json::to_value(&typed).map_err(|e| e.to_string())
}

/// A response's result, decoded by the type its shape names (the fixtures do not record the
/// requests); `None` for an empty result (`{}`: interrupt, steer, ...).
fn decode_result(result: &Value) -> Option<Result<Value, String>> {
    let obj = result.as_object()?;
    if obj.is_empty() {
        return None;
    }
    Some(if obj.contains_key("userAgent") {
        back::<InitializeResponse>(result)
    } else if obj.contains_key("thread") {
        back::<ThreadStartResponse>(result)
    } else if obj.contains_key("turn") {
        back::<TurnStartResponse>(result)
    } else if let Some(back) = experimental_result(obj, result) {
        back
    } else {
        Err(format!("no response type known for result {result}"))
    })
}

/// The responses of the experimental methods the recorded experimental session calls
/// (`thread/queue/add` and `update` answer `queuedSubmission`, `list` a page of them, `delete`
/// `deleted`).
#[cfg(feature = "experimental")]
fn experimental_result(obj: &Map<String, Value>, result: &Value) -> Option<Result<Value, String>> {
    use codex_client_protocol::{
        ThreadQueueAddResponse, ThreadQueueDeleteResponse, ThreadQueueListResponse,
    };
    if obj.contains_key("queuedSubmission") {
        Some(back::<ThreadQueueAddResponse>(result))
    } else if obj.contains_key("data") {
        Some(back::<ThreadQueueListResponse>(result))
    } else if obj.contains_key("deleted") {
        Some(back::<ThreadQueueDeleteResponse>(result))
    } else {
        None
    }
}

#[cfg(not(feature = "experimental"))]
fn experimental_result(_: &Map<String, Value>, _: &Value) -> Option<Result<Value, String>> {
    None
}

/// Whether a decoded value's `Debug` shows a catch-all: an unknown method (`Unknown {`), union
/// tag or value (`Unknown(` holding raw JSON or a string; `Unrecognized(` where `Unknown` is a real
/// value's name). A real variant named `Unknown` holds its payload struct, not raw JSON.
fn reached_catch_all(debug: &str) -> bool {
    debug.starts_with("Unknown {")
        || [
            "Unknown(Object",
            "Unknown(String(",
            "Unknown(Array",
            "Unknown(Number",
            "Unknown(Bool",
            "Unknown(Null",
            "Unknown(\"",
            "Unrecognized(",
        ]
        .iter()
        .any(|p| debug.contains(p))
}

struct Report {
    lines: usize,
    dropped: Vec<String>,
    other: Vec<String>,
}

/// The `*.jsonl` files of `tests/fixtures/<sub>`, sorted.
fn fixture_files(sub: &str) -> Vec<std::path::PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(sub);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no fixtures in {}", dir.display());
    files
}

/// The recorded stable sessions, and with the `experimental` feature the experimental ones
/// (`tests/fixtures/experimental/`: `initialize` with `capabilities.experimentalApi`, a turn
/// and `thread/queue/*`), whose experimental methods and notifications only that build types.
fn round_trip_fixtures() -> Report {
    let mut files = fixture_files("");
    if cfg!(feature = "experimental") {
        files.extend(fixture_files("experimental"));
    }
    let mut report = Report {
        lines: 0,
        dropped: Vec::new(),
        other: Vec::new(),
    };
    for file in files {
        let name = file
            .strip_prefix(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures"))
            .unwrap()
            .to_string_lossy()
            .into_owned();
        for (n, line) in std::fs::read_to_string(&file).unwrap().lines().enumerate() {
            let at = format!("{name}:{}", n + 1);
            let original: Value = serde_json::from_str(line).unwrap();
            let (part, back) = match Incoming::parse(line).unwrap() {
                Incoming::Notification { method, params, .. } => {
                    let typed = ServerNotification::decode(&method, params)
                        .unwrap_or_else(|e| panic!("{at}: {e}"));
                    let debug = format!("{typed:?}");
                    assert!(
                        !reached_catch_all(&debug),
                        "{at}: reached a catch-all: {debug}"
                    );
                    (original.clone(), serde_json::to_value(&typed).unwrap())
                }
                Incoming::Request { method, params, .. } => {
                    let typed = ServerRequest::decode(&method, params)
                        .unwrap_or_else(|e| panic!("{at}: {e}"));
                    let debug = format!("{typed:?}");
                    assert!(
                        !reached_catch_all(&debug),
                        "{at}: reached a catch-all: {debug}"
                    );
                    let mut part = original.clone();
                    part.as_object_mut().unwrap().remove("id");
                    (part, serde_json::to_value(&typed).unwrap())
                }
                Incoming::Response { .. } => {
                    let result = &original["result"];
                    match decode_result(result) {
                        None => continue,
                        Some(back) => {
                            (result.clone(), back.unwrap_or_else(|e| panic!("{at}: {e}")))
                        }
                    }
                }
                other => panic!("{at}: unexpected line {other:?}"),
            };
            // Notifications carry envelope fields (`emittedAtMs`) the typed value does not own.
            let mut part = part;
            if let Some(m) = part.as_object_mut() {
                m.remove("emittedAtMs");
            }
            report.lines += 1;
            let mut dropped = Vec::new();
            let mut other = Vec::new();
            diff(
                &normalized(&part),
                &normalized(&back),
                "",
                &mut dropped,
                &mut other,
            );
            report
                .dropped
                .extend(dropped.into_iter().map(|p| format!("{at}: {p}")));
            report
                .other
                .extend(other.into_iter().map(|p| format!("{at}: {p}")));
        }
    }
    report
}

/// Every property name the experimental bundle has.
fn experimental_property_names() -> BTreeSet<String> {
    fn walk(v: &Value, out: &mut BTreeSet<String>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::Object(p)) = m.get("properties") {
                    out.extend(p.keys().cloned());
                }
                m.values().for_each(|x| walk(x, out));
            }
            Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
            _ => {}
        }
    }
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("schema-experimental/codex_app_server_protocol.schemas.json");
    let bundle: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut out = BTreeSet::new();
    walk(&bundle, &mut out);
    out
}

#[test]
fn every_recorded_line_round_trips() {
    let report = round_trip_fixtures();
    assert!(report.lines > 100, "only {} lines checked", report.lines);
    assert!(
        report.other.is_empty(),
        "values changed in the round trip:\n{}",
        report.other.join("\n")
    );
    if cfg!(feature = "experimental") {
        assert!(
            report.dropped.is_empty(),
            "fields dropped with the experimental feature on:\n{}",
            report.dropped.join("\n")
        );
    } else {
        let named = experimental_property_names();
        let unexpected: Vec<&String> = report
            .dropped
            .iter()
            .filter(|p| {
                let key = p.rsplit('.').next().unwrap_or_default();
                !named.contains(key)
            })
            .collect();
        assert!(
            unexpected.is_empty(),
            "fields dropped that not even the experimental bundle names:\n{unexpected:#?}"
        );
    }
    println!(
        "round trip: {} lines, {} fields dropped (experimental feature {}), {} other differences",
        report.lines,
        report.dropped.len(),
        if cfg!(feature = "experimental") {
            "on"
        } else {
            "off"
        },
        report.other.len()
    );
}

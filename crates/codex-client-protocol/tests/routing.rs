//! Routing metadata: `thread_id()` / `turn_id()` on sample and recorded messages, the generated
//! `ROUTING` tables against the schema files, and the method counts of the pinned schema.
// With `experimental`, the schema-table tests below are compiled out (see them); their helpers go
// unused then.
#![cfg_attr(feature = "experimental", allow(dead_code, unused_imports))]

use codex_client_protocol::envelope::Incoming;
use codex_client_protocol::{
    ServerNotification, ServerRequest, methods, notifications, server_methods,
};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

fn schema(file: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("schema")
        .join(file);
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn notification(line: &str) -> ServerNotification {
    match Incoming::parse(line).unwrap() {
        Incoming::Notification { method, params, .. } => {
            ServerNotification::decode(&method, params).unwrap()
        }
        other => panic!("not a notification: {other:?}"),
    }
}

fn request(line: &str) -> ServerRequest {
    match Incoming::parse(line).unwrap() {
        Incoming::Request { method, params, .. } => ServerRequest::decode(&method, params).unwrap(),
        other => panic!("not a request: {other:?}"),
    }
}

/// Sample lines written after protocol.md §4 and §6.1 (faithful to the wire).
#[test]
fn sample_messages_route_to_their_thread_and_turn() {
    let turn = r#"{"id":"U","rootTurnId":"U","items":[],"itemsView":"notLoaded","status":"inProgress","error":null,"startedAt":1700000000,"completedAt":null,"durationMs":null}"#;
    let cases: Vec<(String, Option<&str>, Option<&str>)> = vec![
        (
            format!(r#"{{"method":"turn/started","params":{{"threadId":"T","turn":{turn}}},"emittedAtMs":1700000000001}}"#),
            Some("T"),
            Some("U"),
        ),
        (
            r#"{"method":"item/agentMessage/delta","params":{"threadId":"T","turnId":"U","itemId":"msg_1","delta":"Hello"},"emittedAtMs":1}"#.into(),
            Some("T"),
            Some("U"),
        ),
        (
            r#"{"method":"turn/completed","params":{"threadId":"T","turn":{"id":"U","items":[{"type":"agentMessage","id":"msg_1","text":"Hello world","phase":"final_answer"}],"itemsView":"summary","status":"completed","error":null,"startedAt":1,"completedAt":2,"durationMs":1000}},"emittedAtMs":2}"#.into(),
            Some("T"),
            Some("U"),
        ),
        (
            r#"{"method":"thread/status/changed","params":{"threadId":"T","status":{"type":"active","activeFlags":["waitingOnApproval"]}},"emittedAtMs":3}"#.into(),
            Some("T"),
            None,
        ),
        (
            r#"{"method":"item/started","params":{"threadId":"T","turnId":"U","startedAtMs":5,"item":{"type":"userMessage","id":"u1","content":[{"type":"text","text":"say hello","text_elements":[]}]}},"emittedAtMs":5}"#.into(),
            Some("T"),
            Some("U"),
        ),
        (
            r#"{"method":"serverRequest/resolved","params":{"threadId":"T","requestId":0},"emittedAtMs":6}"#.into(),
            Some("T"),
            None,
        ),
        (
            r#"{"method":"warning","params":{"message":"Model metadata not found"},"emittedAtMs":7}"#.into(),
            None,
            None,
        ),
        (
            r#"{"method":"account/rateLimits/updated","params":{"rateLimits":{"limitId":"codex","primary":null,"secondary":null}},"emittedAtMs":8}"#.into(),
            None,
            None,
        ),
    ];
    for (line, thread, turn) in &cases {
        let n = notification(line);
        assert!(!matches!(n, ServerNotification::Unknown { .. }), "{line}");
        assert_eq!(n.thread_id(), *thread, "{line}");
        assert_eq!(n.turn_id(), *turn, "{line}");
    }

    let approval = r#"{"method":"item/commandExecution/requestApproval","id":0,"params":{"threadId":"T","turnId":"U","itemId":"call_1","startedAtMs":9,"reason":"needs escalation","command":"touch x","cwd":"/tmp/w","commandActions":[],"proposedExecpolicyAmendment":["touch"],"availableDecisions":["accept",{"acceptWithExecpolicyAmendment":{"execpolicy_amendment":["touch"]}},"cancel"]}}"#;
    let r = request(approval);
    assert!(matches!(
        r,
        ServerRequest::ItemCommandExecutionRequestApproval(_)
    ));
    assert_eq!((r.thread_id(), r.turn_id()), (Some("T"), Some("U")));
    assert_eq!(r.method(), "item/commandExecution/requestApproval");

    let elicitation = r#"{"method":"mcpServer/elicitation/request","id":1,"params":{"threadId":"T","turnId":null,"serverName":"s","mode":"url","message":"m","url":"https://example.com","elicitationId":"e"}}"#;
    let r = request(elicitation);
    assert_eq!((r.thread_id(), r.turn_id()), (Some("T"), None));

    let legacy = r#"{"method":"execCommandApproval","id":2,"params":{"callId":"c","conversationId":"T","command":["ls"],"cwd":"/tmp","parsedCmd":[]}}"#;
    let r = request(legacy);
    assert_eq!((r.thread_id(), r.turn_id()), (Some("T"), None));
}

#[test]
fn thread_started_routes_by_thread_id_and_goal_update_by_optional_turn() {
    let n = notification(
        r#"{"method":"thread/goal/updated","params":{"threadId":"T","turnId":null,"goal":{"threadId":"T","objective":"o","status":"active","tokenBudget":null,"tokensUsed":0,"timeUsedSeconds":0,"createdAt":1,"updatedAt":1}}}"#,
    );
    assert_eq!((n.thread_id(), n.turn_id()), (Some("T"), None));
    let (_, thread, turn) = notifications::ROUTING
        .iter()
        .find(|(m, ..)| *m == "thread/started")
        .unwrap();
    assert_eq!((*thread, *turn), (Some("params.thread.id"), None));
}

/// The value at a ROUTING path (`params.a.b`) of raw params.
fn at<'v>(params: &'v Value, path: &str) -> Option<&'v str> {
    let mut cur = params;
    for key in path.strip_prefix("params.").unwrap().split('.') {
        cur = cur.get(key)?;
    }
    cur.as_str()
}

fn routing_of<'a>(
    table: &'a [(&'a str, Option<&'a str>, Option<&'a str>)],
    method: &str,
) -> (Option<&'a str>, Option<&'a str>) {
    let (_, t, u) = table
        .iter()
        .find(|(m, ..)| *m == method)
        .unwrap_or_else(|| panic!("no ROUTING entry for {method}"));
    (*t, *u)
}

/// Every line the testkit recorded from the real app-server: it parses, its notification or
/// request decodes into a known variant, and `thread_id()`/`turn_id()` read exactly what the
/// ROUTING path points at in the raw params.
#[test]
fn recorded_traffic_decodes_and_routes() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.retain(|p| p.extension().is_some_and(|e| e == "jsonl"));
    files.sort();
    assert!(!files.is_empty(), "no fixtures in {}", dir.display());
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        for (i, line) in text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
        {
            let at_line = format!("{}:{}", file.file_name().unwrap().to_string_lossy(), i + 1);
            match Incoming::parse(line).unwrap_or_else(|e| panic!("{at_line}: {e}")) {
                Incoming::Notification {
                    method,
                    params,
                    emitted_at_ms,
                } => {
                    assert!(emitted_at_ms.is_some(), "{at_line}: no emittedAtMs");
                    let n = ServerNotification::decode(&method, params)
                        .unwrap_or_else(|e| panic!("{at_line}: {e}"));
                    assert!(
                        !matches!(n, ServerNotification::Unknown { .. }),
                        "{at_line}: unknown method {method}"
                    );
                    let raw: Value = serde_json::from_str(params.unwrap().get()).unwrap();
                    let (t, u) = routing_of(notifications::ROUTING, &method);
                    assert_eq!(
                        n.thread_id(),
                        t.and_then(|p| at(&raw, p)),
                        "{at_line}: thread of {method}"
                    );
                    assert_eq!(
                        n.turn_id(),
                        u.and_then(|p| at(&raw, p)),
                        "{at_line}: turn of {method}"
                    );
                    *seen.entry("notification").or_default() += 1;
                }
                Incoming::Request { method, params, .. } => {
                    let r = ServerRequest::decode(&method, params)
                        .unwrap_or_else(|e| panic!("{at_line}: {e}"));
                    assert!(
                        !matches!(r, ServerRequest::Unknown { .. }),
                        "{at_line}: unknown method {method}"
                    );
                    let raw: Value = serde_json::from_str(params.unwrap().get()).unwrap();
                    let (t, u) = routing_of(server_methods::ROUTING, &method);
                    assert_eq!(r.thread_id(), t.and_then(|p| at(&raw, p)), "{at_line}");
                    assert_eq!(r.turn_id(), u.and_then(|p| at(&raw, p)), "{at_line}");
                    *seen.entry("request").or_default() += 1;
                }
                Incoming::Response { .. } => *seen.entry("response").or_default() += 1,
                Incoming::Error { .. } => *seen.entry("error").or_default() += 1,
            }
        }
    }
    assert!(
        seen.get("notification").copied().unwrap_or(0) > 50,
        "{seen:?}"
    );
    assert!(seen.contains_key("request"), "{seen:?}");
}

/// The definition a `$ref` names, looked up in the schema file's own definitions.
fn def<'s>(file: &'s Value, r: &str) -> &'s Value {
    let name = r.strip_prefix("#/definitions/").unwrap();
    &file["definitions"][name]
}

/// Every property of a params schema: its own, plus those of its `oneOf` members.
fn has_prop(schema: &Value, key: &str) -> bool {
    schema["properties"].get(key).is_some()
        || schema["oneOf"]
            .as_array()
            .is_some_and(|m| m.iter().all(|m| m["properties"].get(key).is_some()))
}

/// For each method of a schema file: does the params schema carry a thread id
/// (`threadId`, `conversationId`, `thread.id`) and a turn id (`turnId`, `turn.id`)?
fn schema_routing(file: &Value) -> BTreeMap<String, (bool, bool)> {
    let mut out = BTreeMap::new();
    for v in file["oneOf"].as_array().unwrap() {
        let method = v["properties"]["method"]["enum"][0]
            .as_str()
            .unwrap()
            .to_string();
        let params = def(file, v["properties"]["params"]["$ref"].as_str().unwrap());
        let container_id = |key: &str| {
            params["properties"][key]["$ref"]
                .as_str()
                .is_some_and(|r| def(file, r)["properties"].get("id").is_some())
        };
        let thread = has_prop(params, "threadId")
            || has_prop(params, "conversationId")
            || container_id("thread");
        let turn = has_prop(params, "turnId") || container_id("turn");
        out.insert(method, (thread, turn));
    }
    out
}

// The stable schema's tables and counts: checked by the stable build (the `experimental`
// feature adds the experimental bundle's methods; its own tests are in the generated
// union tests and `round_trip.rs`).
#[cfg(not(feature = "experimental"))]
#[test]
fn routing_tables_match_the_schema() {
    for (file, table, count) in [
        ("ServerNotification.json", notifications::ROUTING, 85),
        ("ServerRequest.json", server_methods::ROUTING, 10),
    ] {
        let expected = schema_routing(&schema(file));
        assert_eq!(expected.len(), count, "{file}");
        assert_eq!(table.len(), count, "{file}");
        for (method, (thread, turn)) in &expected {
            let (t, u) = routing_of(table, method);
            assert_eq!(t.is_some(), *thread, "{file}: thread id of {method}");
            assert_eq!(u.is_some(), *turn, "{file}: turn id of {method}");
        }
    }
    let count = |table: &[(&str, Option<&str>, Option<&str>)], thread: bool| {
        table
            .iter()
            .filter(|(_, t, u)| if thread { t.is_some() } else { u.is_some() })
            .count()
    };
    // protocol.md §3.1: 64 notifications carry a thread id, 31 a turn id; 8 and 6 of the requests.
    assert_eq!(count(notifications::ROUTING, true), 64);
    assert_eq!(count(notifications::ROUTING, false), 31);
    assert_eq!(count(server_methods::ROUTING, true), 8);
    assert_eq!(count(server_methods::ROUTING, false), 6);
    assert_eq!(
        routing_of(notifications::ROUTING, "turn/started"),
        (Some("params.threadId"), Some("params.turn.id"))
    );
    assert_eq!(
        routing_of(notifications::ROUTING, "turn/completed"),
        (Some("params.threadId"), Some("params.turn.id"))
    );
    assert_eq!(
        routing_of(notifications::ROUTING, "thread/goal/updated"),
        (Some("params.threadId"), Some("params.turnId"))
    );
    assert_eq!(
        routing_of(server_methods::ROUTING, "applyPatchApproval"),
        (Some("params.conversationId"), None)
    );
}

// The stable schema's tables and counts: checked by the stable build (the `experimental`
// feature adds the experimental bundle's methods; its own tests are in the generated
// union tests and `round_trip.rs`).
#[cfg(not(feature = "experimental"))]
#[test]
fn method_counts_match_the_pinned_schema() {
    assert_eq!(methods::ALL.len(), 105);
    assert_eq!(notifications::METHODS.len(), 85);
    assert_eq!(server_methods::ALL.len(), 10);
    let client = schema("ClientRequest.json");
    let names: Vec<&str> = client["oneOf"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["properties"]["method"]["enum"][0].as_str().unwrap())
        .collect();
    assert_eq!(names, methods::ALL);
    for all in [methods::ALL, notifications::METHODS, server_methods::ALL] {
        let mut sorted = all.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), all.len(), "duplicate methods");
    }
    // Every known method decodes to its own variant and reports its name back.
    for method in notifications::METHODS {
        let n = ServerNotification::decode(method, None);
        if let Ok(n) = n {
            assert_eq!(n.method(), *method);
        }
    }
}

//! Helpers shared by the end-to-end tests: transcript queries, the "every line decodes" check and
//! fixture recording.

#![allow(dead_code)] // each test binary uses a different subset

use codex_client_protocol::envelope::{Incoming, RequestId};
use codex_client_protocol::{ClientMethod, ServerNotification, ServerRequest, methods};
use codex_client_testkit::RawAppServer;
use serde_json::Value;
use std::path::PathBuf;
use std::time::Duration;

/// Upper bound for one turn; the real server needs ~0.2 s, a loaded 2-core CI machine more.
pub const TURN_TIMEOUT: Duration = Duration::from_secs(30);

/// Set to `1` to (re)write the recorded fixtures of the protocol crate from these tests.
pub const RECORD_ENV: &str = "CODEX_TESTKIT_RECORD_FIXTURES";

/// Where the recorded real traffic lives (the protocol crate's tests read it).
pub fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../codex-client-protocol/tests/fixtures")
}

/// Every line of the transcript, parsed.
pub fn messages(server: &RawAppServer) -> Vec<Value> {
    server
        .transcript()
        .iter()
        .map(|line| serde_json::from_str(line).expect("the transcript holds JSON lines"))
        .collect()
}

/// Whether `m` is the notification `method`.
pub fn is_notification(m: &Value, method: &str) -> bool {
    m["method"] == method && m.get("id").is_none()
}

/// The `item/agentMessage/delta` texts of `turn_id`, in arrival order.
pub fn deltas_of_turn(messages: &[Value], turn_id: &str) -> Vec<String> {
    messages
        .iter()
        .filter(|m| {
            is_notification(m, "item/agentMessage/delta") && m["params"]["turnId"] == turn_id
        })
        .map(|m| m["params"]["delta"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// The `item/completed` items of `turn_id` whose item type is `item_type`.
pub fn completed_items<'a>(
    messages: &'a [Value],
    turn_id: &str,
    item_type: &str,
) -> Vec<&'a Value> {
    messages
        .iter()
        .filter(|m| {
            is_notification(m, "item/completed")
                && m["params"]["turnId"] == turn_id
                && m["params"]["item"]["type"] == item_type
        })
        .map(|m| &m["params"]["item"])
        .collect()
}

/// Position of the first message matching `pred`.
pub fn position(messages: &[Value], pred: impl Fn(&Value) -> bool) -> Option<usize> {
    messages.iter().position(pred)
}

/// Waits for `turn/completed` of `turn_id` and returns its `params.turn`.
pub async fn wait_turn_completed(server: &mut RawAppServer, turn_id: &str) -> Value {
    let done = server
        .wait_for(&format!("turn/completed of {turn_id}"), TURN_TIMEOUT, |m| {
            is_notification(m, "turn/completed") && m["params"]["turn"]["id"] == turn_id
        })
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    done["params"]["turn"].clone()
}

/// Checks that every line the server sent is a well-formed message of one of the four kinds, and
/// decodes into the protocol crate's types (see [`decode_typed`]).
pub fn assert_every_line_decodes(server: &RawAppServer) {
    let lines = server.transcript();
    assert!(!lines.is_empty(), "the server sent nothing");
    for line in &lines {
        let m: Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON: {e}: {line}"));
        let has_id = m.get("id").is_some();
        let has_method = m.get("method").is_some();
        assert!(
            has_method || (has_id && (m.get("result").is_some() || m.get("error").is_some())),
            "not a JSON-RPC message: {line}"
        );
        decode_typed(server, line);
    }
}

/// Typed decoding of one received line with the protocol crate: the envelope parses; a
/// notification decodes to a known `ServerNotification` variant, a server request to a known
/// `ServerRequest`, a response into the `ClientMethod::Response` of the method sent with its id;
/// and nowhere inside (items, statuses, enums) does a catch-all variant appear.
pub fn decode_typed(server: &RawAppServer, line: &str) {
    match Incoming::parse(line).unwrap_or_else(|e| panic!("envelope: {e}: {line}")) {
        Incoming::Notification { method, params, .. } => {
            let n = ServerNotification::decode(&method, params)
                .unwrap_or_else(|e| panic!("{e}: {line}"));
            assert!(
                !matches!(n, ServerNotification::Unknown { .. }),
                "notification {method} decoded to Unknown: {line}"
            );
            assert_eq!(n.method(), method);
            assert_no_catch_all(&n, line);
        }
        Incoming::Request { method, params, .. } => {
            let r =
                ServerRequest::decode(&method, params).unwrap_or_else(|e| panic!("{e}: {line}"));
            assert!(
                !matches!(r, ServerRequest::Unknown { .. }),
                "server request {method} decoded to Unknown: {line}"
            );
            assert_eq!(r.method(), method);
            assert_no_catch_all(&r, line);
        }
        Incoming::Response { id, result } => {
            let RequestId::Integer(id) = id else {
                panic!("a response to an id this driver never sent: {line}")
            };
            let method = server
                .sent_method(id)
                .unwrap_or_else(|| panic!("a response to an id this driver never sent: {line}"));
            decode_response(method, result.get());
        }
        Incoming::Error { .. } => panic!("no request of these scenarios fails: {line}"),
    }
}

/// Fails when a decoded message holds a forward-compatibility catch-all anywhere inside.
///
/// The generated unions and string enums name their catch-all `Unknown` (or `Unrecognized` where
/// the schema itself has a variant called `unknown`, as `CommandAction` does) and it holds the raw
/// JSON (`serde_json::Value`) or the raw string; in `Debug` output that is the variant name
/// followed by a `Value` or a quoted string, which a schema variant (a struct) never is.
fn assert_no_catch_all(decoded: &impl std::fmt::Debug, line: &str) {
    const RAW: [&str; 7] = [
        "\"", "Object {", "Array [", "String(", "Number(", "Bool(", "Null)",
    ];
    let debug = format!("{decoded:?}");
    for name in ["Unknown(", "Unrecognized("] {
        for (at, _) in debug.match_indices(name) {
            let inner = &debug[at + name.len()..];
            assert!(
                !RAW.iter().any(|raw| inner.starts_with(raw)),
                "a part of this line decoded to a catch-all {name}..): {line}\n{debug}"
            );
        }
    }
}

#[test]
fn the_catch_all_check_tells_catch_alls_from_schema_variants() {
    use codex_client_protocol::types::CommandAction;
    let schema_variant: CommandAction =
        serde_json::from_str(r#"{"type":"unknown","command":"ls"}"#).unwrap();
    assert_no_catch_all(&schema_variant, "a schema variant named unknown");
    let catch_all: CommandAction =
        serde_json::from_str(r#"{"type":"teleport","command":"ls"}"#).unwrap();
    let caught = std::panic::catch_unwind(|| assert_no_catch_all(&catch_all, "a new type"));
    assert!(caught.is_err(), "{catch_all:?} must be reported");
}

/// Decodes `result` into the response type of `method`.
fn decode_response(method: &str, result: &str) {
    fn check<M: ClientMethod>(result: &str)
    where
        M::Response: std::fmt::Debug,
    {
        match serde_json::from_str::<M::Response>(result) {
            Ok(response) => assert_no_catch_all(&response, result),
            Err(e) => panic!("{} response does not decode: {e}: {result}", M::METHOD),
        }
    }
    match method {
        "initialize" => check::<methods::Initialize>(result),
        "thread/start" => check::<methods::ThreadStart>(result),
        "turn/start" => check::<methods::TurnStart>(result),
        "turn/interrupt" => check::<methods::TurnInterrupt>(result),
        "model/list" => check::<methods::ModelList>(result),
        other => panic!("add {other} to decode_response"),
    }
}

/// Writes the transcript to `<fixtures>/<name>.jsonl` (`name` may name a subdirectory) when
/// [`RECORD_ENV`] is `1`.
pub fn record_fixture(server: &RawAppServer, name: &str) {
    if std::env::var(RECORD_ENV).as_deref() != Ok("1") {
        return;
    }
    let path = fixtures_dir().join(format!("{name}.jsonl"));
    std::fs::create_dir_all(path.parent().expect("in the fixtures dir"))
        .expect("create the fixtures dir");
    let mut text = server.transcript().join("\n");
    text.push('\n');
    std::fs::write(path, text).expect("write the fixture");
}

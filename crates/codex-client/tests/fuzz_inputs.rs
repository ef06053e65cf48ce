//! The stable-Rust twin of the cargo-fuzz targets (`fuzz/`), so CI exercises them without nightly:
//! the same harness (`fuzz/harness.rs`), fed by proptest with arbitrary bytes, mutated lines of
//! recorded real traffic, and made-up messages of known methods with arbitrary JSON params.

#[path = "../../../fuzz/harness.rs"]
mod harness;

use proptest::prelude::*;
use serde_json::{Value, json};

const FIXTURES: [&str; 6] = [
    include_str!("../../codex-client-protocol/tests/fixtures/command_approval.jsonl"),
    include_str!("../../codex-client-protocol/tests/fixtures/concurrent_turns.jsonl"),
    include_str!("../../codex-client-protocol/tests/fixtures/failed_turn.jsonl"),
    include_str!(
        "../../codex-client-protocol/tests/fixtures/failed_turns_stream_and_http_400.jsonl"
    ),
    include_str!("../../codex-client-protocol/tests/fixtures/interrupt.jsonl"),
    include_str!("../../codex-client-protocol/tests/fixtures/simple_turn.jsonl"),
];

fn recorded_lines() -> Vec<&'static str> {
    FIXTURES.iter().flat_map(|f| f.lines()).collect()
}

/// One way to damage a line.
#[derive(Debug, Clone)]
enum Mutation {
    Keep,
    Truncate(usize),
    Flip(usize, u8),
    Insert(usize, String),
    Delete(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        3 => Just(Mutation::Keep),
        1 => any::<usize>().prop_map(Mutation::Truncate),
        2 => (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Flip(i, b)),
        2 => (any::<usize>(), prop_oneof![
            Just("null".to_owned()), Just("\"".to_owned()), Just("{".to_owned()), Just("]".to_owned()),
            Just(",\"turnId\":\"x\"".to_owned()), Just("-1".to_owned()), Just("1e999".to_owned()),
            Just("\\u0000".to_owned()), ".{0,8}",
        ]).prop_map(|(i, s)| Mutation::Insert(i, s)),
        1 => (any::<usize>(), 0usize..40).prop_map(|(i, n)| Mutation::Delete(i, n)),
    ]
}

fn apply(line: &str, m: &Mutation) -> String {
    let mut bytes = line.as_bytes().to_vec();
    let at = |i: usize| {
        if bytes.is_empty() {
            0
        } else {
            i % (bytes.len() + 1)
        }
    };
    match m {
        Mutation::Keep => {}
        Mutation::Truncate(i) => {
            let i = at(*i);
            bytes.truncate(i);
        }
        Mutation::Flip(i, b) => {
            if !bytes.is_empty() {
                let i = i % bytes.len();
                bytes[i] = *b;
            }
        }
        Mutation::Insert(i, s) => {
            let i = at(*i);
            bytes.splice(i..i, s.bytes());
        }
        Mutation::Delete(i, n) => {
            let i = at(*i);
            let end = (i + n).min(bytes.len());
            bytes.drain(i..end);
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// A sequence of recorded lines (in their order or shuffled, some repeated) with mutations.
fn mutated_traffic() -> impl Strategy<Value = String> {
    let lines = recorded_lines();
    let n = lines.len();
    proptest::collection::vec((0..n, mutation()), 1..60).prop_map(move |picks| {
        picks
            .iter()
            .map(|(i, m)| apply(lines[*i], m))
            .collect::<Vec<_>>()
            .join("\n")
    })
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        prop_oneof![Just("tu".to_owned()), Just("th".to_owned()), ".{0,6}"].prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map(
                prop_oneof![
                    Just("threadId".to_owned()),
                    Just("turnId".to_owned()),
                    Just("turn".to_owned()),
                    Just("id".to_owned()),
                    Just("item".to_owned()),
                    Just("type".to_owned()),
                    Just("status".to_owned()),
                    "[a-z]{1,6}",
                ],
                inner,
                0..6
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Made-up messages: known notification and request methods, arbitrary ids and params.
fn made_up_traffic() -> impl Strategy<Value = String> {
    let methods: Vec<String> = recorded_lines()
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter_map(|v| v["method"].as_str().map(str::to_owned))
        .chain(
            [
                "turn/completed",
                "turn/started",
                "item/tool/call",
                "nope/nope",
            ]
            .map(String::from),
        )
        .collect();
    let message = (
        proptest::sample::select(methods),
        prop_oneof![Just(None), (-2i64..6).prop_map(Some)],
        json_value(),
        any::<bool>(),
    )
        .prop_map(
            |(method, id, params, as_response)| match (id, as_response) {
                (Some(id), true) => json!({"id": id, "result": params}).to_string(),
                (Some(id), false) => {
                    json!({"id": id, "method": method, "params": params}).to_string()
                }
                (None, _) => json!({"method": method, "params": params}).to_string(),
            },
        );
    proptest::collection::vec(message, 1..40).prop_map(|v| v.join("\n"))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_decode_without_panicking(data in proptest::collection::vec(any::<u8>(), 0..512)) {
        harness::envelope(&data);
        harness::router(&data);
    }

    #[test]
    fn mutated_real_traffic_keeps_the_router_sound(text in mutated_traffic()) {
        harness::envelope(text.as_bytes());
        harness::router(text.as_bytes());
    }

    #[test]
    fn made_up_messages_keep_the_router_sound(text in made_up_traffic()) {
        harness::envelope(text.as_bytes());
        harness::router(text.as_bytes());
    }
}

/// The recorded traffic itself, whole: every turn stream gets events (the harness subscribes to
/// the turns it mentions), and the router ends clean.
#[test]
fn recorded_traffic_routes_cleanly() {
    for fixture in FIXTURES {
        harness::envelope(fixture.as_bytes());
        let outcome = harness::router(fixture.as_bytes());
        assert!(outcome.lines > 0);
    }
    let total: usize = FIXTURES
        .iter()
        .map(|f| harness::router(f.as_bytes()).delivered)
        .sum();
    assert!(
        total > 0,
        "the turn streams received the recorded turns' events"
    );
}

/// The router target's find (issue 15, item 5): with T1 and T2 subscribed, a `turn/started` /
/// `turn/completed` whose params do not decode, with `turn.id` T1 (where the schema puts it,
/// what routing reads) and a `turnId` T2, reached T1's stream as an `Unknown` reporting T2 —
/// and the `turn/completed` ended T1's route. Params that are no JSON value at all (a lone
/// surrogate, a number beyond `f64`) report their route too.
#[test]
fn undecodable_params_reach_the_stream_they_report() {
    let input = [
        r#"{"method":"item/agentMessage/delta","params":{"threadId":"th","turnId":"T1","itemId":"i","delta":"a"}}"#,
        r#"{"method":"item/agentMessage/delta","params":{"threadId":"th","turnId":"T2","itemId":"i","delta":"b"}}"#,
        r#"{"method":"turn/started","params":{"threadId":"th","turn":{"id":"T1"},"turnId":"T2"}}"#,
        r#"{"method":"item/agentMessage/delta","params":{"threadId":"th","turnId":"T1","delta":"\ud800"}}"#,
        r#"{"method":"item/agentMessage/delta","params":{"threadId":"th","turnId":"T2","x":1e999}}"#,
        r#"{"method":"turn/completed","params":{"threadId":"th","turn":{"id":"T1"},"turnId":"T2"}}"#,
        r#"{"method":"turn/completed","params":{"threadId":"th","turn":{"id":"T2"},"turnId":"T1"}}"#,
    ]
    .join("\n");
    harness::envelope(input.as_bytes());
    let outcome = harness::router(input.as_bytes());
    assert_eq!(
        outcome.delivered, 7,
        "every line reached its own turn's stream"
    );
}

//! `cargo bench -p codex-client-protocol --bench route_raw`: the time of
//! `ServerNotification::route_raw` per call on realistic notification params (those the
//! app-server sends most: streamed deltas, and the larger `item/completed` / `turn/completed`).
//!
//! A plain binary (`harness = false`): for each line, `REPS` repetitions of `CALLS` calls, and
//! the median of the repetitions' ns per call (min and max beside it for the spread).
//! `ROUTE_RAW_CALLS` overrides the calls per repetition (e.g. for a quick run).

use codex_client_protocol::ServerNotification;
use serde_json::value::RawValue;
use std::hint::black_box;
use std::time::Instant;

const REPS: usize = 9;
const CALLS: u64 = 1_000_000;

/// The ids of the lines below (36-char UUIDs, as the app-server sends).
const THREAD: &str = "01a20c2c-ee3f-7a23-8f56-c615ea6cd506";
const TURN: &str = "01a20c2c-ee59-7ce0-8624-046e9354aa8e";

/// One benchmarked line: the method and its params text.
struct Case {
    name: &'static str,
    method: &'static str,
    params: String,
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "item/agentMessage/delta",
            method: "item/agentMessage/delta",
            params: format!(
                r#"{{"threadId":"{THREAD}","turnId":"{TURN}","itemId":"msg_resp_mock_1","delta":"word "}}"#
            ),
        },
        Case {
            name: "item/agentMessage/delta (escaped delta)",
            method: "item/agentMessage/delta",
            params: format!(
                r#"{{"threadId":"{THREAD}","turnId":"{TURN}","itemId":"msg_resp_mock_1","delta":"line\n\"quoted\" \u00e9\n"}}"#
            ),
        },
        Case {
            name: "item/completed (commandExecution)",
            method: "item/completed",
            params: format!(
                r#"{{"item":{{"type":"commandExecution","id":"call_mock_1","pluginId":null,"scriptPath":null,"command":"/bin/bash -lc 'touch approved.txt && echo approved-command-ran'","cwd":"/tmp/codex-testkit-GxxRd8/work","processId":"99264","source":"unifiedExecStartup","status":"completed","commandActions":[{{"type":"unknown","command":"touch approved.txt && echo approved-command-ran"}}],"aggregatedOutput":"approved-command-ran\n","exitCode":0,"durationMs":0}},"threadId":"{THREAD}","turnId":"{TURN}","completedAtMs":1795500601012}}"#
            ),
        },
        Case {
            name: "turn/completed",
            method: "turn/completed",
            params: format!(
                r#"{{"threadId":"{THREAD}","turn":{{"id":"{TURN}","rootTurnId":"{TURN}","items":[{{"type":"agentMessage","id":"msg_resp_mock_2","text":"The command ran.","phase":null,"memoryCitation":null,"delivery":null,"questions":null}}],"itemsView":"summary","status":"completed","error":null,"startedAt":1795500600,"completedAt":1795500601,"durationMs":198}}}}"#
            ),
        },
        Case {
            name: "unknown method (fallback order)",
            method: "future/notification",
            params: format!(
                r#"{{"conversationId":"c_1","thread":{{"id":"{THREAD}","name":null}},"turn":{{"id":"{TURN}","items":[]}},"progress":0.5}}"#
            ),
        },
    ]
}

/// The ns per call of one repetition of `calls` calls.
fn time_once(method: &str, params: &RawValue, calls: u64) -> f64 {
    let start = Instant::now();
    for _ in 0..calls {
        let route = ServerNotification::route_raw(black_box(method), black_box(Some(params)));
        black_box(route);
    }
    start.elapsed().as_nanos() as f64 / calls as f64
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else to parse.
    let calls = std::env::var("ROUTE_RAW_CALLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(CALLS);
    println!("route_raw: median of {REPS} x {calls} calls, ns per call (min..max)");
    for case in cases() {
        let params = RawValue::from_string(case.params).expect("bench params are valid JSON");
        // The line routes as expected (so the timing is of the real work).
        let route = ServerNotification::route_raw(case.method, Some(&params));
        assert_eq!(route.thread_id.as_deref(), Some(THREAD), "{}", case.name);
        assert_eq!(route.turn_id.as_deref(), Some(TURN), "{}", case.name);

        time_once(case.method, &params, calls / 10); // warm-up
        let mut ns: Vec<f64> = (0..REPS)
            .map(|_| time_once(case.method, &params, calls))
            .collect();
        ns.sort_by(f64::total_cmp);
        println!(
            "{:<42} {:>4} bytes  {:>7.1} ns  ({:.1}..{:.1})",
            case.name,
            params.get().len(),
            ns[REPS / 2],
            ns[0],
            ns[REPS - 1],
        );
    }
}

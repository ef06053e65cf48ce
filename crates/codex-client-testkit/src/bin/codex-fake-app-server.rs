//! `codex-fake-app-server`: a scripted stand-in for `codex app-server` over stdio, for
//! benchmarks. It is as fast as a pipe lets it be, so that what a benchmark measures is the
//! client.
//!
//! It answers, one JSON line per request:
//!
//! | request | answer |
//! |---|---|
//! | `initialize` | a `userAgent` of the pinned version |
//! | `thread/start` | a thread shaped like the real 0.163.0 server's, id `00000000-0000-7000-8000-<index>` |
//! | `turn/start` | an `inProgress` turn, id `00000000-0000-7000-9000-<thread index>` |
//! | `thread/loaded/list` | `{"data":[],"nextCursor":null}` (the small request of the latency benchmark) |
//! | anything else | error `-32601` |
//!
//! and, once it has answered `CODEX_FAKE_TURNS` turn starts (`0`: never), writes the **flood**:
//! pre-built notification lines for those turns, interleaved round-robin, as fast as the pipe
//! takes them — per turn `turn/started`, `item/started`, `CODEX_FAKE_DELTAS` agent-message
//! deltas, `item/completed`, `thread/tokenUsage/updated`, `turn/completed`. Turn `j` belongs to
//! thread `j`, so the bytes depend only on (turns, deltas), whatever order the client's requests
//! come in.
//!
//! `codex-fake-app-server --dump` writes the same flood to stdout without any handshake and
//! exits: the byte stream for the baselines (read lines only; parse each into a
//! `serde_json::Value`). Arguments other than `--dump` are ignored (a client passes `app-server`
//! and its flags).

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::{BufRead, Write};

// The pinned version through the protocol crate: a path outside this crate would not survive
// packaging (`cargo publish` builds the crate alone).
const VERSION: &str = codex_client_protocol::CODEX_VERSION;
const WORDS: [&str; 8] = [
    "Hello",
    " world",
    ", this",
    " is",
    " a",
    " streamed",
    " answer",
    ".\n",
];

fn env_usize(key: &str) -> usize {
    std::env::var(key)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

fn thread_id(j: usize) -> String {
    format!("00000000-0000-7000-8000-{j:012}")
}

fn turn_id(j: usize) -> String {
    format!("00000000-0000-7000-9000-{j:012}")
}

fn turn_object(turn: &str, status: &str) -> Value {
    json!({
        "id": turn, "rootTurnId": turn, "items": [], "itemsView": "notLoaded", "status": status,
        "error": null, "startedAt": if status == "inProgress" { Value::Null } else { json!(1795500601) },
        "completedAt": if status == "completed" { json!(1795500602) } else { Value::Null },
        "durationMs": if status == "completed" { json!(1000) } else { Value::Null }
    })
}

fn agent_message(text: &str) -> Value {
    json!({"type": "agentMessage", "id": "msg_resp_mock_1", "text": text, "phase": null,
           "memoryCitation": null, "delivery": null, "questions": null})
}

fn notification(out: &mut Vec<u8>, method: &str, params: Value) {
    let line = json!({"method": method, "params": params, "emittedAtMs": 1795500601891i64});
    serde_json::to_writer(&mut *out, &line).expect("a Value serializes");
    out.push(b'\n');
}

/// The flood for `turns` turns of `deltas` deltas each (see the module documentation).
fn flood(turns: usize, deltas: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(turns * (deltas * 200 + 2500));
    let ids: Vec<(String, String)> = (0..turns).map(|j| (thread_id(j), turn_id(j))).collect();
    for (thread, turn) in &ids {
        let params = json!({"threadId": thread, "turn": turn_object(turn, "inProgress")});
        notification(&mut out, "turn/started", params);
    }
    for (thread, turn) in &ids {
        let params = json!({"item": agent_message(""), "threadId": thread, "turnId": turn,
                            "startedAtMs": 1795500601885i64});
        notification(&mut out, "item/started", params);
    }
    // Deltas are written without a Value per line: the flood of a big run is tens of MB.
    let mut line = String::new();
    for i in 0..deltas {
        let word = serde_json::to_string(WORDS[i % WORDS.len()]).expect("a str serializes");
        for (thread, turn) in &ids {
            line.clear();
            let _ = writeln!(
                line,
                r#"{{"method":"item/agentMessage/delta","params":{{"threadId":"{thread}","turnId":"{turn}","itemId":"msg_resp_mock_1","delta":{word}}},"emittedAtMs":1795500601891}}"#
            );
            out.extend_from_slice(line.as_bytes());
        }
    }
    let text: String = (0..deltas).map(|i| WORDS[i % WORDS.len()]).collect();
    for (thread, turn) in &ids {
        let params = json!({"item": agent_message(&text), "threadId": thread, "turnId": turn,
                            "completedAtMs": 1795500601905i64});
        notification(&mut out, "item/completed", params);
    }
    for (thread, turn) in &ids {
        let usage = json!({"totalTokens": 15, "inputTokens": 10, "cachedInputTokens": 0,
                           "cacheWriteInputTokens": 0, "outputTokens": 5,
                           "reasoningOutputTokens": 0});
        let params = json!({"threadId": thread, "turnId": turn,
                            "tokenUsage": {"total": usage, "last": usage, "modelContextWindow": 258400}});
        notification(&mut out, "thread/tokenUsage/updated", params);
    }
    for (thread, turn) in &ids {
        let params = json!({"threadId": thread, "turn": turn_object(turn, "completed")});
        notification(&mut out, "turn/completed", params);
    }
    out
}

fn thread_start_result(thread: &str) -> Value {
    json!({
        "thread": {
            "id": thread, "environments": [], "extra": null, "sessionId": thread,
            "forkedFromId": null, "parentThreadId": null, "preview": "", "ephemeral": true,
            "section": null, "sectionEnteredAt": null, "projectId": null,
            "historyMode": "paginated", "modelProvider": "mock", "model": "mock-model",
            "reasoningEffort": null, "createdAt": 1795500601, "updatedAt": 1795500601,
            "recencyAt": 1795500601, "status": {"type": "idle"}, "path": null,
            "cwd": "/tmp/fake", "cliVersion": VERSION.trim(), "originator": "bench",
            "source": "vscode", "canAcceptDirectInput": true, "threadSource": null,
            "agentNickname": null, "agentRole": null, "gitInfo": null, "name": null,
            "daybreakEnabled": null, "turns": []
        },
        "model": "mock-model", "modelProvider": "mock", "serviceTier": null,
        "disabledPluginIds": [], "cwd": "/tmp/fake", "runtimeWorkspaceRoots": [],
        "instructionSources": [], "approvalPolicy": "never", "approvalsReviewer": "user",
        "sandbox": {"type": "readOnly", "networkAccess": false}, "activePermissionProfile": null,
        "reasoningEffort": null, "multiAgentMode": "explicitRequestOnly"
    })
}

#[derive(Deserialize)]
struct Request<'a> {
    id: Option<Value>,
    #[serde(borrow)]
    method: &'a str,
    #[serde(borrow, default)]
    params: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct TurnStartParams {
    #[serde(rename = "threadId")]
    thread_id: String,
}

fn main() {
    let turns = env_usize("CODEX_FAKE_TURNS");
    let deltas = env_usize("CODEX_FAKE_DELTAS");
    let stdout = std::io::stdout();
    if std::env::args().any(|a| a == "--dump") {
        let bytes = flood(turns, deltas);
        let mut out = stdout.lock();
        let _ = out.write_all(&bytes).and_then(|()| out.flush());
        return;
    }
    // Built before the handshake is answered, so that building it is never measured.
    let mut pending_flood = (turns > 0).then(|| flood(turns, deltas));
    let mut threads: HashMap<String, usize> = HashMap::new();
    let mut turns_started = 0usize;
    let stdin = std::io::stdin();
    let mut input = std::io::BufReader::with_capacity(64 * 1024, stdin.lock());
    let mut out = std::io::BufWriter::with_capacity(64 * 1024, stdout.lock());
    let mut line = String::new();
    loop {
        line.clear();
        match input.read_line(&mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let Ok(request) = serde_json::from_str::<Request<'_>>(&line) else {
            continue;
        };
        let Some(id) = request.id else {
            continue; // a notification (`initialized`)
        };
        let mut flood_now = false;
        let reply = match request.method {
            "initialize" => json!({"id": id, "result": {
                "userAgent": format!("codex_fake_app_server/{} (bench)", VERSION.trim()),
                "codexHome": "/tmp/fake", "platformFamily": "unix", "platformOs": "linux"}}),
            "thread/start" => {
                let thread = thread_id(threads.len());
                threads.insert(thread.clone(), threads.len());
                json!({"id": id, "result": thread_start_result(&thread)})
            }
            "turn/start" => {
                let thread = request
                    .params
                    .and_then(|p| serde_json::from_str::<TurnStartParams>(p.get()).ok())
                    .and_then(|p| threads.get(&p.thread_id).copied());
                match thread {
                    Some(j) => {
                        turns_started += 1;
                        flood_now = turns_started == turns;
                        json!({"id": id, "result": {"turn": turn_object(&turn_id(j), "inProgress")}})
                    }
                    None => {
                        json!({"id": id, "error": {"code": -32600, "message": "unknown thread"}})
                    }
                }
            }
            "thread/loaded/list" => json!({"id": id, "result": {"data": [], "nextCursor": null}}),
            other => json!({"id": id, "error": {"code": -32601,
                                                "message": format!("method not found: {other}")}}),
        };
        let _ = serde_json::to_writer(&mut out, &reply);
        let _ = out.write_all(b"\n");
        if flood_now && let Some(bytes) = pending_flood.take() {
            let _ = out.write_all(&bytes);
        }
        // Answer everything already read before flushing: one write for a pipelined batch.
        if input.buffer().is_empty() && out.flush().is_err() {
            return;
        }
    }
}

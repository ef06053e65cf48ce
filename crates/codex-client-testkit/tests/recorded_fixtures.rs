//! Checks of the recorded real traffic in `crates/codex-client-protocol/tests/fixtures/`: the
//! files are small and well formed, and the protocol crate's routing metadata (`thread_id()`,
//! `turn_id()`) of every recorded notification and server request agrees with the raw JSON paths
//! (`params.threadId` | `params.thread.id`, `params.turnId` | `params.turn.id`).

mod common;

use serde_json::Value;
use std::path::PathBuf;

const SCENARIOS: [&str; 6] = [
    "simple_turn",
    "concurrent_turns",
    "command_approval",
    "interrupt",
    "failed_turn",
    "failed_turns_stream_and_http_400",
];

fn fixture_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(common::fixtures_dir())
        .expect("the fixtures directory exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .collect();
    files.sort();
    files
}

/// Every recorded line as `(file name, line text)`.
fn recorded_lines() -> Vec<(String, String)> {
    fixture_files()
        .iter()
        .flat_map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            std::fs::read_to_string(path)
                .unwrap()
                .lines()
                .map(move |line| (name.clone(), line.to_owned()))
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn every_scenario_is_recorded_and_the_set_is_small() {
    let files = fixture_files();
    for scenario in SCENARIOS {
        assert!(
            files.iter().any(|f| f.file_stem().unwrap() == scenario),
            "missing fixture {scenario}.jsonl"
        );
    }
    let total: u64 = files.iter().map(|f| f.metadata().unwrap().len()).sum();
    assert!(total < 100 * 1024, "fixtures total {total} bytes");
}

#[test]
fn every_recorded_line_is_a_server_message() {
    let lines = recorded_lines();
    assert!(lines.len() > 100, "{} lines", lines.len());
    for (file, line) in &lines {
        let m: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{file}: {e}: {line}"));
        assert!(
            m.get("jsonrpc").is_none(),
            "{file}: the server sends no jsonrpc member"
        );
        match (m.get("method"), m.get("id")) {
            (Some(_), None) => assert!(
                m["emittedAtMs"].is_i64(),
                "{file}: a notification carries emittedAtMs: {line}"
            ),
            (Some(_), Some(id)) => assert!(id.is_i64(), "{file}: server request ids are integers"),
            (None, Some(_)) => assert!(
                m.get("result").is_some() || m.get("error").is_some(),
                "{file}: {line}"
            ),
            (None, None) => panic!("{file}: neither method nor id: {line}"),
        }
    }
}

/// `params.threadId` | `params.thread.id` (| `params.conversationId`, legacy v1).
fn raw_thread_id(params: &Value) -> Option<&str> {
    params["threadId"]
        .as_str()
        .or_else(|| params["thread"]["id"].as_str())
        .or_else(|| params["conversationId"].as_str())
}

/// `params.turnId` | `params.turn.id`.
fn raw_turn_id(params: &Value) -> Option<&str> {
    params["turnId"]
        .as_str()
        .or_else(|| params["turn"]["id"].as_str())
}

#[test]
fn turn_scoped_recorded_notifications_name_their_thread() {
    // A guard on the recordings themselves: the methods the router routes by turn carry both ids.
    let turn_scoped = [
        "turn/started",
        "turn/completed",
        "item/started",
        "item/completed",
        "item/agentMessage/delta",
        "thread/tokenUsage/updated",
    ];
    let mut seen = 0;
    for (file, line) in recorded_lines() {
        let m: Value = serde_json::from_str(&line).unwrap();
        let method = m["method"].as_str().unwrap_or_default();
        if turn_scoped.contains(&method) && m.get("id").is_none() {
            seen += 1;
            assert!(raw_thread_id(&m["params"]).is_some(), "{file}: {line}");
            assert!(raw_turn_id(&m["params"]).is_some(), "{file}: {line}");
        }
    }
    assert!(seen > 50, "{seen}");
}

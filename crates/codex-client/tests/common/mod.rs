//! A scriptable fake app-server on the in-memory transport, and realistic message builders
//! (shaped like the lines the real 0.163.0 server sends; see the protocol crate's fixtures).
#![allow(dead_code)]

use codex_client::core::{Connection, ConnectionConfig};
use codex_client::{MemoryPeer, Transport};
use serde_json::{Value, json};
use std::time::Duration;

/// How the SDK starts the real app-server of a test: exactly the test kit's offline launch
/// (mock model provider, throwaway `CODEX_HOME`, clean environment, features that would reach the
/// internet disabled).
pub fn spawn_config(launch: &codex_client_testkit::AppServerLaunch) -> codex_client::SpawnConfig {
    codex_client::SpawnConfig::explicit(&launch.program, launch.args.clone())
        .env_clear(launch.env_clear)
        .envs(launch.env.clone())
        .cwd(&launch.cwd)
}

/// `turn/start` params: one text input on `thread`.
pub fn turn_params(thread: &str, text: &str) -> codex_client::protocol::TurnStartParams {
    serde_json::from_value(json!({
        "threadId": thread,
        "input": [{"type": "text", "text": text, "text_elements": []}]
    }))
    .expect("valid turn/start params")
}

/// What a test may change before the spawn: the builder (connection settings, login check) and
/// the process.
pub struct Launch {
    pub builder: codex_client::CodexBuilder,
    pub spawn: codex_client::SpawnConfig,
}

/// The real app-server of a test, driven by the high-level API, with the mock model it talks
/// to. Field order = drop order: the client (and its process) first, then the directories, then
/// the mock.
pub struct AppServerEnv {
    pub codex: codex_client::Codex,
    pub sandbox: codex_client_testkit::CodexSandbox,
    pub mock: codex_client_testkit::MockModel,
}

impl AppServerEnv {
    /// Thread options for the sandbox: its workdir, no approvals, read-only.
    pub fn options(&self) -> codex_client::ThreadOptions {
        codex_client::ThreadOptions::new()
            .cwd(self.sandbox.workdir())
            .approval_mode(codex_client::ApprovalMode::DenyAll)
            .sandbox(codex_client::Sandbox::ReadOnly)
    }

    /// A persisted thread with [`options`](Self::options).
    pub async fn thread(&self) -> codex_client::Thread {
        self.codex
            .threads()
            .start(self.options())
            .await
            .expect("thread/start")
    }
}

/// Starts the mock model and the real app-server through the test kit and connects a `Codex`
/// (client name `name`); `None` when the binary is missing and not required (the kit's
/// skip-or-fail rule). `sandbox` adjusts the sandbox, `launch` the builder (connection
/// settings, login check) and the process before the spawn.
pub async fn start_app_server(
    name: &str,
    sandbox: impl FnOnce(codex_client_testkit::CodexSandbox) -> codex_client_testkit::CodexSandbox,
    launch: impl FnOnce(Launch) -> Launch,
) -> Option<AppServerEnv> {
    let binary = codex_client_testkit::require_codex_binary(name)?;
    let mock = codex_client_testkit::MockModel::start()
        .await
        .expect("mock model");
    let sandbox =
        sandbox(codex_client_testkit::CodexSandbox::new(binary, mock.base_url()).expect("sandbox"));
    let connection =
        ConnectionConfig::new().client_info(codex_client::core::ClientInfo::new(name, "0.0.0"));
    let Launch { builder, spawn } = launch(Launch {
        builder: codex_client::Codex::builder().connection(connection),
        spawn: spawn_config(&sandbox.launch()),
    });
    let codex = builder.spawn(spawn).await.expect("spawn + initialize");
    Some(AppServerEnv {
        codex,
        sandbox,
        mock,
    })
}

/// `fut`, or a panic naming `what` when it takes longer than `timeout`.
pub async fn within<T>(
    timeout: Duration,
    what: &str,
    fut: impl std::future::Future<Output = T>,
) -> T {
    tokio::time::timeout(timeout, fut)
        .await
        .unwrap_or_else(|_| panic!("timed out: {what}"))
}

pub const T: Duration = Duration::from_secs(5);

/// A connection without handshake over the memory transport, and the fake server's end.
pub async fn connect(config: ConnectionConfig) -> (Connection, MemoryPeer) {
    let (transport, peer) = Transport::memory();
    let conn = Connection::connect(transport, config.handshake(false))
        .await
        .expect("connect");
    (conn, peer)
}

/// The next request the client wrote: (id, method, params).
pub async fn next_request(peer: &mut MemoryPeer) -> (Value, String, Value) {
    let msg = tokio::time::timeout(T, peer.recv_json())
        .await
        .expect("the client sends a request in time")
        .expect("the client is connected");
    (
        msg["id"].clone(),
        msg["method"].as_str().unwrap_or_default().to_owned(),
        msg.get("params").cloned().unwrap_or(Value::Null),
    )
}

/// The next line the client wrote, parsed.
pub async fn next_message(peer: &mut MemoryPeer) -> Value {
    tokio::time::timeout(T, peer.recv_json())
        .await
        .expect("the client writes in time")
        .expect("the client is connected")
}

pub fn respond(peer: &MemoryPeer, id: &Value, result: Value) {
    assert!(peer.send_json(&json!({"id": id, "result": result})));
}

pub fn respond_error(peer: &MemoryPeer, id: &Value, code: i64, message: &str) {
    assert!(peer.send_json(&json!({"id": id, "error": {"code": code, "message": message}})));
}

pub fn turn_obj(turn: &str, status: &str) -> Value {
    json!({
        "id": turn, "rootTurnId": turn, "items": [], "itemsView": "notLoaded", "status": status,
        "error": null, "startedAt": null, "completedAt": null, "durationMs": null
    })
}

pub fn turn_start_result(turn: &str) -> Value {
    json!({"turn": turn_obj(turn, "inProgress")})
}

pub fn notification(method: &str, params: Value) -> String {
    json!({"method": method, "params": params, "emittedAtMs": 1795500601864i64}).to_string()
}

pub fn turn_started(thread: &str, turn: &str) -> String {
    notification(
        "turn/started",
        json!({"threadId": thread, "turn": turn_obj(turn, "inProgress")}),
    )
}

pub fn turn_completed(thread: &str, turn: &str) -> String {
    notification(
        "turn/completed",
        json!({"threadId": thread, "turn": turn_obj(turn, "completed")}),
    )
}

pub fn delta(thread: &str, turn: &str, text: &str) -> String {
    notification(
        "item/agentMessage/delta",
        json!({"threadId": thread, "turnId": turn, "itemId": "msg_1", "delta": text}),
    )
}

pub fn thread_status_idle(thread: &str) -> String {
    notification(
        "thread/status/changed",
        json!({"threadId": thread, "status": {"type": "idle"}}),
    )
}

pub fn config_warning(summary: &str) -> String {
    notification(
        "configWarning",
        json!({"summary": summary, "details": null}),
    )
}

pub fn command_approval_request(id: i64, thread: &str, turn: &str) -> String {
    json!({
        "method": "item/commandExecution/requestApproval", "id": id,
        "params": {
            "kind": "command", "threadId": thread, "turnId": turn, "itemId": "call_1",
            "startedAtMs": 1795500601025i64, "command": "/bin/bash -lc 'touch x'", "cwd": "/tmp",
            "commandActions": [{"type": "unknown", "command": "touch x"}]
        }
    })
    .to_string()
}

pub fn turn_start_params(thread: &str) -> codex_client::protocol::TurnStartParams {
    serde_json::from_value(json!({
        "threadId": thread,
        "input": [{"type": "text", "text": "hi", "text_elements": []}]
    }))
    .expect("valid turn/start params")
}

/// Delta text of a notification, if it is an agent-message delta.
pub fn delta_text(n: &codex_client::protocol::ServerNotification) -> Option<String> {
    match n {
        codex_client::protocol::ServerNotification::ItemAgentMessageDelta(d) => {
            Some(d.delta.clone())
        }
        _ => None,
    }
}

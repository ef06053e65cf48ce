//! The connection core against the real `codex app-server`, offline: the test kit's mock model on
//! 127.0.0.1 and its sandbox (throwaway CODEX_HOME/HOME/TMPDIR, offline flags). Skipped loudly
//! when the binary is missing, unless CODEX_CLIENT_REQUIRE_APP_SERVER=1.

mod common;

use codex_client::core::{
    Connection, ConnectionConfig, RequestOptions, SubscribeOptions, TurnStream,
};
use codex_client::protocol::ServerNotification;
use codex_client::{Error, TurnEvent};
use codex_client_testkit::{CodexSandbox, Matcher, MockModel, MockResponse, StallGate};
use futures::StreamExt;
use serde_json::{Value, json};
use std::time::Duration;

const TURN_TIMEOUT: Duration = Duration::from_secs(60);

/// Field order = drop order: the connection (and its process) first, then directories, then mock.
struct Env {
    conn: Connection,
    sandbox: CodexSandbox,
    mock: MockModel,
}

async fn start(
    name: &str,
    sandbox: impl FnOnce(CodexSandbox) -> CodexSandbox,
    config: ConnectionConfig,
) -> Option<Env> {
    let binary = codex_client_testkit::require_codex_binary(name)?;
    let mock = MockModel::start().await.expect("mock model");
    let sandbox = sandbox(CodexSandbox::new(binary, mock.base_url()).expect("sandbox"));
    let launch = sandbox.launch();
    let spawn = common::spawn_config(&launch);
    let config = config.client_info(codex_client::core::ClientInfo::new(name, "0.0.0"));
    let conn = Connection::spawn(spawn, config)
        .await
        .expect("spawn + initialize");
    Some(Env {
        conn,
        sandbox,
        mock,
    })
}

impl Env {
    async fn start_thread(&self, params: Value) -> String {
        let params = self.sandbox.thread_start_params(params);
        let result = self
            .conn
            .request_raw("thread/start", Some(params))
            .await
            .expect("thread/start");
        result["thread"]["id"].as_str().unwrap().to_owned()
    }
}

/// Everything a turn's stream yielded, until it ended.
#[derive(Debug, Default)]
struct Collected {
    deltas: Vec<String>,
    methods: Vec<String>,
    completed: Option<Value>,
    items: Vec<Value>,
    errors: Vec<String>,
}

fn to_json(n: &ServerNotification) -> Value {
    // The typed payload, back as JSON, for assertions.
    match n {
        ServerNotification::TurnCompleted(c) => serde_json::to_value(c).unwrap(),
        ServerNotification::ItemCompleted(c) => serde_json::to_value(c).unwrap(),
        _ => Value::Null,
    }
}

async fn collect(mut stream: TurnStream) -> Collected {
    let mut out = Collected::default();
    loop {
        let item = tokio::time::timeout(TURN_TIMEOUT, stream.next())
            .await
            .expect("the turn stream ends in time");
        let Some(item) = item else { break };
        match item {
            Ok(TurnEvent::Notification(n)) => {
                out.methods.push(n.method().to_owned());
                match &*n {
                    ServerNotification::ItemAgentMessageDelta(d) => {
                        out.deltas.push(d.delta.clone())
                    }
                    ServerNotification::TurnCompleted(_) => out.completed = Some(to_json(&n)),
                    ServerNotification::ItemCompleted(_) => {
                        out.items.push(to_json(&n)["item"].clone())
                    }
                    _ => {}
                }
            }
            Ok(TurnEvent::ServerRequest(r)) => {
                out.methods.push(format!("request:{}", r.method()));
            }
            Ok(other) => out.errors.push(format!("unexpected {other:?}")),
            Err(e) => out.errors.push(e.to_string()),
        }
    }
    out
}

#[tokio::test]
async fn four_turns_on_four_threads_stream_concurrently_over_one_connection() {
    let Some(env) = start("four_turns", |s| s, ConnectionConfig::default()).await else {
        return;
    };
    let gate = StallGate::new();
    let scripts: Vec<Vec<String>> = (0..4)
        .map(|t| (0..(3 + t)).map(|i| format!("T{t}.{i} ")).collect())
        .collect();
    for (t, deltas) in scripts.iter().enumerate() {
        env.mock.route(
            Matcher::user_text_contains(format!("[thread-{t}]")),
            MockResponse::stalled(deltas.clone(), &gate),
        );
    }
    let mut threads = Vec::new();
    for _ in 0..4 {
        threads.push(env.start_thread(json!({})).await);
    }
    let mut tasks = Vec::new();
    for (t, thread) in threads.iter().enumerate() {
        let conn = env.conn.clone();
        let params = common::turn_params(thread, &format!("[thread-{t}] go"));
        tasks.push(tokio::spawn(async move {
            let (response, stream) = conn.start_turn(params).await.expect("turn/start");
            (response.turn.id.clone(), collect(stream).await)
        }));
    }
    assert!(
        gate.wait_stalled(4, TURN_TIMEOUT).await,
        "all four model streams are open at once"
    );
    gate.release();
    for (t, task) in tasks.into_iter().enumerate() {
        let (turn_id, got) = task.await.unwrap();
        assert!(got.errors.is_empty(), "turn {t}: {:?}", got.errors);
        assert_eq!(
            got.deltas, scripts[t],
            "turn {t} got exactly its own deltas"
        );
        let completed = got.completed.expect("turn/completed");
        assert_eq!(completed["turn"]["id"], turn_id.as_str());
        assert_eq!(completed["turn"]["status"], "completed");
        assert_eq!(completed["threadId"], threads[t].as_str());
        assert_eq!(
            got.methods.last().map(String::as_str),
            Some("turn/completed")
        );
    }
    let stats = env.conn.stats();
    assert_eq!(stats.turn_routes, 0, "{stats:?}");
    assert_eq!(stats.waiters, 0, "{stats:?}");
    assert_eq!(stats.lagged_events, 0, "{stats:?}");
    let info = env.conn.close().await;
    assert!(
        info.exit_status.is_some_and(|s| s.success()),
        "graceful close: {info}"
    );
}

#[tokio::test]
async fn a_command_approval_without_handler_is_declined_and_the_turn_goes_on() {
    let Some(env) = start("approval_fail_closed", |s| s, ConnectionConfig::default()).await else {
        return;
    };
    env.mock.route_sequence(
        Matcher::Any,
        [
            MockResponse::exec_command("touch declined.txt && echo ran"),
            MockResponse::message("Understood."),
        ],
    );
    let thread = env
        .start_thread(json!({"approvalPolicy": "untrusted", "sandbox": "workspace-write"}))
        .await;
    let (_, stream) = env
        .conn
        .start_turn(common::turn_params(&thread, "Create the marker file"))
        .await
        .unwrap();
    let got = collect(stream).await;
    assert!(got.errors.is_empty(), "{:?}", got.errors);
    let completed = got.completed.expect("turn/completed");
    assert_eq!(completed["turn"]["status"], "completed", "{completed}");
    let command = got
        .items
        .iter()
        .find(|i| i["type"] == "commandExecution")
        .expect("a command item");
    assert_eq!(command["status"], "declined", "{command}");
    assert!(!env.sandbox.workdir().join("declined.txt").exists());
    assert_eq!(got.deltas.concat(), "Understood.");
}

#[tokio::test]
async fn a_command_approval_accepted_through_the_turns_own_stream() {
    let Some(env) = start("approval_in_stream", |s| s, ConnectionConfig::default()).await else {
        return;
    };
    env.mock.route_sequence(
        Matcher::Any,
        [
            MockResponse::exec_command("touch approved.txt && echo approved-command-ran"),
            MockResponse::message("The command ran."),
        ],
    );
    let thread = env
        .start_thread(json!({"approvalPolicy": "untrusted", "sandbox": "workspace-write"}))
        .await;
    let (_, mut stream) = env
        .conn
        .request_turn::<codex_client::protocol::methods::TurnStart>(
            common::turn_params(&thread, "Create the marker file"),
            SubscribeOptions::new().server_requests(true),
            RequestOptions::new(),
        )
        .await
        .unwrap();
    let mut approvals = 0;
    let mut command_status = None;
    let mut final_status = None;
    while let Some(item) = tokio::time::timeout(TURN_TIMEOUT, stream.next())
        .await
        .unwrap()
    {
        match item.expect("no stream error") {
            TurnEvent::ServerRequest(request) => {
                assert_eq!(request.method(), "item/commandExecution/requestApproval");
                approvals += 1;
                request.accept().unwrap();
            }
            TurnEvent::Notification(n) => match &*n {
                ServerNotification::ItemCompleted(_) => {
                    let item = to_json(&n)["item"].clone();
                    if item["type"] == "commandExecution" {
                        command_status = Some(item["status"].clone());
                    }
                }
                ServerNotification::TurnCompleted(_) => {
                    final_status = Some(to_json(&n)["turn"]["status"].clone());
                }
                _ => {}
            },
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(approvals, 1);
    assert_eq!(command_status, Some(json!("completed")));
    assert_eq!(final_status, Some(json!("completed")));
    assert!(env.sandbox.workdir().join("approved.txt").is_file());
}

#[tokio::test]
async fn sigkill_mid_turn_ends_every_waiter_with_closed_and_the_stderr_tail() {
    let Some(env) = start(
        "sigkill_mid_turn",
        |s| s.rust_log("info"),
        ConnectionConfig::default(),
    )
    .await
    else {
        return;
    };
    let gate = StallGate::new();
    env.mock
        .set_default(MockResponse::stalled(["partial ", "never finished"], &gate));
    let thread = env.start_thread(json!({})).await;
    let (_, turn) = env
        .conn
        .start_turn(common::turn_params(&thread, "hang"))
        .await
        .unwrap();
    let thread_stream = env.conn.subscribe_thread(&thread);
    let global = env.conn.notifications();
    assert!(
        gate.wait_stalled(1, TURN_TIMEOUT).await,
        "the model stream stalls"
    );
    let pid = env.conn.pid().expect("a process");
    // Requests in flight at the moment of the kill.
    let mut calls = Vec::new();
    for _ in 0..8 {
        let conn = env.conn.clone();
        calls.push(tokio::spawn(async move {
            conn.request_raw("thread/loaded/list", Some(json!({})))
                .await
        }));
    }
    let killed_at = std::time::Instant::now();
    // SAFETY: kill(2) on the app-server we spawned.
    unsafe {
        libc::kill(pid as i32, libc::SIGKILL);
    }
    let got = collect(turn).await;
    let last = got
        .errors
        .last()
        .expect("the turn stream ended with an error");
    assert!(last.contains("connection closed"), "{last}");
    for call in calls {
        match tokio::time::timeout(Duration::from_secs(10), call)
            .await
            .unwrap()
            .unwrap()
        {
            Ok(_) => {} // answered before the kill landed
            Err(err) => assert!(err.is_closed(), "{err}"),
        }
    }
    for stream in [thread_stream, global] {
        let items: Vec<_> =
            tokio::time::timeout(Duration::from_secs(10), stream.collect::<Vec<_>>())
                .await
                .unwrap();
        assert!(
            matches!(items.last(), Some(Err(Error::Closed(_)))),
            "{items:?}"
        );
    }
    assert!(
        killed_at.elapsed() < Duration::from_secs(5),
        "prompt: {:?}",
        killed_at.elapsed()
    );
    let info = env.conn.closed().expect("latched closed");
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(info.exit_status.and_then(|s| s.signal()), Some(9), "{info}");
    }
    assert!(
        !info.stderr_tail.is_empty(),
        "the stderr tail is carried: {info}"
    );
    // Later calls fail fast.
    let started = std::time::Instant::now();
    let err = env
        .conn
        .request_raw("thread/loaded/list", Some(json!({})))
        .await
        .unwrap_err();
    assert!(err.is_closed() && started.elapsed() < Duration::from_millis(100));
    // No process is left: reaped (no /proc entry, not even a zombie).
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while std::path::Path::new(&format!("/proc/{pid}")).exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "the app-server was reaped"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    gate.release();
}

#[tokio::test]
async fn dropping_the_connection_kills_and_reaps_the_app_server() {
    let Some(env) = start("drop_kills", |s| s, ConnectionConfig::default()).await else {
        return;
    };
    let pid = env.conn.pid().unwrap();
    let Env {
        conn,
        sandbox,
        mock,
    } = env;
    drop(conn);
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while std::path::Path::new(&format!("/proc/{pid}")).exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "the app-server was killed and reaped"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    drop((sandbox, mock));
}

#[tokio::test]
async fn the_handshake_reports_the_pinned_version() {
    let Some(env) = start("handshake_version", |s| s, ConnectionConfig::default()).await else {
        return;
    };
    let info = env.conn.server_info().expect("initialized");
    assert_eq!(
        info.server_version.as_deref(),
        Some(codex_client::protocol::CODEX_VERSION),
        "{info:?}"
    );
    assert!(info.version_matches());
    // Typed requests work end to end.
    use codex_client::protocol::methods::{ThreadLoadedList, ThreadStart};
    let params = codex_client::protocol::ThreadStartParams {
        cwd: Some(env.sandbox.workdir().to_string_lossy().into_owned()),
        ..Default::default()
    };
    let started = env
        .conn
        .request::<ThreadStart>(params)
        .await
        .expect("typed thread/start");
    let loaded = env
        .conn
        .request::<ThreadLoadedList>(Default::default())
        .await
        .expect("typed thread/loaded/list");
    assert!(loaded.data.contains(&started.thread.id), "{loaded:?}");
    // An unknown method is a typed RPC error.
    let err = env
        .conn
        .request_raw("no/such/method", Some(json!({})))
        .await
        .unwrap_err();
    assert_eq!(err.rpc_error().map(|e| e.code), Some(-32600), "{err}");
}

#[tokio::test]
async fn turn_start_during_an_active_turn_gives_a_second_handle_on_the_same_turn() {
    let Some(env) = start(
        "turn_start_while_active",
        |s| s,
        ConnectionConfig::default(),
    )
    .await
    else {
        return;
    };
    let gate = StallGate::new();
    env.mock
        .set_default(MockResponse::stalled(["first ", "answer"], &gate));
    let thread = env.start_thread(json!({})).await;
    let (first_response, first) = env
        .conn
        .start_turn(common::turn_params(&thread, "first input"))
        .await
        .unwrap();
    assert!(gate.wait_stalled(1, TURN_TIMEOUT).await);
    let (second_response, second) = env
        .conn
        .start_turn(common::turn_params(&thread, "more input"))
        .await
        .unwrap();
    assert_eq!(
        second_response.turn.id, first_response.turn.id,
        "the server folds the input into the active turn"
    );
    assert_eq!(env.conn.stats().turn_subscribers, 2);
    gate.release();
    let (a, b) = tokio::join!(collect(first), collect(second));
    for got in [&a, &b] {
        assert!(got.errors.is_empty(), "{:?}", got.errors);
        let completed = got
            .completed
            .as_ref()
            .expect("turn/completed in both streams");
        assert_eq!(completed["turn"]["id"], first_response.turn.id.as_str());
    }
    assert!(a.methods.len() >= b.methods.len());
    assert_eq!(a.methods.first().map(String::as_str), Some("turn/started"));
    assert!(env.conn.stats().turn_routes == 0);
}

//! Faults and the fail-closed audit against the real `codex app-server` (offline: the test kit's
//! mock model on 127.0.0.1 and its sandbox). Skipped loudly when the binary is missing, unless
//! CODEX_CLIENT_REQUIRE_APP_SERVER=1.
//!
//! The fail-closed audit: for every server request the mock model can make the real server send
//! (a command approval, plain or as an escalation request), every way the client can fail to
//! answer — no handler, a handler that never returns, a handler that panics, a request dropped
//! unanswered in the turn's stream, a request held in the stream past the timeout — must end with
//! the server recording the command as `declined` and the command not run. The other kinds
//! (file change, permissions, user input, elicitation, dynamic tools, token refresh, attestation)
//! cannot be triggered through the mock; their fail-closed answers are checked on the memory
//! transport (`connection_server_requests::default_answers_are_fail_closed_for_every_kind`) and
//! against the schema (the protocol crate's tests).

mod common;

use codex_client::core::{ClientInfo, ConnectionConfig};
use codex_client::protocol::{
    CommandExecutionRequestApprovalParams, CommandExecutionRequestApprovalResponse,
    ServerNotification, TurnStatus,
};
use codex_client::{
    ApprovalMode, HandlerResult, Sandbox, ServerRequestHandler, Thread, ThreadOptions, TurnEvent,
    TurnOptions, TurnResult, TurnSettings,
};
use codex_client_testkit::{ExecCommand, Matcher, MockResponse, StallGate};
use futures::StreamExt;
use serde_json::Value;
use std::time::Duration;

const TURN_TIMEOUT: Duration = Duration::from_secs(90);

use common::AppServerEnv as Env;

async fn start(name: &str, connection: ConnectionConfig) -> Option<Env> {
    let connection = connection.client_info(ClientInfo::new(name, "0.0.0"));
    common::start_app_server(
        name,
        |s| s,
        |l| common::Launch {
            builder: l.builder.connection(connection),
            ..l
        },
    )
    .await
}

async fn within<T>(what: &str, fut: impl std::future::Future<Output = T>) -> T {
    common::within(TURN_TIMEOUT, what, fut).await
}

fn command_item(result: &TurnResult) -> Value {
    result
        .items
        .iter()
        .map(|i| serde_json::to_value(i).unwrap())
        .find(|i| i["type"] == "commandExecution")
        .unwrap_or_else(|| panic!("a command item in {:?}", result.items))
}

struct NeverReturns;
impl ServerRequestHandler for NeverReturns {
    async fn command_execution_approval(
        &self,
        _: CommandExecutionRequestApprovalParams,
    ) -> HandlerResult<CommandExecutionRequestApprovalResponse> {
        std::future::pending().await
    }
}

struct Panics;
impl ServerRequestHandler for Panics {
    async fn command_execution_approval(
        &self,
        _: CommandExecutionRequestApprovalParams,
    ) -> HandlerResult<CommandExecutionRequestApprovalResponse> {
        panic!("a bug in the user's approval handler")
    }
}

/// How the client fails to answer.
#[derive(Debug, Clone, Copy)]
enum Failure {
    /// Nobody answers in the stream; the connection's handler answers.
    Handler,
    /// The request is in the turn's stream and dropped unanswered.
    DroppedInStream,
    /// The request is in the turn's stream and held, unanswered, past the timeout.
    HeldInStream,
}

/// One approval turn failing to answer in `failure`'s way: the command must end `declined`, the
/// marker must not exist, the turn must go on to its final answer.
async fn audit(env: &Env, thread: &Thread, marker: &str, escalated: bool, failure: Failure) {
    let mut exec = ExecCommand::new(format!("touch {marker} && echo ran"));
    if escalated {
        exec = exec.escalated("The mock wants to leave the sandbox.");
    }
    env.mock.route(
        Matcher::user_text_contains(marker),
        MockResponse::from(exec),
    );
    let mode = if escalated {
        ApprovalMode::OnRequest
    } else {
        ApprovalMode::Untrusted
    };
    let mut options = TurnOptions::new().settings(
        TurnSettings::new()
            .approval_mode(mode)
            .sandbox(Sandbox::WorkspaceWrite),
    );
    if !matches!(failure, Failure::Handler) {
        options = options.approvals_in_stream();
    }
    let mut turn = thread
        .turn_with(format!("create {marker}"), options)
        .await
        .expect("turn/start");
    let mut held = Vec::new();
    let mut asked = 0;
    while let Some(event) = within("the approval turn", turn.next()).await {
        match event.expect("no stream error") {
            TurnEvent::ServerRequest(request) => {
                asked += 1;
                match failure {
                    Failure::DroppedInStream => drop(request),
                    Failure::HeldInStream => held.push(request),
                    Failure::Handler => unreachable!("requests go to the handler"),
                }
            }
            TurnEvent::Notification(n) if matches!(&*n, ServerNotification::TurnCompleted(_)) => {}
            TurnEvent::Notification(_) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    let result = turn.run().await.expect("the turn completes");
    assert_eq!(result.status, TurnStatus::Completed, "{failure:?}");
    if !matches!(failure, Failure::Handler) {
        assert_eq!(asked, 1, "{failure:?}: the request reached the stream");
    }
    let command = command_item(&result);
    assert_eq!(
        command["status"], "declined",
        "{failure:?} escalated={escalated}: {command}"
    );
    assert!(
        !env.sandbox.workdir().join(marker).exists(),
        "{failure:?}: the command did not run"
    );
    assert_eq!(result.final_response(), Some("Understood."), "{failure:?}");
    // The held request was answered by the timeout (that is what declined the command).
    drop(held);
}

async fn audit_env(name: &str, connection: ConnectionConfig) -> Option<(Env, Thread)> {
    let env = start(name, connection).await?;
    env.mock.route_always(
        Matcher::custom(|r| r.ends_with_tool_output()),
        MockResponse::message("Understood."),
    );
    let thread = env
        .codex
        .threads()
        .start(
            ThreadOptions::new()
                .cwd(env.sandbox.workdir())
                .approval_mode(ApprovalMode::DenyAll)
                .sandbox(Sandbox::ReadOnly),
        )
        .await
        .expect("thread/start");
    Some((env, thread))
}

#[tokio::test]
async fn fail_closed_audit_a_handler_that_never_returns() {
    let config = ConnectionConfig::new()
        .handler(NeverReturns)
        .server_request_timeout(Duration::from_millis(500));
    let Some((env, thread)) = audit_env("audit_never_returns", config).await else {
        return;
    };
    audit(&env, &thread, "never-returns.txt", false, Failure::Handler).await;
    audit(
        &env,
        &thread,
        "never-returns-esc.txt",
        true,
        Failure::Handler,
    )
    .await;
    assert_eq!(env.codex.connection().open_server_requests(), 0);
}

#[tokio::test]
async fn fail_closed_audit_a_handler_that_panics() {
    let config = ConnectionConfig::new().handler(Panics);
    let Some((env, thread)) = audit_env("audit_panics", config).await else {
        return;
    };
    audit(&env, &thread, "panics.txt", false, Failure::Handler).await;
    audit(&env, &thread, "panics-esc.txt", true, Failure::Handler).await;
}

#[tokio::test]
async fn fail_closed_audit_requests_dropped_or_held_in_the_stream() {
    let config = ConnectionConfig::new().server_request_timeout(Duration::from_millis(500));
    let Some((env, thread)) = audit_env("audit_in_stream", config).await else {
        return;
    };
    audit(
        &env,
        &thread,
        "dropped.txt",
        false,
        Failure::DroppedInStream,
    )
    .await;
    audit(&env, &thread, "held.txt", false, Failure::HeldInStream).await;
    audit(
        &env,
        &thread,
        "dropped-esc.txt",
        true,
        Failure::DroppedInStream,
    )
    .await;
    // No handler at all (the default), escalation request: declined too (the plain command
    // approval without a handler is `app_server::a_command_approval_without_handler_...`).
    audit(&env, &thread, "default-esc.txt", true, Failure::Handler).await;
    assert_eq!(env.codex.connection().open_server_requests(), 0);
    assert!(env.codex.connection().stats().is_idle());
}

/// `true` while `pid` is a live (not zombie) process.
fn running(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit(')')
            .next()
            .and_then(|s| s.split_whitespace().next())
            .is_some_and(|state| state != "Z"),
        Err(_) => false,
    }
}

async fn until_reaped(pid: u32) {
    within("the app-server is reaped", async {
        while std::path::Path::new(&format!("/proc/{pid}")).exists() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
}

/// `Codex` dropped while turns are open: a handle still held keeps the connection (its turn goes
/// on to the end); once the last handle is gone the app-server is killed and reaped — no zombie.
#[tokio::test]
async fn dropping_codex_with_turns_open_reaps_the_app_server() {
    let Some(env) = start("drop_with_turns_open", ConnectionConfig::new()).await else {
        return;
    };
    let gate = StallGate::new();
    env.mock
        .set_default(MockResponse::stalled(["partial "], &gate));
    let options = ThreadOptions::new()
        .cwd(env.sandbox.workdir())
        .approval_mode(ApprovalMode::DenyAll)
        .sandbox(Sandbox::ReadOnly);
    let kept_thread = env.codex.threads().start(options.clone()).await.unwrap();
    let dropped_thread = env.codex.threads().start(options).await.unwrap();
    let kept = kept_thread.turn("keep me").await.unwrap();
    let mut abandoned = dropped_thread.turn("drop me").await.unwrap();
    assert!(
        gate.wait_stalled(2, TURN_TIMEOUT).await,
        "both turns stream"
    );
    within("an event", abandoned.next()).await.unwrap().unwrap();
    let pid = env.codex.connection().pid().unwrap();
    let Env {
        codex,
        sandbox,
        mock,
    } = env;
    drop((codex, kept_thread, dropped_thread, abandoned));
    assert!(running(pid), "a handle still holds the connection");
    // The kept turn finishes normally once the model does.
    gate.release();
    let result = within("the kept turn", kept.run())
        .await
        .expect("completed");
    assert_eq!(result.status, TurnStatus::Completed);
    until_reaped(pid).await;
    drop((sandbox, mock));
}

/// The same with nothing kept: every handle dropped mid-turn, the consumer task aborted.
#[tokio::test]
async fn dropping_everything_mid_turn_reaps_the_app_server() {
    let Some(env) = start("drop_everything", ConnectionConfig::new()).await else {
        return;
    };
    let gate = StallGate::new();
    env.mock
        .set_default(MockResponse::stalled(["partial "], &gate));
    let thread = env
        .codex
        .threads()
        .start(ThreadOptions::new().cwd(env.sandbox.workdir()))
        .await
        .unwrap();
    let turn = thread.turn("hang").await.unwrap();
    let consumer = tokio::spawn(turn.run());
    assert!(gate.wait_stalled(1, TURN_TIMEOUT).await);
    let pid = env.codex.connection().pid().unwrap();
    let Env {
        codex,
        sandbox,
        mock,
    } = env;
    consumer.abort();
    let _ = consumer.await;
    drop((codex, thread));
    until_reaped(pid).await;
    gate.release();
    drop((sandbox, mock));
}

//! Tests of the sandbox (directories, the exact offline command line, the clean environment) and
//! of the raw JSON-lines driver against a stand-in process (`/bin/sh`), so they need no codex
//! binary.

use codex_client_testkit::{AppServerLaunch, CodexSandbox, DISABLED_FEATURES, Error, RawAppServer};
use serde_json::json;
use std::path::Path;
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(10);

#[test]
fn launch_has_exactly_the_offline_flags() {
    let sandbox = CodexSandbox::new("/opt/codex/bin/codex", "http://127.0.0.1:4242/v1").unwrap();
    let launch = sandbox.launch();
    assert_eq!(launch.program, Path::new("/opt/codex/bin/codex"));
    let expected: Vec<String> = [
        "app-server",
        "-c",
        r#"model_provider="mock""#,
        "-c",
        r#"model="mock-model""#,
        "-c",
        r#"model_providers.mock.name="Mock Responses""#,
        "-c",
        r#"model_providers.mock.base_url="http://127.0.0.1:4242/v1""#,
        "-c",
        r#"model_providers.mock.wire_api="responses""#,
        "-c",
        "model_providers.mock.request_max_retries=0",
        "-c",
        "model_providers.mock.stream_max_retries=0",
        "-c",
        "analytics.enabled=false",
        "--disable",
        "plugins",
        "--disable",
        "remote_plugin",
        "--disable",
        "apps",
        "--disable",
        "plugin_sharing",
        "--disable",
        "tool_suggest",
        "--disable",
        "unbounded_connection_retries",
    ]
    .map(String::from)
    .to_vec();
    assert_eq!(launch.args, expected);
    assert_eq!(DISABLED_FEATURES.len(), 6);
}

#[test]
fn environment_is_clean_and_throwaway() {
    let sandbox = CodexSandbox::new("/opt/codex/bin/codex", "http://127.0.0.1:4242/v1").unwrap();
    let launch = sandbox.launch();
    assert!(launch.env_clear);
    let keys: Vec<&str> = launch.env.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        keys,
        ["PATH", "HOME", "CODEX_HOME", "TMPDIR", "RUST_LOG", "LANG"]
    );
    assert_eq!(launch.env_var("RUST_LOG"), Some("warn"));
    let home = Path::new(launch.env_var("HOME").unwrap());
    let codex_home = Path::new(launch.env_var("CODEX_HOME").unwrap());
    let tmp = Path::new(launch.env_var("TMPDIR").unwrap());
    for dir in [home, codex_home, tmp, &launch.cwd] {
        assert!(dir.is_dir(), "{}", dir.display());
        assert!(dir.starts_with(sandbox.root()));
    }
    assert!(
        !codex_home.starts_with(tmp),
        "TMPDIR must not contain CODEX_HOME"
    );
    assert_eq!(launch.cwd, sandbox.workdir());
    // The std command carries the same.
    let cmd = launch.std_command();
    assert_eq!(cmd.get_current_dir(), Some(sandbox.workdir().as_path()));
    assert_eq!(cmd.get_args().count(), launch.args.len());
}

#[test]
fn extra_config_and_rust_log() {
    let sandbox = CodexSandbox::new("codex", "http://127.0.0.1:1/v1")
        .unwrap()
        .config("features.shell_snapshot", "false")
        .rust_log("info");
    let launch = sandbox.launch();
    let pos = launch
        .args
        .iter()
        .position(|a| a == "features.shell_snapshot=false")
        .expect("the override is passed");
    assert_eq!(launch.args[pos - 1], "-c");
    assert_eq!(launch.env_var("RUST_LOG"), Some("info"));
}

#[test]
fn path_starts_with_the_runtime_helper_dir() {
    // Fake wheel layout: codex_cli_bin/{bin/codex, codex-path/}.
    let wheel = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(wheel.path().join("codex_cli_bin/bin")).unwrap();
    std::fs::create_dir_all(wheel.path().join("codex_cli_bin/codex-path")).unwrap();
    let binary = wheel.path().join("codex_cli_bin/bin/codex");
    let sandbox = CodexSandbox::new(&binary, "http://127.0.0.1:1/v1").unwrap();
    let path = sandbox.launch().env_var("PATH").unwrap().to_owned();
    let first = path.split(':').next().unwrap();
    assert_eq!(
        Path::new(first),
        wheel.path().join("codex_cli_bin/codex-path")
    );
}

#[test]
fn dropping_the_sandbox_removes_its_directories() {
    let sandbox = CodexSandbox::new("codex", "http://127.0.0.1:1/v1").unwrap();
    let root = sandbox.root().to_path_buf();
    std::fs::write(sandbox.workdir().join("file"), "x").unwrap();
    assert!(root.is_dir());
    drop(sandbox);
    assert!(!root.exists());
}

/// A stand-in "server": a shell script.
fn shell(script: &str) -> AppServerLaunch {
    AppServerLaunch {
        program: "/bin/sh".into(),
        args: vec!["-c".into(), script.into()],
        env: vec![("PATH".into(), "/usr/bin:/bin".into())],
        env_clear: true,
        cwd: std::env::temp_dir(),
    }
}

/// Echoes each request back as a response with the same id (`{"id":N,"result":{"echo":true}}`),
/// or an error for method "fail"; greets first; exits on EOF.
const ECHO_SERVER: &str = r#"
echo '{"method":"hello","params":{}}'
while IFS= read -r line; do
  id=$(printf '%s' "$line" | sed -n 's/.*"id":\([0-9]*\).*/\1/p')
  case "$line" in
    *'"method":"fail"'*) printf '{"id":%s,"error":{"code":-32600,"message":"nope"}}\n' "$id" ;;
    *) if [ -n "$id" ]; then printf '{"id":%s,"result":{"echo":true}}\n' "$id"; fi ;;
  esac
done
"#;

#[tokio::test]
async fn driver_sends_requests_and_waits_for_messages() -> Result<(), Error> {
    let mut server = RawAppServer::spawn(&shell(ECHO_SERVER))?;
    let result = server.call("x", json!({}), TIMEOUT).await?;
    assert_eq!(result, json!({"echo": true}));
    assert_eq!(server.sent_method(1), Some("x"));
    // The greeting arrived before the response: skipped by that wait, not lost.
    let hello = server.wait_notification("hello", TIMEOUT).await?;
    assert_eq!(hello["method"], "hello");
    assert_eq!(server.transcript().len(), 2);

    let err = server.call("fail", json!({}), TIMEOUT).await.unwrap_err();
    match err {
        Error::Rpc { method, error } => {
            assert_eq!(method, "fail");
            assert_eq!(error["message"], "nope");
        }
        other => panic!("expected an Rpc error, got {other}"),
    }
    // Closing stdin ends the stand-in, as it ends the real app-server.
    let status = server.shutdown(TIMEOUT).await?;
    assert!(status.success());
    Ok(())
}

#[tokio::test]
async fn driver_times_out_with_what_it_waited_for() -> Result<(), Error> {
    let mut server = RawAppServer::spawn(&shell("exec sleep 300"))?;
    let err = server
        .wait_notification("turn/completed", Duration::from_millis(50))
        .await
        .unwrap_err();
    match &err {
        Error::Timeout { waiting_for, .. } => assert_eq!(waiting_for, "turn/completed"),
        other => panic!("expected a timeout, got {other}"),
    }
    Ok(())
}

#[tokio::test]
async fn driver_reports_exit_status_and_stderr_when_the_server_dies() -> Result<(), Error> {
    let mut server = RawAppServer::spawn(&shell("echo 'fatal: boom' >&2; exit 3"))?;
    let err = server.next_message(TIMEOUT).await.unwrap_err();
    match &err {
        Error::Closed {
            status,
            stderr_tail,
            ..
        } => {
            assert_eq!(status.and_then(|s| s.code()), Some(3), "{err}");
            assert!(stderr_tail.contains("fatal: boom"), "{err}");
        }
        other => panic!("expected Closed, got {other}"),
    }
    assert!(err.to_string().contains("fatal: boom"));
    Ok(())
}

#[tokio::test]
async fn driver_rejects_lines_that_are_not_json() -> Result<(), Error> {
    let mut server = RawAppServer::spawn(&shell("echo 'not json'; exec sleep 300"))?;
    let err = server.next_message(TIMEOUT).await.unwrap_err();
    assert!(
        matches!(err, Error::BadLine { ref line, .. } if line == "not json"),
        "{err}"
    );
    Ok(())
}

#[tokio::test]
async fn dropping_the_driver_kills_the_whole_process_group() -> Result<(), Error> {
    // The stand-in starts a grandchild, like the app-server's shell snapshots.
    let mut server = RawAppServer::spawn(&shell(
        r#"sleep 300 & echo "{\"method\":\"pid\",\"params\":{\"pid\":$!}}"; wait"#,
    ))?;
    let child = server.pid().expect("running");
    let grandchild = server.wait_notification("pid", TIMEOUT).await?["params"]["pid"]
        .as_u64()
        .unwrap() as u32;
    assert!(alive(child) && alive(grandchild));
    drop(server);
    assert!(!alive(child), "the child is killed and reaped on drop");
    // The grandchild is reaped by whoever adopted it; wait for that, with a deadline.
    let deadline = std::time::Instant::now() + TIMEOUT;
    while alive(grandchild) && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(!alive(grandchild), "the grandchild is killed too");
    Ok(())
}

/// Running (a zombie, killed but not yet reaped by its adopter, counts as dead).
fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            let state = stat.rsplit(')').next().unwrap_or("").trim_start();
            !state.starts_with('Z')
        }
        Err(_) => false,
    }
}

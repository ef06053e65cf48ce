//! The stdio transport with stand-in processes (`/bin/sh` scripts), no app-server needed: exit
//! status and stderr tail on death, bounded line length, missing binaries.

use codex_client::core::{Connection, ConnectionConfig};
use codex_client::{Error, SpawnConfig};
use std::time::Duration;

fn sh(script: &str) -> SpawnConfig {
    SpawnConfig::explicit("/bin/sh", ["-c", script])
}

#[tokio::test]
async fn a_server_that_dies_at_startup_reports_exit_status_and_stderr() {
    let err = Connection::spawn(
        sh("echo 'fatal: config is broken' >&2; exit 3"),
        ConnectionConfig::default(),
    )
    .await
    .unwrap_err();
    let info = err.closed_info().unwrap_or_else(|| panic!("closed: {err}"));
    assert_eq!(info.exit_status.and_then(|s| s.code()), Some(3), "{info}");
    assert!(info.stderr_tail.contains("config is broken"), "{info}");
    assert!(err.to_string().contains("config is broken"));
}

#[tokio::test]
async fn a_line_over_the_limit_is_an_error_not_an_allocation() {
    // 10 MB without a newline; the limit is 64 KiB.
    let config = ConnectionConfig::default()
        .max_line_bytes(64 * 1024)
        .handshake(false);
    let conn = Connection::spawn(
        sh("head -c 10000000 /dev/zero | tr '\\0' x; sleep 30"),
        config,
    )
    .await
    .unwrap();
    let info = tokio::time::timeout(Duration::from_secs(10), conn.wait_closed())
        .await
        .expect("closed promptly");
    assert!(info.reason.contains("longer than 65536"), "{info}");
    assert!(
        info.exit_status.is_some(),
        "the process was stopped: {info}"
    );
}

#[tokio::test]
async fn stdin_eof_ends_a_well_behaved_server_on_close() {
    let config = ConnectionConfig::default().handshake(false);
    let conn = Connection::spawn(sh("cat >/dev/null; echo bye >&2"), config)
        .await
        .unwrap();
    let info = tokio::time::timeout(Duration::from_secs(10), conn.close())
        .await
        .unwrap();
    assert!(info.exit_status.is_some_and(|s| s.success()), "{info}");
    assert!(info.stderr_tail.contains("bye"), "{info}");
}

#[tokio::test]
async fn close_terminates_a_server_that_ignores_stdin() {
    let config = ConnectionConfig::default()
        .handshake(false)
        .close_timeout(Duration::from_millis(200));
    let conn = Connection::spawn(sh("exec sleep 30"), config)
        .await
        .unwrap();
    let info = tokio::time::timeout(Duration::from_secs(10), conn.close())
        .await
        .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(
            info.exit_status.and_then(|s| s.signal()),
            Some(15),
            "{info}"
        );
    }
}

#[tokio::test]
async fn a_missing_explicit_binary_is_reported_with_what_was_searched() {
    let err = Connection::spawn(
        SpawnConfig::new().codex_bin("/nonexistent/codex"),
        ConnectionConfig::default(),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, Error::BinaryNotFound { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("/nonexistent/codex") && text.contains("pip install openai-codex-cli-bin==")
    );
}

#[tokio::test]
async fn stderr_is_drained_so_a_chatty_server_never_blocks() {
    // 4 MB on stderr (far more than a pipe buffer) before answering on stdout.
    let script = "head -c 4000000 /dev/zero | tr '\\0' 'e' | fold -w 100 >&2; \
                  read line; echo '{\"id\":1,\"result\":{\"ok\":true}}'; cat >/dev/null";
    let conn = Connection::spawn(sh(script), ConnectionConfig::default().handshake(false))
        .await
        .unwrap();
    let result = conn
        .request_raw_with(
            "anything",
            None,
            codex_client::core::RequestOptions::new().timeout(Duration::from_secs(20)),
        )
        .await
        .unwrap();
    assert_eq!(result["ok"], true);
    assert!(conn.stderr_tail().len() <= 16 * 1024);
    conn.close().await;
}

//! The group handles against a scripted server (memory transport): each call that replaced a
//! positional boolean sends the flag its name promises, and bad input is refused before
//! anything is written. Deterministic: every wait is bounded, nothing sleeps.

mod common;

use codex_client::core::ConnectionConfig;
use codex_client::{Codex, Error, MemoryPeer};
use common::{next_request, respond, respond_error};
use serde_json::{Value, json};
use std::future::Future;

async fn codex() -> (Codex, MemoryPeer) {
    let (conn, peer) = common::connect(ConnectionConfig::new()).await;
    (Codex::from_connection(conn), peer)
}

/// Runs `call` on a task, answers its one request with `answer`, and returns the request's
/// method and params with the call's result.
async fn exchange<T: Send + 'static>(
    peer: &mut MemoryPeer,
    call: impl Future<Output = codex_client::Result<T>> + Send + 'static,
    answer: Result<Value, &str>,
) -> (String, Value, codex_client::Result<T>) {
    let task = tokio::spawn(call);
    let (id, method, params) = next_request(peer).await;
    match answer {
        Ok(result) => respond(peer, &id, result),
        Err(message) => respond_error(peer, &id, -32600, message),
    }
    let result = common::within(common::T, "the call's answer", task)
        .await
        .expect("the call's task");
    (method, params, result)
}

#[tokio::test]
async fn threads_read_asks_for_turns_only_in_read_with_turns() {
    let (codex, mut peer) = codex().await;
    let c = codex.clone();
    let (method, params, result) = exchange(
        &mut peer,
        async move { c.threads().read("thr_1").await },
        Err("no such thread"),
    )
    .await;
    assert_eq!(method, "thread/read");
    assert_eq!(params, json!({"threadId": "thr_1", "includeTurns": false}));
    assert!(matches!(result, Err(Error::Rpc { .. })));

    let c = codex.clone();
    let (_, params, _) = exchange(
        &mut peer,
        async move { c.threads().read_with_turns("thr_1").await },
        Err("no such thread"),
    )
    .await;
    assert_eq!(params, json!({"threadId": "thr_1", "includeTurns": true}));
}

#[tokio::test]
async fn account_read_refreshes_tokens_only_in_read_refreshed() {
    let (codex, mut peer) = codex().await;
    let logged_out = json!({"account": null, "requiresOpenaiAuth": true});
    for (refresh, expected) in [(false, false), (true, true)] {
        let c = codex.clone();
        let call = async move {
            if refresh {
                c.account().read_refreshed().await
            } else {
                c.account().read().await
            }
        };
        let (method, params, result) = exchange(&mut peer, call, Ok(logged_out.clone())).await;
        assert_eq!(method, "account/read");
        assert_eq!(params, json!({"refreshToken": expected}));
        let account = result.expect("account/read");
        assert!(account.account.is_none() && account.requires_openai_auth);
    }
}

#[tokio::test]
async fn models_list_includes_hidden_models_only_when_named() {
    let (codex, mut peer) = codex().await;
    let c = codex.clone();
    let (method, params, result) = exchange(
        &mut peer,
        async move { c.models().list().await },
        Ok(json!({"data": [], "nextCursor": null})),
    )
    .await;
    assert_eq!(method, "model/list");
    assert_eq!(params["includeHidden"], json!(false));
    assert!(result.expect("model/list").is_empty());

    let c = codex.clone();
    let (_, params, _) = exchange(
        &mut peer,
        async move { c.models().list_including_hidden().await },
        Ok(json!({"data": []})),
    )
    .await;
    assert_eq!(params["includeHidden"], json!(true));
}

#[tokio::test]
async fn files_splits_send_the_recursive_flag_their_names_promise() {
    let (codex, mut peer) = codex().await;
    let cases: Vec<(&str, &str, Value)> = vec![
        (
            "create_dir",
            "fs/createDirectory",
            json!({"path": "/w/a/b", "recursive": false}),
        ),
        (
            "create_dir_all",
            "fs/createDirectory",
            json!({"path": "/w/a/b", "recursive": true}),
        ),
        (
            "remove",
            "fs/remove",
            json!({"path": "/w/a/b", "recursive": false}),
        ),
        (
            "remove_all",
            "fs/remove",
            json!({"path": "/w/a/b", "recursive": true}),
        ),
        (
            "copy",
            "fs/copy",
            json!({"sourcePath": "/w/a/b", "destinationPath": "/w/c", "recursive": true}),
        ),
    ];
    for (call, expected_method, expected_params) in cases {
        let c = codex.clone();
        let run = async move {
            let files = c.files();
            match call {
                "create_dir" => files.create_dir("/w/a/b").await,
                "create_dir_all" => files.create_dir_all("/w/a/b").await,
                "remove" => files.remove("/w/a/b").await,
                "remove_all" => files.remove_all("/w/a/b").await,
                _ => files.copy("/w/a/b", "/w/c").await,
            }
        };
        let (method, params, result) = exchange(&mut peer, run, Ok(json!({}))).await;
        assert_eq!(
            (method.as_str(), &params),
            (expected_method, &expected_params),
            "{call}"
        );
        result.unwrap_or_else(|e| panic!("{call}: {e}"));
    }
}

#[tokio::test]
async fn a_relative_path_or_an_empty_argv_is_refused_before_any_request() {
    let (codex, mut peer) = codex().await;
    let err = codex
        .files()
        .create_dir_all("relative/dir")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::InvalidOptions(m) if m.contains("relative/dir")),
        "{err}"
    );
    let err = codex
        .commands()
        .run(Vec::<String>::new())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::InvalidOptions(m) if m.contains("argv")),
        "{err}"
    );
    // Nothing was written for either: the next request the server sees is this one.
    let c = codex.clone();
    let (method, _, _) = exchange(
        &mut peer,
        async move { c.files().metadata("/w").await },
        Err("no such path"),
    )
    .await;
    assert_eq!(method, "fs/getMetadata");
}

#[tokio::test]
async fn server_config_read_for_sends_the_cwd_and_read_does_not() {
    let (codex, mut peer) = codex().await;
    let c = codex.clone();
    let (method, params, _) = exchange(
        &mut peer,
        async move { c.server_config().read().await },
        Err("scripted"),
    )
    .await;
    assert_eq!(method, "config/read");
    assert_eq!(params, json!({"includeLayers": false}));
    let c = codex.clone();
    let (_, params, _) = exchange(
        &mut peer,
        async move { c.server_config().read_for("/work/repo").await },
        Err("scripted"),
    )
    .await;
    assert_eq!(params, json!({"cwd": "/work/repo", "includeLayers": false}));
}

/// `spawn` queues `command/exec` before it returns, so a `write_stdin` right after it reaches
/// the server second (the server refuses a write for a process it has not started).
#[tokio::test]
async fn write_stdin_writes_and_close_stdin_only_closes() {
    let (codex, mut peer) = codex().await;
    let params = serde_json::from_value(json!({"command": ["cat"], "streamStdin": true})).unwrap();
    let exec = codex.commands().spawn(params).await.expect("spawn");
    // The write is polled first, on this task, before the server side reads anything.
    let (written, exec_id) = tokio::join!(exec.write_stdin(b"hi"), async {
        let (exec_id, method, params) = next_request(&mut peer).await;
        assert_eq!(method, "command/exec");
        assert_eq!(params["streamStdoutStderr"], json!(true));
        assert_eq!(params["processId"], json!(exec.process_id()));
        let (id, method, params) = next_request(&mut peer).await;
        assert_eq!(method, "command/exec/write");
        assert_eq!(
            params,
            json!({"processId": exec.process_id(), "deltaBase64": "aGk=", "closeStdin": false})
        );
        respond(&peer, &id, json!({}));
        exec_id
    });
    written.expect("write_stdin");

    let exec = std::sync::Arc::new(exec);
    let e = exec.clone();
    let (_, params, result) = exchange(
        &mut peer,
        async move { e.close_stdin().await },
        Ok(json!({})),
    )
    .await;
    assert_eq!(
        params,
        json!({"processId": exec.process_id(), "closeStdin": true})
    );
    result.expect("close_stdin");

    respond(
        &peer,
        &exec_id,
        json!({"exitCode": 0, "stdout": "", "stderr": ""}),
    );
    let exec = std::sync::Arc::into_inner(exec).expect("the only handle");
    let done = common::within(common::T, "exit", exec.wait())
        .await
        .expect("exit");
    assert_eq!(done.exit_code, 0);
}

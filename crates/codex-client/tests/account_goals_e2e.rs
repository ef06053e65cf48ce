//! Login and account, models, review, command exec, file system and config against the real
//! `codex app-server`, offline: the test kit's mock model on 127.0.0.1 and its sandbox (the async
//! goal scenarios are in `goals_e2e.rs`; the blocking goal is here with the blocking exec).
//! Skipped loudly when the binary is missing, unless CODEX_CLIENT_REQUIRE_APP_SERVER=1.
//!
//! Every wait is bounded (`TIMEOUT`); nothing sleeps and hopes. The device-code login is not
//! started here: the server asks auth.openai.com for the code before it answers (its handle is
//! tested against a scripted server in `src/api/account.rs`).

mod common;

use codex_client::Error;
use codex_client::protocol::{
    Account, CancelLoginAccountStatus, CommandExecOutputStream, ReviewTarget, TurnStatus,
};
use codex_client_testkit::{CodexSandbox, MockResponse};
use futures::StreamExt;
use std::future::Future;
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(60);

use common::AppServerEnv as Env;

async fn start(name: &str) -> Option<Env> {
    start_with(name, |s| s).await
}

async fn start_with(name: &str, edit: impl FnOnce(CodexSandbox) -> CodexSandbox) -> Option<Env> {
    common::start_app_server(name, edit, |l| l).await
}

async fn within<T>(what: &str, fut: impl Future<Output = T>) -> T {
    common::within(TIMEOUT, what, fut).await
}

// ----- login and account -------------------------------------------------------------------------

#[tokio::test]
async fn api_key_login_is_the_bearer_the_mock_receives_then_logout() {
    const KEY: &str = "sk-test-e2e-0123456789";
    // A provider that needs OpenAI auth: codex then sends the stored key as the bearer token.
    let Some(env) = start_with("api_key_login", |s| {
        s.config("model_providers.mock.requires_openai_auth", "true")
    })
    .await
    else {
        return;
    };
    let before = within("account/read", env.codex.account().read())
        .await
        .unwrap();
    assert!(before.requires_openai_auth);
    assert_eq!(before.account, None);

    within("login", env.codex.account().login_api_key(KEY))
        .await
        .expect("api key login");
    let after = within("account/read", env.codex.account().read_refreshed())
        .await
        .unwrap();
    assert_eq!(after.account, Some(Account::ApiKey));

    env.mock.push(MockResponse::message("authorized"));
    let thread = env.thread().await;
    let result = within("turn", thread.run("hello")).await.expect("turn");
    assert_eq!(result.final_response(), Some("authorized"));
    let request = env.mock.requests().pop().expect("a model request");
    assert_eq!(
        request.header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );

    // Rate limits and usage need a ChatGPT login: a JSON-RPC error, not a hang.
    let limits = within("rate limits", env.codex.account().rate_limits()).await;
    assert!(matches!(limits, Err(Error::Rpc { .. })), "{limits:?}");
    let usage = within("usage", env.codex.account().token_usage(None)).await;
    assert!(matches!(usage, Err(Error::Rpc { .. })), "{usage:?}");

    within("logout", env.codex.account().logout())
        .await
        .expect("logout");
    let out = within("account/read", env.codex.account().read())
        .await
        .unwrap();
    assert_eq!(out.account, None);
}

#[tokio::test]
async fn chatgpt_login_starts_offline_and_cancel_completes_it() {
    let Some(env) = start("chatgpt_login").await else {
        return;
    };
    let mut login = within("login/start", env.codex.account().login_chatgpt())
        .await
        .expect("chatgpt login starts without network");
    assert!(!login.login_id().is_empty());
    assert!(
        login.auth_url().starts_with("https://auth.openai.com/"),
        "{}",
        login.auth_url()
    );
    assert!(format!("{login:?}").contains(login.login_id()));
    let status = within("cancel", login.cancel()).await.expect("cancel");
    assert_eq!(status, CancelLoginAccountStatus::Canceled);
    let done = within("completion", login.wait())
        .await
        .expect("completion");
    assert_eq!(done.login_id.as_deref(), Some(login.login_id()));
    assert!(!done.success);
    assert!(done.error.is_some());
}

// ----- models ------------------------------------------------------------------------------------

#[tokio::test]
async fn models_list_with_and_without_hidden_and_provider_capabilities() {
    let Some(env) = start("models").await else {
        return;
    };
    let visible = within("model/list", env.codex.models().list())
        .await
        .unwrap();
    assert!(!visible.is_empty(), "the bundled catalog answers offline");
    assert!(visible.iter().all(|m| !m.hidden));
    let all = within(
        "model/list hidden",
        env.codex.models().list_including_hidden(),
    )
    .await
    .unwrap();
    assert!(all.len() >= visible.len());
    for model in &visible {
        assert!(all.iter().any(|m| m.id == model.id), "{} missing", model.id);
    }
    let caps = within("capabilities", env.codex.models().provider_capabilities())
        .await
        .unwrap();
    let _ = (caps.web_search, caps.image_generation);
}

// ----- review, command exec, file system, config -------------------------------------------------

#[tokio::test]
async fn review_start_returns_a_turn_handle_that_completes() {
    let Some(env) = start("review").await else {
        return;
    };
    env.mock
        .set_default(MockResponse::message("Looks fine to me."));
    let thread = env.thread().await;
    let target = ReviewTarget::Custom(codex_client::protocol::CustomReviewTarget {
        instructions: "Review the empty workspace.".to_owned(),
    });
    let review = within("review/start", thread.review(target))
        .await
        .expect("review");
    assert!(!review.id().is_empty());
    let result = within("review turn", review.run())
        .await
        .expect("review result");
    assert_eq!(result.status, TurnStatus::Completed);
    assert!(env.mock.request_count() >= 1);
}

#[tokio::test]
async fn command_exec_streams_its_output_then_exits() {
    let Some(env) = start("command_exec").await else {
        return;
    };
    let params = serde_json::from_value(serde_json::json!({
        "command": ["sh", "-c", "echo one; echo two >&2; echo three"],
        "cwd": env.sandbox.workdir(),
    }))
    .unwrap();
    let mut exec = within("exec start", env.codex.commands().spawn(params))
        .await
        .unwrap();
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    while let Some(chunk) = within("exec output", exec.next()).await {
        let chunk = chunk.expect("chunk");
        match chunk.stream {
            CommandExecOutputStream::Stdout => stdout.extend(chunk.data),
            CommandExecOutputStream::Stderr => stderr.extend(chunk.data),
            other => panic!("unexpected stream {other}"),
        }
    }
    assert_eq!(String::from_utf8_lossy(&stdout), "one\nthree\n");
    assert_eq!(String::from_utf8_lossy(&stderr), "two\n");
    let done = within("exec exit", exec.wait()).await.expect("exit");
    assert_eq!(done.exit_code, 0);
    assert!(done.stdout.is_empty(), "streamed output is not repeated");

    let buffered = within(
        "exec",
        env.codex.commands().run(["sh", "-c", "echo hi; exit 3"]),
    )
    .await
    .unwrap();
    assert_eq!((buffered.stdout.as_str(), buffered.exit_code), ("hi\n", 3));
}

#[tokio::test]
async fn file_system_and_config_calls() {
    let Some(env) = start("fs_config").await else {
        return;
    };
    let dir = env.sandbox.workdir().join("sub");
    let file = dir.join("notes.txt");
    within("mkdir", env.codex.files().create_dir_all(&dir))
        .await
        .unwrap();
    within("write", env.codex.files().write(&file, b"hello\x00world"))
        .await
        .unwrap();
    assert_eq!(
        within("read", env.codex.files().read(&file)).await.unwrap(),
        b"hello\x00world"
    );
    let entries = within("readdir", env.codex.files().read_dir(&dir))
        .await
        .unwrap();
    assert_eq!(
        entries
            .iter()
            .map(|e| e.file_name.as_str())
            .collect::<Vec<_>>(),
        ["notes.txt"]
    );
    let copy = dir.join("copy.txt");
    within("copy", env.codex.files().copy(&file, &copy))
        .await
        .unwrap();
    assert!(
        !within("meta", env.codex.files().metadata(&copy))
            .await
            .unwrap()
            .is_directory
    );
    within("remove", env.codex.files().remove_all(&dir))
        .await
        .unwrap();
    assert!(!dir.exists());
    let relative = env.codex.files().read("relative.txt").await.unwrap_err();
    assert!(matches!(relative, Error::InvalidOptions(_)));

    let config = within("config/read", env.codex.server_config().read())
        .await
        .unwrap();
    assert_eq!(
        config.config.model.as_deref(),
        Some(codex_client_testkit::MOCK_MODEL_NAME)
    );
    let workdir = env.sandbox.workdir().to_str().unwrap().to_owned();
    let here = within(
        "config/read cwd",
        env.codex.server_config().read_for(&workdir),
    )
    .await
    .unwrap();
    assert_eq!(here.config.model, config.config.model);
    let servers = within("mcp status", env.codex.mcp().servers())
        .await
        .unwrap();
    assert!(servers.is_empty());
    let workdir = env.sandbox.workdir();
    let skills = within(
        "skills",
        env.codex.skills().list(&[workdir.to_str().unwrap()]),
    )
    .await
    .unwrap();
    assert_eq!(skills.len(), 1);
}

/// Each split of a former boolean does what its name says: `create_dir` needs the parent,
/// `create_dir_all` makes it; `remove` refuses a non-empty directory, `remove_all` takes it;
/// `copy` copies a whole directory.
#[tokio::test]
async fn file_system_splits_follow_std_fs() {
    let Some(env) = start("fs_splits").await else {
        return;
    };
    let files = env.codex.files();
    let top = env.sandbox.workdir().join("top");
    let nested = top.join("a").join("b");
    let err = within("mkdir nested", files.create_dir(&nested))
        .await
        .expect_err("create_dir without its parent");
    assert!(
        matches!(&err, Error::Rpc { method, .. } if method == "fs/createDirectory"),
        "{err}"
    );
    assert!(!top.exists(), "a failed create_dir creates nothing");
    within("mkdir -p", files.create_dir_all(&nested))
        .await
        .expect("create_dir_all");
    assert!(nested.is_dir());
    within("mkdir", files.create_dir(top.join("c")))
        .await
        .expect("create_dir with its parent");
    assert!(top.join("c").is_dir());
    within("write", files.write(nested.join("f.txt"), b"deep"))
        .await
        .unwrap();

    let backup = env.sandbox.workdir().join("backup");
    within("copy dir", files.copy(&top, &backup)).await.unwrap();
    assert_eq!(
        within("read copy", files.read(backup.join("a/b/f.txt")))
            .await
            .unwrap(),
        b"deep"
    );

    let err = within("rm non-empty", files.remove(&top))
        .await
        .expect_err("remove of a non-empty directory");
    assert!(
        matches!(&err, Error::Rpc { method, .. } if method == "fs/remove"),
        "{err}"
    );
    assert!(
        nested.join("f.txt").exists(),
        "a refused remove removes nothing"
    );
    within("rm empty", files.remove(top.join("c")))
        .await
        .unwrap();
    assert!(!top.join("c").exists());
    within("rm -r", files.remove_all(&top)).await.unwrap();
    assert!(!top.exists());
}

/// `close_stdin` ends a `cat`: what was written comes back, then the process exits 0.
#[tokio::test]
async fn close_stdin_ends_a_cat() {
    let Some(env) = start("exec_stdin").await else {
        return;
    };
    let params = serde_json::from_value(serde_json::json!({
        "command": ["cat"],
        "cwd": env.sandbox.workdir(),
        "streamStdin": true,
    }))
    .unwrap();
    let mut cat = within("exec start", env.codex.commands().spawn(params))
        .await
        .unwrap();
    within("stdin", cat.write_stdin(b"one\n")).await.unwrap();
    within("stdin", cat.write_stdin(b"two\n")).await.unwrap();
    within("close stdin", cat.close_stdin()).await.unwrap();
    let mut stdout = Vec::new();
    while let Some(chunk) = within("cat output", cat.next()).await {
        stdout.extend(chunk.expect("chunk").data);
    }
    assert_eq!(String::from_utf8_lossy(&stdout), "one\ntwo\n");
    let done = within("cat exit", cat.wait()).await.expect("exit");
    assert_eq!(done.exit_code, 0);
}

// ----- the blocking twin -------------------------------------------------------------------------

#[cfg(feature = "blocking")]
#[test]
fn blocking_goal_and_streamed_exec() {
    use codex_client::blocking;
    use codex_client::core::ConnectionConfig;
    use codex_client::protocol::ThreadGoalStatus;
    use codex_client::{GoalOptions, ThreadOptions};
    use codex_client_testkit::MockModel;
    let Some(binary) = codex_client_testkit::require_codex_binary("blocking_goal") else {
        return;
    };
    // The mock needs a runtime of its own; the blocking client brings its own.
    let mock_rt = tokio::runtime::Runtime::new().unwrap();
    let mock = mock_rt.block_on(MockModel::start()).expect("mock model");
    mock.set_default(MockResponse::message("step"));
    let sandbox = CodexSandbox::new(binary, mock.base_url()).expect("sandbox");
    let launch = sandbox.launch();
    let spawn = common::spawn_config(&launch);
    let codex = blocking::Codex::builder()
        .connection(ConnectionConfig::new())
        .spawn(spawn)
        .expect("spawn");
    let thread = codex
        .threads()
        .start(ThreadOptions::new().cwd(sandbox.workdir()))
        .expect("thread");
    let mut goal = thread
        .start_goal_with("Count", GoalOptions::new().token_budget(20))
        .expect("goal");
    let mut events = 0;
    for event in &mut goal {
        event.expect("event");
        events += 1;
    }
    assert!(events > 0);
    let done = goal.run().expect("goal result");
    assert!(done.turn_ids.len() >= 2, "{:?}", done.turn_ids);
    assert_eq!(done.status(), Some(&ThreadGoalStatus::BudgetLimited));

    let params =
        serde_json::from_value(serde_json::json!({"command": ["sh", "-c", "echo out"]})).unwrap();
    let mut exec = codex.commands().spawn(params).expect("exec");
    let out: Vec<u8> = (&mut exec).flat_map(|c| c.expect("chunk").data).collect();
    assert_eq!(out, b"out\n");
    assert_eq!(exec.wait().expect("exit").exit_code, 0);
    codex.close();
    drop(codex);
    drop(thread);
    drop(sandbox);
    drop(mock);
}

//! What a new user meets first, against the real `codex app-server` (offline: the test kit's
//! sandbox, loopback only): the login check (no account + a provider that needs OpenAI auth →
//! `Error::NotLoggedIn` at the first thread call, quickly, nothing started; a provider that needs
//! no auth, an API login, or the opt-out → threads start), the runtime's helper tools on the
//! app-server's `PATH`, and the test kit README's SDK example. The check's decisions on scripted answers are tested on the memory
//! transport at the end.

mod common;

use codex_client::{Codex, CodexBuilder, Error, SpawnConfig, ThreadOptions};
use codex_client_testkit::{CodexSandbox, require_codex_binary};
use serde_json::json;
use std::time::{Duration, Instant};

const TIMEOUT: Duration = Duration::from_secs(30);

/// A logged-out `CODEX_HOME` with the default (OpenAI) model provider: the test kit's offline
/// launch without its `-c model_provider="mock"`. Nothing is contacted: the features that reach
/// out stay disabled and the check comes before any turn.
fn logged_out_default_provider(sandbox: &CodexSandbox) -> SpawnConfig {
    let launch = sandbox.launch();
    let mut args = Vec::new();
    let mut iter = launch.args.into_iter().peekable();
    while let Some(arg) = iter.next() {
        if arg == "-c"
            && iter
                .peek()
                .is_some_and(|v| v.starts_with("model_provider=") || v.starts_with("model="))
        {
            iter.next();
            continue;
        }
        args.push(arg);
    }
    SpawnConfig::from_launch(
        launch.program,
        args,
        launch.env_clear,
        launch.env,
        launch.cwd,
    )
}

async fn logged_out(name: &str) -> Option<(Codex, CodexSandbox)> {
    let binary = require_codex_binary(name)?;
    let sandbox = CodexSandbox::new(binary, "http://127.0.0.1:9/v1").expect("sandbox");
    let codex = common::within(
        TIMEOUT,
        "spawn",
        Codex::builder().spawn(logged_out_default_provider(&sandbox)),
    )
    .await
    .expect("spawn + initialize");
    Some((codex, sandbox))
}

#[tokio::test]
async fn not_logged_in_with_the_default_provider_fails_fast_saying_what_to_do() {
    let Some((codex, sandbox)) = logged_out("not_logged_in").await else {
        return;
    };
    let account = codex.account().read().await.expect("account/read");
    assert!(account.account.is_none() && account.requires_openai_auth);

    let started = Instant::now();
    let err = common::within(
        TIMEOUT,
        "start_thread",
        codex.threads().start(ThreadOptions::new()),
    )
    .await
    .expect_err("no account: no thread");
    let elapsed = started.elapsed();
    eprintln!("NotLoggedIn after {elapsed:?}");
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
    match &err {
        Error::NotLoggedIn { codex_home } => {
            let home = codex_home
                .as_deref()
                .expect("the server said its CODEX_HOME");
            assert_eq!(
                std::fs::canonicalize(home).unwrap(),
                std::fs::canonicalize(sandbox.codex_home()).unwrap()
            );
        }
        other => panic!("expected NotLoggedIn, got {other}"),
    }
    let text = err.to_string();
    for hint in ["codex login", "login_api_key", "skip_login_check()"] {
        assert!(text.contains(hint), "{hint} in {text}");
    }
    // `main() -> Result<(), Error>` prints Debug: it must carry the same advice.
    assert_eq!(format!("{err:?}"), text);
    // Nothing was started, and resume / fork refuse the same way.
    let page = codex
        .threads()
        .list(codex_client::ListThreads::new())
        .await
        .unwrap();
    assert!(page.threads.is_empty(), "{:?}", page.threads);
    for err in [
        codex.threads().resume("thr_x", ThreadOptions::new()).await,
        codex.threads().fork("thr_x", ThreadOptions::new()).await,
    ]
    .map(|r| r.expect_err("not logged in"))
    {
        assert!(matches!(err, Error::NotLoggedIn { .. }), "{err}");
    }
    codex.close().await;
}

/// A logged-out app-server with the default provider (`edit` adjusts the builder and the
/// process), after `prepare`: `start_thread` must succeed.
async fn a_thread_starts(
    name: &str,
    edit: impl FnOnce(CodexBuilder, SpawnConfig) -> (CodexBuilder, SpawnConfig),
    prepare: impl AsyncFnOnce(&Codex),
) {
    let Some(binary) = require_codex_binary(name) else {
        return;
    };
    let sandbox = CodexSandbox::new(binary, "http://127.0.0.1:9/v1").expect("sandbox");
    let (builder, spawn) = edit(Codex::builder(), logged_out_default_provider(&sandbox));
    let codex = builder.spawn(spawn).await.expect("spawn");
    prepare(&codex).await;
    let thread = common::within(
        TIMEOUT,
        "start_thread",
        codex.threads().start(ThreadOptions::new()),
    )
    .await
    .unwrap_or_else(|err| panic!("{name}: the thread must start: {err}"));
    assert!(!thread.id().is_empty());
    codex.close().await;
}

#[tokio::test]
async fn the_opt_out_lets_a_logged_out_thread_start() {
    a_thread_starts(
        "login_check_off",
        |b, s| (b.skip_login_check(), s),
        async |_| {},
    )
    .await;
}

#[tokio::test]
async fn logging_in_through_the_api_after_spawn_passes_the_check() {
    a_thread_starts(
        "login_then_thread",
        |b, s| (b, s),
        async |codex: &Codex| {
            codex
                .account()
                .login_api_key("sk-test-not-a-real-key")
                .await
                .expect("account/login/start apiKey");
        },
    )
    .await;
}

#[tokio::test]
async fn a_provider_that_needs_no_openai_auth_passes_with_no_login() {
    let Some(env) = common::start_app_server("mock_provider_no_login", |s| s, |c| c).await else {
        return;
    };
    let account = env.codex.account().read().await.expect("account/read");
    assert!(account.account.is_none());
    assert!(
        !account.requires_openai_auth,
        "the mock provider needs no OpenAI auth"
    );
    env.codex
        .threads()
        .start(ThreadOptions::new())
        .await
        .expect("the check passes");
}

#[tokio::test]
async fn a_command_run_by_the_app_server_finds_the_runtimes_rg() {
    let Some(binary) = require_codex_binary("runtime_rg") else {
        return;
    };
    let Some(helpers) = codex_client::runtime_path_dir(&binary) else {
        // Not the runtime package's layout (a `codex` from elsewhere): nothing to put on PATH.
        eprintln!(
            "runtime_rg: {} is not the runtime package",
            binary.display()
        );
        assert!(
            std::env::var("CODEX_CLIENT_REQUIRE_APP_SERVER").is_err(),
            "the gate runs the pinned runtime"
        );
        return;
    };
    // A PATH without the helper directory (the test kit's launch has it first already): the SDK
    // must put it back in front.
    let Some(env) = common::start_app_server(
        "runtime_rg",
        |s| s,
        |l| common::Launch {
            spawn: l.spawn.env("PATH", "/usr/bin:/bin"),
            ..l
        },
    )
    .await
    else {
        return;
    };
    // The app-server process itself has the helper directory first on its PATH.
    let pid = env.codex.connection().pid().expect("a spawned process");
    let environ = std::fs::read(format!("/proc/{pid}/environ")).expect("/proc/PID/environ");
    let path = environ
        .split(|b| *b == 0)
        .find_map(|var| var.strip_prefix(b"PATH="))
        .map(|v| String::from_utf8_lossy(v).into_owned())
        .expect("the app-server has a PATH");
    let expected = format!("{}:/usr/bin:/bin", helpers.display());
    assert_eq!(path, expected);
    // And a command it runs finds `rg` there (0.163.0 also adds the directory for the commands
    // it runs when it knows its package; the SDK's PATH makes it hold for everything it starts).
    let out = common::within(
        TIMEOUT,
        "command/exec",
        env.codex
            .commands()
            .run(["sh", "-c", "command -v rg && rg --version"]),
    )
    .await
    .expect("command/exec");
    assert_eq!(out.exit_code, 0, "{out:?}");
    let first = out.stdout.lines().next().unwrap_or_default();
    assert_eq!(
        std::path::Path::new(first),
        helpers.join("rg"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("ripgrep"), "{}", out.stdout);
}

/// The check on the memory transport: what each `account/read` answer leads to.
mod decisions {
    use super::*;
    use common::{connect, next_request, respond, respond_error};

    async fn checked() -> (Codex, codex_client::MemoryPeer) {
        let (transport, peer) = codex_client::Transport::memory();
        let codex = Codex::builder()
            .connection(codex_client::core::ConnectionConfig::new().handshake(false))
            .transport(transport)
            .await
            .expect("connect");
        (codex, peer)
    }

    #[tokio::test]
    async fn no_account_and_auth_required_is_not_logged_in_and_nothing_else_is_sent() {
        let (codex, mut peer) = checked().await;
        let call = tokio::spawn({
            let codex = codex.clone();
            async move { codex.threads().start(ThreadOptions::new()).await }
        });
        let (id, method, _) = next_request(&mut peer).await;
        assert_eq!(method, "account/read");
        respond(
            &peer,
            &id,
            json!({"account": null, "requiresOpenaiAuth": true}),
        );
        let err = call.await.unwrap().expect_err("not logged in");
        assert!(
            matches!(err, Error::NotLoggedIn { codex_home: None }),
            "{err}"
        );
        // Asked again next time (the user may have logged in meanwhile).
        let call = tokio::spawn(async move { codex.threads().start(ThreadOptions::new()).await });
        let (_, method, _) = next_request(&mut peer).await;
        assert_eq!(method, "account/read");
        drop(call);
    }

    #[tokio::test]
    async fn a_passed_check_is_not_repeated_and_an_unknown_method_lets_it_pass() {
        for answer in [
            Ok(json!({"account": null, "requiresOpenaiAuth": false})),
            Ok(json!({"account": {"type": "apiKey"}, "requiresOpenaiAuth": true})),
            Err(-32601),
        ] {
            let (codex, mut peer) = checked().await;
            let call = tokio::spawn({
                let codex = codex.clone();
                async move { codex.threads().start(ThreadOptions::new()).await }
            });
            let (id, method, _) = next_request(&mut peer).await;
            assert_eq!(method, "account/read");
            match &answer {
                Ok(result) => respond(&peer, &id, result.clone()),
                Err(code) => respond_error(&peer, &id, *code, "method not found"),
            }
            let (id, method, _) = next_request(&mut peer).await;
            assert_eq!(method, "thread/start", "after {answer:?}");
            respond_error(&peer, &id, -32600, "refused");
            assert!(matches!(call.await.unwrap(), Err(Error::Rpc { .. })));
            // The second thread call goes straight to thread/start.
            let call =
                tokio::spawn(async move { codex.threads().start(ThreadOptions::new()).await });
            let (_, method, _) = next_request(&mut peer).await;
            assert_eq!(method, "thread/start", "checked once, after {answer:?}");
            drop(call);
        }
    }

    #[tokio::test]
    async fn from_connection_does_not_check_by_default() {
        let (conn, mut peer) = connect(codex_client::core::ConnectionConfig::new()).await;
        let codex = Codex::from_connection(conn);
        let call = tokio::spawn(async move { codex.threads().start(ThreadOptions::new()).await });
        let (_, method, _) = next_request(&mut peer).await;
        assert_eq!(method, "thread/start");
        drop(call);
    }
}

/// The SDK example of the test kit's README ("With the codex-client SDK"), as written there
/// (the kit cannot doctest it: it does not depend on the SDK).
#[tokio::test]
async fn my_code_gets_an_answer() {
    use codex_client_testkit::{AppServerLaunch, MockModel, MockResponse};

    let Some(codex_bin) = require_codex_binary("my_code_gets_an_answer") else {
        return;
    };
    let mock = MockModel::start().await.unwrap();
    mock.push(MockResponse::deltas(["Hi ", "there"]));
    let sandbox = CodexSandbox::new(codex_bin, mock.base_url()).unwrap();

    let AppServerLaunch {
        program,
        args,
        env_clear,
        env,
        cwd,
    } = sandbox.launch();
    let spawn = SpawnConfig::from_launch(program, args, env_clear, env, cwd);
    let codex = Codex::builder().spawn(spawn).await.unwrap();

    let thread = codex.threads().start(ThreadOptions::new()).await.unwrap();
    let result = thread.run("Say hi").await.unwrap();
    assert_eq!(result.final_response(), Some("Hi there"));
    codex.close().await;
}

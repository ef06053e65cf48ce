//! The demo's set-up: the environment every scene shares (the app-server started by the SDK with
//! the test kit's offline command line, its sandbox directories, the mock model), the record of
//! checks, and the runner that gives each scene a title and a deadline.

use crate::output::bold;
use codex_client::{ApprovalMode, Codex, Error, Sandbox, SpawnConfig, Thread, ThreadOptions};
use codex_client_testkit::{AppServerLaunch, CodexSandbox, MockModel};
use std::future::Future;
use std::time::Duration;

/// No scene may take longer than this; a hang is a failure, never a stuck demo.
const SCENE_TIMEOUT: Duration = Duration::from_secs(60);

/// The expectations the demo checks as it goes.
#[derive(Default)]
pub(crate) struct Demo {
    pub(crate) passed: usize,
    pub(crate) failures: Vec<String>,
}

impl Demo {
    pub(crate) fn check(&mut self, ok: bool, what: impl Into<String>) {
        if ok {
            self.passed += 1;
        } else {
            self.fail(what);
        }
    }

    pub(crate) fn fail(&mut self, what: impl Into<String>) {
        let what = what.into();
        println!("  !! unexpected: {what}");
        self.failures.push(what);
    }
}

/// The pieces every scene uses. Field order is drop order: the app-server first, then its
/// directories, then the mock model.
pub(crate) struct Env {
    pub(crate) codex: Codex,
    pub(crate) sandbox: CodexSandbox,
    pub(crate) mock: MockModel,
}

impl Env {
    /// Threads work in the sandbox's directory, read-only, and ask for nothing unless a turn
    /// says otherwise.
    fn thread_options(&self) -> ThreadOptions {
        ThreadOptions::new()
            .cwd(self.sandbox.workdir())
            .approval_mode(ApprovalMode::DenyAll)
            .sandbox(Sandbox::ReadOnly)
    }

    pub(crate) async fn thread(&self) -> Result<Thread, Error> {
        self.codex.threads().start(self.thread_options()).await
    }
}

/// How the SDK starts the app-server here: the test kit's offline command line (mock model
/// provider, throwaway CODEX_HOME, features that would reach the internet disabled).
pub(crate) fn spawn_for(sandbox: &CodexSandbox) -> SpawnConfig {
    // The bridge from the kit's plain launch data (the kit does not depend on the SDK).
    let AppServerLaunch {
        program,
        args,
        env_clear,
        env,
        cwd,
    } = sandbox.launch();
    SpawnConfig::from_launch(program, args, env_clear, env, cwd)
}

/// Runs one scene with a deadline; its checks are recorded in `demo`.
pub(crate) async fn scene(
    demo: &mut Demo,
    title: &str,
    about: &str,
    body: impl Future<Output = Result<Vec<(bool, String)>, Error>>,
) {
    println!("\n{}", bold(title));
    println!("  // {about}");
    match tokio::time::timeout(SCENE_TIMEOUT, body).await {
        Ok(Ok(checks)) => {
            for (ok, what) in checks {
                demo.check(ok, what);
            }
        }
        Ok(Err(err)) => demo.fail(format!("{title}: {err}")),
        Err(_) => demo.fail(format!("{title}: no end after {SCENE_TIMEOUT:?}")),
    }
}

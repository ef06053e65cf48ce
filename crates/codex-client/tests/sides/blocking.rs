//! The blocking side: `codex_client::blocking::Codex` called from plain threads (it brings its
//! own runtime); the async mock model runs on a small runtime of the test's own.

use super::{TURN_TIMEOUT, unix_now};
use codex_client::blocking::{ApprovalMode, Codex, Sandbox, Thread, ThreadOptions, TurnHandle};
use codex_client::core::{ClientInfo, ConnectionConfig};
use codex_client_testkit::{CodexSandbox, MockModel, MockResponse, StallGate};
use std::future::Future;
use std::time::{Duration, Instant};

/// Field order = drop order: the client (and its process) first, then directories, the mock,
/// and last the runtime the mock runs on.
pub struct Env {
    pub codex: Codex,
    pub sandbox: CodexSandbox,
    pub mock: MockModel,
    pub mock_runtime: tokio::runtime::Runtime,
}

/// The app-server and mock of a test (client name `name`); `None` when the binary is missing
/// and not required.
pub fn start(name: &str) -> Option<Env> {
    start_with(name, |c| c)
}

/// [`start`] with the client's configuration adjusted.
pub fn start_with(
    name: &str,
    edit: impl FnOnce(ConnectionConfig) -> ConnectionConfig,
) -> Option<Env> {
    let binary = codex_client_testkit::require_codex_binary(name)?;
    let mock_runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("the mock's runtime");
    let mock = mock_runtime
        .block_on(MockModel::start())
        .expect("mock model");
    let sandbox = CodexSandbox::new(binary, mock.base_url()).expect("sandbox");
    let spawn = crate::common::spawn_config(&sandbox.launch());
    let connection = ConnectionConfig::new().client_info(ClientInfo::new(name, "0.0.0"));
    // No tokio anywhere near the client: a plain call on the test's thread.
    let codex = Codex::builder()
        .connection(edit(connection))
        .spawn(spawn)
        .expect("spawn + initialize");
    Some(Env {
        codex,
        sandbox,
        mock,
        mock_runtime,
    })
}

/// The value itself: a blocking call has returned by the time it is passed here, and the
/// scenario's own bound (`#[both_ways]` runs it on a thread with a deadline) covers it.
pub fn within<T>(_what: &str, value: T) -> T {
    value
}

/// Returns once the wall clock (Unix seconds) is past `secs` (polls the clock, bounded).
pub fn next_second(secs: i64) {
    let deadline = Instant::now() + Duration::from_secs(3);
    while unix_now() <= secs {
        assert!(Instant::now() < deadline, "the clock does not move");
        std::thread::sleep(Duration::from_millis(20));
    }
}

impl Env {
    /// Thread options for the sandbox: its workdir, no approvals, read-only.
    pub fn options(&self) -> ThreadOptions {
        ThreadOptions::new()
            .cwd(self.sandbox.workdir())
            .approval_mode(ApprovalMode::DenyAll)
            .sandbox(Sandbox::ReadOnly)
    }

    /// A thread with [`options`](Self::options).
    pub fn thread(&self) -> Thread {
        self.codex
            .threads()
            .start(self.options())
            .expect("thread/start")
    }

    /// A thread that asks before running commands (the workdir is writable).
    pub fn asking_thread(&self) -> Thread {
        let options = self
            .options()
            .approval_mode(ApprovalMode::Untrusted)
            .sandbox(Sandbox::WorkspaceWrite);
        self.codex.threads().start(options).expect("thread/start")
    }

    /// A thread with a turn whose model stream has sent its first delta and stalls until the
    /// returned gate is released.
    pub fn stalled_turn(&self) -> (Thread, TurnHandle, StallGate) {
        let gate = StallGate::new();
        self.mock
            .set_default(MockResponse::stalled(["waiting"], &gate));
        let thread = self.thread();
        let turn = thread.turn("go").expect("turn/start");
        assert!(self.mock_wait("stall", gate.wait_stalled(1, TURN_TIMEOUT)));
        (thread, turn, gate)
    }

    /// One of the mock's async waits, on the mock's runtime, bounded.
    pub fn mock_wait<T>(&self, what: &str, fut: impl Future<Output = T>) -> T {
        self.mock_runtime
            .block_on(async { tokio::time::timeout(TURN_TIMEOUT, fut).await })
            .unwrap_or_else(|_| panic!("timed out: {what}"))
    }
}

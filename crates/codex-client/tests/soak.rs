//! Soak: hundreds of turns over one connection against the real app-server and the test kit's
//! mock model, with random interrupts, approvals (accepted and declined in the turn's stream) and
//! handles dropped mid-turn; RSS of the client and of the app-server sampled over time. At the
//! end the router's tables must be empty and the client's RSS must not keep growing.
//!
//! Not part of `cargo test` (ignored): `cargo xtask soak [--minutes N]` runs it (release build),
//! with `SOAK_SECONDS` and `SOAK_SEED`.

mod common;

use codex_client::core::{ClientInfo, ConnectionConfig};
use codex_client::protocol::{ServerNotification, TurnStatus};
use codex_client::{
    ApprovalMode, Codex, Sandbox, Thread, ThreadOptions, TurnEvent, TurnOptions, TurnSettings,
};
use codex_client_testkit::{CodexSandbox, Matcher, MockModel, MockResponse};
use futures::StreamExt;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const TURN_TIMEOUT: Duration = Duration::from_secs(120);
const WORKERS: usize = 4;
/// Turns per thread before a worker moves to a new one.
const THREAD_TURNS: u64 = 100;

fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

#[derive(Default)]
struct Tally {
    outcomes: BTreeMap<&'static str, u64>,
}

impl Tally {
    fn add(&mut self, what: &'static str) {
        *self.outcomes.entry(what).or_default() += 1;
    }
    fn total(&self) -> u64 {
        self.outcomes.values().sum()
    }
}

async fn within<T>(what: &str, fut: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(TURN_TIMEOUT, fut)
        .await
        .unwrap_or_else(|_| panic!("soak: timed out: {what}"))
}

/// Waits until the server reports the thread idle (after a dropped or interrupted turn, so the
/// next `turn/start` starts a new turn instead of joining the old one).
async fn until_idle(thread: &Thread) {
    within("thread idle", async {
        loop {
            let now = thread.read().await.expect("thread/read");
            if matches!(now.status, codex_client::protocol::ThreadStatus::Idle) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
}

/// One turn of one kind; returns the outcome's name.
async fn one_turn(thread: &Thread, n: u64, kind: u32, rng: &mut fastrand::Rng) -> &'static str {
    match kind {
        // Run to the end.
        0..=3 => {
            let result = within("run", thread.run(format!("plain turn {n}")))
                .await
                .expect("a plain turn completes");
            assert_eq!(result.status, TurnStatus::Completed);
            assert_eq!(result.final_response(), Some("one two three four five"));
            "completed"
        }
        // Interrupt after the first delta.
        4 | 5 => {
            let mut turn = thread
                .turn(format!("interrupt turn {n}"))
                .await
                .expect("turn/start");
            loop {
                let event = within("a delta", turn.next())
                    .await
                    .expect("running")
                    .expect("event");
                if let TurnEvent::Notification(n) = &event
                    && matches!(&**n, ServerNotification::ItemAgentMessageDelta(_))
                {
                    break;
                }
            }
            turn.interrupt().await.expect("turn/interrupt");
            let result = within("interrupted run", turn.run()).await.expect("result");
            match result.status {
                TurnStatus::Interrupted => "interrupted",
                TurnStatus::Completed => "completed before the interrupt",
                other => panic!("unexpected status {other:?}"),
            }
        }
        // Drop the handle after its first event; stop the turn with the control it left.
        6 => {
            let mut turn = thread
                .turn(format!("drop turn {n}"))
                .await
                .expect("turn/start");
            let control = turn.control();
            within("first event", turn.next())
                .await
                .expect("an event")
                .expect("ok");
            drop(turn);
            let _ = control.interrupt().await; // may have finished already
            until_idle(thread).await;
            "dropped mid-turn"
        }
        // An approval in the turn's stream, accepted or declined.
        _ => {
            let accept = rng.bool();
            let options = TurnOptions::new()
                .settings(TurnSettings::new().approval_mode(ApprovalMode::Untrusted))
                .approvals_in_stream();
            let mut turn = thread
                .turn_with(format!("APPROVE turn {n}"), options)
                .await
                .expect("turn/start");
            let mut asked = 0;
            let mut command_status = None;
            while let Some(event) = within("approval turn", turn.next()).await {
                match event.expect("event") {
                    TurnEvent::ServerRequest(request) => {
                        asked += 1;
                        if accept {
                            request.accept().expect("answer");
                        } else {
                            request.decline().expect("answer");
                        }
                    }
                    TurnEvent::Notification(n) => {
                        if let ServerNotification::ItemCompleted(done) = &*n {
                            let item = serde_json::to_value(&done.item).unwrap();
                            if item["type"] == "commandExecution" {
                                command_status = Some(item["status"].clone());
                            }
                        }
                    }
                    other => panic!("unexpected {other:?}"),
                }
            }
            assert_eq!(asked, 1, "one approval per approval turn");
            let want = if accept { "completed" } else { "declined" };
            assert_eq!(command_status, Some(serde_json::json!(want)));
            if accept {
                "approval accepted"
            } else {
                "approval declined"
            }
        }
    }
}

/// The mock model's script for the soak.
fn scripted_mock(mock: &MockModel) {
    mock.route_always(
        Matcher::custom(|r| r.ends_with_tool_output()),
        MockResponse::message("The command was handled."),
    );
    mock.route_always(
        Matcher::user_text_contains("APPROVE"),
        MockResponse::exec_command("touch soak-marker && echo ok"),
    );
    mock.set_default(
        MockResponse::deltas(["one ", "two ", "three ", "four ", "five"])
            .with_delay(Duration::from_millis(30)),
    );
}

const MOCK_SERVE_ENV: &str = "SOAK_MOCK_SERVE";

/// Not a test: the mock model served from a child process (this test binary run again with
/// `SOAK_MOCK_SERVE=1`), so that what the mock records of every request (bodies that carry the
/// thread's whole history) does not count in the client's RSS. Serves until stdin closes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "the soak's mock model process"]
async fn soak_mock_model_process() {
    if std::env::var(MOCK_SERVE_ENV).as_deref() != Ok("1") {
        return;
    }
    let mock = MockModel::start().await.expect("mock model");
    scripted_mock(&mock);
    println!("MOCK_URL {}", mock.base_url());
    let _ = tokio::task::spawn_blocking(|| {
        use std::io::Read;
        let _ = std::io::stdin().read_to_end(&mut Vec::new());
    })
    .await;
}

/// The mock model process, killed on drop.
struct MockProcess {
    child: tokio::process::Child,
    url: String,
}

impl MockProcess {
    async fn start() -> Self {
        use tokio::io::AsyncBufReadExt;
        let mut child = tokio::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--ignored",
                "--exact",
                "soak_mock_model_process",
                "--nocapture",
            ])
            .env(MOCK_SERVE_ENV, "1")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("the mock model process");
        let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
        let url = within("the mock's address", async {
            loop {
                let line = lines
                    .next_line()
                    .await
                    .unwrap()
                    .expect("the mock process runs");
                if let Some(url) = line.strip_prefix("MOCK_URL ") {
                    return url.to_owned();
                }
            }
        })
        .await;
        // Keep reading its output: a closed pipe would kill it at its next line.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Self { child, url }
    }

    fn pid(&self) -> u32 {
        self.child.id().unwrap_or(0)
    }
}

/// One RSS sample: (seconds, turns so far, client KiB, app-server KiB, mock KiB).
type Sample = (u64, u64, u64, u64, u64);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "soak: minutes long; run it with `cargo xtask soak`"]
async fn soak_real_app_server() {
    let seconds: u64 = std::env::var("SOAK_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let seed: u64 = std::env::var("SOAK_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(7);
    let Some(binary) = codex_client_testkit::require_codex_binary("soak") else {
        return;
    };
    let mock = MockProcess::start().await;
    let sandbox = CodexSandbox::new(binary, mock.url.clone()).expect("sandbox");
    let launch = sandbox.launch();
    let spawn = common::spawn_config(&launch);
    let connection = ConnectionConfig::new().client_info(ClientInfo::new("soak", "0.0.0"));
    let codex = Codex::builder()
        .connection(connection)
        .spawn(spawn)
        .await
        .expect("spawn + initialize");
    let server_pid = codex.connection().pid().expect("a child");
    let options = ThreadOptions::new()
        .cwd(sandbox.workdir())
        .approval_mode(ApprovalMode::DenyAll)
        .sandbox(Sandbox::WorkspaceWrite);

    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let tally = Arc::new(Mutex::new(Tally::default()));
    let mut workers = Vec::new();
    for w in 0..WORKERS {
        let codex = codex.clone();
        let options = options.clone();
        let tally = tally.clone();
        workers.push(tokio::spawn(async move {
            let mut rng = fastrand::Rng::with_seed(seed + w as u64);
            let mut thread = codex
                .threads()
                .start(options.clone())
                .await
                .expect("thread/start");
            let mut n = 0u64;
            while Instant::now() < deadline {
                n += 1;
                // A fresh thread now and then: a thread's history (sent whole to the model at
                // every turn) would otherwise grow without bound in the server and the mock.
                if n.is_multiple_of(THREAD_TURNS) {
                    thread.archive().await.expect("thread/archive");
                    thread = codex
                        .threads()
                        .start(options.clone())
                        .await
                        .expect("thread/start");
                }
                let kind = rng.u32(0..9);
                let outcome = one_turn(&thread, n, kind, &mut rng).await;
                tally.lock().unwrap().add(outcome);
            }
        }));
    }
    let me = std::process::id();
    let sample = |tally: &Mutex<Tally>| -> Sample {
        (
            started.elapsed().as_secs(),
            tally.lock().unwrap().total(),
            rss_kib(me).unwrap_or(0),
            rss_kib(server_pid).unwrap_or(0),
            rss_kib(mock.pid()).unwrap_or(0),
        )
    };
    let mut samples: Vec<Sample> = Vec::new();
    let interval = Duration::from_secs((seconds / 12).clamp(2, 30));
    while workers.iter().any(|w| !w.is_finished()) {
        samples.push(sample(&tally));
        let left = deadline.saturating_duration_since(Instant::now());
        tokio::time::sleep(interval.min(left + Duration::from_millis(100))).await;
    }
    for w in workers {
        within("worker", w).await.expect("a worker panicked");
    }
    samples.push(sample(&tally));
    let turns = tally.lock().unwrap().total();
    let stats = codex.connection().stats();
    println!("soak (real app-server, {seconds} s, seed {seed}): {turns} turns over one connection");
    for (what, n) in &tally.lock().unwrap().outcomes {
        println!("  {what:<32} {n}");
    }
    println!("  router at the end: {stats:?}");
    println!(
        "  {:>6} {:>7} {:>12} {:>12} {:>12}",
        "secs", "turns", "client KiB", "server KiB", "mock KiB"
    );
    for (s, t, c, srv, m) in &samples {
        println!("  {s:>6} {t:>7} {c:>12} {srv:>12} {m:>12}");
    }
    assert!(stats.is_idle(), "the router's tables are empty: {stats:?}");
    assert_eq!(stats.lagged_events, 0);
    assert_eq!(codex.connection().open_server_requests(), 0);
    assert_rss_flat(&samples);
    let info = codex.close().await;
    println!("  closed: {info}");
}

/// No leak: after the first quarter (warm-up: allocator arenas, caches), the client's RSS grows
/// by at most a fixed allowance, however many more turns ran.
fn assert_rss_flat(samples: &[Sample]) {
    if samples.len() < 4 {
        println!("  (too few samples to judge RSS growth)");
        return;
    }
    let warm = samples[samples.len() / 4].2;
    let last = samples.last().unwrap().2;
    let growth = last.saturating_sub(warm);
    println!("  client RSS after warm-up {warm} KiB, at the end {last} KiB (+{growth} KiB)");
    assert!(
        growth <= 16 * 1024 + warm / 5,
        "client RSS keeps growing: {warm} KiB -> {last} KiB"
    );
}

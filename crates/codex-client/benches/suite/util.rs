//! Shared helpers: statistics, the machine, process memory, the SDK on the fake server.

use codex_client::{Codex, SpawnConfig};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// Notifications per turn besides its deltas (see the fake server).
pub const EXTRA_EVENTS: usize = 5;
/// Memory: open idle turn streams in the `idle` scenario.
pub const IDLE_STREAMS: usize = 1_000;
/// Memory: turns streaming at once in the flood scenarios.
pub const STREAMING_TURNS: usize = 64;

/// `target/<profile>/codex-fake-app-server`, next to the directory of this binary
/// (`target/<profile>/deps/`).
pub fn default_fake_path() -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps/<bench>");
    let release = profile_dir.join("codex-fake-app-server");
    if release.is_file() {
        return release;
    }
    profile_dir
        .parent()
        .map(|t| t.join("release/codex-fake-app-server"))
        .unwrap_or(release)
}

pub fn median(values: &mut [f64]) -> f64 {
    assert!(!values.is_empty());
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

/// The `q` quantile (0..=1) of sorted `values`, nearest rank.
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

pub fn machine() -> Value {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_owned())
        })
        .unwrap_or_else(|| "?".into());
    json!({
        "nproc": std::thread::available_parallelism().map_or(0, |n| n.get()),
        "cpu": cpu,
        "load_before": load_average(),
    })
}

/// A `current_thread` runtime: the SDK and every consumer on the calling thread.
pub fn current_thread_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// The client's runtime: tokio's default multi-thread runtime (one worker per core), or
/// `BENCH_WORKERS` workers when that is set (for profiling).
pub fn runtime() -> tokio::runtime::Runtime {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if let Some(workers) = std::env::var("BENCH_WORKERS")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        builder.worker_threads(workers);
    }
    builder.enable_all().build().expect("tokio runtime")
}

/// The SDK on the fake server, whose flood covers `turns` turns of `deltas` deltas.
pub async fn spawn_fake(fake: &Path, turns: usize, deltas: usize) -> Codex {
    let spawn = SpawnConfig::explicit(fake, ["app-server"])
        .env("CODEX_FAKE_TURNS", turns.to_string())
        .env("CODEX_FAKE_DELTAS", deltas.to_string());
    Codex::builder()
        .spawn(spawn)
        .await
        .expect("the SDK connects to the fake app-server")
}

pub fn fmt_rate(per_s: f64) -> String {
    if per_s >= 1e6 {
        format!("{:.2} M/s", per_s / 1e6)
    } else {
        format!("{:.0} k/s", per_s / 1e3)
    }
}

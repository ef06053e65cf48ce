//! The benchmark suite of `cargo xtask bench` (see BENCHMARKS.md at the workspace root).
//!
//! A plain binary (`harness = false`): every figure is printed beside its baseline measured in
//! the same run, and the whole report is written as JSON (`--out`). Four parts:
//!
//! | part | what | baseline |
//! |---|---|---|
//! | `routing` | K turns × N deltas from the fake app-server through `TurnHandle`, one task per turn | (a) read the same bytes' lines; (b) read + parse each into a `serde_json::Value` |
//! | `latency` | a small typed request, sequential and 64-way concurrent | a minimal hand-written client on the same fake server |
//! | `memory` | peak RSS of the memory probe (`benches/memory_probe`), a fresh process per scenario (1,000 idle turn streams; 64 streaming, with and without kept items; 64 with one stalled consumer) | the same process before opening the streams |
//! | `e2e` | the real app-server + mock model: a batch of turns, and spawn-to-ready | the test kit's raw JSON-lines driver |
//!
//! Arguments: `--quick` (tiny sizes, one run: a smoke test), `--fake PATH` (the
//! `codex-fake-app-server` binary), `--codex PATH` (the real runtime; e2e is skipped without it),
//! `--probe PATH` (the `memory_probe` binary; the memory part needs it), `--out FILE`,
//! `--only routing,latency,memory,e2e`, `--turns 1,16,256` (routing at these K only).
//!
//! Last, the report judges each target against this run's figures (`targets`): met, or missed
//! by how much and why.

mod e2e;
mod latency;
mod memory;
mod routing;
mod targets;
mod util;

use serde_json::{Value, json};
use std::path::PathBuf;

pub struct Opts {
    pub quick: bool,
    pub fake: PathBuf,
    pub codex: Option<PathBuf>,
    /// The memory probe binary (`benches/memory_probe`).
    pub probe: Option<PathBuf>,
    pub out: Option<PathBuf>,
    pub only: Option<Vec<String>>,
    /// Routing at these K only (`--turns 256`; for profiling one case).
    pub turns: Option<Vec<usize>>,
}

impl Opts {
    fn wants(&self, part: &str) -> bool {
        self.only
            .as_ref()
            .is_none_or(|only| only.iter().any(|p| p == part))
    }

    /// Medians are taken over this many runs.
    pub fn runs(&self) -> usize {
        if self.quick { 1 } else { 5 }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value_of = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let fake = value_of("--fake")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("CODEX_FAKE_APP_SERVER").map(PathBuf::from))
        .unwrap_or_else(util::default_fake_path);
    let opts = Opts {
        quick: args.iter().any(|a| a == "--quick"),
        fake,
        codex: value_of("--codex")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("CODEX_BIN").map(PathBuf::from))
            .or_else(codex_client_testkit::pinned_runtime_binary),
        probe: value_of("--probe").map(PathBuf::from),
        out: value_of("--out").map(PathBuf::from),
        only: value_of("--only").map(|s| s.split(',').map(str::to_owned).collect()),
        turns: value_of("--turns").map(|s| {
            s.split(',')
                .map(|k| k.parse().expect("--turns K,K,.."))
                .collect()
        }),
    };
    assert!(
        opts.fake.is_file(),
        "the fake app-server is missing at {} (build it: cargo build --release -p codex-client-testkit --bin codex-fake-app-server)",
        opts.fake.display()
    );

    let machine = util::machine();
    println!(
        "codex-client benchmarks{} — {} cores, {}; load before: {}",
        if opts.quick {
            " (quick: smoke test)"
        } else {
            ""
        },
        machine["nproc"],
        machine["cpu"].as_str().unwrap_or("?"),
        machine["load_before"].as_str().unwrap_or("?"),
    );
    let notification_bytes = std::mem::size_of::<codex_client::protocol::ServerNotification>();
    println!("size of a decoded notification (ServerNotification): {notification_bytes} bytes");
    let mut report = json!({
        "quick": opts.quick,
        "machine": machine,
        "server_notification_bytes": notification_bytes,
    });
    if opts.wants("routing") {
        report["routing"] = routing::run(&opts);
    }
    if opts.wants("latency") {
        report["latency"] = latency::run(&opts);
    }
    if opts.wants("memory") {
        report["memory"] = memory::run(&opts);
    }
    if opts.wants("e2e") {
        report["e2e"] = e2e::run(&opts);
    }
    report["targets"] = targets::judge(&report, opts.quick);
    report["machine"]["load_after"] = Value::from(util::load_average());
    println!(
        "\nload after: {}",
        report["machine"]["load_after"].as_str().unwrap_or("?")
    );
    if let Some(out) = &opts.out {
        if let Some(dir) = out.parent() {
            std::fs::create_dir_all(dir).expect("create the report directory");
        }
        std::fs::write(out, serde_json::to_string_pretty(&report).expect("json"))
            .expect("write the report");
        println!("report written to {}", out.display());
    }
}

//! Memory of the client: each scenario runs in a fresh process of the memory probe (the
//! `memory_probe` bench binary: the SDK and the scenario, nothing else), which reads its own
//! `/proc/self/status` (`VmRSS`, and `VmHWM` = peak RSS), so scenarios never pollute each other.
//! The fake app-server is a separate process and is not counted. This module starts the probe,
//! takes the medians and prints them.
//!
//! The scenarios (idle, streaming, streaming_no_items, stalled) are described in
//! `benches/memory_probe/main.rs`.

use crate::Opts;
use crate::util::{IDLE_STREAMS, STREAMING_TURNS, median};
use serde_json::{Value, json};
use std::path::Path;
use std::process::Command;

pub fn run(opts: &Opts) -> Value {
    let deltas: usize = if opts.quick { 200 } else { 10_000 };
    println!(
        "\n## 3. memory (KiB, fresh process per scenario; median of {} runs)",
        opts.runs()
    );
    let mut out = json!({});
    let probe = opts.probe.as_deref().expect(
        "the memory part needs the memory probe (--probe PATH; `cargo xtask bench` builds it)",
    );
    for scenario in ["idle", "streaming", "streaming_no_items", "stalled"] {
        let runs: Vec<Value> = (0..opts.runs())
            .map(|_| run_probe(probe, scenario, &opts.fake, deltas))
            .collect();
        let mut merged = json!({});
        for key in runs[0].as_object().expect("object").keys() {
            let mut values: Vec<f64> = runs.iter().filter_map(|r| r[key].as_f64()).collect();
            if !values.is_empty() {
                merged[key] = json!(median(&mut values));
            }
        }
        out[scenario] = merged;
    }
    let idle = &out["idle"];
    println!(
        "process before the runtime starts: {} KiB\nidle: {IDLE_STREAMS} open turn streams: peak RSS {} KiB (connected, no threads: {} KiB; with {IDLE_STREAMS} threads: {} KiB); {:.1} KiB per idle turn stream",
        idle["process_kib"],
        idle["peak_kib"],
        idle["connected_kib"],
        idle["threads_kib"],
        idle["kib_per_stream"].as_f64().unwrap_or(0.0)
    );
    let streaming = &out["streaming"];
    println!(
        "streaming: {STREAMING_TURNS} turns × {deltas} deltas: peak RSS {} KiB (with the runtime's workers: {} KiB; connected: {} KiB; at 50 % of the flood: {} KiB); live heap since the process started: peak {:.0} KiB, connected {:.0} KiB, at 50 % {:.0} KiB; anonymous RSS (not the binary's pages) at 50 % {} KiB, highest sample {} KiB; {:.0} events/s",
        streaming["peak_kib"],
        streaming["runtime_kib"],
        streaming["connected_kib"],
        streaming["rss_half_kib"],
        streaming["heap_peak_kib"].as_f64().unwrap_or(0.0),
        streaming["heap_connected_kib"].as_f64().unwrap_or(0.0),
        streaming["heap_half_kib"].as_f64().unwrap_or(0.0),
        streaming["anon_half_kib"],
        streaming["anon_peak_sampled_kib"],
        streaming["events_per_s"].as_f64().unwrap_or(0.0)
    );
    let lean = &out["streaming_no_items"];
    println!(
        "streaming, handles keeping no items (TurnOptions::keep_items(false)): peak RSS {} KiB (at 50 % of the flood: {} KiB); live heap peak {:.0} KiB, at 50 % {:.0} KiB; anonymous RSS at 50 % {} KiB, highest sample {} KiB; {:.0} events/s",
        lean["peak_kib"],
        lean["rss_half_kib"],
        lean["heap_peak_kib"].as_f64().unwrap_or(0.0),
        lean["heap_half_kib"].as_f64().unwrap_or(0.0),
        lean["anon_half_kib"],
        lean["anon_peak_sampled_kib"],
        lean["events_per_s"].as_f64().unwrap_or(0.0)
    );
    let stalled = &out["stalled"];
    println!(
        "stalled: one of {STREAMING_TURNS} consumers stalled: peak RSS {} KiB; RSS at 50% / 100% of the flood {} / {} KiB; live heap at 50% / 100% {:.0} / {:.0} KiB; the stalled turn kept {} events, lost {} (Lagged); the other {} turns {:.0} events/s ({:.2}x of streaming)",
        stalled["peak_kib"],
        stalled["rss_half_kib"],
        stalled["rss_end_kib"],
        stalled["heap_half_kib"].as_f64().unwrap_or(0.0),
        stalled["heap_end_kib"].as_f64().unwrap_or(0.0),
        stalled["stalled_kept"],
        stalled["stalled_lagged"],
        STREAMING_TURNS - 1,
        stalled["others_events_per_s"].as_f64().unwrap_or(0.0),
        stalled["others_events_per_s"].as_f64().unwrap_or(0.0)
            / streaming["events_per_s"].as_f64().unwrap_or(f64::NAN),
    );
    out["deltas_per_turn"] = json!(deltas);
    out
}

fn run_probe(probe: &Path, scenario: &str, fake: &Path, deltas: usize) -> Value {
    let output = Command::new(probe)
        .arg(scenario)
        .arg("--fake")
        .arg(fake)
        .args(["--deltas", &deltas.to_string()])
        .output()
        .expect("run the memory probe");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "memory scenario `{scenario}` failed: {}\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let last = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(last).expect("the scenario's JSON line")
}

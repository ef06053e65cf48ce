//! Memory of the client, each scenario in a fresh child process (this binary with `--child`),
//! read from its own `/proc/self/status` (`VmRSS`, and `VmHWM` = peak RSS), so scenarios never
//! pollute each other. The fake app-server is a separate process and is not counted.
//!
//! - `idle`: 1,000 threads, then one open, idle turn stream (`TurnHandle`) on each; KiB per
//!   stream = RSS growth from opening the streams / 1,000.
//! - `streaming`: 64 turns streaming N deltas each, every turn consumed in its own task.
//! - `stalled`: the same flood, but one turn's consumer never reads until the others are done:
//!   its queue must stop at the configured bound (the rest become `Lagged`), RSS must stay flat
//!   while the flood goes on, and the other 63 turns must keep their rate.

use crate::Opts;
use crate::routing::EXTRA_EVENTS;
use crate::util::{median, runtime, spawn_fake, status_kib};
use codex_client::{Error, ThreadOptions, TurnEvent, TurnHandle};
use futures::StreamExt;
use serde_json::{Value, json};
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

const IDLE_STREAMS: usize = 1_000;
const STREAMING_TURNS: usize = 64;

pub fn run(opts: &Opts) -> Value {
    let deltas: usize = if opts.quick { 200 } else { 10_000 };
    println!(
        "\n## 3. memory (KiB, fresh process per scenario; median of {} runs)",
        opts.runs()
    );
    let mut out = json!({});
    for scenario in ["idle", "streaming", "stalled"] {
        let runs: Vec<Value> = (0..opts.runs())
            .map(|_| spawn_child(scenario, &opts.fake, deltas))
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

fn spawn_child(scenario: &str, fake: &Path, deltas: usize) -> Value {
    let exe = std::env::current_exe().expect("current exe");
    let output = Command::new(exe)
        .args(["--child", scenario, "--fake"])
        .arg(fake)
        .args(["--deltas", &deltas.to_string()])
        .output()
        .expect("run a memory scenario");
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

/// Runs in the child process: one scenario, one JSON line on stdout.
pub fn child(scenario: &str, fake: &Path, args: &[String]) {
    let deltas: usize = args
        .iter()
        .position(|a| a == "--deltas")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    crate::heap::start();
    let process = status_kib("VmRSS");
    let mut result = match scenario {
        "idle" => idle(fake),
        "streaming" => flood(fake, deltas, false),
        "stalled" => flood(fake, deltas, true),
        other => panic!("unknown scenario {other}"),
    };
    result["process_kib"] = json!(process);
    println!("{result}");
}

fn idle(fake: &Path) -> Value {
    runtime().block_on(async {
        let codex = spawn_fake(fake, 0, 0).await;
        let connected = status_kib("VmRSS");
        let threads = futures::future::try_join_all(
            (0..IDLE_STREAMS).map(|_| codex.start_thread(ThreadOptions::new())),
        )
        .await
        .expect("thread/start");
        let with_threads = status_kib("VmRSS");
        let turns: Vec<TurnHandle> =
            futures::future::try_join_all(threads.iter().map(|t| t.turn("wait")))
                .await
                .expect("turn/start");
        let with_streams = status_kib("VmRSS");
        let peak = status_kib("VmHWM");
        assert_eq!(codex.connection().stats().turn_routes, IDLE_STREAMS);
        drop(turns);
        codex.close().await;
        json!({
            "connected_kib": connected, "threads_kib": with_threads, "streams_kib": with_streams,
            "peak_kib": peak,
            "kib_per_stream": with_streams.saturating_sub(with_threads) as f64 / IDLE_STREAMS as f64,
        })
    })
}

/// 64 turns of `deltas` deltas; with `stall`, turn 0 is not read until the others finished.
fn flood(fake: &Path, deltas: usize, stall: bool) -> Value {
    let per_turn = (deltas + EXTRA_EVENTS) as u64;
    let consumed = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicBool::new(false));
    // RSS samples against the flood's progress (events the consumers have taken).
    let sampler = {
        let consumed = consumed.clone();
        let done = done.clone();
        std::thread::spawn(move || {
            let mut samples = Vec::new();
            while !done.load(Ordering::Relaxed) {
                samples.push((
                    consumed.load(Ordering::Relaxed),
                    status_kib("VmRSS"),
                    crate::heap::live_kib(),
                    status_kib("RssAnon"),
                ));
                std::thread::sleep(Duration::from_millis(5));
            }
            samples
        })
    };
    let rt = runtime();
    let with_runtime = rt.block_on(async {
        // Every worker has run a task: their threads (and their malloc arenas) exist.
        let tasks: Vec<_> = (0..16)
            .map(|_| tokio::spawn(async { Box::new([0u8; 64]) }))
            .collect();
        for task in tasks {
            std::hint::black_box(task.await.expect("warm-up task"));
        }
        status_kib("VmRSS")
    });
    let (connected, heap_connected, elapsed, stalled_kept, stalled_lagged) = rt.block_on(async {
        let codex = spawn_fake(fake, STREAMING_TURNS, deltas).await;
        let connected = status_kib("VmRSS");
        let heap_connected = crate::heap::live_kib();
        let threads = futures::future::try_join_all(
            (0..STREAMING_TURNS).map(|_| codex.start_thread(ThreadOptions::new())),
        )
        .await
        .expect("thread/start");
        let start = Instant::now();
        let mut stalled = None;
        let mut tasks = Vec::new();
        for (i, thread) in threads.into_iter().enumerate() {
            if stall && i == 0 {
                stalled = Some(thread.turn("stall").await.expect("turn/start"));
                continue;
            }
            let consumed = consumed.clone();
            tasks.push(tokio::spawn(async move {
                let mut turn = thread.turn("go").await.expect("turn/start");
                let mut events = 0;
                while let Some(event) = turn.next().await {
                    match event {
                        Ok(TurnEvent::Notification(_)) => {
                            events += 1;
                            consumed.fetch_add(1, Ordering::Relaxed);
                        }
                        Ok(TurnEvent::ServerRequest(_)) => {}
                        Err(err) => panic!("a consumer that keeps up lost events: {err}"),
                    }
                }
                events
            }));
        }
        for task in tasks {
            assert_eq!(task.await.expect("consumer"), per_turn, "every event");
        }
        let elapsed = start.elapsed();
        let (mut kept, mut lagged) = (0u64, 0u64);
        if let Some(mut turn) = stalled {
            while let Some(event) = turn.next().await {
                match event {
                    Ok(_) => kept += 1,
                    Err(Error::Lagged(n)) => lagged += n,
                    Err(err) => panic!("stalled stream: {err}"),
                }
            }
            assert_eq!(kept + lagged, per_turn, "kept + lagged = the turn's events");
        }
        codex.close().await;
        (connected, heap_connected, elapsed, kept, lagged)
    });
    done.store(true, Ordering::Relaxed);
    let samples = sampler.join().expect("sampler");
    if std::env::var_os("BENCH_RSS_TRACE").is_some() {
        for (consumed, rss, heap, anon) in &samples {
            eprintln!("{consumed} {rss} {heap:.0} {anon}");
        }
    }
    let others = (STREAMING_TURNS - usize::from(stall)) as u64 * per_turn;
    let sample_at = |fraction: f64| {
        samples
            .iter()
            .find(|(c, _, _, _)| *c as f64 >= fraction * others as f64)
            .or(samples.last()) // a short flood may end between two samples
            .map_or((0, 0.0), |(_, rss, heap, _)| (*rss, *heap))
    };
    // Anonymous memory (heap, arenas, stacks) apart from file-backed pages (the binary's code).
    let anon_peak = samples.iter().map(|s| s.3).max().unwrap_or(0);
    let anon_half = samples
        .iter()
        .find(|(c, _, _, _)| *c as f64 >= 0.5 * others as f64)
        .map_or(0, |s| s.3);
    let rss_at = |fraction: f64| sample_at(fraction).0;
    let heap_at = |fraction: f64| sample_at(fraction).1;
    json!({
        "runtime_kib": with_runtime,
        "heap_connected_kib": heap_connected,
        "heap_peak_kib": crate::heap::peak_kib(),
        "connected_kib": connected,
        "peak_kib": status_kib("VmHWM"),
        "rss_half_kib": rss_at(0.5),
        "heap_half_kib": heap_at(0.5),
        "anon_half_kib": anon_half,
        "anon_peak_sampled_kib": anon_peak,
        "heap_end_kib": heap_at(0.99),
        "rss_end_kib": rss_at(0.99),
        "events_per_s": (others as f64) / elapsed.as_secs_f64(),
        "others_events_per_s": (others as f64) / elapsed.as_secs_f64(),
        "stalled_kept": stalled_kept,
        "stalled_lagged": stalled_lagged,
    })
}

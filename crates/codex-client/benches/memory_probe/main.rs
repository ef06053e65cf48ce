//! The memory probe of `cargo xtask bench`: a client program and nothing else (the SDK, tokio,
//! the scenario), so that its RSS is what a program driving Codex through the SDK costs — not
//! the benchmark suite's other parts, the test kit or the baselines' code. The suite runs it once
//! per scenario and run, as a fresh process that reads its own `/proc/self/status` (`VmRSS`,
//! and `VmHWM` = peak RSS); the fake app-server is a separate process and is not counted.
//!
//! - `idle`: 1,000 threads, then one open, idle turn stream (`TurnHandle`) on each; KiB per
//!   stream = RSS growth from opening the streams / 1,000.
//! - `streaming`: 64 turns streaming N deltas each, every turn consumed in its own task; the
//!   handles keep their items for the result (the default).
//! - `streaming_no_items`: the same with `TurnOptions::keep_items(false)`: the handles keep no
//!   copy of the items (a program that consumes the stream and never asks for the result).
//! - `stalled`: the same flood, but one turn's consumer never reads until the others are done:
//!   its queue must stop at the configured bound (the rest become `Lagged`), RSS must stay flat
//!   while the flood goes on, and the other 63 turns must keep their rate.

mod heap;
#[path = "../suite/util.rs"]
#[allow(dead_code)] // the suite's helpers: the probe uses a few of them
mod util;

use codex_client::{ThreadOptions, TurnEvent, TurnHandle, TurnOptions};
use futures::StreamExt;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use util::{EXTRA_EVENTS, IDLE_STREAMS, STREAMING_TURNS, runtime, spawn_fake};

/// A field of `/proc/self/status` in KiB (`VmRSS`, `VmHWM`).
pub fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

#[global_allocator]
static ALLOCATOR: heap::CountingAllocator = heap::CountingAllocator;

/// `memory_probe SCENARIO --fake PATH [--deltas N]`: one scenario, one JSON line on stdout.
fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let scenario = args
        .first()
        .expect("a scenario: idle, streaming, streaming_no_items, stalled");
    let fake = args
        .iter()
        .position(|a| a == "--fake")
        .and_then(|i| args.get(i + 1))
        .map(PathBuf::from)
        .unwrap_or_else(util::default_fake_path);
    let deltas: usize = args
        .iter()
        .position(|a| a == "--deltas")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    heap::start();
    let process = status_kib("VmRSS");
    let mut result = match scenario.as_str() {
        "idle" => idle(&fake),
        "streaming" => flood(&fake, deltas, false, true),
        "streaming_no_items" => flood(&fake, deltas, false, false),
        "stalled" => flood(&fake, deltas, true, true),
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
            (0..IDLE_STREAMS).map(|_| codex.threads().start(ThreadOptions::new())),
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

/// 64 turns of `deltas` deltas; with `stall`, turn 0 is not read until the others finished;
/// `keep_items`: the turn handles keep their completed items for the result (the default).
fn flood(fake: &Path, deltas: usize, stall: bool, keep_items: bool) -> Value {
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
                    heap::live_kib(),
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
        let heap_connected = heap::live_kib();
        let threads = futures::future::try_join_all(
            (0..STREAMING_TURNS).map(|_| codex.threads().start(ThreadOptions::new())),
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
                let options = TurnOptions::new().keep_items(keep_items);
                let mut turn = thread.turn_with("go", options).await.expect("turn/start");
                let mut events = 0;
                while let Some(event) = turn.next().await {
                    match event {
                        Ok(TurnEvent::Notification(_)) => {
                            events += 1;
                            consumed.fetch_add(1, Ordering::Relaxed);
                        }
                        Ok(TurnEvent::Lagged(n)) => {
                            panic!("a consumer that keeps up lost {n} events")
                        }
                        Ok(_) => {}
                        Err(err) => panic!("a consumer that keeps up failed: {err}"),
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
                    Ok(TurnEvent::Lagged(n)) => lagged += n,
                    Ok(_) => kept += 1,
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
        "heap_peak_kib": heap::peak_kib(),
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

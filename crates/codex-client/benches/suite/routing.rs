//! Routing throughput: K turns on K threads, N deltas each (plus turn/started, item/started,
//! item/completed, thread/tokenUsage/updated, turn/completed), written by the fake app-server
//! as fast as the pipe takes them and consumed through `TurnHandle`, one task per turn.
//!
//! Baselines on the very same bytes (`codex-fake-app-server --dump`): (a) read the lines and
//! nothing else, (b) read them and parse each into a `serde_json::Value`. Both run on one thread
//! with a 64 KiB buffer; their clock starts when the first line has arrived. The SDK's clock
//! starts before its K `turn/start` requests are sent (the flood begins after the last answer),
//! so every approximation favours the baselines.

use crate::Opts;
use crate::util::{EXTRA_EVENTS, current_thread_runtime, fmt_rate, median, runtime, spawn_fake};
use codex_client::{ThreadOptions, TurnEvent};
use futures::StreamExt;
use serde_json::{Value, json};
use std::io::BufRead;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

pub fn run(opts: &Opts) -> Value {
    // Each run measures (a), (b) and the SDK back to back; the ratio is also taken per run
    // (then its median), which cancels most of the drift of a shared machine's load.
    let runs = if opts.quick { 1 } else { 9 };
    println!("\n## 1. routing throughput (events/s; median of {runs} runs)");
    println!(
        "SDK: tokio's default multi-thread runtime (one worker per core); CT: the same on a current_thread runtime"
    );
    println!(
        "{:>5} {:>7} {:>12} {:>12} {:>12} {:>8} {:>9} {:>12} {:>8} {:>8} {:>5} {:>6}",
        "K",
        "N/turn",
        "(a) lines",
        "(b) Value",
        "SDK",
        "SDK/(b)",
        "per run",
        "CT",
        "CT/(b)",
        "(a)/(b)",
        "lost",
        "waits"
    );
    let total: usize = if opts.quick { 4_000 } else { 256_000 };
    let mut rows = Vec::new();
    for k in opts.turns.clone().unwrap_or_else(|| vec![1, 16, 256]) {
        let n = (total / k).max(2);
        let (mut a, mut b, mut sdk, mut per_run) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let (mut ct, mut ct_per_run) = (Vec::new(), Vec::new());
        let mut lost = 0u64;
        let mut waits = Vec::new();
        for _ in 0..runs {
            a.push(baseline(&opts.fake, k, n, false));
            let value = baseline(&opts.fake, k, n, true);
            b.push(value);
            let (rate, run_lost, run_waits) = runtime().block_on(through_sdk(&opts.fake, k, n));
            waits.push(run_waits as f64);
            sdk.push(rate);
            per_run.push(rate / value);
            lost += run_lost;
            let (rate, run_lost, _) =
                current_thread_runtime().block_on(through_sdk(&opts.fake, k, n));
            ct.push(rate);
            ct_per_run.push(rate / value);
            lost += run_lost;
        }
        let (a, b, sdk, ct) = (
            median(&mut a),
            median(&mut b),
            median(&mut sdk),
            median(&mut ct),
        );
        let (per_run, ct_per_run) = (median(&mut per_run), median(&mut ct_per_run));
        let waits = median(&mut waits);
        println!(
            "{k:>5} {n:>7} {:>12} {:>12} {:>12} {:>7.2}x {:>8.2}x {:>12} {:>7.2}x {:>7.2}x {lost:>5} {waits:>6}",
            fmt_rate(a),
            fmt_rate(b),
            fmt_rate(sdk),
            sdk / b,
            per_run,
            fmt_rate(ct),
            ct_per_run,
            a / b
        );
        assert_eq!(lost, 0, "events were lost at K = {k}");
        rows.push(json!({
            "turns": k, "deltas_per_turn": n, "events": k * (n + EXTRA_EVENTS),
            "lines_per_s": a, "value_per_s": b, "sdk_per_s": sdk,
            "ratio_to_value": sdk / b, "ratio_to_value_per_run_median": per_run,
            "current_thread_sdk_per_s": ct, "current_thread_ratio_per_run_median": ct_per_run,
            "lines_over_value": a / b, "lost": lost, "runs": runs, "reader_waits_median": waits,
        }));
    }
    Value::Array(rows)
}

/// Events per second of a plain reader of the flood's bytes, parsing each line into a `Value`
/// when `parse`.
fn baseline(fake: &Path, turns: usize, deltas: usize, parse: bool) -> f64 {
    let mut child = Command::new(fake)
        .arg("--dump")
        .env("CODEX_FAKE_TURNS", turns.to_string())
        .env("CODEX_FAKE_DELTAS", deltas.to_string())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn the fake app-server");
    let mut reader =
        std::io::BufReader::with_capacity(64 * 1024, child.stdout.take().expect("piped"));
    let mut line = String::new();
    reader.read_line(&mut line).expect("the first line");
    let start = Instant::now();
    let mut count = 0usize;
    let mut keys = 0usize;
    loop {
        line.clear();
        if reader.read_line(&mut line).expect("read") == 0 {
            break;
        }
        count += 1;
        if parse {
            let value: Value = serde_json::from_str(&line).expect("a JSON line");
            keys += value.as_object().map_or(0, |o| o.len());
        }
    }
    let elapsed = start.elapsed();
    std::hint::black_box(keys);
    let _ = child.wait();
    assert_eq!(
        count + 1,
        turns * (deltas + EXTRA_EVENTS),
        "the whole flood"
    );
    count as f64 / elapsed.as_secs_f64()
}

/// Events per second through the SDK, the events lost (`Lagged`) and the reader's waits, on
/// the runtime that runs the returned future.
async fn through_sdk(fake: &Path, turns: usize, deltas: usize) -> (f64, u64, u64) {
    let codex = spawn_fake(fake, turns, deltas).await;
    let threads = futures::future::try_join_all(
        (0..turns).map(|_| codex.threads().start(ThreadOptions::new())),
    )
    .await
    .expect("thread/start");
    let start = Instant::now();
    let tasks: Vec<_> = threads
        .into_iter()
        .map(|thread| {
            tokio::spawn(async move {
                let mut turn = thread.turn("go").await.expect("turn/start");
                let (mut events, mut lost) = (0u64, 0u64);
                while let Some(event) = turn.next().await {
                    match event {
                        Ok(TurnEvent::Notification(_)) => events += 1,
                        Ok(TurnEvent::ServerRequest(_)) => {}
                        Ok(TurnEvent::Lagged(n)) => lost += n,
                        Ok(_) => {}
                        Err(err) => panic!("turn stream failed: {err}"),
                    }
                }
                assert!(turn.is_completed(), "the turn completed");
                (events, lost)
            })
        })
        .collect();
    let (mut events, mut lost) = (0u64, 0u64);
    for task in tasks {
        let (e, l) = task.await.expect("consumer task");
        events += e;
        lost += l;
    }
    let elapsed = start.elapsed();
    let stats = codex.connection().stats();
    codex.close().await;
    // The same loss can show in the streams, the count and the router's statistics.
    let expected = (turns * (deltas + EXTRA_EVENTS)) as u64;
    let lost = lost
        .max(expected.saturating_sub(events))
        .max(stats.lagged_events);
    (
        events as f64 / elapsed.as_secs_f64(),
        lost,
        stats.reader_waits,
    )
}

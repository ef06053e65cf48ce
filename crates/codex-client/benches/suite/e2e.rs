//! End to end with the real app-server and the test kit's mock model (loopback only): the time
//! from spawn to ready (handshake done), and the time of a batch of turns run one after another
//! on one thread (each turn: `turn/start` … `turn/completed`), through the SDK (`Codex`,
//! `Thread::run`) beside the test kit's raw JSON-lines driver (`RawAppServer`). SDK and raw runs
//! alternate, each with a fresh sandbox, mock and process.

use crate::Opts;
use crate::util::{median, runtime};
use codex_client::protocol::{AskForApproval, SandboxMode};
use codex_client::{Codex, SpawnConfig, ThreadOptions};
use codex_client_testkit::{AppServerLaunch, CodexSandbox, MockModel, RawAppServer};
use serde_json::{Value, json};
use std::path::Path;
use std::time::{Duration, Instant};

const T: Duration = Duration::from_secs(60);

pub fn run(opts: &Opts) -> Value {
    let Some(codex) = opts.codex.as_ref().filter(|p| p.is_file()) else {
        println!("\n## 4. end to end: SKIPPED (no codex binary; run `cargo xtask install-codex`)");
        return json!({"skipped": "no codex binary"});
    };
    // The app-server's own run-to-run noise (±5 % on a batch) is larger than the 2 % to be
    // shown, so this part takes more pairs than the others and also reports the median of the
    // per-pair ratios (each SDK run beside the raw run right after it).
    let (turns, pairs) = if opts.quick { (2, 1) } else { (20, 15) };
    println!(
        "\n## 4. end to end, real app-server + mock model ({turns} turns per batch; median of {pairs} alternating pairs)"
    );
    let rt = runtime();
    let (mut sdk_ready, mut raw_ready, mut sdk_batch, mut raw_batch) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    if !opts.quick {
        // Warm the page cache with one unrecorded pair (the first spawn of a run is slower).
        rt.block_on(through_sdk(codex, 1));
        rt.block_on(through_raw(codex, 1));
    }
    for _ in 0..pairs {
        let (ready, batch) = rt.block_on(through_sdk(codex, turns));
        sdk_ready.push(ready);
        sdk_batch.push(batch);
        let (ready, batch) = rt.block_on(through_raw(codex, turns));
        raw_ready.push(ready);
        raw_batch.push(batch);
    }
    let mut pair_ratios: Vec<f64> = sdk_batch
        .iter()
        .zip(&raw_batch)
        .map(|(s, r)| s / r)
        .collect();
    let pair_ratio = median(&mut pair_ratios);
    let (sr, rr, sb, rb) = (
        median(&mut sdk_ready),
        median(&mut raw_ready),
        median(&mut sdk_batch),
        median(&mut raw_batch),
    );
    println!(
        "spawn to ready: SDK {sr:.1} ms, raw {rr:.1} ms ({:+.1} ms)",
        sr - rr
    );
    println!(
        "batch of {turns} turns: SDK {sb:.1} ms, raw {rb:.1} ms ({:+.1} %; median of the pairs' ratios {:+.1} %)",
        (sb / rb - 1.0) * 100.0,
        (pair_ratio - 1.0) * 100.0
    );
    json!({
        "turns_per_batch": turns, "pairs": pairs, "batch_pair_ratio_median": pair_ratio,
        "sdk_ready_ms": sr, "raw_ready_ms": rr, "ready_diff_ms": sr - rr,
        "sdk_batch_ms": sb, "raw_batch_ms": rb, "batch_overhead_pct": (sb / rb - 1.0) * 100.0,
    })
}

fn thread_options(sandbox: &CodexSandbox) -> ThreadOptions {
    ThreadOptions::new()
        .cwd(sandbox.workdir())
        .approval_policy(AskForApproval::Never)
        .sandbox_mode(SandboxMode::ReadOnly)
}

fn spawn_config(launch: &AppServerLaunch) -> SpawnConfig {
    let mut spawn = SpawnConfig::explicit(&launch.program, launch.args.clone())
        .env_clear(launch.env_clear)
        .cwd(&launch.cwd);
    for (k, v) in &launch.env {
        spawn = spawn.env(k, v);
    }
    spawn
}

/// (spawn to ready, batch) in ms through the SDK.
async fn through_sdk(codex_bin: &Path, turns: usize) -> (f64, f64) {
    let mock = MockModel::start().await.expect("mock model");
    let sandbox = CodexSandbox::new(codex_bin, mock.base_url()).expect("sandbox");
    let spawn = spawn_config(&sandbox.launch());
    let start = Instant::now();
    let codex = Codex::builder()
        .spawn(spawn)
        .await
        .expect("spawn the app-server");
    let ready = start.elapsed();
    let start = Instant::now();
    let thread = codex
        .threads()
        .start(thread_options(&sandbox))
        .await
        .expect("thread/start");
    for i in 0..turns {
        let result = thread.run(format!("Say hello {i}")).await.expect("a turn");
        assert!(result.final_response().is_some(), "the turn answered");
    }
    let batch = start.elapsed();
    codex.close().await;
    (ms(ready), ms(batch))
}

/// The same through the test kit's raw driver.
async fn through_raw(codex_bin: &Path, turns: usize) -> (f64, f64) {
    let mock = MockModel::start().await.expect("mock model");
    let sandbox = CodexSandbox::new(codex_bin, mock.base_url()).expect("sandbox");
    let launch = sandbox.launch();
    let start = Instant::now();
    let mut server = RawAppServer::spawn(&launch).expect("spawn the app-server");
    server.initialize("bench_raw", T).await.expect("initialize");
    let ready = start.elapsed();
    let params = serde_json::to_value(
        thread_options(&sandbox)
            .to_start_params()
            .expect("thread params"),
    )
    .expect("json");
    let start = Instant::now();
    let thread = server
        .call("thread/start", params, T)
        .await
        .expect("thread/start");
    let thread_id = thread["thread"]["id"]
        .as_str()
        .expect("thread id")
        .to_owned();
    for i in 0..turns {
        let input = json!([{"type": "text", "text": format!("Say hello {i}")}]);
        server
            .call(
                "turn/start",
                json!({"threadId": thread_id, "input": input}),
                T,
            )
            .await
            .expect("turn/start");
        let done = server
            .wait_notification("turn/completed", T)
            .await
            .expect("turn/completed");
        assert_eq!(done["params"]["turn"]["status"], "completed");
    }
    let batch = start.elapsed();
    let _ = server.shutdown(T).await;
    (ms(ready), ms(batch))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

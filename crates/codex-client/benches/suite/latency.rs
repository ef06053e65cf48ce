//! Request latency: `thread/loaded/list` (a small typed request and response) against the fake
//! app-server, sequential and 64-way concurrent, beside a minimal hand-written client on the
//! same fake server: blocking writes of pre-formatted lines and blocking line reads on one
//! thread, the response's `id` and `result` decoded with serde (64-way: a closed loop keeping 64
//! requests in flight).

use crate::Opts;
use crate::util::{current_thread_runtime, median, quantile, runtime, spawn_fake};
use codex_client::protocol::methods::ThreadLoadedList;
use codex_client::protocol::{ThreadLoadedListParams, ThreadLoadedListResponse};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Value, json};
use std::io::{BufRead, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Instant;

const CONCURRENCY: usize = 64;

pub fn run(opts: &Opts) -> Value {
    let count = if opts.quick { 256 } else { 20_000 };
    println!(
        "\n## 2. request latency (µs; {count} requests per run, median of {} runs)",
        opts.runs()
    );
    println!(
        "{:>12} {:>10} {:>10} {:>10} {:>10} {:>12} {:>12}",
        "mode", "SDK p50", "SDK p99", "min p50", "min p99", "p50 diff", "p99 ratio"
    );
    let mut out = json!({});
    for (mode, concurrency) in [("sequential", 1usize), ("concurrent64", CONCURRENCY)] {
        if std::env::var("BENCH_LATENCY_MODE").is_ok_and(|m| m != mode) {
            continue;
        }
        let (mut sdk50, mut sdk99, mut min50, mut min99) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for _ in 0..opts.runs() {
            let sdk = percentiles(through_sdk(&opts.fake, count, concurrency));
            let minimal = if std::env::var_os("BENCH_SDK_ONLY").is_some() {
                (1.0, 1.0)
            } else {
                percentiles(minimal_client(&opts.fake, count, concurrency))
            };
            sdk50.push(sdk.0);
            sdk99.push(sdk.1);
            min50.push(minimal.0);
            min99.push(minimal.1);
        }
        let (s50, s99, m50, m99) = (
            median(&mut sdk50),
            median(&mut sdk99),
            median(&mut min50),
            median(&mut min99),
        );
        println!(
            "{mode:>12} {s50:>10.1} {s99:>10.1} {m50:>10.1} {m99:>10.1} {:>+12.1} {:>11.2}x",
            s50 - m50,
            s99 / m99
        );
        out[mode] = json!({
            "requests": count, "in_flight": concurrency,
            "sdk_p50_us": s50, "sdk_p99_us": s99, "minimal_p50_us": m50, "minimal_p99_us": m99,
            "p50_diff_us": s50 - m50, "p99_ratio": s99 / m99,
        });
    }
    out
}

/// (p50, p99) in µs.
fn percentiles(mut micros: Vec<f64>) -> (f64, f64) {
    micros.sort_by(f64::total_cmp);
    (quantile(&micros, 0.5), quantile(&micros, 0.99))
}

fn params() -> ThreadLoadedListParams {
    ThreadLoadedListParams {
        cursor: None,
        limit: None,
    }
}

/// Round trips (µs) of `count` requests through `Codex::request`, `concurrency` tasks each
/// sending its share one after another. A warm-up of `count / 4` requests is not recorded.
fn through_sdk(fake: &Path, count: usize, concurrency: usize) -> Vec<f64> {
    let rt = if std::env::var_os("BENCH_CURRENT_THREAD").is_some() {
        current_thread_runtime()
    } else {
        runtime()
    };
    rt.block_on(async {
        let codex = spawn_fake(fake, 0, 0).await;
        for _ in 0..count / 4 {
            codex
                .request::<ThreadLoadedList>(params())
                .await
                .expect("warm-up");
        }
        let barrier = Arc::new(tokio::sync::Barrier::new(concurrency));
        let tasks: Vec<_> = (0..concurrency)
            .map(|_| {
                let codex = codex.clone();
                let barrier = barrier.clone();
                tokio::spawn(async move {
                    barrier.wait().await;
                    let mut micros = Vec::with_capacity(count / concurrency);
                    for _ in 0..count / concurrency {
                        let start = Instant::now();
                        let response = codex
                            .request::<ThreadLoadedList>(params())
                            .await
                            .expect("thread/loaded/list");
                        micros.push(start.elapsed().as_secs_f64() * 1e6);
                        std::hint::black_box(response);
                    }
                    micros
                })
            })
            .collect();
        let mut all = Vec::with_capacity(count);
        for task in tasks {
            all.extend(task.await.expect("request task"));
        }
        codex.close().await;
        all
    })
}

#[derive(Deserialize)]
struct Response<'a> {
    id: usize,
    #[serde(borrow)]
    result: &'a RawValue,
}

/// The minimal client: round trips (µs) of `count` requests with `concurrency` in flight.
fn minimal_client(fake: &Path, count: usize, concurrency: usize) -> Vec<f64> {
    let mut child = Command::new(fake)
        .arg("app-server")
        .env("CODEX_FAKE_TURNS", "0")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn the fake app-server");
    let mut stdin = child.stdin.take().expect("piped");
    let mut stdout =
        std::io::BufReader::with_capacity(64 * 1024, child.stdout.take().expect("piped"));
    let mut line = String::new();
    let call = |id: usize, stdin: &mut std::process::ChildStdin| {
        let request =
            format!("{{\"id\":{id},\"method\":\"thread/loaded/list\",\"params\":{{}}}}\n");
        stdin.write_all(request.as_bytes()).expect("write");
    };
    let mut read = |stdout: &mut std::io::BufReader<std::process::ChildStdout>| -> usize {
        line.clear();
        stdout.read_line(&mut line).expect("read");
        let response: Response<'_> = serde_json::from_str(&line).expect("a response");
        let result: ThreadLoadedListResponse =
            serde_json::from_str(response.result.get()).expect("a result");
        std::hint::black_box(result);
        response.id
    };
    call(0, &mut stdin);
    read(&mut stdout);
    // Warm-up, not recorded.
    for id in 1..=count / 4 {
        call(id, &mut stdin);
        read(&mut stdout);
    }
    let first = count / 4 + 1;
    let mut sent = vec![None::<Instant>; first + count];
    let mut micros = Vec::with_capacity(count);
    let mut next = first;
    while next < first + concurrency.min(count) {
        sent[next] = Some(Instant::now());
        call(next, &mut stdin);
        next += 1;
    }
    while micros.len() < count {
        let id = read(&mut stdout);
        let at = sent[id].take().expect("a response to a request in flight");
        micros.push(at.elapsed().as_secs_f64() * 1e6);
        if next < first + count {
            sent[next] = Some(Instant::now());
            call(next, &mut stdin);
            next += 1;
        }
    }
    drop(stdin);
    let _ = child.wait();
    micros
}

//! `cargo xtask bench [--quick] [--only routing,latency,memory,e2e]`: builds (release) the fake
//! app-server of the test kit, the memory probe (`crates/codex-client/benches/memory_probe/`)
//! and the benchmark suite (`crates/codex-client/benches/suite/`), runs the suite, prints its
//! report and writes it as JSON to `target/bench/report.json` (`report-quick.json` with
//! `--quick`). BENCHMARKS.md explains the benchmarks and keeps the latest figures.
//!
//! `--quick` is the smoke test `cargo xtask test` runs last: tiny sizes, one run each, asserting
//! only that everything works and no event is lost — never anything about speed.

use crate::runtime;
use crate::util::{cargo, run_step};
use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::Stdio;

pub fn run(workspace: &Path, args: &[String]) -> Result<()> {
    let quick = args.iter().any(|a| a == "--quick");
    let codex = runtime::install(workspace)?;
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace.join("target"));
    run_step(
        "build the fake app-server (release)",
        cargo().current_dir(workspace).args([
            "build",
            "--release",
            "--locked",
            "-p",
            "codex-client-testkit",
            "--bin",
            "codex-fake-app-server",
        ]),
    )?;
    let probe = build_memory_probe(workspace)?;
    let out = target.join("bench").join(if quick {
        "report-quick.json"
    } else {
        "report.json"
    });
    let mut bench = cargo();
    bench
        .current_dir(workspace)
        .args([
            "bench",
            "--locked",
            "-p",
            "codex-client",
            "--bench",
            "suite",
            "--",
        ])
        .arg("--fake")
        .arg(target.join("release").join("codex-fake-app-server"))
        .arg("--codex")
        .arg(&codex)
        .arg("--probe")
        .arg(&probe)
        .arg("--out")
        .arg(&out);
    if quick {
        bench.arg("--quick");
    }
    if let Some(i) = args.iter().position(|a| a == "--only") {
        bench.arg("--only").args(args.get(i + 1));
    }
    run_step(
        if quick {
            "benchmark suite (quick smoke test)"
        } else {
            "benchmark suite"
        },
        &mut bench,
    )
}

/// Builds the memory probe (`crates/codex-client/benches/memory_probe`, a bench target) and
/// returns the path of its executable, as cargo reports it.
fn build_memory_probe(workspace: &Path) -> Result<PathBuf> {
    let mut build = cargo();
    build.current_dir(workspace).args([
        "bench",
        "--locked",
        "-p",
        "codex-client",
        "--bench",
        "memory_probe",
        "--no-run",
        "--message-format=json-render-diagnostics",
    ]);
    println!("\n==> build the memory probe");
    println!("    $ {}", crate::util::describe(&build));
    let output = build
        .stderr(Stdio::inherit())
        .output()
        .context("could not start cargo")?;
    if !output.status.success() {
        bail!("building the memory probe failed ({})", output.status);
    }
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|message| message["target"]["name"] == "memory_probe")
        .find_map(|message| message["executable"].as_str().map(PathBuf::from))
        .context("cargo reported no executable for the memory probe")
}

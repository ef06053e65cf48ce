//! `cargo xtask bench [--quick] [--only routing,latency,memory,e2e,python]`: builds (release) the
//! fake app-server of the test kit, the memory probe (`crates/codex-client/benches/memory_probe/`)
//! and the benchmark suite (`crates/codex-client/benches/suite/`), runs the suite, prints its
//! report and writes it as JSON to `target/bench/report.json` (`report-quick.json` with
//! `--quick`); then (`python`) the Python benchmark
//! (`crates/codex-client-py/benches/bench_python.py`: this package beside the official
//! `openai_codex` on the same fake app-server, from the venv of `cargo xtask python`, loopback
//! only), its report in `target/bench/python.json` (`python-quick.json`). BENCHMARKS.md explains
//! the benchmarks and keeps the latest figures.
//!
//! `--quick` is the smoke test `cargo xtask test` runs last: tiny sizes, one run each, asserting
//! only that everything works and no event is lost — never anything about speed.

use crate::python;
use crate::runtime;
use crate::util::{cargo, run_step};
use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::Stdio;

/// The `--only` name of the Python benchmark (every other name is the Rust suite's).
const PYTHON: &str = "python";

pub fn run(workspace: &Path, args: &[String]) -> Result<()> {
    let quick = args.iter().any(|a| a == "--quick");
    let only: Option<Vec<&str>> = match args.iter().position(|a| a == "--only") {
        Some(i) => Some(
            args.get(i + 1)
                .context("--only needs a list: routing,latency,memory,e2e,python")?
                .split(',')
                .filter(|name| !name.is_empty())
                .collect(),
        ),
        None => None,
    };
    let python_wanted = only.as_ref().is_none_or(|names| names.contains(&PYTHON));
    let suite_names: Option<Vec<&str>> = only
        .as_ref()
        .map(|names| names.iter().copied().filter(|n| *n != PYTHON).collect());
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
    if suite_names.as_ref().is_none_or(|names| !names.is_empty()) {
        run_suite(workspace, &target, &codex, quick, suite_names.as_deref())?;
    }
    if python_wanted {
        run_python(workspace, &target, quick)?;
    }
    Ok(())
}

/// The Rust benchmark suite (`--only` names other than `python`, or all).
fn run_suite(
    workspace: &Path,
    target: &Path,
    codex: &Path,
    quick: bool,
    only: Option<&[&str]>,
) -> Result<()> {
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
        .arg(codex)
        .arg("--probe")
        .arg(&probe)
        .arg("--out")
        .arg(&out);
    if quick {
        bench.arg("--quick");
    }
    if let Some(names) = only {
        bench.arg("--only").arg(names.join(","));
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

/// The Python benchmark: the venv and the wheel of `cargo xtask python` (set up if needed), then
/// `bench_python.py` against the fake app-server built above, loopback only when the machine
/// allows it. It fails when either SDK lost an event; the speed targets are reported, not
/// asserted.
fn run_python(workspace: &Path, target: &Path, quick: bool) -> Result<()> {
    python::setup(workspace)?;
    python::build(workspace)?;
    let out = target.join("bench").join(if quick {
        "python-quick.json"
    } else {
        "python.json"
    });
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut bench = python::script_command(workspace);
    bench
        .arg(workspace.join("crates/codex-client-py/benches/bench_python.py"))
        .arg("--fake")
        .arg(target.join("release").join("codex-fake-app-server"))
        .arg("--json")
        .arg(&out);
    if quick {
        bench.arg("--quick");
    }
    let mut bench = match crate::test::loopback_only_wrapper() {
        Some(wrapper) => crate::test::wrap(&wrapper, &bench),
        None => bench,
    };
    run_step(
        if quick {
            "Python benchmark (quick smoke test)"
        } else {
            "Python benchmark"
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

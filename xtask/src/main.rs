//! `cargo xtask`: the project's developer commands, in Rust so they run wherever cargo does.
//!
//! | command | what it does |
//! |---|---|
//! | `demo` | the first command to run: the SDK against the real app-server and a mock model, offline (installs the runtime if missing) |
//! | `install-codex` | installs the pinned Codex runtime (`openai-codex-cli-bin`) under `target/codex-runtime/` |
//! | `user-recipe` | runs docs/getting-started.md's runtime recipe into a virtualenv under `target/` and checks the SDK finds it (also a step of `test`) |
//! | `schema [--check]` | regenerates `crates/codex-client-protocol/schema/` from the installed runtime |
//! | `codegen [--check]` | generates the protocol crate's `src/generated/` from that schema |
//! | `py-models [--check]` | generates the Python package's `codex_client/generated/` from that schema |
//! | `bump-codex <version>` | moves the pin to another runtime and prints the protocol drift |
//! | `bench [--quick]` | builds and runs the benchmark suite, writes `target/bench/report*.json` (see BENCHMARKS.md) |
//! | `soak [--minutes N]` | the soak test: hundreds of turns on one connection against the real app-server, RSS sampled (RELIABILITY.md) |
//! | `python [setup\|build\|test]` | the Python bindings (`crates/codex-client-py`): the venv `target/py-venv` with the pins of its `requirements-dev.txt`, the wheel built by maturin and installed into it, the pytest suite (also steps of `test`) |
//! | `test` | the whole gate CI runs: fmt, clippy, drift checks, docs, and every test against the real app-server |
//!
//! The pinned Codex version lives in one place: `crates/codex-client-protocol/CODEX_VERSION`.

mod bench;
mod bump;
mod codegen;
mod demo;
mod drift;
mod manifest;
mod py_models;
mod python;
mod runtime;
mod schema;
mod soak;
mod test;
mod util;

use anyhow::{Result, bail};

const USAGE: &str = "usage: cargo xtask <command>

commands:
  demo                 see what the SDK does: the real app-server + a mock model on 127.0.0.1, no account,
                       no network (installs the pinned runtime first if it is missing)
  install-codex        install the pinned codex runtime under target/codex-runtime/
  user-recipe          run the getting-started runtime recipe (a venv under target/) and check the SDK finds it
  schema [--check]     regenerate the pinned JSON schema from the installed runtime (--check: fail on drift)
  codegen [--check]    generate the protocol types from the schema (--check: fail when stale)
  py-models [--check]  generate the Python models (codex_client/generated/) from the schema, with
                       CODEX_PY_GEN_PYTHON or target/py-venv/bin/python (--check: fail when stale)
  bump-codex <version> [--no-test]
                       move to another codex runtime: install it, regenerate schema and types,
                       update the pin, run the tests, print the protocol drift for the CHANGELOG
  drift <version>      print the protocol drift from the pinned runtime to <version>, changing nothing
  bench [--quick] [--only routing,latency,memory,e2e]
                       build and run the benchmark suite; report in target/bench/ (see BENCHMARKS.md)
  soak [--minutes N] [--seed S]
                       soak test: hundreds of turns on one connection against the real app-server,
                       random interrupts/approvals/dropped handles, router tables and RSS checked
  python [setup|build|test] [-- <pytest args>]
                       the Python bindings (crates/codex-client-py): setup makes target/py-venv with
                       the exact pins of crates/codex-client-py/requirements-dev.txt (skipped when
                       they are already installed); build runs maturin from it and installs the wheel
                       into it; test (the default) does both, then runs pytest on
                       crates/codex-client-py/tests against the real app-server, loopback only, and
                       fails when a test fails or none ran
  test                 fmt, clippy, drift checks, docs and the full test suite, Rust and Python
                       (what CI runs)";

fn main() {
    if let Err(err) = run() {
        eprintln!("xtask: error: {err:#}");
        std::process::exit(1);
    }
}

fn run() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let workspace = util::workspace_root();
    let check = args.iter().any(|a| a == "--check");
    match args.first().map(String::as_str) {
        Some("user-recipe") => {
            let bin = runtime::check_user_recipe(&workspace)?;
            println!(
                "the getting-started runtime recipe works: {}",
                bin.display()
            );
            Ok(())
        }
        Some("install-codex") => {
            let bin = runtime::install(&workspace)?;
            println!(
                "codex {} is installed at {}",
                runtime::pinned_version(&workspace)?,
                bin.display()
            );
            Ok(())
        }
        Some("schema") => schema::run(&workspace, check),
        Some("codegen") => codegen::run(&workspace, check),
        Some("py-models") => py_models::run(&workspace, check),
        Some("test") => test::run(&workspace),
        Some("demo") => demo::run(&workspace),
        Some("bench") => bench::run(&workspace, &args[1..]),
        Some("soak") => soak::run(&workspace, &args[1..]),
        Some("python") => python::run(&workspace, &args[1..]),
        Some("drift") => {
            let Some(version) = args.get(1) else {
                bail!("usage: cargo xtask drift <version>");
            };
            bump::print_drift(&workspace, version)
        }
        Some("bump-codex") => {
            let Some(version) = args.get(1).filter(|a| !a.starts_with("--")) else {
                bail!("usage: cargo xtask bump-codex <version> [--no-test]");
            };
            bump::run(&workspace, version, !args.iter().any(|a| a == "--no-test"))
        }
        Some("help" | "--help" | "-h") | None => {
            println!("{USAGE}");
            Ok(())
        }
        Some(other) => bail!("unknown command `{other}`\n\n{USAGE}"),
    }
}

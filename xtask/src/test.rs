//! `cargo xtask test`: the project's one gate, run as written by CI (`.ci/run`) and by developers.
//!
//! It fails on the first failing step. The tests that need the real app-server are required here:
//! the pinned runtime is installed when missing, and `CODEX_CLIENT_REQUIRE_APP_SERVER=1` turns
//! their "binary not found, skipping" into a failure. Everything that needs the network (crates,
//! the runtime) is fetched and built first; the test phase then runs inside a loopback-only
//! network namespace when the machine allows one, so no test can reach anything but 127.0.0.1.
//! The Python bindings are part of it: their venv and wheel are made in the set-up phase
//! (`python::setup`, `python::build`), their pytest suite runs in the loopback-only phase.

use crate::util::{cargo, run_step};
use crate::{codegen, demo, py_models, python, runtime, schema};
use anyhow::Result;
use std::path::Path;
use std::process::Command;

/// What the main clippy, doc, build and test steps enable: every optional part users may turn
/// on (`websocket`, `tls`, `blocking`), so that no target is skipped for a missing feature.
const FULL: [&str; 2] = ["--features", "codex-client/full"];

/// The optional parts of `codex-client`; the feature-matrix step builds every subset of them.
const OPTIONAL_FEATURES: [&str; 4] = ["websocket", "tls", "blocking", "experimental"];

/// The packages (and the feature) of the `--features experimental` build and tests.
const EXPERIMENTAL_PACKAGES: [&str; 6] = [
    "-p",
    "codex-client-protocol",
    "-p",
    "codex-client",
    "--features",
    "codex-client/experimental",
];

/// Runs every check in order.
pub fn run(workspace: &Path) -> Result<()> {
    println!("==> pinned codex runtime");
    let bin = runtime::install(workspace)?;
    println!("    {}", bin.display());

    run_step(
        "cargo fmt --check",
        cargo()
            .current_dir(workspace)
            .args(["fmt", "--all", "--", "--check"]),
    )?;
    run_step(
        "cargo clippy --features full (all targets, warnings are errors)",
        cargo()
            .current_dir(workspace)
            .args(["clippy", "--workspace", "--all-targets", "--locked"])
            .args(FULL)
            .args(["--", "-D", "warnings"]),
    )?;

    feature_matrix(workspace)?;

    run_step(
        "cargo clippy --features experimental (the experimental API typed; warnings are errors)",
        cargo()
            .current_dir(workspace)
            .args(["clippy", "--locked", "--all-targets"])
            .args(EXPERIMENTAL_PACKAGES)
            .args(["--", "-D", "warnings"]),
    )?;

    println!("\n==> codegen drift check");
    codegen::run(workspace, true)?;
    println!("\n==> schema drift check");
    schema::run(workspace, true)?;

    run_step(
        "cargo doc --features full (warnings are errors)",
        cargo()
            .current_dir(workspace)
            .env("RUSTDOCFLAGS", "-D warnings")
            .args(["doc", "--workspace", "--no-deps", "--locked"])
            .args(FULL),
    )?;

    msrv_check(workspace)?;

    // Build everything the tests need while the network is still there.
    run_step(
        "build the test binaries",
        cargo()
            .current_dir(workspace)
            .args(["test", "--workspace", "--locked", "--no-run"])
            .args(FULL),
    )?;

    // The getting-started runtime recipe, as a user runs it (needs PyPI or pip's cache, so
    // before the loopback-only phase), and the SDK finding its binary the documented ways.
    println!("\n==> the user runtime recipe (docs/getting-started.md)");
    runtime::check_user_recipe(workspace)?;

    // The Python side's venv (the exact pins, from PyPI) and its wheel (maturin, release), built
    // while the network is still there; its pytest suite runs below, loopback only.
    python::setup(workspace)?;
    // The generated wire models are what the pinned generator makes of the pinned schema.
    println!("\n==> Python models drift check");
    py_models::run(workspace, true)?;
    python::build(workspace)?;

    let mut tests = cargo();
    tests
        .current_dir(workspace)
        .env("CODEX_BIN", &bin)
        .env("CODEX_CLIENT_REQUIRE_APP_SERVER", "1")
        .args(["test", "--workspace", "--locked", "--offline"])
        .args(FULL);
    let mut tests = match loopback_only_wrapper() {
        Some(wrapper) => {
            println!(
                "\n(the tests run in a loopback-only network namespace: `{}`)",
                wrapper.join(" ")
            );
            wrap(&wrapper, &tests)
        }
        None => {
            println!(
                "\nWARNING: cannot create a loopback-only network namespace here (`unshare --net` and `ip` are needed); \
                 the tests run with the machine's network. They only ever contact 127.0.0.1."
            );
            tests
        }
    };
    run_step(
        "cargo test --features full (the real app-server tests are required)",
        &mut tests,
    )?;
    // The transports' unit tests once more without any feature: a `ws://` or `wss://` URL whose
    // transport is not compiled in is refused naming the feature, `unix://` works regardless.
    let mut bare = cargo();
    bare.current_dir(workspace)
        .args([
            "test",
            "-p",
            "codex-client",
            "--lib",
            "--locked",
            "--offline",
        ])
        .args(["--", "transport::"]);
    let mut bare = match loopback_only_wrapper() {
        Some(wrapper) => wrap(&wrapper, &bare),
        None => bare,
    };
    run_step(
        "cargo test -p codex-client --lib transport (no optional feature)",
        &mut bare,
    )?;
    // The same crates again with the experimental API typed (the feature changes types).
    let mut experimental = cargo();
    experimental
        .current_dir(workspace)
        .env("CODEX_BIN", &bin)
        .env("CODEX_CLIENT_REQUIRE_APP_SERVER", "1")
        .args(["test", "--locked", "--offline"])
        .args(EXPERIMENTAL_PACKAGES);
    let mut experimental = match loopback_only_wrapper() {
        Some(wrapper) => wrap(&wrapper, &experimental),
        None => experimental,
    };
    run_step("cargo test --features experimental", &mut experimental)?;
    // The Python bindings' suite, against the wheel just built and the venv's runtime; fails on a
    // failed test and on a run that tested nothing (no test collected, or all skipped).
    let pytest = python::test_command(workspace, &[]);
    let mut pytest = match loopback_only_wrapper() {
        Some(wrapper) => wrap(&wrapper, &pytest),
        None => pytest,
    };
    python::run_tests(workspace, &mut pytest)?;
    // The demo, as a newcomer runs it, in the same network arrangement as the tests.
    let demo = demo::command(workspace, &bin, true);
    let mut demo = match loopback_only_wrapper() {
        Some(wrapper) => wrap(&wrapper, &demo),
        None => demo,
    };
    run_step("cargo xtask demo (offline; must exit 0)", &mut demo)?;
    crate::bench::run(workspace, &["--quick".to_owned()])?; // smoke test: works, loses nothing
    println!("\nxtask test: all checks passed");
    Ok(())
}

/// Builds `codex-client` (all targets; a target whose `required-features` are off is skipped by
/// cargo) with every subset of [`OPTIONAL_FEATURES`], none skipped, so that no combination a
/// user may choose fails to compile.
fn feature_matrix(workspace: &Path) -> Result<()> {
    println!(
        "\n==> feature matrix: cargo check -p codex-client --all-targets, {} combinations",
        1 << OPTIONAL_FEATURES.len()
    );
    let started = std::time::Instant::now();
    for combo in feature_combinations(&OPTIONAL_FEATURES) {
        let features = combo.join(",");
        let mut check = cargo();
        check
            .current_dir(workspace)
            .args(["check", "-p", "codex-client", "--all-targets", "--locked"])
            .args(["--no-default-features", "--features", &features]);
        let shown = if features.is_empty() {
            "(none)"
        } else {
            features.as_str()
        };
        run_step(&format!("cargo check, features: {shown}"), &mut check)?;
    }
    println!("    feature matrix: {:.0?}", started.elapsed());
    Ok(())
}

/// Every subset of `features`, the empty one first, each in the order of `features`.
fn feature_combinations<'a>(features: &[&'a str]) -> Vec<Vec<&'a str>> {
    (0..1u32 << features.len())
        .map(|mask| {
            features
                .iter()
                .enumerate()
                .filter(|(i, _)| mask & (1 << i) != 0)
                .map(|(_, f)| *f)
                .collect()
        })
        .collect()
}

/// Checks the workspace with the declared MSRV toolchain (`rust-version` of the root manifest)
/// when rustup has it installed; says loudly that it is skipped, and why, when it has not. (The
/// clippy step's `incompatible_msrv` lint checks std API use against `rust-version` either way.)
fn msrv_check(workspace: &Path) -> Result<()> {
    let manifest = std::fs::read_to_string(workspace.join("Cargo.toml"))?;
    let msrv = crate::manifest::workspace_package_field(&manifest, "rust-version")?;
    let listed = Command::new("rustup")
        .args(["toolchain", "list"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned());
    let Some(listed) = listed else {
        println!(
            "\n==> MSRV check SKIPPED: `rustup toolchain list` does not run here, so no Rust {msrv} \
             toolchain can be found (clippy's incompatible_msrv lint still checked std API use)"
        );
        return Ok(());
    };
    let Some(toolchain) = msrv_toolchain(&listed, &msrv) else {
        let names: Vec<&str> = listed
            .lines()
            .filter_map(|l| l.split_whitespace().next())
            .collect();
        println!(
            "\n==> MSRV check SKIPPED: no Rust {msrv} toolchain is installed (rustup has: {}). \
             Install it with `rustup toolchain install {msrv} --profile minimal` to enable this \
             step; clippy's incompatible_msrv lint still checked std API use against {msrv}.",
            names.join(", ")
        );
        return Ok(());
    };
    let mut check = Command::new("rustup");
    check
        .current_dir(workspace)
        .args(["run", &toolchain, "cargo", "check"])
        .args(["--workspace", "--all-targets", "--locked"])
        .args(FULL);
    // The outer cargo's choices must not leak into the MSRV toolchain's build.
    for var in ["CARGO", "RUSTC", "RUSTDOC", "RUSTUP_TOOLCHAIN"] {
        check.env_remove(var);
    }
    run_step(
        &format!("MSRV check: cargo check with Rust {msrv} ({toolchain})"),
        &mut check,
    )
}

/// The installed toolchain (a line of `rustup toolchain list`) that is Rust `msrv`: `1.88`,
/// `1.88.0`, `1.88-<host>` or `1.88.0-<host>`; the newest patch release when there are several.
fn msrv_toolchain(listed: &str, msrv: &str) -> Option<String> {
    let mut best: Option<(u64, String)> = None;
    for name in listed.lines().filter_map(|l| l.split_whitespace().next()) {
        let version = name.split('-').next().unwrap_or(name);
        let Some(rest) = version.strip_prefix(msrv) else {
            continue;
        };
        let patch = match rest.strip_prefix('.') {
            None if rest.is_empty() => u64::MAX, // `1.88` tracks the newest 1.88.x
            Some(p) if !p.contains('.') && msrv.matches('.').count() == 1 => match p.parse() {
                Ok(p) => p,
                Err(_) => continue,
            },
            _ => continue,
        };
        if best.as_ref().is_none_or(|(b, _)| patch > *b) {
            best = Some((patch, name.to_string()));
        }
    }
    best.map(|(_, name)| name)
}

/// The `unshare` prefix that gives a fresh network namespace with only `lo` up, if this machine
/// can make one (as root directly, otherwise as a mapped user namespace).
pub fn loopback_only_wrapper() -> Option<Vec<String>> {
    let probes: [&[&str]; 2] = [
        &["unshare", "--net"],
        &["unshare", "--map-root-user", "--net"],
    ];
    for prefix in probes {
        let ok = Command::new(prefix[0])
            .args(&prefix[1..])
            .args([
                "sh",
                "-c",
                "ip link set lo up && grep -q lo: /proc/self/net/dev",
            ])
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false);
        if ok {
            return Some(prefix.iter().map(|s| s.to_string()).collect());
        }
    }
    None
}

/// `wrapper... sh -c 'ip link set lo up && exec "$@"' sh <cmd...>` with `cmd`'s env and cwd.
pub fn wrap(wrapper: &[String], cmd: &Command) -> Command {
    let mut wrapped = Command::new(&wrapper[0]);
    wrapped.args(&wrapper[1..]);
    wrapped.args(["sh", "-c", "ip link set lo up && exec \"$@\"", "sh"]);
    wrapped.arg(cmd.get_program());
    wrapped.args(cmd.get_args());
    for (key, value) in cmd.get_envs() {
        match value {
            Some(value) => wrapped.env(key, value),
            None => wrapped.env_remove(key),
        };
    }
    if let Some(dir) = cmd.get_current_dir() {
        wrapped.current_dir(dir);
    }
    wrapped
}

#[cfg(test)]
mod tests {
    use super::{OPTIONAL_FEATURES, feature_combinations, msrv_toolchain};

    #[test]
    fn the_feature_matrix_has_every_subset_once() {
        let combos = feature_combinations(&OPTIONAL_FEATURES);
        assert_eq!(combos.len(), 16);
        assert_eq!(combos[0], Vec::<&str>::new());
        assert!(combos.contains(&vec!["websocket", "tls", "blocking", "experimental"]));
        assert!(combos.contains(&vec!["tls", "experimental"]));
        let mut unique = combos.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), combos.len());
    }

    const HERE: &str = "stable-x86_64-unknown-linux-gnu (active, default)\n\
                        nightly-x86_64-unknown-linux-gnu\n\
                        1.95.0-x86_64-unknown-linux-gnu\n";

    #[test]
    fn the_msrv_toolchain_is_found_by_version_only() {
        assert_eq!(msrv_toolchain(HERE, "1.88"), None);
        assert_eq!(
            msrv_toolchain(HERE, "1.95").as_deref(),
            Some("1.95.0-x86_64-unknown-linux-gnu")
        );
        let with =
            format!("{HERE}1.88.0-x86_64-unknown-linux-gnu\n1.88.1-x86_64-unknown-linux-gnu\n");
        assert_eq!(
            msrv_toolchain(&with, "1.88").as_deref(),
            Some("1.88.1-x86_64-unknown-linux-gnu")
        );
        assert_eq!(
            msrv_toolchain("1.88-x86_64-unknown-linux-gnu\n1.88.0\n", "1.88").as_deref(),
            Some("1.88-x86_64-unknown-linux-gnu")
        );
        // 1.8 is not 1.88, and 1.880 is not 1.88.
        assert_eq!(msrv_toolchain("1.88.0-x86_64\n1.880.0\n", "1.8"), None);
        assert_eq!(msrv_toolchain("1.880.0-x86_64\n", "1.88"), None);
        // An MSRV with a patch number matches exactly.
        assert_eq!(
            msrv_toolchain("1.88.1-x\n1.88.0-x\n", "1.88.0").as_deref(),
            Some("1.88.0-x")
        );
    }
}

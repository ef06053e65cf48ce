//! `cargo xtask test`: the project's one gate, run as written by CI (`.ci/run`) and by developers.
//!
//! It fails on the first failing step. The tests that need the real app-server are required here:
//! the pinned runtime is installed when missing, and `CODEX_CLIENT_REQUIRE_APP_SERVER=1` turns
//! their "binary not found, skipping" into a failure. Everything that needs the network (crates,
//! the runtime) is fetched and built first; the test phase then runs inside a loopback-only
//! network namespace when the machine allows one, so no test can reach anything but 127.0.0.1.

use crate::util::{cargo, run_step};
use crate::{codegen, demo, runtime, schema};
use anyhow::Result;
use std::path::Path;
use std::process::Command;

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
        "cargo clippy (all targets, warnings are errors)",
        cargo().current_dir(workspace).args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--locked",
            "--",
            "-D",
            "warnings",
        ]),
    )?;

    println!("\n==> codegen drift check");
    codegen::run(workspace, true)?;
    println!("\n==> schema drift check");
    schema::run(workspace, true)?;

    run_step(
        "cargo doc (warnings are errors)",
        cargo()
            .current_dir(workspace)
            .env("RUSTDOCFLAGS", "-D warnings")
            .args(["doc", "--workspace", "--no-deps", "--locked"]),
    )?;

    // Build everything the tests need while the network is still there.
    run_step(
        "build the test binaries",
        cargo()
            .current_dir(workspace)
            .args(["test", "--workspace", "--locked", "--no-run"]),
    )?;

    let mut tests = cargo();
    tests
        .current_dir(workspace)
        .env("CODEX_BIN", &bin)
        .env("CODEX_CLIENT_REQUIRE_APP_SERVER", "1")
        .args(["test", "--workspace", "--locked", "--offline"]);
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
        "cargo test (the real app-server tests are required)",
        &mut tests,
    )?;
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

/// The `unshare` prefix that gives a fresh network namespace with only `lo` up, if this machine
/// can make one (as root directly, otherwise as a mapped user namespace).
fn loopback_only_wrapper() -> Option<Vec<String>> {
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
fn wrap(wrapper: &[String], cmd: &Command) -> Command {
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

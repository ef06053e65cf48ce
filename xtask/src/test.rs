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
        "cargo doc (warnings are errors)",
        cargo()
            .current_dir(workspace)
            .env("RUSTDOCFLAGS", "-D warnings")
            .args(["doc", "--workspace", "--no-deps", "--locked"]),
    )?;

    msrv_check(workspace)?;

    // Build everything the tests need while the network is still there.
    run_step(
        "build the test binaries",
        cargo()
            .current_dir(workspace)
            .args(["test", "--workspace", "--locked", "--no-run"]),
    )?;

    // The getting-started runtime recipe, as a user runs it (needs PyPI or pip's cache, so
    // before the loopback-only phase), and the SDK finding its binary the documented ways.
    println!("\n==> the user runtime recipe (docs/getting-started.md)");
    runtime::check_user_recipe(workspace)?;

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
        .args(["--workspace", "--all-targets", "--locked"]);
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

#[cfg(test)]
mod tests {
    use super::msrv_toolchain;

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

//! `cargo xtask demo`: the first thing to run on a fresh clone. It shows what the SDK does
//! against the real `codex app-server` and a mock model on 127.0.0.1 — no account, no network
//! after the runtime is installed.
//!
//! The demo itself is an example of the SDK (`crates/codex-client/examples/offline_demo/`), so
//! that CI compiles it with every other example and this crate does not depend on the SDK (xtask
//! must keep working, e.g. for `codegen`, when the SDK does not build). This module only
//! installs the pinned runtime when it is missing and runs the example with `CODEX_BIN` pointing
//! at it.

use crate::runtime;
use crate::util::{cargo, describe};
use anyhow::{Context, Result, bail};
use std::path::Path;
use std::process::Command;

/// The example that is the demo.
const EXAMPLE: &str = "offline_demo";

/// Installs the runtime if needed, then builds and runs the demo (network allowed: the first
/// build may fetch crates).
pub fn run(workspace: &Path) -> Result<()> {
    let bin = runtime::install(workspace)?;
    let mut cmd = command(workspace, &bin, false);
    println!("xtask: $ {}\n", describe(&cmd));
    let status = cmd
        .status()
        .with_context(|| format!("could not start `{}`", describe(&cmd)))?;
    if !status.success() {
        bail!("the demo did not go as expected ({status})");
    }
    Ok(())
}

/// The command that runs the demo against `bin`. `offline`: do not let cargo touch the network
/// (the demo must already be built), for `cargo xtask test`'s loopback-only namespace.
pub fn command(workspace: &Path, bin: &Path, offline: bool) -> Command {
    let mut cmd = cargo();
    cmd.current_dir(workspace).env("CODEX_BIN", bin).args([
        "run",
        "--quiet",
        "--locked",
        "-p",
        "codex-client",
        "--example",
        EXAMPLE,
    ]);
    if offline {
        cmd.arg("--offline");
    }
    cmd
}

//! `cargo xtask soak [--minutes N] [--seed S]`: the soak test (RELIABILITY.md), not part of
//! `cargo test`. Hundreds of turns over one connection against the real app-server and the test
//! kit's mock model — random interrupts, approvals accepted and declined, handles dropped
//! mid-turn — with the client's and the server's RSS sampled over time; it fails if the router's
//! tables are not empty at the end or the client's RSS keeps growing. Release build; the pinned
//! runtime is installed when missing and required.

use crate::runtime;
use crate::util::{cargo, run_step};
use anyhow::{Context, Result, bail};
use std::path::Path;

pub fn run(workspace: &Path, args: &[String]) -> Result<()> {
    let mut minutes: f64 = 5.0;
    let mut seed: u64 = 7;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--minutes" => {
                minutes = args
                    .next()
                    .context("--minutes needs a value")?
                    .parse()
                    .context("--minutes: a number")?;
            }
            "--seed" => {
                seed = args
                    .next()
                    .context("--seed needs a value")?
                    .parse()
                    .context("--seed: an integer")?;
            }
            other => bail!("usage: cargo xtask soak [--minutes N] [--seed S] (unknown `{other}`)"),
        }
    }
    if minutes <= 0.0 {
        bail!("--minutes must be positive");
    }
    let bin = runtime::install(workspace)?;
    let seconds = (minutes * 60.0).round() as u64;
    run_step(
        &format!("soak: {minutes} minute(s) against the real app-server (seed {seed})"),
        cargo()
            .current_dir(workspace)
            .env("CODEX_BIN", &bin)
            .env("CODEX_CLIENT_REQUIRE_APP_SERVER", "1")
            .env("SOAK_SECONDS", seconds.to_string())
            .env("SOAK_SEED", seed.to_string())
            .args([
                "test",
                "--release",
                "-p",
                "codex-client",
                "--test",
                "soak",
                "--",
                "--ignored",
                "--nocapture",
                "--test-threads",
                "1",
            ]),
    )
}

//! `cargo xtask codegen [--check]`: generates `crates/codex-client-protocol/src/generated/` from
//! the pinned schema in `crates/codex-client-protocol/schema/`.
//!
//! A purpose-built generator rather than typify: it knows this schema's conventions (tagged
//! unions with sibling properties, string-or-object unions, method-tagged envelopes, per-variant
//! titles) and emits forward-compatible types (`Unknown` variants that keep the raw data).
//!
//! | module | job |
//! |---|---|
//! | `load` | read the schema files, dedupe definitions by name (copies must agree), method lists |
//! | `model` | classify every definition into a Rust shape, name inline types |
//! | `emit` | Rust source for the model, method markers, notification/server-request enums |
//! | `samples` | `union_tests.rs`: a sample of every union variant, built from the schema, and the test that it decodes to that variant |
//! | `names`, `docs` | identifier case conversion, description → safe rustdoc |
//!
//! The output goes through `rustfmt --edition 2024`, so it is stable and `cargo fmt --check`
//! accepts it. `--check` regenerates in memory and fails listing the stale files.

mod blocking;
mod docs;
mod emit;
mod load;
mod model;
mod names;
mod samples;

use anyhow::{Context, Result, bail};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

/// Generate the protocol types; with `check`, fail when the checked-in output is stale.
pub fn run(workspace: &Path, check: bool) -> Result<()> {
    blocking::run(workspace, check)?;
    let crate_dir = workspace.join("crates/codex-client-protocol");
    let out_dir = crate_dir.join("src/generated");
    let stable = model::build(load::load(&crate_dir.join("schema"))?)?;
    let experimental = model::build(
        load::load(&crate_dir.join("schema-experimental"))
            .context("the experimental bundle (schema-experimental/)")?,
    )
    .context("the experimental bundle (schema-experimental/)")?;
    let files = emit::all(&stable, &experimental)?;
    let mut formatted = Vec::new();
    for (name, text) in &files {
        formatted.push((
            name.clone(),
            rustfmt(text).with_context(|| format!("formatting {name}"))?,
        ));
    }
    let mut stale = Vec::new();
    for (name, text) in &formatted {
        let path = out_dir.join(name);
        let current = std::fs::read_to_string(&path).ok();
        if current.as_deref() != Some(text.as_str()) {
            stale.push(name.clone());
        }
    }
    let expected: Vec<&str> = formatted.iter().map(|(n, _)| n.as_str()).collect();
    let mut extra = Vec::new();
    if let Ok(entries) = std::fs::read_dir(&out_dir) {
        for e in entries {
            let name = e?.file_name().to_string_lossy().into_owned();
            if !expected.contains(&name.as_str()) {
                extra.push(name);
            }
        }
    }
    extra.sort();
    if check {
        if stale.is_empty() && extra.is_empty() {
            println!("codegen: {} is up to date", out_dir.display());
            return Ok(());
        }
        let mut msg =
            String::from("the generated protocol code is stale; run `cargo xtask codegen`\n");
        for s in &stale {
            msg.push_str(&format!("  differs: src/generated/{s}\n"));
        }
        for s in &extra {
            msg.push_str(&format!("  not generated (remove it): src/generated/{s}\n"));
        }
        bail!("{msg}");
    }
    std::fs::create_dir_all(&out_dir)?;
    for (name, text) in &formatted {
        std::fs::write(out_dir.join(name), text)?;
    }
    for name in &extra {
        std::fs::remove_file(out_dir.join(name))?;
    }
    println!(
        "codegen: wrote {} files to {} ({} changed)",
        formatted.len(),
        out_dir.display(),
        stale.len()
    );
    Ok(())
}

fn rustfmt(text: &str) -> Result<String> {
    let mut child = Command::new("rustfmt")
        .args(["--edition", "2024", "--emit", "stdout", "--quiet"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("could not start rustfmt (install it with `rustup component add rustfmt`)")?;
    let mut stdin = child.stdin.take().context("rustfmt stdin")?;
    let input = text.to_string();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out = child.wait_with_output()?;
    writer
        .join()
        .map_err(|_| anyhow::anyhow!("rustfmt writer panicked"))??;
    if !out.status.success() {
        bail!("rustfmt failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(String::from_utf8(out.stdout)?)
}

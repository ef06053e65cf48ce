//! `cargo xtask codegen [--check]`: generates `crates/codex-client-protocol/src/generated/` and
//! `crates/codex-client/src/server_requests/generated.rs` from the pinned schemas in
//! `crates/codex-client-protocol/schema*/`.
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
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Generate the protocol types; with `check`, fail when the checked-in output is stale.
pub fn run(workspace: &Path, check: bool) -> Result<()> {
    blocking::run(workspace, check)?;
    let crate_dir = workspace.join("crates/codex-client-protocol");
    let stable = model::build(load::load(&crate_dir.join("schema"))?)?;
    let experimental = model::build(
        load::load(&crate_dir.join("schema-experimental"))
            .context("the experimental bundle (schema-experimental/)")?,
    )
    .context("the experimental bundle (schema-experimental/)")?;
    let outputs = [
        Output {
            dir: crate_dir.join("src/generated"),
            files: emit::all(&stable, &experimental)?,
            owns_dir: true,
        },
        Output {
            dir: workspace.join("crates/codex-client/src/server_requests"),
            files: emit::client_files(&stable, &experimental)?,
            owns_dir: false,
        },
    ];
    let mut plans = Vec::new();
    for output in outputs {
        plans.push(plan(workspace, output)?);
    }
    if check {
        let problems: Vec<&String> = plans.iter().flat_map(|p| &p.problems).collect();
        if problems.is_empty() {
            for p in &plans {
                println!("codegen: {} is up to date", p.dir.display());
            }
            return Ok(());
        }
        let mut msg = String::from("the generated code is stale; run `cargo xtask codegen`\n");
        for s in problems {
            msg.push_str(&format!("  {s}\n"));
        }
        bail!("{msg}");
    }
    for p in &plans {
        std::fs::create_dir_all(&p.dir)?;
        for (name, text) in &p.files {
            std::fs::write(p.dir.join(name), text)?;
        }
        for name in &p.extra {
            std::fs::remove_file(p.dir.join(name))?;
        }
        println!(
            "codegen: wrote {} files to {} ({} changed)",
            p.files.len(),
            p.dir.display(),
            p.problems.len()
        );
    }
    Ok(())
}

/// Generated files for one directory. A directory the generator owns holds nothing else: a
/// file there it did not write is stale too.
struct Output {
    dir: PathBuf,
    files: BTreeMap<String, String>,
    owns_dir: bool,
}

/// An output formatted and compared with what is checked in.
struct Plan {
    dir: PathBuf,
    files: Vec<(String, String)>,
    extra: Vec<String>,
    /// One line per stale file, its path relative to the workspace.
    problems: Vec<String>,
}

fn plan(workspace: &Path, output: Output) -> Result<Plan> {
    let rel = output
        .dir
        .strip_prefix(workspace)
        .unwrap_or(&output.dir)
        .display()
        .to_string();
    let mut files = Vec::new();
    let mut problems = Vec::new();
    for (name, text) in &output.files {
        let text = rustfmt(text).with_context(|| format!("formatting {rel}/{name}"))?;
        let current = std::fs::read_to_string(output.dir.join(name)).ok();
        if current.as_deref() != Some(text.as_str()) {
            problems.push(format!("differs: {rel}/{name}"));
        }
        files.push((name.clone(), text));
    }
    let mut extra = Vec::new();
    if output.owns_dir
        && let Ok(entries) = std::fs::read_dir(&output.dir)
    {
        for e in entries {
            let name = e?.file_name().to_string_lossy().into_owned();
            if !output.files.contains_key(&name) {
                problems.push(format!("not generated (remove it): {rel}/{name}"));
                extra.push(name);
            }
        }
    }
    extra.sort();
    problems.sort();
    Ok(Plan {
        dir: output.dir,
        files,
        extra,
        problems,
    })
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

//! `cargo xtask schema [--check]`: the pinned JSON schema bundles, regenerated from the runtime.
//!
//! `crates/codex-client-protocol/schema/` is exactly the output of the pinned binary's
//! `codex app-server generate-json-schema --out DIR`, and `schema-experimental/` of the same
//! command with `--experimental` (the stable protocol plus the experimental methods and fields,
//! which the protocol crate types behind its `experimental` feature). `--check` regenerates both
//! into a scratch directory and fails on any difference, so neither can drift from the runtime.

use crate::runtime;
use anyhow::{Context, Result, bail};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The two bundles: directory under the protocol crate, and whether it is the experimental one.
pub const BUNDLES: [(&str, bool); 2] = [("schema", false), ("schema-experimental", true)];

/// Regenerates both schema bundles (or, with `check`, compares them with a fresh generation).
pub fn run(workspace: &Path, check: bool) -> Result<()> {
    let bin = runtime::install(workspace)?;
    let mut failures = Vec::new();
    for (dir, experimental) in BUNDLES {
        if let Err(e) = run_one(workspace, &bin, dir, experimental, check) {
            failures.push(format!("{e:#}"));
        }
    }
    if failures.is_empty() {
        Ok(())
    } else {
        bail!("{}", failures.join("\n"))
    }
}

fn run_one(workspace: &Path, bin: &Path, dir: &str, experimental: bool, check: bool) -> Result<()> {
    let scratch = tempdir(workspace)?;
    generate_bundle(bin, &scratch, experimental)?;
    let checked_in = workspace.join("crates/codex-client-protocol").join(dir);
    let fresh = read_tree(&scratch)?;
    let result = if check {
        let current = read_tree(&checked_in)?;
        let diffs = diff_trees(&current, &fresh);
        if diffs.is_empty() {
            println!("xtask: {dir}/ is up to date ({} files)", fresh.len());
            Ok(())
        } else {
            Err(anyhow::anyhow!(
                "the checked-in {dir}/ differs from `codex app-server generate-json-schema{}` of the pinned runtime:\n  {}\nrun `cargo xtask schema` and then `cargo xtask codegen`",
                if experimental { " --experimental" } else { "" },
                diffs.join("\n  ")
            ))
        }
    } else {
        if checked_in.exists() {
            std::fs::remove_dir_all(&checked_in)?;
        }
        for (rel, bytes) in &fresh {
            let path = checked_in.join(rel);
            std::fs::create_dir_all(path.parent().expect("file has a parent"))?;
            std::fs::write(&path, bytes)?;
        }
        println!(
            "xtask: wrote {} schema files to {}",
            fresh.len(),
            checked_in.display()
        );
        Ok(())
    };
    let _ = std::fs::remove_dir_all(&scratch);
    result
}

/// Runs `codex app-server generate-json-schema --out dir` with a throwaway CODEX_HOME.
pub fn generate(bin: &Path, dir: &Path) -> Result<()> {
    generate_bundle(bin, dir, false)
}

/// [`generate`], with `--experimental` when asked (experimental methods and fields included).
pub fn generate_bundle(bin: &Path, dir: &Path, experimental: bool) -> Result<()> {
    let home = dir.with_extension("home");
    std::fs::create_dir_all(&home)?;
    let mut command = Command::new(bin);
    command.args(["app-server", "generate-json-schema"]);
    if experimental {
        command.arg("--experimental");
    }
    let out = command
        .arg("--out")
        .arg(dir)
        .env("CODEX_HOME", &home)
        .output()
        .with_context(|| format!("running {}", bin.display()))?;
    let _ = std::fs::remove_dir_all(&home);
    if !out.status.success() {
        bail!(
            "generate-json-schema failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

fn tempdir(workspace: &Path) -> Result<PathBuf> {
    let dir = workspace
        .join("target")
        .join("xtask-scratch")
        .join(format!("schema-{}", std::process::id()));
    if dir.exists() {
        std::fs::remove_dir_all(&dir)?;
    }
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// Every file under `root`, keyed by its path relative to `root`.
pub fn read_tree(root: &Path) -> Result<BTreeMap<PathBuf, Vec<u8>>> {
    let mut files = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in
            std::fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))?
        {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(root).expect("under root").to_path_buf();
                files.insert(rel, std::fs::read(&path)?);
            }
        }
    }
    Ok(files)
}

/// Human-readable differences between two file trees (missing, extra, changed).
pub fn diff_trees(
    current: &BTreeMap<PathBuf, Vec<u8>>,
    fresh: &BTreeMap<PathBuf, Vec<u8>>,
) -> Vec<String> {
    let mut diffs = Vec::new();
    for (rel, bytes) in fresh {
        match current.get(rel) {
            None => diffs.push(format!("missing: {}", rel.display())),
            Some(old) if old != bytes => diffs.push(format!("changed: {}", rel.display())),
            Some(_) => {}
        }
    }
    for rel in current.keys() {
        if !fresh.contains_key(rel) {
            diffs.push(format!("extra: {}", rel.display()));
        }
    }
    diffs
}

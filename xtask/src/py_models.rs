//! `cargo xtask py-models [--check]`: the generated part of the Python package,
//! `crates/codex-client-py/python/codex_client/generated/`, from the pinned stable v2 schema.
//!
//! The work is done by `crates/codex-client-py/scripts/generate_models.py` (schema pre-pass,
//! datamodel-code-generator, post-pass, notification registry), run with the Python of
//! `CODEX_PY_GEN_PYTHON`, else `target/py-venv/bin/python`; that interpreter needs
//! `crates/codex-client-py/scripts/requirements.txt` (the pinned generator and formatter).
//! `--check` generates into a scratch directory under `target/` and fails, listing the files,
//! when the checked-in `generated/` differs from it (a file changed, missing or left over).

use crate::util;
use anyhow::{Context, Result, bail};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

const SCRIPT: &str = "crates/codex-client-py/scripts/generate_models.py";
const REQUIREMENTS: &str = "crates/codex-client-py/scripts/requirements.txt";
const GENERATED: &str = "crates/codex-client-py/python/codex_client/generated";

/// Regenerates `generated/` (or, with `check`, fails when it is stale).
pub fn run(workspace: &Path, check: bool) -> Result<()> {
    let python = python(workspace)?;
    let checked_in = workspace.join(GENERATED);
    if !check {
        return util::run_step(
            "generate the Python models",
            Command::new(&python)
                .arg(workspace.join(SCRIPT))
                .arg("--out-dir")
                .arg(&checked_in),
        );
    }
    let scratch = workspace.join("target/py-models-check");
    if scratch.exists() {
        std::fs::remove_dir_all(&scratch)?;
    }
    std::fs::create_dir_all(&scratch)?;
    util::run_step(
        "generate the Python models into a scratch directory",
        Command::new(&python)
            .arg(workspace.join(SCRIPT))
            .arg("--out-dir")
            .arg(&scratch),
    )?;
    let fresh = read_py_files(&scratch)?;
    let current = read_py_files(&checked_in)?;
    let mut stale = Vec::new();
    for (name, bytes) in &fresh {
        match current.get(name) {
            None => stale.push(format!("{name} (missing)")),
            Some(old) if old != bytes => stale.push(format!("{name} (differs)")),
            Some(_) => {}
        }
    }
    stale.extend(
        current
            .keys()
            .filter(|name| !fresh.contains_key(*name))
            .map(|name| format!("{name} (not generated any more)")),
    );
    std::fs::remove_dir_all(&scratch)?;
    if stale.is_empty() {
        println!("xtask: {GENERATED}/ is up to date ({} files)", fresh.len());
        Ok(())
    } else {
        bail!(
            "the checked-in {GENERATED}/ is stale:\n  {}\nrun `cargo xtask py-models`",
            stale.join("\n  ")
        )
    }
}

/// The interpreter that runs the generator: `CODEX_PY_GEN_PYTHON`, else the project venv's.
fn python(workspace: &Path) -> Result<PathBuf> {
    if let Some(p) = std::env::var_os("CODEX_PY_GEN_PYTHON") {
        return Ok(PathBuf::from(p));
    }
    let venv = workspace.join("target/py-venv");
    let python = if cfg!(windows) {
        venv.join("Scripts/python.exe")
    } else {
        venv.join("bin/python")
    };
    if !python.exists() {
        bail!(
            "no Python at {} (set CODEX_PY_GEN_PYTHON, or make the venv: \
             `python3 -m venv target/py-venv && target/py-venv/bin/pip install -r {REQUIREMENTS}`)",
            python.display()
        );
    }
    Ok(python)
}

/// The `*.py` files directly in `dir`, by name (a missing `dir` has none).
fn read_py_files(dir: &Path) -> Result<BTreeMap<String, Vec<u8>>> {
    let mut out = BTreeMap::new();
    if !dir.exists() {
        return Ok(out);
    }
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.is_file() && path.extension().is_some_and(|e| e == "py") {
            let name = path.file_name().expect("a file has a name");
            out.insert(name.to_string_lossy().into_owned(), std::fs::read(&path)?);
        }
    }
    Ok(out)
}

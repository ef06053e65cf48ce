//! `cargo xtask bump-codex <version> [--no-test]`: move the project to another Codex runtime.
//!
//! One command for the whole workflow: install that runtime, regenerate the schema and the types,
//! update the pin (its one home, `CODEX_VERSION`, and the crates' versions that follow it), run the
//! test gate, and print the protocol drift for the CHANGELOG (also written to
//! `target/codex-drift-<old>-to-<new>.md`).

use crate::{codegen, drift, runtime, schema, test};
use anyhow::{Context, Result, bail};
use std::path::Path;

/// Runs the bump; `run_tests` runs `cargo xtask test` at the end.
pub fn run(workspace: &Path, version: &str, run_tests: bool) -> Result<()> {
    if version.is_empty()
        || !version
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".-".contains(c))
    {
        bail!("`{version}` does not look like a Codex version (e.g. 0.163.0)");
    }
    let old_version = runtime::pinned_version(workspace)?;
    let schema_dir = workspace.join("crates/codex-client-protocol/schema");
    let (scratch, summary) = schema_of(workspace, version)?;

    // The schema, then the pin, then the generated code.
    std::fs::remove_dir_all(&schema_dir)?;
    copy_tree(&scratch, &schema_dir)?;
    std::fs::remove_dir_all(&scratch)?;
    std::fs::write(
        workspace.join("crates/codex-client-protocol/CODEX_VERSION"),
        format!("{version}\n"),
    )?;
    set_crate_versions(workspace, &old_version, version)?;
    codegen::run(workspace, false)?;
    crate::util::run_step(
        "refresh Cargo.lock for the new crate versions",
        crate::util::cargo()
            .current_dir(workspace)
            .args(["update", "--workspace", "--offline"]),
    )
    .or_else(|_| {
        crate::util::run_step(
            "refresh Cargo.lock for the new crate versions (online)",
            crate::util::cargo()
                .current_dir(workspace)
                .args(["update", "--workspace"]),
        )
    })?;

    let report = workspace.join(format!("target/codex-drift-{old_version}-to-{version}.md"));
    std::fs::write(&report, &summary)?;
    println!("\n{summary}\n(written to {})", report.display());
    if run_tests {
        test::run(workspace)?;
    }
    println!("xtask: the project is now pinned to Codex {version}");
    Ok(())
}

/// Prints the drift from the pinned schema to `version`'s, changing nothing in the workspace.
pub fn print_drift(workspace: &Path, version: &str) -> Result<()> {
    let (scratch, summary) = schema_of(workspace, version)?;
    std::fs::remove_dir_all(&scratch)?;
    println!("{summary}");
    Ok(())
}

/// Installs `version` when needed, generates its schema into a scratch directory, and returns
/// that directory with the drift summary from the pinned schema.
fn schema_of(workspace: &Path, version: &str) -> Result<(std::path::PathBuf, String)> {
    let old_version = runtime::pinned_version(workspace)?;
    let bin = match runtime::installed_binary_of(workspace, version)? {
        Some(bin) => bin,
        None => runtime::install_version(workspace, version)?,
    };
    let scratch = workspace
        .join("target/xtask-scratch")
        .join(format!("bump-{version}"));
    if scratch.exists() {
        std::fs::remove_dir_all(&scratch)?;
    }
    std::fs::create_dir_all(&scratch)?;
    schema::generate(&bin, &scratch)?;
    let summary = drift::summarize(
        &drift::Bundle::load(&workspace.join("crates/codex-client-protocol/schema"))?,
        &drift::Bundle::load(&scratch)?,
        &old_version,
        version,
    );
    Ok((scratch, summary))
}

/// The crates' version for a Codex version: the same `MAJOR.MINOR`, and the Codex patch number
/// times 100, so that the last two digits of our patch number are free for our own fix releases
/// (Codex 0.163.0 → 0.163.0, then 0.163.1, 0.163.2, ...; Codex 0.163.1 → 0.163.100).
pub fn crate_version_for(codex: &str) -> Result<String> {
    let parts: Vec<&str> = codex.split('.').collect();
    let [major, minor, patch] = parts.as_slice() else {
        bail!("`{codex}` is not MAJOR.MINOR.PATCH");
    };
    let patch: u64 = patch
        .parse()
        .with_context(|| format!("`{codex}`: the patch number is not a number"))?;
    Ok(format!("{major}.{minor}.{}", patch * 100))
}

/// The workspace's crate versions follow the pinned Codex version (see [`crate_version_for`]):
/// `[workspace.package] version` and the `version = "..."` of the path dependencies in
/// `[workspace.dependencies]`.
fn set_crate_versions(workspace: &Path, old: &str, new: &str) -> Result<()> {
    let (old, new) = (crate_version_for(old)?, crate_version_for(new)?);
    let manifest = workspace.join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest)?;
    let from = format!("version = \"{old}\"");
    if !text.contains(&from) {
        bail!("Cargo.toml has no `{from}`: the crate versions no longer follow the pin");
    }
    std::fs::write(
        &manifest,
        text.replace(&from, &format!("version = \"{new}\"")),
    )
    .with_context(|| format!("writing {}", manifest.display()))
}

fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    for (rel, bytes) in schema::read_tree(from)? {
        let path = to.join(rel);
        std::fs::create_dir_all(path.parent().expect("file has a parent"))?;
        std::fs::write(path, bytes)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::crate_version_for;

    #[test]
    fn crate_versions_leave_room_for_fix_releases() {
        assert_eq!(crate_version_for("0.163.0").unwrap(), "0.163.0");
        assert_eq!(crate_version_for("0.162.1").unwrap(), "0.162.100");
        assert_eq!(crate_version_for("1.2.3").unwrap(), "1.2.300");
        assert!(crate_version_for("0.163").is_err());
        assert!(crate_version_for("0.163.x").is_err());
    }
}

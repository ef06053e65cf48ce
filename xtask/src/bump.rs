//! `cargo xtask bump-codex <version> [--no-test]`: move the project to another Codex runtime.
//!
//! One command for the whole workflow: install that runtime, regenerate the schema and the types,
//! update the pin (its one home, `CODEX_VERSION`, the crates' versions that follow it, and the
//! few documentation lines that name it), refresh `Cargo.lock`, run the test gate, and print the
//! protocol drift for the CHANGELOG (also written to `<target>/codex-drift-<old>-to-<new>.md`).
//!
//! Either the whole bump lands or none of it: every file it writes is snapshotted first and
//! restored if a step before the test gate fails (bad version, codegen that cannot handle the new
//! schema, ...). A failing test gate leaves the new, consistent tree in place — that is the
//! maintainer's to-do list — and says how to go back.

use crate::{codegen, drift, manifest, runtime, schema, test};
use anyhow::{Context, Result, bail};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const PROTOCOL_CRATE: &str = "crates/codex-client-protocol";

/// Documentation lines that name the pinned version, as templates (`{v}` = the version). The
/// bump rewrites them; a template it cannot find is reported, not fatal.
const PIN_MENTIONS: &[(&str, &str)] = &[
    ("README.md", "Pinned Codex runtime: **{v}**"),
    ("README.md", "openai-codex-cli-bin=={v}"),
    ("crates/codex-client-protocol/README.md", "(codex {v})"),
    ("docs/getting-started.md", "openai-codex-cli-bin=={v}"),
    (
        "docs/faq.md",
        "`crates/codex-client-protocol/CODEX_VERSION` ({v})",
    ),
    // The Python package follows the runtime: its version, its runtime dependency, the pins of
    // its venv (the runtime and the official SDK the benchmark compares with).
    ("crates/codex-client-py/pyproject.toml", "version = \"{v}\""),
    (
        "crates/codex-client-py/pyproject.toml",
        "\"openai-codex-cli-bin=={v}\"",
    ),
    (
        "crates/codex-client-py/python/codex_client/_version.py",
        "__version__ = \"{v}\"",
    ),
    (
        "crates/codex-client-py/tests/test_native_smoke.py",
        "__version__ == \"{v}\"",
    ),
    (
        "crates/codex-client-py/requirements-dev.txt",
        "openai-codex-cli-bin=={v}",
    ),
    (
        "crates/codex-client-py/requirements-dev.txt",
        "openai-codex=={v}",
    ),
];

/// Everything the bump may write, relative to the workspace (files or directories).
const TOUCHED: &[&str] = &[
    "Cargo.toml",
    "Cargo.lock",
    "README.md",
    "crates/codex-client-protocol/README.md",
    "docs/getting-started.md",
    "docs/faq.md",
    "crates/codex-client-protocol/CODEX_VERSION",
    "crates/codex-client-protocol/schema",
    "crates/codex-client-protocol/src/generated",
    "crates/codex-client-py/pyproject.toml",
    "crates/codex-client-py/python/codex_client/_version.py",
    "crates/codex-client-py/tests/test_native_smoke.py",
    "crates/codex-client-py/requirements-dev.txt",
];

/// Runs the bump; `run_tests` runs `cargo xtask test` at the end.
pub fn run(workspace: &Path, version: &str, run_tests: bool) -> Result<()> {
    // Validate everything that can be validated before anything is installed or written.
    let new_crate_version = crate_version_for(version)?;
    let old_version = runtime::pinned_version(workspace)?;
    let manifest_text = std::fs::read_to_string(workspace.join("Cargo.toml"))?;
    let old_crate_version = manifest::workspace_package_field(&manifest_text, "version")?;
    let (release_of, _fix) = codex_version_of(&old_crate_version)?;
    if release_of != old_version {
        bail!(
            "the crates' version {old_crate_version} is not a release of the pinned Codex \
             {old_version} (it belongs to Codex {release_of}): fix Cargo.toml or CODEX_VERSION first"
        );
    }
    manifest::set_crate_versions(&manifest_text, &old_crate_version, &new_crate_version)?;

    let (scratch, summary) = schema_of(workspace, version)?;

    let snapshot = Snapshot::take(workspace, TOUCHED)?;
    let applied = apply(
        workspace,
        &scratch,
        (&old_version, version),
        (&old_crate_version, &new_crate_version),
    );
    let _ = std::fs::remove_dir_all(&scratch);
    let notes = match applied {
        Ok(notes) => notes,
        Err(err) => {
            snapshot
                .restore()
                .context("restoring the tree after a failed bump")?;
            return Err(err.context(format!(
                "bump to Codex {version} failed; the tree was restored to Codex {old_version}"
            )));
        }
    };

    let report = target_dir(workspace).join(format!("codex-drift-{old_version}-to-{version}.md"));
    std::fs::write(&report, &summary)?;
    println!("\n{summary}\n(written to {})", report.display());
    for note in &notes {
        println!("note: {note}");
    }
    println!(
        "xtask: pinned to Codex {version}: crates {old_crate_version} → {new_crate_version}, \
         schema, generated types and Cargo.lock updated"
    );
    if run_tests && let Err(err) = test::run(workspace) {
        return Err(err.context(format!(
            "the tree is pinned to Codex {version} and consistent, but the test gate failed. \
             Read the drift ({}), fix the code or the tests that depend on what changed, \
             or go back with `cargo xtask bump-codex {old_version}`",
            report.display()
        )));
    }
    println!("xtask: the project is now pinned to Codex {version}");
    Ok(())
}

/// The writing half of the bump; returns notes for the maintainer.
fn apply(
    workspace: &Path,
    scratch: &Path,
    (old_version, version): (&str, &str),
    (old_crate, new_crate): (&str, &str),
) -> Result<Vec<String>> {
    // The schema, then the pin, then the versions, then the generated code, then the lock file.
    let schema_dir = workspace.join(PROTOCOL_CRATE).join("schema");
    std::fs::remove_dir_all(&schema_dir)?;
    copy_tree(scratch, &schema_dir)?;
    std::fs::write(
        workspace.join(PROTOCOL_CRATE).join("CODEX_VERSION"),
        format!("{version}\n"),
    )?;
    let manifest_path = workspace.join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest_path)?;
    std::fs::write(
        &manifest_path,
        manifest::set_crate_versions(&text, old_crate, new_crate)?,
    )?;
    let notes = update_pin_mentions(workspace, old_version, version)?;
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
    Ok(notes)
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
fn schema_of(workspace: &Path, version: &str) -> Result<(PathBuf, String)> {
    let old_version = runtime::pinned_version(workspace)?;
    let bin = match runtime::installed_binary_of(workspace, version)? {
        Some(bin) => bin,
        None => runtime::install_version(workspace, version)?,
    };
    let scratch = target_dir(workspace)
        .join("xtask-scratch")
        .join(format!("bump-{version}"));
    if scratch.exists() {
        std::fs::remove_dir_all(&scratch)?;
    }
    std::fs::create_dir_all(&scratch)?;
    schema::generate(&bin, &scratch)?;
    let summary = drift::summarize(
        &drift::Bundle::load(&workspace.join(PROTOCOL_CRATE).join("schema"))?,
        &drift::Bundle::load(&scratch)?,
        &old_version,
        version,
    );
    Ok((scratch, summary))
}

/// The cargo target directory (`CARGO_TARGET_DIR` or `<workspace>/target`): the one the runtimes
/// are installed under (`<target>/codex-runtime/<version>`).
fn target_dir(workspace: &Path) -> PathBuf {
    let runtime_dir = runtime::install_dir(workspace, "_");
    runtime_dir
        .ancestors()
        .nth(2)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| workspace.join("target"))
}

/// The crates' version for a Codex version: the same `MAJOR.MINOR`, and the Codex patch number
/// times 100, so that the last two digits of our patch number are free for our own fix releases
/// (Codex 0.163.0 → 0.163.0, then 0.163.1, 0.163.2, ...; Codex 0.163.1 → 0.163.100).
pub fn crate_version_for(codex: &str) -> Result<String> {
    let [major, minor, patch] = numeric_parts(codex)?;
    Ok(format!("{major}.{minor}.{}", patch * 100))
}

/// The Codex version a crate version was made for, and which of our fix releases it is
/// (0.163.0 → (0.163.0, 0); 0.163.2 → (0.163.0, 2); 0.162.100 → (0.162.1, 0)).
pub fn codex_version_of(crate_version: &str) -> Result<(String, u64)> {
    let [major, minor, patch] = numeric_parts(crate_version)?;
    Ok((format!("{major}.{minor}.{}", patch / 100), patch % 100))
}

/// `MAJOR.MINOR.PATCH`, all numbers (no pre-release or build suffix: the crate version rule
/// has no room for them).
fn numeric_parts(version: &str) -> Result<[u64; 3]> {
    let parts: Vec<&str> = version.split('.').collect();
    let [major, minor, patch] = parts.as_slice() else {
        bail!("`{version}` is not MAJOR.MINOR.PATCH (e.g. 0.163.0)");
    };
    let number = |s: &str| -> Result<u64> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            bail!("`{version}`: `{s}` is not a number (e.g. 0.163.0)");
        }
        s.parse()
            .with_context(|| format!("`{version}`: `{s}` is too large"))
    };
    Ok([number(major)?, number(minor)?, number(patch)?])
}

/// Rewrites the documentation lines of [`PIN_MENTIONS`] from `old` to `new`; returns a note for
/// each template not found (the docs changed; update them by hand and fix the table).
fn update_pin_mentions(workspace: &Path, old: &str, new: &str) -> Result<Vec<String>> {
    let mut notes = Vec::new();
    if old == new {
        return Ok(notes);
    }
    let mut files: BTreeMap<&str, String> = BTreeMap::new();
    for (file, template) in PIN_MENTIONS {
        let text = match files.get(file) {
            Some(text) => text.clone(),
            None => match std::fs::read_to_string(workspace.join(file)) {
                Ok(text) => text,
                Err(_) => {
                    notes.push(format!("{file} not found; its pin mention was not updated"));
                    continue;
                }
            },
        };
        let (from, to) = (template.replace("{v}", old), template.replace("{v}", new));
        if text.contains(&from) {
            files.insert(file, text.replace(&from, &to));
        } else {
            files.insert(file, text);
            notes.push(format!(
                "{file}: `{from}` not found; update the pinned version there by hand"
            ));
        }
    }
    for (file, text) in files {
        std::fs::write(workspace.join(file), text)?;
    }
    Ok(notes)
}

/// The bytes of some files and directory trees, to put back exactly as they were.
struct Snapshot {
    workspace: PathBuf,
    entries: Vec<(PathBuf, Saved)>,
}

enum Saved {
    Missing,
    File(Vec<u8>),
    Tree(BTreeMap<PathBuf, Vec<u8>>),
}

impl Snapshot {
    fn take(workspace: &Path, paths: &[&str]) -> Result<Snapshot> {
        let mut entries = Vec::new();
        for rel in paths {
            let path = workspace.join(rel);
            let saved = if path.is_dir() {
                Saved::Tree(schema::read_tree(&path)?)
            } else if path.is_file() {
                Saved::File(std::fs::read(&path)?)
            } else {
                Saved::Missing
            };
            entries.push((PathBuf::from(rel), saved));
        }
        Ok(Snapshot {
            workspace: workspace.to_path_buf(),
            entries,
        })
    }

    fn restore(&self) -> Result<()> {
        for (rel, saved) in &self.entries {
            let path = self.workspace.join(rel);
            if path.is_dir() {
                std::fs::remove_dir_all(&path)?;
            } else if path.exists() {
                std::fs::remove_file(&path)?;
            }
            match saved {
                Saved::Missing => {}
                Saved::File(bytes) => std::fs::write(&path, bytes)?,
                Saved::Tree(files) => {
                    std::fs::create_dir_all(&path)?;
                    write_tree(&path, files)?;
                }
            }
        }
        Ok(())
    }
}

fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    write_tree(to, &schema::read_tree(from)?)
}

fn write_tree(to: &Path, files: &BTreeMap<PathBuf, Vec<u8>>) -> Result<()> {
    for (rel, bytes) in files {
        let path = to.join(rel);
        std::fs::create_dir_all(path.parent().expect("file has a parent"))?;
        std::fs::write(path, bytes)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crate_versions_leave_room_for_fix_releases() {
        assert_eq!(crate_version_for("0.163.0").unwrap(), "0.163.0");
        assert_eq!(crate_version_for("0.162.1").unwrap(), "0.162.100");
        assert_eq!(crate_version_for("1.2.3").unwrap(), "1.2.300");
        for bad in [
            "0.163",
            "0.163.x",
            "0.163.0-alpha.1",
            "0.163.0.1",
            "",
            "v0.163.0",
            "0..1",
        ] {
            assert!(crate_version_for(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn crate_versions_map_back_to_the_runtime_and_the_fix_release() {
        assert_eq!(codex_version_of("0.163.0").unwrap(), ("0.163.0".into(), 0));
        assert_eq!(codex_version_of("0.163.2").unwrap(), ("0.163.0".into(), 2));
        assert_eq!(
            codex_version_of("0.162.100").unwrap(),
            ("0.162.1".into(), 0)
        );
        assert_eq!(
            codex_version_of("0.162.101").unwrap(),
            ("0.162.1".into(), 1)
        );
        for codex in ["0.163.0", "0.162.1", "1.0.42"] {
            let ours = crate_version_for(codex).unwrap();
            assert_eq!(codex_version_of(&ours).unwrap(), (codex.to_string(), 0));
        }
    }

    /// The checked-in tree obeys the rule: the crates' version is a release of the pinned runtime.
    #[test]
    fn the_crate_version_follows_the_pin() {
        let root = crate::util::workspace_root();
        let pin = runtime::pinned_version(&root).unwrap();
        let manifest = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
        let version = manifest::workspace_package_field(&manifest, "version").unwrap();
        let (codex, _fix) = codex_version_of(&version).unwrap();
        assert_eq!(
            codex, pin,
            "crate version {version} does not belong to the pinned Codex {pin}"
        );
    }

    /// The documentation lines the bump rewrites exist, so that a bump cannot leave them stale.
    #[test]
    fn the_pin_mentions_exist_in_the_docs() {
        let root = crate::util::workspace_root();
        let pin = runtime::pinned_version(&root).unwrap();
        for (file, template) in PIN_MENTIONS {
            let text = std::fs::read_to_string(root.join(file)).unwrap();
            let mention = template.replace("{v}", &pin);
            assert!(text.contains(&mention), "{file} lacks `{mention}`");
        }
    }

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("xtask-bump-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn pin_mentions_are_rewritten_and_missing_ones_reported() {
        let ws = scratch("mentions");
        std::fs::write(
            ws.join("README.md"),
            "Pinned Codex runtime: **0.163.0** (one place)\n\
             pip install openai-codex-cli-bin==0.163.0\nhistory: 0.163.0 was nice\n",
        )
        .unwrap();
        let notes = update_pin_mentions(&ws, "0.163.0", "0.162.1").unwrap();
        let readme = std::fs::read_to_string(ws.join("README.md")).unwrap();
        assert_eq!(
            readme,
            "Pinned Codex runtime: **0.162.1** (one place)\n\
             pip install openai-codex-cli-bin==0.162.1\nhistory: 0.163.0 was nice\n"
        );
        // The other documents are missing here: each reported, none fatal.
        assert_eq!(notes.len(), PIN_MENTIONS.len() - 2, "{notes:?}");
        assert!(notes[0].contains("codex-client-protocol/README.md"));
        let _ = std::fs::remove_dir_all(&ws);
    }

    #[test]
    fn a_snapshot_restores_files_and_trees_exactly() {
        let ws = scratch("snapshot");
        std::fs::write(ws.join("a.toml"), "a = 1\n").unwrap();
        std::fs::create_dir_all(ws.join("tree/sub")).unwrap();
        std::fs::write(ws.join("tree/one.json"), "1").unwrap();
        std::fs::write(ws.join("tree/sub/two.json"), "2").unwrap();
        let snapshot = Snapshot::take(&ws, &["a.toml", "tree", "absent"]).unwrap();

        std::fs::write(ws.join("a.toml"), "a = 2\n").unwrap();
        std::fs::remove_dir_all(ws.join("tree/sub")).unwrap();
        std::fs::write(ws.join("tree/one.json"), "changed").unwrap();
        std::fs::write(ws.join("tree/extra.json"), "new").unwrap();
        std::fs::write(ws.join("absent"), "created").unwrap();
        snapshot.restore().unwrap();

        assert_eq!(
            std::fs::read_to_string(ws.join("a.toml")).unwrap(),
            "a = 1\n"
        );
        let tree = schema::read_tree(&ws.join("tree")).unwrap();
        let names: Vec<_> = tree
            .keys()
            .map(|p| p.to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["one.json", "sub/two.json"]);
        assert_eq!(tree[Path::new("one.json")], b"1");
        assert!(!ws.join("absent").exists());
        let _ = std::fs::remove_dir_all(&ws);
    }
}

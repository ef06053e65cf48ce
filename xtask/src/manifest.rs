//! Reading and editing the few lines of the root `Cargo.toml` that xtask owns.
//!
//! The crates' version and the MSRV live in `[workspace.package]`; the siblings' exact version
//! requirements (`version = "=0.163.0"`) in `[workspace.dependencies]`. These are plain
//! `key = "value"` lines, so a line-based edit that touches nothing else (comments, order,
//! formatting) is both enough and safer than re-serialising the whole manifest.

use anyhow::{Result, bail};

/// The string value of `key` in `[workspace.package]` (e.g. `version`, `rust-version`).
pub fn workspace_package_field(manifest: &str, key: &str) -> Result<String> {
    let mut section = "";
    for line in manifest.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('[') {
            section = trimmed;
        } else if section == "[workspace.package]"
            && let Some(value) = string_value(trimmed, key)
        {
            return Ok(value.to_string());
        }
    }
    bail!("Cargo.toml has no `{key} = \"...\"` in [workspace.package]")
}

/// The manifest with the crates' version set to `new`: `[workspace.package] version`, and the
/// `version` requirement of every path dependency in `[workspace.dependencies]` (kept exact,
/// `=new`, so that the published crates always come from the same runtime). Fails when a path
/// dependency has no version or one that does not follow `old`: the crates must move together.
pub fn set_crate_versions(manifest: &str, old: &str, new: &str) -> Result<String> {
    let mut section = String::new();
    let mut package_done = false;
    let mut deps = 0;
    let mut out = String::with_capacity(manifest.len() + 16);
    for line in manifest.split_inclusive('\n') {
        let trimmed = line.trim();
        let mut edited = None;
        if trimmed.starts_with('[') {
            section = trimmed.to_string();
        } else if section == "[workspace.package]" && string_value(trimmed, "version").is_some() {
            let found = string_value(trimmed, "version").unwrap_or_default();
            if found != old {
                bail!("[workspace.package] version is {found}, expected {old}");
            }
            edited = Some(line.replacen(&format!("\"{old}\""), &format!("\"{new}\""), 1));
            package_done = true;
        } else if section == "[workspace.dependencies]" && trimmed.contains("path = \"crates/") {
            let exact = format!("version = \"={old}\"");
            if !line.contains(&exact) {
                bail!(
                    "path dependency without the exact sibling version `{exact}`: {trimmed}\n\
                     (the crates are released together and must require each other exactly)"
                );
            }
            edited = Some(line.replacen(&exact, &format!("version = \"={new}\""), 1));
            deps += 1;
        }
        out.push_str(edited.as_deref().unwrap_or(line));
    }
    if !package_done {
        bail!("Cargo.toml has no `version` in [workspace.package]");
    }
    if deps == 0 {
        bail!("Cargo.toml has no path dependencies in [workspace.dependencies]");
    }
    Ok(out)
}

/// `"value"` of a `key = "value"` line (ignoring spacing), `None` for any other line.
fn string_value<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let rest = line.strip_prefix(key)?.trim_start().strip_prefix('=')?;
    let rest = rest.trim_start().strip_prefix('"')?;
    rest.split_once('"').map(|(value, _)| value)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MANIFEST: &str = r#"[workspace]
members = ["crates/a"]

[workspace.package]
# the crates' version follows the pin
version = "0.163.0"
rust-version = "1.88"

[workspace.dependencies]
codex-client-protocol = { path = "crates/codex-client-protocol", version = "=0.163.0" }
codex-client = { path = "crates/codex-client", version = "=0.163.0" }
serde = { version = "0.163.0" }
"#;

    #[test]
    fn reads_workspace_package_fields() {
        assert_eq!(
            workspace_package_field(MANIFEST, "version").unwrap(),
            "0.163.0"
        );
        assert_eq!(
            workspace_package_field(MANIFEST, "rust-version").unwrap(),
            "1.88"
        );
        assert!(workspace_package_field(MANIFEST, "license").is_err());
        // `version` of another section is not the workspace's.
        assert!(workspace_package_field("[package]\nversion = \"1.0.0\"\n", "version").is_err());
    }

    #[test]
    fn sets_the_package_version_and_the_exact_sibling_requirements_only() {
        let new = set_crate_versions(MANIFEST, "0.163.0", "0.162.100").unwrap();
        assert_eq!(
            new,
            MANIFEST
                .replace(
                    "version = \"0.163.0\"\nrust",
                    "version = \"0.162.100\"\nrust"
                )
                .replace("\"=0.163.0\"", "\"=0.162.100\"")
        );
        // An unrelated dependency that happens to carry the same version is left alone.
        assert!(new.contains("serde = { version = \"0.163.0\" }"));
        // And back: byte-identical.
        assert_eq!(
            set_crate_versions(&new, "0.162.100", "0.163.0").unwrap(),
            MANIFEST
        );
    }

    #[test]
    fn refuses_a_manifest_whose_versions_do_not_follow_the_pin() {
        // The package version is not the one expected.
        assert!(set_crate_versions(MANIFEST, "0.163.1", "0.164.0").is_err());
        // A sibling requirement that is not exact.
        let loose = MANIFEST.replacen("\"=0.163.0\"", "\"0.163.0\"", 1);
        assert!(set_crate_versions(&loose, "0.163.0", "0.164.0").is_err());
        // No path dependencies at all.
        let none = "[workspace.package]\nversion = \"0.163.0\"\n";
        assert!(set_crate_versions(none, "0.163.0", "0.164.0").is_err());
    }

    #[test]
    fn the_real_manifest_follows_the_rules() {
        let root = crate::util::workspace_root();
        let text = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
        let version = workspace_package_field(&text, "version").unwrap();
        // Editable in both directions, i.e. every sibling requirement is exact.
        let there = set_crate_versions(&text, &version, "9.9.900").unwrap();
        assert_eq!(
            set_crate_versions(&there, "9.9.900", &version).unwrap(),
            text
        );
    }
}

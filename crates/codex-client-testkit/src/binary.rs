//! Finding the real `codex` binary for tests, and the skip-or-fail rule for tests that need it.
//!
//! Search order: the `CODEX_BIN` environment variable (used alone when set), the runtime package
//! `openai-codex-cli-bin` pip-installed in the active virtualenv (`VIRTUAL_ENV`), `codex` on
//! `PATH`, then the pinned runtime that this repository's `cargo xtask install-codex` installs at
//! `<target>/codex-runtime/<CODEX_VERSION>/codex_cli_bin/bin/codex`, where `<target>` is
//! `CARGO_TARGET_DIR` or the `target` directory of the workspace this crate sits in (only useful
//! inside the codex-client repository; the SDK itself never looks there).
//!
//! A test that needs the binary calls [`require_codex_binary`]. When the binary is missing:
//!
//! - it **fails** (panics) when `CODEX_CLIENT_REQUIRE_APP_SERVER=1`, or when `CI` is set to
//!   anything but `""`, `0` or `false` (GitHub Actions, GitLab CI and most others set
//!   `CI=true`) — a test that could not run must not look like a pass there;
//!   `CODEX_CLIENT_REQUIRE_APP_SERVER=0` turns that off even under `CI`;
//! - it fails too when `CODEX_BIN` is set but names no file (a mistake, not an absence);
//! - otherwise it writes a loud `SKIPPED` note **straight to the process's stderr** — not
//!   through `eprintln!`, which `cargo test` captures and throws away for a passing test — so the
//!   note shows between cargo's `test ... ok` lines without `--nocapture`, and returns `None`.
//!
//! The messages say how to get a binary in any crate (the pinned runtime from PyPI, `CODEX_BIN`),
//! not only in this repository.

use crate::Error;
use codex_client_protocol::CODEX_VERSION;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The environment variable naming the `codex` binary explicitly.
///
/// ```
/// assert_eq!(codex_client_testkit::CODEX_BIN_ENV, "CODEX_BIN");
/// ```
pub const CODEX_BIN_ENV: &str = "CODEX_BIN";

/// The environment variable that turns "binary missing, skip" into a test failure (value `1`),
/// or keeps it a skip even under `CI` (value `0`).
///
/// ```
/// let required = std::env::var(codex_client_testkit::REQUIRE_APP_SERVER_ENV).is_ok_and(|v| v == "1");
/// # let _ = required;
/// ```
pub const REQUIRE_APP_SERVER_ENV: &str = "CODEX_CLIENT_REQUIRE_APP_SERVER";

/// The environment variable CI services set (`CI=true`): a missing binary fails the test there.
///
/// ```
/// assert_eq!(codex_client_testkit::CI_ENV, "CI");
/// ```
pub const CI_ENV: &str = "CI";

/// Finds the `codex` binary, or says where it looked.
///
/// ```
/// match codex_client_testkit::find_codex_binary() {
///     Ok(path) => println!("using {}", path.display()),
///     Err(err) => println!("{err}"),
/// }
/// ```
pub fn find_codex_binary() -> Result<PathBuf, Error> {
    let mut searched = Vec::new();
    if let Some(explicit) = std::env::var_os(CODEX_BIN_ENV).filter(|v| !v.is_empty()) {
        let path = PathBuf::from(explicit);
        if path.is_file() {
            return Ok(path);
        }
        searched.push(path);
        return Err(Error::BinaryNotFound { searched });
    }
    if let Some(venv) = std::env::var_os("VIRTUAL_ENV").filter(|v| !v.is_empty()) {
        let venv = PathBuf::from(venv);
        if let Some(found) = venv_runtime_binary(&venv) {
            return Ok(found);
        }
        searched.push(venv.join("lib/python3.*/site-packages/codex_cli_bin/bin/codex"));
    }
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            let candidate = dir.join("codex");
            if is_executable(&candidate) {
                return Ok(candidate);
            }
        }
        searched.push(PathBuf::from("codex on PATH"));
    }
    if let Some(pinned) = pinned_runtime_binary() {
        if pinned.is_file() {
            return Ok(pinned);
        }
        searched.push(pinned);
    }
    Err(Error::BinaryNotFound { searched })
}

/// `lib/python3.*/site-packages/codex_cli_bin/bin/codex` under a virtualenv, newest Python first.
fn venv_runtime_binary(venv: &Path) -> Option<PathBuf> {
    let mut sites: Vec<PathBuf> = std::fs::read_dir(venv.join("lib"))
        .ok()?
        .filter_map(|entry| entry.ok())
        .filter(|entry| entry.file_name().to_string_lossy().starts_with("python"))
        .map(|entry| entry.path().join("site-packages/codex_cli_bin/bin/codex"))
        .collect();
    sites.sort();
    sites.into_iter().rev().find(|bin| is_executable(bin))
}

/// Where `cargo xtask install-codex` puts the pinned runtime's binary, if the workspace's target
/// directory can be found.
///
/// ```
/// if let Some(path) = codex_client_testkit::pinned_runtime_binary() {
///     assert!(path.ends_with("codex_cli_bin/bin/codex"));
/// }
/// ```
pub fn pinned_runtime_binary() -> Option<PathBuf> {
    Some(
        target_dir()?
            .join("codex-runtime")
            .join(CODEX_VERSION)
            .join("codex_cli_bin")
            .join("bin")
            .join("codex"),
    )
}

/// The directory of helper binaries (`rg`) that the runtime package ships next to `bin/codex`
/// (`codex_cli_bin/codex-path`), if `binary` sits in that layout.
///
/// ```
/// use std::path::Path;
/// assert_eq!(codex_client_testkit::runtime_path_dir(Path::new("/nonexistent/bin/codex")), None);
/// ```
pub fn runtime_path_dir(binary: &Path) -> Option<PathBuf> {
    let dir = binary.parent()?.parent()?.join("codex-path");
    dir.is_dir().then_some(dir)
}

/// What a test does when the binary is missing, from the environment (see the module docs).
///
/// ```
/// use codex_client_testkit::missing_binary_fails;
/// assert!(missing_binary_fails(|name| (name == "CI").then(|| "true".to_owned())));
/// assert!(!missing_binary_fails(|_| None));
/// assert!(!missing_binary_fails(|name| match name {
///     "CI" => Some("true".to_owned()),
///     "CODEX_CLIENT_REQUIRE_APP_SERVER" => Some("0".to_owned()),
///     _ => None,
/// }));
/// ```
pub fn missing_binary_fails(var: impl Fn(&str) -> Option<String>) -> bool {
    match var(REQUIRE_APP_SERVER_ENV).as_deref().map(str::trim) {
        Some("1") => return true,
        Some("0") => return false,
        _ => {}
    }
    var(CI_ENV)
        .is_some_and(|v| !matches!(v.trim().to_ascii_lowercase().as_str(), "" | "0" | "false"))
}

/// The binary for a test that needs the real app-server.
///
/// Returns `None` after writing a loud `SKIPPED` note to stderr (visible without
/// `--nocapture`) when the binary is missing; panics instead when
/// [`missing_binary_fails`] (`CODEX_CLIENT_REQUIRE_APP_SERVER=1`, or `CI=true`) or when
/// `CODEX_BIN` names no file. `test_name` appears in both messages.
///
/// ```no_run
/// # fn a_test() {
/// let Some(codex) = codex_client_testkit::require_codex_binary("my_test") else { return };
/// println!("testing against {}", codex.display());
/// # }
/// ```
pub fn require_codex_binary(test_name: &str) -> Option<PathBuf> {
    let err = match find_codex_binary() {
        Ok(path) => return Some(path),
        Err(err) => err,
    };
    let how = how_to_get_a_binary();
    if std::env::var_os(CODEX_BIN_ENV).is_some_and(|v| !v.is_empty()) {
        panic!("{test_name}: {CODEX_BIN_ENV} is set but names no file: {err}\n{how}");
    }
    if missing_binary_fails(|name| std::env::var(name).ok()) {
        panic!(
            "{test_name}: this test needs the real `codex` binary (Codex {CODEX_VERSION}) and \
             none was found: {err}.\nIt fails instead of skipping because \
             {REQUIRE_APP_SERVER_ENV}=1 or {CI_ENV} is set ({REQUIRE_APP_SERVER_ENV}=0 makes it a \
             skip).\n{how}"
        );
    }
    let note = format!(
        "\n************************************************************\n\
         SKIPPED: {test_name}: this test needs the real `codex` binary (Codex {CODEX_VERSION}) and \
         none was found, so it did NOT run (cargo still reports it as ok). {err}.\n{how}\n\
         Set {REQUIRE_APP_SERVER_ENV}=1 (or {CI_ENV}=true) to make a missing binary fail.\n\
         ************************************************************\n"
    );
    // Straight to fd 2: `eprintln!` output is captured by the test harness and dropped for a
    // passing test. A failed write is not worth failing the test over.
    let _ = std::io::stderr().lock().write_all(note.as_bytes());
    None
}

/// How to get a `codex` binary, for the messages: the pinned runtime from PyPI into a virtualenv
/// and `CODEX_BIN`; inside the codex-client repository also `cargo xtask install-codex`.
fn how_to_get_a_binary() -> String {
    let mut text = format!(
        "To get one: python3 -m venv ~/.codex-runtime && ~/.codex-runtime/bin/pip install \
         openai-codex-cli-bin=={CODEX_VERSION}, then export CODEX_BIN=\"$(~/.codex-runtime/bin/python \
         -c 'import codex_cli_bin; print(codex_cli_bin.bundled_codex_path())')\" (or set \
         {CODEX_BIN_ENV} to any codex {CODEX_VERSION})."
    );
    if workspace_root().is_some_and(|root| root.join("xtask").is_dir()) {
        text.push_str(" In the codex-client repository: `cargo xtask install-codex`.");
    }
    text
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// `CARGO_TARGET_DIR` (relative paths are taken from the workspace root), else `<workspace>/target`,
/// the workspace being the nearest ancestor of this crate whose `Cargo.toml` has `[workspace]`.
fn target_dir() -> Option<PathBuf> {
    let workspace = workspace_root();
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR").filter(|v| !v.is_empty()) {
        let dir = PathBuf::from(dir);
        if dir.is_absolute() {
            return Some(dir);
        }
        return workspace.map(|w| w.join(dir));
    }
    workspace.map(|w| w.join("target"))
}

fn workspace_root() -> Option<PathBuf> {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir.ancestors().find_map(|dir| {
        let text = std::fs::read_to_string(dir.join("Cargo.toml")).ok()?;
        text.lines()
            .any(|line| line.trim() == "[workspace]")
            .then(|| dir.to_path_buf())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_workspace_root_is_found_from_this_crate() {
        let root = workspace_root().expect("the testkit sits in the codex-client workspace");
        assert!(root.join("crates/codex-client-testkit").is_dir());
    }

    #[test]
    fn the_pinned_binary_path_has_the_installed_layout() {
        let path = pinned_runtime_binary().unwrap();
        let text = path.to_string_lossy();
        assert!(
            text.ends_with(&format!(
                "codex-runtime/{CODEX_VERSION}/codex_cli_bin/bin/codex"
            )),
            "{text}"
        );
    }
}

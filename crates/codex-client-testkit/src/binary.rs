//! Finding the real `codex` binary for tests, and the skip-or-fail rule for tests that need it.
//!
//! Search order: the `CODEX_BIN` environment variable (used alone when set), `codex` on `PATH`,
//! then the pinned runtime that `cargo xtask install-codex` installs at
//! `<target>/codex-runtime/<CODEX_VERSION>/codex_cli_bin/bin/codex`, where `<target>` is
//! `CARGO_TARGET_DIR` or the `target` directory of the workspace this crate sits in.
//!
//! A test that needs the binary calls [`require_codex_binary`]: when the binary is missing it
//! fails if `CODEX_CLIENT_REQUIRE_APP_SERVER=1` (as in `cargo xtask test` and CI), and otherwise
//! prints a loud `SKIPPED` line to stderr and lets the test return early.

use crate::Error;
use codex_client_protocol::CODEX_VERSION;
use std::path::{Path, PathBuf};

/// The environment variable naming the `codex` binary explicitly.
///
/// ```
/// assert_eq!(codex_client_testkit::CODEX_BIN_ENV, "CODEX_BIN");
/// ```
pub const CODEX_BIN_ENV: &str = "CODEX_BIN";

/// The environment variable that turns "binary missing, skip" into a test failure (value `1`).
///
/// ```
/// let required = std::env::var(codex_client_testkit::REQUIRE_APP_SERVER_ENV).is_ok_and(|v| v == "1");
/// # let _ = required;
/// ```
pub const REQUIRE_APP_SERVER_ENV: &str = "CODEX_CLIENT_REQUIRE_APP_SERVER";

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

/// The binary for a test that needs the real app-server.
///
/// Returns `None` after printing a loud `SKIPPED` message when the binary is missing, unless
/// `CODEX_CLIENT_REQUIRE_APP_SERVER=1`, in which case it panics with the places searched.
/// `test_name` appears in the message.
///
/// ```no_run
/// # fn a_test() {
/// let Some(codex) = codex_client_testkit::require_codex_binary("my_test") else { return };
/// println!("testing against {}", codex.display());
/// # }
/// ```
pub fn require_codex_binary(test_name: &str) -> Option<PathBuf> {
    match find_codex_binary() {
        Ok(path) => Some(path),
        Err(err) => {
            if std::env::var(REQUIRE_APP_SERVER_ENV).is_ok_and(|v| v == "1") {
                panic!("{test_name}: {err} ({REQUIRE_APP_SERVER_ENV}=1, so this is a failure)");
            }
            eprintln!(
                "\n************************************************************\n\
                 SKIPPED: {test_name}: codex binary not found; run `cargo xtask install-codex` \
                 (or set CODEX_BIN). {err}\n\
                 ************************************************************\n"
            );
            None
        }
    }
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

//! Finding the `codex` binary: an explicit path, `CODEX_BIN`, the pip-installed runtime of the
//! active virtualenv, `PATH` (in that order, as the `spawn` module says); and the runtime
//! package's helper-tool directory. A miss is [`Error::BinaryNotFound`] listing what was searched.

use crate::error::{Error, Result};
use crate::proto::CODEX_VERSION;
use std::path::{Path, PathBuf};

/// The environment variable naming the `codex` binary.
pub const CODEX_BIN_ENV: &str = "CODEX_BIN";

/// The environment variable of an active Python virtualenv, where the SDK looks for a
/// pip-installed runtime (see the module docs).
///
/// ```
/// assert_eq!(codex_client::VIRTUAL_ENV_ENV, "VIRTUAL_ENV");
/// ```
pub const VIRTUAL_ENV_ENV: &str = "VIRTUAL_ENV";

/// The registry package (PyPI) that carries the pinned `codex` binary.
///
/// ```
/// assert_eq!(codex_client::RUNTIME_PACKAGE, "openai-codex-cli-bin");
/// ```
pub const RUNTIME_PACKAGE: &str = "openai-codex-cli-bin";

/// Finds the `codex` binary: `explicit`, else `CODEX_BIN`, else the runtime package in the active
/// virtualenv (`VIRTUAL_ENV`), else `codex` on `PATH` (see the module docs). The error lists
/// every place searched and the commands that install the pinned runtime.
///
/// ```
/// match codex_client::find_codex_binary(None) {
///     Ok(path) => println!("found {}", path.display()),
///     Err(err) => println!("{err}"),
/// }
/// ```
pub fn find_codex_binary(explicit: Option<&Path>) -> Result<PathBuf> {
    let mut searched = Vec::new();
    if let Some(path) = explicit {
        if path.is_file() {
            return Ok(path.to_path_buf());
        }
        searched.push(format!("{} (explicit path in the config)", path.display()));
        return Err(not_found(searched));
    }
    if let Some(value) = std::env::var_os(CODEX_BIN_ENV).filter(|v| !v.is_empty()) {
        let path = PathBuf::from(value);
        if path.is_file() {
            return Ok(path);
        }
        searched.push(format!("{} (from {CODEX_BIN_ENV})", path.display()));
        return Err(not_found(searched));
    }
    searched.push(format!("{CODEX_BIN_ENV} (not set)"));
    match std::env::var_os(VIRTUAL_ENV_ENV).filter(|v| !v.is_empty()) {
        Some(venv) => {
            let venv = PathBuf::from(venv);
            if let Some(found) = pip_runtime_binary(&venv) {
                return Ok(found);
            }
            searched.push(format!(
                "{}/lib/python3.*/site-packages/codex_cli_bin/bin/codex (the active virtualenv, \
                 {VIRTUAL_ENV_ENV}; {RUNTIME_PACKAGE} is not installed there)",
                venv.display()
            ));
        }
        None => searched.push(format!(
            "a pip-installed {RUNTIME_PACKAGE} in the active virtualenv ({VIRTUAL_ENV_ENV} not set)"
        )),
    }
    match std::env::var_os("PATH") {
        Some(path) => {
            for dir in std::env::split_paths(&path) {
                let candidate = dir.join("codex");
                if is_executable(&candidate) {
                    return Ok(candidate);
                }
            }
            searched.push("`codex` on PATH".to_owned());
        }
        None => searched.push("`codex` on PATH (PATH not set)".to_owned()),
    }
    Err(not_found(searched))
}

fn not_found(searched: Vec<String>) -> Error {
    Error::BinaryNotFound {
        searched,
        version: CODEX_VERSION,
    }
}

/// The `codex` binary of the runtime package `openai-codex-cli-bin` pip-installed in the
/// virtualenv (or `pip install --target` directory) `venv`, if it is there:
/// `lib/python3.*/site-packages/codex_cli_bin/bin/codex` (`Lib/site-packages/...` on Windows), or
/// `codex_cli_bin/bin/codex` directly under `venv`.
///
/// ```
/// use std::path::Path;
/// assert_eq!(codex_client::pip_runtime_binary(Path::new("/nonexistent/venv")), None);
/// ```
pub fn pip_runtime_binary(venv: &Path) -> Option<PathBuf> {
    let in_package = |site: PathBuf| {
        let exe = if cfg!(windows) { "codex.exe" } else { "codex" };
        let bin = site.join("codex_cli_bin").join("bin").join(exe);
        is_executable(&bin).then_some(bin)
    };
    if let Some(found) = in_package(venv.to_path_buf()) {
        return Some(found);
    }
    if let Some(found) = in_package(venv.join("Lib").join("site-packages")) {
        return Some(found);
    }
    // `lib/python3.11/site-packages`, ...: newest Python first when there are several.
    let mut pythons: Vec<PathBuf> = std::fs::read_dir(venv.join("lib"))
        .ok()?
        .filter_map(|entry| entry.ok())
        .filter(|entry| entry.file_name().to_string_lossy().starts_with("python"))
        .map(|entry| entry.path().join("site-packages"))
        .collect();
    pythons.sort();
    pythons.into_iter().rev().find_map(in_package)
}

/// The runtime package's helper-tool directory (`<pkg>/codex-path`, with `rg`) when `binary` sits
/// in the package's layout: `<pkg>/bin/codex` beside `<pkg>/codex-package.json` and
/// `<pkg>/codex-path/` (symlinks to the binary are resolved). `None` for any other binary.
///
/// ```
/// use std::path::Path;
/// assert_eq!(codex_client::runtime_path_dir(Path::new("/usr/bin/codex")), None);
/// ```
pub fn runtime_path_dir(binary: &Path) -> Option<PathBuf> {
    let binary = std::fs::canonicalize(binary).ok()?;
    let package = binary.parent()?.parent()?;
    let dir = package.join("codex-path");
    (package.join("codex-package.json").is_file() && dir.is_dir()).then_some(dir)
}

fn is_executable(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        path.metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    {
        path.is_file()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn explicit_missing_path_is_an_error_naming_it_and_the_install_commands() {
        let err = find_codex_binary(Some(Path::new("/nonexistent/codex"))).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("/nonexistent/codex"), "{text}");
        assert!(
            text.contains(&format!("pip install {RUNTIME_PACKAGE}=={CODEX_VERSION}")),
            "{text}"
        );
        assert!(text.contains("bundled_codex_path()"), "{text}");
        assert!(
            !text.contains("xtask"),
            "a user's crate has no xtask: {text}"
        );
    }

    /// A fake runtime package: `<root>/codex_cli_bin/{bin/codex, codex-package.json, codex-path/rg}`.
    pub(crate) fn fake_package(root: &Path) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let package = root.join("codex_cli_bin");
        std::fs::create_dir_all(package.join("bin")).unwrap();
        std::fs::create_dir_all(package.join("codex-path")).unwrap();
        std::fs::write(package.join("codex-package.json"), "{}").unwrap();
        let bin = package.join("bin/codex");
        std::fs::write(&bin, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
        bin
    }

    #[test]
    fn a_pip_installed_runtime_is_found_in_a_virtualenv_layout() {
        let venv = tempfile::tempdir().unwrap();
        assert_eq!(pip_runtime_binary(venv.path()), None);
        let site = venv.path().join("lib/python3.11/site-packages");
        let bin = fake_package(&site);
        assert_eq!(pip_runtime_binary(venv.path()), Some(bin.clone()));
        // `pip install --target DIR` puts the package directly under DIR.
        let target = tempfile::tempdir().unwrap();
        let direct = fake_package(target.path());
        assert_eq!(pip_runtime_binary(target.path()), Some(direct));
    }
}

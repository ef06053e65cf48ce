//! The pinned Codex runtime: where its version is recorded, where it is installed, how to install it.
//!
//! The runtime is the registry package `openai-codex-cli-bin` (the same binary the official Python
//! SDK ships), installed with `pip install --target` into `target/codex-runtime/<version>/`, so that
//! a fresh machine with python3 and pip needs nothing else.
//!
//! It also runs the **user recipe** of docs/getting-started.md ("The runtime") as written — a
//! virtualenv, `pip install openai-codex-cli-bin==<version>`, the `bundled_codex_path()`
//! one-liner — into `target/codex-runtime/user-recipe/`, and checks that the SDK finds that
//! binary both documented ways (`CODEX_BIN`, and the activated virtualenv), with the
//! `find_codex` example ([`check_user_recipe`]).

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The registry package that carries the `codex` binary.
const RUNTIME_PACKAGE: &str = "openai-codex-cli-bin";

/// The pinned Codex version, read from its one home: `crates/codex-client-protocol/CODEX_VERSION`.
pub fn pinned_version(workspace: &Path) -> Result<String> {
    let file = workspace.join("crates/codex-client-protocol/CODEX_VERSION");
    let text =
        std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
    Ok(text.trim().to_string())
}

/// The directory the pinned runtime is installed into.
pub fn install_dir(workspace: &Path, version: &str) -> PathBuf {
    target_dir(workspace).join("codex-runtime").join(version)
}

/// `CARGO_TARGET_DIR`, else `<workspace>/target`.
pub fn target_dir(workspace: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace.join("target"))
}

/// The `codex` binary inside an install directory.
pub fn binary_in(dir: &Path) -> PathBuf {
    dir.join("codex_cli_bin").join("bin").join("codex")
}

/// The installed binary if it is there and reports the pinned version.
pub fn installed_binary(workspace: &Path) -> Result<Option<PathBuf>> {
    installed_binary_of(workspace, &pinned_version(workspace)?)
}

/// The installed binary of `version` if it is there and reports that version.
pub fn installed_binary_of(workspace: &Path, version: &str) -> Result<Option<PathBuf>> {
    let bin = binary_in(&install_dir(workspace, version));
    if !bin.is_file() {
        return Ok(None);
    }
    match reported_version(&bin) {
        Ok(found) if found == version => Ok(Some(bin)),
        Ok(found) => {
            eprintln!(
                "xtask: {} reports version {found}, expected {version}",
                bin.display()
            );
            Ok(None)
        }
        Err(err) => {
            eprintln!("xtask: {} does not run: {err:#}", bin.display());
            Ok(None)
        }
    }
}

/// Installs the pinned runtime if it is not installed yet, and returns the binary's path.
pub fn install(workspace: &Path) -> Result<PathBuf> {
    if let Some(bin) = installed_binary(workspace)? {
        println!("xtask: the pinned codex runtime is already installed");
        return Ok(bin);
    }
    let version = pinned_version(workspace)?;
    install_version(workspace, &version)
}

/// Installs `openai-codex-cli-bin==version` (idempotent) and verifies `codex --version`.
pub fn install_version(workspace: &Path, version: &str) -> Result<PathBuf> {
    let dir = install_dir(workspace, version);
    let staging = dir.with_extension("partial");
    if staging.exists() {
        std::fs::remove_dir_all(&staging)
            .with_context(|| format!("removing {}", staging.display()))?;
    }
    std::fs::create_dir_all(&staging)?;
    let spec = format!("{RUNTIME_PACKAGE}=={version}");
    println!("xtask: installing {spec} into {}", dir.display());
    let python = find_python()?;
    let status = Command::new(&python)
        .args([
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--no-input",
            "--disable-pip-version-check",
        ])
        .args(["--quiet", "--target"])
        .arg(&staging)
        .arg(&spec)
        .status()
        .with_context(|| format!("running {python} -m pip"))?;
    if !status.success() {
        bail!(
            "pip could not install {spec} ({status}); is pip available and the registry reachable?"
        );
    }
    // The wheel's helper binaries (rg, bwrap) must stay executable: without them every sandboxed
    // command fails (reference/offline-app-server.md §8.2). pip keeps the modes; make sure anyway.
    let package = staging.join("codex_cli_bin");
    for sub in ["bin", "codex-path", "codex-resources"] {
        make_executable(&package.join(sub))?;
    }
    if dir.exists() {
        std::fs::remove_dir_all(&dir).with_context(|| format!("removing {}", dir.display()))?;
    }
    std::fs::rename(&staging, &dir)
        .with_context(|| format!("moving {} to {}", staging.display(), dir.display()))?;
    let bin = binary_in(&dir);
    let found = reported_version(&bin)?;
    if found != version {
        bail!(
            "{} reports version {found}, expected {version}",
            bin.display()
        );
    }
    println!("xtask: installed codex-cli {found}");
    Ok(bin)
}

/// The getting-started recipe, run the way a user runs it, then the SDK's discovery of its
/// binary: `CODEX_BIN` set to the one-liner's answer, and `VIRTUAL_ENV` (an activated virtualenv)
/// with no `CODEX_BIN` and no other `codex` on `PATH`. Needs the network (PyPI, or pip's cache).
pub fn check_user_recipe(workspace: &Path) -> Result<PathBuf> {
    let version = pinned_version(workspace)?;
    let venv = install_dir(workspace, "user-recipe");
    if venv.exists() {
        std::fs::remove_dir_all(&venv).with_context(|| format!("removing {}", venv.display()))?;
    }
    let python = find_python()?;
    // docs/getting-started.md, "The runtime", line by line.
    run(Command::new(&python).args(["-m", "venv"]).arg(&venv))?;
    let bin_dir = venv.join("bin");
    run(Command::new(bin_dir.join("pip"))
        .args(["install", "--disable-pip-version-check", "--quiet"])
        .arg(format!("{RUNTIME_PACKAGE}=={version}")))?;
    let out = Command::new(bin_dir.join("python"))
        .args([
            "-c",
            "import codex_cli_bin; print(codex_cli_bin.bundled_codex_path())",
        ])
        .output()
        .context("running the recipe's bundled_codex_path() one-liner")?;
    if !out.status.success() {
        bail!(
            "the recipe's one-liner failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let codex = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    let found = reported_version(&codex)?;
    if found != version {
        bail!("the recipe installed {found}, expected {version}");
    }
    // The SDK finds it: through CODEX_BIN, and through the activated virtualenv alone.
    let system_path = std::env::join_paths(["/usr/local/bin", "/usr/bin", "/bin"])?;
    let activated_path = std::env::join_paths(
        std::iter::once(bin_dir.clone()).chain(std::env::split_paths(&system_path)),
    )?;
    run(crate::util::cargo().current_dir(workspace).args([
        "build",
        "--quiet",
        "--locked",
        "-p",
        "codex-client",
        "--example",
        "find_codex",
    ]))?;
    let example = target_dir(workspace).join("debug/examples/find_codex");
    for (how, vars) in [
        (
            "CODEX_BIN",
            vec![("CODEX_BIN", codex.clone().into_os_string())],
        ),
        (
            "VIRTUAL_ENV",
            vec![
                ("VIRTUAL_ENV", venv.clone().into_os_string()),
                ("PATH", activated_path),
            ],
        ),
    ] {
        let out = Command::new(&example)
            .env_remove("CODEX_BIN")
            .env_remove("VIRTUAL_ENV")
            .env("PATH", &system_path)
            .envs(vars)
            .output()
            .with_context(|| format!("running {} ({how})", example.display()))?;
        let said = String::from_utf8_lossy(&out.stdout);
        let expected = format!("codex: {}", codex.display());
        if !out.status.success() || !said.lines().any(|l| l == expected) {
            bail!(
                "the SDK did not find the recipe's binary through {how}: {said}{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        println!("xtask: the SDK finds the recipe's runtime through {how}");
    }
    Ok(codex)
}

fn run(cmd: &mut Command) -> Result<()> {
    let status = cmd.status().with_context(|| format!("running {cmd:?}"))?;
    if !status.success() {
        bail!("{cmd:?} failed ({status})");
    }
    Ok(())
}

/// Runs `codex --version` and returns the version it prints (`codex-cli 0.163.0` → `0.163.0`).
pub fn reported_version(bin: &Path) -> Result<String> {
    let out = Command::new(bin)
        .arg("--version")
        .output()
        .with_context(|| format!("running {} --version", bin.display()))?;
    if !out.status.success() {
        bail!("{} --version exited with {}", bin.display(), out.status);
    }
    let text = String::from_utf8_lossy(&out.stdout);
    text.split_whitespace()
        .last()
        .map(str::to_string)
        .with_context(|| format!("unexpected `codex --version` output: {text:?}"))
}

fn find_python() -> Result<String> {
    for candidate in ["python3", "python"] {
        let ok = Command::new(candidate)
            .args(["-m", "pip", "--version"])
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false);
        if ok {
            return Ok(candidate.to_string());
        }
    }
    bail!("no python3 with pip found: install python3 and pip (e.g. `apt-get install python3-pip`)")
}

#[cfg(unix)]
fn make_executable(dir: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    for entry in entries {
        let path = entry?.path();
        if path.is_file() {
            let mut perms = std::fs::metadata(&path)?.permissions();
            perms.set_mode(perms.mode() | 0o755);
            std::fs::set_permissions(&path, perms)?;
        }
    }
    Ok(())
}

#[cfg(not(unix))]
fn make_executable(_dir: &Path) -> Result<()> {
    Ok(())
}

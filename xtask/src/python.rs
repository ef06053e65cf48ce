//! `cargo xtask python [setup|build|test]`: the Python side of codex-client
//! (`crates/codex-client-py`, the `codex-client` wheel), set up and tested by the project's own
//! commands so that a fresh machine with python3 (and its `venv` module) needs nothing else.
//!
//! - **setup**: `target/py-venv/` (`python3 -m venv`) holding exactly the pins of
//!   `crates/codex-client-py/requirements-dev.txt`. A stamp in the venv records the pins and the
//!   base interpreter it was made with; when both are unchanged nothing is done, otherwise the
//!   venv is made anew (so it never holds a package the pins dropped). Needs PyPI (or pip's
//!   cache). The pins of the runtime and the official SDK must be the pinned Codex version.
//! - **build**: `maturin build --profile wheel --locked` from the venv into `target/wheels/`, then
//!   `pip install --force-reinstall --no-deps --no-index` of that wheel into the venv (its
//!   dependencies, pydantic and the runtime, are the pins) and `pip check`. A built wheel, not
//!   `maturin develop`: the tests import what users install, and nothing is written into the
//!   source tree.
//! - **test**: setup and build, then `python -m pytest crates/codex-client-py/tests` from the venv
//!   in a loopback-only network namespace when the machine allows one (as `cargo xtask test`
//!   does), with the venv activated (`VIRTUAL_ENV`, its `bin/` first on `PATH`), no `CODEX_BIN`
//!   (the tests find the runtime of the venv, as the official SDK does) and
//!   `CODEX_CLIENT_REQUIRE_APP_SERVER=1`. Arguments after `--` go to pytest.
//!
//! The run fails when pytest fails, when it collected no test (its exit code 5) and when every
//! test it collected was skipped: a run that tested nothing is not a pass.

use crate::runtime;
use crate::util::describe;
use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// The crate of the Python bindings.
const CRATE: &str = "crates/codex-client-py";
/// The exact pins of everything the Python side takes from PyPI.
const REQUIREMENTS: &str = "crates/codex-client-py/requirements-dev.txt";
/// The pytest suite.
const TESTS: &str = "crates/codex-client-py/tests";
/// The file in the venv that records what it was made from.
const STAMP: &str = "xtask-pins.stamp";
/// The oldest Python the wheel supports (abi3-py310).
const MIN_PYTHON: (u32, u32) = (3, 10);
/// pytest-timeout's limit for one test, so that a hung test fails instead of stalling the gate
/// (a test that needs longer says so with `@pytest.mark.timeout(..)`).
const TEST_TIMEOUT_SECS: u32 = 300;
/// The pins that must be the pinned Codex version.
const VERSIONED_PINS: [&str; 2] = ["openai-codex-cli-bin", "openai-codex"];

/// The usage of `cargo xtask python`.
const USAGE: &str = "usage: cargo xtask python [setup|build|test] [-- <pytest arguments>]";

/// `cargo xtask python <args>`.
pub fn run(workspace: &Path, args: &[String]) -> Result<()> {
    let (ours, pytest_args) = match args.iter().position(|a| a == "--") {
        Some(i) => (&args[..i], &args[i + 1..]),
        None => (args, &[][..]),
    };
    match ours.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["setup"] => setup(workspace).map(drop),
        ["build"] => {
            setup(workspace)?;
            build(workspace).map(drop)
        }
        ["test"] | [] => {
            setup(workspace)?;
            build(workspace)?;
            let pytest = test_command(workspace, pytest_args);
            let mut pytest = match crate::test::loopback_only_wrapper() {
                Some(wrapper) => crate::test::wrap(&wrapper, &pytest),
                None => pytest,
            };
            run_tests(workspace, &mut pytest)
        }
        _ => bail!("{USAGE}"),
    }
}

/// `target/py-venv` (under `CARGO_TARGET_DIR` when it is set).
pub fn venv_dir(workspace: &Path) -> PathBuf {
    runtime::target_dir(workspace).join("py-venv")
}

/// Where `build` puts the wheel.
fn wheel_dir(workspace: &Path) -> PathBuf {
    runtime::target_dir(workspace).join("wheels")
}

/// The JUnit report of the last pytest run, read for the summary.
fn junit_report(workspace: &Path) -> PathBuf {
    runtime::target_dir(workspace)
        .join("py-test")
        .join("junit.xml")
}

fn venv_bin(workspace: &Path, program: &str) -> PathBuf {
    venv_dir(workspace).join("bin").join(program)
}

/// Makes `target/py-venv` hold exactly the pins, unless its stamp says it already does; checks
/// that the runtime in it is the pinned Codex version. Returns the venv's directory.
pub fn setup(workspace: &Path) -> Result<PathBuf> {
    let venv = venv_dir(workspace);
    println!(
        "\n==> python setup: {} (the pins of {REQUIREMENTS})",
        venv.display()
    );
    let started = Instant::now();
    let version = runtime::pinned_version(workspace)?;
    let requirements_file = workspace.join(REQUIREMENTS);
    let requirements = std::fs::read_to_string(&requirements_file)
        .with_context(|| format!("reading {}", requirements_file.display()))?;
    check_versioned_pins(&requirements, &version)?;
    let base = base_python()?;
    let stamp = format!("{}\n{requirements}", base.describe());
    let stamp_file = venv.join(STAMP);
    let python = venv_bin(workspace, "python");
    let up_to_date = std::fs::read_to_string(&stamp_file).is_ok_and(|s| s == stamp)
        && Command::new(&python)
            .args(["-c", "pass"])
            .status()
            .is_ok_and(|s| s.success());
    if up_to_date {
        println!("    up to date (same pins, same interpreter): nothing to install");
    } else {
        if venv.exists() {
            println!("    the pins or the interpreter changed: making the venv anew");
            std::fs::remove_dir_all(&venv)
                .with_context(|| format!("removing {}", venv.display()))?;
        }
        exec(Command::new(&base.program).args(["-m", "venv"]).arg(&venv))?;
        exec(
            Command::new(&python)
                .args(["-m", "pip", "install", "--disable-pip-version-check"])
                .args(["--no-input", "--quiet", "-r"])
                .arg(&requirements_file),
        )
        .context("pip could not install the pins; is the registry (or pip's cache) reachable?")?;
        exec(Command::new(&python).args(["-m", "pip", "check", "--disable-pip-version-check"]))?;
        std::fs::write(&stamp_file, &stamp)
            .with_context(|| format!("writing {}", stamp_file.display()))?;
    }
    // The runtime the tests start: the binary inside the venv's `openai-codex-cli-bin`.
    let out = Command::new(&python)
        .args([
            "-c",
            "import codex_cli_bin; print(codex_cli_bin.bundled_codex_path())",
        ])
        .output()
        .context("asking the venv's codex_cli_bin for its binary")?;
    if !out.status.success() {
        bail!(
            "the venv's codex_cli_bin has no binary: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let codex = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    let found = runtime::reported_version(&codex)?;
    if found != version {
        bail!(
            "{} reports version {found}, expected {version}",
            codex.display()
        );
    }
    println!(
        "    python setup: {} with Python {}, codex {found} ({:.1?})",
        venv.display(),
        base.version,
        started.elapsed()
    );
    Ok(venv)
}

/// Builds the wheel with maturin from the venv and installs it into the venv (its dependencies
/// are the pins: `--no-deps`, then `pip check` proves they satisfy it). Returns the wheel.
pub fn build(workspace: &Path) -> Result<PathBuf> {
    println!(
        "\n==> python build: the codex-client wheel (maturin build --profile wheel: release with LTO), installed into the venv"
    );
    let started = Instant::now();
    let out_dir = wheel_dir(workspace);
    std::fs::create_dir_all(&out_dir)?;
    // Only this build's wheel may be there when it is picked up.
    for old in wheels_in(&out_dir)? {
        std::fs::remove_file(&old).with_context(|| format!("removing {}", old.display()))?;
    }
    let python = venv_bin(workspace, "python");
    let mut maturin = Command::new(venv_bin(workspace, "maturin"));
    maturin
        .current_dir(workspace)
        .args(["build", "--profile", "wheel", "--locked", "--manifest-path"])
        .arg(workspace.join(CRATE).join("Cargo.toml"))
        .arg("--interpreter")
        .arg(&python)
        .arg("--out")
        .arg(&out_dir);
    println!("    $ {}", describe(&maturin));
    exec(&mut maturin)?;
    let wheel = match &wheels_in(&out_dir)?[..] {
        [one] => one.clone(),
        found => bail!(
            "maturin left {} codex_client wheels in {}, expected one",
            found.len(),
            out_dir.display()
        ),
    };
    exec(
        Command::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "--disable-pip-version-check",
                "--quiet",
            ])
            .args(["--no-input", "--no-index", "--no-deps", "--force-reinstall"])
            .arg(&wheel),
    )?;
    exec(Command::new(&python).args(["-m", "pip", "check", "--disable-pip-version-check"]))
        .context("the wheel's dependencies are not what requirements-dev.txt pins")?;
    println!(
        "    python build: {} installed into the venv ({:.1?})",
        wheel.file_name().unwrap_or_default().to_string_lossy(),
        started.elapsed()
    );
    Ok(wheel)
}

/// The venv's interpreter as an activated venv runs it (the package finds the runtime inside
/// it, as the official SDK does), importing the installed wheel and never the source tree.
pub fn script_command(workspace: &Path) -> Command {
    let venv = venv_dir(workspace);
    let path = std::env::var_os("PATH").unwrap_or_default();
    let path =
        std::env::join_paths(std::iter::once(venv.join("bin")).chain(std::env::split_paths(&path)))
            .unwrap_or(path);
    let mut cmd = Command::new(venv_bin(workspace, "python"));
    cmd.current_dir(workspace)
        // An activated venv: the package finds the runtime inside it, as the official SDK does.
        .env("VIRTUAL_ENV", &venv)
        .env("PATH", path)
        .env_remove("CODEX_BIN")
        .env_remove("PYTHONPATH")
        .env_remove("PYTHONHOME")
        // Import the installed wheel, never the source tree; write nothing into the source tree.
        .env("PYTHONSAFEPATH", "1")
        .env("PYTHONDONTWRITEBYTECODE", "1");
    cmd
}

/// The pytest run of the suite, from the venv, with the environment the app-server tests need.
/// No network is needed (the gate wraps it in its loopback-only namespace).
pub fn test_command(workspace: &Path, pytest_args: &[String]) -> Command {
    let mut cmd = script_command(workspace);
    // A missing app-server fails the tests that need it instead of skipping them.
    cmd.env("CODEX_CLIENT_REQUIRE_APP_SERVER", "1")
        .args(["-m", "pytest", TESTS, "-p", "no:cacheprovider", "-ra"])
        .arg(format!("--timeout={TEST_TIMEOUT_SECS}"))
        .arg(format!("--junitxml={}", junit_report(workspace).display()))
        .args(pytest_args);
    cmd
}

/// Runs `cmd` (a [`test_command`], perhaps wrapped) and prints the one-line summary. Fails when
/// a test failed or errored, when pytest could not run or collected nothing (exit code 5), and
/// when no collected test passed (all skipped).
pub fn run_tests(workspace: &Path, cmd: &mut Command) -> Result<()> {
    println!("\n==> pytest {TESTS} (the Python bindings; the real app-server tests are required)");
    println!("    $ {}", describe(cmd));
    let report = junit_report(workspace);
    if report.exists() {
        std::fs::remove_file(&report).with_context(|| format!("removing {}", report.display()))?;
    }
    let started = Instant::now();
    let status = cmd
        .status()
        .with_context(|| format!("could not start `{}`", describe(cmd)))?;
    let counts = std::fs::read_to_string(&report)
        .ok()
        .and_then(|xml| Counts::from_junit(&xml));
    match counts {
        Some(c) => println!(
            "    pytest: {} passed, {} failed, {} skipped ({:.1?})",
            c.passed(),
            c.failed(),
            c.skipped,
            started.elapsed()
        ),
        None => println!("    pytest: no report ({:.1?})", started.elapsed()),
    }
    match status.code() {
        Some(0) => match counts {
            Some(c) if c.passed() > 0 => Ok(()),
            Some(_) => bail!(
                "pytest passed no test (every test it collected was skipped): a run that tested \
                 nothing fails the gate"
            ),
            None => bail!(
                "pytest exited 0 but wrote no report at {}",
                report.display()
            ),
        },
        Some(1) => bail!("pytest: some tests failed"),
        Some(5) => bail!(
            "pytest collected no test in {TESTS} (exit code 5): a run that tested nothing fails \
             the gate"
        ),
        Some(code) => bail!(
            "pytest could not run the suite (exit code {code}: 2 interrupted or a collection \
             error, 3 internal error, 4 usage error)"
        ),
        None => bail!("pytest was killed ({status})"),
    }
}

/// The counts of a JUnit report's `<testsuite>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Counts {
    tests: u64,
    failures: u64,
    errors: u64,
    skipped: u64,
}

impl Counts {
    /// The counts of the first `<testsuite ...>` element of pytest's `--junitxml` report.
    fn from_junit(xml: &str) -> Option<Counts> {
        let start = xml.find("<testsuite ")?;
        let tag = &xml[start..];
        let tag = &tag[..tag.find('>')?];
        let attr = |name: &str| -> Option<u64> {
            let needle = format!(" {name}=\"");
            let at = tag.find(&needle)? + needle.len();
            let rest = &tag[at..];
            rest[..rest.find('"')?].parse().ok()
        };
        Some(Counts {
            tests: attr("tests")?,
            failures: attr("failures")?,
            errors: attr("errors")?,
            skipped: attr("skipped")?,
        })
    }

    fn failed(&self) -> u64 {
        self.failures + self.errors
    }

    fn passed(&self) -> u64 {
        self.tests
            .saturating_sub(self.failures + self.errors + self.skipped)
    }
}

/// The `codex_client-*.whl` files in `dir`, sorted.
fn wheels_in(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut wheels = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        if name.starts_with("codex_client-") && name.ends_with(".whl") {
            wheels.push(path);
        }
    }
    wheels.sort();
    Ok(wheels)
}

/// Every pin of [`VERSIONED_PINS`] in `requirements` is `==version`.
fn check_versioned_pins(requirements: &str, version: &str) -> Result<()> {
    for package in VERSIONED_PINS {
        let pinned = requirements
            .lines()
            .map(|l| l.split('#').next().unwrap_or("").trim())
            .find_map(|l| l.strip_prefix(package)?.trim().strip_prefix("=="));
        match pinned {
            Some(v) if v.trim() == version => {}
            Some(v) => bail!(
                "{REQUIREMENTS} pins {package}=={} but the pinned Codex version \
                 (crates/codex-client-protocol/CODEX_VERSION) is {version}",
                v.trim()
            ),
            None => bail!("{REQUIREMENTS} does not pin {package}=={version}"),
        }
    }
    Ok(())
}

/// The interpreter the venv is made from.
struct BasePython {
    program: String,
    version: String,
    executable: String,
}

impl BasePython {
    fn describe(&self) -> String {
        format!("python {} ({})", self.version, self.executable)
    }
}

/// `python3`, at least [`MIN_PYTHON`], with a working `venv` module (Debian splits it out).
fn base_python() -> Result<BasePython> {
    let program = "python3".to_string();
    let out = Command::new(&program)
        .args([
            "-c",
            "import sys; print('%d.%d.%d' % sys.version_info[:3]); print(sys.executable)",
        ])
        .output()
        .map_err(|err| {
            anyhow::anyhow!("python3 does not run ({err}): install python3 (Debian: `apt-get install python3 python3-venv`)")
        })?;
    if !out.status.success() {
        bail!("python3 does not run ({})", out.status);
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines = text.lines();
    let version = lines.next().unwrap_or_default().trim().to_string();
    let executable = lines.next().unwrap_or_default().trim().to_string();
    let mut parts = version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    if (major, minor) < MIN_PYTHON {
        bail!(
            "python3 is Python {version}; the Python bindings need {}.{} or newer",
            MIN_PYTHON.0,
            MIN_PYTHON.1
        );
    }
    let venv_ok = Command::new(&program)
        .args(["-c", "import venv, ensurepip"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !venv_ok {
        bail!(
            "python3 ({executable}) cannot make a virtualenv: its `venv` module or `ensurepip` is \
             missing. On Debian/Ubuntu install the package python3-venv \
             (`apt-get install python3-venv`, or python{major}.{minor}-venv)"
        );
    }
    Ok(BasePython {
        program,
        version,
        executable,
    })
}

fn exec(cmd: &mut Command) -> Result<()> {
    let status = cmd
        .status()
        .with_context(|| format!("could not start `{}`", describe(cmd)))?;
    if !status.success() {
        bail!("`{}` failed ({status})", describe(cmd));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{Counts, check_versioned_pins};

    #[test]
    fn the_junit_counts_are_read_from_the_testsuite() {
        let xml = r#"<?xml version="1.0" encoding="utf-8"?><testsuites name="pytest tests"><testsuite name="pytest" errors="1" failures="2" skipped="3" tests="10" time="0.5" timestamp="x" hostname="h"><testcase classname="t" name="a" time="0.1" /></testsuite></testsuites>"#;
        let c = Counts::from_junit(xml).unwrap();
        assert_eq!(
            c,
            Counts {
                tests: 10,
                failures: 2,
                errors: 1,
                skipped: 3
            }
        );
        assert_eq!((c.passed(), c.failed()), (4, 3));
        assert_eq!(Counts::from_junit("<testsuites></testsuites>"), None);
    }

    #[test]
    fn the_runtime_pins_must_be_the_codex_version() {
        let ok = "maturin==1.16.0\nopenai-codex-cli-bin==0.163.0  # the runtime\nopenai-codex==0.163.0\n";
        check_versioned_pins(ok, "0.163.0").unwrap();
        let err = check_versioned_pins(ok, "0.164.0").unwrap_err().to_string();
        assert!(err.contains("openai-codex-cli-bin==0.163.0"), "{err}");
        let missing = "openai-codex-cli-bin==0.163.0\n";
        let err = check_versioned_pins(missing, "0.163.0")
            .unwrap_err()
            .to_string();
        assert!(err.contains("does not pin openai-codex==0.163.0"), "{err}");
    }
}

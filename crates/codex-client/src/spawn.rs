//! Starting `codex app-server`: finding the binary ([`find_codex_binary`]) and building its
//! command line from a [`SpawnConfig`].
//!
//! Discovery order (the first hit wins): the explicit path in [`SpawnConfig::program`], the
//! `CODEX_BIN` environment variable, `codex` on `PATH`, and the pinned runtime that
//! `cargo xtask install-codex` installs at
//! `<target>/codex-runtime/<CODEX_VERSION>/codex_cli_bin/bin/codex` (`<target>` is
//! `CARGO_TARGET_DIR` or the `target` directory of the workspace this crate was built in). An
//! explicit path or `CODEX_BIN` that does not exist is an error, not a reason to look elsewhere:
//! silently running another binary than the one asked for hides mistakes.

use crate::error::{Error, Result};
use crate::proto::CODEX_VERSION;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The environment variable naming the `codex` binary.
pub const CODEX_BIN_ENV: &str = "CODEX_BIN";

/// How to start the app-server process.
///
/// The default runs `<discovered codex> app-server` in the current directory with the inherited
/// environment. Every launch detail can be set explicitly, e.g. from a test kit's launch data:
///
/// # The environment
///
/// By default the app-server **inherits this process's whole environment** (like any child
/// process), plus what [`env`](Self::env) adds, minus what [`env_remove`](Self::env_remove)
/// removes. That includes credentials such as `OPENAI_API_KEY` and `CODEX_API_KEY`, which the
/// app-server uses, and anything else you have exported. For a clean, explicit environment start
/// from nothing with [`env_clear(true)`](Self::env_clear) and add exactly what the server needs
/// (`PATH`, `HOME`, `CODEX_HOME`, a key if it must have one); that is what the test kit does.
///
/// `Debug` prints the names of the variables set here but never their values (`<redacted>`),
/// since they are often secrets; arguments are printed as they are, so do not pass secrets in
/// `-c` overrides.
///
/// ```
/// use codex_client::SpawnConfig;
///
/// let config = SpawnConfig::new()
///     .program("/opt/codex/bin/codex")
///     .config_override("analytics.enabled", "false")
///     .disable_feature("plugins")
///     .env("RUST_LOG", "warn")
///     .cwd("/tmp");
/// let cmd = config.to_std_command().unwrap();
/// assert_eq!(cmd.get_program(), "/opt/codex/bin/codex");
/// let args: Vec<_> = cmd.get_args().map(|a| a.to_str().unwrap().to_owned()).collect();
/// assert_eq!(args, ["app-server", "-c", "analytics.enabled=false", "--disable", "plugins"]);
/// ```
#[derive(Clone)]
pub struct SpawnConfig {
    pub(crate) program: Option<PathBuf>,
    pub(crate) args: Vec<String>,
    pub(crate) config_overrides: Vec<String>,
    pub(crate) enable: Vec<String>,
    pub(crate) disable: Vec<String>,
    pub(crate) extra_args: Vec<String>,
    pub(crate) cwd: Option<PathBuf>,
    pub(crate) env_clear: bool,
    pub(crate) env: Vec<(OsString, OsString)>,
    pub(crate) env_remove: Vec<OsString>,
    pub(crate) process_group: bool,
    pub(crate) stderr_tail_lines: usize,
    pub(crate) stderr_tail_bytes: usize,
}

impl std::fmt::Debug for SpawnConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        /// `NAME=<redacted>`: environment values are often secrets.
        struct Redacted<'a>(&'a [(OsString, OsString)]);
        impl std::fmt::Debug for Redacted<'_> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_list()
                    .entries(
                        self.0
                            .iter()
                            .map(|(k, _)| format!("{}=<redacted>", k.to_string_lossy())),
                    )
                    .finish()
            }
        }
        f.debug_struct("SpawnConfig")
            .field("program", &self.program)
            .field("args", &self.args)
            .field("config_overrides", &self.config_overrides)
            .field("enable", &self.enable)
            .field("disable", &self.disable)
            .field("extra_args", &self.extra_args)
            .field("cwd", &self.cwd)
            .field("env_clear", &self.env_clear)
            .field("env", &Redacted(&self.env))
            .field("env_remove", &self.env_remove)
            .field("process_group", &self.process_group)
            .field("stderr_tail_lines", &self.stderr_tail_lines)
            .field("stderr_tail_bytes", &self.stderr_tail_bytes)
            .finish()
    }
}

impl Default for SpawnConfig {
    fn default() -> Self {
        Self {
            program: None,
            args: vec!["app-server".to_owned()],
            config_overrides: Vec::new(),
            enable: Vec::new(),
            disable: Vec::new(),
            extra_args: Vec::new(),
            cwd: None,
            env_clear: false,
            env: Vec::new(),
            env_remove: Vec::new(),
            process_group: true,
            stderr_tail_lines: 100,
            stderr_tail_bytes: 16 * 1024,
        }
    }
}

impl SpawnConfig {
    /// The default: discovered `codex`, `app-server`, inherited environment.
    ///
    /// ```
    /// let config = codex_client::SpawnConfig::new();
    /// # let _ = config;
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// A fully explicit launch: `program` with exactly `args` (which must include `app-server`),
    /// e.g. the launch data of a test harness. Overrides and features added later are appended.
    ///
    /// ```
    /// let config = codex_client::SpawnConfig::explicit("/bin/codex", ["app-server", "--disable", "apps"]);
    /// assert_eq!(config.to_std_command().unwrap().get_args().count(), 3);
    /// ```
    pub fn explicit<I, S>(program: impl Into<PathBuf>, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            program: Some(program.into()),
            args: args.into_iter().map(Into::into).collect(),
            ..Self::default()
        }
    }

    /// Uses this binary instead of discovering one.
    ///
    /// ```
    /// let config = codex_client::SpawnConfig::new().program("/usr/local/bin/codex");
    /// # let _ = config;
    /// ```
    pub fn program(mut self, path: impl Into<PathBuf>) -> Self {
        self.program = Some(path.into());
        self
    }

    /// Replaces the base arguments (default `["app-server"]`).
    ///
    /// ```
    /// let config = codex_client::SpawnConfig::new().args(["app-server", "--strict-config"]);
    /// # let _ = config;
    /// ```
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.args = args.into_iter().map(Into::into).collect();
        self
    }

    /// Adds `-c key=value` (`value` is TOML: `"\"gpt-5\""`, `false`, `3`).
    ///
    /// ```
    /// let config = codex_client::SpawnConfig::new().config_override("model", "\"gpt-5\"");
    /// # let _ = config;
    /// ```
    pub fn config_override(mut self, key: &str, value: &str) -> Self {
        self.config_overrides.push(format!("{key}={value}"));
        self
    }

    /// Adds `--enable FEATURE`.
    ///
    /// ```
    /// let config = codex_client::SpawnConfig::new().enable_feature("shell_snapshot");
    /// # let _ = config;
    /// ```
    pub fn enable_feature(mut self, feature: impl Into<String>) -> Self {
        self.enable.push(feature.into());
        self
    }

    /// Adds `--disable FEATURE`.
    ///
    /// ```
    /// let config = codex_client::SpawnConfig::new().disable_feature("plugins");
    /// # let _ = config;
    /// ```
    pub fn disable_feature(mut self, feature: impl Into<String>) -> Self {
        self.disable.push(feature.into());
        self
    }

    /// Appends raw arguments after everything else.
    ///
    /// ```
    /// let config = codex_client::SpawnConfig::new().arg("--strict-config");
    /// # let _ = config;
    /// ```
    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.extra_args.push(arg.into());
        self
    }

    /// The working directory of the process.
    ///
    /// ```
    /// let config = codex_client::SpawnConfig::new().cwd("/tmp");
    /// # let _ = config;
    /// ```
    pub fn cwd(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cwd = Some(dir.into());
        self
    }

    /// Starts from an empty environment instead of inheriting this process's.
    ///
    /// ```
    /// let config = codex_client::SpawnConfig::new().env_clear(true).env("PATH", "/usr/bin");
    /// # let _ = config;
    /// ```
    pub fn env_clear(mut self, clear: bool) -> Self {
        self.env_clear = clear;
        self
    }

    /// Sets an environment variable of the process.
    ///
    /// ```
    /// let config = codex_client::SpawnConfig::new().env("RUST_LOG", "warn");
    /// # let _ = config;
    /// ```
    pub fn env(mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Sets several environment variables for the app-server (like [`env`](Self::env) for each).
    ///
    /// ```
    /// let config = codex_client::SpawnConfig::new().envs([("CODEX_HOME", "/tmp/h"), ("RUST_LOG", "warn")]);
    /// # let _ = config;
    /// ```
    pub fn envs<I, K, V>(mut self, vars: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<OsString>,
        V: Into<OsString>,
    {
        self.env
            .extend(vars.into_iter().map(|(k, v)| (k.into(), v.into())));
        self
    }

    /// Removes an inherited environment variable.
    ///
    /// ```
    /// let config = codex_client::SpawnConfig::new().env_remove("OPENAI_API_KEY");
    /// # let _ = config;
    /// ```
    pub fn env_remove(mut self, key: impl Into<OsString>) -> Self {
        self.env_remove.push(key.into());
        self
    }

    /// Runs the app-server in its own process group (default `true`), so that closing or
    /// dropping the client also stops the commands it started, and a terminal's Ctrl-C reaches
    /// the client first.
    ///
    /// ```
    /// let config = codex_client::SpawnConfig::new().process_group(false);
    /// # let _ = config;
    /// ```
    pub fn process_group(mut self, own_group: bool) -> Self {
        self.process_group = own_group;
        self
    }

    /// How much of stderr to keep for error reports (default: the last 100 lines, at most 16 KiB).
    ///
    /// ```
    /// let config = codex_client::SpawnConfig::new().stderr_tail(20, 4096);
    /// # let _ = config;
    /// ```
    pub fn stderr_tail(mut self, lines: usize, bytes: usize) -> Self {
        self.stderr_tail_lines = lines.max(1);
        self.stderr_tail_bytes = bytes.max(64);
        self
    }

    /// The binary this configuration would run (see the module docs for the order).
    ///
    /// ```no_run
    /// let path = codex_client::SpawnConfig::new().resolve_program()?;
    /// println!("{}", path.display());
    /// # Ok::<(), codex_client::Error>(())
    /// ```
    pub fn resolve_program(&self) -> Result<PathBuf> {
        find_codex_binary(self.program.as_deref())
    }

    /// The full argument list after the program.
    ///
    /// ```
    /// let args = codex_client::SpawnConfig::new().enable_feature("x").command_args();
    /// assert_eq!(args, ["app-server", "--enable", "x"]);
    /// ```
    pub fn command_args(&self) -> Vec<String> {
        let mut args = self.args.clone();
        for value in &self.config_overrides {
            args.push("-c".to_owned());
            args.push(value.clone());
        }
        for feature in &self.enable {
            args.push("--enable".to_owned());
            args.push(feature.clone());
        }
        for feature in &self.disable {
            args.push("--disable".to_owned());
            args.push(feature.clone());
        }
        args.extend(self.extra_args.iter().cloned());
        args
    }

    /// The command this configuration runs (stdio not set up yet).
    ///
    /// ```
    /// let cmd = codex_client::SpawnConfig::new().program("/bin/codex").to_std_command()?;
    /// assert_eq!(cmd.get_program(), "/bin/codex");
    /// # Ok::<(), codex_client::Error>(())
    /// ```
    pub fn to_std_command(&self) -> Result<std::process::Command> {
        let program = match &self.program {
            // An explicit program is taken as given here; `spawn` reports a missing one.
            Some(p) => p.clone(),
            None => self.resolve_program()?,
        };
        let mut cmd = std::process::Command::new(program);
        cmd.args(self.command_args());
        if let Some(cwd) = &self.cwd {
            cmd.current_dir(cwd);
        }
        if self.env_clear {
            cmd.env_clear();
        }
        for key in &self.env_remove {
            cmd.env_remove(key);
        }
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        #[cfg(unix)]
        if self.process_group {
            use std::os::unix::process::CommandExt;
            cmd.process_group(0);
        }
        Ok(cmd)
    }
}

/// Finds the `codex` binary: `explicit`, else `CODEX_BIN`, else `codex` on `PATH`, else the
/// pinned runtime installed by `cargo xtask install-codex`. The error lists every place searched
/// and how to install the binary.
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
    match pinned_runtime_binary() {
        Some(pinned) if is_executable(&pinned) => return Ok(pinned),
        Some(pinned) => searched.push(format!("{} (pinned runtime)", pinned.display())),
        None => searched.push("the pinned runtime (workspace target dir unknown)".to_owned()),
    }
    Err(not_found(searched))
}

fn not_found(searched: Vec<String>) -> Error {
    Error::BinaryNotFound {
        searched,
        version: CODEX_VERSION,
    }
}

/// Where `cargo xtask install-codex` installs the pinned runtime's `codex`, when the workspace's
/// target directory is known (`CARGO_TARGET_DIR`, or the workspace this crate was built in).
///
/// ```
/// if let Some(path) = codex_client::pinned_runtime_binary() {
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

/// The nearest ancestor of this crate's manifest directory (known at compile time) whose
/// `Cargo.toml` declares `[workspace]`.
fn workspace_root() -> Option<PathBuf> {
    let manifest_dir = Path::new(option_env!("CARGO_MANIFEST_DIR")?);
    manifest_dir.ancestors().find_map(|dir| {
        let text = std::fs::read_to_string(dir.join("Cargo.toml")).ok()?;
        text.lines()
            .any(|line| line.trim() == "[workspace]")
            .then(|| dir.to_path_buf())
    })
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
mod tests {
    use super::*;

    #[test]
    fn explicit_missing_path_is_an_error_naming_it() {
        let err = find_codex_binary(Some(Path::new("/nonexistent/codex"))).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("/nonexistent/codex"), "{text}");
        assert!(text.contains("cargo xtask install-codex"), "{text}");
        assert!(
            text.contains(&format!("openai-codex-cli-bin=={CODEX_VERSION}")),
            "{text}"
        );
    }

    #[test]
    fn pinned_runtime_is_under_the_workspace_target() {
        let path = pinned_runtime_binary().expect("built inside the workspace");
        assert!(
            path.to_string_lossy().ends_with(&format!(
                "codex-runtime/{CODEX_VERSION}/codex_cli_bin/bin/codex"
            )),
            "{}",
            path.display()
        );
    }

    #[test]
    fn command_line_order() {
        let config = SpawnConfig::explicit("/x/codex", ["app-server"])
            .config_override("a", "1")
            .enable_feature("e")
            .disable_feature("d")
            .arg("--strict-config")
            .env("K", "V")
            .env_clear(true)
            .cwd("/tmp");
        let cmd = config.to_std_command().unwrap();
        let args: Vec<_> = cmd
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            args,
            [
                "app-server",
                "-c",
                "a=1",
                "--enable",
                "e",
                "--disable",
                "d",
                "--strict-config"
            ]
        );
        assert_eq!(cmd.get_current_dir(), Some(Path::new("/tmp")));
        let envs: Vec<_> = cmd.get_envs().collect();
        assert!(envs.contains(&(std::ffi::OsStr::new("K"), Some(std::ffi::OsStr::new("V")))));
    }
}

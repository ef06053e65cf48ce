//! The app-server's command line: [`SpawnConfig`] (program, arguments, `-c` overrides,
//! `--enable`/`--disable`, cwd, environment, process group, stderr tail) and the
//! `std::process::Command` it builds.

use super::discovery::{find_codex_binary, runtime_path_dir};
use crate::error::Result;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

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
///     .codex_bin("/opt/codex/bin/codex")
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
    pub(crate) runtime_path: bool,
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
            .field("runtime_path", &self.runtime_path)
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
            runtime_path: true,
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

    /// A launch given as plain data — program, arguments (starting with `app-server`), whether to
    /// clear the inherited environment, the variables to set, the working directory — such as the
    /// fields of the test kit's `AppServerLaunch` (the bridge from `codex-client-testkit`, which
    /// does not depend on this crate), for
    /// [`CodexBuilder::spawn`](crate::CodexBuilder::spawn).
    ///
    /// ```
    /// use codex_client::SpawnConfig;
    ///
    /// let launch = codex_client_testkit::AppServerLaunch {
    ///     program: "/opt/codex/bin/codex".into(),
    ///     args: vec!["app-server".into(), "--disable".into(), "plugins".into()],
    ///     env: vec![("CODEX_HOME".into(), "/tmp/codex-home".into())],
    ///     env_clear: true,
    ///     cwd: "/tmp".into(),
    /// };
    /// let config = SpawnConfig::from_launch(launch.program, launch.args, launch.env_clear, launch.env, launch.cwd);
    /// let cmd = config.to_std_command()?;
    /// assert_eq!(cmd.get_program(), "/opt/codex/bin/codex");
    /// assert_eq!(cmd.get_args().count(), 3);
    /// assert_eq!(cmd.get_current_dir(), Some(std::path::Path::new("/tmp")));
    /// # Ok::<(), codex_client::Error>(())
    /// ```
    pub fn from_launch<A, S, E, K, V>(
        program: impl Into<PathBuf>,
        args: A,
        env_clear: bool,
        env: E,
        cwd: impl Into<PathBuf>,
    ) -> Self
    where
        A: IntoIterator<Item = S>,
        S: Into<String>,
        E: IntoIterator<Item = (K, V)>,
        K: Into<OsString>,
        V: Into<OsString>,
    {
        Self::explicit(program, args)
            .env_clear(env_clear)
            .envs(env)
            .cwd(cwd)
    }

    /// Uses this binary instead of discovering one.
    ///
    /// ```
    /// let config = codex_client::SpawnConfig::new().codex_bin("/usr/local/bin/codex");
    /// # let _ = config;
    /// ```
    pub fn codex_bin(mut self, path: impl Into<PathBuf>) -> Self {
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

    /// Puts the runtime package's helper tools (`<pkg>/codex-path`, with `rg`) in front of the
    /// child's `PATH` when the binary sits in the runtime package's layout (default `true`; see
    /// the module docs). The `PATH` extended is the one set with [`env`](Self::env), else the
    /// inherited one; with [`env_clear(true)`](Self::env_clear) and no `PATH` set, nothing is
    /// added (the child keeps the system's default search path).
    ///
    /// ```
    /// let config = codex_client::SpawnConfig::new().runtime_path(false);
    /// # let _ = config;
    /// ```
    pub fn runtime_path(mut self, enabled: bool) -> Self {
        self.runtime_path = enabled;
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

    /// The child's `PATH` with `dir` in front (once), or `None` when the child gets no `PATH`.
    fn child_path_with(&self, dir: &Path) -> Option<OsString> {
        let set = self.env.iter().rev().find(|(k, _)| k == "PATH");
        let base = match set {
            Some((_, value)) => Some(value.clone()),
            None if self.env_clear || self.env_remove.iter().any(|k| k == "PATH") => None,
            None => std::env::var_os("PATH"),
        }?;
        let rest = std::env::split_paths(&base).filter(|p| p != dir);
        std::env::join_paths(std::iter::once(dir.to_path_buf()).chain(rest)).ok()
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
    /// let cmd = codex_client::SpawnConfig::new().codex_bin("/bin/codex").to_std_command()?;
    /// assert_eq!(cmd.get_program(), "/bin/codex");
    /// # Ok::<(), codex_client::Error>(())
    /// ```
    pub fn to_std_command(&self) -> Result<std::process::Command> {
        let program = match &self.program {
            // An explicit program is taken as given here; `spawn` reports a missing one.
            Some(p) => p.clone(),
            None => self.resolve_program()?,
        };
        let helper_dir = self
            .runtime_path
            .then(|| runtime_path_dir(&program))
            .flatten();
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
        if let Some(dir) = helper_dir
            && let Some(path) = self.child_path_with(&dir)
        {
            cmd.env("PATH", path);
        }
        #[cfg(unix)]
        if self.process_group {
            use std::os::unix::process::CommandExt;
            cmd.process_group(0);
        }
        Ok(cmd)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spawn::discovery::tests::fake_package;

    #[test]
    fn the_helper_tools_go_in_front_of_the_child_path_for_the_runtime_layout_only() {
        let root = tempfile::tempdir().unwrap();
        let bin = fake_package(root.path());
        let helpers = std::fs::canonicalize(root.path().join("codex_cli_bin/codex-path")).unwrap();
        assert_eq!(runtime_path_dir(&bin), Some(helpers.clone()));
        let path_of = |config: SpawnConfig| {
            let cmd = config.to_std_command().unwrap();
            cmd.get_envs()
                .find(|(k, _)| *k == "PATH")
                .and_then(|(_, v)| v.map(|v| v.to_owned()))
        };
        let expected = std::env::join_paths([helpers.clone(), "/usr/bin".into()]).unwrap();
        let explicit = SpawnConfig::new().codex_bin(&bin).env("PATH", "/usr/bin");
        assert_eq!(path_of(explicit.clone()), Some(expected.clone()));
        // Already there: not added twice.
        assert_eq!(path_of(explicit.env("PATH", &expected)), Some(expected));
        // Turned off, or not the runtime layout: PATH untouched.
        let off = SpawnConfig::new()
            .codex_bin(&bin)
            .env("PATH", "/usr/bin")
            .runtime_path(false);
        assert_eq!(path_of(off), Some("/usr/bin".into()));
        let other = SpawnConfig::new()
            .codex_bin("/bin/sh")
            .env("PATH", "/usr/bin");
        assert_eq!(path_of(other), Some("/usr/bin".into()));
        // A cleared environment without PATH keeps the system's default search path.
        assert_eq!(
            path_of(SpawnConfig::new().codex_bin(&bin).env_clear(true)),
            None
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

//! [`CodexSandbox`]: the throwaway directories and the exact command line that run the real
//! `codex app-server` offline against a [`MockModel`](crate::MockModel), and [`AppServerLaunch`], that
//! command line as plain data.
//!
//! The command line is the offline one established by running codex 0.163.0 in a loopback-only
//! network namespace: a provider named
//! `mock` pointed at the mock's loopback `base_url`, no retries, analytics off, and the
//! `--disable` flags without which codex reaches out to chatgpt.com and github.com at
//! `thread/start` and retries forever when the model is unreachable. The environment is cleared
//! and rebuilt from `PATH`, `HOME`, `CODEX_HOME`, `TMPDIR`, `RUST_LOG` and `LANG`; `TMPDIR` is a
//! sibling of `CODEX_HOME`, never its parent (inside it, codex refuses to create its helper
//! aliases and warns on stderr).
//!
//! [`AppServerLaunch`] does not depend on any client: an SDK builds its own process from the
//! fields, or calls [`AppServerLaunch::command`].

use std::path::{Path, PathBuf};

/// The model name the sandbox configures (a name codex does not know: each turn gets a harmless
/// "model metadata not found" warning).
///
/// ```
/// assert_eq!(codex_client_testkit::MOCK_MODEL_NAME, "mock-model");
/// ```
pub const MOCK_MODEL_NAME: &str = "mock-model";

/// The `--disable` feature flags every offline launch carries.
///
/// ```
/// assert!(codex_client_testkit::DISABLED_FEATURES.contains(&"unbounded_connection_retries"));
/// ```
pub const DISABLED_FEATURES: [&str; 6] = [
    "plugins",
    "remote_plugin",
    "apps",
    "plugin_sharing",
    "tool_suggest",
    "unbounded_connection_retries",
];

/// How to start one app-server process: program, arguments, environment, working directory.
///
/// ```
/// use codex_client_testkit::AppServerLaunch;
///
/// let launch = AppServerLaunch {
///     program: "codex".into(),
///     args: vec!["app-server".into()],
///     env: vec![("RUST_LOG".into(), "warn".into())],
///     env_clear: true,
///     cwd: std::env::temp_dir(),
/// };
/// let cmd = launch.std_command();
/// assert_eq!(cmd.get_program(), "codex");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppServerLaunch {
    /// The `codex` binary.
    pub program: PathBuf,
    /// Arguments, starting with `app-server`.
    pub args: Vec<String>,
    /// Environment variables to set.
    pub env: Vec<(String, String)>,
    /// Whether to clear the inherited environment first.
    pub env_clear: bool,
    /// Working directory of the process.
    pub cwd: PathBuf,
}

impl AppServerLaunch {
    /// A [`tokio::process::Command`] with program, arguments, environment and working directory
    /// set (stdio is left to the caller).
    ///
    /// ```
    /// # use codex_client_testkit::AppServerLaunch;
    /// # let launch = AppServerLaunch { program: "codex".into(), args: vec![], env: vec![], env_clear: true, cwd: ".".into() };
    /// let mut cmd = launch.command();
    /// cmd.stdin(std::process::Stdio::piped()).stdout(std::process::Stdio::piped());
    /// ```
    pub fn command(&self) -> tokio::process::Command {
        tokio::process::Command::from(self.std_command())
    }

    /// The same as a [`std::process::Command`].
    ///
    /// ```
    /// # use codex_client_testkit::AppServerLaunch;
    /// # let launch = AppServerLaunch { program: "codex".into(), args: vec!["app-server".into()], env: vec![], env_clear: true, cwd: ".".into() };
    /// assert_eq!(launch.std_command().get_args().count(), 1);
    /// ```
    pub fn std_command(&self) -> std::process::Command {
        let mut cmd = std::process::Command::new(&self.program);
        cmd.args(&self.args).current_dir(&self.cwd);
        if self.env_clear {
            cmd.env_clear();
        }
        cmd.envs(self.env.iter().map(|(k, v)| (k, v)));
        cmd
    }

    /// The value of environment variable `key` in [`env`](Self::env).
    ///
    /// ```
    /// # use codex_client_testkit::AppServerLaunch;
    /// # let launch = AppServerLaunch { program: "codex".into(), args: vec![], env: vec![("HOME".into(), "/h".into())], env_clear: true, cwd: ".".into() };
    /// assert_eq!(launch.env_var("HOME"), Some("/h"));
    /// ```
    pub fn env_var(&self, key: &str) -> Option<&str> {
        self.env
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// Throwaway `CODEX_HOME`, `HOME`, `TMPDIR` and working directory for one app-server, and the
/// offline command line that uses them. Everything is deleted on drop.
///
/// Layout under one temporary root: `codex-home/`, `home/`, `tmp/`, `work/`.
///
/// ```no_run
/// use codex_client_testkit::{CodexSandbox, MockModel};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), codex_client_testkit::Error> {
/// let mock = MockModel::start().await?;
/// let codex = codex_client_testkit::find_codex_binary()?;
/// let sandbox = CodexSandbox::new(codex, mock.base_url())?;
/// let launch = sandbox.launch();
/// assert!(launch.args.iter().any(|a| a.contains(&mock.base_url())));
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct CodexSandbox {
    root: tempfile::TempDir,
    binary: PathBuf,
    base_url: String,
    extra_config: Vec<String>,
    rust_log: String,
}

impl CodexSandbox {
    /// Creates the directories; `base_url` is the mock's `http://127.0.0.1:<port>/v1`.
    ///
    /// ```
    /// # use codex_client_testkit::CodexSandbox;
    /// let sandbox = CodexSandbox::new("/path/to/codex", "http://127.0.0.1:9/v1")?;
    /// assert!(sandbox.codex_home().is_dir());
    /// assert!(!sandbox.codex_home().starts_with(sandbox.tmp_dir()));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn new(binary: impl Into<PathBuf>, base_url: impl Into<String>) -> std::io::Result<Self> {
        Self::new_in(std::env::temp_dir(), binary, base_url)
    }

    /// [`new`](Self::new) with the temporary root made inside `dir` (a test framework's
    /// per-test directory, say) instead of the system's temporary directory.
    ///
    /// ```
    /// # use codex_client_testkit::CodexSandbox;
    /// let dir = tempfile::tempdir()?;
    /// let sandbox = CodexSandbox::new_in(dir.path(), "/path/to/codex", "http://127.0.0.1:9/v1")?;
    /// assert!(sandbox.root().starts_with(dir.path()));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn new_in(
        dir: impl AsRef<Path>,
        binary: impl Into<PathBuf>,
        base_url: impl Into<String>,
    ) -> std::io::Result<Self> {
        let root = tempfile::Builder::new()
            .prefix("codex-testkit-")
            .tempdir_in(dir)?;
        for dir in ["codex-home", "home", "tmp", "work"] {
            std::fs::create_dir(root.path().join(dir))?;
        }
        Ok(Self {
            root,
            binary: binary.into(),
            base_url: base_url.into(),
            extra_config: Vec::new(),
            rust_log: "warn".to_owned(),
        })
    }

    /// Adds a `-c key=value` override (`value` is TOML, e.g. `"\"gpt-5\""` or `false`).
    ///
    /// ```
    /// # use codex_client_testkit::CodexSandbox;
    /// let sandbox = CodexSandbox::new("codex", "http://127.0.0.1:9/v1")?
    ///     .config("features.shell_snapshot", "false");
    /// assert!(sandbox.launch().args.contains(&"features.shell_snapshot=false".to_string()));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn config(mut self, key: &str, value: &str) -> Self {
        self.extra_config.push(format!("{key}={value}"));
        self
    }

    /// Sets `RUST_LOG` of the app-server (default `warn`).
    ///
    /// ```
    /// # use codex_client_testkit::CodexSandbox;
    /// let sandbox = CodexSandbox::new("codex", "http://127.0.0.1:9/v1")?.rust_log("info");
    /// assert_eq!(sandbox.launch().env_var("RUST_LOG"), Some("info"));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn rust_log(mut self, filter: impl Into<String>) -> Self {
        self.rust_log = filter.into();
        self
    }

    /// The temporary root holding all the directories.
    ///
    /// ```
    /// # use codex_client_testkit::CodexSandbox;
    /// let sandbox = CodexSandbox::new("codex", "http://127.0.0.1:9/v1")?;
    /// assert!(sandbox.workdir().starts_with(sandbox.root()));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn root(&self) -> &Path {
        self.root.path()
    }

    /// `CODEX_HOME` of the app-server.
    ///
    /// ```
    /// # use codex_client_testkit::CodexSandbox;
    /// let sandbox = CodexSandbox::new("codex", "http://127.0.0.1:9/v1")?;
    /// assert!(sandbox.codex_home().ends_with("codex-home"));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn codex_home(&self) -> PathBuf {
        self.root.path().join("codex-home")
    }

    /// `HOME` of the app-server (empty: commands run by `bash -lc` source no real `.bashrc`).
    ///
    /// ```
    /// # use codex_client_testkit::CodexSandbox;
    /// let sandbox = CodexSandbox::new("codex", "http://127.0.0.1:9/v1")?;
    /// assert!(sandbox.home().is_dir());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn home(&self) -> PathBuf {
        self.root.path().join("home")
    }

    /// `TMPDIR` of the app-server (does not contain `CODEX_HOME`).
    ///
    /// ```
    /// # use codex_client_testkit::CodexSandbox;
    /// let sandbox = CodexSandbox::new("codex", "http://127.0.0.1:9/v1")?;
    /// assert!(sandbox.tmp_dir().is_dir());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn tmp_dir(&self) -> PathBuf {
        self.root.path().join("tmp")
    }

    /// `thread/start` params for this sandbox: `params` with `cwd` defaulting to the
    /// [`workdir`](Self::workdir), `approvalPolicy` to `never` and `sandbox` to `read-only`,
    /// unless given (anything but an object counts as `{}`).
    ///
    /// ```
    /// # use codex_client_testkit::CodexSandbox;
    /// let sandbox = CodexSandbox::new("codex", "http://127.0.0.1:9/v1")?;
    /// let params = sandbox.thread_start_params(serde_json::json!({"sandbox": "workspace-write"}));
    /// assert_eq!(params["approvalPolicy"], "never");
    /// assert_eq!(params["sandbox"], "workspace-write");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn thread_start_params(&self, params: serde_json::Value) -> serde_json::Value {
        let mut params = match params {
            serde_json::Value::Object(map) => map,
            _ => serde_json::Map::new(),
        };
        let defaults = [
            ("cwd", serde_json::json!(self.workdir())),
            ("approvalPolicy", serde_json::json!("never")),
            ("sandbox", serde_json::json!("read-only")),
        ];
        for (key, value) in defaults {
            params.entry(key).or_insert(value);
        }
        serde_json::Value::Object(params)
    }

    /// The working directory of the app-server, and the natural `cwd` for its threads.
    ///
    /// ```
    /// # use codex_client_testkit::CodexSandbox;
    /// let sandbox = CodexSandbox::new("codex", "http://127.0.0.1:9/v1")?;
    /// assert!(sandbox.workdir().is_dir());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn workdir(&self) -> PathBuf {
        self.root.path().join("work")
    }

    /// The `codex` binary this sandbox launches.
    ///
    /// ```
    /// # use codex_client_testkit::CodexSandbox;
    /// let sandbox = CodexSandbox::new("/opt/codex", "http://127.0.0.1:9/v1")?;
    /// assert_eq!(sandbox.binary(), std::path::Path::new("/opt/codex"));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn binary(&self) -> &Path {
        &self.binary
    }

    /// The `-c` overrides (without the `-c`), in order.
    ///
    /// ```
    /// # use codex_client_testkit::CodexSandbox;
    /// let sandbox = CodexSandbox::new("codex", "http://127.0.0.1:9/v1")?;
    /// assert_eq!(sandbox.config_overrides()[0], r#"model_provider="mock""#);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn config_overrides(&self) -> Vec<String> {
        let mut overrides = vec![
            r#"model_provider="mock""#.to_owned(),
            format!(r#"model="{MOCK_MODEL_NAME}""#),
            r#"model_providers.mock.name="Mock Responses""#.to_owned(),
            format!(r#"model_providers.mock.base_url="{}""#, self.base_url),
            r#"model_providers.mock.wire_api="responses""#.to_owned(),
            "model_providers.mock.request_max_retries=0".to_owned(),
            "model_providers.mock.stream_max_retries=0".to_owned(),
            "analytics.enabled=false".to_owned(),
        ];
        overrides.extend(self.extra_config.iter().cloned());
        overrides
    }

    /// The launch of `codex app-server` against the mock, with a clean environment.
    ///
    /// ```
    /// # use codex_client_testkit::CodexSandbox;
    /// let sandbox = CodexSandbox::new("codex", "http://127.0.0.1:9/v1")?;
    /// let launch = sandbox.launch();
    /// assert_eq!(launch.args[0], "app-server");
    /// assert!(launch.env_clear);
    /// assert_eq!(launch.env_var("CODEX_HOME"), Some(sandbox.codex_home().to_str().unwrap()));
    /// assert!(launch.args.windows(2).any(|w| w == ["--disable", "unbounded_connection_retries"]));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn launch(&self) -> AppServerLaunch {
        let mut args = vec!["app-server".to_owned()];
        for value in self.config_overrides() {
            args.push("-c".to_owned());
            args.push(value);
        }
        for feature in DISABLED_FEATURES {
            args.push("--disable".to_owned());
            args.push(feature.to_owned());
        }
        let inherited_path = std::env::var("PATH")
            .ok()
            .filter(|p| !p.is_empty())
            .unwrap_or_else(|| "/usr/local/bin:/usr/bin:/bin".to_owned());
        let path = match crate::runtime_path_dir(&self.binary) {
            Some(dir) => format!("{}:{inherited_path}", dir.display()),
            None => inherited_path,
        };
        let lang = std::env::var("LANG")
            .ok()
            .filter(|l| !l.is_empty())
            .unwrap_or_else(|| "C.UTF-8".to_owned());
        let display = |p: PathBuf| p.to_string_lossy().into_owned();
        AppServerLaunch {
            program: self.binary.clone(),
            args,
            env: vec![
                ("PATH".to_owned(), path),
                ("HOME".to_owned(), display(self.home())),
                ("CODEX_HOME".to_owned(), display(self.codex_home())),
                ("TMPDIR".to_owned(), display(self.tmp_dir())),
                ("RUST_LOG".to_owned(), self.rust_log.clone()),
                ("LANG".to_owned(), lang),
            ],
            env_clear: true,
            cwd: self.workdir(),
        }
    }
}

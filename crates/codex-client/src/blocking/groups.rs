//! The blocking group handles, one per async group of `src/api/` ([`crate::api::Threads`],
//! [`crate::api::Account`], ...): the same names and arguments, each call a `wait` on the
//! async one. Obtained from the blocking [`Codex`] (`codex.threads()`, `codex.files()`, ...).

use super::codex::Codex;
use super::extras::{ChatgptLogin, CommandExec, DeviceCodeLogin};
use super::thread::Thread;
use crate::api::{ListThreads, Secret, ThreadOptions, ThreadPage};
use crate::error::Result;
use crate::proto::{
    CommandExecParams, CommandExecResponse, ConfigEdit, ConfigReadResponse, ConfigWriteResponse,
    FsGetMetadataResponse, FsReadDirectoryEntry, GetAccountRateLimitsResponse, GetAccountResponse,
    GetAccountTokenUsageResponse, McpServerStatus, Model, ModelProviderCapabilitiesReadResponse,
    SkillsListEntry, ThreadListParams,
};
use std::path::Path;

macro_rules! handle {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug)]
        pub struct $name<'a> {
            codex: &'a Codex,
        }

        impl<'a> $name<'a> {
            pub(super) fn new(codex: &'a Codex) -> Self {
                Self { codex }
            }

            fn async_codex(&self) -> &'a crate::api::Codex {
                self.codex.inner()
            }

            fn wait<F: std::future::Future>(&self, future: F) -> F::Output {
                self.codex.shared().wait(future)
            }
        }
    };
}

handle!(
    /// Threads by id (see [`crate::api::Threads`]).
    ///
    /// ```no_run
    /// # fn f(codex: codex_client::blocking::Codex) -> Result<(), codex_client::Error> {
    /// use codex_client::blocking::{ListThreads, ThreadOptions};
    /// let thread = codex.threads().start(ThreadOptions::new())?;
    /// thread.run("Say hello.")?;
    /// let page = codex.threads().list(ListThreads::new().limit(10))?;
    /// let stored = codex.threads().read_with_turns(&page.threads[0].id)?;
    /// println!("{} turns", stored.turns.len());
    /// # Ok(()) }
    /// ```
    Threads
);

impl Threads<'_> {
    /// See [`crate::api::Threads::start`].
    pub fn start(&self, options: ThreadOptions) -> Result<Thread> {
        let thread = self.wait(self.async_codex().threads().start(options))?;
        Ok(self.codex.thread(thread))
    }

    /// See [`crate::api::Threads::resume`].
    pub fn resume(&self, thread_id: &str, options: ThreadOptions) -> Result<Thread> {
        let thread = self.wait(self.async_codex().threads().resume(thread_id, options))?;
        Ok(self.codex.thread(thread))
    }

    /// See [`crate::api::Threads::fork`].
    pub fn fork(&self, thread_id: &str, options: ThreadOptions) -> Result<Thread> {
        let thread = self.wait(self.async_codex().threads().fork(thread_id, options))?;
        Ok(self.codex.thread(thread))
    }

    /// See [`crate::api::Threads::list`].
    pub fn list(&self, query: ListThreads) -> Result<ThreadPage> {
        self.wait(self.async_codex().threads().list(query))
    }

    /// See [`crate::api::Threads::list_params`].
    pub fn list_params(&self, params: ThreadListParams) -> Result<ThreadPage> {
        self.wait(self.async_codex().threads().list_params(params))
    }

    /// See [`crate::api::Threads::read`].
    pub fn read(&self, thread_id: &str) -> Result<crate::proto::Thread> {
        self.wait(self.async_codex().threads().read(thread_id))
    }

    /// See [`crate::api::Threads::read_with_turns`].
    pub fn read_with_turns(&self, thread_id: &str) -> Result<crate::proto::Thread> {
        self.wait(self.async_codex().threads().read_with_turns(thread_id))
    }

    /// See [`crate::api::Threads::archive`].
    pub fn archive(&self, thread_id: &str) -> Result<()> {
        self.wait(self.async_codex().threads().archive(thread_id))
    }

    /// See [`crate::api::Threads::unarchive`].
    pub fn unarchive(&self, thread_id: &str) -> Result<Thread> {
        let thread = self.wait(self.async_codex().threads().unarchive(thread_id))?;
        Ok(self.codex.thread(thread))
    }
}

handle!(
    /// Login and account (see [`crate::api::Account`]).
    ///
    /// ```no_run
    /// # fn f(codex: codex_client::blocking::Codex) -> Result<(), codex_client::Error> {
    /// if codex.account().read()?.account.is_none() {
    ///     codex.account().login_api_key(std::env::var("OPENAI_API_KEY").expect("a key"))?;
    /// }
    /// # Ok(()) }
    /// ```
    Account
);

impl Account<'_> {
    /// See [`crate::api::Account::read`].
    pub fn read(&self) -> Result<GetAccountResponse> {
        self.wait(self.async_codex().account().read())
    }

    /// See [`crate::api::Account::read_refreshed`].
    pub fn read_refreshed(&self) -> Result<GetAccountResponse> {
        self.wait(self.async_codex().account().read_refreshed())
    }

    /// See [`crate::api::Account::login_api_key`].
    pub fn login_api_key(&self, api_key: impl Into<Secret>) -> Result<()> {
        self.wait(self.async_codex().account().login_api_key(api_key))
    }

    /// See [`crate::api::Account::login_chatgpt`].
    pub fn login_chatgpt(&self) -> Result<ChatgptLogin> {
        let inner = self.wait(self.async_codex().account().login_chatgpt())?;
        Ok(ChatgptLogin {
            inner,
            shared: self.codex.shared().clone(),
        })
    }

    /// See [`crate::api::Account::login_device_code`].
    pub fn login_device_code(&self) -> Result<DeviceCodeLogin> {
        let inner = self.wait(self.async_codex().account().login_device_code())?;
        Ok(DeviceCodeLogin {
            inner,
            shared: self.codex.shared().clone(),
        })
    }

    /// See [`crate::api::Account::logout`].
    pub fn logout(&self) -> Result<()> {
        self.wait(self.async_codex().account().logout())
    }

    /// See [`crate::api::Account::rate_limits`].
    pub fn rate_limits(&self) -> Result<GetAccountRateLimitsResponse> {
        self.wait(self.async_codex().account().rate_limits())
    }

    /// See [`crate::api::Account::token_usage`].
    pub fn token_usage(&self, thread_id: Option<&str>) -> Result<GetAccountTokenUsageResponse> {
        self.wait(self.async_codex().account().token_usage(thread_id))
    }
}

handle!(
    /// The model catalog (see [`crate::api::Models`]).
    ///
    /// ```no_run
    /// # fn f(codex: codex_client::blocking::Codex) -> Result<(), codex_client::Error> {
    /// for model in codex.models().list()? {
    ///     println!("{}", model.id);
    /// }
    /// # Ok(()) }
    /// ```
    Models
);

impl Models<'_> {
    /// See [`crate::api::Models::list`].
    pub fn list(&self) -> Result<Vec<Model>> {
        self.wait(self.async_codex().models().list())
    }

    /// See [`crate::api::Models::list_including_hidden`].
    pub fn list_including_hidden(&self) -> Result<Vec<Model>> {
        self.wait(self.async_codex().models().list_including_hidden())
    }

    /// See [`crate::api::Models::provider_capabilities`].
    pub fn provider_capabilities(&self) -> Result<ModelProviderCapabilitiesReadResponse> {
        self.wait(self.async_codex().models().provider_capabilities())
    }
}

handle!(
    /// The app-server machine's file system (see [`crate::api::Files`]).
    ///
    /// ```no_run
    /// # fn f(codex: codex_client::blocking::Codex) -> Result<(), codex_client::Error> {
    /// let files = codex.files();
    /// files.create_dir_all("/tmp/work/notes")?;
    /// files.write("/tmp/work/notes/todo.txt", b"ship it\n")?;
    /// assert_eq!(files.read("/tmp/work/notes/todo.txt")?, b"ship it\n");
    /// files.remove_all("/tmp/work")?;
    /// # Ok(()) }
    /// ```
    Files
);

impl Files<'_> {
    /// See [`crate::api::Files::read`].
    pub fn read(&self, path: impl AsRef<Path>) -> Result<Vec<u8>> {
        self.wait(self.async_codex().files().read(path))
    }

    /// See [`crate::api::Files::write`].
    pub fn write(&self, path: impl AsRef<Path>, data: &[u8]) -> Result<()> {
        self.wait(self.async_codex().files().write(path, data))
    }

    /// See [`crate::api::Files::read_dir`].
    pub fn read_dir(&self, path: impl AsRef<Path>) -> Result<Vec<FsReadDirectoryEntry>> {
        self.wait(self.async_codex().files().read_dir(path))
    }

    /// See [`crate::api::Files::metadata`].
    pub fn metadata(&self, path: impl AsRef<Path>) -> Result<FsGetMetadataResponse> {
        self.wait(self.async_codex().files().metadata(path))
    }

    /// See [`crate::api::Files::create_dir`].
    pub fn create_dir(&self, path: impl AsRef<Path>) -> Result<()> {
        self.wait(self.async_codex().files().create_dir(path))
    }

    /// See [`crate::api::Files::create_dir_all`].
    pub fn create_dir_all(&self, path: impl AsRef<Path>) -> Result<()> {
        self.wait(self.async_codex().files().create_dir_all(path))
    }

    /// See [`crate::api::Files::remove`].
    pub fn remove(&self, path: impl AsRef<Path>) -> Result<()> {
        self.wait(self.async_codex().files().remove(path))
    }

    /// See [`crate::api::Files::remove_all`].
    pub fn remove_all(&self, path: impl AsRef<Path>) -> Result<()> {
        self.wait(self.async_codex().files().remove_all(path))
    }

    /// See [`crate::api::Files::copy`].
    pub fn copy(&self, from: impl AsRef<Path>, to: impl AsRef<Path>) -> Result<()> {
        self.wait(self.async_codex().files().copy(from, to))
    }
}

handle!(
    /// The app-server's configuration (see [`crate::api::ServerConfig`]).
    ///
    /// ```no_run
    /// # fn f(codex: codex_client::blocking::Codex) -> Result<(), codex_client::Error> {
    /// println!("{:?}", codex.server_config().read()?.config.model);
    /// codex.server_config().write_value("model", serde_json::json!("gpt-5"))?;
    /// # Ok(()) }
    /// ```
    ServerConfig
);

impl ServerConfig<'_> {
    /// See [`crate::api::ServerConfig::read`].
    pub fn read(&self) -> Result<ConfigReadResponse> {
        self.wait(self.async_codex().server_config().read())
    }

    /// See [`crate::api::ServerConfig::read_for`].
    pub fn read_for(&self, cwd: &str) -> Result<ConfigReadResponse> {
        self.wait(self.async_codex().server_config().read_for(cwd))
    }

    /// See [`crate::api::ServerConfig::write_value`].
    pub fn write_value(
        &self,
        key_path: &str,
        value: serde_json::Value,
    ) -> Result<ConfigWriteResponse> {
        self.wait(
            self.async_codex()
                .server_config()
                .write_value(key_path, value),
        )
    }

    /// See [`crate::api::ServerConfig::write`].
    pub fn write(&self, edits: Vec<ConfigEdit>) -> Result<ConfigWriteResponse> {
        self.wait(self.async_codex().server_config().write(edits))
    }
}

handle!(
    /// MCP server status (see [`crate::api::Mcp`]).
    ///
    /// ```no_run
    /// # fn f(codex: codex_client::blocking::Codex) -> Result<(), codex_client::Error> {
    /// for server in codex.mcp().servers()? {
    ///     println!("{}", server.name);
    /// }
    /// # Ok(()) }
    /// ```
    Mcp
);

impl Mcp<'_> {
    /// See [`crate::api::Mcp::servers`].
    pub fn servers(&self) -> Result<Vec<McpServerStatus>> {
        self.wait(self.async_codex().mcp().servers())
    }
}

handle!(
    /// Skills (see [`crate::api::Skills`]).
    ///
    /// ```no_run
    /// # fn f(codex: codex_client::blocking::Codex) -> Result<(), codex_client::Error> {
    /// for entry in codex.skills().list(&["/work/repo"])? {
    ///     println!("{}: {} skills", entry.cwd, entry.skills.len());
    /// }
    /// # Ok(()) }
    /// ```
    Skills
);

impl Skills<'_> {
    /// See [`crate::api::Skills::list`].
    pub fn list(&self, cwds: &[&str]) -> Result<Vec<SkillsListEntry>> {
        self.wait(self.async_codex().skills().list(cwds))
    }
}

handle!(
    /// Commands on the app-server's machine (see [`crate::api::Commands`]).
    ///
    /// ```no_run
    /// # fn f(codex: codex_client::blocking::Codex) -> Result<(), codex_client::Error> {
    /// let out = codex.commands().run(["git", "status", "--short"])?;
    /// println!("{} (exit {})", out.stdout, out.exit_code);
    /// # Ok(()) }
    /// ```
    Commands
);

impl Commands<'_> {
    /// See [`crate::api::Commands::run`].
    pub fn run<I, S>(&self, argv: I) -> Result<CommandExecResponse>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.wait(self.async_codex().commands().run(argv))
    }

    /// See [`crate::api::Commands::run_params`].
    pub fn run_params(&self, params: CommandExecParams) -> Result<CommandExecResponse> {
        self.wait(self.async_codex().commands().run_params(params))
    }

    /// See [`crate::api::Commands::spawn`].
    pub fn spawn(&self, params: CommandExecParams) -> Result<CommandExec> {
        let inner = self.wait(self.async_codex().commands().spawn(params))?;
        Ok(CommandExec {
            inner,
            shared: self.codex.shared().clone(),
        })
    }
}

impl Codex {
    /// Threads by id (see [`crate::Codex::threads`]).
    pub fn threads(&self) -> Threads<'_> {
        Threads::new(self)
    }

    /// Login and account (see [`crate::Codex::account`]).
    pub fn account(&self) -> Account<'_> {
        Account::new(self)
    }

    /// The model catalog (see [`crate::Codex::models`]).
    pub fn models(&self) -> Models<'_> {
        Models::new(self)
    }

    /// The app-server machine's file system (see [`crate::Codex::files`]).
    pub fn files(&self) -> Files<'_> {
        Files::new(self)
    }

    /// The app-server's configuration (see [`crate::Codex::server_config`]).
    pub fn server_config(&self) -> ServerConfig<'_> {
        ServerConfig::new(self)
    }

    /// MCP server status (see [`crate::Codex::mcp`]).
    pub fn mcp(&self) -> Mcp<'_> {
        Mcp::new(self)
    }

    /// Skills (see [`crate::Codex::skills`]).
    pub fn skills(&self) -> Skills<'_> {
        Skills::new(self)
    }

    /// Commands on the app-server's machine (see [`crate::Codex::commands`]).
    pub fn commands(&self) -> Commands<'_> {
        Commands::new(self)
    }
}

//! [`ServerConfig`]: the app-server's own configuration — the effective config it runs with
//! (`config/read`) and edits to the user's `config.toml` (`config/value/write`,
//! `config/batchWrite`).
//!
//! Not to be confused with the client's configuration ([`ConnectionConfig`](crate::ConnectionConfig),
//! [`SpawnConfig`](crate::SpawnConfig)) or a thread's settings
//! ([`ThreadOptions`](crate::ThreadOptions)).

use super::codex::Codex;
use crate::error::Result;
use crate::proto::methods::{ConfigBatchWrite, ConfigRead, ConfigValueWrite};
use crate::proto::{
    ConfigBatchWriteParams, ConfigEdit, ConfigReadParams, ConfigReadResponse,
    ConfigValueWriteParams, ConfigWriteResponse, MergeStrategy,
};

/// The server-configuration calls of a [`Codex`] ([`Codex::server_config`]). A borrowed
/// handle: copy it freely.
///
/// The calls fail with [`Error::Rpc`](crate::Error::Rpc) when the server refuses them (an
/// unknown key path, a value of the wrong type, a `config.toml` it cannot write), and with
/// [`Error::Closed`](crate::Error::Closed) / [`Error::Timeout`](crate::Error::Timeout) as any
/// request does.
///
/// ```no_run
/// # async fn f(codex: codex_client::Codex) -> Result<(), codex_client::Error> {
/// use codex_client::protocol::{ConfigEdit, MergeStrategy};
/// let config = codex.server_config();
/// println!("model: {:?}", config.read().await?.config.model);
/// println!("in the repo: {:?}", config.read_for("/work/repo").await?.config.model);
/// config.write_value("model_reasoning_effort", serde_json::json!("high")).await?;
/// config
///     .write(vec![ConfigEdit {
///         key_path: "model".into(),
///         merge_strategy: MergeStrategy::Replace,
///         value: "gpt-5".into(),
///     }])
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Clone, Copy, Debug)]
pub struct ServerConfig<'a> {
    codex: &'a Codex,
}

impl<'a> ServerConfig<'a> {
    pub(crate) fn new(codex: &'a Codex) -> Self {
        Self { codex }
    }

    /// The effective configuration as seen from the server's working directory
    /// (`config/read`).
    pub async fn read(self) -> Result<ConfigReadResponse> {
        self.read_config(None).await
    }

    /// The effective configuration as seen from `cwd` (`config/read`; the project config
    /// layers of `cwd` apply).
    pub async fn read_for(self, cwd: &str) -> Result<ConfigReadResponse> {
        self.read_config(Some(cwd)).await
    }

    async fn read_config(self, cwd: Option<&str>) -> Result<ConfigReadResponse> {
        let params = ConfigReadParams {
            cwd: cwd.map(str::to_owned),
            include_layers: Some(false),
        };
        self.codex.request::<ConfigRead>(params).await
    }

    /// Writes one value into the user's `config.toml` (`config/value/write`), replacing what
    /// is at `key_path` (e.g. `"model"` or `"features.goals"`).
    pub async fn write_value(
        self,
        key_path: &str,
        value: serde_json::Value,
    ) -> Result<ConfigWriteResponse> {
        let params = ConfigValueWriteParams {
            expected_version: None,
            file_path: None,
            key_path: key_path.to_owned(),
            merge_strategy: MergeStrategy::Replace,
            value,
        };
        self.codex.request::<ConfigValueWrite>(params).await
    }

    /// Applies several edits to the user's `config.toml` at once (`config/batchWrite`), then
    /// has the server reload it.
    pub async fn write(self, edits: Vec<ConfigEdit>) -> Result<ConfigWriteResponse> {
        let params = ConfigBatchWriteParams {
            edits,
            expected_version: None,
            file_path: None,
            reload_user_config: Some(true),
        };
        self.codex.request::<ConfigBatchWrite>(params).await
    }
}

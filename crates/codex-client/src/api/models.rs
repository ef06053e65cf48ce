//! [`Models`]: the model catalog (`model/list`, every page) and what the configured model
//! provider can do (`modelProvider/capabilities/read`).
//!
//! The catalog is bundled with codex: `model/list` answers offline, whatever provider is
//! configured (a custom provider's own model names are not in it).

use super::codex::Codex;
use crate::error::Result;
use crate::proto::methods::{ModelList, ModelProviderCapabilitiesRead};
use crate::proto::{
    Model, ModelListParams, ModelProviderCapabilitiesReadParams,
    ModelProviderCapabilitiesReadResponse,
};

/// Upper bound on `model/list` pages followed by [`Models::list`] (a guard against a server
/// that keeps returning a cursor).
const MAX_MODEL_PAGES: usize = 100;

/// The model calls of a [`Codex`] ([`Codex::models`]). A borrowed handle: copy it freely.
///
/// The calls fail with [`Error::Rpc`](crate::Error::Rpc) when the server refuses them, and with
/// [`Error::Closed`](crate::Error::Closed) / [`Error::Timeout`](crate::Error::Timeout) as any
/// request does.
///
/// ```no_run
/// # async fn f(codex: codex_client::Codex) -> Result<(), codex_client::Error> {
/// let models = codex.models();
/// for model in models.list().await? {
///     let default = if model.is_default { " (default)" } else { "" };
///     println!("{}{default} — {}", model.id, model.description);
/// }
/// let hidden = models.list_including_hidden().await?.len() - models.list().await?.len();
/// let caps = models.provider_capabilities().await?;
/// println!("{hidden} hidden; web search: {}", caps.web_search);
/// # Ok(()) }
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Models<'a> {
    codex: &'a Codex,
}

impl<'a> Models<'a> {
    pub(crate) fn new(codex: &'a Codex) -> Self {
        Self { codex }
    }

    /// Every model of the catalog that the server shows by default (`model/list`, all pages).
    /// A server that returns a cursor for more than 100 pages gets a `tracing` warning and what
    /// was read.
    pub async fn list(self) -> Result<Vec<Model>> {
        self.list_pages(false).await
    }

    /// [`list`](Self::list) with the hidden models too (`includeHidden: true`).
    pub async fn list_including_hidden(self) -> Result<Vec<Model>> {
        self.list_pages(true).await
    }

    async fn list_pages(self, include_hidden: bool) -> Result<Vec<Model>> {
        let mut models = Vec::new();
        let mut cursor = None;
        for _ in 0..MAX_MODEL_PAGES {
            let params = ModelListParams {
                cursor: cursor.take(),
                include_hidden: Some(include_hidden),
                limit: None,
            };
            let page = self.codex.request::<ModelList>(params).await?;
            models.extend(page.data);
            match page.next_cursor {
                Some(next) if !next.is_empty() => cursor = Some(next),
                _ => return Ok(models),
            }
        }
        tracing::warn!(
            pages = MAX_MODEL_PAGES,
            "model/list kept returning a cursor; returning what was read"
        );
        Ok(models)
    }

    /// What the configured model provider supports (`modelProvider/capabilities/read`): image
    /// generation, web search.
    pub async fn provider_capabilities(self) -> Result<ModelProviderCapabilitiesReadResponse> {
        self.codex
            .request::<ModelProviderCapabilitiesRead>(
                ModelProviderCapabilitiesReadParams::default(),
            )
            .await
    }
}

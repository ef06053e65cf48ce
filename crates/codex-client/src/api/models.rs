//! Models: the catalog (`model/list`, every page, hidden models on request) and what the
//! configured model provider can do (`modelProvider/capabilities/read`).
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

/// Upper bound on `model/list` pages followed by [`Codex::models`] (a guard against a server
/// that keeps returning a cursor).
const MAX_MODEL_PAGES: usize = 100;

impl Codex {
    /// Every model of the catalog (`model/list`, all pages); hidden models too when
    /// `include_hidden` is set.
    ///
    /// ```no_run
    /// # async fn f(codex: codex_client::Codex) -> Result<(), codex_client::Error> {
    /// for model in codex.models(false).await? {
    ///     println!("{}{} — {}", model.id, if model.is_default { " (default)" } else { "" }, model.description);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn models(&self, include_hidden: bool) -> Result<Vec<Model>> {
        let mut models = Vec::new();
        let mut cursor = None;
        for _ in 0..MAX_MODEL_PAGES {
            let params = ModelListParams {
                cursor: cursor.take(),
                include_hidden: Some(include_hidden),
                limit: None,
            };
            let page = self.request::<ModelList>(params).await?;
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
    ///
    /// ```no_run
    /// # async fn f(codex: codex_client::Codex) -> Result<(), codex_client::Error> {
    /// let caps = codex.model_provider_capabilities().await?;
    /// println!("web search: {}, image generation: {}", caps.web_search, caps.image_generation);
    /// # Ok(()) }
    /// ```
    pub async fn model_provider_capabilities(
        &self,
    ) -> Result<ModelProviderCapabilitiesReadResponse> {
        self.request::<ModelProviderCapabilitiesRead>(
            ModelProviderCapabilitiesReadParams::default(),
        )
        .await
    }
}

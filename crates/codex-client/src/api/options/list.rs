//! [`ListThreads`]: the filters and paging of `thread/list`.

use crate::proto::{
    SortDirection, ThreadListCwdFilter, ThreadListParams, ThreadSortKey, ThreadSourceKind,
};
use std::path::PathBuf;

/// Filters and paging of [`Threads::list`](crate::api::Threads::list) (`thread/list`).
/// For a field without a setter here, start from the raw params with
/// [`from_params`](Self::from_params).
///
/// ```no_run
/// # async fn f(codex: codex_client::Codex) -> Result<(), codex_client::Error> {
/// use codex_client::ListThreads;
/// use codex_client::protocol::{SortDirection, ThreadSortKey};
/// let query = ListThreads::new()
///     .limit(20)
///     .search("refactor")
///     .cwd("/work/repo")
///     .sort(ThreadSortKey::CreatedAt, SortDirection::Desc);
/// let page = codex.threads().list(query).await?;
/// for thread in &page.threads {
///     println!("{} {}", thread.id, thread.preview);
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default)]
pub struct ListThreads {
    params: ThreadListParams,
}

impl ListThreads {
    /// No filter, the server's default page size and order.
    pub fn new() -> Self {
        Self::default()
    }

    /// Starts from raw `thread/list` params (every field of the wire, e.g. `useStateDbOnly`);
    /// the setters below then change what they name.
    pub fn from_params(params: ThreadListParams) -> Self {
        Self { params }
    }

    /// Page size.
    pub fn limit(mut self, limit: u32) -> Self {
        self.params.limit = Some(limit);
        self
    }

    /// Continue after a previous page ([`ThreadPage::next_cursor`](crate::ThreadPage::next_cursor)).
    ///
    /// The app-server's cursor (0.163.0) is a timestamp with one-second resolution: threads
    /// whose sort timestamp falls in the same second as the last thread of the previous page are
    /// not returned on the next one. Use a page size that ends between seconds, or a larger one.
    pub fn cursor(mut self, cursor: impl Into<String>) -> Self {
        self.params.cursor = Some(cursor.into());
        self
    }

    /// Archived threads only (`true`) or unarchived only (`false`, the server's default).
    pub fn archived(mut self, archived: bool) -> Self {
        self.params.archived = Some(archived);
        self
    }

    /// Threads whose working directory is `cwd`.
    pub fn cwd(mut self, cwd: impl Into<PathBuf>) -> Self {
        self.params.cwd = Some(ThreadListCwdFilter::String(
            cwd.into().to_string_lossy().into_owned(),
        ));
        self
    }

    /// Threads whose title or preview contains `term`.
    pub fn search(mut self, term: impl Into<String>) -> Self {
        self.params.search_term = Some(term.into());
        self
    }

    /// Threads of these model providers.
    pub fn model_providers<I, S>(mut self, providers: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.params.model_providers = Some(providers.into_iter().map(Into::into).collect());
        self
    }

    /// Threads created by these kinds of source.
    pub fn source_kinds(mut self, kinds: impl IntoIterator<Item = ThreadSourceKind>) -> Self {
        self.params.source_kinds = Some(kinds.into_iter().collect());
        self
    }

    /// Sort key and direction.
    pub fn sort(mut self, key: ThreadSortKey, direction: SortDirection) -> Self {
        self.params.sort_key = Some(key);
        self.params.sort_direction = Some(direction);
        self
    }

    /// The `thread/list` parameters.
    pub fn to_params(&self) -> ThreadListParams {
        self.params.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_params_are_kept_and_the_setters_apply_on_top() {
        let raw = ThreadListParams {
            use_state_db_only: Some(true),
            limit: Some(5),
            ..ThreadListParams::default()
        };
        let params = ListThreads::from_params(raw).limit(7).to_params();
        assert_eq!(params.use_state_db_only, Some(true));
        assert_eq!(params.limit, Some(7));
    }
}

//! [`Skills`]: the skills the app-server finds for given working directories (`skills/list`).

use super::codex::Codex;
use crate::error::Result;
use crate::proto::methods::SkillsList;
use crate::proto::{SkillsListEntry, SkillsListParams};

/// The skills calls of a [`Codex`] ([`Codex::skills`]). A borrowed handle: copy it freely.
///
/// Fails with [`Error::Rpc`](crate::Error::Rpc) when the server refuses the call, and with
/// [`Error::Closed`](crate::Error::Closed) / [`Error::Timeout`](crate::Error::Timeout) as any
/// request does; a directory the server cannot scan is reported in its entry's `errors`.
///
/// ```no_run
/// # async fn f(codex: codex_client::Codex) -> Result<(), codex_client::Error> {
/// for entry in codex.skills().list(&["/work/repo", "/work/other"]).await? {
///     println!("{}: {} skills, {} errors", entry.cwd, entry.skills.len(), entry.errors.len());
/// }
/// # Ok(()) }
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Skills<'a> {
    codex: &'a Codex,
}

impl<'a> Skills<'a> {
    pub(crate) fn new(codex: &'a Codex) -> Self {
        Self { codex }
    }

    /// The skills available in each of `cwds`, one entry per directory (`skills/list`; an
    /// empty slice means the server's working directory).
    pub async fn list(self, cwds: &[&str]) -> Result<Vec<SkillsListEntry>> {
        let params = SkillsListParams {
            cwds: (!cwds.is_empty()).then(|| cwds.iter().map(|c| (*c).to_owned()).collect()),
            force_reload: None,
        };
        Ok(self.codex.request::<SkillsList>(params).await?.data)
    }
}

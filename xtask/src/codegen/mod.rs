//! `cargo xtask codegen`: generates `crates/codex-client-protocol/src/generated/` from the pinned schema.
//! (placeholder: being written)

use anyhow::Result;
use std::path::Path;

/// Generate the protocol types; with `check`, fail when the checked-in output is stale.
pub fn run(_workspace: &Path, _check: bool) -> Result<()> {
    anyhow::bail!("codegen not implemented yet")
}

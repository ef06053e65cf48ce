//! Wire types for the Codex `app-server` JSON-RPC protocol (placeholder; being generated).

/// The Codex runtime version this crate's types were generated from.
pub const CODEX_VERSION: &str = include_str!("../CODEX_VERSION").trim_ascii();

//! Rust client for the Codex `app-server` (placeholder).
pub use codex_client_protocol as protocol;

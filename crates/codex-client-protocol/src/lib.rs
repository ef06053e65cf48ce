//! Wire types for the Codex `app-server` JSON-RPC protocol, generated from the pinned schema
//! (codex [`CODEX_VERSION`]). No async runtime, no I/O: this crate turns lines into typed
//! messages and typed messages into lines; the connection, routing and transports live in
//! `codex-client`.
//!
//! | item | what it is |
//! |---|---|
//! | [`envelope`] | the hand-written JSON-RPC "lite" envelope: [`Incoming::parse`](envelope::Incoming::parse) classifies a line without building a `Value` tree; `encode_*` write lines |
//! | [`types`] (re-exported here) | every params, response, notification and payload type of the schema |
//! | [`methods`] | one marker per client method implementing [`ClientMethod`] (`methods::ALL`: all 105) |
//! | [`ServerNotification`] | every server notification, decoded by method, with [`thread_id`](ServerNotification::thread_id) / [`turn_id`](ServerNotification::turn_id) from the schema |
//! | [`RawRoute`] | a notification's thread and turn ids read straight from its raw params by [`ServerNotification::route_raw`], without decoding them (for routing on a reader thread) |
//! | [`ServerRequest`], [`server_methods`] | requests the server sends (approvals, user input, ...), their markers implementing [`ServerRequestMethod`] |
//!
//! Forward compatible by construction: unknown methods decode to `Unknown { method, params }`,
//! unknown fields are ignored, unknown enum values and union tags are kept verbatim in
//! `Unknown` variants, so a newer app-server does not break an older client.
//!
//! ```
//! use codex_client_protocol::envelope::Incoming;
//! use codex_client_protocol::{ServerNotification, ThreadItem};
//!
//! let line = r#"{"method":"item/completed","params":{"threadId":"thr_1","turnId":"turn_1","completedAtMs":1,
//!     "item":{"type":"agentMessage","id":"msg_1","text":"Hello world","phase":"final_answer"}},"emittedAtMs":1700000000000}"#;
//! let Incoming::Notification { method, params, .. } = Incoming::parse(line)? else { unreachable!() };
//! let notification = ServerNotification::decode(&method, params)?;
//! assert_eq!(notification.thread_id(), Some("thr_1"));
//! assert_eq!(notification.turn_id(), Some("turn_1"));
//! if let ServerNotification::ItemCompleted(done) = &notification {
//!     if let ThreadItem::AgentMessage(message) = &done.item {
//!         assert_eq!(message.text, "Hello world");
//!     }
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The generated code lives in `src/generated/`, written by `cargo xtask codegen` from
//! `schema/` (the output of `codex app-server generate-json-schema`) and checked in; CI runs
//! `cargo xtask codegen --check`.

#![warn(missing_docs)]

pub mod envelope;
mod error;
#[allow(
    missing_docs,
    clippy::large_enum_variant,
    clippy::enum_variant_names,
    clippy::doc_markdown,
    clippy::too_many_lines,
    rustdoc::bare_urls
)]
mod generated;
mod method;
mod routing;
mod support;

pub use error::DecodeError;
pub use generated::notifications::ServerNotification;
pub use generated::server_methods::ServerRequest;
pub use generated::{methods, notifications, server_methods, types};
pub use method::{ClientMethod, NoParams, ServerRequestMethod};
pub use routing::RawRoute;
#[doc(no_inline)]
pub use types::*;

/// The Codex runtime version this crate's types were generated from.
pub const CODEX_VERSION: &str = include_str!("../CODEX_VERSION").trim_ascii();

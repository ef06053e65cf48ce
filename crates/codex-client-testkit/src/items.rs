//! Assertion helpers over the items a turn produced ([`ThreadItem`]s, as any client decodes
//! them with the protocol crate), and [`TINY_PNG`], an image small enough to inline in tests.
//! They exist so that end-to-end suites (async, blocking, transports) check results the same way
//! instead of each keeping its own copy.

use codex_client_protocol::{ThreadItem, UserInput};
use serde_json::Value;

/// A valid 1x1 PNG (69 bytes), for image-input tests.
///
/// ```
/// assert!(codex_client_testkit::TINY_PNG.starts_with(b"\x89PNG"));
/// ```
pub const TINY_PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0xda, 0x63, 0x64, 0x60, 0xf8, 0x5f,
    0x0f, 0x00, 0x02, 0x87, 0x01, 0x80, 0xeb, 0x47, 0xba, 0x92, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
    0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

/// The text of every user message among `items`, in order (each message's text parts joined).
///
/// ```
/// let items: Vec<codex_client_protocol::ThreadItem> = Vec::new();
/// assert!(codex_client_testkit::user_texts(&items).is_empty());
/// ```
pub fn user_texts(items: &[ThreadItem]) -> Vec<String> {
    items
        .iter()
        .filter_map(|item| match item {
            ThreadItem::UserMessage(m) => Some(
                m.content
                    .iter()
                    .filter_map(|c| match c {
                        UserInput::Text(t) => Some(t.text.as_str()),
                        _ => None,
                    })
                    .collect::<String>(),
            ),
            _ => None,
        })
        .collect()
}

/// The text of every agent message among `items`, in order.
///
/// ```
/// let items: Vec<codex_client_protocol::ThreadItem> = Vec::new();
/// assert!(codex_client_testkit::agent_texts(&items).is_empty());
/// ```
pub fn agent_texts(items: &[ThreadItem]) -> Vec<String> {
    items
        .iter()
        .filter_map(|item| match item {
            ThreadItem::AgentMessage(m) => Some(m.text.clone()),
            _ => None,
        })
        .collect()
}

/// The first item whose wire `type` is `kind` (e.g. `"commandExecution"`), as JSON, so a test
/// can look at any field without matching on the typed variant.
///
/// ```
/// let items: Vec<codex_client_protocol::ThreadItem> = Vec::new();
/// assert!(codex_client_testkit::item_of_type(&items, "commandExecution").is_none());
/// ```
pub fn item_of_type(items: &[ThreadItem], kind: &str) -> Option<Value> {
    items
        .iter()
        .filter_map(|item| serde_json::to_value(item).ok())
        .find(|item| item["type"] == kind)
}

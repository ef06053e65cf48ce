//! How the demo prints: a `TurnResult` summarised in a few lines, protocol values as they appear
//! on the wire, and bold titles when stdout is a terminal.

use codex_client::TurnResult;
use codex_client::protocol::ThreadItem;
use std::io::IsTerminal;

/// One `TurnResult`, in a few lines.
pub(crate) fn summarise(result: &TurnResult) {
    let kinds: Vec<&str> = result.items.iter().map(ThreadItem::tag).collect();
    println!(
        "  TurnResult: status {}, {}, items [{}]",
        wire(&result.status),
        result
            .duration_ms
            .map_or("duration ?".into(), |ms| format!("{ms} ms")),
        kinds.join(", ")
    );
    if !result.open_items.is_empty() {
        let open: Vec<&str> = result.open_items.iter().map(ThreadItem::tag).collect();
        println!("              left open: [{}]", open.join(", "));
    }
    println!(
        "              final response: {}",
        result
            .final_response()
            .map_or("none".into(), |text| format!("{text:?}"))
    );
    if let Some(usage) = &result.usage {
        let last = &usage.last;
        println!(
            "              usage: {} tokens ({} in, {} cached, {} out)",
            last.total_tokens, last.input_tokens, last.cached_input_tokens, last.output_tokens
        );
    }
}

/// A value as the protocol writes it: `completed`, `never`, `{"type":"readOnly"}`, ...
pub(crate) fn wire(value: &impl serde::Serialize) -> String {
    match serde_json::to_value(value).unwrap_or_default() {
        serde_json::Value::String(s) => s,
        other => other.to_string(),
    }
}

pub(crate) fn bold(text: &str) -> String {
    if std::io::stdout().is_terminal() {
        format!("\x1b[1m{text}\x1b[0m")
    } else {
        text.to_owned()
    }
}

//! The Server-Sent Events the mock writes: one function per Responses-API event, in the exact
//! shapes codex 0.163.0 accepts (found by running the real binary against this mock; the
//! recorded fixtures of the protocol crate hold the resulting traffic).
//!
//! Each function returns one framed event (`event: <type>\ndata: <json>\n\n`). Keeping the shapes in
//! one place means a change in what codex expects is a change here and nowhere else.

use bytes::Bytes;
use serde_json::{Value, json};

/// The ids one mocked response uses for itself and its output item.
#[derive(Debug, Clone)]
pub(crate) struct ResponseIds {
    /// `resp_mock_<n>`.
    pub response: String,
    /// `msg_resp_mock_<n>` (message item) .
    pub message: String,
    /// `fc_resp_mock_<n>` (function-call item).
    pub function_call: String,
    /// `call_mock_<n>` (the call id codex echoes back in `function_call_output`).
    pub call: String,
}

impl ResponseIds {
    /// The ids of the `n`-th response the mock produces.
    pub(crate) fn nth(n: u64) -> Self {
        Self {
            response: format!("resp_mock_{n}"),
            message: format!("msg_resp_mock_{n}"),
            function_call: format!("fc_resp_mock_{n}"),
            call: format!("call_mock_{n}"),
        }
    }
}

/// Frames one event.
fn event(data: Value) -> Bytes {
    let kind = data["type"].as_str().unwrap_or("message").to_owned();
    Bytes::from(format!("event: {kind}\ndata: {data}\n\n"))
}

pub(crate) fn created(ids: &ResponseIds) -> Bytes {
    event(json!({
        "type": "response.created",
        "response": {"id": ids.response, "status": "in_progress"},
    }))
}

pub(crate) fn message_added(ids: &ResponseIds) -> Bytes {
    event(json!({
        "type": "response.output_item.added",
        "output_index": 0,
        "item": {"type": "message", "role": "assistant", "id": ids.message, "status": "in_progress", "content": []},
    }))
}

pub(crate) fn content_part_added(ids: &ResponseIds) -> Bytes {
    event(json!({
        "type": "response.content_part.added",
        "output_index": 0,
        "content_index": 0,
        "item_id": ids.message,
        "part": {"type": "output_text", "text": ""},
    }))
}

pub(crate) fn text_delta(ids: &ResponseIds, delta: &str) -> Bytes {
    event(json!({
        "type": "response.output_text.delta",
        "item_id": ids.message,
        "output_index": 0,
        "content_index": 0,
        "delta": delta,
    }))
}

pub(crate) fn text_done(ids: &ResponseIds, text: &str) -> Bytes {
    event(json!({
        "type": "response.output_text.done",
        "item_id": ids.message,
        "output_index": 0,
        "content_index": 0,
        "text": text,
    }))
}

pub(crate) fn message_done(ids: &ResponseIds, text: &str) -> Bytes {
    event(json!({
        "type": "response.output_item.done",
        "output_index": 0,
        "item": {
            "type": "message",
            "role": "assistant",
            "id": ids.message,
            "status": "completed",
            "content": [{"type": "output_text", "text": text, "annotations": []}],
        },
    }))
}

pub(crate) fn function_call_added(ids: &ResponseIds, name: &str) -> Bytes {
    event(json!({
        "type": "response.output_item.added",
        "output_index": 0,
        "item": {
            "type": "function_call",
            "id": ids.function_call,
            "call_id": ids.call,
            "name": name,
            "arguments": "",
            "status": "in_progress",
        },
    }))
}

pub(crate) fn function_call_done(ids: &ResponseIds, name: &str, arguments: &str) -> Bytes {
    event(json!({
        "type": "response.output_item.done",
        "output_index": 0,
        "item": {
            "type": "function_call",
            "id": ids.function_call,
            "call_id": ids.call,
            "name": name,
            "arguments": arguments,
            "status": "completed",
        },
    }))
}

pub(crate) fn completed(ids: &ResponseIds) -> Bytes {
    event(json!({
        "type": "response.completed",
        "response": {
            "id": ids.response,
            "status": "completed",
            "usage": {
                "input_tokens": 10,
                "input_tokens_details": {"cached_tokens": 0},
                "output_tokens": 5,
                "output_tokens_details": {"reasoning_tokens": 0},
                "total_tokens": 15,
            },
        },
    }))
}

pub(crate) fn failed(ids: &ResponseIds, code: &str, message: &str) -> Bytes {
    event(json!({
        "type": "response.failed",
        "response": {
            "id": ids.response,
            "status": "failed",
            "error": {"code": code, "message": message},
        },
    }))
}

/// The JSON body of a plain HTTP error (`{"error":{"message","type","code":null}}`).
pub(crate) fn http_error_body(message: &str, error_type: &str) -> Bytes {
    Bytes::from(
        json!({"error": {"message": message, "type": error_type, "code": null}}).to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_framed_with_their_type() {
        let ids = ResponseIds::nth(3);
        let text = String::from_utf8(text_delta(&ids, "Hi").to_vec()).unwrap();
        let (head, rest) = text.split_once('\n').unwrap();
        assert_eq!(head, "event: response.output_text.delta");
        assert!(rest.ends_with("\n\n"));
        let data: Value =
            serde_json::from_str(rest.trim().strip_prefix("data: ").unwrap()).unwrap();
        assert_eq!(data["delta"], "Hi");
        assert_eq!(data["item_id"], "msg_resp_mock_3");
    }
}

//! [`RecordedRequest`]: one HTTP request the mock received, kept for assertions, with helpers that
//! know where the Responses API puts things (`input`, user messages, tool outputs, the
//! `session-id` header).

use serde_json::Value;

/// One HTTP request the mock model received.
///
/// ```
/// use codex_client_testkit::RecordedRequest;
/// use serde_json::json;
///
/// let req = RecordedRequest::from_body(json!({"input": [
///     {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Say hi"}]}
/// ]}));
/// assert_eq!(req.last_user_text().as_deref(), Some("Say hi"));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedRequest {
    /// Position among the requests this mock received, from 0.
    pub index: usize,
    /// HTTP method (`POST`).
    pub method: String,
    /// Request path (`/v1/responses`).
    pub path: String,
    /// Headers in arrival order, names lowercase.
    pub headers: Vec<(String, String)>,
    /// The body parsed as JSON (`Value::Null` if empty or not JSON; see `raw_body`).
    pub body: Value,
    /// The body as text (lossy UTF-8).
    pub raw_body: String,
}

impl RecordedRequest {
    /// A `POST /v1/responses` with this JSON body and no headers (for unit tests of matchers).
    ///
    /// ```
    /// # use codex_client_testkit::RecordedRequest;
    /// let req = RecordedRequest::from_body(serde_json::json!({"model": "m"}));
    /// assert_eq!(req.path, "/v1/responses");
    /// ```
    pub fn from_body(body: Value) -> Self {
        Self {
            index: 0,
            method: "POST".to_owned(),
            path: "/v1/responses".to_owned(),
            headers: Vec::new(),
            raw_body: body.to_string(),
            body,
        }
    }

    /// The first value of header `name` (case-insensitive).
    ///
    /// ```
    /// # use codex_client_testkit::RecordedRequest;
    /// let mut req = RecordedRequest::from_body(serde_json::json!({}));
    /// req.headers.push(("originator".into(), "my_client".into()));
    /// assert_eq!(req.header("Originator"), Some("my_client"));
    /// ```
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The `session-id` header: codex sends the thread id there.
    ///
    /// ```
    /// # use codex_client_testkit::RecordedRequest;
    /// let mut req = RecordedRequest::from_body(serde_json::json!({}));
    /// req.headers.push(("session-id".into(), "thr_1".into()));
    /// assert_eq!(req.session_id(), Some("thr_1"));
    /// ```
    pub fn session_id(&self) -> Option<&str> {
        self.header("session-id")
    }

    /// The `x-codex-turn-metadata` header parsed as JSON (`thread_id`, `turn_id`, `sandbox`, ...).
    ///
    /// ```
    /// # use codex_client_testkit::RecordedRequest;
    /// let mut req = RecordedRequest::from_body(serde_json::json!({}));
    /// req.headers.push(("x-codex-turn-metadata".into(), r#"{"turn_id":"t1"}"#.into()));
    /// assert_eq!(req.turn_metadata().unwrap()["turn_id"], "t1");
    /// ```
    pub fn turn_metadata(&self) -> Option<Value> {
        serde_json::from_str(self.header("x-codex-turn-metadata")?).ok()
    }

    /// The `input` array of the body (empty if absent).
    ///
    /// ```
    /// # use codex_client_testkit::RecordedRequest;
    /// assert!(RecordedRequest::from_body(serde_json::json!({})).input().is_empty());
    /// ```
    pub fn input(&self) -> &[Value] {
        self.body["input"].as_array().map_or(&[], Vec::as_slice)
    }

    /// The text of every `role: "user"` message in `input`, in order (each message's text parts
    /// joined). Codex's own context (`<environment_context>`, `<turn_aborted>`) is included.
    ///
    /// ```
    /// # use codex_client_testkit::RecordedRequest;
    /// # use serde_json::json;
    /// let req = RecordedRequest::from_body(json!({"input": [
    ///     {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "a"}]},
    ///     {"type": "message", "role": "developer", "content": [{"type": "input_text", "text": "d"}]},
    ///     {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "b"}]},
    /// ]}));
    /// assert_eq!(req.user_texts(), ["a", "b"]);
    /// ```
    pub fn user_texts(&self) -> Vec<String> {
        self.input()
            .iter()
            .filter(|item| item["role"] == "user")
            .map(message_text)
            .collect()
    }

    /// The text of the last user message in `input`: the prompt of the current turn.
    ///
    /// ```
    /// # use codex_client_testkit::RecordedRequest;
    /// assert_eq!(RecordedRequest::from_body(serde_json::json!({})).last_user_text(), None);
    /// ```
    pub fn last_user_text(&self) -> Option<String> {
        self.input()
            .iter()
            .rev()
            .find(|item| item["role"] == "user")
            .map(message_text)
    }

    /// The `function_call_output` items of `input` as `(call_id, output)` pairs.
    ///
    /// ```
    /// # use codex_client_testkit::RecordedRequest;
    /// # use serde_json::json;
    /// let req = RecordedRequest::from_body(json!({"input": [
    ///     {"type": "function_call_output", "call_id": "call_mock_1", "output": "done"},
    /// ]}));
    /// assert_eq!(req.function_call_outputs(), [("call_mock_1".to_string(), "done".to_string())]);
    /// ```
    pub fn function_call_outputs(&self) -> Vec<(String, String)> {
        self.input()
            .iter()
            .filter(|item| item["type"] == "function_call_output")
            .map(|item| {
                let output = match &item["output"] {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                (
                    item["call_id"].as_str().unwrap_or_default().to_owned(),
                    output,
                )
            })
            .collect()
    }

    /// Whether `input` ends with a `function_call_output`: this request is the follow-up after a
    /// tool ran.
    ///
    /// ```
    /// # use codex_client_testkit::RecordedRequest;
    /// # use serde_json::json;
    /// let req = RecordedRequest::from_body(json!({"input": [{"type": "function_call_output"}]}));
    /// assert!(req.ends_with_tool_output());
    /// ```
    pub fn ends_with_tool_output(&self) -> bool {
        self.input()
            .last()
            .is_some_and(|item| item["type"] == "function_call_output")
    }
}

/// The text parts of one message item, joined.
fn message_text(item: &Value) -> String {
    match &item["content"] {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter_map(|part| part["text"].as_str())
            .collect::<Vec<_>>()
            .join(""),
        _ => String::new(),
    }
}

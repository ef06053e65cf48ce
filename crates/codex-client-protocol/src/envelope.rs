//! The JSON-RPC envelope as the Codex app-server speaks it ("JSON-RPC lite"): no `"jsonrpc"`
//! member (accepted and ignored when present), request ids that are strings or integers,
//! `emittedAtMs` beside `method` on notifications.
//!
//! [`Incoming::parse`] classifies one line from the server without building a
//! [`serde_json::Value`] tree: `params` and `result` stay borrowed [`RawValue`]s, decoded later
//! straight into their types ([`ServerNotification::decode`](crate::ServerNotification::decode),
//! [`ServerRequest::decode`](crate::ServerRequest::decode), or a
//! [`ClientMethod::Response`](crate::ClientMethod::Response)). The `encode_*` functions write
//! what the client sends.
//!
//! | line has | it is |
//! |---|---|
//! | `method` and `id` | [`Incoming::Request`] (server → client request) |
//! | `method`, no `id` | [`Incoming::Notification`] |
//! | `id` and `error` | [`Incoming::Error`] |
//! | `id` and `result` | [`Incoming::Response`] |
//!
//! ```
//! use codex_client_protocol::envelope::{Incoming, RequestId};
//!
//! let line = r#"{"id":3,"result":{"thread":{"id":"t1"}}}"#;
//! match Incoming::parse(line).unwrap() {
//!     Incoming::Response { id, result } => {
//!         assert_eq!(id, RequestId::Integer(3));
//!         assert_eq!(result.get(), r#"{"thread":{"id":"t1"}}"#);
//!     }
//!     other => panic!("unexpected {other:?}"),
//! }
//! ```

use serde::de::{Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::fmt;

/// A JSON-RPC request id: a string or an integer (the server echoes ours exactly, including
/// integers above 2^53; its own request ids are small integers).
///
/// ```
/// use codex_client_protocol::envelope::RequestId;
///
/// let ids: Vec<RequestId> = serde_json::from_str(r#"[7, "abc", 9007199254740993]"#).unwrap();
/// assert_eq!(ids, [RequestId::from(7), RequestId::from("abc"), RequestId::from(9007199254740993)]);
/// assert_eq!(serde_json::to_string(&ids).unwrap(), r#"[7,"abc",9007199254740993]"#);
/// assert_eq!(ids[1].to_string(), "\"abc\"");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RequestId {
    /// An integer id.
    Integer(i64),
    /// A string id.
    String(String),
}

impl fmt::Display for RequestId {
    /// Integers as they are, strings quoted (so `7` and `"7"` stay apart in logs).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RequestId::Integer(i) => write!(f, "{i}"),
            RequestId::String(s) => write!(f, "{s:?}"),
        }
    }
}

impl From<i64> for RequestId {
    fn from(v: i64) -> Self {
        RequestId::Integer(v)
    }
}

impl From<String> for RequestId {
    fn from(v: String) -> Self {
        RequestId::String(v)
    }
}

impl From<&str> for RequestId {
    fn from(v: &str) -> Self {
        RequestId::String(v.to_owned())
    }
}

impl Serialize for RequestId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            RequestId::Integer(i) => serializer.serialize_i64(*i),
            RequestId::String(s) => serializer.serialize_str(s),
        }
    }
}

impl<'de> Deserialize<'de> for RequestId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct IdVisitor;
        impl Visitor<'_> for IdVisitor {
            type Value = RequestId;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a request id (a string or an integer)")
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<RequestId, E> {
                Ok(RequestId::Integer(v))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<RequestId, E> {
                i64::try_from(v)
                    .map(RequestId::Integer)
                    .map_err(|_| E::custom(format!("request id {v} is out of range")))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<RequestId, E> {
                Ok(RequestId::String(v.to_owned()))
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<RequestId, E> {
                Ok(RequestId::String(v))
            }
        }
        deserializer.deserialize_any(IdVisitor)
    }
}

/// A JSON-RPC error object, as the server sends it in an error response (and as the client
/// sends it to refuse a server request).
///
/// ```
/// use codex_client_protocol::envelope::RpcError;
///
/// let e: RpcError = serde_json::from_str(r#"{"code":-32600,"message":"no active turn to steer"}"#).unwrap();
/// assert_eq!(e.code, -32600);
/// assert_eq!(e.to_string(), "JSON-RPC error -32600: no active turn to steer");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
#[error("JSON-RPC error {code}: {message}")]
pub struct RpcError {
    /// The error code (`-32600` invalid request, `-32001` overloaded, ...).
    pub code: i64,
    /// The message.
    pub message: String,
    /// Optional details.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<serde_json::Value>,
}

/// One message from the server, classified; `params` and `result` are borrowed from the line.
///
/// ```
/// use codex_client_protocol::envelope::{Incoming, RequestId};
///
/// let line = r#"{"method":"item/commandExecution/requestApproval","id":0,"params":{"threadId":"t"}}"#;
/// let Incoming::Request { id, method, params } = Incoming::parse(line).unwrap() else { panic!() };
/// assert_eq!((id, &*method), (RequestId::Integer(0), "item/commandExecution/requestApproval"));
/// assert_eq!(params.unwrap().get(), r#"{"threadId":"t"}"#);
///
/// let line = r#"{"method":"turn/started","params":{},"emittedAtMs":1700000000000}"#;
/// let Incoming::Notification { emitted_at_ms, .. } = Incoming::parse(line).unwrap() else { panic!() };
/// assert_eq!(emitted_at_ms, Some(1700000000000));
/// ```
#[derive(Debug, Clone)]
pub enum Incoming<'a> {
    /// A successful response to one of the client's requests.
    Response {
        /// The id of the request it answers.
        id: RequestId,
        /// The `result`, undecoded (may be `null`).
        result: &'a RawValue,
    },
    /// An error response to one of the client's requests.
    Error {
        /// The id of the request it answers.
        id: RequestId,
        /// The error.
        error: RpcError,
    },
    /// A notification from the server.
    Notification {
        /// The method, borrowed from the line unless it contained escapes.
        method: Cow<'a, str>,
        /// The `params`, undecoded (`None` when absent or `null`).
        params: Option<&'a RawValue>,
        /// When the server emitted it (Unix milliseconds), the `emittedAtMs` beside `method`.
        emitted_at_ms: Option<i64>,
    },
    /// A request from the server that the client must answer.
    Request {
        /// The server's id for it (its own id space, not the client's).
        id: RequestId,
        /// The method.
        method: Cow<'a, str>,
        /// The `params`, undecoded (`None` when absent or `null`).
        params: Option<&'a RawValue>,
    },
}

/// What is wrong with a line that is not a valid message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EnvelopeErrorKind {
    /// The line is not JSON.
    NotJson,
    /// The line is JSON but not an object (e.g. an array: batches are not part of the protocol).
    NotAnObject,
    /// A member has the wrong type (`method` not a string, `emittedAtMs` not an integer,
    /// a duplicated member, ...).
    InvalidMember,
    /// The `id` is neither a string nor an integer (e.g. `1.5`, `null` with a `result`).
    InvalidId,
    /// The `error` member is not an object with an integer `code` and a string `message`.
    InvalidError,
    /// The object is none of request, notification, response, error (e.g. no `method` and no
    /// `id`, or an `id` with neither `result` nor `error`).
    Unclassifiable,
}

impl fmt::Display for EnvelopeErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            EnvelopeErrorKind::NotJson => "not JSON",
            EnvelopeErrorKind::NotAnObject => "not a JSON object",
            EnvelopeErrorKind::InvalidMember => "invalid member",
            EnvelopeErrorKind::InvalidId => "invalid id",
            EnvelopeErrorKind::InvalidError => "invalid error object",
            EnvelopeErrorKind::Unclassifiable => "not a JSON-RPC message",
        })
    }
}

/// Why a line is not a valid message; [`kind`](Self::kind) says which way it is wrong.
///
/// ```
/// use codex_client_protocol::envelope::{EnvelopeErrorKind, Incoming};
///
/// assert_eq!(Incoming::parse("[1,2]").unwrap_err().kind(), EnvelopeErrorKind::NotAnObject);
/// assert_eq!(Incoming::parse("{oops").unwrap_err().kind(), EnvelopeErrorKind::NotJson);
/// let err = Incoming::parse(r#"{"id":1,"error":{"code":"x","message":"m"}}"#).unwrap_err();
/// assert_eq!(err.kind(), EnvelopeErrorKind::InvalidError);
/// ```
#[derive(Debug, Clone, thiserror::Error)]
#[error("{kind}: {detail}")]
pub struct EnvelopeError {
    kind: EnvelopeErrorKind,
    detail: String,
    /// The raw `id` of a request whose id is not a [`RequestId`].
    request_id: Option<Box<str>>,
}

impl EnvelopeError {
    fn new(kind: EnvelopeErrorKind, detail: impl Into<String>) -> Self {
        EnvelopeError {
            kind,
            detail: detail.into(),
            request_id: None,
        }
    }

    /// Which way the line is wrong.
    pub fn kind(&self) -> EnvelopeErrorKind {
        self.kind
    }

    /// For a request from the server (an object with a `method` and an `id`) that is not valid
    /// — its `id` is not a [`RequestId`] (`1.5`, `null`, `{}`, `[1]`, `true`, an integer beyond
    /// `i64`), its `method` is not a string, another member has the wrong type — the `id` as
    /// written (raw JSON), so that the client can still answer it: JSON-RPC wants an Invalid
    /// Request error (-32600) for it. `None` for every other error.
    ///
    /// ```
    /// use codex_client_protocol::envelope::{EnvelopeErrorKind, Incoming};
    ///
    /// let err = Incoming::parse(r#"{"id":1.5,"method":"item/tool/call","params":{}}"#).unwrap_err();
    /// assert_eq!(err.kind(), EnvelopeErrorKind::InvalidId);
    /// assert_eq!(err.request_id(), Some("1.5"));
    /// let err = Incoming::parse(r#"{"id":5,"method":7}"#).unwrap_err();
    /// assert_eq!((err.kind(), err.request_id()), (EnvelopeErrorKind::InvalidMember, Some("5")));
    /// // A response with a bad id is not a request: nothing to answer.
    /// assert_eq!(Incoming::parse(r#"{"id":1.5,"result":{}}"#).unwrap_err().request_id(), None);
    /// ```
    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }
}

/// The members of a message that matter, borrowed. Unknown members (`jsonrpc`, `trace`, ...)
/// are skipped without being built.
#[derive(Deserialize)]
#[serde(expecting = "a JSON-RPC message object")]
struct Wire<'a> {
    #[serde(borrow, default, deserialize_with = "present")]
    id: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "borrowed_str")]
    method: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    params: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    result: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    error: Option<&'a RawValue>,
    #[serde(default, rename = "emittedAtMs")]
    emitted_at_ms: Option<i64>,
}

/// A member that is present, even when its value is `null`.
fn present<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<&'de RawValue>, D::Error> {
    <&RawValue>::deserialize(deserializer).map(Some)
}

/// A string borrowed from the input when it has no escapes.
fn borrowed_str<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Cow<'de, str>>, D::Error> {
    struct StrVisitor;
    impl<'de> Visitor<'de> for StrVisitor {
        type Value = Option<Cow<'de, str>>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a string")
        }
        fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
            Ok(Some(Cow::Borrowed(v)))
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(Some(Cow::Owned(v.to_owned())))
        }
        fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Self::Value, E> {
            Ok(Some(Cow::Owned(v)))
        }
    }
    deserializer.deserialize_str(StrVisitor)
}

fn parse_id(raw: &RawValue) -> Result<RequestId, EnvelopeError> {
    serde_json::from_str(raw.get()).map_err(|e| {
        EnvelopeError::new(
            EnvelopeErrorKind::InvalidId,
            format!("`id` {}: {e}", raw.get()),
        )
    })
}

impl<'a> Incoming<'a> {
    /// Classifies one line (without its newline) from the server.
    ///
    /// ```
    /// use codex_client_protocol::envelope::{EnvelopeErrorKind, Incoming, RequestId};
    ///
    /// let line = r#"{"error":{"code":-32600,"message":"Invalid request"},"id":"a","jsonrpc":"2.0"}"#;
    /// let Incoming::Error { id, error } = Incoming::parse(line).unwrap() else { panic!() };
    /// assert_eq!((id, error.code), (RequestId::from("a"), -32600));
    ///
    /// assert_eq!(Incoming::parse(r#"{"id":1}"#).unwrap_err().kind(), EnvelopeErrorKind::Unclassifiable);
    /// ```
    pub fn parse(line: &'a str) -> Result<Incoming<'a>, EnvelopeError> {
        // serde's derived visitor would also accept an array (fields by position): reject
        // anything that is not an object up front.
        if !line.trim_start().starts_with('{') {
            return Err(not_an_object(line));
        }
        let wire: Wire<'a> = serde_json::from_str(line).map_err(|e| {
            let mut err = classify(line, e);
            if err.kind == EnvelopeErrorKind::InvalidMember {
                err.request_id = request_shape(line);
            }
            err
        })?;
        match (wire.id, wire.method) {
            (Some(id), Some(method)) => Ok(Incoming::Request {
                id: parse_id(id).map_err(|mut e| {
                    e.request_id = Some(id.get().into());
                    e
                })?,
                method,
                params: wire.params,
            }),
            (None, Some(method)) => Ok(Incoming::Notification {
                method,
                params: wire.params,
                emitted_at_ms: wire.emitted_at_ms,
            }),
            (Some(id), None) => {
                let id = parse_id(id)?;
                if let Some(error) = wire.error {
                    let error: RpcError = serde_json::from_str(error.get()).map_err(|e| {
                        EnvelopeError::new(
                            EnvelopeErrorKind::InvalidError,
                            format!("`error` {}: {e}", error.get()),
                        )
                    })?;
                    Ok(Incoming::Error { id, error })
                } else if let Some(result) = wire.result {
                    Ok(Incoming::Response { id, result })
                } else {
                    Err(EnvelopeError::new(
                        EnvelopeErrorKind::Unclassifiable,
                        format!("message with id {id} has neither `result` nor `error`"),
                    ))
                }
            }
            (None, None) => Err(EnvelopeError::new(
                EnvelopeErrorKind::Unclassifiable,
                "an object with neither `method` nor `id`",
            )),
        }
    }
}

/// The members a line needs to be a request, whatever their values.
#[derive(Deserialize)]
struct RequestShape<'a> {
    #[serde(borrow, default, deserialize_with = "present")]
    id: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    method: Option<&'a RawValue>,
}

/// For a line that is an object but not a valid message: its raw `id` when it has an `id` and a
/// `method` (a request that still needs an answer, e.g. `{"id":5,"method":7}`). Only on the
/// error path.
fn request_shape(line: &str) -> Option<Box<str>> {
    let shape: RequestShape<'_> = serde_json::from_str(line).ok()?;
    shape.method?;
    Some(shape.id?.get().into())
}

fn not_an_object(line: &str) -> EnvelopeError {
    match serde_json::from_str::<serde::de::IgnoredAny>(line) {
        Ok(_) => {
            let what = match line.trim_start().as_bytes().first() {
                Some(b'[') => "an array (batches are not part of the protocol)",
                Some(b'"') => "a string",
                Some(b'n') => "null",
                Some(b't' | b'f') => "a boolean",
                _ => "a number",
            };
            EnvelopeError::new(
                EnvelopeErrorKind::NotAnObject,
                format!("the line is {what}"),
            )
        }
        Err(e) => EnvelopeError::new(EnvelopeErrorKind::NotJson, e.to_string()),
    }
}

fn classify(line: &str, e: serde_json::Error) -> EnvelopeError {
    use serde_json::error::Category;
    match e.classify() {
        Category::Syntax | Category::Eof | Category::Io => {
            EnvelopeError::new(EnvelopeErrorKind::NotJson, e.to_string())
        }
        Category::Data => {
            if line.trim_start().starts_with('{') {
                EnvelopeError::new(EnvelopeErrorKind::InvalidMember, e.to_string())
            } else {
                EnvelopeError::new(EnvelopeErrorKind::NotAnObject, e.to_string())
            }
        }
    }
}

#[derive(Serialize)]
struct OutRequest<'a, P> {
    id: &'a RequestId,
    method: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    params: Option<&'a P>,
}

#[derive(Serialize)]
struct OutNotification<'a, P> {
    method: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    params: Option<&'a P>,
}

#[derive(Serialize)]
struct OutResponse<'a, R> {
    id: &'a RequestId,
    result: &'a R,
}

#[derive(Serialize)]
struct OutError<'a> {
    id: &'a RequestId,
    error: &'a RpcError,
}

/// A request line (no trailing newline, no `jsonrpc` member; `params` omitted when `None`).
///
/// ```
/// use codex_client_protocol::envelope::{encode_request, RequestId};
/// use codex_client_protocol::TurnInterruptParams;
///
/// let params = TurnInterruptParams { thread_id: "t".into(), turn_id: "u".into() };
/// let line = encode_request(&RequestId::from(4), "turn/interrupt", Some(&params)).unwrap();
/// assert_eq!(line, r#"{"id":4,"method":"turn/interrupt","params":{"threadId":"t","turnId":"u"}}"#);
/// let line = encode_request(&RequestId::from(5), "account/logout", None::<&()>).unwrap();
/// assert_eq!(line, r#"{"id":5,"method":"account/logout"}"#);
/// ```
pub fn encode_request(
    id: &RequestId,
    method: &str,
    params: Option<&impl Serialize>,
) -> Result<String, serde_json::Error> {
    serde_json::to_string(&OutRequest { id, method, params })
}

/// A notification line (the client sends only `initialized`).
///
/// ```
/// let line = codex_client_protocol::envelope::encode_notification("initialized", None::<&()>).unwrap();
/// assert_eq!(line, r#"{"method":"initialized"}"#);
/// ```
pub fn encode_notification(
    method: &str,
    params: Option<&impl Serialize>,
) -> Result<String, serde_json::Error> {
    serde_json::to_string(&OutNotification { method, params })
}

/// The answer to a server request.
///
/// ```
/// use codex_client_protocol::envelope::{encode_response, RequestId};
///
/// let line = encode_response(&RequestId::from(0), &serde_json::json!({"decision": "decline"})).unwrap();
/// assert_eq!(line, r#"{"id":0,"result":{"decision":"decline"}}"#);
/// ```
pub fn encode_response(
    id: &RequestId,
    result: &impl Serialize,
) -> Result<String, serde_json::Error> {
    serde_json::to_string(&OutResponse { id, result })
}

/// An error answer to a server request.
///
/// ```
/// use codex_client_protocol::envelope::{encode_error_response, RequestId, RpcError};
///
/// let error = RpcError { code: -32601, message: "unknown method".into(), data: None };
/// let line = encode_error_response(&RequestId::from(2), &error).unwrap();
/// assert_eq!(line, r#"{"id":2,"error":{"code":-32601,"message":"unknown method"}}"#);
/// ```
pub fn encode_error_response(
    id: &RequestId,
    error: &RpcError,
) -> Result<String, serde_json::Error> {
    serde_json::to_string(&OutError { id, error })
}

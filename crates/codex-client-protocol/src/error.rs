//! [`DecodeError`]: a message whose envelope was fine but whose params did not fit the type the
//! schema gives its method.

/// The params of a known method did not decode into their type. Keeps the method and the raw
/// params text, so the caller can log it or fall back to untyped handling.
///
/// ```
/// use codex_client_protocol::ServerNotification;
/// use serde_json::value::RawValue;
///
/// let params = RawValue::from_string(r#"{"threadId": 42}"#.to_string()).unwrap();
/// let err = ServerNotification::decode("turn/started", Some(&params)).unwrap_err();
/// assert_eq!(err.method, "turn/started");
/// assert_eq!(err.raw, r#"{"threadId": 42}"#);
/// ```
#[derive(Debug, thiserror::Error)]
#[error("invalid params for `{method}`: {source}")]
pub struct DecodeError {
    /// The method whose params failed.
    pub method: String,
    /// The params as received (`null` when absent).
    pub raw: String,
    /// What serde reported.
    #[source]
    pub source: serde_json::Error,
}

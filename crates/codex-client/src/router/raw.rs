//! The raw JSON of what a stream yields: [`RawNotification`] (a notification's line exactly as
//! the server sent it, with its method and params located in it) and [`RawEvent`] (one item of
//! a stream's raw path, which skips the typed decode).
//!
//! The reader already keeps each notification's line in the subscriber's queue ([`routed`]);
//! a raw item is that line copied out of the queue's buffer (one allocation), its method and
//! params found by the spans the reader located. Nothing here runs for a consumer that only
//! asks for typed items (`next()`).
//!
//! [`routed`]: super::routed

use super::routed::Span;
use crate::proto::envelope::Incoming;
use crate::proto::{DecodeError, ServerNotification};
use crate::server_requests::PendingServerRequest;
use std::borrow::Cow;

/// A notification as the server sent it: the whole line, its method and its params, undecoded.
///
/// Everything the server put in the line is here, including fields no schema names (the typed
/// [`ServerNotification`] ignores those). [`params`](Self::params) is the exact text of the
/// `params` member, valid JSON (the reader parsed the line), ready for another decoder — a
/// `serde_json::value::RawValue`, your own type, or a binding handing it to Python.
///
/// Got from [`TurnStream::next_raw`](crate::core::TurnStream::next_raw) /
/// [`next_with_raw`](crate::core::TurnStream::next_with_raw) and the same calls of
/// [`NotificationStream`](crate::core::NotificationStream).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use codex_client::core::{Connection, ConnectionConfig, RawEvent};
/// let (transport, server) = codex_client::transport::Transport::memory();
/// let conn = Connection::connect(transport, ConnectionConfig::default().handshake(false)).await?;
/// let mut all = conn.notifications();
/// let line = r#"{"method":"thread/name/updated","params":{"threadId":"th","threadName":"n","futureField":1}}"#;
/// server.send(line);
/// let Some(Ok(RawEvent::Notification(raw))) = all.next_raw().await else { panic!() };
/// assert_eq!(raw.method(), "thread/name/updated");
/// assert_eq!(raw.line(), line, "the line as the server sent it");
/// assert_eq!(raw.params(), Some(r#"{"threadId":"th","threadName":"n","futureField":1}"#));
/// // The typed value, later, if wanted:
/// assert_eq!(raw.decode()?.thread_id(), Some("th"));
/// # Ok(()) }
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct RawNotification {
    line: String,
    method: Method,
    params: Option<Span>,
}

/// Where a [`RawNotification`]'s method is.
#[derive(Clone, PartialEq, Eq)]
enum Method {
    /// A slice of the line (the usual case).
    At(Span),
    /// The line writes it with escapes (`turn\/completed`): unescaped here.
    Unescaped(Box<str>),
}

impl RawNotification {
    /// The notification of `line`, whose method and params the reader located at these spans.
    pub(super) fn located(line: String, method: Span, params: Option<Span>) -> Self {
        Self {
            line,
            method: Method::At(method),
            params,
        }
    }

    /// The notification of `line`, located again (a line the reader decoded at once: an
    /// escaped method or id, rare). `method` is the decoded notification's, used only if the
    /// line does not parse (it did once, on the reader).
    pub(super) fn parse(line: String, method: &str) -> Self {
        let (method, params) = match Incoming::parse(&line) {
            Ok(Incoming::Notification { method, params, .. }) => {
                let method = match &method {
                    Cow::Borrowed(m) => Span::of(&line, m).map(Method::At),
                    Cow::Owned(_) => None,
                }
                .unwrap_or_else(|| Method::Unescaped(method.as_ref().into()));
                (method, params.and_then(|p| Span::of(&line, p.get())))
            }
            _ => (Method::Unescaped(method.into()), None),
        };
        Self {
            line,
            method,
            params,
        }
    }

    /// The method, e.g. `item/agentMessage/delta`.
    pub fn method(&self) -> &str {
        match &self.method {
            Method::At(span) => &self.line[span.range()],
            Method::Unescaped(method) => method,
        }
    }

    /// The `params` exactly as the server wrote them (valid JSON); `None` when the line has no
    /// params or `"params": null`.
    pub fn params(&self) -> Option<&str> {
        self.params.map(|span| &self.line[span.range()])
    }

    /// The whole line, as the server sent it (`emittedAtMs` and any other envelope field
    /// included).
    pub fn line(&self) -> &str {
        &self.line
    }

    /// The line, owned (no copy).
    pub fn into_line(self) -> String {
        self.line
    }

    /// The typed notification of this line, decoded now (an unknown method decodes to
    /// [`ServerNotification::Unknown`]; params that do not fit the method's type are an error).
    pub fn decode(&self) -> Result<ServerNotification, DecodeError> {
        ServerNotification::decode_str(self.method(), self.params())
    }
}

impl std::fmt::Debug for RawNotification {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawNotification")
            .field("method", &self.method())
            .field("line", &self.line)
            .finish()
    }
}

/// The line, as the server sent it.
impl std::fmt::Display for RawNotification {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.line)
    }
}

/// One item of a stream's raw path ([`TurnStream::next_raw`](crate::core::TurnStream::next_raw),
/// [`NotificationStream::next_raw`](crate::core::NotificationStream::next_raw) and their
/// `next_raw_batch`): what the typed path yields, minus the typed decode.
///
/// The same shape for both kinds of stream: a gap is [`Lagged`](Self::Lagged), an `Ok` item,
/// in a notification stream too (whose typed items keep it as `Err(Error::Lagged)`); the `Err`
/// items are only the ones that end a stream (`Closed`, ...).
///
/// ```
/// use codex_client::core::RawEvent;
/// let gap = RawEvent::Lagged(2);
/// assert_eq!(gap.lagged(), Some(2));
/// assert!(gap.notification().is_none() && !gap.is_turn_completed());
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum RawEvent {
    /// A notification, undecoded.
    Notification(RawNotification),
    /// A server request of the turn (only in a turn's stream that asked for them); its raw
    /// params are [`PendingServerRequest::raw_params`].
    ServerRequest(PendingServerRequest),
    /// This consumer fell behind and `n` events were dropped here; the stream goes on.
    Lagged(u64),
}

impl RawEvent {
    /// The notification, if this is one.
    pub fn notification(&self) -> Option<&RawNotification> {
        match self {
            RawEvent::Notification(n) => Some(n),
            RawEvent::ServerRequest(_) | RawEvent::Lagged(_) => None,
        }
    }

    /// The count of a gap ([`Lagged`](Self::Lagged)), if this is one.
    pub fn lagged(&self) -> Option<u64> {
        match self {
            RawEvent::Lagged(n) => Some(*n),
            _ => None,
        }
    }

    /// `true` for a turn's `turn/completed` (the last event of a turn's stream).
    pub fn is_turn_completed(&self) -> bool {
        self.notification()
            .is_some_and(|n| n.method() == super::TURN_COMPLETED)
    }
}

//! `Serialize` for the events a stream yields ([`TurnEvent`], [`PendingServerRequest`]), so that
//! a program can log what it receives as JSON. A notification serializes as its message
//! (`{"method": ..., "params": ...}`), a server request as its message with its `id`, a gap
//! (`TurnEvent::Lagged`) as `{"lagged": n}`.
//!
//! ```
//! use codex_client::protocol::ServerNotification;
//!
//! let n = ServerNotification::decode_str(
//!     "item/agentMessage/delta",
//!     Some(r#"{"threadId":"th","turnId":"tu","itemId":"i","delta":"hi"}"#),
//! )?;
//! let event = codex_client::TurnEvent::Notification(std::sync::Arc::new(n));
//! let json = serde_json::to_value(&event)?;
//! assert_eq!(json["method"], "item/agentMessage/delta");
//! assert_eq!(json["params"]["delta"], "hi");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::{PendingServerRequest, TurnEvent};
use serde::ser::{Error as _, Serialize, Serializer};

impl Serialize for TurnEvent {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            TurnEvent::Notification(n) => n.serialize(serializer),
            TurnEvent::ServerRequest(r) => r.serialize(serializer),
            // A gap of the stream: `{"lagged": n}` (how many events this consumer missed).
            TurnEvent::Lagged(missed) => {
                let mut map = serde_json::Map::new();
                map.insert("lagged".into(), (*missed).into());
                map.serialize(serializer)
            }
        }
    }
}

impl Serialize for PendingServerRequest {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut message = serde_json::to_value(self.request()).map_err(S::Error::custom)?;
        if let Some(map) = message.as_object_mut() {
            let id = serde_json::to_value(self.id()).map_err(S::Error::custom)?;
            map.insert("id".into(), id);
        }
        message.serialize(serializer)
    }
}

#[cfg(test)]
mod tests {
    use crate::TurnEvent;
    use crate::protocol::ServerNotification;
    use std::sync::Arc;

    #[test]
    fn a_notification_event_serializes_as_its_message() {
        let params = r#"{"threadId":"th","turn":{"id":"tu","items":[],"status":"completed","error":null,"startedAt":null,"completedAt":null,"durationMs":null}}"#;
        let n = ServerNotification::decode_str("turn/completed", Some(params)).unwrap();
        let json = serde_json::to_value(TurnEvent::Notification(Arc::new(n))).unwrap();
        assert_eq!(json["method"], "turn/completed");
        assert_eq!(json["params"]["turn"]["status"], "completed");
        assert_eq!(json["params"]["threadId"], "th");
    }

    #[test]
    fn a_gap_serializes_as_its_count() {
        let json = serde_json::to_value(TurnEvent::Lagged(7)).unwrap();
        assert_eq!(json, serde_json::json!({ "lagged": 7 }));
    }
}

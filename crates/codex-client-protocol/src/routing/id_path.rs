//! `IdPath`, the places in a notification's params where the schema puts a routing id; the
//! fallback places (and their order) of methods this crate does not know; and reading a place
//! of params already decoded into a [`Value`] (the ids of [`ServerNotification::Unknown`]).

use crate::generated::notifications::id_paths;
use serde_json::Value;

#[cfg(doc)]
use crate::ServerNotification;

/// A place in a notification's params where the schema puts a routing id. The generated
/// `id_paths` maps each known method to these; `cargo xtask codegen` fails on a path this enum
/// cannot express (its `ID_PATHS` table maps the schema's paths to the variants).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(clippy::enum_variant_names)] // named after the wire keys, which all end in `id`
pub(crate) enum IdPath {
    /// `params.threadId`
    ThreadId = 0,
    /// `params.thread.id`
    ThreadDotId = 1,
    /// `params.conversationId` (the legacy name of a thread id)
    ConversationId = 2,
    /// `params.turnId`
    TurnId = 3,
    /// `params.turn.id`
    TurnDotId = 4,
}

/// Where a method this crate does not know carries its thread id, first match wins; the same
/// order as `crate::support::unknown_thread_id`.
pub(super) const UNKNOWN_THREAD: [IdPath; 3] = [
    IdPath::ThreadId,
    IdPath::ThreadDotId,
    IdPath::ConversationId,
];
/// Where a method this crate does not know carries its turn id, first match wins; the same
/// order as `crate::support::unknown_turn_id`.
pub(super) const UNKNOWN_TURN: [IdPath; 2] = [IdPath::TurnId, IdPath::TurnDotId];

impl IdPath {
    /// The place's bit in a set of wanted places (see `scanner::scan`).
    pub(super) const fn bit(self) -> u8 {
        1 << self as u8
    }

    /// Whether the id sits in a nested object (`thread`, `turn`) under the key `id`.
    pub(super) const fn nested(self) -> bool {
        matches!(self, IdPath::ThreadDotId | IdPath::TurnDotId)
    }

    /// The string at this place of `params`, if there is one.
    fn read(self, params: &Value) -> Option<&str> {
        let at = match self {
            IdPath::ThreadId => params.get("threadId"),
            IdPath::ThreadDotId => params.get("thread").and_then(|t| t.get("id")),
            IdPath::ConversationId => params.get("conversationId"),
            IdPath::TurnId => params.get("turnId"),
            IdPath::TurnDotId => params.get("turn").and_then(|t| t.get("id")),
        };
        at?.as_str()
    }
}

/// The thread id of [`ServerNotification::Unknown`]: at the schema's place for a method this
/// crate knows (params that did not decode into its type), as [`ServerNotification::route_raw`]
/// reads it; from the usual places otherwise.
pub(crate) fn unknown_thread_id<'v>(method: &str, params: &'v Value) -> Option<&'v str> {
    match id_paths(method) {
        Some((place, _)) => place.and_then(|p| p.read(params)),
        None => crate::support::unknown_thread_id(params),
    }
}

/// The turn id of [`ServerNotification::Unknown`]; see [`unknown_thread_id`].
pub(crate) fn unknown_turn_id<'v>(method: &str, params: &'v Value) -> Option<&'v str> {
    match id_paths(method) {
        Some((_, place)) => place.and_then(|p| p.read(params)),
        None => crate::support::unknown_turn_id(params),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notifications::{METHODS, ROUTING};

    fn path_str(p: IdPath) -> &'static str {
        match p {
            IdPath::ThreadId => "params.threadId",
            IdPath::ThreadDotId => "params.thread.id",
            IdPath::ConversationId => "params.conversationId",
            IdPath::TurnId => "params.turnId",
            IdPath::TurnDotId => "params.turn.id",
        }
    }

    /// The generated `id_paths` says what the generated `ROUTING` table says, for every method.
    #[test]
    fn id_paths_match_the_routing_table() {
        assert_eq!(ROUTING.len(), METHODS.len());
        for (method, thread, turn) in ROUTING {
            let (t, u) = id_paths(method).unwrap_or_else(|| panic!("no id_paths for {method}"));
            assert_eq!(t.map(path_str), *thread, "{method}");
            assert_eq!(u.map(path_str), *turn, "{method}");
        }
        assert_eq!(id_paths("no/such/method"), None);
        assert_eq!(id_paths(""), None);
    }
}

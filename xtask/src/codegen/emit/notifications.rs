//! `notifications.rs`: `ServerNotification` and `id_paths`, the routing paths the raw scanner
//! reads without decoding the params.

use super::HEADER;
use super::routed::{EnumSpec, RoutedMethod, routed_enum_src};
use anyhow::{Context, Result};
use std::fmt::Write;

/// The `IdPath` variant (hand-written in `crates/codex-client-protocol/src/routing/id_path.rs`)
/// of each routing path `routed::route` can produce: the places the raw scanner behind
/// `ServerNotification::route_raw` knows how to read.
const ID_PATHS: &[(&str, &str)] = &[
    ("params.threadId", "ThreadId"),
    ("params.thread.id", "ThreadDotId"),
    ("params.conversationId", "ConversationId"),
    ("params.turnId", "TurnId"),
    ("params.turn.id", "TurnDotId"),
];

/// The `IdPath` variant for a routing path, or a clear error when the scanner cannot read it.
fn id_path_variant(method: &str, path: &str) -> Result<&'static str> {
    ID_PATHS
        .iter()
        .find(|(p, _)| *p == path)
        .map(|(_, v)| *v)
        .with_context(|| {
            format!(
                "notification `{method}` carries its routing id at `{path}`, which \
                 `crate::routing::IdPath` cannot express: add a variant to \
                 crates/codex-client-protocol/src/routing/id_path.rs (and teach routing/scanner.rs that place), \
                 then map the path to it in ID_PATHS in xtask/src/codegen/emit/notifications.rs"
            )
        })
}

/// `id_paths(method)`: the routing paths of every known notification as `IdPath`s, a `match`
/// for the raw scanner (`ServerNotification::route_raw`), which never decodes the params.
fn id_paths_src(methods: &[RoutedMethod], s: &mut String) -> Result<()> {
    // Methods grouped by their (thread, turn) paths, groups in order of first appearance.
    let mut groups: Vec<(String, Vec<&str>)> = Vec::new();
    for m in methods {
        let mut arm = String::from("(");
        for (i, r) in [&m.thread, &m.turn].into_iter().enumerate() {
            if i > 0 {
                arm.push_str(", ");
            }
            match r {
                Some((path, _)) => {
                    let _ = write!(arm, "Some(IdPath::{})", id_path_variant(&m.method, path)?);
                }
                None => arm.push_str("None"),
            }
        }
        arm.push(')');
        match groups.iter_mut().find(|(a, _)| *a == arm) {
            Some((_, ms)) => ms.push(&m.method),
            None => groups.push((arm, vec![&m.method])),
        }
    }
    s.push_str("\n/// The routing paths `(thread id, turn id)` of a known notification method, as in [`ROUTING`];\n/// `None` when this crate does not know the method. Read by\n/// [`ServerNotification::route_raw`], which finds the ids without decoding the params.\n");
    s.push_str("pub(crate) fn id_paths(method: &str) -> Option<(Option<crate::routing::IdPath>, Option<crate::routing::IdPath>)> {\n    use crate::routing::IdPath;\n    Some(match method {\n");
    for (arm, ms) in &groups {
        let pattern: Vec<String> = ms.iter().map(|m| format!("\"{m}\"")).collect();
        let _ = writeln!(s, "        {} => {arm},", pattern.join(" | "));
    }
    s.push_str("        _ => return None,\n    })\n}\n");
    Ok(())
}

pub fn notifications_rs(methods: &[RoutedMethod]) -> Result<String> {
    let mut s = String::new();
    s.push_str(HEADER);
    s.push_str("\n//! [`ServerNotification`]: every notification the server sends, decoded by method into its\n//! params type, with the thread and turn it belongs to (routing metadata from the schema).\n\n");
    routed_enum_src(
        &EnumSpec {
            name: "ServerNotification",
            what: "server notification",
            box_large: true,
            // A known method's params that did not decode: its ids where routing reads them.
            unknown_ids: [
                "where routing reads it (see `route_raw`):\n    /// at the schema's place for a method this crate knows, else at the usual places",
                "method, params",
                "crate::routing::unknown_thread_id(method, params)",
                "crate::routing::unknown_turn_id(method, params)",
            ],
            doc: "A notification from the server, decoded by its `method`.\n\nBuild one with [`ServerNotification::decode`] from the `method` and `params` of an\n[`Incoming::Notification`](crate::envelope::Incoming::Notification).",
        },
        methods,
        &mut s,
    );
    id_paths_src(methods, &mut s)?;
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codegen::names::pascal;

    fn notification(method: &str, thread: Option<&str>, turn: Option<&str>) -> RoutedMethod {
        RoutedMethod {
            method: method.into(),
            variant: pascal(method),
            params: "P".into(),
            response: None,
            doc: None,
            thread: thread.map(|p| (p.into(), String::new())),
            turn: turn.map(|p| (p.into(), String::new())),
            boxed: false,
        }
    }

    #[test]
    fn id_paths_groups_methods_by_their_paths() {
        let mut s = String::new();
        id_paths_src(
            &[
                notification("a/x", Some("params.threadId"), Some("params.turn.id")),
                notification("b", None, None),
                notification("a/y", Some("params.threadId"), Some("params.turn.id")),
            ],
            &mut s,
        )
        .unwrap();
        assert!(
            s.contains("\"a/x\" | \"a/y\" => (Some(IdPath::ThreadId), Some(IdPath::TurnDotId)),"),
            "{s}"
        );
        assert!(s.contains("\"b\" => (None, None),"), "{s}");
        assert!(s.contains("_ => return None,"), "{s}");
    }

    #[test]
    fn id_paths_fails_on_a_path_the_scanner_cannot_read() {
        let err = id_paths_src(
            &[notification(
                "session/x",
                Some("params.session.threadId"),
                None,
            )],
            &mut String::new(),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("session/x"), "{err}");
        assert!(err.contains("params.session.threadId"), "{err}");
        assert!(err.contains("IdPath"), "{err}");
    }
}

//! What a finished turn amounts to: [`TurnResult`] (status, times, completed items in order,
//! the final response, token usage, items left open) and [`TurnFailure`] (the server's
//! [`TurnError`] plus the partial result), and the collector that builds them from a turn's
//! events as they stream past.
//!
//! The final-response rule (reference/protocol.md §6.2): the last completed `agentMessage` whose
//! phase is `final_answer`; else the last one without a phase; else none. Commentary and partial
//! answers are never the final response.

use super::turn::TurnOrigin;
use crate::proto::{
    ErrorNotification, MessagePhase, ServerNotification, ThreadItem, ThreadTokenUsage, Turn,
    TurnError, TurnStatus,
};

/// The outcome of a turn that reached `turn/completed` with status `completed` or
/// `interrupted` (a `failed` turn is an [`Error::TurnFailed`](crate::Error::TurnFailed) carrying
/// a `TurnResult` too).
///
/// ```no_run
/// # async fn f(thread: codex_client::Thread) -> Result<(), codex_client::Error> {
/// let result = thread.run("Say hello").await?;
/// println!("{:?} in {:?} ms", result.status, result.duration_ms);
/// println!("{}", result.final_response().unwrap_or("(no answer)"));
/// if let Some(usage) = &result.usage {
///     println!("{} tokens", usage.total.total_tokens);
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct TurnResult {
    /// The turn's id.
    pub id: String,
    /// The thread's id.
    pub thread_id: String,
    /// `completed`, `interrupted` or `failed` (as the server reported it).
    pub status: TurnStatus,
    /// The server's error for a failed turn.
    pub error: Option<TurnError>,
    /// When the turn started (Unix seconds, from the server).
    pub started_at: Option<i64>,
    /// When it completed (Unix seconds).
    pub completed_at: Option<i64>,
    /// How long it ran, in milliseconds (from the server).
    pub duration_ms: Option<i64>,
    /// Every item completed in the turn (`item/completed`), in order: the user's message, agent
    /// messages, reasoning, commands, file changes, ...
    pub items: Vec<ThreadItem>,
    /// Items that started but never completed before the turn ended (an interrupt, a steer that
    /// abandoned a model stream, an approval still pending), in the order they started, as last
    /// seen at `item/started`.
    pub open_items: Vec<ThreadItem>,
    /// Token usage: the last `thread/tokenUsage/updated` of this turn.
    pub usage: Option<ThreadTokenUsage>,
    /// The `error` notifications of the turn, in order — including the ones the server retried
    /// (`will_retry`), which a failed turn's final error does not show.
    pub errors: Vec<ErrorNotification>,
    /// How many of the turn's events this consumer missed because it fell behind (`Lagged`): when
    /// non-zero, `items` may be incomplete.
    pub missed_events: u64,
    /// The turn as `turn/completed` carried it (its `items` is the server's summary).
    pub turn: Option<Turn>,
    /// Whether the turn was this call's own ([`TurnOrigin::Started`]), or the input went into a
    /// turn that was already running ([`TurnOrigin::Steered`], [`TurnOrigin::Joined`]: then
    /// `items` starts where this caller came in).
    pub origin: TurnOrigin,
}

impl TurnResult {
    /// The turn's answer: the text of the last completed agent message with phase
    /// `final_answer`, else of the last one without a phase, else `None` (e.g. only commentary,
    /// or interrupted before any answer). If the completed items were missed (lag), the summary
    /// items of `turn/completed` are searched the same way.
    ///
    /// ```
    /// use codex_client::TurnResult;
    /// let result = TurnResult::from_items("turn_1", serde_json::from_value(serde_json::json!([
    ///     {"type": "agentMessage", "id": "m1", "text": "Let me look.", "phase": "commentary"},
    ///     {"type": "agentMessage", "id": "m2", "text": "It is 42.", "phase": "final_answer"},
    /// ])).unwrap());
    /// assert_eq!(result.final_response(), Some("It is 42."));
    /// ```
    pub fn final_response(&self) -> Option<&str> {
        final_response(&self.items).or_else(|| {
            self.turn
                .as_ref()
                .and_then(|turn| final_response(&turn.items))
        })
    }

    /// `true` when the turn completed normally.
    ///
    /// ```
    /// let result = codex_client::TurnResult::from_items("t", vec![]);
    /// assert!(result.is_completed());
    /// ```
    pub fn is_completed(&self) -> bool {
        self.status == TurnStatus::Completed
    }

    /// `true` when the turn was interrupted.
    ///
    /// ```
    /// let result = codex_client::TurnResult::from_items("t", vec![]);
    /// assert!(!result.is_interrupted());
    /// ```
    pub fn is_interrupted(&self) -> bool {
        self.status == TurnStatus::Interrupted
    }

    /// A completed result holding `items` (for tests and tools that build results by hand).
    ///
    /// ```
    /// let result = codex_client::TurnResult::from_items("t", vec![]);
    /// assert_eq!(result.final_response(), None);
    /// ```
    pub fn from_items(turn_id: impl Into<String>, items: Vec<ThreadItem>) -> Self {
        let mut result = TurnResult::empty(turn_id.into(), String::new());
        result.status = TurnStatus::Completed;
        result.items = items;
        result
    }

    pub(crate) fn empty(id: String, thread_id: String) -> Self {
        TurnResult {
            id,
            thread_id,
            status: TurnStatus::InProgress,
            error: None,
            started_at: None,
            completed_at: None,
            duration_ms: None,
            items: Vec::new(),
            open_items: Vec::new(),
            usage: None,
            errors: Vec::new(),
            missed_events: 0,
            turn: None,
            origin: TurnOrigin::Started,
        }
    }
}

/// The final-response rule over completed items (see the module doc).
fn final_response(items: &[ThreadItem]) -> Option<&str> {
    let mut phaseless = None;
    for item in items.iter().rev() {
        if let ThreadItem::AgentMessage(message) = item {
            match &message.phase {
                Some(MessagePhase::FinalAnswer) => return Some(&message.text),
                None if phaseless.is_none() => phaseless = Some(message.text.as_str()),
                _ => {}
            }
        }
    }
    phaseless
}

/// A turn that ended with status `failed`: the server's error and everything the turn produced
/// before it failed. Carried by [`Error::TurnFailed`](crate::Error::TurnFailed).
///
/// ```no_run
/// # async fn f(thread: codex_client::Thread) {
/// match thread.run("hi").await {
///     Err(codex_client::Error::TurnFailed(failure)) => {
///         eprintln!("{} ({:?})", failure.error.message, failure.error.codex_error_info);
///         eprintln!("{} items before the failure", failure.result.items.len());
///     }
///     other => { let _ = other; }
/// }
/// # }
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct TurnFailure {
    /// The server's error: message, `codexErrorInfo`, additional details.
    pub error: TurnError,
    /// The partial result (status `failed`).
    pub result: TurnResult,
}

impl std::fmt::Display for TurnFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "turn {} failed: {}", self.result.id, self.error.message)?;
        if let Some(details) = &self.error.additional_details {
            write!(f, " ({details})")?;
        }
        Ok(())
    }
}

/// Builds a [`TurnResult`] from the events of one turn, in the order they arrive.
#[derive(Debug)]
pub(crate) struct Collector {
    result: TurnResult,
    /// Started, not yet completed: (item id, last seen state), in start order.
    open: Vec<(String, ThreadItem)>,
    done: bool,
    /// `false`: items are not kept ([`TurnOptions::keep_items`](crate::TurnOptions::keep_items)).
    keep_items: bool,
}

impl Collector {
    pub(crate) fn new(turn_id: &str, thread_id: &str) -> Self {
        Collector {
            result: TurnResult::empty(turn_id.to_owned(), thread_id.to_owned()),
            open: Vec::new(),
            done: false,
            keep_items: true,
        }
    }

    /// Stops keeping items (the result's `items` and `open_items` stay empty).
    pub(crate) fn discard_items(&mut self) {
        self.keep_items = false;
        self.result.items = Vec::new();
        self.open = Vec::new();
    }

    pub(crate) fn is_done(&self) -> bool {
        self.done
    }

    pub(crate) fn missed(&mut self, n: u64) {
        self.result.missed_events += n;
    }

    pub(crate) fn observe(&mut self, n: &ServerNotification) {
        if n.turn_id().is_some_and(|t| t != self.result.id) {
            return;
        }
        match n {
            ServerNotification::TurnStarted(started) => {
                self.result.started_at = started.turn.started_at;
            }
            ServerNotification::ItemStarted(_) | ServerNotification::ItemCompleted(_)
                if !self.keep_items => {}
            ServerNotification::ItemStarted(started) => {
                let id = started.item.id().unwrap_or_default().to_owned();
                match self.open.iter_mut().find(|(open, _)| *open == id) {
                    Some(slot) => slot.1 = started.item.clone(),
                    None => self.open.push((id, started.item.clone())),
                }
            }
            ServerNotification::ItemCompleted(completed) => {
                let id = completed.item.id().unwrap_or_default();
                self.open.retain(|(open, _)| open != id);
                self.result.items.push(completed.item.clone());
            }
            ServerNotification::ThreadTokenUsageUpdated(usage) => {
                self.result.usage = Some(usage.token_usage.clone());
            }
            ServerNotification::Error(error) => self.result.errors.push((**error).clone()),
            ServerNotification::TurnCompleted(completed) => {
                let turn = &completed.turn;
                self.result.status = turn.status.clone();
                self.result.error = turn.error.clone();
                self.result.started_at = turn.started_at.or(self.result.started_at);
                self.result.completed_at = turn.completed_at;
                self.result.duration_ms = turn.duration_ms;
                self.result.turn = Some(turn.clone());
                self.done = true;
            }
            _ => {}
        }
    }

    /// The result so far; items still open are reported as such.
    pub(crate) fn snapshot(&self) -> TurnResult {
        let mut result = self.result.clone();
        result.open_items = self.open.iter().map(|(_, item)| item.clone()).collect();
        result
    }

    /// `Ok` for completed / interrupted, `Err(TurnFailed)` for failed.
    pub(crate) fn finish(self, origin: TurnOrigin) -> crate::Result<TurnResult> {
        let mut result = self.snapshot();
        result.origin = origin;
        if result.status == TurnStatus::Failed {
            let error = result.error.clone().unwrap_or_else(|| TurnError {
                additional_details: None,
                codex_error_info: None,
                message: "the turn failed (the server gave no error)".to_owned(),
                misalignment: None,
            });
            return Err(crate::Error::TurnFailed(Box::new(TurnFailure {
                error,
                result,
            })));
        }
        Ok(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn items(v: serde_json::Value) -> Vec<ThreadItem> {
        serde_json::from_value(v).unwrap()
    }

    fn msg(id: &str, text: &str, phase: Option<&str>) -> serde_json::Value {
        json!({"type": "agentMessage", "id": id, "text": text, "phase": phase})
    }

    #[test]
    fn final_answer_wins_over_later_commentary_and_phaseless() {
        let list = items(json!([
            msg("1", "draft", None),
            msg("2", "answer", Some("final_answer")),
            msg("3", "by the way", Some("commentary")),
            msg("4", "later, no phase", None),
        ]));
        assert_eq!(final_response(&list), Some("answer"));
    }

    #[test]
    fn the_last_final_answer_wins() {
        let list = items(json!([
            msg("1", "first", Some("final_answer")),
            msg("2", "second", Some("final_answer")),
        ]));
        assert_eq!(final_response(&list), Some("second"));
    }

    #[test]
    fn without_final_answer_the_last_phaseless_message_wins() {
        let list = items(json!([
            msg("1", "one", None),
            {"type": "reasoning", "id": "r", "summary": [], "content": []},
            msg("2", "two", None),
            msg("3", "thinking", Some("commentary")),
        ]));
        assert_eq!(final_response(&list), Some("two"));
    }

    #[test]
    fn an_empty_last_message_is_kept() {
        let list = items(json!([msg("1", "one", None), msg("2", "", None)]));
        assert_eq!(final_response(&list), Some(""));
    }

    #[test]
    fn commentary_or_partial_answers_only_give_none() {
        let list = items(json!([
            msg("1", "c", Some("commentary")),
            msg("2", "p", Some("partial_answer")),
        ]));
        assert_eq!(final_response(&list), None);
        assert_eq!(final_response(&[]), None);
    }

    fn note(method: &str, params: serde_json::Value) -> ServerNotification {
        let raw = serde_json::value::to_raw_value(&params).unwrap();
        ServerNotification::decode(method, Some(&raw)).unwrap()
    }

    fn turn(status: &str, error: serde_json::Value) -> serde_json::Value {
        json!({"id": "u", "items": [], "status": status, "error": error,
               "startedAt": 10, "completedAt": 12, "durationMs": 2000})
    }

    #[test]
    fn the_collector_keeps_order_usage_and_open_items() {
        let mut c = Collector::new("u", "t");
        let item = |kind: &str, v: serde_json::Value| {
            json!({"threadId": "t", "turnId": "u", "startedAtMs": 1, "completedAtMs": 2, "item": v})
                .as_object()
                .map(|o| (kind.to_owned(), serde_json::Value::Object(o.clone())))
                .unwrap()
        };
        for (method, params) in [
            item("item/started", msg("a", "", None)),
            item("item/started", msg("b", "", None)),
            item("item/completed", msg("a", "done", Some("final_answer"))),
        ] {
            c.observe(&note(&method, params));
        }
        let usage = json!({"total": {"totalTokens": 5, "inputTokens": 3, "cachedInputTokens": 0,
            "outputTokens": 2, "reasoningOutputTokens": 0},
            "last": {"totalTokens": 5, "inputTokens": 3, "cachedInputTokens": 0,
            "outputTokens": 2, "reasoningOutputTokens": 0}});
        c.observe(&note(
            "thread/tokenUsage/updated",
            json!({"threadId": "t", "turnId": "u", "tokenUsage": usage}),
        ));
        // Another turn's usage is ignored.
        c.observe(&note(
            "thread/tokenUsage/updated",
            json!({"threadId": "t", "turnId": "other", "tokenUsage": usage}),
        ));
        assert!(!c.is_done());
        c.observe(&note(
            "turn/completed",
            json!({"threadId": "t", "turn": turn("interrupted", json!(null))}),
        ));
        assert!(c.is_done());
        let result = c.finish(TurnOrigin::Started).unwrap();
        assert_eq!(result.status, TurnStatus::Interrupted);
        assert_eq!(result.items.len(), 1);
        assert_eq!(result.open_items.len(), 1);
        assert_eq!(result.open_items[0].id(), Some("b"));
        assert_eq!(result.final_response(), Some("done"));
        assert_eq!(result.usage.unwrap().total.total_tokens, 5);
        assert_eq!(result.duration_ms, Some(2000));
    }

    #[test]
    fn a_collector_told_to_discard_items_keeps_status_and_usage_only() {
        let mut c = Collector::new("u", "t");
        c.discard_items();
        let event = |v: serde_json::Value| json!({"threadId": "t", "turnId": "u", "startedAtMs": 1, "completedAtMs": 2, "item": v});
        c.observe(&note("item/started", event(msg("a", "", None))));
        c.observe(&note("item/started", event(msg("b", "", None))));
        c.observe(&note(
            "item/completed",
            event(msg("a", &"long answer ".repeat(1000), Some("final_answer"))),
        ));
        c.observe(&note(
            "turn/completed",
            json!({"threadId": "t", "turn": turn("completed", json!(null))}),
        ));
        assert!(c.is_done());
        let result = c.finish(TurnOrigin::Started).unwrap();
        assert_eq!(result.status, TurnStatus::Completed);
        assert!(result.items.is_empty(), "{:?}", result.items);
        assert!(result.open_items.is_empty(), "{:?}", result.open_items);
        assert_eq!(result.final_response(), None);
        assert_eq!(result.duration_ms, Some(2000));
    }

    #[test]
    fn a_failed_turn_is_an_error_with_the_partial_result() {
        let mut c = Collector::new("u", "t");
        c.observe(&note(
            "turn/completed",
            json!({"threadId": "t", "turn": turn("failed",
                json!({"message": "boom", "codexErrorInfo": "internalServerError"}))}),
        ));
        match c.finish(TurnOrigin::Started) {
            Err(crate::Error::TurnFailed(failure)) => {
                assert_eq!(failure.error.message, "boom");
                assert_eq!(failure.result.status, TurnStatus::Failed);
                assert!(failure.to_string().contains("boom"));
            }
            other => panic!("{other:?}"),
        }
    }
}

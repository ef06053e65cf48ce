//! Events, subscribers and a readable view of a queue, for the router's unit tests.

use super::queue::{Batch, Delivery, OnFull, Sub, SubQueue, Take};
use super::routed::RoutedNotification;
use crate::config::QueueBounds;
use std::sync::Arc;

/// An `item/agentMessage/delta` of turn `tu` whose delta is `text`.
pub(crate) fn delta(text: &str) -> RoutedNotification {
    delta_of("tu", text)
}

/// An `item/agentMessage/delta` of `turn` (thread `th`) whose delta is `text`.
pub(crate) fn delta_of(turn: &str, text: &str) -> RoutedNotification {
    RoutedNotification::from_line(&format!(
        r#"{{"method":"item/agentMessage/delta","params":{{"threadId":"th","turnId":"{turn}","itemId":"i","delta":"{text}"}}}}"#
    ))
}

/// The `turn/completed` of `turn` (thread `th`).
pub(crate) fn completed(turn: &str) -> RoutedNotification {
    RoutedNotification::from_line(&format!(
        r#"{{"method":"turn/completed","params":{{"threadId":"th","turn":{{"id":"{turn}","items":[],"status":"completed"}}}}}}"#
    ))
}

pub(crate) fn queue(events: usize, bytes: usize) -> Arc<SubQueue> {
    SubQueue::new(QueueBounds::new(events, bytes))
}

pub(crate) fn sub(queue: &Arc<SubQueue>, on_full: OnFull) -> Sub {
    Sub {
        id: 1,
        queue: queue.clone(),
        missed: 0,
        server_requests: false,
        on_full,
    }
}

/// What a queue's items are, in order: a delta by its text, a gap as `lagged N`.
pub(crate) fn describe(batch: &mut Batch) -> Vec<String> {
    let lines = std::mem::take(&mut batch.lines);
    let out = batch
        .items
        .drain(..)
        .map(|item| match item {
            Delivery::Notification(n) => match &*lines.decode(n) {
                crate::proto::ServerNotification::ItemAgentMessageDelta(d) => d.delta.clone(),
                other => other.method().to_owned(),
            },
            Delivery::Request(_) => "request".to_owned(),
            Delivery::Lagged(n) => format!("lagged {n}"),
        })
        .collect();
    batch.bytes = 0;
    out
}

/// Takes what is queued, as [`describe`] tells it; `None` if the take was not a batch.
pub(crate) fn take_all(queue: &SubQueue) -> Result<Vec<String>, Take> {
    let mut local = Batch::default();
    match queue.take(&mut local, futures::task::noop_waker_ref()) {
        Take::Batch => Ok(describe(&mut local)),
        other => Err(other),
    }
}

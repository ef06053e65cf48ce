//! The reader side of a connection: each line from the server classified (response,
//! notification, server request, malformed) and handed on — a response to its waiter (a turn's
//! route registered first), a notification to the router, a server request to the turn stream
//! that asked for it or to a handler task. The reader never awaits a consumer but for a full
//! queue (at most the slow-consumer grace) or a write queue over its bound.

use super::state::Core;
use super::waiters::Reply;
use super::write_queue::WriterMsg;
use crate::error::Error;
use crate::proto::envelope::{Incoming, RequestId, RpcError};
use crate::proto::{ServerNotification, ServerRequest};
use crate::router::{Located, RoutedNotification, Wakes};
use crate::server_requests::{
    PendingServerRequest, Responder, invalid_request_answer, spawn_handler,
};
use crate::transport::LineStream;
use futures::{FutureExt, StreamExt};
use serde_json::value::RawValue;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use tokio::sync::watch;

impl Core {
    fn handle_line(&self, line: String, wakes: &mut Wakes) {
        if line.trim().is_empty() {
            return;
        }
        let located = match Incoming::parse(&line) {
            Err(err) => {
                self.malformed_lines.fetch_add(1, Ordering::Relaxed);
                if let Some(raw_id) = err.request_id() {
                    let why = format!("codex-client: invalid request: {err}");
                    return self.refuse_server_request(raw_id, &why);
                }
                tracing::warn!(error = %err, line = %truncated(&line, 300), "skipping a malformed line from the app-server");
                return;
            }
            Ok(Incoming::Response { id, result }) => return self.on_response(id, Ok(result)),
            Ok(Incoming::Error { id, error }) => return self.on_response(id, Err(error)),
            Ok(Incoming::Request { id, method, params }) => {
                return self.on_server_request(id, &method, params);
            }
            Ok(Incoming::Notification { method, params, .. }) => {
                Located::find(&line, &method, params)
            }
        };
        self.on_notification(RoutedNotification::new(line, located), wakes);
    }

    fn on_response(&self, id: RequestId, outcome: std::result::Result<&RawValue, RpcError>) {
        let waiter = match &id {
            RequestId::Integer(n) => self.waiters.take(*n),
            RequestId::String(_) => None,
        };
        let Some(waiter) = waiter else {
            self.malformed_lines.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(%id, "response to an unknown (or timed-out) request id; skipped");
            return;
        };
        let method = waiter.method;
        let reply = match outcome {
            Err(error) => Err(Error::Rpc {
                method: method.to_string(),
                error,
            }),
            Ok(raw) => match waiter.turn {
                None => Ok(Reply {
                    raw: raw.to_owned(),
                    turn: None,
                }),
                Some(options) => match turn_id_of(raw) {
                    Ok(turn_id) => {
                        // Registered here, on the reader, before the caller wakes up: no event
                        // of the turn can be routed in between.
                        let stream = self.router.subscribe_turn(&turn_id, options);
                        Ok(Reply {
                            raw: raw.to_owned(),
                            turn: Some(stream),
                        })
                    }
                    Err(source) => Err(Error::Decode {
                        method: method.to_string(),
                        raw: raw.get().to_owned(),
                        source,
                    }),
                },
            },
        };
        // If the caller is gone, the reply (and its turn stream) is dropped: no route remains.
        let _ = waiter.tx.send(reply);
    }

    fn on_notification(&self, event: RoutedNotification, wakes: &mut Wakes) {
        if event.method() == SERVER_REQUEST_RESOLVED
            && let ServerNotification::ServerRequestResolved(resolved) = &*event.decoded()
        {
            self.open_requests.resolve(&resolved.request_id);
        }
        self.router.route_notification(event, wakes);
    }

    /// Answers a server request this client cannot take with Invalid Request (-32600), without
    /// tracking it: it reaches no handler and no stream.
    fn refuse_server_request(&self, raw_id: &str, why: &str) {
        tracing::warn!(id = %truncated(raw_id, 100), reason = %why, "refusing a server request (JSON-RPC -32600)");
        let _ = self.writes.send_line(invalid_request_answer(raw_id, why));
    }

    fn on_server_request(&self, id: RequestId, method: &str, params: Option<&RawValue>) {
        if self.open_requests.contains(&id) {
            // One open request per id: the first keeps its handler or stream and its entry.
            self.malformed_lines.fetch_add(1, Ordering::Relaxed);
            let why = format!(
                "codex-client: duplicate request id {id} (`{method}`): request {id} is still open"
            );
            let raw_id = serde_json::to_string(&id).expect("an id serializes");
            return self.refuse_server_request(&raw_id, &why);
        }
        let mut responder = Responder::new(id, method.to_owned(), self.answers.clone());
        let request = match ServerRequest::decode(method, params) {
            Ok(r) => r,
            Err(err) => {
                tracing::warn!(method, error = %err, "server request did not decode; answering fail-closed");
                responder.fail_closed();
                return;
            }
        };
        tracing::debug!(method, "server request");
        // Armed before routing: once in a stream, the request is the consumer's to answer, and
        // the watchdog is what keeps an ignored request from blocking the turn forever.
        self.open_requests.insert(&responder);
        responder.arm_watchdog(self.server_request_timeout);
        let pending = PendingServerRequest::new(request, params.map(ToOwned::to_owned), responder);
        if let Some(mut pending) = self.router.route_server_request(pending) {
            pending.disarm_watchdog();
            spawn_handler(
                self.handler.clone(),
                pending,
                self.server_request_timeout,
                &self.open_requests,
            );
        }
    }
}

#[derive(serde::Deserialize)]
struct TurnOnly<'a> {
    #[serde(borrow)]
    turn: IdOnly<'a>,
}

#[derive(serde::Deserialize)]
struct IdOnly<'a> {
    #[serde(borrow)]
    id: std::borrow::Cow<'a, str>,
}

/// The `turn.id` of a turn-starting response, without decoding the rest.
fn turn_id_of(raw: &RawValue) -> serde_json::Result<String> {
    let t: TurnOnly<'_> = serde_json::from_str(raw.get())?;
    Ok(t.turn.id.into_owned())
}

/// `s` cut to at most `max` bytes (at a character boundary), for logs.
pub(crate) fn truncated(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

const SERVER_REQUEST_RESOLVED: &str = "serverRequest/resolved";

/// At most this many lines are routed before the woken consumers are actually woken...
const WAKE_BATCH: usize = 256;

/// ... or this many bytes of lines, whichever comes first: a burst of large lines (the
/// `item/completed` of many long answers at once) is handed over while the reader goes on,
/// instead of waiting in the queues all together until the batch ends.
const WAKE_BATCH_BYTES: usize = 64 * 1024;

/// The reader task: reads and routes every line, waking consumers once per batch, waits for
/// a full consumer (the grace) or a full write queue before it reads on, and when the inbound
/// stream ends latches the connection closed with the transport's exit status and stderr tail.
pub(super) async fn run_reader(
    core: Arc<Core>,
    mut incoming: LineStream,
    done: watch::Sender<bool>,
) {
    // Consumers are woken once per batch of lines (whatever the transport has ready), not once
    // per event: a fast consumer then takes a whole batch per wake-up.
    let mut wakes = Wakes::default();
    let (mut batch, mut batch_bytes) = (0usize, 0usize);
    let (reason, peer_may_live) = loop {
        let next = match incoming.next().now_or_never() {
            Some(item) if batch < WAKE_BATCH && batch_bytes < WAKE_BATCH_BYTES => {
                batch += 1;
                item
            }
            ready => {
                wakes.wake_all();
                (batch, batch_bytes) = (0, 0);
                match ready {
                    Some(item) => item,
                    None => incoming.next().await,
                }
            }
        };
        match next {
            Some(Ok(line)) => {
                if line.len() > core.max_line_bytes {
                    let err = Error::LineTooLong {
                        limit: core.max_line_bytes,
                    };
                    break (format!("{err} (the connection was closed)"), true);
                }
                batch_bytes += line.len();
                core.handle_line(line, &mut wakes);
                if wakes.must_wait() {
                    // A consumer's queue is full: give it the grace to catch up (the line
                    // that filled it is queued) before reading on.
                    core.router.wait_for_room(&mut wakes).await;
                    (batch, batch_bytes) = (0, 0);
                }
                if core.writes.over_limit() {
                    // Our answers are not being read: read nothing more (the server's output
                    // stalls behind them) until they are, or the writer is gone.
                    wakes.wake_all();
                    (batch, batch_bytes) = (0, 0);
                    tracing::debug!(
                        "the app-server is not reading: the reader waits for the writer"
                    );
                    core.writes.wait_for_room().await;
                }
            }
            Some(Err(err)) => break (format!("{err}"), true),
            None if core.closing.load(Ordering::Acquire) => {
                break ("closed by the client".to_owned(), false);
            }
            None => break ("the app-server closed its output".to_owned(), false),
        }
    };
    drop(incoming);
    wakes.wake_all();
    tracing::debug!(%reason, "reader finished");
    // The connection is unusable after a read error: stop the peer now. After EOF the peer is
    // exiting on its own; `close_info` waits (bounded) for its real exit status, then kills.
    if peer_may_live {
        core.control.kill();
    }
    let info = core.control.close_info(reason).await;
    let info = core.fail_all(Arc::new(info));
    tracing::debug!(%info, "connection closed");
    let _ = core.writes.tx.send(WriterMsg::Close(None));
    let _ = done.send(true);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_turn_id_is_read_without_decoding_the_rest() {
        let raw: Box<RawValue> = serde_json::from_str(
            r#"{"turn":{"id":"t-1","items":[{"big":[1,2,3]}],"status":"inProgress"}}"#,
        )
        .unwrap();
        assert_eq!(turn_id_of(&raw).unwrap(), "t-1");
        let raw: Box<RawValue> = serde_json::from_str(r#"{"turnId":"x"}"#).unwrap();
        assert!(turn_id_of(&raw).is_err());
    }
}

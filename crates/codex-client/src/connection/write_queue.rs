//! What goes to the server: the writer's queue ([`WriteQueue`], bounded in bytes, with requests
//! that their callers can take back until the writer took them), the encoding of request and
//! answer lines, and the writer task that drains the queue into the transport.

use super::state::Core;
use crate::error::{ClosedInfo, Error, Result};
use crate::proto::envelope::{RequestId, RpcError};
use crate::server_requests::{AnswerSink, OpenRequests};
use crate::transport::LineSink;
use futures::SinkExt;
use serde::Serialize;
use serde_json::Value;
use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use tokio::sync::{mpsc, oneshot};

/// What the writer task is given.
pub(super) enum WriterMsg {
    /// An answer or a notification: always written.
    Line(String),
    /// A request's line, which its caller takes back if it gives up before the writer took it.
    Request(Arc<QueuedRequest>),
    Close(Option<oneshot::Sender<()>>),
}

/// A request line in the writer's queue. Whoever takes the line out first owns it: the writer
/// (it is written), or the caller that timed out or was cancelled (it is freed, never written).
pub(super) struct QueuedRequest {
    line: std::sync::Mutex<Option<String>>,
}

impl QueuedRequest {
    fn take(&self) -> Option<String> {
        self.line.lock().unwrap_or_else(|e| e.into_inner()).take()
    }
}

/// The writer's queue: what callers, handlers and streams have to write and the writer task has
/// not taken yet, bounded in bytes (`ConnectionConfig::write_queue_limit`). A request that
/// does not fit fails at once ([`Error::WriteQueueFull`]); an answer to a server request always
/// goes in, and the reader reads nothing more from the server while the queue is over its
/// bound — so the answers to what the server asks, while it does not read what we write, stop
/// growing too: the server's own output stalls behind them.
pub(super) struct WriteQueue {
    pub(super) tx: mpsc::UnboundedSender<WriterMsg>,
    pub(super) bytes: AtomicUsize,
    limit: usize,
    /// Signalled when the queue gets back within its bound, or the writer ends.
    room: tokio::sync::Notify,
    /// The writer task ended: nothing queued will be written.
    writer_gone: AtomicBool,
}

/// What a queued line costs beyond its bytes (its allocation's rounding, the channel's slot, a
/// request's take-back handle): counted, so that the bound is one of memory even for a flood of
/// short answers.
const LINE_OVERHEAD: usize = 128;

/// The bytes a line of `len` bytes counts for in the queue.
fn queued_cost(len: usize) -> usize {
    len.saturating_add(LINE_OVERHEAD)
}

impl WriteQueue {
    pub(super) fn new(tx: mpsc::UnboundedSender<WriterMsg>, limit: usize) -> Self {
        Self {
            tx,
            bytes: AtomicUsize::new(0),
            limit,
            room: tokio::sync::Notify::new(),
            writer_gone: AtomicBool::new(false),
        }
    }

    /// Whether a line of `len` bytes fits: an empty queue takes any one line.
    pub(super) fn fits(&self, queued: usize, len: usize) -> bool {
        queued == 0 || queued.saturating_add(queued_cost(len)) <= self.limit
    }

    pub(super) fn full_error(&self, method: &str, len: usize) -> Error {
        Error::WriteQueueFull {
            method: method.to_owned(),
            bytes: len,
            queued: self.bytes.load(Ordering::Relaxed),
            limit: self.limit,
        }
    }

    /// Queues a request's line if it fits; the returned handle lets the caller take it back.
    pub(super) fn send_request(
        &self,
        method: &str,
        line: String,
    ) -> Result<Arc<QueuedRequest>, Error> {
        let len = line.len();
        let mut queued = self.bytes.load(Ordering::Relaxed);
        loop {
            if !self.fits(queued, len) {
                return Err(self.full_error(method, len));
            }
            match self.bytes.compare_exchange_weak(
                queued,
                queued + queued_cost(len),
                Ordering::AcqRel,
                Ordering::Relaxed,
            ) {
                Ok(_) => break,
                Err(now) => queued = now,
            }
        }
        let request = Arc::new(QueuedRequest {
            line: std::sync::Mutex::new(Some(line)),
        });
        if self.tx.send(WriterMsg::Request(request.clone())).is_err() {
            self.release(len);
            return Err(Error::Closed(Arc::new(ClosedInfo::new(
                "the connection is closing",
            ))));
        }
        Ok(request)
    }

    /// Queues an answer or a notification, over the bound if need be (see the type's doc).
    pub(super) fn send_line(&self, line: String) -> bool {
        let len = line.len();
        self.bytes.fetch_add(queued_cost(len), Ordering::AcqRel);
        if self.tx.send(WriterMsg::Line(line)).is_err() {
            self.release(len);
            return false;
        }
        true
    }

    /// A line of `len` bytes left the queue (taken by the writer, or by a caller that gave up).
    fn release(&self, len: usize) {
        let cost = queued_cost(len);
        let before = self.bytes.fetch_sub(cost, Ordering::AcqRel);
        if before > self.limit && before - cost <= self.limit {
            self.room.notify_waiters();
        }
    }

    /// A caller gave up on `request` (timeout, cancellation): if the writer has not taken its
    /// line yet, it is freed and never written.
    fn withdraw(&self, request: &QueuedRequest) {
        if let Some(line) = request.take() {
            self.release(line.len());
            tracing::debug!(
                bytes = line.len(),
                "request given up before it was written: not written"
            );
        }
    }

    pub(super) fn over_limit(&self) -> bool {
        self.bytes.load(Ordering::Acquire) > self.limit
    }

    /// Waits until the queue is within its bound again, or the writer is gone.
    pub(super) async fn wait_for_room(&self) {
        loop {
            let notified = self.room.notified();
            let mut notified = std::pin::pin!(notified);
            notified.as_mut().enable();
            if !self.over_limit() || self.writer_gone.load(Ordering::Acquire) {
                return;
            }
            notified.await;
        }
    }

    fn writer_ended(&self) {
        self.writer_gone.store(true, Ordering::Release);
        self.room.notify_waiters();
    }
}

/// Where answers to server requests are written: the write queue, the open request dropped
/// from the table as its answer goes in.
pub(super) struct WriterHandle {
    pub(super) writes: Arc<WriteQueue>,
    pub(super) open: Arc<OpenRequests>,
}

impl AnswerSink for WriterHandle {
    fn send_answer(&self, id: &RequestId, answer: std::result::Result<Value, RpcError>) -> bool {
        self.open.remove(id);
        let line = match encode_answer(id, answer) {
            Ok(line) => line,
            Err(err) => {
                tracing::error!(%id, %err, "could not encode the answer to a server request");
                return false;
            }
        };
        self.writes.send_line(line)
    }
}

fn encode_answer(
    id: &RequestId,
    answer: std::result::Result<Value, RpcError>,
) -> serde_json::Result<String> {
    #[derive(Serialize)]
    struct Ok<'a> {
        id: &'a RequestId,
        result: Value,
    }
    #[derive(Serialize)]
    struct Err<'a> {
        id: &'a RequestId,
        error: RpcError,
    }
    match answer {
        std::result::Result::Ok(result) => serde_json::to_string(&Ok { id, result }),
        std::result::Result::Err(error) => serde_json::to_string(&Err { id, error }),
    }
}

/// Encodes a request line; params that serialize to `null` are omitted (methods without params).
pub(super) fn encode_request(id: i64, method: &str, params: Option<&str>) -> String {
    let params = params.filter(|p| *p != "null");
    let mut line = String::with_capacity(32 + method.len() + params.map_or(0, str::len));
    let _ = write!(line, "{{\"id\":{id},\"method\":");
    line.push_str(&serde_json::to_string(method).expect("a string serializes"));
    if let Some(p) = params {
        line.push_str(",\"params\":");
        line.push_str(p);
    }
    line.push('}');
    line
}

/// Takes a request's line back out of the writer's queue when its caller gives up before the
/// writer took it (a no-op once it did).
pub(super) struct Withdraw<'a> {
    pub(super) writes: &'a WriteQueue,
    pub(super) request: Arc<QueuedRequest>,
}

impl Drop for Withdraw<'_> {
    fn drop(&mut self) {
        self.writes.withdraw(&self.request);
    }
}

/// What the writer does with a message taken from its queue.
enum Dequeued {
    Write(String),
    /// A request whose caller gave up before it was taken: nothing to write.
    Skip,
    Close(Option<oneshot::Sender<()>>),
}

impl WriteQueue {
    /// Takes `msg` out of the queue's byte count (see [`QueuedRequest`]).
    fn taken(&self, msg: WriterMsg) -> Dequeued {
        let line = match msg {
            WriterMsg::Close(ack) => return Dequeued::Close(ack),
            WriterMsg::Line(line) => line,
            WriterMsg::Request(request) => match request.take() {
                Some(line) => line,
                None => return Dequeued::Skip,
            },
        };
        self.release(line.len());
        Dequeued::Write(line)
    }
}

/// The writer task: writes what is queued, batching what is ready into one flush, until the
/// queue is closed or a write fails (then the peer is killed: the reader ends everything).
pub(super) async fn run_writer(
    core: Arc<Core>,
    mut sink: LineSink,
    mut rx: mpsc::UnboundedReceiver<WriterMsg>,
) {
    let writes = core.writes.clone();
    let result: std::io::Result<Option<oneshot::Sender<()>>> = async {
        while let Some(msg) = rx.recv().await {
            match writes.taken(msg) {
                Dequeued::Close(ack) => return Ok(ack),
                Dequeued::Skip => {}
                Dequeued::Write(line) => {
                    sink.feed(line).await?;
                    // Let the tasks woken with this one queue their lines too, then batch
                    // what is queued into one write.
                    tokio::task::yield_now().await;
                    while let Ok(msg) = rx.try_recv() {
                        match writes.taken(msg) {
                            Dequeued::Write(line) => sink.feed(line).await?,
                            Dequeued::Skip => {}
                            Dequeued::Close(ack) => {
                                sink.flush().await?;
                                return Ok(ack);
                            }
                        }
                    }
                    sink.flush().await?;
                }
            }
        }
        Ok(None)
    }
    .await;
    writes.writer_ended();
    match result {
        Ok(ack) => {
            let _ = sink.close().await;
            drop(sink);
            if let Some(ack) = ack {
                let _ = ack.send(());
            }
        }
        Err(err) => {
            if !core.closing.load(Ordering::Acquire) && core.router.closed().is_none() {
                tracing::warn!(%err, "writing to the app-server failed; closing the connection");
                core.control.kill();
            }
        }
    }
    // Lines queued after this point are refused (the receiver is gone).
    drop(rx);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_lines_omit_null_params_and_escape_the_method() {
        assert_eq!(
            encode_request(7, "thread/start", Some(r#"{"cwd":"/tmp"}"#)),
            r#"{"id":7,"method":"thread/start","params":{"cwd":"/tmp"}}"#
        );
        assert_eq!(
            encode_request(8, "account/rateLimits/read", Some("null")),
            r#"{"id":8,"method":"account/rateLimits/read"}"#
        );
        assert_eq!(
            encode_request(9, "a\"b", None),
            r#"{"id":9,"method":"a\"b"}"#
        );
    }

    #[test]
    fn answers_are_result_or_error_objects() {
        let id = RequestId::Integer(0);
        assert_eq!(
            encode_answer(&id, Ok(serde_json::json!({"decision": "decline"}))).unwrap(),
            r#"{"id":0,"result":{"decision":"decline"}}"#
        );
        let err = RpcError {
            code: -32000,
            message: "no".into(),
            data: None,
        };
        let line = encode_answer(&id, Err(err)).unwrap();
        let v: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["error"]["code"], -32000);
        assert_eq!(v["id"], 0);
    }

    fn queue(limit: usize) -> (WriteQueue, mpsc::UnboundedReceiver<WriterMsg>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (WriteQueue::new(tx, limit), rx)
    }

    /// Takes the next message as the writer does.
    fn dequeue(q: &WriteQueue, rx: &mut mpsc::UnboundedReceiver<WriterMsg>) -> Dequeued {
        q.taken(rx.try_recv().expect("a message is queued"))
    }

    #[test]
    fn a_request_that_does_not_fit_fails_with_the_numbers_and_an_empty_queue_takes_any() {
        let (q, mut rx) = queue(300);
        let big = "x".repeat(1000);
        let first = q
            .send_request("a/b", big.clone())
            .expect("an empty queue takes any line");
        assert_eq!(q.bytes.load(Ordering::Relaxed), queued_cost(1000));
        let Err(Error::WriteQueueFull {
            method,
            bytes,
            queued,
            limit,
        }) = q.send_request("c/d", "y".to_owned())
        else {
            panic!("a second request does not fit");
        };
        assert_eq!(
            (method.as_str(), bytes, queued, limit),
            ("c/d", 1, queued_cost(1000), 300)
        );
        assert!(matches!(dequeue(&q, &mut rx), Dequeued::Write(line) if line == big));
        assert_eq!(
            q.bytes.load(Ordering::Relaxed),
            0,
            "taken by the writer: released"
        );
        drop(first);
    }

    #[test]
    fn a_request_given_up_before_the_writer_took_it_is_never_written() {
        let (q, mut rx) = queue(10_000);
        let request = q.send_request("a/b", "line".to_owned()).unwrap();
        drop(Withdraw {
            writes: &q,
            request: request.clone(),
        });
        assert_eq!(
            q.bytes.load(Ordering::Relaxed),
            0,
            "its bytes are released at once"
        );
        assert!(matches!(dequeue(&q, &mut rx), Dequeued::Skip));
        // Once taken, withdrawing is a no-op (the bytes are not released twice).
        let request = q.send_request("a/b", "line".to_owned()).unwrap();
        assert!(matches!(dequeue(&q, &mut rx), Dequeued::Write(_)));
        q.withdraw(&request);
        assert_eq!(q.bytes.load(Ordering::Relaxed), 0);
    }

    #[tokio::test]
    async fn answers_always_go_in_and_the_reader_waits_until_the_queue_is_within_its_bound() {
        let (q, mut rx) = queue(2 * queued_cost(10));
        for _ in 0..3 {
            assert!(q.send_line("a".repeat(10)), "an answer is never refused");
        }
        assert!(q.over_limit());
        assert!(
            q.send_request("a/b", "r".to_owned()).is_err(),
            "a request is"
        );
        let writer = async {
            while q.over_limit() {
                assert!(matches!(dequeue(&q, &mut rx), Dequeued::Write(_)));
                tokio::task::yield_now().await;
            }
        };
        tokio::time::timeout(std::time::Duration::from_secs(5), async {
            tokio::join!(q.wait_for_room(), writer)
        })
        .await
        .expect("the reader goes on once the writer took enough");
        assert!(!q.over_limit());
    }

    #[tokio::test]
    async fn a_gone_writer_lets_the_reader_go_on() {
        let (q, rx) = queue(1);
        q.send_line("long answer".to_owned());
        q.send_line("long answer".to_owned());
        assert!(q.over_limit());
        drop(rx);
        q.writer_ended();
        tokio::time::timeout(std::time::Duration::from_secs(5), q.wait_for_room())
            .await
            .expect("nothing queued will be written: no waiting for it");
        assert!(
            !q.send_line("late".to_owned()),
            "the writer is gone: refused"
        );
    }

    #[test]
    fn a_close_is_passed_on_and_costs_nothing() {
        let (q, mut rx) = queue(100);
        q.tx.send(WriterMsg::Close(None)).unwrap();
        assert!(matches!(dequeue(&q, &mut rx), Dequeued::Close(None)));
        assert_eq!(q.bytes.load(Ordering::Relaxed), 0);
    }
}

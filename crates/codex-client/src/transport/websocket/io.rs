//! An open websocket as a [`Transport`]: the read half is the inbound line stream the
//! connection's reader polls directly (never behind the write half); the write half is a task
//! fed by a bounded channel that batches frames into one flush, sends keepalive pings (nothing
//! received for two intervals: the connection is lost) and the close frame; [`WsControl`] gives
//! the close information, the shutdown and the kill.

use super::super::{ConnectOptions, Transport, TransportControl};
use super::upgrade::Recorded;
use crate::error::{ClosedInfo, Error};
use futures::future::BoxFuture;
use futures::{SinkExt, Stream, StreamExt};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::mpsc;
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};
use tokio_websockets::{CloseCode, Message, WebSocketStream};
use tracing::Instrument;

/// How long the writer waits for the close frame to go out when the connection closes.
const CLOSE_WAIT: Duration = Duration::from_secs(2);
/// Lines queued between the connection's writer and the websocket writer.
const OUTBOUND_QUEUE: usize = 256;

/// State shared by the read half, the writer task and the control.
struct SocketState {
    endpoint: String,
    /// Cancelled to drop the connection now (kill, keepalive failure, write failure).
    kill: CancellationToken,
    /// Why `kill` was cancelled, when it was not the client's own doing.
    kill_reason: Mutex<Option<String>>,
    /// The server's close frame, if one arrived.
    close_frame: Mutex<Option<String>>,
    /// When the last frame of any kind arrived.
    last_inbound: Mutex<Instant>,
    /// Cancelled when the read half has ended.
    read_done: CancellationToken,
    /// Set once our close frame is on its way: an end without the server's close frame is then
    /// the expected end, not an error.
    close_sent: AtomicBool,
}

impl SocketState {
    fn kill_with(&self, reason: String) {
        self.kill_reason.lock().unwrap().get_or_insert(reason);
        self.kill.cancel();
    }
}

pub(super) fn from_websocket<S>(
    ws: WebSocketStream<Recorded<S>>,
    endpoint: String,
    options: &ConnectOptions,
) -> Transport
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (sink, stream) = ws.split();
    let shared = Arc::new(SocketState {
        endpoint: endpoint.clone(),
        kill: CancellationToken::new(),
        kill_reason: Mutex::new(None),
        close_frame: Mutex::new(None),
        last_inbound: Mutex::new(Instant::now()),
        read_done: CancellationToken::new(),
        close_sent: AtomicBool::new(false),
    });
    let (line_tx, line_rx) = mpsc::channel::<String>(OUTBOUND_QUEUE);
    let span = tracing::debug_span!("codex.websocket", endpoint = %endpoint);
    tokio::spawn(run_writer(sink, line_rx, shared.clone(), options.keepalive).instrument(span));
    let incoming = Incoming {
        inner: stream,
        killed: Box::pin(shared.kill.clone().cancelled_owned()),
        shared: shared.clone(),
        max_message_bytes: options.max_message_bytes,
        done: false,
        binary_frames: 0,
    };
    let outgoing = Box::pin(futures::sink::unfold(
        line_tx,
        |tx, line: String| async move {
            tx.send(line).await.map_err(|_| {
                std::io::Error::new(
                    std::io::ErrorKind::BrokenPipe,
                    "the websocket connection is closed",
                )
            })?;
            Ok::<_, std::io::Error>(tx)
        },
    ));
    Transport::new(Box::pin(incoming), outgoing, Arc::new(WsControl { shared }))
}

/// The read half as a line stream.
struct Incoming<S> {
    inner: futures::stream::SplitStream<WebSocketStream<Recorded<S>>>,
    killed: Pin<Box<WaitForCancellationFutureOwned>>,
    shared: Arc<SocketState>,
    max_message_bytes: usize,
    done: bool,
    binary_frames: u64,
}

impl<S> Incoming<S> {
    fn finish(&mut self) {
        self.done = true;
        self.shared.read_done.cancel();
    }
}

impl<S> Stream for Incoming<S>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    type Item = Result<String, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.done {
            return Poll::Ready(None);
        }
        if this.killed.as_mut().poll(cx).is_ready() {
            this.finish();
            let reason = this
                .shared
                .kill_reason
                .lock()
                .unwrap()
                .clone()
                .unwrap_or_else(|| "the websocket was closed by the client".to_owned());
            return Poll::Ready(Some(Err(Error::Transport(Arc::new(std::io::Error::new(
                std::io::ErrorKind::ConnectionAborted,
                reason,
            ))))));
        }
        loop {
            let item = match this.inner.poll_next_unpin(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(item) => item,
            };
            match item {
                None => {
                    this.finish();
                    let goodbye = this.shared.close_sent.load(Ordering::Acquire)
                        || this.shared.close_frame.lock().unwrap().is_some();
                    if goodbye {
                        return Poll::Ready(None);
                    }
                    return Poll::Ready(Some(Err(Error::Transport(Arc::new(
                        std::io::Error::new(
                            std::io::ErrorKind::UnexpectedEof,
                            format!(
                                "websocket {}: the connection ended without a close frame",
                                this.shared.endpoint
                            ),
                        ),
                    )))));
                }
                Some(Ok(message)) => {
                    *this.shared.last_inbound.lock().unwrap() = Instant::now();
                    if let Some(text) = message.as_text() {
                        return Poll::Ready(Some(Ok(text.to_owned())));
                    }
                    if message.is_binary() {
                        this.binary_frames += 1;
                        tracing::warn!(
                            len = message.as_payload().len(),
                            total = this.binary_frames,
                            "skipping a binary websocket frame (the protocol uses text frames)"
                        );
                    } else if let Some((code, reason)) = message.as_close() {
                        let code = u16::from(code);
                        let text = if reason.is_empty() {
                            format!("close code {code}")
                        } else {
                            format!("close code {code}: {reason}")
                        };
                        tracing::debug!(%text, "the server closed the websocket");
                        *this.shared.close_frame.lock().unwrap() = Some(text);
                    }
                    // Pongs only feed the keepalive; pings are answered by the library.
                }
                Some(Err(err)) => {
                    this.finish();
                    let closing = this.shared.close_sent.load(Ordering::Acquire);
                    return Poll::Ready(match err {
                        tokio_websockets::Error::AlreadyClosed => None,
                        // We said goodbye; the server may drop the socket without answering.
                        tokio_websockets::Error::Protocol(_) | tokio_websockets::Error::Io(_)
                            if closing =>
                        {
                            None
                        }
                        tokio_websockets::Error::PayloadTooLong { .. } => {
                            Some(Err(Error::LineTooLong {
                                limit: this.max_message_bytes,
                            }))
                        }
                        tokio_websockets::Error::Io(io) => {
                            Some(Err(Error::Transport(Arc::new(std::io::Error::new(
                                io.kind(),
                                format!("websocket {}: {io}", this.shared.endpoint),
                            )))))
                        }
                        other => Some(Err(Error::Transport(Arc::new(std::io::Error::other(
                            format!("websocket {}: {other}", this.shared.endpoint),
                        ))))),
                    });
                }
            }
        }
    }
}

type WsSink<S> = futures::stream::SplitSink<WebSocketStream<Recorded<S>>, Message>;

async fn run_writer<S>(
    mut sink: WsSink<S>,
    mut lines: mpsc::Receiver<String>,
    shared: Arc<SocketState>,
    keepalive: Option<Duration>,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let mut ticker = keepalive.map(|every| {
        let mut t = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        (t, every)
    });
    let result: Result<(), String> = loop {
        tokio::select! {
            biased;
            _ = shared.kill.cancelled() => break Ok(()),
            line = lines.recv() => match line {
                Some(line) => {
                    let write = async {
                        sink.feed(Message::text(line)).await?;
                        // Everything already queued goes out with one flush.
                        let mut batched = 0;
                        while batched < 256 {
                            match lines.try_recv() {
                                Ok(line) => sink.feed(Message::text(line)).await?,
                                Err(_) => break,
                            }
                            batched += 1;
                        }
                        sink.flush().await
                    };
                    let outcome = tokio::select! {
                        r = write => r,
                        _ = shared.kill.cancelled() => break Ok(()),
                    };
                    if let Err(e) = outcome {
                        break Err(format!("writing to the websocket {} failed: {e}", shared.endpoint));
                    }
                }
                None => {
                    // The connection closed its output: say goodbye. The server answers with its
                    // own close frame, which ends the read half.
                    tracing::debug!("sending the close frame");
                    shared.close_sent.store(true, Ordering::Release);
                    // `send`, not the sink's `close`: the library's close reads the stream to its
                    // end, which would take the last messages from the read half.
                    let goodbye = Message::close(Some(CloseCode::NORMAL_CLOSURE), "");
                    let _ = tokio::time::timeout(CLOSE_WAIT, sink.send(goodbye)).await;
                    if tokio::time::timeout(CLOSE_WAIT, shared.read_done.cancelled()).await.is_err() {
                        shared.kill_with("the server did not answer the close frame".to_owned());
                    }
                    break Ok(());
                }
            },
            _ = async {
                match ticker.as_mut() {
                    Some((t, _)) => { t.tick().await; }
                    None => std::future::pending::<()>().await,
                }
            } => {
                let every = ticker.as_ref().map(|(_, e)| *e).unwrap_or_default();
                let silent = shared.last_inbound.lock().unwrap().elapsed();
                if silent > every * 2 {
                    break Err(format!(
                        "the websocket {} is lost: nothing received for {:.0?} (keepalive pings unanswered)",
                        shared.endpoint, silent
                    ));
                }
                let ping = tokio::select! {
                    r = sink.send(Message::ping("")) => r,
                    _ = shared.kill.cancelled() => break Ok(()),
                };
                if let Err(e) = ping {
                    break Err(format!("sending a ping to {} failed: {e}", shared.endpoint));
                }
            }
        }
    };
    if let Err(reason) = result {
        tracing::warn!(%reason, "closing the websocket connection");
        shared.kill_with(reason);
    }
}

/// The control side: close information, shutdown (close frame) and kill (drop the socket).
struct WsControl {
    shared: Arc<SocketState>,
}

impl TransportControl for WsControl {
    fn close_info(&self, reason: String) -> BoxFuture<'_, ClosedInfo> {
        let mut text = format!("{reason} (websocket {}", self.shared.endpoint);
        if let Some(frame) = self.shared.close_frame.lock().unwrap().as_deref() {
            text.push_str(", ");
            text.push_str(frame);
        }
        text.push(')');
        Box::pin(async move { ClosedInfo::new(text) })
    }

    fn shutdown(&self, grace: Duration) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            // The connection closes its output first (the writer sends the close frame); when
            // this is called the server has not answered in time: drop the socket.
            if tokio::time::timeout(grace, self.shared.read_done.cancelled())
                .await
                .is_err()
            {
                self.shared
                    .kill_with("the server did not close the websocket in time".to_owned());
            }
        })
    }

    fn kill(&self) {
        self.shared.kill.cancel();
    }
}

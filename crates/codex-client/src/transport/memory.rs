//! The in-memory transport: a connected pair of channels, the client's [`Transport`] and the
//! test's [`MemoryPeer`] (the "server side"). A scriptable fake server is a task that reads
//! requests with [`MemoryPeer::recv_json`] and writes responses and notifications with
//! [`MemoryPeer::send`].

use super::{Transport, TransportControl};
use crate::error::{ClosedInfo, Error};
use futures::StreamExt;
use futures::future::BoxFuture;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;

enum Inbound {
    Line(String),
    Fail(Error),
    Eof,
}

/// The server end of [`Transport::memory`].
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let (transport, mut peer) = codex_client::Transport::memory();
/// peer.send(r#"{"method":"configWarning","params":{"summary":"x"}}"#);
/// peer.set_stderr_tail("panicked at 'boom'");
/// peer.close(); // the client sees end-of-stream, as if the process exited
/// drop(transport); // the client is gone: its output ends
/// assert!(peer.recv().await.is_none());
/// # }
/// ```
#[derive(Debug)]
pub struct MemoryPeer {
    to_client: mpsc::UnboundedSender<Inbound>,
    from_client: mpsc::UnboundedReceiver<String>,
    control: Arc<MemoryControl>,
}

impl std::fmt::Debug for Inbound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Inbound::Line(l) => write!(f, "Line({l})"),
            Inbound::Fail(e) => write!(f, "Fail({e})"),
            Inbound::Eof => write!(f, "Eof"),
        }
    }
}

impl MemoryPeer {
    /// Sends one line to the client (no newline). `false` once the client is gone.
    pub fn send(&self, line: impl Into<String>) -> bool {
        self.to_client.send(Inbound::Line(line.into())).is_ok()
    }

    /// Sends a JSON value as one line.
    pub fn send_json(&self, value: &serde_json::Value) -> bool {
        self.send(value.to_string())
    }

    /// The next line the client wrote; `None` once the client closed its output (stdin EOF).
    pub async fn recv(&mut self) -> Option<String> {
        self.from_client.recv().await
    }

    /// The next line the client wrote, parsed.
    pub async fn recv_json(&mut self) -> Option<serde_json::Value> {
        let line = self.recv().await?;
        Some(serde_json::from_str(&line).expect("the client writes JSON lines"))
    }

    /// A line the client already wrote, without waiting.
    pub fn try_recv(&mut self) -> Option<String> {
        self.from_client.try_recv().ok()
    }

    /// Ends the client's inbound stream (like a process closing stdout and exiting).
    pub fn close(&self) {
        let _ = self.to_client.send(Inbound::Eof);
    }

    /// Ends the client's inbound stream with a transport error.
    pub fn fail(&self, error: std::io::Error) {
        let _ = self
            .to_client
            .send(Inbound::Fail(Error::Transport(Arc::new(error))));
    }

    /// What the client will report as the stderr tail when the connection ends.
    pub fn set_stderr_tail(&self, tail: impl Into<String>) {
        *self.control.stderr.lock().unwrap() = tail.into();
    }

    /// `true` once the client asked the peer to shut down ([`TransportControl::shutdown`] or
    /// [`TransportControl::kill`]).
    pub fn shutdown_requested(&self) -> bool {
        *self.control.shutdown.lock().unwrap()
    }
}

#[derive(Debug)]
struct MemoryControl {
    stderr: Mutex<String>,
    shutdown: Mutex<bool>,
    eof: mpsc::UnboundedSender<Inbound>,
}

impl TransportControl for MemoryControl {
    fn close_info(&self, reason: String) -> BoxFuture<'_, ClosedInfo> {
        let tail = self.stderr.lock().unwrap().clone();
        Box::pin(async move { ClosedInfo::new(reason).with_stderr_tail(tail) })
    }

    fn shutdown(&self, _grace: Duration) -> BoxFuture<'_, ()> {
        self.kill();
        Box::pin(async {})
    }

    fn kill(&self) {
        *self.shutdown.lock().unwrap() = true;
        let _ = self.eof.send(Inbound::Eof);
    }

    fn stderr_tail(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }
}

pub(super) fn pair() -> (Transport, MemoryPeer) {
    let (to_client, inbound_rx) = mpsc::unbounded_channel::<Inbound>();
    let (outbound_tx, from_client) = mpsc::unbounded_channel::<String>();
    let control = Arc::new(MemoryControl {
        stderr: Mutex::new(String::new()),
        shutdown: Mutex::new(false),
        eof: to_client.clone(),
    });
    let mut inbound_rx = inbound_rx;
    let mut ended = false;
    let incoming = futures::stream::poll_fn(move |cx| {
        if ended {
            return std::task::Poll::Ready(None);
        }
        match inbound_rx.poll_recv(cx) {
            std::task::Poll::Ready(Some(Inbound::Line(line))) => {
                std::task::Poll::Ready(Some(Ok(line)))
            }
            std::task::Poll::Ready(Some(Inbound::Fail(err))) => {
                ended = true;
                std::task::Poll::Ready(Some(Err(err)))
            }
            std::task::Poll::Ready(Some(Inbound::Eof) | None) => {
                ended = true;
                std::task::Poll::Ready(None)
            }
            std::task::Poll::Pending => std::task::Poll::Pending,
        }
    })
    .boxed();
    let outgoing = Box::pin(futures::sink::unfold(
        outbound_tx,
        |tx, line: String| async move {
            tx.send(line).map_err(|_| {
                std::io::Error::new(std::io::ErrorKind::BrokenPipe, "memory peer is gone")
            })?;
            Ok::<_, std::io::Error>(tx)
        },
    ));
    let transport = Transport {
        incoming,
        outgoing,
        control: control.clone(),
    };
    (
        transport,
        MemoryPeer {
            to_client,
            from_client,
            control,
        },
    )
}

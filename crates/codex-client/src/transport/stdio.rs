//! The stdio transport: a spawned `codex app-server` child.
//!
//! Three tasks per child: stdout is read by the connection's reader through a bounded
//! [`LinesCodec`] (a line over the limit is an error, never an allocation of any size); stderr is
//! drained continuously by a task into a bounded ring buffer (last N lines / bytes) and `tracing`
//! (a child whose stderr is not read blocks); and a monitor task owns the [`Child`], publishes its
//! exit status, and delivers terminate/kill requests. The child is spawned with `kill_on_drop`;
//! if the monitor task is dropped (runtime shut down) the process group is killed too, and the
//! runtime reaps the child.

use super::{Transport, TransportControl};
use crate::error::{ClosedInfo, Error};
use crate::spawn::SpawnConfig;
use futures::future::BoxFuture;
use futures::{SinkExt, StreamExt};
use std::collections::VecDeque;
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::AsyncReadExt;
use tokio::process::Child;
use tokio::sync::{mpsc, watch};
use tokio_util::codec::{FramedRead, FramedWrite, LinesCodec, LinesCodecError};

/// How long [`TransportControl::close_info`] waits for the exit status and the end of stderr
/// after stdout closed.
const EXIT_WAIT: Duration = Duration::from_secs(2);

pub(super) fn spawn(config: &SpawnConfig, max_line_bytes: usize) -> Result<Transport, Error> {
    let mut std_cmd = config.to_std_command()?;
    let program = std::path::PathBuf::from(std_cmd.get_program());
    if config.program.is_some() && !launchable(&program, child_path(&std_cmd).as_deref()) {
        let how = if is_bare_name(&program) {
            "looked up on PATH"
        } else {
            "explicit path in the config"
        };
        return Err(Error::BinaryNotFound {
            searched: vec![format!("{} ({how})", program.display())],
            version: crate::proto::CODEX_VERSION,
        });
    }
    std_cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut cmd = tokio::process::Command::from(std_cmd);
    cmd.kill_on_drop(true);
    let mut child = cmd.spawn().map_err(|source| Error::Spawn {
        program: program.clone(),
        source,
    })?;
    let pid = child.id();
    tracing::debug!(program = %program.display(), ?pid, "spawned codex app-server");
    let stdin = child.stdin.take().expect("stdin is piped");
    let stdout = child.stdout.take().expect("stdout is piped");
    let stderr = child.stderr.take().expect("stderr is piped");

    let ring = Arc::new(Mutex::new(StderrRing::new(
        config.stderr_tail_lines,
        config.stderr_tail_bytes,
    )));
    let (stderr_done_tx, stderr_done) = watch::channel(false);
    tokio::spawn(drain_stderr(stderr, ring.clone(), stderr_done_tx));

    let (status_tx, status) = watch::channel(None);
    let (signal_tx, signal_rx) = mpsc::unbounded_channel();
    let group = config.process_group.then_some(pid).flatten();
    tokio::spawn(monitor(child, group, signal_rx, status_tx));

    // A pipe holds 64 KiB: read it whole, so that one wake-up carries many lines.
    let incoming = FramedRead::with_capacity(
        stdout,
        Utf8Tolerant(LinesCodec::new_with_max_length(max_line_bytes)),
        64 * 1024,
    )
    .map(move |item| {
        item.map_err(|err| match err {
            LinesCodecError::MaxLineLengthExceeded => Error::LineTooLong {
                limit: max_line_bytes,
            },
            LinesCodecError::Io(e) => Error::Transport(Arc::new(e)),
        })
    })
    .boxed();
    let outgoing = Box::pin(SinkExt::<String>::sink_map_err(
        FramedWrite::new(stdin, LinesCodec::new()),
        |err| match err {
            LinesCodecError::Io(e) => e,
            other => std::io::Error::other(other),
        },
    ));
    Ok(Transport {
        incoming,
        outgoing,
        control: Arc::new(ChildControl {
            pid,
            group,
            status,
            signal_tx,
            ring,
            stderr_done,
        }),
    })
}

/// What the reader gets in place of a line that is not UTF-8: not JSON, so it is counted and
/// reported as a malformed line like any other.
const NOT_UTF8: &str = "<a line that is not valid UTF-8>";

/// [`LinesCodec`], except that a line that is not UTF-8 does not end the stream: `LinesCodec`
/// has already consumed that line when it reports the error, and `FramedRead` ends the stream
/// after any decoder error, so one bad byte from the server would otherwise close the
/// connection. It becomes [`NOT_UTF8`] instead.
struct Utf8Tolerant(LinesCodec);

impl Utf8Tolerant {
    fn tolerate(
        result: Result<Option<String>, LinesCodecError>,
    ) -> Result<Option<String>, LinesCodecError> {
        match result {
            Err(LinesCodecError::Io(e)) if e.kind() == std::io::ErrorKind::InvalidData => {
                Ok(Some(NOT_UTF8.to_owned()))
            }
            other => other,
        }
    }
}

impl tokio_util::codec::Decoder for Utf8Tolerant {
    type Item = String;
    type Error = LinesCodecError;

    fn decode(
        &mut self,
        buf: &mut tokio_util::bytes::BytesMut,
    ) -> Result<Option<String>, LinesCodecError> {
        Self::tolerate(self.0.decode(buf))
    }

    fn decode_eof(
        &mut self,
        buf: &mut tokio_util::bytes::BytesMut,
    ) -> Result<Option<String>, LinesCodecError> {
        Self::tolerate(self.0.decode_eof(buf))
    }
}

#[derive(Debug, Clone, Copy)]
enum Signal {
    Terminate,
    Kill,
}

struct ChildControl {
    pid: Option<u32>,
    group: Option<u32>,
    status: watch::Receiver<Option<ExitStatus>>,
    signal_tx: mpsc::UnboundedSender<Signal>,
    ring: Arc<Mutex<StderrRing>>,
    stderr_done: watch::Receiver<bool>,
}

impl ChildControl {
    fn exited(&self) -> bool {
        self.status.borrow().is_some()
    }

    async fn wait_exit(&self, timeout: Duration) -> Option<ExitStatus> {
        let mut status = self.status.clone();
        let _ = tokio::time::timeout(timeout, status.wait_for(Option::is_some)).await;
        *status.borrow()
    }
}

impl TransportControl for ChildControl {
    fn close_info(&self, reason: String) -> BoxFuture<'_, ClosedInfo> {
        Box::pin(async move {
            let mut status = self.wait_exit(EXIT_WAIT).await;
            if status.is_none() {
                tracing::warn!(pid = ?self.pid, "app-server closed its output but did not exit; killing it");
                self.kill();
                status = self.wait_exit(EXIT_WAIT).await;
            }
            let mut done = self.stderr_done.clone();
            let _ = tokio::time::timeout(EXIT_WAIT, done.wait_for(|d| *d)).await;
            ClosedInfo::new(reason)
                .with_exit_status(status)
                .with_stderr_tail(self.stderr_tail())
        })
    }

    fn shutdown(&self, grace: Duration) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            if self.exited() {
                return;
            }
            let _ = self.signal_tx.send(Signal::Terminate);
            if self.wait_exit(grace).await.is_some() {
                return;
            }
            tracing::warn!(pid = ?self.pid, "app-server ignored SIGTERM; killing it");
            self.kill();
            self.wait_exit(grace).await;
        })
    }

    fn kill(&self) {
        if self.exited() {
            return;
        }
        // Deliver synchronously too: the monitor task may be gone (runtime shutting down).
        signal_now(self.pid, self.group, Signal::Kill);
        let _ = self.signal_tx.send(Signal::Kill);
    }

    fn stderr_tail(&self) -> String {
        self.ring.lock().unwrap().joined()
    }

    fn pid(&self) -> Option<u32> {
        self.pid
    }
}

fn signal_now(pid: Option<u32>, group: Option<u32>, signal: Signal) {
    #[cfg(unix)]
    {
        let sig = match signal {
            Signal::Terminate => libc::SIGTERM,
            Signal::Kill => libc::SIGKILL,
        };
        // SAFETY: kill(2) with a pid we spawned (or its process group); no memory is involved.
        unsafe {
            if let Some(g) = group {
                libc::kill(-(g as i32), sig);
            } else if let Some(p) = pid {
                libc::kill(p as i32, sig);
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (pid, group, signal);
    }
}

/// Kills the process group if the monitor is dropped before the child exited (the runtime is
/// shutting down); `kill_on_drop` takes care of the child itself.
struct GroupGuard {
    group: Option<u32>,
    armed: bool,
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        if self.armed {
            signal_now(None, self.group, Signal::Kill);
        }
    }
}

async fn monitor(
    mut child: Child,
    group: Option<u32>,
    mut signals: mpsc::UnboundedReceiver<Signal>,
    status_tx: watch::Sender<Option<ExitStatus>>,
) {
    let pid = child.id();
    let mut guard = GroupGuard { group, armed: true };
    let mut signals_open = true;
    loop {
        tokio::select! {
            status = child.wait() => {
                guard.armed = false;
                match status {
                    Ok(status) => {
                        tracing::debug!(?pid, %status, "app-server exited");
                        let _ = status_tx.send(Some(status));
                    }
                    Err(err) => tracing::error!(?pid, %err, "waiting for the app-server failed"),
                }
                // The app-server is gone; make sure nothing it started survives it.
                signal_now(None, group, Signal::Kill);
                return;
            }
            signal = signals.recv(), if signals_open => match signal {
                Some(Signal::Kill) => {
                    signal_now(pid, group, Signal::Kill);
                    let _ = child.start_kill();
                }
                Some(Signal::Terminate) => signal_now(pid, group, Signal::Terminate),
                None => signals_open = false,
            },
        }
    }
}

/// The last lines of stderr, bounded in line count and bytes.
struct StderrRing {
    lines: VecDeque<String>,
    bytes: usize,
    max_lines: usize,
    max_bytes: usize,
}

impl StderrRing {
    fn new(max_lines: usize, max_bytes: usize) -> Self {
        Self {
            lines: VecDeque::new(),
            bytes: 0,
            max_lines: max_lines.max(1),
            max_bytes: max_bytes.max(64),
        }
    }

    fn push(&mut self, mut line: String) {
        if line.len() > self.max_bytes {
            let mut end = self.max_bytes;
            while !line.is_char_boundary(end) {
                end -= 1;
            }
            line.truncate(end);
        }
        self.bytes += line.len();
        self.lines.push_back(line);
        while self.lines.len() > self.max_lines || self.bytes > self.max_bytes {
            let Some(old) = self.lines.pop_front() else {
                break;
            };
            self.bytes -= old.len();
        }
    }

    fn joined(&self) -> String {
        let mut out = String::with_capacity(self.bytes + self.lines.len());
        for (i, line) in self.lines.iter().enumerate() {
            if i > 0 {
                out.push('\n');
            }
            out.push_str(line);
        }
        out
    }
}

/// Reads stderr in chunks (so a line without newline cannot grow without bound), splits lines,
/// keeps the tail and logs each line.
async fn drain_stderr(
    mut stderr: tokio::process::ChildStderr,
    ring: Arc<Mutex<StderrRing>>,
    done: watch::Sender<bool>,
) {
    let max_line = ring.lock().unwrap().max_bytes;
    let mut buf = vec![0u8; 8192];
    let mut line: Vec<u8> = Vec::new();
    let emit = |bytes: &[u8]| {
        let text = strip_ansi(&String::from_utf8_lossy(bytes));
        let text = text.trim_end_matches('\r');
        if text.is_empty() {
            return;
        }
        if text.contains("ERROR") || text.contains("panicked") {
            tracing::warn!(target: "codex_client::app_server_stderr", "{text}");
        } else {
            tracing::debug!(target: "codex_client::app_server_stderr", "{text}");
        }
        ring.lock().unwrap().push(text.to_owned());
    };
    loop {
        match stderr.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                let mut rest = &buf[..n];
                while let Some(pos) = rest.iter().position(|b| *b == b'\n') {
                    line.extend_from_slice(&rest[..pos]);
                    emit(&line);
                    line.clear();
                    rest = &rest[pos + 1..];
                }
                line.extend_from_slice(rest);
                if line.len() > max_line {
                    emit(&line);
                    line.clear();
                }
            }
        }
    }
    if !line.is_empty() {
        emit(&line);
    }
    let _ = done.send(true);
}

/// Removes ANSI escape sequences (the app-server colours its log lines).
fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            if chars.peek() == Some(&'[') {
                chars.next();
                for c in chars.by_ref() {
                    if c.is_ascii_alphabetic() {
                        break;
                    }
                }
            }
            continue;
        }
        out.push(c);
    }
    out
}

/// A program named without any directory (`python3`): the OS looks it up on `PATH`.
fn is_bare_name(program: &std::path::Path) -> bool {
    program.components().count() == 1 && !program.is_absolute()
}

/// The `PATH` the child is started with: its own when the command sets one, else ours.
fn child_path(cmd: &std::process::Command) -> Option<std::ffi::OsString> {
    match cmd.get_envs().find(|(key, _)| *key == "PATH") {
        Some((_, value)) => value.map(ToOwned::to_owned),
        None => std::env::var_os("PATH"),
    }
}

/// Whether `program` can be started: a path must be a file; a bare name must be a file in one
/// of `path`'s directories (as `execvp` and Python's `subprocess` find it).
fn launchable(program: &std::path::Path, path: Option<&std::ffi::OsStr>) -> bool {
    if !is_bare_name(program) {
        return program.is_file();
    }
    path.is_some_and(|path| std::env::split_paths(path).any(|dir| dir.join(program).is_file()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ring_keeps_the_tail_within_bounds() {
        let mut ring = StderrRing::new(3, 1000);
        for i in 0..10 {
            ring.push(format!("line {i}"));
        }
        assert_eq!(ring.joined(), "line 7\nline 8\nline 9");
        let mut ring = StderrRing::new(100, 64);
        for _ in 0..10 {
            ring.push("x".repeat(30));
        }
        assert!(ring.bytes <= 64);
        ring.push("y".repeat(1000));
        assert!(ring.bytes <= 64);
    }

    #[test]
    fn ansi_is_stripped() {
        assert_eq!(
            strip_ansi("\u{1b}[2m2026\u{1b}[0m \u{1b}[33mWARN\u{1b}[0m x"),
            "2026 WARN x"
        );
    }

    #[test]
    fn a_bare_program_name_is_looked_up_on_the_path_a_path_is_taken_as_it_is() {
        use std::path::Path;
        let dir = tempfile::tempdir().unwrap();
        let program = dir.path().join("some-server");
        std::fs::write(&program, "").unwrap();
        let path = std::env::join_paths([Path::new("/nonexistent"), dir.path()]).unwrap();
        assert!(launchable(Path::new("some-server"), Some(&path)));
        assert!(!launchable(Path::new("other-server"), Some(&path)));
        assert!(!launchable(Path::new("some-server"), None));
        assert!(launchable(&program, None));
        assert!(!launchable(&dir.path().join("missing"), Some(&path)));
        // A relative path with a directory is a path, not a name to look up.
        assert!(!launchable(Path::new("sub/some-server"), Some(&path)));
    }
}

//! The websocket protocol over any open byte stream, as the app-server speaks it on
//! `--listen ws://` and on its `unix://` control socket: one JSON-RPC message per text frame,
//! both ways. Always compiled (`unix://` needs it); `ws://`/`wss://` reach it over TCP or TLS
//! (features `websocket`, `tls`).
//!
//! - `upgrade`: the HTTP/1.1 upgrade — `User-Agent`, the bearer token, never an
//!   `Origin` (the app-server answers 403 to one); a refusal's status and body in the
//!   [`ConnectError`](super::ConnectError), the token redacted.
//! - `io`: the open websocket as a [`Transport`](super::Transport) — the read half polled by the
//!   connection's reader (it must keep up: the server drops a client after 128 queued
//!   messages), the write half a task with batching, keepalive pings and the close frame.
//!
//! Nothing here logs a payload: tokio-websockets depends on neither `log` nor `tracing`, and this
//! module's own `tracing` events carry endpoints, sizes and reasons only.

mod io;
mod upgrade;

pub(crate) use upgrade::upgrade;

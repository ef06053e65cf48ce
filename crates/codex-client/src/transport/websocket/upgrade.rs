//! The websocket upgrade over an open byte stream (TCP, TLS or a unix socket): the HTTP/1.1
//! request (our `User-Agent`, the bearer token, never an `Origin`), the refusal's status and
//! body in the error (token redacted), then the open websocket handed to [`super::io`].

use super::super::{ConnectError, ConnectErrorKind, ConnectOptions, Transport};
use http::{HeaderValue, StatusCode, Uri, header};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_websockets::Limits;

/// The HTTP upgrade over an open stream (TCP, TLS or unix socket), then the transport.
pub(crate) async fn upgrade<S>(
    stream: S,
    uri: Uri,
    options: &ConnectOptions,
    shown: &str,
) -> Result<Transport, ConnectError>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let handshake_error =
        |detail: String| ConnectError::new(ConnectErrorKind::Handshake, shown, detail);
    // The frame limit is checked on each frame's header, the message limit on each fragment:
    // no message larger than the bound is ever buffered.
    let limits = Limits::default().max_payload_len(Some(options.max_message_bytes));
    let mut builder = tokio_websockets::ClientBuilder::from_uri(uri)
        .limits(limits)
        .add_header(
            header::USER_AGENT,
            HeaderValue::from_static(concat!("codex-client-rs/", env!("CARGO_PKG_VERSION"))),
        )
        .map_err(|e| handshake_error(e.to_string()))?;
    if let Some(token) = &options.token {
        let mut value = HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| {
            ConnectError::new(
                ConnectErrorKind::InvalidUrl,
                shown,
                "the bearer token contains characters not allowed in an HTTP header",
            )
        })?;
        value.set_sensitive(true);
        builder = builder
            .add_header(header::AUTHORIZATION, value)
            .map_err(|e| handshake_error(e.to_string()))?;
    }
    // Never an Origin header (the app-server rejects any request that has one, 403): the
    // library sends Host, Upgrade, Connection, the key and version, and the two headers above.
    let answer = Arc::new(Mutex::new(Vec::new()));
    let stream = Recorded {
        inner: stream,
        answer: Some(answer.clone()),
    };
    let (mut ws, _response) = builder.connect_on(stream).await.map_err(|e| match e {
        tokio_websockets::Error::Upgrade(
            tokio_websockets::upgrade::Error::DidNotSwitchProtocols(code),
        ) => refusal(code, &answer.lock().unwrap(), options, shown),
        tokio_websockets::Error::Io(io) => {
            ConnectError::new(ConnectErrorKind::Io, shown, io.to_string())
        }
        other => handshake_error(other.to_string()),
    })?;
    ws.get_mut().answer = None;
    Ok(super::io::from_websocket(ws, shown.to_owned(), options))
}

/// The error for an upgrade answered with `code`: the status, its reason and the start of the
/// body that came with the answer's head (the app-server says why it refused there), with the
/// token redacted (a hostile server may echo the request, token included).
fn refusal(code: u16, answer: &[u8], options: &ConnectOptions, shown: &str) -> ConnectError {
    let body = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|at| String::from_utf8_lossy(&answer[at + 4..]).trim().to_owned())
        .unwrap_or_default();
    let mut detail = StatusCode::from_u16(code)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("")
        .to_owned();
    if !body.is_empty() {
        detail = format!("{detail} ({})", body.chars().take(300).collect::<String>());
    }
    if let Some(token) = &options.token {
        detail = detail.replace(token.as_str(), "<redacted>");
    }
    if code == 401 && options.token.is_none() {
        detail.push_str("; the server requires a bearer token (ConnectOptions::bearer_token)");
    }
    ConnectError::new(ConnectErrorKind::Http(code), shown, detail)
}

/// The most of the upgrade's answer [`Recorded`] keeps.
const MAX_ANSWER: usize = 16 * 1024;

/// The stream under the websocket: during the upgrade it keeps a copy of what the server
/// answers (at most [`MAX_ANSWER`] bytes), so that a refusal's body can be shown (the library
/// reports only the status); after the upgrade it is a plain pass-through.
pub(super) struct Recorded<S> {
    pub(super) inner: S,
    /// The answer so far; `None` once the websocket is open.
    answer: Option<Arc<Mutex<Vec<u8>>>>,
}

impl<S: AsyncRead + Unpin> AsyncRead for Recorded<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let result = Pin::new(&mut this.inner).poll_read(cx, buf);
        if let Some(answer) = &this.answer {
            let mut answer = answer.lock().unwrap();
            let new = &buf.filled()[before..];
            let room = MAX_ANSWER.saturating_sub(answer.len());
            answer.extend_from_slice(&new[..new.len().min(room)]);
        }
        result
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Recorded<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, data)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The upgrade request as the server reads it (over an in-memory pipe): the bearer token
    /// in `Authorization`, our `User-Agent`, never an `Origin`; a refusal's body is in the error
    /// with the token redacted (the server echoes the request).
    #[tokio::test]
    async fn the_upgrade_request_carries_the_token_and_no_origin() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let (client, mut server) = tokio::io::duplex(64 * 1024);
        let peer = tokio::spawn(async move {
            let mut request = Vec::new();
            let mut chunk = [0u8; 4096];
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                let n = server.read(&mut chunk).await.unwrap();
                assert!(n > 0, "a whole request head");
                request.extend_from_slice(&chunk[..n]);
            }
            let mut answer = format!(
                "HTTP/1.1 401 Unauthorized\r\ncontent-length: {}\r\n\r\n",
                request.len()
            )
            .into_bytes();
            answer.extend_from_slice(&request);
            server.write_all(&answer).await.unwrap();
            String::from_utf8(request).unwrap()
        });
        let options = ConnectOptions::new().bearer_token("tok-123");
        let err = match upgrade(
            client,
            Uri::from_static("ws://localhost/"),
            &options,
            "test",
        )
        .await
        {
            Ok(_) => panic!("the upgrade was refused"),
            Err(err) => err,
        };
        let request = peer.await.unwrap();
        let lower = request.to_ascii_lowercase();
        assert!(request.starts_with("GET / HTTP/1.1\r\n"), "{request}");
        assert!(
            lower.contains("\r\nauthorization: bearer tok-123\r\n"),
            "{request}"
        );
        assert!(
            lower.contains("\r\nuser-agent: codex-client-rs/"),
            "{request}"
        );
        assert!(lower.contains("\r\nhost: localhost\r\n"), "{request}");
        assert!(!lower.contains("origin:"), "{request}");
        assert_eq!(err.kind, ConnectErrorKind::Http(401), "{err}");
        assert!(err.detail.contains("Unauthorized (GET / HTTP/1.1"), "{err}");
        assert!(err.detail.contains("Bearer <redacted>"), "{err}");
        assert!(!err.to_string().contains("tok-123"), "{err}");
    }
}

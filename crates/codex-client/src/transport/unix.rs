//! The unix-socket transport: the app-server's `--listen unix://[PATH]` control socket.
//!
//! On 0.163.0 the socket does **not** carry JSON lines: it speaks the websocket protocol, with a
//! normal HTTP/1.1 upgrade (`GET / HTTP/1.1`, `Host: localhost`, ...) and masked text frames,
//! exactly like `ws://` (raw frames without the upgrade, or plain JSON lines, get the connection
//! closed). So this module only opens the socket; the `websocket` module does the rest, which is
//! why the websocket protocol is compiled with or without the `websocket` feature.
//!
//! `unix://` with no path means the default control socket,
//! `$CODEX_HOME/app-server-control/app-server-control.sock` (`CODEX_HOME` defaults to
//! `~/.codex`). With an explicit path the server creates a symlink at that path pointing to the
//! real socket under `/tmp/codex-daemon-<uid>/` (the 108-byte `sun_path` limit); connecting
//! through the symlink works. There is no authentication beyond file permissions (socket `0600`,
//! directory `0700`), so a bearer token, if configured, is sent but not required.

use super::{ConnectError, ConnectErrorKind, ConnectOptions, Transport};
#[cfg(unix)]
use http::Uri;
use std::path::{Path, PathBuf};

/// The default control socket of the app-server for `codex_home` (or, when `None`, for the
/// `CODEX_HOME` environment variable, else `$HOME/.codex`):
/// `<codex_home>/app-server-control/app-server-control.sock`, what `--listen unix://` binds.
///
/// ```
/// use std::path::Path;
/// let path = codex_client::transport::default_control_socket(Some(Path::new("/srv/codex")));
/// assert_eq!(path.unwrap(), Path::new("/srv/codex/app-server-control/app-server-control.sock"));
/// ```
pub fn default_control_socket(codex_home: Option<&Path>) -> Option<PathBuf> {
    let home = match codex_home {
        Some(dir) => dir.to_path_buf(),
        None => match std::env::var_os("CODEX_HOME").filter(|v| !v.is_empty()) {
            Some(dir) => PathBuf::from(dir),
            None => {
                PathBuf::from(std::env::var_os("HOME").filter(|v| !v.is_empty())?).join(".codex")
            }
        },
    };
    Some(
        home.join("app-server-control")
            .join("app-server-control.sock"),
    )
}

#[cfg(unix)]
pub(super) async fn connect(
    path: &Path,
    options: &ConnectOptions,
    shown: &str,
) -> Result<Transport, ConnectError> {
    use std::io::ErrorKind;
    let stream = tokio::net::UnixStream::connect(path).await.map_err(|e| {
        let kind = match e.kind() {
            ErrorKind::NotFound | ErrorKind::ConnectionRefused => ConnectErrorKind::Refused,
            _ => ConnectErrorKind::Io,
        };
        let hint = if e.kind() == ErrorKind::NotFound {
            " (is `codex app-server --listen unix://...` running?)"
        } else {
            ""
        };
        ConnectError::new(kind, shown, format!("{}: {e}{hint}", path.display()))
    })?;
    // The host is a formality on a unix socket; the server routes any path.
    let uri = Uri::from_static("ws://localhost/");
    super::websocket::upgrade(stream, uri, options, shown).await
}

#[cfg(not(unix))]
pub(super) async fn connect(
    path: &Path,
    _options: &ConnectOptions,
    shown: &str,
) -> Result<Transport, ConnectError> {
    Err(ConnectError::new(
        ConnectErrorKind::InvalidUrl,
        shown,
        format!(
            "unix sockets are not supported on this platform ({})",
            path.display()
        ),
    ))
}

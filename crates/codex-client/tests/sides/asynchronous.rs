//! The async side: `codex_client::Codex` on the test's tokio runtime, the mock on it too.

use super::{TURN_TIMEOUT, unix_now};
use std::future::Future;
use std::time::{Duration, Instant};

pub use crate::common::AppServerEnv as Env;

/// The app-server and mock of a test (client name `name`); `None` when the binary is missing
/// and not required.
pub async fn start(name: &str) -> Option<Env> {
    start_with(name, |l| l).await
}

/// [`start`] with the client's launch (builder and process) adjusted.
pub async fn start_with(
    name: &str,
    launch: impl FnOnce(crate::common::Launch) -> crate::common::Launch,
) -> Option<Env> {
    crate::common::start_app_server(name, |s| s, launch).await
}

/// `fut`, or a panic naming `what` after [`TURN_TIMEOUT`].
pub async fn within<T>(what: &str, fut: impl Future<Output = T>) -> T {
    crate::common::within(TURN_TIMEOUT, what, fut).await
}

/// Returns once the wall clock (Unix seconds) is past `secs` (polls the clock, bounded).
pub async fn next_second(secs: i64) {
    let deadline = Instant::now() + Duration::from_secs(3);
    while unix_now() <= secs {
        assert!(Instant::now() < deadline, "the clock does not move");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

impl Env {
    /// One of the mock's async waits, bounded.
    pub async fn mock_wait<T>(&self, what: &str, fut: impl Future<Output = T>) -> T {
        within(what, fut).await
    }
}

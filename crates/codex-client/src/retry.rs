//! Retrying calls the server refused because it was overloaded (JSON-RPC error -32001), with
//! exponential backoff and full jitter. Only [`Error::is_retryable`] errors are retried: a timeout
//! or a closed connection is returned at once (the request may have been applied, or cannot be).

use crate::error::Result;
use std::future::Future;
use std::time::Duration;

/// How to retry.
///
/// ```
/// use codex_client::RetryPolicy;
/// use std::time::Duration;
/// let policy = RetryPolicy::new().max_attempts(5).initial_delay(Duration::from_millis(50));
/// assert_eq!(policy.attempts(), 5);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    max_attempts: u32,
    initial_delay: Duration,
    max_delay: Duration,
    multiplier: f64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            initial_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(5),
            multiplier: 2.0,
        }
    }
}

impl RetryPolicy {
    /// 4 attempts, 200 ms first delay, doubling, at most 5 s.
    pub fn new() -> Self {
        Self::default()
    }

    /// Total attempts, the first included (at least 1).
    pub fn max_attempts(mut self, n: u32) -> Self {
        self.max_attempts = n.max(1);
        self
    }

    /// The ceiling of the first backoff.
    pub fn initial_delay(mut self, d: Duration) -> Self {
        self.initial_delay = d;
        self
    }

    /// The largest backoff.
    pub fn max_delay(mut self, d: Duration) -> Self {
        self.max_delay = d;
        self
    }

    /// Growth factor of the backoff ceiling per attempt (at least 1).
    pub fn multiplier(mut self, m: f64) -> Self {
        self.multiplier = m.max(1.0);
        self
    }

    /// Total attempts allowed.
    pub fn attempts(&self) -> u32 {
        self.max_attempts
    }

    /// The backoff before retry number `retry` (0-based): uniformly random in
    /// `[0, min(max_delay, initial_delay * multiplier^retry)]` ("full jitter").
    ///
    /// ```
    /// use codex_client::RetryPolicy;
    /// use std::time::Duration;
    /// let p = RetryPolicy::new().initial_delay(Duration::from_millis(100)).max_delay(Duration::from_secs(1));
    /// assert!(p.backoff(0) <= Duration::from_millis(100));
    /// assert!(p.backoff(20) <= Duration::from_secs(1));
    /// ```
    pub fn backoff(&self, retry: u32) -> Duration {
        let ceiling = self.initial_delay.as_secs_f64() * self.multiplier.powi(retry.min(64) as i32);
        let ceiling = ceiling.min(self.max_delay.as_secs_f64());
        Duration::from_secs_f64(ceiling * fastrand::f64())
    }
}

/// Runs `call` until it succeeds, fails with a non-retryable error, or the attempts are used up
/// (then the last error is returned). Only the server's overload answer is retried.
///
/// ```no_run
/// # async fn f(conn: codex_client::core::Connection) -> Result<(), codex_client::Error> {
/// use codex_client::{RetryPolicy, retry_on_overload};
/// let threads = retry_on_overload(RetryPolicy::new(), || {
///     conn.request_raw("thread/list", Some(serde_json::json!({})))
/// })
/// .await?;
/// # let _ = threads;
/// # Ok(()) }
/// ```
pub async fn retry_on_overload<T, F, Fut>(policy: RetryPolicy, mut call: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let mut attempt = 1;
    loop {
        match call().await {
            Ok(v) => return Ok(v),
            Err(err) if err.is_retryable() && attempt < policy.max_attempts => {
                let delay = policy.backoff(attempt - 1);
                tracing::debug!(attempt, ?delay, error = %err, "server overloaded; retrying");
                tokio::time::sleep(delay).await;
                attempt += 1;
            }
            Err(err) => {
                if err.is_retryable() {
                    tracing::warn!(attempts = attempt, error = %err, "server still overloaded; giving up");
                }
                return Err(err);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;
    use crate::proto::envelope::RpcError;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn overloaded() -> Error {
        Error::Rpc {
            method: "x".into(),
            error: RpcError {
                code: -32001,
                message: "Server overloaded; retry later.".into(),
                data: None,
            },
        }
    }

    #[tokio::test(start_paused = true)]
    async fn retries_overload_then_succeeds() {
        let calls = AtomicU32::new(0);
        let out = retry_on_overload(RetryPolicy::new().max_attempts(5), || {
            let n = calls.fetch_add(1, Ordering::SeqCst);
            async move { if n < 3 { Err(overloaded()) } else { Ok(n) } }
        })
        .await
        .unwrap();
        assert_eq!(out, 3);
        assert_eq!(calls.load(Ordering::SeqCst), 4);
    }

    #[tokio::test(start_paused = true)]
    async fn gives_up_after_max_attempts_and_never_retries_other_errors() {
        let calls = AtomicU32::new(0);
        let err = retry_on_overload(RetryPolicy::new().max_attempts(3), || {
            calls.fetch_add(1, Ordering::SeqCst);
            async { Err::<(), _>(overloaded()) }
        })
        .await
        .unwrap_err();
        assert!(err.is_overloaded());
        assert_eq!(calls.load(Ordering::SeqCst), 3);

        let calls = AtomicU32::new(0);
        let err = retry_on_overload(RetryPolicy::new(), || {
            calls.fetch_add(1, Ordering::SeqCst);
            async {
                Err::<(), _>(Error::Timeout {
                    method: "x".into(),
                    timeout: Duration::from_secs(1),
                })
            }
        })
        .await
        .unwrap_err();
        assert!(matches!(err, Error::Timeout { .. }));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }
}

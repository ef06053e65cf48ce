//! [`Thread::review`]: a code review of the thread's workspace (`review/start`), run as a turn
//! and followed through its [`TurnHandle`].

use super::thread::Thread;
use super::turn::TurnHandle;
use crate::connection::RequestOptions;
use crate::error::Result;
use crate::proto::methods::ReviewStart;
use crate::proto::{ReviewStartParams, ReviewTarget};
use crate::router::SubscribeOptions;

impl Thread {
    /// Starts a code review of this thread's workspace (`review/start`) and returns the review
    /// turn's [`TurnHandle`] (route in place before this returns, like
    /// [`turn`](Thread::turn)). Inline reviews run in this thread; a detached one runs in a new
    /// thread, whose id is the handle's [`thread_id`](TurnHandle::thread_id). A target the
    /// server cannot review (no such commit or branch) is [`Error::Rpc`](crate::Error::Rpc).
    ///
    /// ```no_run
    /// # async fn f(thread: codex_client::Thread) -> Result<(), codex_client::Error> {
    /// use codex_client::protocol::ReviewTarget;
    /// let review = thread.review(ReviewTarget::UncommittedChanges).await?.run().await?;
    /// println!("{}", review.final_response().unwrap_or_default());
    /// # Ok(()) }
    /// ```
    pub async fn review(&self, target: ReviewTarget) -> Result<TurnHandle> {
        let params = ReviewStartParams {
            delivery: None,
            target,
            thread_id: self.id().to_owned(),
        };
        let conn = self.codex().connection();
        let (response, stream) = conn
            .request_turn::<ReviewStart>(params, SubscribeOptions::new(), RequestOptions::new())
            .await?;
        Ok(TurnHandle::new(
            conn.clone(),
            &response.review_thread_id,
            stream,
        ))
    }
}

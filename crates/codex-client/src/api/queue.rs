//! A thread's turn queue (`thread/queue/*`, experimental API; `experimental` feature): inputs
//! submitted while a turn runs, kept by the server in order and started one after another.
//!
//! ```no_run
//! # async fn f(thread: codex_client::Thread) -> Result<(), codex_client::Error> {
//! let queued = thread.queue_add("Then update the changelog.").await?;
//! assert!(thread.queue().await?.iter().any(|q| q.id == queued.id));
//! thread.queue_delete(&queued.id).await?;
//! # Ok(()) }
//! ```

use crate::api::{Input, Thread};
use crate::protocol::methods::{
    ThreadQueueAdd, ThreadQueueDelete, ThreadQueueList, ThreadQueueReorder, ThreadQueueStart,
    ThreadQueueUpdate,
};
use crate::protocol::{
    QueuedSubmission, ThreadQueueAddParams, ThreadQueueDeleteParams, ThreadQueueListParams,
    ThreadQueueReorderParams, ThreadQueueStartParams, ThreadQueueUpdateParams, Turn,
};
use crate::{Error, Result};

impl Thread {
    /// Queues `input` as a later turn of this thread (`thread/queue/add`); the server answers
    /// with the queued submission (its id names it in the other queue calls).
    ///
    /// ```no_run
    /// # async fn f(thread: codex_client::Thread) -> Result<(), codex_client::Error> {
    /// let queued = thread.queue_add("Run the tests next.").await?;
    /// println!("queued {}", queued.id);
    /// # Ok(()) }
    /// ```
    pub async fn queue_add(&self, input: impl Into<Input>) -> Result<QueuedSubmission> {
        let params = ThreadQueueAddParams {
            client_user_message_id: format!("codex-client-{:016x}", fastrand::u64(..)),
            input: input.into().to_wire(),
            thread_id: self.id().to_owned(),
        };
        Ok(self
            .codex()
            .request::<ThreadQueueAdd>(params)
            .await?
            .queued_submission)
    }

    /// The thread's queue, in order: every page of `thread/queue/list`.
    ///
    /// ```no_run
    /// # async fn f(thread: codex_client::Thread) -> Result<(), codex_client::Error> {
    /// for queued in thread.queue().await? {
    ///     println!("{}", queued.id);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn queue(&self) -> Result<Vec<QueuedSubmission>> {
        let mut all = Vec::new();
        let mut cursor = None;
        loop {
            let page = self
                .codex()
                .request::<ThreadQueueList>(ThreadQueueListParams {
                    cursor: cursor.take(),
                    limit: None,
                    thread_id: self.id().to_owned(),
                })
                .await?;
            all.extend(page.data);
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => return Ok(all),
            }
        }
    }

    /// Replaces the input of a queued submission (`thread/queue/update`).
    ///
    /// ```no_run
    /// # async fn f(thread: codex_client::Thread, id: String) -> Result<(), codex_client::Error> {
    /// thread.queue_update(&id, "Run only the unit tests next.").await?;
    /// # Ok(()) }
    /// ```
    pub async fn queue_update(
        &self,
        queued_submission_id: &str,
        input: impl Into<Input>,
    ) -> Result<QueuedSubmission> {
        let params = ThreadQueueUpdateParams {
            input: input.into().to_wire(),
            queued_submission_id: queued_submission_id.to_owned(),
            thread_id: self.id().to_owned(),
        };
        Ok(self
            .codex()
            .request::<ThreadQueueUpdate>(params)
            .await?
            .queued_submission)
    }

    /// Removes a queued submission (`thread/queue/delete`); an id the server does not know is
    /// [`Error::Protocol`] (the server answered `deleted: false`).
    ///
    /// ```no_run
    /// # async fn f(thread: codex_client::Thread, id: String) -> Result<(), codex_client::Error> {
    /// thread.queue_delete(&id).await?;
    /// # Ok(()) }
    /// ```
    pub async fn queue_delete(&self, queued_submission_id: &str) -> Result<()> {
        let params = ThreadQueueDeleteParams {
            queued_submission_id: queued_submission_id.to_owned(),
            thread_id: self.id().to_owned(),
        };
        if self
            .codex()
            .request::<ThreadQueueDelete>(params)
            .await?
            .deleted
        {
            Ok(())
        } else {
            Err(Error::Protocol(format!(
                "thread/queue/delete: the server has no queued submission {queued_submission_id}"
            )))
        }
    }

    /// Puts the queue in this order (`thread/queue/reorder`: every queued id, once).
    ///
    /// ```no_run
    /// # async fn f(thread: codex_client::Thread, a: String, b: String) -> Result<(), codex_client::Error> {
    /// thread.queue_reorder(&[b, a]).await?;
    /// # Ok(()) }
    /// ```
    pub async fn queue_reorder(&self, queued_submission_ids: &[String]) -> Result<()> {
        let params = ThreadQueueReorderParams {
            queued_submission_ids: queued_submission_ids.to_vec(),
            thread_id: self.id().to_owned(),
        };
        self.codex().request::<ThreadQueueReorder>(params).await?;
        Ok(())
    }

    /// Starts a queued submission now (`thread/queue/start`; the first one when `None`) and
    /// returns the turn the server started. Its events reach the thread's subscribers
    /// ([`Codex::notifications`](crate::Codex::notifications) filtered by thread), not a
    /// [`TurnHandle`](crate::TurnHandle): the SDK registers turn routes for `turn/start` only.
    ///
    /// ```no_run
    /// # async fn f(thread: codex_client::Thread) -> Result<(), codex_client::Error> {
    /// let turn = thread.queue_start(None).await?;
    /// println!("started {}", turn.id);
    /// # Ok(()) }
    /// ```
    pub async fn queue_start(&self, queued_submission_id: Option<&str>) -> Result<Turn> {
        let params = ThreadQueueStartParams {
            queued_submission_id: queued_submission_id.map(str::to_owned),
            thread_id: self.id().to_owned(),
        };
        Ok(self.codex().request::<ThreadQueueStart>(params).await?.turn)
    }
}

//! [`Threads`]: the calls that act on threads by id — start, resume, fork, list, read, archive,
//! unarchive — and [`ThreadPage`], one page of a listing.
//!
//! `start`, `resume` and `fork` return a [`Thread`] that keeps the server's answer; they run
//! [the login check](Codex#the-login-check) first. `read` and `read_with_turns` return the
//! server's thread object as it is now; listing never follows pages on its own.

use super::codex::Codex;
use super::options::{ListThreads, ThreadOptions};
use super::thread::Thread;
use crate::error::Result;
use crate::proto::methods::{
    ThreadArchive, ThreadFork, ThreadList, ThreadRead, ThreadResume, ThreadStart, ThreadUnarchive,
};
use crate::proto::{
    ThreadArchiveParams, ThreadListParams, ThreadReadParams, ThreadUnarchiveParams,
};

/// The thread calls of a [`Codex`] ([`Codex::threads`]). A borrowed handle: copy it freely.
///
/// Every call fails with [`Error::Rpc`](crate::Error::Rpc) when the server refuses it (an
/// unknown thread id, a thread that is not archived, ...), with
/// [`Error::InvalidOptions`](crate::Error::InvalidOptions) for options that cannot be sent
/// (before any request), and with [`Error::Closed`](crate::Error::Closed) /
/// [`Error::Timeout`](crate::Error::Timeout) as any request does.
///
/// ```no_run
/// # async fn f(codex: codex_client::Codex) -> Result<(), codex_client::Error> {
/// use codex_client::{ListThreads, ThreadOptions};
/// let threads = codex.threads();
/// let thread = threads.start(ThreadOptions::new().model("gpt-5")).await?;
/// thread.run("Say hello.").await?;
///
/// // Later, maybe from another process: find it, read its history, pick it up again.
/// let page = threads.list(ListThreads::new().limit(10)).await?;
/// let latest = &page.threads[0];
/// let stored = threads.read_with_turns(&latest.id).await?;
/// println!("{} turns so far", stored.turns.len());
/// let resumed = threads.resume(&latest.id, ThreadOptions::new()).await?;
/// resumed.run("And now in French.").await?;
/// threads.archive(resumed.id()).await?;
/// # Ok(()) }
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Threads<'a> {
    codex: &'a Codex,
}

impl<'a> Threads<'a> {
    pub(crate) fn new(codex: &'a Codex) -> Self {
        Self { codex }
    }

    /// Starts a thread (`thread/start`) and keeps what the server answered.
    pub async fn start(self, options: ThreadOptions) -> Result<Thread> {
        self.codex.ensure_logged_in().await?;
        let params = options.to_start_params()?;
        let response = self.codex.request::<ThreadStart>(params).await?;
        Ok(Thread::from_start(self.codex.clone(), response))
    }

    /// Resumes a stored thread (`thread/resume`), with `options` changing its settings; the
    /// returned thread carries its history ([`Thread::turns`]).
    pub async fn resume(self, thread_id: &str, options: ThreadOptions) -> Result<Thread> {
        self.codex.ensure_logged_in().await?;
        let params = options.to_resume_params(thread_id)?;
        let response = self.codex.request::<ThreadResume>(params).await?;
        Ok(Thread::from_resume(self.codex.clone(), response))
    }

    /// Forks a thread into a new one with its history (`thread/fork`).
    pub async fn fork(self, thread_id: &str, options: ThreadOptions) -> Result<Thread> {
        self.codex.ensure_logged_in().await?;
        let params = options.to_fork_params(thread_id)?;
        let response = self.codex.request::<ThreadFork>(params).await?;
        Ok(Thread::from_fork(self.codex.clone(), response))
    }

    /// One page of the stored threads (`thread/list`), filtered and ordered by `query`; pass
    /// [`ThreadPage::next_cursor`] to [`ListThreads::cursor`] for the next.
    pub async fn list(self, query: ListThreads) -> Result<ThreadPage> {
        self.list_params(query.to_params()).await
    }

    /// [`list`](Self::list) with the raw `thread/list` params (for fields [`ListThreads`] has
    /// no setter for).
    pub async fn list_params(self, params: ThreadListParams) -> Result<ThreadPage> {
        let response = self.codex.request::<ThreadList>(params).await?;
        Ok(ThreadPage {
            threads: response.data,
            next_cursor: response.next_cursor,
            backwards_cursor: response.backwards_cursor,
        })
    }

    /// A thread as the server has it now (`thread/read`), without its turns (`turns` is empty).
    pub async fn read(self, thread_id: &str) -> Result<crate::proto::Thread> {
        self.read_thread(thread_id, false).await
    }

    /// [`read`](Self::read), with every turn and its items.
    pub async fn read_with_turns(self, thread_id: &str) -> Result<crate::proto::Thread> {
        self.read_thread(thread_id, true).await
    }

    async fn read_thread(self, thread_id: &str, turns: bool) -> Result<crate::proto::Thread> {
        let params = ThreadReadParams {
            include_turns: Some(turns),
            thread_id: thread_id.to_owned(),
        };
        Ok(self.codex.request::<ThreadRead>(params).await?.thread)
    }

    /// Archives a thread (`thread/archive`): it leaves the default listing
    /// ([`ListThreads::archived`] lists it).
    pub async fn archive(self, thread_id: &str) -> Result<()> {
        let params = ThreadArchiveParams {
            thread_id: thread_id.to_owned(),
        };
        self.codex.request::<ThreadArchive>(params).await?;
        Ok(())
    }

    /// Unarchives a thread (`thread/unarchive`) and returns it (its snapshot has no settings:
    /// [`Thread::model`] and the like read the thread object).
    pub async fn unarchive(self, thread_id: &str) -> Result<Thread> {
        let params = ThreadUnarchiveParams {
            thread_id: thread_id.to_owned(),
        };
        let response = self.codex.request::<ThreadUnarchive>(params).await?;
        Ok(Thread::from_info(self.codex.clone(), response.thread))
    }
}

/// A page of [`Threads::list`].
///
/// ```no_run
/// # async fn f(codex: codex_client::Codex) -> Result<(), codex_client::Error> {
/// use codex_client::ListThreads;
/// let mut query = ListThreads::new().limit(50);
/// loop {
///     let page = codex.threads().list(query.clone()).await?;
///     for thread in &page.threads {
///         println!("{} {}", thread.id, thread.preview);
///     }
///     match page.next_cursor {
///         Some(cursor) => query = query.cursor(cursor),
///         None => break,
///     }
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ThreadPage {
    /// The threads of this page.
    pub threads: Vec<crate::proto::Thread>,
    /// Pass to [`ListThreads::cursor`] for the next page; `None` on the last page.
    pub next_cursor: Option<String>,
    /// The cursor of the previous page, when the server gives one.
    pub backwards_cursor: Option<String>,
}

//! [`TurnControl`], the cloneable steer / interrupt remote of one turn, and [`TurnOrigin`], how
//! a [`TurnHandle`](super::TurnHandle) came to follow its turn.

use crate::api::input::Input;
use crate::connection::Connection;
use crate::error::{Error, Result};
use crate::proto::methods::{TurnInterrupt, TurnSteer};
use crate::proto::{TurnInterruptParams, TurnSteerParams};
use std::sync::Arc;

/// Steers or interrupts one turn. Cheap to clone and `Send`, so a task other than the one
/// streaming the turn can hold it.
///
/// ```no_run
/// # async fn f(thread: codex_client::Thread) -> Result<(), codex_client::Error> {
/// let turn = thread.turn("Write a long essay").await?;
/// let control = turn.control();
/// let running = tokio::spawn(turn.run());
/// control.interrupt().await?;
/// let result = running.await.expect("task")?;
/// assert!(result.is_interrupted());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct TurnControl {
    pub(super) conn: Connection,
    pub(super) thread_id: Arc<str>,
    pub(super) turn_id: Arc<str>,
}

impl TurnControl {
    /// The turn's id.
    ///
    /// ```no_run
    /// # fn f(control: codex_client::TurnControl) { println!("{}", control.turn_id()); }
    /// ```
    pub fn turn_id(&self) -> &str {
        &self.turn_id
    }

    /// The thread's id.
    ///
    /// ```no_run
    /// # fn f(control: codex_client::TurnControl) { println!("{}", control.thread_id()); }
    /// ```
    pub fn thread_id(&self) -> &str {
        &self.thread_id
    }

    /// Adds input to the running turn (`turn/steer` with `expectedTurnId`, so it never lands in
    /// another turn). The input shows up as a `userMessage` item of this same turn. Fails with
    /// the server's error if the turn is no longer active.
    ///
    /// ```no_run
    /// # async fn f(control: codex_client::TurnControl) -> Result<(), codex_client::Error> {
    /// control.steer("Also update the tests.").await?;
    /// # Ok(()) }
    /// ```
    pub async fn steer(&self, input: impl Into<Input>) -> Result<()> {
        let params = TurnSteerParams {
            client_user_message_id: None,
            expected_turn_id: self.turn_id.to_string(),
            input: input.into().to_wire(),
            thread_id: self.thread_id.to_string(),
            #[cfg(feature = "experimental")]
            additional_context: None,
            #[cfg(feature = "experimental")]
            responsesapi_client_metadata: None,
        };
        let response = self.conn.request::<TurnSteer>(params).await?;
        if response.turn_id != *self.turn_id {
            return Err(Error::Protocol(format!(
                "turn/steer went to turn {} instead of {}",
                response.turn_id, self.turn_id
            )));
        }
        Ok(())
    }

    /// Interrupts the turn (`turn/interrupt`). The turn's stream then ends with `turn/completed`
    /// status `interrupted`; items in flight stay open (see [`TurnResult::open_items`](crate::TurnResult::open_items)). On a
    /// turn that has already finished the server answers `Error::Rpc` -32600 "no active turn
    /// to interrupt" (like [`steer`](Self::steer)'s "no active turn to steer"): harmless, the
    /// turn is over.
    ///
    /// ```no_run
    /// # async fn f(control: codex_client::TurnControl) -> Result<(), codex_client::Error> {
    /// control.interrupt().await?;
    /// # Ok(()) }
    /// ```
    pub async fn interrupt(&self) -> Result<()> {
        let params = TurnInterruptParams {
            thread_id: self.thread_id.to_string(),
            turn_id: self.turn_id.to_string(),
        };
        self.conn.request::<TurnInterrupt>(params).await?;
        Ok(())
    }
}

/// How a [`TurnHandle`](super::TurnHandle) came to follow its turn
/// ([`TurnHandle::origin`](super::TurnHandle::origin)).
///
/// ```no_run
/// # async fn f(thread: codex_client::Thread) -> Result<(), codex_client::Error> {
/// use codex_client::TurnOrigin;
/// let turn = thread.turn("hi").await?;
/// if turn.origin() == TurnOrigin::Joined {
///     eprintln!("the thread was already running turn {} (another client?)", turn.id());
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TurnOrigin {
    /// `turn/start` started a new turn: the handle owns it (dropping the handle unfinished
    /// interrupts it).
    Started,
    /// The thread was running a turn of this client and the input was steered into it
    /// ([`WhenBusy::Steer`](crate::WhenBusy::Steer)). The handle is one more subscriber of that
    /// turn, from the steer on; dropping it does not interrupt the turn (its owner's handle
    /// decides).
    Steered,
    /// The server answered `turn/start` with a turn that was already running and that this
    /// client did not start (another client of the same app-server, or a turn started through
    /// the raw [`Connection`]): the input was folded into that turn. The handle follows it (a
    /// `tracing` warning says so); its result has that turn's events from the join on, and
    /// dropping it does not interrupt a turn that is not this client's.
    Joined,
}

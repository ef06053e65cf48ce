//! The response waiters: one per request in flight, by request id, each the sender its caller
//! waits on. A waiter leaves the table when its response arrives ([`Waiters::take`]) or its
//! caller gives up ([`WaiterGuard`]); when the connection closes every waiter gets `Closed` and
//! the table refuses new ones (latched, like the router).

use crate::error::{ClosedInfo, Error, Result};
use crate::router::{SubscribeOptions, TurnStream};
use serde_json::value::RawValue;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::oneshot;

/// What a waiter receives.
pub(crate) struct Reply {
    /// The response's `result`.
    pub raw: Box<RawValue>,
    /// The turn it started, when the caller asked for it ([`Waiter::turn`]).
    pub turn: Option<TurnStream>,
}

/// A request waiting for its response.
pub(crate) struct Waiter {
    /// The request's method (for errors).
    pub method: Box<str>,
    pub tx: oneshot::Sender<Result<Reply>>,
    /// `Some` when the caller wants the turn its response starts, as a stream.
    pub turn: Option<SubscribeOptions>,
}

#[derive(Default)]
struct Table {
    closed: Option<Arc<ClosedInfo>>,
    by_id: HashMap<i64, Waiter>,
}

/// See the module documentation.
#[derive(Default)]
pub(crate) struct Waiters {
    table: Mutex<Table>,
}

impl Waiters {
    fn lock(&self) -> MutexGuard<'_, Table> {
        self.table.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds the waiter of request `id`; `Closed` once the table was failed.
    pub(crate) fn add(&self, id: i64, waiter: Waiter) -> Result<()> {
        let mut table = self.lock();
        if let Some(info) = &table.closed {
            return Err(Error::Closed(info.clone()));
        }
        table.by_id.insert(id, waiter);
        Ok(())
    }

    /// Takes the waiter of the response with id `id` out of the table.
    pub(crate) fn take(&self, id: i64) -> Option<Waiter> {
        self.lock().by_id.remove(&id)
    }

    /// Requests waiting for their response.
    pub(crate) fn len(&self) -> usize {
        self.lock().by_id.len()
    }

    /// Latches the table closed: every waiter gets `Closed(info)`, later ones are refused.
    /// Idempotent; the first reason stays.
    pub(crate) fn fail_all(&self, info: &Arc<ClosedInfo>) {
        let waiters = {
            let mut table = self.lock();
            if table.closed.is_none() {
                table.closed = Some(info.clone());
            }
            std::mem::take(&mut table.by_id)
        };
        for (_, waiter) in waiters {
            let _ = waiter.tx.send(Err(Error::Closed(info.clone())));
        }
    }
}

/// Removes a request's waiter when its caller gives up (timeout, cancellation). Disarmed once the
/// reply arrived: the reader already took the waiter out of the table.
pub(crate) struct WaiterGuard<'a> {
    pub(crate) waiters: &'a Waiters,
    pub(crate) id: i64,
    pub(crate) answered: bool,
}

impl Drop for WaiterGuard<'_> {
    fn drop(&mut self) {
        if !self.answered {
            let removed = self.waiters.take(self.id);
            drop(removed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn waiter(method: &str) -> (Waiter, oneshot::Receiver<Result<Reply>>) {
        let (tx, rx) = oneshot::channel();
        let waiter = Waiter {
            method: method.into(),
            tx,
            turn: None,
        };
        (waiter, rx)
    }

    #[test]
    fn a_response_takes_its_own_waiter_once() {
        let waiters = Waiters::default();
        let (a, _rx_a) = waiter("a/one");
        let (b, _rx_b) = waiter("b/two");
        waiters.add(1, a).unwrap();
        waiters.add(2, b).unwrap();
        assert_eq!(waiters.len(), 2);
        assert_eq!(&*waiters.take(2).expect("waiting").method, "b/two");
        assert!(
            waiters.take(2).is_none(),
            "a second response with the id finds nobody"
        );
        assert!(waiters.take(7).is_none(), "an unknown id finds nobody");
        assert_eq!(waiters.len(), 1);
    }

    #[test]
    fn a_caller_that_gives_up_leaves_no_waiter_and_an_answered_one_takes_nothing() {
        let waiters = Waiters::default();
        let (a, _rx) = waiter("a/one");
        waiters.add(1, a).unwrap();
        drop(WaiterGuard {
            waiters: &waiters,
            id: 1,
            answered: false,
        });
        assert_eq!(waiters.len(), 0);
        let (b, _rx) = waiter("b/two");
        waiters.add(1, b).unwrap();
        drop(WaiterGuard {
            waiters: &waiters,
            id: 1,
            answered: true,
        });
        assert_eq!(waiters.len(), 1, "disarmed: the entry is not the guard's");
    }

    #[test]
    fn closing_fails_every_waiter_with_the_first_reason_and_refuses_new_ones() {
        let waiters = Waiters::default();
        let (a, mut rx_a) = waiter("a/one");
        let (b, mut rx_b) = waiter("b/two");
        waiters.add(1, a).unwrap();
        waiters.add(2, b).unwrap();
        let info = Arc::new(ClosedInfo::new("the app-server exited"));
        waiters.fail_all(&info);
        for rx in [&mut rx_a, &mut rx_b] {
            match rx.try_recv() {
                Ok(Err(Error::Closed(got))) => assert!(Arc::ptr_eq(&got, &info)),
                _ => panic!("every waiter gets Closed"),
            }
        }
        assert_eq!(waiters.len(), 0);
        waiters.fail_all(&Arc::new(ClosedInfo::new("later")));
        let (c, _rx) = waiter("c/three");
        match waiters.add(3, c) {
            Err(Error::Closed(got)) => assert!(Arc::ptr_eq(&got, &info), "the first reason"),
            _ => panic!("a closed table refuses new waiters"),
        }
    }
}

//! The two sides a `#[both_ways]` scenario runs on (see crates/codex-client-testkit-macros):
//! the same functions, `async` in `asynchronous`, plain in `blocking`, so that one scenario body
//! reads right on both once the `.await`s are gone. Each side starts the real app-server
//! offline (the test kit's mock model and sandbox) and a client of its API.
#![allow(dead_code)]

pub mod asynchronous;
pub mod blocking;

use std::time::Duration;

/// The bound of one wait of a scenario (a turn, a mock wait).
pub const TURN_TIMEOUT: Duration = Duration::from_secs(60);

/// The wall clock, in Unix seconds.
fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs() as i64
}

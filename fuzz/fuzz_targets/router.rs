//! The router fed arbitrary inbound sequences through the memory transport, with turn, thread
//! and global subscribers and waiting requests; its invariants are checked after each input.
//! See `fuzz/harness.rs`.
#![no_main]

#[path = "../harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    harness::router(data);
});

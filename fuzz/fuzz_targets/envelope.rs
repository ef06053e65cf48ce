//! Envelope decoding: `Incoming::parse` then `ServerNotification::decode` /
//! `ServerRequest::decode`, on arbitrary server output. See `fuzz/harness.rs`.
#![no_main]

#[path = "../harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::envelope(data));

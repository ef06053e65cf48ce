//! Quickstart: start Codex, open a thread, run one turn, print the answer — then the same with
//! the answer streamed as it is written. This is the code of the README's quickstart.
//!
//! Needs `codex` 0.163.0 installed and logged in (the README's recipe: the pinned runtime in a
//! virtualenv, `CODEX_BIN`, `"$CODEX_BIN" login`); the binary is found through `CODEX_BIN`, the
//! active virtualenv, then `PATH`. Without a login it stops at `threads().start` with
//! `Error::NotLoggedIn` saying what to do. Run: `cargo run --example quickstart`.

use codex_client::protocol::ServerNotification;
use codex_client::{Codex, ThreadOptions};
use futures::StreamExt;
use std::io::Write;

#[tokio::main]
async fn main() -> Result<(), codex_client::Error> {
    // Starts `codex app-server` and performs the handshake.
    let codex = Codex::start().await?;
    let thread = codex.threads().start(ThreadOptions::new()).await?;

    // Run a turn to its end.
    let result = thread.run("Say hello in one sentence.").await?;
    println!("{}", result.final_response().unwrap_or("(no answer)"));

    // Or stream it: a turn is a Stream of typed events, ending with `turn/completed`.
    let mut turn = thread.turn("Now say it in French.").await?;
    while let Some(event) = turn.next().await {
        if let Some(ServerNotification::ItemAgentMessageDelta(delta)) = event?.notification() {
            print!("{}", delta.delta);
            std::io::stdout().flush().ok();
        }
    }
    // The handle collected what streamed past: the result is complete already.
    let result = turn.run().await?;
    println!("\n[{:?} in {:?} ms]", result.status, result.duration_ms);

    codex.close().await;
    Ok(())
}

//! Streaming a turn: print the agent's text as it is written, show the commands it runs and
//! their output, the reasoning summary, and finish with the turn's result (status, items, usage).
//!
//! Needs `codex` installed and logged in; found through `CODEX_BIN`, the active virtualenv, then `PATH`.
//! Run: `cargo run --example stream_turn -- "What does this repository do?"`

use codex_client::protocol::{ServerNotification, ThreadItem};
use codex_client::{Codex, Error, Sandbox, ThreadOptions, TurnEvent};
use futures::StreamExt;
use std::io::Write;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let prompt = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "List the files in the current directory and describe them.".into());
    let codex = Codex::start().await?;
    // Read-only: the agent may look around but not change anything.
    let thread = codex
        .threads()
        .start(ThreadOptions::new().sandbox(Sandbox::ReadOnly))
        .await?;

    let mut turn = thread.turn(prompt.as_str()).await?;
    println!("turn {} on thread {}", turn.id(), turn.thread_id());
    while let Some(event) = turn.next().await {
        // `Err` only ends the stream (the connection died, ...); a gap is an event.
        let n = match event? {
            TurnEvent::Notification(n) => n,
            // This consumer fell behind and events were dropped for it; the stream goes on.
            TurnEvent::Lagged(n) => {
                eprintln!("\n[missed {n} events]");
                continue;
            }
            _ => continue, // server requests only arrive here with `approvals_in_stream()`
        };
        match &*n {
            ServerNotification::ItemAgentMessageDelta(d) => print!("{}", d.delta),
            ServerNotification::ItemReasoningSummaryTextDelta(d) => {
                print!("\x1b[2m{}\x1b[0m", d.delta)
            }
            ServerNotification::ItemCommandExecutionOutputDelta(d) => {
                print!("\x1b[2m{}\x1b[0m", d.delta)
            }
            ServerNotification::ItemStarted(started) => {
                if let ThreadItem::CommandExecution(cmd) = &started.item {
                    println!("\n$ {}", cmd.command);
                }
            }
            ServerNotification::ItemCompleted(done) => {
                if let ThreadItem::AgentMessage(_) | ThreadItem::Reasoning(_) = &done.item {
                    println!();
                }
            }
            _ => {}
        }
        std::io::stdout().flush().ok();
    }

    let result = turn.run().await?;
    let kinds: Vec<&str> = result.items.iter().map(ThreadItem::tag).collect();
    println!("\nstatus:   {:?}", result.status);
    println!("duration: {:?} ms", result.duration_ms);
    println!("items:    {}", kinds.join(", "));
    if let Some(usage) = &result.usage {
        println!(
            "tokens:   {} this turn, {} in the thread so far",
            usage.last.total_tokens, usage.total.total_tokens
        );
    }
    codex.close().await;
    Ok(())
}

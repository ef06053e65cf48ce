//! Steering and interrupting a running turn. `steer` adds input to the turn that is running (it
//! becomes part of the same turn); `interrupt` stops it. Both are on `TurnControl`, a cloneable
//! remote that any task can hold while another consumes the stream.
//!
//! Needs `codex` installed and logged in; found through `CODEX_BIN`, the active virtualenv, then `PATH`.
//! Run: `cargo run --example steer_and_interrupt`

use codex_client::protocol::ServerNotification;
use codex_client::{Codex, Error, ThreadOptions};
use futures::StreamExt;
use std::io::Write;
use std::time::Duration;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let codex = Codex::start().await?;
    let thread = codex.threads().start(ThreadOptions::new()).await?;

    // Steer: change course while the turn runs.
    let mut turn = thread.turn("Write a short poem about the sea.").await?;
    let control = turn.control();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(2)).await;
        // Fails harmlessly if the turn already ended.
        if let Err(err) = control
            .steer("Actually, make it about mountains instead.")
            .await
        {
            eprintln!("steer: {err}");
        }
    });
    while let Some(event) = turn.next().await {
        if let Some(ServerNotification::ItemAgentMessageDelta(d)) = event?.notification() {
            print!("{}", d.delta);
            std::io::stdout().flush().ok();
        }
    }
    let result = turn.run().await?;
    println!("\n[{:?}; {} item(s)]\n", result.status, result.items.len());

    // Interrupt: stop a turn after a deadline.
    let turn = thread
        .turn("Write a 2000-word essay on the history of the lighthouse.")
        .await?;
    let control = turn.control();
    let collector = tokio::spawn(turn.run());
    tokio::time::sleep(Duration::from_secs(3)).await;
    control.interrupt().await?;
    let result = collector.await.expect("the collecting task")?;
    println!("status: {:?}", result.status); // Interrupted
    for item in &result.open_items {
        // What was still in progress when the turn stopped.
        println!("left open: {} {:?}", item.tag(), item.id());
    }
    codex.close().await;
    Ok(())
}

//! Resuming an existing thread: continue a conversation started earlier (by this program, by the
//! `codex` CLI, by anything using the same `CODEX_HOME`). The resumed `Thread` carries its
//! history and the settings the server restored.
//!
//! Needs `codex` installed and logged in; found through `CODEX_BIN`, the active virtualenv, then `PATH`.
//! Run: `cargo run --example resume_thread` (starts a thread, then resumes it from a second
//! connection), or `cargo run --example resume_thread -- <thread-id>` to resume one of yours.

use codex_client::protocol::ThreadItem;
use codex_client::{Codex, Error, ThreadOptions};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let thread_id = match std::env::args().nth(1) {
        Some(id) => id,
        None => {
            // A first session: one turn, then the app-server goes away.
            let codex = Codex::start().await?;
            let thread = codex.threads().start(ThreadOptions::new()).await?;
            let result = thread
                .run("Remember the number 42. Reply with just 'OK'.")
                .await?;
            println!("first session: {}", result.final_response().unwrap_or("-"));
            let id = thread.id().to_owned();
            codex.close().await;
            id
        }
    };

    // A later session: a new app-server, the same thread.
    let codex = Codex::start().await?;
    let thread = codex
        .threads()
        .resume(&thread_id, ThreadOptions::new())
        .await?;
    println!(
        "resumed {} ({:?}): model {:?}, cwd {}, {} earlier turn(s)",
        thread.id(),
        thread.name(),
        thread.model(),
        thread.cwd(),
        thread.turns().len()
    );
    for turn in thread.turns() {
        for item in &turn.items {
            if let ThreadItem::AgentMessage(message) = item {
                println!("  earlier answer: {}", message.text);
            }
        }
    }
    let result = thread
        .run("Which number did I ask you to remember?")
        .await?;
    println!("now: {}", result.final_response().unwrap_or("-"));
    codex.close().await;
    Ok(())
}

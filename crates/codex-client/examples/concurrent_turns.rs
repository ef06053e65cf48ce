//! Many turns at once: one `Codex` (one app-server, one connection), several threads, one task
//! per turn. Each turn's stream receives only its own events; nothing is shared but the pipe.
//!
//! Needs `codex` installed and logged in; found through `CODEX_BIN`, the active virtualenv, then `PATH`.
//! Run: `cargo run --example concurrent_turns`

use codex_client::{Codex, Error, ThreadOptions};
use std::time::Instant;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let codex = Codex::start().await?;
    let questions = [
        "What is the capital of France? One word.",
        "What is 17 * 23? Just the number.",
        "Name a prime number above 100. Just the number.",
        "What colour is the sky on a clear day? One word.",
    ];

    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for (i, question) in questions.into_iter().enumerate() {
        // `Codex` is a cheap clone; every clone talks to the same app-server.
        let codex = codex.clone();
        tasks.spawn(async move {
            // Turns on one thread run one after the other (the server's rule): use a thread
            // per concurrent turn.
            let thread = codex.threads().start(ThreadOptions::new()).await?;
            let result = thread.run(question).await?;
            Ok::<_, Error>((i, question, result))
        });
    }
    while let Some(joined) = tasks.join_next().await {
        let (i, question, result) = joined.expect("task")?;
        println!(
            "#{i} after {:>5} ms: {question} -> {}",
            started.elapsed().as_millis(),
            result.final_response().unwrap_or("-")
        );
    }
    // The router's tables are empty again: nothing is kept for finished turns.
    println!("{:?}", codex.connection().stats());
    codex.close().await;
    Ok(())
}

//! Blocking usage: the same API without async — a turn is an `Iterator`, and several OS threads
//! share one client. Switching from the async API is changing `codex_client::` to
//! `codex_client::blocking::` in the imports and dropping the `.await`s.
//!
//! Needs `codex` installed and logged in (`codex login`); the binary is found through
//! `CODEX_BIN`, then `PATH`. Run: `cargo run --features blocking --example blocking`.

use codex_client::blocking::{Codex, ThreadOptions};
use codex_client::protocol::ServerNotification;
use std::io::Write;
use std::time::Duration;

fn main() -> Result<(), codex_client::Error> {
    // No runtime to set up: the client owns one in the background.
    let codex = Codex::start()?;
    let thread = codex.threads().start(ThreadOptions::new())?;

    // Iterate a turn's events as they arrive; `next_timeout` would bound each wait.
    for event in thread.turn("Name three prime numbers.")? {
        if let Some(ServerNotification::ItemAgentMessageDelta(delta)) = event?.notification() {
            print!("{}", delta.delta);
            std::io::stdout().flush().ok();
        }
    }
    println!();

    // Several OS threads, one connection: each runs its own thread's turn.
    let questions = ["What is 2 + 2?", "Spell 'rust' backwards."];
    let workers: Vec<_> = questions
        .into_iter()
        .map(|question| {
            let codex = codex.clone();
            std::thread::spawn(move || -> Result<String, codex_client::Error> {
                let thread = codex.threads().start(ThreadOptions::new())?;
                let result = thread.run(question)?;
                Ok(format!(
                    "{question} -> {}",
                    result.final_response().unwrap_or("(no answer)")
                ))
            })
        })
        .collect();
    for worker in workers {
        println!("{}", worker.join().expect("the worker thread panicked")?);
    }

    // A turn that goes quiet does not block forever when you bound the wait.
    let mut turn = thread.turn("Count slowly to five.")?;
    while let Some(event) = turn.next_timeout(Duration::from_secs(60)) {
        match event {
            Ok(event) if event.is_turn_completed() => break,
            Ok(_) => {}
            Err(codex_client::Error::Timeout { .. }) => {
                eprintln!("no event for 60 s: interrupting");
                turn.interrupt()?;
            }
            Err(other) => return Err(other),
        }
    }

    codex.close();
    Ok(())
}

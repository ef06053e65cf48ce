//! Goals: give a thread an objective and let Codex work on it over as many turns as it takes,
//! followed as one logical turn — one start, one completion, every turn's items and usage
//! merged. Prints the agent's messages and goal updates as they come, and pauses the goal on
//! Ctrl-C.
//!
//! Needs `codex` installed and logged in (`codex login`); found through `CODEX_BIN`, then
//! `PATH`. Run: `cargo run --example goals -- "Write a haiku about Rust, then mark the goal complete"`.

use codex_client::protocol::ServerNotification;
use codex_client::{Codex, GoalOptions, ThreadOptions, TurnEvent};
use futures::StreamExt;
use std::io::Write;

#[tokio::main]
async fn main() -> Result<(), codex_client::Error> {
    let objective = std::env::args().nth(1).unwrap_or_else(|| {
        "Write a haiku about Rust's borrow checker, then mark the goal complete.".to_owned()
    });
    let codex = Codex::start().await?;
    // A goal needs a persisted (non-ephemeral), idle thread.
    let thread = codex.threads().start(ThreadOptions::new()).await?;

    // Bounded three ways: a token budget (the server stops the goal `budgetLimited`), a turn
    // cap (the SDK pauses it after 10 physical turns; 20 by default) and, below, a deadline on
    // the whole run. Without them a goal the model never marks complete runs for ever.
    let options = GoalOptions::new().token_budget(200_000).max_turns(10);
    let mut goal = thread.start_goal_with(&objective, options).await?;
    println!("goal started: logical turn {}", goal.id());

    let control = goal.control();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("\npausing the goal…");
            let _ = control.interrupt().await;
        }
    });

    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30 * 60);
    while let Some(event) = tokio::time::timeout_at(deadline, goal.next())
        .await
        .unwrap_or_else(|_| {
            eprintln!("\n30 minutes are up: pausing the goal");
            None
        })
    {
        let n = match event? {
            TurnEvent::Notification(n) => n,
            TurnEvent::Lagged(missed) => {
                eprintln!("\n[missed {missed} events]");
                continue;
            }
            _ => continue,
        };
        match &*n {
            ServerNotification::ItemAgentMessageDelta(delta) => {
                print!("{}", delta.delta);
                std::io::stdout().flush().ok();
            }
            ServerNotification::ThreadGoalUpdated(update) => println!(
                "\n[goal {}: {} tokens, {} s]",
                update.goal.status, update.goal.tokens_used, update.goal.time_used_seconds
            ),
            _ => {}
        }
    }

    if !goal
        .snapshot()
        .status
        .eq(&codex_client::protocol::TurnStatus::InProgress)
    {
        let done = goal.run().await?;
        println!(
            "\ngoal ended: {:?} after {} turns{}; final answer: {}",
            done.status(),
            done.turn_ids.len(),
            if done.turn_limit_reached {
                " (turn limit)"
            } else {
                ""
            },
            done.final_response().unwrap_or("(none)")
        );
    } else {
        // The deadline passed: stop the server's work on it.
        goal.interrupt().await?;
        let done = goal.run().await?;
        println!(
            "\ngoal paused at the deadline after {} turns",
            done.turn_ids.len()
        );
    }
    codex.close().await;
    Ok(())
}

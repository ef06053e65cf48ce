//! Turn parameters: reasoning effort and summary, a JSON output schema (the final answer is
//! then a JSON document), personality, and settings that persist for the thread's later turns
//! (model, sandbox, approvals, cwd). Thread-wide settings go on `ThreadOptions`.
//!
//! Needs `codex` installed and logged in; found through `CODEX_BIN`, the active virtualenv, then `PATH`.
//! Run: `cargo run --example turn_parameters`

use codex_client::protocol::{Personality, ReasoningSummary};
use codex_client::{ApprovalMode, Codex, Sandbox, ThreadOptions, TurnSettings};
use serde_json::json;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let codex = Codex::start().await?;
    let thread = codex
        .threads()
        .start(
            ThreadOptions::new()
                .developer_instructions("Be brief.")
                .sandbox(Sandbox::ReadOnly)
                .approval_mode(ApprovalMode::DenyAll)
                // Any key of the Codex config (`config.toml`), for this thread.
                .config("model_verbosity", "low"),
        )
        .await?;
    println!(
        "thread {}: model {:?}, effort {:?}, sandbox {:?}",
        thread.id(),
        thread.model(),
        thread.reasoning_effort(),
        thread.sandbox()
    );

    // Structured output: the final answer follows the schema.
    let schema = json!({
        "type": "object",
        "properties": {
            "language": {"type": "string"},
            "year": {"type": "integer"}
        },
        "required": ["language", "year"],
        "additionalProperties": false
    });
    let options = TurnSettings::new()
        .effort("low")
        .summary(ReasoningSummary::Concise)
        .personality(Personality::Pragmatic)
        .output_schema(schema);
    let result = thread
        .run_with(
            "Which year was the Rust language first released (1.0)?",
            options,
        )
        .await?;
    let answer: serde_json::Value =
        serde_json::from_str(result.final_response().unwrap_or("null"))?;
    println!("{} 1.0 came out in {}", answer["language"], answer["year"]);

    // Settings given to a turn stay for the thread's later turns (the server's rule).
    let result = thread
        .run_with(
            "In one sentence: what is a borrow checker?",
            TurnSettings::new().effort("medium"),
        )
        .await?;
    println!("{}", result.final_response().unwrap_or("-"));
    codex.close().await;
    Ok(())
}

//! Model selection: list the models the account can use, pick one for a thread, and switch
//! model (and reasoning effort) for a single turn.
//!
//! Listing models goes through the typed `request::<M>()` escape hatch, which reaches every
//! method of the protocol.
//!
//! Needs `codex` installed and logged in; found through `CODEX_BIN`, the active virtualenv, then `PATH`.
//! Run: `cargo run --example model_selection` (optionally `-- <model-id>`)

use codex_client::protocol::ModelListParams;
use codex_client::protocol::methods::ModelList;
use codex_client::{Codex, Error, ThreadOptions, TurnSettings};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let codex = Codex::start().await?;

    let models = codex
        .request::<ModelList>(ModelListParams {
            include_hidden: Some(false),
            ..ModelListParams::default()
        })
        .await?;
    for model in &models.data {
        let efforts: Vec<&str> = model
            .supported_reasoning_efforts
            .iter()
            .map(|e| e.reasoning_effort.as_str())
            .collect();
        println!(
            "{}{:<24} {} (efforts: {})",
            if model.is_default { "* " } else { "  " },
            model.id,
            model.display_name,
            efforts.join(", ")
        );
    }

    let chosen = std::env::args().nth(1).or_else(|| {
        models
            .data
            .iter()
            .find(|m| m.is_default)
            .map(|m| m.id.clone())
    });
    let mut options = ThreadOptions::new();
    if let Some(model) = &chosen {
        options = options.model(model);
    }
    let thread = codex.threads().start(options).await?;
    println!("\nthread {} uses {:?}", thread.id(), thread.model());
    let result = thread.run("Name one prime number.").await?;
    println!("{}", result.final_response().unwrap_or("-"));

    // One turn with another model and effort (they persist for later turns of the thread).
    if let Some(other) = models.data.iter().find(|m| Some(&m.id) != chosen.as_ref()) {
        let result = thread
            .run_with(
                "Name another one.",
                TurnSettings::new()
                    .model(&other.id)
                    .effort(other.default_reasoning_effort.as_str()),
            )
            .await?;
        println!(
            "{} says: {}",
            other.id,
            result.final_response().unwrap_or("-")
        );
    }
    codex.close().await;
    Ok(())
}

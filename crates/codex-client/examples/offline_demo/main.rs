//! The offline demo: what codex-client does, shown against the **real** `codex app-server` and a
//! scripted mock model on 127.0.0.1 — no account, no API key, no network.
//!
//! Run it with `cargo xtask demo` (which installs the pinned Codex runtime first), or directly
//! with a binary of your own: `CODEX_BIN=/path/to/codex cargo run -p codex-client --example
//! offline_demo`.
//!
//! It walks through five scenes, printing as events stream in:
//!
//! 1. a thread and a streamed turn (deltas printed as they arrive);
//! 2. a command approval answered in the turn's own stream (the command really runs in the
//!    sandbox's working directory);
//! 3. two turns on two threads running at once (output labelled by thread);
//! 4. an interrupt;
//! 5. a failed turn, which is an error value carrying the server's error.
//!
//! Every `TurnResult` is summarised. The answers come from the test kit's mock model
//! (`codex-client-testkit`), so they are scripted; everything between your code and the model is
//! the real thing. The program checks what it shows and exits 0 when everything behaved as
//! expected, 1 otherwise.
//!
//! This file is the program: it sets the scene up and runs the scenes in order. The other files:
//! `setup.rs` (the mock model, the sandbox, the app-server, and the check-keeping), `streaming.rs`
//! (scenes 1 and 3: streamed turns, one and two at once), `control.rs` (scenes 2, 4 and 5:
//! approvals, interrupts, failures) and `output.rs` (how results are printed).

mod control;
mod output;
mod setup;
mod streaming;

use codex_client::Codex;
use codex_client::core::{ClientInfo, ConnectionConfig};
use codex_client_testkit::{CodexSandbox, MockModel, MockResponse};
use control::{approval_in_stream, failed_turn, interrupt};
use output::bold;
use setup::{Demo, Env, scene, spawn_for};
use std::time::Instant;
use streaming::{streamed_turn, two_turns_at_once};

#[tokio::main]
async fn main() {
    let mut demo = Demo::default();
    let started = Instant::now();
    if let Err(err) = run(&mut demo).await {
        demo.fail(format!("the demo stopped early: {err}"));
    }
    println!();
    if demo.failures.is_empty() {
        println!(
            "{}",
            bold(&format!(
                "All {} checks passed in {:.1} s.",
                demo.passed,
                started.elapsed().as_secs_f64()
            ))
        );
        println!(
            "Next: README.md (quickstart), docs/getting-started.md, crates/codex-client/examples/."
        );
    } else {
        println!(
            "{}",
            bold(&format!(
                "FAILED: {} problem(s) ({} checks passed):",
                demo.failures.len(),
                demo.passed
            ))
        );
        for failure in &demo.failures {
            println!("  - {failure}");
        }
        std::process::exit(1);
    }
}

async fn run(demo: &mut Demo) -> Result<(), Box<dyn std::error::Error>> {
    println!("{}", bold("codex-client offline demo"));
    println!(
        "The real `codex app-server`, a scripted model on 127.0.0.1, and the SDK in between.\n"
    );

    let binary = codex_client_testkit::find_codex_binary()?;
    let mock = MockModel::start().await?;
    // Anything the scenes below did not script gets this answer (and is easy to spot).
    mock.set_default(MockResponse::message("(an unscripted answer)"));
    let sandbox = CodexSandbox::new(&binary, mock.base_url())?;
    let codex = Codex::builder()
        .connection(ConnectionConfig::new().client_info(ClientInfo::new("offline_demo", "1.0.0")))
        .spawn(spawn_for(&sandbox))
        .await?;
    let env = Env {
        codex,
        sandbox,
        mock,
    };

    println!("  codex binary   {}", binary.display());
    if let Some(info) = env.codex.server_info() {
        println!(
            "  app-server     version {} (pinned: {})",
            info.server_version.as_deref().unwrap_or("?"),
            codex_client::protocol::CODEX_VERSION
        );
        demo.check(
            info.version_matches(),
            format!(
                "the app-server's version ({:?}) is the pinned one ({})",
                info.server_version,
                codex_client::protocol::CODEX_VERSION
            ),
        );
    }
    println!("  mock model     {}", env.mock.base_url());
    println!("  working dir    {}", env.sandbox.workdir().display());

    scene(
        demo,
        "1. A thread and a streamed turn",
        "codex.threads().start(..) keeps the server's answer; thread.turn(..) is a Stream of typed events",
        streamed_turn(&env),
    )
    .await;
    scene(
        demo,
        "2. A command approval, answered in the turn's stream",
        "TurnOptions::approvals_in_stream() puts the approval requests into the turn's stream",
        approval_in_stream(&env),
    )
    .await;
    scene(
        demo,
        "3. Two turns on two threads, at the same time",
        "one Codex, one connection, one task per turn; each stream gets only its own turn's events",
        two_turns_at_once(&env),
    )
    .await;
    scene(
        demo,
        "4. Interrupting a turn",
        "turn.control().interrupt() from anywhere; the result says interrupted and what was left open",
        interrupt(&env),
    )
    .await;
    scene(
        demo,
        "5. A failed turn is an error value",
        "thread.run(..) returns Err(Error::TurnFailed) with the server's error and the partial result",
        failed_turn(&env),
    )
    .await;

    let stats = env.codex.connection().stats();
    demo.check(
        stats.turn_routes == 0 && stats.lagged_events == 0,
        format!("no turn route left behind and no event dropped: {stats:?}"),
    );
    let closed = env.codex.close().await;
    demo.check(
        closed.exit_status.is_some_and(|s| s.success()),
        format!("the app-server exits cleanly on close: {closed}"),
    );
    Ok(())
}

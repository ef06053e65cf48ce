//! Error handling and retries: what can fail, how to tell the cases apart, and what to do.
//!
//! - `Error::TurnFailed`: the turn ended `failed` (model error, usage limit, context window...).
//!   It carries the server's `TurnError` (message, `codexErrorInfo`) and the partial result.
//! - `Error::Rpc` with code -32001: the server is overloaded and did not process the request;
//!   `retry_on_overload` retries exactly that, with backoff and jitter.
//! - `Error::Timeout`: no answer in time. Not retried automatically: the request may have been
//!   applied.
//! - `Error::Closed`: the app-server is gone; carries its exit status and the tail of stderr.
//! - `Error::TurnRetriesExhausted`: the server kept retrying the model request past
//!   `TurnOptions::max_retries`; the turn was interrupted.
//! - `Error::ThreadBusy`: a turn of this program is still running on the thread.
//!
//! Needs `codex` installed and logged in; found through `CODEX_BIN`, the active virtualenv, then `PATH`.
//! Run: `cargo run --example errors_and_retry`

use codex_client::core::ConnectionConfig;
use codex_client::protocol::CodexErrorInfo;
use codex_client::{
    Codex, Error, RetryPolicy, SpawnConfig, ThreadOptions, TurnOptions, TurnResult,
    retry_on_overload,
};
use std::time::Duration;

const PROMPT: &str = "Summarize the Rust ownership rules in three bullets.";

#[tokio::main]
async fn main() {
    // A missing binary is an error that lists where it looked and how to install one.
    // Every request (not a whole turn) gets an answer within this, or `Error::Timeout`.
    let connection = ConnectionConfig::new().request_timeout(Duration::from_secs(60));
    let codex = match Codex::builder()
        .connection(connection)
        .spawn(SpawnConfig::new())
        .await
    {
        Ok(codex) => codex,
        Err(err) => {
            eprintln!("could not start codex: {err}");
            std::process::exit(1);
        }
    };

    match run(&codex).await {
        Ok(result) => println!("answer: {}", result.final_response().unwrap_or("-")),
        Err(err) => {
            report(&err);
            std::process::exit(1);
        }
    }
    codex.close().await;
}

async fn run(codex: &Codex) -> Result<TurnResult, Error> {
    // Requests the server refused because it was overloaded are retried (4 attempts by default).
    let thread = retry_on_overload(RetryPolicy::new(), || {
        codex.threads().start(ThreadOptions::new())
    })
    .await?;

    // A turn has no deadline of its own: give it one. When it expires, the dropped `run()`
    // future interrupts the turn (the thread's next prompt gets a turn of its own). And do not
    // let the server retry an unreachable model for ever: at the 5th retry the turn is
    // interrupted and the stream ends with `Error::TurnRetriesExhausted`.
    let options = TurnOptions::new().max_retries(5);
    let result = match tokio::time::timeout(
        Duration::from_secs(300),
        thread.run_with(PROMPT, options),
    )
    .await
    {
        Ok(result) => result,
        Err(_elapsed) => {
            return Err(Error::Protocol(
                "the turn took longer than 5 minutes (it was interrupted)".into(),
            ));
        }
    };

    match result {
        Ok(result) => Ok(result),
        // A failed turn: decide on `codexErrorInfo` whether another attempt makes sense.
        // Asking again adds the prompt to the thread a second time; that is your call to make.
        Err(Error::TurnFailed(failure))
            if is_transient(failure.error.codex_error_info.as_ref()) =>
        {
            eprintln!("turn failed ({}), trying once more", failure.error.message);
            tokio::time::sleep(Duration::from_secs(2)).await;
            thread.run(PROMPT).await
        }
        Err(err) => Err(err),
    }
}

/// Failures worth another attempt: the model side was busy or the stream broke.
fn is_transient(info: Option<&CodexErrorInfo>) -> bool {
    matches!(
        info,
        Some(
            CodexErrorInfo::ServerOverloaded
                | CodexErrorInfo::InternalServerError
                | CodexErrorInfo::ResponseStreamDisconnected(_)
                | CodexErrorInfo::ResponseStreamConnectionFailed(_)
                | CodexErrorInfo::HttpConnectionFailed(_)
        )
    )
}

fn report(err: &Error) {
    match err {
        Error::TurnFailed(failure) => {
            eprintln!(
                "turn {} failed: {}",
                failure.result.id, failure.error.message
            );
            eprintln!("  codexErrorInfo: {:?}", failure.error.codex_error_info);
            eprintln!("  details: {:?}", failure.error.additional_details);
            eprintln!(
                "  {} item(s) completed before it failed",
                failure.result.items.len()
            );
            // Every `error` notification of the turn, retried ones included.
            for e in &failure.result.errors {
                eprintln!(
                    "  error event: {} (will retry: {})",
                    e.error.message, e.will_retry
                );
            }
        }
        Error::Rpc { method, error } => {
            eprintln!("{method}: JSON-RPC error {} {}", error.code, error.message);
            if err.is_overloaded() {
                eprintln!("  still overloaded after every retry");
            }
        }
        Error::Timeout { method, timeout } => eprintln!("{method}: no answer within {timeout:?}"),
        Error::Closed(info) => {
            eprintln!("the app-server is gone: {}", info.reason);
            eprintln!("  exit status: {:?}", info.exit_status);
            eprintln!("  last lines of its stderr:\n{}", info.stderr_tail);
        }
        Error::BinaryNotFound { .. } => eprintln!("{err}"),
        // The server kept retrying the model request (unreachable, or not logged in).
        Error::TurnRetriesExhausted {
            retries,
            last_error,
            ..
        } => {
            eprintln!("gave up after {retries} retries: {last_error}");
            eprintln!("  is the model reachable, and are you logged in (`codex login`)?");
        }
        // Another turn of this program is still running on the thread: nothing was sent.
        Error::ThreadBusy { .. } => eprintln!("{err}"),
        other => eprintln!("error: {other}"),
    }
}

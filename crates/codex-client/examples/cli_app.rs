//! A small interactive CLI: type a message, watch the answer stream; `/interrupt` stops the
//! current answer, `/new` starts a new thread, `/quit` leaves. Commands need approval, which
//! this app asks you for (y/n) — fail-closed if you do not answer.
//!
//! Stdin is read on its own thread and handed over through a channel, so you can type
//! `/interrupt` while an answer is streaming.
//!
//! Needs `codex` installed and logged in; found through `CODEX_BIN`, the active virtualenv, then `PATH`.
//! Run: `cargo run --example cli_app`

use codex_client::protocol::{ServerNotification, ServerRequest};
use codex_client::{
    ApprovalMode, Codex, Error, Sandbox, Thread, ThreadOptions, TurnEvent, TurnOptions,
};
use futures::StreamExt;
use std::io::Write;
use tokio::sync::mpsc;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let mut lines = stdin_lines();
    let codex = Codex::start().await?;
    let options = ThreadOptions::new()
        .sandbox(Sandbox::WorkspaceWrite)
        .approval_mode(ApprovalMode::OnRequest);
    let mut thread = codex.threads().start(options.clone()).await?;
    println!("thread {} — /interrupt, /new, /quit", thread.id());

    loop {
        prompt();
        let Some(line) = lines.recv().await else {
            break;
        };
        match line.trim() {
            "" => continue,
            "/quit" => break,
            "/new" => {
                thread = codex.threads().start(options.clone()).await?;
                println!("new thread {}", thread.id());
            }
            "/interrupt" => println!("(nothing is running)"),
            text => {
                if let Err(err) = answer(&thread, text, &mut lines).await {
                    if err.is_closed() {
                        return Err(err);
                    }
                    println!("\n[error: {err}]");
                }
            }
        }
    }
    codex.close().await;
    Ok(())
}

/// Streams one turn, while watching stdin for `/interrupt` and approval answers.
async fn answer(
    thread: &Thread,
    text: &str,
    lines: &mut mpsc::UnboundedReceiver<String>,
) -> Result<(), Error> {
    let options = TurnOptions::new().approvals_in_stream();
    let mut turn = thread.turn_with(text, options).await?;
    let control = turn.control();
    let mut stdin_open = true;
    loop {
        tokio::select! {
            event = turn.next() => {
                let Some(event) = event else { break };
                match event? {
                    TurnEvent::Notification(n) => {
                        if let ServerNotification::ItemAgentMessageDelta(d) = &*n {
                            print!("{}", d.delta);
                            std::io::stdout().flush().ok();
                        }
                    }
                    TurnEvent::ServerRequest(request) => {
                        let what = match request.request() {
                            ServerRequest::ItemCommandExecutionRequestApproval(p) => {
                                format!("run `{}`", p.command.as_deref().unwrap_or("?"))
                            }
                            ServerRequest::ItemFileChangeRequestApproval(_) => "change files".to_owned(),
                            _ => {
                                // Questions this app cannot ask: refuse (the safe answer).
                                request.decline()?;
                                continue;
                            }
                        };
                        print!("\nallow codex to {what}? [y/N] ");
                        std::io::stdout().flush().ok();
                        let yes = lines.recv().await.is_some_and(|l| l.trim().eq_ignore_ascii_case("y"));
                        if yes { request.accept()? } else { request.decline()? }
                    }
                    TurnEvent::Lagged(n) => eprintln!("\n[missed {n} events]"),
                    _ => {}
                }
            }
            line = lines.recv(), if stdin_open => {
                let line = line.unwrap_or_else(|| {
                    stdin_open = false; // end of input: stop the answer, then leave
                    "/interrupt".to_owned()
                });
                // Either may fail harmlessly if the turn has just ended.
                let outcome = match line.trim() {
                    "/interrupt" => control.interrupt().await.map(|()| "[interrupting]".to_owned()),
                    "" => continue,
                    // Anything else typed during an answer steers it.
                    other => control.steer(other).await.map(|()| format!("[steered: {other}]")),
                };
                match outcome {
                    Ok(note) => println!("\n{note}"),
                    Err(err) => println!("\n[{err}]"),
                }
            }
        }
    }
    let result = turn.run().await?;
    println!("\n[{:?}]", result.status);
    Ok(())
}

fn prompt() {
    print!("\n> ");
    std::io::stdout().flush().ok();
}

/// Lines of stdin, read on a plain thread (blocking reads never stall the runtime).
fn stdin_lines() -> mpsc::UnboundedReceiver<String> {
    let (tx, rx) = mpsc::unbounded_channel();
    std::thread::spawn(move || {
        for line in std::io::stdin().lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

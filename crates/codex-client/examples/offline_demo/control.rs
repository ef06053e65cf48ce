//! Steering a turn: scene 2 (a command approval answered in the turn's own stream, the command
//! really running in the sandbox's working directory), scene 4 (an interrupt) and scene 5 (a
//! failed turn, an error value carrying the server's error and the partial result).

use crate::output::{summarise, wire};
use crate::setup::Env;
use codex_client::protocol::{ServerNotification, ThreadItem, TurnStatus};
use codex_client::{ApprovalMode, Error, Sandbox, TurnEvent, TurnOptions, TurnSettings};
use codex_client_testkit::{Matcher, MockResponse, StallGate};
use futures::StreamExt;
use std::io::Write;
use std::time::Duration;

// ---------------------------------------------------------------------------------------------
// Scene 2

pub(crate) async fn approval_in_stream(env: &Env) -> Result<Vec<(bool, String)>, Error> {
    let command = "echo 'hello from the sandbox' > greeting.txt && cat greeting.txt";
    // The model asks to run a command; once it has the output, it answers.
    env.mock.route_sequence(
        Matcher::user_text_contains("greeting.txt"),
        [
            MockResponse::exec_command(command),
            MockResponse::deltas(["I wrote ", "greeting.txt ", "and read it back."])
                .with_delay(Duration::from_millis(30)),
        ],
    );
    let thread = env.thread().await?;
    // For this turn: ask before any command that is not known to be safe, let commands write in
    // the working directory, and hand the approval requests to this stream.
    let options = TurnOptions::new()
        .settings(
            TurnSettings::new()
                .approval_mode(ApprovalMode::Untrusted)
                .sandbox(Sandbox::WorkspaceWrite),
        )
        .approvals_in_stream();
    let prompt = "Write a greeting into greeting.txt.";
    println!("  you   > {prompt}");
    let mut turn = thread.turn_with(prompt, options).await?;
    let mut approvals = 0;
    let mut in_message = false;
    while let Some(event) = turn.next().await {
        match event? {
            TurnEvent::ServerRequest(request) => {
                approvals += 1;
                if let codex_client::protocol::ServerRequest::ItemCommandExecutionRequestApproval(
                    params,
                ) = request.request()
                {
                    println!(
                        "  ? approval requested: run `{}` in {}",
                        params.command.as_deref().unwrap_or("?"),
                        params.cwd.as_deref().unwrap_or("?")
                    );
                }
                // `accept()` or `decline()`. Dropping the request unanswered declines it too:
                // approvals fail closed.
                request.accept()?;
                println!("  + accepted by this program (request.accept())");
            }
            TurnEvent::Notification(n) => match &*n {
                ServerNotification::ItemCommandExecutionOutputDelta(out) => {
                    for line in out.delta.lines() {
                        println!("  $ {line}");
                    }
                }
                ServerNotification::ItemCompleted(done) => {
                    if let ThreadItem::CommandExecution(cmd) = &done.item {
                        println!(
                            "  command finished: status {}, exit code {}",
                            wire(&cmd.status),
                            cmd.exit_code.map_or("?".into(), |c| c.to_string())
                        );
                    }
                    if in_message {
                        println!();
                        in_message = false;
                    }
                }
                ServerNotification::ItemAgentMessageDelta(delta) => {
                    if !in_message {
                        print!("  codex > ");
                        in_message = true;
                    }
                    print!("{}", delta.delta);
                    std::io::stdout().flush().ok();
                }
                _ => {}
            },
            TurnEvent::Lagged(n) => println!("  [this consumer fell behind: {n} events missed]"),
            _ => {}
        }
    }
    let result = turn.run().await?;
    let file = env.sandbox.workdir().join("greeting.txt");
    let content = std::fs::read_to_string(&file).unwrap_or_default();
    println!("  {} now holds: {:?}", file.display(), content.trim_end());
    summarise(&result);
    let command_status = result.items.iter().find_map(|item| match item {
        ThreadItem::CommandExecution(cmd) => Some(wire(&cmd.status)),
        _ => None,
    });
    Ok(vec![
        (
            approvals == 1,
            format!("scene 2: one approval request (got {approvals})"),
        ),
        (
            command_status.as_deref() == Some("completed"),
            format!("scene 2: the approved command completed ({command_status:?})"),
        ),
        (
            content.trim_end() == "hello from the sandbox",
            format!(
                "scene 2: the command wrote greeting.txt in the working directory ({content:?})"
            ),
        ),
        (
            result.final_response() == Some("I wrote greeting.txt and read it back."),
            "scene 2: the model's answer after the command is the final response".into(),
        ),
    ])
}

// ---------------------------------------------------------------------------------------------
// Scene 4

pub(crate) async fn interrupt(env: &Env) -> Result<Vec<(bool, String)>, Error> {
    // The model starts a long answer and then goes quiet, as a slow model would.
    let gate = StallGate::new();
    env.mock.push(MockResponse::stalled(
        ["Chapter one. It was a dark and stormy night, and the essay had only just begun"],
        &gate,
    ));
    let thread = env.thread().await?;
    let prompt = "Write a very long essay.";
    println!("  you   > {prompt}");
    let mut turn = thread.turn(prompt).await?;
    // Read until the answer has started...
    while let Some(event) = turn.next().await {
        if let TurnEvent::Notification(n) = event?
            && let ServerNotification::ItemAgentMessageDelta(delta) = &*n
        {
            println!("  codex > {} ...", delta.delta);
            break;
        }
    }
    // ...then interrupt. `TurnControl` is a cloneable remote; any task can hold one.
    let control = turn.control();
    println!("  (interrupting: turn/interrupt)");
    control.interrupt().await?;
    let result = turn.run().await?;
    gate.release();
    summarise(&result);
    Ok(vec![
        (
            result.is_interrupted(),
            format!(
                "scene 4: the turn ended interrupted ({})",
                wire(&result.status)
            ),
        ),
        (
            result.final_response().is_none(),
            "scene 4: an interrupted answer is not a final response".into(),
        ),
        (
            result
                .open_items
                .iter()
                .any(|i| matches!(i, ThreadItem::AgentMessage(_))),
            "scene 4: the unfinished agent message is reported in open_items".into(),
        ),
    ])
}

// ---------------------------------------------------------------------------------------------
// Scene 5

pub(crate) async fn failed_turn(env: &Env) -> Result<Vec<(bool, String)>, Error> {
    env.mock.push(MockResponse::http_error(
        500,
        "the mock model is having a bad day",
    ));
    let thread = env.thread().await?;
    let prompt = "Anything at all.";
    println!("  you   > {prompt}");
    println!("  (the mock model answers HTTP 500)");
    match thread.run(prompt).await {
        Err(Error::TurnFailed(failure)) => {
            println!("  Error::TurnFailed: {}", failure.error.message);
            println!(
                "  codexErrorInfo: {}",
                failure
                    .error
                    .codex_error_info
                    .as_ref()
                    .map_or("none".into(), wire)
            );
            println!(
                "  the partial result is kept: {} item(s), status {}",
                failure.result.items.len(),
                wire(&failure.result.status)
            );
            Ok(vec![(
                failure.result.status == TurnStatus::Failed,
                "scene 5: the failed turn carries its partial result".into(),
            )])
        }
        Err(other) => Err(other),
        Ok(result) => Ok(vec![(
            false,
            format!(
                "scene 5: the turn should have failed, it ended {}",
                wire(&result.status)
            ),
        )]),
    }
}

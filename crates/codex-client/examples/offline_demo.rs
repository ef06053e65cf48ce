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

use codex_client::core::{ClientInfo, ConnectionConfig};
use codex_client::protocol::{ServerNotification, ThreadItem, TurnStatus};
use codex_client::{
    ApprovalMode, Codex, Error, Sandbox, SpawnConfig, Thread, ThreadOptions, TurnEvent, TurnHandle,
    TurnOptions, TurnResult, TurnSettings,
};
use codex_client_testkit::{
    AppServerLaunch, CodexSandbox, Matcher, MockModel, MockResponse, StallGate,
};
use futures::StreamExt;
use std::collections::BTreeMap;
use std::future::Future;
use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// No scene may take longer than this; a hang is a failure, never a stuck demo.
const SCENE_TIMEOUT: Duration = Duration::from_secs(60);

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

/// The expectations the demo checks as it goes.
#[derive(Default)]
struct Demo {
    passed: usize,
    failures: Vec<String>,
}

impl Demo {
    fn check(&mut self, ok: bool, what: impl Into<String>) {
        if ok {
            self.passed += 1;
        } else {
            self.fail(what);
        }
    }

    fn fail(&mut self, what: impl Into<String>) {
        let what = what.into();
        println!("  !! unexpected: {what}");
        self.failures.push(what);
    }
}

/// The pieces every scene uses. Field order is drop order: the app-server first, then its
/// directories, then the mock model.
struct Env {
    codex: Codex,
    sandbox: CodexSandbox,
    mock: MockModel,
}

impl Env {
    /// Threads work in the sandbox's directory, read-only, and ask for nothing unless a turn
    /// says otherwise.
    fn thread_options(&self) -> ThreadOptions {
        ThreadOptions::new()
            .cwd(self.sandbox.workdir())
            .approval_mode(ApprovalMode::DenyAll)
            .sandbox(Sandbox::ReadOnly)
    }

    async fn thread(&self) -> Result<Thread, Error> {
        self.codex.threads().start(self.thread_options()).await
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

/// How the SDK starts the app-server here: the test kit's offline command line (mock model
/// provider, throwaway CODEX_HOME, features that would reach the internet disabled).
fn spawn_for(sandbox: &CodexSandbox) -> SpawnConfig {
    // The bridge from the kit's plain launch data (the kit does not depend on the SDK).
    let AppServerLaunch {
        program,
        args,
        env_clear,
        env,
        cwd,
    } = sandbox.launch();
    SpawnConfig::from_launch(program, args, env_clear, env, cwd)
}

/// Runs one scene with a deadline; its checks are recorded in `demo`.
async fn scene(
    demo: &mut Demo,
    title: &str,
    about: &str,
    body: impl Future<Output = Result<Vec<(bool, String)>, Error>>,
) {
    println!("\n{}", bold(title));
    println!("  // {about}");
    match tokio::time::timeout(SCENE_TIMEOUT, body).await {
        Ok(Ok(checks)) => {
            for (ok, what) in checks {
                demo.check(ok, what);
            }
        }
        Ok(Err(err)) => demo.fail(format!("{title}: {err}")),
        Err(_) => demo.fail(format!("{title}: no end after {SCENE_TIMEOUT:?}")),
    }
}

// ---------------------------------------------------------------------------------------------
// Scene 1

async fn streamed_turn(env: &Env) -> Result<Vec<(bool, String)>, Error> {
    let words = [
        "codex-client ",
        "drives ",
        "the Codex ",
        "app-server ",
        "over JSON-RPC: ",
        "threads, ",
        "turns, ",
        "streamed events ",
        "and approvals, ",
        "for many turns at once.",
    ];
    env.mock
        .push(MockResponse::deltas(words).with_delay(Duration::from_millis(40)));

    let thread = env.thread().await?;
    println!(
        "  thread {} started: model {}, approval policy {}, sandbox {}",
        thread.id(),
        thread.model().unwrap_or("?"),
        thread.approval_policy().map_or("?".into(), wire),
        thread.sandbox().map_or("?".into(), |s| {
            let policy = serde_json::to_value(s).unwrap_or_default();
            policy["type"].as_str().unwrap_or("?").to_owned()
        }),
    );
    let prompt = "What is codex-client, in one sentence?";
    println!("  you   > {prompt}");
    let mut turn = thread.turn(prompt).await?;
    print!("  codex > ");
    let mut streamed = String::new();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    while let Some(event) = turn.next().await {
        if let TurnEvent::Notification(n) = event? {
            *seen.entry(n.method().to_owned()).or_default() += 1;
            if let ServerNotification::ItemAgentMessageDelta(delta) = &*n {
                print!("{}", delta.delta);
                std::io::stdout().flush().ok();
                streamed.push_str(&delta.delta);
            }
        }
    }
    println!();
    let events: Vec<String> = seen.iter().map(|(m, n)| format!("{m} x{n}")).collect();
    println!("  (the turn's stream carried: {})", events.join(", "));
    // The handle collected while it streamed: `run` now returns the whole result at once.
    let result = turn.run().await?;
    summarise(&result);
    Ok(vec![
        (result.is_completed(), "scene 1: the turn completed".into()),
        (
            streamed == words.concat(),
            format!("scene 1: every delta arrived, in order ({streamed:?})"),
        ),
        (
            result.final_response() == Some(streamed.as_str()),
            "scene 1: the final response is the streamed text".into(),
        ),
        (
            result.usage.is_some(),
            "scene 1: the result carries token usage".into(),
        ),
    ])
}

// ---------------------------------------------------------------------------------------------
// Scene 2

async fn approval_in_stream(env: &Env) -> Result<Vec<(bool, String)>, Error> {
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
// Scene 3

async fn two_turns_at_once(env: &Env) -> Result<Vec<(bool, String)>, Error> {
    let pace = Duration::from_millis(60);
    let scripts = [
        (
            "A",
            "[haiku]",
            vec![
                "An ", "old ", "silent ", "pond, ", "a ", "frog ", "jumps ", "in.",
            ],
        ),
        (
            "B",
            "[count]",
            vec![
                "one ", "two ", "three ", "four ", "five ", "six ", "seven ", "eight.",
            ],
        ),
    ];
    let mut tasks = Vec::new();
    for (label, marker, deltas) in scripts {
        env.mock.route(
            Matcher::user_text_contains(marker),
            MockResponse::deltas(deltas.clone()).with_delay(pace),
        );
        let thread = env.thread().await?;
        println!("  thread {label} = {}", thread.id());
        let prompt = format!("{marker} go");
        // Each turn is consumed by its own task; they share one app-server and one connection.
        tasks.push(tokio::spawn(async move {
            let turn = thread.turn(prompt).await?;
            stream_labelled(label, turn).await
        }));
    }
    let mut spans = Vec::new();
    let mut checks = Vec::new();
    let expected = [
        "An old silent pond, a frog jumps in.",
        "one two three four five six seven eight.",
    ];
    for (task, expected) in tasks.into_iter().zip(expected) {
        let (label, first, last, result) =
            task.await.map_err(|e| Error::Protocol(e.to_string()))??;
        println!("  thread {label}:");
        summarise(&result);
        checks.push((
            result.final_response() == Some(expected),
            format!(
                "scene 3: thread {label} got its own answer ({:?})",
                result.final_response()
            ),
        ));
        spans.push((first, last));
    }
    let overlap = overlap(&spans);
    println!(
        "  the two turns streamed side by side for {} ms",
        overlap.as_millis()
    );
    checks.push((
        !overlap.is_zero(),
        "scene 3: the two turns were streaming at the same time".into(),
    ));
    Ok(checks)
}

/// Streams a turn, printing each delta on its own line with the thread's label; returns when its
/// first and last deltas arrived, and the result.
async fn stream_labelled(
    label: &'static str,
    mut turn: TurnHandle,
) -> Result<(&'static str, Instant, Instant, TurnResult), Error> {
    let (mut first, mut last) = (None, Instant::now());
    while let Some(event) = turn.next().await {
        if let TurnEvent::Notification(n) = event?
            && let ServerNotification::ItemAgentMessageDelta(delta) = &*n
        {
            let indent = if label == "A" {
                ""
            } else {
                "                    "
            };
            println!("  [{label}] {indent}{}", delta.delta.trim_end());
            first.get_or_insert_with(Instant::now);
            last = Instant::now();
        }
    }
    let result = turn.run().await?;
    Ok((label, first.unwrap_or(last), last, result))
}

/// How long all the `(start, end)` spans were open together.
fn overlap(spans: &[(Instant, Instant)]) -> Duration {
    let start = spans.iter().map(|s| s.0).max();
    let end = spans.iter().map(|s| s.1).min();
    match (start, end) {
        (Some(start), Some(end)) if end > start => end - start,
        _ => Duration::ZERO,
    }
}

// ---------------------------------------------------------------------------------------------
// Scene 4

async fn interrupt(env: &Env) -> Result<Vec<(bool, String)>, Error> {
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

async fn failed_turn(env: &Env) -> Result<Vec<(bool, String)>, Error> {
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

// ---------------------------------------------------------------------------------------------
// Output helpers

/// One `TurnResult`, in a few lines.
fn summarise(result: &TurnResult) {
    let kinds: Vec<&str> = result.items.iter().map(ThreadItem::tag).collect();
    println!(
        "  TurnResult: status {}, {}, items [{}]",
        wire(&result.status),
        result
            .duration_ms
            .map_or("duration ?".into(), |ms| format!("{ms} ms")),
        kinds.join(", ")
    );
    if !result.open_items.is_empty() {
        let open: Vec<&str> = result.open_items.iter().map(ThreadItem::tag).collect();
        println!("              left open: [{}]", open.join(", "));
    }
    println!(
        "              final response: {}",
        result
            .final_response()
            .map_or("none".into(), |text| format!("{text:?}"))
    );
    if let Some(usage) = &result.usage {
        let last = &usage.last;
        println!(
            "              usage: {} tokens ({} in, {} cached, {} out)",
            last.total_tokens, last.input_tokens, last.cached_input_tokens, last.output_tokens
        );
    }
}

/// A value as the protocol writes it: `completed`, `never`, `{"type":"readOnly"}`, ...
fn wire(value: &impl serde::Serialize) -> String {
    match serde_json::to_value(value).unwrap_or_default() {
        serde_json::Value::String(s) => s,
        other => other.to_string(),
    }
}

fn bold(text: &str) -> String {
    if std::io::stdout().is_terminal() {
        format!("\x1b[1m{text}\x1b[0m")
    } else {
        text.to_owned()
    }
}

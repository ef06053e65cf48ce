//! Streaming: scene 1 (a thread and one streamed turn, deltas printed as they arrive) and scene 3
//! (two turns on two threads at once over one connection, each stream getting only its own
//! turn's events).

use crate::output::{summarise, wire};
use crate::setup::Env;
use codex_client::protocol::ServerNotification;
use codex_client::{Error, TurnEvent, TurnHandle, TurnResult};
use codex_client_testkit::{Matcher, MockResponse};
use futures::StreamExt;
use std::collections::BTreeMap;
use std::io::Write;
use std::time::{Duration, Instant};

// ---------------------------------------------------------------------------------------------
// Scene 1

pub(crate) async fn streamed_turn(env: &Env) -> Result<Vec<(bool, String)>, Error> {
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
// Scene 3

pub(crate) async fn two_turns_at_once(env: &Env) -> Result<Vec<(bool, String)>, Error> {
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

//! The scripted app-server of `goal_driver.rs`: message builders shaped like what codex
//! 0.163.0 sends during a goal, the fake server's end of the memory transport, and a consumer
//! task that records what the goal handle yields.

use super::common::{T, connect, next_request, notification, within};
use codex_client::core::ConnectionConfig;
use codex_client::protocol::{ServerNotification, TurnStatus};
use codex_client::{
    Codex, Error, GoalHandle, GoalOptions, GoalResult, MemoryPeer, Thread, ThreadOptions, TurnEvent,
};
use futures::StreamExt;
use serde_json::{Value, json};
use tokio::sync::mpsc;

pub const TH: &str = "019a0000-0000-7000-8000-00000000aaaa";
pub const OBJECTIVE: &str = "Write a haiku";

/// The fake app-server: the test's end of the memory transport.
pub struct Server {
    pub peer: MemoryPeer,
}

impl Server {
    /// The next request, which must be `method`: (id, params).
    pub async fn expect(&mut self, method: &str) -> (Value, Value) {
        let (id, got, params) = next_request(&mut self.peer).await;
        assert_eq!(got, method, "unexpected request (params {params})");
        (id, params)
    }

    pub fn answer(&self, id: &Value, result: Value) {
        assert!(self.peer.send_json(&json!({"id": id, "result": result})));
    }

    pub fn send(&self, line: String) {
        assert!(self.peer.send(line));
    }

    pub fn send_all(&self, lines: Vec<String>) {
        for line in lines {
            self.send(line);
        }
    }

    /// Answers the `thread/goal/get` the driver sends when the thread goes idle with a goal
    /// turn open (everything sent before is delivered to it first).
    pub async fn answer_goal_get(&mut self, goal: Option<Value>) {
        let (id, params) = self.expect("thread/goal/get").await;
        assert_eq!(params["threadId"], TH);
        self.answer(&id, json!({ "goal": goal }));
    }

    /// The server starts a goal turn by itself: the thread goes active, `turn/started`.
    pub fn start_turn(&self, turn: &str) {
        self.send(thread_status("active"));
        self.send(turn_started(turn));
    }

    /// The rest of a goal turn that completes normally, from its items to `turn/completed`, the goal then `status` with `tokens` used; answers the driver's
    /// `thread/goal/get` after it. `extra` lines go out after the turn's end, before that answer.
    pub async fn goal_turn(
        &mut self,
        turn: &str,
        text: &str,
        status: &str,
        tokens: i64,
        extra: Vec<String>,
    ) {
        self.send_all(agent_message(turn, text));
        self.finish_turn(turn, status, tokens, "completed", Some(text));
        self.send_all(extra);
        self.answer_goal_get(Some(goal_json(status, tokens))).await;
    }

    /// The end of a turn: the goal's accounting, idle, `turn/completed` with `turn_status`.
    pub fn finish_turn(
        &self,
        turn: &str,
        goal_status: &str,
        tokens: i64,
        turn_status: &str,
        text: Option<&str>,
    ) {
        self.send(goal_updated(Some(turn), goal_status, tokens));
        self.send(thread_status("idle"));
        self.send(turn_completed(turn, turn_status, text));
    }
}

pub fn thread_obj() -> Value {
    json!({
        "id": TH, "environments": [], "extra": null, "sessionId": TH, "forkedFromId": null,
        "parentThreadId": null, "preview": "", "ephemeral": false, "section": null,
        "sectionEnteredAt": null, "projectId": null, "historyMode": "paginated",
        "modelProvider": "mock", "model": "mock-model", "reasoningEffort": null,
        "createdAt": 1796284832, "updatedAt": 1796284832, "recencyAt": 1796284832,
        "status": {"type": "idle"},
        "path": format!("/tmp/codex-home/sessions/rollout-{TH}.jsonl"), "cwd": "/tmp/work",
        "cliVersion": "0.163.0", "originator": "goal_driver", "source": "vscode",
        "canAcceptDirectInput": true, "threadSource": null, "agentNickname": null,
        "agentRole": null, "gitInfo": null, "name": null, "daybreakEnabled": null, "turns": []
    })
}

pub fn thread_start_result() -> Value {
    json!({
        "thread": thread_obj(), "model": "mock-model", "modelProvider": "mock",
        "serviceTier": null, "disabledPluginIds": [], "cwd": "/tmp/work",
        "runtimeWorkspaceRoots": ["/tmp/work"], "instructionSources": [],
        "approvalPolicy": "never", "approvalsReviewer": "user",
        "sandbox": {"type": "readOnly", "networkAccess": false},
        "activePermissionProfile": null, "reasoningEffort": null,
        "multiAgentMode": "explicitRequestOnly"
    })
}

pub fn goal_json(status: &str, tokens: i64) -> Value {
    json!({
        "threadId": TH, "objective": OBJECTIVE, "status": status, "tokenBudget": 40,
        "tokensUsed": tokens, "timeUsedSeconds": 0, "createdAt": 1796284832,
        "updatedAt": 1796284833
    })
}

pub fn goal_updated(turn: Option<&str>, status: &str, tokens: i64) -> String {
    notification(
        "thread/goal/updated",
        json!({"threadId": TH, "turnId": turn, "goal": goal_json(status, tokens)}),
    )
}

pub fn thread_status(status: &str) -> String {
    let status = match status {
        "active" => json!({"type": "active", "activeFlags": []}),
        other => json!({ "type": other }),
    };
    notification(
        "thread/status/changed",
        json!({"threadId": TH, "status": status}),
    )
}

/// The `turn` object; `started` / `completed` are the seconds of the turn's number, so that the
/// logical turn's times can be checked.
pub fn turn_json(turn: &str, status: &str, text: Option<&str>) -> Value {
    let n: i64 = turn.trim_start_matches("turn-").parse().unwrap_or(0);
    let done = status != "inProgress";
    let items = match text {
        Some(text) if done => vec![agent_item(turn, text)],
        _ => vec![],
    };
    json!({
        "id": turn, "rootTurnId": turn, "items": items,
        "itemsView": if done { "summary" } else { "notLoaded" }, "status": status,
        "error": if status == "failed" {
            json!({"message": "We're currently experiencing high demand", "codexErrorInfo": "internalServerError", "additionalDetails": null, "misalignment": null})
        } else { Value::Null },
        "startedAt": 1796284800 + n * 10,
        "completedAt": if done { json!(1796284805 + n * 10) } else { Value::Null },
        "durationMs": if done { json!(5000) } else { Value::Null }
    })
}

pub fn turn_started(turn: &str) -> String {
    notification(
        "turn/started",
        json!({"threadId": TH, "turn": turn_json(turn, "inProgress", None)}),
    )
}

pub fn turn_completed(turn: &str, status: &str, text: Option<&str>) -> String {
    notification(
        "turn/completed",
        json!({"threadId": TH, "turn": turn_json(turn, status, text)}),
    )
}

pub fn agent_item(turn: &str, text: &str) -> Value {
    json!({"type": "agentMessage", "id": format!("msg_{turn}"), "text": text, "phase": null,
        "memoryCitation": null, "delivery": null, "questions": null})
}

/// `item/started`, one delta, `item/completed` of an agent message.
pub fn agent_message(turn: &str, text: &str) -> Vec<String> {
    let mut started = agent_item(turn, text);
    started["text"] = json!("");
    vec![
        notification(
            "item/started",
            json!({"item": started, "threadId": TH, "turnId": turn, "startedAtMs": 1796284833026i64}),
        ),
        notification(
            "item/agentMessage/delta",
            json!({"threadId": TH, "turnId": turn, "itemId": format!("msg_{turn}"), "delta": text}),
        ),
        notification(
            "item/completed",
            json!({"item": agent_item(turn, text), "threadId": TH, "turnId": turn, "completedAtMs": 1796284833027i64}),
        ),
    ]
}

/// A `Codex` on the memory transport, a thread started on it, and the server's end.
pub async fn setup() -> (Codex, Thread, Server) {
    let (conn, peer) = connect(ConnectionConfig::default()).await;
    let codex = Codex::from_connection(conn);
    let mut server = Server { peer };
    let c = codex.clone();
    let start = tokio::spawn(async move { c.threads().start(ThreadOptions::new()).await });
    let (id, _) = server.expect("thread/start").await;
    server.answer(&id, thread_start_result());
    let thread = within(T, "thread/start", start)
        .await
        .unwrap()
        .expect("thread/start");
    (codex, thread, server)
}

/// Starts a goal as the real server answers it, up to the first physical turn, `turn-1`.
pub async fn start_goal(thread: &Thread, server: &mut Server, options: GoalOptions) -> GoalHandle {
    let t = thread.clone();
    let call = tokio::spawn(async move { t.start_goal_with(OBJECTIVE, options).await });
    let (id, params) = server.expect("thread/read").await;
    assert_eq!(params["threadId"], TH);
    server.answer(&id, json!({"thread": thread_obj()}));
    let (id, _) = server.expect("thread/goal/get").await;
    server.answer(&id, json!({"goal": null}));
    let (id, params) = server.expect("thread/goal/set").await;
    assert_eq!(
        (
            &params["objective"],
            &params["status"],
            &params["origin"],
            &params["threadId"]
        ),
        (
            &json!(OBJECTIVE),
            &json!("active"),
            &json!("user"),
            &json!(TH)
        )
    );
    server.answer(&id, json!({"goal": goal_json("active", 0)}));
    server.send(goal_updated(None, "active", 0));
    server.send(thread_status("active"));
    server.send(turn_started("turn-1"));
    within(T, "start_goal", call)
        .await
        .unwrap()
        .expect("the goal starts")
}

/// What the driver yields, one word per event, and what the handle said along the way.
#[derive(Debug, Default)]
pub struct Seen {
    pub events: Vec<String>,
    /// At each `thread/goal/updated` of a turn: (turn_ids, snapshot items, snapshot status,
    /// current turn of the control).
    pub along: Vec<(Vec<String>, usize, TurnStatus, Option<String>)>,
}

pub fn describe(event: &Result<TurnEvent, Error>) -> String {
    match event {
        Ok(TurnEvent::Notification(n)) => match &**n {
            ServerNotification::TurnStarted(s) => format!("started:{}", s.turn.id),
            ServerNotification::TurnCompleted(c) => {
                format!("completed:{}:{}", c.turn.id, c.turn.status)
            }
            ServerNotification::ThreadGoalUpdated(g) => format!(
                "goal:{}:{}",
                g.turn_id.as_deref().unwrap_or("-"),
                g.goal.status
            ),
            ServerNotification::ThreadGoalCleared(_) => "goal:cleared".to_owned(),
            ServerNotification::ItemAgentMessageDelta(d) => format!("delta:{}", d.delta),
            other => other.method().to_owned(),
        },
        Ok(TurnEvent::Lagged(n)) => format!("lagged:{n}"),
        Ok(other) => format!("other:{other:?}"),
        Err(Error::Closed(_)) => "closed".to_owned(),
        Err(e) => format!("error:{e}"),
    }
}

/// Consumes the goal on a task (the driver runs only while its stream is polled), forwarding
/// each event's description on `tx`; then its result.
pub fn consume(
    mut goal: GoalHandle,
    tx: mpsc::UnboundedSender<String>,
) -> tokio::task::JoinHandle<(Seen, Result<GoalResult, Error>)> {
    tokio::spawn(async move {
        let mut seen = Seen::default();
        let control = goal.control();
        while let Some(event) = within(T, "a goal event", goal.next()).await {
            let word = describe(&event);
            if let Ok(TurnEvent::Notification(n)) = &event
                && let ServerNotification::ThreadGoalUpdated(g) = &**n
                && g.turn_id.is_some()
            {
                let snapshot = goal.snapshot();
                seen.along.push((
                    goal.turn_ids(),
                    snapshot.items.len(),
                    snapshot.status,
                    control.current_turn_id(),
                ));
            }
            let _ = tx.send(word.clone());
            seen.events.push(word);
        }
        (seen, goal.run().await)
    })
}

pub async fn ended(
    task: tokio::task::JoinHandle<(Seen, Result<GoalResult, Error>)>,
) -> (Seen, Result<GoalResult, Error>) {
    within(T, "the goal ends", task).await.unwrap()
}

/// Waits for the consumer to have yielded `word`.
pub async fn wait_event(rx: &mut mpsc::UnboundedReceiver<String>, word: &str) {
    within(T, word, async {
        while let Some(seen) = rx.recv().await {
            if seen == word {
                return;
            }
        }
        panic!("the goal ended before {word}");
    })
    .await
}

pub fn texts(result: &GoalResult) -> Vec<String> {
    result
        .turn
        .items
        .iter()
        .filter_map(|i| match i {
            codex_client::protocol::ThreadItem::AgentMessage(m) => Some(m.text.clone()),
            _ => None,
        })
        .collect()
}

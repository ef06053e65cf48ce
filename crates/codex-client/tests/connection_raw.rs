//! The raw JSON of what the connection core hands out, against a scriptable fake server on the
//! in-memory transport: a stream's raw items are the lines the server sent (fields no schema
//! names, envelope fields and escapes included), the typed and raw paths agree, gaps and the end
//! of a turn come through the raw path (one by one and in batches), a server request's raw
//! params, and a response's raw result.

mod common;
mod memory;

use codex_client::TurnEvent;
use codex_client::core::{
    ConnectionConfig, RawEvent, RawNotification, RequestOptions, SubscribeOptions, TurnStream,
};
use codex_client::protocol::methods::{ThreadLoadedList, TurnStart};
use codex_client::{Error, protocol};
use common::*;
use futures::StreamExt;
use memory::*;
use serde_json::json;
use serde_json::value::RawValue;
use std::time::Duration;

/// A delta with a field no schema names, an escaped id, an escaped method, a line without
/// params' siblings beyond the method: lines as a newer server could write them.
fn unusual_lines(thread: &str, turn: &str) -> Vec<String> {
    vec![
        format!(
            r#"{{"method":"item/agentMessage/delta","emittedAtMs":17,"params":{{"threadId":"{thread}","turnId":"{turn}","itemId":"i","delta":"a","notInAnySchema":{{"nested":[1,2.50,"x"]}}}}}}"#
        ),
        format!(
            r#"{{"params":{{"delta":"b","itemId":"i","turnId":"{turn}","threadId":"{thread}"}},"method":"item/agentMessage/delta"}}"#
        ),
        // An escaped id: the reader decodes this one at once (the eager path).
        format!(
            r#"{{"method":"item/agentMessage/delta","params":{{"threadId":"{thread}","turnId":"{}","itemId":"i","delta":"c\u00e9"}}}}"#,
            turn.replace('u', "\\u0075")
        ),
        // An escaped method: decoded at once too; the raw method is unescaped.
        format!(
            r#"{{"method":"turn\/completed","params":{{"threadId":"{thread}","turn":{{"id":"{turn}","items":[],"status":"completed","error":null,"newTurnField":true}}}}}}"#
        ),
    ]
}

/// The params text of a line, as a `serde_json` value (for comparing with a raw item).
fn params_of(line: &str) -> serde_json::Value {
    serde_json::from_str::<serde_json::Value>(line).unwrap()["params"].clone()
}

fn describe_raw(raw: &RawNotification) -> String {
    format!("{} {}", raw.method(), raw.params().unwrap_or("null"))
}

async fn next_in_time<T>(what: &str, f: impl std::future::Future<Output = Option<T>>) -> T {
    within(T, what, f)
        .await
        .unwrap_or_else(|| panic!("{what}: the stream ended"))
}

#[tokio::test]
async fn a_raw_notification_is_the_line_the_server_sent() {
    let (conn, mut peer) = connect(ConnectionConfig::default()).await;
    let lines = unusual_lines("th", "tu");
    let mut turn = start_turn_answered_by(&conn, &mut peer, "th", "tu", &lines).await;
    let mut raws = Vec::new();
    while let Some(event) = within(T, "a raw event", turn.next_raw()).await {
        let RawEvent::Notification(raw) = event.unwrap() else {
            panic!("only notifications were sent")
        };
        raws.push(raw);
    }
    assert_eq!(raws.len(), lines.len());
    for (raw, line) in raws.iter().zip(&lines) {
        assert_eq!(raw.line(), line, "byte for byte");
        assert_eq!(raw.to_string(), *line, "Display is the line");
        let params: serde_json::Value = serde_json::from_str(raw.params().unwrap()).unwrap();
        assert_eq!(params, params_of(line), "{}", describe_raw(raw));
        // The params text is valid JSON, exactly the line's.
        let as_raw: &RawValue = serde_json::from_str(raw.params().unwrap()).unwrap();
        assert!(line.contains(as_raw.get()));
    }
    assert_eq!(raws[0].method(), "item/agentMessage/delta");
    assert!(
        raws[0]
            .params()
            .unwrap()
            .contains(r#""notInAnySchema":{"nested":[1,2.50,"x"]}"#)
    );
    assert!(raws[2].params().unwrap().contains(r#""turnId":"t\u0075""#));
    assert_eq!(
        raws[3].method(),
        "turn/completed",
        "the escaped method, unescaped"
    );
    assert!(raws[3].params().unwrap().contains(r#""newTurnField":true"#));
    assert!(conn.stats().is_idle(), "{:?}", conn.stats());
}

#[tokio::test]
async fn with_raw_gives_the_typed_event_and_its_line() {
    let (conn, mut peer) = connect(ConnectionConfig::default()).await;
    let lines = unusual_lines("th", "tu");
    let mut turn = start_turn_answered_by(&conn, &mut peer, "th", "tu", &lines).await;
    let mut seen = 0;
    while let Some(item) = within(T, "an event", turn.next_with_raw()).await {
        let (event, raw) = item.unwrap();
        let TurnEvent::Notification(typed) = event else {
            panic!("only notifications were sent")
        };
        let raw = raw.expect("a notification has its line");
        assert_eq!(raw.line(), lines[seen]);
        assert_eq!(typed.method(), raw.method());
        let decoded = raw.decode().unwrap();
        assert_eq!(
            serde_json::to_value(&*typed).unwrap(),
            serde_json::to_value(&decoded).unwrap(),
            "the typed value is the raw line decoded"
        );
        seen += 1;
    }
    assert_eq!(seen, lines.len());
}

/// Two streams of one turn, one typed, one raw: the same events in the same order, and the raw
/// line decodes into the typed value.
#[tokio::test]
async fn the_typed_and_the_raw_path_agree() {
    let (conn, mut peer) = connect(ConnectionConfig::default()).await;
    let mut typed = start_turn_answered_by(&conn, &mut peer, "th", "tu", &[]).await;
    let mut raw = conn.subscribe_turn("tu");
    let mut sent = vec![turn_started("th", "tu")];
    sent.extend((0..50).map(|i| delta("th", "tu", &format!("d{i}"))));
    sent.extend(unusual_lines("th", "tu"));
    for line in &sent {
        peer.send(line.clone());
    }
    let mut typed_events = Vec::new();
    while let Some(event) = within(T, "typed", typed.next()).await {
        typed_events.push(event.unwrap());
    }
    let mut raw_events = Vec::new();
    while let Some(event) = within(T, "raw", raw.next_raw()).await {
        raw_events.push(event.unwrap());
    }
    assert_eq!(typed_events.len(), sent.len());
    assert_eq!(raw_events.len(), sent.len());
    for ((t, r), line) in typed_events.iter().zip(&raw_events).zip(&sent) {
        let n = t.notification().unwrap();
        let raw = r.notification().unwrap();
        assert_eq!(raw.line(), line);
        assert_eq!(n.method(), raw.method());
        assert_eq!(
            serde_json::to_value(n).unwrap(),
            serde_json::to_value(raw.decode().unwrap()).unwrap()
        );
        assert_eq!(t.is_turn_completed(), r.is_turn_completed());
    }
}

/// A stream whose consumer fell behind (no grace, a queue of 8) while the server sent 100
/// deltas and the turn's end.
async fn flooded_turn() -> (
    codex_client::core::Connection,
    codex_client::MemoryPeer,
    TurnStream,
) {
    let config = ConnectionConfig::default()
        .turn_queue_capacity(8)
        .slow_consumer_grace(Duration::ZERO);
    let (conn, mut peer) = connect(config).await;
    let stream = start_turn_answered_by(&conn, &mut peer, "th", "tu", &[]).await;
    for i in 0..100 {
        peer.send(delta("th", "tu", &i.to_string()));
    }
    peer.send(turn_completed("th", "tu"));
    sync(&conn, &mut peer).await;
    (conn, peer, stream)
}

/// (delivered notifications, lagged total, the last event was `turn/completed`).
fn tally(events: &[RawEvent]) -> (u64, u64, bool) {
    let delivered = events.iter().filter(|e| e.notification().is_some()).count() as u64;
    let lagged = events.iter().filter_map(RawEvent::lagged).sum();
    (
        delivered,
        lagged,
        events.last().is_some_and(RawEvent::is_turn_completed),
    )
}

#[tokio::test]
async fn a_gap_and_the_turns_end_come_through_the_raw_path() {
    let (_conn, _peer, mut stream) = flooded_turn().await;
    let mut events = Vec::new();
    while let Some(event) = within(T, "raw", stream.next_raw()).await {
        events.push(event.unwrap());
    }
    let (delivered, lagged, ended) = tally(&events);
    assert!(lagged > 0, "the consumer lagged: {events:?}");
    assert_eq!(delivered + lagged, 101, "{events:?}");
    assert!(ended, "the turn's end is never dropped: {events:?}");
}

#[tokio::test]
async fn a_batch_takes_everything_queued_and_keeps_the_end() {
    let (_conn, _peer, mut stream) = flooded_turn().await;
    let mut events = Vec::new();
    let mut calls = 0;
    while let Some(n) = within(T, "batch", stream.next_raw_batch(&mut events, 4)).await {
        let n = n.unwrap();
        assert!((1..=4).contains(&n), "{n}");
        calls += 1;
    }
    let (delivered, lagged, ended) = tally(&events);
    assert_eq!(delivered + lagged, 101, "{events:?}");
    assert!(lagged > 0 && ended, "{events:?}");
    assert_eq!(calls, events.len().div_ceil(4), "full batches but the last");

    // A large batch: everything queued in one call.
    let (_conn, _peer, mut stream) = flooded_turn().await;
    let mut all = Vec::new();
    let mut calls = 0;
    while let Some(n) = within(T, "batch", stream.next_raw_batch(&mut all, 1024)).await {
        n.unwrap();
        calls += 1;
    }
    assert!(
        calls <= 2,
        "the queue and the stream's batch: {calls} calls"
    );
    assert_eq!(tally(&all).0 + tally(&all).1, 101);
}

#[tokio::test]
async fn the_raw_path_ends_with_closed_when_the_connection_dies() {
    let (conn, mut peer) = connect(ConnectionConfig::default()).await;
    let mut turn = start_turn_answered_by(&conn, &mut peer, "th", "tu", &[]).await;
    let mut all = conn.notifications();
    peer.send(delta("th", "tu", "x"));
    peer.send(config_warning("w"));
    sync(&conn, &mut peer).await;
    peer.close();
    let mut batch = Vec::new();
    assert_eq!(
        turn.next_raw_batch(&mut batch, 8).await.unwrap().unwrap(),
        1
    );
    assert!(matches!(
        turn.next_raw_batch(&mut batch, 8).await,
        Some(Err(Error::Closed(_)))
    ));
    assert!(turn.next_raw().await.is_none());
    let Some(Ok(RawEvent::Notification(n))) = all.next_raw().await else {
        panic!("the warning")
    };
    assert_eq!(n.method(), "configWarning");
    assert!(matches!(all.next_raw().await, Some(Err(Error::Closed(_)))));
}

#[tokio::test]
async fn a_notification_stream_has_both_paths_and_a_gap_is_an_item_of_the_raw_one() {
    let config = ConnectionConfig::default()
        .subscription_queue_limits(4, 1 << 20)
        .slow_consumer_grace(Duration::ZERO);
    let (conn, mut peer) = connect(config).await;
    let mut typed = conn.subscribe_thread("th");
    let mut raw = conn.subscribe_thread("th");
    let line = r#"{"method":"thread/name/updated","params":{"threadId":"th","threadName":"n","unnamed":{"a":null}}}"#;
    peer.send(line);
    sync(&conn, &mut peer).await;
    let (n, r) = next_in_time("with raw", typed.next_with_raw())
        .await
        .unwrap();
    assert_eq!(r.line(), line);
    assert_eq!(n.thread_id(), Some("th"));
    let Ok(RawEvent::Notification(r)) = next_in_time("raw", raw.next_raw()).await else {
        panic!()
    };
    assert_eq!(
        r.params(),
        Some(r#"{"threadId":"th","threadName":"n","unnamed":{"a":null}}"#)
    );

    for _ in 0..20 {
        peer.send(thread_status_idle("th"));
    }
    sync(&conn, &mut peer).await;
    // Each queue kept 4 and missed 16, reported at the next event after the consumer took
    // what was queued: the typed path as Err(Lagged), the raw path as an Ok item.
    for _ in 0..4 {
        let n = next_in_time("typed", typed.next()).await.unwrap();
        assert_eq!(n.method(), "thread/status/changed");
    }
    let mut batch = Vec::new();
    let n = next_in_time("batch", raw.next_raw_batch(&mut batch, 64))
        .await
        .unwrap();
    assert_eq!(n, 4, "everything queued in one call: {batch:?}");
    peer.send(config_warning("after the gap"));
    peer.send(thread_status_idle("th"));
    sync(&conn, &mut peer).await;
    assert!(matches!(
        next_in_time("typed", typed.next()).await,
        Err(Error::Lagged(16))
    ));
    let n = next_in_time("batch", raw.next_raw_batch(&mut batch, 64))
        .await
        .unwrap();
    assert_eq!(n, 2, "{batch:?}");
    assert_eq!(batch[4].lagged(), Some(16), "{batch:?}");
    assert_eq!(
        batch[5].notification().unwrap().method(),
        "thread/status/changed"
    );
}

#[tokio::test]
async fn a_server_requests_raw_params_are_the_servers() {
    let (conn, mut peer) = connect(ConnectionConfig::default()).await;
    let c = conn.clone();
    let call = tokio::spawn(async move {
        c.request_turn::<TurnStart>(
            turn_start_params("th"),
            SubscribeOptions::new().server_requests(true),
            RequestOptions::new(),
        )
        .await
    });
    let (id, _, _) = next_request(&mut peer).await;
    respond(&peer, &id, turn_start_result("tu"));
    let (_, mut stream) = call.await.unwrap().unwrap();
    // An approval as the server writes it, plus a field no schema names.
    let mut request: serde_json::Value =
        serde_json::from_str(&command_approval_request(0, "th", "tu")).unwrap();
    request["params"]["futureHint"] = json!({"k": [1, 2.50]});
    let params = &request["params"].to_string();
    assert!(params.contains("futureHint"));
    peer.send(format!(
        r#"{{"id":7,"method":"item/commandExecution/requestApproval","params":{params}}}"#
    ));
    // The raw path: the request itself (answerable), its params as sent.
    let Ok(RawEvent::ServerRequest(request)) = next_in_time("raw", stream.next_raw()).await else {
        panic!("the approval")
    };
    assert_eq!(
        request.raw_params().map(RawValue::get),
        Some(params.as_str())
    );
    assert!(matches!(
        request.request(),
        protocol::ServerRequest::ItemCommandExecutionRequestApproval(_)
    ));
    request.decline().unwrap();
    assert_eq!(next_message(&mut peer).await["id"], 7);
    // The typed path: the same.
    peer.send(format!(
        r#"{{"id":8,"method":"item/commandExecution/requestApproval","params":{params}}}"#
    ));
    let (TurnEvent::ServerRequest(request), None) =
        next_in_time("typed", stream.next_with_raw()).await.unwrap()
    else {
        panic!("the approval, without a notification line")
    };
    assert_eq!(
        request.raw_params().map(RawValue::get),
        Some(params.as_str())
    );
    drop(request);
    assert_eq!(next_message(&mut peer).await["id"], 8);
}

#[tokio::test]
async fn a_typed_calls_raw_response_and_the_raw_json_call() {
    let (conn, mut peer) = connect(ConnectionConfig::default()).await;
    let c = conn.clone();
    let call = tokio::spawn(async move {
        c.request_and_raw::<ThreadLoadedList>(Default::default())
            .await
    });
    let (id, method, _) = next_request(&mut peer).await;
    assert_eq!(method, "thread/loaded/list");
    let result = r#"{"data":["a","b"],"nextCursor":null,"unnamedField":{"x":[true]}}"#;
    peer.send(format!(r#"{{"id":{id},"result":{result}}}"#));
    let (typed, raw) = call.await.unwrap().unwrap();
    assert_eq!(typed.data, ["a", "b"]);
    assert_eq!(raw.get(), result, "the result as sent");

    let c = conn.clone();
    let call = tokio::spawn(async move {
        let params = RawValue::from_string(r#"{"limit": 2}"#.to_owned()).unwrap();
        c.request_raw_json("thread/loaded/list", Some(params)).await
    });
    let (id, _, params) = next_request(&mut peer).await;
    assert_eq!(params, json!({"limit": 2}));
    peer.send(format!(r#"{{"id":{id},"result":{result}}}"#));
    assert_eq!(call.await.unwrap().unwrap().get(), result);

    // A typed call whose response does not decode is still an error.
    let c = conn.clone();
    let call = tokio::spawn(async move {
        c.request_and_raw::<ThreadLoadedList>(Default::default())
            .await
    });
    let (id, _, _) = next_request(&mut peer).await;
    peer.send(format!(r#"{{"id":{id},"result":{{"data":5}}}}"#));
    assert!(matches!(call.await.unwrap(), Err(Error::Decode { .. })));
}

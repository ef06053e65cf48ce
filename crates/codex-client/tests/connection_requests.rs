//! The connection core's requests and responses, against a scriptable fake server on the
//! in-memory transport: answers reach their callers in any order, the client's and the server's
//! request ids are separate, RPC errors are typed (overload retried), a request times out
//! without leaving a waiter, in-flight requests are bounded, garbage lines are skipped.

mod common;
mod memory;

use codex_client::Error;
use codex_client::core::{ConnectionConfig, RequestOptions};
use common::*;
use memory::*;
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn out_of_order_responses_reach_their_callers() {
    let (conn, mut peer) = connect(ConnectionConfig::default()).await;
    let mut calls = Vec::new();
    for i in 0..40 {
        let c = conn.clone();
        calls.push(tokio::spawn(async move {
            let v = c
                .request_raw("thread/loaded/list", Some(json!({"tag": i})))
                .await
                .unwrap();
            (i, v)
        }));
    }
    let mut requests = Vec::new();
    for _ in 0..40 {
        requests.push(next_request(&mut peer).await);
    }
    // Answer in reverse order, echoing the tag; a notification in between for good measure.
    for (n, (id, _, params)) in requests.iter().rev().enumerate() {
        respond(&peer, id, json!({"data": [], "tag": params["tag"]}));
        if n == 20 {
            peer.send(config_warning("hi"));
        }
    }
    for call in calls {
        let (i, v) = call.await.unwrap();
        assert_eq!(v["tag"], i);
    }
    assert_eq!(conn.stats().waiters, 0);
}

#[tokio::test]
async fn client_and_server_request_ids_are_separate_spaces() {
    let (conn, mut peer) = connect(ConnectionConfig::default()).await;
    let c = conn.clone();
    let call = tokio::spawn(async move { c.request_raw("thread/list", Some(json!({}))).await });
    let (id, _, _) = next_request(&mut peer).await;
    // A server request with the same numeric id as the client's pending request.
    peer.send(command_approval_request(id.as_i64().unwrap(), "th", "tu"));
    let answer = next_message(&mut peer).await;
    assert_eq!(answer["id"], id);
    assert_eq!(answer["result"], json!({"decision": "decline"}));
    respond(&peer, &id, json!({"data": []}));
    assert_eq!(call.await.unwrap().unwrap(), json!({"data": []}));
}

#[tokio::test]
async fn rpc_errors_are_typed_and_overload_is_recognized() {
    let (conn, mut peer) = connect(ConnectionConfig::default()).await;
    let c = conn.clone();
    let call = tokio::spawn(async move { c.request_raw("thread/list", Some(json!({}))).await });
    let (id, _, _) = next_request(&mut peer).await;
    respond_error(&peer, &id, -32001, "Server overloaded; retry later.");
    let err = call.await.unwrap().unwrap_err();
    assert!(err.is_overloaded() && err.is_retryable(), "{err}");
    assert_eq!(err.rpc_error().unwrap().code, -32001);
}

#[tokio::test]
async fn retry_on_overload_retries_until_the_server_accepts() {
    let (conn, mut peer) = connect(ConnectionConfig::default()).await;
    let c = conn.clone();
    let call = tokio::spawn(async move {
        codex_client::retry_on_overload(
            codex_client::RetryPolicy::new()
                .max_attempts(5)
                .initial_delay(Duration::from_millis(5)),
            || c.request_raw("thread/list", Some(json!({}))),
        )
        .await
    });
    for _ in 0..2 {
        let (id, _, _) = next_request(&mut peer).await;
        respond_error(&peer, &id, -32001, "Server overloaded; retry later.");
    }
    let (id, _, _) = next_request(&mut peer).await;
    respond(&peer, &id, json!({"ok": true}));
    assert_eq!(call.await.unwrap().unwrap(), json!({"ok": true}));
}

#[tokio::test]
async fn a_garbage_line_is_skipped_and_normal_traffic_goes_on() {
    let (conn, mut peer) = connect(ConnectionConfig::default()).await;
    let c = conn.clone();
    let call = tokio::spawn(async move { c.request_raw("thread/list", Some(json!({}))).await });
    let (id, _, _) = next_request(&mut peer).await;
    for garbage in [
        "this is not json",
        "[1,2,3]",
        "42",
        "{}",
        r#"{"id":999999,"result":{}}"#,
        r#"{"id":1,"error":"not an object"}"#,
        r#"{"id":1,"error":{"code":"x","message":"bad code"}}"#,
        "",
    ] {
        peer.send(garbage);
    }
    respond(&peer, &id, json!({"data": [1]}));
    assert_eq!(call.await.unwrap().unwrap(), json!({"data": [1]}));
    assert!(conn.malformed_lines() >= 6, "{}", conn.malformed_lines());
    assert!(conn.closed().is_none());
}

#[tokio::test]
async fn a_request_times_out_and_leaves_no_waiter() {
    let (conn, mut peer) = connect(ConnectionConfig::default()).await;
    let err = conn
        .request_raw_with(
            "thread/list",
            Some(json!({})),
            RequestOptions::new().timeout(Duration::from_millis(50)),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err}");
    assert_eq!(conn.stats().waiters, 0);
    // A late answer is skipped, not delivered to anyone.
    let (id, _, _) = next_request(&mut peer).await;
    respond(&peer, &id, json!({}));
    wait_until(|| conn.malformed_lines() == 1).await;
}

#[tokio::test]
async fn in_flight_requests_are_bounded() {
    let (conn, mut peer) = connect(ConnectionConfig::default().max_in_flight(2)).await;
    let mut calls = Vec::new();
    for i in 0..5 {
        let c = conn.clone();
        calls.push(tokio::spawn(async move {
            c.request_raw("thread/list", Some(json!({"i": i}))).await
        }));
    }
    let first = next_request(&mut peer).await;
    let second = next_request(&mut peer).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(peer.try_recv().is_none(), "only two requests in flight");
    respond(&peer, &first.0, json!({}));
    let third = next_request(&mut peer).await;
    respond(&peer, &second.0, json!({}));
    respond(&peer, &third.0, json!({}));
    for _ in 0..2 {
        let (id, _, _) = next_request(&mut peer).await;
        respond(&peer, &id, json!({}));
    }
    for call in calls {
        call.await.unwrap().unwrap();
    }
}

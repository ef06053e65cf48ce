//! The connection core's server requests and their answers, against a scriptable fake server on
//! the in-memory transport: the handler (custom, panicking, never returning), the fail-closed
//! answer of every kind, answers from a turn's stream, the timeout, `serverRequest/resolved`,
//! and ids that are unusable or still open.

mod common;
mod memory;

use codex_client::core::{ConnectionConfig, RequestOptions, SubscribeOptions, TurnStream};
use codex_client::{HandlerResult, ServerRequestHandler, TurnEvent};
use common::*;
use futures::StreamExt;
use memory::*;
use serde_json::json;
use std::time::Duration;

struct Panics;

impl ServerRequestHandler for Panics {
    async fn command_execution_approval(
        &self,
        _params: codex_client::protocol::CommandExecutionRequestApprovalParams,
    ) -> HandlerResult<codex_client::protocol::CommandExecutionRequestApprovalResponse> {
        panic!("handler bug");
    }
}

struct NeverReturns;

impl ServerRequestHandler for NeverReturns {
    async fn command_execution_approval(
        &self,
        _params: codex_client::protocol::CommandExecutionRequestApprovalParams,
    ) -> HandlerResult<codex_client::protocol::CommandExecutionRequestApprovalResponse> {
        std::future::pending().await
    }
}

struct Accepts;

impl ServerRequestHandler for Accepts {
    async fn command_execution_approval(
        &self,
        _params: codex_client::protocol::CommandExecutionRequestApprovalParams,
    ) -> HandlerResult<codex_client::protocol::CommandExecutionRequestApprovalResponse> {
        Ok(serde_json::from_value(json!({"decision": "accept"})).unwrap())
    }
}

#[tokio::test]
async fn a_panicking_handler_gives_the_fail_closed_answer_and_the_reader_goes_on() {
    let (conn, mut peer) = connect(ConnectionConfig::default().handler(Panics)).await;
    peer.send(command_approval_request(0, "th", "tu"));
    let answer = next_message(&mut peer).await;
    assert_eq!(answer, json!({"id": 0, "result": {"decision": "decline"}}));
    sync(&conn, &mut peer).await;
}

#[tokio::test]
async fn a_handler_that_never_returns_times_out_fail_closed() {
    let config = ConnectionConfig::default()
        .handler(NeverReturns)
        .server_request_timeout(Duration::from_millis(100));
    let (conn, mut peer) = connect(config).await;
    peer.send(command_approval_request(7, "th", "tu"));
    // Other traffic is not held up meanwhile.
    sync(&conn, &mut peer).await;
    let answer = next_message(&mut peer).await;
    assert_eq!(answer, json!({"id": 7, "result": {"decision": "decline"}}));
}

#[tokio::test]
async fn a_custom_handler_answers() {
    let (_conn, mut peer) = connect(ConnectionConfig::default().handler(Accepts)).await;
    peer.send(command_approval_request(3, "th", "tu"));
    assert_eq!(
        next_message(&mut peer).await,
        json!({"id": 3, "result": {"decision": "accept"}})
    );
}

#[tokio::test]
async fn default_answers_are_fail_closed_for_every_kind() {
    let (_conn, mut peer) = connect(ConnectionConfig::default()).await;
    let base = json!({"threadId": "th", "turnId": "tu", "itemId": "i", "startedAtMs": 1});
    let with = |extra: serde_json::Value| {
        let mut v = base.clone();
        v.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        v
    };
    let cases = vec![
        (
            "item/commandExecution/requestApproval",
            with(json!({})),
            Ok(json!({"decision": "decline"})),
        ),
        (
            "item/fileChange/requestApproval",
            with(json!({})),
            Ok(json!({"decision": "decline"})),
        ),
        (
            "item/tool/requestUserInput",
            with(json!({"questions": [], "isBlocking": true})),
            Ok(json!({"answers": {}})),
        ),
        (
            "mcpServer/elicitation/request",
            json!({"threadId": "th", "turnId": null, "serverName": "s", "mode": "url", "message": "m", "url": "http://127.0.0.1/", "elicitationId": "e"}),
            Ok(json!({"action": "decline"})),
        ),
        (
            "item/permissions/requestApproval",
            with(json!({"cwd": "/tmp", "permissions": {}})),
            Ok(json!({"permissions": {}})),
        ),
        (
            "item/tool/call",
            json!({"threadId": "th", "turnId": "tu", "callId": "c", "tool": "t", "arguments": {}}),
            Ok(json!({"contentItems": [], "success": false})),
        ),
        (
            "execCommandApproval",
            json!({"callId": "c", "conversationId": "th", "command": ["ls"], "cwd": "/tmp", "parsedCmd": []}),
            Ok(
                json!({"decision": {"denied": {"rejection": "declined by the client (no approval given)"}}}),
            ),
        ),
        (
            "applyPatchApproval",
            json!({"callId": "c", "conversationId": "th", "fileChanges": {}}),
            Ok(
                json!({"decision": {"denied": {"rejection": "declined by the client (no approval given)"}}}),
            ),
        ),
        (
            "account/chatgptAuthTokens/refresh",
            json!({"reason": "unauthorized"}),
            Err(-32000),
        ),
        ("attestation/generate", json!({}), Err(-32000)),
        ("some/future/request", json!({"x": 1}), Err(-32601)),
    ];
    for (i, (method, params, expected)) in cases.into_iter().enumerate() {
        peer.send_json(&json!({"id": i, "method": method, "params": params}));
        let answer = next_message(&mut peer).await;
        assert_eq!(answer["id"], i, "{method}: {answer}");
        match expected {
            Ok(result) => assert_eq!(answer["result"], result, "{method}: {answer}"),
            Err(code) => assert_eq!(answer["error"]["code"], code, "{method}: {answer}"),
        }
    }
}

#[tokio::test]
async fn a_turn_consumer_answers_its_own_server_requests() {
    let (conn, mut peer) = connect(ConnectionConfig::default()).await;
    let c = conn.clone();
    let call = tokio::spawn(async move {
        c.request_turn::<codex_client::protocol::methods::TurnStart>(
            turn_start_params("th"),
            SubscribeOptions::new().server_requests(true),
            RequestOptions::new(),
        )
        .await
    });
    let (id, _, _) = next_request(&mut peer).await;
    respond(&peer, &id, turn_start_result("tu"));
    let (_, mut stream) = call.await.unwrap().unwrap();
    peer.send(command_approval_request(5, "th", "tu"));
    let TurnEvent::ServerRequest(request) = stream.next().await.unwrap().unwrap() else {
        panic!("expected the approval in the stream");
    };
    assert_eq!(request.turn_id(), Some("tu"));
    request.accept().unwrap();
    assert_eq!(
        next_message(&mut peer).await,
        json!({"id": 5, "result": {"decision": "accept"}})
    );
    // Dropped unanswered: fail-closed.
    peer.send(command_approval_request(6, "th", "tu"));
    let item = stream.next().await.unwrap().unwrap();
    drop(item);
    assert_eq!(
        next_message(&mut peer).await,
        json!({"id": 6, "result": {"decision": "decline"}})
    );
    // A request of another turn goes to the handler (default: decline).
    peer.send(command_approval_request(8, "th", "other"));
    assert_eq!(
        next_message(&mut peer).await,
        json!({"id": 8, "result": {"decision": "decline"}})
    );
    // Dropping the stream with an unanswered request in its queue answers it too.
    peer.send(command_approval_request(9, "th", "tu"));
    sync(&conn, &mut peer).await;
    drop(stream);
    assert_eq!(
        next_message(&mut peer).await,
        json!({"id": 9, "result": {"decision": "decline"}})
    );
}

#[tokio::test]
async fn an_ignored_request_in_a_stream_is_answered_at_the_timeout() {
    let config = ConnectionConfig::default().server_request_timeout(Duration::from_millis(100));
    let (conn, mut peer) = connect(config).await;
    let c = conn.clone();
    let call = tokio::spawn(async move {
        c.request_turn::<codex_client::protocol::methods::TurnStart>(
            turn_start_params("th"),
            SubscribeOptions::new().server_requests(true),
            RequestOptions::new(),
        )
        .await
    });
    let (id, _, _) = next_request(&mut peer).await;
    respond(&peer, &id, turn_start_result("tu"));
    let (_, mut stream) = call.await.unwrap().unwrap();
    peer.send(command_approval_request(5, "th", "tu"));
    let TurnEvent::ServerRequest(request) = stream.next().await.unwrap().unwrap() else {
        panic!("expected the approval");
    };
    assert_eq!(
        next_message(&mut peer).await,
        json!({"id": 5, "result": {"decision": "decline"}})
    );
    assert!(
        request.accept().is_err(),
        "already answered by the watchdog"
    );
}

#[tokio::test]
async fn a_server_request_whose_params_do_not_decode_is_answered_fail_closed() {
    let (conn, mut peer) = connect(ConnectionConfig::default()).await;
    peer.send(
        r#"{"id":11,"method":"item/commandExecution/requestApproval","params":{"threadId":5}}"#,
    );
    assert_eq!(
        next_message(&mut peer).await,
        json!({"id": 11, "result": {"decision": "decline"}})
    );
    sync(&conn, &mut peer).await;
}

fn resolved(id: i64, thread: &str) -> String {
    notification(
        "serverRequest/resolved",
        json!({"threadId": thread, "requestId": id}),
    )
}

#[tokio::test]
async fn server_request_resolved_cancels_the_handler_and_answers_nothing() {
    let config = ConnectionConfig::default()
        .handler(NeverReturns)
        .server_request_timeout(Duration::from_millis(300));
    let (conn, mut peer) = connect(config).await;
    peer.send(command_approval_request(4, "th", "tu"));
    wait_until(|| conn.open_server_requests() == 1).await;
    peer.send(resolved(4, "th"));
    sync(&conn, &mut peer).await;
    assert_eq!(conn.open_server_requests(), 0);
    // Past the handler timeout: still no (fail-closed) answer for the resolved request.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        peer.try_recv().is_none(),
        "nothing is sent for a resolved request"
    );
}

#[tokio::test]
async fn a_resolved_request_in_a_stream_says_so_and_is_not_answered() {
    let (conn, mut peer) = connect(ConnectionConfig::default()).await;
    let c = conn.clone();
    let call = tokio::spawn(async move {
        c.request_turn::<codex_client::protocol::methods::TurnStart>(
            turn_start_params("th"),
            SubscribeOptions::new().server_requests(true),
            RequestOptions::new(),
        )
        .await
    });
    let (id, _, _) = next_request(&mut peer).await;
    respond(&peer, &id, turn_start_result("tu"));
    let (_, mut stream) = call.await.unwrap().unwrap();
    peer.send(command_approval_request(5, "th", "tu"));
    peer.send(resolved(5, "th"));
    let TurnEvent::ServerRequest(request) = stream.next().await.unwrap().unwrap() else {
        panic!("expected the approval");
    };
    sync(&conn, &mut peer).await;
    assert!(request.is_resolved());
    assert!(request.accept().is_err());
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(
        peer.try_recv().is_none(),
        "no answer for a resolved request"
    );
    assert_eq!(conn.open_server_requests(), 0);
}

/// A command approval of turn `tu` whose `id` member is `raw_id`, as written.
fn approval_with_raw_id(raw_id: &str) -> String {
    let line = command_approval_request(0, "th", "tu");
    assert_eq!(line.matches(r#""id":0"#).count(), 1);
    line.replace(r#""id":0"#, &format!(r#""id":{raw_id}"#))
}

/// A hostile server sends requests whose ids the client cannot use: each is answered with
/// JSON-RPC -32600 (the id echoed where it is a number, `null` otherwise), counted, and reaches
/// no handler; so is a request whose method is not a string; a string id is an id (answered
/// fail-closed, echoed); the connection goes on.
#[tokio::test]
async fn a_server_request_with_an_unusable_id_is_answered_invalid_request() {
    let (conn, mut peer) = connect(ConnectionConfig::default().handler(Accepts)).await;
    let cases = [
        ("18446744073709551615", json!(18446744073709551615u64)),
        ("1.5", json!(1.5)),
        ("null", json!(null)),
        ("{}", json!(null)),
        ("[1]", json!(null)),
        ("true", json!(null)),
    ];
    for (n, (raw, echoed)) in cases.iter().enumerate() {
        peer.send(approval_with_raw_id(raw));
        let answer = next_message(&mut peer).await;
        assert_eq!(answer["jsonrpc"], "2.0", "{answer}");
        assert_eq!(&answer["id"], echoed, "id {raw}: {answer}");
        assert_eq!(
            answer["error"]["code"],
            codex_client::INVALID_REQUEST_CODE,
            "{answer}"
        );
        assert!(
            answer.get("result").is_none(),
            "never a handler's answer: {answer}"
        );
        let line = serde_json::to_string(&answer).unwrap();
        if echoed.is_number() {
            assert!(
                line.contains(&format!(r#""id":{raw}"#)),
                "echoed as written: {line}"
            );
        }
        assert_eq!(conn.malformed_lines(), n as u64 + 1);
    }
    // A usable id but a method that is not a string: still a request, still answered.
    peer.send(r#"{"id":9,"method":7,"params":{}}"#);
    let answer = next_message(&mut peer).await;
    assert_eq!(answer["id"], 9, "{answer}");
    assert_eq!(
        answer["error"]["code"],
        codex_client::INVALID_REQUEST_CODE,
        "{answer}"
    );
    assert_eq!(conn.open_server_requests(), 0);
    peer.send(approval_with_raw_id(r#""srv-7""#));
    assert_eq!(
        next_message(&mut peer).await,
        json!({"id": "srv-7", "result": {"decision": "accept"}}),
        "a string id is an id: handled and echoed"
    );
    sync(&conn, &mut peer).await;
    assert_eq!(conn.malformed_lines(), cases.len() as u64 + 1);
    assert_eq!(conn.open_server_requests(), 0);
}

/// Starts turn `tu` on thread `th` with its server requests in its stream.
async fn turn_with_requests(
    conn: &codex_client::core::Connection,
    peer: &mut codex_client::MemoryPeer,
) -> TurnStream {
    let c = conn.clone();
    let call = tokio::spawn(async move {
        c.request_turn::<codex_client::protocol::methods::TurnStart>(
            turn_start_params("th"),
            SubscribeOptions::new().server_requests(true),
            RequestOptions::new(),
        )
        .await
    });
    let (id, _, _) = next_request(peer).await;
    respond(peer, &id, turn_start_result("tu"));
    call.await.unwrap().unwrap().1
}

/// Two requests with id 5 while the first is open: the second is refused with -32600 at once
/// (never shown to the consumer), the first stays tracked and is the one answered; the count
/// is exact throughout, and id 5 can be used again once the first is answered.
#[tokio::test]
async fn a_duplicate_server_request_id_is_refused_and_the_first_stays_tracked() {
    let (conn, mut peer) = connect(ConnectionConfig::default()).await;
    let mut stream = turn_with_requests(&conn, &mut peer).await;
    peer.send(command_approval_request(5, "th", "tu"));
    wait_until(|| conn.open_server_requests() == 1).await;
    peer.send(command_approval_request(5, "th", "tu"));
    let refusal = next_message(&mut peer).await;
    assert_eq!(refusal["id"], 5, "{refusal}");
    assert_eq!(
        refusal["error"]["code"],
        codex_client::INVALID_REQUEST_CODE,
        "{refusal}"
    );
    assert!(
        refusal["error"]["message"]
            .as_str()
            .unwrap()
            .contains("duplicate"),
        "{refusal}"
    );
    assert_eq!(
        conn.open_server_requests(),
        1,
        "one open request, not two, not zero"
    );
    assert_eq!(conn.malformed_lines(), 1);
    let TurnEvent::ServerRequest(first) = stream.next().await.unwrap().unwrap() else {
        panic!("the first request")
    };
    first.accept().unwrap();
    assert_eq!(
        next_message(&mut peer).await,
        json!({"id": 5, "result": {"decision": "accept"}})
    );
    assert_eq!(conn.open_server_requests(), 0);
    peer.send(command_approval_request(5, "th", "tu"));
    let TurnEvent::ServerRequest(again) = stream.next().await.unwrap().unwrap() else {
        panic!("the duplicate was not delivered; the new request with the reused id is")
    };
    assert_eq!(conn.open_server_requests(), 1);
    again.decline().unwrap();
    assert_eq!(
        next_message(&mut peer).await,
        json!({"id": 5, "result": {"decision": "decline"}})
    );
    assert_eq!(conn.open_server_requests(), 0);
}

/// `serverRequest/resolved` for an id that was sent twice settles the one open request with
/// that id (the first; the duplicate was refused and never tracked): `is_resolved()` true, the
/// count back to 0, and nothing more is written for it.
#[tokio::test]
async fn resolved_for_a_duplicated_id_settles_the_one_open_request() {
    let config = ConnectionConfig::default().server_request_timeout(Duration::from_millis(300));
    let (conn, mut peer) = connect(config).await;
    let mut stream = turn_with_requests(&conn, &mut peer).await;
    peer.send(command_approval_request(5, "th", "tu"));
    peer.send(command_approval_request(5, "th", "tu"));
    assert_eq!(next_message(&mut peer).await["error"]["code"], -32600);
    let TurnEvent::ServerRequest(first) = stream.next().await.unwrap().unwrap() else {
        panic!("the first request")
    };
    assert_eq!(conn.open_server_requests(), 1);
    peer.send(resolved(5, "th"));
    sync(&conn, &mut peer).await;
    assert!(first.is_resolved());
    assert_eq!(conn.open_server_requests(), 0);
    // Past the server-request timeout: no fail-closed answer for the resolved request either.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        peer.try_recv().is_none(),
        "nothing written for a resolved request"
    );
    assert!(first.accept().is_err());
    peer.send(turn_completed("th", "tu"));
    assert_eq!(drain(stream).await, ["turn/completed"]);
}

//! Tests of the mock model on its own, over real HTTP on loopback: the SSE it streams, the
//! requests it records, scripting order, HTTP errors, pacing, stalls (release, client disconnect,
//! shutdown).

use bytes::Bytes;
use codex_client_testkit::{ExecCommand, Matcher, MockModel, MockResponse, StallGate};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

const TIMEOUT: Duration = Duration::from_secs(10);

/// A Responses-API request body whose latest user message is `text`.
fn body(text: &str) -> Value {
    json!({
        "model": "mock-model",
        "stream": true,
        "input": [
            {"type": "message", "role": "developer", "content": [{"type": "input_text", "text": "base prompt"}]},
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "<environment_context/>"}]},
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]},
        ],
    })
}

/// Sends one request over a fresh HTTP/1.1 connection; returns the response with a streaming body.
async fn send(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &Value,
) -> Response<Incoming> {
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(connection);
    let mut request = Request::builder()
        .method(method)
        .uri(path)
        .header("host", addr.to_string())
        .header("content-type", "application/json");
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let request = request
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap();
    sender.send_request(request).await.unwrap()
}

async fn post(mock: &MockModel, body: &Value) -> Response<Incoming> {
    send(mock.addr(), "POST", "/v1/responses", &[], body).await
}

/// Reads a whole SSE body into `(event, data)` pairs.
async fn read_events(response: Response<Incoming>) -> Vec<(String, Value)> {
    let bytes = tokio::time::timeout(TIMEOUT, response.into_body().collect())
        .await
        .expect("the stream ends")
        .unwrap()
        .to_bytes();
    parse_events(std::str::from_utf8(&bytes).unwrap())
}

fn parse_events(text: &str) -> Vec<(String, Value)> {
    text.split("\n\n")
        .filter(|block| !block.trim().is_empty())
        .map(|block| {
            let mut event = None;
            let mut data = None;
            for line in block.lines() {
                if let Some(e) = line.strip_prefix("event: ") {
                    event = Some(e.to_owned());
                } else if let Some(d) = line.strip_prefix("data: ") {
                    data = Some(serde_json::from_str::<Value>(d).unwrap());
                }
            }
            let (event, data) = (event.unwrap(), data.unwrap());
            assert_eq!(data["type"], event.as_str(), "event name = data.type");
            (event, data)
        })
        .collect()
}

fn names(events: &[(String, Value)]) -> Vec<&str> {
    events.iter().map(|(e, _)| e.as_str()).collect()
}

/// Reads body frames until `want` bytes of text contain `needle`.
async fn read_until(body: &mut Incoming, seen: &mut String, needle: &str) {
    while !seen.contains(needle) {
        let frame = tokio::time::timeout(TIMEOUT, body.frame())
            .await
            .expect("a frame in time")
            .expect("the stream is still open")
            .unwrap();
        if let Ok(data) = frame.into_data() {
            seen.push_str(std::str::from_utf8(&data).unwrap());
        }
    }
}

#[tokio::test]
async fn streams_an_assistant_message_as_sse() {
    let mock = MockModel::start().await.unwrap();
    mock.push(MockResponse::deltas(["Hello ", "world"]));
    let response = post(&mock, &body("Say hello")).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let events = read_events(response).await;
    assert_eq!(
        names(&events),
        [
            "response.created",
            "response.output_item.added",
            "response.content_part.added",
            "response.output_text.delta",
            "response.output_text.delta",
            "response.output_text.done",
            "response.output_item.done",
            "response.completed",
        ]
    );
    assert_eq!(events[0].1["response"]["id"], "resp_mock_1");
    assert_eq!(events[1].1["item"]["role"], "assistant");
    assert_eq!(events[3].1["delta"], "Hello ");
    assert_eq!(events[4].1["delta"], "world");
    assert_eq!(events[5].1["text"], "Hello world");
    assert_eq!(events[6].1["item"]["content"][0]["text"], "Hello world");
    assert_eq!(events[6].1["item"]["id"], events[3].1["item_id"]);
    assert_eq!(events[7].1["response"]["usage"]["total_tokens"], 15);
}

#[tokio::test]
async fn records_every_request() {
    let mock = MockModel::start().await.unwrap();
    let response = send(
        mock.addr(),
        "POST",
        "/v1/responses",
        &[("session-id", "thr_1"), ("originator", "tests")],
        &body("first"),
    )
    .await;
    read_events(response).await;
    let response = post(&mock, &body("second")).await;
    read_events(response).await;

    let requests = mock.wait_for_requests(2, TIMEOUT).await.unwrap();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].index, 0);
    assert_eq!(requests[0].method, "POST");
    assert_eq!(requests[0].path, "/v1/responses");
    assert_eq!(requests[0].session_id(), Some("thr_1"));
    assert_eq!(requests[0].header("ORIGINATOR"), Some("tests"));
    assert_eq!(requests[0].body["model"], "mock-model");
    assert_eq!(requests[0].last_user_text().as_deref(), Some("first"));
    assert_eq!(
        requests[0].user_texts(),
        ["<environment_context/>", "first"]
    );
    assert_eq!(requests[1].index, 1);
    assert_eq!(mock.last_user_text().as_deref(), Some("second"));
    assert_eq!(mock.request_count(), 2);
}

#[tokio::test]
async fn forgotten_requests_free_their_bodies_but_keep_counting() {
    let mock = MockModel::start().await.unwrap();
    for text in ["one", "two"] {
        read_events(post(&mock, &body(text)).await).await;
    }
    mock.wait_for_requests(2, TIMEOUT).await.unwrap();
    mock.forget_requests();
    assert!(mock.requests().is_empty());
    assert_eq!(mock.last_user_text(), None);
    assert_eq!(mock.request_count(), 2, "forgotten requests still count");

    read_events(post(&mock, &body("three")).await).await;
    let third = mock.wait_for_request(2, TIMEOUT).await.unwrap();
    assert_eq!(third.index, 2, "indices stay absolute");
    assert_eq!(third.last_user_text().as_deref(), Some("three"));
    assert_eq!(mock.requests().len(), 1);
    assert_eq!(mock.request_count(), 3);
    let forgotten = mock.wait_for_request(0, TIMEOUT).await.unwrap_err();
    assert!(
        forgotten.to_string().contains("forget_requests"),
        "{forgotten}"
    );
}

#[tokio::test]
async fn answers_with_the_default_when_nothing_is_scripted() {
    let mock = MockModel::start().await.unwrap();
    let events = read_events(post(&mock, &body("anything")).await).await;
    let text = &events
        .iter()
        .find(|(e, _)| e == "response.output_text.done")
        .unwrap()
        .1["text"];
    assert_eq!(
        text.as_str(),
        MockModel::default_response().text().as_deref()
    );

    mock.set_default(MockResponse::message("new default"));
    let events = read_events(post(&mock, &body("anything")).await).await;
    assert_eq!(events[3].1["delta"], "new default");
}

#[tokio::test]
async fn routes_come_before_the_queue_and_are_used_up() {
    let mock = MockModel::start().await.unwrap();
    mock.push(MockResponse::message("queued 1"));
    mock.push(MockResponse::message("queued 2"));
    mock.route(
        Matcher::user_text_contains("[b]"),
        MockResponse::message("routed b"),
    );
    mock.route_always(
        Matcher::session_id("thr_s"),
        MockResponse::message("session"),
    );

    let text_of = |events: Vec<(String, Value)>| {
        events
            .into_iter()
            .find(|(e, _)| e == "response.output_text.done")
            .map(|(_, d)| d["text"].as_str().unwrap().to_owned())
            .unwrap()
    };
    let addr = mock.addr();
    let post_with = |text: &'static str, session: &'static str| async move {
        read_events(
            send(
                addr,
                "POST",
                "/v1/responses",
                &[("session-id", session)],
                &body(text),
            )
            .await,
        )
        .await
    };
    assert_eq!(text_of(post_with("[b] go", "x").await), "routed b");
    assert_eq!(
        text_of(post_with("[b] again", "x").await),
        "queued 1",
        "the route was used up"
    );
    assert_eq!(text_of(post_with("hi", "thr_s").await), "session");
    assert_eq!(
        text_of(post_with("hi", "thr_s").await),
        "session",
        "route_always stays"
    );
    assert_eq!(text_of(post_with("hi", "y").await), "queued 2");
}

#[tokio::test]
async fn route_sequence_scripts_a_tool_call_and_its_follow_up() {
    let mock = MockModel::start().await.unwrap();
    mock.route_sequence(
        Matcher::user_text_contains("[tool]"),
        [
            ExecCommand::new("touch x").escalated("needs it").into(),
            MockResponse::message("done"),
        ],
    );
    let events = read_events(post(&mock, &body("[tool] run")).await).await;
    assert_eq!(
        names(&events),
        [
            "response.created",
            "response.output_item.added",
            "response.output_item.done",
            "response.completed",
        ]
    );
    let item = &events[2].1["item"];
    assert_eq!(item["type"], "function_call");
    assert_eq!(item["name"], "exec_command");
    assert_eq!(item["call_id"], "call_mock_1");
    let args: Value = serde_json::from_str(item["arguments"].as_str().unwrap()).unwrap();
    assert_eq!(
        args,
        json!({"cmd": "touch x", "yield_time_ms": 2000,
               "sandbox_permissions": "require_escalated", "justification": "needs it"})
    );

    // The follow-up keeps the user text and ends with the tool output.
    let mut follow_up = body("[tool] run");
    let input = follow_up["input"].as_array_mut().unwrap();
    input.push(json!({"type": "function_call", "call_id": "call_mock_1", "name": "exec_command", "arguments": "{}"}));
    input.push(json!({"type": "function_call_output", "call_id": "call_mock_1", "output": "ok"}));
    let events = read_events(post(&mock, &follow_up).await).await;
    assert_eq!(events[3].1["delta"], "done");
    let recorded = mock.wait_for_request(1, TIMEOUT).await.unwrap();
    assert!(recorded.ends_with_tool_output());
    assert_eq!(
        recorded.function_call_outputs(),
        [("call_mock_1".to_owned(), "ok".to_owned())]
    );
}

#[tokio::test]
async fn http_error_has_its_status_and_a_json_body() {
    let mock = MockModel::start().await.unwrap();
    mock.push(MockResponse::http_error(500, "mock forced HTTP 500"));
    let response = post(&mock, &body("x")).await;
    assert_eq!(response.status(), 500);
    assert_eq!(response.headers()["content-type"], "application/json");
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let body: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(
        body,
        json!({"error": {"message": "mock forced HTTP 500", "type": "server_error", "code": null}})
    );
}

#[tokio::test]
async fn response_failed_in_the_stream() {
    let mock = MockModel::start().await.unwrap();
    mock.push(MockResponse::response_failed("mock forced response.failed"));
    let response = post(&mock, &body("x")).await;
    assert_eq!(response.status(), 200);
    let events = read_events(response).await;
    assert_eq!(names(&events), ["response.created", "response.failed"]);
    assert_eq!(events[1].1["response"]["status"], "failed");
    assert_eq!(
        events[1].1["response"]["error"],
        json!({"code": "server_error", "message": "mock forced response.failed"})
    );
}

#[tokio::test]
async fn pacing_spaces_the_deltas() {
    let mock = MockModel::start().await.unwrap();
    let delay = Duration::from_millis(40);
    mock.push(MockResponse::deltas(["a", "b", "c"]).with_delay(delay));
    let started = Instant::now();
    let events = read_events(post(&mock, &body("x")).await).await;
    assert_eq!(events.len(), 9);
    // Three deltas and the closing event are each preceded by a delay.
    assert!(started.elapsed() >= delay * 4, "{:?}", started.elapsed());
}

#[tokio::test]
async fn stalled_stream_waits_for_release() {
    let mock = MockModel::start().await.unwrap();
    let gate = StallGate::new();
    mock.push(MockResponse::stalled(["partial ", "text"], &gate));
    let mut body_stream = post(&mock, &body("x")).await.into_body();
    let mut seen = String::new();
    read_until(&mut body_stream, &mut seen, "\"delta\":\"text\"").await;
    assert!(gate.wait_stalled(1, TIMEOUT).await);
    assert!(!seen.contains("response.output_text.done"));
    // Nothing more comes while the gate is closed.
    let more = tokio::time::timeout(Duration::from_millis(100), body_stream.frame()).await;
    assert!(more.is_err(), "the stream must stay stalled: {more:?}");

    gate.release();
    let rest = tokio::time::timeout(TIMEOUT, body_stream.collect())
        .await
        .unwrap()
        .unwrap()
        .to_bytes();
    seen.push_str(std::str::from_utf8(&rest).unwrap());
    let events = parse_events(&seen);
    assert_eq!(names(&events).last(), Some(&"response.completed"));
    assert_eq!(events[5].1["text"], "partial text");
    assert_eq!(gate.disconnected(), 0);
}

#[tokio::test]
async fn client_disconnect_ends_a_stalled_stream() {
    let mock = MockModel::start().await.unwrap();
    let gate = StallGate::new();
    mock.push(MockResponse::stalled(["partial"], &gate));
    let mut body_stream = post(&mock, &body("x")).await.into_body();
    let mut seen = String::new();
    read_until(&mut body_stream, &mut seen, "\"delta\":\"partial\"").await;
    assert!(gate.wait_stalled(1, TIMEOUT).await);
    drop(body_stream);
    assert!(
        gate.wait_disconnected(1, TIMEOUT).await,
        "the mock notices that the client went away"
    );
}

#[tokio::test]
async fn dropping_the_mock_ends_stalled_streams_and_closes_the_port() {
    let mock = MockModel::start().await.unwrap();
    let addr = mock.addr();
    let gate = StallGate::new();
    mock.push(MockResponse::stalled(["partial"], &gate));
    let mut body_stream = post(&mock, &body("x")).await.into_body();
    let mut seen = String::new();
    read_until(&mut body_stream, &mut seen, "\"delta\":\"partial\"").await;
    assert!(gate.wait_stalled(1, TIMEOUT).await);

    drop(mock);
    // The stalled body ends (cleanly or with an error) instead of hanging.
    let end = tokio::time::timeout(TIMEOUT, async {
        loop {
            match body_stream.frame().await {
                Some(Ok(_)) => continue,
                other => return other.map(|r| r.map(|_| ())),
            }
        }
    })
    .await;
    assert!(end.is_ok(), "the stream ended when the mock was dropped");
    assert!(!gate.is_released());
    // The listener is gone.
    let refused = tokio::time::timeout(TIMEOUT, async {
        loop {
            if tokio::net::TcpStream::connect(addr).await.is_err() {
                return;
            }
            tokio::task::yield_now().await;
        }
    })
    .await;
    assert!(refused.is_ok(), "connections are refused after drop");
}

#[tokio::test]
async fn other_paths_get_404_and_are_recorded() {
    let mock = MockModel::start().await.unwrap();
    let response = send(mock.addr(), "GET", "/v1/models", &[], &json!(null)).await;
    assert_eq!(response.status(), 404);
    let requests = mock.wait_for_requests(1, TIMEOUT).await.unwrap();
    assert_eq!(requests[0].method, "GET");
    assert_eq!(requests[0].path, "/v1/models");
}

#[tokio::test]
async fn waiting_for_requests_times_out_then_succeeds() {
    let mock = MockModel::start().await.unwrap();
    let err = mock
        .wait_for_requests(1, Duration::from_millis(30))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("0 received"), "{err}");

    let addr = mock.addr();
    let client = tokio::spawn(async move {
        read_events(send(addr, "POST", "/v1/responses", &[], &body("late")).await).await
    });
    let request = mock.wait_for_request(0, TIMEOUT).await.unwrap();
    assert_eq!(request.last_user_text().as_deref(), Some("late"));
    client.await.unwrap();
}

#[tokio::test]
async fn concurrent_requests_are_answered_in_parallel() {
    let mock = MockModel::start().await.unwrap();
    let gate = StallGate::new();
    mock.route(
        Matcher::user_text_contains("[a]"),
        MockResponse::stalled(["a"], &gate),
    );
    mock.route(
        Matcher::user_text_contains("[b]"),
        MockResponse::stalled(["b"], &gate),
    );
    let addr = mock.addr();
    let a = tokio::spawn(async move {
        read_events(send(addr, "POST", "/v1/responses", &[], &body("[a]")).await).await
    });
    let b = tokio::spawn(async move {
        read_events(send(addr, "POST", "/v1/responses", &[], &body("[b]")).await).await
    });
    assert!(
        gate.wait_stalled(2, TIMEOUT).await,
        "both streams open at once"
    );
    gate.release();
    let (a, b) = (a.await.unwrap(), b.await.unwrap());
    assert_eq!(a[3].1["delta"], "a");
    assert_eq!(b[3].1["delta"], "b");
}

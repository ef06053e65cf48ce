//! Forward compatibility: what a newer app-server may send (new methods, fields, enum values,
//! union tags) decodes without error and keeps the raw data; real errors still fail.

use codex_client_protocol::{
    CodexErrorInfo, ErrorNotification, ItemCompletedNotification, MessagePhase, ServerNotification,
    ServerRequest, SessionSource, ThreadItem, ThreadStatus, TurnStatus,
};
use serde_json::value::RawValue;
use serde_json::{Value, json};

fn raw(v: &Value) -> Box<RawValue> {
    RawValue::from_string(v.to_string()).unwrap()
}

fn decode(method: &str, params: Value) -> ServerNotification {
    ServerNotification::decode(method, Some(&raw(&params))).unwrap()
}

#[test]
fn unknown_notification_method_keeps_method_and_params() {
    let params = json!({"threadId": "T", "turn": {"id": "U"}, "brandNew": [1, 2]});
    let n = decode("brand/new", params.clone());
    assert_eq!(
        n,
        ServerNotification::Unknown {
            method: "brand/new".into(),
            params
        }
    );
    assert_eq!(n.method(), "brand/new");
    assert_eq!((n.thread_id(), n.turn_id()), (Some("T"), Some("U")));

    let n = ServerNotification::decode("no/params", None).unwrap();
    assert_eq!(
        n,
        ServerNotification::Unknown {
            method: "no/params".into(),
            params: Value::Null
        }
    );
    assert_eq!(n.thread_id(), None);
}

#[test]
fn unknown_server_request_method_keeps_method_and_params() {
    let params = json!({"conversationId": "T", "x": true});
    let r = ServerRequest::decode("item/brandNew/requestApproval", Some(&raw(&params))).unwrap();
    assert_eq!(
        r,
        ServerRequest::Unknown {
            method: "item/brandNew/requestApproval".into(),
            params
        }
    );
    assert_eq!((r.thread_id(), r.turn_id()), (Some("T"), None));
}

#[test]
fn unknown_fields_are_ignored() {
    let n = decode(
        "item/agentMessage/delta",
        json!({"threadId": "T", "turnId": "U", "itemId": "m", "delta": "hi", "futureField": {"a": 1}}),
    );
    let ServerNotification::ItemAgentMessageDelta(d) = n else {
        panic!("{n:?}")
    };
    assert_eq!(d.delta, "hi");
}

fn turn(status: &str) -> Value {
    json!({"id": "U", "items": [], "status": status, "error": null, "startedAt": null, "completedAt": null, "durationMs": null})
}

#[test]
fn unknown_string_enum_values_are_kept() {
    let n = decode(
        "turn/completed",
        json!({"threadId": "T", "turn": turn("paused")}),
    );
    let ServerNotification::TurnCompleted(done) = &n else {
        panic!("{n:?}")
    };
    assert_eq!(done.turn.status, TurnStatus::Unknown("paused".into()));
    assert_eq!(done.turn.status.as_str(), "paused");
    assert_eq!(
        serde_json::to_value(&done.turn.status).unwrap(),
        json!("paused")
    );

    let n = decode(
        "turn/completed",
        json!({"threadId": "T", "turn": turn("interrupted")}),
    );
    let ServerNotification::TurnCompleted(done) = &n else {
        panic!("{n:?}")
    };
    assert_eq!(done.turn.status, TurnStatus::Interrupted);

    let item = json!({"type": "agentMessage", "id": "m", "text": "t", "phase": "draft_answer"});
    let ThreadItem::AgentMessage(m) = serde_json::from_value(item).unwrap() else {
        panic!()
    };
    assert_eq!(m.phase, Some(MessagePhase::Unknown("draft_answer".into())));
    let item = json!({"type": "agentMessage", "id": "m", "text": "t", "phase": "final_answer"});
    let ThreadItem::AgentMessage(m) = serde_json::from_value(item).unwrap() else {
        panic!()
    };
    assert_eq!(m.phase, Some(MessagePhase::FinalAnswer));

    let status: ThreadStatus = serde_json::from_value(
        json!({"type": "active", "activeFlags": ["waitingOnApproval", "waitingOnMoon"]}),
    )
    .unwrap();
    let ThreadStatus::Active(active) = &status else {
        panic!("{status:?}")
    };
    assert_eq!(active.active_flags[1].as_str(), "waitingOnMoon");
    assert_eq!(
        serde_json::to_value(&status).unwrap(),
        json!({"type": "active", "activeFlags": ["waitingOnApproval", "waitingOnMoon"]})
    );
}

#[test]
fn unknown_thread_item_type_is_kept_raw() {
    let item = json!({"type": "hologram", "id": "h1", "frames": [1, 2, 3]});
    let n = decode(
        "item/completed",
        json!({"threadId": "T", "turnId": "U", "completedAtMs": 1, "item": item.clone()}),
    );
    let ServerNotification::ItemCompleted(completed) = &n else {
        panic!("{n:?}")
    };
    let ItemCompletedNotification { item: got, .. } = &**completed;
    assert_eq!(got, &ThreadItem::Unknown(item.clone()));
    assert_eq!(got.tag(), "hologram");
    assert_eq!(got.id(), Some("h1"));
    assert_eq!(serde_json::to_value(got).unwrap(), item);
    assert_eq!(n.turn_id(), Some("U"));
}

#[test]
fn known_union_tag_with_a_bad_payload_is_an_error() {
    // `agentMessage` without its required `text`: a real error, not an Unknown.
    let params = json!({"threadId": "T", "turnId": "U", "completedAtMs": 1, "item": {"type": "agentMessage", "id": "m"}});
    let err = ServerNotification::decode("item/completed", Some(&raw(&params))).unwrap_err();
    assert_eq!(err.method, "item/completed");
    assert!(err.to_string().contains("text"), "{err}");
    // a union value without its tag is an error too
    assert!(serde_json::from_value::<ThreadItem>(json!({"id": "m"})).is_err());
    // and so is a known method whose params miss a required field
    assert!(
        ServerNotification::decode("turn/started", Some(&raw(&json!({"threadId": "T"})))).is_err()
    );
}

fn error_info(info: Value) -> Option<CodexErrorInfo> {
    let params = json!({"threadId": "T", "turnId": "U", "willRetry": false,
        "error": {"message": "boom", "codexErrorInfo": info, "additionalDetails": null}});
    let ServerNotification::Error(notification) = decode("error", params) else {
        panic!()
    };
    let ErrorNotification { error, .. } = *notification;
    error.codex_error_info
}

#[test]
fn codex_error_info_known_and_unknown() {
    assert_eq!(
        error_info(json!("serverOverloaded")),
        Some(CodexErrorInfo::ServerOverloaded)
    );
    let Some(CodexErrorInfo::HttpConnectionFailed(h)) =
        error_info(json!({"httpConnectionFailed": {"httpStatusCode": 502}}))
    else {
        panic!()
    };
    assert_eq!(h.http_status_code, Some(502));
    assert_eq!(
        error_info(json!("quotaMoon")),
        Some(CodexErrorInfo::Unknown(json!("quotaMoon")))
    );
    let novel = json!({"moonPhaseMismatch": {"phase": 3}});
    let got = error_info(novel.clone()).unwrap();
    assert_eq!(got, CodexErrorInfo::Unknown(novel.clone()));
    assert_eq!(serde_json::to_value(&got).unwrap(), novel);
    assert_eq!(error_info(Value::Null), None);
    // known key with a bad payload is an error
    let params = json!({"threadId": "T", "turnId": "U", "willRetry": false,
        "error": {"message": "m", "codexErrorInfo": {"activeTurnNotSteerable": {"turnKind": 5}}}});
    assert!(ServerNotification::decode("error", Some(&raw(&params))).is_err());
}

#[test]
fn catch_all_does_not_shadow_a_real_unknown_value() {
    // SessionSource has a real `unknown` value; its catch-all is `Unrecognized`.
    assert_eq!(
        serde_json::from_value::<SessionSource>(json!("unknown")).unwrap(),
        SessionSource::Unknown
    );
    assert_eq!(
        serde_json::from_value::<SessionSource>(json!("satellite")).unwrap(),
        SessionSource::Unrecognized(json!("satellite"))
    );
    let custom = serde_json::from_value::<SessionSource>(json!({"custom": "x"})).unwrap();
    assert_eq!(custom, SessionSource::Custom("x".into()));
    assert_eq!(
        serde_json::to_value(&custom).unwrap(),
        json!({"custom": "x"})
    );
}

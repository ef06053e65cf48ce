//! Envelope classification and encoding: every kind of line, id shapes, `emittedAtMs`, a
//! tolerated `jsonrpc` member, and the errors for lines that are not messages.

use codex_client_protocol::envelope::{
    EnvelopeErrorKind, Incoming, RequestId, RpcError, encode_error_response, encode_notification,
    encode_request, encode_response,
};
use std::borrow::Cow;

fn kind(line: &str) -> EnvelopeErrorKind {
    Incoming::parse(line).unwrap_err().kind()
}

#[test]
fn response_with_int_string_and_large_ids() {
    for (line, id) in [
        (r#"{"id":1,"result":{}}"#, RequestId::Integer(1)),
        (r#"{"id":-3,"result":{}}"#, RequestId::Integer(-3)),
        (
            r#"{"id":9007199254740993,"result":{}}"#,
            RequestId::Integer(9007199254740993),
        ),
        (
            r#"{"id":9223372036854775807,"result":{}}"#,
            RequestId::Integer(i64::MAX),
        ),
        (
            r#"{"id":"abc","result":{}}"#,
            RequestId::String("abc".into()),
        ),
        (r#"{"id":"","result":{}}"#, RequestId::String(String::new())),
        (
            r#"{"id":"a\"b","result":{}}"#,
            RequestId::String("a\"b".into()),
        ),
    ] {
        let Incoming::Response { id: got, result } = Incoming::parse(line).unwrap() else {
            panic!("{line}")
        };
        assert_eq!(got, id, "{line}");
        assert_eq!(result.get(), "{}");
    }
}

#[test]
fn response_result_may_be_null_and_keys_come_in_any_order() {
    let Incoming::Response { id, result } = Incoming::parse(r#"{"result":null,"id":4}"#).unwrap()
    else {
        panic!()
    };
    assert_eq!((id, result.get()), (RequestId::Integer(4), "null"));
    let Incoming::Response { result, .. } =
        Incoming::parse(r#" { "result" : [1, 2] , "id" : 5 } "#).unwrap()
    else {
        panic!()
    };
    assert_eq!(result.get(), "[1, 2]");
}

#[test]
fn error_response() {
    let line = r#"{"error":{"code":-32001,"message":"Server overloaded; retry later.","data":{"retryAfterMs":5}},"id":"x"}"#;
    let Incoming::Error { id, error } = Incoming::parse(line).unwrap() else {
        panic!()
    };
    assert_eq!(id, RequestId::from("x"));
    assert_eq!(error.code, -32001);
    assert_eq!(error.data, Some(serde_json::json!({"retryAfterMs": 5})));
}

#[test]
fn notification_with_emitted_at_ms_and_borrowed_method() {
    let line = r#"{"method":"turn/started","params":{"threadId":"T"},"emittedAtMs":1795500601834}"#;
    let Incoming::Notification {
        method,
        params,
        emitted_at_ms,
    } = Incoming::parse(line).unwrap()
    else {
        panic!()
    };
    assert!(matches!(method, Cow::Borrowed("turn/started")));
    assert_eq!(params.unwrap().get(), r#"{"threadId":"T"}"#);
    assert_eq!(emitted_at_ms, Some(1795500601834));

    let Incoming::Notification {
        params,
        emitted_at_ms,
        ..
    } = Incoming::parse(r#"{"method":"x"}"#).unwrap()
    else {
        panic!()
    };
    assert!(params.is_none() && emitted_at_ms.is_none());
    let Incoming::Notification { params, .. } =
        Incoming::parse(r#"{"method":"x","params":null}"#).unwrap()
    else {
        panic!()
    };
    assert!(params.is_none());
    // an escaped method is unescaped (owned)
    let Incoming::Notification { method, .. } = Incoming::parse(r#"{"method":"a\/b"}"#).unwrap()
    else {
        panic!()
    };
    assert_eq!(method, "a/b");
}

#[test]
fn server_request() {
    let line = r#"{"method":"item/tool/requestUserInput","id":0,"params":{"threadId":"T"}}"#;
    let Incoming::Request { id, method, params } = Incoming::parse(line).unwrap() else {
        panic!()
    };
    assert_eq!(
        (id, &*method),
        (RequestId::Integer(0), "item/tool/requestUserInput")
    );
    assert!(params.is_some());
}

#[test]
fn jsonrpc_and_other_unknown_members_are_ignored() {
    let line = r#"{"jsonrpc":"2.0","id":1,"result":true,"trace":{"traceparent":"00-x"},"extra":[1,{"a":2}]}"#;
    assert!(matches!(
        Incoming::parse(line).unwrap(),
        Incoming::Response { .. }
    ));
    let line = r#"{"jsonrpc":"2.0","method":"warning","params":{"message":"m"}}"#;
    assert!(matches!(
        Incoming::parse(line).unwrap(),
        Incoming::Notification { .. }
    ));
}

#[test]
fn lines_that_are_not_messages() {
    assert_eq!(kind(""), EnvelopeErrorKind::NotJson);
    assert_eq!(kind("not json"), EnvelopeErrorKind::NotJson);
    assert_eq!(kind(r#"{"id":1,"result":"#), EnvelopeErrorKind::NotJson);
    assert_eq!(
        kind(r#"[{"id":1,"result":{}}]"#),
        EnvelopeErrorKind::NotAnObject
    );
    assert_eq!(kind("42"), EnvelopeErrorKind::NotAnObject);
    assert_eq!(kind(r#""hello""#), EnvelopeErrorKind::NotAnObject);
    assert_eq!(kind("null"), EnvelopeErrorKind::NotAnObject);
    assert_eq!(kind("{}"), EnvelopeErrorKind::Unclassifiable);
    assert_eq!(kind(r#"{"id":1}"#), EnvelopeErrorKind::Unclassifiable);
    assert_eq!(kind(r#"{"params":{}}"#), EnvelopeErrorKind::Unclassifiable);
    assert_eq!(
        kind(r#"{"id":1.5,"result":{}}"#),
        EnvelopeErrorKind::InvalidId
    );
    assert_eq!(
        kind(r#"{"id":null,"result":{}}"#),
        EnvelopeErrorKind::InvalidId
    );
    assert_eq!(
        kind(r#"{"id":true,"method":"x"}"#),
        EnvelopeErrorKind::InvalidId
    );
    assert_eq!(
        kind(r#"{"id":18446744073709551615,"result":{}}"#),
        EnvelopeErrorKind::InvalidId
    );
    assert_eq!(
        kind(r#"{"id":1,"error":{"code":"bad","message":"m"}}"#),
        EnvelopeErrorKind::InvalidError
    );
    assert_eq!(
        kind(r#"{"id":1,"error":{"code":1.5,"message":"m"}}"#),
        EnvelopeErrorKind::InvalidError
    );
    assert_eq!(
        kind(r#"{"id":1,"error":{"message":"m"}}"#),
        EnvelopeErrorKind::InvalidError
    );
    assert_eq!(
        kind(r#"{"id":1,"error":{"code":1}}"#),
        EnvelopeErrorKind::InvalidError
    );
    assert_eq!(
        kind(r#"{"id":1,"error":"boom"}"#),
        EnvelopeErrorKind::InvalidError
    );
    assert_eq!(kind(r#"{"method":7}"#), EnvelopeErrorKind::InvalidMember);
    assert_eq!(
        kind(r#"{"method":"x","emittedAtMs":"soon"}"#),
        EnvelopeErrorKind::InvalidMember
    );
    assert_eq!(
        kind(r#"{"id":1,"id":2,"result":{}}"#),
        EnvelopeErrorKind::InvalidMember
    );
    // the message says what is wrong
    let err = Incoming::parse(r#"{"id":1,"error":{"code":"bad","message":"m"}}"#).unwrap_err();
    assert!(err.to_string().starts_with("invalid error object"), "{err}");
}

#[test]
fn encoding() {
    let id = RequestId::from("r-1");
    assert_eq!(
        encode_request(
            &id,
            "thread/read",
            Some(&serde_json::json!({"threadId": "T"}))
        )
        .unwrap(),
        r#"{"id":"r-1","method":"thread/read","params":{"threadId":"T"}}"#
    );
    assert_eq!(
        encode_request(&RequestId::from(1), "account/logout", None::<&()>).unwrap(),
        r#"{"id":1,"method":"account/logout"}"#
    );
    assert_eq!(
        encode_notification("initialized", None::<&()>).unwrap(),
        r#"{"method":"initialized"}"#
    );
    assert_eq!(
        encode_response(&RequestId::from(0), &serde_json::json!({})).unwrap(),
        r#"{"id":0,"result":{}}"#
    );
    let error = RpcError {
        code: -32000,
        message: "no handler".into(),
        data: Some(serde_json::json!(1)),
    };
    let line = encode_error_response(&RequestId::from(9), &error).unwrap();
    assert_eq!(
        line,
        r#"{"id":9,"error":{"code":-32000,"message":"no handler","data":1}}"#
    );
    // what we encode, we parse back
    let Incoming::Error { id, error: back } = Incoming::parse(&line).unwrap() else {
        panic!()
    };
    assert_eq!((id, back), (RequestId::from(9), error));
}

#[test]
fn request_id_conversions_and_display() {
    assert_eq!(RequestId::from(3).to_string(), "3");
    assert_eq!(RequestId::from("3").to_string(), "\"3\"");
    assert_eq!(
        RequestId::from(String::from("s")),
        RequestId::String("s".into())
    );
    assert_ne!(RequestId::from(3), RequestId::from("3"));
    assert_eq!(serde_json::to_string(&RequestId::from(-1)).unwrap(), "-1");
}

/// A server request whose id is not a `RequestId` keeps its raw id, so that the client can
/// answer it (-32600); string ids are ids.
#[test]
fn a_request_with_an_unusable_id_keeps_the_raw_id_for_the_answer() {
    for id in [
        "18446744073709551615",
        "1.5",
        "null",
        "{}",
        "[1]",
        "true",
        "-1e3",
    ] {
        let line = format!(r#"{{"id":{id},"method":"item/tool/call","params":{{}}}}"#);
        let err = Incoming::parse(&line).unwrap_err();
        assert_eq!(err.kind(), EnvelopeErrorKind::InvalidId, "{line}");
        assert_eq!(err.request_id(), Some(id), "{line}");
    }
    // A request with a usable id but another bad member still needs its answer.
    for (line, id) in [
        (r#"{"id":5,"method":7}"#, "5"),
        (r#"{"id":"a","method":"x","emittedAtMs":"soon"}"#, r#""a""#),
        (r#"{"id":[2],"method":{}}"#, "[2]"),
    ] {
        let err = Incoming::parse(line).unwrap_err();
        assert_eq!(err.kind(), EnvelopeErrorKind::InvalidMember, "{line}");
        assert_eq!(err.request_id(), Some(id), "{line}");
    }
    for line in [
        r#"{"id":1.5,"result":{}}"#,
        r#"{"id":null,"error":{"code":1,"message":"m"}}"#,
        r#"{"method":7}"#,
        r#"{"id":1,"id":2,"method":"x"}"#,
        r#"{"id":5,"result":{},"emittedAtMs":"soon"}"#,
        "{}",
    ] {
        assert_eq!(
            Incoming::parse(line).unwrap_err().request_id(),
            None,
            "{line}"
        );
    }
    let Incoming::Request { id, .. } =
        Incoming::parse(r#"{"id":"srv-1","method":"item/tool/call"}"#).unwrap()
    else {
        panic!()
    };
    assert_eq!(id, RequestId::from("srv-1"));
}

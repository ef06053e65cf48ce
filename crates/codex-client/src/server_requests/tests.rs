use super::*;
use crate::proto::server_methods::{self as m, METHODS};
use crate::proto::{
    CommandExecutionRequestApprovalResponse, FileChangeApprovalDecision,
    FileChangeRequestApprovalParams, FileChangeRequestApprovalResponse,
    PermissionsRequestApprovalResponse,
};
use futures::executor::block_on;

/// Fails when the protocol crate's list of server requests (the schema's) and the generated
/// handler side disagree: a request without a handler method or a fail-closed answer, or a
/// generated row for a request the schema does not have.
#[test]
fn every_server_request_of_the_schema_has_a_handler_method_and_a_fail_closed_answer() {
    for method in METHODS {
        let row = generated::SCHEMA
            .iter()
            .find(|r| r.method == *method)
            .unwrap_or_else(|| {
                panic!("`{method}` has no handler method (run `cargo xtask codegen`)")
            });
        assert!(!row.handler.is_empty());
        match fail_closed_answer(method) {
            Ok(_) => (row.fail_closed)().unwrap_or_else(|e| {
                panic!("the fail-closed answer of `{method}` is no valid response: {e:?}")
            }),
            Err(e) => {
                assert_eq!(
                    e.code, NO_HANDLER_CODE,
                    "`{method}` has no fail-closed answer"
                );
                assert_eq!((row.fail_closed)().unwrap_err().code, NO_HANDLER_CODE);
            }
        }
    }
    for row in generated::SCHEMA {
        assert!(
            METHODS.contains(&row.method),
            "`{}` is not in the schema",
            row.method
        );
    }
    assert_eq!(generated::SCHEMA.len(), METHODS.len());
}

/// With the default handler, a request of every kind (params sampled from the schema) is
/// dispatched to its own handler method — not to `unknown` — and gets its fail-closed answer.
#[test]
fn every_request_is_dispatched_to_its_method_and_answered_fail_closed_by_default() {
    for row in generated::SCHEMA {
        let request = ServerRequest::decode_str(row.method, Some(row.params))
            .unwrap_or_else(|e| panic!("the sample of `{}` does not decode: {e}", row.method));
        assert!(
            !matches!(request, ServerRequest::Unknown { .. }),
            "{}",
            row.method
        );
        let answer = block_on(ErasedHandler::handle(&FailClosed, request));
        match (answer, fail_closed_answer(row.method)) {
            (Ok(got), Ok(want)) => assert_eq!(got, want, "{}", row.method),
            (Err(got), Err(want)) => {
                assert_eq!(got.code, NO_HANDLER_CODE, "{}", row.method);
                assert_eq!(got.message, want.message);
            }
            (got, want) => panic!("`{}`: {got:?}, expected {want:?}", row.method),
        }
    }
}

/// A handler's own method answers its request; the others keep their fail-closed default.
#[test]
fn an_implemented_method_answers_and_the_rest_stay_fail_closed() {
    struct AcceptFileChanges;
    impl ServerRequestHandler for AcceptFileChanges {
        async fn file_change_approval(
            &self,
            _params: FileChangeRequestApprovalParams,
        ) -> HandlerResult<FileChangeRequestApprovalResponse> {
            Ok(FileChangeRequestApprovalResponse {
                decision: FileChangeApprovalDecision::Accept,
            })
        }
    }
    let sample = |method: &str| {
        let row = generated::SCHEMA
            .iter()
            .find(|r| r.method == method)
            .unwrap();
        ServerRequest::decode_str(method, Some(row.params)).unwrap()
    };
    let file_change = sample(<m::ItemFileChangeRequestApproval as ServerRequestMethod>::METHOD);
    let command = sample(<m::ItemCommandExecutionRequestApproval as ServerRequestMethod>::METHOD);
    let handler = AcceptFileChanges;
    assert_eq!(
        block_on(ErasedHandler::handle(&handler, file_change)).unwrap(),
        json!({"decision": "accept"})
    );
    assert_eq!(
        block_on(ErasedHandler::handle(&handler, command)).unwrap(),
        json!({"decision": "decline"})
    );
    let unknown = ServerRequest::decode_str("some/future/request", Some("{}")).unwrap();
    let err = block_on(ErasedHandler::handle(&handler, unknown)).unwrap_err();
    assert_eq!(err.code, UNKNOWN_METHOD_CODE);
}

#[test]
fn typed_answers_round_trip_to_the_exact_wire_shape() {
    let typed: CommandExecutionRequestApprovalResponse =
        fail_closed_typed::<m::ItemCommandExecutionRequestApproval>().unwrap();
    assert_eq!(
        serde_json::to_value(typed).unwrap(),
        json!({"decision": "decline"})
    );
    let typed: PermissionsRequestApprovalResponse =
        fail_closed_typed::<m::ItemPermissionsRequestApproval>().unwrap();
    let value = serde_json::to_value(typed).unwrap();
    assert_eq!(value["permissions"], json!({}), "{value}");
}

/// `accept` has a "yes" for the approvals only, and it is a valid answer of each.
#[test]
fn only_approvals_have_an_accept_answer() {
    let approvals = [
        <m::ItemCommandExecutionRequestApproval as ServerRequestMethod>::METHOD,
        <m::ItemFileChangeRequestApproval as ServerRequestMethod>::METHOD,
        <m::ApplyPatchApproval as ServerRequestMethod>::METHOD,
        <m::ExecCommandApproval as ServerRequestMethod>::METHOD,
    ];
    for method in METHODS {
        assert_eq!(
            accept_of(method).is_some(),
            approvals.contains(method),
            "{method}"
        );
    }
    let accept = accept_of(approvals[0]).unwrap();
    let typed: CommandExecutionRequestApprovalResponse = serde_json::from_value(accept).unwrap();
    assert_eq!(
        serde_json::to_value(typed).unwrap(),
        json!({"decision": "accept"})
    );
    assert!(accept_of("some/future/request").is_none());
}

//! What the client sends — params of client methods and answers to server requests — built as
//! typed values with realistic contents, serialized, and validated against the matching
//! definition of the pinned schema with the `jsonschema` crate.

use codex_client_protocol::*;
use serde::Serialize;
use serde_json::{Map, Value, json};
use std::path::Path;
use std::sync::OnceLock;

/// Every definition of the schema directory, by name (the v2 bundle, then the per-file schemas
/// of the v1 and server-request types and their private definitions).
fn definitions() -> &'static Map<String, Value> {
    static DEFS: OnceLock<Map<String, Value>> = OnceLock::new();
    DEFS.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("schema");
        let read = |p: &Path| -> Value {
            serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
        };
        let mut defs = read(&dir.join("codex_app_server_protocol.v2.schemas.json"))["definitions"]
            .as_object()
            .unwrap()
            .clone();
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .chain(std::fs::read_dir(dir.join("v1")).unwrap())
            .map(|e| e.unwrap().path())
            .filter(|p| {
                let n = p.file_name().unwrap().to_string_lossy();
                (n.ends_with("Params.json") || n.ends_with("Response.json"))
                    && !n.starts_with("JSONRPC")
            })
            .collect();
        files.sort();
        for f in files {
            let mut root = read(&f);
            if let Some(Value::Object(d)) = root.as_object_mut().unwrap().remove("definitions") {
                for (k, v) in d {
                    defs.entry(k).or_insert(v);
                }
            }
            let stem = f.file_stem().unwrap().to_string_lossy().into_owned();
            defs.entry(stem).or_insert(root);
        }
        defs
    })
}

/// Serializes `value` and validates it against the schema definition `name`.
#[track_caller]
fn check<T: Serialize>(name: &str, value: &T) -> Value {
    let defs = definitions();
    assert!(defs.contains_key(name), "no definition {name}");
    let schema = json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$ref": format!("#/definitions/{name}"),
        "definitions": defs,
    });
    let validator = jsonschema::validator_for(&schema).unwrap();
    let instance = serde_json::to_value(value).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&instance)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{name} {instance}:\n{}",
        errors.join("\n")
    );
    instance
}

/// A typed value from minimal JSON (for types with many optional fields and no `Default`).
fn from<T: serde::de::DeserializeOwned>(v: Value) -> T {
    serde_json::from_value(v).unwrap()
}

#[test]
fn thread_start_params() {
    let params = ThreadStartParams {
        model: Some("gpt-5".into()),
        cwd: Some("/tmp/work".into()),
        approval_policy: Some(AskForApproval::OnRequest),
        sandbox: Some(SandboxMode::WorkspaceWrite),
        developer_instructions: Some("Be brief.".into()),
        ephemeral: Some(true),
        ..Default::default()
    };
    let v = check("ThreadStartParams", &params);
    assert_eq!(
        v,
        json!({"model": "gpt-5", "cwd": "/tmp/work", "approvalPolicy": "on-request", "sandbox": "workspace-write",
               "developerInstructions": "Be brief.", "ephemeral": true})
    );
    let granular = ThreadStartParams {
        approval_policy: Some(AskForApproval::Granular(GranularAskForApproval {
            mcp_elicitations: true,
            request_permissions: false,
            rules: true,
            sandbox_approval: false,
            skill_approval: true,
        })),
        ..Default::default()
    };
    let v = check("ThreadStartParams", &granular);
    assert_eq!(
        v["approvalPolicy"]["granular"]["skill_approval"],
        json!(true)
    );
    check("ThreadStartParams", &ThreadStartParams::default());
}

#[test]
fn turn_start_params_with_text_and_images() {
    let mut params: TurnStartParams = from(json!({"threadId": "thr_1", "input": []}));
    params.input = vec![
        UserInput::Text(TextUserInput {
            text: "Describe these pictures".into(),
            text_elements: vec![],
        }),
        UserInput::Image(ImageUserInput {
            detail: Some(ImageDetail::High),
            source: ImageUserInputSource::Url {
                url: "https://example.com/cat.png".into(),
            },
        }),
        UserInput::LocalImage(LocalImageUserInput {
            detail: None,
            path: "/tmp/work/dog.png".into(),
        }),
    ];
    params.model = Some("gpt-5".into());
    params.sandbox_policy = Some(SandboxPolicy::DangerFullAccess);
    params.output_schema = Some(json!({"type": "object"}));
    let v = check("TurnStartParams", &params);
    assert_eq!(
        v["input"][0],
        json!({"type": "text", "text": "Describe these pictures"})
    );
    assert_eq!(
        v["input"][1],
        json!({"type": "image", "detail": "high", "url": "https://example.com/cat.png"})
    );
    assert_eq!(
        v["input"][2],
        json!({"type": "localImage", "path": "/tmp/work/dog.png"})
    );
    assert_eq!(v["sandboxPolicy"], json!({"type": "dangerFullAccess"}));
    // and it reads back to the same value
    assert_eq!(from::<TurnStartParams>(v), params);
}

#[test]
fn turn_interrupt_and_steer_params() {
    let v = check(
        "TurnInterruptParams",
        &TurnInterruptParams {
            thread_id: "thr_1".into(),
            turn_id: "turn_1".into(),
        },
    );
    assert_eq!(v, json!({"threadId": "thr_1", "turnId": "turn_1"}));
    let steer = TurnSteerParams {
        client_user_message_id: None,
        expected_turn_id: "turn_1".into(),
        input: vec![UserInput::Text(TextUserInput {
            text: "also update the tests".into(),
            text_elements: vec![],
        })],
        thread_id: "thr_1".into(),
        #[cfg(feature = "experimental")]
        additional_context: None,
        #[cfg(feature = "experimental")]
        responsesapi_client_metadata: None,
    };
    check("TurnSteerParams", &steer);
}

#[test]
fn command_exec_and_login_params() {
    let mut exec: CommandExecParams = from(json!({"command": []}));
    exec.command = vec!["ls".into(), "-la".into()];
    exec.cwd = Some("/tmp/work".into());
    exec.timeout_ms = Some(10_000);
    exec.env = Some(
        [
            ("LANG".to_string(), Some("C".to_string())),
            ("HOME".to_string(), None),
        ]
        .into_iter()
        .collect(),
    );
    exec.sandbox_policy = Some(from(json!({"type": "readOnly"})));
    let v = check("CommandExecParams", &exec);
    assert_eq!(v["env"], json!({"HOME": null, "LANG": "C"}));

    let login = LoginAccountParams::ApiKey(ApiKeyLoginAccountParams {
        api_key: "sk-test".into(),
    });
    assert_eq!(
        check("LoginAccountParams", &login),
        json!({"type": "apiKey", "apiKey": "sk-test"})
    );
    assert_eq!(
        check("LoginAccountParams", &LoginAccountParams::ChatgptDeviceCode),
        json!({"type": "chatgptDeviceCode"})
    );
}

#[test]
fn command_execution_approval_answers() {
    use CommandExecutionApprovalDecision as D;
    for (decision, wire) in [
        (D::Accept, json!("accept")),
        (D::AcceptForSession, json!("acceptForSession")),
        (D::Decline, json!("decline")),
        (D::Cancel, json!("cancel")),
        (
            D::AcceptWithExecpolicyAmendment(
                AcceptWithExecpolicyAmendmentCommandExecutionApprovalDecision {
                    execpolicy_amendment: vec!["touch".into()],
                },
            ),
            json!({"acceptWithExecpolicyAmendment": {"execpolicy_amendment": ["touch"]}}),
        ),
    ] {
        let answer = CommandExecutionRequestApprovalResponse { decision };
        assert_eq!(
            check("CommandExecutionRequestApprovalResponse", &answer),
            json!({"decision": wire})
        );
    }
    let answer = FileChangeRequestApprovalResponse {
        decision: FileChangeApprovalDecision::Decline,
    };
    check("FileChangeRequestApprovalResponse", &answer);
}

#[test]
fn other_server_request_answers() {
    let empty_grant = PermissionsRequestApprovalResponse {
        permissions: GrantedPermissionProfile::default(),
        scope: None,
        strict_auto_review: None,
    };
    assert_eq!(
        check("PermissionsRequestApprovalResponse", &empty_grant),
        json!({"permissions": {}})
    );
    let session_grant = PermissionsRequestApprovalResponse {
        scope: Some(PermissionGrantScope::Session),
        ..empty_grant
    };
    check("PermissionsRequestApprovalResponse", &session_grant);

    let decline = McpServerElicitationRequestResponse {
        meta: None,
        action: McpServerElicitationAction::Decline,
        content: None,
    };
    assert_eq!(
        check("McpServerElicitationRequestResponse", &decline),
        json!({"action": "decline"})
    );
    let accept = McpServerElicitationRequestResponse {
        meta: Some(json!({"source": "sdk"})),
        action: McpServerElicitationAction::Accept,
        content: Some(json!({"name": "x"})),
    };
    check("McpServerElicitationRequestResponse", &accept);

    let answers = ToolRequestUserInputResponse {
        answers: [(
            "q1".to_string(),
            ToolRequestUserInputAnswer {
                answers: vec!["yes".into()],
            },
        )]
        .into_iter()
        .collect(),
    };
    assert_eq!(
        check("ToolRequestUserInputResponse", &answers),
        json!({"answers": {"q1": {"answers": ["yes"]}}})
    );
    check(
        "ToolRequestUserInputResponse",
        &ToolRequestUserInputResponse {
            answers: Default::default(),
        },
    );

    let tool = DynamicToolCallResponse {
        content_items: vec![DynamicToolCallOutputContentItem::InputText(
            InputTextDynamicToolCallOutputContentItem { text: "42".into() },
        )],
        success: true,
    };
    assert_eq!(
        check("DynamicToolCallResponse", &tool),
        json!({"contentItems": [{"type": "inputText", "text": "42"}], "success": true})
    );

    let legacy = ExecCommandApprovalResponse {
        decision: ReviewDecision::Denied(from(json!({"rejection": "no"}))),
    };
    assert_eq!(
        check("ExecCommandApprovalResponse", &legacy),
        json!({"decision": {"denied": {"rejection": "no"}}})
    );
    check(
        "ApplyPatchApprovalResponse",
        &ApplyPatchApprovalResponse {
            decision: ReviewDecision::Abort,
        },
    );
}

#[test]
fn initialize_params() {
    let params: InitializeParams =
        from(json!({"clientInfo": {"name": "codex-client", "version": "0.163.0"}}));
    let v = check("InitializeParams", &params);
    assert_eq!(v["clientInfo"]["name"], json!("codex-client"));
}

#[test]
fn patch_params_keep_absent_and_null_apart() {
    let params = ThreadMetadataUpdateParams {
        thread_id: "thr_1".into(),
        git_info: Some(ThreadMetadataGitInfoUpdateParams {
            branch: Some(None),               // clear it
            sha: Some(Some("abc123".into())), // replace it
            origin_url: None,                 // leave it
        }),
        #[cfg(feature = "experimental")]
        daybreak_enabled: None,
        #[cfg(feature = "experimental")]
        project_id: None,
    };
    let v = check("ThreadMetadataUpdateParams", &params);
    assert_eq!(
        v,
        json!({"threadId": "thr_1", "gitInfo": {"branch": null, "sha": "abc123"}})
    );
    assert_eq!(from::<ThreadMetadataUpdateParams>(v), params);
}

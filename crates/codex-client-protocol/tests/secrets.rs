//! Credentials in the wire types: sent as they are, never shown by `Debug`.

use codex_client_protocol::types::{
    AmazonBedrockAccessKeysLoginAccountParams, ApiKeyLoginAccountParams,
    ChatgptAuthTokensLoginAccountParams, LoginAccountParams,
};
use serde_json::json;

const KEY: &str = "sk-test-1234567890-secret";

#[test]
fn an_api_key_goes_on_the_wire_but_not_into_debug_output() {
    let params: LoginAccountParams =
        serde_json::from_value(json!({"type": "apiKey", "apiKey": KEY})).unwrap();
    assert!(serde_json::to_string(&params).unwrap().contains(KEY));

    let debug = format!("{params:?} {params:#?}");
    assert!(!debug.contains(KEY), "{debug}");
    assert!(debug.contains("[REDACTED]"), "{debug}");

    let direct: ApiKeyLoginAccountParams = serde_json::from_value(json!({"apiKey": KEY})).unwrap();
    assert!(!format!("{direct:?}").contains(KEY));
}

#[test]
fn every_credential_field_of_a_struct_is_redacted_and_the_rest_is_shown() {
    let params: AmazonBedrockAccessKeysLoginAccountParams = serde_json::from_value(json!({
        "accessKeyId": "AKIA-visible",
        "secretAccessKey": KEY,
        "sessionToken": "session-secret-token",
        "region": "us-east-1",
    }))
    .unwrap();
    let debug = format!("{params:?}");
    assert!(
        !debug.contains(KEY) && !debug.contains("session-secret-token"),
        "{debug}"
    );
    assert!(
        debug.contains("AKIA-visible") && debug.contains("us-east-1"),
        "{debug}"
    );

    let tokens: ChatgptAuthTokensLoginAccountParams = serde_json::from_value(json!({
        "accessToken": KEY,
        "chatgptAccountId": "acct-visible",
    }))
    .unwrap();
    let debug = format!("{tokens:?}");
    assert!(
        !debug.contains(KEY) && debug.contains("acct-visible"),
        "{debug}"
    );
}

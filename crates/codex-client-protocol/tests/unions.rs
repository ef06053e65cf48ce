//! Untagged unions decode to the variant their data names (discriminating values, required
//! fields, fewest unknown fields), and objects that allow extra keys keep them.

use codex_client_protocol::{
    AnalyticsConfig, Config, McpElicitationEnumSchema, McpElicitationPrimitiveSchema,
    McpElicitationSingleSelectEnumSchema, ResourceContent,
};
use serde_json::{Value, json};

fn primitive(v: Value) -> McpElicitationPrimitiveSchema {
    let decoded: McpElicitationPrimitiveSchema = serde_json::from_value(v.clone()).unwrap();
    assert_eq!(
        serde_json::to_value(&decoded).unwrap(),
        v,
        "round trip of {v}"
    );
    decoded
}

#[test]
fn an_elicitation_property_decodes_by_its_type() {
    // Was the String variant with `type: Unknown("boolean")`.
    assert!(matches!(
        primitive(json!({"type": "boolean", "title": "Confident?"})),
        McpElicitationPrimitiveSchema::McpElicitationBooleanSchema(_)
    ));
    // Was the String variant, serialized back as `{"type":"number"}`.
    let McpElicitationPrimitiveSchema::McpElicitationNumberSchema(n) =
        primitive(json!({"type": "number", "minimum": 1.0, "maximum": 5.0}))
    else {
        panic!("not the number variant")
    };
    assert_eq!((n.minimum, n.maximum), (Some(1.0), Some(5.0)));
    assert!(matches!(
        primitive(json!({"type": "integer"})),
        McpElicitationPrimitiveSchema::McpElicitationNumberSchema(_)
    ));
    assert!(matches!(
        primitive(json!({"type": "string", "format": "email"})),
        McpElicitationPrimitiveSchema::McpElicitationStringSchema(_)
    ));
}

#[test]
fn an_enum_property_decodes_to_the_variant_that_knows_all_its_fields() {
    // A string with `enum` is an enum schema, not a string schema.
    assert!(matches!(
        primitive(json!({"type": "string", "enum": ["a", "b"]})),
        McpElicitationPrimitiveSchema::McpElicitationEnumSchema(
            McpElicitationEnumSchema::McpElicitationSingleSelectEnumSchema(_)
        )
    ));
    // `enumNames` is only the legacy titled variant's: choosing another would drop it.
    assert!(matches!(
        primitive(json!({"type": "string", "enum": ["a"], "enumNames": ["A"]})),
        McpElicitationPrimitiveSchema::McpElicitationEnumSchema(
            McpElicitationEnumSchema::McpElicitationLegacyTitledEnumSchema(_)
        )
    ));
    assert!(matches!(
        primitive(json!({"type": "string", "oneOf": [{"const": "a", "title": "A"}]})),
        McpElicitationPrimitiveSchema::McpElicitationEnumSchema(
            McpElicitationEnumSchema::McpElicitationSingleSelectEnumSchema(
                McpElicitationSingleSelectEnumSchema::McpElicitationTitledSingleSelectEnumSchema(_)
            )
        )
    ));
    assert!(matches!(
        primitive(json!({"type": "array", "items": {"type": "string", "enum": ["x"]}})),
        McpElicitationPrimitiveSchema::McpElicitationEnumSchema(
            McpElicitationEnumSchema::McpElicitationMultiSelectEnumSchema(_)
        )
    ));
}

#[test]
fn a_value_nothing_distinguishes_still_decodes_in_declaration_order() {
    // A `type` no variant knows (a newer server): the variants are tried in order, and the
    // string schema's open `type` enum keeps the value.
    let v = json!({"type": "date"});
    let decoded: McpElicitationPrimitiveSchema = serde_json::from_value(v.clone()).unwrap();
    assert!(matches!(
        decoded,
        McpElicitationPrimitiveSchema::McpElicitationStringSchema(_)
    ));
    assert_eq!(serde_json::to_value(&decoded).unwrap(), v);
    // Not an object at all: a clear error naming the union.
    let err = serde_json::from_value::<McpElicitationPrimitiveSchema>(json!(3)).unwrap_err();
    assert!(
        err.to_string()
            .contains("no variant of `McpElicitationPrimitiveSchema`"),
        "{err}"
    );
}

#[test]
fn resource_contents_decode_by_their_required_field() {
    let blob: ResourceContent =
        serde_json::from_value(json!({"uri": "u", "blob": "AAAA", "mimeType": "x"})).unwrap();
    assert!(matches!(blob, ResourceContent::Blob { .. }), "{blob:?}");
    let text: ResourceContent = serde_json::from_value(json!({"uri": "u", "text": "t"})).unwrap();
    assert!(matches!(text, ResourceContent::Text { .. }), "{text:?}");
}

#[test]
fn config_keeps_the_keys_the_schema_does_not_name() {
    let v = json!({
        "model": "gpt",
        "features": {"goals": true},
        "model_providers": {"mock": {"name": "Mock"}},
        "history": {"persistence": "none"}
    });
    let config: Config = serde_json::from_value(v.clone()).unwrap();
    assert_eq!(config.model.as_deref(), Some("gpt"));
    assert_eq!(
        config.additional_properties["features"],
        json!({"goals": true})
    );
    assert!(!config.additional_properties.contains_key("model"));
    assert_eq!(serde_json::to_value(&config).unwrap(), v);

    let analytics: AnalyticsConfig =
        serde_json::from_value(json!({"enabled": true, "endpoint": "x"})).unwrap();
    assert_eq!(analytics.additional_properties["endpoint"], json!("x"));
}

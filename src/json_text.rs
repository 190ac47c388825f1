//! How messages name JSON: the kind of a value (`a string`, `an array`) and serde_json's errors
//! without the position it appends (each reader prints the position its own way). A leaf that
//! every layer reading JSON uses (`source`, `decode`, `sync`); it depends on nothing of ours.

use serde_json::Value;

/// serde_json appends " at line L column C" to its messages; the position is printed by us.
pub(crate) fn json_error_text(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let text = match text.rfind(" at line ") {
        Some(i) => text[..i].to_string(),
        None => text,
    };
    match e.classify() {
        serde_json::error::Category::Eof => format!("truncated JSON ({text})"),
        _ => format!("invalid JSON ({text})"),
    }
}

/// "a string", "an array"… for messages about wrong JSON types.
pub(crate) fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

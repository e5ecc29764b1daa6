//! Reading a createTask body the way kie.ai's own docs examples are written.
//!
//! Several of kie.ai's model pages send, in their request examples, values their own
//! schema refuses: an empty string for an optional URL (`"end_image_url": ""`), a field
//! name with a trailing space (`"reference_image "`), a number where the schema says
//! string (`"extend_at": 0`) or a numeric string where it says number
//! (`"duration": "6"`). A user who copies an example from kie.ai's docs is sending what
//! kie.ai published, so the emulator reads a body as those examples are meant before
//! judging it by the schema: a trimmed name for a documented field, an empty optional
//! URL as not given, and a scalar converted when nothing is lost to a documented
//! non-enum string or number. Everything else is judged as sent. The SDK stays strict
//! (it refuses these forms before sending, and kie-rs's spec/ records each example's
//! correction in `x-kie-rs.docs-defects`).

use serde_json::{Map, Value};

/// `body` with its `input` read as kie.ai's docs examples write it, given the model's
/// `input` schema (its `properties` and `required`).
pub(crate) fn read(body: &Value, input_schema: &Value) -> Value {
    let mut body = body.clone();
    let Some(input) = body.get_mut("input").and_then(Value::as_object_mut) else {
        return body;
    };
    let props = input_schema.get("properties").and_then(Value::as_object);
    let required: Vec<&str> = input_schema
        .get("required")
        .and_then(Value::as_array)
        .map(|names| names.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let Some(props) = props else {
        return body;
    };
    let mut read = Map::new();
    for (name, value) in std::mem::take(input) {
        let trimmed = name.trim();
        let name = if trimmed != name && props.contains_key(trimmed) {
            trimmed.to_owned()
        } else {
            name
        };
        let Some(schema) = props.get(&name) else {
            read.insert(name, value);
            continue;
        };
        let optional_url = schema.get("format").and_then(Value::as_str) == Some("uri")
            && !required.contains(&name.as_str());
        if optional_url && value == "" {
            continue;
        }
        let value = converted(schema, &value).unwrap_or(value);
        read.insert(name, value);
    }
    *input = read;
    body
}

/// `value` as the field's documented scalar type, when it is another scalar that
/// converts without loss and the field is no enum (an enum's values are exact).
fn converted(schema: &Value, value: &Value) -> Option<Value> {
    if schema.get("enum").is_some() {
        return None;
    }
    match (schema.get("type").and_then(Value::as_str)?, value) {
        ("string", Value::Number(n)) => Some(Value::String(n.to_string())),
        ("number", Value::String(text)) => {
            let number: serde_json::Number = text.trim().parse().ok()?;
            Some(Value::Number(number))
        }
        ("integer", Value::String(text)) => text.trim().parse::<i64>().ok().map(Value::from),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn schema() -> Value {
        json!({
            "required": ["prompt", "image_url"],
            "properties": {
                "prompt": {"type": "string"},
                "image_url": {"type": "string", "format": "uri"},
                "end_image_url": {"type": "string", "format": "uri"},
                "extend_at": {"type": "string"},
                "duration": {"type": "number"},
                "frames": {"type": "integer"},
                "resolution": {"type": "string", "enum": ["720p"]},
                "reference_image": {"type": "array"}
            }
        })
    }

    #[test]
    fn the_docs_forms_are_read_as_meant() {
        let body = json!({"model": "m", "input": {
            "prompt": "a fox",
            "image_url": "https://example.com/a.png",
            "end_image_url": "",
            "extend_at": 0,
            "duration": "6",
            "frames": "81",
            "reference_image ": ["https://example.com/b.png"]
        }});
        assert_eq!(
            read(&body, &schema())["input"],
            json!({
                "prompt": "a fox",
                "image_url": "https://example.com/a.png",
                "extend_at": "0",
                "duration": 6,
                "frames": 81,
                "reference_image": ["https://example.com/b.png"]
            })
        );
    }

    #[test]
    fn everything_else_is_judged_as_sent() {
        let input = json!({
            "image_url": "",
            "resolution": 720,
            "duration": "six",
            "frames": "8.5",
            "unknown ": 1,
            "prompt": true
        });
        let body = json!({"model": "m", "input": input});
        assert_eq!(read(&body, &schema())["input"], input);
    }
}

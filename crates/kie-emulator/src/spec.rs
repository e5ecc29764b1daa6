//! The model catalogue, read from the OpenAPI documents in `spec/`.
//!
//! Each model document holds one `POST /api/v1/jobs/createTask` whose request schema
//! names the model in a one-value `model` enum. The emulator discovers its models from
//! those documents and validates every createTask body with a JSON Schema validator
//! built from them, independently of the SDK's generated code: when the SDK and the
//! documents disagree, the emulator sides with the documents and says which field broke
//! which rule.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

include!(concat!(env!("OUT_DIR"), "/embedded_specs.rs"));

/// The path every model document describes.
const CREATE_TASK_PATH: &str = "/api/v1/jobs/createTask";

/// The member of a model document that says what a success leaves in `resultJson`.
const RESULT_POINTER: &str = "/x-kie-rs/result";

/// What a model's successful task leaves in `resultJson`: its document's
/// `x-kie-rs.result`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum ResultShape {
    /// `"videos"`, and the default when the member is absent: `{"resultUrls": [video]}`.
    #[default]
    Videos,
    /// `"videos-and-frames"`: the video, plus `firstFrameUrl` and `lastFrameUrl` (each a
    /// one-item list of an image, as kie.ai's docs write them) when the request's
    /// `input` has `return_last_frame: true` (Seedance 2 and 2 Fast).
    VideosAndFrames,
    /// `"character"`: `{"character_id": "<id>"}` and no file (Sora 2 characters).
    Character,
}

impl ResultShape {
    /// The shape a document declares; what the member holds when it is none of them.
    fn of(doc: &Value) -> Result<Self, String> {
        match doc.pointer(RESULT_POINTER) {
            None => Ok(ResultShape::Videos),
            Some(Value::String(shape)) => match shape.as_str() {
                "videos" => Ok(ResultShape::Videos),
                "videos-and-frames" => Ok(ResultShape::VideosAndFrames),
                "character" => Ok(ResultShape::Character),
                other => Err(format!(
                    "x-kie-rs.result {other:?} is not one of \"videos\", \"videos-and-frames\", \"character\""
                )),
            },
            Some(other) => Err(format!("x-kie-rs.result is {other}, not a string")),
        }
    }
}

/// One model the emulator serves: its id, source document, compiled request schema and
/// result shape.
pub(crate) struct ModelSpec {
    /// The model id, e.g. `kling/v2-1-master-text-to-video`.
    pub id: String,
    /// The document it came from (file name or caller-given label).
    pub source: String,
    /// What a success leaves in `resultJson`.
    pub result: ResultShape,
    /// The `input` schema, which says how a body is read as the docs write it.
    input: Value,
    validator: jsonschema::Validator,
}

impl std::fmt::Debug for ModelSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModelSpec")
            .field("id", &self.id)
            .field("source", &self.source)
            .field("result", &self.result)
            .finish()
    }
}

/// One schema violation: the offending field (dotted path), the rule and a description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Violation {
    /// Dotted path of the offending field, e.g. `input.duration`.
    pub field: String,
    /// The JSON Schema keyword that failed, e.g. `enum`, `maxLength`, `required`.
    pub rule: String,
    /// The validator's description of the failure.
    pub message: String,
}

impl Violation {
    /// Whether this is a field of `input` that the model's schema does not have (the
    /// specs set `additionalProperties: false` on `input`).
    pub(crate) fn is_unknown_input_field(&self) -> bool {
        self.field == "input" && self.rule == "additionalProperties"
    }
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {} ({})", self.field, self.message, self.rule)
    }
}

impl ModelSpec {
    /// Every violation of the model's request schema by `body`, read as kie.ai's docs
    /// examples write it (see `docs_reading`), in document order.
    pub(crate) fn violations(&self, body: &Value) -> Vec<Violation> {
        let body = crate::docs_reading::read(body, &self.input);
        self.validator
            .iter_errors(&body)
            .map(|error| {
                let mut field: Vec<String> = error
                    .instance_path()
                    .iter()
                    .map(|segment| segment.to_string())
                    .collect();
                if let jsonschema::error::ValidationErrorKind::Required { property } = error.kind()
                {
                    field.push(
                        property
                            .as_str()
                            .map_or_else(|| property.to_string(), str::to_owned),
                    );
                }
                let field = if field.is_empty() {
                    "body".to_owned()
                } else {
                    field.join(".")
                };
                Violation {
                    field,
                    rule: error.kind().keyword().to_owned(),
                    message: error.to_string(),
                }
            })
            .collect()
    }
}

/// All models the emulator knows, plus the documents it could not use and why.
#[derive(Debug, Default)]
pub(crate) struct Catalog {
    models: BTreeMap<String, ModelSpec>,
    /// Documents that looked like model documents but could not be used.
    pub problems: Vec<String>,
}

impl Catalog {
    /// The catalogue of the documents embedded at build time plus `extra` ones.
    pub(crate) fn load(extra: &[(String, Value)]) -> Self {
        let mut catalog = Catalog::default();
        for (name, text) in EMBEDDED_SPECS {
            match serde_json::from_str::<Value>(text) {
                Ok(doc) => catalog.add(name, &doc),
                Err(error) => catalog
                    .problems
                    .push(format!("{name}: not valid JSON: {error}")),
            }
        }
        for (name, doc) in extra {
            catalog.add(name, doc);
        }
        catalog
    }

    /// Adds the model of one OpenAPI document; documents without createTask are skipped.
    fn add(&mut self, name: &str, doc: &Value) {
        let Some(operation) =
            doc.pointer(&format!("/paths/{}/post", escape_pointer(CREATE_TASK_PATH)))
        else {
            return;
        };
        let model = model_from_operation(doc, operation)
            .and_then(|(id, input, validator)| Ok((id, input, validator, ResultShape::of(doc)?)));
        match model {
            Ok((id, input, validator, result)) => {
                self.models.insert(
                    id.clone(),
                    ModelSpec {
                        id,
                        source: name.to_owned(),
                        result,
                        input,
                        validator,
                    },
                );
            }
            Err(problem) => self.problems.push(format!("{name}: {problem}")),
        }
    }

    /// The model with this id.
    pub(crate) fn get(&self, id: &str) -> Option<&ModelSpec> {
        self.models.get(id)
    }

    /// The ids of all models, sorted.
    pub(crate) fn ids(&self) -> Vec<String> {
        self.models.keys().cloned().collect()
    }
}

/// Escapes a JSON pointer segment (`~` and `/`).
fn escape_pointer(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// Follows a local `$ref` (`#/...`) chain inside `doc`.
fn resolve<'a>(doc: &'a Value, mut value: &'a Value) -> Result<&'a Value, String> {
    for _ in 0..32 {
        match value.get("$ref").and_then(Value::as_str) {
            Some(reference) => {
                let pointer = reference
                    .strip_prefix('#')
                    .ok_or_else(|| format!("non-local $ref {reference:?} is not supported"))?;
                value = doc
                    .pointer(pointer)
                    .ok_or_else(|| format!("$ref {reference:?} points nowhere"))?;
            }
            None => return Ok(value),
        }
    }
    Err("$ref chain too long".to_owned())
}

/// The model id and compiled validator of one createTask operation.
fn model_from_operation(
    doc: &Value,
    operation: &Value,
) -> Result<(String, Value, jsonschema::Validator), String> {
    let request_body = resolve(
        doc,
        operation
            .get("requestBody")
            .ok_or("createTask has no requestBody")?,
    )?;
    let schema = request_body
        .pointer("/content/application~1json/schema")
        .ok_or("requestBody has no application/json schema")?;
    let schema = resolve(doc, schema)?;
    let model_property = schema
        .pointer("/properties/model")
        .ok_or("request schema has no properties.model")?;
    let model_property = resolve(doc, model_property)?;
    let id = model_property
        .get("enum")
        .and_then(Value::as_array)
        .and_then(|values| values.first())
        .or_else(|| model_property.get("default"))
        .and_then(Value::as_str)
        .ok_or("properties.model has neither an enum nor a default naming the model")?
        .to_owned();
    let input = match schema.pointer("/properties/input") {
        Some(input) => resolve(doc, input)?.clone(),
        None => Value::Null,
    };

    let mut root = openapi_to_json_schema(schema.clone());
    if let (Value::Object(root_map), Some(components)) = (&mut root, doc.get("components")) {
        root_map.insert(
            "components".to_owned(),
            openapi_to_json_schema(components.clone()),
        );
    }
    let draft = if doc
        .get("openapi")
        .and_then(Value::as_str)
        .is_some_and(|v| v.starts_with("3.1"))
    {
        jsonschema::Draft::Draft202012
    } else {
        jsonschema::Draft::Draft4
    };
    let validator = jsonschema::options()
        .with_draft(draft)
        .should_validate_formats(true)
        .build(&root)
        .map_err(|error| format!("request schema does not compile: {error}"))?;
    Ok((id, input, validator))
}

/// Rewrites OpenAPI 3.0 schema dialect into plain JSON Schema.
///
/// `nullable: true` becomes a `"null"` member of `type`; a boolean `required` (a common
/// mistake in exported documents, meaningless to JSON Schema) is dropped; vendor
/// extensions (`x-...`) are removed so they cannot be mistaken for keywords.
fn openapi_to_json_schema(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let nullable = map.get("nullable").and_then(Value::as_bool) == Some(true);
            let mut out = Map::new();
            for (key, child) in map {
                if key.starts_with("x-") || key == "nullable" {
                    continue;
                }
                if key == "required" && !child.is_array() {
                    continue;
                }
                let child = if NAMED_SCHEMA_MAPS.contains(&key.as_str()) {
                    named_schemas(child)
                } else {
                    openapi_to_json_schema(child)
                };
                out.insert(key, child);
            }
            if nullable {
                match out.get_mut("type") {
                    Some(Value::String(single)) => {
                        let single = single.clone();
                        out.insert(
                            "type".to_owned(),
                            Value::Array(vec![Value::String(single), "null".into()]),
                        );
                    }
                    Some(Value::Array(types)) if !types.iter().any(|t| t == "null") => {
                        types.push("null".into())
                    }
                    _ => {}
                }
                if let Some(Value::Array(values)) = out.get_mut("enum")
                    && !values.iter().any(Value::is_null)
                {
                    values.push(Value::Null);
                }
            }
            Value::Object(out)
        }
        Value::Array(items) => {
            Value::Array(items.into_iter().map(openapi_to_json_schema).collect())
        }
        other => other,
    }
}

/// Keywords whose value maps arbitrary names (which may look like keywords) to schemas.
const NAMED_SCHEMA_MAPS: &[&str] = &[
    "properties",
    "patternProperties",
    "definitions",
    "$defs",
    "schemas",
];

/// Rewrites each schema of a name-to-schema map, keeping every name.
fn named_schemas(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(name, schema)| (name, openapi_to_json_schema(schema)))
                .collect(),
        ),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc() -> Value {
        json!({
            "openapi": "3.0.1",
            "paths": {"/api/v1/jobs/createTask": {"post": {"requestBody": {"content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Req"}
            }}}}}},
            "components": {"schemas": {"Req": {
                "type": "object",
                "required": ["model", "input"],
                "properties": {
                    "model": {"type": "string", "enum": ["demo/model"]},
                    "callBackUrl": {"type": "string", "format": "uri"},
                    "input": {"$ref": "#/components/schemas/Input"}
                }
            }, "Input": {
                "type": "object",
                "required": ["prompt"],
                "x-apidog-orders": ["prompt"],
                "properties": {
                    "prompt": {"type": "string", "maxLength": 5},
                    "duration": {"type": "string", "enum": ["5", "10"], "required": false},
                    "note": {"type": "string", "nullable": true}
                }
            }}}
        })
    }

    #[test]
    fn discovers_model_and_names_each_violation() {
        let mut catalog = Catalog::default();
        catalog.add("demo.json", &doc());
        assert!(catalog.problems.is_empty(), "{:?}", catalog.problems);
        let model = catalog.get("demo/model").map(|m| {
            m.violations(&json!({
                "model": "demo/model",
                "input": {"prompt": "too long", "duration": 7, "note": null}
            }))
        });
        let violations = model.unwrap_or_default();
        let fields: Vec<(&str, &str)> = violations
            .iter()
            .map(|v| (v.field.as_str(), v.rule.as_str()))
            .collect();
        assert!(
            fields.contains(&("input.prompt", "maxLength")),
            "{violations:?}"
        );
        assert!(
            fields.contains(&("input.duration", "enum"))
                || fields.contains(&("input.duration", "type")),
            "{violations:?}"
        );
        assert!(
            !fields.iter().any(|(field, _)| *field == "input.note"),
            "nullable allows null: {violations:?}"
        );
    }

    #[test]
    fn missing_required_field_is_named() {
        let mut catalog = Catalog::default();
        catalog.add("demo.json", &doc());
        let violations = catalog
            .get("demo/model")
            .map(|m| m.violations(&json!({"model": "demo/model", "input": {}})))
            .unwrap_or_default();
        assert_eq!(violations.len(), 1, "{violations:?}");
        assert_eq!(violations[0].field, "input.prompt");
        assert_eq!(violations[0].rule, "required");
    }

    #[test]
    fn the_result_shape_is_read_from_x_kie_rs() {
        let mut catalog = Catalog::default();
        for (shape, expected) in [
            (None, Some(ResultShape::Videos)),
            (Some(json!("videos")), Some(ResultShape::Videos)),
            (
                Some(json!("videos-and-frames")),
                Some(ResultShape::VideosAndFrames),
            ),
            (Some(json!("character")), Some(ResultShape::Character)),
            (Some(json!("frames")), None),
            (Some(json!(["videos"])), None),
        ] {
            let mut doc = doc();
            if let Some(shape) = &shape {
                doc["x-kie-rs"] = json!({"result": shape});
            }
            catalog.add("demo.json", &doc);
            let got = catalog.get("demo/model").map(|m| m.result);
            assert_eq!(got, expected, "{shape:?}");
            catalog = Catalog::default();
        }
        catalog.add("demo.json", &{
            let mut doc = doc();
            doc["x-kie-rs"] = json!({"result": "frames"});
            doc
        });
        assert_eq!(
            catalog.problems,
            [
                r#"demo.json: x-kie-rs.result "frames" is not one of "videos", "videos-and-frames", "character""#
            ]
        );
    }

    #[test]
    fn documents_without_create_task_are_skipped() {
        let mut catalog = Catalog::default();
        catalog.add(
            "common.json",
            &json!({"openapi": "3.0.0", "paths": {"/api/v1/chat/credit": {}}}),
        );
        assert!(catalog.ids().is_empty());
        assert!(catalog.problems.is_empty());
    }
}

//! What the spec-driven tests share: the five models, their spec documents, the
//! spec's own JSON Schema as an independent judge, and a client for an emulator.

#![allow(dead_code)]

use std::future::Future;
use std::pin::Pin;

use kie::{Client, Error, Problem, Task, ValidationError};
use kie_emulator::Emulator;
use serde_json::{Map, Value};

/// One model under test: its spec file, its typed parse (the generated `from_json`,
/// through `VideoModel::parse_input`, returning the input serialized back to JSON), and
/// a submission of raw JSON the way an application holding JSON for this model makes it.
pub struct Model {
    pub file: &'static str,
    pub id: &'static str,
    pub parse: Box<dyn Fn(Value) -> Result<Value, ValidationError> + Send + Sync>,
    pub submit: Box<dyn Fn(Client, CreateTask) -> Submission + Send + Sync>,
    /// Whether the model says it takes a `progressCallBackUrl` (given its example).
    pub takes_progress_callback: Box<dyn Fn(Value) -> bool + Send + Sync>,
}

/// A createTask request as JSON: the `input` object and the optional callback URLs.
#[derive(Debug, Clone)]
pub struct CreateTask {
    pub input: Value,
    pub callback_url: Option<String>,
    pub progress_callback_url: Option<String>,
}

/// A submission under way.
pub type Submission = Pin<Box<dyn Future<Output = Result<Task, Error>> + Send>>;

/// Every model the build knows (all provider features are on in this crate's tests),
/// from the registry: a model added to spec/ is tested here with no new test code.
pub fn models() -> Vec<Model> {
    kie::registry::models()
        .into_iter()
        .map(|model| {
            let id = model.id();
            let file = spec_file(id);
            let (parse, submit) = (model.clone(), model.clone());
            Model {
                file,
                id,
                parse: Box::new(move |value| parse.parse_input(value)),
                submit: Box::new(move |client, request| {
                    let model = submit.clone();
                    Box::pin(async move {
                        let input = Parsed {
                            input: model.parse_input(request.input)?,
                            model: model.info(),
                        };
                        let mut submit = client.submit(&input);
                        if let Some(url) = request.callback_url {
                            submit = submit.callback_url(url);
                        }
                        if let Some(url) = request.progress_callback_url {
                            submit = submit.progress_callback_url(url);
                        }
                        submit.await
                    })
                }),
                takes_progress_callback: Box::new(move |_| model.info().progress_callback),
            }
        })
        .collect()
}

/// An input the model has parsed (`VideoModel::parse_input`), submitted as the typed
/// input would be: with the model's id and its say on `progressCallBackUrl`.
#[derive(serde::Serialize)]
#[serde(transparent)]
struct Parsed {
    input: Value,
    #[serde(skip)]
    model: &'static kie::ModelInfo,
}

impl kie::ModelInput for Parsed {
    fn model_id(&self) -> &str {
        self.model.id
    }

    fn validate(&self) -> Result<(), ValidationError> {
        Ok(())
    }

    fn takes_progress_callback(&self) -> bool {
        self.model.progress_callback
    }
}

/// The name of the spec document that describes `id`.
pub fn spec_file(id: &str) -> &'static str {
    static BY_ID: std::sync::OnceLock<Vec<(String, &'static str)>> = std::sync::OnceLock::new();
    let by_id = BY_ID.get_or_init(|| {
        kie_emulator::spec_documents()
            .iter()
            .filter_map(|(name, text)| {
                let doc: Value = serde_json::from_str(text).ok()?;
                let id = request_schema(&doc)["properties"]["model"]["enum"][0].as_str()?;
                Some((id.to_owned(), *name))
            })
            .collect()
    });
    by_id
        .iter()
        .find(|(known, _)| known == id)
        .map(|(_, name)| *name)
        .unwrap_or_else(|| panic!("no spec document describes {id}"))
}

/// A spec document, from the copies the emulator embeds (the same bytes as the
/// workspace's `spec/`, and inside the published packages too).
pub fn spec(file: &str) -> Value {
    static PARSED: std::sync::OnceLock<Vec<(&'static str, Value)>> = std::sync::OnceLock::new();
    let parsed = PARSED.get_or_init(|| {
        kie_emulator::spec_documents()
            .iter()
            .map(|(name, text)| {
                let doc = serde_json::from_str(text).unwrap_or_else(|e| panic!("{name}: {e}"));
                (*name, doc)
            })
            .collect()
    });
    parsed
        .iter()
        .find(|(name, _)| *name == file)
        .map(|(_, doc)| doc.clone())
        .unwrap_or_else(|| panic!("the emulator embeds no {file}"))
}

/// The createTask request body schema of a model document.
pub fn request_schema(doc: &Value) -> &Value {
    &doc["paths"]["/api/v1/jobs/createTask"]["post"]["requestBody"]["content"]["application/json"]["schema"]
}

/// The `input` schema of a model document.
pub fn input_schema(doc: &Value) -> &Value {
    &request_schema(doc)["properties"]["input"]
}

/// The seed's request body, the document's example.
pub fn example(doc: &Value) -> &Value {
    &doc["paths"]["/api/v1/jobs/createTask"]["post"]["requestBody"]["content"]["application/json"]["example"]
}

/// The spec's request schema compiled by the `jsonschema` crate, with formats
/// asserted (so `format: uri` counts, as in the emulator).
pub fn validator(doc: &Value) -> jsonschema::Validator {
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft4)
        .should_validate_formats(true)
        .build(request_schema(doc))
        .expect("the spec's request schema compiles")
}

/// Whether the spec accepts `input` as the input of `id`.
pub fn schema_accepts(validator: &jsonschema::Validator, id: &str, input: &Value) -> bool {
    validator.is_valid(&serde_json::json!({"model": id, "input": input}))
}

/// The required fields only, each with its documented example.
/// The names an object schema requires (none when it has no `required`, as draft 4
/// wants of a schema whose fields are all optional).
pub fn required(schema: &Value) -> Vec<&str> {
    schema["required"]
        .as_array()
        .map(|names| names.iter().map(|n| n.as_str().expect("a name")).collect())
        .unwrap_or_default()
}

/// A valid input with only the required fields: each as the page's example sends it,
/// else as its field's own example.
pub fn minimal_input(doc: &Value) -> Map<String, Value> {
    let schema = input_schema(doc);
    let sent = &example(doc)["input"];
    required(schema)
        .into_iter()
        .map(|name| {
            let value = match &sent[name] {
                Value::Null => schema["properties"][name]["example"].clone(),
                value => value.clone(),
            };
            (name.to_owned(), value)
        })
        .collect()
}

/// An object of a list of objects with its required fields, each its example.
pub fn required_example(items: &Value) -> Map<String, Value> {
    required(items)
        .into_iter()
        .map(|name| {
            (
                name.to_owned(),
                items["properties"][name]["example"].clone(),
            )
        })
        .collect()
}

/// JSON equality where numbers compare by value: `1` and `1.0` are the same number to
/// kie.ai, while `serde_json::Value` tells them apart (an `f64` field sends `1.0`).
pub fn same_json(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same_json(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_json(v, w)))
        }
        _ => a == b,
    }
}

/// The problem `err` names on `field`; panics, quoting `err`, when it names none.
pub fn problem(err: &ValidationError, field: &str) -> Problem {
    err.violations()
        .iter()
        .find(|v| v.field == field)
        .map(|v| v.problem.clone())
        .unwrap_or_else(|| panic!("no violation on `{field}` in: {err}"))
}

/// The wire strings of a generated enum's values, in `all`'s order, after checking that
/// serde, `FromStr` and `Display` each agree with `as_str` on every value.
pub fn wire_strings<T>(all: &[T], as_str: fn(&T) -> &'static str) -> Vec<&'static str>
where
    T: serde::Serialize
        + serde::de::DeserializeOwned
        + std::str::FromStr<Err = ValidationError>
        + std::fmt::Display
        + PartialEq
        + std::fmt::Debug,
{
    all.iter()
        .map(|v| {
            let wire = as_str(v);
            assert_eq!(serde_json::to_value(v).unwrap(), Value::String(wire.into()));
            assert_eq!(&serde_json::from_value::<T>(wire.into()).unwrap(), v);
            assert_eq!(&wire.parse::<T>().unwrap(), v);
            assert_eq!(v.to_string(), wire);
            wire
        })
        .collect()
}

/// A client of `emulator` (both hosts) that sends `key`.
/// An emulator for `key` that neither rate-limits nor runs out of credits.
pub async fn emulator(key: &str) -> Emulator {
    Emulator::builder()
        .api_key(key)
        .rate_limits(false)
        .credits(1e9)
        .start()
        .await
        .expect("the emulator starts")
}

pub fn client(emulator: &Emulator, key: &str) -> Client {
    Client::builder()
        .api_key(key)
        .base_url(emulator.base_url())
        .upload_base_url(emulator.upload_base_url())
        .build()
        .expect("a client for the emulator")
}

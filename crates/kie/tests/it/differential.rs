//! The differential property test: for generated inputs, valid and invalid alike, the
//! SDK (the generated `from_json`, which type-checks and then runs `validate()`) and the
//! spec's own JSON Schema (checked by the `jsonschema` crate, a separate implementation)
//! must agree on accept or reject, for every model.
//!
//! The generator is driven by the spec: for each field it draws a valid value, a value
//! at or past a limit, a value of the wrong type, or leaves the field out; sometimes it
//! adds an undocumented field. So both outcomes are common, and a limit added to a spec
//! is exercised here without a change to this file.
//!
//! Two known, documented divergences are kept out of the draw on purpose: whole numbers
//! written with a fraction (`5.0`, which JSON Schema counts as a multiple of 1 and the
//! SDK's `i64` refuses), and step values carrying binary floating-point noise
//! (`0.30000000000000004`, which the SDK's `multiple_of` tolerates and JSON Schema's
//! decimal arithmetic refuses). Numbers are drawn with at most three decimals. URLs
//! include the shapes a forgiving WHATWG parser repairs but RFC 3986 refuses (`https:///x`,
//! surrounding spaces, raw Unicode); the few the SDK refuses beyond the spec (a port
//! above 65535) are left out.

use crate::common::{Model, input_schema, models, same_json, schema_accepts, spec, validator};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Map, Value, json};

/// Values of the wrong JSON type for any field.
fn wrong_type() -> BoxedStrategy<Value> {
    prop_oneof![
        Just(Value::Null),
        Just(json!(true)),
        Just(json!(7)),
        Just(json!("7")),
        Just(json!([])),
        Just(json!({})),
    ]
    .boxed()
}

fn text(len: impl Strategy<Value = usize> + 'static) -> BoxedStrategy<Value> {
    // ASCII, two-byte, three-byte (Chinese) and four-byte characters: lengths are
    // counted in characters on both sides.
    let ch = prop::sample::select(vec!['a', ' ', 'é', '狐', '日', '🦊', '\n']);
    len.prop_flat_map(move |n| prop::collection::vec(ch.clone(), n))
        .prop_map(|chars| Value::String(chars.into_iter().collect()))
        .boxed()
}

const GOOD_URLS: [&str; 4] = [
    "https://example.com/a.png",
    "http://localhost:8080/upload?id=1",
    "https://file.aiquickdraw.com/custom-page/akr/section-images/1762340693669m6sey187.webp",
    "https://tempfile.redpandaai.co/kieai/123/images/user-uploads/cat.png#frag",
];
const BAD_URLS: [&str; 14] = [
    "",
    "not a url",
    "ftp://example.com/a.png",
    "/uploads/a.png",
    "example.com/a.png",
    "https://",
    "mailto:someone@example.com",
    "http//example.com",
    "https:///a.png",
    " https://example.com/a.png",
    "https://example.com/a b.png",
    "https://example.com/狐.png",
    "https:\\\\example.com\\a.png",
    "https://example.com/100%.png",
];

/// A value for a field, drawn from its schema.
fn value(schema: &Value) -> BoxedStrategy<Value> {
    let ty = schema["type"].as_str().unwrap_or_default();
    if let Some(values) = schema["enum"].as_array() {
        let values = values.clone();
        let near: Vec<Value> = values
            .iter()
            .filter_map(Value::as_str)
            .flat_map(|v| {
                [
                    json!(v.to_uppercase()),
                    json!(format!("{v} ")),
                    json!(v.parse::<i64>().ok()),
                ]
            })
            .collect();
        return prop_oneof![
            10 => prop::sample::select(values),
            1 => prop::sample::select(near),
            1 => wrong_type(),
        ]
        .boxed();
    }
    match ty {
        "string" if schema["format"] == "uri" => prop_oneof![
            8 => prop::sample::select(GOOD_URLS.to_vec()).prop_map(|s| json!(s)),
            2 => prop::sample::select(BAD_URLS.to_vec()).prop_map(|s| json!(s)),
            1 => wrong_type(),
        ]
        .boxed(),
        "string" => {
            let limit = |key: &str| schema[key].as_u64().and_then(|m| usize::try_from(m).ok());
            match (limit("minLength"), limit("maxLength")) {
                (min, Some(max)) => prop_oneof![
                    6 => text(min.unwrap_or(0)..40usize.max(min.unwrap_or(0) + 1)),
                    3 => text(max.saturating_sub(2)..=max + 2),
                    2 => text(min.unwrap_or(0).saturating_sub(2)..=min.unwrap_or(0) + 2),
                    1 => wrong_type(),
                ]
                .boxed(),
                (Some(min), None) => prop_oneof![
                    8 => text(min..40usize.max(min + 1)),
                    3 => text(min.saturating_sub(2)..=min + 2),
                    1 => wrong_type(),
                ]
                .boxed(),
                (None, None) => prop_oneof![10 => text(0..40usize), 1 => wrong_type()].boxed(),
            }
        }
        "boolean" => {
            prop_oneof![10 => any::<bool>().prop_map(Value::Bool), 1 => wrong_type()].boxed()
        }
        "integer" | "number" if ty == "integer" || schema["multipleOf"].as_f64() == Some(1.0) => {
            let min = schema["minimum"].as_i64().unwrap_or(-1_000);
            let max = schema["maximum"].as_i64().unwrap_or(1_000);
            prop_oneof![
                12 => (min..=max).prop_map(|n| json!(n)),
                2 => (min - 3..=min + 3).prop_map(|n| json!(n)),
                2 => (max - 3..=max + 3).prop_map(|n| json!(n)),
                1 => any::<i64>().prop_map(|n| json!(n)),
                // Beyond i64 only where a maximum refuses it anyway: without one, JSON
                // Schema takes any integer while the SDK's i64 (and kie.ai's backends)
                // cannot, a divergence kept out of this test on purpose.
                1 => Just(if schema["maximum"].is_number() { json!(u64::MAX) } else { json!(i64::MAX) }),
                1 => (-1000i64..1000).prop_map(|n| json!(n as f64 + 0.5)),
                1 => wrong_type(),
            ]
            .boxed()
        }
        "number" => {
            let min = schema["minimum"].as_f64().unwrap_or(-10.0);
            let max = schema["maximum"].as_f64().unwrap_or(10.0);
            let lo = ((min - 1.0) * 1000.0) as i64;
            let hi = ((max + 1.0) * 1000.0) as i64;
            let step = schema["multipleOf"].as_f64().unwrap_or(0.001);
            let steps = ((max - min) / step).round() as i64;
            prop_oneof![
                // Three decimals at most, as a person (or a config file) writes them.
                // On the step and in range, written as a person (or a config file) would.
                10 => (0..=steps).prop_map(move |k| json!(((min + k as f64 * step) * 1e9).round() / 1e9)),
                // Three decimals at most, in and around the range.
                2 => (lo..=hi).prop_map(|k| json!(k as f64 / 1000.0)),
                2 => ((lo / 100)..=(hi / 100)).prop_map(|k| json!(k as f64 / 10.0)),
                1 => (-3i64..=3).prop_map(|n| json!(n)),
                1 => wrong_type(),
            ]
            .boxed()
        }
        "array" => {
            let max = schema["maxItems"]
                .as_u64()
                .and_then(|m| usize::try_from(m).ok())
                .unwrap_or(8);
            let items = &schema["items"];
            let item = match (items["type"].as_str(), items["format"].as_str()) {
                (_, Some("uri")) => value(&json!({"type": "string", "format": "uri"})),
                (Some("object"), _) => object(items),
                _ => prop_oneof![
                    30 => "[a-z0-9_]{0,12}".prop_map(Value::String),
                    1 => wrong_type(),
                ]
                .boxed(),
            };
            prop_oneof![
                10 => prop::collection::vec(item, 0..=max + 2).prop_map(Value::Array),
                1 => wrong_type(),
            ]
            .boxed()
        }
        other => panic!("the generator does not know the type {other:?}"),
    }
}

/// Objects drawn from an object schema: each required field mostly present, each
/// optional one sometimes, now and then an unknown one.
fn object(schema: &Value) -> BoxedStrategy<Value> {
    let required = crate::common::required(schema);
    let fields: Vec<BoxedStrategy<Option<(String, Value)>>> = schema["properties"]
        .as_object()
        .expect("properties")
        .iter()
        .map(|(name, prop)| {
            let (name, keep) = (
                name.clone(),
                if required.contains(&name.as_str()) {
                    0.95
                } else {
                    0.5
                },
            );
            prop::option::weighted(keep, value(prop))
                .prop_map(move |v| v.map(|v| (name.clone(), v)))
                .boxed()
        })
        .collect();
    (
        fields,
        prop::option::weighted(0.05, Just(("bogus".to_owned(), json!(1)))),
    )
        .prop_map(|(fields, extra)| {
            Value::Object(fields.into_iter().flatten().chain(extra).collect())
        })
        .boxed()
}

/// Whole `input` objects for a model, drawn from its spec.
fn input(doc: &Value) -> BoxedStrategy<Value> {
    let schema = input_schema(doc);
    let required: Vec<String> = crate::common::required(schema)
        .into_iter()
        .map(str::to_owned)
        .collect();
    let mut fields: Vec<BoxedStrategy<Option<(String, Value)>>> = Vec::new();
    for (name, prop) in schema["properties"].as_object().expect("properties") {
        let name = name.clone();
        let present = value(prop).prop_map({
            let name = name.clone();
            move |v| Some((name.clone(), v))
        });
        // Required fields are rarely left out, optional ones often.
        let (keep, drop) = if required.contains(&name) {
            (25, 1)
        } else {
            (2, 1)
        };
        fields.push(prop_oneof![keep => present, drop => Just(None)].boxed());
    }
    let extra = prop_oneof![
        16 => Just(None),
        1 => Just(Some(("aspectRatio".to_owned(), json!("16:9")))),
        1 => Just(Some(("unknown_field".to_owned(), json!(1)))),
    ];
    let random = (fields, extra).prop_map(|(fields, extra)| {
        let object: Map<String, Value> = fields.into_iter().flatten().chain(extra).collect();
        Value::Object(object)
    });
    // A model with a dozen fields almost never draws every one valid at once, so half
    // the inputs are the page's (valid) example with one field drawn anew: both sides
    // of the property get exercised whatever the number of fields.
    let base = Value::Object(crate::common::minimal_input(doc));
    let example = match &crate::common::example(doc)["input"] {
        Value::Null => base,
        input => input.clone(),
    };
    let props: Vec<(String, Value)> = schema["properties"]
        .as_object()
        .expect("properties")
        .iter()
        .map(|(name, prop)| (name.clone(), prop.clone()))
        .collect();
    let one = prop::sample::select(props)
        .prop_flat_map(|(name, prop)| value(&prop).prop_map(move |v| (name.clone(), v)))
        .prop_map(move |(name, v)| {
            let mut input = example.clone();
            input[name] = v;
            input
        });
    prop_oneof![1 => random, 1 => one].boxed()
}

fn agree(
    model: &Model,
    validator: &jsonschema::Validator,
    input: &Value,
) -> Result<bool, TestCaseError> {
    let sdk = (model.parse)(input.clone());
    let schema = schema_accepts(validator, model.id, input);
    prop_assert_eq!(
        sdk.is_ok(),
        schema,
        "{} disagrees with its spec on {}: SDK says {:?}",
        model.id,
        input,
        sdk.as_ref().err().map(ToString::to_string)
    );
    if let Ok(parsed) = &sdk {
        prop_assert!(
            same_json(parsed, input),
            "{}: an accepted input must round-trip: {} became {}",
            model.id,
            input,
            parsed
        );
    }
    Ok(schema)
}

#[test]
fn the_sdk_and_the_spec_s_json_schema_agree_on_generated_inputs() {
    for model in models() {
        let doc = spec(model.file);
        let validator = validator(&doc);
        let mut runner = TestRunner::new(Config {
            cases: 384,
            failure_persistence: None,
            ..Config::default()
        });
        let accepted = std::cell::Cell::new(0u32);
        let rejected = std::cell::Cell::new(0u32);
        let result = runner.run(&input(&doc), |input| {
            if agree(&model, &validator, &input)? {
                accepted.set(accepted.get() + 1);
            } else {
                rejected.set(rejected.get() + 1);
            }
            Ok(())
        });
        if let Err(e) = result {
            panic!("{}: {e}", model.id);
        }
        // Both sides of the property were exercised, not just one.
        let (accepted, rejected) = (accepted.get(), rejected.get());
        eprintln!("{}: {accepted} accepted, {rejected} rejected", model.id);
        assert!(
            accepted >= 40 && rejected >= 40,
            "{}: {accepted} accepted, {rejected} rejected: the generator is lopsided",
            model.id
        );
    }
}

//! Every limit, enum value and required field of every model, read from the spec itself:
//! each limit is tried exactly at its boundary (accepted) and one step past it (refused,
//! with the field, the rule and the limit named), lengths in ASCII and in Chinese
//! characters. The spec's JSON Schema must agree with the SDK on every case, and a new
//! limit in a spec is covered here without a new line of test.

use crate::common::{
    Model, example, input_schema, minimal_input, models, request_schema, same_json, schema_accepts,
    spec, validator,
};
use kie::{Problem, ValidationError};
use serde_json::{Map, Value, json};

/// One input to try and what must happen.
struct Case {
    what: String,
    input: Value,
    expect: Result<(), fn(&Problem) -> bool>,
    field: String,
}

/// `x` rounded to nine decimals, so that `3.0 * 0.1` is the 0.3 a person would write
/// (and serde_json would send), not 0.30000000000000004.
fn tidy(x: f64) -> f64 {
    (x * 1e9).round() / 1e9
}

fn with(base: &Map<String, Value>, field: &str, value: Value) -> Value {
    let mut input = base.clone();
    input.insert(field.to_owned(), value);
    Value::Object(input)
}

fn problem_on(err: &ValidationError, field: &str) -> Option<Problem> {
    err.violations()
        .iter()
        .find(|v| v.field == field)
        .map(|v| v.problem.clone())
}

/// The cases for one field, from its schema.
fn cases(base: &Map<String, Value>, name: &str, schema: &Value) -> Vec<Case> {
    let mut out = Vec::new();
    let mut case = |what: String, value: Value, expect: Result<(), fn(&Problem) -> bool>| {
        out.push(Case {
            what: format!("{name}: {what}"),
            input: with(base, name, value),
            expect,
            field: name.to_owned(),
        });
    };
    if let Some(max) = schema["maxLength"].as_u64() {
        let max = usize::try_from(max).expect("a sane limit");
        // A URL field's text must stay a URL: its length is made up by the path.
        let prefix = if schema["format"] == "uri" {
            "https://example.com/"
        } else {
            ""
        };
        let text =
            |ch: &str, n: usize| format!("{prefix}{}", ch.repeat(n - prefix.chars().count()));
        let alphabet: &[&str] = if prefix.is_empty() {
            &["a", "狐"]
        } else {
            &["a"]
        };
        for ch in alphabet {
            case(format!("{max} × {ch}"), json!(text(ch, max)), Ok(()));
            case(
                format!("{} × {ch}", max + 1),
                json!(text(ch, max + 1)),
                Err(|p| matches!(p, Problem::TooLong { .. })),
            );
        }
    }
    if let Some(min) = schema["minLength"].as_u64().filter(|m| *m > 0) {
        let min = usize::try_from(min).expect("a sane limit");
        case(format!("{min} × a"), json!("a".repeat(min)), Ok(()));
        case(
            format!("{} × a", min - 1),
            json!("a".repeat(min - 1)),
            Err(|p| matches!(p, Problem::TooShort { .. })),
        );
    }
    // A valid item of the list: a URL, an object of the base (or its required fields),
    // or text.
    let item = |i: usize| match (
        schema["items"]["type"].as_str(),
        schema["items"]["format"].as_str(),
    ) {
        (_, Some("uri")) => json!(format!("https://example.com/{i}.png")),
        (Some("object"), _) => base
            .get(name)
            .and_then(|list| list.get(0))
            .cloned()
            .unwrap_or_else(|| json!(crate::common::required_example(&schema["items"]))),
        _ => json!(format!("id_{i}")),
    };
    let items = |n: usize| json!((0..n).map(item).collect::<Vec<_>>());
    if let Some(max) = schema["maxItems"].as_u64() {
        let max = usize::try_from(max).expect("a sane limit");
        case(format!("{max} items"), items(max), Ok(()));
        case(
            format!("{} items", max + 1),
            items(max + 1),
            Err(|p| matches!(p, Problem::TooManyItems { .. })),
        );
    }
    if let Some(min) = schema["minItems"].as_u64().filter(|m| *m > 0) {
        let min = usize::try_from(min).expect("a sane limit");
        case(format!("{min} items"), items(min), Ok(()));
        case(
            format!("{} items", min - 1),
            items(min - 1),
            Err(|p| matches!(p, Problem::TooFewItems { .. })),
        );
    }
    let whole = schema["type"] == "integer" || schema["multipleOf"].as_f64() == Some(1.0);
    let step = schema["multipleOf"].as_f64().filter(|_| !whole);
    if whole {
        if let Some(min) = schema["minimum"].as_i64() {
            case(format!("minimum {min}"), json!(min), Ok(()));
            case(
                format!("{}", min - 1),
                json!(min - 1),
                Err(|p| matches!(p, Problem::OutOfRange { .. })),
            );
        }
        if let Some(max) = schema["maximum"].as_i64() {
            case(format!("maximum {max}"), json!(max), Ok(()));
            case(
                format!("{}", max + 1),
                json!(max + 1),
                Err(|p| matches!(p, Problem::OutOfRange { .. })),
            );
        }
        case(
            "a fraction".into(),
            json!(0.5),
            Err(|p| matches!(p, Problem::WrongType { .. })),
        );
    } else if schema["type"] == "number" {
        let past = step.unwrap_or(0.5);
        if let Some(min) = schema["minimum"].as_f64() {
            case(format!("minimum {min}"), json!(min), Ok(()));
            case(
                format!("{}", tidy(min - past)),
                json!(tidy(min - past)),
                Err(|p| matches!(p, Problem::OutOfRange { .. })),
            );
        }
        if let Some(max) = schema["maximum"].as_f64() {
            case(format!("maximum {max}"), json!(max), Ok(()));
            case(
                format!("{}", tidy(max + past)),
                json!(tidy(max + past)),
                Err(|p| matches!(p, Problem::OutOfRange { .. })),
            );
        }
        if let Some(step) = step {
            let base = schema["minimum"].as_f64().unwrap_or(0.0);
            let on = tidy(base + 3.0 * step);
            let off = tidy(base + 2.5 * step);
            case(format!("{on} (on the step)"), json!(on), Ok(()));
            case(
                format!("{off} (off the step)"),
                json!(off),
                Err(|p| matches!(p, Problem::NotMultipleOf { .. })),
            );
        }
    }
    if let Some(values) = schema["enum"].as_array() {
        for value in values {
            case(format!("enum value {value}"), value.clone(), Ok(()));
        }
        case(
            "a value not in the enum".into(),
            json!("bogus"),
            Err(|p| matches!(p, Problem::NotAllowed { .. })),
        );
    }
    if schema["format"] == "uri" {
        case(
            "an https URL".into(),
            json!("https://example.com/a.png"),
            Ok(()),
        );
        for bad in ["not a url", "ftp://example.com/a.png", "/a.png", ""] {
            case(
                format!("{bad:?}"),
                json!(bad),
                Err(|p| matches!(p, Problem::InvalidUrl { .. })),
            );
        }
    }
    if schema["type"] == "boolean" {
        case("true".into(), json!(true), Ok(()));
        case("false".into(), json!(false), Ok(()));
        case(
            "\"true\"".into(),
            json!("true"),
            Err(|p| matches!(p, Problem::WrongType { .. })),
        );
    }
    case(
        "null".into(),
        Value::Null,
        Err(|p| matches!(p, Problem::WrongType { .. })),
    );
    out
}

fn run_case(model: &Model, validator: &jsonschema::Validator, case: &Case) {
    let sdk = (model.parse)(case.input.clone());
    let schema_ok = schema_accepts(validator, model.id, &case.input);
    match (&case.expect, &sdk) {
        (Ok(()), Ok(parsed)) => {
            assert!(
                same_json(parsed, &case.input),
                "{} / {}: {} became {parsed}",
                model.id,
                case.what,
                case.input
            );
        }
        (Err(matches), Err(err)) => {
            let problem = problem_on(err, &case.field).unwrap_or_else(|| {
                panic!(
                    "{} / {}: error does not name the field: {err}",
                    model.id, case.what
                )
            });
            assert!(
                matches(&problem),
                "{} / {}: wrong problem: {problem:?}",
                model.id,
                case.what
            );
            assert!(
                err.to_string().contains(&format!("`{}`", case.field)),
                "{} / {}: message does not name the field: {err}",
                model.id,
                case.what
            );
        }
        (expect, got) => panic!(
            "{} / {}: expected {:?}, got {got:?}",
            model.id,
            case.what,
            expect.is_ok()
        ),
    }
    assert_eq!(
        schema_ok,
        sdk.is_ok(),
        "{} / {}: the spec's JSON Schema disagrees with the SDK",
        model.id,
        case.what
    );
}

#[test]
fn every_limit_is_enforced_on_both_sides_of_its_boundary() {
    let mut counted = 0;
    for model in models() {
        let doc = spec(model.file);
        let validator = validator(&doc);
        let base = minimal_input(&doc);
        run_case(
            &model,
            &validator,
            &Case {
                what: "the required fields alone".into(),
                input: Value::Object(base.clone()),
                expect: Ok(()),
                field: String::new(),
            },
        );
        let props = input_schema(&doc)["properties"]
            .as_object()
            .expect("properties");
        for (name, schema) in props {
            for case in cases(&base, name, schema) {
                run_case(&model, &validator, &case);
                counted += 1;
            }
        }
    }
    // 5 prompts (8 cases each, 10 with null)... a floor that fails if the cases vanish.
    assert!(counted > 100, "only {counted} cases ran");
}

#[test]
fn every_enum_value_round_trips_and_a_wrong_one_lists_the_allowed_values() {
    for model in models() {
        let doc = spec(model.file);
        let base = minimal_input(&doc);
        let props = input_schema(&doc)["properties"]
            .as_object()
            .expect("properties");
        for (name, schema) in props {
            let Some(values) = schema["enum"].as_array() else {
                continue;
            };
            for value in values {
                let parsed =
                    (model.parse)(with(&base, name, value.clone())).expect("an enum value");
                assert_eq!(&parsed[name], value, "{} / {name}", model.id);
            }
            let err = (model.parse)(with(&base, name, json!("bogus"))).unwrap_err();
            let allowed: Vec<String> = values
                .iter()
                .map(|v| v.as_str().unwrap().to_owned())
                .collect();
            assert_eq!(
                problem_on(&err, name),
                Some(Problem::NotAllowed {
                    value: "bogus".into(),
                    allowed
                }),
                "{} / {name}",
                model.id
            );
        }
    }
}

#[test]
fn required_fields_are_required_and_unknown_fields_refused() {
    for model in models() {
        let doc = spec(model.file);
        let validator = validator(&doc);
        let base = minimal_input(&doc);
        for name in base.keys() {
            let mut input = base.clone();
            input.remove(name);
            let input = Value::Object(input);
            let err = (model.parse)(input.clone()).unwrap_err();
            assert_eq!(
                problem_on(&err, name),
                Some(Problem::Required),
                "{} / {name}",
                model.id
            );
            assert!(
                !schema_accepts(&validator, model.id, &input),
                "{} / {name}",
                model.id
            );
        }
        let input = with(&base, "aspectRatio", json!("16:9"));
        let err = (model.parse)(input.clone()).unwrap_err();
        assert!(matches!(
            problem_on(&err, "aspectRatio"),
            Some(Problem::Unsupported { .. })
        ));
        assert!(
            !schema_accepts(&validator, model.id, &input),
            "{}",
            model.id
        );
    }
}

#[test]
fn each_seed_example_round_trips_and_satisfies_its_schema() {
    for model in models() {
        let doc = spec(model.file);
        let example = example(&doc);
        assert_eq!(example["model"], model.id);
        let input = example["input"].clone();
        assert_eq!(
            (model.parse)(input.clone()).expect("the seed is valid"),
            input
        );
        assert!(validator(&doc).is_valid(example), "{}", model.id);
    }
}

#[test]
fn a_model_takes_a_progress_callback_exactly_when_its_spec_documents_one() {
    for model in models() {
        let doc = spec(model.file);
        let documented = request_schema(&doc)["properties"]
            .get("progressCallBackUrl")
            .is_some();
        let example = example(&doc)["input"].clone();
        assert_eq!(
            (model.takes_progress_callback)(example),
            documented,
            "{}",
            model.id
        );
    }
}

#[test]
fn the_model_info_matches_the_spec() {
    let infos = kie::registry::infos();
    for model in models() {
        let doc = spec(model.file);
        let info = infos.iter().find(|i| i.id == model.id).expect("registered");
        let schema = input_schema(&doc);
        let props = schema["properties"].as_object().expect("properties");
        let names: Vec<&str> = info.params.iter().map(|p| p.name).collect();
        let mut documented: Vec<&str> = props.keys().map(String::as_str).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        documented.sort_unstable();
        assert_eq!(sorted, documented, "{}", model.id);
        let required = crate::common::required(schema);
        for param in info.params {
            let prop = &props[param.name];
            assert_eq!(
                param.required,
                required.contains(&param.name),
                "{} / {}",
                model.id,
                param.name
            );
            let default = param
                .default
                .map(|d| serde_json::from_str::<Value>(d).unwrap());
            assert_eq!(
                default.as_ref(),
                prop.get("default"),
                "{} / {}",
                model.id,
                param.name
            );
            assert_eq!(
                param.description, prop["description"],
                "{} / {}",
                model.id, param.name
            );
        }
    }
}

//! The bad-input corpus: hundreds of invalid createTask requests across the five models,
//! each refused by the SDK before anything is sent, naming the field, and each answered
//! code 422 (under HTTP 200, as live) by the emulator (which judges with the specs' own
//! JSON Schema) when sent raw.
//!
//! The corpus is the hand-written cases of `corpus/bad_inputs.json` (wrong types,
//! lookalike enum values, misplaced and misspelt fields, URLs that are not URLs) plus
//! cases generated here from each spec: every length limit one character past it in
//! ten kinds of characters (ASCII, CJK, emoji, combining marks, ZWJ sequences, NUL,
//! bidi controls...), every enum with near misses, every number past its range or off
//! its step, every type, every required field, and every field of the other models.
//!
//! The SDK side goes the two ways an application holds a request: JSON for a known
//! model (the typed input's `from_json`, then `Client::submit`), and the uniform
//! `VideoRequest` sent to the model from the registry, wherever the case can be said
//! that way (a string prompt, a string callback URL). `RawInput` is left out on
//! purpose: it is the escape hatch for models the SDK does not know, and checks only
//! the shape.

use std::collections::{BTreeMap, BTreeSet};

use crate::common::{
    CreateTask, Model, example, input_schema, models, request_schema, spec, validator,
};
use kie::{Error, ErrorKind, Problem, VideoRequest};
use kie_emulator::Emulator;
use serde_json::{Value, json};

const KEY: &str = "corpus-key";

/// One invalid request and the field its refusal must name.
#[derive(Debug, Clone)]
struct Case {
    model: &'static str,
    why: String,
    /// The request as the SDK is given it.
    request: CreateTask,
    /// The createTask body sent raw: the same request, except that a callback URL
    /// which is not a string is sent as the JSON it was written as.
    raw: Value,
    field: String,
    /// The exact problem, where the case pins it down (lengths, counted in characters).
    problem: Option<Problem>,
}

impl Case {
    fn new(model: &'static str, field: &str, why: String, request: CreateTask) -> Self {
        let mut raw = json!({"model": model, "input": request.input});
        if let Some(url) = &request.callback_url {
            raw["callBackUrl"] = json!(url);
        }
        if let Some(url) = &request.progress_callback_url {
            raw["progressCallBackUrl"] = json!(url);
        }
        Case {
            model,
            why,
            request,
            raw,
            field: field.to_owned(),
            problem: None,
        }
    }

    /// The case as a uniform [`VideoRequest`], when it can be said that way: a string
    /// prompt, a string callback URL, no progress callback (which the uniform request
    /// does not carry).
    fn uniform_request(&self) -> Option<VideoRequest> {
        if self.request.progress_callback_url.is_some()
            || self
                .raw
                .get("callBackUrl")
                .is_some_and(|url| !url.is_string())
        {
            return None;
        }
        let input = self.request.input.as_object()?;
        // An empty prompt is no prompt to the uniform request: one a page sends as ""
        // goes as an extra, like any field the uniform request has no value for.
        // The field the model takes the uniform prompt as (`character_prompt` for Sora's
        // characters), if it takes one.
        let doc = spec(model_of(self.model).file);
        let field = doc["x-kie-rs"]["uniform"]["prompt"]["param"].as_str();
        let prompt = match field.and_then(|f| input.get(f)) {
            Some(Value::String(prompt)) if !prompt.is_empty() => prompt.as_str(),
            Some(Value::String(_)) | None => "",
            Some(_) => return None,
        };
        let mut request = VideoRequest::new(prompt);
        for (name, value) in input
            .iter()
            .filter(|(name, _)| Some(name.as_str()) != field || prompt.is_empty())
        {
            request = request.extra(name.clone(), value.clone());
        }
        if let Some(url) = &self.request.callback_url {
            request = request.callback_url(url.clone());
        }
        Some(request)
    }
}

/// Characters a length limit is tried with, one past the limit: the SDK and JSON
/// Schema both count Unicode code points, whatever their UTF-8 length, and whether or
/// not they combine into one visible character.
const ALPHABETS: [(&str, &str); 10] = [
    ("ASCII", "a"),
    ("CJK, 3 bytes each", "狐"),
    ("emoji, 4 bytes each", "🦊"),
    ("e and a combining acute accent", "e\u{301}"),
    ("a ZWJ emoji sequence", "👩\u{200d}💻"),
    ("NUL", "\u{0}"),
    ("right-to-left override", "\u{202e}"),
    ("byte order mark", "\u{feff}"),
    ("the last code point", "\u{10ffff}"),
    ("mixed scripts", "aé狐🦊"),
];

fn corpus() -> Vec<Case> {
    let file: Value = serde_json::from_str(include_str!("../corpus/bad_inputs.json"))
        .expect("../corpus/bad_inputs.json is JSON");
    let bad_urls: Vec<(String, String)> = file["bad_urls"]
        .as_array()
        .expect("bad_urls")
        .iter()
        .map(|u| (text(&u["value"]), text(&u["why"])))
        .collect();
    let mut cases = Vec::new();
    for model in models() {
        let doc = spec(model.file);
        generate(&model, &doc, &bad_urls, &mut cases);
    }
    for entry in file["cases"].as_array().expect("cases") {
        cases.push(hand_written(entry));
    }
    // A generated case and a hand-written one may coincide: count each request once.
    let mut seen = BTreeSet::new();
    cases.retain(|c| seen.insert(c.raw.to_string()));
    cases
}

fn text(value: &Value) -> String {
    value.as_str().expect("a string").to_owned()
}

/// The model's documented example request, the base every case changes one thing of.
/// The model's page example (or, for a page without one, its required fields): valid,
/// so that each case breaks only what it says.
fn base(id: &str) -> CreateTask {
    let doc = spec(model_of(id).file);
    let input = match &example(&doc)["input"] {
        Value::Null => Value::Object(crate::common::minimal_input(&doc)),
        input => input.clone(),
    };
    CreateTask {
        input,
        callback_url: None,
        progress_callback_url: None,
    }
}

fn hand_written(entry: &Value) -> Case {
    let id = model_of(entry["model"].as_str().expect("a model id")).id;
    let mut request = base(id);
    if let Some(set) = entry.get("set").and_then(Value::as_object) {
        for (name, value) in set {
            request.input[name] = value.clone();
        }
    }
    if let Some(name) = entry.get("remove").and_then(Value::as_str) {
        request
            .input
            .as_object_mut()
            .expect("an object")
            .remove(name);
    }
    if let Some(input) = entry.get("input") {
        request.input = input.clone();
    }
    // The SDK takes callback URLs as strings: anything else is given as its JSON text
    // (which fails the URL check as the wrong type fails the schema) and sent raw as is.
    let url_text = |value: &Value| {
        value
            .as_str()
            .map_or_else(|| value.to_string(), str::to_owned)
    };
    request.callback_url = entry.get("callBackUrl").map(url_text);
    request.progress_callback_url = entry.get("progressCallBackUrl").map(url_text);
    let mut case = Case::new(id, &text(&entry["field"]), text(&entry["why"]), request);
    for name in ["callBackUrl", "progressCallBackUrl"] {
        if let Some(value) = entry.get(name) {
            case.raw[name] = value.clone();
        }
    }
    case
}

/// Cases from one model's spec.
fn generate(model: &Model, doc: &Value, bad_urls: &[(String, String)], out: &mut Vec<Case>) {
    let base = base(model.id);
    let schema = input_schema(doc);
    let props = schema["properties"].as_object().expect("properties");
    let mut case = |field: &str, why: String, request: CreateTask, problem: Option<Problem>| {
        out.push(Case {
            problem,
            ..Case::new(model.id, field, why, request)
        });
    };
    let with = |name: &str, value: Value| {
        let mut request = base.clone();
        request.input[name] = value;
        request
    };

    for (name, prop) in props {
        let mut bad: Vec<(String, Value)> = Vec::new();
        if let Some(max) = prop["maxLength"].as_u64() {
            let len = usize::try_from(max).expect("a sane limit") + 1;
            for (kind, alphabet) in ALPHABETS {
                let value: String = alphabet.chars().cycle().take(len).collect();
                let why = format!("{name}: {len} characters of {kind} ({} bytes)", value.len());
                let problem = Problem::TooLong {
                    max: len - 1,
                    actual: len,
                };
                case(name, why, with(name, json!(value)), Some(problem));
            }
        }
        if let Some(values) = prop["enum"].as_array() {
            let first = values[0].as_str().expect("string enums");
            bad.extend([
                ("a value not in the enum".into(), json!("bogus")),
                ("empty".into(), json!("")),
                ("a trailing space".into(), json!(format!("{first} "))),
                ("a leading space".into(), json!(format!(" {first}"))),
                ("the value in a list".into(), json!([first])),
            ]);
            if first.to_uppercase() != first {
                bad.push(("upper case".into(), json!(first.to_uppercase())));
            }
            if let Ok(n) = first.parse::<i64>() {
                bad.push(("a number, not the string".into(), json!(n)));
            }
        }
        if let Some(min) = prop["minLength"].as_u64().filter(|m| *m > 0) {
            let len = usize::try_from(min).expect("a sane limit") - 1;
            let value: String = "fox".chars().cycle().take(len).collect();
            let problem = Problem::TooShort {
                min: len + 1,
                actual: len,
            };
            let why = format!("{name}: {len} characters, one short of its minimum");
            case(name, why, with(name, json!(value)), Some(problem));
        }
        let step = prop["multipleOf"].as_f64();
        match prop["type"].as_str().expect("a type") {
            "integer" | "number" if prop["type"] == "integer" || step == Some(1.0) => {
                let (min, max) = (prop["minimum"].as_i64(), prop["maximum"].as_i64());
                bad.extend(min.map(|m| ("below the minimum".into(), json!(m - 1))));
                bad.extend(max.map(|m| ("above the maximum".into(), json!(m + 1))));
                bad.extend([
                    ("a fraction, off the step of 1".into(), json!(0.5)),
                    ("a numeric string".into(), json!("1")),
                    ("a boolean".into(), json!(true)),
                ]);
            }
            "number" => {
                let past = step.unwrap_or(0.5);
                let tidy = |x: f64| (x * 1e9).round() / 1e9;
                let (min, max) = (prop["minimum"].as_f64(), prop["maximum"].as_f64());
                bad.extend(min.map(|m| ("below the minimum".into(), json!(tidy(m - past)))));
                bad.extend(max.map(|m| ("above the maximum".into(), json!(tidy(m + past)))));
                if let Some(step) = step {
                    let off = tidy(min.unwrap_or(0.0) + 2.5 * step);
                    bad.push(("off the step".into(), json!(off)));
                }
                bad.extend([
                    ("a numeric string".into(), json!("0.5")),
                    ("a boolean".into(), json!(false)),
                ]);
            }
            "boolean" => bad.extend([
                ("a string".into(), json!("true")),
                ("a number".into(), json!(1)),
            ]),
            "array" => {
                let items = &prop["items"];
                // A valid item, so that a count case breaks only the count.
                let item = |i: u64| match (items["type"].as_str(), items["format"].as_str()) {
                    (_, Some("uri")) => json!(format!("https://example.com/{i}.png")),
                    (Some("object"), _) => base.input[name]
                        .get(0)
                        .cloned()
                        .unwrap_or_else(|| json!(crate::common::required_example(items))),
                    _ => json!(format!("char_{i}")),
                };
                if let Some(max) = prop["maxItems"].as_u64() {
                    let list: Vec<Value> = (0..=max).map(item).collect();
                    let problem = Problem::TooManyItems {
                        max: max as usize,
                        actual: max as usize + 1,
                    };
                    let why = format!("{name}: {} items", max + 1);
                    case(name, why, with(name, json!(list)), Some(problem));
                }
                if let Some(min) = prop["minItems"].as_u64().filter(|m| *m > 0) {
                    let list: Vec<Value> = (1..min).map(item).collect();
                    let problem = Problem::TooFewItems {
                        min: min as usize,
                        actual: min as usize - 1,
                    };
                    let why = format!("{name}: {} items, one short of its minimum", min - 1);
                    case(name, why, with(name, json!(list)), Some(problem));
                }
                if items["format"] == "uri" {
                    for (url, why) in bad_urls.iter().take(4) {
                        bad.push((format!("an item {url:?}: {why}"), json!([url])));
                    }
                }
                if items["type"] == "object" {
                    bad.extend(object_item_cases(items, &item(0)));
                } else {
                    bad.push(("a number item".into(), json!([1])));
                }
                bad.push(("a string, not a list".into(), json!("char_1")));
            }
            "string" if prop["format"] == "uri" => {
                for (url, why) in bad_urls {
                    bad.push((format!("{url:?}: {why}"), json!(url)));
                }
                bad.push(("a number".into(), json!(1)));
            }
            "string" => bad.extend([
                ("a number".into(), json!(1)),
                ("a list".into(), json!(["text"])),
            ]),
            other => panic!("{}: no cases for type {other}", model.id),
        }
        bad.push(("null".into(), Value::Null));
        for (why, value) in bad {
            case(name, format!("{name}: {why}"), with(name, value), None);
        }
    }

    for name in crate::common::required(schema) {
        let mut request = base.clone();
        request
            .input
            .as_object_mut()
            .expect("an object")
            .remove(name);
        case(name, format!("{name} missing"), request, None);
    }

    // Every field of the other models, which this one does not take.
    let others: BTreeSet<String> = models()
        .iter()
        .flat_map(|m| {
            input_schema(&spec(m.file))["properties"]
                .as_object()
                .expect("properties")
                .keys()
                .cloned()
                .collect::<Vec<_>>()
        })
        .filter(|name| !props.contains_key(name))
        .collect();
    // A sample of them, spread over the sorted names: sixty models have some two hundred
    // fields between them, and one unknown field is refused like another.
    let every = others.len().div_ceil(24).max(1);
    for name in others.into_iter().step_by(every) {
        let value = if name.ends_with("_list") {
            json!(["x"])
        } else {
            json!("1")
        };
        let why = format!("{name}: another model's field");
        case(&name, why, with(&name, value), None);
    }

    let top = request_schema(doc)["properties"]
        .as_object()
        .expect("properties");
    for name in ["callBackUrl", "progressCallBackUrl"] {
        if !top.contains_key(name) {
            continue;
        }
        for (url, why) in bad_urls {
            let mut request = base.clone();
            match name {
                "callBackUrl" => request.callback_url = Some(url.clone()),
                _ => request.progress_callback_url = Some(url.clone()),
            }
            case(name, format!("{name} {url:?}: {why}"), request, None);
        }
    }
}

/// Lists of objects whose one item breaks a rule of the item: not an object, an unknown
/// field, a required field missing, a number out of its range.
fn object_item_cases(items: &Value, good: &Value) -> Vec<(String, Value)> {
    let mut out = vec![
        ("an item that is not an object".into(), json!([1])),
        ("an item with an unknown field".into(), {
            let mut item = good.clone();
            item["bogus"] = json!(1);
            json!([item])
        }),
    ];
    for name in crate::common::required(items) {
        let mut item = good.clone();
        item.as_object_mut().expect("an object item").remove(name);
        out.push((format!("an item without `{name}`"), json!([item])));
    }
    for (name, prop) in items["properties"].as_object().expect("item properties") {
        if let Some(max) = prop["maximum"].as_f64() {
            let mut item = good.clone();
            item[name] = json!(max + 1.0);
            out.push((
                format!("an item's `{name}` above its maximum"),
                json!([item]),
            ));
        }
    }
    out
}

async fn emulator() -> Emulator {
    crate::common::emulator(KEY).await
}

fn model_of(id: &str) -> Model {
    models()
        .into_iter()
        .find(|m| m.id == id)
        .unwrap_or_else(|| panic!("no model {id}"))
}

/// Whether `result` is a refusal before sending that names the case's field (and is
/// the case's exact problem, where it has one); if not, what went wrong.
fn refusal(case: &Case, way: &str, result: Result<kie::Task, Error>) -> Result<(), String> {
    let failure = |what: String| Err(format!("{} / {} ({way}): {what}", case.model, case.why));
    let err = match result.map_err(Error::into_kind) {
        Err(ErrorKind::InvalidInput(err)) => err,
        Err(other) => return failure(format!("not refused before sending: {other:?}")),
        Ok(task) => return failure(format!("accepted as {task}")),
    };
    // The uniform request names a required field it fills by its own name (`image`
    // for `image_url`), since that is what its caller set.
    let names = match way {
        "uniform" => uniform_names(case),
        _ => vec![case.field.clone()],
    };
    // A rule of one item of a list is named with its place: `shots[0].duration`.
    let names_it = |f: &str| {
        err.violations()
            .iter()
            .any(|v| v.field == f || v.field.starts_with(&format!("{f}[")))
            && err.to_string().contains(&format!("`{f}"))
    };
    let Some(field) = names.iter().find(|f| names_it(f)) else {
        return failure(format!(
            "the error does not name `{}`: {err}",
            names.join("` or `")
        ));
    };
    if let Some(problem) = &case.problem
        && !err
            .violations()
            .iter()
            .any(|v| v.field.starts_with(field.as_str()) && v.problem == *problem)
    {
        return failure(format!("expected {problem:?}, got {err:?}"));
    }
    Ok(())
}

/// The case's field, and the uniform field that fills it, if one does.
fn uniform_names(case: &Case) -> Vec<String> {
    let doc = spec(model_of(case.model).file);
    let mut names = vec![case.field.clone()];
    if let Some(uniform) = doc["x-kie-rs"]["uniform"].as_object() {
        names.extend(
            uniform
                .iter()
                .filter(|(_, target)| target["param"] == case.field.as_str())
                .map(|(name, _)| name.clone()),
        );
    }
    names
}

/// Each limit keyword, and what the `why` of a case that breaks it says.
const LIMIT_CASES: [(&str, &str); 8] = [
    ("maxLength", "characters of"),
    ("minLength", "characters, one short"),
    ("minimum", "below the minimum"),
    ("maximum", "above the maximum"),
    ("multipleOf", "off the step"),
    ("maxItems", " items"),
    ("minItems", "items, one short"),
    ("enum", "not in the enum"),
];

/// Fails listing every failure, so that one run shows the whole disagreement.
fn assert_none(failures: &[String], cases: usize) {
    assert!(
        failures.is_empty(),
        "{} of {cases} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn the_corpus_has_cases_for_every_field_and_every_limit_of_every_model() {
    let cases = corpus();
    let mut per_model: BTreeMap<&str, usize> = BTreeMap::new();
    let mut fields: BTreeSet<(&str, &str)> = BTreeSet::new();
    for case in &cases {
        *per_model.entry(case.model).or_default() += 1;
        fields.insert((case.model, case.field.as_str()));
    }
    eprintln!("{} cases: {per_model:?}", cases.len());
    assert!(cases.len() >= 200, "only {} cases", cases.len());
    for model in models() {
        let count = per_model.get(model.id).copied().unwrap_or_default();
        assert!(count >= 40, "{}: only {count} cases", model.id);
        // Every documented field of every model is the subject of some case.
        let props = input_schema(&spec(model.file))["properties"].clone();
        for (name, prop) in props.as_object().expect("properties") {
            assert!(
                fields.contains(&(model.id, name.as_str())),
                "{}: no case for `{name}`",
                model.id
            );
            // Every documented limit of the field has a case one step past it.
            for (keyword, says) in LIMIT_CASES {
                let limited = match keyword {
                    "minLength" | "minItems" => prop[keyword].as_u64().is_some_and(|m| m > 0),
                    _ => prop.get(keyword).is_some(),
                };
                let covered = cases
                    .iter()
                    .any(|c| c.model == model.id && c.field == *name && c.why.contains(says));
                assert!(
                    !limited || covered,
                    "{}: no case for `{name}`'s {keyword}",
                    model.id
                );
            }
        }
        assert!(fields.contains(&(model.id, "callBackUrl")), "{}", model.id);
    }
}

#[tokio::test]
async fn the_sdk_refuses_every_case_before_sending_naming_the_field() {
    let emulator = emulator().await;
    let client = crate::common::client(&emulator, KEY);
    let cases = corpus();
    let mut uniform = 0;
    let mut failures = Vec::new();
    for case in &cases {
        let model = model_of(case.model);
        let typed = (model.submit)(client.clone(), case.request.clone()).await;
        failures.extend(refusal(case, "typed", typed).err());
        if let Some(request) = case.uniform_request() {
            let registered = kie::registry::model(case.model).expect("registered");
            let result = registered.submit(&client, &request).await;
            failures.extend(refusal(case, "uniform", result).err());
            uniform += 1;
        }
    }
    assert_none(&failures, cases.len());
    eprintln!(
        "{} cases refused by the typed path, {uniform} by the uniform one too",
        cases.len()
    );
    assert!(
        uniform * 2 > cases.len(),
        "the uniform path took only {uniform} cases"
    );
    let stats = emulator.stats();
    assert_eq!(
        stats.requests.values().sum::<u64>(),
        0,
        "the emulator received requests: {:?}",
        stats.requests
    );

    // The same client reaches the emulator: each model's documented example, the base
    // every case changed one thing of, is accepted.
    for model in models() {
        let task = (model.submit)(client.clone(), base(model.id)).await;
        task.unwrap_or_else(|e| panic!("{}: the example is refused: {e}", model.id));
    }
    assert_eq!(emulator.stats().tasks_created, models().len() as u64);
}

#[tokio::test]
async fn the_emulator_answers_422_naming_the_field_to_every_case_sent_raw() {
    let emulator = emulator().await;
    let http = reqwest::Client::new();
    let url = format!("{}/api/v1/jobs/createTask", emulator.base_url());
    let send = |body: Value| http.post(&url).bearer_auth(KEY).json(&body).send();

    // The base of every case is accepted, so each 422 below is the case's own doing.
    for model in models() {
        let request = base(model.id);
        let answer = send(json!({"model": model.id, "input": request.input}))
            .await
            .expect("sent");
        assert_eq!(answer.status(), 200, "{}", model.id);
    }

    let cases = corpus();
    let mut failures = Vec::new();
    let mut as_docs = 0;
    for case in &cases {
        let answer = send(case.raw.clone()).await.expect("sent");
        let status = answer.status().as_u16();
        let answer: Value = answer.json().await.expect("a JSON answer");
        let msg = answer["msg"].as_str().unwrap_or_default();
        // A form kie.ai's own examples use (an empty optional URL, a number as text...)
        // is taken as the docs mean it, when it then fits the schema.
        let doc = spec(model_of(case.model).file);
        let read = read_as_docs(&doc, &case.raw);
        if read != case.raw && validator(&doc).is_valid(&read) {
            as_docs += 1;
            if answer["code"] != 200 {
                failures.push(format!(
                    "{} / {}: a docs form, refused: {answer}",
                    case.model, case.why
                ));
            }
            continue;
        }
        if (status, &answer["code"]) != (200, &json!(422)) {
            failures.push(format!(
                "{} / {}: HTTP {status}, {answer}",
                case.model, case.why
            ));
        } else if !emulator_names(msg, &case.field) {
            failures.push(format!(
                "{} / {}: the 422 does not name `{}`: {msg}",
                case.model, case.why, case.field
            ));
        }
    }
    assert_none(&failures, cases.len());
    eprintln!("{as_docs} cases are forms kie.ai's docs examples use, taken as meant");
    assert_eq!(
        emulator.stats().rejected_invalid,
        (cases.len() - as_docs) as u64
    );
}

/// The body as the emulator reads kie.ai's docs examples (see its `docs_reading`): a
/// documented field's name trimmed, an empty optional URL left out, a scalar of the
/// other type converted to a documented non-enum string or number when nothing is lost.
fn read_as_docs(doc: &Value, body: &Value) -> Value {
    let schema = input_schema(doc);
    let required = crate::common::required(schema);
    let mut body = body.clone();
    let Some(input) = body["input"].as_object_mut() else {
        return body;
    };
    let mut read = serde_json::Map::new();
    for (name, value) in std::mem::take(input) {
        let name = match name.trim() {
            trimmed if trimmed != name && schema["properties"].get(trimmed).is_some() => {
                trimmed.to_owned()
            }
            _ => name,
        };
        let prop = &schema["properties"][&name];
        if prop["format"] == "uri" && !required.contains(&name.as_str()) && value == "" {
            continue;
        }
        let converted = match (prop["type"].as_str(), &value) {
            _ if prop.get("enum").is_some() => None,
            (Some("string"), Value::Number(n)) => Some(json!(n.to_string())),
            (Some("number"), Value::String(s)) => s
                .trim()
                .parse::<serde_json::Number>()
                .ok()
                .map(Value::Number),
            (Some("integer"), Value::String(s)) => s.trim().parse::<i64>().ok().map(Value::from),
            _ => None,
        };
        read.insert(name, converted.unwrap_or(value));
    }
    *input = read;
    body
}

/// Whether the emulator's message names `field`: as `input.field: ...` (a field of
/// input), `input.field.0: ...` (an item of it), `field: ...` (a field of the body), or
/// `'field'` (an unexpected property).
fn emulator_names(msg: &str, field: &str) -> bool {
    let msg = msg.trim_start_matches("Invalid request: ");
    msg.contains(&format!("input.{field}: "))
        || msg.contains(&format!("input.{field}."))
        || msg.contains(&format!("'{field}'"))
        || msg
            .split("; ")
            .any(|part| part.starts_with(&format!("{field}: ")))
}

//! What the spec-driven tests share: the five models, their spec documents, the
//! spec's own JSON Schema as an independent judge, and a client for an emulator.

#![allow(dead_code)]

use std::future::Future;
use std::pin::Pin;

use kie::{Client, Error, Problem, Task, ValidationError};
use kie_emulator::Emulator;
use serde_json::{Map, Value};

/// One model under test: its spec file, its generated `from_json` (returning the parsed
/// input serialized back to JSON), and a submission of raw JSON the way an application
/// holding JSON for this model makes it.
pub struct Model {
    pub file: &'static str,
    pub id: &'static str,
    pub parse: fn(Value) -> Result<Value, ValidationError>,
    pub submit: fn(Client, CreateTask) -> Submission,
    /// Whether the typed input, parsed from this JSON, says the model takes a
    /// `progressCallBackUrl`.
    pub takes_progress_callback: fn(Value) -> bool,
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

macro_rules! model {
    ($file:literal, $ty:ty) => {
        Model {
            file: $file,
            id: <$ty>::MODEL_ID,
            parse: |value| {
                <$ty>::from_json(value)
                    .map(|input| serde_json::to_value(input).expect("a typed input serializes"))
            },
            submit: |client, request| {
                Box::pin(async move {
                    let input = <$ty>::from_json(request.input)?;
                    let mut submit = client.submit(&input);
                    if let Some(url) = request.callback_url {
                        submit = submit.callback_url(url);
                    }
                    if let Some(url) = request.progress_callback_url {
                        submit = submit.progress_callback_url(url);
                    }
                    submit.await
                })
            },
            takes_progress_callback: |value| {
                let input = <$ty>::from_json(value).expect("a valid input");
                kie::ModelInput::takes_progress_callback(&input)
            },
        }
    };
}

pub fn models() -> Vec<Model> {
    vec![
        model!(
            "bytedance-v1-pro-text-to-video.json",
            kie::bytedance::BytedanceV1ProTextToVideoInput
        ),
        model!(
            "bytedance-v1-pro-fast-image-to-video.json",
            kie::bytedance::BytedanceV1ProFastImageToVideoInput
        ),
        model!(
            "sora-2-pro-text-to-video.json",
            kie::sora::Sora2ProTextToVideoInput
        ),
        model!(
            "kling-v2-1-master-text-to-video.json",
            kie::kling::KlingV21MasterTextToVideoInput
        ),
        model!(
            "hailuo-02-text-to-video-pro.json",
            kie::hailuo::Hailuo02TextToVideoProInput
        ),
        model!(
            "bytedance-seedance-1.5-pro.json",
            kie::bytedance::BytedanceSeedance15ProInput
        ),
        model!(
            "bytedance-seedance-2-fast.json",
            kie::bytedance::BytedanceSeedance2FastInput
        ),
        model!(
            "bytedance-seedance-2.json",
            kie::bytedance::BytedanceSeedance2Input
        ),
        model!(
            "bytedance-v1-lite-image-to-video.json",
            kie::bytedance::BytedanceV1LiteImageToVideoInput
        ),
        model!(
            "bytedance-v1-lite-text-to-video.json",
            kie::bytedance::BytedanceV1LiteTextToVideoInput
        ),
        model!(
            "bytedance-v1-pro-image-to-video.json",
            kie::bytedance::BytedanceV1ProImageToVideoInput
        ),
        model!(
            "sora-2-characters-pro.json",
            kie::sora::Sora2CharactersProInput
        ),
        model!("sora-2-characters.json", kie::sora::Sora2CharactersInput),
        model!(
            "sora-2-image-to-video.json",
            kie::sora::Sora2ImageToVideoInput
        ),
        model!(
            "sora-2-pro-image-to-video.json",
            kie::sora::Sora2ProImageToVideoInput
        ),
        model!(
            "sora-2-pro-storyboard.json",
            kie::sora::Sora2ProStoryboardInput
        ),
        model!(
            "sora-2-text-to-video.json",
            kie::sora::Sora2TextToVideoInput
        ),
        model!(
            "sora-watermark-remover.json",
            kie::sora::SoraWatermarkRemoverInput
        ),
        model!(
            "kling-2.6-image-to-video.json",
            kie::kling::KlingV26ImageToVideoInput
        ),
        model!(
            "kling-2.6-motion-control.json",
            kie::kling::KlingV26MotionControlInput
        ),
        model!(
            "kling-2.6-text-to-video.json",
            kie::kling::KlingV26TextToVideoInput
        ),
        model!(
            "kling-3.0-motion-control.json",
            kie::kling::KlingV30MotionControlInput
        ),
        model!("kling-3.0-video.json", kie::kling::KlingV30VideoInput),
        model!(
            "kling-ai-avatar-pro.json",
            kie::kling::KlingAiAvatarProInput
        ),
        model!(
            "kling-ai-avatar-standard.json",
            kie::kling::KlingAiAvatarStandardInput
        ),
        model!(
            "kling-v2-1-master-image-to-video.json",
            kie::kling::KlingV21MasterImageToVideoInput
        ),
        model!("kling-v2-1-pro.json", kie::kling::KlingV21ProInput),
        model!(
            "kling-v2-1-standard.json",
            kie::kling::KlingV21StandardInput
        ),
        model!(
            "kling-v2-5-turbo-image-to-video-pro.json",
            kie::kling::KlingV25TurboImageToVideoProInput
        ),
        model!(
            "kling-v2-5-turbo-text-to-video-pro.json",
            kie::kling::KlingV25TurboTextToVideoProInput
        ),
        model!(
            "hailuo-02-image-to-video-pro.json",
            kie::hailuo::Hailuo02ImageToVideoProInput
        ),
        model!(
            "hailuo-02-image-to-video-standard.json",
            kie::hailuo::Hailuo02ImageToVideoStandardInput
        ),
        model!(
            "hailuo-02-text-to-video-standard.json",
            kie::hailuo::Hailuo02TextToVideoStandardInput
        ),
        model!(
            "hailuo-2-3-image-to-video-pro.json",
            kie::hailuo::Hailuo23ImageToVideoProInput
        ),
        model!(
            "hailuo-2-3-image-to-video-standard.json",
            kie::hailuo::Hailuo23ImageToVideoStandardInput
        ),
        model!(
            "grok-imagine-extend.json",
            kie::grok::GrokImagineExtendInput
        ),
        model!(
            "grok-imagine-image-to-video.json",
            kie::grok::GrokImagineImageToVideoInput
        ),
        model!(
            "grok-imagine-text-to-video.json",
            kie::grok::GrokImagineTextToVideoInput
        ),
        model!(
            "grok-imagine-upscale.json",
            kie::grok::GrokImagineUpscaleInput
        ),
        model!(
            "happyhorse-image-to-video.json",
            kie::happyhorse::HappyHorseImageToVideoInput
        ),
        model!(
            "happyhorse-reference-to-video.json",
            kie::happyhorse::HappyHorseReferenceToVideoInput
        ),
        model!(
            "happyhorse-text-to-video.json",
            kie::happyhorse::HappyHorseTextToVideoInput
        ),
        model!(
            "happyhorse-video-edit.json",
            kie::happyhorse::HappyHorseVideoEditInput
        ),
        model!(
            "infinitalk-from-audio.json",
            kie::infinitalk::InfinitalkFromAudioInput
        ),
        model!(
            "topaz-video-upscale.json",
            kie::topaz::TopazVideoUpscaleInput
        ),
        model!(
            "wan-2-2-a14b-image-to-video-turbo.json",
            kie::wan::Wan22A14bImageToVideoTurboInput
        ),
        model!(
            "wan-2-2-a14b-speech-to-video-turbo.json",
            kie::wan::Wan22A14bSpeechToVideoTurboInput
        ),
        model!(
            "wan-2-2-a14b-text-to-video-turbo.json",
            kie::wan::Wan22A14bTextToVideoTurboInput
        ),
        model!("wan-2-2-animate-move.json", kie::wan::Wan22AnimateMoveInput),
        model!(
            "wan-2-2-animate-replace.json",
            kie::wan::Wan22AnimateReplaceInput
        ),
        model!(
            "wan-2-5-image-to-video.json",
            kie::wan::Wan25ImageToVideoInput
        ),
        model!(
            "wan-2-5-text-to-video.json",
            kie::wan::Wan25TextToVideoInput
        ),
        model!(
            "wan-2-6-flash-image-to-video.json",
            kie::wan::Wan26FlashImageToVideoInput
        ),
        model!(
            "wan-2-6-flash-video-to-video.json",
            kie::wan::Wan26FlashVideoToVideoInput
        ),
        model!(
            "wan-2-6-image-to-video.json",
            kie::wan::Wan26ImageToVideoInput
        ),
        model!(
            "wan-2-6-text-to-video.json",
            kie::wan::Wan26TextToVideoInput
        ),
        model!(
            "wan-2-6-video-to-video.json",
            kie::wan::Wan26VideoToVideoInput
        ),
        model!(
            "wan-2-7-image-to-video.json",
            kie::wan::Wan27ImageToVideoInput
        ),
        model!("wan-2-7-r2v.json", kie::wan::Wan27R2vInput),
        model!(
            "wan-2-7-text-to-video.json",
            kie::wan::Wan27TextToVideoInput
        ),
        model!("wan-2-7-videoedit.json", kie::wan::Wan27VideoeditInput),
    ]
}

/// A spec document, from the copies the emulator embeds (the same bytes as the
/// workspace's `spec/`, and inside the published packages too).
pub fn spec(file: &str) -> Value {
    let (_, text) = kie_emulator::spec_documents()
        .iter()
        .find(|(name, _)| *name == file)
        .unwrap_or_else(|| panic!("the emulator embeds no {file}"));
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{file}: {e}"))
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
pub fn minimal_input(doc: &Value) -> Map<String, Value> {
    let schema = input_schema(doc);
    let mut input = Map::new();
    for name in schema["required"].as_array().expect("input.required") {
        let name = name.as_str().expect("a field name");
        input.insert(
            name.to_owned(),
            schema["properties"][name]["example"].clone(),
        );
    }
    input
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
pub fn client(emulator: &Emulator, key: &str) -> Client {
    Client::builder()
        .api_key(key)
        .base_url(emulator.base_url())
        .upload_base_url(emulator.upload_base_url())
        .build()
        .expect("a client for the emulator")
}

//! Each model's result shape, from its document's `x-kie-rs.result`: videos (the
//! default), videos and frames (when the request asks for the last frame), a character
//! id with no file; and a document naming a shape the emulator does not know.

use crate::common::{client, create, create_raw, poll_until_done};
use kie_emulator::Emulator;
use serde_json::{Value, json};

/// A model document in the shape of `spec/`, with `result` as its `x-kie-rs.result`.
fn document(model: &str, result: Option<Value>) -> Value {
    let mut doc = json!({
        "openapi": "3.0.1",
        "info": {"title": model, "version": "1.0.0"},
        "x-kie-rs": {"provider": "test", "modality": "text-to-video"},
        "paths": {"/api/v1/jobs/createTask": {"post": {"requestBody": {"content": {"application/json": {"schema": {
            "type": "object",
            "required": ["model", "input"],
            "properties": {
                "model": {"type": "string", "enum": [model]},
                "callBackUrl": {"type": "string", "format": "uri"},
                "input": {
                    "type": "object",
                    "required": ["prompt"],
                    "additionalProperties": false,
                    "properties": {
                        "prompt": {"type": "string"},
                        "return_last_frame": {"type": "boolean", "default": false}
                    }
                }
            }
        }}}}}}}
    });
    if let Some(result) = result {
        doc["x-kie-rs"]["result"] = result;
    }
    doc
}

async fn emulator() -> Emulator {
    Emulator::builder()
        .seed(3)
        .spec_document(
            "frames.json",
            document("test/frames", Some(json!("videos-and-frames"))),
        )
        .spec_document(
            "character.json",
            document("test/character", Some(json!("character"))),
        )
        .spec_document(
            "videos.json",
            document("test/videos", Some(json!("videos"))),
        )
        .spec_document("plain.json", document("test/plain", None))
        .spec_document("odd.json", document("test/odd", Some(json!("frames"))))
        .start()
        .await
        .expect("starts")
}

/// The keys of a `resultJson` object, sorted.
fn keys(result: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = result
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    keys
}

/// Creates a task that finishes at once and returns its id and its decoded `resultJson`.
async fn run(emulator: &Emulator, model: &str, input: Value) -> (String, Value) {
    let mut input = input;
    input["prompt"] = json!("a fox [emulator:immediate]");
    let id = create(
        emulator.base_url(),
        &json!({"model": model, "input": input}),
    )
    .await;
    let data = poll_until_done(emulator.base_url(), &id, 1).await;
    assert_eq!(data["state"], "success", "{data}");
    let text = data["resultJson"]
        .as_str()
        .expect("resultJson is JSON text");
    (id, serde_json::from_str(text).expect("resultJson parses"))
}

async fn fetch(url: &str) -> (u16, String, Vec<u8>) {
    let response = client().get(url).send().await.expect("get");
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let bytes = response.bytes().await.expect("bytes").to_vec();
    (status, content_type, bytes)
}

#[tokio::test]
async fn frames_are_served_when_the_request_asks_for_them() {
    let emulator = emulator().await;
    let (id, result) = run(&emulator, "test/frames", json!({"return_last_frame": true})).await;
    assert_eq!(
        keys(&result),
        ["firstFrameUrl", "lastFrameUrl", "resultUrls"],
        "{result}"
    );
    // Lists of one URL each, as kie.ai's docs write them.
    let first = result["firstFrameUrl"][0].as_str().expect("a first frame");
    let last = result["lastFrameUrl"][0].as_str().expect("a last frame");
    assert_eq!(result["firstFrameUrl"].as_array().unwrap().len(), 1);
    assert_ne!(first, last);
    for url in [first, last] {
        assert!(
            url.starts_with(&format!("{}/files/results/{id}/", emulator.base_url())),
            "{url}"
        );
        let (status, content_type, bytes) = fetch(url).await;
        assert_eq!((status, content_type.as_str()), (200, "image/png"), "{url}");
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
        let head = client().head(url).send().await.expect("head");
        assert_eq!(head.status(), 200);
    }
    let (status, content_type, _) = fetch(result["resultUrls"][0].as_str().unwrap()).await;
    assert_eq!((status, content_type.as_str()), (200, "video/mp4"));
    let snapshot = emulator.task(&id).unwrap();
    assert_eq!(snapshot.first_frame_url.as_deref(), Some(first));
    assert_eq!(snapshot.last_frame_url.as_deref(), Some(last));
}

#[tokio::test]
async fn no_frames_unless_asked_for() {
    let emulator = emulator().await;
    for input in [json!({}), json!({"return_last_frame": false})] {
        let (id, result) = run(&emulator, "test/frames", input.clone()).await;
        assert_eq!(keys(&result), ["resultUrls"], "{input}: {result}");
        assert_eq!(emulator.task(&id).unwrap().first_frame_url, None);
    }
}

#[tokio::test]
async fn a_character_is_an_id_and_no_file() {
    let emulator = emulator().await;
    let (id, result) = run(&emulator, "test/character", json!({})).await;
    assert_eq!(keys(&result), ["character_id"], "{result}");
    let character = result["character_id"].as_str().expect("an id");
    assert!(
        character.starts_with("char_") && character.len() > 10,
        "{character}"
    );
    let snapshot = emulator.task(&id).unwrap();
    assert_eq!(snapshot.character_id.as_deref(), Some(character));
    assert!(snapshot.result_urls.is_empty());
    // No file was made for the task.
    let (status, _, _) = fetch(&format!("{}/files/results/{id}/", emulator.base_url())).await;
    assert_eq!(status, 404);
    // A second character has another id.
    let (_, again) = run(&emulator, "test/character", json!({})).await;
    assert_ne!(again["character_id"], result["character_id"]);
}

#[tokio::test]
async fn videos_by_name_or_by_default() {
    let emulator = emulator().await;
    for model in ["test/videos", "test/plain"] {
        let (_, result) = run(&emulator, model, json!({"return_last_frame": true})).await;
        assert_eq!(keys(&result), ["resultUrls"], "{model}: {result}");
        assert_eq!(result["resultUrls"].as_array().unwrap().len(), 1);
    }
}

#[tokio::test]
async fn an_unknown_shape_is_a_spec_problem_not_a_model() {
    let emulator = emulator().await;
    assert!(!emulator.models().contains(&"test/odd".to_owned()));
    let problems = emulator.stats().spec_problems;
    assert!(
        problems
            .iter()
            .any(|p| p.starts_with("odd.json: x-kie-rs.result \"frames\" is not one of")),
        "{problems:?}"
    );
    let answer = create_raw(
        emulator.base_url(),
        &json!({"model": "test/odd", "input": {"prompt": "p"}}).to_string(),
    )
    .await;
    assert_eq!(answer.body["code"], 422, "{}", answer.text);
}

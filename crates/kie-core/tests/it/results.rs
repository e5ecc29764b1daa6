//! The forms of `resultJson` a wait accepts, each in the shape recordInfo sends it
//! (`resultJson` as JSON text inside the record, `null`s where the live API has them):
//! videos, videos with watermarked copies, Seedance 2's frames, a text result, a Sora 2
//! character; and the one it refuses, a success with nothing usable. The last tests
//! run the same forms through the emulator, from a model document's `x-kie-rs.result`.

use std::sync::Arc;

use kie_core::time::VirtualTimer;
use kie_core::{Client, ErrorKind, RawInput, RetryPolicy, VideoResult};
use kie_emulator::{Emulator, Timeline};
use serde_json::{Value, json};
use wiremock::matchers::path;
use wiremock::{Mock, MockServer};

use crate::common::{client, envelope};

/// A success record as recordInfo sends it, with `result_json` as its `resultJson` text.
fn success(model: &str, result_json: &str) -> Value {
    json!({
        "code": 200,
        "msg": "success",
        "data": {
            "taskId": "t1",
            "model": model,
            "state": "success",
            "param": format!(r#"{{"model":"{model}","input":"{{\"prompt\":\"p\"}}"}}"#),
            "resultJson": result_json,
            "failCode": null,
            "failMsg": null,
            "costTime": 95,
            "completeTime": 1_767_000_095_000_i64,
            "createTime": 1_767_000_000_000_i64,
        }
    })
}

async fn serve(body: Value) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(path("/api/v1/jobs/recordInfo"))
        .respond_with(envelope(200, body))
        .mount(&server)
        .await;
    server
}

async fn wait_for(model: &str, result_json: &str) -> Result<VideoResult, kie_core::Error> {
    let server = serve(success(model, result_json)).await;
    let (client, _) = client(&server.uri(), RetryPolicy::none());
    client.task("t1").wait().await
}

#[tokio::test]
async fn a_video_with_its_watermarked_copy() {
    let video = wait_for(
        "sora-2-text-to-video",
        r#"{"resultUrls":["https://tempfile.aiquickdraw.com/v/t1.mp4"],"resultWaterMarkUrls":["https://tempfile.aiquickdraw.com/v/t1_wm.mp4"]}"#,
    )
    .await
    .unwrap();
    assert_eq!(
        video.video_url(),
        "https://tempfile.aiquickdraw.com/v/t1.mp4"
    );
    let result = video.record.result.as_ref().unwrap();
    assert_eq!(
        result.watermark_urls,
        ["https://tempfile.aiquickdraw.com/v/t1_wm.mp4"]
    );
    assert_eq!(
        (
            &video.first_frame_url,
            &video.last_frame_url,
            &video.character_id
        ),
        (&None, &None, &None)
    );
    assert!(result.extra.is_empty());
}

#[tokio::test]
async fn seedance_frames_as_lists_or_as_strings() {
    let video = wait_for(
        "bytedance/seedance-2",
        r#"{"resultUrls":["https://tempfile.aiquickdraw.com/s/t1.mp4"],"firstFrameUrl":["https://tempfile.aiquickdraw.com/s/first.png"],"lastFrameUrl":["https://tempfile.aiquickdraw.com/s/last.png"]}"#,
    )
    .await
    .unwrap();
    assert_eq!(
        video.video_url(),
        "https://tempfile.aiquickdraw.com/s/t1.mp4"
    );
    assert_eq!(
        video.first_frame_url.as_deref(),
        Some("https://tempfile.aiquickdraw.com/s/first.png")
    );
    assert_eq!(
        video.last_frame_url.as_deref(),
        Some("https://tempfile.aiquickdraw.com/s/last.png")
    );

    let video = wait_for(
        "bytedance/seedance-2-fast",
        r#"{"resultUrls":["https://x/t1.mp4"],"firstFrameUrl":"https://x/f.png","lastFrameUrl":"https://x/l.png"}"#,
    )
    .await
    .unwrap();
    assert_eq!(
        (
            video.first_frame_url.as_deref(),
            video.last_frame_url.as_deref()
        ),
        (Some("https://x/f.png"), Some("https://x/l.png"))
    );
}

#[tokio::test]
async fn a_character_is_a_result_without_a_file() {
    let video = wait_for(
        "sora-2-characters",
        r#"{"character_id":"example_123456789"}"#,
    )
    .await
    .unwrap();
    assert_eq!(video.character_id.as_deref(), Some("example_123456789"));
    assert!(video.urls.is_empty());
    assert_eq!(video.video_url(), "");
    assert_eq!(video.task_id, "t1");
    assert_eq!(video.model.as_deref(), Some("sora-2-characters"));
}

#[tokio::test]
async fn a_text_result_is_a_result_without_a_file() {
    let video = wait_for(
        "some/text-model",
        r#"{"resultObject":{"text":"a fox in the snow","tags":["fox"]}}"#,
    )
    .await
    .unwrap();
    assert_eq!(
        video.object(),
        Some(&json!({"text": "a fox in the snow", "tags": ["fox"]}))
    );
    assert_eq!(video.video_url(), "");
}

#[tokio::test]
async fn a_success_with_nothing_usable_fails_with_the_task_id() {
    for result_json in [
        r#"{"resultUrls":[]}"#,
        "{}",
        r#"{"character_id":""}"#,
        r#"{"resultObject":null}"#,
        // Frames without the video are not a result.
        r#"{"resultUrls":[],"firstFrameUrl":["https://x/f.png"],"lastFrameUrl":["https://x/l.png"]}"#,
        "",
    ] {
        let err = wait_for("bytedance/seedance-2", result_json)
            .await
            .unwrap_err();
        let ErrorKind::Decode { reason, body, .. } = err.kind() else {
            panic!("{result_json}: {err}");
        };
        assert!(reason.contains("no `resultUrls`"), "{reason}");
        assert!(body.contains("\"taskId\":\"t1\""), "{body}");
        assert_eq!(err.task_id(), Some("t1"), "{result_json}");
    }
}

#[tokio::test]
async fn download_to_refuses_a_character_before_downloading() {
    let server = serve(success(
        "sora-2-characters",
        r#"{"character_id":"example_123456789"}"#,
    ))
    .await;
    let (client, _) = client(&server.uri(), RetryPolicy::none());
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("character.mp4");
    let err = client
        .task("t1")
        .wait()
        .download_to(&target)
        .await
        .unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::Decode { reason, .. } if reason.contains("a character id, not a file")),
        "{err}"
    );
    assert_eq!(err.task_id(), Some("t1"));
    assert!(!target.exists());
    // One recordInfo, and nothing else asked of any server.
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

/// A model document in the shape of `spec/`, with `result` as its `x-kie-rs.result`.
fn document(model: &str, result: Option<&str>) -> Value {
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
                        "return_last_frame": {"type": "boolean"}
                    }
                }
            }
        }}}}}}}
    });
    if let Some(result) = result {
        doc["x-kie-rs"]["result"] = json!(result);
    }
    doc
}

async fn emulator_with_result_shapes() -> Emulator {
    Emulator::builder()
        .seed(5)
        .timeline(Timeline::AfterPolls { polls: 2 })
        .spec_document(
            "frames.json",
            document("test/frames", Some("videos-and-frames")),
        )
        .spec_document(
            "character.json",
            document("test/character", Some("character")),
        )
        .spec_document("plain.json", document("test/plain", None))
        .start()
        .await
        .expect("the emulator starts")
}

fn client_for(emulator: &Emulator) -> Client {
    Client::builder()
        .api_key("test-key")
        .base_url(emulator.base_url())
        .upload_base_url(emulator.upload_base_url())
        .timer(Arc::new(VirtualTimer::new()))
        .build()
        .expect("a valid configuration")
}

#[tokio::test]
async fn the_emulator_serves_each_form_and_the_sdk_reads_it() {
    let emulator = emulator_with_result_shapes().await;
    let client = client_for(&emulator);

    // Frames asked for: the video and both frames, each a file that downloads.
    let input = RawInput::new(
        "test/frames",
        json!({"prompt": "a fox", "return_last_frame": true}),
    );
    let video = client.submit(&input).await.unwrap().wait().await.unwrap();
    let (first, last) = (
        video.first_frame_url.clone().expect("a first frame"),
        video.last_frame_url.clone().expect("a last frame"),
    );
    assert!(video.video_url().starts_with(emulator.base_url()));
    for url in [&first, &last] {
        assert!(url.starts_with(emulator.base_url()), "{url}");
        let mut bytes = Vec::new();
        client.download(url).to_writer(&mut bytes).await.unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{url}");
    }

    // Frames not asked for: the video alone.
    let input = RawInput::new("test/frames", json!({"prompt": "a fox"}));
    let video = client.submit(&input).await.unwrap().wait().await.unwrap();
    assert_eq!(video.urls.len(), 1);
    assert_eq!((video.first_frame_url, video.last_frame_url), (None, None));

    // A character: an id and no file.
    let input = RawInput::new("test/character", json!({"prompt": "a fox"}));
    let task = client.submit(&input).await.unwrap();
    let video = task.wait().await.unwrap();
    let id = video.character_id.clone().expect("a character id");
    assert!(!id.is_empty());
    assert!(video.urls.is_empty());
    let snapshot = emulator.task(task.id()).unwrap();
    assert_eq!(snapshot.character_id.as_deref(), Some(id.as_str()));
    assert!(snapshot.result_urls.is_empty());

    // No `x-kie-rs.result`: videos.
    let input = RawInput::new("test/plain", json!({"prompt": "a fox"}));
    let video = client.submit(&input).await.unwrap().wait().await.unwrap();
    assert_eq!(video.urls.len(), 1);
    assert_eq!(video.character_id, None);
}

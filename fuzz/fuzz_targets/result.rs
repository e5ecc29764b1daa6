//! A finished task's `resultJson`, as JSON text (the live API's shape) and as JSON (the
//! docs' shape), decoded into the record's result and then into the `VideoResult` a
//! wait returns.
//!
//! Checks, besides "never panics": blank text means "no result yet"; a decoded result
//! lists exactly the URLs of `resultUrls` (a string or a list of strings); every key is
//! either read into a field (the side keys `resultWaterMarkUrls`, `firstFrameUrl`,
//! `lastFrameUrl`, `character_id`, `resultObject` when their value fits) or kept in
//! `extra`, never both, never lost; the text and the JSON shapes decode alike; a wait's
//! result exists exactly when there is a URL, a character id or a text result, its
//! video is the first URL (`""` without one), and its frames and character id are the
//! decoded ones; a refusal keeps a few KB at most.

#![no_main]

use kie_core::fuzzing::{MAX_BODY_EXCERPT, video_result};
use kie_core::{Error, ErrorKind, TaskRecord, TaskResult};
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};

fuzz_target!(|bytes: &[u8]| {
    let text = String::from_utf8_lossy(bytes);
    let as_text = decode(Value::String(text.to_string()));
    if text.trim().is_empty() {
        assert!(matches!(as_text, Ok(None)), "{as_text:?}");
        return;
    }
    let Ok(value) = serde_json::from_str::<Value>(&text) else {
        assert!(
            as_text.is_err(),
            "text that is not JSON decoded: {as_text:?}"
        );
        return;
    };
    // A JSON string in `resultJson` is itself JSON text, and `null` means absent, so
    // only other values must decode as their text does.
    if !value.is_null() && !value.is_string() {
        assert_eq!(
            decode(value.clone()).ok(),
            as_text.clone().ok(),
            "text and JSON decode alike"
        );
    }
    let Ok(Some(result)) = as_text else {
        return;
    };
    let object = value.as_object().expect("a result comes from an object");
    let expected_urls: Vec<&str> = match object.get("resultUrls") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(url)) => vec![url.as_str()],
        Some(Value::Array(items)) => items.iter().map(|i| i.as_str().unwrap()).collect(),
        Some(other) => panic!("resultUrls {other} was accepted"),
    };
    assert_eq!(result.urls, expected_urls);
    for (key, read) in [
        ("resultWaterMarkUrls", !result.watermark_urls.is_empty()),
        ("firstFrameUrl", result.first_frame_url.is_some()),
        ("lastFrameUrl", result.last_frame_url.is_some()),
        ("character_id", result.character_id.is_some()),
        ("resultObject", result.object.is_some()),
    ] {
        // A value read into a field is not also kept; one that is not is kept, unless
        // it was an empty form of the field (`null`, `""`, `[]`).
        assert!(!(read && result.extra.contains_key(key)), "{key} twice");
        if !read && !result.extra.contains_key(key) {
            let value = object.get(key);
            assert!(
                matches!(value, None | Some(Value::Null))
                    || value == Some(&json!(""))
                    || value.and_then(Value::as_array).is_some_and(|items| {
                        items.iter().all(|i| i.as_str().is_some_and(str::is_empty))
                    }),
                "{key}: {value:?} was lost"
            );
        }
    }
    assert!(!result.extra.contains_key("resultUrls"));
    assert!(result.extra.keys().all(|key| object.contains_key(key)));

    let record =
        TaskRecord::from_data(&json!({"taskId": "t", "state": "success", "resultJson": text}))
            .expect("decoded once already");
    match video_result(record).map_err(Error::into_kind) {
        Ok(video) => {
            assert!(result.is_usable());
            assert_eq!(
                video.video_url(),
                result.urls.first().map_or("", String::as_str)
            );
            assert_eq!(video.first_frame_url, result.first_frame_url);
            assert_eq!(video.last_frame_url, result.last_frame_url);
            assert_eq!(video.character_id, result.character_id);
            assert_eq!(video.object(), result.object.as_ref());
            assert_eq!(video.task_id, "t");
        }
        Err(ErrorKind::Decode { body, .. }) => {
            assert!(!result.is_usable());
            assert!(result.urls.is_empty());
            assert!(body.len() <= MAX_BODY_EXCERPT + 64);
        }
        Err(other) => panic!("a wait's result cannot fail with {other:?}"),
    }
});

/// The result of a success record carrying `result_json`.
fn decode(result_json: Value) -> Result<Option<TaskResult>, String> {
    TaskRecord::from_data(&json!({"taskId": "t", "state": "success", "resultJson": result_json}))
        .map(|record| record.result)
        .map_err(|e| e.reason().to_owned())
}

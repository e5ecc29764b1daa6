//! Hosted files: a valid mp4 with HEAD and Range, expiry, and the upload host.

use std::time::Duration;

use crate::common::{KEY, client, create, kling, poll_until_done, result_url};
use base64::Engine as _;
use kie_emulator::{Config, Emulator, Endpoint, Timeline};
use serde_json::{Value, json};

async fn result(emulator: &Emulator) -> String {
    let id = create(emulator.base_url(), &kling("a cat [emulator:immediate]")).await;
    let data = poll_until_done(emulator.base_url(), &id, 1).await;
    result_url(&data)
}

/// Walks the top-level boxes of an ISO BMFF file.
fn boxes(data: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    let mut offset = 0usize;
    while offset + 8 <= data.len() {
        let size = u32::from_be_bytes([
            data[offset],
            data[offset + 1],
            data[offset + 2],
            data[offset + 3],
        ]) as usize;
        out.push(String::from_utf8_lossy(&data[offset + 4..offset + 8]).into_owned());
        if size < 8 {
            break;
        }
        offset += size;
    }
    assert_eq!(offset, data.len(), "box sizes add up to the length");
    out
}

#[tokio::test]
async fn result_is_a_valid_mp4_with_head_and_range() {
    let emulator = Emulator::start().await.expect("starts");
    let url = result(&emulator).await;

    let full = client().get(&url).send().await.expect("get");
    assert_eq!(full.status(), 200);
    assert_eq!(full.headers()["content-type"], "video/mp4");
    assert_eq!(full.headers()["accept-ranges"], "bytes");
    let length: usize = full.headers()["content-length"]
        .to_str()
        .unwrap_or_default()
        .parse()
        .expect("length");
    let bytes = full.bytes().await.expect("bytes");
    assert_eq!(bytes.len(), length);
    let found = boxes(&bytes);
    assert_eq!(found[0], "ftyp");
    assert!(
        found.contains(&"moov".to_owned()) && found.contains(&"mdat".to_owned()),
        "{found:?}"
    );

    let head = client().head(&url).send().await.expect("head");
    assert_eq!(head.status(), 200);
    assert_eq!(
        head.headers()["content-length"],
        length.to_string().as_str()
    );
    assert_eq!(head.headers()["content-type"], "video/mp4");
    assert!(head.bytes().await.expect("empty").is_empty());

    let part = client()
        .get(&url)
        .header("range", "bytes=4-11")
        .send()
        .await
        .expect("range");
    assert_eq!(part.status(), 206);
    assert_eq!(
        part.headers()["content-range"],
        format!("bytes 4-11/{length}").as_str()
    );
    assert_eq!(part.bytes().await.expect("bytes").as_ref(), &bytes[4..12]);

    let tail = client()
        .get(&url)
        .header("range", "bytes=-10")
        .send()
        .await
        .expect("suffix");
    assert_eq!(tail.status(), 206);
    assert_eq!(
        tail.bytes().await.expect("bytes").as_ref(),
        &bytes[length - 10..]
    );

    let beyond = client()
        .get(&url)
        .header("range", format!("bytes={length}-"))
        .send()
        .await
        .expect("416");
    assert_eq!(beyond.status(), 416);
    assert_eq!(
        beyond.headers()["content-range"],
        format!("bytes */{length}").as_str()
    );
    // Of the five file requests, the three that asked for part of the file are counted.
    let stats = emulator.stats();
    assert_eq!(stats.requests[&Endpoint::Files], 5);
    assert_eq!(stats.ranged_file_requests, 3);
}

#[tokio::test]
async fn results_expire_after_the_configured_time() {
    let emulator = Emulator::builder()
        .frozen(true)
        .config({
            let mut config = Config::default();
            config.result_ttl_ms = 60_000;
            config
        })
        .start()
        .await
        .expect("starts");
    let url = result(&emulator).await;
    assert_eq!(client().get(&url).send().await.expect("get").status(), 200);
    emulator.advance(Duration::from_secs(60));
    assert_eq!(client().get(&url).send().await.expect("get").status(), 404);
}

async fn upload_json(emulator: &Emulator, path: &str, body: Value) -> crate::common::Answer {
    crate::common::answer(
        client()
            .post(format!("{}{path}", emulator.upload_base_url()))
            .bearer_auth(KEY)
            .json(&body)
            .send()
            .await
            .expect("sent"),
    )
    .await
}

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR fake but sniffable";

async fn upload_form(emulator: &Emulator, form: reqwest::multipart::Form) -> crate::common::Answer {
    crate::common::answer(
        client()
            .post(format!(
                "{}/api/file-stream-upload",
                emulator.upload_base_url()
            ))
            .bearer_auth(KEY)
            .multipart(form)
            .send()
            .await
            .expect("sent"),
    )
    .await
}

/// A stream upload of `bytes` as the multipart file `original`, stored as `file_name`.
async fn stream_upload(
    emulator: &Emulator,
    bytes: &[u8],
    original: &str,
    file_name: Option<&str>,
) -> crate::common::Answer {
    let part = reqwest::multipart::Part::bytes(bytes.to_vec()).file_name(original.to_owned());
    let form = reqwest::multipart::Form::new()
        .part("file", part)
        .text("uploadPath", "in");
    let form = match file_name {
        Some(name) => form.text("fileName", name.to_owned()),
        None => form,
    };
    upload_form(emulator, form).await
}

#[tokio::test]
async fn every_kind_of_upload_answers_data_success_as_live() {
    let emulator = Emulator::start().await.expect("starts");
    let encoded = base64::engine::general_purpose::STANDARD.encode(PNG);
    let source = result(&emulator).await;
    let answers = [
        stream_upload(&emulator, PNG, "cat.png", None).await,
        upload_json(
            &emulator,
            "/api/file-base64-upload",
            json!({"base64Data": encoded, "uploadPath": "x"}),
        )
        .await,
        upload_json(
            &emulator,
            "/api/file-url-upload",
            json!({"fileUrl": source, "uploadPath": "videos"}),
        )
        .await,
    ];
    for answer in answers {
        assert_eq!(answer.status, 200, "{}", answer.text);
        let data = answer.body["data"].as_object().expect("data");
        assert_eq!(data.get("success"), Some(&json!(true)), "{}", answer.text);
        for key in [
            "fileName",
            "filePath",
            "downloadUrl",
            "fileSize",
            "mimeType",
            "uploadedAt",
        ] {
            assert!(data.contains_key(key), "{key}: {}", answer.text);
        }
    }
}

#[tokio::test]
async fn the_media_type_follows_the_file_name_for_every_kind_of_upload() {
    let emulator = Emulator::start().await.expect("starts");
    let base64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    // Recorded live: a base64 upload of test.txt came back text/plain.
    let text = upload_json(
        &emulator,
        "/api/file-base64-upload",
        json!({"base64Data": base64(b"hello"), "uploadPath": "x", "fileName": "test.txt"}),
    )
    .await;
    assert_eq!(text.body["data"]["mimeType"], "text/plain", "{}", text.text);
    let served = client()
        .get(text.body["data"]["downloadUrl"].as_str().expect("url"))
        .send()
        .await
        .expect("get");
    assert_eq!(served.headers()["content-type"], "text/plain");
    // The name wins over the bytes, for all three kinds.
    let named = upload_json(
        &emulator,
        "/api/file-base64-upload",
        json!({"base64Data": base64(PNG), "uploadPath": "x", "fileName": "song.mp3"}),
    )
    .await;
    assert_eq!(
        named.body["data"]["mimeType"], "audio/mpeg",
        "{}",
        named.text
    );
    let streamed = stream_upload(&emulator, PNG, "still.png", Some("clip.mov")).await;
    assert_eq!(
        streamed.body["data"]["mimeType"], "video/quicktime",
        "{}",
        streamed.text
    );
    let source = result(&emulator).await;
    let fetched = upload_json(
        &emulator,
        "/api/file-url-upload",
        json!({"fileUrl": source, "uploadPath": "x", "fileName": "frame.webp"}),
    )
    .await;
    assert_eq!(
        fetched.body["data"]["mimeType"], "image/webp",
        "{}",
        fetched.text
    );
    // Without a fileName, the name it came with; without a known name, its bytes.
    let original = stream_upload(&emulator, b"plain words", "notes.txt", None).await;
    assert_eq!(original.body["data"]["mimeType"], "text/plain");
    let sniffed = upload_json(
        &emulator,
        "/api/file-base64-upload",
        json!({"base64Data": base64(PNG), "uploadPath": "x"}),
    )
    .await;
    assert_eq!(sniffed.body["data"]["mimeType"], "image/png");
}

#[tokio::test]
async fn stream_upload_is_served_back() {
    let emulator = Emulator::start().await.expect("starts");
    let form = reqwest::multipart::Form::new()
        .part(
            "file",
            reqwest::multipart::Part::bytes(PNG.to_vec())
                .file_name("cat.png")
                .mime_str("image/png")
                .expect("mime"),
        )
        .text("uploadPath", "images/user-uploads")
        .text("fileName", "cat.png");
    let answer = upload_form(&emulator, form).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.body["success"], true);
    assert_eq!(answer.body["code"], 200);
    assert_eq!(answer.body["msg"], "File uploaded successfully");
    let data = &answer.body["data"];
    assert_eq!(data["fileName"], "cat.png");
    assert_eq!(
        data["filePath"],
        "kieai/emulator/images/user-uploads/cat.png"
    );
    assert_eq!(data["fileSize"], PNG.len());
    assert_eq!(data["mimeType"], "image/png");
    assert!(
        data["uploadedAt"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z') && t.contains('T'))
    );
    let served = client()
        .get(data["downloadUrl"].as_str().expect("url"))
        .send()
        .await
        .expect("get");
    assert_eq!(served.headers()["content-type"], "image/png");
    assert_eq!(served.bytes().await.expect("bytes").as_ref(), PNG);
}

#[tokio::test]
async fn base64_upload_accepts_raw_and_data_urls_and_expires() {
    let emulator = Emulator::builder()
        .frozen(true)
        .start()
        .await
        .expect("starts");
    let encoded = base64::engine::general_purpose::STANDARD.encode(PNG);
    let raw = upload_json(
        &emulator,
        "/api/file-base64-upload",
        json!({"base64Data": encoded, "uploadPath": "x"}),
    )
    .await;
    assert_eq!(raw.status, 200, "{}", raw.text);
    assert!(
        raw.body["data"]["fileName"]
            .as_str()
            .is_some_and(|n| n.ends_with(".png")),
        "a generated name"
    );
    let data_url = upload_json(
        &emulator,
        "/api/file-base64-upload",
        json!({"base64Data": format!("data:image/png;base64,{encoded}"), "uploadPath": "x", "fileName": "d.png"}),
    )
    .await;
    assert_eq!(data_url.status, 200, "{}", data_url.text);
    let url = data_url.body["data"]["downloadUrl"]
        .as_str()
        .expect("url")
        .to_owned();
    assert_eq!(client().get(&url).send().await.expect("get").status(), 200);
    emulator.advance(Duration::from_secs(3 * 24 * 3600));
    assert_eq!(
        client().get(&url).send().await.expect("get").status(),
        404,
        "uploads last three days"
    );
}

#[tokio::test]
async fn url_upload_fetches_loopback_only() {
    let emulator = Emulator::start().await.expect("starts");
    let source = result(&emulator).await;
    let fetched = upload_json(
        &emulator,
        "/api/file-url-upload",
        json!({"fileUrl": source, "uploadPath": "videos"}),
    )
    .await;
    assert_eq!(fetched.status, 200, "{}", fetched.text);
    assert_eq!(fetched.body["data"]["mimeType"], "video/mp4");
    let remote = upload_json(
        &emulator,
        "/api/file-url-upload",
        json!({"fileUrl": "https://file.aiquickdraw.com/a.webp", "uploadPath": "x"}),
    )
    .await;
    assert_eq!(remote.status, 200);
    assert_eq!(remote.body["success"], false);
    assert!(
        remote.body["msg"]
            .as_str()
            .unwrap_or_default()
            .contains("loopback")
    );
}

#[tokio::test]
async fn upload_errors_follow_the_documented_shape() {
    let emulator = Emulator::start().await.expect("starts");
    let missing = upload_json(
        &emulator,
        "/api/file-base64-upload",
        json!({"base64Data": "aGk="}),
    )
    .await;
    assert_eq!(missing.status, 200);
    assert_eq!(
        missing.body,
        json!({"success": false, "code": 400, "msg": "Missing required parameter: uploadPath"})
    );
    let bad = upload_json(
        &emulator,
        "/api/file-base64-upload",
        json!({"base64Data": "!!!", "uploadPath": "x"}),
    )
    .await;
    assert_eq!(bad.status, 200);
    let slash = upload_json(
        &emulator,
        "/api/file-base64-upload",
        json!({"base64Data": "aGk=", "uploadPath": "/x/"}),
    )
    .await;
    assert_eq!(slash.status, 200);
    let unauthorized = crate::common::answer(
        client()
            .post(format!(
                "{}/api/file-base64-upload",
                emulator.upload_base_url()
            ))
            .json(&json!({"base64Data": "aGk=", "uploadPath": "x"}))
            .send()
            .await
            .expect("sent"),
    )
    .await;
    assert_eq!(unauthorized.status, 200);
    assert_eq!(
        unauthorized.body,
        json!({"success": false, "code": 401, "msg": "Authentication failed: Invalid API Key"})
    );
    let no_file = crate::common::answer(
        client()
            .post(format!(
                "{}/api/file-stream-upload",
                emulator.upload_base_url()
            ))
            .bearer_auth(KEY)
            .multipart(reqwest::multipart::Form::new().text("uploadPath", "x"))
            .send()
            .await
            .expect("sent"),
    )
    .await;
    assert_eq!(no_file.status, 200);
    assert_eq!(no_file.body["msg"], "Missing required parameter: file");
    let _ = Timeline::Immediate;
}

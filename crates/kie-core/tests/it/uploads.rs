//! Uploads of each kind to a local upload host, and the rejections made before sending.

use crate::common::{client, envelope};
use kie_core::{ApiCode, ErrorKind, FileLimits, RetryPolicy};
use serde_json::json;
use wiremock::matchers::{body_partial_json, header, header_regex, method, path};
use wiremock::{Mock, MockServer};

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR fake png body";
/// An MP4 file's start: an `ftyp` box of brand `isom`, then an empty `mdat`.
const MP4: &[u8] = b"\0\0\0\x18ftypisom\0\0\x02\0isommp41\0\0\0\x08mdat";

/// A Matroska file's start: its EBML header names the DocType past byte 16 (which is
/// all that was read before), and infer wants more than 256 bytes.
fn mkv() -> Vec<u8> {
    let mut b = [
        &b"\x1A\x45\xDF\xA3\xA3"[..],        // EBML, 35 bytes
        b"\x42\x86\x81\x01\x42\xF7\x81\x01", // versions
        b"\x42\xF2\x81\x04\x42\xF3\x81\x08", // ID and size lengths
        b"\x42\x82\x88matroska",             // DocType
        b"\x42\x87\x81\x04\x42\x85\x81\x02", // DocType versions
    ]
    .concat();
    b.resize(4096, 0);
    b
}

fn uploaded(name: &str) -> wiremock::ResponseTemplate {
    envelope(
        200,
        json!({
            "success": true, "code": 200, "msg": "File uploaded successfully",
            "data": {
                "fileName": name, "filePath": format!("kieai/1/images/{name}"),
                "downloadUrl": format!("https://tempfile.redpandaai.co/kieai/1/images/{name}"),
                "fileSize": PNG.len(), "mimeType": "image/png", "uploadedAt": "2026-11-21T10:00:00.000Z"
            }
        }),
    )
}

#[tokio::test]
async fn a_file_is_streamed_as_multipart() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/file-stream-upload"))
        .and(header_regex(
            "content-type",
            "^multipart/form-data; boundary=",
        ))
        .and(header(
            "authorization",
            format!("Bearer {}", crate::common::CANARY_KEY).as_str(),
        ))
        .respond_with(uploaded("cat.png"))
        .expect(1)
        .mount(&server)
        .await;
    let (client, _) = client(&server.uri(), RetryPolicy::none());
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cat.png");
    std::fs::write(&file, PNG).unwrap();
    let up = client
        .upload_file(&file)
        .upload_path("/images/")
        .limits(FileLimits::JPEG_PNG_WEBP_10MB)
        .await
        .unwrap();
    assert_eq!(
        up.download_url,
        "https://tempfile.redpandaai.co/kieai/1/images/cat.png"
    );
    assert_eq!(up.mime_type.as_deref(), Some("image/png"));
    let requests = server.received_requests().await.unwrap();
    let body = String::from_utf8_lossy(&requests[0].body);
    assert!(
        body.contains("name=\"uploadPath\"\r\n\r\nimages\r\n"),
        "{body}"
    );
    assert!(
        body.contains("name=\"file\"; filename=\"cat.png\""),
        "{body}"
    );
    assert!(body.contains("fake png body"), "{body}");
}

#[tokio::test]
async fn bytes_go_as_base64_and_urls_as_urls() {
    let server = MockServer::start().await;
    Mock::given(path("/api/file-base64-upload"))
        .and(body_partial_json(json!({
            "base64Data": "iVBORw0KGgoAAAANSUhEUiBmYWtlIHBuZyBib2R5",
            "uploadPath": "kie-rs",
            "fileName": "b.png"
        })))
        .respond_with(uploaded("b.png"))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/api/file-url-upload"))
        .and(body_partial_json(
            json!({"fileUrl": "https://example.com/c.png", "uploadPath": "in"}),
        ))
        .respond_with(uploaded("c.png"))
        .expect(1)
        .mount(&server)
        .await;
    let (client, _) = client(&server.uri(), RetryPolicy::none());
    let b = client.upload_bytes(PNG).file_name("b.png").await.unwrap();
    assert!(b.download_url.ends_with("/b.png"));
    let c = client
        .upload_url("https://example.com/c.png")
        .upload_path("in")
        .await
        .unwrap();
    assert!(c.download_url.ends_with("/c.png"));
}

#[tokio::test]
async fn files_that_break_the_model_rule_are_refused_before_sending() {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(uploaded("x"))
        .expect(0)
        .mount(&server)
        .await;
    let (client, _) = client(&server.uri(), RetryPolicy::none());
    let dir = tempfile::tempdir().unwrap();

    let gif = dir.path().join("anim.gif");
    std::fs::write(&gif, b"GIF89a....").unwrap();
    let big = dir.path().join("big.png");
    let f = std::fs::File::create(&big).unwrap();
    std::io::Write::write_all(&mut &f, PNG).unwrap();
    f.set_len(10 * 1024 * 1024 + 1).unwrap();

    let clip = dir.path().join("clip.png");
    std::fs::write(&clip, MP4).unwrap();

    for (file, phrase) in [
        (&gif, "\"image/gif\"; allowed"),
        (&big, "at most 10485760 bytes"),
        (&clip, "\"video/mp4\"; allowed: \"image/jpeg\""),
    ] {
        let err = client
            .upload_file(file)
            .limits(FileLimits::JPEG_PNG_WEBP_10MB)
            .await
            .unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::InvalidInput(_)), "{err}");
        let text = err.to_string();
        assert!(text.contains(&file.display().to_string()), "{text}");
        assert!(text.contains(phrase), "{text}");
    }
    let err = client
        .upload_bytes(b"%PDF-1.7".to_vec())
        .limits(FileLimits::JPEG_PNG_WEBP_10MB)
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("the uploaded bytes` is \"application/pdf\"; allowed"),
        "{err}"
    );
    let err = client
        .upload_bytes(b"no magic here".to_vec())
        .file_name("notes.txt")
        .limits(FileLimits::IMAGES)
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("`notes.txt` is \"an unrecognised file type\""),
        "{err}"
    );

    let missing = dir.path().join("missing.png");
    let err = client.upload_file(&missing).await.unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Io { .. }), "{err}");
    assert!(err.to_string().contains("missing.png"), "{err}");

    let err = client.upload_url("file:///etc/passwd").await.unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::InvalidInput(_)), "{err}");
    let err = client.upload_bytes(PNG).upload_path("/").await.unwrap_err();
    assert!(err.to_string().contains("uploadPath"), "{err}");
}

#[tokio::test]
async fn videos_and_audio_pass_limits_that_name_their_type_either_way() {
    let server = MockServer::start().await;
    Mock::given(path("/api/file-stream-upload"))
        .respond_with(uploaded("clip.mkv"))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/api/file-base64-upload"))
        .respond_with(uploaded("voice.wav"))
        .expect(1)
        .mount(&server)
        .await;
    let (client, _) = client(&server.uri(), RetryPolicy::none());
    let dir = tempfile::tempdir().unwrap();
    // Named .bin: the type comes from the bytes, not the name.
    let file = dir.path().join("clip.bin");
    std::fs::write(&file, mkv()).unwrap();
    client
        .upload_file(&file)
        .limits(FileLimits::VIDEOS)
        .await
        .unwrap();
    // A WAV file (sniffed as audio/wav), against a rule spelled audio/x-wav, as some of
    // kie.ai's pages spell it.
    let wav = b"RIFF\x24\x08\0\0WAVEfmt \x10\0\0\0\x01\0\x02\0\x44\xAC\0\0".to_vec();
    client
        .upload_bytes(wav)
        .limits(FileLimits::new(&["audio/x-wav"], Some(10 * 1024 * 1024)))
        .await
        .unwrap();
}

#[tokio::test]
async fn upload_host_errors_are_typed() {
    let server = MockServer::start().await;
    Mock::given(path("/api/file-base64-upload"))
        .respond_with(envelope(
            401,
            json!({"success": false, "code": 401, "msg": "Authentication failed: Invalid API Key"}),
        ))
        .mount(&server)
        .await;
    let (client, _) = client(&server.uri(), RetryPolicy::none());
    let err = client.upload_bytes(PNG).await.unwrap_err();
    assert_eq!(err.api_code(), Some(ApiCode::Unauthorized));
    assert!(err.to_string().contains("Invalid API Key"), "{err}");
}

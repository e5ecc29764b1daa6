//! Uploads of each kind to a local upload host, and the rejections made before sending.

use crate::common::{client, envelope};
use kie_core::{ApiCode, ErrorKind, ImageLimits, RetryPolicy};
use serde_json::json;
use wiremock::matchers::{body_partial_json, header, header_regex, method, path};
use wiremock::{Mock, MockServer};

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR fake png body";

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
        .limits(ImageLimits::JPEG_PNG_WEBP_10MB)
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

    for (file, phrase) in [
        (&gif, "\"image/gif\"; allowed"),
        (&big, "at most 10485760 bytes"),
    ] {
        let err = client
            .upload_file(file)
            .limits(ImageLimits::JPEG_PNG_WEBP_10MB)
            .await
            .unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::InvalidInput(_)), "{err}");
        let text = err.to_string();
        assert!(text.contains(&file.display().to_string()), "{text}");
        assert!(text.contains(phrase), "{text}");
    }
    let err = client
        .upload_bytes(b"%PDF-1.7".to_vec())
        .limits(ImageLimits::JPEG_PNG_WEBP_10MB)
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("an unrecognised file type"),
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

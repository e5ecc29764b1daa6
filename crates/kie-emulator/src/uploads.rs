//! The upload host: stream (multipart), base64 and URL uploads.
//!
//! kie.ai serves uploads from a different host than the API; the emulator serves both
//! from one port, so an SDK points both base URLs at it. Uploaded files are hosted under
//! `/files/kieai/emulator/<uploadPath>/<fileName>` and expire after `upload_ttl_ms`.
//! URL uploads only fetch from loopback addresses: the emulator makes no outbound calls
//! a test did not ask for.

use std::{sync::Arc, time::Duration};

use axum::{
    RequestExt as _,
    body::Body,
    extract::{FromRequest as _, Multipart, Request, State},
    http::{HeaderMap, Method, Uri},
    response::Response,
};
use base64::Engine as _;
use bytes::Bytes;
use serde_json::{Value, json};

use crate::{
    api::authorize,
    callbacks::is_loopback_url,
    faults::{self, Endpoint},
    files::StoredFile,
    ids, mime,
    state::Shared,
    wire::{self, Reply, iso8601},
};

/// Largest accepted upload (kie.ai recommends at most 100 MB for URL uploads).
pub(crate) const MAX_UPLOAD_BYTES: usize = 100 * 1024 * 1024;

/// A file received by one of the upload endpoints, before it is stored.
struct Incoming {
    bytes: Bytes,
    upload_path: Option<String>,
    file_name: Option<String>,
    /// Original name (multipart filename or URL path) to take an extension from.
    original_name: Option<String>,
    /// Declared media type (multipart part or data URL).
    declared_type: Option<String>,
}

fn bad_request(msg: &str) -> Reply {
    Reply::upload(400, msg, None)
}

/// Runs the fault rules, authentication and storage around an upload endpoint.
async fn handle(
    shared: Arc<Shared>,
    request: (Method, Uri, HeaderMap),
    receive: impl Future<Output = Result<Incoming, Reply>>,
) -> Response {
    let (method, uri, headers) = request;
    let drawn = shared.with_state(|state| {
        state.count(Endpoint::Upload);
        state
            .faults
            .draw(&mut state.streams.faults, Endpoint::Upload, None, None)
    });
    let incoming = faults::Incoming {
        headers: &headers,
        method: &method,
        uri: &uri,
    };
    if let Some(response) = faults::before(&drawn, incoming, &shared.shutdown).await {
        return response;
    }
    let reply = if authorize(&shared, &headers).is_none() {
        Reply::upload(401, wire::MSG_UPLOAD_UNAUTHORIZED, None)
    } else {
        match receive.await {
            Ok(incoming) => store(&shared, incoming),
            Err(reply) => reply,
        }
    };
    faults::after(&drawn, reply, incoming, &shared.shutdown).await
}

/// Validates the common fields, stores the file and answers in the documented shape.
fn store(shared: &Shared, mut incoming: Incoming) -> Reply {
    let Some(upload_path) = incoming.upload_path.take().filter(|p| !p.trim().is_empty()) else {
        return bad_request("Missing required parameter: uploadPath");
    };
    if upload_path.starts_with('/')
        || upload_path.ends_with('/')
        || upload_path.split('/').any(|s| s == ".." || s.is_empty())
    {
        return bad_request(
            "Invalid uploadPath: use a folder path without leading or trailing slashes",
        );
    }
    if incoming.bytes.is_empty() {
        return bad_request("Missing required parameter: file");
    }
    if incoming.bytes.len() > MAX_UPLOAD_BYTES {
        return bad_request("File too large: the maximum is 100 MB");
    }
    let file_name = incoming.file_name.take().filter(|n| !n.trim().is_empty());
    let mime = media_type(file_name.as_deref(), &incoming);
    let now = shared.clock.now_ms();
    shared.with_state(|state| {
        let file_name = match file_name {
            Some(name) if name.contains('/') || name == ".." => {
                return bad_request("Invalid fileName: it must not contain '/'");
            }
            Some(name) => name,
            None => {
                let ext = extension_for(&mime, incoming.original_name.as_deref());
                format!("{}{ext}", ids::hex32(&mut state.streams.ids))
            }
        };
        let file_path = format!("kieai/emulator/{upload_path}/{file_name}");
        let size = incoming.bytes.len();
        let expires =
            now.saturating_add(i64::try_from(state.config.upload_ttl_ms).unwrap_or(i64::MAX));
        state.files.insert(
            file_path.clone(),
            StoredFile {
                bytes: incoming.bytes,
                content_type: mime.clone(),
                created_ms: now,
                expires_ms: expires,
                task_id: None,
            },
        );
        Reply::upload(
            200,
            wire::MSG_UPLOADED,
            Some(json!({
                "fileName": file_name,
                "filePath": file_path,
                "downloadUrl": format!("{}/files/{file_path}", shared.base_url),
                "fileSize": size,
                "mimeType": mime,
                "uploadedAt": iso8601(now),
                // Beside the documented fields in every recorded live upload answer.
                "success": true,
            })),
        )
    })
}

/// `POST /api/file-stream-upload` (multipart: `file`, `uploadPath`, `fileName`).
///
/// The body is read whole before the fault rules are drawn, as the other endpoints'
/// bodies are (and as a buffering gateway does): answered with its body unread, the
/// connection is closed by hyper, and a client still sending sees a broken pipe instead
/// of the answer the fault chose.
pub(crate) async fn stream_upload(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    // The router's body limit still applies: `with_limited_body` enforces it.
    let (parts, body) = request.with_limited_body().into_parts();
    let request = (
        parts.method.clone(),
        parts.uri.clone(),
        parts.headers.clone(),
    );
    let multipart = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(bytes) => Multipart::from_request(Request::from_parts(parts, Body::from(bytes)), &())
            .await
            .map_err(|_| bad_request("Invalid request: expected multipart/form-data")),
        Err(error) => Err(bad_request(&format!("Invalid multipart body: {error}"))),
    };
    handle(shared, request, async move {
        let mut multipart = multipart?;
        let mut incoming = Incoming {
            bytes: Bytes::new(),
            upload_path: None,
            file_name: None,
            original_name: None,
            declared_type: None,
        };
        let mut saw_file = false;
        loop {
            let field = match multipart.next_field().await {
                Ok(Some(field)) => field,
                Ok(None) => break,
                Err(error) => return Err(bad_request(&format!("Invalid multipart body: {error}"))),
            };
            match field.name().unwrap_or_default() {
                "file" => {
                    saw_file = true;
                    incoming.original_name = field.file_name().map(str::to_owned);
                    incoming.declared_type = field.content_type().map(str::to_owned);
                    incoming.bytes = field
                        .bytes()
                        .await
                        .map_err(|e| bad_request(&format!("Invalid multipart body: {e}")))?;
                }
                "uploadPath" => incoming.upload_path = field.text().await.ok(),
                "fileName" => incoming.file_name = field.text().await.ok(),
                _ => {}
            }
        }
        if !saw_file {
            return Err(bad_request("Missing required parameter: file"));
        }
        Ok(incoming)
    })
    .await
}

/// The fields of the JSON upload bodies.
fn json_field(body: &Value, key: &str) -> Option<String> {
    body.get(key).and_then(Value::as_str).map(str::to_owned)
}

/// `POST /api/file-base64-upload` (`base64Data` raw or as a data URL).
pub(crate) async fn base64_upload(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    handle(shared, (method, uri, headers), async move {
        let body: Value = serde_json::from_slice(&body)
            .map_err(|_| bad_request("Invalid request: expected a JSON body"))?;
        let data = json_field(&body, "base64Data")
            .ok_or_else(|| bad_request("Missing required parameter: base64Data"))?;
        let (declared_type, encoded) = match data
            .strip_prefix("data:")
            .and_then(|rest| rest.split_once(','))
        {
            Some((meta, encoded)) => (
                meta.strip_suffix(";base64").map(str::to_owned),
                encoded.to_owned(),
            ),
            None => (None, data),
        };
        let cleaned: String = encoded.chars().filter(|c| !c.is_whitespace()).collect();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(cleaned.as_bytes())
            .map_err(|_| bad_request("Invalid base64Data: not valid base64"))?;
        Ok(Incoming {
            bytes: Bytes::from(bytes),
            upload_path: json_field(&body, "uploadPath"),
            file_name: json_field(&body, "fileName"),
            original_name: None,
            declared_type,
        })
    })
    .await
}

/// `POST /api/file-url-upload` (`fileUrl`, fetched from loopback only).
pub(crate) async fn url_upload(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let client = shared.http.clone();
    handle(shared, (method, uri, headers), async move {
        let body: Value = serde_json::from_slice(&body)
            .map_err(|_| bad_request("Invalid request: expected a JSON body"))?;
        let file_url = json_field(&body, "fileUrl")
            .ok_or_else(|| bad_request("Missing required parameter: fileUrl"))?;
        let url = reqwest::Url::parse(&file_url)
            .map_err(|_| bad_request("Invalid fileUrl: not a URL"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(bad_request(
                "Invalid fileUrl: only http and https URLs are supported",
            ));
        }
        if !is_loopback_url(&url) {
            return Err(bad_request(
                "Failed to download file from URL: the emulator only fetches loopback URLs",
            ));
        }
        let response = client
            .get(url.clone())
            .timeout(Duration::from_secs(30))
            .send()
            .await
            .map_err(|e| bad_request(&format!("Failed to download file from URL: {e}")))?;
        if !response.status().is_success() {
            return Err(bad_request(&format!(
                "Failed to download file from URL: HTTP {}",
                response.status().as_u16()
            )));
        }
        let declared_type = response
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or(v).trim().to_owned());
        let bytes = response
            .bytes()
            .await
            .map_err(|e| bad_request(&format!("Failed to download file from URL: {e}")))?;
        Ok(Incoming {
            bytes,
            upload_path: json_field(&body, "uploadPath"),
            file_name: json_field(&body, "fileName"),
            original_name: url
                .path_segments()
                .and_then(|mut s| s.next_back())
                .map(str::to_owned),
            declared_type,
        })
    })
    .await
}

/// The media type of well-known file signatures.
fn sniff(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if bytes.len() >= 8 && &bytes[4..8] == b"ftyp" {
        Some("video/mp4")
    } else {
        None
    }
}

/// The `mimeType` of an upload, the same way for all three kinds: the name it is stored
/// under (`fileName`) decides, as live (a base64 upload of `test.txt` came back
/// `text/plain` whatever its bytes); then the name it came with (multipart file name,
/// URL path), the type it was declared with (multipart part, data URL, the fetched
/// answer's `Content-Type`), and its bytes' signature. Only the first step is recorded
/// live; the order of the others is the emulator's assumption.
fn media_type(file_name: Option<&str>, incoming: &Incoming) -> String {
    file_name
        .and_then(mime::from_name)
        .or_else(|| incoming.original_name.as_deref().and_then(mime::from_name))
        .map(str::to_owned)
        .or_else(|| {
            incoming
                .declared_type
                .clone()
                .filter(|t| !t.is_empty() && t != "application/octet-stream")
        })
        .or_else(|| sniff(&incoming.bytes).map(str::to_owned))
        .unwrap_or_else(|| "application/octet-stream".to_owned())
}

/// An extension for a generated file name.
fn extension_for(mime: &str, original: Option<&str>) -> String {
    if let Some(ext) = original.and_then(|n| n.rsplit_once('.')).map(|(_, e)| e)
        && !ext.is_empty()
        && ext.chars().all(|c| c.is_ascii_alphanumeric())
    {
        return format!(".{}", ext.to_ascii_lowercase());
    }
    mime::extension(mime)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_common_formats() {
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n...."), Some("image/png"));
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0]), Some("image/jpeg"));
        assert_eq!(sniff(b"RIFF\0\0\0\0WEBPVP8 "), Some("image/webp"));
        assert_eq!(sniff(crate::files::SAMPLE_MP4), Some("video/mp4"));
        assert_eq!(sniff(b"hello"), None);
        assert_eq!(extension_for("image/png", None), ".png");
        assert_eq!(extension_for("image/png", Some("cat.jpeg")), ".jpeg");
    }
}

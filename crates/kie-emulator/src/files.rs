//! Hosted files: results, uploads and download-url links, with HEAD, Range and expiry.
//!
//! Every result is the same real, small, playable H.264 mp4 (`assets/sample.mp4`, made
//! once with ffmpeg; the command is in the crate README), so an SDK's download path is
//! exercised with bytes a player accepts; every returned frame is the same small PNG
//! (`assets/frame.png`). Files expire on the virtual clock so "download
//! promptly" code paths can be tested.

use std::{collections::HashMap, sync::Arc};

use axum::{
    extract::{Path, State},
    http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header},
    response::Response,
};
use bytes::Bytes;

use crate::{
    faults::{self, Endpoint},
    state::Shared,
    wire::Reply,
};

/// The mp4 every successful task produces: 2 s, 160x90, H.264, faststart.
pub(crate) static SAMPLE_MP4: &[u8] = include_bytes!("../assets/sample.mp4");

/// The image every returned frame is (`firstFrameUrl`, `lastFrameUrl`): a 160x90 PNG
/// of eight colour bars, made by the script in the crate README.
pub(crate) static FRAME_PNG: &[u8] = include_bytes!("../assets/frame.png");

/// A stored file.
#[derive(Debug, Clone)]
pub(crate) struct StoredFile {
    pub bytes: Bytes,
    pub content_type: String,
    pub created_ms: i64,
    pub expires_ms: i64,
    /// The task that produced it (results only).
    pub task_id: Option<String>,
}

/// A temporary link made by `download-url`.
#[derive(Debug, Clone)]
struct Link {
    path: String,
    expires_ms: i64,
}

/// Files by path under `/files/`, and download links by token.
#[derive(Debug, Default, Clone)]
pub(crate) struct FileStore {
    files: HashMap<String, StoredFile>,
    links: HashMap<String, Link>,
}

impl FileStore {
    /// Stores (or overwrites) a file.
    pub(crate) fn insert(&mut self, path: String, file: StoredFile) {
        self.files.insert(path, file);
    }

    /// A stored file, expired or not.
    pub(crate) fn get(&self, path: &str) -> Option<&StoredFile> {
        self.files.get(path)
    }

    /// Registers a download link `dl/<token>/<name>` for `path`.
    pub(crate) fn link(&mut self, token: String, path: String, expires_ms: i64) {
        self.links.insert(token, Link { path, expires_ms });
    }

    /// The live file behind a request path (`results/...`, `uploads/...` or a link).
    pub(crate) fn resolve(&self, path: &str, now: i64) -> Option<&StoredFile> {
        let target = match path.strip_prefix("dl/") {
            Some(rest) => {
                let token = rest.split('/').next().unwrap_or_default();
                let link = self.links.get(token).filter(|l| l.expires_ms > now)?;
                link.path.as_str()
            }
            None => path,
        };
        self.files.get(target).filter(|f| f.expires_ms > now)
    }

    /// The number of stored files.
    pub(crate) fn len(&self) -> usize {
        self.files.len()
    }
}

/// A parsed `Range` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ByteRange {
    /// No (usable) range: send everything.
    Full,
    /// Bytes `start..=end`.
    Partial(u64, u64),
    /// The range lies outside the file.
    Unsatisfiable,
}

/// Parses a single `bytes=` range; anything else (several ranges, other units, bad
/// syntax) is ignored as RFC 9110 allows.
pub(crate) fn parse_range(value: &str, len: u64) -> ByteRange {
    let Some(spec) = value.trim().strip_prefix("bytes=") else {
        return ByteRange::Full;
    };
    if spec.contains(',') {
        return ByteRange::Full;
    }
    let Some((start, end)) = spec.trim().split_once('-') else {
        return ByteRange::Full;
    };
    match (start.trim(), end.trim()) {
        ("", "") => ByteRange::Full,
        ("", suffix) => match suffix.parse::<u64>() {
            Ok(0) => ByteRange::Unsatisfiable,
            Ok(_) if len == 0 => ByteRange::Unsatisfiable,
            Ok(n) => ByteRange::Partial(len.saturating_sub(n), len - 1),
            Err(_) => ByteRange::Full,
        },
        (start, end) => {
            let Ok(start) = start.parse::<u64>() else {
                return ByteRange::Full;
            };
            let end = if end.is_empty() {
                u64::MAX
            } else {
                match end.parse::<u64>() {
                    Ok(end) if end >= start => end,
                    _ => return ByteRange::Full,
                }
            };
            if start >= len {
                ByteRange::Unsatisfiable
            } else {
                ByteRange::Partial(start, end.min(len - 1))
            }
        }
    }
}

/// `GET`/`HEAD /files/{*path}`: serves a stored file with Range support.
pub(crate) async fn serve(
    State(shared): State<Arc<Shared>>,
    Path(path): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let now = shared.clock.now_ms();
    let range = headers.get(header::RANGE).and_then(|v| v.to_str().ok());
    let (drawn, file) = shared.with_state(|state| {
        state.count(Endpoint::Files);
        if range.is_some() {
            state.stats.ranged_file_requests += 1;
        }
        let file = state.files.resolve(&path, now).cloned();
        let task_id = file.as_ref().and_then(|f| f.task_id.clone());
        let model = task_id
            .as_ref()
            .and_then(|id| state.tasks.get(id))
            .map(|t| t.model.clone());
        let drawn = state.faults.draw(
            &mut state.streams.faults,
            Endpoint::Files,
            model.as_deref(),
            task_id.as_deref(),
        );
        (drawn, file)
    });
    let incoming = faults::Incoming {
        headers: &headers,
        method: &method,
        uri: &uri,
    };
    if let Some(response) = faults::before(&drawn, incoming, &shared.shutdown).await {
        return response;
    }
    let reply = match file {
        None => Reply {
            status: StatusCode::NOT_FOUND,
            error_code: None,
            headers: Vec::new(),
            body: Bytes::from_static(b"file not found or expired"),
            content_type: "text/plain; charset=utf-8",
        },
        Some(file) => file_reply(&file, range),
    };
    faults::after(&drawn, reply, incoming, &shared.shutdown).await
}

/// The answer for a file and an optional Range header.
fn file_reply(file: &StoredFile, range: Option<&str>) -> Reply {
    let len = file.bytes.len() as u64;
    let content_type = crate::mime::known(&file.content_type).unwrap_or("application/octet-stream");
    let mut headers = vec![
        (header::ACCEPT_RANGES, HeaderValue::from_static("bytes")),
        (
            header::ETAG,
            header_value(&format!("\"{len:x}-{:x}\"", file.created_ms)),
        ),
        (
            header::LAST_MODIFIED,
            header_value(&http_date(file.created_ms)),
        ),
    ];
    let (status, body) = match range.map_or(ByteRange::Full, |r| parse_range(r, len)) {
        ByteRange::Full => (StatusCode::OK, file.bytes.clone()),
        ByteRange::Partial(start, end) => {
            headers.push((
                header::CONTENT_RANGE,
                header_value(&format!("bytes {start}-{end}/{len}")),
            ));
            let slice = file
                .bytes
                .slice(usize::try_from(start).unwrap_or(0)..usize::try_from(end + 1).unwrap_or(0));
            (StatusCode::PARTIAL_CONTENT, slice)
        }
        ByteRange::Unsatisfiable => {
            headers.push((
                header::CONTENT_RANGE,
                header_value(&format!("bytes */{len}")),
            ));
            (StatusCode::RANGE_NOT_SATISFIABLE, Bytes::new())
        }
    };
    headers.push((header::CONTENT_LENGTH, HeaderValue::from(body.len())));
    Reply {
        status,
        error_code: None,
        headers,
        body,
        content_type,
    }
}

fn header_value(text: &str) -> HeaderValue {
    HeaderValue::from_str(text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// Unix ms as an HTTP date.
fn http_date(ms: i64) -> String {
    let secs = u64::try_from(ms.max(0) / 1000).unwrap_or(0);
    httpdate::fmt_http_date(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=0-99", 1000), ByteRange::Partial(0, 99));
        assert_eq!(
            parse_range("bytes=900-", 1000),
            ByteRange::Partial(900, 999)
        );
        assert_eq!(
            parse_range("bytes=-100", 1000),
            ByteRange::Partial(900, 999)
        );
        assert_eq!(parse_range("bytes=-5000", 1000), ByteRange::Partial(0, 999));
        assert_eq!(
            parse_range("bytes=500-5000", 1000),
            ByteRange::Partial(500, 999)
        );
        assert_eq!(parse_range("bytes=1000-", 1000), ByteRange::Unsatisfiable);
        assert_eq!(parse_range("bytes=-0", 1000), ByteRange::Unsatisfiable);
        assert_eq!(parse_range("bytes=5-2", 1000), ByteRange::Full);
        assert_eq!(parse_range("bytes=0-1,5-6", 1000), ByteRange::Full);
        assert_eq!(parse_range("items=0-1", 1000), ByteRange::Full);
    }

    #[test]
    fn sample_is_an_mp4_with_ftyp_moov_mdat() {
        let boxes = top_level_boxes(SAMPLE_MP4);
        assert_eq!(boxes.first().map(String::as_str), Some("ftyp"));
        assert!(boxes.iter().any(|b| b == "moov"), "{boxes:?}");
        assert!(boxes.iter().any(|b| b == "mdat"), "{boxes:?}");
    }

    /// Walks the top-level ISO BMFF boxes; the sizes must add up to the file length.
    fn top_level_boxes(data: &[u8]) -> Vec<String> {
        let mut boxes = Vec::new();
        let mut offset = 0usize;
        while offset + 8 <= data.len() {
            let size = u32::from_be_bytes([
                data[offset],
                data[offset + 1],
                data[offset + 2],
                data[offset + 3],
            ]) as usize;
            boxes.push(String::from_utf8_lossy(&data[offset + 4..offset + 8]).into_owned());
            assert!(size >= 8, "box size {size} at {offset}");
            offset += size;
        }
        assert_eq!(offset, data.len(), "box sizes add up to the file length");
        boxes
    }
}

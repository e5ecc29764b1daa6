//! Uploads to kie.ai's file host (a different host from the API), for image-to-video
//! inputs: from a file (streamed multipart), from bytes (base64), or from a URL.
//!
//! The returned [`UploadedFile::download_url`] is what image-to-video models take as
//! `image_url`. Uploaded files are temporary: kie.ai deletes them after 3 days.

use std::fmt;
use std::future::{Future, IntoFuture};
use std::path::{Path, PathBuf};
use std::pin::Pin;

use base64::Engine as _;
use serde_json::value::RawValue;
use serde_json::{Value, json};
use tracing::Instrument as _;

use crate::client::Client;
use crate::error::{Error, ErrorKind, Operation};
use crate::retry::RequestKind;
use crate::transport::Request;
use crate::validation::{Problem, ValidationError, Violations};
use crate::wire::{kind_of, value};

/// Where uploads go when no `uploadPath` is given.
pub const DEFAULT_UPLOAD_PATH: &str = "kie-rs";

/// Above this size kie.ai advises a streamed upload rather than base64.
pub const BASE64_ADVISED_MAX: u64 = 10 * 1024 * 1024;

/// What a model accepts as an input image, checked before anything is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct ImageLimits {
    /// Accepted MIME types.
    pub mime_types: &'static [&'static str],
    /// Largest accepted size in bytes.
    pub max_bytes: u64,
}

impl ImageLimits {
    /// These MIME types, up to this many bytes.
    pub const fn new(mime_types: &'static [&'static str], max_bytes: u64) -> Self {
        Self {
            mime_types,
            max_bytes,
        }
    }

    /// JPEG, PNG or WebP up to 10 MB: `bytedance/v1-pro-fast-image-to-video`'s rule.
    pub const JPEG_PNG_WEBP_10MB: ImageLimits = ImageLimits {
        mime_types: &["image/jpeg", "image/png", "image/webp"],
        max_bytes: 10 * 1024 * 1024,
    };

    /// Checks a file's detected type and size.
    ///
    /// # Errors
    ///
    /// A [`ValidationError`] naming the file, what it is, and what is allowed.
    pub fn check(&self, name: &str, mime: Option<&str>, size: u64) -> Result<(), ValidationError> {
        let mut v = Violations::default();
        if !mime.is_some_and(|m| self.mime_types.contains(&m)) {
            v.push(
                name,
                Problem::NotAllowed {
                    value: mime.unwrap_or("an unrecognised file type").to_owned(),
                    allowed: self.mime_types.iter().map(|m| (*m).to_owned()).collect(),
                },
            );
        }
        if size > self.max_bytes {
            v.push(
                name,
                Problem::TooLarge {
                    max_bytes: self.max_bytes,
                    actual: size,
                },
            );
        }
        v.finish()
    }
}

/// A file on kie.ai's upload host.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct UploadedFile {
    /// The URL to pass as `image_url`; valid for 3 days.
    pub download_url: String,
    /// The stored file name.
    pub file_name: Option<String>,
    /// The stored path.
    pub file_path: Option<String>,
    /// The size in bytes.
    pub file_size: Option<u64>,
    /// The MIME type kie.ai recorded.
    pub mime_type: Option<String>,
    /// When it was uploaded (ISO 8601, as sent).
    pub uploaded_at: Option<String>,
    /// The `data` object exactly as received, as JSON text (the docs show two
    /// different shapes).
    pub raw: Box<RawValue>,
}

/// Files are equal when every field is, `raw` compared as text.
impl PartialEq for UploadedFile {
    fn eq(&self, other: &Self) -> bool {
        self.download_url == other.download_url
            && self.file_name == other.file_name
            && self.file_path == other.file_path
            && self.file_size == other.file_size
            && self.mime_type == other.mime_type
            && self.uploaded_at == other.uploaded_at
            && self.raw.get() == other.raw.get()
    }
}

impl UploadedFile {
    fn from_data(raw: Box<RawValue>) -> Result<Self, (String, Box<RawValue>)> {
        let data = value(&raw);
        let text = |keys: &[&str]| {
            keys.iter()
                .find_map(|k| data.get(*k).and_then(Value::as_str))
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        let Some(download_url) = text(&["downloadUrl", "fileUrl"]) else {
            let reason = format!("`data` ({}) has no `downloadUrl`", kind_of(&data));
            return Err((reason, raw));
        };
        Ok(UploadedFile {
            download_url,
            file_name: text(&["fileName"]),
            file_path: text(&["filePath", "uploadPath"]),
            file_size: data.get("fileSize").and_then(Value::as_u64),
            mime_type: text(&["mimeType"]),
            uploaded_at: text(&["uploadedAt", "uploadTime"]),
            raw,
        })
    }
}

/// What to upload.
#[derive(Clone)]
enum Source {
    File(PathBuf),
    Bytes(Vec<u8>),
    Url(String),
}

/// An upload being prepared; set options, then `.await` it (as a submission and a wait
/// are awaited).
///
/// # Examples
///
/// ```no_run
/// use kie_core::ImageLimits;
///
/// # async fn run(client: kie_core::Client) -> Result<(), kie_core::Error> {
/// let image = client
///     .upload_file("cat.png")                  // or upload_bytes, upload_url
///     .limits(ImageLimits::JPEG_PNG_WEBP_10MB) // checked before anything is sent
///     .await?;
/// println!("{}", image.download_url);         // an `image_url`, kept 3 days
/// # Ok(()) }
/// ```
#[must_use = "an upload does nothing until it is awaited"]
pub struct Upload {
    client: Client,
    source: Source,
    upload_path: String,
    file_name: Option<String>,
    limits: Option<ImageLimits>,
}

/// Awaiting an upload sends it: [`ErrorKind::InvalidInput`] naming the file and the
/// limit it breaks (or an empty `uploadPath`), [`ErrorKind::Io`] when the file cannot
/// be read, or any error of the call.
impl IntoFuture for Upload {
    type Output = Result<UploadedFile, Error>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        let span = tracing::info_span!("kie.upload", upload_path = %self.upload_path);
        Box::pin(self.send().instrument(span))
    }
}

impl fmt::Debug for Upload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let source = match &self.source {
            Source::File(p) => format!("file {}", p.display()),
            Source::Bytes(b) => format!("{} bytes", b.len()),
            Source::Url(u) => format!("url {u}"),
        };
        f.debug_struct("Upload")
            .field("source", &source)
            .field("upload_path", &self.upload_path)
            .field("file_name", &self.file_name)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Uploads a local file, streamed (`/api/file-stream-upload`), for any size.
    pub fn upload_file(&self, path: impl Into<PathBuf>) -> Upload {
        self.upload(Source::File(path.into()))
    }

    /// Uploads bytes as base64 (`/api/file-base64-upload`); kie.ai advises this only
    /// under 10 MB ([`BASE64_ADVISED_MAX`]), since base64 adds a third to the size.
    pub fn upload_bytes(&self, bytes: impl Into<Vec<u8>>) -> Upload {
        self.upload(Source::Bytes(bytes.into()))
    }

    /// Has kie.ai fetch a public URL (`/api/file-url-upload`; 30 s download limit,
    /// 100 MB advised maximum).
    pub fn upload_url(&self, url: impl Into<String>) -> Upload {
        self.upload(Source::Url(url.into()))
    }

    fn upload(&self, source: Source) -> Upload {
        Upload {
            client: self.clone(),
            source,
            upload_path: DEFAULT_UPLOAD_PATH.to_owned(),
            file_name: None,
            limits: None,
        }
    }
}

impl Upload {
    /// The folder on the upload host (`uploadPath`, default `kie-rs`); slashes at
    /// either end are removed, as kie.ai requires.
    pub fn upload_path(mut self, path: impl Into<String>) -> Self {
        self.upload_path = path.into().trim_matches('/').to_owned();
        self
    }

    /// The stored file name; without it kie.ai makes one up. Re-using a name
    /// overwrites the old file.
    pub fn file_name(mut self, name: impl Into<String>) -> Self {
        self.file_name = Some(name.into());
        self
    }

    /// Checks the file's type (from its first bytes) and size against a model's rule
    /// before sending. Not applicable to URL uploads, which kie.ai fetches itself.
    pub fn limits(mut self, limits: ImageLimits) -> Self {
        self.limits = Some(limits);
        self
    }

    /// Sends the upload.
    ///
    /// Errors: [`ErrorKind::InvalidInput`] naming the file and the limit it breaks, or
    /// an empty `uploadPath`; [`ErrorKind::Io`] when the file cannot be read; any error
    /// of the call.
    async fn send(self) -> Result<UploadedFile, Error> {
        if self.upload_path.is_empty() {
            return Err(ValidationError::new("uploadPath", Problem::Required).into());
        }
        let base = self.client.upload_base_url().to_owned();
        let mut fields = json!({ "uploadPath": self.upload_path });
        if let Some(name) = &self.file_name {
            fields["fileName"] = json!(name);
        }
        match &self.source {
            Source::File(path) => {
                let size = self.check_file(path).await?;
                let url = format!("{base}/api/file-stream-upload");
                let name = self.file_name.clone().unwrap_or_else(|| display_name(path));
                let upload_path = self.upload_path.clone();
                let file_name = self.file_name.clone();
                Request::new(
                    &self.client,
                    Operation::Upload,
                    RequestKind::Repeatable,
                    move |c| {
                        // Opened afresh for each attempt: a streamed body cannot be replayed.
                        let file = std::fs::File::open(path).map_err(|source| {
                            Error::of(
                                Operation::Upload,
                                ErrorKind::Io {
                                    path: Some(path.clone()),
                                    source,
                                },
                            )
                        })?;
                        let part = reqwest::multipart::Part::stream_with_length(
                            tokio::fs::File::from_std(file),
                            size,
                        )
                        .file_name(name.clone());
                        let mut form = reqwest::multipart::Form::new()
                            .text("uploadPath", upload_path.clone())
                            .part("file", part);
                        if let Some(file_name) = &file_name {
                            form = form.text("fileName", file_name.clone());
                        }
                        Ok(c.post(&url).multipart(form))
                    },
                )
                .send(UploadedFile::from_data)
                .await
            }
            Source::Bytes(bytes) => {
                if let Some(limits) = self.limits {
                    let name = self.file_name.as_deref().unwrap_or("the uploaded bytes");
                    limits.check(name, sniff_mime(bytes), bytes.len() as u64)?;
                }
                fields["base64Data"] =
                    json!(base64::engine::general_purpose::STANDARD.encode(bytes));
                self.send_json(format!("{base}/api/file-base64-upload"), fields)
                    .await
            }
            Source::Url(file_url) => {
                let mut v = Violations::default();
                v.url("fileUrl", file_url);
                v.finish()?;
                fields["fileUrl"] = json!(file_url);
                self.send_json(format!("{base}/api/file-url-upload"), fields)
                    .await
            }
        }
    }

    async fn send_json(&self, url: String, fields: Value) -> Result<UploadedFile, Error> {
        Request::new(
            &self.client,
            Operation::Upload,
            RequestKind::Repeatable,
            move |c| Ok(c.post(&url).json(&fields)),
        )
        .send(UploadedFile::from_data)
        .await
    }

    /// Reads the file's size (and, with limits, its first bytes); returns the size.
    async fn check_file(&self, path: &Path) -> Result<u64, Error> {
        let io = |source| {
            Error::of(
                Operation::Upload,
                ErrorKind::Io {
                    path: Some(path.to_owned()),
                    source,
                },
            )
        };
        let size = tokio::fs::metadata(path).await.map_err(io)?.len();
        if let Some(limits) = self.limits {
            use tokio::io::AsyncReadExt;
            let mut head = [0u8; 16];
            let mut file = tokio::fs::File::open(path).await.map_err(io)?;
            let n = file.read(&mut head).await.map_err(io)?;
            limits.check(&path.display().to_string(), sniff_mime(&head[..n]), size)?;
        }
        Ok(size)
    }
}

fn display_name(path: &Path) -> String {
    path.file_name()
        .map_or_else(|| "upload".to_owned(), |n| n.to_string_lossy().into_owned())
}

/// The MIME type of an image from its first bytes, for the formats models take.
/// Extensions lie; magic numbers do not.
pub fn sniff_mime(head: &[u8]) -> Option<&'static str> {
    match head {
        [0xFF, 0xD8, 0xFF, ..] => Some("image/jpeg"),
        [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, ..] => Some("image/png"),
        [
            b'R',
            b'I',
            b'F',
            b'F',
            _,
            _,
            _,
            _,
            b'W',
            b'E',
            b'B',
            b'P',
            ..,
        ] => Some("image/webp"),
        [b'G', b'I', b'F', b'8', ..] => Some("image/gif"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_are_recognised_by_their_first_bytes() {
        assert_eq!(sniff_mime(&[0xFF, 0xD8, 0xFF, 0xE0]), Some("image/jpeg"));
        assert_eq!(sniff_mime(b"\x89PNG\r\n\x1a\n...."), Some("image/png"));
        assert_eq!(sniff_mime(b"RIFF\0\0\0\0WEBPVP8 "), Some("image/webp"));
        assert_eq!(sniff_mime(b"GIF89a"), Some("image/gif"));
        assert_eq!(sniff_mime(b"%PDF-1.7"), None);
        assert_eq!(sniff_mime(b""), None);
    }

    #[test]
    fn limits_name_the_file_and_what_is_allowed() {
        let limits = ImageLimits::JPEG_PNG_WEBP_10MB;
        assert!(
            limits
                .check("cat.png", Some("image/png"), 10 * 1024 * 1024)
                .is_ok()
        );
        let err = limits
            .check("cat.gif", Some("image/gif"), 10 * 1024 * 1024 + 1)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "`cat.gif` is \"image/gif\"; allowed: \"image/jpeg\", \"image/png\", \"image/webp\"; \
             `cat.gif` is 10485761 bytes; at most 10485760 bytes are allowed"
        );
    }

    #[test]
    fn both_documented_response_shapes_are_read() {
        let live = json!({
            "fileName": "cat.png", "filePath": "kieai/1/images/user-uploads/cat.png",
            "downloadUrl": "https://tempfile.redpandaai.co/kieai/1/cat.png",
            "fileSize": 1234, "mimeType": "image/png", "uploadedAt": "2026-03-01T10:00:00.000Z"
        });
        let raw = |json: Value| serde_json::value::to_raw_value(&json).unwrap();
        let file = UploadedFile::from_data(raw(live)).unwrap();
        assert_eq!(
            file.download_url,
            "https://tempfile.redpandaai.co/kieai/1/cat.png"
        );
        assert_eq!(file.file_size, Some(1234));
        let quickstart = json!({
            "fileId": "f1", "fileName": "cat.png", "originalName": "cat.png", "fileSize": 1234,
            "mimeType": "image/png", "uploadPath": "images", "fileUrl": "https://x/cat.png",
            "downloadUrl": "https://x/d/cat.png", "uploadTime": "t", "expiresAt": "e"
        });
        let file = UploadedFile::from_data(raw(quickstart)).unwrap();
        assert_eq!(file.download_url, "https://x/d/cat.png");
        assert_eq!(file.uploaded_at.as_deref(), Some("t"));
        assert!(UploadedFile::from_data(raw(json!({}))).is_err());
    }
}

// TEMP-MERGE: replaced by the upload branch's FileLimits.
/// TEMP
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct FileLimits {
    /// TEMP
    pub mime_types: &'static [&'static str],
    /// TEMP
    pub max_bytes: Option<u64>,
}
impl FileLimits {
    /// TEMP
    pub const fn new(mime_types: &'static [&'static str], max_bytes: Option<u64>) -> Self {
        Self {
            mime_types,
            max_bytes,
        }
    }
    /// TEMP
    pub const IMAGES: FileLimits =
        FileLimits::new(&["image/jpeg", "image/png", "image/webp"], None);
    /// TEMP
    pub const VIDEOS: FileLimits = FileLimits::new(&["video/mp4"], None);
    /// TEMP
    pub const AUDIO: FileLimits = FileLimits::new(&["audio/mpeg"], None);
}
impl From<FileLimits> for ImageLimits {
    fn from(l: FileLimits) -> Self {
        ImageLimits::new(l.mime_types, l.max_bytes.unwrap_or(u64::MAX))
    }
}

//! Uploads to kie.ai's file host (a different host from the API), for a model's input
//! images, videos and audio: from a file (streamed multipart), from bytes (base64), or
//! from a URL.
//!
//! The returned [`UploadedFile::download_url`] is what a model takes as its image,
//! video or audio URL (`image_url`, `video_url`...). A [`FileLimits`] checks a file's
//! type, told from its first bytes by [`sniff_mime`], and its size before anything is
//! sent. Uploaded files are temporary: kie.ai deletes them after 3 days.

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

/// How many first bytes of a file its type is told from. infer's Matroska and WebM
/// matchers want more than 256 bytes (the EBML header names the document type), and
/// an ASF file (Windows Media) names its streams' kinds in a header that starts the
/// file but runs to some kilobytes; 64 KiB covers both at no real cost.
const SNIFF_LEN: usize = 64 * 1024;

/// MIME types that kie.ai's pages spell more than one way. The first spelling of each
/// is the one [`sniff_mime`] answers; a limit that lists any spelling of a type accepts
/// a file of that type, so a rule copied from a page needs no translating.
const SPELLINGS: &[&[&str]] = &[
    // kling/motion-control lists image/jpg.
    &["image/jpeg", "image/jpg"],
    // wan speech-to-video lists both, for the same files.
    &["audio/mpeg", "audio/mp3"],
    &["audio/wav", "audio/x-wav"],
    &["audio/mp4", "audio/m4a"],
    // infer's spelling; no page uses it, but no file should be refused over it.
    &["audio/flac", "audio/x-flac"],
    // sora-2-characters lists video/avi; infer (and most software) says x-msvideo.
    &["video/avi", "video/x-msvideo"],
];

/// The first spelling of `mime` in [`SPELLINGS`], or `mime` itself.
fn preferred_spelling(mime: &str) -> &str {
    SPELLINGS
        .iter()
        .find(|group| group.iter().any(|m| m.eq_ignore_ascii_case(mime)))
        .map_or(mime, |group| group[0])
}

/// Whether two MIME types name the same file type: equal but for case (MIME types are
/// case-insensitive), or two spellings in [`SPELLINGS`].
fn same_type(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b) || preferred_spelling(a).eq_ignore_ascii_case(preferred_spelling(b))
}

/// What a model accepts as an input file (image, video or audio), checked before
/// anything is sent: types by the file's first bytes, not its name (extensions lie),
/// and the size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct FileLimits {
    /// Accepted MIME types, spelled as the model's page spells them: a spelling of the
    /// same type accepts the file too (`audio/mp3` and `audio/mpeg`, `audio/wav` and
    /// `audio/x-wav`, `audio/mp4` and `audio/m4a`, `video/avi` and `video/x-msvideo`,
    /// `image/jpeg` and `image/jpg`).
    pub mime_types: &'static [&'static str],
    /// Largest accepted size in bytes; `None`: any size.
    pub max_bytes: Option<u64>,
}

impl FileLimits {
    /// These MIME types, up to this many bytes (`None`: any size).
    pub const fn new(mime_types: &'static [&'static str], max_bytes: Option<u64>) -> Self {
        Self {
            mime_types,
            max_bytes,
        }
    }

    /// Every image type [`sniff_mime`] names as kie.ai's pages do (JPEG, PNG, WebP, GIF,
    /// BMP, TIFF), of any size.
    pub const IMAGES: FileLimits = FileLimits {
        mime_types: &[
            "image/jpeg",
            "image/png",
            "image/webp",
            "image/gif",
            "image/bmp",
            "image/tiff",
        ],
        max_bytes: None,
    };

    /// Every video type kie.ai's pages name (MP4, QuickTime, Matroska, WebM, AVI), of
    /// any size.
    pub const VIDEOS: FileLimits = FileLimits {
        mime_types: &[
            "video/mp4",
            "video/quicktime",
            "video/x-matroska",
            "video/webm",
            "video/avi",
        ],
        max_bytes: None,
    };

    /// Every audio type kie.ai's pages name (MP3, WAV, AAC, M4A, Ogg, FLAC, WMA), of
    /// any size.
    pub const AUDIO: FileLimits = FileLimits {
        mime_types: &[
            "audio/mpeg",
            "audio/wav",
            "audio/aac",
            "audio/mp4",
            "audio/ogg",
            "audio/flac",
            "audio/x-ms-wma",
        ],
        max_bytes: None,
    };

    /// JPEG, PNG or WebP up to 10 MB: kie.ai's usual rule for an input image ("Accepted
    /// types: image/jpeg, image/png, image/webp; Max size: 10.0MB").
    pub const JPEG_PNG_WEBP_10MB: FileLimits = FileLimits {
        mime_types: &["image/jpeg", "image/png", "image/webp"],
        max_bytes: Some(10 * 1024 * 1024),
    };

    /// Whether a file of this MIME type is accepted, whichever way either spells it.
    pub fn allows(&self, mime: &str) -> bool {
        self.mime_types
            .iter()
            .any(|allowed| same_type(allowed, mime))
    }

    /// Checks a file's detected type (`None`: not recognised, which no limit allows)
    /// and size.
    ///
    /// # Errors
    ///
    /// A [`ValidationError`] naming the file, what it is, and what is allowed.
    pub fn check(&self, name: &str, mime: Option<&str>, size: u64) -> Result<(), ValidationError> {
        let mut v = Violations::default();
        if !mime.is_some_and(|m| self.allows(m)) {
            v.push(
                name,
                Problem::NotAllowed {
                    value: mime.unwrap_or("an unrecognised file type").to_owned(),
                    allowed: self.mime_types.iter().map(|m| (*m).to_owned()).collect(),
                },
            );
        }
        if let Some(max_bytes) = self.max_bytes
            && size > max_bytes
        {
            v.push(
                name,
                Problem::TooLarge {
                    max_bytes,
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
    /// The URL to pass as a model's image, video or audio URL; valid for 3 days.
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
/// use kie_core::FileLimits;
///
/// # async fn run(client: kie_core::Client) -> Result<(), kie_core::Error> {
/// let image = client
///     .upload_file("cat.png")                 // or upload_bytes, upload_url
///     .limits(FileLimits::JPEG_PNG_WEBP_10MB) // checked before anything is sent
///     .await?;
/// println!("{}", image.download_url);        // an `image_url`, kept 3 days
/// # Ok(()) }
/// ```
#[must_use = "an upload does nothing until it is awaited"]
pub struct Upload {
    client: Client,
    source: Source,
    upload_path: String,
    file_name: Option<String>,
    limits: Option<FileLimits>,
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
    pub fn limits(mut self, limits: FileLimits) -> Self {
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
        check_file(path, self.limits).await
    }
}

/// A local file's size, checked first against `limits` by its first bytes and its size.
///
/// # Errors
///
/// The file cannot be read, or breaks `limits` (`ErrorKind::InvalidInput` naming it).
pub(crate) async fn check_file(path: &Path, limits: Option<FileLimits>) -> Result<u64, Error> {
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
    if let Some(limits) = limits {
        use tokio::io::AsyncReadExt;
        let mut head = Vec::with_capacity(SNIFF_LEN);
        let file = tokio::fs::File::open(path).await.map_err(io)?;
        // One `read` may stop short of what is there: read until SNIFF_LEN or the end.
        file.take(SNIFF_LEN as u64)
            .read_to_end(&mut head)
            .await
            .map_err(io)?;
        limits.check(&path.display().to_string(), sniff_mime(&head), size)?;
    }
    Ok(size)
}

fn display_name(path: &Path) -> String {
    path.file_name()
        .map_or_else(|| "upload".to_owned(), |n| n.to_string_lossy().into_owned())
}

/// The MIME type of a file from its first bytes (extensions lie; magic numbers do not),
/// spelled as kie.ai's pages spell it: `image/jpeg`, `image/png`, `image/webp`,
/// `image/gif`, `image/bmp`, `image/tiff`; `video/mp4`, `video/quicktime`,
/// `video/x-matroska`, `video/webm`, `video/avi`; `audio/mpeg`, `audio/wav`,
/// `audio/aac`, `audio/mp4` (an MP4 file of brand `M4A `), `audio/ogg` (Vorbis or
/// Opus), `audio/flac`, `audio/x-ms-wma`. Any other type the [`infer`](https://docs.rs/infer) crate knows is
/// named as infer names it (`application/pdf`, `image/avif`, `video/x-ms-wmv`...), so
/// that a refusal can say what the file is; `None` when nothing matches.
///
/// Only the first 64 KiB are looked at; give at least that much of a file (Matroska
/// and WebM need more than 256 bytes).
pub fn sniff_mime(head: &[u8]) -> Option<&'static str> {
    let head = &head[..head.len().min(SNIFF_LEN)];
    let mime = match infer::get(head)?.mime_type() {
        // Opus in an Ogg container: an Ogg file, as pages that take audio/ogg mean it.
        "audio/opus" => "audio/ogg",
        // Apple's brand of MP4 (`ftypM4V `): the same container.
        "video/x-m4v" => "video/mp4",
        // infer calls every ASF file WMV, audio-only ones too.
        "video/x-ms-wmv" => asf_kind(head),
        other => preferred_spelling(other),
    };
    Some(mime)
}

/// ASF_Audio_Media, F8699E40-5B4D-11CF-A8FD-00805F5C442B, as stored (the first three
/// fields little-endian).
const AUDIO_MEDIA: [u8; 16] = [
    0x40, 0x9E, 0x69, 0xF8, 0x4D, 0x5B, 0xCF, 0x11, 0xA8, 0xFD, 0x00, 0x80, 0x5F, 0x5C, 0x44, 0x2B,
];
/// ASF_Video_Media, BC19EFC0-5B4D-11CF-A8FD-00805F5C442B, likewise.
const VIDEO_MEDIA: [u8; 16] = [
    0xC0, 0xEF, 0x19, 0xBC, 0x4D, 0x5B, 0xCF, 0x11, 0xA8, 0xFD, 0x00, 0x80, 0x5F, 0x5C, 0x44, 0x2B,
];

/// Whether an ASF file (Windows Media) is video or audio. Its header, which starts the
/// file, has a Stream Properties object per stream, whose stream type is one GUID for
/// audio and another for video (the ASF specification's Stream Type GUIDs): a header
/// with an audio stream and no video one is WMA.
fn asf_kind(head: &[u8]) -> &'static str {
    let has = |guid: &[u8; 16]| head.windows(guid.len()).any(|w| w == guid);
    if has(&AUDIO_MEDIA) && !has(&VIDEO_MEDIA) {
        "audio/x-ms-wma"
    } else {
        "video/x-ms-wmv"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The start of an ISO base media file (MP4, QuickTime, M4A): an `ftyp` box of
    /// this major brand, then an empty `mdat`.
    fn ftyp(brand: &[u8; 4]) -> Vec<u8> {
        let mut b = vec![0, 0, 0, 0x18];
        b.extend_from_slice(b"ftyp");
        b.extend_from_slice(brand);
        b.extend_from_slice(&[0, 0, 0x02, 0]);
        b.extend_from_slice(b"isommp41");
        b.extend_from_slice(&[0, 0, 0, 8]);
        b.extend_from_slice(b"mdat");
        b
    }

    /// An EBML header (Matroska, WebM) of this DocType, padded with a Void element to
    /// 1 KiB, as real files are far longer than the 256 bytes infer wants.
    fn ebml(doc_type: &[u8]) -> Vec<u8> {
        let mut body = vec![0x42, 0x86, 0x81, 0x01, 0x42, 0xF7, 0x81, 0x01];
        body.extend_from_slice(&[0x42, 0xF2, 0x81, 0x04, 0x42, 0xF3, 0x81, 0x08]);
        body.extend_from_slice(&[0x42, 0x82, 0x80 | doc_type.len() as u8]);
        body.extend_from_slice(doc_type);
        body.extend_from_slice(&[0x42, 0x87, 0x81, 0x04, 0x42, 0x85, 0x81, 0x02]);
        let mut b = vec![0x1A, 0x45, 0xDF, 0xA3, 0x80 | body.len() as u8];
        b.extend_from_slice(&body);
        b.extend_from_slice(&[0x18, 0x53, 0x80, 0x67, 0x01, 0, 0, 0, 0, 0, 0x03, 0x00]);
        b.resize(1024, 0);
        b
    }

    /// A RIFF file (WAV, AVI, WebP) of this form type, with its first chunk.
    fn riff(form: &[u8; 4], chunk: &[u8; 4]) -> Vec<u8> {
        let mut b = b"RIFF\x24\x08\0\0".to_vec();
        b.extend_from_slice(form);
        b.extend_from_slice(chunk);
        b.extend_from_slice(&[0x10, 0, 0, 0, 1, 0, 2, 0, 0x44, 0xAC, 0, 0]);
        b
    }

    /// An Ogg page whose first packet starts with this codec header.
    fn ogg(packet: &[u8]) -> Vec<u8> {
        let mut b = b"OggS\0\x02".to_vec();
        b.extend_from_slice(&[0; 20]); // granule, serial, sequence, checksum
        b.extend_from_slice(&[1, packet.len() as u8]);
        b.extend_from_slice(packet);
        b
    }

    /// An ASF (Windows Media) header holding one Stream Properties object of this
    /// stream type: the ASF_Audio_Media or ASF_Video_Media GUID.
    fn asf(stream_type: [u8; 16]) -> Vec<u8> {
        let mut b = vec![
            0x30, 0x26, 0xB2, 0x75, 0x8E, 0x66, 0xCF, 0x11, 0xA6, 0xD9, 0x00, 0xAA, 0x00, 0x62,
            0xCE, 0x6C,
        ];
        b.extend_from_slice(&(30u64 + 40).to_le_bytes());
        b.extend_from_slice(&[1, 0, 0, 0, 1, 2]);
        b.extend_from_slice(&[
            0x91, 0x07, 0xDC, 0xB7, 0xB7, 0xA9, 0xCF, 0x11, 0x8E, 0xE6, 0x00, 0xC0, 0x0C, 0x20,
            0x53, 0x65,
        ]);
        b.extend_from_slice(&40u64.to_le_bytes());
        b.extend_from_slice(&stream_type);
        b
    }

    /// The first bytes of a file of each type kie.ai's pages name, with the MIME type
    /// `sniff_mime` must give it.
    fn samples() -> Vec<(&'static str, Vec<u8>)> {
        let mut opus = b"OpusHead\x01\x02\x38\x01\x80\xBB\0\0\0\0\0".to_vec();
        opus.resize(40, 0);
        vec![
            (
                "image/jpeg",
                b"\xFF\xD8\xFF\xE0\0\x10JFIF\0\x01\x01\0\0\x01\0\x01\0\0".to_vec(),
            ),
            (
                "image/png",
                b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\x01\0\0\0\x01\0\x08\x06\0\0\0".to_vec(),
            ),
            ("image/webp", riff(b"WEBP", b"VP8 ")),
            (
                "image/gif",
                b"GIF89a\x01\0\x01\0\x80\0\0\xFF\xFF\xFF\0\0\0!".to_vec(),
            ),
            (
                "image/bmp",
                b"BM\x3A\0\0\0\0\0\0\0\x36\0\0\0\x28\0\0\0\x01\0".to_vec(),
            ),
            (
                "image/tiff",
                b"II*\0\x08\0\0\0\x0E\0\0\x01\x03\0\x01\0\0\0".to_vec(),
            ),
            (
                "image/tiff",
                b"MM\0*\0\0\0\x08\0\x0E\x01\0\0\x03\0\0\0\x01".to_vec(),
            ),
            ("video/mp4", ftyp(b"isom")),
            ("video/mp4", ftyp(b"mp42")),
            ("video/mp4", ftyp(b"M4V ")),
            ("video/quicktime", ftyp(b"qt  ")),
            ("video/x-matroska", ebml(b"matroska")),
            ("video/webm", ebml(b"webm")),
            ("video/avi", riff(b"AVI ", b"LIST")),
            (
                "audio/mpeg",
                b"ID3\x04\0\0\0\0\x01\x76TIT2\0\0\0\x06\0\0\x03hi".to_vec(),
            ),
            (
                "audio/mpeg",
                b"\xFF\xFB\x90\x64\0\0\0\0\0\0\0\0\0\0\0\0".to_vec(),
            ),
            ("audio/wav", riff(b"WAVE", b"fmt ")),
            (
                "audio/aac",
                b"\xFF\xF1\x50\x80\x02\x1F\xFC\x21\0\x49\x90\x02\x19\0".to_vec(),
            ),
            ("audio/mp4", ftyp(b"M4A ")),
            ("audio/ogg", ogg(b"\x01vorbis\0\0\0\0\x02\x44\xAC\0\0")),
            ("audio/ogg", ogg(&opus)),
            (
                "audio/flac",
                b"fLaC\0\0\0\x22\x10\0\x10\0\0\0\x0E\0\x2F\x0F".to_vec(),
            ),
            ("audio/x-ms-wma", asf(AUDIO_MEDIA)),
        ]
    }

    #[test]
    fn each_type_is_recognised_by_its_first_bytes_and_named_as_kie_ai_names_it() {
        for (mime, head) in samples() {
            assert_eq!(sniff_mime(&head), Some(mime), "{head:02X?}");
        }
        // A QuickTime file whose first box is the movie itself, with no `ftyp`.
        assert_eq!(
            sniff_mime(b"\0\0\0\x6Cmoov\0\0\0\x6Cmvhd"),
            Some("video/quicktime")
        );
        assert_eq!(sniff_mime(&asf(VIDEO_MEDIA)), Some("video/x-ms-wmv"));
        // Types no page names keep infer's name, so that a refusal says what they are.
        assert_eq!(sniff_mime(b"%PDF-1.7\n%\xE2\xE3"), Some("application/pdf"));
        assert_eq!(sniff_mime(b"plain words, no magic"), None);
        assert_eq!(sniff_mime(b""), None);
    }

    #[test]
    fn each_family_constant_takes_every_type_of_its_family_that_is_sniffed() {
        for (mime, head) in samples() {
            let family = match mime.split('/').next() {
                Some("image") => FileLimits::IMAGES,
                Some("video") => FileLimits::VIDEOS,
                _ => FileLimits::AUDIO,
            };
            assert!(family.allows(mime), "{mime}");
            assert!(
                family.check("f", sniff_mime(&head), u64::MAX).is_ok(),
                "{mime}"
            );
            for other in [FileLimits::IMAGES, FileLimits::VIDEOS, FileLimits::AUDIO] {
                assert_eq!(other.allows(mime), other == family, "{mime}");
            }
        }
    }

    #[test]
    fn matroska_is_recognised_only_past_the_old_16_byte_head() {
        // The DocType sits past byte 16: the 16 bytes read before told nothing.
        let mkv = ebml(b"matroska");
        assert_eq!(sniff_mime(&mkv[..16]), None);
        assert_eq!(sniff_mime(&mkv), Some("video/x-matroska"));
        // Only the first SNIFF_LEN bytes are looked at, however many are given.
        let mut long = ftyp(b"M4A ");
        long.resize(SNIFF_LEN + 10, 0);
        assert_eq!(sniff_mime(&long), Some("audio/mp4"));
        // A WMA header whose audio stream lies past SNIFF_LEN is not looked into.
        let mut late = asf(VIDEO_MEDIA)[..30].to_vec();
        late.resize(SNIFF_LEN, 0);
        late.extend_from_slice(&AUDIO_MEDIA);
        assert_eq!(sniff_mime(&late), Some("video/x-ms-wmv"));
    }

    #[test]
    fn every_spelling_of_a_type_accepts_the_file() {
        for (a, b) in [
            (&["audio/mp3"], &["audio/mpeg"]),
            (&["audio/wav"], &["audio/x-wav"]),
            (&["audio/mp4"], &["audio/m4a"]),
            (&["audio/flac"], &["audio/x-flac"]),
            (&["video/avi"], &["video/x-msvideo"]),
            (&["image/jpg"], &["image/jpeg"]),
            (&["IMAGE/PNG"], &["image/png"]),
        ] {
            assert!(FileLimits::new(a, None).allows(b[0]), "{a:?} takes {b:?}");
            assert!(FileLimits::new(b, None).allows(a[0]), "{b:?} takes {a:?}");
        }
        // A rule copied from wan speech-to-video's page ("audio/mp3, audio/wav, audio/ogg,
        // audio/m4a, ...") takes the files sniff_mime names otherwise.
        let page = FileLimits::new(&["audio/mp3", "audio/wav", "audio/m4a"], None);
        for (mime, head) in samples() {
            if ["audio/mpeg", "audio/wav", "audio/mp4"].contains(&mime) {
                assert!(page.check("voice", sniff_mime(&head), 1).is_ok(), "{mime}");
            }
        }
        // Different types stay different, however alike their names.
        assert!(!same_type("audio/mp4", "video/mp4"));
        assert!(!same_type("audio/mpeg", "video/mpeg"));
        assert!(!same_type("audio/ogg", "audio/opus"));
        // Each spelling belongs to one type only.
        let all: Vec<String> = SPELLINGS
            .iter()
            .flat_map(|g| g.iter().map(|m| m.to_ascii_lowercase()))
            .collect();
        for m in &all {
            assert_eq!(all.iter().filter(|n| *n == m).count(), 1, "{m}");
        }
        // What sniff_mime answers is each group's first spelling.
        for group in SPELLINGS {
            for m in *group {
                assert_eq!(preferred_spelling(m), group[0]);
            }
        }
    }

    #[test]
    fn limits_name_the_file_and_what_is_allowed() {
        let limits = FileLimits::JPEG_PNG_WEBP_10MB;
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
        let err = limits.check("notes.txt", None, 3).unwrap_err();
        assert_eq!(
            err.to_string(),
            "`notes.txt` is \"an unrecognised file type\"; allowed: \"image/jpeg\", \
             \"image/png\", \"image/webp\""
        );
    }

    #[test]
    fn an_mp4_is_not_an_image() {
        let clip = ftyp(b"isom");
        for limits in [FileLimits::JPEG_PNG_WEBP_10MB, FileLimits::IMAGES] {
            let err = limits
                .check("clip.png", sniff_mime(&clip), 1_000)
                .unwrap_err();
            let text = err.to_string();
            assert!(
                text.starts_with("`clip.png` is \"video/mp4\"; allowed: \"image/jpeg\""),
                "{text}"
            );
        }
        let err = FileLimits::AUDIO
            .check("clip.m4a", sniff_mime(&clip), 1_000)
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("\"video/mp4\"; allowed: \"audio/mpeg\""),
            "{err}"
        );
    }

    #[test]
    fn without_max_bytes_any_size_is_allowed() {
        for limits in [FileLimits::IMAGES, FileLimits::VIDEOS, FileLimits::AUDIO] {
            assert_eq!(limits.max_bytes, None);
        }
        assert!(
            FileLimits::IMAGES
                .check("huge.png", Some("image/png"), u64::MAX)
                .is_ok()
        );
        let custom = FileLimits::new(&["video/mp4"], None);
        assert!(
            custom
                .check("long.mp4", Some("video/mp4"), 50 << 30)
                .is_ok()
        );
        let capped = FileLimits::new(&["video/mp4"], Some(100));
        let err = capped
            .check("long.mp4", Some("video/mp4"), 101)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "`long.mp4` is 101 bytes; at most 100 bytes are allowed"
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

//! Downloading results: streamed with constant memory, to a path (atomically) or to any
//! `AsyncWrite`, checked against the file's length, with progress, and resumed where a
//! broken connection left off.
//!
//! A file written to a path appears whole or not at all: bytes go to a temporary file
//! beside the target, which is flushed, synced and renamed only once complete. A
//! failure, or dropping the future, removes the temporary file.
//!
//! A transient failure (no connection, 429, 455 or a 5xx, a body cut short, a read
//! timeout) is retried as a read is, by the client's [`RetryPolicy`](crate::RetryPolicy)
//! on its [`Timer`](crate::time::Timer). Once bytes have arrived, the next attempt asks
//! only for the rest (`Range: bytes=<received>-`), and, when the first answer named the
//! file's version (a strong `ETag`, else `Last-Modified`), only of that version
//! (`If-Range`): a file that changed in between is never spliced onto the old bytes.
//! The first request is a plain `GET`, so a download that never breaks costs nothing
//! more.

use std::fmt;
use std::path::{Path, PathBuf};

use futures_util::StreamExt;
use reqwest::StatusCode;
use reqwest::header::{
    CONTENT_RANGE, ETAG, HeaderMap, HeaderName, HeaderValue, IF_RANGE, LAST_MODIFIED, RANGE,
};
use tokio::io::{AsyncSeekExt, AsyncWrite, AsyncWriteExt};

use crate::client::{Client, USER_AGENT};
use crate::envelope::excerpt;
use crate::error::{Error, Operation};
use crate::retry::{Attempt, Decision, RequestKind, retry_after, unanswered};

/// Bytes received so far, and the file's length when the server announced it.
///
/// `bytes` counts from the start of the file: a resumed download goes on from the bytes
/// already received, so it never goes backwards, except once when a download to a path
/// starts over because the host sent the whole file again (it changed, or the host
/// ignores `Range`): it then counts the new answer's bytes from zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DownloadProgress {
    /// Bytes of the file received.
    pub bytes: u64,
    /// The file's length (`Content-Length` of the whole file, or the length in a
    /// resumed answer's `Content-Range`), if sent.
    pub total: Option<u64>,
}

type ProgressFn = Box<dyn FnMut(DownloadProgress) + Send>;

/// A download being prepared: set a progress callback, then call
/// [`Download::to_path`] or [`Download::to_writer`].
#[must_use = "a download does nothing until `to_path` or `to_writer` is awaited"]
pub struct Download {
    client: Client,
    url: String,
    on_progress: Option<ProgressFn>,
}

impl fmt::Debug for Download {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Download")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Starts a download of a result file. No API key is sent: result files live on
    /// other hosts, which must never see it.
    pub fn download(&self, url: impl Into<String>) -> Download {
        Download {
            client: self.clone(),
            url: url.into(),
            on_progress: None,
        }
    }
}

impl Download {
    /// Calls `f` after each chunk received.
    pub fn on_progress(mut self, f: impl FnMut(DownloadProgress) + Send + 'static) -> Self {
        self.on_progress = Some(Box::new(f));
        self
    }

    /// Downloads to `path`, atomically: the file appears whole, or not at all.
    /// Returns the number of bytes written.
    ///
    /// A connection that breaks is resumed from the bytes received; if the host sends
    /// the whole file instead (it changed, or the host ignores `Range`), the download
    /// starts over from that answer.
    ///
    /// # Errors
    ///
    /// [`Error::Http`] for an error status (such as an expired link),
    /// [`Error::Truncated`] when fewer bytes came than announced, [`Error::Unanswered`]
    /// when the connection failed: each once the client's retry policy stops (at once
    /// for a status that is not transient, such as 403 or 404). Without a retry:
    /// [`Error::NotResumed`] when the host's answer to a resumed request does not
    /// continue the same file, [`Error::Io`] when the file could not be written.
    pub async fn to_path(self, path: impl AsRef<Path>) -> Result<u64, Error> {
        let path = path.as_ref();
        let partial = PartialFile::create(path)?;
        let mut file = tokio::fs::File::from_std(partial.reopen().map_err(|e| io(path, e))?);
        let bytes = self
            .fetch(Sink::<tokio::fs::File>::Owned(&mut file))
            .await?;
        file.sync_all().await.map_err(|e| io(path, e))?;
        drop(file);
        partial.persist(path).await?;
        Ok(bytes)
    }

    /// Streams the body into `writer` and flushes it. Returns the number of bytes
    /// written. A connection that breaks is resumed from the bytes written. On failure
    /// the writer holds a partial body: prefer [`Download::to_path`] for files.
    ///
    /// # Errors
    ///
    /// As [`Download::to_path`]; in addition, [`Error::NotResumed`] (with `in_writer`)
    /// when the host answers a resumed request with the whole file, since bytes already
    /// written cannot be taken back.
    pub async fn to_writer<W: AsyncWrite + Unpin + ?Sized>(
        self,
        writer: &mut W,
    ) -> Result<u64, Error> {
        self.fetch(Sink::Callers(writer)).await
    }

    /// Attempts until the file is complete or the retry policy says stop.
    async fn fetch<W: AsyncWrite + Unpin + ?Sized>(
        mut self,
        mut sink: Sink<'_, W>,
    ) -> Result<u64, Error> {
        let inner = self.client.inner.clone();
        let mut file = FileState::default();
        let mut attempts = 0;
        // The retry policy's time budget runs from the last byte received, so a long
        // download that was making progress can still be resumed.
        let mut since = inner.timer.now();
        loop {
            attempts += 1;
            let before = file.received;
            let failed = match self.attempt(&mut file, &mut sink).await {
                Ok(()) => break,
                Err(failed) => failed,
            };
            if file.received != before {
                since = inner.timer.now();
            }
            let Some(outcome) = failed.retry else {
                return Err(failed.error);
            };
            let elapsed = inner.timer.now().saturating_sub(since);
            match inner.retry.decide(
                RequestKind::Read,
                outcome,
                attempts,
                elapsed,
                fastrand::f64(),
            ) {
                Decision::Stop => return Err(failed.error),
                Decision::RetryAfter(delay) => {
                    tracing::warn!(
                        operation = %Operation::Download,
                        attempt = attempts,
                        received = file.received,
                        total = ?file.total,
                        ?delay,
                        error = %failed.error,
                        "retrying"
                    );
                    inner.timer.sleep(delay).await;
                }
            }
        }
        sink.flush().await.map_err(written)?;
        Ok(file.received)
    }

    /// One request, and its body into `sink`.
    async fn attempt<W: AsyncWrite + Unpin + ?Sized>(
        &mut self,
        file: &mut FileState,
        sink: &mut Sink<'_, W>,
    ) -> Result<(), Failed> {
        let resuming = file.received > 0;
        let mut request = self
            .client
            .inner
            .http
            .get(&self.url)
            .header(reqwest::header::USER_AGENT, USER_AGENT);
        if resuming {
            request = request.header(RANGE, format!("bytes={}-", file.received));
            if let Some((_, version)) = file.version() {
                request = request.header(IF_RANGE, version.clone());
            }
        }
        let response = request.send().await.map_err(|e| broken(e, None))?;
        let status = response.status();
        if resuming && status == StatusCode::PARTIAL_CONTENT {
            if !file.continues(response.headers()) {
                return Err(self.not_resumed(file, sink, &response));
            }
        } else if resuming && status == StatusCode::RANGE_NOT_SATISFIABLE {
            return if file.ends_here(response.headers()) {
                Ok(())
            } else {
                Err(self.not_resumed(file, sink, &response))
            };
        } else if status.is_success() {
            if resuming {
                if !sink
                    .start_over()
                    .await
                    .map_err(|e| Failed::fatal(written(e)))?
                {
                    return Err(self.not_resumed(file, sink, &response));
                }
                tracing::warn!(
                    url = %self.url,
                    discarded = file.received,
                    "the host sent the whole file again; starting over"
                );
            }
            file.begin(&response);
        } else {
            return Err(refused(response).await);
        }
        let mut body = response.bytes_stream();
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| broken(e, file.short_of(&self.url)))?;
            sink.write_all(&chunk)
                .await
                .map_err(|e| Failed::fatal(written(e)))?;
            file.received += chunk.len() as u64;
            if let Some(f) = self.on_progress.as_mut() {
                f(DownloadProgress {
                    bytes: file.received,
                    total: file.total,
                });
            }
        }
        match file.short_of(&self.url) {
            None => Ok(()),
            Some(error) => Err(Failed {
                error,
                retry: Some(Attempt::ConnectionLost),
            }),
        }
    }

    fn not_resumed<W: ?Sized>(
        &self,
        file: &FileState,
        sink: &Sink<'_, W>,
        response: &reqwest::Response,
    ) -> Failed {
        let content_range = response
            .headers()
            .get(CONTENT_RANGE)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        Failed::fatal(Error::NotResumed {
            task_id: None,
            url: self.url.clone(),
            received: file.received,
            http_status: response.status().as_u16(),
            content_range,
            in_writer: matches!(sink, Sink::Callers(_)),
        })
    }
}

/// What the download knows of the file, across attempts.
#[derive(Debug, Default)]
struct FileState {
    /// Bytes written: where a resumed request starts.
    received: u64,
    /// The file's length, once an answer said it.
    total: Option<u64>,
    /// The validators of the answer that began the body.
    etag: Option<HeaderValue>,
    last_modified: Option<HeaderValue>,
}

impl FileState {
    /// Takes the length and validators of an answer that carries the whole file.
    fn begin(&mut self, response: &reqwest::Response) {
        let headers = response.headers();
        *self = FileState {
            received: 0,
            total: response.content_length(),
            etag: headers.get(ETAG).cloned(),
            last_modified: headers.get(LAST_MODIFIED).cloned(),
        };
    }

    /// The validator for `If-Range`, and the header it came from: a strong `ETag`
    /// (a weak one is not allowed there), else `Last-Modified`.
    fn version(&self) -> Option<(HeaderName, &HeaderValue)> {
        match &self.etag {
            Some(etag) if !etag.as_bytes().starts_with(b"W/") => Some((ETAG, etag)),
            _ => self.last_modified.as_ref().map(|lm| (LAST_MODIFIED, lm)),
        }
    }

    /// Whether a 206 answer continues this file at `received`: its `Content-Range`
    /// starts there and runs to the end of a file of the same length, and the validator
    /// sent in `If-Range`, if the answer repeats it, is unchanged (a host that ignores
    /// `If-Range` would otherwise splice a new file onto the old bytes). Takes the
    /// file's length from it.
    fn continues(&mut self, headers: &HeaderMap) -> bool {
        if let Some((name, ours)) = self.version()
            && headers.get(name).is_some_and(|theirs| theirs != ours)
        {
            return false;
        }
        let Some(ContentRange::Bytes { first, last, len }) = content_range(headers) else {
            return false;
        };
        let len = match (len, self.total) {
            (Some(theirs), Some(ours)) if theirs != ours => return false,
            (theirs, ours) => theirs.or(ours),
        };
        let Some(end) = last.checked_add(1) else {
            return false;
        };
        if first != self.received || len.is_some_and(|len| len != end) {
            return false;
        }
        self.total = Some(end);
        true
    }

    /// Whether a 416 answer says the file ends exactly at `received`: the body had no
    /// announced length, and the break came after its last byte.
    fn ends_here(&mut self, headers: &HeaderMap) -> bool {
        let Some(ContentRange::Unsatisfied { len }) = content_range(headers) else {
            return false;
        };
        let whole = len == self.received && self.total.is_none_or(|total| total == len);
        if whole {
            self.total = Some(len);
        }
        whole
    }

    /// The error for a body that ended before the file's announced length.
    fn short_of(&self, url: &str) -> Option<Error> {
        let expected = self.total.filter(|&total| self.received < total)?;
        Some(Error::Truncated {
            task_id: None,
            url: url.to_owned(),
            expected,
            received: self.received,
        })
    }
}

/// A `Content-Range` value (RFC 9110, 14.4), in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ContentRange {
    /// `bytes first-last/len`, `len` being `*` when unknown.
    Bytes {
        first: u64,
        last: u64,
        len: Option<u64>,
    },
    /// `bytes */len`, as a 416 answer gives it.
    Unsatisfied { len: u64 },
}

fn content_range(headers: &HeaderMap) -> Option<ContentRange> {
    let value = headers.get(CONTENT_RANGE)?.to_str().ok()?;
    let (range, len) = value.trim().strip_prefix("bytes ")?.split_once('/')?;
    if range == "*" {
        return Some(ContentRange::Unsatisfied {
            len: len.parse().ok()?,
        });
    }
    let (first, last) = range.split_once('-')?;
    let (first, last) = (first.parse().ok()?, last.parse().ok()?);
    let len = match len {
        "*" => None,
        len => Some(len.parse().ok()?),
    };
    (first <= last).then_some(ContentRange::Bytes { first, last, len })
}

/// Where the body goes.
enum Sink<'a, W: ?Sized> {
    /// `to_path`'s partial file: the download owns it, so it can empty it and start over.
    Owned(&'a mut tokio::fs::File),
    /// The caller's writer: what it was given stays written.
    Callers(&'a mut W),
}

impl<W: AsyncWrite + Unpin + ?Sized> Sink<'_, W> {
    async fn write_all(&mut self, chunk: &[u8]) -> std::io::Result<()> {
        match self {
            Sink::Owned(file) => file.write_all(chunk).await,
            Sink::Callers(writer) => writer.write_all(chunk).await,
        }
    }

    async fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Sink::Owned(file) => file.flush().await,
            Sink::Callers(writer) => writer.flush().await,
        }
    }

    /// Empties the sink for a whole new body; `false` when it cannot take back what it
    /// holds.
    async fn start_over(&mut self) -> std::io::Result<bool> {
        match self {
            Sink::Owned(file) => {
                file.flush().await?;
                file.set_len(0).await?;
                file.rewind().await?;
                Ok(true)
            }
            Sink::Callers(_) => Ok(false),
        }
    }
}

/// A failed attempt: its error, and what it was for the retry policy (`None`: another
/// attempt cannot help).
struct Failed {
    error: Error,
    retry: Option<Attempt>,
}

impl Failed {
    fn fatal(error: Error) -> Self {
        Self { error, retry: None }
    }
}

/// An error status: [`Error::Http`], retried if transient.
async fn refused(response: reqwest::Response) -> Failed {
    let http_status = response.status().as_u16();
    let retry_after = retry_after(&response);
    let body = response.bytes().await.unwrap_or_default();
    Failed {
        error: Error::Http {
            operation: Operation::Download,
            task_id: None,
            http_status,
            body: excerpt(&body),
            retry_after,
        },
        retry: Some(Attempt::Answered {
            http_status,
            code: None,
            retry_after,
        }),
    }
}

/// A transport failure, before the answer or in its body: [`Error::Truncated`] when
/// given (the body ended short of its length), else [`Error::Unanswered`].
fn broken(e: reqwest::Error, truncated: Option<Error>) -> Failed {
    let (retry, cause) = unanswered(&e);
    let error = truncated.unwrap_or(Error::Unanswered {
        operation: Operation::Download,
        task_id: None,
        cause,
        source: e,
    });
    Failed {
        error,
        retry: Some(retry),
    }
}

fn written(source: std::io::Error) -> Error {
    Error::Io {
        operation: Operation::Download,
        task_id: None,
        path: None,
        source,
    }
}

fn io(path: &Path, source: std::io::Error) -> Error {
    Error::Io {
        operation: Operation::Download,
        task_id: None,
        path: Some(path.to_owned()),
        source,
    }
}

/// A temporary file beside the target, removed on drop unless persisted.
struct PartialFile {
    path: PathBuf,
    file: Option<std::fs::File>,
}

impl PartialFile {
    fn create(target: &Path) -> Result<Self, Error> {
        let dir = match target.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.to_owned(),
            _ => PathBuf::from("."),
        };
        let name = target
            .file_name()
            .ok_or_else(|| {
                io(
                    target,
                    std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a file path"),
                )
            })?
            .to_string_lossy();
        let path = dir.join(format!(".{name}.{:016x}.partial", fastrand::u64(..)));
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| io(&path, e))?;
        Ok(Self {
            path,
            file: Some(file),
        })
    }

    fn reopen(&self) -> std::io::Result<std::fs::File> {
        match &self.file {
            Some(file) => file.try_clone(),
            None => Err(std::io::Error::other("the partial file is closed")),
        }
    }

    async fn persist(mut self, target: &Path) -> Result<(), Error> {
        self.file = None;
        tokio::fs::rename(&self.path, target)
            .await
            .map_err(|e| io(target, e))?;
        self.path = PathBuf::new();
        Ok(())
    }
}

impl Drop for PartialFile {
    fn drop(&mut self) {
        if !self.path.as_os_str().is_empty() {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(HeaderName, &str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(name, value)| (name.clone(), HeaderValue::from_str(value).unwrap()))
            .collect()
    }

    #[test]
    fn content_ranges_are_read_strictly() {
        #[rustfmt::skip]
        let table = [
            ("bytes 100-999/1000", Some(ContentRange::Bytes { first: 100, last: 999, len: Some(1000) })),
            ("bytes 0-0/*", Some(ContentRange::Bytes { first: 0, last: 0, len: None })),
            ("bytes */1000", Some(ContentRange::Unsatisfied { len: 1000 })),
            ("bytes 9-3/1000", None),
            ("bytes 1-2", None),
            ("items 1-2/3", None),
            ("bytes -2/3", None),
            ("bytes */*", None),
        ];
        for (value, expected) in table {
            assert_eq!(
                content_range(&headers(&[(CONTENT_RANGE, value)])),
                expected,
                "{value}"
            );
        }
    }

    #[test]
    fn if_range_takes_a_strong_etag_else_last_modified() {
        let lm = HeaderValue::from_static("Sun, 06 Nov 1994 08:49:37 GMT");
        let file = |etag: Option<&'static str>, last_modified: Option<&HeaderValue>| FileState {
            etag: etag.map(HeaderValue::from_static),
            last_modified: last_modified.cloned(),
            ..FileState::default()
        };
        let strong = file(Some("\"v1\""), Some(&lm));
        assert_eq!(
            strong.version(),
            Some((ETAG, &HeaderValue::from_static("\"v1\"")))
        );
        assert_eq!(
            file(Some("W/\"v1\""), Some(&lm)).version(),
            Some((LAST_MODIFIED, &lm))
        );
        assert_eq!(file(Some("W/\"v1\""), None).version(), None);
        assert_eq!(file(None, None).version(), None);
    }

    #[test]
    fn a_partial_answer_continues_only_the_same_file_at_the_same_byte() {
        let state = || FileState {
            received: 400,
            total: Some(1000),
            etag: Some(HeaderValue::from_static("\"v1\"")),
            last_modified: None,
        };
        #[rustfmt::skip]
        let table: &[(&[(HeaderName, &str)], bool)] = &[
            (&[(CONTENT_RANGE, "bytes 400-999/1000")], true),
            (&[(CONTENT_RANGE, "bytes 400-999/1000"), (ETAG, "\"v1\"")], true),
            (&[(CONTENT_RANGE, "bytes 400-999/*")], true),
            (&[(CONTENT_RANGE, "bytes 400-999/1000"), (ETAG, "\"v2\"")], false),
            (&[(CONTENT_RANGE, "bytes 0-999/1000")], false),
            (&[(CONTENT_RANGE, "bytes 401-999/1000")], false),
            (&[(CONTENT_RANGE, "bytes 400-1199/1200")], false),
            (&[(CONTENT_RANGE, "bytes 400-799/1000")], false),
            (&[], false),
        ];
        for (pairs, expected) in table {
            assert_eq!(state().continues(&headers(pairs)), *expected, "{pairs:?}");
        }
        // With no length known before, the answer's range gives it.
        let mut unknown = FileState {
            total: None,
            ..state()
        };
        assert!(unknown.continues(&headers(&[(CONTENT_RANGE, "bytes 400-1199/*")])));
        assert_eq!(unknown.total, Some(1200));
    }

    #[test]
    fn a_416_means_done_only_when_the_file_ends_at_the_bytes_received() {
        let mut unknown = FileState {
            received: 700,
            ..FileState::default()
        };
        assert!(!unknown.ends_here(&headers(&[(CONTENT_RANGE, "bytes */500")])));
        assert!(!unknown.ends_here(&headers(&[])));
        assert!(unknown.ends_here(&headers(&[(CONTENT_RANGE, "bytes */700")])));
        assert_eq!(unknown.total, Some(700));
    }
}

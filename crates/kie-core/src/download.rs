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
//!
//! What a file host can do to a download is bounded. Its redirects are followed one by
//! one (never to plain `http://` outside loopback, at most [`MAX_REDIRECTS`] in a row,
//! never with the key). A body that trickles in is given up below a floor
//! ([`MinSpeed`], checked over each window) or past a deadline, and resumed like a cut
//! one. A `206` to a request for the whole file is used only if it is the whole file. A
//! body whose end only the closing of the connection marks (no `Content-Length`, not
//! chunked, HTTP/1) is checked against the length a `HEAD` gives, and reported as
//! unverified ([`Downloaded::verified`]) when the host gives none.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use futures_util::StreamExt;
use reqwest::header::{
    CONTENT_LENGTH, CONTENT_RANGE, ETAG, HeaderMap, HeaderName, HeaderValue, IF_RANGE,
    LAST_MODIFIED, LOCATION, RANGE, TRANSFER_ENCODING,
};
use reqwest::{StatusCode, Version};
use tokio::io::{AsyncSeekExt, AsyncWrite, AsyncWriteExt};
use tokio::time::Instant;
use url::Url;

use crate::client::{Client, USER_AGENT, is_loopback};
use crate::error::{Error, ErrorKind, Operation, SpeedLimit};
use crate::retry::{Attempt, Failed, RequestKind, Retries, retry_after, unanswered};
use crate::transport::{Read, read_at_most};
use crate::wire::{BODY_EXCERPT, excerpt};

/// The most redirects a download follows in a row.
pub const MAX_REDIRECTS: usize = 10;

/// A floor under a download's speed: at least `bytes_per_sec` on average over each
/// window of `window`, counted from the first byte of an answer. Below it, the attempt
/// is given up and resumed (a host that trickles a byte a second never times out on
/// silence alone); after the retries, the download fails with [`ErrorKind::TooSlow`](crate::ErrorKind::TooSlow).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MinSpeed {
    bytes_per_sec: u64,
    window: Duration,
}

impl MinSpeed {
    /// 4 KiB/s over 30 s windows: far below any working link (a 50 MB video at this
    /// speed would take three and a half hours), far above a host that trickles.
    pub const DEFAULT: MinSpeed = MinSpeed::new(4 * 1024, Duration::from_secs(30));

    /// No floor: only silence for the client's request timeout ends an attempt.
    pub const NONE: MinSpeed = MinSpeed::new(0, Duration::from_secs(30));

    /// At least `bytes_per_sec` over each `window` (at least 1 ms).
    pub const fn new(bytes_per_sec: u64, window: Duration) -> Self {
        let window = if window.is_zero() {
            Duration::from_millis(1)
        } else {
            window
        };
        Self {
            bytes_per_sec,
            window,
        }
    }

    /// The speed, in bytes per second.
    pub fn bytes_per_sec(&self) -> u64 {
        self.bytes_per_sec
    }

    /// The window it is averaged over.
    pub fn window(&self) -> Duration {
        self.window
    }

    /// The bytes one window must bring.
    fn per_window(&self) -> u64 {
        let bytes = u128::from(self.bytes_per_sec) * self.window.as_millis() / 1000;
        u64::try_from(bytes).unwrap_or(u64::MAX)
    }
}

/// A finished download.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Downloaded {
    /// The bytes written.
    pub bytes: u64,
    /// Whether the length is confirmed: by `Content-Length` or `Content-Range`, by the
    /// protocol's own framing (chunked, HTTP/2), or, for a body ended by closing the
    /// connection, by the length a `HEAD` gives. `false` only when the host offers no
    /// way to tell a whole body from one cut short.
    pub verified: bool,
}

/// Bytes received so far, and the file's length when the server announced it.
///
/// `bytes` counts from the start of the file: a resumed download goes on from the bytes
/// already received, so it never goes backwards, except once when a download to a path
/// starts over because the host sent the whole file again (it changed, or the host
/// ignores `Range`): it then counts the new answer's bytes from zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct DownloadProgress {
    /// Bytes of the file received.
    pub bytes: u64,
    /// The file's length (`Content-Length` of the whole file, or the length in a
    /// resumed answer's `Content-Range`), if sent.
    pub total: Option<u64>,
}

type ProgressFn = Box<dyn FnMut(DownloadProgress) + Send>;

/// A download being prepared: set a progress callback, a floor or a deadline, then
/// call [`Download::to_path`] or [`Download::to_writer`].
///
/// # Examples
///
/// ```no_run
/// use std::time::Duration;
///
/// # async fn run(client: kie_core::Client, url: &str) -> Result<(), kie_core::Error> {
/// let saved = client
///     .download(url)
///     .on_progress(|p| eprintln!("{} of {:?} bytes", p.bytes, p.total))
///     .deadline(Duration::from_secs(600))
///     .to_path("fox.mp4") // whole or not at all
///     .await?;
/// println!("{} bytes, length verified: {}", saved.bytes, saved.verified);
/// # Ok(()) }
/// ```
#[must_use = "a download does nothing until `to_path` or `to_writer` is awaited"]
pub struct Download {
    source: Source,
    on_progress: Option<ProgressFn>,
    min_speed: MinSpeed,
    deadline: Option<Duration>,
}

impl fmt::Debug for Download {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Download")
            .field("url", &self.source.url)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Starts a download of a result file. No API key is sent: result files live on
    /// other hosts, which must never see it.
    pub fn download(&self, url: impl Into<String>) -> Download {
        Download {
            source: Source {
                client: self.clone(),
                url: url.into(),
            },
            on_progress: None,
            min_speed: self.inner.download_min_speed,
            deadline: None,
        }
    }
}

impl Download {
    /// Calls `f` after each chunk received.
    pub fn on_progress(mut self, f: impl FnMut(DownloadProgress) + Send + 'static) -> Self {
        self.on_progress = Some(Box::new(f));
        self
    }

    /// The floor under this download's speed (default: the client's,
    /// [`MinSpeed::DEFAULT`] unless set with
    /// [`ClientBuilder::download_min_speed`](crate::ClientBuilder::download_min_speed)).
    pub fn min_speed(mut self, floor: MinSpeed) -> Self {
        self.min_speed = floor;
        self
    }

    /// The longest the whole download may take, retries included (default: none; the
    /// floor and the retry policy bound it). Past it the download fails with
    /// [`ErrorKind::TooSlow`](crate::ErrorKind::TooSlow).
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// Downloads to `path`, atomically: the file appears whole, or not at all.
    /// Returns what was written.
    ///
    /// A connection that breaks is resumed from the bytes received; if the host sends
    /// the whole file instead (it changed, or the host ignores `Range`), the download
    /// starts over from that answer.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Http`](crate::ErrorKind::Http) for an error status (such as an expired link),
    /// [`ErrorKind::Truncated`](crate::ErrorKind::Truncated) when fewer bytes came than announced, [`ErrorKind::Unanswered`](crate::ErrorKind::Unanswered)
    /// when the connection failed, [`ErrorKind::TooSlow`](crate::ErrorKind::TooSlow) below the floor: each once the
    /// client's retry policy stops (at once for a status that is not transient, such as
    /// 403 or 404). Without a retry: [`ErrorKind::NotResumed`](crate::ErrorKind::NotResumed) when the host's answer to a
    /// resumed request does not continue the same file (or a request for the whole
    /// file gets a part of it), [`ErrorKind::Redirected`](crate::ErrorKind::Redirected) for a redirect not followed,
    /// [`ErrorKind::TooSlow`](crate::ErrorKind::TooSlow) past the deadline, and [`ErrorKind::Io`](crate::ErrorKind::Io), naming `path`, when the
    /// file could not be written (its directory missing, say).
    pub async fn to_path(self, path: impl AsRef<Path>) -> Result<Downloaded, Error> {
        let path = path.as_ref();
        let partial = PartialFile::create(path)?;
        let mut file = tokio::fs::File::from_std(partial.reopen().map_err(|e| io(path, e))?);
        let downloaded = self
            .fetch(Sink::<tokio::fs::File>::Owned(&mut file, path))
            .await?;
        file.sync_all().await.map_err(|e| io(path, e))?;
        drop(file);
        partial.persist(path).await?;
        Ok(downloaded)
    }

    /// Streams the body into `writer` and flushes it. Returns what was written. A
    /// connection that breaks is resumed from the bytes written. On failure the writer
    /// holds a partial body: prefer [`Download::to_path`] for files.
    ///
    /// # Errors
    ///
    /// As [`Download::to_path`]; in addition, [`ErrorKind::NotResumed`](crate::ErrorKind::NotResumed) (with `in_writer`)
    /// when the host answers a resumed request with the whole file, since bytes already
    /// written cannot be taken back.
    pub async fn to_writer<W: AsyncWrite + Unpin + ?Sized>(
        self,
        writer: &mut W,
    ) -> Result<Downloaded, Error> {
        self.fetch(Sink::Callers(writer)).await
    }

    /// Attempts until the file is complete or the retry policy says stop.
    async fn fetch<W: AsyncWrite + Unpin + ?Sized>(
        mut self,
        mut sink: Sink<'_, W>,
    ) -> Result<Downloaded, Error> {
        let inner = self.source.client.inner.clone();
        let deadline = self.deadline;
        let mut file = FileState::default();
        let mut retries = Retries::new(
            &inner.retry,
            inner.timer.as_ref(),
            RequestKind::Repeatable,
            Operation::Download,
        );
        let attempts = async {
            loop {
                let before = file.received;
                match self.attempt(&mut file, &mut sink).await {
                    Ok(verified) => return Ok::<bool, Error>(verified),
                    Err(mut failed) => {
                        failed.progressed = file.received != before;
                        retries.after(failed).await?;
                    }
                }
            }
        };
        // The deadline covers the whole download: attempts and the waits between them.
        let verified = match deadline {
            Some(limit) => match tokio::time::timeout(limit, attempts).await {
                Ok(verified) => verified?,
                Err(_) => {
                    let limit = SpeedLimit::Deadline(limit);
                    return Err(self.source.too_slow(&file, limit).error);
                }
            },
            None => attempts.await?,
        };
        sink.flush().await.map_err(|e| sink.error(e))?;
        Ok(Downloaded {
            bytes: file.received,
            verified,
        })
    }

    /// One request, and its body into `sink`; whether the length was confirmed.
    async fn attempt<W: AsyncWrite + Unpin + ?Sized>(
        &mut self,
        file: &mut FileState,
        sink: &mut Sink<'_, W>,
    ) -> Result<bool, Failed> {
        let resuming = file.received > 0;
        let response = self.source.get(file).await?;
        let status = response.status();
        if resuming && status == StatusCode::PARTIAL_CONTENT {
            if !file.continues(response.headers()) {
                return Err(self.source.not_resumed(file, sink, &response));
            }
        } else if resuming && status == StatusCode::RANGE_NOT_SATISFIABLE {
            return if file.ends_here(response.headers()) {
                Ok(true)
            } else {
                Err(self.source.not_resumed(file, sink, &response))
            };
        } else if status == StatusCode::PARTIAL_CONTENT {
            // A part, where the whole file was asked for: usable only if it is the whole.
            // Nothing was written, so asking again (a restart) is safe.
            if !file.begin_whole(&response) {
                let mut failed = self.source.not_resumed(file, sink, &response);
                failed.retry = Some(Attempt::Garbled);
                return Err(failed);
            }
        } else if status.is_success() {
            if resuming {
                if !sink
                    .start_over()
                    .await
                    .map_err(|e| Failed::fatal(sink.error(e)))?
                {
                    return Err(self.source.not_resumed(file, sink, &response));
                }
                tracing::warn!(
                    url = %self.source.url,
                    discarded = file.received,
                    "the host sent the whole file again; starting over"
                );
            }
            file.begin(&response);
        } else {
            return Err(self.source.refused(response).await);
        }
        let framed = is_framed(&response);
        let mut body = response.bytes_stream();
        let floor = self.min_speed.per_window();
        let mut window_end = Instant::now() + self.min_speed.window;
        let mut in_window = 0;
        loop {
            let chunk = if floor == 0 {
                body.next().await
            } else {
                match tokio::time::timeout_at(window_end, body.next()).await {
                    Ok(chunk) => chunk,
                    Err(_) if in_window < floor => {
                        let limit = SpeedLimit::MinSpeed(self.min_speed);
                        let mut failed = self.source.too_slow(file, limit);
                        failed.retry = Some(Attempt::Timeout);
                        return Err(failed);
                    }
                    Err(_) => {
                        window_end += self.min_speed.window;
                        in_window = 0;
                        continue;
                    }
                }
            };
            let Some(chunk) = chunk else { break };
            let chunk = chunk.map_err(|e| broken(e, file.short_of(&self.source.url)))?;
            sink.write_all(&chunk)
                .await
                .map_err(|e| Failed::fatal(sink.error(e)))?;
            file.received += chunk.len() as u64;
            in_window += chunk.len() as u64;
            if let Some(f) = self.on_progress.as_mut() {
                f(DownloadProgress {
                    bytes: file.received,
                    total: file.total,
                });
            }
        }
        if let Some(error) = file.short_of(&self.source.url) {
            return Err(Failed::retry(error, Attempt::ConnectionLost));
        }
        if file.total.is_some() || framed {
            return Ok(true);
        }
        self.source.verify(file).await
    }
}

/// What is downloaded, from where: the part of a [`Download`] its requests need.
struct Source {
    client: Client,
    url: String,
}

impl Source {
    /// Checks a body that only the closing of the connection ended against the length a
    /// `HEAD` gives: equal, it is whole; longer, the body was cut, and the next attempt
    /// resumes it; no length (or a shorter one), it cannot be verified.
    async fn verify(&self, file: &mut FileState) -> Result<bool, Failed> {
        let head = self
            .client
            .inner
            .http
            .head(file.location.as_deref().unwrap_or(&self.url))
            .header(reqwest::header::USER_AGENT, USER_AGENT)
            .send()
            .await;
        let length = head.ok().filter(|h| h.status().is_success()).and_then(|h| {
            let value = h.headers().get(CONTENT_LENGTH)?.to_str().ok()?;
            value.trim().parse::<u64>().ok()
        });
        match length {
            Some(len) if len == file.received => Ok(true),
            Some(len) if len > file.received => {
                file.total = Some(len);
                let error = file.short_of(&self.url).unwrap_or_else(|| {
                    unreachable!("the length was just set above the bytes received")
                });
                Err(Failed::retry(error, Attempt::ConnectionLost))
            }
            _ => {
                tracing::warn!(url = %self.url, bytes = file.received, "the download's length cannot be verified");
                Ok(false)
            }
        }
    }

    /// Sends the attempt's GET, following the file host's redirects one by one: only to
    /// https (or http on loopback), at most [`MAX_REDIRECTS`] in a row.
    async fn get(&self, file: &mut FileState) -> Result<reqwest::Response, Failed> {
        let http = &self.client.inner.http;
        let mut url = self.url.clone();
        for hop in 0..=MAX_REDIRECTS {
            let mut request = http
                .get(&url)
                .header(reqwest::header::USER_AGENT, USER_AGENT);
            if file.received > 0 {
                request = request.header(RANGE, format!("bytes={}-", file.received));
                if let Some((_, version)) = file.version() {
                    request = request.header(IF_RANGE, version.clone());
                }
            }
            let response = request.send().await.map_err(|e| broken(e, None))?;
            // An injected client may have followed redirects itself.
            if response.url().as_str() != url && !acceptable(response.url()) {
                return Err(self.redirected(&response, response.url().to_string()));
            }
            if !response.status().is_redirection() {
                file.location = Some(response.url().to_string());
                return Ok(response);
            }
            let Some(next) = response
                .headers()
                .get(LOCATION)
                .and_then(|l| l.to_str().ok())
                .and_then(|l| response.url().join(l).ok())
            else {
                return Err(self.refused(response).await);
            };
            if !acceptable(&next) || hop == MAX_REDIRECTS {
                return Err(self.redirected(&response, next.to_string()));
            }
            tracing::debug!(from = %url, to = %next, "following the file host's redirect");
            url = next.to_string();
        }
        unreachable!("the last hop returns")
    }

    fn redirected(&self, response: &reqwest::Response, location: String) -> Failed {
        Failed::fatal(Error::of(
            Operation::Download,
            ErrorKind::Redirected {
                http_status: response.status().as_u16(),
                location: self.client.inner.redactor.redact(&location).into_owned(),
            },
        ))
    }

    /// An error status: [`ErrorKind::Http`](crate::ErrorKind::Http), retried if transient. Only the start of its
    /// body is read.
    async fn refused(&self, mut response: reqwest::Response) -> Failed {
        let http_status = response.status().as_u16();
        let retry_after = retry_after(&response);
        let body = match read_at_most(&mut response, BODY_EXCERPT as u64).await {
            Ok(Read::Whole(body) | Read::Cut(body)) => body,
            Err(_) => bytes::Bytes::new(),
        };
        let error = Error::of(
            Operation::Download,
            ErrorKind::Http {
                http_status,
                body: excerpt(&body, &self.client.inner.redactor),
                retry_after,
            },
        );
        let answered = Attempt::Answered {
            http_status,
            code: None,
            retry_after,
        };
        Failed::retry(error, answered)
    }

    fn too_slow(&self, file: &FileState, limit: SpeedLimit) -> Failed {
        Failed::fatal(Error::of(
            Operation::Download,
            ErrorKind::TooSlow {
                url: self.url.clone(),
                received: file.received,
                total: file.total,
                limit,
            },
        ))
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
        Failed::fatal(Error::of(
            Operation::Download,
            ErrorKind::NotResumed {
                url: self.url.clone(),
                received: file.received,
                http_status: response.status().as_u16(),
                content_range,
                in_writer: matches!(sink, Sink::Callers(_)),
            },
        ))
    }
}

/// Whether a redirect may lead to `url`: https, or http to this machine.
fn acceptable(url: &Url) -> bool {
    match url.scheme() {
        "https" => true,
        "http" => is_loopback(url),
        _ => false,
    }
}

/// Whether the protocol marks where the body ends, so that a body cut short is an
/// error rather than an early end: HTTP/2 and later, or chunked transfer coding.
fn is_framed(response: &reqwest::Response) -> bool {
    response.version() >= Version::HTTP_2
        || response
            .headers()
            .get_all(TRANSFER_ENCODING)
            .iter()
            .next_back()
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .is_some_and(|last| last.trim().eq_ignore_ascii_case("chunked"))
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
    /// Where the last answer came from, after redirects.
    location: Option<String>,
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
            location: self.location.take(),
        };
    }

    /// Takes a 206 answer to a request for the whole file, if its `Content-Range` is
    /// the whole file (`bytes 0-<len - 1>/<len>`); some hosts send that for any GET.
    fn begin_whole(&mut self, response: &reqwest::Response) -> bool {
        let whole = matches!(
            content_range(response.headers()),
            Some(ContentRange::Bytes { first: 0, last, len: Some(len) }) if last.checked_add(1) == Some(len)
        );
        if whole {
            self.begin(response);
        }
        whole
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
        Some(Error::of(
            Operation::Download,
            ErrorKind::Truncated {
                url: url.to_owned(),
                expected,
                received: self.received,
            },
        ))
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
    /// `to_path`'s partial file, and the target it becomes: the download owns it, so it
    /// can empty it and start over.
    Owned(&'a mut tokio::fs::File, &'a Path),
    /// The caller's writer: what it was given stays written.
    Callers(&'a mut W),
}

impl<W: AsyncWrite + Unpin + ?Sized> Sink<'_, W> {
    async fn write_all(&mut self, chunk: &[u8]) -> std::io::Result<()> {
        match self {
            Sink::Owned(file, _) => file.write_all(chunk).await,
            Sink::Callers(writer) => writer.write_all(chunk).await,
        }
    }

    async fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Sink::Owned(file, _) => file.flush().await,
            Sink::Callers(writer) => writer.flush().await,
        }
    }

    /// A write error, naming the user's target (never the temporary file beside it).
    fn error(&self, source: std::io::Error) -> Error {
        Error::of(
            Operation::Download,
            ErrorKind::Io {
                path: match self {
                    Sink::Owned(_, target) => Some(target.to_path_buf()),
                    Sink::Callers(_) => None,
                },
                source,
            },
        )
    }

    /// Empties the sink for a whole new body; `false` when it cannot take back what it
    /// holds.
    async fn start_over(&mut self) -> std::io::Result<bool> {
        match self {
            Sink::Owned(file, _) => {
                file.flush().await?;
                file.set_len(0).await?;
                file.rewind().await?;
                Ok(true)
            }
            Sink::Callers(_) => Ok(false),
        }
    }
}

/// A transport failure, before the answer or in its body: [`ErrorKind::Truncated`](crate::ErrorKind::Truncated) when
/// given (the body ended short of its length), else [`ErrorKind::Unanswered`](crate::ErrorKind::Unanswered).
fn broken(e: reqwest::Error, truncated: Option<Error>) -> Failed {
    let (retry, cause) = unanswered(&e);
    let error = truncated.unwrap_or(Error::of(
        Operation::Download,
        ErrorKind::Unanswered { cause, source: e },
    ));
    Failed::retry(error, retry)
}

fn io(path: &Path, source: std::io::Error) -> Error {
    Error::of(
        Operation::Download,
        ErrorKind::Io {
            path: Some(path.to_owned()),
            source,
        },
    )
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
        // Errors name the target: the temporary file is ours, not the user's.
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| io(target, e))?;
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
            location: None,
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

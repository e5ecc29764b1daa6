//! Downloading results: streamed with constant memory, to a path (atomically) or to any
//! `AsyncWrite`, checked against `Content-Length`, with progress.
//!
//! A file written to a path appears whole or not at all: bytes go to a temporary file
//! beside the target, which is flushed, synced and renamed only once complete. A
//! failure, or dropping the future, removes the temporary file.

use std::fmt;
use std::path::{Path, PathBuf};

use futures_util::StreamExt;
use tokio::io::{AsyncWrite, AsyncWriteExt};

use crate::client::{Client, USER_AGENT};
use crate::envelope::excerpt;
use crate::error::{Error, Operation, Unanswered};

/// Bytes received so far, and the total when the server announced it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DownloadProgress {
    /// Bytes received.
    pub bytes: u64,
    /// `Content-Length`, if sent.
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
    /// # Errors
    ///
    /// [`Error::Http`] for an error status (such as an expired link),
    /// [`Error::Truncated`] when fewer bytes came than announced, [`Error::Unanswered`]
    /// when the connection failed, [`Error::Io`] when the file could not be written.
    pub async fn to_path(self, path: impl AsRef<Path>) -> Result<u64, Error> {
        let path = path.as_ref();
        let partial = PartialFile::create(path)?;
        let mut file = tokio::fs::File::from_std(partial.reopen().map_err(|e| io(path, e))?);
        let bytes = self.to_writer(&mut file).await?;
        file.sync_all().await.map_err(|e| io(path, e))?;
        drop(file);
        partial.persist(path).await?;
        Ok(bytes)
    }

    /// Streams the body into `writer` and flushes it. Returns the number of bytes
    /// written. On failure the writer holds a partial body: prefer
    /// [`Download::to_path`] for files.
    ///
    /// # Errors
    ///
    /// As [`Download::to_path`].
    pub async fn to_writer<W: AsyncWrite + Unpin + ?Sized>(
        mut self,
        writer: &mut W,
    ) -> Result<u64, Error> {
        let response = self
            .client
            .inner
            .http
            .get(&self.url)
            .header(reqwest::header::USER_AGENT, USER_AGENT)
            .send()
            .await
            .map_err(|e| unanswered(e, 0, None))?;
        let status = response.status();
        if !status.is_success() {
            let body = response.bytes().await.unwrap_or_default();
            return Err(Error::Http {
                operation: Operation::Download,
                task_id: None,
                http_status: status.as_u16(),
                body: excerpt(&body),
                retry_after: None,
            });
        }
        let total = response.content_length();
        let mut received: u64 = 0;
        let mut body = response.bytes_stream();
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| match total {
                Some(expected) if received < expected => Error::Truncated {
                    task_id: None,
                    url: self.url.clone(),
                    expected,
                    received,
                },
                _ => unanswered(e, received, total),
            })?;
            writer.write_all(&chunk).await.map_err(|e| Error::Io {
                operation: Operation::Download,
                task_id: None,
                path: None,
                source: e,
            })?;
            received += chunk.len() as u64;
            if let Some(f) = self.on_progress.as_mut() {
                f(DownloadProgress {
                    bytes: received,
                    total,
                });
            }
        }
        if let Some(expected) = total.filter(|&expected| expected != received) {
            return Err(Error::Truncated {
                task_id: None,
                url: self.url,
                expected,
                received,
            });
        }
        writer.flush().await.map_err(|e| Error::Io {
            operation: Operation::Download,
            task_id: None,
            path: None,
            source: e,
        })?;
        Ok(received)
    }
}

fn unanswered(e: reqwest::Error, received: u64, total: Option<u64>) -> Error {
    let cause = if e.is_connect() {
        Unanswered::ConnectFailed
    } else if e.is_timeout() {
        Unanswered::Timeout
    } else {
        Unanswered::ConnectionLost
    };
    tracing::warn!(received, ?total, error = %e, "download failed");
    Error::Unanswered {
        operation: Operation::Download,
        task_id: None,
        cause,
        source: e,
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

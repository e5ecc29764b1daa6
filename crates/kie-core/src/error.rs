//! The one error type: what went wrong ([`ErrorKind`], by where the call failed), and
//! what every failure shares (the call that was made, the task it concerned).
//!
//! The question a caller must answer after a failure is "was anything created, and is
//! it safe to try again?". So the kinds follow the request's life: never sent
//! ([`ErrorKind::InvalidInput`], [`ErrorKind::Config`]); sent without a usable answer
//! ([`ErrorKind::Unanswered`], where a task may exist); kie.ai's answer
//! ([`ErrorKind::Api`], [`ErrorKind::Http`], [`ErrorKind::Decode`]...); then the task's
//! own outcome ([`ErrorKind::TaskFailed`], [`ErrorKind::WaitTimeout`]). Every error
//! about a created task carries its id ([`Error::task_id`]), and
//! [`Error::task_may_exist`] answers whether a failed create may have made one.

use std::fmt;
use std::time::Duration;

use serde_json::value::RawValue;

use crate::download::MinSpeed;
use crate::record::{TaskRecord, TaskState};
use crate::redact::Redactor;
use crate::validation::ValidationError;
use crate::wire::{ApiCode, Refusal, excerpt, is_transient_code};

/// A failed call: its [`ErrorKind`], the call that was made, and the task it
/// concerned. Boxed, so that a `Result` stays small.
pub struct Error {
    inner: Box<Inner>,
}

struct Inner {
    kind: ErrorKind,
    operation: Option<Operation>,
    task_id: Option<String>,
}

/// What went wrong, by where it went wrong.
#[derive(Debug)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The request broke a documented rule; nothing was sent.
    InvalidInput(ValidationError),

    /// The client is misconfigured; nothing was sent.
    Config(String),

    /// The request may have reached kie.ai but no usable answer came back.
    Unanswered {
        /// Why no answer came.
        cause: UnansweredCause,
        /// The transport error.
        source: reqwest::Error,
    },

    /// kie.ai answered with an error code, in the body, the HTTP status, or both.
    Api {
        /// The HTTP status of the response.
        http_status: u16,
        /// The body's `code`, or the HTTP status when the body's code is 200.
        code: ApiCode,
        /// The body's `msg` (or `message`), redacted.
        message: String,
        /// How long kie.ai asked us to wait (`Retry-After`), if it said.
        retry_after: Option<Duration>,
    },

    /// An HTTP error without a kie.ai body: typically a proxy or gateway page.
    Http {
        /// The HTTP status.
        http_status: u16,
        /// The start of the body, redacted and cut to a few KB.
        body: String,
        /// How long the server asked us to wait (`Retry-After`), if it said.
        retry_after: Option<Duration>,
    },

    /// An answer whose body could not be understood.
    Decode {
        /// The HTTP status.
        http_status: u16,
        /// What did not fit.
        reason: String,
        /// The start of the body, redacted and cut to a few KB.
        body: String,
    },

    /// An answer larger than the client reads ([`crate::ClientBuilder::max_answer_bytes`]):
    /// reading stopped at the limit, so a runaway or hostile server cannot fill memory.
    AnswerTooLarge {
        /// The HTTP status of the answer.
        http_status: u16,
        /// The limit, in bytes.
        limit: u64,
    },

    /// An answer that redirects elsewhere, not followed. kie.ai's API and upload host do
    /// not redirect, and a followed redirect would hand the request (its body, with the
    /// prompt and the callback URL) to another host, so API calls follow none. Downloads
    /// follow a file host's redirects (without the key), but not to plain `http://`
    /// outside loopback, nor more than [`crate::MAX_REDIRECTS`] in a row.
    Redirected {
        /// The HTTP status of the redirect (300 when an injected HTTP client gave up
        /// following them, and only their target is known).
        http_status: u16,
        /// Where it pointed (`Location`), or the URL an injected HTTP client had
        /// already followed it to.
        location: String,
    },

    /// A local file could not be read or written; nothing partial was left behind.
    Io {
        /// The file concerned, as the caller named it.
        path: Option<std::path::PathBuf>,
        /// The I/O error.
        source: std::io::Error,
    },

    /// A download ended before the length its server announced.
    Truncated {
        /// What was downloaded.
        url: String,
        /// The announced length (`Content-Length`).
        expected: u64,
        /// The bytes received.
        received: u64,
    },

    /// A download broke off and could not be resumed where it stopped: the host's answer
    /// to the resumed request (`Range: bytes=<received>-`, with `If-Range` when the file
    /// had a validator) does not continue the bytes received, so they were not spliced
    /// onto it; or a request for the whole file got a part of it. Downloading again
    /// from the start may succeed.
    NotResumed {
        /// What was downloaded.
        url: String,
        /// The bytes received before the break.
        received: u64,
        /// The answer's status: 200 (the whole file again: it changed since the download
        /// began, or the host ignores `Range`; only a writer fails so, since a download to
        /// a path starts over), 416 (the range lies past the file's end: it changed), or
        /// 206 with a `Content-Range` or validator that does not continue the same file.
        http_status: u16,
        /// The answer's `Content-Range`, if it had one.
        content_range: Option<String>,
        /// Whether the caller's writer ([`crate::Download::to_writer`]) holds the
        /// `received` bytes, a partial body to discard; a download to a path keeps nothing.
        in_writer: bool,
    },

    /// A download went on too slowly: fewer bytes than its floor in one of its windows
    /// ([`crate::Download::min_speed`]), after the retries resuming it, or it was not
    /// done by its deadline ([`crate::Download::deadline`]). Nothing was kept: a
    /// download to a path leaves no file, and downloading again may succeed.
    TooSlow {
        /// What was downloaded.
        url: String,
        /// The bytes received before giving up.
        received: u64,
        /// The file's length, if the host said.
        total: Option<u64>,
        /// The limit the download fell short of.
        limit: SpeedLimit,
    },

    /// The task ended in `fail`.
    TaskFailed {
        /// kie.ai's `failCode`.
        fail_code: Option<String>,
        /// kie.ai's `failMsg`.
        fail_msg: Option<String>,
        /// The record as last fetched.
        record: Box<TaskRecord>,
    },

    /// The wait reached its deadline; the task goes on at kie.ai and can be awaited again.
    WaitTimeout {
        /// How long the wait lasted.
        waited: Duration,
        /// The state last seen.
        last_state: TaskState,
    },
}

impl Error {
    /// An error of `kind` about the call `operation` (none for a refusal before any
    /// call, or for a task's own outcome).
    pub(crate) fn new(kind: ErrorKind, operation: Option<Operation>) -> Self {
        Self {
            inner: Box::new(Inner {
                kind,
                operation,
                task_id: None,
            }),
        }
    }

    /// An error of `kind` about the call `operation`.
    pub(crate) fn of(operation: Operation, kind: ErrorKind) -> Self {
        Self::new(kind, Some(operation))
    }

    /// The client is misconfigured; nothing was sent.
    pub(crate) fn config(reason: impl Into<String>) -> Self {
        Self::new(ErrorKind::Config(reason.into()), None)
    }

    /// The task ended in `fail`, as `record` says: the one way this error is made.
    pub fn task_failed(record: TaskRecord) -> Self {
        let task_id = record.task_id.clone();
        Self::new(
            ErrorKind::TaskFailed {
                fail_code: record.fail_code.clone(),
                fail_msg: record.fail_msg.clone(),
                record: Box::new(record),
            },
            None,
        )
        .for_task(&task_id)
    }

    /// The wait for `task_id` reached its deadline.
    pub(crate) fn wait_timeout(task_id: &str, waited: Duration, last_state: TaskState) -> Self {
        Self::new(ErrorKind::WaitTimeout { waited, last_state }, None).for_task(task_id)
    }

    /// What went wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.inner.kind
    }

    /// What went wrong, owned.
    pub fn into_kind(self) -> ErrorKind {
        self.inner.kind
    }

    /// The call that was made, when the error is about one.
    pub fn operation(&self) -> Option<Operation> {
        self.inner.operation
    }

    /// The task this error concerns, if one was created.
    pub fn task_id(&self) -> Option<&str> {
        self.inner.task_id.as_deref()
    }

    /// Attaches a task's id to an error about that task (kept if one is already set).
    #[must_use]
    pub fn for_task(mut self, id: &str) -> Self {
        self.inner.task_id.get_or_insert_with(|| id.to_owned());
        self
    }

    /// Whether the call that ended in this error may have created a (billed) task that
    /// the caller does not know the id of. `false` means provably nothing was created,
    /// or the task's id is known ([`Error::task_id`]).
    pub fn task_may_exist(&self) -> bool {
        if !self.is_create() || self.task_id().is_some() {
            return false;
        }
        match self.kind() {
            ErrorKind::Unanswered { cause, .. } => *cause != UnansweredCause::ConnectFailed,
            // An explicit refusal created nothing; a server error may have failed after
            // the task was stored.
            ErrorKind::Api { code, .. } => matches!(
                code,
                ApiCode::Success | ApiCode::ServerError | ApiCode::Other(_)
            ),
            // The answer was not read, or pointed elsewhere: what kie.ai did is unknown.
            ErrorKind::Http { .. }
            | ErrorKind::Decode { .. }
            | ErrorKind::AnswerTooLarge { .. }
            | ErrorKind::Redirected { .. } => true,
            _ => false,
        }
    }

    /// Whether the same read may succeed later: no answer, a rate limit, maintenance, a
    /// server or gateway error, a garbled or oversized body, a download that broke off.
    pub fn is_transient(&self) -> bool {
        match self.kind() {
            ErrorKind::Unanswered { .. }
            | ErrorKind::Decode { .. }
            | ErrorKind::AnswerTooLarge { .. }
            | ErrorKind::TooSlow { .. }
            | ErrorKind::Truncated { .. }
            | ErrorKind::NotResumed { .. } => true,
            ErrorKind::Api {
                code, http_status, ..
            } => is_transient_code(code.as_i64()) || is_transient_code(i64::from(*http_status)),
            ErrorKind::Http { http_status, .. } => is_transient_code(i64::from(*http_status)),
            _ => false,
        }
    }

    /// kie.ai's code, when the error is kie.ai's answer.
    pub fn api_code(&self) -> Option<ApiCode> {
        match self.kind() {
            ErrorKind::Api { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// Whether kie.ai said it knows no task with the id asked about: 422 "recordInfo is
    /// null" live, 404 in the docs. Right after a create this can mean "not visible
    /// yet" (see [`crate::Wait::missing_grace`]).
    pub fn is_unknown_task(&self) -> bool {
        match self.kind() {
            ErrorKind::Api { code, message, .. } => {
                *code == ApiCode::NotFound
                    || (*code == ApiCode::ValidationFailed
                        && message.to_ascii_lowercase().contains("recordinfo is null"))
            }
            _ => false,
        }
    }

    fn is_create(&self) -> bool {
        self.operation() == Some(Operation::CreateTask)
    }
}

impl From<ValidationError> for Error {
    fn from(invalid: ValidationError) -> Self {
        Self::new(ErrorKind::InvalidInput(invalid), None)
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("kind", &self.inner.kind)
            .field("operation", &self.inner.operation)
            .field("task_id", &self.inner.task_id)
            .finish()
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self.kind() {
            ErrorKind::InvalidInput(invalid) => Some(invalid),
            ErrorKind::Unanswered { source, .. } => Some(source),
            ErrorKind::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The call, as a prefix, for errors about one call (downloads say it their way).
        let operation = self.operation().unwrap_or(Operation::CreateTask);
        match self.kind() {
            ErrorKind::InvalidInput(e) => write!(f, "invalid input, nothing was sent: {e}")?,
            ErrorKind::Config(e) => write!(f, "configuration error, nothing was sent: {e}")?,
            ErrorKind::Unanswered { cause, .. } if operation == Operation::Download => {
                write!(f, "download: {}", cause.describe("the file host"))?
            }
            ErrorKind::Unanswered { cause, .. } => write!(f, "{operation}: {cause}")?,
            ErrorKind::Api {
                http_status,
                code,
                message,
                ..
            } => {
                write!(
                    f,
                    "{operation}: kie.ai answered {code} ({})",
                    code.explanation()
                )?;
                if !message.is_empty() {
                    write!(f, ": {}", Escaped(message))?;
                }
                if i64::from(*http_status) != code.as_i64() {
                    write!(f, " [HTTP {http_status}]")?;
                }
                if let Some(advice) = code.advice() {
                    write!(f, "; {advice}")?;
                }
            }
            ErrorKind::Http {
                http_status, body, ..
            } => write!(
                f,
                "{operation}: HTTP {http_status} without a kie.ai answer: {body:?}"
            )?,
            ErrorKind::Decode {
                http_status,
                reason,
                body,
            } => write!(
                f,
                "{operation}: could not decode kie.ai's answer (HTTP {http_status}): {reason}; body: {body:?}"
            )?,
            ErrorKind::AnswerTooLarge { http_status, limit } => write!(
                f,
                "{operation}: the answer (HTTP {http_status}) is larger than {limit} bytes; \
                 reading stopped there (ClientBuilder::max_answer_bytes)"
            )?,
            ErrorKind::Redirected {
                http_status,
                location,
            } if operation == Operation::Download => write!(
                f,
                "download: the file host's redirect (HTTP {http_status}) to {location} was not followed: \
                 only https, or http on loopback, and at most {} redirects in a row",
                crate::MAX_REDIRECTS
            )?,
            ErrorKind::Redirected {
                http_status,
                location,
            } => write!(
                f,
                "{operation}: the answer redirects (HTTP {http_status}) to {location}; kie.ai's API \
                 does not redirect, so it was not followed and nothing was sent there: check the base URL"
            )?,
            ErrorKind::Io { path, source } => match path {
                Some(path) => write!(f, "{operation}: {}: {source}", path.display())?,
                None => write!(f, "{operation}: {source}")?,
            },
            ErrorKind::Truncated {
                url,
                expected,
                received,
            } => write!(
                f,
                "download of {url} stopped at {received} of {expected} bytes"
            )?,
            ErrorKind::NotResumed {
                url,
                received,
                http_status,
                content_range,
                in_writer,
            } => not_resumed(
                f,
                url,
                *received,
                *http_status,
                content_range.as_deref(),
                *in_writer,
            )?,
            ErrorKind::TooSlow {
                url,
                received,
                limit,
                ..
            } => {
                write!(f, "download of {url} was too slow: ")?;
                match limit {
                    SpeedLimit::MinSpeed(floor) => write!(
                        f,
                        "less than {} bytes per second over {}, even after resuming (Download::min_speed)",
                        floor.bytes_per_sec(),
                        Rounded(floor.window())
                    )?,
                    SpeedLimit::Deadline(deadline) => write!(
                        f,
                        "not done within its deadline of {} (Download::deadline)",
                        Rounded(*deadline)
                    )?,
                }
                write!(f, "; {received} bytes received, none kept: download again")?;
            }
            ErrorKind::TaskFailed {
                fail_code,
                fail_msg,
                ..
            } => {
                write!(f, "task {} failed: ", self.task_id().unwrap_or("?"))?;
                match (
                    fail_code.as_deref().map(Escaped),
                    fail_msg.as_deref().map(Escaped),
                ) {
                    (Some(c), Some(m)) => write!(f, "{m} (failCode {c})")?,
                    (None, Some(m)) => write!(f, "{m}")?,
                    (Some(c), None) => write!(f, "failCode {c}")?,
                    (None, None) => f.write_str("kie.ai gave no reason")?,
                }
                return Ok(());
            }
            ErrorKind::WaitTimeout { waited, last_state } => {
                return write!(
                    f,
                    "task {} was still {last_state} after waiting {}; it goes on at \
                     kie.ai: wait again with its id, or raise the maximum wait",
                    self.task_id().unwrap_or("?"),
                    Rounded(*waited)
                );
            }
        }
        if let Some(id) = self.task_id() {
            write!(f, " (task {id})")?;
        } else if self.is_create() && self.task_may_exist() {
            f.write_str(
                "; the task may exist and be billed: check https://kie.ai/logs before submitting again",
            )?;
        }
        Ok(())
    }
}

/// The error an answer that is not a success amounts to, for the call `operation`.
pub(crate) fn refused(
    operation: Operation,
    http_status: u16,
    retry_after: Option<Duration>,
    refusal: Refusal,
) -> Error {
    let kind = match refusal {
        Refusal::Api { code, message } => ErrorKind::Api {
            http_status,
            code,
            message,
            retry_after,
        },
        Refusal::Http { body } => ErrorKind::Http {
            http_status,
            body,
            retry_after,
        },
        Refusal::Decode { reason, body } => ErrorKind::Decode {
            http_status,
            reason,
            body,
        },
    };
    Error::of(operation, kind)
}

/// A success whose `data` does not have the shape the call expects: kept in the error,
/// redacted and cut to a few KB like any other body.
pub(crate) fn unexpected_data(
    operation: Operation,
    http_status: u16,
    reason: impl Into<String>,
    data: &RawValue,
    redactor: &Redactor,
) -> Error {
    Error::of(
        operation,
        ErrorKind::Decode {
            http_status,
            reason: redactor.redact(&reason.into()).into_owned(),
            body: excerpt(data.get().as_bytes(), redactor),
        },
    )
}

/// A duration as a person reads it: whole seconds ("90 s"), or milliseconds under one.
struct Rounded(Duration);

impl fmt::Display for Rounded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 < Duration::from_secs(1) {
            write!(f, "{} ms", self.0.as_millis())
        } else {
            write!(f, "{} s", self.0.as_secs_f64().round())
        }
    }
}

/// [`ErrorKind::NotResumed`] in words.
fn not_resumed(
    f: &mut fmt::Formatter<'_>,
    url: &str,
    received: u64,
    http_status: u16,
    content_range: Option<&str>,
    in_writer: bool,
) -> fmt::Result {
    if received == 0 {
        write!(f, "download of {url} could not be used: ")?;
    } else {
        write!(
            f,
            "download of {url} broke off after {received} bytes and could not be resumed: "
        )?;
    }
    match http_status {
        206 if received == 0 => f.write_str(
            "the host answered a request for the whole file with a part of it (HTTP 206)",
        )?,
        200 => f.write_str(
            "the host sent the whole file again (it changed, or the host ignores Range)",
        )?,
        416 => f.write_str("the host says the rest lies past the file's end (it changed)")?,
        _ => write!(
            f,
            "the host's answer (HTTP {http_status}) does not continue the same file at byte {received}"
        )?,
    }
    if let Some(range) = content_range {
        write!(f, " [Content-Range: {range}]")?;
    }
    if in_writer {
        write!(
            f,
            "; the writer holds a partial body of {received} bytes: discard it and download again"
        )
    } else {
        f.write_str("; nothing was kept: download again")
    }
}

/// The limit a download that was too slow fell short of ([`ErrorKind::TooSlow`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SpeedLimit {
    /// Its floor: fewer bytes than this in one window.
    MinSpeed(MinSpeed),
    /// Its deadline, from the first request.
    Deadline(Duration),
}

/// Server-provided text, shown on one line with every control character (a newline, an
/// escape sequence that would drive a terminal, a bidirectional override that would
/// reorder what is shown) escaped, so that a message cannot forge lines of a log or
/// repaint a terminal.
pub(crate) struct Escaped<'a>(pub &'a str);

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in self.0.chars() {
            if c.is_control() || is_bidi_control(c) {
                write!(f, "{}", c.escape_default())?;
            } else {
                fmt::Write::write_char(f, c)?;
            }
        }
        Ok(())
    }
}

/// The characters that reorder text as displayed (Unicode's explicit directional
/// embeddings, overrides and isolates, and the marks).
pub(crate) fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200e}' | '\u{200f}' | '\u{061c}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Why a sent request got no usable answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum UnansweredCause {
    /// The connection was never established: the request provably never arrived.
    ConnectFailed,
    /// The request timed out after it may have arrived.
    Timeout,
    /// The connection broke after the request may have arrived.
    ConnectionLost,
}

impl UnansweredCause {
    /// The failure in words, naming the host that did not answer.
    fn describe(self, host: &str) -> String {
        match self {
            UnansweredCause::ConnectFailed => format!("could not connect to {host}"),
            UnansweredCause::Timeout => format!("timed out waiting for {host}"),
            UnansweredCause::ConnectionLost => format!("the connection to {host} was lost"),
        }
    }
}

/// The failure in words, for kie.ai's API and upload hosts.
impl fmt::Display for UnansweredCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe("kie.ai"))
    }
}

/// The call being made, named as kie.ai's docs name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Operation {
    /// `POST /api/v1/jobs/createTask`.
    CreateTask,
    /// `GET /api/v1/jobs/recordInfo`.
    RecordInfo,
    /// `GET /api/v1/chat/credit`.
    Credits,
    /// `POST /api/v1/common/download-url`.
    DownloadUrl,
    /// Downloading a result file.
    Download,
    /// Uploading a file to the upload host.
    Upload,
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Operation::CreateTask => "createTask",
            Operation::RecordInfo => "recordInfo",
            Operation::Credits => "credits",
            Operation::DownloadUrl => "download-url",
            Operation::Download => "download",
            Operation::Upload => "upload",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_code_has_a_name_and_round_trips() {
        for code in [
            200, 400, 401, 402, 404, 422, 429, 433, 455, 500, 501, 505, 418, -1,
        ] {
            let api = ApiCode::from_i64(code);
            assert_eq!(api.as_i64(), code);
            assert!(!api.explanation().is_empty());
            assert_eq!(
                matches!(api, ApiCode::Other(_)),
                [418, -1].contains(&code),
                "{code}"
            );
        }
    }

    #[test]
    fn api_errors_explain_and_note_a_disagreeing_status() {
        let err = Error::of(
            Operation::RecordInfo,
            ErrorKind::Api {
                http_status: 200,
                code: ApiCode::Maintenance,
                message: "maintenance".into(),
                retry_after: None,
            },
        )
        .for_task("t1");
        assert_eq!(
            err.to_string(),
            "recordInfo: kie.ai answered 455 (kie.ai is under maintenance): maintenance [HTTP 200]; \
             try again later (task t1)"
        );
        assert_eq!(err.task_id(), Some("t1"));
    }

    /// Found by an adversary: a `failMsg` holding escape sequences cleared a terminal
    /// and retitled its window when an error was printed or logged.
    #[test]
    fn server_text_in_an_error_cannot_drive_a_terminal_or_forge_a_line() {
        let record = TaskRecord::from_data(&serde_json::json!({
            "taskId": "t", "state": "fail", "failCode": "5\u{1b}[0m",
            "failMsg": "boom\x1b[2J\x1b]0;pwned\x07\nERROR forged line \u{202e}txt.exe"
        }))
        .expect("a record");
        let err = Error::task_failed(record);
        let text = err.to_string();
        assert!(
            !text.chars().any(|c| c.is_control() || c == '\u{202e}'),
            "{text:?}"
        );
        assert!(
            text.contains(r"boom\u{1b}[2J\u{1b}]0;pwned\u{7}\nERROR forged line \u{202e}txt.exe"),
            "{text}"
        );
        let api = Error::of(
            Operation::Credits,
            ErrorKind::Api {
                http_status: 500,
                code: ApiCode::ServerError,
                message: "a\rb".into(),
                retry_after: None,
            },
        );
        assert!(api.to_string().contains(r"a\rb"), "{api}");
    }

    #[test]
    fn task_failures_name_the_task() {
        let err = Error::wait_timeout("abc", Duration::from_secs(60), TaskState::Generating);
        assert!(err.to_string().starts_with("task abc was still generating"));
        assert_eq!(err.task_id(), Some("abc"));
    }
}

//! Entry points for the fuzz targets in `fuzz/` (cargo feature `unstable-fuzzing`, off
//! by default).
//!
//! Unstable, not part of the API: hidden from the docs, outside semver, and changed
//! with the decoders it exposes; the feature's name says so to anyone who enables it. Each function hands a
//! crate-private decoder to the fuzzer unchanged, so that what is fuzzed is exactly what
//! the client runs on every answer.

use std::time::Duration;

use serde_json::value::RawValue;

use crate::error::{Error, Operation, refused};
use crate::record::TaskRecord;
use crate::redact::Redactor;
use crate::wait::VideoResult;
use crate::wire::{Answer, BODY_EXCERPT};

/// The most of an undecodable body an error keeps, before the "(N bytes in all)" note.
pub const MAX_BODY_EXCERPT: usize = BODY_EXCERPT;

/// Reads an HTTP answer as the client does: the envelope's `data` (as JSON text) when
/// both the status and the body say success, or the error the answer amounts to.
///
/// # Errors
///
/// [`ErrorKind::Api`](crate::ErrorKind::Api), [`ErrorKind::Http`](crate::ErrorKind::Http) or [`ErrorKind::Decode`](crate::ErrorKind::Decode), as for a live answer.
pub fn decode_answer(
    operation: Operation,
    http_status: u16,
    retry_after: Option<Duration>,
    body: &[u8],
) -> Result<Box<RawValue>, Error> {
    Answer {
        http_status,
        body,
        redactor: &Redactor::default(),
    }
    .into_data()
    .map(ToOwned::to_owned)
    .map_err(|refusal| refused(operation, http_status, retry_after, refusal))
}

/// Decodes recordInfo's `data` as the client does.
///
/// # Errors
///
/// Why the data is not a record.
pub fn decode_record(data: Box<RawValue>) -> Result<TaskRecord, String> {
    TaskRecord::from_raw(data).map_err(|(reason, _)| reason)
}

/// The result a wait returns for a record in state `success`.
///
/// # Errors
///
/// [`ErrorKind::Decode`](crate::ErrorKind::Decode) when the record carries nothing
/// usable: no result URL, character id or text result
/// ([`TaskResult::is_usable`](crate::TaskResult::is_usable)).
pub fn video_result(record: TaskRecord) -> Result<VideoResult, Error> {
    VideoResult::from_record(record, None, &Redactor::default())
}

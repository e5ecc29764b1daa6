//! kie.ai's response envelope, `{code, msg, data}`, read as the live API sends it.
//!
//! Both the HTTP status and the body's `code` are read, because they can disagree: an
//! error code under HTTP 200, or a proxy's HTML page under HTTP 502. The message may be
//! `msg` (the wire) or `message` (the docs' prose).

use std::fmt;
use std::time::Duration;

use serde::de::{Deserialize, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::Value;
use serde_json::value::RawValue;

use crate::error::{ApiCode, Error, ErrorKind, Operation};
use crate::record::kind_of;
use crate::redact::Redactor;

/// How much of an undecodable body an error keeps.
pub(crate) const BODY_EXCERPT: usize = 4096;
/// How far past the cut a secret may reach and still be found whole.
const SECRET_MARGIN: usize = 1024;

/// An HTTP answer, before interpretation.
#[derive(Debug, Clone)]
pub(crate) struct Answer<'a> {
    pub operation: Operation,
    pub http_status: u16,
    pub retry_after: Option<Duration>,
    pub body: &'a [u8],
    /// What to blank from any text of the body an error keeps.
    pub redactor: &'a Redactor,
}

impl<'a> Answer<'a> {
    /// The envelope's `data`, as the JSON text it was sent as, when both the HTTP status
    /// and the body say success, or the error the answer amounts to.
    ///
    /// Only `code`, `msg` and `message` are decoded; `data` is checked to be JSON and
    /// handed on as text, so that each call decodes its own data once, into its own
    /// types, with no intermediate `Value` tree.
    pub(crate) fn into_data(self) -> Result<&'a RawValue, Error> {
        let success_status = (200..300).contains(&self.http_status);
        let Ok(Envelope {
            code,
            msg,
            message,
            data,
        }) = json_text(self.body).and_then(serde_json::from_str::<Envelope<'a>>)
        else {
            return Err(if success_status {
                self.decode_error(describe_non_json(self.body))
            } else {
                self.http_error()
            });
        };
        let Some(code) = code else {
            return Err(if success_status {
                self.decode_error("the body has no `code`".to_owned())
            } else {
                self.http_error()
            });
        };
        let Some(code) = read_code(&code) else {
            return Err(self.decode_error("`code` is not a number".to_owned()));
        };
        let code = match (ApiCode::from_i64(code), success_status) {
            (ApiCode::Success, true) => return Ok(data.unwrap_or(RawValue::NULL)),
            // The body says success but the status does not: believe the failure.
            (ApiCode::Success, false) => ApiCode::from_i64(i64::from(self.http_status)),
            (code, _) => code,
        };
        let message = [msg, message]
            .into_iter()
            .find_map(|m| match m {
                Some(Value::String(text)) => Some(text),
                _ => None,
            })
            .unwrap_or_default();
        let message = self.redactor.redact(&message).into_owned();
        Err(Error::of(
            self.operation,
            ErrorKind::Api {
                http_status: self.http_status,
                code,
                message,
                retry_after: self.retry_after,
            },
        ))
    }

    fn http_error(&self) -> Error {
        Error::of(
            self.operation,
            ErrorKind::Http {
                http_status: self.http_status,
                body: excerpt(self.body, self.redactor),
                retry_after: self.retry_after,
            },
        )
    }

    fn decode_error(&self, reason: String) -> Error {
        Error::of(
            self.operation,
            ErrorKind::Decode {
                http_status: self.http_status,
                reason,
                body: excerpt(self.body, self.redactor),
            },
        )
    }
}

/// The envelope's fields; any other key is skipped (its JSON still checked).
///
/// Read by hand rather than derived so that a repeated key behaves as in a
/// `serde_json::Value` (the last one wins) instead of failing the answer.
#[derive(Default)]
struct Envelope<'a> {
    code: Option<Value>,
    msg: Option<Value>,
    message: Option<Value>,
    data: Option<&'a RawValue>,
}

impl<'de> Deserialize<'de> for Envelope<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(EnvelopeVisitor)
    }
}

struct EnvelopeVisitor;

impl<'de> Visitor<'de> for EnvelopeVisitor {
    type Value = Envelope<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut envelope = Envelope::default();
        while let Some(key) = map.next_key_seed(KeyAmong(&["code", "msg", "message", "data"]))? {
            match key {
                Some(0) => envelope.code = Some(map.next_value()?),
                Some(1) => envelope.msg = Some(map.next_value()?),
                Some(2) => envelope.message = Some(map.next_value()?),
                Some(_) => envelope.data = Some(map.next_value()?),
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(envelope)
    }
}

/// A map key looked up among known names without allocating: the name's position, or
/// `None` for a key the reader skips.
pub(crate) struct KeyAmong(pub &'static [&'static str]);

impl<'de> DeserializeSeed<'de> for KeyAmong {
    type Value = Option<usize>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl Visitor<'_> for KeyAmong {
    type Value = Option<usize>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_str<E: serde::de::Error>(self, key: &str) -> Result<Self::Value, E> {
        Ok(self.0.iter().position(|name| *name == key))
    }
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

/// The body as text, when it is UTF-8, as JSON must be. Checked on its own because the
/// envelope's reader skips what it does not read without looking inside strings.
fn json_text(body: &[u8]) -> serde_json::Result<&str> {
    std::str::from_utf8(body).map_err(|e| serde::de::Error::custom(format!("not UTF-8 ({e})")))
}

/// `data` as a `Value`, for the calls whose data is a scalar or a small object. Data
/// too deeply nested for a `Value` reads as `null`, which every caller refuses, quoting
/// the text.
pub(crate) fn value(data: &RawValue) -> Value {
    serde_json::from_str(data.get()).unwrap_or(Value::Null)
}

/// `code` as a number or a numeric string; `None` for anything else.
fn read_code(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn describe_non_json(body: &[u8]) -> String {
    if body.iter().all(u8::is_ascii_whitespace) {
        return "the body is empty".to_owned();
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(other) => format!("the body is {}, not an object", kind_of(&other)),
        Err(e) if e.is_eof() => "the body is cut short".to_owned(),
        Err(_) if looks_like_html(body) => "the body is an HTML page, not JSON".to_owned(),
        Err(e) => format!("the body is not JSON ({e})"),
    }
}

fn looks_like_html(body: &[u8]) -> bool {
    let start = String::from_utf8_lossy(&body[..body.len().min(256)]).to_ascii_lowercase();
    let start = start.trim_start();
    start.starts_with("<!doctype html") || start.starts_with("<html")
}

/// The body as text, redacted, then cut to a few KB on a character boundary. It is
/// redacted before the cut, over a margin past it, so that no part of a secret survives
/// at the cut; and only that much is looked at, however long the body.
pub(crate) fn excerpt(body: &[u8], redactor: &Redactor) -> String {
    let lossy = String::from_utf8_lossy(&body[..body.len().min(BODY_EXCERPT + SECRET_MARGIN)]);
    let text = redactor.redact(&lossy);
    if text.len() <= BODY_EXCERPT {
        return text.into_owned();
    }
    let mut end = BODY_EXCERPT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes in all)", &text[..end], body.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_bodies_are_cut_on_a_character_boundary() {
        let body = "狐".repeat(3000);
        let cut = excerpt(body.as_bytes(), &Redactor::default());
        assert!(
            cut.ends_with("… (9000 bytes in all)"),
            "{}",
            &cut[cut.len() - 40..]
        );
        assert!(cut.len() < BODY_EXCERPT + 40);
    }

    /// Found by the envelope fuzzer: bytes that are not UTF-8, inside a key the reader
    /// skips, made a body that is not JSON pass as a success.
    #[test]
    fn a_body_that_is_not_utf8_is_not_json_even_where_unread() {
        let mut body = br#"{"code":200,"msg":"success","other":{"x":"cat"#.to_vec();
        body.extend_from_slice(&[0xff; 8]);
        body.extend_from_slice(br#""},"data":{"taskId":"t"}}"#);
        let answer = Answer {
            operation: Operation::RecordInfo,
            http_status: 200,
            retry_after: None,
            body: &body,
            redactor: &Redactor::default(),
        };
        let err = answer.into_data().unwrap_err();
        assert!(
            matches!(err.kind(), ErrorKind::Decode { reason, .. } if reason.starts_with("the body is not JSON")),
            "{err}"
        );
    }
}

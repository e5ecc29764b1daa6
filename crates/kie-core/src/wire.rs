//! Reading kie.ai's JSON, as the live API sends it: the response envelope `{code, msg,
//! data}` of every answer and callback, and the tolerant readers every field goes
//! through (numbers as strings, `""` and `null` for absent, JSON sent as text). This is
//! the one module that reads kie.ai's JSON; `record`, `callback`, `client` and `upload`
//! build their types from what it reads.
//!
//! Both the HTTP status and the body's `code` are read, because they can disagree: an
//! error code under HTTP 200, or a proxy's HTML page under HTTP 502. The message may be
//! `msg` (the wire) or `message` (the docs' prose).

use std::fmt;

use serde::de::{Deserialize, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::Value;
use serde_json::value::RawValue;

use crate::redact::Redactor;

/// How much of an undecodable body an error keeps.
pub(crate) const BODY_EXCERPT: usize = 4096;
/// How far past the cut a secret may reach and still be found whole.
const SECRET_MARGIN: usize = 1024;

/// An HTTP answer, before interpretation.
#[derive(Debug, Clone)]
pub(crate) struct Answer<'a> {
    pub http_status: u16,
    pub body: &'a [u8],
    /// What to blank from any text of the body a refusal keeps.
    pub redactor: &'a Redactor,
}

/// What an answer that is not a success amounts to; the caller adds the call, the
/// HTTP status and `Retry-After` to make it an error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// kie.ai's envelope with an error code, or a success code under an error status.
    Api {
        /// The code (the HTTP status when the body's code says success).
        code: ApiCode,
        /// The envelope's message, redacted.
        message: String,
    },
    /// An error status without kie.ai's envelope (a proxy's page): the body's start.
    Http { body: String },
    /// A success status whose body is not kie.ai's envelope: why, and the body's start.
    Decode { reason: String, body: String },
}

impl<'a> Answer<'a> {
    /// The envelope's `data`, as the JSON text it was sent as, when both the HTTP status
    /// and the body say success, or what the answer amounts to.
    ///
    /// Only `code`, `msg` and `message` are decoded; `data` is checked to be JSON and
    /// handed on as text, so that each call decodes its own data once, into its own
    /// types, with no intermediate `Value` tree.
    pub(crate) fn into_data(self) -> Result<&'a RawValue, Refusal> {
        let success_status = (200..300).contains(&self.http_status);
        let Ok(Envelope {
            code,
            msg,
            message,
            data,
        }) = json_text(self.body).and_then(serde_json::from_str::<Envelope<'a>>)
        else {
            return Err(if success_status {
                self.garbled(describe_non_json(self.body))
            } else {
                self.not_kie()
            });
        };
        let Some(code) = code else {
            return Err(if success_status {
                self.garbled("the body has no `code`".to_owned())
            } else {
                self.not_kie()
            });
        };
        let Some(code) = self::code(&code) else {
            return Err(self.garbled("`code` is not a number".to_owned()));
        };
        let code = match (ApiCode::from_i64(code), success_status) {
            (ApiCode::Success, true) => return Ok(data.unwrap_or(RawValue::NULL)),
            // The body says success but the status does not: believe the failure.
            (ApiCode::Success, false) => ApiCode::from_i64(i64::from(self.http_status)),
            (code, _) => code,
        };
        let message = self::message([msg.as_ref(), message.as_ref()]).unwrap_or_default();
        let message = self.redactor.redact(&message).into_owned();
        Err(Refusal::Api { code, message })
    }

    fn not_kie(&self) -> Refusal {
        Refusal::Http {
            body: excerpt(self.body, self.redactor),
        }
    }

    fn garbled(&self, reason: String) -> Refusal {
        Refusal::Decode {
            reason,
            body: excerpt(self.body, self.redactor),
        }
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
pub(crate) fn code(value: &Value) -> Option<i64> {
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

/// The envelope's message: the first of `msg` (the wire) and `message` (the docs'
/// prose) that is a string.
pub(crate) fn message(candidates: [Option<&Value>; 2]) -> Option<String> {
    candidates.into_iter().find_map(|m| match m {
        Some(Value::String(text)) => Some(text.clone()),
        _ => None,
    })
}

/// The values of the named keys of a JSON object, each as sent, in the order of the
/// names; other keys are skipped unread. A repeated key keeps its last value, as in a
/// `serde_json::Value`.
pub(crate) struct Pick<const N: usize>(pub &'static [&'static str; N]);

impl<const N: usize> Pick<N> {
    pub(crate) fn from(self, json: &str) -> serde_json::Result<[Option<Value>; N]> {
        let mut deserializer = serde_json::Deserializer::from_str(json);
        let values = self.deserialize(&mut deserializer)?;
        deserializer.end()?;
        Ok(values)
    }
}

impl<'de, const N: usize> DeserializeSeed<'de> for Pick<N> {
    type Value = [Option<Value>; N];

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de, const N: usize> Visitor<'de> for Pick<N> {
    type Value = [Option<Value>; N];

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a task record")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut values = std::array::from_fn(|_| None);
        while let Some(key) = map.next_key_seed(KeyAmong(self.0))? {
            match key {
                Some(slot) => values[slot] = Some(map.next_value()?),
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(values)
    }
}

/// A non-empty string or a number, as text. `null` and `""` both mean "absent" on the
/// live API.
pub(crate) fn text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// An integer sent as a number, a float, or a numeric string; `null`/`""` are absent.
pub(crate) fn integer(value: Option<&Value>) -> Option<i64> {
    match value? {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f.round() as i64)),
        Value::String(s) => s.trim().parse::<f64>().ok().map(|f| f.round() as i64),
        _ => None,
    }
}

/// A value that kie.ai may send as JSON text or as JSON: a string is parsed, `""` and
/// `null` mean absent, anything else is taken as is.
pub(crate) fn decode_embedded(value: &Value) -> Result<Option<Value>, String> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) if s.trim().is_empty() => Ok(None),
        Value::String(s) => serde_json::from_str(s)
            .map(Some)
            .map_err(|e| format!("not valid JSON text ({e})")),
        other => Ok(Some(other.clone())),
    }
}

/// What kind of value a JSON text holds, from its first byte (the text is valid JSON).
pub(crate) fn kind_of_text(json: &str) -> &'static str {
    match json.trim_start().as_bytes().first() {
        Some(b'{') => "an object",
        Some(b'[') => "a list",
        Some(b'"') => "a string",
        Some(b't' | b'f') => "a boolean",
        Some(b'n') | None => "null",
        Some(_) => "a number",
    }
}

/// What kind of value `value` is, in words, for errors.
pub(crate) fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// kie.ai's response codes, each documented one by name, and any other kept as is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ApiCode {
    /// 200: success.
    Success,
    /// 400: a required parameter is missing.
    BadRequest,
    /// 401: the API key is missing or invalid.
    Unauthorized,
    /// 402: not enough credits.
    InsufficientCredits,
    /// 404: the resource or endpoint does not exist.
    NotFound,
    /// 422: the request failed validation (also "recordInfo is null" for unknown ids).
    ValidationFailed,
    /// 429: rate limited; the request was not queued.
    RateLimited,
    /// 433: the sub-key's usage limit is exceeded.
    SubKeyLimitExceeded,
    /// 455: service unavailable during maintenance.
    Maintenance,
    /// 500: server error.
    ServerError,
    /// 501: generation failed.
    GenerationFailed,
    /// 505: the feature is disabled.
    FeatureDisabled,
    /// A code the docs do not list, kept as sent.
    Other(i64),
}

impl ApiCode {
    /// The code for a number.
    pub fn from_i64(code: i64) -> Self {
        match code {
            200 => ApiCode::Success,
            400 => ApiCode::BadRequest,
            401 => ApiCode::Unauthorized,
            402 => ApiCode::InsufficientCredits,
            404 => ApiCode::NotFound,
            422 => ApiCode::ValidationFailed,
            429 => ApiCode::RateLimited,
            433 => ApiCode::SubKeyLimitExceeded,
            455 => ApiCode::Maintenance,
            500 => ApiCode::ServerError,
            501 => ApiCode::GenerationFailed,
            505 => ApiCode::FeatureDisabled,
            other => ApiCode::Other(other),
        }
    }

    /// The number.
    pub fn as_i64(self) -> i64 {
        match self {
            ApiCode::Success => 200,
            ApiCode::BadRequest => 400,
            ApiCode::Unauthorized => 401,
            ApiCode::InsufficientCredits => 402,
            ApiCode::NotFound => 404,
            ApiCode::ValidationFailed => 422,
            ApiCode::RateLimited => 429,
            ApiCode::SubKeyLimitExceeded => 433,
            ApiCode::Maintenance => 455,
            ApiCode::ServerError => 500,
            ApiCode::GenerationFailed => 501,
            ApiCode::FeatureDisabled => 505,
            ApiCode::Other(code) => code,
        }
    }

    /// What the code means, in plain words.
    pub fn explanation(self) -> &'static str {
        match self {
            ApiCode::Success => "success",
            ApiCode::BadRequest => "a required parameter is missing",
            ApiCode::Unauthorized => "the API key is missing or invalid",
            ApiCode::InsufficientCredits => "the account has too few credits",
            ApiCode::NotFound => "the resource or endpoint does not exist",
            ApiCode::ValidationFailed => "the request failed kie.ai's validation",
            ApiCode::RateLimited => "too many requests; the request was rejected, not queued",
            ApiCode::SubKeyLimitExceeded => "this sub-key has used up its usage limit",
            ApiCode::Maintenance => "kie.ai is under maintenance",
            ApiCode::ServerError => "kie.ai had an internal error",
            ApiCode::GenerationFailed => "the generation failed",
            ApiCode::FeatureDisabled => "this feature is disabled",
            ApiCode::Other(_) => "a code kie.ai does not document",
        }
    }

    /// What to do about it, where there is something to do.
    pub fn advice(self) -> Option<&'static str> {
        match self {
            ApiCode::Unauthorized => Some(
                "check KIE_API_KEY (get a key at https://kie.ai/api-key); the header is `Authorization: Bearer <key>`",
            ),
            ApiCode::InsufficientCredits => Some("top up credits at https://kie.ai/pricing"),
            ApiCode::ValidationFailed => {
                Some("check the model id and each input field against the model's documentation")
            }
            ApiCode::RateLimited => Some(
                "slow down: kie.ai allows 20 new tasks per 10 s and 10 status queries per second per key",
            ),
            ApiCode::SubKeyLimitExceeded => {
                Some("raise the sub-key's limit at https://kie.ai/api-key or use another key")
            }
            ApiCode::Maintenance | ApiCode::ServerError => Some("try again later"),
            ApiCode::FeatureDisabled => {
                Some("this model or feature is not available to the account")
            }
            _ => None,
        }
    }
}

impl fmt::Display for ApiCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.as_i64())
    }
}

/// Whether an HTTP status or body code is worth another read: rate limits,
/// maintenance, server and gateway errors.
pub(crate) fn is_transient_code(code: i64) -> bool {
    matches!(code, 429 | 455 | 500 | 502 | 503 | 504)
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
            http_status: 200,
            body: &body,
            redactor: &Redactor::default(),
        };
        let refusal = answer.into_data().unwrap_err();
        assert!(
            matches!(&refusal, Refusal::Decode { reason, .. } if reason.starts_with("the body is not JSON")),
            "{refusal:?}"
        );
    }
}

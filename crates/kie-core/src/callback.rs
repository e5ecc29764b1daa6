//! kie.ai's callbacks: the typed payload, and verification of its signature from the
//! raw body and two header values, with no web framework involved.
//!
//! When a webhook HMAC key is set at <https://kie.ai/settings>, every callback carries
//! `X-Webhook-Timestamp` (Unix seconds) and `X-Webhook-Signature` =
//! base64(HMAC-SHA256(key, taskId + "." + timestamp)). Only the task id and the time are
//! signed, not the body: a verified callback proves that kie.ai sent word about this
//! task recently, not what the body says, and anyone who captured one delivery can send
//! any body under its headers for the tolerance window. Confirm the outcome with
//! recordInfo before acting on it, as [`crate::CallbackInbox`] does.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::record::{TaskRecord, TaskState};
use crate::wire;

/// The header carrying the signing time, in Unix seconds.
pub const TIMESTAMP_HEADER: &str = "X-Webhook-Timestamp";
/// The header carrying the signature.
pub const SIGNATURE_HEADER: &str = "X-Webhook-Signature";
/// How far a callback's timestamp may be from now by default.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(300);

/// One callback from kie.ai: the recordInfo shape, `{code, msg, data}`.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Callback {
    /// The envelope's `code` (200, or an error code such as 501 for a failed task).
    pub code: Option<i64>,
    /// The envelope's `msg` (or `message`).
    pub msg: Option<String>,
    /// The task as the callback describes it.
    pub record: TaskRecord,
}

impl Callback {
    /// Parses a callback body. The task id is taken from `data.taskId`,
    /// `data.task_id` or a top-level `taskId`, in that order. A `data` without a
    /// `state` (the style of kie.ai's dedicated APIs), or with a null or empty one, is
    /// read as a final callback: `success` under code 200, `fail` otherwise.
    ///
    /// # Errors
    ///
    /// [`CallbackError::Malformed`] for a body that is not a JSON object or whose
    /// `data` is not a record, [`CallbackError::NoTaskId`] when no task id is found.
    pub fn parse(body: &[u8]) -> Result<Self, CallbackError> {
        let value: Value = serde_json::from_slice(body)
            .map_err(|e| CallbackError::Malformed(format!("not JSON: {e}")))?;
        let Value::Object(mut envelope) = value else {
            return Err(CallbackError::Malformed("not a JSON object".to_owned()));
        };
        let task_id =
            find_task_id(&Value::Object(envelope.clone())).ok_or(CallbackError::NoTaskId)?;
        let code = envelope.get("code").and_then(wire::code);
        let msg = wire::message([envelope.get("msg"), envelope.get("message")]);
        let mut data = match envelope.remove("data") {
            Some(Value::Object(data)) => data,
            None | Some(Value::Null) => serde_json::Map::new(),
            Some(_) => {
                return Err(CallbackError::Malformed(
                    "`data` is not an object".to_owned(),
                ));
            }
        };
        // The id found above wins over a `data.taskId` that holds none (null, "").
        data.insert("taskId".to_owned(), Value::String(task_id.clone()));
        // A state of null or "" is no state, as everywhere on the live API.
        let stated = match data.get("state") {
            Some(Value::String(s)) => !s.is_empty(),
            Some(other) => other.is_number(),
            None => false,
        };
        if !stated {
            let state = if code.unwrap_or(200) == 200 {
                "success"
            } else {
                "fail"
            };
            data.insert("state".to_owned(), Value::String(state.to_owned()));
        }
        let record = TaskRecord::from_data(&Value::Object(data))
            .map_err(|reason| CallbackError::Malformed(format!("`data`: {reason}")))?;
        Ok(Callback { code, msg, record })
    }

    /// The task's id.
    pub fn task_id(&self) -> &str {
        &self.record.task_id
    }

    /// The task's state as the callback reports it.
    pub fn state(&self) -> &TaskState {
        &self.record.state
    }
}

/// The task id of a callback body, wherever kie.ai put it.
fn find_task_id(body: &Value) -> Option<String> {
    let data = body.get("data");
    wire::text(data.and_then(|d| d.get("taskId")))
        .or_else(|| wire::text(data.and_then(|d| d.get("task_id"))))
        .or_else(|| wire::text(body.get("taskId")))
}

/// Why a callback was refused. None of them ever includes the key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CallbackError {
    /// A signature header is missing: the request is unsigned, or not from kie.ai.
    #[error("the callback has no {0} header")]
    MissingHeader(&'static str),
    /// The timestamp header is not a whole number of seconds.
    #[error("the callback's {TIMESTAMP_HEADER} is not a Unix time in seconds")]
    BadTimestamp,
    /// The timestamp is too far from now: a replay, or a badly wrong clock.
    #[error(
        "the callback was signed {skew_secs} s away from now; at most {tolerance_secs} s is allowed"
    )]
    Stale {
        /// How far the timestamp is from now, in seconds.
        skew_secs: u64,
        /// The tolerance in force, in seconds.
        tolerance_secs: u64,
    },
    /// The signature does not match: forged, or signed with another key.
    #[error("the callback's signature does not match (wrong webhook key, or a forgery)")]
    BadSignature,
    /// The body names no task.
    #[error("the callback names no task (no data.taskId, data.task_id or taskId)")]
    NoTaskId,
    /// The body is not a callback.
    #[error("the callback body is malformed: {0}")]
    Malformed(String),
}

/// Checks callbacks against the account's webhook HMAC key.
#[derive(Clone)]
pub struct CallbackVerifier {
    key: SecretString,
    tolerance: Duration,
}

impl fmt::Debug for CallbackVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallbackVerifier")
            .field("key", &"[redacted]")
            .field("tolerance", &self.tolerance)
            .finish()
    }
}

impl CallbackVerifier {
    /// A verifier for the webhook HMAC key from <https://kie.ai/settings>.
    pub fn new(webhook_key: impl Into<String>) -> Self {
        Self {
            key: SecretString::from(webhook_key.into()),
            tolerance: DEFAULT_TOLERANCE,
        }
    }

    /// How far the signing time may be from now, either way (default 300 s).
    #[must_use]
    pub fn tolerance(mut self, tolerance: Duration) -> Self {
        self.tolerance = tolerance;
        self
    }

    /// Verifies a callback from its raw body and the two header values, now.
    ///
    /// # Errors
    ///
    /// A [`CallbackError`] saying which check failed.
    pub fn verify(
        &self,
        body: &[u8],
        timestamp: Option<&str>,
        signature: Option<&str>,
    ) -> Result<Callback, CallbackError> {
        self.verify_at(body, timestamp, signature, SystemTime::now())
    }

    /// Verifies a callback from its raw body and an HTTP header map (as `http`,
    /// `reqwest`, `axum` and `hyper` use), now.
    ///
    /// # Errors
    ///
    /// A [`CallbackError`] saying which check failed.
    pub fn verify_headers(
        &self,
        body: &[u8],
        headers: &reqwest::header::HeaderMap,
    ) -> Result<Callback, CallbackError> {
        self.verify_signed_at(body, headers)
            .map(|(callback, _)| callback)
    }

    /// [`CallbackVerifier::verify_headers`], with the signing time (Unix seconds): with
    /// the task id, it names the signature, which is all a delivery proves.
    pub(crate) fn verify_signed_at(
        &self,
        body: &[u8],
        headers: &reqwest::header::HeaderMap,
    ) -> Result<(Callback, u64), CallbackError> {
        let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        self.check(
            body,
            get(TIMESTAMP_HEADER),
            get(SIGNATURE_HEADER),
            SystemTime::now(),
        )
    }

    /// [`CallbackVerifier::verify`] with an injected "now", for tests and replays.
    ///
    /// # Errors
    ///
    /// A [`CallbackError`] saying which check failed.
    pub fn verify_at(
        &self,
        body: &[u8],
        timestamp: Option<&str>,
        signature: Option<&str>,
        now: SystemTime,
    ) -> Result<Callback, CallbackError> {
        self.check(body, timestamp, signature, now)
            .map(|(callback, _)| callback)
    }

    /// Every check, in order; the callback and its signing time.
    fn check(
        &self,
        body: &[u8],
        timestamp: Option<&str>,
        signature: Option<&str>,
        now: SystemTime,
    ) -> Result<(Callback, u64), CallbackError> {
        let timestamp = timestamp.ok_or(CallbackError::MissingHeader(TIMESTAMP_HEADER))?;
        let signature = signature.ok_or(CallbackError::MissingHeader(SIGNATURE_HEADER))?;
        let signed_at: u64 = timestamp
            .trim()
            .parse()
            .map_err(|_| CallbackError::BadTimestamp)?;
        let now_secs = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let skew_secs = now_secs.abs_diff(signed_at);
        if skew_secs > self.tolerance.as_secs() {
            return Err(CallbackError::Stale {
                skew_secs,
                tolerance_secs: self.tolerance.as_secs(),
            });
        }
        let callback = Callback::parse(body)?;
        let expected = mac(self.key.expose_secret(), callback.task_id(), signed_at);
        let given = BASE64
            .decode(signature.trim())
            .map_err(|_| CallbackError::BadSignature)?;
        if bool::from(given.ct_eq(&expected)) {
            Ok((callback, signed_at))
        } else {
            Err(CallbackError::BadSignature)
        }
    }
}

fn mac(key: &str, task_id: &str, timestamp: u64) -> Vec<u8> {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(task_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.finalize().into_bytes().to_vec()
}

/// Signs a callback as kie.ai does, for tests: the value of `X-Webhook-Signature` for
/// this task and time.
pub fn sign(webhook_key: &str, task_id: &str, timestamp: u64) -> String {
    BASE64.encode(mac(webhook_key, task_id, timestamp))
}

/// Both headers of a signed callback, for tests: `[(name, value); 2]`.
pub fn signed_headers(
    webhook_key: &str,
    task_id: &str,
    timestamp: u64,
) -> [(&'static str, String); 2] {
    [
        (TIMESTAMP_HEADER, timestamp.to_string()),
        (SIGNATURE_HEADER, sign(webhook_key, task_id, timestamp)),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const KEY: &str = "whk-CANARY-secret";
    const NOW: u64 = 1_769_670_760;

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    fn body(data: Value) -> Vec<u8> {
        serde_json::to_vec(&json!({"code": 200, "msg": "success", "data": data})).unwrap()
    }

    fn market_success() -> Vec<u8> {
        body(json!({
            "taskId": "ee9c2715375b7837f8bb51d641ff5863",
            "model": "kling/v2-1-master-text-to-video",
            "state": "success",
            "param": "{\"model\":\"kling/v2-1-master-text-to-video\",\"input\":{\"prompt\":\"fox\"}}",
            "resultJson": "{\"resultUrls\":[\"https://tempfile.aiquickdraw.com/v/fox.mp4\"]}",
            "failCode": null, "failMsg": null, "costTime": 42,
            "completeTime": 1769670760000_i64, "createTime": 1769670700000_i64
        }))
    }

    #[test]
    fn a_signed_callback_is_accepted_and_typed() {
        let sig = sign(KEY, "ee9c2715375b7837f8bb51d641ff5863", NOW);
        let cb = CallbackVerifier::new(KEY)
            .verify_at(
                &market_success(),
                Some(&NOW.to_string()),
                Some(&sig),
                at(NOW + 10),
            )
            .unwrap();
        assert_eq!(cb.task_id(), "ee9c2715375b7837f8bb51d641ff5863");
        assert_eq!(*cb.state(), TaskState::Success);
        assert_eq!(cb.code, Some(200));
        assert_eq!(
            cb.record.result.as_ref().unwrap().urls,
            ["https://tempfile.aiquickdraw.com/v/fox.mp4"]
        );
    }

    #[test]
    fn each_refusal_has_its_own_error() {
        let v = CallbackVerifier::new(KEY);
        let good = sign(KEY, "ee9c2715375b7837f8bb51d641ff5863", NOW);
        let ts = NOW.to_string();
        let body = market_success();
        #[rustfmt::skip]
        let table: Vec<(Option<&str>, Option<&str>, u64, CallbackError)> = vec![
            (None, Some(&good), NOW, CallbackError::MissingHeader(TIMESTAMP_HEADER)),
            (Some(&ts), None, NOW, CallbackError::MissingHeader(SIGNATURE_HEADER)),
            (Some("yesterday"), Some(&good), NOW, CallbackError::BadTimestamp),
            (Some(&ts), Some(&good), NOW + 301, CallbackError::Stale { skew_secs: 301, tolerance_secs: 300 }),
            (Some(&ts), Some(&good), NOW - 400, CallbackError::Stale { skew_secs: 400, tolerance_secs: 300 }),
            (Some(&ts), Some("not base64!"), NOW, CallbackError::BadSignature),
            (Some(&ts), Some("AAAA"), NOW, CallbackError::BadSignature),
        ];
        for (ts, sig, now, expected) in table {
            assert_eq!(v.verify_at(&body, ts, sig, at(now)).unwrap_err(), expected);
        }
        // Exactly at the tolerance is accepted.
        assert!(
            v.verify_at(&body, Some(&NOW.to_string()), Some(&good), at(NOW + 300))
                .is_ok()
        );
    }

    #[test]
    fn a_tampered_task_id_or_another_key_is_refused() {
        let v = CallbackVerifier::new(KEY);
        let ts = NOW.to_string();
        let other_task = body(json!({"taskId": "another", "state": "success"}));
        let sig = sign(KEY, "ee9c2715375b7837f8bb51d641ff5863", NOW);
        assert_eq!(
            v.verify_at(&other_task, Some(&ts), Some(&sig), at(NOW)),
            Err(CallbackError::BadSignature)
        );
        let wrong_key = sign("another key", "ee9c2715375b7837f8bb51d641ff5863", NOW);
        assert_eq!(
            v.verify_at(&market_success(), Some(&ts), Some(&wrong_key), at(NOW)),
            Err(CallbackError::BadSignature)
        );
    }

    #[test]
    fn the_task_id_is_found_in_each_documented_place() {
        for body in [
            json!({"code": 200, "data": {"taskId": "a", "state": "success"}}),
            json!({"code": 200, "data": {"task_id": "a", "callbackType": "task_completed"}}),
            json!({"code": 200, "taskId": "a", "data": {"state": "fail", "failMsg": "x"}}),
        ] {
            let cb = Callback::parse(body.to_string().as_bytes()).unwrap();
            assert_eq!(cb.task_id(), "a", "{body}");
        }
        // Without a state, the code decides.
        let failed = Callback::parse(br#"{"code": 501, "data": {"task_id": "a"}}"#).unwrap();
        assert_eq!(*failed.state(), TaskState::Fail);
        assert_eq!(
            Callback::parse(br#"{"code": 200, "data": {}}"#),
            Err(CallbackError::NoTaskId)
        );
        assert!(matches!(
            Callback::parse(b"<html>"),
            Err(CallbackError::Malformed(_))
        ));
    }

    /// Found writing the `callback_parse` fuzz target's oracle: a `data.taskId` holding
    /// no id (null, false) hid the one at the top level, and a null `state` was not
    /// read as "no state"; both callbacks were refused as malformed.
    #[test]
    fn null_fields_in_data_count_as_absent() {
        for (body, state) in [
            (
                json!({"code": 200, "taskId": "a", "data": {"taskId": null, "state": "success"}}),
                TaskState::Success,
            ),
            (
                json!({"code": 200, "data": {"taskId": "", "task_id": "a", "state": "success"}}),
                TaskState::Success,
            ),
            (
                json!({"code": 200, "taskId": "a", "data": {"taskId": false}}),
                TaskState::Success,
            ),
            (
                json!({"code": 501, "data": {"task_id": "a", "state": null}}),
                TaskState::Fail,
            ),
            (
                json!({"code": 200, "data": {"taskId": "a", "state": ""}}),
                TaskState::Success,
            ),
        ] {
            let cb = Callback::parse(body.to_string().as_bytes())
                .unwrap_or_else(|e| panic!("{body}: {e}"));
            assert_eq!((cb.task_id(), cb.state()), ("a", &state), "{body}");
        }
    }

    #[test]
    fn signing_helpers_match_the_documented_scheme() {
        // base64(HMAC-SHA256("key", "task.1700000000")), computed independently.
        let expected = {
            let mut m = <Hmac<Sha256> as Mac>::new_from_slice(b"key").unwrap();
            m.update(b"task.1700000000");
            BASE64.encode(m.finalize().into_bytes())
        };
        assert_eq!(sign("key", "task", 1_700_000_000), expected);
        let [(ts_name, ts), (sig_name, sig)] = signed_headers("key", "task", 1_700_000_000);
        assert_eq!((ts_name, ts.as_str()), (TIMESTAMP_HEADER, "1700000000"));
        assert_eq!((sig_name, sig), (SIGNATURE_HEADER, expected));
    }

    #[test]
    fn errors_and_debug_never_show_the_key() {
        let v = CallbackVerifier::new(KEY);
        assert!(!format!("{v:?}").contains("CANARY"));
        let body = market_success();
        for err in [
            v.verify_at(&body, Some("1"), Some("x"), at(NOW))
                .unwrap_err(),
            v.verify_at(&body, Some(&NOW.to_string()), Some("AAAA"), at(NOW))
                .unwrap_err(),
        ] {
            assert!(!format!("{err} {err:?}").contains("CANARY"));
        }
    }
}

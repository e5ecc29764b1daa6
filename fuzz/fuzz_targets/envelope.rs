//! The response envelope, `{code, msg, data}`, read from any body under a spread of
//! HTTP statuses, then the recordInfo `data` decoded as a record, as the client does.
//!
//! Checks, besides "never panics": an answer is a success exactly when the status is
//! 2xx and the body is a JSON object whose `code` reads 200 (a number, or a numeric
//! string); the success carries the body's `data`; every error keeps at most a few KB of
//! the body and formats without panicking. A body nested deeper than a `Value` can hold
//! (128 levels) is valid JSON all the same; the client hands its `data` on as text, so
//! for such a body only "never panics" is checked.

#![no_main]

use std::time::Duration;

use kie_core::fuzzing::{MAX_BODY_EXCERPT, decode_answer, decode_record};
use kie_core::{ErrorKind, Operation};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use serde_json::value::RawValue;

/// Success, the other 2xx edge, and the errors the client meets, plus the extremes.
const STATUSES: [u16; 10] = [200, 299, 0, 300, 404, 422, 429, 500, 502, u16::MAX];

/// Room for the "… (N bytes in all)" note after an excerpt.
const NOTE: usize = 64;

fuzz_target!(|body: &[u8]| {
    let parsed = serde_json::from_slice::<Value>(body).ok();
    let too_deep_for_a_value =
        parsed.is_none() && serde_json::from_slice::<&RawValue>(body).is_ok();
    let object = parsed.as_ref().and_then(Value::as_object);
    let says_success = object
        .and_then(|o| o.get("code"))
        .is_some_and(|code| match code {
            Value::Number(n) => n.as_i64() == Some(200),
            Value::String(s) => s.trim().parse::<i64>() == Ok(200),
            _ => false,
        });
    let retry_after = Some(Duration::from_secs(7));
    for status in STATUSES {
        let answer = decode_answer(Operation::RecordInfo, status, retry_after, body);
        let success_status = (200..300).contains(&status);
        if too_deep_for_a_value {
            if let Err(err) = &answer {
                let _ = err.to_string();
            }
            continue;
        }
        assert_eq!(
            answer.is_ok(),
            success_status && says_success,
            "status {status}: {answer:?}"
        );
        match answer {
            Ok(data) => {
                let expected = object
                    .and_then(|o| o.get("data"))
                    .cloned()
                    .unwrap_or(Value::Null);
                let text = data.get().to_owned();
                assert_eq!(serde_json::from_str::<Value>(&text).ok(), Some(expected));
                if let Ok(record) = decode_record(data) {
                    assert!(!record.task_id.is_empty());
                    assert_eq!(record.raw.get(), text);
                }
            }
            Err(err) => {
                match err.kind() {
                    ErrorKind::Api {
                        http_status,
                        retry_after: kept,
                        ..
                    } => {
                        assert!(object.is_some(), "an Api error needs a kie.ai envelope");
                        assert_eq!((*http_status, *kept), (status, retry_after));
                    }
                    ErrorKind::Http { body: kept, .. } => {
                        assert!(!success_status, "an Http error under {status}");
                        assert!(kept.len() <= MAX_BODY_EXCERPT + NOTE);
                    }
                    ErrorKind::Decode { body: kept, .. } => {
                        assert!(kept.len() <= MAX_BODY_EXCERPT + NOTE);
                    }
                    other => panic!("an answer cannot be {other:?}"),
                }
                let _ = err.to_string();
                let _ = (err.is_transient(), err.task_may_exist(), err.api_code());
            }
        }
    }
});

//! Callback verification (`CallbackVerifier::verify_at`) with arbitrary keys, task ids,
//! bodies, header values, clocks and tolerances.
//!
//! Checks, besides "never panics":
//! - whatever the headers and body, a callback is accepted only when its timestamp is
//!   within the tolerance and its signature is HMAC-SHA256(key, taskId "." timestamp),
//!   computed here independently of kie-core;
//! - a callback signed with the key (by kie-core's `sign` and by the independent HMAC,
//!   which must agree) is accepted within the tolerance and refused as stale outside it;
//! - the same callback is refused with one bit of the signature flipped, with another
//!   key, or with another task id in the body.

#![no_main]

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use kie_core::callback::sign;
use kie_core::{CallbackError, CallbackVerifier};
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use serde_json::json;
use sha2::Sha256;

#[derive(Debug, Arbitrary)]
struct Input<'a> {
    key: &'a str,
    other_key: &'a str,
    task_id: &'a str,
    other_task_id: &'a str,
    signed_at: u64,
    /// Seconds from the signing time to "now", either way.
    skew: i32,
    tolerance_secs: u16,
    /// Which bit of the signature to flip.
    flip: u8,
    timestamp_header: Option<&'a str>,
    signature_header: Option<&'a str>,
    now_secs: u64,
    body: &'a [u8],
}

fuzz_target!(|input: Input<'_>| {
    let verifier = CallbackVerifier::new(input.key)
        .tolerance(Duration::from_secs(u64::from(input.tolerance_secs)));
    arbitrary_headers_are_accepted_only_when_signed(&verifier, &input);
    signed_callbacks_are_accepted_and_tampered_ones_refused(&verifier, &input);
});

fn arbitrary_headers_are_accepted_only_when_signed(verifier: &CallbackVerifier, input: &Input) {
    let Some(now) = at(input.now_secs) else {
        return;
    };
    let result = verifier.verify_at(
        input.body,
        input.timestamp_header,
        input.signature_header,
        now,
    );
    let Ok(callback) = result else {
        return;
    };
    let timestamp: u64 = input
        .timestamp_header
        .expect("accepted without a timestamp")
        .trim()
        .parse()
        .expect("accepted with a timestamp that is not a number");
    assert!(input.now_secs.abs_diff(timestamp) <= u64::from(input.tolerance_secs));
    let signature = BASE64
        .decode(
            input
                .signature_header
                .expect("accepted without a signature")
                .trim(),
        )
        .expect("accepted a signature that is not base64");
    assert_eq!(
        signature,
        hmac(input.key, callback.task_id(), timestamp),
        "accepted a signature not made with the key"
    );
}

fn signed_callbacks_are_accepted_and_tampered_ones_refused(
    verifier: &CallbackVerifier,
    input: &Input,
) {
    if input.task_id.is_empty() {
        return;
    }
    let Some(now_secs) = input.signed_at.checked_add_signed(i64::from(input.skew)) else {
        return;
    };
    let Some(now) = at(now_secs) else {
        return;
    };
    let body = callback_body(input.task_id);
    let timestamp = input.signed_at.to_string();
    let mac = hmac(input.key, input.task_id, input.signed_at);
    let signature = sign(input.key, input.task_id, input.signed_at);
    assert_eq!(
        signature,
        BASE64.encode(&mac),
        "kie-core signs as documented"
    );

    let verify = |key: &str, body: &[u8], signature: &str| {
        CallbackVerifier::new(key)
            .tolerance(Duration::from_secs(u64::from(input.tolerance_secs)))
            .verify_at(body, Some(&timestamp), Some(signature), now)
    };
    let result = verifier.verify_at(&body, Some(&timestamp), Some(&signature), now);
    if input.skew.unsigned_abs() > u32::from(input.tolerance_secs) {
        assert!(
            matches!(result, Err(CallbackError::Stale { .. })),
            "{result:?}"
        );
        return;
    }
    let callback = result.expect("a signed callback within the tolerance is accepted");
    assert_eq!(callback.task_id(), input.task_id);

    let mut flipped = mac.clone();
    let bit = usize::from(input.flip);
    let byte = bit / 8 % flipped.len();
    flipped[byte] ^= 1 << (bit % 8);
    assert_eq!(
        verify(input.key, &body, &BASE64.encode(&flipped)),
        Err(CallbackError::BadSignature),
        "a flipped bit was accepted"
    );

    // HMAC pads short keys with zero bytes, so keys differing only in trailing NULs
    // are the same key.
    if input.other_key.trim_end_matches('\0') != input.key.trim_end_matches('\0') {
        assert_eq!(
            verify(input.other_key, &body, &signature),
            Err(CallbackError::BadSignature),
            "another key was accepted"
        );
    }

    if !input.other_task_id.is_empty() && input.other_task_id != input.task_id {
        assert_eq!(
            verify(input.key, &callback_body(input.other_task_id), &signature),
            Err(CallbackError::BadSignature),
            "a signature for one task was accepted for another"
        );
    }
}

/// A Market callback for `task_id`, as kie.ai sends it.
fn callback_body(task_id: &str) -> Vec<u8> {
    json!({"code": 200, "msg": "success", "data": {"taskId": task_id, "state": "success"}})
        .to_string()
        .into_bytes()
}

/// base64-less HMAC-SHA256(key, taskId "." timestamp), as kie.ai documents it.
fn hmac(key: &str, task_id: &str, timestamp: u64) -> Vec<u8> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key.as_bytes()).expect("any key length");
    mac.update(format!("{task_id}.{timestamp}").as_bytes());
    mac.finalize().into_bytes().to_vec()
}

fn at(secs: u64) -> Option<SystemTime> {
    UNIX_EPOCH.checked_add(Duration::from_secs(secs))
}

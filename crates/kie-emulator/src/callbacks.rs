//! Callbacks: signed POSTs to `callBackUrl` and `progressCallBackUrl`, with retries, a
//! log of every attempt, and faults that exercise a receiver's verification and
//! idempotency.
//!
//! Signing follows kie.ai's webhook verification guide: `X-Webhook-Timestamp` is Unix
//! seconds and `X-Webhook-Signature` is base64(HMAC-SHA256(key, taskId + "." +
//! timestamp)); the body is not covered. The header timestamp is real wall-clock time
//! (receivers check it against their own clock), while retry delays run on the virtual
//! clock so a fast or frozen clock compresses or holds them.

use std::{
    net::IpAddr,
    sync::Arc,
    time::{Duration, Instant},
};

use base64::Engine as _;
use bytes::Bytes;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::{
    clock::wall_clock_ms,
    faults::Trigger,
    scheduler::TimerEvent,
    state::{Shared, State},
};

/// The signature kie.ai puts in `X-Webhook-Signature`:
/// base64(HMAC-SHA256(key, `task_id` + "." + `timestamp`)).
pub fn sign(key: &str, task_id: &str, timestamp: i64) -> String {
    // HMAC accepts keys of any length, so the error branch is never taken.
    let Ok(mut mac) = <Hmac<Sha256> as Mac>::new_from_slice(key.as_bytes()) else {
        return String::new();
    };
    mac.update(task_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Which URL a callback goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallbackKind {
    /// The terminal-state POST to `callBackUrl`.
    Completion,
    /// A state or progress change POSTed to Sora's `progressCallBackUrl`.
    Progress,
}

/// A misbehaviour of callback delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum CallbackFaultEffect {
    /// Deliver the callback twice: the second, identical and under the same headers,
    /// right after the first attempt.
    Duplicate,
    /// Wait this many virtual milliseconds before the first attempt.
    Delay {
        /// The delay, on the virtual clock.
        ms: u64,
    },
    /// Sign with a wrong key.
    BadSignature,
    /// Send a timestamp this many seconds in the past (signed correctly for it).
    StaleTimestamp {
        /// Age of the timestamp in seconds.
        #[serde(default = "default_stale_age")]
        age_s: u64,
    },
    /// After the callback's first attempt, send `bodies` more under its timestamp and
    /// signature, one after another, each body naming a new state (`flood-1`, ...): an
    /// attacker replaying a captured signature, which covers the task id and the time
    /// but not the body.
    ReplayFlood {
        /// How many forged bodies to send.
        bodies: u32,
    },
    /// Before the callback, send one under the same timestamp and signature whose body
    /// says `success` with `result_url` as the result: a forged outcome that reaches the
    /// receiver first, as from an attacker holding a captured signature. On a progress
    /// callback it arrives while the task is still running.
    ForgedSuccess {
        /// The attacker's result URL.
        result_url: String,
    },
}

fn default_stale_age() -> u64 {
    3_600
}

/// A callback fault rule; every matching rule that fires applies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallbackFaultRule {
    /// Only callbacks of this task (any when absent).
    #[serde(default)]
    pub task_id: Option<String>,
    /// Only this kind of callback (any when absent).
    #[serde(default)]
    pub kind: Option<CallbackKind>,
    /// When the rule fires (drawn from the seeded callback stream).
    #[serde(default)]
    pub trigger: Trigger,
    /// What it does.
    pub effect: CallbackFaultEffect,
}

impl CallbackFaultRule {
    /// A rule with this effect on every callback.
    pub fn new(effect: CallbackFaultEffect) -> Self {
        Self {
            task_id: None,
            kind: None,
            trigger: Trigger::Always,
            effect,
        }
    }

    /// Only callbacks of `task_id`.
    pub fn for_task(mut self, task_id: impl Into<String>) -> Self {
        self.task_id = Some(task_id.into());
        self
    }

    /// Only the next `n` matching callbacks.
    pub fn next(mut self, n: u32) -> Self {
        self.trigger = Trigger::NextN { n };
        self
    }

    /// Fire with probability `p`.
    pub fn probability(mut self, p: f64) -> Self {
        self.trigger = Trigger::Probability { p };
        self
    }
}

/// How callbacks are retried.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallbackRetry {
    /// Virtual milliseconds to wait before each retry; its length is the number of
    /// retries after the first attempt. Default: 1, 2, 4, 8, 16 seconds.
    pub delays_ms: Vec<u64>,
    /// Real milliseconds an attempt may take before it counts as failed (kie.ai documents
    /// 15 s for its callbacks).
    pub timeout_ms: u64,
}

impl Default for CallbackRetry {
    fn default() -> Self {
        Self {
            delays_ms: vec![1_000, 2_000, 4_000, 8_000, 16_000],
            timeout_ms: 15_000,
        }
    }
}

/// One delivery attempt, as logged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CallbackAttempt {
    /// The delivery this attempt belongs to (a duplicate is its own delivery).
    pub delivery_id: u64,
    /// The task the callback is about.
    pub task_id: String,
    /// Completion or progress.
    pub kind: CallbackKind,
    /// Target URL.
    pub url: String,
    /// 1 for the first attempt of a delivery, then 2, 3, ...
    pub attempt: u32,
    /// Whether this delivery is an injected duplicate.
    pub duplicate: bool,
    /// Whether the body is not kie.ai's: a forged body under another delivery's signed
    /// headers ([`CallbackFaultEffect::ReplayFlood`], [`CallbackFaultEffect::ForgedSuccess`]).
    #[serde(default)]
    pub forged: bool,
    /// Virtual time of the attempt (Unix ms).
    pub at_ms: i64,
    /// The `X-Webhook-Timestamp` sent (Unix seconds).
    pub timestamp: i64,
    /// The `X-Webhook-Signature` sent (absent when signing is off).
    pub signature: Option<String>,
    /// The receiver's HTTP status, when it answered.
    pub status: Option<u16>,
    /// Why the attempt failed without a status (refused, timeout, not loopback, ...).
    pub error: Option<String>,
    /// Real time the attempt took.
    pub latency_ms: u64,
    /// Whether the receiver answered 2xx.
    pub delivered: bool,
    /// Whether another attempt is scheduled after this one.
    pub will_retry: bool,
    /// Faults applied to this delivery.
    pub faults: Vec<CallbackFaultEffect>,
    /// The JSON body sent.
    pub body: String,
}

/// A callback being delivered.
#[derive(Debug, Clone)]
pub(crate) struct Delivery {
    pub task_id: String,
    pub kind: CallbackKind,
    pub url: String,
    pub body: Bytes,
    pub attempts: u32,
    pub duplicate: bool,
    /// A forged body under signed headers: attempted once, never retried.
    pub forged: bool,
    pub faults: Vec<CallbackFaultEffect>,
    /// Timestamp and signature fixed by the first attempt, reused by its retries and
    /// by the deliveries chained after it.
    pub fixed_headers: Option<(i64, Option<String>)>,
    /// A delivery to start once this one's first attempt is over, under its headers.
    pub then: Option<u64>,
}

impl Delivery {
    /// A forged body to send under the headers of the delivery before it in a chain.
    fn forged(&self, body: serde_json::Value, effect: CallbackFaultEffect) -> Self {
        Delivery {
            body: Bytes::from(body.to_string()),
            attempts: 0,
            duplicate: false,
            forged: true,
            faults: vec![effect],
            fixed_headers: None,
            then: None,
            ..self.clone()
        }
    }
}

/// The callback fault rules.
#[derive(Debug, Clone, Default)]
pub(crate) struct CallbackFaults {
    rules: Vec<(u64, CallbackFaultRule)>,
    next_id: u64,
}

impl CallbackFaults {
    pub(crate) fn add(&mut self, rule: CallbackFaultRule) -> u64 {
        self.next_id += 1;
        self.rules.push((self.next_id, rule));
        self.next_id
    }

    pub(crate) fn list(&self) -> Vec<(u64, CallbackFaultRule)> {
        self.rules.clone()
    }

    fn draw(
        &mut self,
        rng: &mut fastrand::Rng,
        task_id: &str,
        kind: CallbackKind,
    ) -> Vec<CallbackFaultEffect> {
        let mut effects = Vec::new();
        for (_, rule) in &mut self.rules {
            if rule.task_id.as_deref().is_some_and(|t| t != task_id)
                || rule.kind.is_some_and(|k| k != kind)
            {
                continue;
            }
            let fires = match &mut rule.trigger {
                Trigger::Always => true,
                Trigger::Probability { p } => rng.f64() < *p,
                Trigger::NextN { n } if *n > 0 => {
                    *n -= 1;
                    true
                }
                Trigger::NextN { .. } => false,
            };
            if fires {
                effects.push(rule.effect.clone());
            }
        }
        effects
    }
}

/// Queues a callback for delivery (after any delay fault), plus its duplicate and a
/// forged body sent ahead of it, if drawn.
pub(crate) fn enqueue(
    state: &mut State,
    now_ms: i64,
    task_id: &str,
    kind: CallbackKind,
    url: &str,
    body: Bytes,
) {
    let faults = state
        .callback_faults
        .draw(&mut state.streams.callbacks, task_id, kind);
    let delay: u64 = faults
        .iter()
        .map(|f| {
            if let CallbackFaultEffect::Delay { ms } = f {
                *ms
            } else {
                0
            }
        })
        .sum();
    let due = now_ms.saturating_add(i64::try_from(delay).unwrap_or(i64::MAX));
    let duplicate = faults.contains(&CallbackFaultEffect::Duplicate);
    let forged_first = faults.iter().find_map(|f| match f {
        CallbackFaultEffect::ForgedSuccess { result_url } => Some((f.clone(), result_url.clone())),
        _ => None,
    });
    let delivery = Delivery {
        task_id: task_id.to_owned(),
        kind,
        url: url.to_owned(),
        body,
        attempts: 0,
        duplicate: false,
        forged: false,
        faults,
        fixed_headers: None,
        then: None,
    };
    // The duplicate follows the first attempt, under its headers.
    let second = duplicate.then(|| {
        state.add_delivery(Delivery {
            duplicate: true,
            ..delivery.clone()
        })
    });
    let genuine = state.add_delivery(Delivery {
        then: second,
        ..delivery.clone()
    });
    // A forged success goes first; the genuine delivery follows under its headers.
    let first = match forged_first {
        Some((effect, result_url)) => state.add_delivery(Delivery {
            then: Some(genuine),
            ..delivery.forged(forged_success(task_id, &result_url), effect)
        }),
        None => genuine,
    };
    state
        .timers
        .schedule(due, TimerEvent::CallbackAttempt { delivery_id: first });
}

/// Starts what follows a delivery's first attempt under its headers: the next delivery
/// of its chain, or the replays of a [`CallbackFaultEffect::ReplayFlood`].
fn follow_up(state: &mut State, now: i64, delivery: &Delivery, headers: &(i64, Option<String>)) {
    let mut next = delivery.then;
    let flood = delivery.faults.iter().find_map(|f| match f {
        CallbackFaultEffect::ReplayFlood { bodies } => Some((f.clone(), *bodies)),
        _ => None,
    });
    if let Some((effect, bodies)) = flood.filter(|_| !delivery.forged && !delivery.duplicate) {
        // Built from the last, so that each knows the one after it.
        for n in (1..=bodies).rev() {
            let body = serde_json::json!({
                "code": 200,
                "msg": "success",
                "data": {"taskId": delivery.task_id, "state": format!("flood-{n}")},
            });
            next = Some(state.add_delivery(Delivery {
                then: next,
                ..delivery.forged(body, effect.clone())
            }));
        }
    }
    if let Some(next) = next {
        if let Some(stored) = state.deliveries.get_mut(&next) {
            stored.fixed_headers.get_or_insert_with(|| headers.clone());
        }
        state
            .timers
            .schedule(now, TimerEvent::CallbackAttempt { delivery_id: next });
    }
}

/// A forged final callback: `success`, with the attacker's result URL.
fn forged_success(task_id: &str, result_url: &str) -> serde_json::Value {
    let result = serde_json::json!({"resultUrls": [result_url]}).to_string();
    serde_json::json!({
        "code": 200,
        "msg": "success",
        "data": {"taskId": task_id, "state": "success", "resultJson": result},
    })
}

/// Whether `url` points at this machine (`localhost` or a loopback address).
pub(crate) fn is_loopback_url(url: &reqwest::Url) -> bool {
    match url.host_str() {
        Some("localhost") => true,
        Some(host) => host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback()),
        None => false,
    }
}

/// Performs one attempt of a delivery, logs it, and schedules a retry on failure.
pub(crate) async fn attempt(shared: Arc<Shared>, delivery_id: u64) {
    let Some((epoch, delivery)) = shared.with_state(|state| {
        let delivery = state.deliveries.get_mut(&delivery_id)?;
        delivery.attempts += 1;
        Some((state.epoch, delivery.clone()))
    }) else {
        return;
    };
    let policy = shared.with_state(|state| state.config.callback_retry.clone());

    let (timestamp, signature) = match &delivery.fixed_headers {
        Some(fixed) => fixed.clone(),
        None => {
            let mut timestamp = wall_clock_ms() / 1000;
            for fault in &delivery.faults {
                if let CallbackFaultEffect::StaleTimestamp { age_s } = fault {
                    timestamp -= i64::try_from(*age_s).unwrap_or(0);
                }
            }
            let signature = shared.webhook_key.as_deref().map(|key| {
                if delivery.faults.contains(&CallbackFaultEffect::BadSignature) {
                    sign(&format!("wrong-{key}"), &delivery.task_id, timestamp)
                } else {
                    sign(key, &delivery.task_id, timestamp)
                }
            });
            (timestamp, signature)
        }
    };

    let started = Instant::now();
    let allow_remote = shared.with_state(|state| state.config.allow_remote_callbacks);
    let (status, error, blocked) = match reqwest::Url::parse(&delivery.url) {
        Err(parse) => (None, Some(format!("invalid callback URL: {parse}")), true),
        Ok(url) if !allow_remote && !is_loopback_url(&url) => (
            None,
            Some("not sent: the target is not a loopback address (enable remote callbacks to allow it)".to_owned()),
            true,
        ),
        Ok(url) => {
            let mut request = shared
                .http
                .post(url)
                .timeout(Duration::from_millis(policy.timeout_ms))
                .header("content-type", "application/json")
                .header("user-agent", concat!("kie-emulator/", env!("CARGO_PKG_VERSION")))
                .header("x-webhook-timestamp", timestamp.to_string())
                .body(delivery.body.clone());
            if let Some(signature) = &signature {
                request = request.header("x-webhook-signature", signature);
            }
            match request.send().await {
                Ok(response) => (Some(response.status().as_u16()), None, false),
                Err(error) if error.is_timeout() => (None, Some("timed out".to_owned()), false),
                Err(error) if error.is_connect() => (None, Some(format!("connection failed: {error}")), false),
                Err(error) => (None, Some(format!("request failed: {error}")), false),
            }
        }
    };
    let delivered = status.is_some_and(|s| (200..300).contains(&s));
    let latency_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);

    let now = shared.clock.now_ms();
    shared.with_state(|state| {
        if state.epoch != epoch {
            // The emulator was reset while this attempt was in flight.
            return;
        }
        let retry_index = usize::try_from(delivery.attempts).unwrap_or(usize::MAX) - 1;
        let will_retry =
            !delivered && !blocked && !delivery.forged && retry_index < policy.delays_ms.len();
        let headers = (timestamp, signature.clone());
        if let Some(stored) = state.deliveries.get_mut(&delivery_id) {
            stored.fixed_headers = Some(headers.clone());
        }
        if delivery.attempts == 1 {
            follow_up(state, now, &delivery, &headers);
        }
        if will_retry {
            let delay = i64::try_from(policy.delays_ms[retry_index]).unwrap_or(i64::MAX);
            state.timers.schedule(
                now.saturating_add(delay),
                TimerEvent::CallbackAttempt { delivery_id },
            );
        }
        state.stats.callback_attempts += 1;
        if delivered {
            state.stats.callbacks_delivered += 1;
        }
        state.callback_log.push(CallbackAttempt {
            delivery_id,
            task_id: delivery.task_id.clone(),
            kind: delivery.kind,
            url: delivery.url.clone(),
            attempt: delivery.attempts,
            duplicate: delivery.duplicate,
            forged: delivery.forged,
            at_ms: now,
            timestamp,
            signature: signature.clone(),
            status,
            error,
            latency_ms,
            delivered,
            will_retry,
            faults: delivery.faults.clone(),
            body: String::from_utf8_lossy(&delivery.body).into_owned(),
        });
    });
    // A retry may have been scheduled; the log grew.
    shared.wake.notify_one();
    shared.callback_log_changed.send_modify(|count| *count += 1);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_is_base64_hmac_of_task_dot_timestamp() {
        // HMAC-SHA256(key="key", "abc.1700000000"), computed independently with openssl.
        let signature = sign("key", "abc", 1_700_000_000);
        assert_eq!(signature, "DVsH2H8WBYDKcDunI2Eou0AuIWKGHhVnNF1NDjQeZCA=");
        assert_ne!(signature, sign("key", "abc", 1_700_000_001));
        assert_ne!(signature, sign("other", "abc", 1_700_000_000));
    }

    #[test]
    fn loopback_detection() {
        let check = |u: &str| {
            reqwest::Url::parse(u)
                .map(|u| is_loopback_url(&u))
                .unwrap_or(false)
        };
        assert!(check("http://127.0.0.1:9/x"));
        assert!(check("http://localhost/x"));
        assert!(check("http://[::1]:80/x"));
        assert!(check("http://127.8.9.10/x"));
        assert!(!check("https://your-domain.com/api/callback"));
        assert!(!check("http://10.0.0.1/x"));
    }
}

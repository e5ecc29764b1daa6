//! When to try a request again: a pure function of what happened, so that every rule
//! is pinned down by a table test.
//!
//! Reads are retried on anything transient. createTask is retried only where nothing
//! can have been created: a 429 (kie.ai rejects those without queueing them) or a
//! connection that was never established. Anything else after a create was sent may
//! have created a billed task, so it is returned to the caller instead of repeated.

use std::time::{Duration, SystemTime};

use crate::error::{Error, Operation, UnansweredCause};
use crate::time::Timer;
use crate::wire::is_transient_code;

/// Whether repeating a request could do harm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RequestKind {
    /// Safe to send again whatever became of it: reading state (recordInfo, credits,
    /// download-url, a file) or an upload (the same file stored once more).
    Repeatable,
    /// Creating a task: repeating an ambiguous attempt could create a second task.
    Create,
}

/// What one attempt came to, as far as retrying is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Attempt {
    /// An answer with an HTTP status and, if the body had one, kie.ai's `code`.
    Answered {
        /// The HTTP status.
        http_status: u16,
        /// The body's `code`, if it had one.
        code: Option<i64>,
        /// The `Retry-After` the answer carried.
        retry_after: Option<Duration>,
    },
    /// A successful status whose body could not be read (cut short, not JSON).
    Garbled,
    /// No connection was made: the request never left.
    ConnectFailed,
    /// The request was sent (or may have been) and timed out.
    Timeout,
    /// The connection broke after the request may have been sent.
    ConnectionLost,
}

/// What to do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decision {
    /// Try again after this delay.
    RetryAfter(Duration),
    /// Return the error.
    Stop,
}

/// How many times, and how patiently, to retry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    max_attempts: u32,
    base_delay: Duration,
    max_delay: Duration,
    max_elapsed: Duration,
}

impl Default for RetryPolicy {
    /// Four attempts in all, backoff from 500 ms capped at 20 s, at most 60 s in all.
    fn default() -> Self {
        Self {
            max_attempts: 4,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(20),
            max_elapsed: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// Never retry.
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// Attempts in all, the first included (at least 1).
    #[must_use]
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// The first backoff step, doubled at each retry.
    #[must_use]
    pub fn base_delay(mut self, delay: Duration) -> Self {
        self.base_delay = delay;
        self
    }

    /// The cap on one backoff step (not on a server's `Retry-After`).
    #[must_use]
    pub fn max_delay(mut self, delay: Duration) -> Self {
        self.max_delay = delay;
        self
    }

    /// The cap on time spent on one call, waits included: a retry that would end later
    /// is not made.
    #[must_use]
    pub fn max_elapsed(mut self, elapsed: Duration) -> Self {
        self.max_elapsed = elapsed;
        self
    }

    /// Decides after attempt number `attempts` (1 for the first) ended in `outcome`,
    /// `elapsed` after the call began. `jitter` in `[0, 1)` scales the backoff (full
    /// jitter), so that many clients throttled at once do not retry in step. A server's
    /// `Retry-After` is honoured, plus the same jitter: calls throttled together would
    /// otherwise all come back in the same instant and be throttled again.
    pub(crate) fn decide(
        &self,
        kind: RequestKind,
        outcome: Attempt,
        attempts: u32,
        elapsed: Duration,
        jitter: f64,
    ) -> Decision {
        if attempts >= self.max_attempts || !retryable(kind, outcome) {
            return Decision::Stop;
        }
        let exponent = attempts.saturating_sub(1).min(16);
        let step = self
            .base_delay
            .saturating_mul(1 << exponent)
            .min(self.max_delay);
        let spread = step.mul_f64(jitter.clamp(0.0, 1.0));
        let delay = match outcome {
            Attempt::Answered {
                retry_after: Some(after),
                ..
            } => after + spread,
            _ => spread,
        };
        if elapsed.saturating_add(delay) > self.max_elapsed {
            Decision::Stop
        } else {
            Decision::RetryAfter(delay)
        }
    }
}

/// An attempt that failed: its error, what it was for the retry policy (`None`: another
/// attempt cannot help), and whether it made progress (a download that received bytes),
/// which restarts the policy's time budget.
pub(crate) struct Failed {
    pub error: Error,
    pub retry: Option<Attempt>,
    pub progressed: bool,
}

impl Failed {
    /// A failure another attempt cannot help.
    pub(crate) fn fatal(error: Error) -> Self {
        Self {
            error,
            retry: None,
            progressed: false,
        }
    }

    /// A failure the policy may retry, as `attempt`.
    pub(crate) fn retry(error: Error, attempt: Attempt) -> Self {
        Self {
            error,
            retry: Some(attempt),
            progressed: false,
        }
    }
}

/// The retry state of one call, for API calls, uploads and downloads alike: its
/// caller makes an attempt, and on failure hands it to [`Retries::after`], which
/// decides, logs and sleeps, or says stop:
///
/// ```text
/// let mut retries = Retries::new(..);
/// let done = loop {
///     match attempt().await {
///         Ok(done) => break done,
///         Err(failed) => retries.after(failed).await?,
///     }
/// };
/// ```
///
/// The policy's time budget runs from the start, or from the last attempt that made
/// progress, so a long download that keeps receiving can still be resumed.
pub(crate) struct Retries<'a> {
    policy: &'a RetryPolicy,
    timer: &'a dyn Timer,
    kind: RequestKind,
    operation: Operation,
    attempts: u32,
    since: Duration,
}

impl<'a> Retries<'a> {
    pub(crate) fn new(
        policy: &'a RetryPolicy,
        timer: &'a dyn Timer,
        kind: RequestKind,
        operation: Operation,
    ) -> Self {
        Self {
            policy,
            timer,
            kind,
            operation,
            attempts: 0,
            since: timer.now(),
        }
    }

    /// After a failed attempt: returns once it is time for the next one, or the error
    /// when the policy says stop.
    pub(crate) async fn after(&mut self, failed: Failed) -> Result<(), Error> {
        self.attempts += 1;
        if failed.progressed {
            self.since = self.timer.now();
        }
        let Some(outcome) = failed.retry else {
            return Err(failed.error);
        };
        let elapsed = self.timer.now().saturating_sub(self.since);
        let jitter = fastrand::f64();
        match self
            .policy
            .decide(self.kind, outcome, self.attempts, elapsed, jitter)
        {
            Decision::Stop => Err(failed.error),
            Decision::RetryAfter(delay) => {
                tracing::warn!(
                    operation = %self.operation,
                    attempt = self.attempts,
                    ?delay,
                    error = %failed.error,
                    "retrying"
                );
                self.timer.sleep(delay).await;
                Ok(())
            }
        }
    }
}

fn retryable(kind: RequestKind, outcome: Attempt) -> bool {
    match (kind, outcome) {
        (_, Attempt::ConnectFailed) => true,
        (
            RequestKind::Repeatable,
            Attempt::Garbled | Attempt::Timeout | Attempt::ConnectionLost,
        ) => true,
        (
            RequestKind::Repeatable,
            Attempt::Answered {
                http_status, code, ..
            },
        ) => {
            let http = i64::from(http_status);
            is_transient_code(http) || code.is_some_and(is_transient_code)
        }
        (
            RequestKind::Create,
            Attempt::Answered {
                http_status, code, ..
            },
        ) => http_status == 429 || code == Some(429),
        (RequestKind::Create, Attempt::Garbled | Attempt::Timeout | Attempt::ConnectionLost) => {
            false
        }
    }
}

/// What a request that got no answer amounts to, for the retry policy and for its error.
/// A connect error (even a connect timeout) means the request never left, so it is
/// checked before the timeout.
pub(crate) fn unanswered(e: &reqwest::Error) -> (Attempt, UnansweredCause) {
    if e.is_connect() {
        (Attempt::ConnectFailed, UnansweredCause::ConnectFailed)
    } else if e.is_timeout() {
        (Attempt::Timeout, UnansweredCause::Timeout)
    } else {
        (Attempt::ConnectionLost, UnansweredCause::ConnectionLost)
    }
}

/// An answer's `Retry-After`, read now.
pub(crate) fn retry_after(response: &reqwest::Response) -> Option<Duration> {
    let value = response.headers().get(reqwest::header::RETRY_AFTER)?;
    parse_retry_after(value.to_str().ok()?, SystemTime::now())
}

/// Reads a `Retry-After` value: delay-seconds or an HTTP date (relative to `now`).
fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;
    use Attempt::*;
    use RequestKind::*;

    fn answered(http_status: u16, code: Option<i64>) -> Attempt {
        Answered {
            http_status,
            code,
            retry_after: None,
        }
    }

    #[test]
    fn which_outcomes_are_retried() {
        #[rustfmt::skip]
        let table: &[(RequestKind, Attempt, bool)] = &[
            // Reads: everything transient.
            (Repeatable, answered(429, Some(429)), true),
            (Repeatable, answered(200, Some(429)), true),
            (Repeatable, answered(200, Some(455)), true),
            (Repeatable, answered(500, Some(500)), true),
            (Repeatable, answered(502, None), true),
            (Repeatable, answered(503, None), true),
            (Repeatable, answered(504, None), true),
            (Repeatable, ConnectFailed, true),
            (Repeatable, Timeout, true),
            (Repeatable, ConnectionLost, true),
            (Repeatable, Garbled, true),
            (Repeatable, answered(401, Some(401)), false),
            (Repeatable, answered(402, Some(402)), false),
            (Repeatable, answered(200, Some(422)), false),
            (Repeatable, answered(200, Some(501)), false),
            (Repeatable, answered(200, Some(505)), false),
            (Repeatable, answered(404, None), false),
            // Creates: only where nothing can have been created.
            (Create, answered(429, Some(429)), true),
            (Create, answered(200, Some(429)), true),
            (Create, answered(429, None), true),
            (Create, ConnectFailed, true),
            (Create, Timeout, false),
            (Create, ConnectionLost, false),
            (Create, Garbled, false),
            (Create, answered(500, Some(500)), false),
            (Create, answered(502, None), false),
            (Create, answered(503, None), false),
            (Create, answered(200, Some(455)), false),
            (Create, answered(422, Some(422)), false),
        ];
        let policy = RetryPolicy::default();
        for &(kind, outcome, expected) in table {
            let decision = policy.decide(kind, outcome, 1, Duration::ZERO, 0.5);
            assert_eq!(
                matches!(decision, Decision::RetryAfter(_)),
                expected,
                "{kind:?} {outcome:?}"
            );
        }
    }

    #[test]
    fn backoff_is_full_jitter_exponential_and_capped() {
        let policy = RetryPolicy::default()
            .max_attempts(10)
            .base_delay(Duration::from_millis(500))
            .max_delay(Duration::from_secs(4))
            .max_elapsed(Duration::from_secs(3600));
        #[rustfmt::skip]
        let table = [
            // (attempts made, jitter, expected delay in ms)
            (1, 1.0, 500), (2, 1.0, 1000), (3, 1.0, 2000), (4, 1.0, 4000), (5, 1.0, 4000),
            (3, 0.5, 1000), (3, 0.0, 0), (9, 0.25, 1000),
        ];
        for (attempts, jitter, ms) in table {
            assert_eq!(
                policy.decide(Repeatable, Timeout, attempts, Duration::ZERO, jitter),
                Decision::RetryAfter(Duration::from_millis(ms)),
                "attempt {attempts} jitter {jitter}"
            );
        }
    }

    #[test]
    fn retry_after_is_honoured_plus_jitter() {
        let policy = RetryPolicy::default();
        let outcome = Answered {
            http_status: 429,
            code: Some(429),
            retry_after: Some(Duration::from_secs(7)),
        };
        // The first backoff step is 500 ms; the jitter picks a point in it.
        for (jitter, ms) in [(0.0, 7_000), (0.5, 7_250), (0.9, 7_450)] {
            assert_eq!(
                policy.decide(Create, outcome, 1, Duration::ZERO, jitter),
                Decision::RetryAfter(Duration::from_millis(ms)),
                "jitter {jitter}"
            );
        }
    }

    /// Found when a thousand submits were throttled at once: every retry honoured the
    /// same `Retry-After` to the millisecond, 139 of them landed in one 100 ms slot, and
    /// were throttled again.
    #[test]
    fn calls_throttled_together_do_not_come_back_together() {
        let policy = RetryPolicy::default();
        let outcome = Answered {
            http_status: 429,
            code: Some(429),
            retry_after: Some(Duration::from_secs(1)),
        };
        let mut slots = std::collections::BTreeMap::<u128, usize>::new();
        for i in 0..1000 {
            let jitter = f64::from(i) / 1000.0;
            let Decision::RetryAfter(delay) =
                policy.decide(Create, outcome, 1, Duration::ZERO, jitter)
            else {
                panic!("a 429 is retried");
            };
            *slots.entry(delay.as_millis() / 100).or_default() += 1;
        }
        let fullest = slots.values().max().copied().unwrap_or_default();
        assert!(
            fullest <= 200,
            "{fullest} retries in one 100 ms slot: {slots:?}"
        );
    }

    #[test]
    fn attempts_and_total_time_are_capped() {
        let policy = RetryPolicy::default()
            .max_attempts(3)
            .max_elapsed(Duration::from_secs(10));
        assert_eq!(
            policy.decide(Repeatable, Timeout, 3, Duration::ZERO, 0.5),
            Decision::Stop
        );
        // A retry that would end after the cap is not made.
        let late = Answered {
            http_status: 503,
            code: None,
            retry_after: Some(Duration::from_secs(8)),
        };
        assert_eq!(
            policy.decide(Repeatable, late, 1, Duration::from_secs(3), 0.0),
            Decision::Stop
        );
        assert_eq!(
            policy.decide(Repeatable, late, 1, Duration::from_secs(2), 0.0),
            Decision::RetryAfter(Duration::from_secs(8))
        );
        assert_eq!(
            RetryPolicy::none().decide(Repeatable, Timeout, 1, Duration::ZERO, 0.5),
            Decision::Stop
        );
    }

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let now = httpdate::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
        #[rustfmt::skip]
        let table = [
            ("5", Some(5)),
            (" 120 ", Some(120)),
            ("Sun, 06 Nov 1994 08:50:07 GMT", Some(30)),
            ("Sun, 06 Nov 1994 08:49:00 GMT", Some(0)),
            ("soon", None),
            ("-3", None),
        ];
        for (value, secs) in table {
            assert_eq!(
                parse_retry_after(value, now),
                secs.map(Duration::from_secs),
                "{value:?}"
            );
        }
    }
}

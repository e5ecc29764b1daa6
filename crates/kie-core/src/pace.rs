//! Keeping a client's calls within kie.ai's rate limits, so that a burst of work is
//! queued here rather than refused there.
//!
//! kie.ai allows an account 20 createTask calls per 10 s and a key 10 recordInfo calls
//! per second, and answers 429 beyond that, without queueing. A thousand submits at
//! once would otherwise spend their retries on 429s and fail; paced, they are sent as
//! fast as the limit allows and all succeed. Every clone of a [`crate::Client`] shares
//! one pacer per limit, and waiters are served in the order they came.

use std::collections::VecDeque;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::error::Operation;
use crate::time::Timer;

/// At most `max` calls in any window of `per`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    max: u32,
    per: Duration,
}

impl Rate {
    /// kie.ai's createTask limit, 20 per 10 s per account, counted over 10.25 s: the
    /// margin covers the time between our clock and kie.ai's counter (latency, jitter).
    pub const KIE_CREATE_TASK: Rate = Rate::per(20, Duration::from_millis(10_250));

    /// kie.ai's recordInfo limit, 10 per second per key, counted over 1.1 s for the same
    /// reason.
    pub const KIE_RECORD_INFO: Rate = Rate::per(10, Duration::from_millis(1_100));

    /// At most `max` calls in any window of `per` (`max` at least 1).
    pub const fn per(max: u32, per: Duration) -> Self {
        Self {
            max: if max == 0 { 1 } else { max },
            per,
        }
    }

    /// The most calls in one window.
    pub fn max(&self) -> u32 {
        self.max
    }

    /// The window.
    pub fn window(&self) -> Duration {
        self.per
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} per {:?}", self.max, self.per)
    }
}

/// A sliding-window log of the calls let through: the next call goes when fewer than
/// `max` were let through in the last `per`.
pub(crate) struct Pacer {
    rate: Rate,
    timer: Arc<dyn Timer>,
    /// When each call in the window was let through, oldest first. The async mutex
    /// queues waiters in arrival order, and the one at its head sleeps holding it, so
    /// calls go out first come, first served.
    sent: tokio::sync::Mutex<VecDeque<Duration>>,
}

impl fmt::Debug for Pacer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pacer").field("rate", &self.rate).finish()
    }
}

impl Pacer {
    pub(crate) fn new(rate: Rate, timer: Arc<dyn Timer>) -> Self {
        Self {
            rate,
            timer,
            sent: tokio::sync::Mutex::new(VecDeque::with_capacity(rate.max as usize)),
        }
    }

    /// Waits until one more call fits in the window, and counts it as sent now.
    pub(crate) async fn admit(&self) {
        let mut sent = self.sent.lock().await;
        loop {
            let now = self.timer.now();
            match delay(&mut sent, self.rate, now) {
                None => {
                    sent.push_back(now);
                    return;
                }
                Some(wait) => {
                    tracing::debug!(rate = %self.rate, ?wait, "pacing");
                    self.timer.sleep(wait).await;
                }
            }
        }
    }
}

/// How long until a call fits at `now`, forgetting the calls out of the window; `None`
/// when one fits now.
fn delay(sent: &mut VecDeque<Duration>, rate: Rate, now: Duration) -> Option<Duration> {
    while sent
        .front()
        .is_some_and(|at| now.saturating_sub(*at) >= rate.per)
    {
        sent.pop_front();
    }
    if sent.len() < rate.max as usize {
        return None;
    }
    let oldest = sent.front().copied().unwrap_or(now);
    Some(
        (oldest + rate.per)
            .saturating_sub(now)
            .max(Duration::from_millis(1)),
    )
}

/// The pacers of one client: createTask and recordInfo, each optional.
#[derive(Debug, Default)]
pub(crate) struct Pacers {
    pub create_task: Option<Pacer>,
    pub record_info: Option<Pacer>,
}

impl Pacers {
    /// Waits for the pacer of `operation`, if it has one.
    pub(crate) async fn admit(&self, operation: Operation) {
        let pacer = match operation {
            Operation::CreateTask => self.create_task.as_ref(),
            Operation::RecordInfo => self.record_info.as_ref(),
            _ => None,
        };
        if let Some(pacer) = pacer {
            pacer.admit().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::VirtualTimer;

    #[test]
    fn a_full_window_waits_for_its_oldest_call_to_leave() {
        let rate = Rate::per(3, Duration::from_secs(10));
        let mut sent = VecDeque::new();
        let s = Duration::from_secs;
        for at in [0, 1, 2] {
            assert_eq!(delay(&mut sent, rate, s(at)), None);
            sent.push_back(s(at));
        }
        assert_eq!(delay(&mut sent, rate, s(4)), Some(s(6)));
        assert_eq!(
            delay(&mut sent, rate, s(10)),
            None,
            "the first left at 10 s"
        );
        assert_eq!(sent.len(), 2);
    }

    #[tokio::test]
    async fn calls_beyond_the_rate_go_out_one_window_later_in_order() {
        let timer = Arc::new(VirtualTimer::new());
        let pacer = Arc::new(Pacer::new(
            Rate::per(2, Duration::from_secs(10)),
            timer.clone(),
        ));
        let mut at = Vec::new();
        for _ in 0..5 {
            pacer.admit().await;
            at.push(timer.now().as_secs());
        }
        assert_eq!(at, [0, 0, 10, 10, 20]);
    }

    #[test]
    fn a_rate_of_zero_is_one() {
        assert_eq!(Rate::per(0, Duration::from_secs(1)).max(), 1);
        assert_eq!(Rate::KIE_CREATE_TASK.to_string(), "20 per 10.25s");
    }
}

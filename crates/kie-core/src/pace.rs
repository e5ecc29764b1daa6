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
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::Notify;

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

/// A sliding window over the calls let through. A call holds its place from the
/// moment it is let through until `per` after its answer came: kie.ai counts a call
/// when it arrives, which is somewhere between those two moments, so however long the
/// call takes (a queue for a connection, latency, a slow answer) no window of kie.ai's
/// ever holds more than `max`.
pub(crate) struct Pacer {
    rate: Rate,
    timer: Arc<dyn Timer>,
    window: Mutex<Window>,
    /// Waiters queue on it in arrival order; the one at its head holds it while it
    /// waits for a place, so calls go out first come, first served.
    queue: tokio::sync::Mutex<()>,
    /// Signalled when a call ends, which starts its place's countdown.
    ended: Notify,
}

/// The places taken in the window, and who waits for one.
#[derive(Debug, Default)]
struct Window {
    /// Calls let through and not yet answered: each holds its place.
    in_flight: usize,
    /// When each answered call ended, oldest first: each holds its place until `per`
    /// after that.
    ended: VecDeque<Duration>,
    /// Calls waiting for a place: while there are any, a newcomer queues behind them.
    queued: usize,
    /// Whether the head of the queue waits for a call to end (to be told, `ended`).
    awaiting_end: bool,
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
            window: Mutex::default(),
            queue: tokio::sync::Mutex::new(()),
            ended: Notify::new(),
        }
    }

    /// Waits until the window has a place, and takes it until the returned place is
    /// dropped (when the call's answer is in) and `per` has passed.
    pub(crate) async fn admit(&self) -> Place<'_> {
        // The common case, a free place and nobody waiting, takes one lock.
        {
            let mut window = self.lock();
            if window.queued == 0 && window.delay(self.rate, self.timer.now()).is_ok() {
                window.in_flight += 1;
                return Place { pacer: self };
            }
            window.queued += 1;
        }
        let _queued = Queued(self);
        let _turn = self.queue.lock().await;
        loop {
            match self.take() {
                Ok(place) => return place,
                // Only time frees a place then: a call ending keeps its place a window.
                Err(Some(wait)) => {
                    tracing::debug!(rate = %self.rate, ?wait, "pacing");
                    self.timer.sleep(wait).await;
                }
                // Every place is held by a call in flight: once one ends, its place has
                // a time to be free at. Registered before looking again, so that an end
                // in between is not missed.
                Err(None) => {
                    let ended = self.ended.notified();
                    let mut ended = std::pin::pin!(ended);
                    ended.as_mut().enable();
                    match self.take() {
                        Ok(place) => return place,
                        Err(Some(_)) => continue,
                        Err(None) => {
                            self.lock().awaiting_end = true;
                            ended.await;
                        }
                    }
                }
            }
        }
    }

    /// A place, if the window has one now; else what [`Window::delay`] says.
    fn take(&self) -> Result<Place<'_>, Option<Duration>> {
        let mut window = self.lock();
        window.delay(self.rate, self.timer.now())?;
        window.in_flight += 1;
        Ok(Place { pacer: self })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Window> {
        self.window.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Window {
    /// `Ok` when a place is free at `now` (forgetting the places whose time is up);
    /// else how long until the oldest ended call frees its place, or `None` when every
    /// place is held by a call in flight.
    fn delay(&mut self, rate: Rate, now: Duration) -> Result<(), Option<Duration>> {
        while self
            .ended
            .front()
            .is_some_and(|at| now.saturating_sub(*at) >= rate.per)
        {
            self.ended.pop_front();
        }
        if self.in_flight + self.ended.len() < rate.max as usize {
            return Ok(());
        }
        Err(self.ended.front().map(|oldest| {
            (*oldest + rate.per)
                .saturating_sub(now)
                .max(Duration::from_millis(1))
        }))
    }
}

/// A call's place in its window, held while the call is in flight; dropping it (when
/// the answer is in, or the call is abandoned) starts the place's countdown.
pub(crate) struct Place<'a> {
    pacer: &'a Pacer,
}

impl Drop for Place<'_> {
    fn drop(&mut self) {
        let now = self.pacer.timer.now();
        let awaited = {
            let mut window = self.pacer.lock();
            window.in_flight = window.in_flight.saturating_sub(1);
            // The clock is monotonic and places end under the lock: kept in order.
            window.ended.push_back(now);
            std::mem::take(&mut window.awaiting_end)
        };
        if awaited {
            self.pacer.ended.notify_waiters();
        }
    }
}

/// A call counted as waiting for a place, until it has one or is abandoned.
struct Queued<'a>(&'a Pacer);

impl Drop for Queued<'_> {
    fn drop(&mut self) {
        let mut window = self.0.lock();
        window.queued = window.queued.saturating_sub(1);
    }
}

/// The pacers of one client: createTask and recordInfo, each optional.
#[derive(Debug, Default)]
pub(crate) struct Pacers {
    pub create_task: Option<Pacer>,
    pub record_info: Option<Pacer>,
}

impl Pacers {
    /// Waits for a place from the pacer of `operation`, if it has one.
    pub(crate) async fn admit(&self, operation: Operation) -> Option<Place<'_>> {
        let pacer = match operation {
            Operation::CreateTask => self.create_task.as_ref(),
            Operation::RecordInfo => self.record_info.as_ref(),
            _ => None,
        }?;
        Some(pacer.admit().await)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::VirtualTimer;

    #[test]
    fn a_place_is_held_in_flight_and_for_a_window_after_its_answer() {
        let rate = Rate::per(3, Duration::from_secs(10));
        let s = Duration::from_secs;
        let mut window = Window {
            in_flight: 2,
            ended: VecDeque::from([s(1)]),
            ..Window::default()
        };
        assert_eq!(
            window.delay(rate, s(4)),
            Err(Some(s(7))),
            "full: the ended one frees first"
        );
        assert_eq!(window.delay(rate, s(11)), Ok(()), "it left at 11 s");
        assert!(window.ended.is_empty());
        window.in_flight = 3;
        assert_eq!(
            window.delay(rate, s(50)),
            Err(None),
            "all in flight: wait for an answer"
        );
    }

    #[tokio::test]
    async fn calls_beyond_the_rate_go_out_one_window_after_the_answers() {
        let timer = Arc::new(VirtualTimer::new());
        let pacer = Pacer::new(Rate::per(2, Duration::from_secs(10)), timer.clone());
        let mut at = Vec::new();
        for _ in 0..5 {
            let place = pacer.admit().await;
            at.push(timer.now().as_secs());
            timer.advance(Duration::from_secs(1)); // the call takes a second
            drop(place);
        }
        // The third waits for the first answer (at 1 s) plus the window.
        assert_eq!(at, [0, 1, 11, 12, 22]);
    }

    #[tokio::test]
    async fn a_full_window_of_calls_in_flight_waits_for_an_answer_not_the_clock() {
        let timer = Arc::new(VirtualTimer::new());
        let pacer = Arc::new(Pacer::new(
            Rate::per(1, Duration::from_secs(10)),
            timer.clone(),
        ));
        let first = pacer.admit().await;
        let waiting = tokio::spawn({
            let pacer = pacer.clone();
            async move {
                drop(pacer.admit().await);
            }
        });
        tokio::task::yield_now().await;
        assert!(
            !waiting.is_finished(),
            "the place is held while its call is in flight"
        );
        assert_eq!(timer.now(), Duration::ZERO);
        drop(first);
        waiting.await.unwrap();
        assert_eq!(
            timer.now(),
            Duration::from_secs(10),
            "then one window after its answer"
        );
    }

    #[test]
    fn a_rate_of_zero_is_one() {
        assert_eq!(Rate::per(0, Duration::from_secs(1)).max(), 1);
        assert_eq!(Rate::KIE_CREATE_TASK.to_string(), "20 per 10.25s");
    }
}

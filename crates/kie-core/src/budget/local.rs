//! The budget of one process: a sliding window per limit, in memory.

use std::collections::VecDeque;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use super::{Budget, Busy, Limit, PlaceId, Rate};
use crate::time::{Timer, TokioTimer};

/// A [`Budget`] kept in this process (every clone of a [`crate::Client`] shares its
/// client's; hand one `Arc` to several clients to share it between them). The default.
pub struct LocalBudget {
    timer: Arc<dyn Timer>,
    create_task: Mutex<Window>,
    record_info: Mutex<Window>,
    next_id: AtomicU64,
}

impl fmt::Debug for LocalBudget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalBudget").finish_non_exhaustive()
    }
}

impl Default for LocalBudget {
    fn default() -> Self {
        Self::new(Arc::new(TokioTimer::default()))
    }
}

impl LocalBudget {
    /// A budget on this clock (give it the client's [`Timer`], so that tests on virtual
    /// time stay on it).
    pub fn new(timer: Arc<dyn Timer>) -> Self {
        Self {
            timer,
            create_task: Mutex::default(),
            record_info: Mutex::default(),
            next_id: AtomicU64::new(0),
        }
    }

    fn window(&self, limit: Limit) -> std::sync::MutexGuard<'_, Window> {
        match limit {
            Limit::CreateTask => &self.create_task,
            Limit::RecordInfo => &self.record_info,
        }
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes a place now if there is one: the budget's whole logic, synchronous.
    pub(crate) fn take_now(&self, limit: Limit, rate: Rate) -> Result<PlaceId, Busy> {
        let now = self.timer.now();
        let mut window = self.window(limit);
        window.delay(rate, now)?;
        window.in_flight += 1;
        Ok(PlaceId(self.next_id.fetch_add(1, Ordering::Relaxed)))
    }

    /// Gives a place back at `now`: it stays held for `rate`'s window (see
    /// [`Budget::release`]).
    pub(crate) fn give_back(&self, limit: Limit, rate: Rate) {
        let until = self.timer.now() + rate.per;
        let mut window = self.window(limit);
        window.in_flight = window.in_flight.saturating_sub(1);
        window.hold(until);
    }

    /// Counts a call made elsewhere as holding a place until `until` on this budget's
    /// timer (a window after its answer came): how a program restarted
    /// in the middle of its work carries over the calls its last run made (`kie batch`
    /// reads them from its journal), and how a shared budget that falls back on a local
    /// one carries over the places it took.
    pub fn hold_until(&self, limit: Limit, until: Duration) {
        self.window(limit).hold(until);
    }

    /// Counts a call let through elsewhere and still in flight as in flight here: its
    /// [`give_back`](Self::give_back) starts its countdown.
    #[cfg(feature = "redis-budget")]
    pub(crate) fn hold_in_flight(&self, limit: Limit) {
        self.window(limit).in_flight += 1;
    }

    /// Whether [`take_now`](Self::take_now) would find a place now, without taking it
    /// (a budget that must also ask elsewhere takes it only if both agree).
    #[cfg(feature = "redis-budget")]
    pub(crate) fn room(&self, limit: Limit, rate: Rate) -> Result<(), Busy> {
        let now = self.timer.now();
        self.window(limit).delay(rate, now)
    }
}

#[async_trait::async_trait]
impl Budget for LocalBudget {
    async fn try_take(&self, limit: Limit, rate: Rate) -> Result<PlaceId, Busy> {
        self.take_now(limit, rate)
    }

    fn release(&self, limit: Limit, rate: Rate, _place: PlaceId) {
        self.give_back(limit, rate);
    }
}

/// The places taken in one limit's window.
#[derive(Debug, Default)]
struct Window {
    /// Calls let through and not yet answered: each holds its place.
    in_flight: usize,
    /// Until when each answered call holds its place (a window after its answer),
    /// soonest first. Kept as that moment, not the answer's, so that a place carried
    /// over from before the clock's origin is still exact.
    held_until: VecDeque<Duration>,
}

impl Window {
    /// `Ok` when a place is free at `now` (forgetting the places whose time is up);
    /// else how long until the oldest ended call frees its place, or
    /// [`Busy::UntilAnEnd`] when every place is held by a call in flight.
    fn delay(&mut self, rate: Rate, now: Duration) -> Result<(), Busy> {
        while self.held_until.front().is_some_and(|until| *until <= now) {
            self.held_until.pop_front();
        }
        if self.in_flight + self.held_until.len() < rate.max as usize {
            return Ok(());
        }
        Err(self.held_until.front().map_or(Busy::UntilAnEnd, |soonest| {
            Busy::For(soonest.saturating_sub(now).max(Duration::from_millis(1)))
        }))
    }

    /// Holds a place until `until`, in order.
    fn hold(&mut self, until: Duration) {
        let at = self.held_until.partition_point(|t| *t <= until);
        self.held_until.insert(at, until);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_place_is_held_in_flight_and_for_a_window_after_its_answer() {
        let rate = Rate::per(3, Duration::from_secs(10));
        let s = Duration::from_secs;
        let mut window = Window {
            in_flight: 2,
            held_until: VecDeque::from([s(11)]),
        };
        assert_eq!(
            window.delay(rate, s(4)),
            Err(Busy::For(s(7))),
            "full: the ended one frees first"
        );
        assert_eq!(window.delay(rate, s(11)), Ok(()), "it left at 11 s");
        assert!(window.held_until.is_empty());
        window.in_flight = 3;
        assert_eq!(
            window.delay(rate, s(50)),
            Err(Busy::UntilAnEnd),
            "all in flight: wait for an answer"
        );
    }

    #[test]
    fn places_carried_over_are_held_until_their_time() {
        use crate::time::VirtualTimer;
        let timer = Arc::new(VirtualTimer::new());
        let budget = LocalBudget::new(timer.clone());
        let rate = Rate::per(2, Duration::from_secs(10));
        budget.hold_until(Limit::CreateTask, Duration::from_secs(12));
        budget.hold_until(Limit::CreateTask, Duration::from_secs(11));
        assert_eq!(
            budget.take_now(Limit::CreateTask, rate),
            Err(Busy::For(Duration::from_secs(11)))
        );
        assert!(
            budget.take_now(Limit::RecordInfo, rate).is_ok(),
            "limits are apart"
        );
        timer.advance(Duration::from_secs(11));
        assert!(budget.take_now(Limit::CreateTask, rate).is_ok());
    }

    #[test]
    fn a_rate_of_zero_is_one_and_a_share_keeps_one() {
        assert_eq!(Rate::per(0, Duration::from_secs(1)).max(), 1);
        assert_eq!(Rate::KIE_CREATE_TASK.to_string(), "20 per 10.25s");
        assert_eq!(Rate::KIE_CREATE_TASK.share(0.25).max(), 5);
        assert_eq!(Rate::KIE_RECORD_INFO.share(0.01).max(), 1);
    }
}

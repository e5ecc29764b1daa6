//! kie.ai's documented rate limits, enforced on request, and the busiest windows seen.
//!
//! The live API accepts 20 new generation requests per 10 seconds per account and 10
//! recordInfo requests per second per key, and answers HTTP 429 beyond that (rejected
//! creates are not queued). The windows slide on the virtual clock, so a frozen clock
//! makes limit tests exact. [`Peaks`] measures the same windows whether or not the
//! limits are enforced, so a client that paces itself can be checked by the server.

use std::collections::{HashMap, VecDeque};

/// Which limit a request counts against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Limit {
    /// 20 per 10 s.
    CreateTask,
    /// 10 per second.
    RecordInfo,
}

impl Limit {
    fn window(self) -> (usize, i64) {
        match self {
            Limit::CreateTask => (20, 10_000),
            Limit::RecordInfo => (10, 1_000),
        }
    }
}

/// Sliding windows per (limit, API key).
#[derive(Debug, Default, Clone)]
pub(crate) struct RateLimiter {
    windows: HashMap<(Limit, String), VecDeque<i64>>,
}

impl RateLimiter {
    /// Admits a request at `now` or returns the whole seconds until one would be admitted.
    pub(crate) fn admit(&mut self, limit: Limit, key: &str, now: i64) -> Result<(), u64> {
        let (max, window_ms) = limit.window();
        let window = self.windows.entry((limit, key.to_owned())).or_default();
        while window.front().is_some_and(|t| *t <= now - window_ms) {
            window.pop_front();
        }
        if window.len() >= max {
            let oldest = window.front().copied().unwrap_or(now);
            let wait_ms = (oldest + window_ms - now).max(1);
            return Err(u64::try_from((wait_ms + 999) / 1000).unwrap_or(1));
        }
        window.push_back(now);
        Ok(())
    }
}

/// The most requests one key made within any window of each limit's length, over every
/// key (for [`Stats`](crate::Stats)).
#[derive(Debug, Default, Clone)]
pub(crate) struct Peaks {
    create_task: KeyedWindows,
    record_info: KeyedWindows,
}

impl Peaks {
    /// Counts a request from `key` at `now`: O(1) amortized, whatever the request rate.
    pub(crate) fn record(&mut self, limit: Limit, key: &str, now: i64) {
        let (_, window_ms) = limit.window();
        self.windows_mut(limit).record(key, now, window_ms);
    }

    /// The most requests one key made within one window of `limit` so far.
    pub(crate) fn peak(&self, limit: Limit) -> u64 {
        match limit {
            Limit::CreateTask => self.create_task.peak,
            Limit::RecordInfo => self.record_info.peak,
        }
    }

    fn windows_mut(&mut self, limit: Limit) -> &mut KeyedWindows {
        match limit {
            Limit::CreateTask => &mut self.create_task,
            Limit::RecordInfo => &mut self.record_info,
        }
    }
}

/// One limit's current window per key, and the fullest any has been.
#[derive(Debug, Default, Clone)]
struct KeyedWindows {
    by_key: HashMap<String, Window>,
    peak: u64,
}

impl KeyedWindows {
    fn record(&mut self, key: &str, now: i64, window_ms: i64) {
        // Looked up by `&str` first: the key is copied once per key, not once per request.
        let count = match self.by_key.get_mut(key) {
            Some(window) => window.record(now, window_ms),
            None => {
                let mut window = Window::default();
                let count = window.record(now, window_ms);
                self.by_key.insert(key.to_owned(), window);
                count
            }
        };
        self.peak = self.peak.max(count);
    }
}

/// The requests of one key within the last window, counted per virtual millisecond: a
/// burst at one instant (a frozen clock) is one entry, so memory is bounded by the
/// window's length in ms, whatever the rate.
#[derive(Debug, Default, Clone)]
struct Window {
    /// (virtual ms, requests at that ms), oldest first.
    counts: VecDeque<(i64, u64)>,
    /// The sum of `counts`.
    total: u64,
}

impl Window {
    /// Adds a request at `now` and returns how many fall within `(now - window_ms, now]`.
    fn record(&mut self, now: i64, window_ms: i64) -> u64 {
        // A clock set back to an earlier time starts the window over: no window spans
        // the jump.
        if self.counts.back().is_some_and(|(at, _)| *at > now) {
            self.counts.clear();
            self.total = 0;
        }
        while let Some(&(at, count)) = self.counts.front()
            && at <= now - window_ms
        {
            self.counts.pop_front();
            self.total -= count;
        }
        match self.counts.back_mut() {
            Some((at, count)) if *at == now => *count += 1,
            _ => self.counts.push_back((now, 1)),
        }
        self.total += 1;
        self.total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twenty_creates_per_ten_seconds() {
        let mut limiter = RateLimiter::default();
        for i in 0..20 {
            assert_eq!(limiter.admit(Limit::CreateTask, "k", 1_000 + i), Ok(()));
        }
        assert_eq!(limiter.admit(Limit::CreateTask, "k", 1_020), Err(10));
        assert_eq!(limiter.admit(Limit::CreateTask, "other", 1_020), Ok(()));
        assert_eq!(limiter.admit(Limit::CreateTask, "k", 11_000), Ok(()));
    }

    #[test]
    fn ten_record_info_per_second() {
        let mut limiter = RateLimiter::default();
        for _ in 0..10 {
            assert_eq!(limiter.admit(Limit::RecordInfo, "k", 0), Ok(()));
        }
        assert_eq!(limiter.admit(Limit::RecordInfo, "k", 999), Err(1));
        assert_eq!(limiter.admit(Limit::RecordInfo, "k", 1_000), Ok(()));
    }

    #[test]
    fn peaks_are_the_fullest_sliding_window_of_one_key() {
        let mut peaks = Peaks::default();
        // 5 creates at 0 ms, 5 at 9 999 ms: one 10 s window holds all 10.
        for at in [0, 0, 0, 0, 0, 9_999, 9_999, 9_999, 9_999, 9_999] {
            peaks.record(Limit::CreateTask, "k", at);
        }
        assert_eq!(peaks.peak(Limit::CreateTask), 10);
        // At 10 000 ms the first 5 have left the window: 6 in it, the peak stays 10.
        peaks.record(Limit::CreateTask, "k", 10_000);
        assert_eq!(peaks.peak(Limit::CreateTask), 10);
        // Another key's requests are another window, however close in time.
        for _ in 0..7 {
            peaks.record(Limit::CreateTask, "other", 10_000);
        }
        assert_eq!(peaks.peak(Limit::CreateTask), 10);
        for _ in 0..4 {
            peaks.record(Limit::CreateTask, "other", 19_999);
        }
        assert_eq!(peaks.peak(Limit::CreateTask), 11);
        assert_eq!(peaks.peak(Limit::RecordInfo), 0, "limits are counted apart");
    }

    #[test]
    fn a_record_info_window_is_one_second() {
        let mut peaks = Peaks::default();
        for at in (0..30).map(|i| i * 100) {
            peaks.record(Limit::RecordInfo, "k", at);
        }
        assert_eq!(
            peaks.peak(Limit::RecordInfo),
            10,
            "one every 100 ms: 10 per second"
        );
        for _ in 0..12 {
            peaks.record(Limit::RecordInfo, "k", 5_000);
        }
        assert_eq!(peaks.peak(Limit::RecordInfo), 12);
    }

    #[test]
    fn a_burst_at_one_instant_is_one_entry() {
        let mut window = Window::default();
        for _ in 0..100_000 {
            window.record(42, 1_000);
        }
        assert_eq!((window.counts.len(), window.total), (1, 100_000));
        assert_eq!(window.record(1_042, 1_000), 1, "the burst left the window");
        assert_eq!(window.counts.len(), 1);
    }

    #[test]
    fn a_clock_set_back_starts_the_window_over() {
        let mut window = Window::default();
        for _ in 0..5 {
            window.record(5_000, 1_000);
        }
        assert_eq!(window.record(4_000, 1_000), 1);
    }
}

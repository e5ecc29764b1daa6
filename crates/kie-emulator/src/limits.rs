//! kie.ai's documented rate limits, enforced on request.
//!
//! The live API accepts 20 new generation requests per 10 seconds per account and 10
//! recordInfo requests per second per key, and answers HTTP 429 beyond that (rejected
//! creates are not queued). The windows slide on the virtual clock, so a frozen clock
//! makes limit tests exact.

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
}

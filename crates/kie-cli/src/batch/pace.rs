//! Pacing task creation under kie.ai's limit of 20 new tasks per 10 seconds per account
//! (over it, requests are refused with 429, not queued).

use std::collections::VecDeque;
use std::time::{Duration, SystemTime};

use tokio::sync::Mutex;

/// kie.ai's create limit: this many...
const LIMIT: usize = 20;
/// ...per this sliding window. A little margin covers the clock of kie.ai's counter.
const WINDOW: Duration = Duration::from_millis(10_250);

/// A sliding-window limiter over wall-clock time, so it can start from the creates an
/// earlier run of the same batch journaled just before it was stopped.
pub struct Pace {
    starts: Mutex<VecDeque<SystemTime>>,
}

impl Pace {
    /// A limiter that counts `earlier` creates (from the journal) as already made.
    pub fn new(earlier: impl IntoIterator<Item = SystemTime>) -> Self {
        let mut starts: Vec<SystemTime> = earlier.into_iter().collect();
        starts.sort();
        Self {
            starts: Mutex::new(starts.into()),
        }
    }

    /// Waits until one more create fits in the window, and counts it.
    pub async fn admit(&self) {
        loop {
            let wait = {
                let mut starts = self.starts.lock().await;
                let now = SystemTime::now();
                match delay(&mut starts, now) {
                    None => {
                        starts.push_back(now);
                        return;
                    }
                    Some(wait) => wait,
                }
            };
            tokio::time::sleep(wait).await;
        }
    }
}

/// How long until a create fits at `now`, forgetting the ones out of the window; `None`
/// when one fits now.
fn delay(starts: &mut VecDeque<SystemTime>, now: SystemTime) -> Option<Duration> {
    while starts
        .front()
        .is_some_and(|start| now.duration_since(*start).unwrap_or_default() >= WINDOW)
    {
        starts.pop_front();
    }
    if starts.len() < LIMIT {
        return None;
    }
    let oldest = starts.front().copied().unwrap_or(now);
    Some((oldest + WINDOW).duration_since(now).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twenty_fit_then_the_next_waits_for_the_oldest_to_leave_the_window() {
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let mut starts = VecDeque::new();
        for i in 0..20 {
            let at = t0 + Duration::from_millis(i * 100);
            assert_eq!(delay(&mut starts, at), None);
            starts.push_back(at);
        }
        let now = t0 + Duration::from_secs(3);
        assert_eq!(
            delay(&mut starts, now),
            Some(WINDOW - Duration::from_secs(3))
        );
        // Once the first leaves the window, one more fits.
        assert_eq!(delay(&mut starts, t0 + WINDOW), None);
        assert_eq!(starts.len(), 19);
    }

    #[tokio::test]
    async fn journaled_creates_count_against_the_window() {
        let now = SystemTime::now();
        let pace = Pace::new((0..20).map(|_| now - Duration::from_secs(20)));
        pace.admit().await; // all twenty are out of the window
        assert_eq!(pace.starts.lock().await.len(), 1);
        let mut full: VecDeque<SystemTime> = (0..20).map(|_| now).collect();
        assert!(delay(&mut full, now).is_some());
    }
}

//! Time as the SDK sees it: a clock and a sleeper behind one trait, so that tests of
//! retries and waiting run in milliseconds instead of minutes.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// A future that completes after a sleep.
pub type Sleep = Pin<Box<dyn Future<Output = ()> + Send>>;

/// A monotonic clock and a way to sleep on it.
pub trait Timer: Send + Sync + fmt::Debug {
    /// Time elapsed since an arbitrary, fixed origin.
    fn now(&self) -> Duration;

    /// A future that completes once `duration` has passed on this clock.
    fn sleep(&self, duration: Duration) -> Sleep;
}

/// Real time, on tokio's timer. The default.
///
/// It reads tokio's clock, so in a runtime whose time is paused (`tokio::time::pause`,
/// `#[tokio::test(start_paused = true)]`) it is virtual time that jumps to the next
/// sleep's end whenever every task is idle: many concurrent waits then run in order,
/// in milliseconds.
#[derive(Debug, Clone, Copy)]
pub struct TokioTimer {
    origin: tokio::time::Instant,
}

impl Default for TokioTimer {
    fn default() -> Self {
        Self {
            origin: tokio::time::Instant::now(),
        }
    }
}

impl Timer for TokioTimer {
    fn now(&self) -> Duration {
        self.origin.elapsed()
    }

    fn sleep(&self, duration: Duration) -> Sleep {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// Virtual time for tests: every sleep returns at once and moves the clock forward by
/// its length. It records each sleep, so a test can assert the schedule that ran.
#[derive(Debug, Default)]
pub struct VirtualTimer {
    nanos: AtomicU64,
    sleeps: Mutex<Vec<Duration>>,
}

impl VirtualTimer {
    /// A clock at zero.
    pub fn new() -> Self {
        Self::default()
    }

    /// Moves the clock forward without a sleep.
    pub fn advance(&self, by: Duration) {
        self.nanos.fetch_add(nanos(by), Ordering::SeqCst);
    }

    /// Every sleep taken so far, in order.
    pub fn sleeps(&self) -> Vec<Duration> {
        self.sleeps
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

impl Timer for VirtualTimer {
    fn now(&self) -> Duration {
        Duration::from_nanos(self.nanos.load(Ordering::SeqCst))
    }

    fn sleep(&self, duration: Duration) -> Sleep {
        self.advance(duration);
        self.sleeps
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(duration);
        // Yield once, as a real sleep would, so other tasks get to run.
        Box::pin(tokio::task::yield_now())
    }
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

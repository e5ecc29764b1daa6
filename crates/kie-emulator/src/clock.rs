//! The virtual clock every timeline, timestamp, expiry and retry delay reads.
//!
//! Real generation takes minutes; tests cannot wait that long and must not depend on the
//! wall clock. The clock therefore runs at a configurable speed, can be frozen (nothing
//! moves until it is advanced) and can be advanced or set explicitly, like MockServer's
//! clock or Stripe's test clocks. Latency faults and hangs are the exception: they are
//! felt by a real client, so they use real time.

use std::{
    sync::Mutex,
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use serde::{Deserialize, Serialize};

/// A snapshot of the virtual clock.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ClockStatus {
    /// Virtual time now, in Unix milliseconds.
    pub now_ms: i64,
    /// Virtual milliseconds per real millisecond.
    pub speed: f64,
    /// Whether the clock is frozen (it then only moves when advanced or set).
    pub frozen: bool,
}

/// A change to the virtual clock, as sent to `POST /_emulator/clock`.
///
/// Fields are applied in the order they are declared: `now_ms`, `speed`, `frozen`,
/// then `advance_ms`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ClockChange {
    /// Set the virtual time to this Unix millisecond value.
    #[serde(default)]
    pub now_ms: Option<i64>,
    /// Set the speed factor (must be finite and positive).
    #[serde(default)]
    pub speed: Option<f64>,
    /// Freeze (`true`) or resume (`false`) the clock.
    #[serde(default)]
    pub frozen: Option<bool>,
    /// Move the clock forward by this many virtual milliseconds.
    #[serde(default)]
    pub advance_ms: Option<u64>,
}

#[derive(Debug)]
struct Anchor {
    real: Instant,
    virtual_ms: f64,
    speed: f64,
    frozen: bool,
}

/// A clock whose time is `anchor + real elapsed × speed`, re-anchored on every change.
#[derive(Debug)]
pub(crate) struct VirtualClock {
    anchor: Mutex<Anchor>,
}

/// The real wall clock in Unix milliseconds; the default start of the virtual clock.
pub(crate) fn wall_clock_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

impl VirtualClock {
    /// A clock starting at `start_ms` (Unix ms) and running at `speed`.
    pub(crate) fn new(start_ms: i64, speed: f64) -> Self {
        Self {
            anchor: Mutex::new(Anchor {
                real: Instant::now(),
                virtual_ms: start_ms as f64,
                speed: sanitize_speed(speed),
                frozen: false,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Anchor> {
        self.anchor
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn current(anchor: &Anchor) -> f64 {
        if anchor.frozen {
            anchor.virtual_ms
        } else {
            anchor.virtual_ms + anchor.real.elapsed().as_secs_f64() * 1000.0 * anchor.speed
        }
    }

    fn rebase(anchor: &mut Anchor) {
        anchor.virtual_ms = Self::current(anchor);
        anchor.real = Instant::now();
    }

    /// Virtual time now, in Unix milliseconds.
    pub(crate) fn now_ms(&self) -> i64 {
        Self::current(&self.lock()).floor() as i64
    }

    /// The clock's state.
    pub(crate) fn status(&self) -> ClockStatus {
        let anchor = self.lock();
        ClockStatus {
            now_ms: Self::current(&anchor).floor() as i64,
            speed: anchor.speed,
            frozen: anchor.frozen,
        }
    }

    /// Applies a change (see [`ClockChange`] for the order).
    pub(crate) fn apply(&self, change: &ClockChange) -> ClockStatus {
        {
            let mut anchor = self.lock();
            Self::rebase(&mut anchor);
            if let Some(now) = change.now_ms {
                anchor.virtual_ms = now as f64;
            }
            if let Some(speed) = change.speed {
                anchor.speed = sanitize_speed(speed);
            }
            if let Some(frozen) = change.frozen {
                anchor.frozen = frozen;
            }
            if let Some(advance) = change.advance_ms {
                anchor.virtual_ms += advance as f64;
            }
        }
        self.status()
    }

    /// How long, in real time, until the virtual clock reaches `target_ms`; `None` while
    /// frozen (only an explicit change can move it then).
    pub(crate) fn real_delay_until(&self, target_ms: i64) -> Option<Duration> {
        let anchor = self.lock();
        if anchor.frozen {
            return None;
        }
        let remaining = target_ms as f64 - Self::current(&anchor);
        if remaining <= 0.0 {
            return Some(Duration::ZERO);
        }
        let real_ms = remaining / anchor.speed;
        Some(Duration::from_secs_f64(
            (real_ms / 1000.0).min(86_400.0 * 365.0),
        ))
    }
}

/// Speeds must be finite and positive; anything else falls back to real time.
fn sanitize_speed(speed: f64) -> f64 {
    if speed.is_finite() && speed > 0.0 {
        speed
    } else {
        1.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frozen_clock_moves_only_when_told() {
        let clock = VirtualClock::new(1_000, 1.0);
        clock.apply(&ClockChange {
            frozen: Some(true),
            now_ms: Some(5_000),
            ..ClockChange::default()
        });
        assert_eq!(clock.now_ms(), 5_000);
        assert_eq!(clock.real_delay_until(6_000), None);
        let status = clock.apply(&ClockChange {
            advance_ms: Some(250),
            ..ClockChange::default()
        });
        assert_eq!(status.now_ms, 5_250);
        assert!(status.frozen);
    }

    #[test]
    fn speed_scales_real_delays() {
        let clock = VirtualClock::new(0, 1.0);
        clock.apply(&ClockChange {
            frozen: Some(true),
            speed: Some(100.0),
            ..ClockChange::default()
        });
        clock.apply(&ClockChange {
            frozen: Some(false),
            ..ClockChange::default()
        });
        let delay = clock
            .real_delay_until(clock.now_ms() + 10_000)
            .unwrap_or_default();
        assert!(
            delay <= Duration::from_millis(100),
            "10 s virtual at 100x is at most 100 ms real, got {delay:?}"
        );
        assert_eq!(clock.status().speed, 100.0);
    }

    #[test]
    fn invalid_speed_falls_back_to_real_time() {
        let clock = VirtualClock::new(0, f64::NAN);
        assert_eq!(clock.status().speed, 1.0);
        clock.apply(&ClockChange {
            speed: Some(-3.0),
            ..ClockChange::default()
        });
        assert_eq!(clock.status().speed, 1.0);
    }
}

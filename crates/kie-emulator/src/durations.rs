//! Generation times drawn per task from a distribution.
//!
//! Fixed [`Phases`](crate::Phases) give every task of a model the same length, which
//! hides what a client's waiting strategy costs when jobs vary, as live video jobs do
//! (from one minute to several). A [`Durations`] draws each new task's total time from
//! creation to its terminal state, once, when the task is created, from the emulator's
//! seeded `durations` stream; the task keeps its phases' proportions scaled to that
//! total. The draw is stored on the task, so its visible state stays a function of the
//! virtual clock alone, and the same seed and requests draw the same times.

use std::{fmt, str::FromStr, time::Duration};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The standard normal distribution's 95th percentile: a log-normal's p95 is its median
/// times `exp(sigma * Z95)`.
const Z95: f64 = 1.644_853_626_951_472_2;

/// What [`Durations`]'s command-line form looks like, for error messages.
const SYNTAX: &str = "expected uniform:MIN-MAX or log-normal:median=T,p95=T,min=T,max=T, \
                      each time a whole number of ms, s or m (1500ms, 90s, 5m)";

/// A distribution each new task's total time (creation to terminal state) is drawn from,
/// on the time-based timeline.
///
/// Built with [`Durations::uniform`] or [`Durations::log_normal`], parsed from the
/// command-line form (`uniform:60s-300s`,
/// `log-normal:median=120s,p95=300s,min=30s,max=600s`; [`FromStr`] and [`Display`]
/// convert both ways), or read from JSON as the control plane takes it:
/// `{"kind": "uniform", "min_ms": 60000, "max_ms": 300000}`,
/// `{"kind": "log_normal", "median_ms": 120000, "p95_ms": 300000, "min_ms": 30000,
/// "max_ms": 600000}`. Every way in checks the values, so a distribution that exists can
/// always be drawn from.
///
/// [`Display`]: fmt::Display
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Durations(Shape);

/// The distributions, in their JSON form (unchecked until [`Durations::checked`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
enum Shape {
    Uniform {
        min_ms: u64,
        max_ms: u64,
    },
    LogNormal {
        median_ms: u64,
        p95_ms: u64,
        min_ms: u64,
        max_ms: u64,
    },
}

/// Why a [`Durations`] could not be built or parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DurationsError(String);

impl fmt::Display for DurationsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DurationsError {}

impl Durations {
    /// Every millisecond from `min` to `max` (both included) equally likely.
    ///
    /// # Errors
    ///
    /// When `min` is above `max`.
    pub fn uniform(min: Duration, max: Duration) -> Result<Self, DurationsError> {
        Self::checked(Shape::Uniform {
            min_ms: millis(min),
            max_ms: millis(max),
        })
    }

    /// Log-normal with this median and 95th percentile, each draw clamped to `min..=max`:
    /// most tasks near the median and a long tail of slow ones, the shape queueing
    /// services' latencies take.
    ///
    /// # Errors
    ///
    /// When the median is zero, `p95` is below the median, or `min` is above `max`.
    pub fn log_normal(
        median: Duration,
        p95: Duration,
        min: Duration,
        max: Duration,
    ) -> Result<Self, DurationsError> {
        Self::checked(Shape::LogNormal {
            median_ms: millis(median),
            p95_ms: millis(p95),
            min_ms: millis(min),
            max_ms: millis(max),
        })
    }

    /// The one place values are checked, whichever way they came in.
    fn checked(shape: Shape) -> Result<Self, DurationsError> {
        let (Shape::Uniform { min_ms, max_ms } | Shape::LogNormal { min_ms, max_ms, .. }) = shape;
        if min_ms > max_ms {
            return Err(DurationsError(format!(
                "the lower bound {} is above the upper bound {}",
                Ms(min_ms),
                Ms(max_ms)
            )));
        }
        if let Shape::LogNormal {
            median_ms, p95_ms, ..
        } = shape
        {
            if median_ms == 0 {
                return Err(DurationsError(
                    "a log-normal's median must be above 0".to_owned(),
                ));
            }
            if p95_ms < median_ms {
                return Err(DurationsError(format!(
                    "the p95 {} is below the median {}",
                    Ms(p95_ms),
                    Ms(median_ms)
                )));
            }
        }
        Ok(Self(shape))
    }

    /// Draws a total time in ms: a uniform takes one number from `rng`, a log-normal two.
    pub(crate) fn draw(self, rng: &mut fastrand::Rng) -> u64 {
        match self.0 {
            Shape::Uniform { min_ms, max_ms } => rng.u64(min_ms..=max_ms),
            Shape::LogNormal {
                median_ms,
                p95_ms,
                min_ms,
                max_ms,
            } => {
                let sigma = (p95_ms as f64 / median_ms as f64).ln() / Z95;
                let drawn = median_ms as f64 * (sigma * standard_normal(rng)).exp();
                // `as` saturates: a draw beyond u64 lands on the upper bound.
                (drawn.round() as u64).clamp(min_ms, max_ms)
            }
        }
    }
}

/// One draw of the standard normal distribution (Box-Muller); `1 - f64()` keeps the
/// logarithm's argument in `(0, 1]`.
fn standard_normal(rng: &mut fastrand::Rng) -> f64 {
    let radius = (-2.0 * (1.0 - rng.f64()).ln()).sqrt();
    radius * (std::f64::consts::TAU * rng.f64()).cos()
}

/// A duration in whole milliseconds (saturating: no distribution needs 584 million years).
fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// A time in ms written in the largest unit that keeps it whole, as [`parse_time`] reads it.
struct Ms(u64);

impl fmt::Display for Ms {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            ms if ms != 0 && ms % 60_000 == 0 => write!(f, "{}m", ms / 60_000),
            ms if ms % 1_000 == 0 => write!(f, "{}s", ms / 1_000),
            ms => write!(f, "{ms}ms"),
        }
    }
}

/// `1500ms`, `90s` or `5m` in ms: a whole number and a unit, which is required so that
/// `60` is never read as the wrong one.
fn parse_time(text: &str) -> Option<u64> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit())?;
    let (number, unit) = text.split_at(split);
    let unit_ms = match unit {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        _ => return None,
    };
    number.parse::<u64>().ok()?.checked_mul(unit_ms)
}

impl FromStr for Durations {
    type Err = DurationsError;

    /// Reads `uniform:MIN-MAX` or `log-normal:median=T,p95=T,min=T,max=T` (the keys in
    /// any order), each time a whole number of `ms`, `s` or `m`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let unreadable = || DurationsError(format!("{text:?} is not a distribution: {SYNTAX}"));
        let (kind, args) = text.trim().split_once(':').ok_or_else(unreadable)?;
        match kind {
            "uniform" => {
                let (min, max) = args.split_once('-').ok_or_else(unreadable)?;
                Self::checked(Shape::Uniform {
                    min_ms: parse_time(min).ok_or_else(unreadable)?,
                    max_ms: parse_time(max).ok_or_else(unreadable)?,
                })
            }
            "log-normal" => {
                const KEYS: [&str; 4] = ["median", "p95", "min", "max"];
                let mut values = [None; KEYS.len()];
                for pair in args.split(',') {
                    let (key, value) = pair.split_once('=').ok_or_else(unreadable)?;
                    let slot = KEYS
                        .iter()
                        .position(|k| *k == key.trim())
                        .ok_or_else(unreadable)?;
                    let ms = parse_time(value).ok_or_else(unreadable)?;
                    if values[slot].replace(ms).is_some() {
                        return Err(unreadable());
                    }
                }
                let [Some(median_ms), Some(p95_ms), Some(min_ms), Some(max_ms)] = values else {
                    return Err(unreadable());
                };
                Self::checked(Shape::LogNormal {
                    median_ms,
                    p95_ms,
                    min_ms,
                    max_ms,
                })
            }
            _ => Err(unreadable()),
        }
    }
}

impl fmt::Display for Durations {
    /// The command-line form, which [`FromStr`] reads back.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Shape::Uniform { min_ms, max_ms } => write!(f, "uniform:{}-{}", Ms(min_ms), Ms(max_ms)),
            Shape::LogNormal {
                median_ms,
                p95_ms,
                min_ms,
                max_ms,
            } => write!(
                f,
                "log-normal:median={},p95={},min={},max={}",
                Ms(median_ms),
                Ms(p95_ms),
                Ms(min_ms),
                Ms(max_ms)
            ),
        }
    }
}

impl Serialize for Durations {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Durations {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Self::checked(Shape::deserialize(deserializer)?).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    /// `n` draws from a fresh stream seeded with `seed`, sorted.
    fn sorted_draws(durations: Durations, seed: u64, n: usize) -> Vec<u64> {
        let mut rng = fastrand::Rng::with_seed(seed);
        let mut draws: Vec<u64> = (0..n).map(|_| durations.draw(&mut rng)).collect();
        draws.sort_unstable();
        draws
    }

    /// The `q` quantile of sorted draws.
    fn quantile(sorted: &[u64], q: f64) -> f64 {
        sorted[((sorted.len() - 1) as f64 * q).round() as usize] as f64
    }

    #[test]
    fn the_same_seed_draws_the_same_times() {
        let durations =
            Durations::log_normal(secs(120), secs(300), secs(30), secs(600)).expect("valid");
        let draw = |seed| {
            let mut rng = fastrand::Rng::with_seed(seed);
            (0..20)
                .map(|_| durations.draw(&mut rng))
                .collect::<Vec<_>>()
        };
        assert_eq!(draw(7), draw(7));
        assert_ne!(draw(7), draw(8));
    }

    #[test]
    fn uniform_draws_stay_in_bounds_and_spread_evenly() {
        let durations = Durations::uniform(secs(60), secs(300)).expect("valid");
        let draws = sorted_draws(durations, 1, 2_000);
        assert!(draws.iter().all(|ms| (60_000..=300_000).contains(ms)));
        for q in [0.1, 0.25, 0.5, 0.75, 0.9] {
            let expected = 60_000.0 + q * 240_000.0;
            let got = quantile(&draws, q);
            assert!(
                (got - expected).abs() < 0.03 * 240_000.0,
                "q{q}: {got} ms, expected about {expected} ms"
            );
        }
    }

    #[test]
    fn log_normal_draws_have_the_asked_median_and_p95() {
        let durations =
            Durations::log_normal(secs(120), secs(300), secs(1), secs(3_600)).expect("valid");
        let draws = sorted_draws(durations, 2, 2_000);
        let median = quantile(&draws, 0.5);
        let p95 = quantile(&draws, 0.95);
        assert!(
            (median / 120_000.0 - 1.0).abs() < 0.05,
            "median {median} ms"
        );
        assert!((p95 / 300_000.0 - 1.0).abs() < 0.10, "p95 {p95} ms");
        // The long right tail: the mean lies above the median.
        let mean = draws.iter().sum::<u64>() as f64 / draws.len() as f64;
        assert!(mean > median, "mean {mean} ms, median {median} ms");
    }

    #[test]
    fn log_normal_draws_are_clamped_to_the_bounds() {
        let durations =
            Durations::log_normal(secs(120), secs(300), secs(90), secs(200)).expect("valid");
        let draws = sorted_draws(durations, 3, 2_000);
        assert!(draws.iter().all(|ms| (90_000..=200_000).contains(ms)));
        assert_eq!(draws.first(), Some(&90_000), "the lower bound is reached");
        assert_eq!(draws.last(), Some(&200_000), "the upper bound is reached");
    }

    #[test]
    fn a_p95_equal_to_the_median_draws_the_median() {
        let durations =
            Durations::log_normal(secs(100), secs(100), secs(0), secs(1_000)).expect("valid");
        assert!(
            sorted_draws(durations, 4, 50)
                .iter()
                .all(|ms| *ms == 100_000)
        );
    }

    #[test]
    fn impossible_distributions_are_refused() {
        assert!(Durations::uniform(secs(2), secs(1)).is_err());
        assert!(Durations::uniform(secs(1), secs(1)).is_ok());
        assert!(Durations::log_normal(secs(0), secs(1), secs(0), secs(1)).is_err());
        let below = Durations::log_normal(secs(10), secs(5), secs(0), secs(60));
        assert_eq!(
            below.map_err(|e| e.to_string()),
            Err("the p95 5s is below the median 10s".to_owned())
        );
        assert!(Durations::log_normal(secs(10), secs(20), secs(60), secs(0)).is_err());
    }

    #[test]
    fn the_command_line_form_parses_and_prints_back() {
        let uniform: Durations = "uniform:60s-5m".parse().expect("parses");
        assert_eq!(
            uniform,
            Durations::uniform(secs(60), secs(300)).expect("valid")
        );
        assert_eq!(uniform.to_string(), "uniform:1m-5m");
        let log_normal: Durations = "log-normal:p95=300s, median=2m,max=600000ms,min=1500ms"
            .parse()
            .expect("parses");
        assert_eq!(
            log_normal,
            Durations::log_normal(
                secs(120),
                secs(300),
                Duration::from_millis(1_500),
                secs(600)
            )
            .expect("valid")
        );
        assert_eq!(
            log_normal.to_string(),
            "log-normal:median=2m,p95=5m,min=1500ms,max=10m"
        );
        for durations in [uniform, log_normal] {
            assert_eq!(durations.to_string().parse(), Ok(durations));
        }
    }

    #[test]
    fn unreadable_command_line_forms_are_refused() {
        for text in [
            "",
            "uniform",
            "uniform:60-300",
            "uniform:60s",
            "uniform:1h-2h",
            "uniform:-1s-2s",
            "uniform:300s-60s",
            "gamma:60s-300s",
            "log-normal:median=2m,p95=5m,min=30s",
            "log-normal:median=2m,median=2m,p95=5m,min=30s,max=10m",
            "log-normal:median=2m,p95=5m,min=30s,max=10m,mode=1m",
            "log-normal:median=0s,p95=5m,min=30s,max=10m",
        ] {
            assert!(text.parse::<Durations>().is_err(), "{text:?} was accepted");
        }
    }

    #[test]
    fn the_json_form_is_tagged_by_kind_and_checked() {
        let uniform = Durations::uniform(secs(60), secs(300)).expect("valid");
        let value = json!({"kind": "uniform", "min_ms": 60_000, "max_ms": 300_000});
        assert_eq!(serde_json::to_value(uniform).ok(), Some(value.clone()));
        assert_eq!(
            serde_json::from_value::<Durations>(value).ok(),
            Some(uniform)
        );
        let log_normal = json!({
            "kind": "log_normal", "median_ms": 120_000, "p95_ms": 300_000,
            "min_ms": 30_000, "max_ms": 600_000,
        });
        assert_eq!(
            serde_json::from_value::<Durations>(log_normal).ok(),
            Durations::log_normal(secs(120), secs(300), secs(30), secs(600)).ok()
        );
        for refused in [
            json!({"kind": "uniform", "min_ms": 2, "max_ms": 1}),
            json!({"kind": "uniform", "min_ms": 1, "max_ms": 2, "mode_ms": 1}),
            json!({"kind": "log_normal", "median_ms": 10, "p95_ms": 5, "min_ms": 0, "max_ms": 60}),
            json!({"kind": "gamma"}),
        ] {
            assert!(
                serde_json::from_value::<Durations>(refused.clone()).is_err(),
                "{refused} was accepted"
            );
        }
    }
}

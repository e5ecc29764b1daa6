//! Medians and spreads: a benchmark on a shared machine reports the middle of many
//! samples and how far they scatter, never one lucky run.

/// The quartiles and extremes of a sample.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spread {
    pub min: f64,
    pub p25: f64,
    pub median: f64,
    pub p75: f64,
    pub max: f64,
}

impl Spread {
    /// The spread of `samples` (linear interpolation between ranks); `None` when empty.
    pub fn of(samples: &[f64]) -> Option<Self> {
        let sorted = sorted(samples);
        let at = |q: f64| at(&sorted, q);
        (!sorted.is_empty()).then(|| Self {
            min: sorted[0],
            p25: at(0.25),
            median: at(0.5),
            p75: at(0.75),
            max: sorted[sorted.len() - 1],
        })
    }

    /// "median (p25–p75, min–max)" with `decimals` digits.
    pub fn describe(&self, decimals: usize) -> String {
        format!(
            "{:.d$} (p25–p75 {:.d$}–{:.d$}, min–max {:.d$}–{:.d$})",
            self.median,
            self.p25,
            self.p75,
            self.min,
            self.max,
            d = decimals
        )
    }
}

/// The `q` quantile of `samples` (linear interpolation between ranks); 0 when empty.
pub fn quantile(samples: &[f64], q: f64) -> f64 {
    let sorted = sorted(samples);
    if sorted.is_empty() {
        0.0
    } else {
        at(&sorted, q)
    }
}

fn sorted(samples: &[f64]) -> Vec<f64> {
    let mut sorted: Vec<f64> = samples.iter().copied().filter(|x| !x.is_nan()).collect();
    sorted.sort_by(f64::total_cmp);
    sorted
}

/// The `q` quantile of non-empty sorted samples.
fn at(sorted: &[f64], q: f64) -> f64 {
    let rank = q.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let (low, high) = (rank.floor() as usize, rank.ceil() as usize);
    sorted[low] + (sorted[high] - sorted[low]) * (rank - low as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quartiles_interpolate_between_ranks() {
        let s = Spread::of(&[4.0, 1.0, 3.0, 2.0, 5.0]).unwrap();
        assert_eq!(
            (s.min, s.p25, s.median, s.p75, s.max),
            (1.0, 2.0, 3.0, 4.0, 5.0)
        );
        let s = Spread::of(&[1.0, 2.0]).unwrap();
        assert_eq!(s.median, 1.5);
        assert_eq!(Spread::of(&[7.0]).unwrap().p75, 7.0);
        assert!(Spread::of(&[]).is_none());
        assert_eq!(s.describe(1), "1.5 (p25–p75 1.2–1.8, min–max 1.0–2.0)");
    }
}

//! Seeded random streams: ids, fault draws, callback fault draws and task durations.
//!
//! toxiproxy parses a `-seed` flag and then ignores it; this module exists so that ours
//! is real. Each concern draws from its own stream derived from the one seed, so adding
//! a fault rule does not shift the task ids of a test, and the same seed with the same
//! requests always yields the same ids and the same fault decisions.

/// The independent random streams of one emulator, all derived from one seed.
#[derive(Debug, Clone)]
pub(crate) struct Streams {
    /// Task ids, result file names, upload names, download tokens.
    pub ids: fastrand::Rng,
    /// Probability draws of API fault rules.
    pub faults: fastrand::Rng,
    /// Probability draws of callback fault rules.
    pub callbacks: fastrand::Rng,
    /// Total times of tasks whose model draws them (see [`Durations`](crate::Durations)).
    pub durations: fastrand::Rng,
}

impl Streams {
    /// Streams for `seed`; the constants only decorrelate the streams.
    pub(crate) fn new(seed: u64) -> Self {
        Self {
            ids: fastrand::Rng::with_seed(seed ^ 0x6b69_652d_6964_7321),
            faults: fastrand::Rng::with_seed(seed ^ 0x6661_756c_7473_2121),
            callbacks: fastrand::Rng::with_seed(seed ^ 0x6361_6c6c_6261_636b),
            durations: fastrand::Rng::with_seed(seed ^ 0x6475_7261_7469_6f6e),
        }
    }
}

/// A 32-character lowercase hex id, the shape of live kie.ai task ids.
pub(crate) fn hex32(rng: &mut fastrand::Rng) -> String {
    format!("{:016x}{:016x}", rng.u64(..), rng.u64(..))
}

/// A short alphanumeric token, the shape of the suffix of live result file names.
pub(crate) fn token(rng: &mut fastrand::Rng, len: usize) -> String {
    (0..len).map(|_| rng.alphanumeric()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_ids_different_seed_different_ids() {
        let mut a = Streams::new(7);
        let mut b = Streams::new(7);
        let mut c = Streams::new(8);
        let first = hex32(&mut a.ids);
        assert_eq!(first, hex32(&mut b.ids));
        assert_ne!(first, hex32(&mut c.ids));
        assert_eq!(first.len(), 32);
        assert!(first.chars().all(|ch| ch.is_ascii_hexdigit()));
    }

    #[test]
    fn streams_are_independent() {
        let mut a = Streams::new(7);
        let mut b = Streams::new(7);
        let _ = a.faults.f64();
        let _ = a.durations.u64(..);
        assert_eq!(hex32(&mut a.ids), hex32(&mut b.ids));
    }
}

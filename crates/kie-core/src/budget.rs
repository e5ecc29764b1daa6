//! Keeping an account's calls within kie.ai's rate limits, wherever they come from, so
//! that a burst of work is queued here rather than refused there.
//!
//! kie.ai allows an account 20 createTask calls per 10 s and a key 10 recordInfo calls
//! per second, and answers 429 beyond that, without queueing. A thousand submits at
//! once would otherwise spend their retries on 429s and fail; paced, they are sent as
//! fast as the limit allows and all succeed.
//!
//! Two parts, split where a deployment differs:
//!
//! - a [`Budget`] is the window of places every caller on the account draws from: a
//!   [`LocalBudget`] in this process (the default), or a `RedisBudget` (feature
//!   `redis-budget`) shared by every process on every machine;
//! - the client's gates (crate-private) queue this process's calls and hand the
//!   budget's places out fairly: creates in the order they were submitted, polls by
//!   urgency (a task near its expected completion before one that just started) and
//!   then by age, so no wait starves.

mod gate;
mod local;
#[cfg(feature = "redis-budget")]
mod redis;

use std::fmt;
use std::time::Duration;

pub(crate) use gate::{Admission, Gates, OnQueued};
pub use local::LocalBudget;
#[cfg(feature = "redis-budget")]
pub use redis::{RedisBudget, RedisBudgetBuilder};

/// Which of kie.ai's limits a call counts against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Limit {
    /// createTask: 20 per 10 s per account.
    CreateTask,
    /// recordInfo: 10 per second per key.
    RecordInfo,
}

impl Limit {
    /// A short name, for keys and logs (`create_task`, `record_info`).
    pub fn as_str(self) -> &'static str {
        match self {
            Limit::CreateTask => "create_task",
            Limit::RecordInfo => "record_info",
        }
    }
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// At most `max` calls in any window of `per`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    max: u32,
    per: Duration,
}

impl Rate {
    /// kie.ai's createTask limit, 20 per 10 s per account, counted over 10.25 s: the
    /// margin covers the granularity of kie.ai's counter.
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

    /// This rate cut to `share` of its calls, rounded down but at least one per window:
    /// what one of several instances may use on its own. (So shares below `1 / max`
    /// still get one call: eleven instances at 1/11 of 10 calls make 11.)
    pub fn share(&self, share: f64) -> Rate {
        let max = (f64::from(self.max) * share.clamp(0.0, 1.0)).floor() as u32;
        Rate::per(max, self.per)
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} per {:?}", self.max, self.per)
    }
}

/// A place a [`Budget`] gave out, named so that it can be given back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PlaceId(u64);

impl PlaceId {
    /// A place named by a number the budget chose.
    pub fn new(id: u64) -> Self {
        Self(id)
    }

    /// The number.
    pub fn get(self) -> u64 {
        self.0
    }
}

/// Why a [`Budget`] has no place now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Busy {
    /// A place frees within this long (the oldest answered call leaves its window).
    For(Duration),
    /// Every place is held by a call still in flight in this process: one frees a
    /// window after an answer comes.
    UntilAnEnd,
}

/// The window of places every call on an account draws from.
///
/// A call holds its place from the moment it is let through until one window after its
/// answer came: kie.ai counts a call when it arrives, which is somewhere between those
/// two moments, so however long the call takes (a queue for a connection, latency, a
/// slow answer) no window of kie.ai's ever holds more than the rate's `max`. This holds
/// on any clock, with no margin for latency.
///
/// Implementations decide where the window lives and which clock it reads; queueing,
/// fairness and retries are the client's. A budget is shared by handing the same
/// `Arc` to several clients ([`crate::ClientBuilder::budget`]), or, for a budget kept
/// outside the process, by pointing every instance at the same store.
#[async_trait::async_trait]
pub trait Budget: Send + Sync + fmt::Debug {
    /// Takes a place for one call under `rate`, if the window has one now.
    async fn try_take(&self, limit: Limit, rate: Rate) -> Result<PlaceId, Busy>;

    /// The call holding `place` has its answer (or was abandoned) now: the place stays
    /// taken for one `rate` window from now, then frees. Must not block: a budget that
    /// needs I/O for it sends it in the background.
    fn release(&self, limit: Limit, rate: Rate, place: PlaceId);
}

/// Where a submit stands in the client's queue for createTask, reported while it waits
/// ([`crate::Submit::on_queued`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct QueuePosition {
    /// Submits of this process ahead of this one (at most: one abandoned meanwhile still
    /// counts until the next report).
    pub ahead: usize,
    /// When it is expected to be sent at the latest, from now, if the limit's whole
    /// rate goes to this queue.
    pub expected_start: Duration,
}

//! How long each model's tasks take, learnt from the tasks a client saw finish: the
//! online estimate the adaptive poll schedule reads.
//!
//! Every successful record the client fetches (a wait's poll, a callback's
//! confirmation, a plain `record` call) adds its task's time from creation to
//! completion to its model's recent times, once per task.
//!
//! Those times are on the server's clock, and a schedule runs on the client's. They
//! agree against kie.ai; against an emulator whose clock runs fast they do not, so a
//! wait on a task this client created also reports how long it waited in the client's
//! time (the client remembers when it created its recent tasks, so a task rebuilt from
//! its id, as a service that keeps ids or `kie batch` does, counts too), and times are
//! read back divided by how much faster the server's clock has been seen to run: the
//! median of the recent ratios, and only from 2 (a create's latency makes a short task
//! look up to a few tenths faster on kie.ai's clock). Until one such wait has ended, the
//! ratio is unknown and the times are not read at all: times learnt from tasks of other
//! processes could be an emulator's minutes standing for seconds, and a wait that read
//! them as the client's would sit on a finished task for minutes. Times kept from an
//! earlier run ([`crate::ClientBuilder::generation_times`]) carry the ratio they were
//! learnt at. Nothing is persisted unless the caller asks: [`crate::Client::generation_times`]
//! takes a snapshot.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::record::{TaskRecord, TaskState};

/// How many recent times are kept per model: enough for stable quantiles, few enough
/// that a model whose times drift is followed within a few dozen tasks.
pub const RECENT_TIMES: usize = 64;

/// How many task ids are remembered: finished ones, so that a task polled twice after
/// it finished counts once, and created ones, with when they were created.
const REMEMBERED_TASKS: usize = 1024;

/// How many recent ratios of server time to client time are kept.
const SPEED_SAMPLES: usize = 16;

/// Below this, a ratio of server time to client time is latency, not speed.
const MIN_SPEED: f64 = 2.0;

/// The recent times from creation to success of each model's tasks, newest last, on
/// the server's clock, with how fast that clock ran against the client's.
///
/// Serializable, so that a service can keep what it learnt across restarts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GenerationTimes {
    /// Per model id, seconds, newest last, at most [`RECENT_TIMES`].
    models: BTreeMap<String, VecDeque<f64>>,
    /// Seconds of the server's clock per second of the client's: 1 against kie.ai (and
    /// in a snapshot taken before the client measured it), an emulator's speed against
    /// one that runs fast.
    #[serde(default = "real_time")]
    server_speed: f64,
}

fn real_time() -> f64 {
    1.0
}

impl Default for GenerationTimes {
    fn default() -> Self {
        Self {
            models: BTreeMap::new(),
            server_speed: real_time(),
        }
    }
}

impl GenerationTimes {
    /// No times known; those recorded are in real seconds, as kie.ai's are.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a task of `model` that took `took` from creation to success (the oldest
    /// time of the model is forgotten past [`RECENT_TIMES`]).
    pub fn record(&mut self, model: &str, took: Duration) {
        let times = self.models.entry(model.to_owned()).or_default();
        if times.len() == RECENT_TIMES {
            times.pop_front();
        }
        times.push_back(took.as_secs_f64());
    }

    /// The recent times of `model`, oldest first.
    pub fn times(&self, model: &str) -> impl ExactSizeIterator<Item = Duration> + '_ {
        self.models
            .get(model)
            .map(|t| t.iter())
            .unwrap_or_default()
            .map(|s| Duration::from_secs_f64(*s))
    }

    /// The models with times.
    pub fn models(&self) -> impl Iterator<Item = &str> {
        self.models.keys().map(String::as_str)
    }

    /// The recent times of `model` in seconds, sorted.
    pub(crate) fn sorted_secs(&self, model: &str) -> Vec<f64> {
        let mut times: Vec<f64> = self
            .models
            .get(model)
            .map(|t| {
                t.iter()
                    .copied()
                    .filter(|s| s.is_finite() && *s > 0.0)
                    .collect()
            })
            .unwrap_or_default();
        times.sort_by(f64::total_cmp);
        times
    }
}

/// A client's estimates: the times, and which tasks they came from.
#[derive(Debug, Default)]
pub(crate) struct Estimates {
    inner: Mutex<Learnt>,
}

#[derive(Debug, Default)]
struct Learnt {
    times: GenerationTimes,
    /// The tasks whose time is counted.
    seen: Recent<()>,
    /// When this client created its recent tasks, on its clock.
    created: Recent<Duration>,
    /// Server time over client time, for tasks this client created and saw succeed
    /// (or the one its times were kept at); none until then.
    speeds: VecDeque<f64>,
}

impl Learnt {
    /// How fast the server's clock runs against the client's: the median of the recent
    /// ratios, 1 below [`MIN_SPEED`]; `None` before any.
    fn speed(&self) -> Option<f64> {
        let mut speeds: Vec<f64> = self.speeds.iter().copied().collect();
        speeds.sort_by(f64::total_cmp);
        let speed = *speeds.get(speeds.len() / 2)?;
        Some(if speed < MIN_SPEED { 1.0 } else { speed })
    }
}

/// The last [`REMEMBERED_TASKS`] task ids put in, each with a value; the oldest is
/// forgotten first.
#[derive(Debug)]
struct Recent<V> {
    values: HashMap<String, V>,
    order: VecDeque<String>,
}

impl<V> Default for Recent<V> {
    fn default() -> Self {
        Self {
            values: HashMap::new(),
            order: VecDeque::new(),
        }
    }
}

impl<V> Recent<V> {
    /// Puts `id` in with `value`; `false`, changing nothing, if it is in already.
    fn insert(&mut self, id: &str, value: V) -> bool {
        if self.values.contains_key(id) {
            return false;
        }
        self.values.insert(id.to_owned(), value);
        self.order.push_back(id.to_owned());
        if self.order.len() > REMEMBERED_TASKS
            && let Some(old) = self.order.pop_front()
        {
            self.values.remove(&old);
        }
        true
    }

    fn get(&self, id: &str) -> Option<&V> {
        self.values.get(id)
    }
}

impl Estimates {
    /// A client's estimates: from nothing, or from times kept from an earlier run.
    pub(crate) fn new(kept: Option<GenerationTimes>) -> Self {
        let learnt = match kept {
            Some(times) => Learnt {
                // A speed edited by hand to nonsense reads the times as real seconds.
                speeds: VecDeque::from([Some(times.server_speed)
                    .filter(|speed| speed.is_finite() && *speed > 0.0)
                    .unwrap_or_else(real_time)]),
                times,
                ..Learnt::default()
            },
            None => Learnt::default(),
        };
        Self {
            inner: Mutex::new(learnt),
        }
    }

    /// Learns from a record: a success with a model and its times, once per task.
    pub(crate) fn observe(&self, record: &TaskRecord) {
        let Some(took) = took(record) else { return };
        let Some(model) = record.model.as_deref() else {
            return;
        };
        let mut learnt = self.lock();
        if learnt.seen.insert(&record.task_id, ()) {
            learnt.times.record(model, took);
        }
    }

    /// This client created `task_id` at `at` on its clock.
    pub(crate) fn created(&self, task_id: &str, at: Duration) {
        self.lock().created.insert(task_id, at);
    }

    /// When this client created `task_id` on its clock, if it did (recently).
    pub(crate) fn created_at(&self, task_id: &str) -> Option<Duration> {
        self.lock().created.get(task_id).copied()
    }

    /// A task this client created succeeded `waited` after its creation, on the
    /// client's clock: how fast the server's clock runs.
    pub(crate) fn observe_wait(&self, record: &TaskRecord, waited: Duration) {
        let Some(took) = took(record) else { return };
        if waited.is_zero() {
            return;
        }
        let mut learnt = self.lock();
        if learnt.speeds.len() == SPEED_SAMPLES {
            learnt.speeds.pop_front();
        }
        learnt
            .speeds
            .push_back(took.as_secs_f64() / waited.as_secs_f64());
    }

    /// The recent times of `model` in seconds on the client's clock, sorted; none while
    /// the server's speed is unknown.
    pub(crate) fn sorted_secs(&self, model: &str) -> Vec<f64> {
        let learnt = self.lock();
        let Some(speed) = learnt.speed() else {
            return Vec::new();
        };
        let mut times = learnt.times.sorted_secs(model);
        times.iter_mut().for_each(|t| *t /= speed);
        times
    }

    pub(crate) fn snapshot(&self) -> GenerationTimes {
        let learnt = self.lock();
        GenerationTimes {
            server_speed: learnt.speed().unwrap_or_else(real_time),
            ..learnt.times.clone()
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Learnt> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A success's time from creation to completion: from its timestamps (to the
/// millisecond), else `costTime` (seconds).
fn took(record: &TaskRecord) -> Option<Duration> {
    if record.state != TaskState::Success {
        return None;
    }
    let ms = match (record.create_time, record.complete_time) {
        (Some(created), Some(completed)) if completed > created => completed - created,
        _ => record.cost_time.filter(|s| *s > 0)?.checked_mul(1000)?,
    };
    Some(Duration::from_millis(u64::try_from(ms).ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(
        id: &str,
        state: &str,
        create: i64,
        complete: Option<i64>,
        cost: Option<i64>,
    ) -> TaskRecord {
        let json = serde_json::json!({
            "taskId": id, "model": "m", "state": state, "createTime": create,
            "completeTime": complete, "costTime": cost,
            "resultJson": if state == "success" { r#"{"resultUrls":["https://x/y.mp4"]}"# } else { "" },
        });
        let raw = serde_json::value::to_raw_value(&json).unwrap();
        TaskRecord::from_raw(raw).unwrap()
    }

    #[test]
    fn a_success_counts_once_by_its_timestamps_else_its_cost_time() {
        let estimates = Estimates::new(Some(GenerationTimes::new()));
        estimates.observe(&record("a", "generating", 0, None, None));
        estimates.observe(&record("a", "success", 1_000, Some(91_500), Some(90)));
        estimates.observe(&record("a", "success", 1_000, Some(91_500), Some(90)));
        estimates.observe(&record("b", "success", 1_000, None, Some(120)));
        estimates.observe(&record("c", "fail", 1_000, Some(2_000), Some(1)));
        assert_eq!(estimates.sorted_secs("m"), [90.5, 120.0]);
        assert!(estimates.sorted_secs("other").is_empty());
    }

    #[test]
    fn times_are_read_on_the_clients_clock_when_the_server_runs_fast() {
        let estimates = Estimates::default();
        let done = record("a", "success", 0, Some(90_000), None);
        estimates.observe(&done);
        assert!(
            estimates.sorted_secs("m").is_empty(),
            "90 s of a server whose speed is unknown"
        );
        estimates.observe_wait(&done, Duration::from_secs(88));
        assert_eq!(
            estimates.sorted_secs("m"),
            [90.0],
            "kie.ai: latency, not speed"
        );
        // An emulator at 60x: 90 virtual seconds went by in 1.6 real ones.
        estimates.observe_wait(
            &record("b", "success", 0, Some(90_000), None),
            Duration::from_millis(1_600),
        );
        assert_eq!(estimates.sorted_secs("m"), [1.6]);

        // Kept, the times carry the speed they were learnt at.
        let kept: GenerationTimes =
            serde_json::from_str(&serde_json::to_string(&estimates.snapshot()).unwrap()).unwrap();
        let restarted = Estimates::new(Some(kept));
        assert_eq!(restarted.sorted_secs("m"), [1.6]);
    }

    #[test]
    fn only_the_recent_times_are_kept_and_they_round_trip() {
        let mut times = GenerationTimes::new();
        for s in 0..100u64 {
            times.record("m", Duration::from_secs(s + 1));
        }
        assert_eq!(times.times("m").len(), RECENT_TIMES);
        assert_eq!(times.times("m").next(), Some(Duration::from_secs(37)));
        let json = serde_json::to_string(&times).unwrap();
        assert_eq!(
            serde_json::from_str::<GenerationTimes>(&json).unwrap(),
            times
        );
    }
}

//! What the inbox remembers, within a budget of bytes.
//!
//! Per task: the identities of the deliveries taken (small keys, never bodies), whether
//! a confirmation is running, how many waits watch the task, and the latest record
//! recordInfo confirmed. Entries that no wait watches and no confirmation holds are
//! evicted oldest first once the store is over budget; the others stay, so a flood can
//! neither push out a task a wait is watching nor lose a confirmation under way.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::hash::{BuildHasher, RandomState};

use tokio::sync::watch;

use crate::record::TaskRecord;

/// How many distinct bodies one signature may carry. kie.ai's genuine deliveries within
/// the same second share a timestamp, and so a signature (Sora's progress callbacks can);
/// more than a few under one signature are a replay, and cost nothing.
const BODIES_PER_SIGNATURE: usize = 4;

/// How many delivery identities a task keeps; the oldest is forgotten first. kie.ai
/// sends a task a handful of callbacks (Sora's progress, the completion, their retries).
const IDENTITIES_PER_TASK: usize = 16;

/// What an entry costs besides its identities and record: the map slot, the eviction
/// key, the watch channel.
const ENTRY_BYTES: usize = 256;

/// What an identity costs, with room for all its bodies.
const IDENTITY_BYTES: usize =
    size_of::<Identity>() + BODIES_PER_SIGNATURE * size_of::<BodyDigest>();

/// A keyed 64-bit digest of a body: enough to tell bodies apart, with a key no sender
/// knows, so that none can make two bodies collide on purpose.
pub(super) type BodyDigest = u64;

/// One delivery as the inbox tells it from others.
#[derive(Debug)]
struct Identity {
    /// The signing time. With the task id, it names the signature (a verified signature
    /// is a function of the two), so it stands for the signature. `None` in an inbox
    /// without a key, where only the body tells deliveries apart.
    signed_at: Option<u64>,
    /// The bodies taken under it, at most [`BODIES_PER_SIGNATURE`].
    bodies: Vec<BodyDigest>,
}

/// Where a task's confirmation stands: at most one recordInfo call in flight, and at
/// most one more for deliveries that came while it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Confirming {
    Idle,
    Running,
    RunningThenAgain,
}

#[derive(Debug)]
struct Entry {
    identities: VecDeque<Identity>,
    confirming: Confirming,
    watchers: usize,
    /// The latest record recordInfo confirmed, seen by the waits that watch the task.
    latest: watch::Sender<Option<TaskRecord>>,
    /// Its key in [`Store::evictable`], while it may be evicted.
    order: Option<u64>,
    /// What it cost when last counted.
    bytes: usize,
}

impl Entry {
    fn new() -> Self {
        Self {
            identities: VecDeque::new(),
            confirming: Confirming::Idle,
            watchers: 0,
            latest: watch::Sender::new(None),
            order: None,
            bytes: 0,
        }
    }

    /// Whether recordInfo confirmed the task finished.
    fn is_final(&self) -> bool {
        self.latest
            .borrow()
            .as_ref()
            .is_some_and(|record| record.state.is_terminal())
    }

    /// Remembers a delivery; false if it was taken before, or its signature already
    /// carried as many bodies as one may.
    fn remember(&mut self, signed_at: Option<u64>, body: BodyDigest) -> bool {
        let same = self.identities.iter_mut().find(|identity| {
            identity.signed_at == signed_at && (signed_at.is_some() || identity.bodies == [body])
        });
        if let Some(identity) = same {
            if identity.bodies.contains(&body) || identity.bodies.len() >= BODIES_PER_SIGNATURE {
                return false;
            }
            identity.bodies.push(body);
            return true;
        }
        if self.identities.len() == IDENTITIES_PER_TASK {
            self.identities.pop_front();
        }
        self.identities.push_back(Identity {
            signed_at,
            bodies: vec![body],
        });
        true
    }

    /// What the entry costs, roughly: a decoded record is counted as twice its text,
    /// since no decoded field holds more than the text it came from.
    fn cost(&self, task_id: &str) -> usize {
        let record = self
            .latest
            .borrow()
            .as_ref()
            .map_or(0, |record| 2 * record.raw.get().len());
        ENTRY_BYTES + 2 * task_id.len() + self.identities.len() * IDENTITY_BYTES + record
    }

    fn evictable(&self) -> bool {
        self.watchers == 0 && self.confirming == Confirming::Idle
    }
}

/// What became of a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Taken {
    /// Taken before, or past its signature's bodies.
    Duplicate,
    /// New; `confirm` says whether the caller must start a confirmation (none runs for
    /// the task, and its final record is not confirmed yet).
    New { confirm: bool },
}

/// The inbox's memory, bounded by bytes.
#[derive(Debug)]
pub(super) struct Store {
    tasks: HashMap<String, Entry>,
    /// The entries that may be evicted, oldest change first.
    evictable: BTreeMap<u64, String>,
    next_order: u64,
    bytes: usize,
    max_bytes: usize,
    digests: RandomState,
}

impl Store {
    pub(super) fn new(max_bytes: usize) -> Self {
        Self {
            tasks: HashMap::new(),
            evictable: BTreeMap::new(),
            next_order: 0,
            bytes: 0,
            max_bytes,
            digests: RandomState::new(),
        }
    }

    pub(super) fn set_max_bytes(&mut self, max_bytes: usize) {
        self.max_bytes = max_bytes;
        self.evict();
    }

    pub(super) fn digest(&self, body: &[u8]) -> BodyDigest {
        self.digests.hash_one(body)
    }

    /// Takes a delivery of `task_id`, signed at `signed_at` (if the inbox verifies).
    pub(super) fn take(
        &mut self,
        task_id: &str,
        signed_at: Option<u64>,
        body: BodyDigest,
    ) -> Taken {
        let entry = self.entry(task_id);
        let taken = if !entry.remember(signed_at, body) {
            Taken::Duplicate
        } else if entry.is_final() {
            Taken::New { confirm: false }
        } else {
            let idle = entry.confirming == Confirming::Idle;
            entry.confirming = if idle {
                Confirming::Running
            } else {
                Confirming::RunningThenAgain
            };
            Taken::New { confirm: idle }
        };
        self.settle(task_id);
        taken
    }

    /// Records what a confirmation of `task_id` found (`None`: recordInfo failed).
    /// Returns the record when it is news for subscribers (a new state or percent, and
    /// never anything after a final record), and whether to confirm again for
    /// deliveries that came meanwhile.
    pub(super) fn confirmed(
        &mut self,
        task_id: &str,
        record: Option<TaskRecord>,
    ) -> (Option<TaskRecord>, bool) {
        let Some(entry) = self.tasks.get_mut(task_id) else {
            return (None, false);
        };
        let news = record.filter(|record| {
            let latest = entry.latest.borrow();
            match latest.as_ref() {
                None => true,
                Some(latest) => {
                    !latest.state.is_terminal()
                        && (&latest.state, latest.progress) != (&record.state, record.progress)
                }
            }
        });
        if let Some(record) = &news {
            entry.latest.send_replace(Some(record.clone()));
        }
        let again = entry.confirming == Confirming::RunningThenAgain && !entry.is_final();
        entry.confirming = if again {
            Confirming::Running
        } else {
            Confirming::Idle
        };
        self.settle(task_id);
        (news, again)
    }

    /// Registers a wait's interest in `task_id`: its entry stays until [`Self::unwatch`].
    pub(super) fn watch(&mut self, task_id: &str) -> watch::Receiver<Option<TaskRecord>> {
        let entry = self.entry(task_id);
        entry.watchers += 1;
        let updates = entry.latest.subscribe();
        self.settle(task_id);
        updates
    }

    pub(super) fn unwatch(&mut self, task_id: &str) {
        if let Some(entry) = self.tasks.get_mut(task_id) {
            entry.watchers = entry.watchers.saturating_sub(1);
            self.settle(task_id);
        }
    }

    #[cfg(test)]
    pub(super) fn bytes(&self) -> usize {
        self.bytes
    }

    #[cfg(test)]
    pub(super) fn holds(&self, task_id: &str) -> bool {
        self.tasks.contains_key(task_id)
    }

    fn entry(&mut self, task_id: &str) -> &mut Entry {
        self.tasks
            .entry(task_id.to_owned())
            .or_insert_with(Entry::new)
    }

    /// After a change to `task_id`'s entry: counts its bytes again, makes it the newest
    /// in the eviction order (if it may be evicted), and evicts what is over budget.
    fn settle(&mut self, task_id: &str) {
        let Some(entry) = self.tasks.get_mut(task_id) else {
            return;
        };
        let bytes = entry.cost(task_id);
        self.bytes = self.bytes - entry.bytes + bytes;
        entry.bytes = bytes;
        if let Some(order) = entry.order.take() {
            self.evictable.remove(&order);
        }
        if entry.evictable() {
            self.next_order += 1;
            entry.order = Some(self.next_order);
            self.evictable.insert(self.next_order, task_id.to_owned());
        }
        self.evict();
    }

    fn evict(&mut self) {
        while self.bytes > self.max_bytes {
            let Some((_, task_id)) = self.evictable.pop_first() else {
                // What is left is watched or being confirmed: it stays.
                return;
            };
            if let Some(entry) = self.tasks.remove(&task_id) {
                self.bytes -= entry.bytes;
                tracing::debug!(%task_id, "callback inbox full: forgot the oldest task");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(task_id: &str, state: &str) -> TaskRecord {
        TaskRecord::from_data(&serde_json::json!({"taskId": task_id, "state": state}))
            .expect("a record")
    }

    #[test]
    fn a_signature_carries_a_few_bodies_then_only_duplicates() {
        let mut store = Store::new(usize::MAX);
        let taken: Vec<Taken> = (0..10).map(|n| store.take("t", Some(7), n)).collect();
        assert_eq!(taken[0], Taken::New { confirm: true });
        assert!(
            taken[1..BODIES_PER_SIGNATURE]
                .iter()
                .all(|t| *t == Taken::New { confirm: false })
        );
        assert!(
            taken[BODIES_PER_SIGNATURE..]
                .iter()
                .all(|t| *t == Taken::Duplicate)
        );
        // The same body again, and a new signature.
        assert_eq!(store.take("t", Some(7), 0), Taken::Duplicate);
        assert_eq!(store.take("t", Some(8), 0), Taken::New { confirm: false });
    }

    #[test]
    fn without_a_key_the_body_alone_identifies_a_delivery() {
        let mut store = Store::new(usize::MAX);
        assert_eq!(store.take("t", None, 1), Taken::New { confirm: true });
        assert_eq!(store.take("t", None, 1), Taken::Duplicate);
        assert_eq!(store.take("t", None, 2), Taken::New { confirm: false });
        assert_eq!(store.take("u", None, 1), Taken::New { confirm: true });
    }

    #[test]
    fn confirmations_coalesce_and_stop_at_a_final_record() {
        let mut store = Store::new(usize::MAX);
        assert_eq!(store.take("t", None, 1), Taken::New { confirm: true });
        store.take("t", None, 2);
        store.take("t", None, 3);
        // One more round for the deliveries that came meanwhile, then idle.
        let (news, again) = store.confirmed("t", Some(record("t", "generating")));
        assert_eq!(news.map(|r| r.state), Some(crate::TaskState::Generating));
        assert!(again);
        let (news, again) = store.confirmed("t", Some(record("t", "generating")));
        assert!(news.is_none(), "the same state is not news");
        assert!(!again);
        // Final: later deliveries are taken, but nothing is confirmed again.
        assert_eq!(store.take("t", None, 4), Taken::New { confirm: true });
        store.take("t", None, 5);
        let (news, again) = store.confirmed("t", Some(record("t", "success")));
        assert!(news.is_some());
        assert!(!again, "a final record ends the confirmations");
        assert_eq!(store.take("t", None, 6), Taken::New { confirm: false });
    }

    #[test]
    fn identities_per_task_are_bounded() {
        let mut store = Store::new(usize::MAX);
        let empty = {
            store.watch("t");
            store.bytes()
        };
        for n in 0..1_000 {
            store.take("t", Some(n), 0);
        }
        assert_eq!(
            store.bytes(),
            empty + IDENTITIES_PER_TASK * IDENTITY_BYTES,
            "one task never holds more than its identities"
        );
    }

    #[test]
    fn the_budget_evicts_the_oldest_but_never_a_watched_task() {
        let mut store = Store::new(16 * 1024);
        store.watch("watched");
        for n in 0..10_000 {
            let task = format!("task-{n}");
            store.take(&task, None, 1);
            store.confirmed(&task, Some(record(&task, "success")));
            assert!(store.bytes() <= 16 * 1024, "over budget after {n} tasks");
        }
        assert!(store.holds("watched"));
        assert!(store.holds("task-9999"));
        assert!(!store.holds("task-0"));
        // Unwatched, it becomes the newest entry, then ages out like the others.
        store.unwatch("watched");
        for n in 0..100 {
            let task = format!("later-{n}");
            store.take(&task, None, 1);
            store.confirmed(&task, None);
        }
        assert!(!store.holds("watched"));
    }

    #[test]
    fn a_task_being_confirmed_is_kept_over_budget() {
        let mut store = Store::new(0);
        assert_eq!(store.take("t", None, 1), Taken::New { confirm: true });
        assert!(store.holds("t"), "its confirmation still has to land");
        store.confirmed("t", Some(record("t", "success")));
        assert!(!store.holds("t"));
    }
}

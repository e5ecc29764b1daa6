//! The client's queues in front of a [`Budget`]: one gate per limit, which hands the
//! budget's places out in order.
//!
//! Waiters are kept in a map ordered by (key, arrival), where the key is the moment the
//! call asked, moved earlier by its headstart (a poll of a task near its expected
//! completion). One waiter at a time drives: it holds the `driving` lock, asks the
//! budget for a place whenever one can be free, and gives each place to the waiter at
//! the head of the map, itself included; the others sleep on their own channel, so a
//! place given out wakes one task, not ten thousand. A waiter that is dropped leaves the
//! map; a driver that is dropped lets the next one drive.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use futures_util::future::{Either, select};
use tokio::sync::{Notify, oneshot};

use super::{Budget, Busy, Limit, PlaceId, QueuePosition, Rate};
use crate::error::Operation;
use crate::time::Timer;

/// What reports a queued call's position.
pub(crate) type OnQueued = Box<dyn FnMut(QueuePosition) + Send>;

/// How a call asks for its place.
#[derive(Default)]
pub(crate) struct Admission {
    /// How far ahead of calls that asked at the same moment this one is served.
    pub headstart: Duration,
    /// Told where the call stands while it waits, when it has to.
    pub on_queued: Option<Mutex<OnQueued>>,
}

/// The gates of one client: createTask and recordInfo, each optional (unpaced).
#[derive(Debug, Default)]
pub(crate) struct Gates {
    create_task: Option<Gate>,
    record_info: Option<Gate>,
}

impl Gates {
    pub(crate) fn new(
        budget: &Arc<dyn Budget>,
        timer: &Arc<dyn Timer>,
        create_task: Option<Rate>,
        record_info: Option<Rate>,
    ) -> Self {
        let gate = |limit, rate| Gate::new(limit, rate, Arc::clone(budget), Arc::clone(timer));
        Self {
            create_task: create_task.map(|rate| gate(Limit::CreateTask, rate)),
            record_info: record_info.map(|rate| gate(Limit::RecordInfo, rate)),
        }
    }

    /// Waits for a place for a call of `operation`, if its limit is paced.
    pub(crate) async fn admit(
        &self,
        operation: Operation,
        admission: &Admission,
    ) -> Option<Place<'_>> {
        let gate = match operation {
            Operation::CreateTask => self.create_task.as_ref(),
            Operation::RecordInfo => self.record_info.as_ref(),
            _ => None,
        }?;
        Some(gate.admit(admission).await)
    }
}

/// The queue of one limit.
pub(crate) struct Gate {
    limit: Limit,
    rate: Rate,
    budget: Arc<dyn Budget>,
    timer: Arc<dyn Timer>,
    waiters: Mutex<Waiters>,
    /// Held by the one waiter that asks the budget on everyone's behalf.
    driving: tokio::sync::Mutex<()>,
    /// Signalled when a call of this process ends, which starts its place's countdown.
    ended: Notify,
    /// Places given out from the queue so far.
    served: AtomicU64,
}

impl std::fmt::Debug for Gate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gate")
            .field("limit", &self.limit)
            .field("rate", &self.rate)
            .field("budget", &self.budget)
            .finish_non_exhaustive()
    }
}

type Key = (Duration, u64);

#[derive(Default)]
struct Waiters {
    queue: BTreeMap<Key, oneshot::Sender<PlaceId>>,
    next: u64,
}

impl Gate {
    fn new(limit: Limit, rate: Rate, budget: Arc<dyn Budget>, timer: Arc<dyn Timer>) -> Self {
        Self {
            limit,
            rate,
            budget,
            timer,
            waiters: Mutex::default(),
            driving: tokio::sync::Mutex::new(()),
            ended: Notify::new(),
            served: AtomicU64::new(0),
        }
    }

    async fn admit(&self, admission: &Admission) -> Place<'_> {
        // The common case, nobody waiting and a free place, queues nothing.
        if self.lock().queue.is_empty() {
            if let Ok(id) = self.budget.try_take(self.limit, self.rate).await {
                return self.place(id);
            }
        }
        let key = self.timer.now().saturating_sub(admission.headstart);
        let (tx, rx) = oneshot::channel();
        let (key, ahead) = {
            let mut waiters = self.lock();
            let key = (key, waiters.next);
            waiters.next += 1;
            let ahead = match admission.on_queued {
                Some(_) => waiters.queue.range(..key).count(),
                None => 0,
            };
            waiters.queue.insert(key, tx);
            (key, ahead)
        };
        let mut ticket = Ticket {
            gate: self,
            key,
            rx,
        };
        let served_before = self.served.load(Ordering::Relaxed);
        let report = |served_now: u64| {
            if let Some(f) = &admission.on_queued {
                let served = usize::try_from(served_now - served_before).unwrap_or(usize::MAX);
                let ahead = ahead.saturating_sub(served);
                let windows = (ahead + 1) as f64 / f64::from(self.rate.max);
                let position = QueuePosition {
                    ahead,
                    expected_start: self.rate.per.mul_f64(windows.floor()),
                };
                (f.lock().unwrap_or_else(PoisonError::into_inner))(position);
            }
        };
        report(served_before);
        loop {
            // Reports come once a window while the call waits, if anyone listens.
            let tick = match admission.on_queued {
                Some(_) => Either::Left(self.timer.sleep(self.rate.per)),
                None => Either::Right(futures_util::future::pending()),
            };
            let drive = std::pin::pin!(self.driving.lock());
            match select(&mut ticket.rx, select(drive, tick)).await {
                Either::Left((Ok(id), _)) => return self.place(id),
                Either::Left((Err(_), _)) => {
                    unreachable!("a queued waiter's sender is dropped only after it sent")
                }
                Either::Right((Either::Left((_driving, _)), _)) => {
                    if let Some(id) = self.drive(&mut ticket).await {
                        return self.place(id);
                    }
                }
                Either::Right((Either::Right(((), _)), _)) => {
                    report(self.served.load(Ordering::Relaxed));
                }
            }
        }
    }

    /// Asks the budget for places and gives each to the head of the queue until the
    /// ticket's holder has one (`None`: it was given one by an earlier driver, which
    /// its channel now holds).
    async fn drive(&self, ticket: &mut Ticket<'_>) -> Option<PlaceId> {
        let me = ticket.key;
        loop {
            if let Ok(id) = ticket.rx.try_recv() {
                return Some(id);
            }
            if !self.lock().queue.contains_key(&me) {
                return None;
            }
            // Registered before asking, so that an end in between is not missed.
            let ended = self.ended.notified();
            let mut ended = std::pin::pin!(ended);
            ended.as_mut().enable();
            match self.budget.try_take(self.limit, self.rate).await {
                Ok(id) => {
                    if let Some(id) = self.hand_out(id, me) {
                        return Some(id);
                    }
                }
                Err(Busy::For(wait)) => {
                    tracing::debug!(limit = %self.limit, rate = %self.rate, ?wait, "pacing");
                    self.timer.sleep(wait).await;
                }
                // An end in this process frees a place a window later; one elsewhere
                // (a shared budget) is seen by asking again after a window.
                Err(Busy::UntilAnEnd) => {
                    let _ = select(ended, self.timer.sleep(self.rate.per)).await;
                }
            }
        }
    }

    /// Gives `id` to the head of the queue; returns it when the head is `me`.
    fn hand_out(&self, mut id: PlaceId, me: Key) -> Option<PlaceId> {
        loop {
            let Some((key, tx)) = self.lock().queue.pop_first() else {
                // Everyone left meanwhile: the place goes back, held for its window.
                self.budget.release(self.limit, self.rate, id);
                return None;
            };
            self.served.fetch_add(1, Ordering::Relaxed);
            if key == me {
                return Some(id);
            }
            match tx.send(id) {
                Ok(()) => return None,
                // Its waiter was dropped between leaving the map and now.
                Err(back) => id = back,
            }
        }
    }

    fn place(&self, id: PlaceId) -> Place<'_> {
        Place { gate: self, id }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Waiters> {
        self.waiters.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A call's place, held while the call is in flight; dropping it (when the answer is
/// in, or the call is abandoned) starts the place's countdown.
pub(crate) struct Place<'a> {
    gate: &'a Gate,
    id: PlaceId,
}

impl Drop for Place<'_> {
    fn drop(&mut self) {
        let gate = self.gate;
        gate.budget.release(gate.limit, gate.rate, self.id);
        gate.ended.notify_waiters();
    }
}

/// A waiter's entry in the queue and the channel its place comes on. Dropped, it
/// leaves the queue, and gives back a place that was sent but never taken.
struct Ticket<'a> {
    gate: &'a Gate,
    key: Key,
    rx: oneshot::Receiver<PlaceId>,
}

impl Drop for Ticket<'_> {
    fn drop(&mut self) {
        let gate = self.gate;
        gate.lock().queue.remove(&self.key);
        if let Ok(id) = self.rx.try_recv() {
            gate.budget.release(gate.limit, gate.rate, id);
            gate.ended.notify_waiters();
        }
    }
}

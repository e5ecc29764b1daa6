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
        let idle = self.lock().queue.is_empty();
        if idle && let Ok(id) = self.budget.try_take(self.limit, self.rate).await {
            return self.place(id);
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
                // The window is full (the call queued), so it goes within a window at
                // best, and `max` more go in each window after.
                let windows = ((ahead + 1) as f64 / f64::from(self.rate.max)).ceil();
                let position = QueuePosition {
                    ahead,
                    expected_start: self.rate.per.mul_f64(windows),
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
        // Closed first: a driver that popped this ticket before it left the queue then
        // fails to send and hands the place to the next waiter, and one it sent already
        // is taken here.
        self.rx.close();
        if let Ok(id) = self.rx.try_recv() {
            gate.budget.release(gate.limit, gate.rate, id);
            gate.ended.notify_waiters();
        }
    }
}

#[cfg(test)]
mod tests {
    //! On tokio's paused clock: time stands still while anything can run and jumps to
    //! the next sleep's end when nothing can, so queues of many waiters play out in
    //! order, in milliseconds.

    use std::sync::Arc;

    use super::*;
    use crate::budget::LocalBudget;
    use crate::time::TokioTimer;

    fn gate(rate: Rate) -> (Arc<Gate>, Arc<dyn Timer>) {
        let timer: Arc<dyn Timer> = Arc::new(TokioTimer::default());
        let budget = Arc::new(LocalBudget::new(Arc::clone(&timer)));
        let gate = Gate::new(Limit::CreateTask, rate, budget, Arc::clone(&timer));
        (Arc::new(gate), timer)
    }

    /// Starts a waiter asking `after` from now with `headstart`; it records its name and
    /// the second it was let through, and answers at once.
    fn ask(
        gate: &Arc<Gate>,
        timer: &Arc<dyn Timer>,
        name: &'static str,
        after: Duration,
        headstart: Duration,
        log: &Arc<Mutex<Vec<(&'static str, u64)>>>,
    ) -> tokio::task::JoinHandle<()> {
        let (gate, timer, log) = (gate.clone(), timer.clone(), log.clone());
        tokio::spawn(async move {
            tokio::time::sleep(after).await;
            let admission = Admission {
                headstart,
                on_queued: None,
            };
            let place = gate.admit(&admission).await;
            log.lock().unwrap().push((name, timer.now().as_secs()));
            drop(place);
        })
    }

    #[tokio::test(start_paused = true)]
    async fn creates_go_out_in_the_order_they_were_submitted_at_the_rate() {
        let (gate, timer) = gate(Rate::per(2, Duration::from_secs(10)));
        let log = Arc::new(Mutex::new(Vec::new()));
        let names = ["a", "b", "c", "d", "e", "f"];
        let waiters: Vec<_> = names
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let after = Duration::from_millis(i as u64);
                ask(&gate, &timer, name, after, Duration::ZERO, &log)
            })
            .collect();
        for waiter in waiters {
            waiter.await.unwrap();
        }
        assert_eq!(
            *log.lock().unwrap(),
            [
                ("a", 0),
                ("b", 0),
                ("c", 10),
                ("d", 10),
                ("e", 20),
                ("f", 20)
            ]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn an_urgent_poll_goes_first_but_never_starves_an_old_one() {
        let (gate, timer) = gate(Rate::per(1, Duration::from_secs(1)));
        let log = Arc::new(Mutex::new(Vec::new()));
        let s = Duration::from_secs;
        // The place is taken at 0 s: everyone queues. "old" asks at 0 s; "urgent" asks
        // at 0.5 s with a 5 s headstart (it is served as if it had asked 4.5 s
        // earlier); "late" asks at 0.5 s with a 0.2 s headstart, behind "old".
        let first = ask(&gate, &timer, "first", s(0), s(0), &log);
        let old = ask(&gate, &timer, "old", Duration::from_millis(1), s(0), &log);
        let urgent = ask(
            &gate,
            &timer,
            "urgent",
            Duration::from_millis(500),
            s(5),
            &log,
        );
        let late = ask(
            &gate,
            &timer,
            "late",
            Duration::from_millis(500),
            Duration::from_millis(200),
            &log,
        );
        for waiter in [first, old, urgent, late] {
            waiter.await.unwrap();
        }
        assert_eq!(
            *log.lock().unwrap(),
            [("first", 0), ("urgent", 1), ("old", 2), ("late", 3)]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_queued_submit_hears_its_place_and_when_it_should_go() {
        let (gate, timer) = gate(Rate::per(1, Duration::from_secs(10)));
        let held = gate.admit(&Admission::default()).await;
        let heard = Arc::new(Mutex::new(Vec::new()));
        let waiters: Vec<_> = (0..3)
            .map(|i| {
                let (gate, heard) = (gate.clone(), heard.clone());
                tokio::spawn(async move {
                    tokio::time::sleep(Duration::from_millis(i)).await;
                    let admission = Admission {
                        headstart: Duration::ZERO,
                        on_queued: Some(Mutex::new(Box::new(move |p: QueuePosition| {
                            heard
                                .lock()
                                .unwrap()
                                .push((i, p.ahead, p.expected_start.as_secs()));
                        }))),
                    };
                    drop(gate.admit(&admission).await);
                })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(5)).await;
        drop(held);
        for waiter in waiters {
            waiter.await.unwrap();
        }
        let heard = heard.lock().unwrap().clone();
        // Each heard its place when it queued...
        for i in 0..3 {
            assert_eq!(
                heard.iter().find(|h| h.0 == i),
                Some(&(i, i as usize, 10 * (i + 1))),
                "{heard:?}"
            );
        }
        // ...then, a window on, closer to the front.
        assert!(heard.contains(&(2, 1, 20)), "{heard:?}");
        assert!(timer.now() >= Duration::from_secs(30));
    }

    #[tokio::test(start_paused = true)]
    async fn a_waiter_dropped_in_the_queue_or_after_its_place_was_sent_loses_nothing() {
        let (gate, timer) = gate(Rate::per(1, Duration::from_secs(10)));
        let held = gate.admit(&Admission::default()).await;
        let dropped = {
            let gate = gate.clone();
            tokio::spawn(async move { drop(gate.admit(&Admission::default()).await) })
        };
        tokio::task::yield_now().await;
        dropped.abort();
        let _ = dropped.await;
        assert!(gate.lock().queue.is_empty(), "it left the queue");
        drop(held);
        // The next one is let through when the window after the answer ends, at 10 s:
        // the abandoned waiter took no place.
        drop(gate.admit(&Admission::default()).await);
        assert_eq!(timer.now().as_secs(), 10);
    }
}

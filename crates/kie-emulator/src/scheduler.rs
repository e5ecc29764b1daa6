//! The scheduler: fires time-based side effects when nobody is polling.
//!
//! A task's visible state is computed from the clock, but callbacks, refunds and result
//! files must happen even if no client ever asks. Timers are keyed by virtual time; the
//! loop sleeps for the real time until the earliest one (none while the clock is
//! frozen) and is woken whenever timers or the clock change.

use std::{collections::BTreeMap, sync::Arc};

use crate::{callbacks, lifecycle, state::Shared};

/// Something to do at a virtual time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TimerEvent {
    /// Re-examine a task (a state boundary or progress mark was reached).
    TaskMilestone {
        /// The task.
        task_id: String,
    },
    /// Make the next attempt of a callback delivery.
    CallbackAttempt {
        /// The delivery.
        delivery_id: u64,
    },
}

/// Pending timers ordered by (virtual due time, insertion order).
#[derive(Debug, Default, Clone)]
pub(crate) struct Timers {
    queue: BTreeMap<(i64, u64), TimerEvent>,
    seq: u64,
}

impl Timers {
    /// Adds a timer.
    pub(crate) fn schedule(&mut self, due_ms: i64, event: TimerEvent) {
        self.seq += 1;
        self.queue.insert((due_ms, self.seq), event);
    }

    /// The earliest due time.
    pub(crate) fn next_due(&self) -> Option<i64> {
        self.queue.keys().next().map(|(due, _)| *due)
    }

    /// Removes and returns every timer due at or before `now`, with its due time, in order.
    pub(crate) fn pop_due(&mut self, now: i64) -> Vec<(i64, TimerEvent)> {
        let later = self.queue.split_off(&(now.saturating_add(1), 0));
        let due = std::mem::replace(&mut self.queue, later);
        due.into_iter()
            .map(|((at, _), event)| (at, event))
            .collect()
    }
}

/// Runs until shutdown: fires due timers, then sleeps until the next one or a wake-up.
pub(crate) async fn run(shared: Arc<Shared>) {
    let mut shutdown = shared.shutdown.clone();
    loop {
        if *shutdown.borrow() {
            return;
        }
        let now = shared.clock.now_ms();
        let (due, next) = shared.with_state(|state| {
            let due = state.timers.pop_due(now);
            (due, state.timers.next_due())
        });
        for (at, event) in due {
            match event {
                TimerEvent::TaskMilestone { task_id } => {
                    // Observe at the milestone's own time: when the clock jumped past
                    // several milestones, each still produces its own state change.
                    let mut state = shared.lock();
                    lifecycle::observe(&shared, &mut state, &task_id, at);
                }
                TimerEvent::CallbackAttempt { delivery_id } => {
                    tokio::spawn(callbacks::attempt(Arc::clone(&shared), delivery_id));
                }
            }
        }
        let sleep = next.and_then(|due| shared.clock.real_delay_until(due));
        tokio::select! {
            _ = shared.wake.notified() => {}
            _ = async {
                match sleep {
                    Some(delay) => tokio::time::sleep(delay).await,
                    None => std::future::pending::<()>().await,
                }
            } => {}
            changed = shutdown.changed() => {
                if changed.is_err() {
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pops_due_timers_in_order() {
        let mut timers = Timers::default();
        timers.schedule(30, TimerEvent::CallbackAttempt { delivery_id: 3 });
        timers.schedule(10, TimerEvent::CallbackAttempt { delivery_id: 1 });
        timers.schedule(10, TimerEvent::CallbackAttempt { delivery_id: 2 });
        assert_eq!(timers.next_due(), Some(10));
        assert_eq!(
            timers.pop_due(29),
            [
                (10, TimerEvent::CallbackAttempt { delivery_id: 1 }),
                (10, TimerEvent::CallbackAttempt { delivery_id: 2 })
            ]
        );
        assert_eq!(timers.next_due(), Some(30));
        assert_eq!(timers.pop_due(30).len(), 1);
        assert_eq!(timers.next_due(), None);
    }
}

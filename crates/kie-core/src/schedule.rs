//! When a wait polls: kie.ai's fixed schedules, and the adaptive one that spends calls
//! where completion is likely.
//!
//! The adaptive schedule models a task's time from creation to completion as a
//! distribution: the model's recent times as the client saw them finish
//! ([`crate::estimate`]), widened for what a few samples cannot show. Given the task's
//! age and that it has not finished, it picks the furthest next poll such that
//!
//! - the poll is not too likely to be the one that finds the task done
//!   (at most [`STEP_MASS`] of the remaining probability lies before it), and
//! - the expected lateness it adds stays under [`LATENESS`] of the typical time
//!   (`∫ (t - x) f(x) dx` over the gap, given the task was still running at its start),
//!
//! so it polls sparsely while completion is unlikely and densely around when it is
//! likely. A task past the distribution's end backs off; one that reports progress
//! (Sora) is polled half-way to its projected end; one still waiting in kie.ai's queue
//! past the typical time is polled slowly until it starts.
//!
//! Before any time of the model is known it backs off from kie.ai's first step (a
//! fifth of the task's age, 2 to 30 s): a prior in seconds would be wrong by orders of
//! magnitude against an emulator whose clock runs fast, and the first task of a model
//! is one task.

use std::time::Duration;

use crate::record::TaskState;

/// The shortest gap between two polls of one task, as kie.ai recommends.
pub(crate) const MIN_GAP: Duration = Duration::from_secs(2);
/// The longest gap while a task is overdue or stuck in the queue, as kie.ai's slowest
/// recommended step.
const MAX_SLOW_GAP: Duration = Duration::from_secs(30);
/// The shortest gap while a task is overdue or stuck in the queue.
const SLOW_MIN_GAP: Duration = Duration::from_secs(5);
/// Before a model's times are known, each gap is this fraction of the task's age.
const BACKOFF: f64 = 0.2;
/// The longest gap the distribution may ask for.
const MAX_GAP: Duration = Duration::from_secs(300);
/// The most of the remaining probability one gap may hold.
const STEP_MASS: f64 = 0.3;
/// The expected lateness one gap may add, as a fraction of the typical time.
const LATENESS: f64 = 0.01;
/// The urgency of a poll of an overdue task: unknown, so below that of a task at its
/// expected end.
const OVERDUE_URGENCY: f64 = STEP_MASS / 2.0;
/// What a poll is worth in the queue, per unit of urgency (the probability that it
/// finds the task finished): a sure poll goes ahead of polls asked up to this long
/// before it.
pub(crate) const MAX_HEADSTART: Duration = Duration::from_secs(10);

/// When to poll.
#[derive(Debug, Clone, PartialEq)]
pub struct PollSchedule {
    kind: Kind,
}

#[derive(Debug, Clone, PartialEq)]
enum Kind {
    /// From what is known of the task and its model (the default).
    Adaptive,
    /// Each phase: until this much of the wait has passed, wait between min and max.
    Phases(Vec<(Option<Duration>, Duration, Duration)>),
}

impl Default for PollSchedule {
    fn default() -> Self {
        Self::adaptive()
    }
}

impl PollSchedule {
    /// The default: polls placed by the task's age, state and progress and by how long
    /// its model's tasks took lately (as this client saw them finish; see
    /// [`crate::Client::generation_times`]), sparse while completion is unlikely and
    /// dense around when it is likely. For a 90 s generation it makes a few calls and
    /// notices the end within seconds (figures in BENCHMARKS.md).
    pub fn adaptive() -> Self {
        Self {
            kind: Kind::Adaptive,
        }
    }

    /// kie.ai's recommendation: every 2-3 s for the first 30 s, every 5-10 s until 2
    /// minutes, then every 15-30 s; the exact delay is drawn at random in each range so
    /// that many waiting clients do not poll in step.
    pub fn recommended() -> Self {
        let s = Duration::from_secs;
        Self::phases(vec![
            (Some(s(30)), s(2), s(3)),
            (Some(s(120)), s(5), s(10)),
            (None, s(15), s(30)),
        ])
    }

    /// The fallback while waiting for a callback: every 2-3 minutes, so that a callback
    /// that never comes still ends the wait without adding polls to one that does.
    pub fn callback_fallback() -> Self {
        let s = Duration::from_secs;
        Self::phases(vec![(None, s(120), s(180))])
    }

    /// A fixed interval, without jitter.
    pub fn fixed(every: Duration) -> Self {
        Self::phases(vec![(None, every, every)])
    }

    fn phases(phases: Vec<(Option<Duration>, Duration, Duration)>) -> Self {
        Self {
            kind: Kind::Phases(phases),
        }
    }

    /// Whether this is the adaptive schedule (which need not poll at once a task whose
    /// age it knows, and reads the model's learnt times).
    pub(crate) fn is_adaptive(&self) -> bool {
        self.kind == Kind::Adaptive
    }

    /// The next poll; `jitter` in `[0, 1]` picks the point in a phase's range, or
    /// brings an adaptive poll up to 10 % earlier.
    pub(crate) fn next(&self, now: &Situation<'_>, jitter: f64) -> Decision {
        let jitter = jitter.clamp(0.0, 1.0);
        match &self.kind {
            Kind::Phases(phases) => {
                let (_, min, max) = phases
                    .iter()
                    .find(|(until, _, _)| until.is_none_or(|u| now.elapsed < u))
                    .or(phases.last())
                    .copied()
                    .unwrap_or((None, MIN_GAP, MIN_GAP));
                Decision {
                    delay: min + (max.saturating_sub(min)).mul_f64(jitter),
                    urgency: 0.0,
                }
            }
            Kind::Adaptive => {
                let decision = adaptive(now);
                Decision {
                    delay: decision.delay.mul_f64(1.0 - 0.1 * jitter).max(MIN_GAP),
                    ..decision
                }
            }
        }
    }
}

/// What is known when the next poll is chosen.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Situation<'a> {
    /// How long the wait has lasted.
    pub elapsed: Duration,
    /// How long ago the task was created, when known.
    pub age: Option<Duration>,
    /// The last state seen (`None` before the first record).
    pub state: Option<&'a TaskState>,
    /// The last percent seen.
    pub percent: Option<u8>,
    /// The model's recent times, in seconds, sorted.
    pub times: &'a [f64],
}

/// The next poll.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Decision {
    /// How long from now.
    pub delay: Duration,
    /// The probability that it finds the task finished, as the schedule sees it: how
    /// far ahead of other polls it goes when the poll budget is short.
    pub urgency: f64,
}

impl Decision {
    /// The poll's headstart in the client's poll queue: the whole of it for a poll as
    /// likely to find the task done as the schedule lets one gap be ([`STEP_MASS`]).
    pub(crate) fn headstart(&self) -> Duration {
        MAX_HEADSTART.mul_f64((self.urgency / STEP_MASS).clamp(0.0, 1.0))
    }
}

fn adaptive(now: &Situation<'_>) -> Decision {
    // A task of unknown age with no record yet (not visible right after creation):
    // soon, as kie.ai's first step. One this client created is `waiting` until seen.
    let (state, age) = match (now.state, now.age) {
        (Some(state), age) => (state, age.unwrap_or(now.elapsed)),
        (None, Some(age)) => (&TaskState::Waiting, age),
        (None, None) => {
            return Decision {
                delay: MIN_GAP + MIN_GAP / 2,
                urgency: 0.0,
            };
        }
    };
    let age = age.as_secs_f64();
    let slow = |gap: f64, min: Duration, urgency: f64| Decision {
        delay: secs(gap).clamp(min, MAX_SLOW_GAP),
        urgency,
    };
    // Progress (Sora): the end projected from the pace so far.
    if let Some(percent) = now.percent.filter(|p| (1..100).contains(p))
        && age > 0.0
    {
        let remaining = age * (100.0 - f64::from(percent)) / f64::from(percent);
        return Decision {
            delay: secs(remaining / 2.0).clamp(MIN_GAP, MAX_SLOW_GAP),
            urgency: f64::from(percent) / 100.0,
        };
    }
    // Nothing known of the model yet: back off from kie.ai's first step.
    let Some(curve) = Curve::of(now.times) else {
        return slow(BACKOFF * age, MIN_GAP, 0.0);
    };
    let typical = curve.quantile(0.5);
    // Still in kie.ai's queue past the typical time: it started late.
    if matches!(state, TaskState::Waiting | TaskState::Queuing) && age >= typical {
        return slow(0.1 * typical, SLOW_MIN_GAP, 0.0);
    }
    // Past every time seen: the estimate was wrong, back off; such a poll goes after
    // those of tasks at their expected end.
    if age >= curve.end() {
        return slow(0.1 * age, SLOW_MIN_GAP, OVERDUE_URGENCY);
    }
    let alive = 1.0 - curve.cdf(age);
    let lateness = LATENESS * typical;
    let fits = |gap: f64| {
        let t = age + gap;
        let mass = (curve.cdf(t) - curve.cdf(age)) / alive;
        let late = (curve.integral(age, t) - curve.cdf(age) * gap) / alive;
        mass <= STEP_MASS && late <= lateness
    };
    let (mut lo, mut hi) = (MIN_GAP.as_secs_f64(), MAX_GAP.as_secs_f64());
    if !fits(lo) {
        hi = lo;
    }
    while hi - lo > 0.05 {
        let mid = (lo + hi) / 2.0;
        if fits(mid) { lo = mid } else { hi = mid }
    }
    let gap = lo;
    Decision {
        delay: secs(gap),
        urgency: ((curve.cdf(age + gap) - curve.cdf(age)) / alive).clamp(0.0, 1.0),
    }
}

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s.clamp(0.0, 86_400.0))
}

/// A distribution of times as a piecewise-linear cumulative distribution function:
/// (seconds, probability) points, both non-decreasing, from 0 to 1.
#[derive(Debug, Clone, PartialEq)]
struct Curve {
    points: Vec<(f64, f64)>,
}

impl Curve {
    /// The recent times (sorted seconds), each at the midpoint of its share, widened at
    /// both ends by more when there are fewer of them; none without times.
    fn of(times: &[f64]) -> Option<Self> {
        let (first, last) = (times.first()?, times.last()?);
        let n = times.len() as f64;
        let widen = 0.1 + 0.5 / n;
        let mut points = Vec::with_capacity(times.len() + 2);
        points.push((first * (1.0 - widen), 0.0));
        points.extend(
            times
                .iter()
                .enumerate()
                .map(|(i, t)| (*t, (i as f64 + 0.5) / n)),
        );
        points.push((last * (1.0 + widen), 1.0));
        Some(Self { points })
    }

    /// Where the distribution ends (every time is before it).
    fn end(&self) -> f64 {
        self.points.last().map_or(0.0, |p| p.0)
    }

    fn cdf(&self, x: f64) -> f64 {
        let i = self.points.partition_point(|p| p.0 <= x);
        match (i.checked_sub(1).map(|j| self.points[j]), self.points.get(i)) {
            (None, _) => 0.0,
            (Some(_), None) => 1.0,
            (Some((x0, p0)), Some(&(x1, p1))) => p0 + (p1 - p0) * (x - x0) / (x1 - x0),
        }
    }

    fn quantile(&self, p: f64) -> f64 {
        let i = self.points.partition_point(|q| q.1 < p);
        match (i.checked_sub(1).map(|j| self.points[j]), self.points.get(i)) {
            (_, None) => self.end(),
            (None, Some(q)) => q.0,
            (Some((x0, p0)), Some(&(x1, p1))) => x0 + (x1 - x0) * (p - p0) / (p1 - p0),
        }
    }

    /// `∫ F(x) dx` from `a` to `b` (`a <= b`): exact, the function being linear between
    /// points.
    fn integral(&self, a: f64, b: f64) -> f64 {
        let mut edges = vec![a];
        edges.extend(self.points.iter().map(|p| p.0).filter(|x| *x > a && *x < b));
        edges.push(b);
        edges
            .windows(2)
            .map(|w| (w[1] - w[0]) * (self.cdf(w[0]) + self.cdf(w[1])) / 2.0)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Waits on tasks that finish after `durations` seconds, as a wait of a freshly
    /// submitted task does (its age known, no immediate poll), with the model's times
    /// `learnt`: status calls and detection delay (seconds) per task.
    fn simulate(durations: &[f64], learnt: &[f64]) -> Vec<(u32, f64)> {
        let mut times = learnt.to_vec();
        times.sort_by(f64::total_cmp);
        let schedule = PollSchedule::adaptive();
        durations
            .iter()
            .map(|&took| {
                let (mut at, mut calls) = (0.0, 0);
                let mut state = TaskState::Waiting;
                loop {
                    let now = Situation {
                        elapsed: secs(at),
                        age: Some(secs(at)),
                        state: Some(&state),
                        percent: None,
                        times: &times,
                    };
                    at += schedule.next(&now, 0.5).delay.as_secs_f64();
                    calls += 1;
                    if at >= took {
                        return (calls, at - took);
                    }
                    state = TaskState::Generating;
                }
            })
            .collect()
    }

    fn median(mut v: Vec<f64>) -> f64 {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    }

    #[test]
    fn a_known_90_s_generation_takes_few_calls_and_is_seen_within_seconds() {
        let learnt: Vec<f64> = (0..20).map(|i| 89.0 + f64::from(i % 3)).collect();
        let runs = simulate(&[90.0; 10], &learnt);
        for (calls, delay) in runs {
            assert!(calls <= 4, "{calls} calls");
            assert!(delay <= 4.5, "{delay} s late");
        }
    }

    #[test]
    fn before_any_time_is_known_it_backs_off_from_kie_ais_first_step() {
        let now = |age: u64| Situation {
            elapsed: Duration::from_secs(age),
            age: Some(Duration::from_secs(age)),
            state: Some(&TaskState::Generating),
            percent: None,
            times: &[],
        };
        let schedule = PollSchedule::adaptive();
        assert_eq!(schedule.next(&now(0), 0.0).delay, MIN_GAP);
        assert_eq!(schedule.next(&now(50), 0.0).delay, Duration::from_secs(10));
        assert_eq!(schedule.next(&now(600), 0.0).delay, MAX_SLOW_GAP);
        // A task of a second (an emulator at 60x) is seen at the first poll; one of 90 s
        // within a fifth of its time.
        assert_eq!(simulate(&[1.0], &[]), [(1, 1.0)]);
        let (calls, delay) = simulate(&[90.0], &[])[0];
        assert!(
            calls <= 20 && delay <= 18.0,
            "{calls} calls, {delay} s late"
        );
    }

    #[test]
    fn spread_out_times_cost_a_handful_of_calls_and_a_delay_under_a_tenth() {
        let durations: Vec<f64> = (0..97).map(|i| 60.0 + 2.5 * f64::from(i)).collect();
        let runs = simulate(&durations, &durations);
        let calls: Vec<f64> = runs.iter().map(|r| f64::from(r.0)).collect();
        let mean = calls.iter().sum::<f64>() / calls.len() as f64;
        assert!(mean <= 8.0, "{mean} calls on average");
        let delays: Vec<f64> = runs.iter().zip(&durations).map(|(r, d)| r.1 / d).collect();
        assert!(median(delays) <= 0.1);
    }

    #[test]
    fn overdue_queued_and_progressing_tasks() {
        let times = [90.0, 91.0, 92.0];
        let at = |age: u64, state: &TaskState, percent| {
            let now = Situation {
                elapsed: Duration::from_secs(age),
                age: Some(Duration::from_secs(age)),
                state: Some(state),
                percent,
                times: &times,
            };
            PollSchedule::adaptive().next(&now, 0.0)
        };
        let overdue = at(200, &TaskState::Generating, None);
        assert_eq!(overdue.delay, Duration::from_secs(20), "a tenth of its age");
        assert_eq!(at(900, &TaskState::Generating, None).delay, MAX_SLOW_GAP);
        let queued = at(95, &TaskState::Queuing, None);
        assert!(queued.delay >= Duration::from_secs(5) && queued.urgency == 0.0);
        let half = at(60, &TaskState::Generating, Some(50));
        assert_eq!(
            half.delay,
            Duration::from_secs(30),
            "half the projected rest"
        );
        let nearly = at(99, &TaskState::Generating, Some(99));
        assert_eq!(nearly.delay, MIN_GAP);
        assert!(nearly.urgency > half.urgency);
    }

    #[test]
    fn the_recommended_schedule_follows_kie_ai() {
        let s = PollSchedule::recommended();
        let secs = Duration::from_secs;
        #[rustfmt::skip]
        let table = [
            (0, 0.0, 2.0), (0, 1.0, 3.0), (29, 0.5, 2.5),
            (30, 0.0, 5.0), (119, 1.0, 10.0),
            (120, 0.0, 15.0), (3600, 1.0, 30.0),
        ];
        for (elapsed, jitter, expected) in table {
            let now = Situation {
                elapsed: secs(elapsed),
                age: None,
                state: None,
                percent: None,
                times: &[],
            };
            assert_eq!(
                s.next(&now, jitter).delay,
                Duration::from_secs_f64(expected),
                "{elapsed}s jitter {jitter}"
            );
        }
    }

    #[test]
    fn the_curve_integrates_exactly() {
        let curve = Curve {
            points: vec![(10.0, 0.0), (20.0, 1.0)],
        };
        assert_eq!(curve.cdf(15.0), 0.5);
        assert_eq!(curve.quantile(0.25), 12.5);
        assert!((curve.integral(0.0, 30.0) - 15.0).abs() < 1e-9);
        assert_eq!(Curve::of(&[]), None);
        assert_eq!(Curve::of(&[10.0]).map(|c| c.quantile(0.5)), Some(10.0));
    }
}

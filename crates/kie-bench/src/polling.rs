//! Benchmark 3: what each waiting strategy costs in status calls and in detection delay
//! (from a task's completion to its wait returning), for a fixed 90 s generation and
//! for generation times drawn uniformly from 60-300 s.
//!
//! Nothing waits in real time. The emulator's clock is frozen, and the SDK is given a
//! [`Timer`] that reads that clock and sleeps by advancing it, so the SDK and the
//! emulator share one virtual time. A sleep advances the clock in steps of at most one
//! second; after each step it waits (in real time) until every callback the step made
//! due has been delivered, so that callback-first waiting sees its callback at the
//! virtual moment it was sent, as it would live. Tasks run one after another (they
//! share the clock) on one client per strategy and timing, so the adaptive schedule
//! learns from the tasks before, as it does in a service; each task's recordInfo count
//! is the emulator's own.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use kie_core::time::{Sleep, Timer};
use kie_core::{CallbackInbox, CallbackVerifier, Client, PollSchedule};
use kie_emulator::{Durations, Emulator, TaskState};
use kie_hailuo::Hailuo02TextToVideoProInput;

use crate::plot::{Point, Series};
use crate::report::{Figure, Section};
use crate::stats::quantile;
use crate::{API_KEY, BoxError, Options};

const MODEL: &str = "hailuo/02-text-to-video-pro";
/// The targets for the default schedule on a 90 s generation.
const CALLS_TARGET: f64 = 8.0;
const DELAY_TARGET: f64 = 0.10;
const CALLBACK_TARGET: f64 = 1.0;

/// A way to wait.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Strategy {
    Fixed2s,
    Recommended,
    Adaptive,
    CallbackFirst,
}

impl Strategy {
    const ALL: [Strategy; 4] = [
        Strategy::Fixed2s,
        Strategy::Recommended,
        Strategy::Adaptive,
        Strategy::CallbackFirst,
    ];

    fn name(self) -> &'static str {
        match self {
            Strategy::Fixed2s => "fixed 2 s",
            Strategy::Recommended => "kie.ai's recommended",
            Strategy::Adaptive => "adaptive (default)",
            Strategy::CallbackFirst => "callback-first",
        }
    }

    fn code(self) -> &'static str {
        match self {
            Strategy::Fixed2s => "`PollSchedule::fixed(2 s)`",
            Strategy::Recommended => "`PollSchedule::recommended()`",
            Strategy::Adaptive => "`PollSchedule::adaptive()`",
            Strategy::CallbackFirst => "`wait().callbacks(&inbox)`",
        }
    }
}

/// How long tasks take.
#[derive(Debug, Clone, Copy)]
enum Timing {
    Fixed90s,
    Spread60To300s,
}

impl Timing {
    fn name(self) -> &'static str {
        match self {
            Timing::Fixed90s => "90 s",
            Timing::Spread60To300s => "60-300 s",
        }
    }

    fn durations(self) -> Result<Durations, BoxError> {
        let s = Duration::from_secs;
        Ok(match self {
            Timing::Fixed90s => Durations::uniform(s(90), s(90))?,
            Timing::Spread60To300s => Durations::uniform(s(60), s(300))?,
        })
    }
}

/// Per task: recordInfo calls, generation time and detection delay, in seconds.
struct Sample {
    calls: f64,
    took_s: f64,
    delay_s: f64,
}

/// One strategy's figures for one timing.
struct Row {
    calls: f64,
    p50: f64,
    p95: f64,
    /// The median of each task's delay over its generation time.
    p50_ratio: f64,
}

impl Row {
    fn of(samples: &[Sample]) -> Self {
        let calls: Vec<f64> = samples.iter().map(|s| s.calls).collect();
        let delays: Vec<f64> = samples.iter().map(|s| s.delay_s).collect();
        let ratios: Vec<f64> = samples.iter().map(|s| s.delay_s / s.took_s).collect();
        Self {
            calls: calls.iter().sum::<f64>() / calls.len().max(1) as f64,
            p50: quantile(&delays, 0.5),
            p95: quantile(&delays, 0.95),
            p50_ratio: quantile(&ratios, 0.5),
        }
    }
}

/// Runs the benchmark, and draws its plot to `plot`.
pub async fn run(options: &Options, plot: &Path) -> Result<Section, BoxError> {
    let mut table = String::new();
    let mut figures = Vec::new();
    let mut series = Vec::new();
    for (timing, tasks) in [
        (Timing::Fixed90s, options.polling_tasks),
        (Timing::Spread60To300s, options.polling_spread_tasks),
    ] {
        let mut points = Vec::new();
        for strategy in Strategy::ALL {
            let row = Row::of(&measure(strategy, timing, tasks).await?);
            table.push_str(&format!(
                "| {} ({}) | {} | {tasks} | {:.2} | {:.1} | {:.1} |\n",
                strategy.name(),
                strategy.code(),
                timing.name(),
                row.calls,
                row.p50,
                row.p95,
            ));
            figures.extend(figures_of(strategy, timing, &row));
            points.push(Point {
                label: strategy.name(),
                calls: row.calls,
                p50: row.p50,
                p95: row.p95,
            });
        }
        series.push(Series {
            name: format!("generation {}", timing.name()),
            points,
        });
    }
    crate::plot::draw(plot, &series)?;
    let picture = plot.file_name().map_or_else(String::new, |name| {
        format!(
            "![status calls per task against detection delay, per strategy]({})\n\n",
            name.to_string_lossy()
        )
    });
    let details = format!(
        "On an in-process emulator with a frozen clock, shared with the SDK through a \
         `Timer` whose sleeps advance it (so no real waiting). Tasks one after another, on \
         one client per strategy and timing (the adaptive schedule learns from the tasks \
         before, starting from nothing); each task's generation time is drawn by the \
         emulator (`Durations::uniform`). Calls are the recordInfo requests the emulator \
         counted per task; detection delay runs from the task's completion to its wait \
         returning, in virtual seconds.\n\n{picture}\
         | strategy | generation | tasks | status calls per task (mean) | detection delay p50 (s) | p95 (s) |\n\
         |---|---|---|---|---|---|\n{table}\n\
         Callback-first waiting sleeps on the 2-3 minute fallback schedule, wakes on the \
         signed callback (delivered over HTTP to a `CallbackInbox` served by axum) and \
         confirms it with one recordInfo call; its delay is the callback's delivery."
    );
    Ok(Section {
        title: "3. waiting strategies: status calls and detection delay",
        figures,
        details,
    })
}

fn figures_of(strategy: Strategy, timing: Timing, row: &Row) -> Vec<Figure> {
    let name = |what: &str| format!("{what}, {}, {} generation", strategy.name(), timing.name());
    match (strategy, timing) {
        (Strategy::Adaptive, Timing::Fixed90s) => vec![
            Figure::checked(
                name("status calls per task"),
                format!("{:.2}", row.calls),
                format!("≤ {CALLS_TARGET}"),
                row.calls <= CALLS_TARGET,
            ),
            Figure::checked(
                name("median detection delay"),
                format!("{:.1} s ({:.1} %)", row.p50, 100.0 * row.p50_ratio),
                format!("≤ {:.0} % of the generation", 100.0 * DELAY_TARGET),
                row.p50_ratio <= DELAY_TARGET,
            ),
        ],
        (Strategy::CallbackFirst, Timing::Fixed90s) => vec![Figure::checked(
            name("status calls per task"),
            format!("{:.2}", row.calls),
            format!("≤ {CALLBACK_TARGET}"),
            row.calls <= CALLBACK_TARGET,
        )],
        _ => vec![Figure::info(
            name("status calls per task; delay p50 / p95"),
            format!("{:.2}; {:.1} s / {:.1} s", row.calls, row.p50, row.p95),
        )],
    }
}

/// Runs `tasks` tasks one after another under `strategy`, on a fresh emulator.
async fn measure(
    strategy: Strategy,
    timing: Timing,
    tasks: usize,
) -> Result<Vec<Sample>, BoxError> {
    let emulator = Arc::new(
        Emulator::builder()
            .seed(3)
            .frozen(true)
            .credits(1.0e12)
            .start()
            .await?,
    );
    emulator.set_durations(MODEL, timing.durations()?);
    let clock = Arc::new(SharedClock {
        emulator: Arc::clone(&emulator),
        origin_ms: emulator.clock().now_ms,
    });
    let client = Client::builder()
        .api_key(API_KEY)
        .base_url(emulator.base_url())
        .upload_base_url(emulator.upload_base_url())
        .timer(clock.clone())
        .build()?;
    let key = emulator.webhook_key().ok_or("callbacks are unsigned")?;
    let inbox = CallbackInbox::new(client.clone(), CallbackVerifier::new(key.to_owned()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let callback_url = format!("http://{}/", listener.local_addr()?);
    let router = inbox.router();
    let receiver = tokio::spawn(async move { axum::serve(listener, router).await });
    let mut samples = Vec::with_capacity(tasks);
    for i in 0..tasks {
        let input = Hailuo02TextToVideoProInput::new(format!("a glider over the sea, take {i}"));
        let submit = client.submit(&input);
        let task = match strategy {
            Strategy::CallbackFirst => submit.callback_url(&callback_url).await?,
            _ => submit.await?,
        };
        let wait = task.wait();
        let wait = match strategy {
            Strategy::Fixed2s => wait.schedule(PollSchedule::fixed(Duration::from_secs(2))),
            Strategy::Recommended => wait.schedule(PollSchedule::recommended()),
            Strategy::Adaptive => wait,
            Strategy::CallbackFirst => wait.callbacks(&inbox),
        };
        let video = wait.await?;
        let snapshot = emulator.task(task.id()).ok_or("the task vanished")?;
        let completed = video.record.complete_time.ok_or("no completeTime")?;
        samples.push(Sample {
            calls: f64::from(snapshot.polls),
            took_s: snapshot.phases.total_ms() as f64 / 1000.0,
            delay_s: (emulator.clock().now_ms - completed) as f64 / 1000.0,
        });
    }
    receiver.abort();
    Ok(samples)
}

/// The emulator's virtual clock as the SDK's [`Timer`].
#[derive(Debug)]
struct SharedClock {
    emulator: Arc<Emulator>,
    origin_ms: i64,
}

/// The longest real time a clock step waits for its callbacks to be delivered.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(10);

impl SharedClock {
    /// Waits until every finished task that asked for a callback has had one delivered.
    async fn settle(emulator: &Emulator) {
        let deadline = Instant::now() + DELIVERY_TIMEOUT;
        loop {
            let due = emulator
                .tasks()
                .iter()
                .filter(|t| {
                    t.callback_url.is_some()
                        && matches!(t.state, TaskState::Success | TaskState::Fail)
                })
                .count();
            let delivered = emulator.stats().callbacks_delivered;
            if delivered >= due as u64 || Instant::now() >= deadline {
                return;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
}

impl Timer for SharedClock {
    fn now(&self) -> Duration {
        let ms = self.emulator.clock().now_ms.saturating_sub(self.origin_ms);
        Duration::from_millis(u64::try_from(ms).unwrap_or(0))
    }

    fn sleep(&self, duration: Duration) -> Sleep {
        let emulator = Arc::clone(&self.emulator);
        Box::pin(async move {
            let mut left = duration;
            while !left.is_zero() {
                let step = left.min(Duration::from_secs(1));
                emulator.advance(step);
                left -= step;
                Self::settle(&emulator).await;
                // Let a wait that races this sleep see a callback that just arrived.
                tokio::task::yield_now().await;
            }
        })
    }
}

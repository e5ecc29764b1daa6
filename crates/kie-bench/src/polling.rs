//! Benchmark 3: status calls per task for a 90-second generation, under the default
//! waiting schedule, fixed 2 s polling, and callback-first waiting.
//!
//! Nothing waits 90 real seconds. The emulator's clock is frozen, and the SDK is given
//! a [`Timer`] that reads that clock and sleeps by advancing it, so the SDK and the
//! emulator share one virtual time. A sleep advances the clock in steps of at most one
//! second; after each step it waits (in real time) until every callback the step made
//! due has been delivered, so that callback-first waiting sees its callback at the
//! virtual moment it was sent, as it would live. Tasks run one after another (they
//! share the clock), and each task's recordInfo count is the emulator's own.

use std::sync::Arc;
use std::time::{Duration, Instant};

use kie_core::time::{Sleep, Timer};
use kie_core::{CallbackInbox, CallbackVerifier, Client, PollSchedule};
use kie_emulator::{Emulator, Phases, TaskState};
use kie_hailuo::Hailuo02TextToVideoProInput;

use crate::report::{Figure, Section};
use crate::stats::Spread;
use crate::{API_KEY, BoxError, Options};

const MODEL: &str = "hailuo/02-text-to-video-pro";
/// Waiting 2 s, queuing 8 s, generating 80 s: 90 s from creation to `success`.
const PHASES: Phases = Phases {
    waiting_ms: 2_000,
    queuing_ms: 8_000,
    generating_ms: 80_000,
};
const CALLBACK_TARGET: f64 = 1.0;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Strategy {
    Recommended,
    Fixed2s,
    CallbackFirst,
}

impl Strategy {
    fn describe(self) -> &'static str {
        match self {
            Strategy::Recommended => "default schedule (`PollSchedule::recommended()`)",
            Strategy::Fixed2s => "fixed 2 s (`PollSchedule::fixed(2 s)`)",
            Strategy::CallbackFirst => "callback-first (`wait().callbacks(&inbox)`)",
        }
    }
}

/// Per task: recordInfo calls, and virtual seconds from creation to the wait's end.
struct Sample {
    calls: f64,
    latency_s: f64,
}

/// Runs the benchmark.
pub async fn run(options: &Options) -> Result<Section, BoxError> {
    let mut rows = String::new();
    let mut figures = Vec::new();
    let mut means = Vec::new();
    for strategy in [
        Strategy::Recommended,
        Strategy::Fixed2s,
        Strategy::CallbackFirst,
    ] {
        let samples = measure(strategy, options.polling_tasks).await?;
        let calls: Vec<f64> = samples.iter().map(|s| s.calls).collect();
        let latency: Vec<f64> = samples.iter().map(|s| s.latency_s).collect();
        let mean = calls.iter().sum::<f64>() / calls.len().max(1) as f64;
        let calls = Spread::of(&calls).ok_or("no tasks")?;
        let latency = Spread::of(&latency).ok_or("no tasks")?;
        rows.push_str(&format!(
            "| {} | {mean:.2} | {:.0}–{:.0} | {:.1} (max {:.1}) |\n",
            strategy.describe(),
            calls.min,
            calls.max,
            latency.median,
            latency.max
        ));
        means.push(mean);
        let name = format!("status calls per task, {}", strategy.describe());
        figures.push(match strategy {
            Strategy::CallbackFirst => Figure::checked(
                name,
                format!("{mean:.2}"),
                format!("≤ {CALLBACK_TARGET}"),
                calls.max <= CALLBACK_TARGET,
            ),
            _ => Figure::info(name, format!("{mean:.2}")),
        });
    }
    let details = format!(
        "A 90 s generation (waiting 2 s, queuing 8 s, generating 80 s) on an in-process \
         emulator with a frozen clock, shared with the SDK through a `Timer` whose sleeps \
         advance it (so no real waiting). {n} tasks per strategy, one after another; \
         calls are recordInfo requests the emulator counted for each task.\n\n\
         | strategy | recordInfo calls per task (mean) | min–max | virtual s from creation to result: median (max) |\n\
         |---|---|---|---|\n{rows}\n\
         The default schedule makes {ratio:.0} % of fixed 2 s polling's calls. \
         Callback-first waiting sleeps on the 2-3 minute fallback schedule, wakes on the \
         signed callback (delivered over HTTP to a `CallbackInbox` served by axum) and \
         confirms it with one recordInfo call.",
        n = options.polling_tasks,
        ratio = 100.0 * means[0] / means[1],
    );
    Ok(Section {
        title: "3. status calls for a 90 s generation",
        figures,
        details,
    })
}

/// Runs `tasks` tasks one after another under `strategy`, on a fresh emulator.
async fn measure(strategy: Strategy, tasks: usize) -> Result<Vec<Sample>, BoxError> {
    let emulator = Arc::new(
        Emulator::builder()
            .seed(3)
            .frozen(true)
            .credits(1.0e12)
            .start()
            .await?,
    );
    emulator.set_phases(MODEL, PHASES);
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
        let created = clock.now();
        let (task, wait) = match strategy {
            Strategy::Recommended => {
                let task = client.submit(&input).await?;
                let wait = task.wait();
                (task, wait)
            }
            Strategy::Fixed2s => {
                let task = client.submit(&input).await?;
                let wait = task
                    .wait()
                    .schedule(PollSchedule::fixed(Duration::from_secs(2)));
                (task, wait)
            }
            Strategy::CallbackFirst => {
                let task = client.submit(&input).callback_url(&callback_url).await?;
                let wait = task.wait().callbacks(&inbox);
                (task, wait)
            }
        };
        wait.await?;
        let latency = clock.now().saturating_sub(created);
        let calls = emulator.task(task.id()).ok_or("the task vanished")?.polls;
        samples.push(Sample {
            calls: f64::from(calls),
            latency_s: latency.as_secs_f64(),
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

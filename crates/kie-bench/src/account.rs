//! Benchmark 9: a whole account's work at kie.ai's limits, all in one run.
//!
//! 10,000 tasks submitted at once, against an emulator that enforces kie.ai's limits
//! (20 createTask per 10 s, 10 recordInfo per second) on its virtual clock and draws
//! each task's generation time from a distribution; first through one `Client` in one
//! worker process, then split across four worker processes that share the account's
//! budget through Redis. Each worker is a separate process, so its peak RSS is its own.
//!
//! Nothing waits 10,000 / 2 = 5,000 real seconds: the emulator's clock runs
//! [`SPEED`] times faster than real time, and every worker reads the same virtual
//! clock ([`ScaledClock`]: the emulator's virtual time at an anchor, plus the wall time
//! since, times the speed), so the SDK's pacing, schedules and the Redis budget all run
//! on the emulator's time. What the figures say about the limits is measured by the
//! emulator itself (its requests per window, its 429s, its created-task count).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clap::Args;
use kie_core::budget::RedisBudget;
use kie_core::time::{Sleep, Timer};
use kie_core::{Client, Error};
use kie_emulator::{Durations, Emulator, TaskSnapshot, Timeline};
use kie_hailuo::Hailuo02TextToVideoProInput;
use serde::{Deserialize, Serialize};

use crate::child::run_worker;
use crate::redis::RedisServer;
use crate::report::{Figure, Section};
use crate::stats::quantile;
use crate::{API_KEY, BoxError, Options, mib};

/// Virtual seconds per real second.
pub const SPEED: f64 = 10.0;
/// kie.ai's createTask limit: this many per [`CREATE_WINDOW_S`].
const CREATES_PER_WINDOW: u64 = 20;
const CREATE_WINDOW_S: f64 = 10.0;
/// kie.ai's recordInfo limit per second.
const POLLS_PER_SECOND: u64 = 10;
const WALL_RATIO_TARGET: f64 = 1.05;
const RSS_TARGET_MIB: f64 = 100.0;
const PROCESSES: usize = 4;

/// `worker account`: one process's share of the account's work.
#[derive(Debug, Clone, Args)]
pub struct WorkerArgs {
    #[arg(long)]
    pub base_url: String,
    #[arg(long)]
    pub tasks: usize,
    /// The emulator's virtual time (Unix ms) at `anchor_wall_ms`.
    #[arg(long)]
    pub anchor_virtual_ms: i64,
    /// The wall-clock time (Unix ms) of the anchor.
    #[arg(long)]
    pub anchor_wall_ms: i64,
    #[arg(long, default_value_t = SPEED)]
    pub speed: f64,
    /// Share the budget through this Redis server.
    #[arg(long)]
    pub redis: Option<String>,
    /// The budget's key prefix in Redis (one per run).
    #[arg(long, default_value = "kie-bench")]
    pub prefix: String,
    /// This process's share of the account should Redis fail.
    #[arg(long, default_value_t = 1.0)]
    pub share: f64,
    /// Makes prompts unique across processes.
    #[arg(long, default_value = "w0")]
    pub label: String,
}

/// What a worker measured, times in virtual Unix milliseconds.
#[derive(Debug, Serialize, Deserialize)]
pub struct Outcome {
    pub succeeded: usize,
    pub errors: BTreeMap<String, usize>,
    pub first_error: Option<String>,
    pub started_ms: i64,
    pub finished_ms: i64,
    /// Per task: from its completion to its wait returning.
    pub delays_ms: Vec<i64>,
    /// Submits that had to queue for their turn.
    pub queued: usize,
    pub peak_rss_kib: u64,
}

/// The emulator's virtual clock, read from the wall clock: the same in every process
/// given the same anchor.
#[derive(Debug, Clone, Copy)]
pub struct ScaledClock {
    anchor_virtual_ms: i64,
    anchor_wall_ms: i64,
    speed: f64,
}

impl ScaledClock {
    /// Virtual Unix milliseconds now.
    pub fn now_ms(&self) -> i64 {
        let wall = wall_ms();
        self.anchor_virtual_ms + ((wall - self.anchor_wall_ms) as f64 * self.speed) as i64
    }
}

impl Timer for ScaledClock {
    fn now(&self) -> Duration {
        Duration::from_millis(u64::try_from(self.now_ms()).unwrap_or(0))
    }

    fn sleep(&self, duration: Duration) -> Sleep {
        Box::pin(tokio::time::sleep(duration.div_f64(self.speed)))
    }
}

fn wall_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// One configuration's run, as the emulator and the workers saw it.
struct Run {
    outcomes: Vec<Outcome>,
    tasks: Vec<TaskSnapshot>,
    stats: kie_emulator::Stats,
}

/// Runs the benchmark.
pub async fn run(options: &Options) -> Result<Section, BoxError> {
    let durations = Durations::uniform(Duration::from_secs(60), Duration::from_secs(300))?;
    let mut figures = Vec::new();
    let mut details = String::new();
    let single = measure(options.account_tasks, durations, None).await?;
    describe(
        &single,
        "one `Client`, one process",
        &mut figures,
        &mut details,
    );
    match RedisServer::start(options.redis.as_deref()).await {
        Ok(redis) => {
            let shared = measure(options.account_tasks, durations, Some(&redis.url)).await?;
            let what = format!("{PROCESSES} processes sharing the account through Redis");
            describe(&shared, &what, &mut figures, &mut details);
        }
        Err(why) => {
            figures.push(Figure::checked(
                format!("{PROCESSES} processes through Redis"),
                format!("not run: {why}"),
                "run",
                false,
            ));
        }
    }
    Ok(Section {
        title: "9. the whole account at kie.ai's limits",
        figures,
        details: format!(
            "{n} tasks of `hailuo/02-text-to-video-pro` submitted at once (each a tokio task \
             doing `client.submit(&input).await?.wait().await` with every default: the \
             adaptive schedule, kie.ai's rates), against an emulator enforcing kie.ai's \
             limits on a virtual clock running {SPEED}x real time, each task's generation \
             time drawn uniformly from 60-300 s. The limit-bound minimum is when the last \
             task could have finished had every create gone out at exactly 20 per 10 s: \
             the largest, over tasks in creation order k, of 10 s x floor(k / 20) plus the \
             task's drawn time. Creates, polls per window, 429s and status calls are the \
             emulator's counts; detection delay is from a task's completion to its wait \
             returning.\n\n{details}",
            n = options.account_tasks,
        ),
    })
}

/// Runs `tasks` tasks in one worker, or split across [`PROCESSES`] sharing `redis`.
async fn measure(tasks: usize, durations: Durations, redis: Option<&str>) -> Result<Run, BoxError> {
    let emulator = Emulator::builder()
        .seed(9)
        .speed(SPEED)
        .rate_limits(true)
        .credits(1.0e15)
        .timeline(Timeline::Time)
        .durations(durations)
        .start()
        .await?;
    let anchor_wall_ms = wall_ms();
    let anchor_virtual_ms = emulator.clock().now_ms;
    let processes = if redis.is_some() { PROCESSES } else { 1 };
    let prefix = format!("kie-bench-{anchor_wall_ms}");
    let workers = (0..processes).map(|p| {
        let share = tasks / processes + usize::from(p < tasks % processes);
        let mut args: Vec<String> = [
            "account",
            "--base-url",
            emulator.base_url(),
            "--prefix",
            &prefix,
        ]
        .map(str::to_owned)
        .into();
        args.extend([
            "--tasks".into(),
            share.to_string(),
            "--anchor-virtual-ms".into(),
            anchor_virtual_ms.to_string(),
            "--anchor-wall-ms".into(),
            anchor_wall_ms.to_string(),
            "--speed".into(),
            SPEED.to_string(),
            "--label".into(),
            format!("w{p}"),
            "--share".into(),
            (1.0 / processes as f64).to_string(),
        ]);
        if let Some(url) = redis {
            args.extend(["--redis".into(), url.to_owned()]);
        }
        async move { run_worker::<Outcome>(&args).await }
    });
    let outcomes = futures_util::future::try_join_all(workers).await?;
    let run = Run {
        outcomes,
        tasks: emulator.tasks(),
        stats: emulator.stats(),
    };
    emulator.shutdown().await;
    Ok(run)
}

/// Adds one run's figures and its details.
fn describe(run: &Run, what: &str, figures: &mut Vec<Figure>, details: &mut String) {
    let submitted: usize = run.outcomes.iter().map(|o| o.succeeded).sum::<usize>()
        + run
            .outcomes
            .iter()
            .flat_map(|o| o.errors.values())
            .sum::<usize>();
    let errors: usize = run.outcomes.iter().flat_map(|o| o.errors.values()).sum();
    let created = run.stats.tasks_created as usize;
    let started = run.outcomes.iter().map(|o| o.started_ms).min().unwrap_or(0);
    let finished = run
        .outcomes
        .iter()
        .map(|o| o.finished_ms)
        .max()
        .unwrap_or(0);
    let wall_s = (finished - started) as f64 / 1000.0;
    let minimum_s = limit_bound_minimum(&run.tasks);
    let ratio = wall_s / minimum_s;
    let calls: Vec<f64> = run.tasks.iter().map(|t| f64::from(t.polls)).collect();
    let calls_mean = calls.iter().sum::<f64>() / calls.len().max(1) as f64;
    let delays: Vec<f64> = run
        .outcomes
        .iter()
        .flat_map(|o| &o.delays_ms)
        .map(|ms| *ms as f64 / 1000.0)
        .collect();
    let (p50, p95) = (quantile(&delays, 0.5), quantile(&delays, 0.95));
    let rss = run
        .outcomes
        .iter()
        .map(|o| mib(o.peak_rss_kib))
        .fold(0.0, f64::max);
    let peak_creates = run.stats.peak_create_task_per_10s;
    let peak_polls = run.stats.peak_record_info_per_second;
    let queued: usize = run.outcomes.iter().map(|o| o.queued).sum();
    figures.extend([
        Figure::checked(
            format!("{what}: errors"),
            format!("{errors} of {submitted}"),
            "0",
            errors == 0,
        ),
        Figure::checked(
            format!("{what}: duplicate creates"),
            format!("{}", created.saturating_sub(submitted)),
            "0",
            created == submitted,
        ),
        Figure::checked(
            format!("{what}: most creates in any 10 s / polls in any 1 s (429s)"),
            format!("{peak_creates} / {peak_polls} ({})", run.stats.rate_limited),
            format!("≤ {CREATES_PER_WINDOW} / ≤ {POLLS_PER_SECOND} (0)"),
            peak_creates <= CREATES_PER_WINDOW
                && peak_polls <= POLLS_PER_SECOND
                && run.stats.rate_limited == 0,
        ),
        Figure::checked(
            format!("{what}: wall time / limit-bound minimum"),
            format!("{ratio:.3} ({wall_s:.0} s / {minimum_s:.0} s virtual)"),
            format!("≤ {WALL_RATIO_TARGET}"),
            ratio <= WALL_RATIO_TARGET,
        ),
        Figure::info(
            format!("{what}: status calls per task; detection delay p50 / p95"),
            format!("{calls_mean:.2}; {p50:.1} s / {p95:.1} s"),
        ),
        Figure::checked(
            format!("{what}: peak RSS of a client process"),
            format!("{rss:.1} MiB"),
            format!("≤ {RSS_TARGET_MIB:.0} MiB"),
            rss <= RSS_TARGET_MIB,
        ),
    ]);
    let first = run
        .outcomes
        .iter()
        .find_map(|o| o.first_error.as_deref())
        .map(|e| format!(" First error: {e}."))
        .unwrap_or_default();
    let per_process: Vec<String> = run
        .outcomes
        .iter()
        .map(|o| {
            format!(
                "{} tasks in {:.0} s",
                o.succeeded,
                (o.finished_ms - o.started_ms) as f64 / 1000.0
            )
        })
        .collect();
    details.push_str(&format!(
        "**{what}.** {created} tasks created for {submitted} submitted; {queued} submits \
         queued for their turn. The emulator saw at most {peak_creates} createTask in any \
         10 s and {peak_polls} recordInfo in any second, and refused {rl} requests with \
         429. Wall time {wall_s:.0} virtual s against a limit-bound minimum of \
         {minimum_s:.0} s ({ratio:.3}x). Status calls per task {calls_mean:.2} (all \
         recordInfo the emulator counted, divided by tasks). Detection delay p50 {p50:.1} \
         s, p95 {p95:.1} s, max {max:.1} s. Per process: {per_process}. Peak RSS of the \
         largest client process {rss:.1} MiB.{first}\n\n",
        rl = run.stats.rate_limited,
        max = delays.iter().copied().fold(0.0, f64::max),
        per_process = per_process.join("; "),
    ));
}

/// When the last task could have finished at best: creates at exactly the limit, each
/// task taking its drawn time. In virtual seconds from the first create.
fn limit_bound_minimum(tasks: &[TaskSnapshot]) -> f64 {
    let mut by_creation: Vec<&TaskSnapshot> = tasks.iter().collect();
    by_creation.sort_by_key(|t| t.created_ms);
    by_creation
        .iter()
        .enumerate()
        .map(|(k, t)| {
            (k as u64 / CREATES_PER_WINDOW) as f64 * CREATE_WINDOW_S
                + t.phases.total_ms() as f64 / 1000.0
        })
        .fold(0.0, f64::max)
}

/// The worker: submits its tasks at once, waits for each, and reports.
pub async fn worker(args: WorkerArgs) -> Result<Outcome, BoxError> {
    let clock = Arc::new(ScaledClock {
        anchor_virtual_ms: args.anchor_virtual_ms,
        anchor_wall_ms: args.anchor_wall_ms,
        speed: args.speed,
    });
    let mut builder = Client::builder()
        .api_key(API_KEY)
        .base_url(&args.base_url)
        .upload_base_url(&args.base_url)
        .timer(clock.clone());
    if let Some(url) = &args.redis {
        let budget = RedisBudget::builder(url.as_str())
            .prefix(args.prefix.clone())
            .share(args.share)
            .timer(clock.clone())
            .build()
            .await?;
        builder = builder.budget(Arc::new(budget));
    }
    let client = builder.build()?;
    let started_ms = clock.now_ms();
    let queued = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut set = tokio::task::JoinSet::new();
    for i in 0..args.tasks {
        let (client, clock, queued) = (client.clone(), *clock, queued.clone());
        let prompt = format!("a glider over the sea, {} take {i}", args.label);
        set.spawn(async move {
            let input = Hailuo02TextToVideoProInput::new(prompt);
            let mut counted = false;
            let task = client
                .submit(&input)
                .on_queued(move |_| {
                    if !counted {
                        counted = true;
                        queued.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                })
                .await?;
            let video = task.wait().max_wait(Duration::from_secs(2 * 3600)).await?;
            let done_ms = clock.now_ms();
            Ok::<_, Error>(done_ms - video.record.complete_time.unwrap_or(done_ms))
        });
    }
    let mut outcome = Outcome {
        succeeded: 0,
        errors: BTreeMap::new(),
        first_error: None,
        started_ms,
        finished_ms: started_ms,
        delays_ms: Vec::with_capacity(args.tasks),
        queued: 0,
        peak_rss_kib: 0,
    };
    while let Some(joined) = set.join_next().await {
        match joined {
            Ok(Ok(delay)) => {
                outcome.succeeded += 1;
                outcome.delays_ms.push(delay);
            }
            Ok(Err(error)) => {
                *outcome.errors.entry(crate::error_kind(&error)).or_default() += 1;
                outcome.first_error.get_or_insert(error.to_string());
            }
            Err(join) => {
                *outcome.errors.entry("panic".to_owned()).or_default() += 1;
                outcome.first_error.get_or_insert(join.to_string());
            }
        }
    }
    outcome.finished_ms = clock.now_ms();
    outcome.queued = queued.load(std::sync::atomic::Ordering::Relaxed);
    outcome.peak_rss_kib = crate::machine::peak_rss_kib().unwrap_or(0);
    Ok(outcome)
}

//! Benchmark 2: 10,000 tasks submitted and awaited at once by one SDK client, against
//! an emulator that finishes each task on its third recordInfo, with rate limits off.
//!
//! The SDK runs in a worker process of its own (the emulator in another), so its peak
//! RSS is the SDK's alone: one `Client`, one spawned tokio task per video doing
//! `client.submit(&input).await?.wait().await` with the default waiting schedule
//! (the adaptive one, which with nothing learnt yet backs off from 2 s).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use clap::Args;
use kie_core::Error;
use kie_hailuo::Hailuo02TextToVideoProInput;
use serde::{Deserialize, Serialize};

use crate::child::{Server, run_worker};
use crate::report::{Figure, Section};
use crate::{BoxError, Options, mib, sdk_client};

const RSS_TARGET_MIB: f64 = 100.0;
const POLLS: &str = "3";

/// What the worker measured.
#[derive(Debug, Serialize, Deserialize)]
pub struct Outcome {
    pub tasks: usize,
    pub succeeded: usize,
    pub errors: BTreeMap<String, usize>,
    pub first_error: Option<String>,
    pub submitted_s: f64,
    pub wall_s: f64,
    pub peak_rss_kib: u64,
}

/// `worker concurrent`: the measured side.
#[derive(Debug, Clone, Args)]
pub struct WorkerArgs {
    #[arg(long)]
    pub base_url: String,
    /// Tasks to run; 0 measures the process with a client and one request (the floor).
    #[arg(long)]
    pub tasks: usize,
}

/// Runs the benchmark.
pub async fn run(options: &Options) -> Result<Section, BoxError> {
    let emulator = Server::start(&[
        "serve-emulator",
        "--timeline",
        "after-polls",
        "--polls",
        POLLS,
    ])
    .await?;
    let worker = |tasks: usize| {
        let args = ["concurrent", "--base-url", &emulator.url, "--tasks"]
            .map(str::to_owned)
            .into_iter()
            .chain([tasks.to_string()])
            .collect::<Vec<_>>();
        async move { run_worker::<Outcome>(&args).await }
    };
    let floor = worker(0).await?;
    let outcome = worker(options.tasks).await?;
    let stats: serde_json::Value = reqwest::get(format!("{}/_emulator/stats", emulator.url))
        .await?
        .json()
        .await?;
    let requests = |endpoint: &str| stats["requests"][endpoint].as_u64().unwrap_or(0);
    let error_count: usize = outcome.errors.values().sum();
    let rss = mib(outcome.peak_rss_kib);
    let details = format!(
        "An emulator in its own process (tasks finish on their {POLLS}rd recordInfo, rate \
         limits off); the SDK in a worker process: {tasks} tokio tasks spawned at once, each \
         `client.submit(&input).await?.wait().await` (default schedule, default client: at \
         most 32 API calls in flight). Wall time from the \
         first submit to the last result; the last createTask was answered after {submitted:.1} s. \
         The emulator counted {creates} createTask and {records} recordInfo requests. \
         Peak RSS is the worker's VmHWM; a worker that builds the client and makes one \
         request peaks at {floor:.1} MiB (the floor: runtime, TLS roots, binary). \
         Errors by kind: {errors}{first}.",
        tasks = outcome.tasks,
        submitted = outcome.submitted_s,
        creates = requests("create_task"),
        records = requests("record_info"),
        floor = mib(floor.peak_rss_kib),
        errors = if outcome.errors.is_empty() {
            "none".to_owned()
        } else {
            format!("{:?}", outcome.errors)
        },
        first = outcome
            .first_error
            .as_deref()
            .map(|e| format!("; first: {e}"))
            .unwrap_or_default(),
    );
    Ok(Section {
        title: "2. 10,000 concurrent tasks",
        figures: vec![
            Figure::info(
                "wall time",
                format!(
                    "{:.1} s ({:.0} tasks/s)",
                    outcome.wall_s,
                    outcome.tasks as f64 / outcome.wall_s
                ),
            ),
            Figure::checked(
                "peak RSS of the SDK process",
                format!("{rss:.1} MiB"),
                format!("≤ {RSS_TARGET_MIB:.0} MiB"),
                rss <= RSS_TARGET_MIB,
            ),
            Figure::checked(
                "errors",
                format!("{error_count} of {}", outcome.tasks),
                "0",
                error_count == 0 && outcome.succeeded == outcome.tasks,
            ),
        ],
        details,
    })
}

/// The worker: submits and awaits `tasks` videos at once, then reports.
pub async fn worker(args: WorkerArgs) -> Result<Outcome, BoxError> {
    let client = sdk_client(&args.base_url)?;
    if args.tasks == 0 {
        client.credits().await?;
    }
    let started = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for i in 0..args.tasks {
        let client = client.clone();
        set.spawn(async move {
            let input = Hailuo02TextToVideoProInput::new(format!("bench task {i}"));
            let task = client.submit(&input).await;
            let submitted = started.elapsed();
            let video = match task {
                Ok(task) => task.wait().await.map(|_| ()),
                Err(error) => Err(error),
            };
            (submitted, video)
        });
    }
    let mut outcome = Outcome {
        tasks: args.tasks,
        succeeded: 0,
        errors: BTreeMap::new(),
        first_error: None,
        submitted_s: 0.0,
        wall_s: 0.0,
        peak_rss_kib: 0,
    };
    let mut last_submitted = Duration::ZERO;
    while let Some(joined) = set.join_next().await {
        let result = joined.map(|(submitted, video)| {
            last_submitted = last_submitted.max(submitted);
            video
        });
        record(&mut outcome, result);
    }
    outcome.submitted_s = last_submitted.as_secs_f64();
    outcome.wall_s = started.elapsed().as_secs_f64();
    outcome.peak_rss_kib = crate::machine::peak_rss_kib().unwrap_or(0);
    Ok(outcome)
}

fn record(outcome: &mut Outcome, joined: Result<Result<(), Error>, tokio::task::JoinError>) {
    let error = match joined {
        Ok(Ok(())) => {
            outcome.succeeded += 1;
            return;
        }
        Ok(Err(error)) => {
            let kind = crate::error_kind(&error);
            *outcome.errors.entry(kind).or_default() += 1;
            error.to_string()
        }
        Err(join) => {
            *outcome.errors.entry("panic".to_owned()).or_default() += 1;
            join.to_string()
        }
    };
    outcome.first_error.get_or_insert(error);
}

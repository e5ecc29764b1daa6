//! Benchmark 6: what a hostile server, or the account's own limits, cost a client.
//!
//! - A 1 GiB answer to a credits call (an emulator fault: a success envelope whose
//!   `data` runs to 1 GiB, streamed without a length): the client's peak RSS with the
//!   SDK's answer limit (4 MiB by default), and with the limit lifted, which reads the
//!   whole answer as the SDK did before it had one.
//! - 1,000 createTask at once through one client against an emulator that enforces
//!   kie.ai's limits (20 per 10 s) in real time: tasks created and calls failed, paced
//!   (the SDK's default) and unpaced (as before pacing).
//!
//! Each client runs in a worker process of its own, so each peak RSS is its alone.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use clap::{Args, ValueEnum};
use kie_core::{Client, Rate, RawInput};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::child::{Server, run_worker};
use crate::report::{Figure, Section};
use crate::{API_KEY, BoxError, Options, mib};

/// The oversized answer.
const HUGE_BYTES: u64 = 1 << 30;
/// The peak RSS the limited client must stay under.
const RSS_TARGET_MIB: f64 = 64.0;

/// What a worker does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
pub enum Scenario {
    /// `client.credits()` against the 1 GiB answer, with the default limit.
    HugeAnswer,
    /// The same with the limit lifted (`max_answer_bytes(u64::MAX)`).
    HugeAnswerUnlimited,
    /// `--tasks` concurrent submits with the default pacing.
    Paced,
    /// The same with pacing off (`create_rate(None)`).
    Unpaced,
}

/// `worker hostile`: the measured side.
#[derive(Debug, Clone, Args)]
pub struct WorkerArgs {
    #[arg(long)]
    pub base_url: String,
    #[arg(long, value_enum)]
    pub scenario: Scenario,
    #[arg(long, default_value_t = 1000)]
    pub tasks: usize,
}

/// What the worker measured.
#[derive(Debug, Serialize, Deserialize)]
pub struct Outcome {
    pub peak_rss_kib: u64,
    pub ok: usize,
    pub errors: BTreeMap<String, usize>,
    pub first_error: Option<String>,
    pub wall_s: f64,
}

/// Runs the benchmark.
pub async fn run(options: &Options) -> Result<Section, BoxError> {
    let mut figures = Vec::new();
    let mut details = String::new();

    // The 1 GiB answer.
    let emulator = Server::start(&["serve-emulator"]).await?;
    reqwest::Client::new()
        .post(format!("{}/_emulator/faults", emulator.url))
        .json(&json!({"endpoint": "credit", "effect": {"kind": "oversized", "bytes": HUGE_BYTES}}))
        .send()
        .await?
        .error_for_status()?;
    let limited = worker(&emulator.url, Scenario::HugeAnswer, 0).await?;
    let unlimited = worker(&emulator.url, Scenario::HugeAnswerUnlimited, 0).await?;
    drop(emulator);
    let rss = mib(limited.peak_rss_kib);
    figures.push(Figure::checked(
        "1 GiB credits answer: peak RSS, 4 MiB answer limit (default)",
        format!(
            "{rss:.1} MiB ({})",
            limited.first_error.as_deref().unwrap_or("no error")
        ),
        format!("≤ {RSS_TARGET_MIB} MiB, ErrorKind::AnswerTooLarge"),
        rss <= RSS_TARGET_MIB && limited.errors.contains_key("AnswerTooLarge"),
    ));
    figures.push(Figure::info(
        "1 GiB credits answer: peak RSS, limit lifted (as before the limit)",
        format!(
            "{:.1} MiB ({})",
            mib(unlimited.peak_rss_kib),
            unlimited.first_error.as_deref().unwrap_or("no error")
        ),
    ));
    details.push_str(&format!(
        "An emulator in its own process answers `GET /api/v1/chat/credit` with a success \
         envelope whose `data` string runs to {HUGE_BYTES} bytes, streamed without a \
         `Content-Length` (fault `oversized`). A worker process builds a client and calls \
         `credits()` once; its peak RSS is its VmHWM. With the default limit the read stops \
         at 4 MiB ({:.2} s); lifted, the client reads the whole answer into memory and then \
         fails to decode it ({:.2} s).\n\n",
        limited.wall_s, unlimited.wall_s
    ));

    // 1,000 submits against kie.ai's limits, in real time.
    let tasks = options.hostile_tasks;
    let emulator = Server::start(&["serve-emulator", "--rate-limits"]).await?;
    let unpaced = worker(&emulator.url, Scenario::Unpaced, tasks).await?;
    drop(emulator);
    let emulator = Server::start(&["serve-emulator", "--rate-limits"]).await?;
    let paced = worker(&emulator.url, Scenario::Paced, tasks).await?;
    let stats: serde_json::Value = reqwest::get(format!("{}/_emulator/stats", emulator.url))
        .await?
        .json()
        .await?;
    drop(emulator);
    let failed = |o: &Outcome| o.errors.values().sum::<usize>();
    let minimum = (tasks.div_ceil(20) - 1) as f64 * 10.0;
    figures.push(Figure::checked(
        format!("{tasks} concurrent submits, kie.ai's limits enforced: created / failed, paced (default)"),
        format!(
            "{} / {} in {:.0} s (the limit allows {minimum:.0} s); 429s answered: {}",
            paced.ok,
            failed(&paced),
            paced.wall_s,
            stats["rate_limited"]
        ),
        format!("{tasks} / 0"),
        paced.ok == tasks && failed(&paced) == 0,
    ));
    figures.push(Figure::info(
        format!("{tasks} concurrent submits, kie.ai's limits enforced: created / failed, unpaced (as before pacing)"),
        format!(
            "{} / {} in {:.0} s ({})",
            unpaced.ok,
            failed(&unpaced),
            unpaced.wall_s,
            unpaced.first_error.as_deref().unwrap_or("no error")
        ),
    ));
    details.push_str(&format!(
        "An emulator in its own process enforces kie.ai's documented limits on a real-time \
         clock (20 createTask per 10 s per key, answered 429 with `Retry-After` beyond). A \
         worker process spawns {tasks} tokio tasks at once, each `client.submit(&input)` on \
         one client with the default retry policy (4 attempts, 60 s in all). Paced, the \
         client queues the creates and sends them as the limit allows (a place is held \
         until 10.25 s after its answer); unpaced (`create_rate(None)`), the burst meets \
         the limit, and the retries of the refused calls with it. Errors by kind: paced \
         {:?}, unpaced {:?}.\n",
        paced.errors, unpaced.errors
    ));
    Ok(Section {
        title: "6. Hostile answers and the account's limits",
        figures,
        details,
    })
}

async fn worker(base: &str, scenario: Scenario, tasks: usize) -> Result<Outcome, BoxError> {
    let scenario = match scenario {
        Scenario::HugeAnswer => "huge-answer",
        Scenario::HugeAnswerUnlimited => "huge-answer-unlimited",
        Scenario::Paced => "paced",
        Scenario::Unpaced => "unpaced",
    };
    let args = [
        "hostile",
        "--base-url",
        base,
        "--scenario",
        scenario,
        "--tasks",
        &tasks.to_string(),
    ]
    .map(str::to_owned);
    run_worker(&args).await
}

/// The worker: one scenario, then its peak RSS.
pub async fn worker_main(args: WorkerArgs) -> Result<Outcome, BoxError> {
    let builder = Client::builder()
        .api_key(API_KEY)
        .base_url(&args.base_url)
        .upload_base_url(&args.base_url);
    let started = Instant::now();
    let results: Vec<Result<(), kie_core::Error>> = match args.scenario {
        Scenario::HugeAnswer | Scenario::HugeAnswerUnlimited => {
            let builder = if args.scenario == Scenario::HugeAnswerUnlimited {
                builder.max_answer_bytes(u64::MAX)
            } else {
                builder
            };
            vec![builder.build()?.credits().await.map(drop)]
        }
        Scenario::Paced | Scenario::Unpaced => {
            let builder = if args.scenario == Scenario::Unpaced {
                builder.create_rate(None::<Rate>)
            } else {
                builder
            };
            let client = builder.build()?;
            let submits = (0..args.tasks).map(|i| {
                let client = client.clone();
                tokio::spawn(async move {
                    let input = RawInput::new(
                        "hailuo/02-text-to-video-pro",
                        json!({ "prompt": format!("a glider over the sea, take {i}") }),
                    );
                    client.submit(&input).await.map(drop)
                })
            });
            let mut results = Vec::with_capacity(args.tasks);
            for joined in futures_util::future::join_all(submits).await {
                results.push(joined?);
            }
            results
        }
    };
    let wall_s = started.elapsed().as_secs_f64();
    let mut outcome = Outcome {
        peak_rss_kib: crate::machine::peak_rss_kib().unwrap_or(0),
        ok: 0,
        errors: BTreeMap::new(),
        first_error: None,
        wall_s,
    };
    for result in results {
        match result {
            Ok(()) => outcome.ok += 1,
            Err(error) => {
                let kind = format!("{:?}", error.kind());
                let kind = kind.split([' ', '{', '(']).next().unwrap_or_default();
                *outcome.errors.entry(kind.to_owned()).or_default() += 1;
                outcome
                    .first_error
                    .get_or_insert_with(|| short(&error.to_string()));
            }
        }
    }
    Ok(outcome)
}

/// An error's first sentence or so: a kept body excerpt would fill the report.
fn short(text: &str) -> String {
    match text.char_indices().nth(160) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

/// How long the real-time submit scenario takes at kie.ai's limit, for the progress note.
pub fn expected(tasks: usize) -> Duration {
    Duration::from_millis(tasks.div_ceil(20) as u64 * 10_250)
}

//! Benchmark 5: the emulator's recordInfo requests per second, with the emulator in a
//! process of its own (unlike `kie-emulator`'s `throughput` example, which shares one
//! process between server and clients) and keep-alive reqwest clients in the harness.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::child::Server;
use crate::report::{Figure, Section};
use crate::stats::Spread;
use crate::{API_KEY, BoxError, Options, raw_http_client};

const TASKS: usize = 256;
/// A hard cap per run, whatever the duration.
const MAX_REQUESTS: u64 = 5_000_000;

/// Runs the benchmark.
pub async fn run(options: &Options) -> Result<Section, BoxError> {
    let emulator = Server::start(&["serve-emulator", "--timeline", "time", "--frozen"]).await?;
    let http = raw_http_client()?;
    let mut ids = Vec::with_capacity(TASKS);
    for i in 0..TASKS {
        let created: serde_json::Value = http
            .post(format!("{}/api/v1/jobs/createTask", emulator.url))
            .bearer_auth(API_KEY)
            .json(&json!({"model": "hailuo/02-text-to-video-pro", "input": {"prompt": format!("rate {i}")}}))
            .send()
            .await?
            .json()
            .await?;
        let id = created["data"]["taskId"].as_str().ok_or("no task id")?;
        ids.push(format!(
            "{}/api/v1/jobs/recordInfo?taskId={id}",
            emulator.url
        ));
    }
    // 20 virtual seconds in, every task is `generating`: what a polling client sees most.
    http.post(format!("{}/_emulator/clock", emulator.url))
        .json(&json!({"advance_ms": 20_000}))
        .send()
        .await?
        .error_for_status()?;
    let urls = Arc::new(ids);
    let (mut rates, mut errors) = (Vec::new(), 0);
    for _ in 0..options.runs {
        let (ok, failed, elapsed) = hammer(Arc::clone(&urls), options).await?;
        rates.push(ok as f64 / elapsed.as_secs_f64());
        errors += failed;
    }
    let spread = Spread::of(&rates).ok_or("no runs")?;
    let per_run = rates
        .iter()
        .map(|r| format!("{r:.0}"))
        .collect::<Vec<_>>()
        .join(" / ");
    let details = format!(
        "An emulator in its own process (frozen clock, {TASKS} Hailuo tasks, all \
         `generating`); {c} keep-alive reqwest clients in the harness process, each \
         looping over `GET /api/v1/jobs/recordInfo` for {s} s and reading every body, \
         {runs} runs. A request counts when it got a 2xx and its body was read. \
         Requests per second per run: {per_run}; errors: {errors}. Client and server \
         share the machine's cores, so this is a lower bound.",
        c = options.connections,
        s = options.seconds,
        runs = options.runs,
    );
    Ok(Section {
        title: "5. emulator recordInfo throughput",
        figures: vec![Figure::info(
            "recordInfo requests per second",
            format!(
                "{:.0} (runs {:.0}–{:.0}), {errors} errors",
                spread.median, spread.min, spread.max
            ),
        )],
        details,
    })
}

/// `connections` clients for `seconds`: (successes, failures, elapsed).
async fn hammer(
    urls: Arc<Vec<String>>,
    options: &Options,
) -> Result<(u64, u64, Duration), BoxError> {
    let ok = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + Duration::from_secs(options.seconds);
    let mut clients = tokio::task::JoinSet::new();
    for worker in 0..options.connections {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(1)
            .build()?;
        let (urls, ok, failed) = (Arc::clone(&urls), Arc::clone(&ok), Arc::clone(&failed));
        clients.spawn(async move {
            let mut next = worker;
            while Instant::now() < deadline && ok.load(Ordering::Relaxed) < MAX_REQUESTS {
                next = (next + 7) % urls.len();
                let answer = http.get(&urls[next]).bearer_auth(API_KEY).send().await;
                let success = match answer {
                    Ok(response) if response.status().is_success() => {
                        response.bytes().await.is_ok()
                    }
                    _ => false,
                };
                let counter = if success { &ok } else { &failed };
                counter.fetch_add(1, Ordering::Relaxed);
            }
        });
    }
    while clients.join_next().await.transpose()?.is_some() {}
    Ok((
        ok.load(Ordering::Relaxed),
        failed.load(Ordering::Relaxed),
        started.elapsed(),
    ))
}

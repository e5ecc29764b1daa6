//! Measures the emulator's recordInfo throughput over loopback.
//!
//! Starts an emulator in-process, creates a few hundred tasks, then runs `--connections`
//! keep-alive clients for `--seconds` per run (and at most `--max-requests` requests),
//! `--runs` times, for two workloads: recordInfo only, and 10 % createTask / 90 %
//! recordInfo. The clients share the machine's cores with the server, so the figures
//! are lower bounds. Bounded in time and count; loopback only.
//!
//! ```text
//! cargo run --release -p kie-emulator --example throughput -- --seconds 5 --runs 3 --connections 32
//! ```

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use clap::Parser;
use kie_emulator::{Emulator, Phases};
use serde_json::json;

#[derive(Debug, Parser)]
struct Args {
    /// Seconds per run.
    #[arg(long, default_value_t = 5)]
    seconds: u64,
    /// Runs per workload.
    #[arg(long, default_value_t = 3)]
    runs: u32,
    /// Concurrent keep-alive connections.
    #[arg(long, default_value_t = 32)]
    connections: usize,
    /// Hard cap on requests per run.
    #[arg(long, default_value_t = 2_000_000)]
    max_requests: u64,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Workload {
    RecordInfo,
    Mixed,
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let emulator = Emulator::builder()
        .seed(1)
        .frozen(true)
        .credits(1.0e12)
        .start()
        .await?;
    let model = "kling/v2-1-master-text-to-video";
    emulator.set_phases(
        model,
        Phases {
            waiting_ms: 1_000,
            queuing_ms: 1_000,
            generating_ms: 3_600_000,
        },
    );
    let base = emulator.base_url().to_owned();
    let setup = reqwest::Client::builder().no_proxy().build()?;
    let mut ids = Vec::new();
    for i in 0..256 {
        let created: serde_json::Value = setup
            .post(format!("{base}/api/v1/jobs/createTask"))
            .bearer_auth("bench")
            .json(&json!({"model": model, "input": {"prompt": format!("bench {i}")}}))
            .send()
            .await?
            .json()
            .await?;
        ids.push(
            created["data"]["taskId"]
                .as_str()
                .ok_or("no task id")?
                .to_owned(),
        );
    }
    // Every task is now "generating": the common case of a polling client.
    emulator.advance(Duration::from_secs(5));
    let ids = Arc::new(ids);

    println!(
        "workload     run  requests  errors  req/s   (connections={}, seconds={})",
        args.connections, args.seconds
    );
    for workload in [Workload::RecordInfo, Workload::Mixed] {
        for run in 1..=args.runs {
            let (done, errors, elapsed) =
                run_once(&args, &base, model, Arc::clone(&ids), workload).await?;
            println!(
                "{:<12} {run:>3} {done:>9} {errors:>7} {:>7.0}",
                format!("{workload:?}"),
                done as f64 / elapsed.as_secs_f64()
            );
        }
    }
    let stats = emulator.stats();
    println!(
        "emulator {} on {} cores",
        stats.version,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    emulator.shutdown().await;
    Ok(())
}

async fn run_once(
    args: &Args,
    base: &str,
    model: &'static str,
    ids: Arc<Vec<String>>,
    workload: Workload,
) -> Result<(u64, u64, Duration), Box<dyn std::error::Error>> {
    let done = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(args.seconds);
    let started = Instant::now();
    let mut workers = Vec::new();
    for worker in 0..args.connections {
        let client = reqwest::Client::builder()
            .no_proxy()
            .pool_max_idle_per_host(1)
            .build()?;
        let (done, errors, ids, base) = (
            Arc::clone(&done),
            Arc::clone(&errors),
            Arc::clone(&ids),
            base.to_owned(),
        );
        let max = args.max_requests;
        workers.push(tokio::spawn(async move {
            let mut n: usize = worker;
            while Instant::now() < deadline && done.load(Ordering::Relaxed) < max {
                n = n.wrapping_add(7);
                let ok = if workload == Workload::Mixed && n.is_multiple_of(10) {
                    client
                        .post(format!("{base}/api/v1/jobs/createTask"))
                        .bearer_auth("bench")
                        .json(&json!({"model": model, "input": {"prompt": "bench"}}))
                        .send()
                        .await
                        .map(|r| r.status().is_success())
                } else {
                    let id = &ids[n % ids.len()];
                    match client
                        .get(format!("{base}/api/v1/jobs/recordInfo?taskId={id}"))
                        .bearer_auth("bench")
                        .send()
                        .await
                    {
                        Ok(response) => {
                            let status = response.status().is_success();
                            response.bytes().await.map(|_| status)
                        }
                        Err(error) => Err(error),
                    }
                };
                match ok {
                    Ok(true) => done.fetch_add(1, Ordering::Relaxed),
                    _ => errors.fetch_add(1, Ordering::Relaxed),
                };
            }
        }));
    }
    for worker in workers {
        worker.await?;
    }
    Ok((
        done.load(Ordering::Relaxed),
        errors.load(Ordering::Relaxed),
        started.elapsed(),
    ))
}

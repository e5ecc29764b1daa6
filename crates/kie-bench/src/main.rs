//! `kie-bench`: the SDK's benchmarks against hand-written reqwest, on a local emulator,
//! reported as markdown with each figure against its target.
//!
//! ```text
//! cargo run --release -p kie-bench -- all
//! cargo run --release -p kie-bench -- round-trip   # or concurrent, polling, download, throughput, hostile
//! cargo run --release -p kie-bench -- account      # 3. waiting strategies and 9. the whole account
//! cargo run --release -p kie-bench -- build-cost   # cold builds of a program using kie, about 6 minutes
//! cargo run --release -p kie-bench -- build-cost --catalogue [--workspace DIR]...
//! ```
//!
//! Servers and measured variants run in child processes (the harness re-executes
//! itself with hidden subcommands), so that a peak RSS belongs to one variant alone.
//! Everything is on 127.0.0.1, bounded in time and size, and cleans up after itself.

#![forbid(unsafe_code)]

mod account;
mod build_cost;
mod catalogue;
mod child;
mod concurrent;
mod download;
mod hostile;
mod machine;
mod plot;
mod polling;
mod redis;
mod report;
mod round_trip;
mod servers;
mod stats;
mod throughput;

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use kie_core::{Client, Rate};

use crate::report::Section;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The key sent to the emulator (which accepts any).
const API_KEY: &str = "kie-bench";

/// Benchmarks of the kie-rs SDK against raw reqwest, on a local emulator.
#[derive(Debug, Parser)]
#[command(name = "kie-bench")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Every benchmark, one report.
    All(Options),
    /// 1. createTask + recordInfo through the SDK vs raw reqwest.
    RoundTrip(Options),
    /// 2. Tasks submitted and awaited concurrently: wall time, peak RSS, errors.
    Concurrent(Options),
    /// 3. Status calls per task and detection delay per waiting strategy, for fixed and
    ///    spread generation times (and their plot).
    Polling(Options),
    /// 4. A streamed download through the SDK vs raw reqwest: throughput, peak RSS.
    Download(Options),
    /// 5. The emulator's recordInfo requests per second.
    Throughput(Options),
    /// 6. A 1 GiB answer and 1,000 submits against kie.ai's limits: peak RSS, created/failed.
    Hostile(Options),
    /// 3. and 9.: the waiting strategies, then 10,000 tasks at kie.ai's limits through one
    ///    client and through 4 processes sharing a Redis budget (about 12 minutes).
    Account(Options),
    /// 7. Cold builds of a program using kie with one provider vs the same by hand, per
    ///    TLS choice; with `--catalogue`, 8. cold and incremental builds with one provider
    ///    and with all (not part of `all`).
    BuildCost(build_cost::Options),
    #[command(hide = true)]
    ServeEmulator(servers::EmulatorArgs),
    #[command(hide = true)]
    ServeBytes(servers::BytesArgs),
    #[command(hide = true, subcommand)]
    Worker(Worker),
}

/// The measured side of a benchmark, run in a process of its own.
#[derive(Debug, Subcommand)]
enum Worker {
    Account(account::WorkerArgs),
    Concurrent(concurrent::WorkerArgs),
    Download(download::WorkerArgs),
    Hostile(hostile::WorkerArgs),
}

/// Sizes and repetitions (the defaults are the issue's).
#[derive(Debug, Clone, Args)]
struct Options {
    /// Round trip: pairs of rounds (one SDK, one raw).
    #[arg(long, default_value_t = 40)]
    rounds: usize,
    /// Round trip: operations per round.
    #[arg(long, default_value_t = 100)]
    per_round: usize,
    /// Concurrent: tasks at once.
    #[arg(long, default_value_t = 10_000)]
    tasks: usize,
    /// Polling: tasks per strategy with a fixed 90 s generation.
    #[arg(long, default_value_t = 20)]
    polling_tasks: usize,
    /// Polling: tasks per strategy with generation times spread over 60-300 s.
    #[arg(long, default_value_t = 100)]
    polling_spread_tasks: usize,
    /// Polling: where to draw the plot of calls against delay.
    #[arg(long, default_value = "BENCHMARKS-waiting.svg")]
    plot: PathBuf,
    /// Account: tasks submitted at once.
    #[arg(long, default_value_t = 10_000)]
    account_tasks: usize,
    /// Account: a Redis server for the 4-process run (default: start `redis-server`
    /// from PATH on a free port).
    #[arg(long)]
    redis: Option<String>,
    /// Download: size in MiB.
    #[arg(long, default_value_t = 1024)]
    download_mib: u64,
    /// Download: runs (each downloads once with every variant).
    #[arg(long, default_value_t = 16)]
    download_runs: usize,
    /// Throughput: seconds per run.
    #[arg(long, default_value_t = 5)]
    seconds: u64,
    /// Throughput: runs.
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Throughput: keep-alive connections.
    #[arg(long, default_value_t = 32)]
    connections: usize,
    /// Hostile: concurrent submits against kie.ai's limits (real time: 10.25 s per 20).
    #[arg(long, default_value_t = 1000)]
    hostile_tasks: usize,
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> Result<(), BoxError> {
    match Cli::parse().command {
        Command::All(o) => {
            bench(
                &o,
                &[
                    Bench::RoundTrip,
                    Bench::Concurrent,
                    Bench::Polling,
                    Bench::Download,
                    Bench::Throughput,
                    Bench::Hostile,
                    Bench::Account,
                ],
            )
            .await
        }
        Command::RoundTrip(o) => bench(&o, &[Bench::RoundTrip]).await,
        Command::Concurrent(o) => bench(&o, &[Bench::Concurrent]).await,
        Command::Polling(o) => bench(&o, &[Bench::Polling]).await,
        Command::Download(o) => bench(&o, &[Bench::Download]).await,
        Command::Throughput(o) => bench(&o, &[Bench::Throughput]).await,
        Command::Hostile(o) => bench(&o, &[Bench::Hostile]).await,
        Command::Account(o) => bench(&o, &[Bench::Polling, Bench::Account]).await,
        Command::BuildCost(o) => {
            print_header();
            let section = build_cost::run(&o).await?;
            print!("{}", report::body(&[section]));
            Ok(())
        }
        Command::ServeEmulator(args) => servers::serve_emulator(args).await,
        Command::ServeBytes(args) => servers::serve_bytes(args).await,
        Command::Worker(Worker::Account(args)) => child::report(&account::worker(args).await?),
        Command::Worker(Worker::Concurrent(args)) => {
            child::report(&concurrent::worker(args).await?)
        }
        Command::Worker(Worker::Download(args)) => child::report(&download::worker(args).await?),
        Command::Worker(Worker::Hostile(args)) => child::report(&hostile::worker_main(args).await?),
    }
}

#[derive(Debug, Clone, Copy)]
enum Bench {
    RoundTrip,
    Concurrent,
    Polling,
    Download,
    Throughput,
    Hostile,
    Account,
}

/// Runs the benchmarks in order, printing the header first (it records the load
/// before the run) and the report at the end.
async fn bench(options: &Options, benches: &[Bench]) -> Result<(), BoxError> {
    print_header();
    let mut sections: Vec<Section> = Vec::new();
    for bench in benches {
        eprintln!("kie-bench: running {bench:?}");
        sections.push(match bench {
            Bench::RoundTrip => round_trip::run(options).await?,
            Bench::Concurrent => concurrent::run(options).await?,
            Bench::Polling => polling::run(options, &options.plot).await?,
            Bench::Download => download::run(options).await?,
            Bench::Throughput => throughput::run(options).await?,
            Bench::Hostile => {
                eprintln!(
                    "kie-bench: the paced submits take about {:?} in real time",
                    hostile::expected(options.hostile_tasks)
                );
                hostile::run(options).await?
            }
            Bench::Account => {
                eprintln!(
                    "kie-bench: {} tasks at kie.ai's limits take about {:.0} minutes per run \
                     at {}x",
                    options.account_tasks,
                    options.account_tasks as f64 / 2.0 / account::SPEED / 60.0 + 0.5,
                    account::SPEED
                );
                account::run(options).await?
            }
        });
    }
    print!("{}", report::body(&sections));
    Ok(())
}

/// Prints the report's header, which records the load before the run.
fn print_header() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let command = format!("cargo run --release -p kie-bench -- {}", args.join(" "));
    println!(
        "{}",
        report::header(&machine::Machine::describe(), &command)
    );
}

/// The SDK client as a user builds it, pointed at `base` (an emulator or file server),
/// but for its pacers: the emulator's rate limits are off, so the pacers are set to a
/// rate never reached; they still run on every call, so their cost is in the figures.
fn sdk_client(base: &str) -> Result<Client, BoxError> {
    let unreached = Rate::per(u32::MAX, Duration::from_secs(1));
    Ok(Client::builder()
        .api_key(API_KEY)
        .base_url(base)
        .upload_base_url(base)
        .create_rate(unreached)
        .poll_rate(unreached)
        .build()?)
}

/// A reqwest client configured as the SDK's default one (HTTP/1.1 over plain TCP on
/// loopback, default pool, 10 s connect timeout, 60 s read timeout).
fn raw_http_client() -> Result<reqwest::Client, BoxError> {
    Ok(reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .read_timeout(Duration::from_secs(60))
        .build()?)
}

/// KiB to MiB.
fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

//! Benchmark 4: a streamed 1 GiB download through the SDK against raw reqwest's
//! `bytes_stream()`, both writing through `tokio::fs::File` into the same directory.
//!
//! Two pairs, because the SDK offers two things:
//! - `to_writer(&mut file)` against raw `write_all` of each chunk plus `flush`: the
//!   streaming alone;
//! - `to_path(path)` (temporary file beside the target, `sync_all`, rename) against
//!   raw doing the same three steps by hand: the same durability on both sides.
//!
//! The file server and every variant run in processes of their own, so each variant's
//! peak RSS is its own. Runs alternate between the two sides of a pair.

use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::{Args, ValueEnum};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use tokio::io::AsyncWriteExt;

use crate::child::{Server, run_worker};
use crate::report::{Figure, Section};
use crate::stats::Spread;
use crate::{BoxError, Options, mib, raw_http_client, sdk_client};

const RATIO_TARGET: f64 = 0.95;
const RSS_TARGET_MIB: f64 = 32.0;

/// One way of downloading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
pub enum Variant {
    SdkWriter,
    RawWriter,
    SdkPath,
    RawPath,
}

impl Variant {
    const ALL: [Variant; 4] = [
        Variant::SdkWriter,
        Variant::RawWriter,
        Variant::SdkPath,
        Variant::RawPath,
    ];

    fn describe(self) -> &'static str {
        match self {
            Variant::SdkWriter => "SDK `download(url).to_writer(&mut file)`",
            Variant::RawWriter => "raw `bytes_stream()` + `write_all` + `flush`",
            Variant::SdkPath => "SDK `download(url).to_path(path)`",
            Variant::RawPath => "raw `bytes_stream()` to a temporary file + `sync_all` + rename",
        }
    }
}

/// What one worker measured.
#[derive(Debug, Serialize, Deserialize)]
pub struct Outcome {
    pub bytes: u64,
    pub seconds: f64,
    /// CPU time of the whole worker process, user + system.
    pub cpu_seconds: f64,
    pub peak_rss_kib: u64,
}

/// One download as the report sees it.
struct Sample {
    variant: Variant,
    mib_per_s: f64,
    cpu_per_gib: f64,
    rss_mib: f64,
}

/// `worker download`: one download, in a process of its own.
#[derive(Debug, Clone, Args)]
pub struct WorkerArgs {
    #[arg(long)]
    pub url: String,
    #[arg(long, value_enum)]
    pub variant: Variant,
    /// Where to write; the file is removed afterwards.
    #[arg(long)]
    pub dir: PathBuf,
}

/// Runs the benchmark.
pub async fn run(options: &Options) -> Result<Section, BoxError> {
    let size = options.download_mib << 20;
    let server = Server::start(&["serve-bytes", "--size", &size.to_string()]).await?;
    let dir = tempfile::Builder::new().prefix("kie-bench-").tempdir()?;
    let url = format!("{}/blob", server.url);
    // Every run downloads with all four variants, in an order that turns each run, so
    // that the machine's changing load (and the disk's) falls on every variant alike.
    let mut samples: Vec<Sample> = Vec::new();
    for run in 0..options.download_runs {
        let mut order = Variant::ALL;
        order.rotate_left(run % Variant::ALL.len());
        if run % 2 == 1 {
            order.reverse();
        }
        for variant in order {
            let outcome = download_in_child(&url, variant, dir.path()).await?;
            if outcome.bytes != size {
                return Err(format!("{variant:?} got {} of {size} bytes", outcome.bytes).into());
            }
            let gib = outcome.bytes as f64 / (1u64 << 30) as f64;
            samples.push(Sample {
                variant,
                mib_per_s: gib * 1024.0 / outcome.seconds,
                cpu_per_gib: outcome.cpu_seconds / gib,
                rss_mib: mib(outcome.peak_rss_kib),
            });
        }
    }
    let mut figures = Vec::new();
    let mut rows = String::new();
    for (sdk, raw) in [
        (Variant::SdkWriter, Variant::RawWriter),
        (Variant::SdkPath, Variant::RawPath),
    ] {
        let of = |v: Variant, f: fn(&Sample) -> f64| -> Vec<f64> {
            samples.iter().filter(|s| s.variant == v).map(f).collect()
        };
        let (sdk_rates, raw_rates) = (of(sdk, |s| s.mib_per_s), of(raw, |s| s.mib_per_s));
        let sdk_cpu = Spread::of(&of(sdk, |s| s.cpu_per_gib)).ok_or("no runs")?;
        let raw_cpu = Spread::of(&of(raw, |s| s.cpu_per_gib)).ok_or("no runs")?;
        let run_ratios: Vec<f64> = sdk_rates
            .iter()
            .zip(&raw_rates)
            .map(|(s, r)| s / r)
            .collect();
        let s = Spread::of(&sdk_rates).ok_or("no runs")?;
        let r = Spread::of(&raw_rates).ok_or("no runs")?;
        let per_run = Spread::of(&run_ratios).ok_or("no runs")?;
        let rss = of(sdk, |s| s.rss_mib).into_iter().fold(0.0, f64::max);
        let ratio = s.median / r.median;
        rows.push_str(&format!(
            "| {} | {} | {:.2} |\n| {} | {} | {:.2} |\n| SDK ÷ raw in each run | {} | |\n",
            sdk.describe(),
            s.describe(0),
            sdk_cpu.median,
            raw.describe(),
            r.describe(0),
            raw_cpu.median,
            per_run.describe(3),
        ));
        figures.push(Figure::info(
            format!("CPU s per GiB, SDK / raw, {}", sdk.describe()),
            format!("{:.2} / {:.2}", sdk_cpu.median, raw_cpu.median),
        ));
        figures.push(Figure::checked(
            format!("throughput SDK ÷ raw, {}", sdk.describe()),
            format!(
                "{ratio:.3} ({:.0} / {:.0} MiB/s; runs p25–p75 {:.2}–{:.2})",
                s.median, r.median, per_run.p25, per_run.p75
            ),
            format!("≥ {RATIO_TARGET}"),
            ratio >= RATIO_TARGET,
        ));
        figures.push(Figure::checked(
            format!("peak RSS, {}", sdk.describe()),
            format!("{rss:.1} MiB"),
            format!("≤ {RSS_TARGET_MIB:.0} MiB"),
            rss <= RSS_TARGET_MIB,
        ));
    }
    let details = format!(
        "{size_mib} MiB of generated bytes with a `Content-Length`, streamed by an axum \
         server in its own process on 127.0.0.1; each download in a worker process of its \
         own, writing into one temporary directory on the same filesystem (removed \
         afterwards). {runs} runs; each run downloads once with every variant, in an order \
         that changes from run to run. The figure is the ratio of the median rates. Throughput \
         is counted from the request to the complete file (synced and renamed, for the \
         path variants); peak RSS is the worker's VmHWM (the largest over its runs).\n\n\
         CPU is the worker process's user + system time per GiB (median).\n\n\
         | variant | MiB/s: median (p25–p75, min–max) | CPU s per GiB |\n|---|---|---|\n{rows}",
        size_mib = options.download_mib,
        runs = options.download_runs,
    );
    Ok(Section {
        title: "4. streamed 1 GiB download",
        figures,
        details,
    })
}

async fn download_in_child(url: &str, variant: Variant, dir: &Path) -> Result<Outcome, BoxError> {
    let variant = variant
        .to_possible_value()
        .ok_or("a variant without a name")?;
    let args = [
        "download",
        "--url",
        url,
        "--variant",
        variant.get_name(),
        "--dir",
    ]
    .map(str::to_owned)
    .into_iter()
    .chain([dir.display().to_string()])
    .collect::<Vec<_>>();
    run_worker(&args).await
}

/// The worker: one download, timed, then the file removed.
pub async fn worker(args: WorkerArgs) -> Result<Outcome, BoxError> {
    let target = args.dir.join(format!("{:?}.bin", args.variant));
    let started = Instant::now();
    let bytes = match args.variant {
        Variant::SdkWriter => {
            let client = sdk_client(&args.url)?;
            let mut file = tokio::fs::File::create(&target).await?;
            client.download(&args.url).to_writer(&mut file).await?.bytes
        }
        Variant::SdkPath => {
            sdk_client(&args.url)?
                .download(&args.url)
                .to_path(&target)
                .await?
                .bytes
        }
        Variant::RawWriter => {
            let mut file = tokio::fs::File::create(&target).await?;
            raw_download(&args.url, &mut file).await?
        }
        Variant::RawPath => {
            let partial = args.dir.join(format!(".{:?}.partial", args.variant));
            let mut file = tokio::fs::File::create(&partial).await?;
            let bytes = raw_download(&args.url, &mut file).await?;
            file.sync_all().await?;
            drop(file);
            tokio::fs::rename(&partial, &target).await?;
            bytes
        }
    };
    let seconds = started.elapsed().as_secs_f64();
    tokio::fs::remove_file(&target).await?;
    Ok(Outcome {
        bytes,
        seconds,
        cpu_seconds: crate::machine::cpu_seconds().unwrap_or(0.0),
        peak_rss_kib: crate::machine::peak_rss_kib().unwrap_or(0),
    })
}

/// What a user would write: stream the body into the file, checking the length.
async fn raw_download(url: &str, file: &mut tokio::fs::File) -> Result<u64, BoxError> {
    let response = raw_http_client()?
        .get(url)
        .header(reqwest::header::USER_AGENT, "raw-reqwest")
        .send()
        .await?
        .error_for_status()?;
    let expected = response.content_length();
    let mut received = 0u64;
    let mut body = response.bytes_stream();
    while let Some(chunk) = body.next().await {
        let chunk = chunk?;
        file.write_all(&chunk).await?;
        received += chunk.len() as u64;
    }
    if expected.is_some_and(|n| n != received) {
        return Err(format!("got {received} of {expected:?} bytes").into());
    }
    file.flush().await?;
    Ok(received)
}

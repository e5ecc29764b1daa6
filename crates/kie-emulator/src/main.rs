//! `kie-emulator`: a local kie.ai on 127.0.0.1.
//!
//! Prints `listening on http://127.0.0.1:PORT` as its first line on stdout (CI scripts
//! wait for it), then serves until interrupted.

#![forbid(unsafe_code)]

use std::io::Write as _;

use clap::Parser;
use kie_emulator::{Emulator, Timeline};

/// A faithful local kie.ai: stateful tasks on a virtual clock, signed callbacks,
/// uploads, credits, faults. Control it under /_emulator/*.
#[derive(Debug, Parser)]
#[command(name = "kie-emulator", version)]
struct Args {
    /// Port on 127.0.0.1 (0 picks a free port).
    #[arg(long, default_value_t = 0, env = "KIE_EMULATOR_PORT")]
    port: u16,
    /// Seed for task ids and fault draws (random when absent).
    #[arg(long, env = "KIE_EMULATOR_SEED")]
    seed: Option<u64>,
    /// Virtual clock speed (60 = a minute of generation per real second).
    #[arg(long, default_value_t = 1.0, env = "KIE_EMULATOR_SPEED")]
    speed: f64,
    /// HMAC key callbacks are signed with.
    #[arg(long, env = "KIE_EMULATOR_WEBHOOK_KEY", default_value = kie_emulator::DEFAULT_WEBHOOK_KEY)]
    webhook_key: String,
    /// Send callbacks without signature headers.
    #[arg(long)]
    unsigned_callbacks: bool,
    /// Accept only this Bearer key (otherwise any non-empty key).
    #[arg(long, env = "KIE_EMULATOR_API_KEY")]
    api_key: Option<String>,
    /// Finish each task on its N-th recordInfo request instead of after realistic durations.
    #[arg(long, conflicts_with = "immediate")]
    after_polls: Option<u32>,
    /// Finish every task as soon as it is created.
    #[arg(long)]
    immediate: bool,
    /// Enforce kie.ai's rate limits (20 creates / 10 s, 10 recordInfo / s).
    #[arg(long)]
    rate_limits: bool,
    /// Starting credit balance.
    #[arg(long, default_value_t = 10_000.0)]
    credits: f64,
    /// Deliver callbacks to non-loopback addresses too.
    #[arg(long)]
    allow_remote_callbacks: bool,
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let mut builder = Emulator::builder()
        .port(args.port)
        .speed(args.speed)
        .rate_limits(args.rate_limits)
        .credits(args.credits)
        .allow_remote_callbacks(args.allow_remote_callbacks)
        .webhook_key(args.webhook_key);
    if args.unsigned_callbacks {
        builder = builder.unsigned_callbacks();
    }
    if let Some(seed) = args.seed {
        builder = builder.seed(seed);
    }
    if let Some(key) = args.api_key {
        builder = builder.api_key(key);
    }
    if let Some(polls) = args.after_polls {
        builder = builder.timeline(Timeline::AfterPolls { polls });
    } else if args.immediate {
        builder = builder.timeline(Timeline::Immediate);
    }
    let emulator = match builder.start().await {
        Ok(emulator) => emulator,
        Err(error) => {
            eprintln!("kie-emulator: {error}");
            return std::process::ExitCode::FAILURE;
        }
    };
    {
        let mut stdout = std::io::stdout().lock();
        let _ = writeln!(stdout, "listening on {}", emulator.base_url());
        let _ = stdout.flush();
    }
    let stats = emulator.stats();
    eprintln!(
        "kie-emulator {} seed={} models=[{}]",
        stats.version,
        stats.seed,
        stats.models.join(", ")
    );
    for problem in &stats.spec_problems {
        eprintln!("kie-emulator: spec problem: {problem}");
    }
    let _ = tokio::signal::ctrl_c().await;
    emulator.shutdown().await;
    std::process::ExitCode::SUCCESS
}

//! `kie-emulator`: a local kie.ai on 127.0.0.1.
//!
//! Prints `listening on http://127.0.0.1:PORT` as its first line on stdout (CI scripts
//! wait for it), then serves until interrupted.

#![forbid(unsafe_code)]

use clap::Parser;
use kie_emulator::serve::{ServeArgs, serve};

/// A faithful local kie.ai: stateful tasks on a virtual clock, signed callbacks,
/// uploads, credits, faults. Control it under /_emulator/*.
#[derive(Debug, Parser)]
#[command(name = "kie-emulator", version)]
struct Args {
    #[command(flatten)]
    serve: ServeArgs,
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> std::process::ExitCode {
    serve("kie-emulator", &Args::parse().serve).await
}

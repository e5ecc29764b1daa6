//! `kie`: kie.ai's video models from a terminal. See `kie --help`.

#![forbid(unsafe_code)]

mod account;
mod batch;
mod cli;
mod connect;
mod console;
mod duration;
mod escape;
mod failure;
mod generate;
mod interrupt;
mod log;
mod models;
mod out;
mod output;
mod progress;
mod request;
mod task;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::{CommandFactory as _, Parser as _};

use crate::cli::{Cli, Command, Connection, Service};
use crate::connect::Backend;
use crate::failure::Failure;
use crate::interrupt::Stake;
use crate::output::Output;
use crate::progress::Display;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => return refused(&error, std::env::args_os()),
    };
    log::init(cli.verbose, cli.quiet, cli.json);
    let backend = Backend::of(&cli.connection);
    let result = match &cli.command {
        Command::Models(args) => models::models(args),
        Command::Completions { shell } => Ok(completions(*shell)),
        Command::Service(command) => {
            let stake = Stake::default();
            tokio::select! {
                result = run_service(&cli.connection, command, cli.json, &stake) => result,
                Ok(()) = tokio::signal::ctrl_c() => Err(stake.interrupted()),
            }
        }
        Command::Emulator(args) => return kie_emulator::serve::serve("kie emulator", args).await,
    };
    let (printed, code) = match result {
        Ok(output) => (output.print(cli.json), ExitCode::SUCCESS),
        Err(failure) => (failure.report(cli.json, backend), failure.exit_code()),
    };
    match printed {
        Ok(()) => code,
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => {
            ExitCode::from(console::CLOSED_PIPE)
        }
        Err(error) => {
            console::err(&format!("error: could not write to stdout: {error}"));
            ExitCode::FAILURE
        }
    }
}

/// A command line clap refused. Help and version are printed as clap prints them; an
/// error too, unless `--json` is among the arguments: then it is a JSON document on
/// stdout like every other failure, with exit code 2.
fn refused(error: &clap::Error, args: impl IntoIterator<Item = OsString>) -> ExitCode {
    // Before a `--`, a `--json` is the flag, wherever it stands.
    let json = args
        .into_iter()
        .skip(1)
        .take_while(|arg| arg != "--")
        .any(|arg| arg == "--json");
    if !json || !error.use_stderr() {
        error.exit();
    }
    let failure = Failure::usage(error);
    match failure.report(true, Backend::Remote) {
        Ok(()) => failure.exit_code(),
        Err(_) => ExitCode::from(console::CLOSED_PIPE),
    }
}

/// `kie completions SHELL`: the shell's completion script for every command and flag.
fn completions(shell: clap_complete::Shell) -> Output {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "kie", &mut script);
    let script = String::from_utf8_lossy(&script).into_owned();
    Output::new(
        serde_json::json!({ "shell": shell.to_string(), "script": script }),
        script,
    )
}

/// Runs a command that talks to kie.ai, or to the emulator `--emulator` starts, keeping
/// `stake` current with what a Ctrl-C would leave behind.
async fn run_service(
    connection: &Connection,
    command: &Service,
    json: bool,
    stake: &Stake,
) -> Result<Output, Failure> {
    let display = Display::detect(json);
    let backend = Backend::of(connection);
    if backend == Backend::InProcess {
        connect::check_in_process(command)?;
    }
    let connected = connect::connect(connection, display).await?;
    let client = &connected.client;
    let output = match command {
        Service::Generate(args) => generate::generate(client, args, display, backend, stake).await,
        Service::Status { task_id } => task::status(client, task_id).await,
        Service::Wait {
            task_id,
            out,
            max_wait,
        } => task::wait(client, task_id, out.as_deref(), *max_wait, display, stake).await,
        Service::Download { task_id, out } => {
            task::download(client, task_id, out, display, stake).await
        }
        Service::Credits => account::credits(client).await,
        Service::Upload { file } => account::upload(client, file).await,
        Service::Batch(args) => {
            let budget = connected.local_budget.as_deref();
            batch::run(client, budget, args, display, backend, stake).await
        }
    };
    if let Some(budget) = &connected.shared_budget {
        budget.flush().await;
    }
    if let Some(emulator) = connected.emulator {
        emulator.shutdown().await;
    }
    output
}

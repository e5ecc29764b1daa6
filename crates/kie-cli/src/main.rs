//! `kie`: kie.ai's video models from a terminal. See `kie --help`.

#![forbid(unsafe_code)]

mod account;
mod batch;
mod cli;
mod connect;
mod escape;
mod failure;
mod generate;
mod models;
mod out;
mod output;
mod progress;
mod request;
mod task;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command, Connection, Service};
use crate::connect::Backend;
use crate::failure::Failure;
use crate::output::Output;
use crate::progress::Display;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Models => Ok(models::models()),
        Command::Service(command) => run_service(&cli.connection, command, cli.json).await,
        Command::Emulator(args) => return kie_emulator::serve::serve("kie emulator", args).await,
    };
    match result {
        Ok(output) => {
            output.print(cli.json);
            ExitCode::SUCCESS
        }
        Err(failure) => {
            failure.report(cli.json, Backend::of(&cli.connection));
            failure.exit_code()
        }
    }
}

/// Runs a command that talks to kie.ai, or to the emulator `--emulator` starts.
async fn run_service(
    connection: &Connection,
    command: &Service,
    json: bool,
) -> Result<Output, Failure> {
    let display = Display::detect(json);
    let backend = Backend::of(connection);
    if backend == Backend::InProcess {
        connect::check_in_process(command)?;
    }
    let connected = connect::connect(connection).await?;
    let client = &connected.client;
    let output = match command {
        Service::Generate(args) => generate::generate(client, args, display, backend).await,
        Service::Status { task_id } => task::status(client, task_id).await,
        Service::Wait {
            task_id,
            out,
            max_wait,
        } => task::wait(client, task_id, out.as_deref(), *max_wait, display).await,
        Service::Download { task_id, out } => task::download(client, task_id, out, display).await,
        Service::Credits => account::credits(client).await,
        Service::Upload { file } => account::upload(client, file).await,
        Service::Batch(args) => batch::run(client, args, display, backend).await,
    };
    if let Some(emulator) = connected.emulator {
        emulator.shutdown().await;
    }
    output
}

//! `cargo xtask codegen [--check] [--root DIR]` and `cargo xtask features [--root DIR]`.

#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str =
    "usage: cargo xtask codegen [--check] [--root DIR]\n       cargo xtask features [--root DIR]";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("{message}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &[String]) -> Result<(), String> {
    let (task, rest) = args.split_first().ok_or(USAGE)?;
    let mut check = false;
    let mut root = None;
    let mut rest = rest.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--check" if task == "codegen" => check = true,
            "--root" => root = Some(PathBuf::from(rest.next().ok_or(USAGE)?)),
            other => return Err(format!("unknown argument `{other}`\n{USAGE}")),
        }
    }
    let root = match root {
        Some(root) => root,
        None => xtask::workspace_root()?,
    };
    match task.as_str() {
        "codegen" => {
            let changed = xtask::codegen::run(&root, check)?;
            if check {
                eprintln!("codegen: generated code is up to date");
            } else if changed.is_empty() {
                eprintln!("codegen: nothing changed");
            } else {
                for path in changed {
                    eprintln!("codegen: wrote {path}");
                }
            }
            Ok(())
        }
        "features" => xtask::features::run(&root),
        other => Err(format!("unknown task `{other}`\n{USAGE}")),
    }
}

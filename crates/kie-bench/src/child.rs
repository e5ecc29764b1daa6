//! Child processes. The harness re-executes itself with a hidden subcommand to run a
//! server (the emulator, the file server) or one measured variant, so that the side
//! being measured has a process, and so a memory peak, of its own.
//!
//! A server announces itself with `listening on URL` as its first stdout line (as the
//! `kie-emulator` binary does) and exits when its stdin closes, so that it never
//! outlives the harness. A worker prints one JSON line, its result.

use std::process::Stdio;

use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};

use crate::BoxError;

/// A server running in a child process; killed when dropped.
pub struct Server {
    /// Where it listens: `http://127.0.0.1:PORT`.
    pub url: String,
    _child: Child,
    _stdin: Option<ChildStdin>,
}

impl Server {
    /// Starts `kie-bench <args>` and reads the URL it announces.
    pub async fn start(args: &[&str]) -> Result<Self, BoxError> {
        let mut child = Command::new(std::env::current_exe()?)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()?;
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).await?;
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .ok_or_else(|| format!("{args:?} did not announce a URL: {line:?}"))?
            .to_owned();
        Ok(Self {
            url,
            _child: child,
            _stdin: stdin,
        })
    }
}

/// Runs `kie-bench worker <args>` to completion and parses the JSON line it prints.
pub async fn run_worker<T: DeserializeOwned>(args: &[String]) -> Result<T, BoxError> {
    let output = Command::new(std::env::current_exe()?)
        .arg("worker")
        .args(args)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .output()
        .await?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        return Err(format!("worker {args:?} failed ({}): {stdout}", output.status).into());
    }
    let line = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(line).map_err(|e| format!("worker {args:?} printed {line:?}: {e}").into())
}

/// A worker's last word: its result as one JSON line.
pub fn report<T: Serialize>(result: &T) -> Result<(), BoxError> {
    println!("{}", serde_json::to_string(result)?);
    Ok(())
}

/// Announces a server's URL, then serves until the harness closes stdin (or exits).
pub async fn serve_until_stdin_closes(url: &str) {
    println!("listening on {url}");
    let mut sink = Vec::new();
    let _ = tokio::io::stdin().read_to_end(&mut sink).await;
}

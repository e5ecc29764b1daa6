//! Writing lines to stdout and stderr. `println!` and `eprintln!` panic when nobody
//! reads the other end any more (`kie models --json | head -c 100` closes the pipe after
//! 100 bytes), and write a line in pieces, between which a concurrent batch line's
//! message can land. Every line the CLI prints goes through here: whole, in one write,
//! and never a panic.

use std::io::{self, Write as _};

/// The exit code when stdout was closed before the outcome was written: the status a
/// shell reports for a program that SIGPIPE ended (128 + 13), which is what a reader
/// that leaves early expects.
pub const CLOSED_PIPE: u8 = 141;

/// Writes `text` and a newline on stdout in one write.
///
/// # Errors
///
/// The write's error: [`io::ErrorKind::BrokenPipe`] when nobody reads stdout any more.
pub fn out(text: &str) -> io::Result<()> {
    let mut stdout = io::stdout().lock();
    stdout.write_all(with_newline(text).as_bytes())?;
    stdout.flush()
}

/// Writes `text` and a newline on stderr in one write. A stderr that cannot be written
/// (closed, full) loses the message and nothing else: the command goes on, since it
/// may be waiting on a task that is paid for, and its outcome still reaches stdout and
/// the exit code.
pub fn err(text: &str) {
    let _ = io::stderr().lock().write_all(with_newline(text).as_bytes());
}

fn with_newline(text: &str) -> String {
    let mut line = String::with_capacity(text.len() + 1);
    line.push_str(text);
    line.push('\n');
    line
}

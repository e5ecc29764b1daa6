//! What a waiting or downloading user sees on stderr: live bars on a terminal, a line
//! per change when stderr is a file or a pipe, and nothing with `--json`.

use std::io::IsTerminal as _;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use kie::{DownloadProgress, Progress};

use crate::{console, duration, escape};

/// How progress is shown, decided once per command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Display {
    /// indicatif bars on an interactive stderr.
    Bars,
    /// One line per change, for logs.
    Lines,
    /// Nothing (`--json`: stdout carries the one document, stderr stays quiet).
    Quiet,
}

impl Display {
    /// Bars on a terminal; lines otherwise; nothing with `--json`.
    pub fn detect(json: bool) -> Self {
        if json {
            Display::Quiet
        } else if std::io::stderr().is_terminal() {
            Display::Bars
        } else {
            Display::Lines
        }
    }

    /// Says one line on stderr unless quiet (escaped: notes quote kie.ai's task ids,
    /// states and errors).
    pub fn note(self, text: impl AsRef<str>) {
        if self != Display::Quiet {
            console::err(&escape::line(text.as_ref()));
        }
    }

    /// A progress sink for a task's wait: a spinner with the state, Sora's percent and
    /// the elapsed time, or a line at each change. Call [`Shown::finish`] at the end.
    pub fn wait(self, task_id: &str) -> Shown {
        let bar = match self {
            Display::Bars => {
                let bar = ProgressBar::new_spinner();
                bar.set_style(
                    ProgressStyle::with_template("{spinner} task {prefix}: {msg} [{elapsed}]")
                        .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                );
                bar.set_prefix(escape::line(task_id).into_owned());
                bar.set_message("submitted");
                bar.enable_steady_tick(Duration::from_millis(120));
                Some(bar)
            }
            Display::Lines | Display::Quiet => None,
        };
        Shown { display: self, bar }
    }

    /// A progress sink for a download to `name`: a byte bar, or nothing until the end.
    pub fn download(self, name: &str) -> Shown {
        let bar = match self {
            Display::Bars => {
                let bar = ProgressBar::new(0);
                bar.set_style(
                    ProgressStyle::with_template(
                        "{prefix} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec}",
                    )
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
                );
                bar.set_prefix(escape::line(name).into_owned());
                Some(bar)
            }
            Display::Lines | Display::Quiet => None,
        };
        Shown { display: self, bar }
    }
}

/// One live progress display.
#[derive(Clone)]
pub struct Shown {
    display: Display,
    bar: Option<ProgressBar>,
}

impl Shown {
    /// Shows a wait's progress event.
    pub fn waited(&self, progress: &Progress) {
        let mut state = escape::line(&progress.state.to_string()).into_owned();
        if let Some(percent) = progress.percent {
            state.push_str(&format!(" {percent}%"));
        }
        match &self.bar {
            Some(bar) => bar.set_message(state),
            None => self.display.note(format!(
                "task {}: {state} ({})",
                progress.task_id,
                duration::rounded(progress.elapsed)
            )),
        }
    }

    /// Shows a download's progress.
    pub fn downloaded(&self, progress: DownloadProgress) {
        if let Some(bar) = &self.bar {
            if let Some(total) = progress.total {
                bar.set_length(total);
            }
            bar.set_position(progress.bytes);
        }
    }

    /// Removes the bar (the command prints its outcome itself).
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

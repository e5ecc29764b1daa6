//! The markdown report: a summary table of every figure against its target, then each
//! benchmark's details.

use std::fmt::Write as _;

use crate::machine::{Machine, load_average};

/// One figure, with its target when the issue sets one.
#[derive(Debug, Clone)]
pub struct Figure {
    pub name: String,
    pub value: String,
    pub target: Option<Target>,
}

/// A target and whether the figure met it.
#[derive(Debug, Clone)]
pub struct Target {
    pub text: String,
    pub met: bool,
}

impl Figure {
    /// A figure without a target.
    pub fn info(name: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            value: value.into(),
            target: None,
        }
    }

    /// A figure held to a target.
    pub fn checked(
        name: impl Into<String>,
        value: impl Into<String>,
        target: impl Into<String>,
        met: bool,
    ) -> Self {
        Self {
            name: name.into(),
            value: value.into(),
            target: Some(Target {
                text: target.into(),
                met,
            }),
        }
    }
}

/// What one benchmark produced.
#[derive(Debug, Clone)]
pub struct Section {
    pub title: &'static str,
    pub figures: Vec<Figure>,
    /// Markdown: how it was measured, and the raw samples.
    pub details: String,
}

/// The header: machine, command, moment and load.
pub fn header(machine: &Machine, command: &str) -> String {
    let mut out = String::new();
    let date = httpdate::fmt_http_date(std::time::SystemTime::now());
    let _ = writeln!(out, "# kie-bench report\n");
    let _ = writeln!(out, "- command: `{command}`");
    let _ = writeln!(out, "- date: {date}, commit {}", machine.commit);
    let _ = writeln!(
        out,
        "- machine: {}, {} cores, {} RAM; {}; {}",
        machine.cpu, machine.cores, machine.memory, machine.os, machine.rustc
    );
    let _ = writeln!(out, "- load average at start: {}", load_average());
    out
}

/// The summary table and every section's details.
pub fn body(sections: &[Section]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "- load average at end: {}\n", load_average());
    let _ = writeln!(out, "| benchmark | figure | value | target | result |");
    let _ = writeln!(out, "|---|---|---|---|---|");
    for section in sections {
        for figure in &section.figures {
            let (target, verdict) = match &figure.target {
                Some(t) => (t.text.as_str(), if t.met { "PASS" } else { "MISS" }),
                None => ("", ""),
            };
            let _ = writeln!(
                out,
                "| {} | {} | {} | {target} | {verdict} |",
                section.title, figure.name, figure.value
            );
        }
    }
    for section in sections {
        let _ = writeln!(
            out,
            "\n## {}\n\n{}",
            section.title,
            section.details.trim_end()
        );
    }
    out
}

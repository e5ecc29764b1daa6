//! Failures as a terminal user should read them: plain words, what to do next, the task
//! id whenever a task exists, and an exit code per kind (listed in `kie --help`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use kie::registry::UnknownModel;
use kie::{ApiCode, Error, ErrorKind};
use serde_json::json;

use crate::connect::{Backend, SERVED_EMULATOR};
use crate::{console, duration, escape};

/// Why a command ended unsuccessfully. Each kind has its exit code (listed in
/// `kie --help`) and its name in `--json` documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// kie.ai or the network failed (after retries), or a local file.
    Service,
    /// Invalid input; nothing was sent.
    Input,
    /// The command line itself is wrong (clap's errors); nothing was sent.
    Usage,
    /// No key, a refused key or too few credits.
    Account,
    /// The task failed at kie.ai.
    TaskFailed,
    /// The wait reached its deadline; the task goes on.
    WaitTimeout,
    /// A batch ended with lines not done.
    Incomplete,
    /// kie.ai knows no task with the id given. Not invalid input: the id was sent, and
    /// whether it exists is kie.ai's answer.
    UnknownTask,
    /// Ctrl-C stopped the command.
    Interrupted,
}

impl Kind {
    /// The process exit code.
    pub fn code(self) -> u8 {
        match self {
            Kind::Service => 1,
            Kind::Input | Kind::Usage => 2,
            Kind::Account => 3,
            Kind::TaskFailed => 4,
            Kind::WaitTimeout => 5,
            Kind::Incomplete => 6,
            Kind::UnknownTask => 7,
            // 128 + SIGINT, as a shell reports a program that Ctrl-C ended.
            Kind::Interrupted => 130,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Kind::Service => "service",
            Kind::Input => "invalid_input",
            Kind::Usage => "usage",
            Kind::Account => "account",
            Kind::TaskFailed => "task_failed",
            Kind::WaitTimeout => "wait_timeout",
            Kind::Incomplete => "incomplete",
            Kind::UnknownTask => "unknown_task",
            Kind::Interrupted => "interrupted",
        }
    }
}

/// Work that outlives a failed command, and how a later command takes it up. Kept as
/// data until the failure is reported, because the advice depends on where the tasks
/// live: under `--emulator` they end with the command, and no later command finds them.
#[derive(Debug)]
pub enum Resume {
    /// The task goes on; `kie wait` waits for it (and downloads it to `out`).
    Wait {
        /// The task.
        task_id: String,
        /// Where the video was to go.
        out: Option<PathBuf>,
    },
    /// The task finished but its video is not saved; `kie download` saves it.
    Download {
        /// The task.
        task_id: String,
        /// Where the video was to go.
        out: PathBuf,
    },
    /// A batch with lines not done; running it again continues it.
    Batch,
    /// A create was on its way: the task may exist, though no id came back.
    Submitting,
}

impl Resume {
    /// What to do next, for tasks that live at `backend`.
    fn advice(&self, backend: Backend) -> String {
        match (backend, self) {
            (Backend::Remote, Resume::Wait { task_id, out: None }) => {
                format!("`kie wait {task_id}` goes on waiting")
            }
            (
                Backend::Remote,
                Resume::Wait {
                    task_id,
                    out: Some(out),
                },
            ) => format!(
                "`kie wait {task_id} --out {}` goes on waiting, then downloads",
                shell_word(out)
            ),
            (Backend::Remote, Resume::Download { task_id, out }) => format!(
                "`kie download {task_id} --out {}` finishes the job (the task is done; \
                 nothing is created again)",
                shell_word(out)
            ),
            (Backend::Remote, Resume::Batch) => "run the same command again to continue: \
                saved lines are skipped and created tasks are awaited, never created twice"
                .to_owned(),
            (Backend::Remote, Resume::Submitting) => "a task was being created: it may exist \
                (and be billed) although no id came back; check https://kie.ai/logs before \
                running the command again"
                .to_owned(),
            (Backend::InProcess, Resume::Batch) => format!(
                "--emulator's emulator ended with this command, and its tasks with it, so \
                 running the batch again with --emulator cannot take them up (a new \
                 --out-dir starts afresh); {SERVED_EMULATOR}"
            ),
            (
                Backend::InProcess,
                Resume::Wait { .. } | Resume::Download { .. } | Resume::Submitting,
            ) => format!(
                "--emulator's emulator ended with this command, and this task with it: no \
                 later `kie wait` or `kie download` can find it; {SERVED_EMULATOR}"
            ),
        }
    }
}

/// `path` as one word of a shell command: as it is when that is unambiguous, else in
/// single quotes.
pub fn shell_word(path: &Path) -> String {
    let text = path.display().to_string();
    let plain = !text.is_empty()
        && text.chars().all(|c| {
            c.is_alphanumeric() || matches!(c, '/' | '.' | '-' | '_' | '+' | ',' | ':' | '@' | '%')
        });
    if plain {
        text
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

/// A failure to report: a message, lines of detail, an optional hint, how to take up
/// what goes on, and the task id when one exists.
#[derive(Debug)]
pub struct Failure {
    kind: Kind,
    message: String,
    details: Vec<String>,
    hint: Option<String>,
    /// Boxed: a failure travels in every `Result` of the CLI, and is rarely resumable.
    resume: Option<Box<Resume>>,
    task_id: Option<String>,
}

impl Failure {
    fn new(kind: Kind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            details: Vec::new(),
            hint: None,
            resume: None,
            task_id: None,
        }
    }

    /// Bad usage or input caught here; nothing was sent.
    pub fn input(message: impl Into<String>) -> Self {
        Self::new(Kind::Input, message)
    }

    /// Input the model refused before anything was sent: `fields` holds a line per
    /// broken rule, naming the field and what is allowed.
    pub fn invalid(fields: Vec<String>) -> Self {
        Self::input("invalid input, nothing was sent:")
            .details(fields)
            .hint("`kie models` lists each model's parameters and allowed values")
    }

    /// A local problem (a file, the emulator) after which nothing more can be done.
    pub fn local(message: impl Into<String>) -> Self {
        Self::new(Kind::Service, message)
    }

    /// No API key anywhere.
    pub fn no_key() -> Self {
        Self::new(Kind::Account, "no API key").hint(
            "set KIE_API_KEY (get a key at https://kie.ai/api-key) or pass --api-key; \
             or add --emulator to try kie without an account",
        )
    }

    /// A batch that did not finish every line.
    pub fn incomplete(message: impl Into<String>) -> Self {
        Self::new(Kind::Incomplete, message)
    }

    /// A command line clap refused, from clap's own words: its first line is the
    /// message, the lines it lists are the details, and its usage line and tips the
    /// hint.
    pub fn usage(error: &clap::Error) -> Self {
        let rendered = error.render().to_string();
        let mut lines = rendered.lines().map(str::trim).filter(|l| !l.is_empty());
        let first = lines.next().unwrap_or("the command line is not valid");
        let mut details = Vec::new();
        let mut hints = Vec::new();
        for line in lines {
            if line.starts_with("tip:")
                || line.starts_with("Usage:")
                || line.starts_with("For more information")
            {
                hints.push(line.to_owned());
            } else {
                details.push(line.to_owned());
            }
        }
        let mut failure =
            Self::new(Kind::Usage, first.strip_prefix("error: ").unwrap_or(first)).details(details);
        if !hints.is_empty() {
            failure = failure.hint(hints.join("; "));
        }
        failure
    }

    /// Ctrl-C stopped the command, leaving `stake` behind (when anything goes on).
    pub fn interrupted(stake: Option<Resume>) -> Self {
        let task_id = match &stake {
            Some(Resume::Wait { task_id, .. } | Resume::Download { task_id, .. }) => {
                Some(task_id.clone())
            }
            Some(Resume::Batch | Resume::Submitting) | None => None,
        };
        let mut failure = Self::new(Kind::Interrupted, "interrupted (Ctrl-C)");
        failure.task_id = task_id;
        failure.resume = stake.map(Box::new);
        failure
    }

    /// Adds lines of detail (one per field, or per batch line).
    #[must_use]
    pub fn details(mut self, details: Vec<String>) -> Self {
        self.details = details;
        self
    }

    /// Adds what to do next.
    #[must_use]
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Adds how to take up the work that goes on after this command; the advice is
    /// worded for where the tasks live when the failure is reported.
    #[must_use]
    pub fn resume(mut self, resume: Resume) -> Self {
        self.resume = Some(Box::new(resume));
        self
    }

    /// Puts `context` (where the failure happened, in the user's terms) before the
    /// message.
    #[must_use]
    pub fn context(mut self, context: impl std::fmt::Display) -> Self {
        self.message = format!("{context}: {}", self.message);
        self
    }

    /// The process exit code.
    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(self.kind.code())
    }

    /// The message, without details or hint.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The kind of failure.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The hint and the resume advice, in one sentence list.
    fn full_hint(&self, backend: Backend) -> Option<String> {
        let advice = self.resume.as_ref().map(|resume| resume.advice(backend));
        match (&self.hint, advice) {
            (Some(hint), Some(advice)) => Some(format!("{hint}; {advice}")),
            (hint, advice) => hint.clone().or(advice),
        }
    }

    /// The failure in words, as stderr shows it: each part one line, with control
    /// characters escaped (messages quote kie.ai). `backend` is where the command's
    /// tasks lived, which decides how they can be taken up.
    pub fn text(&self, backend: Backend) -> String {
        let mut lines = vec![format!("error: {}", escape::line(&self.message))];
        lines.extend(
            self.details
                .iter()
                .map(|line| format!("  {}", escape::line(line))),
        );
        if let Some(id) = &self.task_id {
            lines.push(format!("task: {}", escape::line(id)));
        }
        if let Some(hint) = self.full_hint(backend) {
            lines.push(format!("hint: {}", escape::line(&hint)));
        }
        lines.join("\n")
    }

    /// Reports the failure: in words on stderr, or with `--json` as one JSON document
    /// on stdout and nothing on stderr (a script reading stdout always gets one
    /// document).
    ///
    /// # Errors
    ///
    /// Writing the JSON document to stdout failed (its reader is gone).
    pub fn report(&self, json: bool, backend: Backend) -> std::io::Result<()> {
        if !json {
            console::err(&self.text(backend));
            return Ok(());
        }
        let document = json!({ "error": {
            "kind": self.kind.name(),
            "message": self.message,
            "details": self.details,
            "task_id": self.task_id,
            "hint": self.full_hint(backend),
        }});
        console::out(&escape::json(&document))
    }
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        let task_id = error.task_id().map(str::to_owned);
        let mut failure = match error.kind() {
            ErrorKind::InvalidInput(invalid) => {
                Failure::invalid(invalid.violations().iter().map(|v| v.to_string()).collect())
            }
            ErrorKind::Config(_) => Failure::input(error.to_string()),
            _ if error.is_unknown_task() => Failure::new(Kind::UnknownTask, format!(
                "kie.ai knows no task {}",
                error.task_id().unwrap_or("with this id")
            ))
            .hint("check the id: it is the one `kie generate --no-wait` printed (tasks of another API key are not visible)"),
            ErrorKind::Api { code, .. } => Failure::new(api_kind(*code), error.to_string()),
            ErrorKind::TaskFailed { .. } => Failure::new(Kind::TaskFailed, error.to_string()),
            ErrorKind::WaitTimeout { waited, last_state } => {
                let task_id = task_id.clone().unwrap_or_default();
                Failure::new(
                    Kind::WaitTimeout,
                    format!(
                        "task {task_id} was still {last_state} after {}; it goes on at kie.ai",
                        duration::rounded(*waited)
                    ),
                )
                .resume(Resume::Wait { task_id, out: None })
            }
            _ if error.task_may_exist() => Failure::new(Kind::Service, error.to_string())
                .hint("do not simply run the same command again: check https://kie.ai/logs first"),
            _ => Failure::new(Kind::Service, error.to_string()),
        };
        failure.task_id = task_id;
        failure
    }
}

impl From<UnknownModel> for Failure {
    fn from(unknown: UnknownModel) -> Self {
        Failure::input(unknown.to_string()).hint("`kie models` lists the models and their ids")
    }
}

/// The exit code kie.ai's answer deserves: the account's fault, the input's, or the
/// service's.
fn api_kind(code: ApiCode) -> Kind {
    match code {
        ApiCode::Unauthorized | ApiCode::InsufficientCredits | ApiCode::SubKeyLimitExceeded => {
            Kind::Account
        }
        ApiCode::BadRequest | ApiCode::ValidationFailed => Kind::Input,
        _ => Kind::Service,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kie::{FieldError, Problem, ValidationError};

    #[test]
    fn invalid_input_lists_every_field_and_exits_2() {
        let invalid = ValidationError::new(
            "duration",
            Problem::NotAllowed {
                value: "7".into(),
                allowed: vec!["5".into(), "10".into()],
            },
        );
        let failure = Failure::from(Error::from(invalid));
        assert_eq!(failure.kind(), Kind::Input);
        assert_eq!(
            failure.details,
            vec![
                FieldError::new(
                    "duration",
                    Problem::NotAllowed {
                        value: "7".into(),
                        allowed: vec!["5".into(), "10".into()],
                    },
                )
                .to_string()
            ]
        );
        assert!(failure.details[0].contains(r#"allowed: "5", "10""#));
    }

    #[test]
    fn account_codes_exit_3_and_validation_codes_exit_2() {
        assert_eq!(api_kind(ApiCode::Unauthorized), Kind::Account);
        assert_eq!(api_kind(ApiCode::InsufficientCredits), Kind::Account);
        assert_eq!(api_kind(ApiCode::ValidationFailed), Kind::Input);
        assert_eq!(api_kind(ApiCode::ServerError), Kind::Service);
    }
}

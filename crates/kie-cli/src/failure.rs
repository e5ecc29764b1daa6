//! Failures as a terminal user should read them: plain words, what to do next, the task
//! id whenever a task exists, and an exit code per kind (listed in `kie --help`).

use std::process::ExitCode;

use kie::registry::UnknownModel;
use kie::{ApiCode, Error};
use serde_json::json;

/// Why a command ended unsuccessfully, by exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// kie.ai or the network failed (after retries), or a local file.
    Service = 1,
    /// Bad usage or invalid input; nothing was sent.
    Input = 2,
    /// No key, a refused key or too few credits.
    Account = 3,
    /// The task failed at kie.ai.
    TaskFailed = 4,
    /// The wait reached its deadline; the task goes on.
    WaitTimeout = 5,
    /// A batch ended with lines not done.
    Incomplete = 6,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Service => "service",
            Kind::Input => "invalid_input",
            Kind::Account => "account",
            Kind::TaskFailed => "task_failed",
            Kind::WaitTimeout => "wait_timeout",
            Kind::Incomplete => "incomplete",
        }
    }
}

/// A failure to report: a message, lines of detail, an optional hint, and the task id
/// when one exists.
#[derive(Debug)]
pub struct Failure {
    kind: Kind,
    message: String,
    details: Vec<String>,
    hint: Option<String>,
    task_id: Option<String>,
}

impl Failure {
    fn new(kind: Kind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            details: Vec::new(),
            hint: None,
            task_id: None,
        }
    }

    /// Bad usage or input caught here; nothing was sent.
    pub fn input(message: impl Into<String>) -> Self {
        Self::new(Kind::Input, message)
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

    /// The process exit code.
    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(self.kind as u8)
    }

    /// The message, without details or hint.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The kind of failure.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// Writes the failure to stderr in words, and with `--json` also as a JSON document
    /// on stdout (so a script reading stdout always gets one document).
    pub fn report(&self, json: bool) {
        eprintln!("error: {}", self.message);
        for line in &self.details {
            eprintln!("  {line}");
        }
        if let Some(id) = &self.task_id {
            eprintln!("task: {id}");
        }
        if let Some(hint) = &self.hint {
            eprintln!("hint: {hint}");
        }
        if json {
            let document = json!({ "error": {
                "kind": self.kind.name(),
                "message": self.message,
                "details": self.details,
                "task_id": self.task_id,
                "hint": self.hint,
            }});
            println!("{document}");
        }
    }
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        let task_id = error.task_id().map(str::to_owned);
        let mut failure = match &error {
            Error::InvalidInput(invalid) => {
                Failure::input("invalid input, nothing was sent:")
                    .details(invalid.violations().iter().map(|v| v.to_string()).collect())
                    .hint("`kie models` lists each model's parameters and allowed values")
            }
            Error::Config(_) => Failure::input(error.to_string()),
            _ if error.is_unknown_task() => Failure::input(format!(
                "kie.ai knows no task {}",
                error.task_id().unwrap_or("with this id")
            ))
            .hint("check the id: it is the one `kie generate --no-wait` printed (tasks of another API key are not visible)"),
            Error::Api { code, .. } => Failure::new(api_kind(*code), error.to_string()),
            Error::TaskFailed { .. } => Failure::new(Kind::TaskFailed, error.to_string()),
            Error::WaitTimeout { task_id, .. } => Failure::new(Kind::WaitTimeout, error.to_string())
                .hint(format!("`kie wait {task_id}` goes on waiting")),
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
        let failure = Failure::from(Error::InvalidInput(invalid));
        assert_eq!(failure.kind(), Kind::Input);
        assert_eq!(
            failure.details,
            vec![
                FieldError {
                    field: "duration".into(),
                    problem: Problem::NotAllowed {
                        value: "7".into(),
                        allowed: vec!["5".into(), "10".into()],
                    },
                }
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

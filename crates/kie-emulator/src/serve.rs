//! Serving the emulator from a command line: the flags of the `kie-emulator` binary,
//! shared with `kie emulator` so the two never drift apart.

use std::io::Write as _;
use std::process::ExitCode;

use crate::{DEFAULT_WEBHOOK_KEY, Durations, Emulator, EmulatorBuilder, Timeline};

/// The command-line flags that configure a served emulator.
#[derive(Debug, Clone, clap::Args)]
#[non_exhaustive]
pub struct ServeArgs {
    /// Port on 127.0.0.1 (0 picks a free port).
    #[arg(long, default_value_t = 0, env = "KIE_EMULATOR_PORT")]
    pub port: u16,
    /// Seed for task ids and fault draws (random when absent).
    #[arg(long, env = "KIE_EMULATOR_SEED")]
    pub seed: Option<u64>,
    /// Virtual clock speed (60 = a minute of generation per real second).
    #[arg(long, default_value_t = 1.0, env = "KIE_EMULATOR_SPEED")]
    pub speed: f64,
    /// HMAC key callbacks are signed with.
    // A key set in the environment is a secret: help names the variable, not its value.
    #[arg(
        long,
        env = "KIE_EMULATOR_WEBHOOK_KEY",
        hide_env_values = true,
        default_value = DEFAULT_WEBHOOK_KEY
    )]
    pub webhook_key: String,
    /// Send callbacks without signature headers.
    #[arg(long)]
    pub unsigned_callbacks: bool,
    /// Accept only this Bearer key (otherwise any non-empty key). Not `--api-key`, which
    /// `kie` takes for the key a client sends.
    #[arg(
        long,
        value_name = "KEY",
        env = "KIE_EMULATOR_API_KEY",
        hide_env_values = true
    )]
    pub require_key: Option<String>,
    /// Finish each task on its N-th recordInfo request instead of after realistic durations.
    #[arg(long, conflicts_with = "immediate")]
    pub after_polls: Option<u32>,
    /// Finish every task as soon as it is created.
    #[arg(long)]
    pub immediate: bool,
    /// Draw each task's total time from a distribution instead of its model's fixed
    /// durations: `uniform:60s-300s` or `log-normal:median=2m,p95=5m,min=30s,max=10m`
    /// (times in ms, s or m; drawn from the seed).
    #[arg(long, value_name = "DISTRIBUTION", env = "KIE_EMULATOR_DURATIONS")]
    pub durations: Option<Durations>,
    /// Enforce kie.ai's rate limits (20 creates / 10 s, 10 recordInfo / s).
    #[arg(long)]
    pub rate_limits: bool,
    /// Starting credit balance.
    #[arg(long, default_value_t = 10_000.0)]
    pub credits: f64,
    /// Deliver callbacks to non-loopback addresses too.
    #[arg(long)]
    pub allow_remote_callbacks: bool,
    /// Answer errors with their body code as the HTTP status too, as some proxies do
    /// (live kie.ai answers them with HTTP 200).
    #[arg(long)]
    pub http_status_errors: bool,
    /// Accept createTask input fields the model does not document (otherwise refused
    /// with a 422 naming them).
    #[arg(long)]
    pub ignore_unknown_input_fields: bool,
}

impl ServeArgs {
    /// An emulator builder configured by these flags.
    pub fn builder(&self) -> EmulatorBuilder {
        let mut builder = Emulator::builder()
            .port(self.port)
            .speed(self.speed)
            .rate_limits(self.rate_limits)
            .credits(self.credits)
            .allow_remote_callbacks(self.allow_remote_callbacks)
            .http_status_errors(self.http_status_errors)
            .ignore_unknown_input_fields(self.ignore_unknown_input_fields)
            .webhook_key(self.webhook_key.clone());
        if self.unsigned_callbacks {
            builder = builder.unsigned_callbacks();
        }
        if let Some(seed) = self.seed {
            builder = builder.seed(seed);
        }
        if let Some(key) = &self.require_key {
            builder = builder.api_key(key.clone());
        }
        if let Some(durations) = self.durations {
            builder = builder.durations(durations);
        }
        if let Some(polls) = self.after_polls {
            builder = builder.timeline(Timeline::AfterPolls { polls });
        } else if self.immediate {
            builder = builder.timeline(Timeline::Immediate);
        }
        builder
    }
}

/// Starts an emulator with `args`, prints `listening on http://127.0.0.1:PORT` as the
/// first line on stdout (scripts wait for it), then the `export` line that points kie
/// and the SDK at it, and a summary on stderr; then serves until Ctrl-C. `name`
/// prefixes the messages. A closed stdout or stderr loses lines, never the emulator.
pub async fn serve(name: &str, args: &ServeArgs) -> ExitCode {
    let emulator = match args.builder().start().await {
        Ok(emulator) => emulator,
        Err(error) => {
            say(format!("{name}: {error}"));
            return ExitCode::FAILURE;
        }
    };
    // A key the emulator requires is a secret, and is not printed: the user sets it.
    let key = match &args.require_key {
        None => " KIE_API_KEY=any",
        Some(_) => "",
    };
    {
        let mut stdout = std::io::stdout().lock();
        let _ = writeln!(stdout, "listening on {}", emulator.base_url());
        let _ = writeln!(
            stdout,
            "export KIE_BASE_URL={} KIE_UPLOAD_BASE_URL={}{key}",
            emulator.base_url(),
            emulator.upload_base_url()
        );
        let _ = stdout.flush();
    }
    let stats = emulator.stats();
    let durations = args
        .durations
        .map(|d| format!(" durations={d}"))
        .unwrap_or_default();
    say(format!(
        "{name}: emulator {} seed={} speed={}{durations} models=[{}]",
        stats.version,
        stats.seed,
        args.speed,
        stats.models.join(", ")
    ));
    say(match &args.require_key {
        None => format!("{name}: to use it from another shell, run the export line above"),
        Some(_) => format!(
            "{name}: to use it from another shell, run the export line above and set \
             KIE_API_KEY to the key given to --require-key"
        ),
    });
    for problem in &stats.spec_problems {
        say(format!("{name}: spec problem: {problem}"));
    }
    let _ = tokio::signal::ctrl_c().await;
    emulator.shutdown().await;
    ExitCode::SUCCESS
}

/// One line on stderr, in one write; lost if stderr cannot take it.
fn say(line: String) {
    let _ = std::io::stderr()
        .lock()
        .write_all(format!("{line}\n").as_bytes());
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use clap::Parser;

    use super::ServeArgs;
    use crate::Durations;

    #[derive(Debug, Parser)]
    struct Command {
        #[command(flatten)]
        serve: ServeArgs,
    }

    fn config(args: &[&str]) -> crate::Config {
        let command =
            Command::try_parse_from(std::iter::once("kie-emulator").chain(args.iter().copied()))
                .expect("the flags parse");
        command.serve.builder().config
    }

    #[test]
    fn live_defaults_and_the_flags_that_leave_them() {
        let live = config(&[]);
        assert!(!live.http_status_errors && !live.ignore_unknown_input_fields);
        let changed = config(&["--http-status-errors", "--ignore-unknown-input-fields"]);
        assert!(changed.http_status_errors && changed.ignore_unknown_input_fields);
    }

    #[test]
    fn durations_apply_to_every_model() {
        assert_eq!(config(&[]).default_durations, None);
        let uniform = config(&["--durations", "uniform:60s-300s"]);
        assert_eq!(
            uniform.default_durations,
            Durations::uniform(Duration::from_secs(60), Duration::from_secs(300)).ok()
        );
        assert!(uniform.durations.is_empty());
        let log_normal = config(&["--durations=log-normal:median=2m,p95=5m,min=30s,max=10m"]);
        assert_eq!(
            log_normal.default_durations.map(|d| d.to_string()),
            Some("log-normal:median=2m,p95=5m,min=30s,max=10m".to_owned())
        );
    }

    #[test]
    fn unreadable_durations_are_refused_with_the_syntax() {
        for bad in ["uniform:300s-60s", "uniform:60-300", "normal:1m-2m"] {
            let parsed = Command::try_parse_from(["kie-emulator", "--durations", bad]);
            let error = parsed.map(|_| ()).expect_err(bad).to_string();
            assert!(error.contains("--durations"), "{bad}: {error}");
        }
        let error = Command::try_parse_from(["kie-emulator", "--durations", "uniform:60"])
            .map(|_| ())
            .expect_err("no unit")
            .to_string();
        assert!(error.contains("expected uniform:MIN-MAX"), "{error}");
    }
}

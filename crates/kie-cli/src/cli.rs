//! The command line: every subcommand and flag, as clap parses them.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use kie_emulator::serve::ServeArgs;
use secrecy::SecretString;

use crate::duration;

/// What `kie --help` says about exit codes, so scripts can tell failures apart.
const EXIT_CODES: &str = "\
Exit codes:
  0    success
  1    kie.ai or the network failed (after retries), or a local file could not be written
  2    bad usage or invalid input: unknown model, a value out of range; nothing was sent
  3    account: no API key, a key kie.ai refused (401), or too few credits (402)
  4    the task failed at kie.ai (generation failed)
  5    the wait reached --max-wait; the task goes on: `kie wait <task-id>` resumes
  6    a batch ended incomplete: some lines failed or their submission outcome is unknown
  7    kie.ai knows no task with this id (a typo, or a task of another API key)
  130  interrupted (Ctrl-C): what goes on at kie.ai, and how to take it up, is printed
  141  stdout was closed before the outcome was written (its reader, e.g. `head`, left)

With --json, every outcome is one JSON document on stdout (usage errors too:
{\"error\": {\"kind\": ...}}), and stderr stays quiet unless -v asks for the log.

Environment: KIE_API_KEY (your key: https://kie.ai/api-key), KIE_BASE_URL, KIE_UPLOAD_BASE_URL,
KIE_REDIS_URL and KIE_REDIS_PREFIX (the rate limits shared through Redis: --redis).
Without an account, add --emulator to any command to run it against a local kie.ai.";

/// Generate videos with kie.ai's models (Bytedance, Sora, Kling, Hailuo, Grok,
/// HappyHorse, Infinitalk, Topaz, Wan) from a terminal: validate, submit, wait with
/// progress, download.
#[derive(Parser)]
#[command(name = "kie", version, after_help = EXIT_CODES)]
pub struct Cli {
    /// How to reach kie.ai (or the emulator).
    #[command(flatten)]
    pub connection: Connection,
    /// Print one JSON document on stdout instead of words, and no progress bars.
    #[arg(long, global = true)]
    pub json: bool,
    /// Log more on stderr: -v the SDK's debug log (each call and answer), -vv
    /// everything down to trace (default: warnings, such as a retry).
    #[arg(short, long, global = true, action = clap::ArgAction::Count, conflicts_with = "quiet")]
    pub verbose: u8,
    /// Log only errors on stderr (no warnings of retries).
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// The subcommand.
    #[command(subcommand)]
    pub command: Command,
}

/// Where requests go and with which key.
#[derive(Args)]
pub struct Connection {
    /// Run against an emulator started in this process (fast clock, no account, no
    /// network), instead of kie.ai.
    #[arg(long, global = true)]
    pub emulator: bool,
    /// The API key (default: KIE_API_KEY).
    #[arg(long, global = true, env = "KIE_API_KEY", hide_env_values = true, value_parser = secret)]
    pub api_key: Option<SecretString>,
    /// The API base URL (default: KIE_BASE_URL, else https://api.kie.ai).
    #[arg(long, global = true, env = "KIE_BASE_URL")]
    pub base_url: Option<String>,
    /// The upload base URL (default: KIE_UPLOAD_BASE_URL, else https://kieai.redpandaai.co).
    #[arg(long, global = true, env = "KIE_UPLOAD_BASE_URL")]
    pub upload_base_url: Option<String>,
    /// Share kie.ai's rate limits through this Redis with every other `kie` that uses
    /// it, on any machine, e.g. redis://:PASSWORD@HOST:6379/0 (default: KIE_REDIS_URL;
    /// without it, each process keeps to the limits alone).
    #[arg(long, global = true, env = "KIE_REDIS_URL", hide_env_values = true, value_name = "URL", value_parser = secret)]
    pub redis: Option<SecretString>,
    /// With --redis, the budget's label in its Redis keys (kie:budget:PREFIX:...):
    /// processes with the same one share a budget (default: KIE_REDIS_PREFIX, else a
    /// digest of the API key: every process with one key shares one, and Redis never
    /// holds the key).
    #[arg(long, global = true, env = "KIE_REDIS_PREFIX", value_name = "PREFIX")]
    pub redis_prefix: Option<String>,
    /// With --redis, this process's share of the account's limits while Redis cannot
    /// be reached, in (0, 1]: give each of N processes 1/N, so that together they keep
    /// to the limits without Redis too.
    #[arg(long, global = true, value_name = "F", default_value_t = 1.0, value_parser = share)]
    pub redis_share: f64,
}

fn secret(text: &str) -> Result<SecretString, String> {
    Ok(SecretString::from(text.to_owned()))
}

/// A share of the account's limits, in (0, 1].
fn share(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(share) if share > 0.0 && share <= 1.0 => Ok(share),
        _ => Err(format!(
            "expected a share in (0, 1], such as 0.5, got {text:?}"
        )),
    }
}

/// Which models `kie models` lists.
#[derive(Args)]
pub struct ModelsArgs {
    /// Only this provider's models (e.g. `kling`).
    #[arg(long)]
    pub provider: Option<String>,
    /// Only models of this modality (e.g. `image-to-video`).
    #[arg(long)]
    pub modality: Option<String>,
}

/// The subcommands.
#[derive(Subcommand)]
pub enum Command {
    /// List the models, grouped by provider and modality, with their parameters, allowed
    /// values, defaults and limits.
    Models(ModelsArgs),
    /// The commands that talk to kie.ai (or the emulator).
    #[command(flatten)]
    Service(Service),
    /// Serve the emulator on 127.0.0.1 until Ctrl-C; prints the `export` line that
    /// points kie (and the SDK) at it.
    Emulator(ServeArgs),
    /// Print the completion script for a shell, e.g. `kie completions bash >
    /// ~/.local/share/bash-completion/completions/kie`.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

/// The subcommands that need a client.
#[derive(Subcommand)]
pub enum Service {
    /// Validate, submit, wait with progress and download one video.
    Generate(Generate),
    /// Show a task's state (and its result or failure).
    Status {
        /// The task id createTask returned.
        task_id: String,
    },
    /// Wait for a task to finish, then print its video URL (or download it with --out).
    Wait {
        /// The task id createTask returned.
        task_id: String,
        /// Download the video to this file.
        #[arg(long)]
        out: Option<PathBuf>,
        /// How long to wait before giving up (the task goes on), e.g. 90s, 30m, 1h30m.
        #[arg(long, default_value = "30m", value_parser = duration::parse, allow_hyphen_values = true)]
        max_wait: std::time::Duration,
    },
    /// Download a finished task's video.
    Download {
        /// The task id createTask returned.
        task_id: String,
        /// The file to write (atomically: a cut download leaves nothing behind).
        #[arg(long)]
        out: PathBuf,
    },
    /// Show the account's remaining credits.
    Credits,
    /// Upload a local file to kie.ai's file host (kept 3 days) and print its URL.
    Upload {
        /// The file.
        file: PathBuf,
    },
    /// Run many requests from a JSON Lines file, resumably.
    Batch(Batch),
}

/// `kie generate`.
#[derive(Args)]
pub struct Generate {
    /// The model id (see `kie models`), e.g. kling/v2-1-master-text-to-video.
    pub model: String,
    /// What the video shows; models that take no prompt (an upscaler, a watermark
    /// remover) take none.
    #[arg(long, default_value = "")]
    pub prompt: String,
    /// A model parameter by its kie.ai name, e.g. --set duration=10 (repeatable, once
    /// per parameter).
    #[arg(long = "set", value_name = "NAME=VALUE", value_parser = assignment)]
    pub params: Vec<(String, String)>,
    /// The source image, or first frame, for image-to-video models: a local file
    /// (uploaded first) or an http(s) URL (other URL schemes are refused, here as for
    /// every media input); `kie models` lists the media inputs each model takes.
    #[arg(long, value_name = "PATH_OR_URL")]
    pub image: Option<String>,
    /// The last frame, for models that end on a given image: a local file (uploaded
    /// first) or an http(s) URL.
    #[arg(long, value_name = "PATH_OR_URL")]
    pub end_image: Option<String>,
    /// A reference image whose subject, style or character the video keeps (repeat
    /// the flag for several): a local file (uploaded first) or an http(s) URL.
    #[arg(long, value_name = "PATH_OR_URL")]
    pub reference_image: Vec<String>,
    /// The input video, to extend, restyle, edit, upscale or take motion from: a local
    /// file (uploaded first) or an http(s) URL.
    #[arg(long, value_name = "PATH_OR_URL")]
    pub video: Option<String>,
    /// The driving audio (speech or sound the video follows): a local file (uploaded
    /// first) or an http(s) URL.
    #[arg(long, value_name = "PATH_OR_URL")]
    pub audio: Option<String>,
    /// Where kie.ai POSTs the outcome when the task ends.
    #[arg(long)]
    pub callback_url: Option<String>,
    /// Print the task id and return at once, without waiting.
    #[arg(long, conflicts_with = "out")]
    pub no_wait: bool,
    /// The file to write the video to (default: <task-id>.mp4).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// How long to wait before giving up (the task goes on), e.g. 90s, 30m, 1h30m.
    #[arg(long, default_value = "30m", value_parser = duration::parse, allow_hyphen_values = true)]
    pub max_wait: std::time::Duration,
}

/// `kie batch`.
#[derive(Args)]
pub struct Batch {
    /// One request per line: {"model": ID, "prompt": TEXT, "params": {NAME: VALUE},
    /// "image": PATH_OR_URL, "end_image": PATH_OR_URL, "reference_images": [PATH_OR_URL,
    /// ...], "video": PATH_OR_URL, "audio": PATH_OR_URL, "callback_url": URL, "name":
    /// FILE_STEM}; only the model is required (and a prompt, for the models that take
    /// one: the model says so). Local files are uploaded; a
    /// relative path is found in the batch file's directory (not the current one).
    /// Blank lines and lines starting with # are skipped.
    pub file: PathBuf,
    /// Where the videos go (NAME.mp4, or line-N.mp4), beside the batch's journal; one
    /// `kie batch` at a time may use it.
    #[arg(long)]
    pub out_dir: PathBuf,
    /// How many tasks may be in progress (created, not yet downloaded) at once.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub concurrency: u32,
    /// Submit again the lines whose earlier submission has an unknown outcome (the
    /// batch stopped while the create was in flight, or queued for the rate limit):
    /// each may then exist, and be billed, twice.
    #[arg(long)]
    pub resubmit_unknown: bool,
    /// Repair a damaged journal before running: every whole entry is kept, the damaged
    /// file is set aside beside it, and a line whose create the damage may hide is
    /// counted as outcome unknown (never sent again without --resubmit-unknown).
    #[arg(long)]
    pub repair_journal: bool,
    /// How long to wait for each task before giving up on it (it goes on at kie.ai),
    /// e.g. 90s, 30m, 1h30m.
    #[arg(long, default_value = "30m", value_parser = duration::parse, allow_hyphen_values = true)]
    pub max_wait: std::time::Duration,
}

/// `NAME=VALUE`.
fn assignment(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((name, value)) if !name.trim().is_empty() => {
            Ok((name.trim().to_owned(), value.to_owned()))
        }
        _ => Err(format!("expected NAME=VALUE, got {text:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assignments_split_at_the_first_equals_sign() {
        assert_eq!(
            assignment("negative_prompt=a=b"),
            Ok(("negative_prompt".into(), "a=b".into()))
        );
        assert!(assignment("duration").is_err());
        assert!(assignment("=5").is_err());
    }

    #[test]
    fn a_share_is_in_0_to_1() {
        assert_eq!(share("0.25"), Ok(0.25));
        assert_eq!(share("1"), Ok(1.0));
        for refused in ["0", "-0.5", "1.5", "NaN", "half"] {
            assert!(share(refused).is_err(), "{refused}");
        }
    }

    #[test]
    fn the_command_line_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}

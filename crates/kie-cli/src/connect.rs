//! Reaching kie.ai, or an emulator started in this process, with the rate limits kept
//! in this process or shared through Redis.

use std::sync::Arc;

use kie::budget::{Budget, LocalBudget, RedisBudget};
use kie::time::{Timer, TokioTimer};
use kie::{Client, ErrorKind};
use kie_emulator::Emulator;
use secrecy::ExposeSecret;
use sha2::{Digest as _, Sha256};

use crate::cli::{Connection, Service};
use crate::failure::Failure;
use crate::progress::Display;

/// The API key of the emulator `--emulator` starts, which takes any.
const EMULATOR_KEY: &str = "emulator";

/// The virtual clock speed of `--emulator`: a minute of generation per real second, so
/// a Kling video takes seconds and every state still shows.
const EMULATOR_SPEED: f64 = 60.0;

/// Where the tasks of a command live, which decides what "take it up later" can mean.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// kie.ai, or an emulator in another process (`kie emulator`): tasks outlive this
    /// command, and `kie wait`, `kie download` or a rerun take them up.
    Remote,
    /// The emulator `--emulator` starts inside this command: it and its tasks end with
    /// the command, so no later command can find them.
    InProcess,
}

impl Backend {
    /// Where the tasks of a command run with `connection` live.
    pub fn of(connection: &Connection) -> Self {
        if connection.emulator {
            Backend::InProcess
        } else {
            Backend::Remote
        }
    }
}

/// What to do instead of `--emulator` for work that spans commands (said wherever
/// `--emulator` cannot do what was asked).
pub const SERVED_EMULATOR: &str = "for work that spans commands, start `kie emulator` in \
     another terminal, run the `export KIE_BASE_URL=... KIE_UPLOAD_BASE_URL=... \
     KIE_API_KEY=...` line it prints, and leave out --emulator";

/// A client, the budget it paces its calls through when this process keeps it, and the
/// emulator behind it when `--emulator` started one (kept alive for as long as the
/// client is used).
pub struct Connected {
    /// The client.
    pub client: Client,
    /// The client's budget of kie.ai's rate limits when this process keeps it (without
    /// `--redis`), on the client's timer: a batch counts its previous run's recent
    /// creates in it. Redis keeps every place itself, a killed run's too.
    pub local_budget: Option<Arc<LocalBudget>>,
    /// The budget shared through Redis, with `--redis`: flushed before the command
    /// ends, so that Redis does not count its last calls as in flight for a minute.
    pub shared_budget: Option<Arc<RedisBudget>>,
    /// The in-process emulator, with `--emulator`.
    pub emulator: Option<Emulator>,
}

/// Refuses, before anything starts, what `--emulator` cannot do: a command about a
/// task of an earlier command (the emulator it starts is new and knows no task), and
/// `--no-wait` or `kie upload`, which leave a task id or a file URL to later commands
/// that cannot find it.
pub fn check_in_process(command: &Service) -> Result<(), Failure> {
    const NO_TASK: &str = "--emulator starts a new emulator for this command alone, which \
                           knows no task of an earlier one";
    let (refused, why) = match command {
        Service::Status { .. } => ("kie status", NO_TASK),
        Service::Wait { .. } => ("kie wait", NO_TASK),
        Service::Download { .. } => ("kie download", NO_TASK),
        Service::Generate(generate) if generate.no_wait => (
            "kie generate --no-wait",
            "it would print the id of a task that ends with this command, which no later \
             command can find",
        ),
        Service::Upload { .. } => (
            "kie upload",
            "it would print the URL of a file that ends with this command, which nothing \
             can fetch afterwards",
        ),
        _ => return Ok(()),
    };
    Err(
        Failure::input(format!("`{refused}` cannot run with --emulator: {why}"))
            .hint(SERVED_EMULATOR),
    )
}

/// Builds the client the flags and environment describe; with `--redis`, connects to
/// Redis first (one that cannot be reached stops the command before anything is sent);
/// with `--emulator`, starts an emulator and says so on stderr unless `display` is
/// quiet (nothing goes to kie.ai then).
pub async fn connect(connection: &Connection, display: Display) -> Result<Connected, Failure> {
    let key = if connection.emulator {
        EMULATOR_KEY
    } else {
        connection
            .api_key
            .as_ref()
            .map(|key| key.expose_secret().trim())
            .filter(|key| !key.is_empty())
            .ok_or_else(Failure::no_key)?
    };
    let shared = match &connection.redis {
        Some(url) => Some(redis_budget(connection, url.expose_secret(), key).await?),
        None => None,
    };
    let mut builder = Client::builder().api_key(key);
    let emulator = if connection.emulator {
        let emulator = Emulator::builder()
            .speed(EMULATOR_SPEED)
            .start()
            .await
            .map_err(|e| Failure::local(format!("could not start the emulator: {e}")))?;
        display.note(format!(
            "kie: --emulator: using a local kie.ai at {} (no account, nothing leaves this \
             machine; a minute of generation takes a second; it and its tasks end with this \
             command)",
            emulator.base_url()
        ));
        builder = builder
            .base_url(emulator.base_url())
            .upload_base_url(emulator.upload_base_url());
        Some(emulator)
    } else {
        if let Some(url) = &connection.base_url {
            builder = builder.base_url(url);
        }
        if let Some(url) = &connection.upload_base_url {
            builder = builder.upload_base_url(url);
        }
        None
    };
    let (local_budget, shared_budget) = match shared {
        Some(shared) => {
            let shared = Arc::new(shared);
            builder = builder.budget(Arc::clone(&shared) as Arc<dyn Budget>);
            (None, Some(shared))
        }
        None => {
            let timer: Arc<dyn Timer> = Arc::new(TokioTimer::default());
            let local = Arc::new(LocalBudget::new(Arc::clone(&timer)));
            builder = builder
                .timer(timer)
                .budget(Arc::clone(&local) as Arc<dyn Budget>);
            (Some(local), None)
        }
    };
    let client = builder.build().map_err(Failure::from)?;
    Ok(Connected {
        client,
        local_budget,
        shared_budget,
        emulator,
    })
}

/// The budget shared through the Redis at `url`, reached now. Its keys are labelled
/// with `--redis-prefix`, by default one derived from `api_key`.
async fn redis_budget(
    connection: &Connection,
    url: &str,
    api_key: &str,
) -> Result<RedisBudget, Failure> {
    let label = connection
        .redis_prefix
        .clone()
        .unwrap_or_else(|| default_label(api_key));
    RedisBudget::builder(url)
        .prefix(label)
        .share(connection.redis_share)
        .build()
        .await
        .map_err(|error| {
            // Its words name the server by host and port, never by its password.
            let reason = match error.kind() {
                ErrorKind::Config(reason) => reason.clone(),
                _ => error.to_string(),
            };
            Failure::local(format!("--redis: {reason}; nothing was sent")).hint(
                "check that Redis runs and that --redis (or KIE_REDIS_URL) names it, with its \
                 password if it has one, e.g. redis://:PASSWORD@HOST:6379/0; without \
                 --redis, this process keeps to kie.ai's rate limits alone",
            )
        })
}

/// The budget's label for processes that name none: one per API key, so that every
/// process with the key shares one budget, and a digest, so that Redis (and whoever
/// can list its keys) never holds the key.
fn default_label(api_key: &str) -> String {
    Sha256::digest(api_key.as_bytes())
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_label_is_one_per_key_and_holds_no_key() {
        let label = default_label("secret-key-1");
        assert_eq!(label, default_label("secret-key-1"));
        assert_ne!(label, default_label("secret-key-2"));
        assert_eq!(label.len(), 16);
        assert!(label.bytes().all(|b| b.is_ascii_hexdigit()), "{label}");
    }
}

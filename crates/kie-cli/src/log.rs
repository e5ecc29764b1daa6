//! `-v` and `-q`: what the SDK logs (retries, polls that failed, each answer) on
//! stderr. The key never shows: the SDK keeps it out of everything it logs, at every
//! level.

use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

/// The SDK's crate, whose log `-v` opens first.
const SDK: &str = "kie_core";

/// What is logged for `-v` given `verbose` times, `-q`, and `--json`: warnings by
/// default (a retry, a poll that failed), errors only with `-q`, the SDK's debug log
/// with `-v` (each call and answer), and everything down to trace with `-vv` (HTTP
/// connections too). `--json` keeps stderr quiet unless `-v` asks for the log.
fn filter(verbose: u8, quiet: bool, json: bool) -> Option<Targets> {
    let targets = Targets::new();
    match (verbose, quiet) {
        (0, _) if json => None,
        (_, true) => Some(targets.with_default(LevelFilter::ERROR)),
        (0, false) => Some(targets.with_default(LevelFilter::WARN)),
        (1, false) => Some(
            targets
                .with_default(LevelFilter::WARN)
                .with_target(SDK, LevelFilter::DEBUG),
        ),
        (_, false) => Some(targets.with_default(LevelFilter::TRACE)),
    }
}

/// Sends the log the flags ask for to stderr, one whole line per event. A stderr that
/// cannot be written loses the line, silently.
pub fn init(verbose: u8, quiet: bool, json: bool) {
    let Some(filter) = filter(verbose, quiet, json) else {
        return;
    };
    let lines = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .log_internal_errors(false);
    tracing_subscriber::registry()
        .with(lines)
        .with(filter)
        .init();
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing::Level;

    /// Whether `filter` logs `level` from `target`.
    fn logs(filter: &Option<Targets>, target: &str, level: Level) -> bool {
        filter
            .as_ref()
            .is_some_and(|filter| filter.would_enable(target, &level))
    }

    #[test]
    fn warnings_by_default_errors_with_q_the_sdk_with_v_and_all_with_vv() {
        let default = filter(0, false, false);
        assert!(logs(&default, "kie_core::transport", Level::WARN));
        assert!(!logs(&default, "kie_core::transport", Level::INFO));
        let quiet = filter(0, true, false);
        assert!(logs(&quiet, "kie_core::wait", Level::ERROR));
        assert!(!logs(&quiet, "kie_core::wait", Level::WARN));
        let verbose = filter(1, false, false);
        assert!(logs(&verbose, "kie_core::transport", Level::DEBUG));
        assert!(!logs(&verbose, "kie_core::transport", Level::TRACE));
        assert!(!logs(&verbose, "hyper_util::client", Level::DEBUG));
        assert!(logs(&verbose, "hyper_util::client", Level::WARN));
        let all = filter(2, false, false);
        assert!(logs(&all, "hyper_util::client", Level::TRACE));
        assert_eq!(filter(5, false, false), all);
    }

    #[test]
    fn json_keeps_stderr_quiet_unless_v_asks() {
        assert_eq!(filter(0, false, true), None);
        assert_eq!(filter(0, true, true), None);
        assert!(logs(
            &filter(1, false, true),
            "kie_core::transport",
            Level::DEBUG
        ));
    }
}

//! kie-core's integration tests, one binary with a module per area (one binary links
//! the dependency graph once; a binary per file linked it a dozen times). Apart:
//! `tests/secrets.rs`, which installs a tracing subscriber and so needs a process of its
//! own (other tests' threads would share its callsites).

mod callback_first;
mod callback_receiver;
mod callback_replays;
mod common;
mod concurrency;
mod downloads;
mod emulator;
mod hostile;
mod live;
mod pacing;
#[cfg(feature = "redis-budget")]
mod redis_budget;
mod results;
mod retries;
mod uploads;
mod waiting;
mod wire;

//! The emulator's configuration and its in-memory state.
//!
//! All mutable state sits behind one mutex whose critical sections never await: simple
//! to reason about, and measured fast enough (see BENCHMARKS.md) because no request
//! holds it for more than a few microseconds.

use std::{
    collections::{BTreeMap, HashMap, VecDeque},
    sync::{Mutex, MutexGuard},
};

use serde::{Deserialize, Serialize};
use tokio::sync::{Notify, watch};

use crate::{
    callbacks::{CallbackAttempt, CallbackFaults, CallbackRetry, Delivery},
    clock::VirtualClock,
    durations::Durations,
    faults::{Endpoint, FaultBook},
    files::FileStore,
    ids::Streams,
    limits::{Peaks, RateLimiter},
    scheduler::Timers,
    spec::Catalog,
    tasks::{Outcome, Phases, Task, Timeline},
};

/// Behaviour that can be changed while the emulator runs (and is restored by a reset).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct Config {
    /// How new tasks move through their states.
    pub timeline: Timeline,
    /// Per-model durations replacing the built-in realistic ones (time-based timeline).
    pub phases: BTreeMap<String, Phases>,
    /// Per-model distributions each new task's total time is drawn from (time-based
    /// timeline); its phases keep their proportions, scaled to the drawn total.
    pub durations: BTreeMap<String, Durations>,
    /// The distribution for models without an entry in `durations`; none: every task of
    /// a model takes its phases' fixed total.
    pub default_durations: Option<Durations>,
    /// How many recordInfo requests right after creation answer 422 "recordInfo is null"
    /// (the transient answer the live API gives); 0 disables it.
    pub record_info_null_polls: u32,
    /// Enforce kie.ai's rate limits: 20 createTask per 10 s and 10 recordInfo per second,
    /// per API key, on the virtual clock.
    pub rate_limits: bool,
    /// The starting credit balance.
    pub credits: f64,
    /// Per-model flat prices replacing the built-in price table.
    pub prices: BTreeMap<String, f64>,
    /// Give back the price of a task that fails.
    pub refund_failed: bool,
    /// Callback retry schedule and timeout.
    pub callback_retry: CallbackRetry,
    /// Deliver callbacks to non-loopback targets (off: they are logged, not sent).
    pub allow_remote_callbacks: bool,
    /// How long result files stay downloadable (virtual ms; kie.ai says about 24 h).
    pub result_ttl_ms: u64,
    /// How long uploaded files stay downloadable (virtual ms; kie.ai says 3 days).
    pub upload_ttl_ms: u64,
    /// How long a download-url link works (virtual ms; kie.ai says 20 minutes).
    pub download_link_ttl_ms: u64,
    /// Honour `[emulator:...]` markers in prompts (see the crate documentation).
    pub prompt_markers: bool,
    /// Answer kie.ai's own errors (401, 402, 422 and the rest) with their body `code` as
    /// the HTTP status too, as some proxies and older endpoints do. Off by default: live
    /// kie.ai answers them with HTTP 200 and the error in the body `code` only. Either
    /// way, rate-limit refusals are HTTP 429, fault rules answer with the status they
    /// name, and unknown routes are HTTP 404.
    pub http_status_errors: bool,
    /// Accept createTask `input` fields the model's document does not have, and pass them
    /// on untouched (in `param`). Off by default: they are refused with a 422 naming
    /// them, since a misspelt field silently ignored is a bug a user wants to find.
    /// Whether live kie.ai refuses or ignores them is not recorded. Fields beside `input`
    /// (a misspelt `callBackUrl`) are refused either way.
    pub ignore_unknown_input_fields: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            timeline: Timeline::Time,
            phases: BTreeMap::new(),
            durations: BTreeMap::new(),
            default_durations: None,
            record_info_null_polls: 0,
            rate_limits: false,
            credits: 10_000.0,
            prices: BTreeMap::new(),
            refund_failed: true,
            callback_retry: CallbackRetry::default(),
            allow_remote_callbacks: false,
            result_ttl_ms: 24 * 3_600_000,
            upload_ttl_ms: 3 * 24 * 3_600_000,
            download_link_ttl_ms: 20 * 60_000,
            prompt_markers: true,
            http_status_errors: false,
            ignore_unknown_input_fields: false,
        }
    }
}

/// Counters behind [`Stats`].
#[derive(Debug, Clone, Default)]
pub(crate) struct Counters {
    pub requests: BTreeMap<Endpoint, u64>,
    pub tasks_by_model: BTreeMap<String, u64>,
    pub rejected_invalid: u64,
    pub rate_limited: u64,
    pub peaks: Peaks,
    pub ranged_file_requests: u64,
    pub callback_attempts: u64,
    pub callbacks_delivered: u64,
}

/// What the emulator has done so far.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Stats {
    /// The emulator version (also sent as `x-kie-emulator-version`).
    pub version: String,
    /// The seed of the random streams.
    pub seed: u64,
    /// Models discovered from `spec/`.
    pub models: Vec<String>,
    /// Spec documents that could not be used, with the reason.
    pub spec_problems: Vec<String>,
    /// Tasks created in total.
    pub tasks_created: u64,
    /// Tasks created per model.
    pub tasks_by_model: BTreeMap<String, u64>,
    /// Tasks per current state.
    pub tasks_by_state: BTreeMap<String, u64>,
    /// Requests per endpoint.
    pub requests: BTreeMap<Endpoint, u64>,
    /// createTask bodies rejected by validation.
    pub rejected_invalid: u64,
    /// Requests refused by the rate limits.
    pub rate_limited: u64,
    /// The most createTask requests one API key made within any 10 s of virtual time
    /// (the window of kie.ai's limit of 20), the largest over keys: what a client's
    /// pacing let through, as the server saw it. Counted whether or not the limits are
    /// enforced, from the requests the limits count: those that passed authorization and
    /// were not refused by the limits (those are `rate_limited`), whatever validation or
    /// credits answered next. Requests a fault answered before the service saw them are
    /// not counted. A window is `(t - 10 s, t]`, as the limiter's.
    #[serde(default)]
    pub peak_create_task_per_10s: u64,
    /// The most recordInfo requests one API key made within any 1 s of virtual time (the
    /// window of kie.ai's limit of 10), counted as `peak_create_task_per_10s` is.
    #[serde(default)]
    pub peak_record_info_per_second: u64,
    /// File requests (`GET /files/...`) that asked for part of a file (`Range`): how a
    /// client resuming a cut download shows.
    pub ranged_file_requests: u64,
    /// Fault rule firings.
    pub faults_fired: u64,
    /// Callback attempts made.
    pub callback_attempts: u64,
    /// Callback attempts answered with 2xx.
    pub callbacks_delivered: u64,
    /// Current credit balance.
    pub credits: f64,
    /// Files currently stored (results and uploads, expired ones included until reset).
    pub files: usize,
}

/// Everything that changes while the emulator runs.
#[derive(Debug)]
pub(crate) struct State {
    /// Incremented by every reset, so work started before a reset cannot touch the new state.
    pub epoch: u64,
    pub config: Config,
    pub streams: Streams,
    pub tasks: HashMap<String, Task>,
    pub task_order: Vec<String>,
    pub next_outcomes: VecDeque<Outcome>,
    pub faults: FaultBook,
    pub callback_faults: CallbackFaults,
    pub deliveries: HashMap<u64, Delivery>,
    next_delivery: u64,
    pub callback_log: Vec<CallbackAttempt>,
    pub files: FileStore,
    pub credits: f64,
    pub limiter: RateLimiter,
    pub timers: Timers,
    pub stats: Counters,
}

impl State {
    /// A fresh state.
    pub(crate) fn new(config: Config, seed: u64, epoch: u64) -> Self {
        Self {
            epoch,
            credits: config.credits,
            config,
            streams: Streams::new(seed),
            tasks: HashMap::new(),
            task_order: Vec::new(),
            next_outcomes: VecDeque::new(),
            faults: FaultBook::default(),
            callback_faults: CallbackFaults::default(),
            deliveries: HashMap::new(),
            next_delivery: 0,
            callback_log: Vec::new(),
            files: FileStore::default(),
            limiter: RateLimiter::default(),
            timers: Timers::default(),
            stats: Counters::default(),
        }
    }

    /// Stores a delivery and returns its id.
    pub(crate) fn add_delivery(&mut self, delivery: Delivery) -> u64 {
        self.next_delivery += 1;
        self.deliveries.insert(self.next_delivery, delivery);
        self.next_delivery
    }

    /// Counts a request to `endpoint`.
    pub(crate) fn count(&mut self, endpoint: Endpoint) {
        *self.stats.requests.entry(endpoint).or_default() += 1;
    }
}

/// What every handler, the scheduler and the Rust handle share.
pub(crate) struct Shared {
    /// `http://127.0.0.1:PORT`.
    pub base_url: String,
    pub seed: u64,
    /// When set, the only Bearer key accepted.
    pub api_key: Option<String>,
    /// When set, callbacks are signed with it.
    pub webhook_key: Option<String>,
    /// The configuration a reset returns to.
    pub initial_config: Config,
    pub initial_speed: f64,
    pub clock: VirtualClock,
    pub catalog: Catalog,
    pub state: Mutex<State>,
    /// Wakes the scheduler when timers or the clock change.
    pub wake: Notify,
    /// Bumped whenever the callback log grows (or is cleared).
    pub callback_log_changed: watch::Sender<u64>,
    pub shutdown: watch::Receiver<bool>,
    /// Client for callbacks and URL uploads (no proxies, no redirects).
    pub http: reqwest::Client,
}

impl Shared {
    /// Locks the state (a poisoned lock is still usable: every section leaves it valid).
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Runs `f` with the state locked.
    pub(crate) fn with_state<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        f(&mut self.lock())
    }
}

//! A faithful local kie.ai for tests, examples and offline development.
//!
//! kie.ai's video API is asynchronous: `createTask` answers with an id, the task moves
//! through `waiting → queuing → generating → success | fail` over minutes, a signed
//! callback may arrive, and the result is an mp4 behind a URL that expires. Stateless
//! mocks cannot test a client of such an API (a spec mock answers `waiting` forever), so
//! this crate emulates the service itself:
//!
//! - the live wire format and its quirks (`param` and `resultJson` as JSON strings,
//!   `input` encoded twice, `null`s until a task ends, no `updateTime`, `costTime` in
//!   seconds, Sora's `progress`, the exact error messages);
//! - request validation against the OpenAPI documents in `spec/` (not the SDK's code),
//!   with a 422 that names each offending field and rule;
//! - tasks on a virtual clock (speed, freeze, advance) with time-based, after-N-polls or
//!   immediate timelines and chosen outcomes; time-based lengths fixed per model or drawn
//!   per task from a seeded distribution ([`Durations`]);
//! - signed callbacks with retries and an attempt log; credits; download links; uploads;
//!   real, playable mp4 results with HEAD and Range;
//! - seeded faults by endpoint, model or task, and kie.ai's rate limits on request;
//! - a control plane (`/_emulator/*`, see [`control`]) mirrored by [`Emulator`].
//!
//! ```no_run
//! # async fn demo() -> Result<(), kie_emulator::StartError> {
//! use kie_emulator::{Emulator, Outcome, Timeline};
//!
//! let emulator = Emulator::builder().seed(7).timeline(Timeline::AfterPolls { polls: 3 }).start().await?;
//! emulator.push_outcome(Outcome::fail("500", "Internal server error"));
//! // Point the SDK at it: KIE_BASE_URL and KIE_UPLOAD_BASE_URL = emulator.base_url().
//! println!("{}", emulator.base_url());
//! # Ok(()) }
//! ```
//!
//! Prompt markers (on unless `Config::prompt_markers` is off) choose a task's fate from
//! the request itself: `[emulator:fail]`, `[emulator:fail:CODE]`,
//! `[emulator:fail:CODE:MESSAGE]`, `[emulator:success]`, `[emulator:immediate]`,
//! `[emulator:polls:N]`.

#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod api;
mod callbacks;
mod clock;
pub mod control;
mod credits;
mod docs_reading;
mod durations;
mod faults;
mod files;
mod ids;
mod lifecycle;
mod limits;
mod mime;
mod scheduler;
#[cfg(feature = "cli")]
#[cfg_attr(docsrs, doc(cfg(feature = "cli")))]
pub mod serve;
mod server;
mod spec;
mod state;
mod tasks;
mod uploads;
mod wire;

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use serde_json::Value;
use tokio::{
    sync::{Notify, watch},
    task::JoinHandle,
};

pub use callbacks::{
    CallbackAttempt, CallbackFaultEffect, CallbackFaultRule, CallbackKind, CallbackRetry, sign,
};
pub use clock::{ClockChange, ClockStatus};
pub use durations::{Durations, DurationsError};
pub use faults::{Endpoint, FaultEffect, FaultRule, FaultStatus, Trigger};
pub use lifecycle::TaskControlError;
pub use server::VERSION_HEADER;
pub use state::{Config, Stats};
pub use tasks::{Outcome, Phases, TaskSnapshot, TaskState, Timeline};

/// The OpenAPI documents this emulator was built with, as (file name, JSON text), sorted
/// by file name: kie.ai's common endpoints, its upload host, and one document per model,
/// each validated against by createTask. They are the documents the SDK's typed inputs
/// are generated from, so a test can compare its requests with what kie.ai documents.
pub fn spec_documents() -> &'static [(&'static str, &'static str)] {
    spec::EMBEDDED_SPECS
}

/// The HMAC key callbacks are signed with when none is configured.
pub const DEFAULT_WEBHOOK_KEY: &str = "kie-emulator-webhook-key";

/// Why the emulator could not start.
#[derive(Debug)]
#[non_exhaustive]
pub enum StartError {
    /// The port could not be bound.
    Bind(std::io::Error),
    /// The HTTP client for callbacks and URL uploads could not be built.
    Client(String),
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StartError::Bind(error) => write!(f, "cannot bind 127.0.0.1: {error}"),
            StartError::Client(error) => write!(f, "cannot build the HTTP client: {error}"),
        }
    }
}

impl std::error::Error for StartError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StartError::Bind(error) => Some(error),
            StartError::Client(_) => None,
        }
    }
}

/// The client for callbacks and URL uploads: no proxy, no redirects, and TLS (for remote
/// callbacks) on rustls with the application's process-default provider if it installed
/// one, else ring. reqwest is built without a provider of its own (the SDK chooses its
/// own, see kie-core's `tls`), and without one a plain client would panic.
fn outgoing_client() -> Result<reqwest::Client, Box<dyn std::error::Error>> {
    use rustls_platform_verifier::BuilderVerifierExt as _;
    let provider = rustls::crypto::CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::ring::default_provider()));
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_platform_verifier()?
        .with_no_client_auth();
    Ok(reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .tls_backend_preconfigured(tls)
        .build()?)
}

/// A wait on the callback log ran out of time.
#[derive(Debug, Clone, PartialEq)]
pub struct WaitTimeout {
    /// The log as it was when the wait gave up.
    pub attempts: Vec<CallbackAttempt>,
}

impl std::fmt::Display for WaitTimeout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "timed out waiting for callbacks ({} attempts logged)",
            self.attempts.len()
        )
    }
}

impl std::error::Error for WaitTimeout {}

/// Options for starting an [`Emulator`].
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until `start` is awaited"]
pub struct EmulatorBuilder {
    port: u16,
    seed: Option<u64>,
    speed: f64,
    start_ms: Option<i64>,
    frozen: bool,
    api_key: Option<String>,
    webhook_key: Option<String>,
    config: Config,
    extra_specs: Vec<(String, Value)>,
}

impl Default for EmulatorBuilder {
    fn default() -> Self {
        Self {
            port: 0,
            seed: None,
            speed: 1.0,
            start_ms: None,
            frozen: false,
            api_key: None,
            webhook_key: Some(DEFAULT_WEBHOOK_KEY.to_owned()),
            config: Config::default(),
            extra_specs: Vec::new(),
        }
    }
}

impl EmulatorBuilder {
    /// Port on 127.0.0.1 (default 0: a free port).
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Seed of the id and fault streams (default: random, reported by [`Emulator::seed`]).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Virtual clock speed: virtual ms per real ms (default 1).
    pub fn speed(mut self, speed: f64) -> Self {
        self.speed = speed;
        self
    }

    /// Virtual start time in Unix ms (default: the wall clock).
    pub fn start_time_ms(mut self, start_ms: i64) -> Self {
        self.start_ms = Some(start_ms);
        self
    }

    /// Start with the clock frozen (it then moves only when advanced).
    pub fn frozen(mut self, frozen: bool) -> Self {
        self.frozen = frozen;
        self
    }

    /// Accept only this Bearer key (default: any non-empty key).
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(key.into());
        self
    }

    /// The HMAC key callbacks are signed with (default [`DEFAULT_WEBHOOK_KEY`]).
    pub fn webhook_key(mut self, key: impl Into<String>) -> Self {
        self.webhook_key = Some(key.into());
        self
    }

    /// Send callbacks without signature headers (as kie.ai does for accounts that did not
    /// enable webhook signing).
    pub fn unsigned_callbacks(mut self) -> Self {
        self.webhook_key = None;
        self
    }

    /// The whole run-time configuration.
    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// How tasks move through their states.
    pub fn timeline(mut self, timeline: Timeline) -> Self {
        self.config.timeline = timeline;
        self
    }

    /// Draw every new task's total time from `durations`, for models without their own
    /// (see [`Config::default_durations`]).
    pub fn durations(mut self, durations: Durations) -> Self {
        self.config.default_durations = Some(durations);
        self
    }

    /// Enforce kie.ai's rate limits.
    pub fn rate_limits(mut self, on: bool) -> Self {
        self.config.rate_limits = on;
        self
    }

    /// Starting credit balance.
    pub fn credits(mut self, balance: f64) -> Self {
        self.config.credits = balance;
        self
    }

    /// Callback retry schedule and timeout.
    pub fn callback_retry(mut self, policy: CallbackRetry) -> Self {
        self.config.callback_retry = policy;
        self
    }

    /// Deliver callbacks to non-loopback targets too.
    pub fn allow_remote_callbacks(mut self, allow: bool) -> Self {
        self.config.allow_remote_callbacks = allow;
        self
    }

    /// Answer "recordInfo is null" for the first `polls` recordInfo requests of each task.
    pub fn record_info_null_polls(mut self, polls: u32) -> Self {
        self.config.record_info_null_polls = polls;
        self
    }

    /// Answer kie.ai's own errors with their body `code` as the HTTP status too (see
    /// [`Config::http_status_errors`]; default off, HTTP 200 as live).
    pub fn http_status_errors(mut self, on: bool) -> Self {
        self.config.http_status_errors = on;
        self
    }

    /// Accept unknown `input` fields instead of refusing them (see
    /// [`Config::ignore_unknown_input_fields`]; default off).
    pub fn ignore_unknown_input_fields(mut self, on: bool) -> Self {
        self.config.ignore_unknown_input_fields = on;
        self
    }

    /// Serve one more model from an OpenAPI document (in addition to `spec/`).
    pub fn spec_document(mut self, name: impl Into<String>, document: Value) -> Self {
        self.extra_specs.push((name.into(), document));
        self
    }

    /// Binds the port and starts serving; must run inside a Tokio runtime.
    ///
    /// # Errors
    ///
    /// [`StartError::Bind`] when the port cannot be bound, [`StartError::Client`] when the
    /// outgoing HTTP client cannot be built.
    pub async fn start(self) -> Result<Emulator, StartError> {
        let listener = server::bind(self.port).await.map_err(StartError::Bind)?;
        let addr = listener.local_addr().map_err(StartError::Bind)?;
        let base_url = format!("http://127.0.0.1:{}", addr.port());
        let http = outgoing_client().map_err(|e| StartError::Client(e.to_string()))?;
        let seed = self.seed.unwrap_or_else(|| fastrand::u64(..));
        let clock = clock::VirtualClock::new(
            self.start_ms.unwrap_or_else(clock::wall_clock_ms),
            self.speed,
        );
        if self.frozen {
            clock.apply(&ClockChange {
                frozen: Some(true),
                ..ClockChange::default()
            });
        }
        let initial_speed = clock.status().speed;
        let (shutdown_tx, shutdown_rx) = watch::channel(false);
        let (callback_log_changed, _) = watch::channel(0u64);
        let shared = Arc::new(state::Shared {
            base_url,
            seed,
            api_key: self.api_key,
            webhook_key: self.webhook_key,
            initial_config: self.config.clone(),
            initial_speed,
            clock,
            catalog: spec::Catalog::load(&self.extra_specs),
            state: Mutex::new(state::State::new(self.config, seed, 0)),
            wake: Notify::new(),
            callback_log_changed,
            shutdown: shutdown_rx,
            http,
        });
        let server = server::spawn(listener, Arc::clone(&shared));
        let scheduler = tokio::spawn(scheduler::run(Arc::clone(&shared)));
        Ok(Emulator {
            shared,
            addr,
            shutdown: shutdown_tx,
            tasks: vec![server, scheduler],
        })
    }
}

/// A running emulator on 127.0.0.1; dropping it stops it.
///
/// Every method is also available over HTTP under `/_emulator/*` (see [`control`]).
pub struct Emulator {
    shared: Arc<state::Shared>,
    addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emulator")
            .field("base_url", &self.shared.base_url)
            .field("seed", &self.shared.seed)
            .finish()
    }
}

impl Emulator {
    /// Options for a new emulator.
    pub fn builder() -> EmulatorBuilder {
        EmulatorBuilder::default()
    }

    /// Starts an emulator with default options on a free port.
    ///
    /// # Errors
    ///
    /// See [`EmulatorBuilder::start`].
    pub async fn start() -> Result<Emulator, StartError> {
        Self::builder().start().await
    }

    /// `http://127.0.0.1:PORT`: the API base URL (what `KIE_BASE_URL` should be).
    pub fn base_url(&self) -> &str {
        &self.shared.base_url
    }

    /// The upload host's base URL (what `KIE_UPLOAD_BASE_URL` should be); the same port.
    pub fn upload_base_url(&self) -> &str {
        &self.shared.base_url
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The seed in use.
    pub fn seed(&self) -> u64 {
        self.shared.seed
    }

    /// The key callbacks are signed with, if signing is on.
    pub fn webhook_key(&self) -> Option<&str> {
        self.shared.webhook_key.as_deref()
    }

    /// The only accepted Bearer key, if one was configured.
    pub fn api_key(&self) -> Option<&str> {
        self.shared.api_key.as_deref()
    }

    /// The models discovered from `spec/`, sorted.
    pub fn models(&self) -> Vec<String> {
        self.shared.catalog.ids()
    }

    /// Back to the start configuration, same seed (see `POST /_emulator/reset`).
    pub fn reset(&self) {
        control::reset(&self.shared);
    }

    /// The virtual clock.
    pub fn clock(&self) -> ClockStatus {
        self.shared.clock.status()
    }

    /// Changes the virtual clock.
    pub fn set_clock(&self, change: ClockChange) -> ClockStatus {
        control::change_clock(&self.shared, &change)
    }

    /// Freezes the virtual clock.
    pub fn freeze(&self) -> ClockStatus {
        self.set_clock(ClockChange {
            frozen: Some(true),
            ..ClockChange::default()
        })
    }

    /// Lets a frozen clock run again.
    pub fn resume(&self) -> ClockStatus {
        self.set_clock(ClockChange {
            frozen: Some(false),
            ..ClockChange::default()
        })
    }

    /// Moves the virtual clock forward; due state changes and callbacks follow at once.
    pub fn advance(&self, by: Duration) -> ClockStatus {
        let ms = u64::try_from(by.as_millis()).unwrap_or(u64::MAX);
        self.set_clock(ClockChange {
            advance_ms: Some(ms),
            ..ClockChange::default()
        })
    }

    /// Sets the clock speed factor.
    pub fn set_speed(&self, speed: f64) -> ClockStatus {
        self.set_clock(ClockChange {
            speed: Some(speed),
            ..ClockChange::default()
        })
    }

    /// The run-time configuration.
    pub fn config(&self) -> Config {
        self.shared.with_state(|state| state.config.clone())
    }

    /// Replaces the run-time configuration (the credit balance is not touched; see
    /// [`Emulator::set_credits`]).
    pub fn set_config(&self, config: Config) {
        self.shared.with_state(|state| state.config = config);
    }

    /// How new tasks move through their states.
    pub fn set_timeline(&self, timeline: Timeline) {
        self.shared
            .with_state(|state| state.config.timeline = timeline);
    }

    /// Durations for new tasks of `model` on the time-based timeline.
    pub fn set_phases(&self, model: impl Into<String>, phases: Phases) {
        self.shared
            .with_state(|state| state.config.phases.insert(model.into(), phases));
    }

    /// Draws the total time of each new task of `model` from `durations`, in place of its
    /// phases' fixed total (time-based timeline; the phases keep their proportions).
    pub fn set_durations(&self, model: impl Into<String>, durations: Durations) {
        self.shared
            .with_state(|state| state.config.durations.insert(model.into(), durations));
    }

    /// Draws the total time of each new task from `durations` for models without their
    /// own (see [`Emulator::set_durations`]); `None` goes back to the phases' fixed totals.
    pub fn set_default_durations(&self, durations: Option<Durations>) {
        self.shared
            .with_state(|state| state.config.default_durations = durations);
    }

    /// A flat price for new tasks of `model`.
    pub fn set_price(&self, model: impl Into<String>, credits: f64) {
        self.shared
            .with_state(|state| state.config.prices.insert(model.into(), credits));
    }

    /// Turns kie.ai's rate limits on or off.
    pub fn set_rate_limits(&self, on: bool) {
        self.shared
            .with_state(|state| state.config.rate_limits = on);
    }

    /// Answers kie.ai's own errors with their body `code` as the HTTP status too, or with
    /// HTTP 200 as live (see [`Config::http_status_errors`]).
    pub fn set_http_status_errors(&self, on: bool) {
        self.shared
            .with_state(|state| state.config.http_status_errors = on);
    }

    /// Answer "recordInfo is null" for the first `polls` recordInfo requests of each new task.
    pub fn set_record_info_null_polls(&self, polls: u32) {
        self.shared
            .with_state(|state| state.config.record_info_null_polls = polls);
    }

    /// Queues the outcome of the next created task (outcomes are used in order).
    pub fn push_outcome(&self, outcome: Outcome) {
        self.shared
            .with_state(|state| state.next_outcomes.push_back(outcome));
    }

    /// Empties the outcome queue.
    pub fn clear_outcomes(&self) {
        self.shared.with_state(|state| state.next_outcomes.clear());
    }

    /// Chooses how a task that has not finished yet will end.
    ///
    /// # Errors
    ///
    /// [`TaskControlError`] when the task is unknown or already finished.
    pub fn set_task_outcome(
        &self,
        task_id: &str,
        outcome: Outcome,
    ) -> Result<(), TaskControlError> {
        self.shared
            .with_state(|state| lifecycle::set_outcome(state, task_id, outcome))
    }

    /// Puts a task in a state now. A non-terminal state holds it there (its timeline no
    /// longer moves it) until forced again; a terminal state finishes it, callbacks
    /// included.
    ///
    /// # Errors
    ///
    /// [`TaskControlError`] when the task is unknown or already finished.
    pub fn force_state(&self, task_id: &str, state: TaskState) -> Result<(), TaskControlError> {
        control::force_state(&self.shared, task_id, state)
    }

    /// Every task, oldest first.
    pub fn tasks(&self) -> Vec<TaskSnapshot> {
        control::tasks(&self.shared)
    }

    /// One task.
    pub fn task(&self, task_id: &str) -> Option<TaskSnapshot> {
        control::task(&self.shared, task_id)
    }

    /// Adds a fault rule (after the existing ones) and returns its id.
    pub fn add_fault(&self, rule: FaultRule) -> u64 {
        self.shared.with_state(|state| state.faults.add(rule))
    }

    /// Removes a fault rule; whether it existed.
    pub fn remove_fault(&self, id: u64) -> bool {
        self.shared.with_state(|state| state.faults.remove(id))
    }

    /// Removes every fault rule.
    pub fn clear_faults(&self) {
        self.shared
            .with_state(|state| state.faults = Default::default());
    }

    /// The fault rules with their firing counts.
    pub fn faults(&self) -> Vec<FaultStatus> {
        self.shared.with_state(|state| state.faults.list())
    }

    /// Adds a callback fault rule and returns its id.
    pub fn add_callback_fault(&self, rule: CallbackFaultRule) -> u64 {
        self.shared
            .with_state(|state| state.callback_faults.add(rule))
    }

    /// Removes every callback fault rule.
    pub fn clear_callback_faults(&self) {
        self.shared
            .with_state(|state| state.callback_faults = Default::default());
    }

    /// The callback fault rules with their ids.
    pub fn callback_faults(&self) -> Vec<(u64, CallbackFaultRule)> {
        self.shared.with_state(|state| state.callback_faults.list())
    }

    /// Every callback attempt so far.
    pub fn callback_attempts(&self) -> Vec<CallbackAttempt> {
        self.shared.with_state(|state| state.callback_log.clone())
    }

    /// Empties the callback log.
    pub fn clear_callback_log(&self) {
        self.shared.with_state(|state| state.callback_log.clear());
        self.shared
            .callback_log_changed
            .send_modify(|count| *count += 1);
    }

    /// Waits until the callback log satisfies `done`, and returns it.
    ///
    /// # Errors
    ///
    /// [`WaitTimeout`] (holding the log) when `timeout` of real time passes first.
    pub async fn wait_for_callbacks(
        &self,
        timeout: Duration,
        mut done: impl FnMut(&[CallbackAttempt]) -> bool,
    ) -> Result<Vec<CallbackAttempt>, WaitTimeout> {
        let mut changes = self.shared.callback_log_changed.subscribe();
        let wait = async {
            loop {
                let log = self.callback_attempts();
                if done(&log) {
                    return log;
                }
                if changes.changed().await.is_err() {
                    std::future::pending::<()>().await;
                }
            }
        };
        tokio::time::timeout(timeout, wait)
            .await
            .map_err(|_| WaitTimeout {
                attempts: self.callback_attempts(),
            })
    }

    /// Waits until at least `count` callback attempts are logged.
    ///
    /// # Errors
    ///
    /// [`WaitTimeout`] when `timeout` of real time passes first.
    pub async fn wait_for_callback_attempts(
        &self,
        count: usize,
        timeout: Duration,
    ) -> Result<Vec<CallbackAttempt>, WaitTimeout> {
        self.wait_for_callbacks(timeout, |log| log.len() >= count)
            .await
    }

    /// The credit balance.
    pub fn credits(&self) -> f64 {
        self.shared.with_state(|state| state.credits)
    }

    /// Sets the credit balance.
    pub fn set_credits(&self, balance: f64) {
        self.shared.with_state(|state| state.credits = balance);
    }

    /// Counters and totals.
    pub fn stats(&self) -> Stats {
        control::stats(&self.shared)
    }

    /// The environment an SDK or CLI reads to talk to this emulator instead of kie.ai:
    /// `KIE_BASE_URL` and `KIE_UPLOAD_BASE_URL`.
    pub fn env_vars(&self) -> [(&'static str, String); 2] {
        [
            ("KIE_BASE_URL", self.shared.base_url.clone()),
            ("KIE_UPLOAD_BASE_URL", self.shared.base_url.clone()),
        ]
    }

    /// Stops serving and waits for the server to finish.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        for task in std::mem::take(&mut self.tasks) {
            let _ = task.await;
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// The README's example, compiled (and run, unless marked `no_run`) as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

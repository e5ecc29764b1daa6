//! The control plane: `/_emulator/*` over HTTP, and the same operations for the Rust
//! handle, so a test in any language can do what an in-process Rust test can.
//!
//! | method and path | effect |
//! |---|---|
//! | `GET /_emulator/health` | `{"status":"ok","version":...}` |
//! | `POST /_emulator/reset` | back to the start configuration, same seed |
//! | `GET`/`POST /_emulator/clock` | read, or change with a [`ClockChange`] |
//! | `GET`/`PATCH /_emulator/config` | read, or merge a partial [`Config`] (drawn task times: `durations`, `default_durations`, see [`Durations`]) |
//! | `POST`/`DELETE /_emulator/outcomes` | queue outcomes for the next tasks (`{"outcomes":[...]}`), or clear the queue |
//! | `GET /_emulator/tasks`, `GET /_emulator/tasks/{id}` | task snapshots |
//! | `PUT /_emulator/tasks/{id}/outcome` | choose how a running task ends ([`Outcome`]) |
//! | `POST /_emulator/tasks/{id}/state` | force a state (`{"state":"success"}`) |
//! | `GET`/`POST`/`DELETE /_emulator/faults`, `DELETE /_emulator/faults/{id}` | fault rules |
//! | `GET`/`DELETE /_emulator/callbacks` | the callback attempt log |
//! | `GET`/`POST`/`DELETE /_emulator/callbacks/faults` | callback fault rules |
//! | `GET`/`PUT /_emulator/credits` | the balance (`{"balance": 100}`) |
//! | `GET /_emulator/stats` | [`Stats`] |
//!
//! [`ClockChange`]: crate::ClockChange
//! [`Config`]: crate::Config
//! [`Durations`]: crate::Durations
//! [`Outcome`]: crate::Outcome
//! [`Stats`]: crate::Stats

use std::{collections::BTreeMap, sync::Arc};

use axum::{
    Json, Router,
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::{delete, get, post, put},
};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::{
    callbacks::{CallbackAttempt, CallbackFaultRule},
    clock::{ClockChange, ClockStatus},
    faults::{FaultRule, FaultStatus},
    lifecycle::{self, TaskControlError},
    limits::Limit,
    state::{Config, Shared, State as EmulatorState, Stats},
    tasks::{Outcome, TaskSnapshot, TaskState},
};

/// The crate version, sent as `x-kie-emulator-version` on every response.
pub(crate) const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Back to the start configuration with the same seed: tasks, files, faults, callbacks,
/// credits and counters are dropped; the clock keeps its time but gets its start speed
/// back and is unfrozen.
pub(crate) fn reset(shared: &Shared) {
    shared.with_state(|state| {
        let epoch = state.epoch + 1;
        *state = EmulatorState::new(shared.initial_config.clone(), shared.seed, epoch);
    });
    shared.clock.apply(&ClockChange {
        speed: Some(shared.initial_speed),
        frozen: Some(false),
        ..ClockChange::default()
    });
    shared.wake.notify_one();
    shared.callback_log_changed.send_modify(|count| *count += 1);
}

/// Changes the clock and wakes the scheduler so timers follow.
pub(crate) fn change_clock(shared: &Shared, change: &ClockChange) -> ClockStatus {
    let status = shared.clock.apply(change);
    shared.wake.notify_one();
    status
}

/// Every task, oldest first.
pub(crate) fn tasks(shared: &Shared) -> Vec<TaskSnapshot> {
    let now = shared.clock.now_ms();
    shared.with_state(|state| {
        state
            .task_order
            .iter()
            .filter_map(|id| state.tasks.get(id))
            .map(|t| t.snapshot(now))
            .collect()
    })
}

/// One task.
pub(crate) fn task(shared: &Shared, task_id: &str) -> Option<TaskSnapshot> {
    let now = shared.clock.now_ms();
    shared.with_state(|state| state.tasks.get(task_id).map(|t| t.snapshot(now)))
}

/// Forces a task's state.
pub(crate) fn force_state(
    shared: &Shared,
    task_id: &str,
    target: TaskState,
) -> Result<(), TaskControlError> {
    let now = shared.clock.now_ms();
    let result =
        shared.with_state(|state| lifecycle::force_state(shared, state, task_id, target, now));
    shared.wake.notify_one();
    result
}

/// The counters and current totals.
pub(crate) fn stats(shared: &Shared) -> Stats {
    let now = shared.clock.now_ms();
    shared.with_state(|state| {
        let mut tasks_by_state = BTreeMap::new();
        for task in state.tasks.values() {
            *tasks_by_state
                .entry(task.position(now).state.as_str().to_owned())
                .or_insert(0u64) += 1;
        }
        Stats {
            version: VERSION.to_owned(),
            seed: shared.seed,
            models: shared.catalog.ids(),
            spec_problems: shared.catalog.problems.clone(),
            tasks_created: state.stats.tasks_by_model.values().sum(),
            tasks_by_model: state.stats.tasks_by_model.clone(),
            tasks_by_state,
            requests: state.stats.requests.clone(),
            rejected_invalid: state.stats.rejected_invalid,
            rate_limited: state.stats.rate_limited,
            peak_create_task_per_10s: state.stats.peaks.peak(Limit::CreateTask),
            peak_record_info_per_second: state.stats.peaks.peak(Limit::RecordInfo),
            ranged_file_requests: state.stats.ranged_file_requests,
            faults_fired: state.faults.fired(),
            callback_attempts: state.stats.callback_attempts,
            callbacks_delivered: state.stats.callbacks_delivered,
            credits: state.credits,
            files: state.files.len(),
        }
    })
}

/// Merges a partial configuration (a JSON object with some [`Config`] fields) into the
/// current one.
pub(crate) fn patch_config(shared: &Shared, patch: Value) -> Result<Config, String> {
    shared.with_state(|state| {
        let mut current = serde_json::to_value(&state.config).map_err(|e| e.to_string())?;
        let (Value::Object(current_map), Value::Object(patch_map)) = (&mut current, patch) else {
            return Err("the configuration patch must be a JSON object".to_owned());
        };
        for (key, value) in patch_map {
            if !current_map.contains_key(&key) {
                return Err(format!("unknown configuration field {key:?}"));
            }
            current_map.insert(key, value);
        }
        let config: Config = serde_json::from_value(current).map_err(|e| e.to_string())?;
        state.config = config.clone();
        Ok(config)
    })
}

fn error(status: StatusCode, message: impl std::fmt::Display) -> Response {
    (status, Json(json!({"error": message.to_string()}))).into_response()
}

fn task_error(err: TaskControlError) -> Response {
    let status = match err {
        TaskControlError::UnknownTask(_) => StatusCode::NOT_FOUND,
        TaskControlError::AlreadyFinished(_) => StatusCode::CONFLICT,
    };
    error(status, err)
}

/// Parses a JSON body into `T`, or says why it cannot (answered as a 400).
fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, String> {
    serde_json::from_slice(body).map_err(|e| format!("invalid body: {e}"))
}

/// The `/_emulator` routes.
pub(crate) fn router() -> Router<Arc<Shared>> {
    Router::new()
        .route(
            "/_emulator/health",
            get(|| async { Json(json!({"status": "ok", "version": VERSION})) }),
        )
        .route(
            "/_emulator/reset",
            post(|State(shared): State<Arc<Shared>>| async move {
                reset(&shared);
                Json(json!({"reset": true}))
            }),
        )
        .route(
            "/_emulator/clock",
            get(|State(shared): State<Arc<Shared>>| async move { Json(shared.clock.status()) })
                .post(
                    |State(shared): State<Arc<Shared>>, body: bytes::Bytes| async move {
                        match parse::<ClockChange>(&body) {
                            Ok(change) => Json(change_clock(&shared, &change)).into_response(),
                            Err(message) => error(StatusCode::BAD_REQUEST, message),
                        }
                    },
                ),
        )
        .route(
            "/_emulator/config",
            get(|State(shared): State<Arc<Shared>>| async move {
                Json(shared.with_state(|s| s.config.clone()))
            })
            .patch(
                |State(shared): State<Arc<Shared>>, body: bytes::Bytes| async move {
                    match parse::<Value>(&body).map(|patch| patch_config(&shared, patch)) {
                        Ok(Ok(config)) => Json(config).into_response(),
                        Ok(Err(message)) => error(StatusCode::BAD_REQUEST, message),
                        Err(message) => error(StatusCode::BAD_REQUEST, message),
                    }
                },
            ),
        )
        .route(
            "/_emulator/outcomes",
            post(push_outcomes).delete(clear_outcomes),
        )
        .route(
            "/_emulator/tasks",
            get(|State(shared): State<Arc<Shared>>| async move { Json(tasks(&shared)) }),
        )
        .route(
            "/_emulator/tasks/{id}",
            get(
                |State(shared): State<Arc<Shared>>, Path(id): Path<String>| async move {
                    match task(&shared, &id) {
                        Some(snapshot) => Json(snapshot).into_response(),
                        None => task_error(TaskControlError::UnknownTask(id)),
                    }
                },
            ),
        )
        .route("/_emulator/tasks/{id}/outcome", put(set_task_outcome))
        .route("/_emulator/tasks/{id}/state", post(force_task_state))
        .route(
            "/_emulator/faults",
            get(list_faults).post(add_fault).delete(clear_faults),
        )
        .route("/_emulator/faults/{id}", delete(remove_fault))
        .route(
            "/_emulator/callbacks",
            get(callback_log).delete(clear_callback_log),
        )
        .route(
            "/_emulator/callbacks/faults",
            get(list_callback_faults)
                .post(add_callback_fault)
                .delete(clear_callback_faults),
        )
        .route("/_emulator/credits", get(get_credits).put(set_credits))
        .route(
            "/_emulator/stats",
            get(|State(shared): State<Arc<Shared>>| async move { Json(stats(&shared)) }),
        )
}

#[derive(Deserialize)]
struct OutcomesBody {
    outcomes: Vec<Outcome>,
}

async fn push_outcomes(State(shared): State<Arc<Shared>>, body: bytes::Bytes) -> Response {
    match parse::<OutcomesBody>(&body) {
        Ok(body) => {
            let queued = shared.with_state(|state| {
                state.next_outcomes.extend(body.outcomes);
                state.next_outcomes.len()
            });
            Json(json!({"queued": queued})).into_response()
        }
        Err(message) => error(StatusCode::BAD_REQUEST, message),
    }
}

async fn clear_outcomes(State(shared): State<Arc<Shared>>) -> Response {
    shared.with_state(|state| state.next_outcomes.clear());
    Json(json!({"queued": 0})).into_response()
}

async fn set_task_outcome(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: bytes::Bytes,
) -> Response {
    let outcome = match parse::<Outcome>(&body) {
        Ok(outcome) => outcome,
        Err(message) => return error(StatusCode::BAD_REQUEST, message),
    };
    match shared.with_state(|state| lifecycle::set_outcome(state, &id, outcome)) {
        Ok(()) => task(&shared, &id)
            .map(|t| Json(t).into_response())
            .unwrap_or_else(|| StatusCode::OK.into_response()),
        Err(err) => task_error(err),
    }
}

#[derive(Deserialize)]
struct StateBody {
    state: TaskState,
}

async fn force_task_state(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: bytes::Bytes,
) -> Response {
    let target = match parse::<StateBody>(&body) {
        Ok(body) => body.state,
        Err(message) => return error(StatusCode::BAD_REQUEST, message),
    };
    match force_state(&shared, &id, target) {
        Ok(()) => task(&shared, &id)
            .map(|t| Json(t).into_response())
            .unwrap_or_else(|| StatusCode::OK.into_response()),
        Err(err) => task_error(err),
    }
}

async fn list_faults(State(shared): State<Arc<Shared>>) -> Json<Vec<FaultStatus>> {
    Json(shared.with_state(|state| state.faults.list()))
}

async fn add_fault(State(shared): State<Arc<Shared>>, body: bytes::Bytes) -> Response {
    match parse::<FaultRule>(&body) {
        Ok(rule) => {
            Json(json!({"id": shared.with_state(|state| state.faults.add(rule))})).into_response()
        }
        Err(message) => error(StatusCode::BAD_REQUEST, message),
    }
}

async fn clear_faults(State(shared): State<Arc<Shared>>) -> Response {
    shared.with_state(|state| state.faults = Default::default());
    Json(json!({"cleared": true})).into_response()
}

async fn remove_fault(State(shared): State<Arc<Shared>>, Path(id): Path<u64>) -> Response {
    if shared.with_state(|state| state.faults.remove(id)) {
        Json(json!({"removed": id})).into_response()
    } else {
        error(StatusCode::NOT_FOUND, format!("no fault rule with id {id}"))
    }
}

async fn callback_log(State(shared): State<Arc<Shared>>) -> Json<Vec<CallbackAttempt>> {
    Json(shared.with_state(|state| state.callback_log.clone()))
}

async fn clear_callback_log(State(shared): State<Arc<Shared>>) -> Response {
    shared.with_state(|state| state.callback_log.clear());
    shared.callback_log_changed.send_modify(|count| *count += 1);
    Json(json!({"cleared": true})).into_response()
}

async fn list_callback_faults(State(shared): State<Arc<Shared>>) -> Response {
    let rules: Vec<Value> = shared.with_state(|state| {
        state
            .callback_faults
            .list()
            .into_iter()
            .map(|(id, rule)| json!({"id": id, "rule": rule}))
            .collect()
    });
    Json(rules).into_response()
}

async fn add_callback_fault(State(shared): State<Arc<Shared>>, body: bytes::Bytes) -> Response {
    match parse::<CallbackFaultRule>(&body) {
        Ok(rule) => Json(json!({"id": shared.with_state(|state| state.callback_faults.add(rule))}))
            .into_response(),
        Err(message) => error(StatusCode::BAD_REQUEST, message),
    }
}

async fn clear_callback_faults(State(shared): State<Arc<Shared>>) -> Response {
    shared.with_state(|state| state.callback_faults = Default::default());
    Json(json!({"cleared": true})).into_response()
}

async fn get_credits(State(shared): State<Arc<Shared>>) -> Response {
    Json(json!({"balance": shared.with_state(|state| state.credits)})).into_response()
}

#[derive(Deserialize)]
struct CreditsBody {
    balance: f64,
}

async fn set_credits(State(shared): State<Arc<Shared>>, body: bytes::Bytes) -> Response {
    match parse::<CreditsBody>(&body) {
        Ok(body) => {
            shared.with_state(|state| state.credits = body.balance);
            Json(json!({"balance": body.balance})).into_response()
        }
        Err(message) => error(StatusCode::BAD_REQUEST, message),
    }
}

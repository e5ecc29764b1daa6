//! Task lifecycle: creation, observation, and the side effects of reaching a state.
//!
//! Everything here runs with the state locked and never awaits; network work (callback
//! delivery) is handed to the scheduler as timers.

use bytes::Bytes;
use serde_json::{Value, json};

use crate::{
    callbacks::{self, CallbackKind},
    credits,
    files::{FRAME_PNG, SAMPLE_MP4, StoredFile},
    ids,
    scheduler::TimerEvent,
    spec::{ModelSpec, ResultShape},
    state::{Shared, State},
    tasks::{self, Finish, Outcome, Position, Results, Task, TaskState, Timeline},
};

/// Why a control operation on a task was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TaskControlError {
    /// No task has this id.
    UnknownTask(String),
    /// The task already reached its terminal state; its outcome is fixed.
    AlreadyFinished(String),
}

impl std::fmt::Display for TaskControlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TaskControlError::UnknownTask(id) => write!(f, "no task with id {id}"),
            TaskControlError::AlreadyFinished(id) => write!(f, "task {id} has already finished"),
        }
    }
}

impl std::error::Error for TaskControlError {}

/// What the prompt markers of a request ask for.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Markers {
    pub outcome: Option<Outcome>,
    pub timeline: Option<Timeline>,
}

/// Reads `[emulator:...]` markers from a prompt: `[emulator:success]`,
/// `[emulator:fail]`, `[emulator:fail:CODE]`, `[emulator:fail:CODE:MESSAGE]`,
/// `[emulator:immediate]`, `[emulator:polls:N]`. Unknown markers are ignored.
pub(crate) fn parse_markers(prompt: &str) -> Markers {
    let mut markers = Markers::default();
    let mut rest = prompt;
    while let Some(start) = rest.find("[emulator:") {
        let after = &rest[start + "[emulator:".len()..];
        let Some(end) = after.find(']') else { break };
        let marker = &after[..end];
        rest = &after[end + 1..];
        let mut parts = marker.splitn(3, ':');
        match parts.next() {
            Some("success") => markers.outcome = Some(Outcome::Success),
            Some("fail") => {
                let code = parts.next().filter(|c| !c.is_empty()).unwrap_or("501");
                let msg = parts
                    .next()
                    .map(str::to_owned)
                    .unwrap_or_else(|| default_fail_message(code).to_owned());
                markers.outcome = Some(Outcome::fail(code, msg));
            }
            Some("immediate") => markers.timeline = Some(Timeline::Immediate),
            Some("polls") => {
                if let Some(polls) = parts.next().and_then(|n| n.parse().ok()) {
                    markers.timeline = Some(Timeline::AfterPolls { polls });
                }
            }
            _ => {}
        }
    }
    markers
}

/// A realistic failMsg for a failCode.
fn default_fail_message(code: &str) -> &'static str {
    match code {
        "422" => "Invalid prompt: prompt contains prohibited content",
        "500" => "Internal server error",
        "505" => "Feature disabled",
        _ => "Generation failed",
    }
}

/// The price a createTask would pay.
pub(crate) fn price(state: &State, model: &str, input: &Value) -> f64 {
    state
        .config
        .prices
        .get(model)
        .copied()
        .unwrap_or_else(|| credits::default_price(model, input))
}

/// Creates a task from a validated, paid-for request and returns its id.
pub(crate) fn create(
    shared: &Shared,
    state: &mut State,
    now: i64,
    model: &ModelSpec,
    request: Value,
    price: f64,
) -> String {
    let (model, result_shape) = (model.id.as_str(), model.result);
    let id = ids::hex32(&mut state.streams.ids);
    let input = request.get("input").cloned().unwrap_or(Value::Null);
    let mut outcome = state.next_outcomes.pop_front().unwrap_or_default();
    let mut timeline = state.config.timeline;
    if state.config.prompt_markers {
        let markers = parse_markers(
            input
                .get("prompt")
                .and_then(Value::as_str)
                .unwrap_or_default(),
        );
        outcome = markers.outcome.unwrap_or(outcome);
        timeline = markers.timeline.unwrap_or(timeline);
    }
    let phases = state
        .config
        .phases
        .get(model)
        .copied()
        .unwrap_or_else(|| tasks::default_phases(model, &input));
    // Drawn whatever the timeline, so a task's draw depends only on how many draws came
    // before it, not on the prompt markers of earlier tasks.
    let drawn = state
        .config
        .durations
        .get(model)
        .or(state.config.default_durations.as_ref())
        .map(|durations| durations.draw(&mut state.streams.durations));
    let phases = drawn.map_or(phases, |total_ms| phases.scaled_to(total_ms));
    let url = |key: &str| {
        request
            .get(key)
            .and_then(Value::as_str)
            .filter(|u| !u.is_empty())
            .map(str::to_owned)
    };
    let task = Task {
        id: id.clone(),
        model: model.to_owned(),
        result_shape,
        callback_url: url("callBackUrl"),
        progress_callback_url: url("progressCallBackUrl"),
        param: tasks::param_string(&request),
        request,
        created_ms: now,
        timeline,
        phases,
        outcome,
        polls: 0,
        null_polls_left: state.config.record_info_null_polls,
        forced: None,
        poll_change_ms: now,
        finish: None,
        price,
        last_progress_sent: Some((TaskState::Waiting, 0)),
    };
    for due in task.milestones() {
        state.timers.schedule(
            due,
            TimerEvent::TaskMilestone {
                task_id: id.clone(),
            },
        );
    }
    state.credits -= price;
    state.tasks.insert(id.clone(), task);
    state.task_order.push(id.clone());
    *state
        .stats
        .tasks_by_model
        .entry(model.to_owned())
        .or_default() += 1;
    observe(shared, state, &id, now);
    shared.wake.notify_one();
    id
}

/// Brings a task up to date at `now` (finalizing it and queueing callbacks when it
/// reached its terminal state) and returns where it is.
pub(crate) fn observe(
    shared: &Shared,
    state: &mut State,
    task_id: &str,
    now: i64,
) -> Option<Position> {
    let position = state.tasks.get(task_id)?.position(now);
    if position.state.is_terminal() {
        if state.tasks.get(task_id).is_some_and(|t| t.finish.is_none()) {
            finalize(shared, state, task_id, position.since_ms);
        }
    } else {
        notify_progress(shared, state, task_id, position);
    }
    state.tasks.get(task_id).map(|t| t.position(now))
}

/// Counts a recordInfo request for a task and brings it up to date.
pub(crate) fn poll(
    shared: &Shared,
    state: &mut State,
    task_id: &str,
    now: i64,
) -> Option<Position> {
    let task = state.tasks.get_mut(task_id)?;
    let before = task.position(now).state;
    task.polls = task.polls.saturating_add(1);
    if task.position(now).state != before {
        task.poll_change_ms = now;
    }
    observe(shared, state, task_id, now)
}

/// Sends a progress callback when the (state, quarter of progress) changed.
fn notify_progress(shared: &Shared, state: &mut State, task_id: &str, position: Position) {
    let Some(task) = state.tasks.get_mut(task_id) else {
        return;
    };
    let Some(url) = task.progress_callback_url.clone() else {
        return;
    };
    let bucket = position.progress / 25 * 25;
    // Only forward: a milestone observed late must not report an older position.
    if task
        .last_progress_sent
        .is_some_and(|last| rank(last) >= rank((position.state, bucket)))
    {
        return;
    }
    task.last_progress_sent = Some((position.state, bucket));
    let body = envelope(task, position);
    let now = shared.clock.now_ms();
    callbacks::enqueue(state, now, task_id, CallbackKind::Progress, &url, body);
    shared.wake.notify_one();
}

/// Orders (state, progress) pairs along a task's life.
fn rank((state, progress): (TaskState, u8)) -> (u8, u8) {
    let stage = match state {
        TaskState::Waiting => 0,
        TaskState::Queuing => 1,
        TaskState::Generating => 2,
        TaskState::Success | TaskState::Fail => 3,
    };
    (stage, progress)
}

/// The callback body: the recordInfo envelope (code 501 and the failMsg on failure).
fn envelope(task: &Task, position: Position) -> Bytes {
    let record = task.record(position);
    let (code, msg) = match &task.finish {
        Some(Finish {
            outcome: Outcome::Fail { fail_msg, .. },
            ..
        }) => (501, fail_msg.clone()),
        _ => (200, "success".to_owned()),
    };
    Bytes::from(json!({"code": code, "msg": msg, "data": record}).to_string())
}

/// Fixes a task's terminal state: result file, refund, callbacks.
fn finalize(shared: &Shared, state: &mut State, task_id: &str, complete_ms: i64) {
    let result_ttl = i64::try_from(state.config.result_ttl_ms).unwrap_or(i64::MAX);
    let refund = state.config.refund_failed;
    let Some((outcome, shape, frames_asked)) = state.tasks.get(task_id).map(|t| {
        let frames_asked =
            t.request.pointer("/input/return_last_frame") == Some(&Value::Bool(true));
        (t.outcome.clone(), t.result_shape, frames_asked)
    }) else {
        return;
    };
    let mut results = Results::default();
    if outcome == Outcome::Success {
        let stem = format!("{complete_ms}_{}", ids::token(&mut state.streams.ids, 8));
        let mut host = |name: String, bytes: &'static [u8], content_type: &str| {
            let path = format!("results/{task_id}/{name}");
            state.files.insert(
                path.clone(),
                StoredFile {
                    bytes: Bytes::from_static(bytes),
                    content_type: content_type.to_owned(),
                    created_ms: complete_ms,
                    expires_ms: complete_ms.saturating_add(result_ttl),
                    task_id: Some(task_id.to_owned()),
                },
            );
            format!("{}/files/{path}", shared.base_url)
        };
        match shape {
            ResultShape::Character => {
                results.character_id = Some(format!("char_{stem}"));
            }
            ResultShape::Videos | ResultShape::VideosAndFrames => {
                results
                    .urls
                    .push(host(format!("{stem}.mp4"), SAMPLE_MP4, "video/mp4"));
                if shape == ResultShape::VideosAndFrames && frames_asked {
                    results.frames = Some((
                        host(format!("{stem}_first_frame.png"), FRAME_PNG, "image/png"),
                        host(format!("{stem}_last_frame.png"), FRAME_PNG, "image/png"),
                    ));
                }
            }
        }
    }
    let Some(task) = state.tasks.get_mut(task_id) else {
        return;
    };
    task.finish = Some(Finish {
        complete_ms,
        outcome: outcome.clone(),
        results,
    });
    let failed = matches!(outcome, Outcome::Fail { .. });
    let price = task.price;
    let position = task.position(complete_ms);
    let body = envelope(task, position);
    let completion_url = task.callback_url.clone();
    let progress_url = task.progress_callback_url.clone();
    task.last_progress_sent = Some((position.state, 100));
    if failed && refund {
        state.credits += price;
    }
    let now = shared.clock.now_ms();
    if let Some(url) = completion_url {
        callbacks::enqueue(
            state,
            now,
            task_id,
            CallbackKind::Completion,
            &url,
            body.clone(),
        );
    }
    if let Some(url) = progress_url {
        callbacks::enqueue(state, now, task_id, CallbackKind::Progress, &url, body);
    }
    shared.wake.notify_one();
}

/// Sets the outcome of a task that has not finished yet.
pub(crate) fn set_outcome(
    state: &mut State,
    task_id: &str,
    outcome: Outcome,
) -> Result<(), TaskControlError> {
    let task = state
        .tasks
        .get_mut(task_id)
        .ok_or_else(|| TaskControlError::UnknownTask(task_id.to_owned()))?;
    if task.finish.is_some() {
        return Err(TaskControlError::AlreadyFinished(task_id.to_owned()));
    }
    task.outcome = outcome;
    Ok(())
}

/// Pins a task in a state; a terminal state finishes it now (forcing `fail` keeps a
/// chosen failure or uses the documented generation failure).
pub(crate) fn force_state(
    shared: &Shared,
    state: &mut State,
    task_id: &str,
    target: TaskState,
    now: i64,
) -> Result<(), TaskControlError> {
    let task = state
        .tasks
        .get_mut(task_id)
        .ok_or_else(|| TaskControlError::UnknownTask(task_id.to_owned()))?;
    if task.finish.is_some() {
        return Err(TaskControlError::AlreadyFinished(task_id.to_owned()));
    }
    match target {
        TaskState::Success => task.outcome = Outcome::Success,
        TaskState::Fail if task.outcome == Outcome::Success => {
            task.outcome = Outcome::generation_failed()
        }
        _ => {}
    }
    task.forced = Some((target, now));
    if target.is_terminal() {
        finalize(shared, state, task_id, now);
    } else {
        observe(shared, state, task_id, now);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_choose_outcome_and_timeline() {
        assert_eq!(parse_markers("a dog"), Markers::default());
        let m = parse_markers("a dog [emulator:fail:422] [emulator:polls:3]");
        assert_eq!(
            m.outcome,
            Some(Outcome::fail(
                "422",
                "Invalid prompt: prompt contains prohibited content"
            ))
        );
        assert_eq!(m.timeline, Some(Timeline::AfterPolls { polls: 3 }));
        let m = parse_markers("[emulator:fail:500:GPU melted][emulator:immediate]");
        assert_eq!(m.outcome, Some(Outcome::fail("500", "GPU melted")));
        assert_eq!(m.timeline, Some(Timeline::Immediate));
        assert_eq!(
            parse_markers("[emulator:fail]").outcome,
            Some(Outcome::generation_failed())
        );
        assert_eq!(
            parse_markers("[emulator:bogus] [emulator:success").outcome,
            None
        );
    }
}

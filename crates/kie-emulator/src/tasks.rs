//! Tasks: their states, timelines, outcomes, and the recordInfo shape they are shown in.
//!
//! A task's state is a function of the virtual clock (or of how often it was polled), so
//! reading it never needs a background tick: the scheduler only exists to fire side
//! effects (callbacks, credit refunds) when nobody is polling.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::spec::ResultShape;

/// The five documented task states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TaskState {
    /// Accepted, not yet queued.
    Waiting,
    /// Queued for a worker.
    Queuing,
    /// Being generated (Sora reports `progress` here).
    Generating,
    /// Finished with a result.
    Success,
    /// Finished without a result; `failCode` and `failMsg` say why.
    Fail,
}

impl TaskState {
    /// Whether the task can no longer change.
    pub fn is_terminal(self) -> bool {
        matches!(self, TaskState::Success | TaskState::Fail)
    }

    /// The wire spelling (`waiting`, `queuing`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            TaskState::Waiting => "waiting",
            TaskState::Queuing => "queuing",
            TaskState::Generating => "generating",
            TaskState::Success => "success",
            TaskState::Fail => "fail",
        }
    }
}

/// How a task ends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(tag = "result", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Outcome {
    /// The task succeeds with one mp4 result.
    #[default]
    Success,
    /// The task fails with this `failCode` (a string on the wire) and `failMsg`.
    Fail {
        /// The `failCode` recordInfo reports, e.g. `"501"`.
        fail_code: String,
        /// The `failMsg` recordInfo reports.
        fail_msg: String,
    },
}

impl Outcome {
    /// A failure with the given code and message.
    pub fn fail(fail_code: impl Into<String>, fail_msg: impl Into<String>) -> Self {
        Outcome::Fail {
            fail_code: fail_code.into(),
            fail_msg: fail_msg.into(),
        }
    }

    /// The documented generation failure: code `501`.
    pub fn generation_failed() -> Self {
        Outcome::fail("501", "Generation failed")
    }
}

/// How a task moves through its states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(tag = "mode", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Timeline {
    /// Per-model durations on the virtual clock (realistic; the default).
    #[default]
    Time,
    /// The task finishes on its `polls`-th recordInfo request, passing through the
    /// intermediate states on the polls before; fast and fully deterministic.
    AfterPolls {
        /// The recordInfo request that returns the terminal state (1 = the first).
        polls: u32,
    },
    /// The task is finished as soon as it is created.
    Immediate,
}

/// Virtual-time durations of the three non-terminal states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Phases {
    /// Time spent `waiting`.
    pub waiting_ms: u64,
    /// Time spent `queuing`.
    pub queuing_ms: u64,
    /// Time spent `generating`.
    pub generating_ms: u64,
}

impl Phases {
    /// Total time from creation to the terminal state.
    pub fn total_ms(&self) -> u64 {
        self.waiting_ms + self.queuing_ms + self.generating_ms
    }

    /// These phases in the same proportions, lasting `total_ms` in all (a drawn
    /// duration): waiting and queuing are rounded down and generating takes the rest, so
    /// the total is exact. Phases of no length at all become generating alone.
    pub(crate) fn scaled_to(self, total_ms: u64) -> Phases {
        let whole = u128::from(self.total_ms());
        if whole == 0 {
            return Phases {
                waiting_ms: 0,
                queuing_ms: 0,
                generating_ms: total_ms,
            };
        }
        // A part of the whole scaled down stays within `total_ms`, so it fits a u64.
        let part = |ms: u64| {
            u64::try_from(u128::from(ms) * u128::from(total_ms) / whole).unwrap_or(total_ms)
        };
        let waiting_ms = part(self.waiting_ms);
        let queuing_ms = part(self.queuing_ms);
        Phases {
            waiting_ms,
            queuing_ms,
            generating_ms: total_ms - waiting_ms - queuing_ms,
        }
    }
}

/// Realistic durations per model (order of magnitude of the live service's video jobs),
/// stretched for the longer clip lengths a request asks for.
pub(crate) fn default_phases(model: &str, input: &Value) -> Phases {
    let (waiting, queuing, generating) = match model {
        "bytedance/v1-pro-text-to-video" => (3_000, 8_000, 60_000),
        "bytedance/v1-pro-fast-image-to-video" => (2_000, 5_000, 35_000),
        "sora-2-pro-text-to-video" => (5_000, 20_000, 240_000),
        "kling/v2-1-master-text-to-video" => (4_000, 15_000, 180_000),
        "hailuo/02-text-to-video-pro" => (3_000, 10_000, 120_000),
        _ => (3_000, 10_000, 90_000),
    };
    let field = |key: &str| input.get(key).and_then(Value::as_str);
    let longer = field("duration") == Some("10") || field("n_frames") == Some("15");
    let generating = if longer {
        generating * 8 / 5
    } else {
        generating
    };
    Phases {
        waiting_ms: waiting,
        queuing_ms: queuing,
        generating_ms: generating,
    }
}

/// Whether a model reports `progress` in recordInfo (only the Sora 2 family does).
pub(crate) fn reports_progress(model: &str) -> bool {
    model.starts_with("sora-2")
}

/// `param`: the request with `input` JSON-encoded again, as the live API double-encodes it.
pub(crate) fn param_string(request: &Value) -> String {
    let mut param = request.as_object().cloned().unwrap_or_default();
    if let Some(input) = param.get("input").cloned() {
        param.insert("input".into(), Value::String(input.to_string()));
    }
    Value::Object(param).to_string()
}

/// How a finished task ended, fixed once when it reaches its terminal state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Finish {
    pub complete_ms: i64,
    pub outcome: Outcome,
    /// What a success left (empty for a failure).
    pub results: Results,
}

/// What a successful task left: the `resultJson` it reports.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Results {
    /// `resultUrls`: the hosted video (none for a character).
    pub urls: Vec<String>,
    /// `firstFrameUrl` and `lastFrameUrl`, when the model returns frames and the
    /// request asked for them.
    pub frames: Option<(String, String)>,
    /// `character_id`, for a character model (which leaves no file).
    pub character_id: Option<String>,
}

impl Results {
    /// `resultJson`'s object: `{"character_id": ...}` for a character, else
    /// `{"resultUrls": [...]}` with the frames as one-item lists, as kie.ai documents
    /// them (<https://docs.kie.ai/market/common/get-task-detail>).
    pub(crate) fn result_json(&self) -> Value {
        if let Some(id) = &self.character_id {
            return json!({"character_id": id});
        }
        let mut result = json!({"resultUrls": self.urls});
        if let Some((first, last)) = &self.frames {
            result["firstFrameUrl"] = json!([first]);
            result["lastFrameUrl"] = json!([last]);
        }
        result
    }
}

/// A task in the store.
#[derive(Debug, Clone)]
pub(crate) struct Task {
    pub id: String,
    pub model: String,
    /// What a success leaves in `resultJson` (the model document's `x-kie-rs.result`).
    pub result_shape: ResultShape,
    /// The createTask body as received.
    pub request: Value,
    /// recordInfo's `param`, computed once (see [`param_string`]).
    pub param: String,
    pub callback_url: Option<String>,
    pub progress_callback_url: Option<String>,
    pub created_ms: i64,
    pub timeline: Timeline,
    pub phases: Phases,
    pub outcome: Outcome,
    pub polls: u32,
    /// recordInfo answers "recordInfo is null" for this many more polls.
    pub null_polls_left: u32,
    /// A state pinned by the control API, overriding the timeline.
    pub forced: Option<(TaskState, i64)>,
    /// The virtual time of the last poll that changed an after-N-polls task's state.
    pub poll_change_ms: i64,
    pub finish: Option<Finish>,
    /// Credits debited at creation (refunded if the task fails).
    pub price: f64,
    /// The last (state, progress bucket) sent to the progress callback URL.
    pub last_progress_sent: Option<(TaskState, u8)>,
}

/// Where a task is in its timeline, before any terminal side effects happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Position {
    pub state: TaskState,
    /// When the current state was entered (virtual ms).
    pub since_ms: i64,
    /// Sora-style progress, 0 to 100.
    pub progress: u8,
}

impl Task {
    /// Where the timeline puts the task at `now` (the terminal state is reported as the
    /// outcome's state even before it has been finalized).
    pub(crate) fn position(&self, now: i64) -> Position {
        if let Some(finish) = &self.finish {
            return Position {
                state: outcome_state(&finish.outcome),
                since_ms: finish.complete_ms,
                progress: 100,
            };
        }
        if let Some((state, since_ms)) = self.forced {
            let progress = if state.is_terminal() { 100 } else { 0 };
            return Position {
                state,
                since_ms,
                progress,
            };
        }
        let terminal = outcome_state(&self.outcome);
        match self.timeline {
            Timeline::Immediate => Position {
                state: terminal,
                since_ms: self.created_ms,
                progress: 100,
            },
            Timeline::AfterPolls { polls } => {
                if polls == 0 || self.polls >= polls {
                    return Position {
                        state: terminal,
                        since_ms: self.poll_change_ms,
                        progress: 100,
                    };
                }
                if self.polls == 0 {
                    return Position {
                        state: TaskState::Waiting,
                        since_ms: self.created_ms,
                        progress: 0,
                    };
                }
                let stage = ((self.polls - 1) * 3 / (polls - 1)).min(2);
                let state = [
                    TaskState::Waiting,
                    TaskState::Queuing,
                    TaskState::Generating,
                ][stage as usize];
                let progress = if state == TaskState::Generating {
                    u8::try_from(u64::from(self.polls) * 100 / u64::from(polls))
                        .unwrap_or(99)
                        .min(99)
                } else {
                    0
                };
                let since_ms = if state == TaskState::Waiting {
                    self.created_ms
                } else {
                    self.poll_change_ms
                };
                Position {
                    state,
                    since_ms,
                    progress,
                }
            }
            Timeline::Time => {
                let b1 = self.created_ms + self.phases.waiting_ms as i64;
                let b2 = b1 + self.phases.queuing_ms as i64;
                let b3 = b2 + self.phases.generating_ms as i64;
                if now < b1 {
                    Position {
                        state: TaskState::Waiting,
                        since_ms: self.created_ms,
                        progress: 0,
                    }
                } else if now < b2 {
                    Position {
                        state: TaskState::Queuing,
                        since_ms: b1,
                        progress: 0,
                    }
                } else if now < b3 {
                    let done = (now - b2) as f64 / (self.phases.generating_ms.max(1) as f64);
                    Position {
                        state: TaskState::Generating,
                        since_ms: b2,
                        progress: ((done * 100.0) as u8).min(99),
                    }
                } else {
                    Position {
                        state: terminal,
                        since_ms: b3,
                        progress: 100,
                    }
                }
            }
        }
    }

    /// The virtual times at which a time-based task changes visibly, for the scheduler:
    /// state boundaries, plus quarter marks of generation when progress is reported.
    pub(crate) fn milestones(&self) -> Vec<i64> {
        if self.timeline != Timeline::Time || self.forced.is_some() || self.finish.is_some() {
            return Vec::new();
        }
        let b1 = self.created_ms + self.phases.waiting_ms as i64;
        let b2 = b1 + self.phases.queuing_ms as i64;
        let generating = self.phases.generating_ms as i64;
        let mut marks = vec![b1, b2];
        if self.progress_callback_url.is_some() {
            marks.extend([
                b2 + generating / 4,
                b2 + generating / 2,
                b2 + generating * 3 / 4,
            ]);
        }
        marks.push(b2 + generating);
        marks
    }

    /// The recordInfo `data` object in the live wire shape.
    ///
    /// `param` is the createTask body as a JSON string with `input` encoded once more
    /// inside it; `resultJson` is a JSON string; `failCode`, `failMsg`, `costTime` and
    /// `completeTime` are `null` until they mean something; `costTime` is in seconds
    /// (`completeTime - createTime` rounded, as every recorded live success has it);
    /// there is no `updateTime` in any state (the docs list one, no recorded live record
    /// has it); `progress` only exists for Sora models. All as recorded live.
    pub(crate) fn record(&self, position: Position) -> Value {
        let mut data = Map::new();
        data.insert("taskId".into(), json!(self.id));
        data.insert("model".into(), json!(self.model));
        data.insert("state".into(), json!(position.state.as_str()));
        data.insert("param".into(), json!(self.param));
        let (result_json, fail_code, fail_msg, cost_time, complete_time) = match &self.finish {
            Some(finish) => {
                let cost = json!(cost_time_s(self.created_ms, finish.complete_ms));
                match &finish.outcome {
                    Outcome::Success => (
                        json!(finish.results.result_json().to_string()),
                        Value::Null,
                        Value::Null,
                        cost,
                        json!(finish.complete_ms),
                    ),
                    Outcome::Fail {
                        fail_code,
                        fail_msg,
                    } => (
                        json!(""),
                        json!(fail_code),
                        json!(fail_msg),
                        cost,
                        json!(finish.complete_ms),
                    ),
                }
            }
            None => (
                json!(""),
                Value::Null,
                Value::Null,
                Value::Null,
                Value::Null,
            ),
        };
        data.insert("resultJson".into(), result_json);
        data.insert("failCode".into(), fail_code);
        data.insert("failMsg".into(), fail_msg);
        data.insert("costTime".into(), cost_time);
        data.insert("completeTime".into(), complete_time);
        data.insert("createTime".into(), json!(self.created_ms));
        if reports_progress(&self.model) {
            data.insert("progress".into(), json!(position.progress));
        }
        Value::Object(data)
    }

    /// The public view of this task.
    pub(crate) fn snapshot(&self, now: i64) -> TaskSnapshot {
        let position = self.position(now);
        let results = self.finish.as_ref().map(|f| &f.results);
        TaskSnapshot {
            task_id: self.id.clone(),
            model: self.model.clone(),
            state: position.state,
            progress: position.progress,
            created_ms: self.created_ms,
            complete_ms: self.finish.as_ref().map(|f| f.complete_ms),
            timeline: self.timeline,
            phases: self.phases,
            outcome: self.outcome.clone(),
            polls: self.polls,
            result_urls: results.map(|r| r.urls.clone()).unwrap_or_default(),
            first_frame_url: results.and_then(|r| Some(r.frames.as_ref()?.0.clone())),
            last_frame_url: results.and_then(|r| Some(r.frames.as_ref()?.1.clone())),
            character_id: results.and_then(|r| r.character_id.clone()),
            callback_url: self.callback_url.clone(),
            progress_callback_url: self.progress_callback_url.clone(),
            price: self.price,
            request: self.request.clone(),
        }
    }
}

/// recordInfo's `costTime`: whole seconds from creation to completion, rounded to the
/// nearest (live answers fit this, not the documented milliseconds).
fn cost_time_s(created_ms: i64, complete_ms: i64) -> i64 {
    ((complete_ms - created_ms).max(0) + 500) / 1000
}

/// The terminal state an outcome leads to.
pub(crate) fn outcome_state(outcome: &Outcome) -> TaskState {
    match outcome {
        Outcome::Success => TaskState::Success,
        Outcome::Fail { .. } => TaskState::Fail,
    }
}

/// A task as the control API and the Rust handle show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TaskSnapshot {
    /// The task id.
    pub task_id: String,
    /// The model id.
    pub model: String,
    /// The state a recordInfo request would report now.
    pub state: TaskState,
    /// Progress 0 to 100 (reported on the wire for Sora models only).
    pub progress: u8,
    /// Creation time (virtual Unix ms).
    pub created_ms: i64,
    /// Completion time, once finished.
    pub complete_ms: Option<i64>,
    /// How the task moves through its states.
    pub timeline: Timeline,
    /// The durations used when the timeline is time-based (scaled to the drawn total
    /// when the model's times are drawn, see [`Durations`](crate::Durations)): such a
    /// task reaches its terminal state at `created_ms + phases.total_ms()`.
    pub phases: Phases,
    /// How the task ends (or ended).
    pub outcome: Outcome,
    /// recordInfo requests seen for this task.
    pub polls: u32,
    /// Result URLs (`resultUrls`), once succeeded; none for a character.
    pub result_urls: Vec<String>,
    /// The first frame's URL (`firstFrameUrl`), for a model that returns frames when the
    /// request asked for them.
    #[serde(default)]
    pub first_frame_url: Option<String>,
    /// The last frame's URL (`lastFrameUrl`), likewise.
    #[serde(default)]
    pub last_frame_url: Option<String>,
    /// The character id (`character_id`) a character model's success reports.
    #[serde(default)]
    pub character_id: Option<String>,
    /// The callBackUrl given at creation.
    pub callback_url: Option<String>,
    /// The progressCallBackUrl given at creation.
    pub progress_callback_url: Option<String>,
    /// Credits debited at creation.
    pub price: f64,
    /// The createTask body as received.
    pub request: Value,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(timeline: Timeline) -> Task {
        Task {
            id: "t1".into(),
            model: "sora-2-pro-text-to-video".into(),
            result_shape: ResultShape::Videos,
            request: json!({"model": "sora-2-pro-text-to-video", "input": {"prompt": "p"}}),
            param: param_string(
                &json!({"model": "sora-2-pro-text-to-video", "input": {"prompt": "p"}}),
            ),
            callback_url: None,
            progress_callback_url: None,
            created_ms: 1_000,
            timeline,
            phases: Phases {
                waiting_ms: 100,
                queuing_ms: 100,
                generating_ms: 1_000,
            },
            outcome: Outcome::Success,
            polls: 0,
            null_polls_left: 0,
            forced: None,
            poll_change_ms: 1_000,
            finish: None,
            price: 1.0,
            last_progress_sent: None,
        }
    }

    #[test]
    fn time_based_positions_follow_the_phases() {
        let t = task(Timeline::Time);
        assert_eq!(t.position(1_050).state, TaskState::Waiting);
        assert_eq!(t.position(1_150).state, TaskState::Queuing);
        let generating = t.position(1_700);
        assert_eq!(
            (generating.state, generating.progress, generating.since_ms),
            (TaskState::Generating, 50, 1_200)
        );
        assert_eq!(t.position(2_200).state, TaskState::Success);
    }

    #[test]
    fn scaled_phases_keep_their_proportions_and_the_exact_total() {
        let phases = Phases {
            waiting_ms: 3_000,
            queuing_ms: 10_000,
            generating_ms: 90_000,
        };
        let scaled = phases.scaled_to(206_001);
        assert_eq!(
            scaled,
            Phases {
                waiting_ms: 6_000,
                queuing_ms: 20_000,
                generating_ms: 180_001,
            }
        );
        assert_eq!(phases.scaled_to(7).total_ms(), 7);
        let empty = Phases {
            waiting_ms: 0,
            queuing_ms: 0,
            generating_ms: 0,
        };
        assert_eq!(empty.scaled_to(5).generating_ms, 5);
    }

    #[test]
    fn after_polls_walks_the_states() {
        let mut t = task(Timeline::AfterPolls { polls: 4 });
        let mut seen = Vec::new();
        for _ in 0..4 {
            t.polls += 1;
            seen.push(t.position(0).state);
        }
        assert_eq!(
            seen,
            [
                TaskState::Waiting,
                TaskState::Queuing,
                TaskState::Generating,
                TaskState::Success
            ]
        );
    }

    #[test]
    fn waiting_record_has_nulls_and_no_update_time() {
        let t = task(Timeline::Time);
        let record = t.record(t.position(1_000));
        assert_eq!(record["state"], "waiting");
        assert_eq!(record["resultJson"], "");
        assert!(
            record["failCode"].is_null()
                && record["failMsg"].is_null()
                && record["costTime"].is_null()
        );
        assert!(record["completeTime"].is_null());
        assert!(record.get("updateTime").is_none());
        assert_eq!(record["progress"], 0);
        let param: Value =
            serde_json::from_str(record["param"].as_str().unwrap_or_default()).unwrap_or_default();
        assert_eq!(
            param["input"],
            json!("{\"prompt\":\"p\"}"),
            "input is encoded again inside param"
        );
    }

    #[test]
    fn finished_record_carries_result_json_string() {
        let mut t = task(Timeline::Time);
        t.finish = Some(Finish {
            complete_ms: 61_000,
            outcome: Outcome::Success,
            results: Results {
                urls: vec!["http://x/a.mp4".into()],
                ..Results::default()
            },
        });
        let record = t.record(t.position(61_000));
        assert_eq!(
            record["resultJson"],
            json!("{\"resultUrls\":[\"http://x/a.mp4\"]}")
        );
        assert_eq!(record["costTime"], 60);
    }

    #[test]
    fn result_json_takes_each_shape() {
        let video = Results {
            urls: vec!["http://x/a.mp4".into()],
            ..Results::default()
        };
        assert_eq!(
            video.result_json(),
            json!({"resultUrls": ["http://x/a.mp4"]})
        );
        let frames = Results {
            frames: Some(("http://x/f.png".into(), "http://x/l.png".into())),
            ..video
        };
        assert_eq!(
            frames.result_json(),
            json!({
                "resultUrls": ["http://x/a.mp4"],
                "firstFrameUrl": ["http://x/f.png"],
                "lastFrameUrl": ["http://x/l.png"],
            })
        );
        let character = Results {
            character_id: Some("char_1".into()),
            ..Results::default()
        };
        assert_eq!(character.result_json(), json!({"character_id": "char_1"}));
    }

    #[test]
    fn no_record_has_update_time_in_any_state() {
        let mut t = task(Timeline::Time);
        for now in [1_000, 1_150, 1_700] {
            let record = t.record(t.position(now));
            assert!(record.get("updateTime").is_none(), "{record}");
        }
        t.finish = Some(Finish {
            complete_ms: 2_200,
            outcome: Outcome::Fail {
                fail_code: "500".into(),
                fail_msg: "boom".into(),
            },
            results: Results::default(),
        });
        let record = t.record(t.position(2_200));
        assert_eq!(record["state"], "fail");
        assert!(record.get("updateTime").is_none(), "{record}");
    }

    #[test]
    fn cost_time_is_the_rounded_seconds_between_create_and_complete() {
        let mut t = task(Timeline::Time);
        // As recorded live: 187.8 s from createTime to completeTime reads 188.
        t.finish = Some(Finish {
            complete_ms: 1_000 + 187_800,
            outcome: Outcome::Success,
            results: Results {
                urls: vec!["http://x/a.mp4".into()],
                ..Results::default()
            },
        });
        let record = t.record(t.position(188_800));
        let elapsed = record["completeTime"].as_i64().unwrap_or_default()
            - record["createTime"].as_i64().unwrap_or_default();
        assert_eq!(elapsed, 187_800);
        assert_eq!(record["costTime"], 188);
    }
}

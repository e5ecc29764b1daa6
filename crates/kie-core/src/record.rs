//! Task records as recordInfo (and callbacks) send them, decoded tolerantly.
//!
//! The live API differs from its docs in many small ways (`../shared/research/kie-api.md`
//! sections 3 and 12): `null` or `""` for empty fields, numbers as strings, `param` and
//! `resultJson` as JSON-encoded strings with `param.input` sometimes encoded twice, a
//! missing `updateTime`. Each field is therefore read on its own terms, and an unknown
//! state is kept rather than refused, so that a new state at kie.ai never breaks a wait.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A task's lifecycle state.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum TaskState {
    /// Accepted, not yet queued.
    Waiting,
    /// In the queue.
    Queuing,
    /// Being generated.
    Generating,
    /// Finished with a result.
    Success,
    /// Finished without one.
    Fail,
    /// A state kie.ai does not document, kept as sent.
    Unknown(String),
}

impl TaskState {
    /// Whether the task has finished, one way or the other.
    pub fn is_terminal(&self) -> bool {
        matches!(self, TaskState::Success | TaskState::Fail)
    }

    /// The state as kie.ai writes it.
    pub fn as_str(&self) -> &str {
        match self {
            TaskState::Waiting => "waiting",
            TaskState::Queuing => "queuing",
            TaskState::Generating => "generating",
            TaskState::Success => "success",
            TaskState::Fail => "fail",
            TaskState::Unknown(s) => s,
        }
    }
}

impl From<String> for TaskState {
    fn from(s: String) -> Self {
        match s.as_str() {
            "waiting" => TaskState::Waiting,
            "queuing" => TaskState::Queuing,
            "generating" => TaskState::Generating,
            "success" => TaskState::Success,
            "fail" => TaskState::Fail,
            _ => TaskState::Unknown(s),
        }
    }
}

impl From<TaskState> for String {
    fn from(state: TaskState) -> Self {
        match state {
            TaskState::Unknown(s) => s,
            known => known.as_str().to_owned(),
        }
    }
}

impl fmt::Display for TaskState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One task as kie.ai describes it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct TaskRecord {
    /// The task id.
    pub task_id: String,
    /// The model id, as echoed by kie.ai.
    pub model: Option<String>,
    /// The lifecycle state.
    pub state: TaskState,
    /// The original createTask request, decoded (`input` decoded too, even when kie.ai
    /// encoded it twice).
    pub param: Option<Value>,
    /// The decoded `resultJson`, once there is one.
    pub result: Option<TaskResult>,
    /// kie.ai's `failCode`.
    pub fail_code: Option<String>,
    /// kie.ai's `failMsg`.
    pub fail_msg: Option<String>,
    /// `costTime` as sent. The docs say milliseconds, a live capture fits seconds, so
    /// the number is passed on without a unit.
    pub cost_time: Option<i64>,
    /// When the task was created, in Unix milliseconds.
    pub create_time: Option<i64>,
    /// When it finished, in Unix milliseconds.
    pub complete_time: Option<i64>,
    /// When it last changed, in Unix milliseconds.
    pub update_time: Option<i64>,
    /// Percent done (0 to 100); only Sora models report it.
    pub progress: Option<u8>,
    /// The record exactly as received.
    pub raw: Value,
}

/// The decoded `resultJson` of a finished task.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[non_exhaustive]
pub struct TaskResult {
    /// The result files (normally one video).
    pub urls: Vec<String>,
    /// Every other key of `resultJson` (`firstFrameUrl`, `resultObject`...).
    pub extra: Map<String, Value>,
}

impl TaskRecord {
    /// Decodes a record from the `data` object of recordInfo or of a callback.
    ///
    /// # Errors
    ///
    /// A message saying which field did not fit, when `data` is not an object, has no
    /// task id or state, or carries a `resultJson` or `param` that is not JSON.
    pub fn from_data(data: &Value) -> Result<Self, String> {
        let obj = data
            .as_object()
            .ok_or_else(|| format!("expected an object, found {}", kind_of(data)))?;
        let task_id = text(obj, &["taskId", "task_id"]).ok_or("`taskId` is missing")?;
        let state = text(obj, &["state"])
            .map(TaskState::from)
            .ok_or("`state` is missing")?;
        let result = match obj.get("resultJson") {
            Some(v) => decode_result(v)?,
            None => None,
        };
        let param = match obj.get("param") {
            Some(v) => decode_param(v)?,
            None => None,
        };
        let progress = integer(obj, "progress").map(|p| p.clamp(0, 100) as u8);
        Ok(TaskRecord {
            task_id,
            model: text(obj, &["model"]),
            state,
            param,
            result,
            fail_code: text(obj, &["failCode"]),
            fail_msg: text(obj, &["failMsg"]),
            cost_time: integer(obj, "costTime"),
            create_time: integer(obj, "createTime"),
            complete_time: integer(obj, "completeTime"),
            update_time: integer(obj, "updateTime"),
            progress,
            raw: data.clone(),
        })
    }
}

/// The first of `keys` that holds a non-empty string or a number, as text.
/// `null` and `""` both mean "absent" on the live API.
fn text(obj: &Map<String, Value>, keys: &[&str]) -> Option<String> {
    keys.iter().find_map(|k| match obj.get(*k)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    })
}

/// An integer sent as a number, a float, or a numeric string; `null`/`""` are absent.
fn integer(obj: &Map<String, Value>, key: &str) -> Option<i64> {
    match obj.get(key)? {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f.round() as i64)),
        Value::String(s) => s.trim().parse::<f64>().ok().map(|f| f.round() as i64),
        _ => None,
    }
}

fn decode_result(value: &Value) -> Result<Option<TaskResult>, String> {
    let Some(decoded) = decode_embedded(value).map_err(|e| format!("`resultJson`: {e}"))? else {
        return Ok(None);
    };
    let Value::Object(mut extra) = decoded else {
        return Err(format!(
            "`resultJson` holds {}, not an object",
            kind_of(&decoded)
        ));
    };
    let urls = match extra.remove("resultUrls") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(url)) => vec![url],
        Some(Value::Array(items)) => items
            .into_iter()
            .map(|item| match item {
                Value::String(url) => Ok(url),
                other => Err(format!(
                    "`resultJson.resultUrls` holds {}, not a URL",
                    kind_of(&other)
                )),
            })
            .collect::<Result<_, _>>()?,
        Some(other) => {
            return Err(format!(
                "`resultJson.resultUrls` is {}, not a list",
                kind_of(&other)
            ));
        }
    };
    Ok(Some(TaskResult { urls, extra }))
}

fn decode_param(value: &Value) -> Result<Option<Value>, String> {
    let Some(mut param) = decode_embedded(value).map_err(|e| format!("`param`: {e}"))? else {
        return Ok(None);
    };
    if let Some(input) = param.get_mut("input")
        && let Some(decoded) = decode_embedded(input).map_err(|e| format!("`param.input`: {e}"))?
    {
        *input = decoded;
    }
    Ok(Some(param))
}

/// A value that kie.ai may send as JSON text or as JSON: a string is parsed, `""` and
/// `null` mean absent, anything else is taken as is.
fn decode_embedded(value: &Value) -> Result<Option<Value>, String> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) if s.trim().is_empty() => Ok(None),
        Value::String(s) => serde_json::from_str(s)
            .map(Some)
            .map_err(|e| format!("not valid JSON text ({e})")),
        other => Ok(Some(other.clone())),
    }
}

pub(crate) fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn states_round_trip_and_unknown_ones_are_kept() {
        for s in [
            "waiting",
            "queuing",
            "generating",
            "success",
            "fail",
            "paused",
        ] {
            let state = TaskState::from(s.to_owned());
            assert_eq!(state.as_str(), s);
            assert_eq!(serde_json::to_value(&state).unwrap(), s);
        }
        assert_eq!(
            TaskState::from("paused".to_owned()),
            TaskState::Unknown("paused".into())
        );
        assert!(TaskState::Fail.is_terminal() && !TaskState::Queuing.is_terminal());
    }

    #[test]
    fn result_urls_may_be_a_single_string() {
        let r = TaskRecord::from_data(&json!({
            "taskId": "t", "state": "success",
            "resultJson": {"resultUrls": "https://x/y.mp4", "firstFrameUrl": ["f"]}
        }))
        .unwrap();
        let result = r.result.unwrap();
        assert_eq!(result.urls, ["https://x/y.mp4"]);
        assert_eq!(result.extra["firstFrameUrl"], json!(["f"]));
    }

    #[test]
    fn progress_is_clamped() {
        let r =
            TaskRecord::from_data(&json!({"taskId": "t", "state": "generating", "progress": 140}))
                .unwrap();
        assert_eq!(r.progress, Some(100));
    }
}

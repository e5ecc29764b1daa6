//! Task records as recordInfo (and callbacks) send them, decoded tolerantly.
//!
//! The live API differs from its docs (<https://docs.kie.ai/market/common/get-task-detail>)
//! in many small ways: `null` or `""` for empty fields, numbers as strings, `param` and
//! `resultJson` as JSON-encoded strings with `param.input` sometimes encoded twice, a
//! missing `updateTime`. Each field is therefore read on its own terms, and an unknown
//! state is kept rather than refused, so that a new state at kie.ai never breaks a wait.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::wire::{Pick, decode_embedded, integer, kind_of, kind_of_text, text};

/// A task's lifecycle state.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
#[non_exhaustive]
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
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct TaskRecord {
    /// The task id.
    pub task_id: String,
    /// The model id, as echoed by kie.ai.
    pub model: Option<String>,
    /// The lifecycle state.
    pub state: TaskState,
    /// The decoded `resultJson`, once there is one.
    pub result: Option<TaskResult>,
    /// kie.ai's `failCode`.
    pub fail_code: Option<String>,
    /// kie.ai's `failMsg`.
    pub fail_msg: Option<String>,
    /// `costTime`: how long the task took, in seconds (every recorded live success has
    /// `(complete_time - create_time) / 1000`, rounded; kie.ai's docs say milliseconds,
    /// which the live API does not send).
    pub cost_time: Option<i64>,
    /// When the task was created, in Unix milliseconds.
    pub create_time: Option<i64>,
    /// When it finished, in Unix milliseconds.
    pub complete_time: Option<i64>,
    /// When it last changed, in Unix milliseconds: documented, but absent from every
    /// recorded live record, so normally `None`; nothing in kie-rs depends on it.
    pub update_time: Option<i64>,
    /// Percent done (0 to 100); only Sora models report it.
    pub progress: Option<u8>,
    /// The record exactly as received, as JSON text: decode it into types of your own
    /// for fields this crate does not model (`serde_json::from_str(record.raw.get())`).
    /// Kept as text, not as a `serde_json::Value`, so that a record costs one pass over
    /// its bytes, however often a wait polls it.
    pub raw: Box<RawValue>,
}

/// Records are equal when every field is, `raw` compared as text.
impl PartialEq for TaskRecord {
    fn eq(&self, other: &Self) -> bool {
        self.task_id == other.task_id
            && self.model == other.model
            && self.state == other.state
            && self.result == other.result
            && self.fail_code == other.fail_code
            && self.fail_msg == other.fail_msg
            && self.cost_time == other.cost_time
            && self.create_time == other.create_time
            && self.complete_time == other.complete_time
            && self.update_time == other.update_time
            && self.progress == other.progress
            && self.raw.get() == other.raw.get()
    }
}

/// The decoded `resultJson` of a finished task.
///
/// kie.ai documents these forms
/// (<https://docs.kie.ai/market/common/get-task-detail>, and each model's page):
///
/// | form | models | read into |
/// |---|---|---|
/// | `{"resultUrls": [...]}` | most (videos, images) | [`urls`](Self::urls) |
/// | `... "resultWaterMarkUrls": [...]` | some, beside `resultUrls` | [`watermark_urls`](Self::watermark_urls) |
/// | `{"resultUrls": [...], "firstFrameUrl": [...], "lastFrameUrl": [...]}` | Seedance 2 and 2 Fast with `return_last_frame` | [`first_frame_url`](Self::first_frame_url), [`last_frame_url`](Self::last_frame_url) |
/// | `{"resultObject": {...}}` | text results | [`object`](Self::object) |
/// | `{"character_id": "..."}` | `sora-2-characters`, `sora-2-characters-pro` | [`character_id`](Self::character_id) |
///
/// Each is read tolerantly: a URL list may be a single string, a frame may be a list
/// (the docs' form; its first URL is taken) or a string, and `null` or `""` means
/// absent. A key read into a field is not repeated in [`extra`](Self::extra); a
/// key whose value fits none of these shapes (a frame that is a number, say) is left
/// there as sent rather than refused, so that a new shape at kie.ai never fails a wait.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[non_exhaustive]
pub struct TaskResult {
    /// The result files (`resultUrls`; normally one video). Empty when the task made
    /// no file (a character, a text result).
    pub urls: Vec<String>,
    /// The watermarked copies, for models that send them (`resultWaterMarkUrls`).
    pub watermark_urls: Vec<String>,
    /// The video's first frame as an image (`firstFrameUrl`; Seedance 2 and 2 Fast
    /// with `return_last_frame`).
    pub first_frame_url: Option<String>,
    /// The video's last frame as an image (`lastFrameUrl`; Seedance 2 and 2 Fast with
    /// `return_last_frame`).
    pub last_frame_url: Option<String>,
    /// The id of a character made by `sora-2-characters` or `sora-2-characters-pro`
    /// (`character_id`), for later requests' `character_id_list`.
    pub character_id: Option<String>,
    /// A text model's result (`resultObject`), as sent.
    pub object: Option<Value>,
    /// Every other key of `resultJson`, as sent.
    pub extra: Map<String, Value>,
}

impl TaskResult {
    /// Whether the result holds anything a caller can use: a file, a character id or a
    /// text result. Frames alone (without the video) do not count.
    pub fn is_usable(&self) -> bool {
        !self.urls.is_empty() || self.character_id.is_some() || self.object.is_some()
    }
}

/// Why JSON is not a task record (or its `param` not a request): which field did not
/// fit, in words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct RecordError(String);

impl RecordError {
    /// What did not fit.
    pub fn reason(&self) -> &str {
        &self.0
    }
}

impl TaskRecord {
    /// Decodes a record from the `data` object of recordInfo or of a callback.
    ///
    /// # Errors
    ///
    /// A [`RecordError`] saying which field did not fit, when `data` is not an object,
    /// has no task id or state, or carries a `resultJson` that is not JSON.
    pub fn from_data(data: &Value) -> Result<Self, RecordError> {
        let raw = serde_json::value::to_raw_value(data)
            .map_err(|e| RecordError(format!("the record cannot be written as JSON ({e})")))?;
        Self::from_raw(raw).map_err(|(reason, _)| RecordError(reason))
    }

    /// Decodes a record from its JSON text, as the client does with every answer: one
    /// pass that reads the fields a record has and skips the rest. A record that does
    /// not fit gives its text back with the reason, for the error to quote.
    pub(crate) fn from_raw(raw: Box<RawValue>) -> Result<Self, (String, Box<RawValue>)> {
        match Self::decode(&raw) {
            Ok(record) => Ok(record(raw)),
            Err(reason) => Err((reason, raw)),
        }
    }

    /// Reads `raw`'s fields; what it returns builds the record once handed the text
    /// itself, which the caller still owns.
    fn decode(raw: &RawValue) -> Result<impl FnOnce(Box<RawValue>) -> Self + use<>, String> {
        let kind = kind_of_text(raw.get());
        if kind != "an object" {
            return Err(format!("expected an object, found {kind}"));
        }
        let fields = Pick(&RECORD_KEYS)
            .from(raw.get())
            .map_err(|e| format!("the record is not JSON ({e})"))?;
        let [
            task_id,
            task_id_snake,
            state,
            model,
            fail_code,
            fail_msg,
            cost_time,
            create_time,
            complete_time,
            update_time,
            progress,
            result_json,
        ] = fields;
        let task_id = text(task_id.as_ref())
            .or_else(|| text(task_id_snake.as_ref()))
            .ok_or("`taskId` is missing")?;
        let state = text(state.as_ref())
            .map(TaskState::from)
            .ok_or("`state` is missing")?;
        let result = match &result_json {
            Some(v) => decode_result(v)?,
            None => None,
        };
        Ok(move |raw| TaskRecord {
            task_id,
            model: text(model.as_ref()),
            state,
            result,
            fail_code: text(fail_code.as_ref()),
            fail_msg: text(fail_msg.as_ref()),
            cost_time: integer(cost_time.as_ref()),
            create_time: integer(create_time.as_ref()),
            complete_time: integer(complete_time.as_ref()),
            update_time: integer(update_time.as_ref()),
            progress: integer(progress.as_ref()).map(|p| p.clamp(0, 100) as u8),
            raw,
        })
    }

    /// The original createTask request, decoded from `raw`: `Ok(None)` when kie.ai sent
    /// none. `input` is decoded too, even when kie.ai encoded it twice.
    ///
    /// Decoded on demand, not with the record: a wait never needs it, and a garbled
    /// `param` should not fail a wait.
    ///
    /// # Errors
    ///
    /// A [`RecordError`] saying what did not fit, when `param` or `param.input` is not
    /// JSON.
    pub fn param(&self) -> Result<Option<Value>, RecordError> {
        let [param] = Pick(&["param"])
            .from(self.raw.get())
            .map_err(|e| RecordError(format!("the record is not JSON ({e})")))?;
        match param {
            Some(value) => decode_param(&value).map_err(RecordError),
            None => Ok(None),
        }
    }
}

/// The keys a record is read from; `param` is not among them (see [`TaskRecord::param`]).
const RECORD_KEYS: [&str; 12] = [
    "taskId",
    "task_id",
    "state",
    "model",
    "failCode",
    "failMsg",
    "costTime",
    "createTime",
    "completeTime",
    "updateTime",
    "progress",
    "resultJson",
];

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
    // The files are what a wait is for: a `resultUrls` of another shape is refused,
    // with the record, rather than read as "no file".
    let urls = match extra.remove("resultUrls") {
        None => Vec::new(),
        Some(value) => url_list(&value).map_err(|e| format!("`resultJson.resultUrls` {e}"))?,
    };
    Ok(Some(TaskResult {
        urls,
        watermark_urls: take(&mut extra, "resultWaterMarkUrls", |v| url_list(v).ok())
            .unwrap_or_default(),
        first_frame_url: take(&mut extra, "firstFrameUrl", first_url).flatten(),
        last_frame_url: take(&mut extra, "lastFrameUrl", first_url).flatten(),
        character_id: take(&mut extra, "character_id", optional_text).flatten(),
        object: take(&mut extra, "resultObject", |v| {
            Some((!v.is_null()).then(|| v.clone()))
        })
        .flatten(),
        extra,
    }))
}

/// Reads `key` out of `extra` with `read`: what `read` makes of its value when the value
/// fits (the key is then removed), or `None`, the key left in `extra` as sent, when the
/// key is absent or its value does not fit.
fn take<T>(
    extra: &mut Map<String, Value>,
    key: &str,
    read: impl FnOnce(&Value) -> Option<T>,
) -> Option<T> {
    let read = read(extra.get(key)?)?;
    extra.remove(key);
    Some(read)
}

/// A list of URLs: a list of strings, a single string, or `null` (none); why not, for
/// anything else.
fn url_list(value: &Value) -> Result<Vec<String>, String> {
    match value {
        Value::Null => Ok(Vec::new()),
        Value::String(url) => Ok(vec![url.clone()]),
        Value::Array(items) => items
            .iter()
            .map(|item| match item {
                Value::String(url) => Ok(url.clone()),
                other => Err(format!("holds {}, not a URL", kind_of(other))),
            })
            .collect(),
        other => Err(format!("is {}, not a list", kind_of(other))),
    }
}

/// One URL sent as a list (the docs' form: its first non-empty item) or as a string;
/// `Some(None)` for `null`, `""` or an empty list, `None` for a value that does not fit.
fn first_url(value: &Value) -> Option<Option<String>> {
    match value {
        Value::Array(items) => {
            let urls: Option<Vec<&str>> = items.iter().map(Value::as_str).collect();
            Some(
                urls?
                    .into_iter()
                    .find(|url| !url.is_empty())
                    .map(str::to_owned),
            )
        }
        Value::Null | Value::String(_) => Some(text(Some(value))),
        _ => None,
    }
}

/// A string (or a number, as text); `Some(None)` for `null` or `""`, `None` for a value
/// that does not fit.
fn optional_text(value: &Value) -> Option<Option<String>> {
    match value {
        Value::Null | Value::String(_) | Value::Number(_) => Some(text(Some(value))),
        _ => None,
    }
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

    fn result(result_json: Value) -> TaskResult {
        TaskRecord::from_data(
            &json!({"taskId": "t", "state": "success", "resultJson": result_json}),
        )
        .unwrap()
        .result
        .unwrap()
    }

    #[test]
    fn result_urls_may_be_a_single_string() {
        let r = result(json!({"resultUrls": "https://x/y.mp4", "firstFrameUrl": ["f"]}));
        assert_eq!(r.urls, ["https://x/y.mp4"]);
        assert_eq!(r.first_frame_url.as_deref(), Some("f"));
        assert!(r.extra.is_empty(), "{:?}", r.extra);
    }

    #[test]
    fn every_documented_form_is_read() {
        // Most models, some with watermarked copies too.
        let r = result(json!(
            r#"{"resultUrls":["https://x/v.mp4"],"resultWaterMarkUrls":["https://x/w.mp4"]}"#
        ));
        assert_eq!(
            (r.urls.as_slice(), r.watermark_urls.as_slice()),
            (
                &["https://x/v.mp4".to_owned()][..],
                &["https://x/w.mp4".to_owned()][..]
            )
        );
        assert!(r.is_usable() && r.extra.is_empty());
        // Seedance 2 with `return_last_frame`: frames as lists (the docs) or strings.
        let r =
            result(json!({"resultUrls": ["v"], "firstFrameUrl": ["", "f1"], "lastFrameUrl": "l"}));
        assert_eq!(
            (r.first_frame_url.as_deref(), r.last_frame_url.as_deref()),
            (Some("f1"), Some("l"))
        );
        // Frames asked for but not sent.
        let r = result(json!({"resultUrls": ["v"], "firstFrameUrl": [], "lastFrameUrl": null}));
        assert_eq!((r.first_frame_url, r.last_frame_url), (None, None));
        assert!(r.extra.is_empty(), "{:?}", r.extra);
        // A text result.
        let r = result(json!({"resultObject": {"text": "hi"}}));
        assert_eq!(r.object, Some(json!({"text": "hi"})));
        assert!(r.urls.is_empty() && r.is_usable());
        // Sora 2 characters: an id and no file.
        let r = result(json!(r#"{"character_id":"example_123456789"}"#));
        assert_eq!(r.character_id.as_deref(), Some("example_123456789"));
        assert!(r.urls.is_empty() && r.is_usable() && r.extra.is_empty());
    }

    #[test]
    fn nothing_usable_is_not_usable() {
        for empty in [
            json!({"resultUrls": []}),
            json!({}),
            json!({"character_id": "", "resultObject": null}),
            json!({"resultUrls": [], "firstFrameUrl": ["f"], "lastFrameUrl": ["l"]}),
        ] {
            assert!(!result(empty.clone()).is_usable(), "{empty}");
        }
    }

    #[test]
    fn a_side_key_of_an_unknown_shape_is_kept_not_refused() {
        let r = result(json!({
            "resultUrls": ["v"],
            "firstFrameUrl": 7,
            "lastFrameUrl": [1],
            "character_id": {"id": "c"},
            "resultWaterMarkUrls": {"a": 1},
        }));
        assert_eq!(r.urls, ["v"]);
        assert_eq!(
            (r.first_frame_url, r.last_frame_url, r.character_id),
            (None, None, None)
        );
        assert!(r.watermark_urls.is_empty());
        assert_eq!(r.extra.len(), 4, "{:?}", r.extra);
        assert_eq!(r.extra["firstFrameUrl"], 7);
        // `resultUrls` itself is not a side key: a wrong shape fails the record.
        let err = TaskRecord::from_data(
            &json!({"taskId": "t", "state": "success", "resultJson": {"resultUrls": {"a": 1}}}),
        )
        .unwrap_err();
        assert_eq!(
            err.reason(),
            "`resultJson.resultUrls` is an object, not a list"
        );
    }

    #[test]
    fn progress_is_clamped() {
        let r =
            TaskRecord::from_data(&json!({"taskId": "t", "state": "generating", "progress": 140}))
                .unwrap();
        assert_eq!(r.progress, Some(100));
    }

    #[test]
    fn a_garbled_param_fails_only_when_asked_for() {
        let data = json!({"taskId": "t", "state": "success", "param": "{not json"});
        let r = TaskRecord::from_data(&data).unwrap();
        assert_eq!(r.state, TaskState::Success);
        let err = r.param().unwrap_err();
        assert!(
            err.reason().starts_with("`param`: not valid JSON text"),
            "{err}"
        );
        let none = TaskRecord::from_data(&json!({"taskId": "t", "state": "fail"})).unwrap();
        assert_eq!(none.param(), Ok(None));
    }

    #[test]
    fn a_repeated_key_keeps_its_last_value_and_raw_keeps_the_text() {
        let text = r#"{"taskId":"a","state":"waiting","taskId":"b","other":[1,{"x":null}]}"#;
        let raw = RawValue::from_string(text.to_owned()).unwrap();
        let r = TaskRecord::from_raw(raw)
            .map_err(|(reason, _)| reason)
            .unwrap();
        assert_eq!(r.task_id, "b");
        assert_eq!(r.raw.get(), text);
    }

    #[test]
    fn what_is_not_an_object_is_named() {
        for (data, kind) in [
            (json!([1]), "a list"),
            (json!("x"), "a string"),
            (json!(1.5), "a number"),
            (json!(null), "null"),
            (json!(true), "a boolean"),
        ] {
            assert_eq!(
                TaskRecord::from_data(&data).unwrap_err().reason(),
                format!("expected an object, found {kind}")
            );
        }
    }
}

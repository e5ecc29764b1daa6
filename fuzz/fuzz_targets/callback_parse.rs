//! Callback bodies, parsed without verification (`Callback::parse`).
//!
//! Checks, besides "never panics": a callback exists only for a JSON object; its task
//! id is never empty and is taken from `data.taskId`, else `data.task_id`, else a
//! top-level `taskId`; the state is never blank; the envelope's numeric `code` is kept;
//! "no task id" is said only when none of the three places holds one; a body that
//! names a task is refused only when its embedded `resultJson` is not JSON (`param` is
//! decoded on demand, so a garbled one refuses nothing).

#![no_main]

use kie_core::{Callback, CallbackError};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|bytes: &[u8]| {
    let parsed = Callback::parse(bytes);
    let value = serde_json::from_slice::<Value>(bytes).ok();
    let expected_id = value.as_ref().and_then(task_id);
    match parsed {
        Ok(callback) => {
            let value = value.expect("a callback is JSON");
            assert!(value.is_object());
            assert_eq!(Some(callback.task_id()), expected_id.as_deref());
            assert!(!callback.state().as_str().is_empty());
            if let Some(code) = value["code"].as_i64() {
                assert_eq!(callback.code, Some(code));
            }
        }
        Err(CallbackError::NoTaskId) => {
            assert!(value.is_some_and(|v| v.is_object()));
            assert_eq!(expected_id, None);
        }
        Err(CallbackError::Malformed(reason)) => {
            // An object that names a task, with a record or nothing as its `data`, is
            // refused only for an embedded field that is not JSON.
            let names_a_task = expected_id.is_some()
                && value.is_some_and(|v| v["data"].is_object() || v["data"].is_null());
            assert!(
                !names_a_task || reason.contains("`resultJson`"),
                "refused: {reason}"
            );
        }
        Err(other) => panic!("parsing cannot fail with {other:?}"),
    }
});

/// The task id where kie.ai may put it, written out independently of the parser.
fn task_id(body: &Value) -> Option<String> {
    let text = |v: &Value| match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    let data = &body["data"];
    text(&data["taskId"])
        .or_else(|| text(&data["task_id"]))
        .or_else(|| text(&body["taskId"]))
}

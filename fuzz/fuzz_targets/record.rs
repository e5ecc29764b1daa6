//! Task records (recordInfo's and a callback's `data`), decoded field by field.
//!
//! The input is read twice: as a whole `data` value, and as the JSON text kie.ai embeds
//! in `param` (whose `input` may be encoded once more), so the fuzzer reaches the
//! embedded decoding even when its bytes are not a whole record.
//!
//! Checks, besides "never panics": a decoded record has a non-empty task id and a
//! state that round-trips through its wire name, keeps the value it came from, reports
//! progress within 0 to 100, serializes, and exists only for an object; its `param`,
//! decoded on demand, never panics either.

#![no_main]

use kie_core::{TaskRecord, TaskState};
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};

fuzz_target!(|bytes: &[u8]| {
    if let Ok(value) = serde_json::from_slice::<Value>(bytes) {
        check(&value);
    }
    let text = String::from_utf8_lossy(bytes);
    check(&json!({"taskId": "t", "state": "waiting", "param": text}));
    check(&json!({
        "taskId": "t",
        "state": "waiting",
        "param": json!({"model": "m", "input": text}).to_string(),
    }));
});

fn check(value: &Value) {
    let Ok(record) = TaskRecord::from_data(value) else {
        return;
    };
    assert!(value.is_object());
    assert!(!record.task_id.is_empty());
    // The text of the value it came from, exactly (compared as text: serde_json's
    // float parsing is not exact, so a parse of the text may differ in the last bit).
    assert_eq!(record.raw.get(), value.to_string());
    let _ = record.param();
    assert_eq!(
        TaskState::from(record.state.as_str().to_owned()),
        record.state
    );
    assert!(record.progress.is_none_or(|p| p <= 100));
    let serialized = serde_json::to_value(&record).expect("a record serializes");
    assert_eq!(serialized["task_id"], json!(record.task_id));
}

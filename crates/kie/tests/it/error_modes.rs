//! kie.ai's own errors through every SDK path, under both of the emulator's ways of
//! answering them: HTTP 200 with the error in the body `code` (as every recorded live
//! error came), and the code mirrored in the HTTP status (`http_status_errors`, as some
//! proxies and older endpoints do). The SDK must make the same typed error of both: the
//! same code and message, the same task id, the same "is this task unknown" and "may a
//! task exist" answers, after the same number of requests.

use std::collections::BTreeMap;

use kie::kling::KlingV21MasterTextToVideoInput;
use kie::{Error, ErrorKind, RawInput};

use crate::common::client;
use kie_emulator::{Emulator, Endpoint};
use serde_json::json;

const KEY: &str = "the-right-key";
const UNKNOWN_TASK: &str = "0123456789abcdef0123456789abcdef";

/// What a caller can tell from an error, the HTTP status aside.
#[derive(Debug, PartialEq)]
struct Seen {
    call: &'static str,
    code: Option<i64>,
    message: String,
    task_id: Option<String>,
    unknown_task: bool,
    task_may_exist: bool,
    transient: bool,
}

/// The error of `result`, seen as a caller sees it; the HTTP status it came under.
fn seen<T: std::fmt::Debug>(call: &'static str, result: Result<T, Error>) -> (Seen, u16) {
    let err = result.expect_err(call);
    let ErrorKind::Api {
        http_status,
        message,
        ..
    } = err.kind()
    else {
        panic!("{call}: not kie.ai's answer: {err}");
    };
    let seen = Seen {
        call,
        code: err.api_code().map(|code| code.as_i64()),
        message: message.clone(),
        task_id: err.task_id().map(str::to_owned),
        unknown_task: err.is_unknown_task(),
        task_may_exist: err.task_may_exist(),
        transient: err.is_transient(),
    };
    (seen, *http_status)
}

/// Every SDK call, each refused by kie.ai, on an emulator answering errors one way.
async fn refusals(http_status_errors: bool) -> (Vec<(Seen, u16)>, BTreeMap<Endpoint, u64>) {
    let emulator = Emulator::builder()
        .api_key(KEY)
        .http_status_errors(http_status_errors)
        .start()
        .await
        .expect("the emulator starts");
    let right = client(&emulator, KEY);
    let wrong = client(&emulator, "a-wrong-key");
    let kling = KlingV21MasterTextToVideoInput::new("a red fox");
    let mut out = vec![
        seen("create, wrong key", wrong.submit(&kling).await),
        seen(
            "create, unknown model",
            right
                .submit(&RawInput::new("kling/v9-imaginary", json!({"prompt": "x"})))
                .await,
        ),
        seen(
            "create, invalid input",
            right
                .submit(&RawInput::new(
                    "kling/v2-1-master-text-to-video",
                    json!({"prompt": "x", "duration": 5}),
                ))
                .await,
        ),
    ];
    emulator.set_credits(0.0);
    out.push(seen("create, no credits", right.submit(&kling).await));
    out.push(seen(
        "record, unknown task",
        right.record(UNKNOWN_TASK).await,
    ));
    out.push(seen("record, wrong key", wrong.record(UNKNOWN_TASK).await));
    out.push(seen("credits, wrong key", wrong.credits().await));
    out.push(seen(
        "download-url, not kie.ai's file",
        right.download_url("https://example.com/video.mp4").await,
    ));
    out.push(seen(
        "upload, wrong key",
        wrong.upload_bytes(b"\x89PNG\r\n\x1a\n".to_vec()).await,
    ));
    assert!(emulator.tasks().is_empty(), "no refusal made a task");
    (out, emulator.stats().requests)
}

#[tokio::test]
async fn every_call_gives_the_same_typed_error_whether_the_status_is_200_or_mirrors_the_code() {
    let (live, live_requests) = refusals(false).await;
    let (mirrored, mirrored_requests) = refusals(true).await;
    for ((seen, status), (mirror, mirror_status)) in live.iter().zip(&mirrored) {
        assert_eq!(
            *status, 200,
            "{}: live errors come with HTTP 200",
            seen.call
        );
        assert_eq!(
            Some(i64::from(*mirror_status)),
            mirror.code,
            "{}: the mirrored status is the code",
            seen.call
        );
        assert_eq!(seen, mirror);
        assert!(
            !seen.task_may_exist,
            "{}: a refusal creates nothing",
            seen.call
        );
        assert!(!seen.transient, "{}: a refusal is not retried", seen.call);
    }
    assert_eq!(live.len(), mirrored.len());
    assert_eq!(
        live_requests, mirrored_requests,
        "the same requests, no retry"
    );
    let codes: Vec<_> = live.iter().map(|(seen, _)| seen.code).collect();
    let codes: Vec<i64> = codes.into_iter().flatten().collect();
    assert_eq!(codes, [401, 422, 422, 402, 422, 401, 401, 422, 401]);
    let unknown = &live[4].0;
    assert!(unknown.unknown_task);
    assert_eq!(unknown.task_id.as_deref(), Some(UNKNOWN_TASK));
    assert_eq!(live[7].0.message, "url is wrong");
}

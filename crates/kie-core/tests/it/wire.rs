//! The wire fixtures: every shape kie.ai's docs show and the live API was captured
//! sending (the envelope, task records, callbacks, uploads and credits of
//! <https://docs.kie.ai>), served by a local mock server and decoded by the client.

use crate::common::{client, envelope};
use kie_core::{ApiCode, ErrorKind, RawInput, RetryPolicy, TaskState};
use serde_json::json;
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// What a fixture must decode to.
enum Expect {
    /// A record with this state, result URLs, failCode, failMsg and progress.
    Record {
        state: TaskState,
        urls: &'static [&'static str],
        fail: (Option<&'static str>, Option<&'static str>),
        progress: Option<u8>,
    },
    /// kie.ai's answer with this code.
    Api(ApiCode),
    /// An HTTP error without a kie.ai body.
    Http(u16),
    /// An undecodable body, with this phrase in the reason.
    Decode(&'static str),
}

fn ok(data: serde_json::Value) -> ResponseTemplate {
    envelope(200, json!({"code": 200, "msg": "success", "data": data}))
}

fn raw(http: u16, body: &str) -> ResponseTemplate {
    ResponseTemplate::new(http).set_body_raw(body.as_bytes().to_vec(), "text/html")
}

fn record_fixtures() -> Vec<(&'static str, ResponseTemplate, Expect)> {
    use Expect::*;
    vec![
        (
            "documented success example (input as an object, empty failCode/failMsg)",
            ok(json!({
                "taskId": "task_12345678",
                "model": "kling/v2-1-master-text-to-video",
                "state": "success",
                "param": "{\"model\":\"kling/v2-1-master-text-to-video\",\"callBackUrl\":\"https://your-domain.com/api/callback\",\"input\":{\"prompt\":\"fox\"}}",
                "resultJson": "{\"resultUrls\":[\"https://tempfile.aiquickdraw.com/v/1764828873062_0fok52Ym.mp4\"]}",
                "failCode": "",
                "failMsg": "",
                "costTime": 15000,
                "completeTime": 1698765432000_i64,
                "createTime": 1698765400000_i64,
                "updateTime": 1698765432000_i64
            })),
            Record {
                state: TaskState::Success,
                urls: &["https://tempfile.aiquickdraw.com/v/1764828873062_0fok52Ym.mp4"],
                fail: (None, None),
                progress: None,
            },
        ),
        (
            "docs prose: `message` instead of `msg`",
            envelope(
                200,
                json!({"code": 200, "message": "success", "data": {
                    "taskId": "t", "state": "queuing", "resultJson": "", "failCode": "", "failMsg": ""
                }}),
            ),
            Record {
                state: TaskState::Queuing,
                urls: &[],
                fail: (None, None),
                progress: None,
            },
        ),
        (
            "live capture while waiting: nulls, no updateTime, param.input encoded twice",
            ok(json!({
                "taskId": "32b1348d0e5c4a5f9b1e2d3c4b5a6978",
                "model": "nano-banana-2",
                "state": "waiting",
                "param": "{\"input\":\"{\\\"image_input\\\":[],\\\"prompt\\\":\\\"cat\\\"}\",\"model\":\"nano-banana-2\"}",
                "resultJson": "",
                "failCode": null,
                "failMsg": null,
                "costTime": null,
                "completeTime": null,
                "createTime": 1773000000000_i64
            })),
            Record {
                state: TaskState::Waiting,
                urls: &[],
                fail: (None, None),
                progress: None,
            },
        ),
        (
            "live capture on success: null failCode/failMsg, costTime in seconds",
            ok(json!({
                "taskId": "32b1348d0e5c4a5f9b1e2d3c4b5a6978",
                "model": "nano-banana-2",
                "state": "success",
                "param": "{\"input\":\"{\\\"prompt\\\":\\\"cat\\\"}\",\"model\":\"nano-banana-2\"}",
                "resultJson": "{\"resultUrls\":[\"https://tempfile.aiquickdraw.com/na2/x.jpeg\"]}",
                "failCode": null,
                "failMsg": null,
                "costTime": 274,
                "completeTime": 1773000273896_i64,
                "createTime": 1773000000000_i64,
                "updateTime": 1773000273896_i64
            })),
            Record {
                state: TaskState::Success,
                urls: &["https://tempfile.aiquickdraw.com/na2/x.jpeg"],
                fail: (None, None),
                progress: None,
            },
        ),
        (
            "documented failure: failCode as a string",
            ok(json!({
                "taskId": "task_f", "model": "m", "state": "fail", "param": "",
                "resultJson": "", "failCode": "422",
                "failMsg": "Invalid prompt: prompt contains prohibited content",
                "costTime": null, "completeTime": 1698765432000_i64, "createTime": 1698765400000_i64
            })),
            Record {
                state: TaskState::Fail,
                urls: &[],
                fail: (
                    Some("422"),
                    Some("Invalid prompt: prompt contains prohibited content"),
                ),
                progress: None,
            },
        ),
        (
            "failCode as a number",
            ok(
                json!({"taskId": "t", "state": "fail", "failCode": 501, "failMsg": "generation failed"}),
            ),
            Record {
                state: TaskState::Fail,
                urls: &[],
                fail: (Some("501"), Some("generation failed")),
                progress: None,
            },
        ),
        (
            "older Kling page: every optional field null",
            ok(json!({
                "taskId": "task_kling_1765187781310", "model": "kling/v2-1-master-text-to-video",
                "state": "generating", "param": null, "resultJson": null, "failCode": null,
                "failMsg": null, "costTime": null, "completeTime": null, "createTime": 1765187781310_i64
            })),
            Record {
                state: TaskState::Generating,
                urls: &[],
                fail: (None, None),
                progress: None,
            },
        ),
        (
            "Sora reports progress",
            ok(
                json!({"taskId": "t", "model": "sora-2-pro-text-to-video", "state": "generating", "progress": 45}),
            ),
            Record {
                state: TaskState::Generating,
                urls: &[],
                fail: (None, None),
                progress: Some(45),
            },
        ),
        (
            "an unknown state is kept",
            ok(json!({"taskId": "t", "state": "paused"})),
            Record {
                state: TaskState::Unknown("paused".into()),
                urls: &[],
                fail: (None, None),
                progress: None,
            },
        ),
        (
            "numbers as strings, resultJson as an object",
            ok(json!({
                "taskId": "t", "state": "success", "costTime": "15000", "createTime": "1698765400000",
                "resultJson": {"resultUrls": ["https://x/a.mp4", "https://x/b.mp4"]}
            })),
            Record {
                state: TaskState::Success,
                urls: &["https://x/a.mp4", "https://x/b.mp4"],
                fail: (None, None),
                progress: None,
            },
        ),
        (
            "code as a string",
            envelope(
                200,
                json!({"code": "200", "msg": "success", "data": {"taskId": "t", "state": "waiting"}}),
            ),
            Record {
                state: TaskState::Waiting,
                urls: &[],
                fail: (None, None),
                progress: None,
            },
        ),
        (
            "unknown task id, as captured live",
            envelope(
                200,
                json!({"code": 422, "msg": "recordInfo is null", "data": null}),
            ),
            Api(ApiCode::ValidationFailed),
        ),
        (
            "unknown task id, as documented",
            envelope(404, json!({"code": 404, "msg": "Task not found"})),
            Api(ApiCode::NotFound),
        ),
        (
            "maintenance code under HTTP 200",
            envelope(200, json!({"code": 455, "msg": "maintenance"})),
            Api(ApiCode::Maintenance),
        ),
        (
            "server error in body and status",
            envelope(500, json!({"code": 500, "msg": "internal"})),
            Api(ApiCode::ServerError),
        ),
        (
            "body says success, status says failure: the failure wins",
            envelope(503, json!({"code": 200, "msg": "success", "data": null})),
            Api(ApiCode::Other(503)),
        ),
        (
            "an undocumented code is kept",
            envelope(
                200,
                json!({"code": 4030, "msg": "Not supported in the current region."}),
            ),
            Api(ApiCode::Other(4030)),
        ),
        (
            "a proxy's HTML error page",
            raw(502, "<html><body><h1>502 Bad Gateway</h1></body></html>"),
            Http(502),
        ),
        (
            "an empty body under an error status",
            raw(504, ""),
            Http(504),
        ),
        ("an empty body under 200", raw(200, ""), Decode("empty")),
        (
            "HTML under 200",
            raw(
                200,
                "<!DOCTYPE html><html><title>Just a moment...</title></html>",
            ),
            Decode("HTML"),
        ),
        (
            "JSON cut short",
            raw(
                200,
                "{\"code\":200,\"msg\":\"success\",\"data\":{\"taskId\":",
            ),
            Decode("cut short"),
        ),
        (
            "no code at all",
            envelope(200, json!({"data": {"taskId": "t"}})),
            Decode("no `code`"),
        ),
        (
            "code that is not a number",
            envelope(200, json!({"code": "ok", "data": {}})),
            Decode("not a number"),
        ),
        (
            "success without a record",
            ok(json!(null)),
            Decode("expected an object"),
        ),
        (
            "a record without a state",
            ok(json!({"taskId": "t"})),
            Decode("`state` is missing"),
        ),
        (
            "resultJson that is not JSON",
            ok(json!({"taskId": "t", "state": "success", "resultJson": "{oops"})),
            Decode("resultJson"),
        ),
    ]
}

#[tokio::test]
async fn record_info_fixtures_decode_as_expected() {
    for (name, response, expected) in record_fixtures() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/api/v1/jobs/recordInfo"))
            .and(query_param("taskId", "task-under-test"))
            .and(header(
                "authorization",
                format!("Bearer {}", crate::common::CANARY_KEY).as_str(),
            ))
            .respond_with(response)
            .expect(1)
            .mount(&server)
            .await;
        let (client, _) = client(&server.uri(), RetryPolicy::none());
        let result = client.record("task-under-test").await;
        match (result, expected) {
            (
                Ok(record),
                Expect::Record {
                    state,
                    urls,
                    fail,
                    progress,
                },
            ) => {
                assert_eq!(record.state, state, "{name}");
                let got: Vec<&str> = record
                    .result
                    .as_ref()
                    .map(|r| r.urls.iter().map(String::as_str).collect())
                    .unwrap_or_default();
                assert_eq!(got, urls, "{name}");
                assert_eq!(
                    (record.fail_code.as_deref(), record.fail_msg.as_deref()),
                    fail,
                    "{name}"
                );
                assert_eq!(record.progress, progress, "{name}");
            }
            (Err(e), Expect::Api(code)) => {
                assert_eq!(e.api_code(), Some(code), "{name}: {e}");
                assert_eq!(e.task_id(), Some("task-under-test"), "{name}");
            }
            (Err(e), Expect::Http(status)) => {
                let ErrorKind::Http { http_status, .. } = e.kind() else {
                    panic!("{name}: {e}")
                };
                assert_eq!(*http_status, status, "{name}");
                assert_eq!(e.task_id(), Some("task-under-test"), "{name}");
            }
            (Err(e), Expect::Decode(phrase)) if matches!(e.kind(), ErrorKind::Decode { .. }) => {
                assert!(e.to_string().contains(phrase), "{name}: {e}");
                assert_eq!(e.task_id(), Some("task-under-test"), "{name}");
            }
            (other, _) => panic!("{name}: unexpected {other:?}"),
        }
        server.verify().await;
    }
}

#[tokio::test]
async fn param_is_decoded_even_when_encoded_twice() {
    let server = MockServer::start().await;
    Mock::given(path("/api/v1/jobs/recordInfo"))
        .respond_with(ok(json!({
            "taskId": "t", "state": "waiting",
            "param": "{\"input\":\"{\\\"prompt\\\":\\\"狐狸\\\",\\\"duration\\\":\\\"5\\\"}\",\"model\":\"m\",\"callBackUrl\":\"https://cb\"}"
        })))
        .mount(&server)
        .await;
    let (client, _) = client(&server.uri(), RetryPolicy::none());
    let record = client.record("t").await.unwrap();
    let param = record.param().unwrap().expect("a param");
    assert_eq!(param["input"]["prompt"], "狐狸");
    assert_eq!(param["input"]["duration"], "5");
    assert_eq!(param["callBackUrl"], "https://cb");
    assert_eq!(record.update_time, None);
}

#[tokio::test]
async fn credits_are_read_as_a_float() {
    #[rustfmt::skip]
    let table = [
        (json!({"code": 200, "msg": "success", "data": 100}), Some(100.0)),
        (json!({"code": 200, "msg": "success", "data": 60.62}), Some(60.62)),
        (json!({"code": 200, "msg": "success", "data": "12.5"}), Some(12.5)),
        (json!({"code": 200, "msg": "success", "data": null}), None),
    ];
    for (body, expected) in table {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/api/v1/chat/credit"))
            .respond_with(envelope(200, body.clone()))
            .mount(&server)
            .await;
        let (client, _) = client(&server.uri(), RetryPolicy::none());
        let got = client.credits().await;
        match expected {
            Some(value) => assert_eq!(got.unwrap(), value, "{body}"),
            None => assert!(
                matches!(
                    got.map_err(|e| e.into_kind()),
                    Err(ErrorKind::Decode { .. })
                ),
                "{body}"
            ),
        }
    }
}

#[tokio::test]
async fn unauthorized_says_what_to_do() {
    let server = MockServer::start().await;
    Mock::given(path("/api/v1/chat/credit"))
        .respond_with(envelope(
            401,
            json!({"code": 401, "msg": "You do not have access permissions"}),
        ))
        .mount(&server)
        .await;
    let (client, _) = client(&server.uri(), RetryPolicy::none());
    let err = client.credits().await.unwrap_err();
    assert_eq!(err.api_code(), Some(ApiCode::Unauthorized));
    assert!(err.to_string().contains("check KIE_API_KEY"), "{err}");
}

#[tokio::test]
async fn create_task_sends_the_documented_body_and_reads_the_id() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v1/jobs/createTask"))
        .and(header("user-agent", kie_core::USER_AGENT))
        .and(body_json(json!({
            "model": "kling/v2-1-master-text-to-video",
            "callBackUrl": "https://your-domain.com/api/callback",
            "input": {"prompt": "士兵", "duration": "5"}
        })))
        .respond_with(ok(json!({"taskId": "32b1", "recordId": "32b1"})))
        .expect(1)
        .mount(&server)
        .await;
    let (client, _) = client(&server.uri(), RetryPolicy::none());
    let input = RawInput::new(
        "kling/v2-1-master-text-to-video",
        json!({"prompt": "士兵", "duration": "5"}),
    );
    let task = client
        .submit(&input)
        .callback_url("https://your-domain.com/api/callback")
        .await
        .unwrap();
    assert_eq!(task.id(), "32b1");
    assert_eq!(task.model(), Some("kling/v2-1-master-text-to-video"));
    assert_eq!(
        serde_json::to_value(&task).unwrap(),
        json!({"id": "32b1", "model": "kling/v2-1-master-text-to-video"})
    );
}

#[tokio::test]
async fn create_task_refusals_say_nothing_was_created() {
    #[rustfmt::skip]
    let table = [
        (envelope(200, json!({"code": 422, "msg": "The page does not exist or is not published", "data": null})), ApiCode::ValidationFailed),
        (envelope(200, json!({"code": 402, "msg": "Credits insufficient"})), ApiCode::InsufficientCredits),
        (envelope(401, json!({"code": 401, "msg": "You do not have access permissions"})), ApiCode::Unauthorized),
        (envelope(200, json!({"code": 433, "msg": "sub-key limit"})), ApiCode::SubKeyLimitExceeded),
        (envelope(200, json!({"code": 505, "msg": "disabled"})), ApiCode::FeatureDisabled),
    ];
    for (response, code) in table {
        let server = MockServer::start().await;
        Mock::given(path("/api/v1/jobs/createTask"))
            .respond_with(response)
            .expect(1)
            .mount(&server)
            .await;
        let (client, _) = client(&server.uri(), RetryPolicy::default());
        let err = client
            .submit(&RawInput::new("no/such-model", json!({"prompt": "x"})))
            .await
            .unwrap_err();
        assert_eq!(err.api_code(), Some(code));
        assert!(!err.task_may_exist(), "{err}");
        assert!(!err.to_string().contains("may exist"), "{err}");
    }
}

#[tokio::test]
async fn a_success_without_a_task_id_is_an_error_that_says_the_task_may_exist() {
    let server = MockServer::start().await;
    Mock::given(path("/api/v1/jobs/createTask"))
        .respond_with(ok(json!({"recordId": "x"})))
        .mount(&server)
        .await;
    let (client, _) = client(&server.uri(), RetryPolicy::default());
    let err = client
        .submit(&RawInput::new("m", json!({})))
        .await
        .unwrap_err();
    assert!(err.task_may_exist());
    assert!(err.to_string().contains("may exist"), "{err}");
}

#[tokio::test]
async fn download_url_returns_the_temporary_link() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v1/common/download-url"))
        .and(body_json(
            json!({"url": "https://tempfile.aiquickdraw.com/v/a.mp4"}),
        ))
        .respond_with(ok(json!(
            "https://tempfile.aiquickdraw.com/v/a.mp4?token=1"
        )))
        .expect(1)
        .mount(&server)
        .await;
    let (client, _) = client(&server.uri(), RetryPolicy::none());
    let link = client
        .download_url("https://tempfile.aiquickdraw.com/v/a.mp4")
        .await
        .unwrap();
    assert!(link.ends_with("token=1"));
    let err = client.download_url("not-a-url").await.unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::InvalidInput(_)), "{err}");
}

#[tokio::test]
async fn invalid_input_is_refused_before_anything_is_sent() {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(ok(json!({"taskId": "t"})))
        .expect(0)
        .mount(&server)
        .await;
    let (client, _) = client(&server.uri(), RetryPolicy::none());
    let err = client
        .submit(&RawInput::new("m", json!("not an object")))
        .callback_url("ftp://nope")
        .await
        .unwrap_err();
    let ErrorKind::InvalidInput(v) = err.kind() else {
        panic!("{err}")
    };
    assert!(v.concerns("input") && v.concerns("callBackUrl"), "{err}");
    assert!(!err.task_may_exist());
}

//! Retry behaviour over real HTTP on loopback, with request counts asserted: reads are
//! retried on transient failures; createTask only where nothing can have been created.

use std::sync::atomic::Ordering;
use std::time::Duration;

use crate::common::{Script, client, closed_port, envelope, hang_up_server};
use kie_core::{ApiCode, ErrorKind, RawInput, RetryPolicy, UnansweredCause};
use serde_json::json;
use wiremock::matchers::path;
use wiremock::{Mock, MockServer, ResponseTemplate};

fn input() -> RawInput {
    RawInput::new("kling/v2-1-master-text-to-video", json!({"prompt": "fox"}))
}

fn created() -> ResponseTemplate {
    envelope(
        200,
        json!({"code": 200, "msg": "success", "data": {"taskId": "t1"}}),
    )
}

fn throttled(retry_after: &str) -> ResponseTemplate {
    envelope(429, json!({"code": 429, "msg": "rate limited"}))
        .insert_header("retry-after", retry_after)
}

async fn server_with(route: &str, steps: Vec<ResponseTemplate>) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(path(route))
        .respond_with(Script::new(steps))
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn create_is_retried_after_429_and_honours_retry_after() {
    let server = server_with(
        "/api/v1/jobs/createTask",
        vec![
            throttled("7"),
            throttled("Wed, 21 Oct 2015 07:28:00 GMT"),
            created(),
        ],
    )
    .await;
    let (client, timer) = client(
        &server.uri(),
        RetryPolicy::default().max_elapsed(Duration::from_secs(120)),
    );
    let task = client.submit(&input()).await.unwrap();
    assert_eq!(task.id(), "t1");
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
    // 7 s as asked, then a date in the past: at once; each plus at most its backoff
    // step of jitter (500 ms, then 1 s).
    let sleeps = timer.sleeps();
    assert_eq!(sleeps.len(), 2, "{sleeps:?}");
    assert!(
        (Duration::from_secs(7)..Duration::from_millis(7_500)).contains(&sleeps[0]),
        "{sleeps:?}"
    );
    assert!(sleeps[1] < Duration::from_secs(1), "{sleeps:?}");
}

#[tokio::test]
async fn create_is_not_retried_when_a_task_may_exist() {
    #[rustfmt::skip]
    let cases = [
        ("server error", envelope(500, json!({"code": 500, "msg": "internal"}))),
        ("gateway error", ResponseTemplate::new(502).set_body_string("<html>bad gateway</html>")),
        ("maintenance", envelope(200, json!({"code": 455, "msg": "maintenance"}))),
        ("garbled success", ResponseTemplate::new(200).set_body_string("{\"code\":200,\"da")),
        ("timeout", created().set_delay(Duration::from_secs(2))),
    ];
    for (name, response) in cases {
        let server = server_with("/api/v1/jobs/createTask", vec![response]).await;
        let (client, timer) = client(&server.uri(), RetryPolicy::default());
        let err = client.submit(&input()).await.unwrap_err();
        assert_eq!(server.received_requests().await.unwrap().len(), 1, "{name}");
        assert!(timer.sleeps().is_empty(), "{name}");
        if name == "maintenance" {
            // An explicit refusal: nothing was created.
            assert_eq!(err.api_code(), Some(ApiCode::Maintenance));
            assert!(!err.task_may_exist(), "{name}: {err}");
        } else {
            assert!(err.task_may_exist(), "{name}: {err}");
            assert!(err.to_string().contains("may exist"), "{name}: {err}");
        }
    }
}

#[tokio::test]
async fn create_is_not_retried_when_the_connection_drops_after_sending() {
    let (base, connections) = hang_up_server();
    let (client, _) = client(&base, RetryPolicy::default());
    let err = client.submit(&input()).await.unwrap_err();
    assert!(
        matches!(
            err.kind(),
            ErrorKind::Unanswered {
                cause: UnansweredCause::ConnectionLost,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.task_may_exist());
    // hyper may replay a request on a fresh connection only when the first was never
    // written; here it was, so kie.ai saw it at most once.
    assert_eq!(connections.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn create_is_retried_when_no_connection_was_made() {
    let (client, timer) = client(&closed_port(), RetryPolicy::default().max_attempts(3));
    let err = client.submit(&input()).await.unwrap_err();
    assert!(
        matches!(
            err.kind(),
            ErrorKind::Unanswered {
                cause: UnansweredCause::ConnectFailed,
                ..
            }
        ),
        "{err}"
    );
    assert!(!err.task_may_exist(), "nothing was sent: {err}");
    assert_eq!(timer.sleeps().len(), 2, "three attempts, two pauses");
}

#[tokio::test]
async fn reads_are_retried_on_transient_failures_with_backoff() {
    let server = server_with(
        "/api/v1/chat/credit",
        vec![
            ResponseTemplate::new(503).set_body_string("<html>unavailable</html>"),
            envelope(200, json!({"code": 455, "msg": "maintenance"})),
            ResponseTemplate::new(200).set_body_string("{\"code\":200,\"msg\":\"succ"),
            envelope(200, json!({"code": 200, "msg": "success", "data": 42.5})),
        ],
    )
    .await;
    let policy = RetryPolicy::default()
        .max_attempts(4)
        .base_delay(Duration::from_millis(100))
        .max_delay(Duration::from_secs(1));
    let (client, timer) = client(&server.uri(), policy);
    assert_eq!(client.credits().await.unwrap(), 42.5);
    assert_eq!(server.received_requests().await.unwrap().len(), 4);
    let sleeps = timer.sleeps();
    assert_eq!(sleeps.len(), 3);
    for (i, (sleep, cap)) in sleeps.iter().zip([100, 200, 400]).enumerate() {
        assert!(*sleep <= Duration::from_millis(cap), "pause {i}: {sleep:?}");
    }
}

#[tokio::test]
async fn reads_stop_after_the_attempt_cap_and_keep_the_last_error() {
    let server = server_with(
        "/api/v1/jobs/recordInfo",
        vec![envelope(500, json!({"code": 500, "msg": "internal"}))],
    )
    .await;
    let (client, _) = client(&server.uri(), RetryPolicy::default().max_attempts(3));
    let err = client.record("t9").await.unwrap_err();
    assert_eq!(err.api_code(), Some(ApiCode::ServerError));
    assert_eq!(err.task_id(), Some("t9"));
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
}

#[tokio::test]
async fn reads_are_not_retried_on_permanent_errors() {
    let server = server_with(
        "/api/v1/jobs/recordInfo",
        vec![envelope(
            200,
            json!({"code": 422, "msg": "recordInfo is null", "data": null}),
        )],
    )
    .await;
    let (client, _) = client(&server.uri(), RetryPolicy::default());
    let err = client.record("t9").await.unwrap_err();
    assert_eq!(err.api_code(), Some(ApiCode::ValidationFailed));
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_read_timeout_is_retried() {
    let server = server_with(
        "/api/v1/chat/credit",
        vec![
            envelope(200, json!({"code": 200, "data": 1})).set_delay(Duration::from_secs(2)),
            envelope(200, json!({"code": 200, "data": 2})),
        ],
    )
    .await;
    let (client, _) = client(&server.uri(), RetryPolicy::default());
    assert_eq!(client.credits().await.unwrap(), 2.0);
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

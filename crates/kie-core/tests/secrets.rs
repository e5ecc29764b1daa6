//! The API key never appears in Debug, Display, errors or logs: every output a user
//! might print is produced with a canary key and searched for it.

#[path = "it/common/mod.rs"]
mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use common::{CANARY_KEY, client, closed_port, envelope};
use kie_core::{Client, Error, RawInput, RetryPolicy};
use serde_json::json;
use wiremock::matchers::path;
use wiremock::{Mock, MockServer, ResponseTemplate};

fn assert_clean(what: &str, text: &str) {
    assert!(!text.contains(CANARY_KEY), "{what} leaks the key: {text}");
    assert!(
        !text.contains("CANARY"),
        "{what} leaks part of the key: {text}"
    );
}

fn assert_error_clean(what: &str, err: &Error) {
    assert_clean(what, &err.to_string());
    assert_clean(what, &format!("{err:?}"));
    assert_clean(what, &format!("{err:#?}"));
    let mut source = std::error::Error::source(err);
    while let Some(s) = source {
        assert_clean(what, &s.to_string());
        source = s.source();
    }
}

/// Collects everything tracing writes.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn no_output_ever_contains_the_key() {
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    // The builder and the client.
    let builder = Client::builder()
        .api_key(CANARY_KEY)
        .base_url("http://127.0.0.1:9");
    assert_clean("builder Debug", &format!("{builder:?}"));
    let client_ = builder.build().unwrap();
    assert_clean("client Debug", &format!("{client_:?} {client_:#?}"));

    // Configuration errors, including a key that cannot go in a header.
    for err in [
        Client::builder()
            .api_key(CANARY_KEY)
            .base_url("http://example.com")
            .build()
            .unwrap_err(),
        Client::builder()
            .api_key(format!("{CANARY_KEY}\n"))
            .build()
            .unwrap_err(),
    ] {
        assert_error_clean("config error", &err);
    }

    // Every kind of answer.
    let server = MockServer::start().await;
    let answers: Vec<(&str, ResponseTemplate)> = vec![
        (
            "/api/v1/chat/credit",
            envelope(
                401,
                json!({"code": 401, "msg": "You do not have access permissions"}),
            ),
        ),
        (
            "/api/v1/jobs/createTask",
            ResponseTemplate::new(502).set_body_string("<html>bad gateway</html>"),
        ),
        (
            "/api/v1/common/download-url",
            ResponseTemplate::new(200).set_body_string("{\"code\":"),
        ),
        (
            "/api/v1/jobs/recordInfo",
            envelope(
                200,
                json!({"code": 200, "msg": "success", "data": {
            "taskId": "t", "state": "fail", "failCode": "500", "failMsg": "boom"}}),
            ),
        ),
    ];
    for (route, answer) in answers {
        Mock::given(path(route))
            .respond_with(answer)
            .mount(&server)
            .await;
    }
    let (client, _) = client(&server.uri(), RetryPolicy::none());
    let errors = [
        client.credits().await.unwrap_err(),
        client
            .submit(&RawInput::new("m", json!({})))
            .await
            .unwrap_err(),
        client.download_url("https://x/y.mp4").await.unwrap_err(),
        client.task("t").wait().await.unwrap_err(),
        client
            .submit(&RawInput::new("", json!(1)))
            .await
            .unwrap_err(),
        Error::task_failed(
            kie_core::TaskRecord::from_data(
                &json!({"taskId": "t", "state": "fail", "failMsg": "no"}),
            )
            .unwrap(),
        ),
    ];
    for err in &errors {
        assert_error_clean("api error", err);
    }
    let (unreachable, _) = common::client(&closed_port(), RetryPolicy::none());
    assert_error_clean("transport error", &unreachable.credits().await.unwrap_err());

    let logs = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("kie.recordInfo"), "spans were logged: {logs}");
    assert_clean("logs", &logs);
}

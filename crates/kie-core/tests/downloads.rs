//! Downloads: complete, truncated, failed and cancelled, each leaving either the whole
//! file or nothing.

mod common;

use std::path::Path;
use std::sync::{Arc, Mutex};

use common::{client, envelope, raw_http_server};
use kie_core::{DownloadProgress, Error, RetryPolicy, Unanswered};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn video_bytes(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

/// The directory's entries: a failed download must leave nothing, partial files included.
fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn a_complete_download_appears_whole_with_progress_and_no_key() {
    let server = MockServer::start().await;
    let body = video_bytes(3 * 1024 * 1024 + 17);
    Mock::given(method("GET"))
        .and(path("/files/fox.mp4"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(body.clone(), "video/mp4"))
        .expect(1)
        .mount(&server)
        .await;
    let (client, _) = client(&server.uri(), RetryPolicy::none());
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("fox.mp4");
    let seen = Arc::new(Mutex::new(Vec::<DownloadProgress>::new()));
    let sink = seen.clone();
    let written = client
        .download(format!("{}/files/fox.mp4", server.uri()))
        .on_progress(move |p| sink.lock().unwrap().push(p))
        .to_path(&target)
        .await
        .unwrap();
    assert_eq!(written, body.len() as u64);
    assert_eq!(std::fs::read(&target).unwrap(), body);
    assert_eq!(entries(dir.path()), ["fox.mp4"]);
    let seen = seen.lock().unwrap().clone();
    let last = seen.last().unwrap();
    assert_eq!(
        (last.bytes, last.total),
        (body.len() as u64, Some(body.len() as u64))
    );
    assert!(seen.windows(2).all(|w| w[0].bytes < w[1].bytes));
    let requests = server.received_requests().await.unwrap();
    assert!(
        requests[0].headers.get("authorization").is_none(),
        "the API key must never go to a file host"
    );
}

#[tokio::test]
async fn a_truncated_body_is_detected_and_nothing_is_kept() {
    let head = "HTTP/1.1 200 OK\r\ncontent-type: video/mp4\r\ncontent-length: 1000\r\nconnection: close\r\n\r\n";
    let base = raw_http_server(head.to_owned(), video_bytes(400), false);
    let (client, _) = client(&base, RetryPolicy::none());
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("cut.mp4");
    let err = client
        .download(format!("{base}/cut.mp4"))
        .to_path(&target)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Truncated {
                expected: 1000,
                received: 400,
                ..
            }
        ),
        "{err}"
    );
    assert!(entries(dir.path()).is_empty(), "{:?}", entries(dir.path()));
}

#[tokio::test]
async fn an_error_status_is_an_http_error_and_nothing_is_kept() {
    let server = MockServer::start().await;
    Mock::given(path("/expired.mp4"))
        .respond_with(ResponseTemplate::new(403).set_body_string("link expired"))
        .mount(&server)
        .await;
    let (client, _) = client(&server.uri(), RetryPolicy::none());
    let dir = tempfile::tempdir().unwrap();
    let err = client
        .download(format!("{}/expired.mp4", server.uri()))
        .to_path(dir.path().join("x.mp4"))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Http {
                http_status: 403,
                ..
            }
        ),
        "{err}"
    );
    assert!(entries(dir.path()).is_empty());
}

#[tokio::test]
async fn a_file_host_that_stops_answering_times_out_and_nothing_is_kept() {
    // Takes the request, then says nothing for 5 s before closing.
    let base = raw_http_server(String::new(), Vec::new(), true);
    let (client, _) = client(&base, RetryPolicy::none()); // request timeout 500 ms
    let dir = tempfile::tempdir().unwrap();
    let err = client
        .download(format!("{base}/stuck.mp4"))
        .to_path(dir.path().join("stuck.mp4"))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Unanswered {
                cause: Unanswered::Timeout,
                ..
            }
        ),
        "{err}"
    );
    assert!(entries(dir.path()).is_empty(), "{:?}", entries(dir.path()));
}

#[tokio::test]
async fn a_cancelled_download_leaves_no_partial_file() {
    let head = "HTTP/1.1 200 OK\r\ncontent-length: 100000\r\n\r\n";
    let base = raw_http_server(head.to_owned(), video_bytes(5000), true);
    let (client, _) = client(&base, RetryPolicy::none());
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("slow.mp4");
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let mut tx = Some(tx);
    let download = client
        .download(format!("{base}/slow.mp4"))
        .on_progress(move |_| {
            if let Some(tx) = tx.take() {
                let _ = tx.send(());
            }
        })
        .to_path(&target);
    // Cancel once the first bytes have arrived.
    tokio::select! {
        _ = download => panic!("the server never finishes"),
        _ = rx => {}
    }
    assert!(entries(dir.path()).is_empty(), "{:?}", entries(dir.path()));
}

#[tokio::test]
async fn a_download_streams_into_any_writer() {
    let server = MockServer::start().await;
    let body = video_bytes(10_000);
    Mock::given(path("/a.mp4"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(body.clone(), "video/mp4"))
        .mount(&server)
        .await;
    let (client, _) = client(&server.uri(), RetryPolicy::none());
    let mut sink: Vec<u8> = Vec::new();
    let n = client
        .download(format!("{}/a.mp4", server.uri()))
        .to_writer(&mut sink)
        .await
        .unwrap();
    assert_eq!(n, 10_000);
    assert_eq!(sink, body);
}

#[tokio::test]
async fn a_task_waits_then_downloads() {
    let server = MockServer::start().await;
    let body = video_bytes(2048);
    Mock::given(path("/api/v1/jobs/recordInfo"))
        .respond_with(envelope(200, json!({"code": 200, "msg": "success", "data": {
            "taskId": "t1", "state": "success",
            "resultJson": json!({"resultUrls": [format!("{}/r/t1.mp4", server.uri())]}).to_string()
        }})))
        .mount(&server)
        .await;
    Mock::given(path("/r/t1.mp4"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(body.clone(), "video/mp4"))
        .mount(&server)
        .await;
    let (client, _) = client(&server.uri(), RetryPolicy::none());
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("t1.mp4");
    let (video, bytes) = client.task("t1").wait().download_to(&target).await.unwrap();
    assert_eq!(video.task_id, "t1");
    assert_eq!(bytes, 2048);
    assert_eq!(std::fs::read(&target).unwrap(), body);

    // A failed download after the wait carries the task id.
    let err = client
        .task("t1")
        .wait()
        .download_to(dir.path().join("no-such-dir").join("x.mp4"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Io { .. }), "{err}");
    assert_eq!(err.task_id(), Some("t1"));
}

//! What a broken or hostile server can do to a call, and what it cannot: fill memory
//! with an endless answer, redirect a createTask body to another host, hold a download
//! open with a trickle, pass off part of a file as the whole, or end a body early by
//! closing the connection. Each server here is a raw one on 127.0.0.1, since no
//! well-behaved server library misbehaves on demand.

use std::io::Write;
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::common::{CANARY_KEY, RawRequest, client, envelope, scripted_server};
use kie_core::{
    Client, DEFAULT_MAX_ANSWER_BYTES, Error, ErrorKind, MinSpeed, Operation, RawInput, RetryPolicy,
    SpeedLimit,
};
use serde_json::json;
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Fails if `err`, in any form a program might print it, holds a secret of the tests.
#[track_caller]
fn assert_error_clean(what: &str, err: &Error) {
    let mut texts = vec![err.to_string(), format!("{err:?}"), format!("{err:#?}")];
    let mut source = std::error::Error::source(err);
    while let Some(s) = source {
        texts.push(s.to_string());
        source = s.source();
    }
    for text in texts {
        assert!(!text.contains("CANARY"), "{what}: a secret leaks: {text}");
    }
}

fn write(stream: &mut TcpStream, bytes: &[u8]) -> bool {
    stream
        .write_all(bytes)
        .and_then(|()| stream.flush())
        .is_ok()
}

/// A kie.ai answer with a body of `len` bytes of `filler` inside `data`: valid JSON
/// once complete. Counts the bytes the server managed to write.
fn huge_answer(
    len: u64,
    announce: bool,
    written: Arc<AtomicU64>,
) -> impl Fn(&RawRequest, &mut TcpStream) + Send + Sync + 'static {
    move |_, stream| {
        let (open, close) = (br#"{"code":200,"msg":"success","data":""#, br#""}"#);
        let total = len.saturating_add((open.len() + close.len()) as u64);
        let head = if announce {
            format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {total}\r\n\r\n"
            )
        } else {
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n"
                .to_owned()
        };
        if !write(stream, head.as_bytes()) || !write(stream, open) {
            return;
        }
        let chunk = vec![b'x'; 64 * 1024];
        let mut sent = 0;
        while sent < len {
            let n = chunk
                .len()
                .min(usize::try_from(len - sent).unwrap_or(usize::MAX));
            if !write(stream, &chunk[..n]) {
                return; // the client stopped reading
            }
            sent += n as u64;
            written.fetch_add(n as u64, Ordering::SeqCst);
        }
        write(stream, close);
    }
}

#[tokio::test]
async fn an_answer_longer_than_the_limit_is_not_read_past_it() {
    // An endless recordInfo answer (no length announced): reading stops at the limit,
    // the error names the call and the task, and the read is retried no more than the
    // policy allows.
    let written = Arc::new(AtomicU64::new(0));
    let (base, seen) = scripted_server(huge_answer(u64::MAX, false, written.clone()));
    let (client, _) = client(&base, RetryPolicy::default().max_attempts(2));
    let err = client.record("t-huge").await.unwrap_err();
    let ErrorKind::AnswerTooLarge { limit, .. } = err.kind() else {
        panic!("{err}")
    };
    assert_eq!(
        (err.operation().expect("a call"), *limit, err.task_id()),
        (
            Operation::RecordInfo,
            DEFAULT_MAX_ANSWER_BYTES,
            Some("t-huge")
        )
    );
    assert!(err.to_string().contains("max_answer_bytes"), "{err}");
    assert_eq!(seen.lock().unwrap().len(), 2, "retried once, as a read");
    // The server could write what the sockets buffer, not the whole endless answer.
    assert!(written.load(Ordering::SeqCst) < 2 * DEFAULT_MAX_ANSWER_BYTES + (16 << 20));

    // An answer that announces 1 GiB is refused from its head.
    let written = Arc::new(AtomicU64::new(0));
    let (base, _) = scripted_server(huge_answer(1 << 30, true, written.clone()));
    let (client, _) = crate::common::client(&base, RetryPolicy::none());
    let err = client.credits().await.unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::AnswerTooLarge { .. })
            && err.operation() == Some(Operation::Credits),
        "{err}"
    );
    assert!(written.load(Ordering::SeqCst) < 64 << 20);
}

#[tokio::test]
async fn the_limit_is_configurable_and_an_oversized_create_may_have_made_a_task() {
    let (base, seen) = scripted_server(huge_answer(2_000, true, Arc::default()));
    let client = Client::builder()
        .api_key(CANARY_KEY)
        .base_url(&base)
        .max_answer_bytes(1_024)
        .build()
        .unwrap();
    let err = client
        .submit(&RawInput::new("m", json!({"prompt": "p"})))
        .await
        .unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::AnswerTooLarge { limit: 1_024, .. }),
        "{err}"
    );
    assert!(err.task_may_exist(), "the answer was not read: {err}");
    assert_eq!(
        seen.lock().unwrap().len(),
        1,
        "a create is never sent twice"
    );

    let client = Client::builder()
        .api_key(CANARY_KEY)
        .base_url(&base)
        .max_answer_bytes(4_096)
        .build()
        .unwrap();
    // Read whole under a higher limit: a string, which is not a number of credits.
    let err = client.credits().await.unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Decode { .. }), "{err}");
}

/// An API host that redirects every request to `to`.
fn redirecting(
    status: u16,
    to: String,
) -> impl Fn(&RawRequest, &mut TcpStream) + Send + Sync + 'static {
    move |request, stream| {
        let head = format!(
            "HTTP/1.1 {status} Moved\r\nlocation: {to}{}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
            request.target
        );
        write(stream, head.as_bytes());
    }
}

/// A host that answers every request as kie.ai would a createTask.
fn creating() -> impl Fn(&RawRequest, &mut TcpStream) + Send + Sync + 'static {
    |_, stream| {
        let body = r#"{"code":200,"msg":"success","data":{"taskId":"stolen"}}"#;
        let head = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
            body.len()
        );
        write(stream, head.as_bytes());
        write(stream, body.as_bytes());
    }
}

#[tokio::test]
async fn api_calls_follow_no_redirect() {
    // Another origin: the same loopback address on another port.
    let (elsewhere, taken) = scripted_server(creating());
    for status in [301, 302, 307, 308] {
        let (base, seen) = scripted_server(redirecting(status, elsewhere.clone()));
        let (client, _) = client(&base, RetryPolicy::default());
        let err = client
            .submit(&RawInput::new("m", json!({"prompt": "a secret prompt"})))
            .callback_url("https://me.example/cb?token=cb-token-123456")
            .await
            .unwrap_err();
        let ErrorKind::Redirected {
            http_status,
            location,
        } = err.kind()
        else {
            panic!("{status}: {err}")
        };
        assert_eq!(*http_status, status);
        assert!(location.starts_with(&elsewhere), "{location}");
        assert!(err.task_may_exist(), "{err}");
        assert_eq!(seen.lock().unwrap().len(), 1, "not retried");
        let err = client.record("t1").await.unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::Redirected { .. }), "{err}");
        assert_eq!(err.task_id(), Some("t1"));
        assert_eq!(seen.lock().unwrap().len(), 2, "a redirect is not transient");
    }
    assert!(
        taken.lock().unwrap().is_empty(),
        "nothing reached the other host"
    );
}

#[tokio::test]
async fn an_injected_client_that_follows_redirects_still_gets_no_foreign_task_id() {
    let (elsewhere, taken) = scripted_server(creating());
    let (base, _) = scripted_server(redirecting(307, elsewhere.clone()));
    let client = Client::builder()
        .api_key(CANARY_KEY)
        .base_url(&base)
        .http_client(reqwest::Client::new()) // reqwest's default: follows redirects
        .build()
        .unwrap();
    let err = client
        .submit(&RawInput::new("m", json!({"prompt": "p"})))
        .await
        .unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::Redirected { location, .. } if location.starts_with(&elsewhere)),
        "{err}"
    );
    // reqwest sent the body on, without the key (it drops it across origins); the
    // answer from there, a task id, was not taken.
    let taken = taken.lock().unwrap();
    assert_eq!(taken.len(), 1);
    assert!(taken[0].header("authorization").is_none());
}

/// A file host serving `file` at any path, as RFC 9110 says, with Content-Length.
fn serving(file: Vec<u8>) -> impl Fn(&RawRequest, &mut TcpStream) + Send + Sync + 'static {
    move |_, stream| {
        let head = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: video/mp4\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
            file.len()
        );
        write(stream, head.as_bytes());
        write(stream, &file);
    }
}

#[tokio::test]
async fn downloads_follow_a_file_hosts_redirects_but_not_to_plain_http_or_forever() {
    let file: Vec<u8> = (0..50_000u32).map(|i| (i % 251) as u8).collect();
    let (cdn, fetched) = scripted_server(serving(file.clone()));
    let (host, _) = scripted_server(redirecting(302, format!("{cdn}/cdn")));
    let (client, _) = client(&host, RetryPolicy::none());
    let mut body = Vec::new();
    let done = client
        .download(format!("{host}/video.mp4"))
        .to_writer(&mut body)
        .await
        .unwrap();
    assert_eq!((done.bytes, done.verified), (file.len() as u64, true));
    assert_eq!(body, file);
    assert_eq!(fetched.lock().unwrap()[0].target, "/cdn/video.mp4");
    assert!(fetched.lock().unwrap()[0].header("authorization").is_none());

    // To plain http outside loopback: refused before any request goes there.
    let (downgrading, _) = scripted_server(redirecting(302, "http://files.example.com".into()));
    let err = client
        .download(format!("{downgrading}/video.mp4"))
        .to_writer(&mut Vec::new())
        .await
        .unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::Redirected { location, .. } if location == "http://files.example.com/video.mp4"),
        "{err}"
    );

    // A loop ends after MAX_REDIRECTS.
    let (looping, seen) = scripted_server(|request, stream| {
        let head = format!(
            "HTTP/1.1 302 Found\r\nlocation: {}x\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
            request.target
        );
        write(stream, head.as_bytes());
    });
    let err = client
        .download(format!("{looping}/v"))
        .to_writer(&mut Vec::new())
        .await
        .unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Redirected { .. }), "{err}");
    assert_eq!(seen.lock().unwrap().len(), kie_core::MAX_REDIRECTS + 1);
}

#[tokio::test]
async fn a_part_of_the_file_is_not_taken_for_the_whole() {
    let file: Vec<u8> = (0..1000u32).map(|i| (i % 251) as u8).collect();
    let part = file.clone();
    // A 206 for the second half, to a request that asked for no range: asked again
    // (nothing was kept), then refused.
    let (host, seen) = scripted_server(move |_, stream| {
        let head = "HTTP/1.1 206 Partial Content\r\ncontent-range: bytes 500-999/1000\r\ncontent-length: 500\r\nconnection: close\r\n\r\n";
        write(stream, head.as_bytes());
        write(stream, &part[500..]);
    });
    let (client, _) = client(&host, RetryPolicy::default());
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("video.mp4");
    let err = client
        .download(format!("{host}/video.mp4"))
        .to_path(&target)
        .await
        .unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::NotResumed { received: 0, http_status: 206, content_range: Some(range), .. } if range == "bytes 500-999/1000"),
        "{err}"
    );
    assert!(err.to_string().contains("a part of it"), "{err}");
    assert_eq!(
        seen.lock().unwrap().len(),
        4,
        "every attempt of the policy, each a plain GET"
    );
    assert!(
        seen.lock()
            .unwrap()
            .iter()
            .all(|r| r.header("range").is_none())
    );
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "no file left"
    );

    // A 206 that is the whole file is the file.
    let whole = file.clone();
    let (host, _) = scripted_server(move |_, stream| {
        let head = "HTTP/1.1 206 Partial Content\r\ncontent-range: bytes 0-999/1000\r\ncontent-length: 1000\r\nconnection: close\r\n\r\n";
        write(stream, head.as_bytes());
        write(stream, &whole);
    });
    let mut body = Vec::new();
    client
        .download(format!("{host}/video.mp4"))
        .to_writer(&mut body)
        .await
        .unwrap();
    assert_eq!(body, file);
}

/// A host that ends the body by closing the connection (HTTP/1.1, no Content-Length,
/// not chunked), sending the first `cut` bytes of `file` to the first GET; its HEAD
/// tells the length when `head_length` is set; `Range` is honoured.
fn close_delimited(
    file: Vec<u8>,
    cut: usize,
    head_length: bool,
) -> impl Fn(&RawRequest, &mut TcpStream) + Send + Sync + 'static {
    let gets = AtomicU64::new(0);
    move |request, stream| {
        let len = file.len();
        if request.method == "HEAD" {
            let length = if head_length {
                format!("content-length: {len}\r\n")
            } else {
                String::new()
            };
            let head = format!("HTTP/1.1 200 OK\r\n{length}connection: close\r\n\r\n");
            write(stream, head.as_bytes());
            return;
        }
        let from = request
            .header("range")
            .and_then(|r| r.strip_prefix("bytes=")?.strip_suffix('-')?.parse().ok());
        let (head, body) = match from {
            Some(from) => (
                format!(
                    "HTTP/1.1 206 Partial Content\r\ncontent-range: bytes {from}-{}/{len}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    len - 1,
                    len - from
                ),
                &file[from..],
            ),
            None if gets.fetch_add(1, Ordering::SeqCst) == 0 => (
                "HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n".to_owned(),
                &file[..cut],
            ),
            None => (
                "HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n".to_owned(),
                &file[..],
            ),
        };
        write(stream, head.as_bytes());
        write(stream, body);
    }
}

#[tokio::test]
async fn a_body_ended_by_a_closed_connection_is_checked_before_it_counts_as_whole() {
    let file: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let (client, _) = client(&crate::common::closed_port(), RetryPolicy::default());

    // Cut at 70,000 bytes: the HEAD says 200,000, so the download resumes and completes.
    let (host, seen) = scripted_server(close_delimited(file.clone(), 70_000, true));
    let mut body = Vec::new();
    let done = client
        .download(format!("{host}/v.mp4"))
        .to_writer(&mut body)
        .await
        .unwrap();
    assert_eq!((done.bytes, done.verified), (200_000, true));
    assert_eq!(body, file);
    let requests: Vec<(String, Option<String>)> = seen
        .lock()
        .unwrap()
        .iter()
        .map(|r| (r.method.clone(), r.header("range").map(str::to_owned)))
        .collect();
    assert_eq!(
        requests,
        [
            ("GET".to_owned(), None),
            ("HEAD".to_owned(), None),
            ("GET".to_owned(), Some("bytes=70000-".to_owned()))
        ]
    );

    // Whole, and the HEAD agrees: verified.
    let (host, _) = scripted_server(close_delimited(file.clone(), file.len(), true));
    let done = client
        .download(format!("{host}/v.mp4"))
        .to_writer(&mut Vec::new())
        .await
        .unwrap();
    assert_eq!((done.bytes, done.verified), (200_000, true));

    // No length anywhere: kept, but reported as unverified.
    let (host, _) = scripted_server(close_delimited(file.clone(), file.len(), false));
    let done = client
        .download(format!("{host}/v.mp4"))
        .to_writer(&mut Vec::new())
        .await
        .unwrap();
    assert_eq!((done.bytes, done.verified), (200_000, false));
}

/// A host that sends the head, then one byte every `every` until the client leaves.
fn trickling(every: Duration) -> impl Fn(&RawRequest, &mut TcpStream) + Send + Sync + 'static {
    move |_, stream| {
        let head = "HTTP/1.1 200 OK\r\ncontent-length: 1000000\r\nconnection: close\r\n\r\n";
        if !write(stream, head.as_bytes()) {
            return;
        }
        for _ in 0..1_000_000 {
            std::thread::sleep(every);
            if !write(stream, b"x") {
                return;
            }
        }
    }
}

#[tokio::test]
async fn a_trickle_ends_below_the_floor_and_leaves_no_file() {
    let (host, seen) = scripted_server(trickling(Duration::from_millis(20)));
    let (client, _) = client(&host, RetryPolicy::default().max_attempts(2));
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("video.mp4");
    let floor = MinSpeed::new(1_000, Duration::from_millis(200));
    let err = client
        .download(format!("{host}/video.mp4"))
        .min_speed(floor)
        .to_path(&target)
        .await
        .unwrap_err();
    let ErrorKind::TooSlow {
        url,
        received,
        total,
        limit,
    } = err.kind()
    else {
        panic!("{err}")
    };
    assert_eq!(*limit, SpeedLimit::MinSpeed(floor));
    assert!(url.ends_with("/video.mp4") && *received > 0, "{err}");
    assert_eq!(*total, Some(1_000_000));
    assert!(err.is_transient(), "downloading again may succeed");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "no file left"
    );
    // The second attempt resumed where the first gave up.
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 2);
    assert!(seen[1].header("range").is_some(), "{seen:?}");
}

#[tokio::test]
async fn a_deadline_bounds_the_whole_download() {
    let (host, _) = scripted_server(trickling(Duration::from_millis(5)));
    let (client, _) = client(&host, RetryPolicy::default());
    let err = client
        .download(format!("{host}/video.mp4"))
        .min_speed(MinSpeed::NONE)
        .deadline(Duration::from_millis(300))
        .to_writer(&mut Vec::new())
        .await
        .unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::TooSlow { limit: SpeedLimit::Deadline(d), .. } if *d == Duration::from_millis(300)),
        "{err}"
    );
}

#[tokio::test]
async fn a_file_that_cannot_be_written_is_named_as_the_caller_named_it() {
    let (client, _) = client(&crate::common::closed_port(), RetryPolicy::none());
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("missing").join("fox.mp4");
    let err = client
        .download("http://127.0.0.1:9/v.mp4")
        .to_path(&target)
        .await
        .unwrap_err();
    let ErrorKind::Io { path, .. } = err.kind() else {
        panic!("{err}")
    };
    assert_eq!(path.as_deref(), Some(target.as_path()));
    assert!(!err.to_string().contains(".partial"), "{err}");
}

/// How an echoing proxy wraps what it echoes.
type Shape = fn(String) -> ResponseTemplate;

/// What a proxy that echoes requests sends back: the request line, every header (the
/// `Authorization: Bearer <key>` among them) and the body, in the shape `shape` gives.
struct Echo {
    shape: Shape,
}

impl wiremock::Respond for Echo {
    fn respond(&self, request: &wiremock::Request) -> ResponseTemplate {
        let mut text = format!("{} {}\n", request.method, request.url);
        for (name, value) in &request.headers {
            text.push_str(&format!("{name}: {}\n", value.to_str().unwrap_or("?")));
        }
        text.push('\n');
        text.push_str(&String::from_utf8_lossy(&request.body));
        (self.shape)(text)
    }
}

/// Found by an adversary: a proxy that echoes the request put `Authorization: Bearer
/// <key>` into an error message, and a callback URL's token with it. Every error path
/// that keeps text of an answer is tried with such a proxy and a canary key.
#[tokio::test]
async fn an_echoed_request_never_puts_a_secret_into_an_error() {
    const TOKEN: &str = "cb-token-CANARY-42";
    #[rustfmt::skip]
    let shapes: [(&str, Shape); 5] = [
        ("a gateway page (ErrorKind::Http)", |echo| ResponseTemplate::new(502).set_body_string(echo)),
        ("kie.ai's envelope (ErrorKind::Api)", |echo| envelope(400, json!({"code": 400, "msg": echo}))),
        ("an error code under 200 (ErrorKind::Api)", |echo| envelope(200, json!({"code": 500, "message": echo}))),
        ("not JSON (ErrorKind::Decode)", |echo| ResponseTemplate::new(200).set_body_string(echo)),
        ("data of the wrong shape (ErrorKind::Decode)", |echo| envelope(200, json!({"code": 200, "data": {"echo": echo}}))),
    ];
    for (what, shape) in shapes {
        let server = MockServer::start().await;
        Mock::given(wiremock::matchers::any())
            .respond_with(Echo { shape })
            .mount(&server)
            .await;
        let client = Client::builder()
            .api_key(CANARY_KEY)
            .base_url(server.uri())
            .upload_base_url(server.uri())
            .retry_policy(RetryPolicy::none())
            .redact("webhook-key-CANARY-9")
            .build()
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let image = dir.path().join("still.png");
        std::fs::write(&image, b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR").unwrap();
        let errors = [
            client
                .submit(&RawInput::new(
                    "m",
                    json!({"prompt": "webhook-key-CANARY-9"}),
                ))
                .callback_url(format!("https://me.example/cb?token={TOKEN}"))
                .await
                .unwrap_err(),
            client.record("t").await.unwrap_err(),
            client.credits().await.unwrap_err(),
            client.download_url("https://x/y.mp4").await.unwrap_err(),
            client.upload_file(&image).await.unwrap_err(),
            client
                .upload_bytes(b"\x89PNG\r\n\x1a\n".to_vec())
                .await
                .unwrap_err(),
            client.upload_url("https://x/y.png").await.unwrap_err(),
        ];
        for err in &errors {
            assert_error_clean(what, err);
            let text = format!("{err:?}");
            assert!(
                text.contains("[redacted]"),
                "{what}: the echo was kept: {text}"
            );
        }
    }

    // A key that straddles the point where a kept body is cut leaves no part behind.
    let server = MockServer::start().await;
    let body = format!("{}{CANARY_KEY}", "x".repeat(4090));
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(502).set_body_string(body))
        .mount(&server)
        .await;
    let (client, _) = client(&server.uri(), RetryPolicy::none());
    assert_error_clean("a cut body", &client.credits().await.unwrap_err());

    // A file host that echoes (it never gets the key; a token in its URL is the user's).
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(Echo {
            shape: |echo| {
                ResponseTemplate::new(403)
                    .set_body_string(format!("{echo} Authorization: Bearer {CANARY_KEY}"))
            },
        })
        .mount(&server)
        .await;
    let err = client
        .download(format!("{}/v.mp4", server.uri()))
        .to_writer(&mut Vec::new())
        .await
        .unwrap_err();
    assert_error_clean("a file host's page", &err);
}

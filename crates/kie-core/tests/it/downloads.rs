//! Downloads: complete, truncated, failed, cancelled and resumed, each leaving either the
//! whole file or nothing.

use std::collections::VecDeque;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use crate::common::{client, closed_port, envelope, raw_http_server};
use kie_core::time::VirtualTimer;
use kie_core::{Client, DownloadProgress, Error, ErrorKind, RetryPolicy, UnansweredCause};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn video_bytes(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

/// Another version of a file: different bytes at every offset of [`video_bytes`].
fn new_version(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8 ^ 0x5a).collect()
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

/// Compares bytes, naming the first difference rather than printing them all.
#[track_caller]
fn assert_same(got: &[u8], want: &[u8]) {
    let differs = got.iter().zip(want).position(|(a, b)| a != b);
    assert!(
        got.len() == want.len() && differs.is_none(),
        "got {} bytes, want {}; first difference at {differs:?}",
        got.len(),
        want.len()
    );
}

/// Collects progress reports.
fn progress_log() -> (
    Arc<Mutex<Vec<DownloadProgress>>>,
    impl FnMut(DownloadProgress) + Send + 'static,
) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    (seen, move |p| sink.lock().unwrap().push(p))
}

/// How the file host answers one request.
#[derive(Debug, Clone)]
enum Step {
    /// As a good host does.
    Serve,
    /// Sends the head and this many body bytes, then closes the connection.
    Cut(usize),
    /// Sends the head and this many body bytes, then nothing until the client gives up.
    Stall(usize),
    /// This status, with an empty body and `Retry-After` when given (seconds).
    Status(u16, Option<u64>),
    /// Replaces the file with a new version (new ETag and Last-Modified), then serves.
    Replace(Vec<u8>),
}

/// Which validators the host sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tag {
    Strong,
    Weak,
    Neither,
}

/// What the host saw of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Seen {
    range: Option<String>,
    if_range: Option<String>,
    authorization: bool,
}

impl Seen {
    fn plain() -> Self {
        Self {
            range: None,
            if_range: None,
            authorization: false,
        }
    }

    fn resumed(from: usize, if_range: Option<&str>) -> Self {
        Self {
            range: Some(format!("bytes={from}-")),
            if_range: if_range.map(str::to_owned),
            authorization: false,
        }
    }
}

struct HostState {
    file: Vec<u8>,
    version: usize,
    tag: Tag,
    /// Whether `Range` is honoured (else the whole file, 200).
    range: bool,
    /// Whether `If-Range` is honoured (else a range is served whatever the version).
    if_range: bool,
    script: VecDeque<Step>,
    seen: Vec<Seen>,
}

impl HostState {
    fn etag(&self) -> Option<String> {
        match self.tag {
            Tag::Strong => Some(format!("\"v{}\"", self.version)),
            Tag::Weak => Some(format!("W/\"v{}\"", self.version)),
            Tag::Neither => None,
        }
    }

    fn last_modified(&self) -> Option<String> {
        (self.tag != Tag::Neither)
            .then(|| format!("Sun, {:02} Nov 1994 08:49:37 GMT", self.version))
    }

    /// Status line, headers and body for a request, as RFC 9110 says (unless told to
    /// ignore `Range` or `If-Range`).
    fn answer(&self, range: Option<&str>, if_range: Option<&str>) -> (String, Vec<u8>) {
        let len = self.file.len();
        let current = [self.etag(), self.last_modified()];
        let version_matches =
            if_range.is_none_or(|v| !self.if_range || current.iter().flatten().any(|c| c == v));
        let start = range
            .filter(|_| self.range && version_matches)
            .and_then(|r| {
                r.strip_prefix("bytes=")?
                    .strip_suffix('-')?
                    .parse::<usize>()
                    .ok()
            });
        let mut head = match start {
            None => "HTTP/1.1 200 OK\r\n".to_owned(),
            Some(start) if start >= len => {
                format!("HTTP/1.1 416 Range Not Satisfiable\r\ncontent-range: bytes */{len}\r\n")
            }
            Some(start) => format!(
                "HTTP/1.1 206 Partial Content\r\ncontent-range: bytes {start}-{}/{len}\r\n",
                len - 1
            ),
        };
        let body = match start {
            None => self.file.clone(),
            Some(start) => self.file.get(start..).unwrap_or_default().to_vec(),
        };
        for (name, value) in [
            ("etag", self.etag()),
            ("last-modified", self.last_modified()),
        ] {
            if let Some(value) = value {
                head.push_str(&format!("{name}: {value}\r\n"));
            }
        }
        head.push_str(&format!(
            "accept-ranges: bytes\r\ncontent-type: video/mp4\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
            body.len()
        ));
        (head, body)
    }
}

/// A file host on 127.0.0.1 serving one file (`/video.mp4`) with `Range`, `If-Range`,
/// `ETag` and `Last-Modified`, one answer per connection. Each request takes the next
/// step of its script (then [`Step::Serve`]), and is logged.
struct FileHost {
    base: String,
    state: Arc<Mutex<HostState>>,
}

impl FileHost {
    fn start(file: Vec<u8>, tag: Tag, script: Vec<Step>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let base = format!("http://{}", listener.local_addr().expect("local addr"));
        let state = Arc::new(Mutex::new(HostState {
            file,
            version: 1,
            tag,
            range: true,
            if_range: true,
            script: script.into(),
            seen: Vec::new(),
        }));
        let shared = state.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                let state = shared.clone();
                std::thread::spawn(move || serve(stream, &state));
            }
        });
        Self { base, state }
    }

    fn url(&self) -> String {
        format!("{}/video.mp4", self.base)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HostState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn ignoring_range(self) -> Self {
        self.lock().range = false;
        self
    }

    fn ignoring_if_range(self) -> Self {
        self.lock().if_range = false;
        self
    }

    fn script(&self, steps: Vec<Step>) {
        self.lock().script = steps.into();
    }

    fn seen(&self) -> Vec<Seen> {
        self.lock().seen.clone()
    }
}

fn serve(mut stream: TcpStream, state: &Mutex<HostState>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut request = Vec::new();
    let mut buf = [0u8; 4096];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => request.extend_from_slice(&buf[..n]),
        }
    }
    let request = String::from_utf8_lossy(&request).into_owned();
    let header = |name: &str| {
        request.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.eq_ignore_ascii_case(name)
                .then(|| value.trim().to_owned())
        })
    };
    let seen = Seen {
        range: header("range"),
        if_range: header("if-range"),
        authorization: header("authorization").is_some(),
    };
    let (step, head, body) = {
        let mut state = state.lock().unwrap_or_else(PoisonError::into_inner);
        state.seen.push(seen.clone());
        let step = state.script.pop_front().unwrap_or(Step::Serve);
        if let Step::Replace(file) = &step {
            state.file = file.clone();
            state.version += 1;
        }
        let (head, body) = state.answer(seen.range.as_deref(), seen.if_range.as_deref());
        (step, head, body)
    };
    match step {
        Step::Serve | Step::Replace(_) => {
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&body);
        }
        Step::Cut(n) => {
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&body[..n.min(body.len())]);
        }
        Step::Stall(n) => {
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&body[..n.min(body.len())]);
            let _ = stream.flush();
            // Holds the connection until the client, timed out, closes it.
            let _ = stream.read(&mut buf);
        }
        Step::Status(status, retry_after) => {
            let retry_after = retry_after
                .map(|s| format!("retry-after: {s}\r\n"))
                .unwrap_or_default();
            let _ = stream.write_all(
                format!("HTTP/1.1 {status} Error\r\n{retry_after}content-length: 0\r\nconnection: close\r\n\r\n")
                    .as_bytes(),
            );
        }
    }
    let _ = stream.flush();
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
        .unwrap()
        .bytes;
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
            err.kind(),
            ErrorKind::Truncated {
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
async fn a_lasting_error_status_is_an_http_error_and_nothing_is_kept() {
    let server = MockServer::start().await;
    // Not transient: tried once, whatever the policy allows.
    Mock::given(path("/expired.mp4"))
        .respond_with(ResponseTemplate::new(403).set_body_string("link expired"))
        .expect(1)
        .mount(&server)
        .await;
    let (client, _) = client(&server.uri(), RetryPolicy::default());
    let dir = tempfile::tempdir().unwrap();
    let err = client
        .download(format!("{}/expired.mp4", server.uri()))
        .to_path(dir.path().join("x.mp4"))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err.kind(),
            ErrorKind::Http {
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
            err.kind(),
            ErrorKind::Unanswered {
                cause: UnansweredCause::Timeout,
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
        .unwrap()
        .bytes;
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
    assert_eq!(bytes.bytes, 2048);
    assert_eq!(std::fs::read(&target).unwrap(), body);

    // A failed download after the wait carries the task id.
    let err = client
        .task("t1")
        .wait()
        .download_to(dir.path().join("no-such-dir").join("x.mp4"))
        .await
        .unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Io { .. }), "{err}");
    assert_eq!(err.task_id(), Some("t1"));
}

const LEN: usize = 300_000;

/// A client allowing `attempts` attempts per download.
fn resuming_client(host: &FileHost, attempts: u32) -> (Client, Arc<VirtualTimer>) {
    client(&host.base, RetryPolicy::default().max_attempts(attempts))
}

/// What a download to `video.mp4` in a new directory came to.
struct Saved {
    dir: tempfile::TempDir,
    result: Result<u64, Error>,
    progress: Vec<DownloadProgress>,
}

impl Saved {
    /// The downloaded file.
    fn bytes(&self) -> Vec<u8> {
        std::fs::read(self.dir.path().join("video.mp4")).unwrap()
    }

    fn entries(&self) -> Vec<String> {
        entries(self.dir.path())
    }
}

/// Downloads `url` with `to_path`, logging progress.
async fn save(client: &Client, url: &str) -> Saved {
    let dir = tempfile::tempdir().unwrap();
    let (seen, log) = progress_log();
    let result = client
        .download(url)
        .on_progress(log)
        .to_path(dir.path().join("video.mp4"))
        .await
        .map(|done| {
            assert!(done.verified, "the host sends Content-Length");
            done.bytes
        });
    let progress = seen.lock().unwrap().clone();
    Saved {
        dir,
        result,
        progress,
    }
}

/// Downloads `url` with `to_writer` into a `Vec`: what it holds, and the outcome.
async fn stream(client: &Client, url: &str) -> (Vec<u8>, Result<u64, Error>) {
    let mut sink = Vec::new();
    let result = client.download(url).to_writer(&mut sink).await;
    (sink, result.map(|done| done.bytes))
}

#[tokio::test]
async fn a_download_cut_mid_body_resumes_from_where_it_broke_off() {
    let file = video_bytes(LEN);
    let host = FileHost::start(file.clone(), Tag::Strong, vec![Step::Cut(100_000)]);
    let (client, timer) = resuming_client(&host, 4);
    let saved = save(&client, &host.url()).await;
    assert_eq!(saved.result.as_ref().unwrap(), &(LEN as u64));
    assert_same(&saved.bytes(), &file);
    assert_eq!(saved.entries(), ["video.mp4"]);
    // One plain request, then exactly one for the rest of the same version; no key.
    assert_eq!(
        host.seen(),
        [Seen::plain(), Seen::resumed(100_000, Some("\"v1\""))]
    );
    assert_eq!(
        timer.sleeps().len(),
        1,
        "the wait went through the client's timer"
    );
    // Progress counts on from the bytes received: up only, through the break.
    let seen = &saved.progress;
    assert!(seen.windows(2).all(|w| w[0].bytes < w[1].bytes), "{seen:?}");
    assert!(seen.iter().any(|p| p.bytes == 100_000));
    assert!(seen.iter().all(|p| p.total == Some(LEN as u64)));
    assert_eq!(seen.last().unwrap().bytes, LEN as u64);
}

#[tokio::test]
async fn a_download_cut_several_times_resumes_each_time() {
    let file = video_bytes(LEN);
    let cuts = vec![Step::Cut(50_000), Step::Cut(60_000), Step::Cut(70_000)];
    let host = FileHost::start(file.clone(), Tag::Strong, cuts);
    let (client, timer) = resuming_client(&host, 4);
    let (seen, log) = progress_log();
    let mut sink = Vec::new();
    let written = client
        .download(host.url())
        .on_progress(log)
        .to_writer(&mut sink)
        .await
        .unwrap()
        .bytes;
    assert_eq!(written, LEN as u64);
    assert_same(&sink, &file);
    let tag = Some("\"v1\"");
    assert_eq!(
        host.seen(),
        [
            Seen::plain(),
            Seen::resumed(50_000, tag),
            Seen::resumed(110_000, tag),
            Seen::resumed(180_000, tag),
        ]
    );
    assert_eq!(timer.sleeps().len(), 3);
    let seen = seen.lock().unwrap().clone();
    assert!(seen.windows(2).all(|w| w[0].bytes < w[1].bytes), "{seen:?}");
}

#[tokio::test]
async fn a_download_cut_more_often_than_the_policy_allows_fails_and_leaves_nothing() {
    let cuts = vec![Step::Cut(10_000), Step::Cut(10_000), Step::Cut(10_000)];
    let host = FileHost::start(video_bytes(LEN), Tag::Strong, cuts);
    let (client, _) = resuming_client(&host, 3);
    let saved = save(&client, &host.url()).await;
    let err = saved.result.as_ref().unwrap_err();
    assert!(
        matches!(
            err.kind(),
            ErrorKind::Truncated {
                expected: 300_000,
                received: 30_000,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.is_transient());
    assert_eq!(host.seen().len(), 3);
    assert!(saved.entries().is_empty(), "{:?}", saved.entries());
}

#[tokio::test]
async fn a_file_host_that_falls_silent_mid_body_is_resumed() {
    let file = video_bytes(LEN);
    let host = FileHost::start(file.clone(), Tag::Strong, vec![Step::Stall(100_000)]);
    let (client, _) = resuming_client(&host, 2); // read timeout 500 ms
    let (sink, result) = stream(&client, &host.url()).await;
    result.unwrap();
    assert_same(&sink, &file);
    assert_eq!(
        host.seen(),
        [Seen::plain(), Seen::resumed(100_000, Some("\"v1\""))]
    );
}

#[tokio::test]
async fn transient_statuses_before_the_body_are_retried_after_the_hosts_delay() {
    let file = video_bytes(LEN);
    let script = vec![Step::Status(503, Some(3)), Step::Status(502, None)];
    let host = FileHost::start(file.clone(), Tag::Strong, script);
    let (client, timer) = resuming_client(&host, 3);
    let (sink, result) = stream(&client, &host.url()).await;
    result.unwrap();
    assert_same(&sink, &file);
    // Nothing had arrived: each attempt asks for the whole file.
    assert_eq!(host.seen(), [Seen::plain(), Seen::plain(), Seen::plain()]);
    // Retry-After, plus at most the first backoff step of jitter.
    let first = timer.sleeps()[0];
    assert!(
        first >= Duration::from_secs(3) && first < Duration::from_millis(3_500),
        "Retry-After: {first:?}"
    );

    host.script(vec![Step::Status(503, None); 3]);
    let (_, result) = stream(&client, &host.url()).await;
    let err = result.unwrap_err();
    assert!(
        matches!(
            err.kind(),
            ErrorKind::Http {
                http_status: 503,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(host.seen().len(), 6);
}

#[tokio::test]
async fn a_file_host_that_cannot_be_reached_is_retried_then_reported() {
    let base = closed_port();
    let (client, timer) = client(&base, RetryPolicy::default().max_attempts(3));
    let saved = save(&client, &format!("{base}/video.mp4")).await;
    let err = saved.result.as_ref().unwrap_err();
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
    assert_eq!(timer.sleeps().len(), 2, "three attempts");
    assert!(saved.entries().is_empty());
}

#[tokio::test]
async fn a_host_that_ignores_range_restarts_a_path_and_fails_a_writer() {
    let file = video_bytes(LEN);
    let host =
        FileHost::start(file.clone(), Tag::Strong, vec![Step::Cut(100_000)]).ignoring_range();
    let (client, _) = resuming_client(&host, 4);
    let saved = save(&client, &host.url()).await;
    assert_eq!(saved.result.as_ref().unwrap(), &(LEN as u64));
    assert_same(&saved.bytes(), &file); // started over, not appended
    assert_eq!(
        host.seen(),
        [Seen::plain(), Seen::resumed(100_000, Some("\"v1\""))]
    );
    // Progress went back once, to the new answer's first bytes.
    let seen = &saved.progress;
    let falls = seen.windows(2).filter(|w| w[1].bytes < w[0].bytes).count();
    assert_eq!(falls, 1, "{seen:?}");
    assert_eq!(seen.last().unwrap().bytes, LEN as u64);

    // A writer cannot take back the bytes it holds: a typed error says so.
    host.script(vec![Step::Cut(100_000)]);
    let (sink, result) = stream(&client, &host.url()).await;
    let err = result.unwrap_err();
    assert!(
        matches!(
            err.kind(),
            ErrorKind::NotResumed {
                http_status: 200,
                received: 100_000,
                in_writer: true,
                ..
            }
        ),
        "{err}"
    );
    let message = err.to_string();
    assert!(message.contains("whole file again"), "{message}");
    assert!(
        message.contains("partial body of 100000 bytes"),
        "{message}"
    );
    assert_same(&sink, &file[..100_000]); // what came before the break
    assert_eq!(host.seen().len(), 4, "not retried");
}

#[tokio::test]
async fn a_file_that_changed_between_attempts_is_never_spliced() {
    let old = video_bytes(LEN);
    let new = new_version(LEN);
    let script = vec![Step::Cut(100_000), Step::Replace(new.clone())];

    // A host that honours If-Range sends the new version whole: the path starts over.
    let host = FileHost::start(old.clone(), Tag::Strong, script.clone());
    let (client, _) = resuming_client(&host, 4);
    let saved = save(&client, &host.url()).await;
    saved.result.as_ref().unwrap();
    assert_same(&saved.bytes(), &new);
    assert_eq!(
        host.seen(),
        [Seen::plain(), Seen::resumed(100_000, Some("\"v1\""))]
    );

    // A host that ignores If-Range sends the rest of the new version: refused, since
    // its ETag is not the one the download began with.
    let host = FileHost::start(old, Tag::Strong, script).ignoring_if_range();
    let (client, _) = resuming_client(&host, 4);
    let saved = save(&client, &host.url()).await;
    let err = saved.result.as_ref().unwrap_err();
    assert!(
        matches!(
            err.kind(),
            ErrorKind::NotResumed {
                http_status: 206,
                received: 100_000,
                in_writer: false,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("nothing was kept"), "{err}");
    assert!(saved.entries().is_empty(), "{:?}", saved.entries());
    assert_eq!(host.seen().len(), 2, "not retried");
}

#[tokio::test]
async fn a_weak_etag_resumes_on_last_modified_and_no_validator_on_length_alone() {
    let file = video_bytes(LEN);
    let host = FileHost::start(file.clone(), Tag::Weak, vec![Step::Cut(100_000)]);
    let (client, _) = resuming_client(&host, 4);
    let (sink, result) = stream(&client, &host.url()).await;
    result.unwrap();
    assert_same(&sink, &file);
    let last_modified = "Sun, 01 Nov 1994 08:49:37 GMT";
    assert_eq!(
        host.seen(),
        [Seen::plain(), Seen::resumed(100_000, Some(last_modified))]
    );

    // No validator: Range alone, checked against the length the download began with.
    let host = FileHost::start(file.clone(), Tag::Neither, vec![Step::Cut(100_000)]);
    let (client, _) = resuming_client(&host, 4);
    let (sink, result) = stream(&client, &host.url()).await;
    result.unwrap();
    assert_same(&sink, &file);
    assert_eq!(host.seen(), [Seen::plain(), Seen::resumed(100_000, None)]);

    // ... which a file that grew in between fails.
    let script = vec![Step::Cut(100_000), Step::Replace(new_version(LEN + 1))];
    let host = FileHost::start(file, Tag::Neither, script);
    let (client, _) = resuming_client(&host, 4);
    let (_, result) = stream(&client, &host.url()).await;
    let err = result.unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::NotResumed { http_status: 206, content_range: Some(range), .. }
                if range == "bytes 100000-300000/300001"
        ),
        "{err}"
    );
}

#[tokio::test]
async fn a_416_to_a_resumed_request_is_a_clear_error_and_nothing_is_kept() {
    // No validator, and the file shrank below the bytes received.
    let script = vec![Step::Cut(100_000), Step::Replace(new_version(50_000))];
    let host = FileHost::start(video_bytes(LEN), Tag::Neither, script);
    let (client, _) = resuming_client(&host, 4);
    let saved = save(&client, &host.url()).await;
    let err = saved.result.as_ref().unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::NotResumed { http_status: 416, received: 100_000, content_range: Some(range), .. }
                if range == "bytes */50000"
        ),
        "{err}"
    );
    assert!(err.to_string().contains("past the file's end"), "{err}");
    assert!(saved.entries().is_empty(), "{:?}", saved.entries());
    assert_eq!(host.seen(), [Seen::plain(), Seen::resumed(100_000, None)]);
}

//! Helpers shared by the integration tests: clients pointed at local servers only.
#![allow(dead_code)] // each test file uses a different subset

use std::io::Read;
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use kie_core::time::VirtualTimer;
use kie_core::{Client, RetryPolicy};
use wiremock::{Request, Respond, ResponseTemplate};

/// A key that must never show up in any output.
pub const CANARY_KEY: &str = "sk-CANARY-7f3a9c1e-do-not-print";

/// A client for `base`, on virtual time, with the given retry policy.
pub fn client(base: &str, retry: RetryPolicy) -> (Client, Arc<VirtualTimer>) {
    let timer = Arc::new(VirtualTimer::new());
    let client = Client::builder()
        .api_key(CANARY_KEY)
        .base_url(base)
        .upload_base_url(base)
        .retry_policy(retry)
        .request_timeout(Duration::from_millis(500))
        .timer(timer.clone())
        .build()
        .expect("a valid test configuration");
    (client, timer)
}

/// A kie.ai envelope answer.
pub fn envelope(http: u16, body: serde_json::Value) -> ResponseTemplate {
    ResponseTemplate::new(http).set_body_json(body)
}

/// Answers with each template in turn, then repeats the last one.
pub struct Script {
    steps: Vec<ResponseTemplate>,
    next: AtomicUsize,
}

impl Script {
    pub fn new(steps: Vec<ResponseTemplate>) -> Self {
        assert!(!steps.is_empty());
        Self {
            steps,
            next: AtomicUsize::new(0),
        }
    }
}

impl Respond for Script {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let i = self.next.fetch_add(1, Ordering::SeqCst);
        self.steps[i.min(self.steps.len() - 1)].clone()
    }
}

/// A server on 127.0.0.1 that reads each request and closes the connection without an
/// answer. Returns its base URL and the count of connections it took.
pub fn hang_up_server() -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let base = format!("http://{}", listener.local_addr().expect("local addr"));
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            seen.fetch_add(1, Ordering::SeqCst);
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            drop(stream);
        }
    });
    (base, count)
}

/// A loopback address where nothing listens.
pub fn closed_port() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let addr = listener.local_addr().expect("local addr");
    drop(listener);
    format!("http://{addr}")
}

/// A server on 127.0.0.1 that answers every connection with `head` then `body` as
/// raw bytes, and then either closes or (with `stall`) keeps the connection open
/// without sending more. For answers no well-behaved server gives: a body shorter
/// than its Content-Length, or one that never ends.
pub fn raw_http_server(head: String, body: Vec<u8>, stall: bool) -> String {
    use std::io::Write;
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let base = format!("http://{}", listener.local_addr().expect("local addr"));
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&body);
            let _ = stream.flush();
            if stall {
                std::thread::sleep(Duration::from_secs(5));
            }
        }
    });
    base
}

/// A request as a raw test server read it.
#[derive(Debug, Clone)]
pub struct RawRequest {
    /// `GET`, `POST`, `HEAD`...
    pub method: String,
    /// The path and query.
    pub target: String,
    /// Header lines, names lowercased.
    pub headers: Vec<(String, String)>,
    /// The body (read by `Content-Length`).
    pub body: Vec<u8>,
}

impl RawRequest {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A server on 127.0.0.1 that hands each request, read, to `answer` with its
/// connection, to write whatever it likes (one request per connection). Returns its
/// base URL and every request it read.
pub fn scripted_server(
    answer: impl Fn(&RawRequest, &mut std::net::TcpStream) + Send + Sync + 'static,
) -> (String, Arc<std::sync::Mutex<Vec<RawRequest>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let base = format!("http://{}", listener.local_addr().expect("local addr"));
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    let answer = Arc::new(answer);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let (answer, log) = (answer.clone(), log.clone());
            std::thread::spawn(move || {
                let Some(request) = read_request(&mut stream) else {
                    return;
                };
                log.lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .push(request.clone());
                answer(&request, &mut stream);
            });
        }
    });
    (base, seen)
}

fn read_request(stream: &mut std::net::TcpStream) -> Option<RawRequest> {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut data = Vec::new();
    let mut buf = [0u8; 8192];
    let head_end = loop {
        if let Some(at) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break at;
        }
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return None,
            Ok(n) => data.extend_from_slice(&buf[..n]),
        }
    };
    let head = String::from_utf8_lossy(&data[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let (method, target) = (first.next()?.to_owned(), first.next()?.to_owned());
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| {
            let (name, value) = line.split_once(':')?;
            Some((name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        })
        .collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = data[head_end + 4..].to_vec();
    while body.len() < length {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => body.extend_from_slice(&buf[..n]),
        }
    }
    Some(RawRequest {
        method,
        target,
        headers,
        body,
    })
}

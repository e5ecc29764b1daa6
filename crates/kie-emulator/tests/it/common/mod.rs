//! Helpers shared by the integration tests: an HTTP client, request shortcuts, and a
//! callback receiver that answers with scripted statuses.

#![allow(dead_code)]

pub mod seeds;

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
};

use axum::{Router, extract::State, http::HeaderMap, routing::post};
use bytes::Bytes;
use serde_json::{Value, json};
use tokio::sync::watch;

/// The Bearer key the tests send.
pub const KEY: &str = "test-key";

thread_local! {
    // One client per test thread (each test has its own runtime and thread): building a
    // client sets up TLS, which is slow in debug builds.
    static CLIENT: reqwest::Client = reqwest::Client::builder().no_proxy().build().expect("reqwest client builds");
}

/// A client that never uses a proxy.
pub fn client() -> reqwest::Client {
    CLIENT.with(Clone::clone)
}

/// A status, headers and parsed JSON body.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub text: String,
}

pub async fn answer(response: reqwest::Response) -> Answer {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.expect("body readable");
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Answer {
        status,
        headers,
        body,
        text,
    }
}

/// POSTs a raw createTask body.
pub async fn create_raw(base: &str, body: &str) -> Answer {
    let response = client()
        .post(format!("{base}/api/v1/jobs/createTask"))
        .bearer_auth(KEY)
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .expect("createTask sent");
    answer(response).await
}

/// POSTs a createTask body and returns the task id (panics unless it succeeded).
pub async fn create(base: &str, body: &Value) -> String {
    let answer = create_raw(base, &body.to_string()).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    answer.body["data"]["taskId"]
        .as_str()
        .expect("taskId")
        .to_owned()
}

/// A valid Kling request with the given prompt.
pub fn kling(prompt: &str) -> Value {
    json!({"model": "kling/v2-1-master-text-to-video", "input": {"prompt": prompt, "duration": "5"}})
}

/// GETs recordInfo.
pub async fn record(base: &str, task_id: &str) -> Answer {
    let response = client()
        .get(format!("{base}/api/v1/jobs/recordInfo"))
        .query(&[("taskId", task_id)])
        .bearer_auth(KEY)
        .send()
        .await
        .expect("recordInfo sent");
    answer(response).await
}

/// Polls recordInfo until a terminal state; at most `max` polls.
pub async fn poll_until_done(base: &str, task_id: &str, max: usize) -> Value {
    for _ in 0..max {
        let answer = record(base, task_id).await;
        assert_eq!(answer.status, 200, "{}", answer.text);
        let state = answer.body["data"]["state"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        if state == "success" || state == "fail" {
            return answer.body["data"].clone();
        }
    }
    panic!("task {task_id} did not finish within {max} polls");
}

/// The first result URL of a finished record.
pub fn result_url(data: &Value) -> String {
    let result: Value =
        serde_json::from_str(data["resultJson"].as_str().expect("resultJson is a string"))
            .expect("resultJson parses");
    result["resultUrls"][0]
        .as_str()
        .expect("one result URL")
        .to_owned()
}

/// One request a [`Receiver`] got.
#[derive(Debug, Clone)]
pub struct Received {
    pub headers: HeaderMap,
    pub body: Bytes,
}

#[derive(Clone)]
struct ReceiverState {
    statuses: Arc<Mutex<Vec<u16>>>,
    received: Arc<Mutex<Vec<Received>>>,
    changed: watch::Sender<usize>,
}

/// A loopback callback receiver answering with scripted statuses (then 200).
pub struct Receiver {
    pub addr: SocketAddr,
    state: ReceiverState,
    task: tokio::task::JoinHandle<()>,
}

impl Receiver {
    pub async fn start(statuses: Vec<u16>) -> Receiver {
        let (changed, _) = watch::channel(0);
        let state = ReceiverState {
            statuses: Arc::new(Mutex::new(statuses)),
            received: Arc::new(Mutex::new(Vec::new())),
            changed,
        };
        let app = Router::new()
            .route(
                "/{*path}",
                post(|State(state): State<ReceiverState>, headers: HeaderMap, body: Bytes| async move {
                    state.received.lock().expect("lock").push(Received { headers, body });
                    let status = {
                        let mut statuses = state.statuses.lock().expect("lock");
                        if statuses.is_empty() { 200 } else { statuses.remove(0) }
                    };
                    state.changed.send_modify(|n| *n += 1);
                    axum::http::StatusCode::from_u16(status).expect("valid status")
                }),
            )
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind receiver");
        let addr = listener.local_addr().expect("addr");
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Receiver { addr, state, task }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}/{path}", self.addr)
    }

    pub fn received(&self) -> Vec<Received> {
        self.state.received.lock().expect("lock").clone()
    }

    /// Waits (bounded) until `count` requests arrived.
    pub async fn wait_for(&self, count: usize) -> Vec<Received> {
        let mut changes = self.state.changed.subscribe();
        let wait = async {
            loop {
                if self.received().len() >= count {
                    return;
                }
                if changes.changed().await.is_err() {
                    return;
                }
            }
        };
        let _ = tokio::time::timeout(std::time::Duration::from_secs(20), wait).await;
        self.received()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

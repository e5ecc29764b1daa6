//! A client sends at most `max_concurrent_requests` API calls at once; the rest wait
//! their turn and then go out, so thousands of concurrent tasks cost a bounded number of
//! connections.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::routing::get;
use kie_core::{Client, TaskState};
use tokio::sync::Semaphore;

/// A recordInfo endpoint that holds every request until the test lets it go, and
/// remembers how many it held at once.
struct Gate {
    in_flight: AtomicUsize,
    most: AtomicUsize,
    open: Semaphore,
}

async fn record_info(gate: Arc<Gate>) -> &'static str {
    let now = gate.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    gate.most.fetch_max(now, Ordering::SeqCst);
    gate.open.acquire().await.expect("never closed").forget();
    gate.in_flight.fetch_sub(1, Ordering::SeqCst);
    r#"{"code":200,"msg":"success","data":{"taskId":"t","state":"generating"}}"#
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_beyond_the_bound_wait_for_a_free_slot() {
    let gate = Arc::new(Gate {
        in_flight: AtomicUsize::new(0),
        most: AtomicUsize::new(0),
        open: Semaphore::new(0),
    });
    let router = axum::Router::new().route(
        "/api/v1/jobs/recordInfo",
        get({
            let gate = Arc::clone(&gate);
            move || record_info(Arc::clone(&gate))
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    let client = Client::builder()
        .api_key("test-key")
        .base_url(&base)
        .max_concurrent_requests(3)
        .build()
        .unwrap();

    let calls: Vec<_> = (0..20)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.record("t").await })
        })
        .collect();
    // Three calls reach the server and are held there; no fourth is sent meanwhile.
    tokio::time::timeout(Duration::from_secs(10), async {
        while gate.in_flight.load(Ordering::SeqCst) < 3 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("three calls in flight");
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(gate.in_flight.load(Ordering::SeqCst), 3);

    gate.open.add_permits(20);
    for call in calls {
        let record = call.await.unwrap().unwrap();
        assert_eq!(record.state, TaskState::Generating);
    }
    assert_eq!(gate.most.load(Ordering::SeqCst), 3);
}

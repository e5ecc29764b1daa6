//! The busiest createTask and recordInfo windows, measured on the virtual clock whether
//! or not the rate limits are enforced.

use std::time::Duration;

use crate::common::{client, create, create_raw, kling, record};
use kie_emulator::{Emulator, Endpoint, FaultEffect, FaultRule, Stats, Timeline};
use serde_json::Value;

async fn frozen(rate_limits: bool) -> Emulator {
    Emulator::builder()
        .frozen(true)
        .rate_limits(rate_limits)
        .timeline(Timeline::AfterPolls { polls: 1_000 })
        .start()
        .await
        .expect("starts")
}

/// recordInfo for `task_id` with another key.
async fn record_as(base: &str, key: &str, task_id: &str) -> u16 {
    client()
        .get(format!("{base}/api/v1/jobs/recordInfo?taskId={task_id}"))
        .bearer_auth(key)
        .send()
        .await
        .expect("sent")
        .status()
        .as_u16()
}

#[tokio::test]
async fn peaks_count_the_fullest_window_without_limits() {
    let emulator = frozen(false).await;
    let base = emulator.base_url();
    // 25 creates in one instant, then 5 more 9.999 s later: 30 within one 10 s window.
    for i in 0..25 {
        create(base, &kling(&format!("a {i}"))).await;
    }
    emulator.advance(Duration::from_millis(9_999));
    let mut id = String::new();
    for i in 0..4 {
        id = create(base, &kling(&format!("b {i}"))).await;
    }
    // A create the service refuses counts (it reached the service); an unauthorized one
    // does not.
    assert_eq!(create_raw(base, "{}").await.body["code"], 422);
    let unauthorized: Value = client()
        .post(format!("{base}/api/v1/jobs/createTask"))
        .json(&kling("d"))
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    assert_eq!(unauthorized["code"], 401);
    // 10 more at 10 s: the first 25 have left the window, 15 are in it.
    emulator.advance(Duration::from_millis(1));
    for i in 0..10 {
        create(base, &kling(&format!("c {i}"))).await;
    }

    for _ in 0..12 {
        record(base, &id).await;
    }
    emulator.advance(Duration::from_millis(999));
    for _ in 0..3 {
        record(base, &id).await;
    }
    // Another key's polls are its own window.
    for _ in 0..14 {
        assert_eq!(record_as(base, "other-key", &id).await, 200);
    }
    // A poll a fault answers before the service sees it is not counted.
    emulator.add_fault(
        FaultRule::new(FaultEffect::Status {
            status: 503,
            retry_after_s: None,
        })
        .on(Endpoint::RecordInfo)
        .next(5),
    );
    for _ in 0..5 {
        assert_eq!(record(base, &id).await.status, 503);
    }

    let stats = emulator.stats();
    assert_eq!(stats.peak_create_task_per_10s, 30);
    assert_eq!(stats.peak_record_info_per_second, 15);
    assert_eq!(stats.rate_limited, 0);
}

#[tokio::test]
async fn with_limits_on_peaks_count_what_was_admitted() {
    let emulator = frozen(true).await;
    let base = emulator.base_url();
    let mut id = String::new();
    for i in 0..25 {
        let answer = create_raw(base, &kling(&format!("a {i}")).to_string()).await;
        if let Some(task_id) = answer.body["data"]["taskId"].as_str() {
            id = task_id.to_owned();
        }
    }
    for _ in 0..15 {
        record(base, &id).await;
    }
    let response = client()
        .get(format!("{base}/_emulator/stats"))
        .send()
        .await
        .expect("sent");
    let json: Value = response.json().await.expect("json");
    assert_eq!(json["peak_create_task_per_10s"], 20);
    assert_eq!(json["peak_record_info_per_second"], 10);
    let stats: Stats = serde_json::from_value(json).expect("stats");
    assert_eq!(stats.rate_limited, 5 + 5);

    emulator.reset();
    let stats = emulator.stats();
    assert_eq!(
        (
            stats.peak_create_task_per_10s,
            stats.peak_record_info_per_second
        ),
        (0, 0),
        "a reset starts the counts over"
    );
}

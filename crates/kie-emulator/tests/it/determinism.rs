//! The same seed and the same requests give the same trace: ids, states, fault draws.

use std::time::Duration;

use crate::common::{KEY, client, create_raw, kling, record};
use kie_emulator::{Emulator, Endpoint, FaultEffect, FaultRule, Timeline};

async fn trace(seed: u64) -> Vec<String> {
    let emulator = Emulator::builder()
        .seed(seed)
        .frozen(true)
        .start_time_ms(1_765_186_736_545)
        .timeline(Timeline::AfterPolls { polls: 3 })
        .start()
        .await
        .expect("starts");
    emulator.add_fault(
        FaultRule::new(FaultEffect::Status {
            status: 503,
            retry_after_s: None,
        })
        .on(Endpoint::RecordInfo)
        .probability(0.3),
    );
    emulator.add_fault(
        FaultRule::new(FaultEffect::Status {
            status: 429,
            retry_after_s: None,
        })
        .on(Endpoint::CreateTask)
        .probability(0.2),
    );
    let base = emulator.base_url();
    let mut lines = Vec::new();
    let mut ids = Vec::new();
    for i in 0..8 {
        let answer = create_raw(base, &kling(&format!("cat {i}")).to_string()).await;
        lines.push(format!("create {} {}", answer.status, answer.text));
        if let Some(id) = answer.body["data"]["taskId"].as_str() {
            ids.push(id.to_owned());
        }
    }
    for _ in 0..4 {
        for id in &ids {
            let answer = record(base, id).await;
            lines.push(format!("record {} {}", answer.status, answer.text));
        }
    }
    emulator.advance(Duration::from_secs(5));
    let credit = client()
        .get(format!("{base}/api/v1/chat/credit"))
        .bearer_auth(KEY)
        .send()
        .await
        .expect("sent");
    lines.push(format!(
        "credit {}",
        credit.text().await.unwrap_or_default()
    ));
    // The port differs between runs; everything else must not.
    lines
        .into_iter()
        .map(|line| line.replace(base, "BASE"))
        .collect()
}

#[tokio::test]
async fn same_seed_same_trace() {
    let first = trace(42).await;
    let second = trace(42).await;
    assert_eq!(first, second);
    assert!(
        first.iter().any(|l| l.starts_with("record 503")),
        "the trace includes fault draws"
    );
    assert!(
        first.iter().any(|l| l.starts_with("create 429")),
        "the trace includes fault draws"
    );
    assert!(first.iter().any(|l| l.contains("\"state\":\"success\"")));
    let other = trace(43).await;
    assert_ne!(first, other, "another seed gives other ids");
}

#[tokio::test]
async fn reset_replays_the_same_ids() {
    let emulator = Emulator::builder().seed(9).start().await.expect("starts");
    let first = create_raw(emulator.base_url(), &kling("a").to_string())
        .await
        .body["data"]["taskId"]
        .clone();
    emulator.reset();
    assert!(emulator.tasks().is_empty());
    let again = create_raw(emulator.base_url(), &kling("a").to_string())
        .await
        .body["data"]["taskId"]
        .clone();
    assert_eq!(first, again);
}

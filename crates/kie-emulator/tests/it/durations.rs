//! Task lengths drawn per task from a seeded distribution: stored at creation, followed
//! on the virtual clock, reproducible by seed, settable from the handle and over HTTP.

use std::time::Duration;

use crate::common::{client, create, kling, record};
use kie_emulator::{Durations, Emulator, Phases, TaskSnapshot};
use serde_json::{Value, json};

const START_MS: i64 = 1_765_186_736_545;

fn uniform(min_s: u64, max_s: u64) -> Durations {
    Durations::uniform(Duration::from_secs(min_s), Duration::from_secs(max_s))
        .expect("valid bounds")
}

/// A frozen emulator at [`START_MS`] drawing every task's time from `durations`.
async fn frozen(seed: u64, durations: Option<Durations>) -> Emulator {
    let mut builder = Emulator::builder()
        .seed(seed)
        .frozen(true)
        .start_time_ms(START_MS);
    if let Some(durations) = durations {
        builder = builder.durations(durations);
    }
    builder.start().await.expect("starts")
}

/// Creates `n` Kling tasks and returns their snapshots, oldest first.
async fn create_tasks(emulator: &Emulator, n: usize) -> Vec<TaskSnapshot> {
    for i in 0..n {
        create(emulator.base_url(), &kling(&format!("cat {i}"))).await;
    }
    emulator.tasks()
}

#[tokio::test]
async fn states_follow_each_drawn_time_on_a_frozen_clock() {
    let emulator = frozen(5, Some(uniform(60, 300))).await;
    let base = emulator.base_url();
    let mut tasks = create_tasks(&emulator, 6).await;
    for task in &tasks {
        assert_eq!(task.created_ms, START_MS);
        let total = task.phases.total_ms();
        assert!((60_000..=300_000).contains(&total), "{total} ms");
        // Kling's phases (4 s, 15 s, 180 s) keep their proportions.
        let waiting_share = task.phases.waiting_ms as f64 / total as f64;
        assert!(
            (waiting_share - 4.0 / 199.0).abs() < 1e-3,
            "{:?}",
            task.phases
        );
    }
    tasks.sort_by_key(|t| t.phases.total_ms());
    tasks.dedup_by_key(|t| t.phases.total_ms());
    assert_eq!(tasks.len(), 6, "six draws, six different times");

    let mut now = START_MS;
    for (i, task) in tasks.iter().enumerate() {
        let due = task.created_ms + i64::try_from(task.phases.total_ms()).expect("fits");
        emulator.advance(Duration::from_millis(
            u64::try_from(due - 1 - now).expect("later"),
        ));
        let before = record(base, &task.task_id).await;
        assert_eq!(before.body["data"]["state"], "generating", "1 ms before");
        emulator.advance(Duration::from_millis(1));
        now = due;
        let done = record(base, &task.task_id).await;
        assert_eq!(done.body["data"]["state"], "success");
        assert_eq!(done.body["data"]["completeTime"], due);
        let snapshot = emulator.task(&task.task_id).expect("known");
        assert_eq!(snapshot.complete_ms, Some(due));
        for later in &tasks[i + 1..] {
            let state = emulator.task(&later.task_id).expect("known").state;
            assert!(!state.is_terminal(), "a longer task finished at {due}");
        }
    }
}

#[tokio::test]
async fn the_same_seed_draws_the_same_times_and_leaves_the_ids_alone() {
    let totals = |tasks: &[TaskSnapshot]| -> Vec<u64> {
        tasks.iter().map(|t| t.phases.total_ms()).collect()
    };
    let ids = |tasks: &[TaskSnapshot]| -> Vec<String> {
        tasks.iter().map(|t| t.task_id.clone()).collect()
    };
    let first = create_tasks(&frozen(42, Some(uniform(60, 300))).await, 8).await;
    let again = create_tasks(&frozen(42, Some(uniform(60, 300))).await, 8).await;
    let fixed = create_tasks(&frozen(42, None).await, 8).await;
    let other = create_tasks(&frozen(43, Some(uniform(60, 300))).await, 8).await;
    assert_eq!(totals(&first), totals(&again));
    assert_ne!(totals(&first), totals(&other));
    assert_eq!(ids(&first), ids(&fixed), "drawing times shifts no task id");
    assert!(
        totals(&fixed).iter().all(|total| *total == 199_000),
        "without durations, Kling's fixed total"
    );
}

#[tokio::test]
async fn a_model_of_its_own_overrides_the_default_and_phases_give_the_split() {
    let emulator = frozen(1, None).await;
    let base = emulator.base_url();
    let hailuo = json!({"model": "hailuo/02-text-to-video-pro", "input": {"prompt": "p"}});
    emulator.set_default_durations(Some(uniform(60, 300)));
    emulator.set_durations("kling/v2-1-master-text-to-video", uniform(10, 10));
    emulator.set_phases(
        "kling/v2-1-master-text-to-video",
        Phases {
            waiting_ms: 1_000,
            queuing_ms: 1_000,
            generating_ms: 3_000,
        },
    );
    let kling_task = create(base, &kling("a")).await;
    let drawn = create(base, &hailuo).await;
    emulator.set_default_durations(None);
    let fixed = create(base, &hailuo).await;

    let phases = |id: &str| emulator.task(id).expect("known").phases;
    assert_eq!(
        phases(&kling_task),
        Phases {
            waiting_ms: 2_000,
            queuing_ms: 2_000,
            generating_ms: 6_000,
        }
    );
    assert!((60_000..=300_000).contains(&phases(&drawn).total_ms()));
    assert_eq!(phases(&fixed).total_ms(), 133_000, "Hailuo's fixed total");
}

#[tokio::test]
async fn durations_are_set_and_refused_over_http() {
    let emulator = frozen(2, None).await;
    let base = emulator.base_url();
    let patch = |body: Value| async move {
        let response = client()
            .patch(format!("{base}/_emulator/config"))
            .json(&body)
            .send()
            .await
            .expect("sent");
        let status = response.status().as_u16();
        (
            status,
            response.json::<Value>().await.unwrap_or(Value::Null),
        )
    };
    let (status, config) = patch(json!({
        "default_durations": {"kind": "uniform", "min_ms": 60_000, "max_ms": 300_000},
        "durations": {"kling/v2-1-master-text-to-video": {
            "kind": "log_normal", "median_ms": 120_000, "p95_ms": 300_000,
            "min_ms": 30_000, "max_ms": 600_000,
        }},
    }))
    .await;
    assert_eq!(status, 200, "{config}");
    assert_eq!(config["default_durations"]["kind"], "uniform");
    assert_eq!(
        emulator.config().durations["kling/v2-1-master-text-to-video"].to_string(),
        "log-normal:median=2m,p95=5m,min=30s,max=10m"
    );
    let id = create(base, &kling("a")).await;
    let total = emulator.task(&id).expect("known").phases.total_ms();
    assert!((30_000..=600_000).contains(&total), "{total} ms");

    let (status, refused) = patch(json!({
        "default_durations": {"kind": "uniform", "min_ms": 300_000, "max_ms": 60_000},
    }))
    .await;
    assert_eq!(status, 400);
    let message = refused["error"].as_str().unwrap_or_default();
    assert!(
        message.contains("lower bound 5m is above the upper bound 1m"),
        "{message}"
    );
    assert_eq!(
        emulator.config().default_durations.map(|d| d.to_string()),
        Some("uniform:1m-5m".to_owned()),
        "a refused patch changes nothing"
    );
}

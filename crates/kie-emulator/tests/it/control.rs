//! The `/_emulator/*` control plane over HTTP, the same operations as the Rust handle.

use crate::common::{KEY, client, create, kling, record};
use kie_emulator::{ClockStatus, Emulator, Stats, TaskSnapshot};
use serde_json::{Value, json};

async fn call(method: reqwest::Method, url: String, body: Option<Value>) -> (u16, Value) {
    let mut request = client().request(method, url);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("sent");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn clock_outcomes_tasks_faults_and_stats_over_http() {
    let emulator = Emulator::builder().seed(3).start().await.expect("starts");
    let base = emulator.base_url().to_owned();
    let control = |path: &str| format!("{base}/_emulator/{path}");

    let (status, health) = call(reqwest::Method::GET, control("health"), None).await;
    assert_eq!((status, health["status"].as_str()), (200, Some("ok")));

    let (_, clock) = call(
        reqwest::Method::POST,
        control("clock"),
        Some(json!({"now_ms": 1_000_000, "frozen": true, "advance_ms": 500})),
    )
    .await;
    let clock: ClockStatus = serde_json::from_value(clock).expect("clock status");
    assert_eq!((clock.now_ms, clock.frozen), (1_000_500, true));

    let (status, _) = call(
        reqwest::Method::PATCH,
        control("config"),
        Some(json!({"timeline": {"mode": "after_polls", "polls": 2}})),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = call(
        reqwest::Method::PATCH,
        control("config"),
        Some(json!({"bogus": 1})),
    )
    .await;
    assert_eq!(status, 400);

    let (_, queued) = call(
        reqwest::Method::POST,
        control("outcomes"),
        Some(json!({"outcomes": [{"result": "fail", "fail_code": "500", "fail_msg": "boom"}]})),
    )
    .await;
    assert_eq!(queued["queued"], 1);
    let failing = create(&base, &kling("a")).await;
    let succeeding = create(&base, &kling("b")).await;
    for _ in 0..2 {
        record(&base, &failing).await;
    }
    let failed = record(&base, &failing).await;
    assert_eq!(failed.body["data"]["state"], "fail");
    assert_eq!(failed.body["data"]["failCode"], "500");
    assert_eq!(failed.body["data"]["failMsg"], "boom");
    assert_eq!(failed.body["data"]["createTime"], 1_000_500);

    let (status, task) = call(
        reqwest::Method::PUT,
        control(&format!("tasks/{succeeding}/outcome")),
        Some(json!({"result": "fail", "fail_code": "501", "fail_msg": "nope"})),
    )
    .await;
    assert_eq!(status, 200);
    let task: TaskSnapshot = serde_json::from_value(task).expect("snapshot");
    assert_eq!(task.outcome, kie_emulator::Outcome::fail("501", "nope"));
    let (status, _) = call(
        reqwest::Method::POST,
        control(&format!("tasks/{succeeding}/state")),
        Some(json!({"state": "fail"})),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        record(&base, &succeeding).await.body["data"]["failMsg"],
        "nope"
    );
    let (status, _) = call(
        reqwest::Method::POST,
        control(&format!("tasks/{succeeding}/state")),
        Some(json!({"state": "success"})),
    )
    .await;
    assert_eq!(status, 409, "a finished task cannot be forced again");
    let (status, _) = call(reqwest::Method::GET, control("tasks/nope"), None).await;
    assert_eq!(status, 404);
    let (_, tasks) = call(reqwest::Method::GET, control("tasks"), None).await;
    assert_eq!(tasks.as_array().map(Vec::len), Some(2));

    let (_, added) = call(
        reqwest::Method::POST,
        control("faults"),
        Some(json!({"endpoint": "credit", "trigger": {"kind": "next_n", "n": 1}, "effect": {"kind": "status", "status": 455}})),
    )
    .await;
    let credit = client()
        .get(format!("{base}/api/v1/chat/credit"))
        .bearer_auth(KEY)
        .send()
        .await
        .expect("sent");
    assert_eq!(credit.status(), 455);
    let (_, faults) = call(reqwest::Method::GET, control("faults"), None).await;
    assert_eq!(faults[0]["fired"], 1);
    let (status, _) = call(
        reqwest::Method::DELETE,
        control(&format!("faults/{}", added["id"])),
        None,
    )
    .await;
    assert_eq!(status, 200);

    let (_, balance) = call(
        reqwest::Method::PUT,
        control("credits"),
        Some(json!({"balance": 12.5})),
    )
    .await;
    assert_eq!(balance["balance"], 12.5);

    let (_, stats) = call(reqwest::Method::GET, control("stats"), None).await;
    let stats: Stats = serde_json::from_value(stats).expect("stats");
    assert_eq!(stats.tasks_created, 2);
    assert_eq!(
        stats.tasks_by_model.get("kling/v2-1-master-text-to-video"),
        Some(&2)
    );
    assert_eq!(stats.tasks_by_state.get("fail"), Some(&2));
    assert_eq!(stats.credits, 12.5);
    assert_eq!(stats.seed, 3);

    let (_, log) = call(reqwest::Method::GET, control("callbacks"), None).await;
    assert_eq!(log, json!([]));
    let (status, _) = call(
        reqwest::Method::POST,
        control("callbacks/faults"),
        Some(json!({"effect": {"kind": "duplicate"}})),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(emulator.callback_faults().len(), 1);

    let (status, _) = call(reqwest::Method::POST, control("reset"), None).await;
    assert_eq!(status, 200);
    assert!(emulator.tasks().is_empty());
    assert!(emulator.faults().is_empty());
    assert!(emulator.callback_faults().is_empty());
    assert_eq!(emulator.credits(), 10_000.0);
    assert!(!emulator.clock().frozen);
}

#[tokio::test]
async fn env_vars_point_an_sdk_at_the_emulator() {
    let emulator = Emulator::start().await.expect("starts");
    let vars = emulator.env_vars();
    assert_eq!(vars[0], ("KIE_BASE_URL", emulator.base_url().to_owned()));
    assert_eq!(
        vars[1],
        ("KIE_UPLOAD_BASE_URL", emulator.upload_base_url().to_owned())
    );
    assert!(emulator.base_url().starts_with("http://127.0.0.1:"));
}

//! Callbacks: signed, retried on failure, logged, and misbehaving on demand.

use std::time::Duration;

use crate::common::{Receiver, create, kling};
use kie_emulator::{
    CallbackFaultEffect, CallbackFaultRule, CallbackKind, CallbackRetry, Emulator, Outcome,
    TaskState, Timeline, sign,
};
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(20);

fn with_callback(prompt: &str, url: &str) -> Value {
    let mut body = kling(prompt);
    body["callBackUrl"] = json!(url);
    body
}

fn header(received: &crate::common::Received, name: &str) -> String {
    received
        .headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn completion_callback_is_signed_and_shaped_like_record_info() {
    let receiver = Receiver::start(vec![]).await;
    let emulator = Emulator::builder()
        .webhook_key("secret")
        .timeline(Timeline::Immediate)
        .start()
        .await
        .expect("starts");
    let id = create(
        emulator.base_url(),
        &with_callback("a cat", &receiver.url("hook")),
    )
    .await;
    let got = receiver.wait_for(1).await;
    assert_eq!(got.len(), 1);
    let timestamp = header(&got[0], "x-webhook-timestamp");
    let ts: i64 = timestamp.parse().expect("seconds");
    assert_eq!(
        header(&got[0], "x-webhook-signature"),
        sign("secret", &id, ts)
    );
    assert_eq!(header(&got[0], "content-type"), "application/json");
    let body: Value = serde_json::from_slice(&got[0].body).expect("json");
    assert_eq!(body["code"], 200);
    assert_eq!(body["data"]["taskId"], id.as_str());
    assert_eq!(body["data"]["state"], "success");
    assert!(body["data"]["resultJson"].is_string());
    assert!(body["data"]["param"].is_string());

    let log = emulator
        .wait_for_callback_attempts(1, WAIT)
        .await
        .expect("logged");
    assert!(log[0].delivered);
    assert_eq!(log[0].status, Some(200));
    assert_eq!(log[0].kind, CallbackKind::Completion);
    assert_eq!(log[0].timestamp, ts);
}

#[tokio::test]
async fn failure_callback_carries_fail_code() {
    let receiver = Receiver::start(vec![]).await;
    let emulator = Emulator::builder()
        .timeline(Timeline::Immediate)
        .start()
        .await
        .expect("starts");
    emulator.push_outcome(Outcome::fail(
        "422",
        "Invalid prompt: prompt contains prohibited content",
    ));
    create(
        emulator.base_url(),
        &with_callback("a cat", &receiver.url("hook")),
    )
    .await;
    let got = receiver.wait_for(1).await;
    let body: Value = serde_json::from_slice(&got[0].body).expect("json");
    assert_eq!(body["code"], 501);
    assert_eq!(body["data"]["state"], "fail");
    assert_eq!(body["data"]["failCode"], "422");
    assert_eq!(
        body["data"]["failMsg"],
        "Invalid prompt: prompt contains prohibited content"
    );
}

#[tokio::test]
async fn failed_deliveries_are_retried_on_the_schedule_and_logged() {
    let receiver = Receiver::start(vec![500, 503]).await;
    let emulator = Emulator::builder()
        .timeline(Timeline::Immediate)
        .callback_retry(CallbackRetry {
            delays_ms: vec![10, 10, 10],
            timeout_ms: 5_000,
        })
        .start()
        .await
        .expect("starts");
    create(
        emulator.base_url(),
        &with_callback("a cat", &receiver.url("hook")),
    )
    .await;
    let log = emulator
        .wait_for_callbacks(WAIT, |log| log.iter().any(|a| a.delivered))
        .await
        .expect("delivered eventually");
    let summary: Vec<(u32, Option<u16>, bool, bool)> = log
        .iter()
        .map(|a| (a.attempt, a.status, a.delivered, a.will_retry))
        .collect();
    assert_eq!(
        summary,
        [
            (1, Some(500), false, true),
            (2, Some(503), false, true),
            (3, Some(200), true, false)
        ]
    );
    assert_eq!(receiver.received().len(), 3);
}

#[tokio::test]
async fn refused_connections_are_retried_until_the_schedule_runs_out() {
    // A port that was just free: connections to it are refused.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr")
    };
    let emulator = Emulator::builder()
        .timeline(Timeline::Immediate)
        .callback_retry(CallbackRetry {
            delays_ms: vec![5, 5],
            timeout_ms: 2_000,
        })
        .start()
        .await
        .expect("starts");
    create(
        emulator.base_url(),
        &with_callback("a cat", &format!("http://{closed}/hook")),
    )
    .await;
    let log = emulator
        .wait_for_callback_attempts(3, WAIT)
        .await
        .expect("three attempts");
    assert!(
        log.iter()
            .all(|a| !a.delivered && a.error.is_some() && a.status.is_none()),
        "{log:?}"
    );
    assert_eq!(
        log.iter().map(|a| a.will_retry).collect::<Vec<_>>(),
        [true, true, false]
    );
}

#[tokio::test]
async fn slow_receivers_time_out_and_are_retried() {
    // A receiver that accepts connections and never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let silent = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let emulator = Emulator::builder()
        .timeline(Timeline::Immediate)
        .callback_retry(CallbackRetry {
            delays_ms: vec![5],
            timeout_ms: 100,
        })
        .start()
        .await
        .expect("starts");
    create(
        emulator.base_url(),
        &with_callback("a cat", &format!("http://{addr}/hook")),
    )
    .await;
    let log = emulator
        .wait_for_callback_attempts(2, WAIT)
        .await
        .expect("two attempts");
    silent.abort();
    assert_eq!(
        log.iter().map(|a| a.error.as_deref()).collect::<Vec<_>>(),
        [Some("timed out"), Some("timed out")]
    );
    assert_eq!(
        log.iter().map(|a| a.will_retry).collect::<Vec<_>>(),
        [true, false]
    );
}

#[tokio::test]
async fn non_loopback_targets_are_logged_not_sent() {
    let emulator = Emulator::builder()
        .timeline(Timeline::Immediate)
        .start()
        .await
        .expect("starts");
    create(
        emulator.base_url(),
        &with_callback("a cat", "https://your-domain.com/api/callback"),
    )
    .await;
    let log = emulator
        .wait_for_callback_attempts(1, WAIT)
        .await
        .expect("logged");
    assert_eq!(log.len(), 1);
    assert!(!log[0].delivered && !log[0].will_retry);
    assert!(
        log[0]
            .error
            .as_deref()
            .unwrap_or_default()
            .contains("loopback")
    );
}

#[tokio::test]
async fn duplicate_bad_signature_and_stale_timestamp_faults() {
    let receiver = Receiver::start(vec![]).await;
    let emulator = Emulator::builder()
        .webhook_key("k")
        .timeline(Timeline::Immediate)
        .start()
        .await
        .expect("starts");
    let base = emulator.base_url();

    emulator.add_callback_fault(CallbackFaultRule::new(CallbackFaultEffect::Duplicate).next(1));
    let dup = create(base, &with_callback("dup", &receiver.url("a"))).await;
    let got = receiver.wait_for(2).await;
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].body, got[1].body);
    assert_eq!(
        header(&got[0], "x-webhook-signature"),
        header(&got[1], "x-webhook-signature")
    );
    assert_eq!(
        header(&got[0], "x-webhook-signature"),
        sign(
            "k",
            &dup,
            header(&got[0], "x-webhook-timestamp").parse().unwrap_or(0)
        )
    );

    emulator.add_callback_fault(CallbackFaultRule::new(CallbackFaultEffect::BadSignature).next(1));
    let bad = create(base, &with_callback("bad", &receiver.url("b"))).await;
    let got = receiver.wait_for(3).await;
    let ts: i64 = header(&got[2], "x-webhook-timestamp").parse().expect("ts");
    assert_ne!(header(&got[2], "x-webhook-signature"), sign("k", &bad, ts));

    emulator.add_callback_fault(
        CallbackFaultRule::new(CallbackFaultEffect::StaleTimestamp { age_s: 3_600 }).next(1),
    );
    let stale = create(base, &with_callback("stale", &receiver.url("c"))).await;
    let got = receiver.wait_for(4).await;
    let ts: i64 = header(&got[3], "x-webhook-timestamp").parse().expect("ts");
    assert_eq!(
        header(&got[3], "x-webhook-signature"),
        sign("k", &stale, ts),
        "signed correctly for the old time"
    );
    let fresh: i64 = header(&got[0], "x-webhook-timestamp").parse().expect("ts");
    assert!(
        fresh - ts >= 3_500,
        "timestamp is an hour old: {ts} vs {fresh}"
    );

    let log = emulator.callback_attempts();
    assert_eq!(log.iter().filter(|a| a.duplicate).count(), 1);
    assert!(
        log.iter()
            .any(|a| a.faults.contains(&CallbackFaultEffect::BadSignature))
    );
}

#[tokio::test]
async fn delayed_callback_waits_on_the_virtual_clock() {
    let receiver = Receiver::start(vec![]).await;
    let emulator = Emulator::builder()
        .frozen(true)
        .timeline(Timeline::Immediate)
        .start()
        .await
        .expect("starts");
    emulator.add_callback_fault(CallbackFaultRule::new(CallbackFaultEffect::Delay {
        ms: 60_000,
    }));
    create(
        emulator.base_url(),
        &with_callback("a cat", &receiver.url("hook")),
    )
    .await;
    let before = emulator.callback_attempts().len();
    emulator.advance(Duration::from_secs(60));
    let log = emulator
        .wait_for_callback_attempts(1, WAIT)
        .await
        .expect("sent after advancing");
    assert_eq!(
        before, 0,
        "nothing is sent while the frozen clock has not reached the delay"
    );
    assert!(log[0].delivered);
    assert_eq!(log[0].faults, [CallbackFaultEffect::Delay { ms: 60_000 }]);
}

#[tokio::test]
async fn time_based_task_fires_its_callback_without_being_polled() {
    let receiver = Receiver::start(vec![]).await;
    let emulator = Emulator::builder()
        .frozen(true)
        .start()
        .await
        .expect("starts");
    let id = create(
        emulator.base_url(),
        &with_callback("a cat", &receiver.url("hook")),
    )
    .await;
    assert_eq!(
        emulator.task(&id).map(|t| t.state),
        Some(TaskState::Waiting)
    );
    emulator.advance(Duration::from_secs(3_600));
    let got = receiver.wait_for(1).await;
    let body: Value = serde_json::from_slice(&got[0].body).expect("json");
    assert_eq!(body["data"]["state"], "success");
    assert_eq!(
        emulator.task(&id).map(|t| t.state),
        Some(TaskState::Success)
    );
}

#[tokio::test]
async fn sora_progress_callbacks_report_progress() {
    let receiver = Receiver::start(vec![]).await;
    let emulator = Emulator::builder()
        .frozen(true)
        .start()
        .await
        .expect("starts");
    let body = json!({
        "model": "sora-2-pro-text-to-video",
        "progressCallBackUrl": receiver.url("progress"),
        "input": {"prompt": "a dog"}
    });
    let id = create(emulator.base_url(), &body).await;
    let phases = emulator.task(&id).map(|t| t.phases).expect("task");
    // Into generation, half way through.
    emulator.advance(Duration::from_millis(
        phases.waiting_ms + phases.queuing_ms + phases.generating_ms / 2,
    ));
    let got = receiver.wait_for(4).await;
    let mut states: Vec<(String, i64)> = got
        .iter()
        .map(|r| {
            let body: Value = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
            (
                body["data"]["state"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                body["data"]["progress"].as_i64().unwrap_or(-1),
            )
        })
        .collect();
    // Deliveries run concurrently, so arrival order is not guaranteed (as with kie.ai).
    states.sort_by_key(|(state, progress)| (state != "queuing", *progress));
    let expected: Vec<(String, i64)> = [
        ("queuing", 0),
        ("generating", 0),
        ("generating", 25),
        ("generating", 50),
    ]
    .map(|(s, p)| (s.to_owned(), p))
    .to_vec();
    assert_eq!(
        states, expected,
        "one callback per milestone the clock passed"
    );
    emulator.advance(Duration::from_millis(phases.generating_ms));
    let got = receiver.wait_for(6).await;
    assert_eq!(got.len(), 6);
    let finals: Vec<Value> = got[4..]
        .iter()
        .map(|r| serde_json::from_slice::<Value>(&r.body).unwrap_or(Value::Null))
        .filter(|body| body["data"]["state"] == "success")
        .collect();
    assert_eq!(finals.len(), 1, "exactly one terminal progress callback");
    assert_eq!(finals[0]["data"]["progress"], 100);
    let log = emulator.callback_attempts();
    assert!(log.iter().all(|a| a.kind == CallbackKind::Progress));
}

#[tokio::test]
async fn unsigned_callbacks_have_no_signature_headers() {
    let receiver = Receiver::start(vec![]).await;
    let emulator = Emulator::builder()
        .unsigned_callbacks()
        .timeline(Timeline::Immediate)
        .start()
        .await
        .expect("starts");
    create(
        emulator.base_url(),
        &with_callback("a cat", &receiver.url("hook")),
    )
    .await;
    let got = receiver.wait_for(1).await;
    assert!(got[0].headers.get("x-webhook-signature").is_none());
}

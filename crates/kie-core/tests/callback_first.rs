//! Callback-first waiting end to end: the emulator delivers signed callbacks (with
//! duplicates and forgeries mixed in) to an inbox served by axum, and each wait ends
//! with exactly one recordInfo call.
#![cfg(feature = "axum")]

use std::time::Duration;

use kie_core::{CallbackInbox, CallbackVerifier, Client, PollSchedule, RawInput, TaskState};
use kie_emulator::{CallbackFaultEffect, CallbackFaultRule, Emulator, Endpoint, Phases, Timeline};
use serde_json::json;

const MODEL: &str = "hailuo/02-text-to-video-pro";

async fn setup() -> (Emulator, Client, CallbackInbox, String) {
    let emulator = Emulator::builder()
        .seed(5)
        .speed(20.0)
        .timeline(Timeline::Time)
        .start()
        .await
        .expect("the emulator starts");
    emulator.set_phases(
        MODEL,
        Phases {
            waiting_ms: 2_000,
            queuing_ms: 2_000,
            generating_ms: 6_000,
        },
    );
    let key = emulator
        .webhook_key()
        .expect("signed by default")
        .to_owned();
    let inbox = CallbackInbox::new(CallbackVerifier::new(key));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let router = inbox.router();
    tokio::spawn(async move { axum::serve(listener, router).await });
    let client = Client::builder()
        .api_key("test-key")
        .base_url(emulator.base_url())
        .upload_base_url(emulator.upload_base_url())
        .build()
        .unwrap();
    (emulator, client, inbox, url)
}

fn input(n: usize) -> RawInput {
    RawInput::new(MODEL, json!({"prompt": format!("glider {n}")}))
}

#[tokio::test]
async fn each_wait_ends_on_its_callback_with_one_confirming_poll() {
    let (emulator, client, inbox, url) = setup().await;
    // Every completion is delivered twice.
    emulator.add_callback_fault(CallbackFaultRule::new(CallbackFaultEffect::Duplicate));
    let mut events = inbox.subscribe();
    let mut waits = Vec::new();
    for n in 0..3 {
        let task = client.submit(&input(n)).callback_url(&url).await.unwrap();
        waits.push(tokio::spawn({
            let inbox = inbox.clone();
            async move {
                task.wait()
                    .callbacks(&inbox)
                    .max_wait(Duration::from_secs(60))
                    .await
            }
        }));
    }
    for wait in waits {
        let video = wait.await.unwrap().unwrap();
        assert_eq!(video.record.state, TaskState::Success);
    }
    let stats = emulator.stats();
    assert_eq!(
        stats.requests.get(&Endpoint::RecordInfo),
        Some(&3),
        "one confirming poll per task"
    );
    // The application saw each completion once: the duplicates were dropped.
    let mut finished = 0;
    while let Ok(callback) = events.try_recv() {
        if callback.state().is_terminal() {
            finished += 1;
        }
    }
    assert_eq!(finished, 3);
}

#[tokio::test]
async fn without_a_callback_the_wait_falls_back_to_polling() {
    let (emulator, client, inbox, _) = setup().await;
    let task = client.submit(&input(9)).await.unwrap(); // no callBackUrl: nothing will come
    let video = task
        .wait()
        .callbacks(&inbox)
        .schedule(PollSchedule::fixed(Duration::from_millis(100)))
        .max_wait(Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(video.task_id, task.id());
    assert!(
        emulator
            .stats()
            .requests
            .get(&Endpoint::RecordInfo)
            .copied()
            .unwrap_or(0)
            >= 1
    );
}

#[tokio::test]
async fn forged_and_stale_callbacks_are_refused_and_the_wait_polls_instead() {
    for effect in [
        CallbackFaultEffect::BadSignature,
        CallbackFaultEffect::StaleTimestamp { age_s: 3_600 },
    ] {
        let (emulator, client, inbox, url) = setup().await;
        emulator.add_callback_fault(CallbackFaultRule::new(effect.clone()));
        let mut events = inbox.subscribe();
        let task = client.submit(&input(7)).callback_url(&url).await.unwrap();
        let video = task
            .wait()
            .callbacks(&inbox)
            .schedule(PollSchedule::fixed(Duration::from_millis(200)))
            .max_wait(Duration::from_secs(60))
            .await
            .unwrap();
        assert_eq!(video.task_id, task.id());
        let log = emulator
            .wait_for_callback_attempts(1, Duration::from_secs(10))
            .await
            .unwrap();
        assert!(
            log.iter().all(|a| a.status == Some(401)),
            "{effect:?}: {log:?}"
        );
        assert!(
            events.try_recv().is_err(),
            "{effect:?} reached the application"
        );
    }
}

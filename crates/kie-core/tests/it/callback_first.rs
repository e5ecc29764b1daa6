//! Callback-first waiting end to end: the emulator delivers signed callbacks (with
//! duplicates and forgeries mixed in) to an inbox served over HTTP, and each wait ends
//! with exactly one recordInfo call, the inbox's confirmation.
#![cfg(feature = "axum")]

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::StreamExt;
use kie_core::receiver::{self, ReceiverLimits};
use kie_core::time::{Sleep, Timer};
use kie_core::{
    CallbackInbox, CallbackVerifier, Client, PollSchedule, RawInput, Receipt, TaskState, WaitEvent,
};
use kie_emulator::{CallbackFaultEffect, CallbackFaultRule, Emulator, Endpoint, Phases, Timeline};
use serde_json::json;

const MODEL: &str = "hailuo/02-text-to-video-pro";

/// The longest a test waits for something that should happen at once: reaching it is a
/// hang, and fails the test instead of stalling the run.
const HANG: Duration = Duration::from_secs(30);

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
    let client = client(&emulator, None);
    let (inbox, url) = serve(&emulator, &client).await;
    (emulator, client, inbox, url)
}

fn client(emulator: &Emulator, timer: Option<Arc<dyn Timer>>) -> Client {
    let builder = Client::builder()
        .api_key("test-key")
        .base_url(emulator.base_url())
        .upload_base_url(emulator.upload_base_url());
    match timer {
        Some(timer) => builder.timer(timer),
        None => builder,
    }
    .build()
    .expect("a valid configuration")
}

/// An inbox for the emulator's webhook key, served on 127.0.0.1, and its URL.
async fn serve(emulator: &Emulator, client: &Client) -> (CallbackInbox, String) {
    let key = emulator.webhook_key().expect("signed by default");
    let inbox = CallbackInbox::new(client.clone(), CallbackVerifier::new(key));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    tokio::spawn(receiver::serve(
        listener,
        inbox.router(),
        ReceiverLimits::default(),
    ));
    (inbox, url)
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
    while let Ok(record) = events.try_recv() {
        if record.state.is_terminal() {
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

/// A clock that never moves: its sleeps never end, so a wait on it can end only by a
/// callback, never by its fallback poll.
#[derive(Debug)]
struct Stopped;

impl Timer for Stopped {
    fn now(&self) -> Duration {
        Duration::ZERO
    }

    fn sleep(&self, _: Duration) -> Sleep {
        Box::pin(std::future::pending())
    }
}

/// Issue 11, item 12: a forged final callback (a captured signature, a body saying
/// `success`) while the task still runs used to spend the wait's one confirmation, and
/// the genuine callback was then dropped as a duplicate; the wait fell back to polling
/// every 2-3 minutes.
#[tokio::test]
async fn a_forged_final_callback_does_not_stop_the_genuine_one_from_ending_the_wait() {
    let emulator = Emulator::builder()
        .seed(5)
        .frozen(true)
        .timeline(Timeline::Time)
        .start()
        .await
        .expect("the emulator starts");
    let client = client(&emulator, Some(Arc::new(Stopped)));
    let (inbox, url) = serve(&emulator, &client).await;
    let task = client.submit(&input(1)).callback_url(&url).await.unwrap();
    let mut events = Box::pin(task.wait().callbacks(&inbox).events());

    // An attacker holding a signature for this task (it signs only the task id and the
    // time) sends a final callback with a result of their own.
    let key = emulator.webhook_key().unwrap();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let mut headers = reqwest::header::HeaderMap::new();
    for (name, value) in kie_core::callback::signed_headers(key, task.id(), now) {
        headers.insert(name, value.parse().unwrap());
    }
    let attacker = "https://attacker.example/stolen.mp4";
    let result = json!({"resultUrls": [attacker]}).to_string();
    let forged = json!({"code": 200, "data": {"taskId": task.id(), "state": "success", "resultJson": result}});
    let receipt = inbox.receive(forged.to_string().as_bytes(), &headers);
    assert_eq!(receipt, Ok(Receipt::New));
    // The inbox asks recordInfo, which says the task is still waiting.
    let first = tokio::time::timeout(HANG, events.next())
        .await
        .expect("woken");
    match first {
        Some(Ok(WaitEvent::Progress(progress))) => assert_eq!(progress.state, TaskState::Waiting),
        other => panic!("expected progress, got {other:?}"),
    }

    // kie.ai finishes the task and sends its own callback: the wait ends on it.
    emulator
        .force_state(task.id(), kie_emulator::TaskState::Success)
        .unwrap();
    let second = tokio::time::timeout(HANG, events.next())
        .await
        .expect("the genuine callback ends the wait");
    let Some(Ok(WaitEvent::Finished(video))) = second else {
        panic!("expected the result, got {second:?}");
    };
    assert!(
        video.video_url().starts_with(emulator.base_url()),
        "{}",
        video.video_url()
    );
    assert_eq!(
        emulator.stats().requests.get(&Endpoint::RecordInfo),
        Some(&2),
        "one confirmation per callback, no poll of the wait's own"
    );
}

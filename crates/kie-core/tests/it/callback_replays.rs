//! A captured signature buys nothing. kie.ai signs only `taskId + "." + timestamp`, so
//! whoever captured one delivery can post any body under its headers for five minutes;
//! the inbox takes a few bodies per signature at most, and what subscribers and waits
//! see comes from recordInfo, never from a body.
#![cfg(feature = "axum")]

use std::time::Duration;

use kie_core::receiver::{self, ReceiverLimits};
use kie_core::{CallbackInbox, CallbackVerifier, Client, RawInput, Receipt, TaskState};
use kie_emulator::{CallbackFaultEffect, CallbackFaultRule, Emulator, Endpoint, Timeline};
use serde_json::json;

const MODEL: &str = "hailuo/02-text-to-video-pro";
const ATTACKER: &str = "https://attacker.example/stolen.mp4";
/// The longest a test waits for what should happen at once: reaching it is a hang.
const HANG: Duration = Duration::from_secs(30);

/// An emulator that finishes tasks at once and signs callbacks, a client, and an inbox
/// served on 127.0.0.1 with its URL.
async fn setup() -> (Emulator, Client, CallbackInbox, String) {
    let emulator = Emulator::builder()
        .seed(11)
        .timeline(Timeline::Immediate)
        .start()
        .await
        .expect("the emulator starts");
    let client = Client::builder()
        .api_key("test-key")
        .base_url(emulator.base_url())
        .upload_base_url(emulator.upload_base_url())
        .build()
        .expect("a valid configuration");
    let key = emulator.webhook_key().expect("signed by default");
    let inbox = CallbackInbox::new(client.clone(), CallbackVerifier::new(key));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    tokio::spawn(receiver::serve(
        listener,
        inbox.router(),
        ReceiverLimits::default(),
    ));
    (emulator, client, inbox, url)
}

fn input() -> RawInput {
    RawInput::new(MODEL, json!({"prompt": "a kite over the dunes"}))
}

fn record_info_calls(emulator: &Emulator) -> u64 {
    let stats = emulator.stats();
    stats
        .requests
        .get(&Endpoint::RecordInfo)
        .copied()
        .unwrap_or(0)
}

/// Issue 11, item 10: 1,500 deliveries under one captured signature, each a new state,
/// were all accepted (memory grew by the bodies, and stayed), and the genuine callback
/// sent just before never reached the subscriber, pushed out of its queue.
#[tokio::test]
async fn a_flood_under_one_captured_signature_is_dropped_and_the_genuine_callback_is_seen() {
    let (emulator, client, inbox, url) = setup().await;
    let mut events = inbox.subscribe();
    let task = client.submit(&input()).callback_url(&url).await.unwrap();
    let genuine = emulator
        .wait_for_callback_attempts(1, HANG)
        .await
        .expect("the genuine callback is delivered");
    assert_eq!(genuine[0].status, Some(200));

    // The attacker replays its headers with 1,500 bodies, each naming a new state.
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("x-webhook-timestamp", genuine[0].timestamp.into());
    let signature = genuine[0].signature.as_deref().expect("signed");
    headers.insert("x-webhook-signature", signature.parse().unwrap());
    let mut new = 0;
    for n in 0..1_500 {
        let body =
            json!({"code": 200, "data": {"taskId": task.id(), "state": format!("flood-{n}")}});
        match inbox.receive(body.to_string().as_bytes(), &headers) {
            Ok(Receipt::New) => new += 1,
            Ok(Receipt::Duplicate) => {}
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(
        new, 3,
        "a signature carries at most 4 bodies, the genuine one included"
    );

    let first = tokio::time::timeout(HANG, events.recv())
        .await
        .expect("the confirmed record comes")
        .expect("the subscriber sees the genuine callback's record");
    assert_eq!(first.task_id, task.id());
    assert_eq!(first.state, TaskState::Success);
    let urls = first.result.expect("a result").urls;
    assert!(urls[0].starts_with(emulator.base_url()), "{urls:?}");
    assert!(
        events.try_recv().is_err(),
        "only one record: the flood states are never published"
    );
    assert_eq!(
        record_info_calls(&emulator),
        1,
        "the flood cost no recordInfo call"
    );
}

/// Issue 11, item 11: a forged "success" with an attacker's URL, sent under a valid
/// signature ahead of the genuine callback, reached subscribers, and the genuine one was
/// answered as a duplicate.
#[tokio::test]
async fn a_forged_success_never_reaches_subscribers_or_waits() {
    let (emulator, client, inbox, url) = setup().await;
    emulator.add_callback_fault(CallbackFaultRule::new(CallbackFaultEffect::ForgedSuccess {
        result_url: ATTACKER.to_owned(),
    }));
    let mut events = inbox.subscribe();
    let task = client.submit(&input()).callback_url(&url).await.unwrap();
    let log = emulator
        .wait_for_callback_attempts(2, HANG)
        .await
        .expect("the forged and the genuine callbacks are delivered");
    assert!(log[0].forged && !log[1].forged, "forged first: {log:?}");
    assert_eq!(
        (log[0].timestamp, &log[0].signature),
        (log[1].timestamp, &log[1].signature),
        "under the same signature"
    );

    let record = tokio::time::timeout(HANG, events.recv())
        .await
        .expect("the confirmed record comes")
        .expect("a record");
    assert_eq!(record.state, TaskState::Success);
    let urls = record.result.expect("a result").urls;
    assert!(urls[0].starts_with(emulator.base_url()), "{urls:?}");
    let video = task
        .wait()
        .callbacks(&inbox)
        .max_wait(Duration::from_secs(60))
        .await
        .unwrap();
    assert!(video.urls.iter().all(|u| u != ATTACKER), "{:?}", video.urls);
    assert!(events.try_recv().is_err());
    assert_eq!(record_info_calls(&emulator), 1);
}

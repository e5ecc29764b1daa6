//! Waiting on virtual time: each test runs a wait of minutes in milliseconds and
//! asserts the schedule, the events and the outcome.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::common::{Script, client, envelope};
use futures_util::StreamExt;
use kie_core::{
    ApiCode, ErrorKind, GenerationTimes, PollSchedule, RetryPolicy, TaskState, WaitEvent,
};
use serde_json::{Value, json};
use wiremock::matchers::{path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn record(state: &str, extra: Value) -> ResponseTemplate {
    let mut data = json!({"taskId": "t1", "model": "sora-2-pro-text-to-video", "state": state});
    if let (Some(data), Some(extra)) = (data.as_object_mut(), extra.as_object()) {
        data.extend(extra.clone());
    }
    envelope(200, json!({"code": 200, "msg": "success", "data": data}))
}

fn success() -> ResponseTemplate {
    record(
        "success",
        json!({"resultJson": "{\"resultUrls\":[\"https://tempfile.aiquickdraw.com/v/t1.mp4\"]}", "costTime": 90}),
    )
}

fn missing() -> ResponseTemplate {
    envelope(
        200,
        json!({"code": 422, "msg": "recordInfo is null", "data": null}),
    )
}

async fn serve(steps: Vec<ResponseTemplate>) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(path("/api/v1/jobs/recordInfo"))
        .and(query_param("taskId", "t1"))
        .respond_with(Script::new(steps))
        .mount(&server)
        .await;
    server
}

async fn polls(server: &MockServer) -> usize {
    server.received_requests().await.unwrap_or_default().len()
}

#[tokio::test]
async fn a_wait_reports_each_change_and_returns_the_video() {
    let server = serve(vec![
        record("waiting", json!({})),
        record("queuing", json!({})),
        record("queuing", json!({})),
        record("generating", json!({"progress": 10})),
        record("generating", json!({"progress": 10})),
        record("generating", json!({"progress": 60})),
        success(),
    ])
    .await;
    let (client, timer) = client(&server.uri(), RetryPolicy::none());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    let video = client
        .task("t1")
        .wait()
        .schedule(PollSchedule::recommended())
        .on_progress(move |p| sink.lock().unwrap().push((p.state.clone(), p.percent)))
        .await
        .unwrap();
    assert_eq!(
        video.video_url(),
        "https://tempfile.aiquickdraw.com/v/t1.mp4"
    );
    assert_eq!(video.model.as_deref(), Some("sora-2-pro-text-to-video"));
    assert_eq!(video.record.cost_time, Some(90));
    assert_eq!(
        *seen.lock().unwrap(),
        [
            (TaskState::Waiting, None),
            (TaskState::Queuing, None),
            (TaskState::Generating, Some(10)),
            (TaskState::Generating, Some(60)),
        ]
    );
    assert_eq!(polls(&server).await, 7);
    // The first poll goes out at once; then every 2-3 s while under 30 s.
    let sleeps = timer.sleeps();
    assert_eq!(sleeps.len(), 6);
    assert!(
        sleeps
            .iter()
            .all(|s| (2.0..=3.0).contains(&s.as_secs_f64())),
        "{sleeps:?}"
    );
}

#[tokio::test]
async fn the_schedule_slows_down_as_the_wait_grows() {
    // 60 polls of "generating": enough to cross the 30 s and 2 min marks.
    let mut steps: Vec<_> = (0..60).map(|_| record("generating", json!({}))).collect();
    steps.push(success());
    let server = serve(steps).await;
    let (client, timer) = client(&server.uri(), RetryPolicy::none());
    client
        .task("t1")
        .wait()
        .schedule(PollSchedule::recommended())
        .await
        .unwrap();
    let mut elapsed = Duration::ZERO;
    for sleep in timer.sleeps() {
        let range = match elapsed.as_secs() {
            0..30 => 2.0..=3.0,
            30..120 => 5.0..=10.0,
            _ => 15.0..=30.0,
        };
        assert!(
            range.contains(&sleep.as_secs_f64()),
            "{sleep:?} at {elapsed:?}"
        );
        elapsed += sleep;
    }
    assert!(elapsed > Duration::from_secs(120 + 15 * 30), "{elapsed:?}");
}

#[tokio::test]
async fn a_failed_task_is_an_error_with_its_id_and_reason() {
    let server = serve(vec![
        record("generating", json!({})),
        record(
            "fail",
            json!({"failCode": "422", "failMsg": "prompt contains prohibited content"}),
        ),
    ])
    .await;
    let (client, _) = client(&server.uri(), RetryPolicy::none());
    let err = client.task("t1").wait().await.unwrap_err();
    let ErrorKind::TaskFailed {
        fail_code,
        fail_msg,
        record,
    } = err.kind()
    else {
        panic!("{err}")
    };
    assert_eq!(err.task_id(), Some("t1"));
    assert_eq!(fail_code.as_deref(), Some("422"));
    assert_eq!(
        fail_msg.as_deref(),
        Some("prompt contains prohibited content")
    );
    assert_eq!(record.state, TaskState::Fail);
    assert_eq!(
        err.to_string(),
        "task t1 failed: prompt contains prohibited content (failCode 422)"
    );
}

#[tokio::test]
async fn the_deadline_ends_the_wait_with_the_last_state() {
    let server = serve(vec![record("queuing", json!({}))]).await;
    let (client, timer) = client(&server.uri(), RetryPolicy::none());
    let err = client
        .task("t1")
        .wait()
        .max_wait(Duration::from_secs(60))
        .await
        .unwrap_err();
    let ErrorKind::WaitTimeout { waited, last_state } = err.kind() else {
        panic!("{err}")
    };
    let task_id = err.task_id().expect("the task");
    assert_eq!(task_id, "t1");
    assert_eq!(*last_state, TaskState::Queuing);
    assert_eq!(
        *waited,
        Duration::from_secs(60),
        "a final poll lands on the deadline"
    );
    let total: Duration = timer.sleeps().iter().sum();
    assert_eq!(total, Duration::from_secs(60));
}

#[tokio::test]
async fn a_record_not_yet_visible_is_tolerated_for_a_while() {
    let server = serve(vec![
        missing(),
        missing(),
        record("waiting", json!({})),
        success(),
    ])
    .await;
    let (client, _) = client(&server.uri(), RetryPolicy::none());
    let video = client.task("t1").wait().await.unwrap();
    assert_eq!(video.task_id, "t1");
    assert_eq!(polls(&server).await, 4);
}

#[tokio::test]
async fn an_unknown_task_fails_after_the_grace_period() {
    let server = serve(vec![missing()]).await;
    let (client, timer) = client(&server.uri(), RetryPolicy::none());
    let err = client
        .task("t1")
        .wait()
        .missing_grace(Duration::from_secs(20))
        .await
        .unwrap_err();
    assert_eq!(err.api_code(), Some(ApiCode::ValidationFailed));
    assert_eq!(err.task_id(), Some("t1"));
    let total: Duration = timer.sleeps().iter().sum();
    assert!((20.0..24.0).contains(&total.as_secs_f64()), "{total:?}");
}

#[tokio::test]
async fn a_record_that_vanishes_after_being_seen_is_an_error_at_once() {
    let server = serve(vec![record("waiting", json!({})), missing()]).await;
    let (client, _) = client(&server.uri(), RetryPolicy::none());
    let err = client.task("t1").wait().await.unwrap_err();
    assert_eq!(err.api_code(), Some(ApiCode::ValidationFailed));
    assert_eq!(polls(&server).await, 2);
}

#[tokio::test]
async fn transient_errors_do_not_end_the_wait_but_a_run_of_them_does() {
    let outage = || envelope(503, json!({"code": 503, "msg": "unavailable"}));
    let server = serve(vec![
        record("generating", json!({})),
        outage(),
        outage(),
        success(),
    ])
    .await;
    let (first, _) = client(&server.uri(), RetryPolicy::none());
    assert!(first.task("t1").wait().await.is_ok());

    let server = serve(vec![record("generating", json!({})), outage()]).await;
    let (second, _) = client(&server.uri(), RetryPolicy::none());
    let err = second.task("t1").wait().await.unwrap_err();
    assert_eq!(err.task_id(), Some("t1"));
    assert_eq!(
        polls(&server).await,
        1 + 6,
        "one good poll, five tolerated failures, one fatal"
    );
}

#[tokio::test]
async fn permanent_errors_end_the_wait_at_once() {
    let server = serve(vec![envelope(
        401,
        json!({"code": 401, "msg": "You do not have access permissions"}),
    )])
    .await;
    let (client, _) = client(&server.uri(), RetryPolicy::none());
    let err = client.task("t1").wait().await.unwrap_err();
    assert_eq!(err.api_code(), Some(ApiCode::Unauthorized));
    assert_eq!(polls(&server).await, 1);
}

#[tokio::test]
async fn a_success_without_urls_is_an_error_with_the_task_id() {
    let server = serve(vec![record(
        "success",
        json!({"resultJson": "{\"resultUrls\":[]}"}),
    )])
    .await;
    let (client, _) = client(&server.uri(), RetryPolicy::none());
    let err = client.task("t1").wait().await.unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Decode { .. }), "{err}");
    assert_eq!(err.task_id(), Some("t1"));
}

#[tokio::test]
async fn events_stream_progress_then_the_result() {
    let server = serve(vec![
        record("queuing", json!({})),
        record("generating", json!({"progress": 50})),
        success(),
    ])
    .await;
    let (client, _) = client(&server.uri(), RetryPolicy::none());
    let events: Vec<_> = client.task("t1").wait().events().collect().await;
    assert_eq!(events.len(), 3);
    assert!(matches!(&events[0], Ok(WaitEvent::Progress(p)) if p.state == TaskState::Queuing));
    assert!(matches!(&events[1], Ok(WaitEvent::Progress(p)) if p.percent == Some(50)));
    assert!(matches!(&events[2], Ok(WaitEvent::Finished(v)) if v.task_id == "t1"));
}

#[tokio::test]
async fn dropping_a_wait_stops_polling() {
    let server = serve(vec![record("generating", json!({}))]).await;
    let (client, _) = client(&server.uri(), RetryPolicy::none());
    let mut events = Box::pin(client.task("t1").wait().events());
    assert!(matches!(
        events.next().await,
        Some(Ok(WaitEvent::Progress(_)))
    ));
    drop(events);
    let before = polls(&server).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(polls(&server).await, before);
    assert_eq!(before, 1);
}

#[tokio::test]
async fn a_fixed_schedule_is_honoured() {
    let server = serve(vec![
        record("generating", json!({})),
        record("generating", json!({})),
        success(),
    ])
    .await;
    let (client, timer) = client(&server.uri(), RetryPolicy::none());
    client
        .task("t1")
        .wait()
        .schedule(PollSchedule::fixed(Duration::from_secs(4)))
        .await
        .unwrap();
    assert_eq!(timer.sleeps(), [Duration::from_secs(4); 2]);
}

#[tokio::test]
async fn a_task_rebuilt_from_its_serialized_form_waits_the_same() {
    let server = serve(vec![success()]).await;
    let (client, _) = client(&server.uri(), RetryPolicy::none());
    let stored = serde_json::to_string(&client.task("t1")).unwrap();
    let task_ref: kie_core::TaskRef = serde_json::from_str(&stored).unwrap();
    let video = client.task(task_ref).wait().await.unwrap();
    assert_eq!(video.task_id, "t1");
}

/// A client on virtual time that has seen `model`'s tasks take `secs` each.
fn client_that_learnt(
    base: &str,
    secs: &[u64],
) -> (kie_core::Client, Arc<kie_core::time::VirtualTimer>) {
    let mut times = GenerationTimes::new();
    for s in secs {
        times.record("sora-2-pro-text-to-video", Duration::from_secs(*s));
    }
    let timer = Arc::new(kie_core::time::VirtualTimer::new());
    let client = kie_core::Client::builder()
        .api_key("k")
        .base_url(base)
        .retry_policy(RetryPolicy::none())
        .generation_times(times)
        .timer(timer.clone())
        .build()
        .unwrap();
    (client, timer)
}

async fn serve_submit(server: &MockServer) {
    Mock::given(path("/api/v1/jobs/createTask"))
        .respond_with(envelope(
            200,
            json!({"code": 200, "msg": "success", "data": {"taskId": "t1"}}),
        ))
        .mount(server)
        .await;
}

#[tokio::test]
async fn the_adaptive_schedule_waits_for_a_task_it_knows_the_age_of_then_polls_densely() {
    let server = serve(vec![record("generating", json!({})), success()]).await;
    serve_submit(&server).await;
    let (client, timer) = client_that_learnt(&server.uri(), &[88, 90, 90, 91, 92]);
    let input = kie_core::RawInput::new("sora-2-pro-text-to-video", json!({"prompt": "a fox"}));
    let task = client.submit(&input).await.unwrap();
    task.wait().await.unwrap();
    let record_calls = polls(&server).await - 1;
    assert_eq!(
        record_calls, 2,
        "no poll at once: the task was just created"
    );
    let sleeps = timer.sleeps();
    assert!(
        sleeps[0] > Duration::from_secs(60) && sleeps[0] < Duration::from_secs(90),
        "the first poll goes out shortly before the earliest time seen: {sleeps:?}"
    );
    let waited: Duration = sleeps.iter().sum();
    assert!(
        waited >= Duration::from_secs(88) && waited <= Duration::from_secs(100),
        "the second poll lands within the times seen: {sleeps:?}"
    );
}

#[tokio::test]
async fn the_client_learns_each_models_times_from_the_successes_it_sees() {
    let done = record(
        "success",
        json!({
            "resultJson": "{\"resultUrls\":[\"https://tempfile.aiquickdraw.com/v/t1.mp4\"]}",
            "createTime": 1_700_000_000_000_i64, "completeTime": 1_700_000_093_500_i64,
        }),
    );
    let server = serve(vec![done]).await;
    let (client, _) = client(&server.uri(), RetryPolicy::none());
    assert_eq!(client.generation_times(), GenerationTimes::new());
    client.task("t1").wait().await.unwrap();
    client.task("t1").record().await.unwrap();
    let times = client.generation_times();
    let learnt: Vec<Duration> = times.times("sora-2-pro-text-to-video").collect();
    assert_eq!(learnt, [Duration::from_millis(93_500)], "once per task");
}

#[tokio::test]
async fn a_task_of_unknown_age_is_asked_at_once_and_overdue_ones_are_backed_off() {
    // Learnt 90 s; the task is found generating and stays so for long.
    let mut steps: Vec<_> = (0..40).map(|_| record("generating", json!({}))).collect();
    steps.push(success());
    let server = serve(steps).await;
    let (client, timer) = client_that_learnt(&server.uri(), &[90, 90, 90]);
    client.task("t1").wait().await.unwrap();
    let sleeps = timer.sleeps();
    assert_eq!(
        polls(&server).await,
        sleeps.len() + 1,
        "the first poll at once"
    );
    let mut elapsed = Duration::ZERO;
    for sleep in &sleeps {
        elapsed += *sleep;
        if elapsed > Duration::from_secs(150) {
            assert!(
                *sleep >= Duration::from_secs(5) && *sleep <= Duration::from_secs(30),
                "overdue: a tenth of its age, within kie.ai's slowest step: {sleep:?} at {elapsed:?}"
            );
        }
    }
}

/// The client's time on a [`kie_core::time::VirtualTimer`], and an emulator whose frozen
/// clock moves 60 times as far in each of the client's sleeps: a server whose clock
/// runs fast, as an emulator's does, deterministically.
#[derive(Debug)]
struct FastServer {
    client: kie_core::time::VirtualTimer,
    emulator: Arc<kie_emulator::Emulator>,
}

impl kie_core::time::Timer for FastServer {
    fn now(&self) -> Duration {
        self.client.now()
    }

    fn sleep(&self, duration: Duration) -> kie_core::time::Sleep {
        self.emulator.advance(duration * 60);
        self.client.sleep(duration)
    }
}

const FAST_MODEL: &str = "hailuo/02-text-to-video-pro";

/// An emulator whose tasks of [`FAST_MODEL`] take 10 minutes on its clock, which runs 60
/// times as fast as the client's (10 s), and a client on that clock.
async fn fast_server() -> (
    Arc<kie_emulator::Emulator>,
    kie_core::Client,
    Arc<FastServer>,
) {
    let emulator = Arc::new(
        kie_emulator::Emulator::builder()
            .timeline(kie_emulator::Timeline::Time)
            .start()
            .await
            .unwrap(),
    );
    emulator.freeze();
    emulator.set_phases(
        FAST_MODEL,
        kie_emulator::Phases {
            waiting_ms: 0,
            queuing_ms: 0,
            generating_ms: 600_000,
        },
    );
    let timer = Arc::new(FastServer {
        client: kie_core::time::VirtualTimer::new(),
        emulator: emulator.clone(),
    });
    let client = kie_core::Client::builder()
        .api_key("k")
        .base_url(emulator.base_url())
        .timer(timer.clone())
        .build()
        .unwrap();
    (emulator, client, timer)
}

fn fast_input(n: usize) -> kie_core::RawInput {
    kie_core::RawInput::new(FAST_MODEL, json!({"prompt": format!("a fox {n}")}))
}

/// How long, on the client's clock, waiting on `task_id` through `client` takes.
async fn time_wait(client: &kie_core::Client, timer: &FastServer, task_id: &str) -> Duration {
    let start = kie_core::time::Timer::now(timer);
    client.task(task_id).wait().await.unwrap();
    kie_core::time::Timer::now(timer) - start
}

#[tokio::test]
async fn a_task_waited_on_by_its_id_teaches_the_servers_speed() {
    let (_emulator, client, timer) = fast_server().await;
    // Tasks created by this client and waited on by their ids, as a service that keeps
    // ids (or `kie batch`) does.
    let mut waited = Vec::new();
    for n in 0..4 {
        let id = client.submit(&fast_input(n)).await.unwrap().id().to_owned();
        waited.push(time_wait(&client, &timer, &id).await);
    }
    // Once the times are learnt, they are read on the client's clock: 10 minutes there
    // would hold each wait for minutes.
    for wait in &waited[1..] {
        assert!(
            *wait < Duration::from_secs(20),
            "the learnt 10 minutes are 10 s of the client's: {waited:?}"
        );
    }
}

#[tokio::test]
async fn times_learnt_before_the_servers_speed_is_known_are_not_read_as_the_clients() {
    let (emulator, client, timer) = fast_server().await;
    // A task this client did not create (another process's, resumed by its id)
    // finishes first: its 10 minutes are on the server's clock, whose speed nothing has
    // measured yet.
    let other = kie_core::Client::builder()
        .api_key("k")
        .base_url(emulator.base_url())
        .build()
        .unwrap();
    let resumed = other.submit(&fast_input(0)).await.unwrap();
    time_wait(&client, &timer, resumed.id()).await;
    assert_eq!(client.generation_times().times(FAST_MODEL).len(), 1);

    // Then tasks of its own: none waits as if 10 minutes were the client's.
    for n in 1..3 {
        let id = client.submit(&fast_input(n)).await.unwrap().id().to_owned();
        let waited = time_wait(&client, &timer, &id).await;
        assert!(
            waited < Duration::from_secs(20),
            "task {n} waited {waited:?} for 10 s of generation"
        );
    }
}

//! End to end over real HTTP against the emulator: submit, wait, download, callbacks,
//! uploads, credits, and faults, with the emulator's own counts as the witness.

use std::sync::Arc;
use std::time::Duration;

use kie_core::time::VirtualTimer;
use kie_core::{ApiCode, CallbackVerifier, Client, ErrorKind, ModelInput, RawInput, TaskState};
use kie_emulator::{Emulator, Endpoint, FaultEffect, FaultRule, Outcome, Timeline};
use serde_json::{Value, json};
use wiremock::matchers::path;
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Each seed's model with a minimal input that its document accepts.
fn seed_inputs(image_url: &str) -> Vec<RawInput> {
    vec![
        RawInput::new(
            "bytedance/v1-pro-text-to-video",
            json!({"prompt": "日落时分的乡间小路", "aspect_ratio": "16:9", "resolution": "720p", "duration": "5", "camera_fixed": false, "seed": -1, "enable_safety_checker": true}),
        ),
        RawInput::new(
            "bytedance/v1-pro-fast-image-to-video",
            json!({"prompt": "咖啡缓缓注入杯中", "image_url": image_url, "resolution": "720p", "duration": "5"}),
        ),
        RawInput::new(
            "sora-2-pro-text-to-video",
            json!({"prompt": "一只快乐的小狗在花园里奔跑", "aspect_ratio": "landscape", "n_frames": "10", "size": "high", "remove_watermark": true}),
        ),
        RawInput::new(
            "kling/v2-1-master-text-to-video",
            json!({"prompt": "士兵从运输机跳下", "duration": "5", "aspect_ratio": "16:9", "negative_prompt": "模糊", "cfg_scale": 0.5}),
        ),
        RawInput::new(
            "hailuo/02-text-to-video-pro",
            json!({"prompt": "小男孩在侏罗纪山谷上空滑翔", "prompt_optimizer": true}),
        ),
    ]
}

async fn emulator() -> Emulator {
    Emulator::builder()
        .seed(11)
        .timeline(Timeline::AfterPolls { polls: 3 })
        .start()
        .await
        .expect("the emulator starts")
}

fn client_for(emulator: &Emulator) -> Client {
    Client::builder()
        .api_key("test-key")
        .base_url(emulator.base_url())
        .upload_base_url(emulator.upload_base_url())
        .timer(Arc::new(VirtualTimer::new()))
        .build()
        .expect("a valid configuration")
}

fn is_mp4(bytes: &[u8]) -> bool {
    bytes.len() > 8 && &bytes[4..8] == b"ftyp"
}

#[tokio::test]
async fn every_model_submits_waits_and_downloads_a_real_mp4() {
    let emulator = emulator().await;
    let client = client_for(&emulator);
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    let image = client
        .upload_bytes(png)
        .file_name("still.png")
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    for input in seed_inputs(&image.download_url) {
        let model = input.model_id().to_owned();
        let task = client.submit(&input).await.unwrap();
        let target = dir.path().join(format!("{}.mp4", task.id()));
        let (video, bytes) = task.wait().download_to(&target).await.unwrap();
        assert_eq!(video.model.as_deref(), Some(model.as_str()));
        assert_eq!(video.record.state, TaskState::Success);
        let file = std::fs::read(&target).unwrap();
        assert_eq!(file.len() as u64, bytes.bytes);
        assert!(is_mp4(&file), "{model}: not an mp4");
        // recordInfo echoes the request, decoded even though `input` is encoded twice.
        let param = video.record.param().unwrap().expect("a param");
        assert_eq!(param["model"], model.as_str());
        assert!(param["input"]["prompt"].is_string(), "{param}");
    }
    let stats = emulator.stats();
    assert_eq!(stats.tasks_created, 5);
    assert!(
        stats.tasks_by_model.values().all(|&n| n == 1),
        "{:?}",
        stats.tasks_by_model
    );
}

#[tokio::test]
async fn a_failed_task_reports_its_code_and_message() {
    let emulator = emulator().await;
    emulator.push_outcome(Outcome::fail("500", "Internal server error"));
    let client = client_for(&emulator);
    let task = client.submit(&seed_inputs("")[4]).await.unwrap();
    let err = task.wait().await.unwrap_err();
    let ErrorKind::TaskFailed {
        fail_code,
        fail_msg,
        ..
    } = err.kind()
    else {
        panic!("{err}")
    };
    assert_eq!(err.task_id(), Some(task.id()));
    assert_eq!(fail_code.as_deref(), Some("500"));
    assert_eq!(fail_msg.as_deref(), Some("Internal server error"));
}

#[tokio::test]
async fn rate_limited_creates_are_retried_and_create_exactly_one_task() {
    let emulator = emulator().await;
    emulator.add_fault(
        FaultRule::new(FaultEffect::Status {
            status: 429,
            retry_after_s: Some(2),
        })
        .on(Endpoint::CreateTask)
        .next(2),
    );
    let client = client_for(&emulator);
    let task = client.submit(&seed_inputs("")[3]).await.unwrap();
    let stats = emulator.stats();
    assert_eq!(stats.tasks_created, 1);
    assert_eq!(stats.requests.get(&Endpoint::CreateTask), Some(&3));
    assert!(task.wait().await.is_ok());
}

#[tokio::test]
async fn an_ambiguous_create_is_not_retried_and_says_the_task_may_exist() {
    let emulator = emulator().await;
    emulator.add_fault(
        FaultRule::new(FaultEffect::HtmlError { status: 502 })
            .on(Endpoint::CreateTask)
            .after_processing()
            .next(1),
    );
    let client = client_for(&emulator);
    let err = client.submit(&seed_inputs("")[3]).await.unwrap_err();
    assert!(err.task_may_exist(), "{err}");
    let stats = emulator.stats();
    assert_eq!(stats.requests.get(&Endpoint::CreateTask), Some(&1));
    assert_eq!(
        stats.tasks_created, 1,
        "the gateway hid a task that does exist"
    );
}

#[tokio::test]
async fn polls_survive_transient_faults() {
    let emulator = emulator().await;
    emulator.add_fault(
        FaultRule::new(FaultEffect::Status {
            status: 503,
            retry_after_s: None,
        })
        .on(Endpoint::RecordInfo)
        .next(2),
    );
    emulator.add_fault(
        FaultRule::new(FaultEffect::TruncatedJson)
            .on(Endpoint::RecordInfo)
            .next(1),
    );
    let client = client_for(&emulator);
    let task = client.submit(&seed_inputs("")[0]).await.unwrap();
    assert!(task.wait().await.is_ok());
}

#[tokio::test]
async fn callbacks_signed_by_the_emulator_verify_with_the_sdk() {
    let emulator = emulator().await;
    let receiver = MockServer::start().await;
    Mock::given(path("/kie/callback"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&receiver)
        .await;
    let client = client_for(&emulator);
    let task = client
        .submit(&seed_inputs("")[2])
        .callback_url(format!("{}/kie/callback", receiver.uri()))
        .await
        .unwrap();
    task.wait().await.unwrap();
    emulator
        .wait_for_callback_attempts(1, Duration::from_secs(10))
        .await
        .unwrap();
    let requests = receiver.received_requests().await.unwrap();
    let delivery = requests.last().unwrap();
    let key = emulator
        .webhook_key()
        .expect("callbacks are signed by default");
    let verifier = CallbackVerifier::new(key).tolerance(Duration::from_secs(365 * 24 * 3600));
    let callback = verifier
        .verify_headers(&delivery.body, &delivery.headers)
        .unwrap();
    assert_eq!(callback.task_id(), task.id());
    assert_eq!(*callback.state(), TaskState::Success);
    assert_eq!(callback.record.result.as_ref().unwrap().urls.len(), 1);

    // The same delivery signed with another key, or for another task, is refused.
    assert!(
        CallbackVerifier::new("wrong")
            .tolerance(Duration::from_secs(365 * 24 * 3600))
            .verify_headers(&delivery.body, &delivery.headers)
            .is_err()
    );
    let mut forged: Value = serde_json::from_slice(&delivery.body).unwrap();
    forged["data"]["taskId"] = json!("someone-elses-task");
    assert!(
        verifier
            .verify_headers(forged.to_string().as_bytes(), &delivery.headers)
            .is_err()
    );
}

#[tokio::test]
async fn credits_are_debited_and_download_links_are_issued() {
    let emulator = emulator().await;
    let client = client_for(&emulator);
    let before = client.credits().await.unwrap();
    let task = client.submit(&seed_inputs("")[3]).await.unwrap();
    let video = task.wait().await.unwrap();
    let after = client.credits().await.unwrap();
    assert!(after < before, "{before} -> {after}");
    let link = client.download_url(video.video_url()).await.unwrap();
    let mut body = Vec::new();
    client.download(link).to_writer(&mut body).await.unwrap();
    assert!(is_mp4(&body));
    let err = client
        .download_url("https://example.com/not-from-kie.mp4")
        .await
        .unwrap_err();
    assert_eq!(err.api_code(), Some(ApiCode::ValidationFailed));
}

#[tokio::test]
async fn the_emulator_refuses_what_raw_input_lets_through() {
    let emulator = emulator().await;
    let client = client_for(&emulator);
    let too_long = RawInput::new(
        "kling/v2-1-master-text-to-video",
        json!({"prompt": "狐".repeat(5001), "cfg_scale": 2}),
    );
    let err = client.submit(&too_long).await.unwrap_err();
    assert_eq!(err.api_code(), Some(ApiCode::ValidationFailed));
    let text = err.to_string();
    assert!(
        text.contains("prompt") && text.contains("cfg_scale"),
        "{text}"
    );
    assert!(!err.task_may_exist());
    let unknown = RawInput::new("no/such-model", json!({"prompt": "x"}));
    let err = client.submit(&unknown).await.unwrap_err();
    assert!(
        err.to_string()
            .contains("The page does not exist or is not published"),
        "{err}"
    );
    assert_eq!(emulator.stats().tasks_created, 0);
}

/// A minimal image-to-video model, to exercise `VideoModel::submit`'s upload of a
/// local image without a provider crate.
#[derive(Debug)]
struct StillToVideo(kie_core::Modality);

static STILL_I2V: kie_core::ModelInfo = kie_core::ModelInfo::new(
    "bytedance/v1-pro-fast-image-to-video",
    "bytedance",
    kie_core::Modality::ImageToVideo,
    "test double",
    &[
        kie_core::Param::new("image_url", kie_core::ParamKind::Url { max_chars: None }).file(
            kie_core::upload::FileLimits::new(
                &["image/jpeg", "image/png", "image/webp"],
                Some(10 * 1024 * 1024),
            ),
        ),
    ],
);

static STILL_T2V: kie_core::ModelInfo = kie_core::ModelInfo::new(
    "hailuo/02-text-to-video-pro",
    "hailuo",
    kie_core::Modality::TextToVideo,
    "test double",
    &[],
);

impl kie_core::VideoModel for StillToVideo {
    fn info(&self) -> &'static kie_core::ModelInfo {
        if self.0 == kie_core::Modality::ImageToVideo {
            &STILL_I2V
        } else {
            &STILL_T2V
        }
    }

    fn input_for(
        &self,
        request: &kie_core::VideoRequest,
    ) -> Result<Value, kie_core::ValidationError> {
        let image = request
            .image
            .as_ref()
            .map(|m| m.as_url().unwrap_or_default());
        if self.0 == kie_core::Modality::TextToVideo && image.is_some() {
            return Err(kie_core::ValidationError::new(
                "image",
                kie_core::Problem::Unsupported {
                    model: self.id().to_owned(),
                    hint: Some("a text-to-video model takes no image".into()),
                },
            ));
        }
        Ok(json!({"prompt": request.prompt, "image_url": image}))
    }
}

#[tokio::test]
async fn a_local_image_is_checked_uploaded_and_used() {
    use kie_core::{Modality, VideoModel, VideoRequest};
    let emulator = emulator().await;
    let client = client_for(&emulator);
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("still.png");
    std::fs::write(&png, b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR").unwrap();

    let model = StillToVideo(Modality::ImageToVideo);
    let request = VideoRequest::new("the coffee pours").image_path(&png);
    let task = model.submit(&client, &request).await.unwrap();
    let video = task.wait().await.unwrap();
    let image_url = video.record.param().unwrap().expect("a param")["input"]["image_url"].clone();
    assert!(
        image_url.as_str().unwrap().starts_with(emulator.base_url()),
        "{image_url}"
    );

    let gif = dir.path().join("anim.gif");
    std::fs::write(&gif, b"GIF89a").unwrap();
    let err = model
        .submit(&client, &VideoRequest::new("x").image_path(&gif))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("anim.gif"), "{err}");
    let err = StillToVideo(Modality::TextToVideo)
        .submit(&client, &VideoRequest::new("x").image_path(&png))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("takes no image"), "{err}");
    assert_eq!(emulator.stats().tasks_created, 1);
}

#[tokio::test]
async fn uploads_of_each_kind_reach_the_emulator_and_are_served_back() {
    let emulator = emulator().await;
    let client = client_for(&emulator);
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    // A loopback host for the URL upload to fetch from.
    let origin = MockServer::start().await;
    Mock::given(path("/still.png"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(png.clone(), "image/png"))
        .mount(&origin)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("still.png");
    std::fs::write(&file, &png).unwrap();

    let uploads = [
        client.upload_file(&file).upload_path("in").await.unwrap(),
        client
            .upload_bytes(png.clone())
            .file_name("b.png")
            .await
            .unwrap(),
        client
            .upload_url(format!("{}/still.png", origin.uri()))
            .await
            .unwrap(),
    ];
    for uploaded in uploads {
        let mut served = Vec::new();
        client
            .download(&uploaded.download_url)
            .to_writer(&mut served)
            .await
            .unwrap();
        assert_eq!(served, png, "{}", uploaded.download_url);
    }
}

#[tokio::test]
async fn a_result_cut_mid_body_is_resumed_and_a_lasting_cut_leaves_no_file() {
    let emulator = emulator().await;
    let client = client_for(&emulator); // the default policy: 4 attempts
    let video = client
        .submit(&seed_inputs("")[3])
        .await
        .unwrap()
        .wait()
        .await
        .unwrap();
    let mut whole = Vec::new();
    client
        .download(video.video_url())
        .to_writer(&mut whole)
        .await
        .unwrap();
    let files = || emulator.stats().requests.get(&Endpoint::Files).copied();
    let before = files().unwrap_or(0);
    // Each cut sends half of what its answer holds; each resume asks for the rest.
    emulator.add_fault(
        FaultRule::new(FaultEffect::TruncatedJson)
            .on(Endpoint::Files)
            .next(3),
    );
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("cut.mp4");
    client
        .download(video.video_url())
        .to_path(&target)
        .await
        .unwrap();
    assert_eq!(std::fs::read(&target).unwrap(), whole);
    assert_eq!(files(), Some(before + 4));

    // Cut every time: the policy gives up, and nothing is kept.
    std::fs::remove_file(&target).unwrap();
    emulator.add_fault(FaultRule::new(FaultEffect::TruncatedJson).on(Endpoint::Files));
    let err = client
        .download(video.video_url())
        .to_path(&target)
        .await
        .unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Truncated { .. }), "{err}");
    assert_eq!(files(), Some(before + 8));
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

//! Local files of a uniform request, through generated models: each checked by its
//! bytes against the documented types and size of the input field it lands in, then
//! uploaded and sent by URL; nothing uploaded for a request that cannot go.

use std::path::{Path, PathBuf};

use kie::{ErrorKind, VideoRequest, registry};
use kie_emulator::{Emulator, Endpoint};
use serde_json::Value;

const KEY: &str = "media-key";

/// Minimal files whose first bytes say what they are.
fn files(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let mp4 = dir.join("clip.mp4");
    std::fs::write(&mp4, b"\0\0\0\x18ftypisom\0\0\x02\0isomiso2mp41").unwrap();
    let png = dir.join("still.png");
    std::fs::write(&png, b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR").unwrap();
    let wav = dir.join("voice.wav");
    std::fs::write(&wav, b"RIFF\x24\0\0\0WAVEfmt \x10\0\0\0\x01\0\x01\0").unwrap();
    (mp4, png, wav)
}

async fn emulator() -> Emulator {
    crate::common::emulator(KEY).await
}

fn uploads(emulator: &Emulator) -> u64 {
    emulator
        .stats()
        .requests
        .get(&Endpoint::Upload)
        .copied()
        .unwrap_or_default()
}

/// The `input` the emulator received for the task.
async fn sent(task: &kie::Task) -> Value {
    task.record()
        .await
        .unwrap()
        .param()
        .unwrap()
        .expect("a param")["input"]
        .clone()
}

#[tokio::test]
async fn a_local_video_and_a_local_image_and_audio_are_uploaded_into_their_fields() {
    let emulator = emulator().await;
    let client = crate::common::client(&emulator, KEY);
    let dir = tempfile::tempdir().unwrap();
    let (mp4, png, wav) = files(dir.path());

    let upscale = registry::model("topaz/video-upscale").unwrap();
    let task = upscale
        .submit(&client, &VideoRequest::new("").video_path(&mp4))
        .await
        .unwrap();
    let input = sent(&task).await;
    let url = input["video_url"].as_str().expect("a video URL");
    assert!(url.starts_with("http://127.0.0.1"), "{url}");
    assert_eq!(uploads(&emulator), 1);

    let avatar = registry::model("kling/ai-avatar-pro").unwrap();
    let request = VideoRequest::new("she says hello")
        .image_path(&png)
        .audio_path(&wav);
    let task = avatar.submit(&client, &request).await.unwrap();
    let input = sent(&task).await;
    for field in ["image_url", "audio_url"] {
        assert!(
            input[field]
                .as_str()
                .is_some_and(|u| u.starts_with("http://127.0.0.1")),
            "{field}: {input}"
        );
    }
    assert_ne!(input["image_url"], input["audio_url"]);
    assert_eq!(uploads(&emulator), 3);
}

#[tokio::test]
async fn a_file_of_the_wrong_kind_or_an_invalid_request_uploads_nothing() {
    let emulator = emulator().await;
    let client = crate::common::client(&emulator, KEY);
    let dir = tempfile::tempdir().unwrap();
    let (mp4, png, _) = files(dir.path());
    let upscale = registry::model("topaz/video-upscale").unwrap();

    // An image given as the video: refused by its bytes, naming the file and the types
    // the page documents for `video_url`.
    let err = upscale
        .submit(&client, &VideoRequest::new("").video_path(&png))
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("still.png") && text.contains("video/mp4"),
        "{text}"
    );
    assert!(matches!(err.kind(), ErrorKind::InvalidInput(_)), "{err:?}");

    // A request that cannot map: nothing is uploaded for it.
    let err = upscale
        .submit(&client, &VideoRequest::new("").video_path(&mp4).seed(7))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("`seed`"), "{err}");

    // A file for a field the model does not have.
    let err = upscale
        .submit(
            &client,
            &VideoRequest::new("").video_path(&mp4).audio_path(&mp4),
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("`audio`"), "{err}");

    // Every file is checked before any is uploaded: a good image beside a bad audio
    // leaves nothing behind on the upload host.
    let avatar = registry::model("kling/ai-avatar-pro").unwrap();
    let err = avatar
        .submit(
            &client,
            &VideoRequest::new("hello").image_path(&png).audio_path(&png),
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("still.png"), "{err}");

    assert_eq!(uploads(&emulator), 0);
    assert_eq!(emulator.stats().tasks_created, 0);
}

//! A user's program, built outside the repository against the crates `cargo package`
//! made (`.ci/packaged/run` unpacks them and patches them in): `kie` with one provider
//! feature (plus `axum`) and `kie-emulator`, as a user gets them from crates.io.
//!
//! It proves what only a packaged crate can: the emulator knows the models (it once
//! embedded no spec document outside the workspace and answered every createTask with
//! 422), a seed request becomes a video, and a bad request is refused by the SDK and by
//! the emulator, each naming the field.

use kie::kling::KlingV21MasterTextToVideoInput;
use kie::receiver::{self, ReceiverLimits};
use kie::{CallbackInbox, CallbackVerifier, Client, ErrorKind, RawInput};
use kie_emulator::Emulator;
use serde_json::Value;

const MODEL: &str = "kling/v2-1-master-text-to-video";

#[tokio::main]
async fn main() {
    if let Err(error) = run().await {
        eprintln!("packaged crates: {error}");
        let mut source = error.source();
        while let Some(cause) = source {
            eprintln!("  caused by: {cause}");
            source = cause.source();
        }
        std::process::exit(1);
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    // Kling's 199 s of generation in about two: the task ends, and its callback comes,
    // with nobody polling.
    let emulator = Emulator::builder().speed(100.0).start().await?;
    let models = emulator.models();
    if !models.iter().any(|model| model == MODEL) {
        return Err(
            format!("the packaged emulator does not know {MODEL}; it knows {models:?}").into(),
        );
    }
    let client = Client::builder()
        .api_key("packaged")
        .base_url(emulator.base_url())
        .upload_base_url(emulator.upload_base_url())
        .build()?;

    // The seed request: the example of Kling's spec document, as the emulator embeds it.
    let (_, document) = kie_emulator::spec_documents()
        .iter()
        .find(|(name, _)| *name == "kling-v2-1-master-text-to-video.json")
        .ok_or("the packaged emulator embeds no Kling document")?;
    let document: Value = serde_json::from_str(document)?;
    let seed = document
        .pointer("/paths/~1api~1v1~1jobs~1createTask/post/requestBody/content/application~1json/example/input")
        .ok_or("Kling's document has no request example")?
        .clone();
    let input = KlingV21MasterTextToVideoInput::from_json(seed)?;

    // Its callback goes to the packaged receiver (`kie`'s `axum` feature), and the wait
    // ends on it.
    let key = emulator
        .webhook_key()
        .ok_or("the emulator signs no callback")?;
    let inbox = CallbackInbox::new(client.clone(), CallbackVerifier::new(key));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let callback_url = format!("http://{}/", listener.local_addr()?);
    tokio::spawn(receiver::serve(
        listener,
        inbox.router(),
        ReceiverLimits::default(),
    ));

    let task = client.submit(&input).callback_url(callback_url).await?;
    let video = task.wait().callbacks(&inbox).await?;
    let out = std::env::current_dir()?.join("seed.mp4");
    let saved = client.download(video.video_url()).to_path(&out).await?;
    let head = std::fs::read(&out)?;
    if saved.bytes == 0 || head.get(4..8) != Some(b"ftyp".as_slice()) {
        return Err(format!("{} is not an mp4 ({} bytes)", out.display(), saved.bytes).into());
    }
    println!(
        "{MODEL}: task {} made {} ({} bytes)",
        task.id(),
        out.display(),
        saved.bytes
    );

    // A bad request: the SDK refuses it before sending, naming the field...
    let bad = KlingV21MasterTextToVideoInput::new("a red fox").cfg_scale(5.0);
    match client.submit(&bad).await {
        Err(error)
            if matches!(error.kind(), ErrorKind::InvalidInput { .. })
                && error.to_string().contains("cfg_scale") =>
        {
            println!("refused by the SDK: {error}");
        }
        other => return Err(format!("the SDK sent a cfg_scale of 5: {other:?}").into()),
    }
    // ...and the emulator, sent the same input raw, answers code 422 naming it too (under
    // HTTP 200, as live kie.ai answers its errors).
    let raw = RawInput::new(
        MODEL,
        serde_json::json!({"prompt": "a red fox", "cfg_scale": 5.0}),
    );
    match client.submit(&raw).await {
        Err(error)
            if error.api_code().map(|code| code.as_i64()) == Some(422)
                && error.to_string().contains("input.cfg_scale") =>
        {
            println!("refused by the emulator: {error}");
        }
        other => return Err(format!("the emulator took a cfg_scale of 5: {other:?}").into()),
    }
    Ok(())
}

//! The first program: a typed Kling request, submitted, awaited with progress, saved.
//!
//!     cargo run -p kie-examples --example quickstart -- [OUT.mp4]
//!
//! Without KIE_API_KEY, everything runs against a local emulator.

use kie::kling::{KlingV21MasterTextToVideoInput, v2_1_master_text_to_video::VideoDuration};

#[tokio::main]
async fn main() {
    kie_examples::report(run().await);
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let out = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "fox.mp4".to_owned());
    let (client, _emulator) = kie_examples::connect().await?;

    // Checked against the model's documented limits here, before anything is spent.
    let input = KlingV21MasterTextToVideoInput::new("a red fox running through snow")
        .duration(VideoDuration::Secs5)
        .cfg_scale(0.5);
    let task = client.submit(&input).await?;
    // Keep the id: after a crash, `client.task(id).wait()` picks the task up again.
    eprintln!("task {} created", task.id());

    let (video, saved) = task
        .wait()
        .on_progress(|p| eprintln!("  {} after {}s", p.state, p.elapsed.as_secs()))
        .download_to(&out)
        .await?;
    println!("{out} ({} bytes) from {}", saved.bytes, video.video_url());
    Ok(())
}

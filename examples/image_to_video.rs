//! Image to video from a local file: upload it, submit, wait with progress, download.
//!
//!     cargo run -p kie-examples --example image_to_video -- [IMAGE] [OUT.mp4]
//!
//! Without an image, a small PNG is made for the demo. Without KIE_API_KEY, everything
//! runs against a local emulator.

use std::path::PathBuf;

use kie::{VideoRequest, registry};

/// A 1x1 PNG, for running the example without an image at hand.
const TINY_PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4,
    0x89, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0xF8, 0xCF, 0xC0, 0xF0,
    0x1F, 0x00, 0x05, 0x00, 0x01, 0xFF, 0x89, 0x99, 0x3D, 0x1D, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
    0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
];

#[tokio::main]
async fn main() {
    kie_examples::report(run().await);
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let image = match args.next() {
        Some(path) => PathBuf::from(path),
        None => {
            let path = std::env::temp_dir().join("kie-example-still.png");
            std::fs::write(&path, TINY_PNG)?;
            path
        }
    };
    let out = PathBuf::from(args.next().unwrap_or_else(|| "still.mp4".to_owned()));
    let (client, _emulator) = kie_examples::connect().await?;

    let model = registry::model("bytedance/v1-pro-fast-image-to-video")?;
    let request = VideoRequest::new("the coffee pours slowly into the cup, steam rising")
        .image_path(&image) // checked (JPEG/PNG/WebP, 10 MB) and uploaded on submit
        .duration_secs(5);
    let task = model.submit(&client, &request).await?;
    eprintln!(
        "task {} created (keep the id: a wait can resume from it)",
        task.id()
    );

    let (video, saved) = task
        .wait()
        .on_progress(|p| {
            eprintln!(
                "  {} {}",
                p.state,
                p.percent.map(|n| format!("{n}%")).unwrap_or_default()
            )
        })
        .download_to(&out)
        .await?;
    println!(
        "{} ({} bytes) from {}",
        out.display(),
        saved.bytes,
        video.video_url()
    );
    Ok(())
}

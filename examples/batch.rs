//! Many videos at once with bounded concurrency: at most N tasks in progress, each
//! submitted, awaited and saved, every failure reported with its task id.
//!
//!     cargo run -p kie-examples --example batch -- [OUT_DIR] [CONCURRENCY]
//!
//! (For resumable batches from a file, with a journal and kie.ai's rate limit, use
//! `kie batch`.) Without KIE_API_KEY, everything runs against a local emulator.

use std::path::PathBuf;
use std::sync::Arc;

use kie::hailuo::Hailuo02TextToVideoProInput;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

const PROMPTS: &[&str] = &[
    "a red fox running through snow",
    "a lighthouse at dusk, waves below",
    "a paper boat drifting down a gutter in the rain",
    "a hummingbird hovering at a red flower, slow motion",
    "a city street at night, neon reflected in puddles",
    "a steaming cup of coffee on a wooden table",
];

#[tokio::main]
async fn main() {
    kie_examples::report(run().await);
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let out_dir = PathBuf::from(args.next().unwrap_or_else(|| "videos".to_owned()));
    let concurrency: usize = args.next().map_or(Ok(3), |n| n.parse())?;
    std::fs::create_dir_all(&out_dir)?;
    let (client, _emulator) = kie_examples::connect().await?;

    // Check every request before spending anything on the first.
    let inputs = PROMPTS
        .iter()
        .map(|prompt| {
            let input = Hailuo02TextToVideoProInput::new(*prompt).prompt_optimizer(true);
            kie::ModelInput::validate(&input).map(|()| input)
        })
        .collect::<Result<Vec<_>, _>>()?;

    let slots = Arc::new(Semaphore::new(concurrency));
    let mut running = JoinSet::new();
    for (n, input) in inputs.into_iter().enumerate() {
        let (client, slots) = (client.clone(), Arc::clone(&slots));
        let out = out_dir.join(format!("video-{}.mp4", n + 1));
        running.spawn(async move {
            // Held until the video is saved: at most `concurrency` tasks in progress.
            let _slot = slots.acquire_owned().await.map_err(|e| e.to_string())?;
            let task = client.submit(&input).await.map_err(|e| e.to_string())?;
            eprintln!("{}: task {} created", out.display(), task.id());
            let (_, saved) = task
                .wait()
                .download_to(&out)
                .await
                .map_err(|e| e.to_string())?;
            Ok::<_, String>(format!(
                "{} ({} bytes) from task {}",
                out.display(),
                saved.bytes,
                task.id()
            ))
        });
    }

    let mut failures = 0;
    while let Some(joined) = running.join_next().await {
        match joined? {
            Ok(saved) => println!("{saved}"),
            Err(error) => {
                failures += 1;
                eprintln!("error: {error}");
            }
        }
    }
    if failures > 0 {
        return Err(format!("{failures} of {} videos failed", PROMPTS.len()).into());
    }
    Ok(())
}

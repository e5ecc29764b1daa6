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
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinSet;

const PROMPTS: &[&str] = &[
    "a red fox running through snow",
    "a lighthouse at dusk, waves below",
    "a paper boat drifting down a gutter in the rain",
    "a hummingbird hovering at a red flower, slow motion",
    "a city street at night, neon reflected in puddles",
    "a steaming cup of coffee on a wooden table",
];

/// What a video's task reports. Only `run` prints, one line per event: tasks printing
/// for themselves wrote their lines in pieces, and the lines of concurrent tasks ran
/// into each other.
enum Event {
    /// The video's task was created.
    Created { out: PathBuf, task_id: String },
    /// The video is saved.
    Saved {
        out: PathBuf,
        bytes: u64,
        task_id: String,
    },
    /// The video failed (the error names the task when one was created).
    Failed { out: PathBuf, error: String },
}

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
    let (events, mut reported) = mpsc::unbounded_channel();
    let mut running = JoinSet::new();
    for (n, input) in inputs.into_iter().enumerate() {
        let (client, slots, events) = (client.clone(), Arc::clone(&slots), events.clone());
        let out = out_dir.join(format!("video-{}.mp4", n + 1));
        running.spawn(async move {
            // Held until the video is saved: at most `concurrency` tasks in progress.
            let _slot = slots
                .acquire_owned()
                .await
                .expect("the semaphore is never closed");
            let saved = async {
                let task = client.submit(&input).await?;
                let task_id = task.id().to_owned();
                let _ = events.send(Event::Created {
                    out: out.clone(),
                    task_id: task_id.clone(),
                });
                let (_, saved) = task.wait().download_to(&out).await?;
                Ok::<_, kie::Error>((saved.bytes, task_id))
            };
            let event = match saved.await {
                Ok((bytes, task_id)) => Event::Saved {
                    out,
                    bytes,
                    task_id,
                },
                Err(error) => Event::Failed {
                    out,
                    error: error.to_string(),
                },
            };
            let _ = events.send(event);
        });
    }
    // The channel ends when the last task ends.
    drop(events);

    let mut failures = 0;
    while let Some(event) = reported.recv().await {
        match event {
            Event::Created { out, task_id } => {
                eprintln!("{}: task {task_id} created", out.display());
            }
            Event::Saved {
                out,
                bytes,
                task_id,
            } => println!("{} ({bytes} bytes) from task {task_id}", out.display()),
            Event::Failed { out, error } => {
                failures += 1;
                eprintln!("error: {}: {error}", out.display());
            }
        }
    }
    while let Some(joined) = running.join_next().await {
        joined?;
    }
    if failures > 0 {
        return Err(format!("{failures} of {} videos failed", PROMPTS.len()).into());
    }
    Ok(())
}

//! `kie generate`: one video from a prompt, validated before anything is spent.

use std::path::PathBuf;

use serde_json::json;

use crate::cli::Generate;
use crate::failure::Failure;
use crate::output::Output;
use crate::progress::Display;
use crate::request::{param_value, video_request};
use crate::task::{Video, await_video, save};

/// Validates and submits the request (uploading a local image first), then, unless
/// `--no-wait`, waits with progress and downloads the video.
pub async fn generate(
    client: &kie::Client,
    args: &Generate,
    display: Display,
) -> Result<Output, Failure> {
    let model = kie::registry::model(&args.model)?;
    let params = args
        .params
        .iter()
        .map(|(name, text)| (name.clone(), param_value(&model, name, text)));
    let request = video_request(
        &args.prompt,
        params,
        args.image.as_deref(),
        args.callback_url.as_deref(),
    );
    let task = model.submit(client, &request).await?;
    if args.no_wait {
        return Ok(Output::new(
            json!({ "task_id": task.id(), "model": model.id(), "state": "submitted" }),
            task.id(),
        ));
    }
    display.note(format!(
        "task {} created on {} (if this stops, `kie wait {}` resumes)",
        task.id(),
        model.id(),
        task.id()
    ));
    let video = await_video(&task, args.max_wait, display).await?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("{}.mp4", task.id())));
    Ok(save(client, Video::from(&video), &out, display)
        .await?
        .output())
}

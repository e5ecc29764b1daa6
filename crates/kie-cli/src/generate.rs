//! `kie generate`: one video from a prompt, validated before anything is spent.

use std::path::{Path, PathBuf};

use serde_json::json;

use crate::cli::Generate;
use crate::connect::Backend;
use crate::failure::Failure;
use crate::out;
use crate::output::Output;
use crate::progress::Display;
use crate::request::{check, param_value, video_request};
use crate::task::{Video, await_video, save};

/// Validates the request and checks `--out`, then submits it (uploading a local image
/// first) and, unless `--no-wait`, waits with progress and downloads the video.
pub async fn generate(
    client: &kie::Client,
    args: &Generate,
    display: Display,
    backend: Backend,
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
    check(model.as_ref(), &request)?;
    if !args.no_wait {
        match &args.out {
            Some(out) => out::prepare(out, display)?,
            None => out::prepare_dir(Path::new("."), Path::new("<task-id>.mp4"), display)?,
        }
    }
    let task = model.submit(client, &request).await?;
    if args.no_wait {
        return Ok(Output::new(
            json!({ "task_id": task.id(), "model": model.id(), "state": "submitted" }),
            task.id(),
        ));
    }
    let if_stopped = match backend {
        Backend::Remote => format!("if this stops, `kie wait {}` resumes", task.id()),
        Backend::InProcess => "with --emulator the task ends with this command".to_owned(),
    };
    display.note(format!(
        "task {} created on {} ({if_stopped})",
        task.id(),
        model.id(),
    ));
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("{}.mp4", task.id())));
    let video = await_video(&task, args.max_wait, display, Some(&out)).await?;
    Ok(save(client, Video::from(&video), &out, display)
        .await?
        .output())
}

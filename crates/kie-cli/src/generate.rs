//! `kie generate`: one video from a prompt, validated before anything is spent.

use std::path::{Path, PathBuf};

use serde_json::json;

use crate::cli::Generate;
use crate::connect::Backend;
use crate::failure::{Failure, Resume};
use crate::interrupt::Stake;
use crate::out;
use crate::output::Output;
use crate::progress::Display;
use crate::request::{self, MediaKind, Origin, check, video_request};
use crate::task::{Video, await_video, fileless, save};

/// Validates the request and checks `--out`, then submits it (uploading local media
/// files first) and, unless `--no-wait`, waits with progress and downloads the video. `stake`
/// follows the task: being created, then awaited, then downloaded.
pub async fn generate(
    client: &kie::Client,
    args: &Generate,
    display: Display,
    backend: Backend,
    stake: &Stake,
) -> Result<Output, Failure> {
    let model = kie::registry::model(&args.model)?;
    let params = request::params(&model, &args.params)?;
    let media = request::media_inputs(
        [
            (MediaKind::Image, args.image.as_slice()),
            (MediaKind::EndImage, args.end_image.as_slice()),
            (MediaKind::ReferenceImage, args.reference_image.as_slice()),
            (MediaKind::Video, args.video.as_slice()),
            (MediaKind::Audio, args.audio.as_slice()),
        ],
        Origin::Flags,
    )?;
    let request = video_request(&args.prompt, params, media, args.callback_url.as_deref());
    check(model.as_ref(), &request, Origin::Flags)?;
    if !args.no_wait {
        match &args.out {
            Some(out) => out::prepare(out, display)?,
            None => out::prepare_dir(Path::new("."), Path::new("<task-id>.mp4"), display)?,
        }
    }
    stake.set(Resume::Submitting);
    let task = model
        .submit(client, &request)
        .await
        .map_err(|error| request::submit_failure(error, &request, Origin::Flags))?;
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
    stake.set(Resume::Wait {
        task_id: task.id().to_owned(),
        out: Some(out.clone()),
    });
    let video = await_video(&task, args.max_wait, display, Some(&out)).await?;
    if let Some(output) = fileless(&video) {
        return Ok(output);
    }
    stake.set(Resume::Download {
        task_id: task.id().to_owned(),
        out: out.clone(),
    });
    Ok(save(client, Video::from(&video), &out, display)
        .await?
        .output())
}

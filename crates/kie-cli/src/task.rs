//! Commands about a task that exists: `kie status`, `kie wait`, `kie download`, and the
//! wait-then-save steps `kie generate` and `kie batch` share.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use kie::{Client, Error, Task, TaskRecord, TaskState, VideoResult};
use serde_json::json;

use crate::escape;
use crate::failure::{Failure, Kind, Resume};
use crate::interrupt::Stake;
use crate::out;
use crate::output::Output;
use crate::progress::Display;

/// `kie status`: the task's record in words, or as JSON with the original request
/// decoded beside it (`param`, `null` when kie.ai sent none or sent it garbled; the
/// record's `raw` keeps it as sent).
pub async fn status(client: &Client, task_id: &str) -> Result<Output, Failure> {
    let record = client.task(task_id).record().await?;
    let text = describe(&record);
    let param = record.param().ok().flatten();
    Ok(Output::new(
        json!({ "record": record, "param": param }),
        text,
    ))
}

/// `kie wait`: waits, then prints the URL, or downloads it to `out`.
pub async fn wait(
    client: &Client,
    task_id: &str,
    out: Option<&Path>,
    max_wait: Duration,
    display: Display,
    stake: &Stake,
) -> Result<Output, Failure> {
    if let Some(out) = out {
        out::prepare(out, display)?;
    }
    stake.set(Resume::Wait {
        task_id: task_id.to_owned(),
        out: out.map(Path::to_owned),
    });
    let video = await_video(&client.task(task_id), max_wait, display, out).await?;
    if let Some(output) = fileless(&video) {
        return Ok(output);
    }
    match out {
        Some(out) => {
            stake.set(Resume::Download {
                task_id: task_id.to_owned(),
                out: out.to_owned(),
            });
            Ok(save(client, Video::from(&video), out, display)
                .await?
                .output())
        }
        None => Ok(Output::new(
            json!({ "task_id": video.task_id, "model": video.model, "urls": video.urls }),
            video.video_url(),
        )),
    }
}

/// `kie download`: downloads a finished task's video; says what to do for one that is
/// not finished.
pub async fn download(
    client: &Client,
    task_id: &str,
    out: &Path,
    display: Display,
    stake: &Stake,
) -> Result<Output, Failure> {
    out::prepare(out, display)?;
    stake.set(Resume::Download {
        task_id: task_id.to_owned(),
        out: out.to_owned(),
    });
    let record = client.task(task_id).record().await?;
    let url = match &record.state {
        TaskState::Success => record
            .result
            .as_ref()
            .and_then(|result| result.urls.first())
            .cloned(),
        TaskState::Fail => {
            return Err(Error::task_failed(record).into());
        }
        state => {
            return Err(
                Failure::input(format!("task {task_id} is still {state}")).resume(Resume::Wait {
                    task_id: task_id.to_owned(),
                    out: Some(out.to_owned()),
                }),
            );
        }
    };
    let Some(url) = url else {
        return Err(Failure::local(format!(
            "task {task_id} succeeded but kie.ai lists no result file"
        )));
    };
    let video = Video {
        task_id: record.task_id.clone(),
        model: record.model.clone(),
        url,
    };
    Ok(save(client, video, out, display).await?.output())
}

/// Waits for `task` with a live display of its state. A failure other than the task's
/// own (or an unknown id) leaves the task going on, so it says how to take it up, with
/// `out`, where the video was to go.
pub async fn await_video(
    task: &Task,
    max_wait: Duration,
    display: Display,
    out: Option<&Path>,
) -> Result<VideoResult, Failure> {
    let shown = display.wait(task.id());
    let sink = shown.clone();
    let video = task
        .wait()
        .max_wait(max_wait)
        .on_progress(move |progress| sink.waited(progress))
        .await;
    shown.finish();
    video.map_err(|error| {
        let failure = Failure::from(error);
        match failure.kind() {
            Kind::TaskFailed | Kind::UnknownTask | Kind::Input => failure,
            _ => failure.resume(Resume::Wait {
                task_id: task.id().to_owned(),
                out: out.map(Path::to_owned),
            }),
        }
    })
}

/// What to print for a result that has no file (a Sora character, a text result), so
/// that nothing is downloaded from an empty URL; `None` for a result with files.
pub fn fileless(video: &VideoResult) -> Option<Output> {
    if !video.urls.is_empty() {
        return None;
    }
    let text = match &video.character_id {
        Some(id) => format!("character {id} (the task makes no file)"),
        None => "a text result (the task makes no file); see --json".to_owned(),
    };
    Some(Output::new(
        json!({
            "task_id": video.task_id,
            "model": video.model,
            "urls": [],
            "character_id": video.character_id,
            "result": video.object(),
        }),
        text,
    ))
}

/// A finished task's video, as far as saving it goes.
#[derive(Debug, Clone)]
pub struct Video {
    /// The task.
    pub task_id: String,
    /// Its model, when known.
    pub model: Option<String>,
    /// The video's URL.
    pub url: String,
}

impl From<&VideoResult> for Video {
    fn from(video: &VideoResult) -> Self {
        Self {
            task_id: video.task_id.clone(),
            model: video.model.clone(),
            url: video.video_url().to_owned(),
        }
    }
}

/// A video saved to a file.
#[derive(Debug)]
pub struct Saved {
    video: Video,
    file: PathBuf,
    bytes: u64,
}

impl Saved {
    /// The bytes written.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// The outcome in both forms.
    pub fn output(&self) -> Output {
        Output::new(
            json!({
                "task_id": self.video.task_id,
                "model": self.video.model,
                "state": "success",
                "file": self.file,
                "bytes": self.bytes,
                "url": self.video.url,
            }),
            format!(
                "{} ({} bytes) from task {}",
                self.file.display(),
                self.bytes,
                self.video.task_id
            ),
        )
    }
}

/// Downloads `video` to `out` (atomically: a cut download leaves nothing behind) with a
/// live byte count. A failure names `out` and says how to finish the job: the task is
/// done and paid for, so only the download is left to do.
pub async fn save(
    client: &Client,
    video: Video,
    out: &Path,
    display: Display,
) -> Result<Saved, Failure> {
    let shown = display.download(&out.display().to_string());
    let sink = shown.clone();
    let downloaded = client
        .download(&video.url)
        .on_progress(move |progress| sink.downloaded(progress))
        .to_path(out)
        .await;
    shown.finish();
    let done = downloaded.map_err(|error| {
        Failure::from(error.for_task(&video.task_id))
            .context(format_args!(
                "could not save the video to {}",
                out.display()
            ))
            .resume(Resume::Download {
                task_id: video.task_id.clone(),
                out: out.to_owned(),
            })
    })?;
    if !done.verified {
        display.note(format!(
            "{}: the file host gave no length, so the file could not be checked for a cut",
            out.display()
        ));
    }
    Ok(Saved {
        bytes: done.bytes,
        file: out.to_owned(),
        video,
    })
}

/// A record in words, one fact a line.
fn describe(record: &TaskRecord) -> String {
    let mut lines = vec![format!("task {}", escape::line(&record.task_id))];
    if let Some(model) = &record.model {
        lines.push(format!("  model:    {}", escape::line(model)));
    }
    let mut state = escape::line(&record.state.to_string()).into_owned();
    if let Some(percent) = record.progress {
        state.push_str(&format!(" ({percent}%)"));
    }
    lines.push(format!("  state:    {state}"));
    for (label, at) in [
        ("created", record.create_time),
        ("updated", record.update_time),
        ("finished", record.complete_time),
    ] {
        if let Some(ms) = at.and_then(|ms| u64::try_from(ms).ok()) {
            let when = SystemTime::UNIX_EPOCH + Duration::from_millis(ms);
            lines.push(format!(
                "  {label}:{:pad$}{}",
                "",
                httpdate::fmt_http_date(when),
                pad = 9 - label.len()
            ));
        }
    }
    if let Some(result) = &record.result {
        for url in &result.urls {
            lines.push(format!("  video:    {}", escape::line(url)));
        }
    }
    if record.state == TaskState::Fail {
        lines.push(format!(
            "  failure:  {} (failCode {})",
            escape::line(
                record
                    .fail_msg
                    .as_deref()
                    .unwrap_or("kie.ai gave no reason")
            ),
            escape::line(record.fail_code.as_deref().unwrap_or("none"))
        ));
    }
    lines.join("\n")
}

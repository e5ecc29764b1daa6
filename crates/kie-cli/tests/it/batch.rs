//! `kie batch`: every line done once, under the rate limit, and safe to kill.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{Local, PNG, assert_mp4, bare_kie, json, stderr, stdout};
use kie_emulator::{Emulator, Endpoint, FaultEffect, FaultRule, TaskState, Timeline};
use serde_json::Value;

pub const KLING: &str = "kling/v2-1-master-text-to-video";
pub const JOURNAL: &str = "kie-batch.journal.jsonl";

pub fn write_batch(dir: &Path, lines: &[String]) -> PathBuf {
    let path = dir.join("batch.jsonl");
    std::fs::write(&path, lines.join("\n") + "\n").expect("written");
    path
}

/// `kie batch FILE --out-dir OUT EXTRA...` against `local`.
fn run_batch(local: &Local, file: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    local
        .kie()
        .arg("batch")
        .arg(file)
        .arg("--out-dir")
        .arg(out)
        .args(extra)
        .output()
        .expect("runs")
}

pub fn line(prompt: &str) -> String {
    serde_json::json!({ "model": KLING, "prompt": prompt }).to_string()
}

/// The journal's entries.
fn journal(out: &Path) -> Vec<Value> {
    std::fs::read_to_string(out.join(JOURNAL))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

fn events(entries: &[Value], event: &str) -> usize {
    entries.iter().filter(|e| e["event"] == event).count()
}

#[test]
fn a_batch_saves_every_line_and_a_second_run_creates_nothing() {
    let local = Local::start(Emulator::builder().timeline(Timeline::AfterPolls { polls: 1 }));
    let dir = tempfile::tempdir().expect("a temporary directory");
    let lines = vec![
        line("a fox"),
        serde_json::json!({ "model": "hailuo/02-text-to-video-pro", "prompt": "a cat", "name": "cat" })
            .to_string(),
        serde_json::json!({ "model": "sora-2-pro-text-to-video", "prompt": "waves", "params": { "n_frames": "15" } })
            .to_string(),
    ];
    let file = write_batch(dir.path(), &lines);
    let out = dir.path().join("out");
    let output = local
        .kie()
        .arg("batch")
        .arg(&file)
        .arg("--out-dir")
        .arg(&out)
        .output()
        .expect("runs");
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        stdout(&output).trim(),
        format!("3 of 3 videos saved in {}", out.display())
    );
    for name in ["line-1.mp4", "cat.mp4", "line-3.mp4"] {
        assert_mp4(&out.join(name));
    }
    assert_eq!(local.stats().tasks_created, 3);
    let sora = local
        .emulator
        .tasks()
        .into_iter()
        .find(|t| t.model == "sora-2-pro-text-to-video")
        .expect("the sora task");
    assert_eq!(sora.request["input"]["n_frames"], "15");

    let output = local
        .kie()
        .args(["--json", "batch"])
        .arg(&file)
        .arg("--out-dir")
        .arg(&out)
        .output()
        .expect("runs");
    assert!(output.status.success(), "{}", stderr(&output));
    let document = json(&output);
    assert_eq!(document["lines"], 3);
    let files: Vec<&str> = document["done"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|line| line["file"].as_str().expect("each line names its file"))
        .collect();
    let expected: Vec<String> = ["line-1.mp4", "cat.mp4", "line-3.mp4"]
        .iter()
        .map(|name| out.join(name).display().to_string())
        .collect();
    assert_eq!(files, expected);
    assert_eq!(
        local.stats().tasks_created,
        3,
        "the second run created nothing"
    );

    let output = local
        .kie()
        .arg("batch")
        .arg(&file)
        .arg("--out-dir")
        .arg(&out)
        .output()
        .expect("runs");
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stderr(&output).contains(": 3 of 3 lines already saved"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn comments_and_blank_lines_are_skipped_and_images_are_found_beside_the_batch_file() {
    let local = Local::start(Emulator::builder().timeline(Timeline::AfterPolls { polls: 1 }));
    let dir = tempfile::tempdir().expect("a temporary directory");
    let batches = dir.path().join("batches");
    std::fs::create_dir(&batches).expect("made");
    std::fs::write(batches.join("still.png"), PNG).expect("written");
    let lines = [
        "# two videos of the kitchen".to_owned(),
        String::new(),
        serde_json::json!({ "model": "bytedance/v1-pro-fast-image-to-video", "prompt": "steam rises", "image": "still.png" })
            .to_string(),
        "   # indented, and after a blank line".to_owned(),
        line("a kettle"),
    ];
    let file = write_batch(&batches, &lines);
    let elsewhere = dir.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).expect("made");
    let output = local
        .kie()
        .current_dir(&elsewhere)
        .arg("batch")
        .arg(&file)
        .args(["--out-dir", "out"])
        .output()
        .expect("runs");
    assert!(output.status.success(), "{}", stderr(&output));
    assert_mp4(&elsewhere.join("out/line-3.mp4"));
    assert_mp4(&elsewhere.join("out/line-5.mp4"));
    assert_eq!(local.stats().requests.get(&Endpoint::Upload), Some(&1));

    // A missing image is named where it was looked for.
    let file = write_batch(
        &batches,
        &[serde_json::json!({ "model": "bytedance/v1-pro-fast-image-to-video", "prompt": "x", "image": "gone.png" })
            .to_string()],
    );
    let output = local
        .kie()
        .current_dir(&elsewhere)
        .arg("batch")
        .arg(&file)
        .args(["--out-dir", "out2"])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains(&format!(
            "line 1: `image` {} is not a readable file",
            batches.join("gone.png").display()
        )),
        "{}",
        stderr(&output)
    );
}

#[test]
fn media_keys_are_checked_on_every_line_before_anything_is_sent() {
    let local = Local::start(Emulator::builder());
    let dir = tempfile::tempdir().expect("a temporary directory");
    let batches = dir.path().join("batches");
    std::fs::create_dir(&batches).expect("made");
    for file in ["first.png", "clip.mp4"] {
        std::fs::write(batches.join(file), PNG).expect("written");
    }
    let fast = "bytedance/v1-pro-fast-image-to-video";
    let lines = [
        line("a fox"),
        // Found beside the batch file, but the model takes no input video.
        serde_json::json!({ "model": KLING, "prompt": "x", "video": "clip.mp4" }).to_string(),
        // Missing, and named where it was looked for.
        serde_json::json!({ "model": fast, "prompt": "x", "image": "first.png", "end_image": "last.png" })
            .to_string(),
        serde_json::json!({ "model": fast, "prompt": "x", "image": "first.png", "reference_images": ["https://example.com/a.png", "b.png"] })
            .to_string(),
        serde_json::json!({ "model": KLING, "prompt": "x", "audio": "voice.mp3" }).to_string(),
        // Not a list, and a misspelt key.
        serde_json::json!({ "model": fast, "prompt": "x", "image": "first.png", "reference_images": "b.png" })
            .to_string(),
        serde_json::json!({ "model": KLING, "prompt": "x", "videos": ["clip.mp4"] }).to_string(),
        // A URL the model takes, beside a URL of another scheme.
        serde_json::json!({ "model": fast, "prompt": "x", "image": "https://example.com/a.png", "audio": "ftp://example.com/a.mp3" })
            .to_string(),
    ];
    let file = write_batch(&batches, &lines);
    let output = local
        .kie()
        .current_dir(dir.path())
        .arg("batch")
        .arg(&file)
        .args(["--out-dir", "out"])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let text = stderr(&output);
    let beside = |file: &str| batches.join(file).display().to_string();
    for expected in [
        "has 7 bad line(s); nothing was sent".to_owned(),
        format!(
            "line 2: invalid input for {KLING}: `video` is not supported by {KLING} \
             (the model takes no input video)"
        ),
        format!(
            "line 3: `end_image` {} is not a readable file",
            beside("last.png")
        ),
        format!(
            "line 4: `reference_images` {} is not a readable file",
            beside("b.png")
        ),
        format!(
            "line 5: `audio` {} is not a readable file",
            beside("voice.mp3")
        ),
        "line 6: `reference_images` must be a list of paths or URLs".to_owned(),
        "line 7: unknown field `videos`".to_owned(),
        "line 8: `audio` ftp://example.com/a.mp3: a ftp:// URL cannot be used".to_owned(),
        "\"end_image\": PATH_OR_URL".to_owned(),
        "\"reference_images\": [PATH_OR_URL, ...]".to_owned(),
    ] {
        assert!(text.contains(&expected), "{expected} not in {text}");
    }
    assert!(!text.contains("line 1:"), "{text}");
    assert_eq!(local.requests(), 0);
    assert!(!dir.path().join("out").join(JOURNAL).exists());
}

#[test]
fn a_bad_line_stops_the_batch_before_anything_is_sent() {
    let local = Local::start(Emulator::builder());
    let dir = tempfile::tempdir().expect("a temporary directory");
    let bad = serde_json::json!({ "model": KLING, "prompt": "x", "params": { "duration": "7" } });
    let file = write_batch(dir.path(), &[line("a fox"), bad.to_string()]);
    let output = local
        .kie()
        .arg("batch")
        .arg(&file)
        .args(["--out-dir", "unused"])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    let text = stderr(&output);
    assert!(
        text.contains("has 1 bad line(s); nothing was sent"),
        "{text}"
    );
    assert!(text.contains(r#"line 2: invalid input for kling/v2-1-master-text-to-video: `duration` is "7"; allowed: "5", "10""#), "{text}");
    assert_eq!(local.requests(), 0);
}

#[test]
fn an_unknown_create_is_reported_and_resubmitted_only_when_asked() {
    let local = Local::start(Emulator::builder().timeline(Timeline::AfterPolls { polls: 1 }));
    // The create is processed (a task exists), then the connection drops before the answer.
    local.emulator.add_fault(
        FaultRule::new(FaultEffect::Reset)
            .on(Endpoint::CreateTask)
            .after_processing()
            .next(1),
    );
    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = write_batch(dir.path(), &[line("a fox")]);
    let out = dir.path().join("out");
    let batch = || {
        let mut command = local.kie();
        command.arg("batch").arg(&file).arg("--out-dir").arg(&out);
        command
    };

    let output = batch().output().expect("runs");
    assert_eq!(output.status.code(), Some(6), "{}", stderr(&output));
    let text = stderr(&output);
    assert!(
        text.contains("line 1: submission outcome unknown"),
        "{text}"
    );
    assert!(text.contains("--resubmit-unknown"), "{text}");
    assert_eq!(local.stats().tasks_created, 1, "the create did land");

    let output = batch().output().expect("runs");
    assert_eq!(output.status.code(), Some(6));
    assert_eq!(local.stats().tasks_created, 1, "not sent again unasked");

    let output = batch().arg("--resubmit-unknown").output().expect("runs");
    assert!(output.status.success(), "{}", stderr(&output));
    assert_mp4(&out.join("line-1.mp4"));
    assert_eq!(local.stats().tasks_created, 2, "sent again, as asked");
}

#[test]
fn a_batch_killed_mid_way_and_run_again_creates_each_task_once_and_loses_none() {
    let local = Local::start(Emulator::builder().timeline(Timeline::AfterPolls { polls: 1 }));
    let dir = tempfile::tempdir().expect("a temporary directory");
    // Lines 1-10 finish on their first poll, 11-20 need four polls, and 21-25 wait in
    // the client's queue for the rate limit (20 creates per 10 s): the kill finds lines
    // in all three states.
    let lines: Vec<String> = (1..=25)
        .map(|n| match n {
            1..=10 => line(&format!("fox {n} [emulator:polls:1]")),
            11..=20 => line(&format!("fox {n} [emulator:polls:4]")),
            _ => line(&format!("fox {n}")),
        })
        .collect();
    let file = write_batch(dir.path(), &lines);
    let out = dir.path().join("out");
    let args = |command: &mut Command| {
        command
            .env_remove("KIE_UPLOAD_BASE_URL")
            .env("KIE_API_KEY", "test-key")
            .env("KIE_BASE_URL", local.emulator.base_url())
            .arg("batch")
            .arg(&file)
            .arg("--out-dir")
            .arg(&out)
            .args(["--concurrency", "25"]);
    };

    let mut first = Command::new(crate::common::KIE);
    args(&mut first);
    let mut child = first
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("kie batch starts");
    let started = Instant::now();
    while events(&journal(&out), "done") < 5 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no progress: {:?}",
            journal(&out)
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().expect("SIGKILL");
    let _ = child.wait();

    let before = journal(&out);
    let created = events(&before, "created");
    let done = events(&before, "done");
    assert!(
        done >= 5 && created > done,
        "done {done}, created {created}"
    );
    assert!(created < 25, "lines were left to create: {created} created");
    assert_eq!(
        events(&before, "submitting"),
        created,
        "the kill fell between creates, and lines still queued for their turn were not \
         journaled as submitted, so no outcome is unknown"
    );
    assert_eq!(local.stats().tasks_created as usize, created);

    let mut again = assert_cmd::Command::from_std({
        let mut command = Command::new(crate::common::KIE);
        args(&mut command);
        command
    });
    let output = again
        .timeout(Duration::from_secs(120))
        .output()
        .expect("runs");
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stderr(&output).contains(&format!("resuming from {}", out.join(JOURNAL).display())));
    assert_eq!(
        stdout(&output).trim(),
        format!("25 of 25 videos saved in {}", out.display())
    );

    assert_eq!(
        local.stats().tasks_created,
        25,
        "one task per line, none twice"
    );
    for n in 1..=25 {
        assert_mp4(&out.join(format!("line-{n:02}.mp4")));
    }
    // Every task the emulator made is one the journal knows.
    let known: Vec<Value> = journal(&out)
        .into_iter()
        .filter(|e| e["event"] == "created")
        .map(|e| e["task_id"].clone())
        .collect();
    for task in local.emulator.tasks() {
        assert!(
            known.contains(&Value::from(task.task_id.clone())),
            "{}",
            task.task_id
        );
    }
    // The rate limit held across the kill: no 10 s window saw more than 20 creates.
    assert_no_window_over_the_limit(&local);
}

/// No 10 s window of the emulator's clock saw more than 20 creates.
pub fn assert_no_window_over_the_limit(local: &Local) {
    let mut created_ms: Vec<i64> = local
        .emulator
        .tasks()
        .iter()
        .map(|t| t.created_ms)
        .collect();
    created_ms.sort_unstable();
    for window in created_ms.windows(21) {
        assert!(
            window[20] - window[0] >= 10_000,
            "21 creates within 10 s: {window:?}"
        );
    }
}

#[test]
fn a_batch_run_again_right_after_twenty_creates_waits_for_kie_ais_window() {
    let local = Local::start(
        Emulator::builder()
            .timeline(Timeline::AfterPolls { polls: 1 })
            .rate_limits(true),
    );
    let dir = tempfile::tempdir().expect("a temporary directory");
    let out = dir.path().join("out");
    let batch = |lines: usize| {
        let lines: Vec<String> = (1..=lines).map(|n| line(&format!("fox {n}"))).collect();
        let file = write_batch(dir.path(), &lines);
        local
            .kie()
            .arg("batch")
            .arg(&file)
            .arg("--out-dir")
            .arg(&out)
            .args(["--concurrency", "20"])
            .output()
            .expect("runs")
    };
    let output = batch(20);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(local.stats().tasks_created, 20);

    // Five more lines, at once: the first run's creates still fill kie.ai's window, and
    // the second run counts them before it sends its own.
    let output = batch(25);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        stdout(&output).trim(),
        format!("25 of 25 videos saved in {}", out.display())
    );
    let stats = local.stats();
    assert_eq!(stats.tasks_created, 25);
    assert_eq!(stats.rate_limited, 0, "no request was refused for the rate");
    assert_no_window_over_the_limit(&local);
}

#[test]
fn a_journal_written_before_answers_were_timed_is_resumed() {
    // Tasks that do not finish by themselves: the first run ends at --max-wait with
    // its lines created.
    let local = Local::start(Emulator::builder().timeline(Timeline::AfterPolls { polls: 1_000 }));
    let dir = tempfile::tempdir().expect("a temporary directory");
    let lines: Vec<String> = (1..=3).map(|n| line(&format!("fox {n}"))).collect();
    let file = write_batch(dir.path(), &lines);
    let out = dir.path().join("out");
    let batch = |extra: &[&str]| run_batch(&local, &file, &out, extra);
    let output = batch(&["--max-wait", "1s"]);
    assert_eq!(output.status.code(), Some(6), "{}", stderr(&output));

    // As an earlier version wrote it: no answer times.
    let path = out.join(JOURNAL);
    let old: Vec<String> = journal(&out)
        .into_iter()
        .map(|mut entry| {
            if entry["event"] != "submitting" {
                entry.as_object_mut().expect("an object").remove("at_ms");
            }
            entry.to_string()
        })
        .collect();
    assert_eq!(events(&journal(&out), "created"), 3);
    std::fs::write(&path, old.join("\n") + "\n").expect("written");
    for task in local.emulator.tasks() {
        local
            .emulator
            .force_state(&task.task_id, TaskState::Success)
            .expect("finished");
    }

    let output = batch(&[]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("3 of 3 lines created earlier (awaited now, never created again)"),
        "{}",
        stderr(&output)
    );
    assert_eq!(local.stats().tasks_created, 3, "nothing created again");
    for n in 1..=3 {
        assert_mp4(&out.join(format!("line-{n}.mp4")));
    }
}

/// `kie batch FILE --out-dir OUT` as a child process pointed at `local`, with its output
/// captured.
fn spawn_batch(local: &Local, file: &Path, out: &Path, extra: &[&str]) -> std::process::Child {
    Command::new(crate::common::KIE)
        .env_remove("KIE_UPLOAD_BASE_URL")
        .env("KIE_API_KEY", "test-key")
        .env("KIE_BASE_URL", local.emulator.base_url())
        .arg("batch")
        .arg(file)
        .arg("--out-dir")
        .arg(out)
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kie batch starts")
}

/// Every line of the journal is a whole entry.
fn assert_journal_whole(out: &Path) {
    let text = std::fs::read_to_string(out.join(JOURNAL)).expect("a journal");
    for (n, line) in text.lines().enumerate() {
        assert!(
            serde_json::from_str::<Value>(line).is_ok(),
            "journal line {} is torn: {line:?}",
            n + 1
        );
    }
}

#[test]
fn two_batches_started_at_once_on_one_directory_create_each_task_once() {
    let local = Local::start(Emulator::builder().timeline(Timeline::AfterPolls { polls: 2 }));
    let dir = tempfile::tempdir().expect("a temporary directory");
    let lines: Vec<String> = (1..=10).map(|n| line(&format!("fox {n}"))).collect();
    let file = write_batch(dir.path(), &lines);
    let out = dir.path().join("out");
    let first = spawn_batch(&local, &file, &out, &["--concurrency", "10"]);
    let second = spawn_batch(&local, &file, &out, &["--concurrency", "10"]);
    for run in [first, second] {
        let output = run.wait_with_output().expect("ends");
        let text = stderr(&output);
        // Whichever comes second is refused at once, or (if the first has finished
        // by then) finds every line saved.
        assert!(
            output.status.success() || text.contains("is using"),
            "{:?}: {text}",
            output.status
        );
    }
    assert_eq!(local.stats().tasks_created, 10, "one task per line");
    assert_journal_whole(&out);

    let output = local
        .kie()
        .arg("batch")
        .arg(&file)
        .arg("--out-dir")
        .arg(&out)
        .output()
        .expect("runs");
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(local.stats().tasks_created, 10, "nothing created again");
    for n in 1..=10 {
        assert_mp4(&out.join(format!("line-{n:02}.mp4")));
    }
}

#[test]
fn a_second_batch_is_refused_at_once_naming_the_run_that_holds_the_directory() {
    // Tasks that do not finish by themselves: the first run holds the directory for
    // as long as the test wants.
    let local = Local::start(Emulator::builder().timeline(Timeline::AfterPolls { polls: 1_000 }));
    let dir = tempfile::tempdir().expect("a temporary directory");
    let lines: Vec<String> = (1..=3).map(|n| line(&format!("fox {n}"))).collect();
    let file = write_batch(dir.path(), &lines);
    let out = dir.path().join("out");
    let mut first = spawn_batch(&local, &file, &out, &[]);
    let started = Instant::now();
    while events(&journal(&out), "created") < 3 {
        assert!(started.elapsed() < Duration::from_secs(60), "no progress");
        std::thread::sleep(Duration::from_millis(20));
    }

    let output = local
        .kie()
        .arg("batch")
        .arg(&file)
        .arg("--out-dir")
        .arg(&out)
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let text = stderr(&output);
    assert!(
        text.contains(&format!("another `kie batch` (pid {}", first.id())),
        "{text}"
    );
    assert!(
        text.contains(&format!("is using {}; nothing was sent", out.display())),
        "{text}"
    );
    assert!(text.contains("wait for it to finish, or stop it"), "{text}");
    assert_eq!(local.stats().tasks_created, 3);

    // A holder that dies, even by SIGKILL, frees the directory: the kernel drops the
    // lock with the process.
    first.kill().expect("SIGKILL");
    let _ = first.wait();
    for task in local.emulator.tasks() {
        local
            .emulator
            .force_state(&task.task_id, TaskState::Success)
            .expect("finished");
    }
    let output = local
        .kie()
        .arg("batch")
        .arg(&file)
        .arg("--out-dir")
        .arg(&out)
        .output()
        .expect("runs");
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(local.stats().tasks_created, 3, "one task per line");
    assert_journal_whole(&out);
}

#[test]
fn a_damaged_journal_is_repaired_as_the_refusal_says_and_nothing_is_created_twice() {
    let local = Local::start(Emulator::builder().timeline(Timeline::Immediate));
    let dir = tempfile::tempdir().expect("a temporary directory");
    let lines: Vec<String> = (1..=6).map(|n| line(&format!("fox {n}"))).collect();
    let file = write_batch(dir.path(), &lines);
    let out = dir.path().join("out");
    let batch = |extra: &[&str]| run_batch(&local, &file, &out, extra);
    let output = batch(&[]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(local.stats().tasks_created, 6);

    // Journal line 5 loses its end to garbage, as from a bad sector.
    let path = out.join(JOURNAL);
    let text = std::fs::read_to_string(&path).expect("a journal");
    let mut damaged: Vec<String> = text.lines().map(str::to_owned).collect();
    damaged[4] = format!("{}\u{0}\u{0}garbage", &damaged[4][..20]);
    std::fs::write(&path, damaged.join("\n") + "\n").expect("damaged");

    let output = batch(&[]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let text = stderr(&output);
    assert!(text.contains("is damaged; nothing was sent"), "{text}");
    assert!(text.contains("journal line 5, bytes "), "{text}");
    assert!(
        text.contains("whole entries found, for 6 batch lines: a repair keeps them all"),
        "{text}"
    );
    assert!(!text.contains("move it away"), "{text}");
    // Follow the advice as printed.
    let advice = text
        .split('`')
        .find(|part| part.starts_with("kie batch ") && part.ends_with("--repair-journal"))
        .unwrap_or_else(|| panic!("no repair command in {text}"));
    let output = local
        .kie()
        .args(advice.split(' ').skip(1))
        .output()
        .expect("runs");
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stderr(&output).contains("repaired "), "{}", stderr(&output));
    assert_eq!(local.stats().tasks_created, 6, "no task created again");
    assert_journal_whole(&out);
    for n in 1..=6 {
        assert_mp4(&out.join(format!("line-{n}.mp4")));
    }
}

#[test]
fn under_emulator_a_batch_says_its_tasks_end_with_it_and_refuses_to_resume_them() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = write_batch(
        dir.path(),
        &[
            line("fox [emulator:polls:1000]"),
            line("cat [emulator:immediate]"),
        ],
    );
    let out = dir.path().join("out");
    let batch = || {
        let mut command = bare_kie();
        command
            .args(["--emulator", "batch"])
            .arg(&file)
            .arg("--out-dir")
            .arg(&out)
            .args(["--max-wait", "1s"]);
        command.output().expect("runs")
    };
    let output = batch();
    assert_eq!(output.status.code(), Some(6), "{}", stderr(&output));
    let text = stderr(&output);
    assert!(text.contains("line 1: not finished (task "), "{text}");
    assert!(!text.contains("run the same command again"), "{text}");
    assert!(text.contains("ended with this command"), "{text}");
    assert!(text.contains("`kie emulator`"), "{text}");
    assert!(text.contains("KIE_BASE_URL"), "{text}");

    let output = batch();
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let text = stderr(&output);
    assert!(
        text.contains("says these lines wait on tasks of an earlier run"),
        "{text}"
    );
    assert!(text.contains("line 1: task "), "{text}");
    assert!(text.contains("use a new --out-dir"), "{text}");
}

#[cfg(unix)]
#[test]
fn ctrl_c_during_a_batch_exits_130_and_says_to_run_it_again() {
    let local = Local::start(Emulator::builder().timeline(Timeline::AfterPolls { polls: 1_000 }));
    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = write_batch(dir.path(), &[line("fox 1"), line("fox 2")]);
    let out = dir.path().join("out");
    let child = spawn_batch(&local, &file, &out, &[]);
    let started = Instant::now();
    while local
        .stats()
        .requests
        .get(&Endpoint::RecordInfo)
        .copied()
        .unwrap_or(0)
        < 2
    {
        assert!(started.elapsed() < Duration::from_secs(60), "no poll came");
        std::thread::sleep(Duration::from_millis(20));
    }
    let sent = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(sent.success());
    let output = child.wait_with_output().expect("ends");
    assert_eq!(output.status.code(), Some(130), "{}", stderr(&output));
    let text = stderr(&output);
    assert!(text.contains("error: interrupted"), "{text}");
    assert!(
        text.contains("run the same command again to continue"),
        "{text}"
    );

    for task in local.emulator.tasks() {
        local
            .emulator
            .force_state(&task.task_id, TaskState::Success)
            .expect("finished");
    }
    let output = local
        .kie()
        .arg("batch")
        .arg(&file)
        .arg("--out-dir")
        .arg(&out)
        .output()
        .expect("runs");
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(local.stats().tasks_created, 2, "nothing created again");
}

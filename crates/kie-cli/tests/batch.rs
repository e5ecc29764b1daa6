//! `kie batch`: every line done once, under the rate limit, and safe to kill.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Local, assert_mp4, json, stderr, stdout};
use kie_emulator::{Emulator, Endpoint, FaultEffect, FaultRule, Timeline};
use serde_json::Value;

const KLING: &str = "kling/v2-1-master-text-to-video";
const JOURNAL: &str = "kie-batch.journal.jsonl";

fn write_batch(dir: &Path, lines: &[String]) -> PathBuf {
    let path = dir.join("batch.jsonl");
    std::fs::write(&path, lines.join("\n") + "\n").expect("written");
    path
}

fn line(prompt: &str) -> String {
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
    assert_eq!(json(&output)["lines"], 3);
    assert_eq!(
        local.stats().tasks_created,
        3,
        "the second run created nothing"
    );
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
    // Lines 1-10 finish on their first poll, 11-20 need four polls, and 21-25 wait for
    // the rate limit (20 creates per 10 s): the kill finds lines in all three states.
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

    let mut first = Command::new(common::KIE);
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
        "the kill fell between creates, so no outcome is unknown"
    );
    assert_eq!(local.stats().tasks_created as usize, created);

    let mut again = assert_cmd::Command::from_std({
        let mut command = Command::new(common::KIE);
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

//! Every `kie` subcommand against the emulator, as a user runs it: exit codes, what is
//! printed, what reached the emulator, and the files written.

use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};

use crate::common::{Local, PNG, assert_mp4, bare_kie, json, stderr, stdout};
use kie_emulator::{Emulator, Endpoint, FaultEffect, FaultRule, Outcome, Phases, Timeline};

const KLING: &str = "kling/v2-1-master-text-to-video";

/// Tasks finish on their first status query: a wait costs one poll, 2 s after creation.
fn fast() -> Local {
    Local::start(Emulator::builder().timeline(Timeline::AfterPolls { polls: 1 }))
}

#[test]
fn models_lists_every_model_with_its_parameters() {
    let output = bare_kie().arg("models").output().expect("kie runs");
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    for id in [
        "bytedance/v1-pro-text-to-video",
        "bytedance/v1-pro-fast-image-to-video",
        "sora-2-pro-text-to-video",
        KLING,
        "hailuo/02-text-to-video-pro",
    ] {
        assert!(text.contains(id), "{id} missing from:\n{text}");
    }
    assert!(text.contains(r#"one of "5", "10"; default "5""#), "{text}");
    assert!(
        text.contains("bytedance/v1-pro-fast-image-to-video\n  Turns a still image into a video with ByteDance's fast model.\n  media inputs: --image\n"),
        "{text}"
    );

    let output = bare_kie()
        .args(["models", "--json"])
        .output()
        .expect("kie runs");
    let models = json(&output)["models"].as_array().cloned().expect("a list");
    // Every model of spec/: the whole catalogue of kie.ai's Market video pages.
    assert_eq!(models.len(), kie::registry::models().len());
    assert!(models.len() >= 61, "{}", models.len());
    for model in &models {
        assert!(
            model["params"].as_array().is_some_and(|p| !p.is_empty()),
            "{model}"
        );
        assert!(
            model["modality"].is_string() && model["provider"].is_string(),
            "{model}"
        );
    }
    let kling = models
        .iter()
        .find(|m| m["id"] == KLING)
        .expect("kling is listed");
    let cfg = kling["params"]
        .as_array()
        .and_then(|p| p.iter().find(|p| p["name"] == "cfg_scale"))
        .expect("cfg_scale is listed");
    assert_eq!(cfg["kind"]["type"], "number");
    assert_eq!(cfg["kind"]["max"], 1.0);
    assert_eq!(kling["media"], serde_json::json!([]));
    let fast = models
        .iter()
        .find(|m| m["id"] == "bytedance/v1-pro-fast-image-to-video")
        .expect("listed");
    assert_eq!(fast["media"], serde_json::json!(["image"]));
}

#[test]
fn generate_validates_submits_waits_and_downloads() {
    let local = fast();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let out = dir.path().join("fox.mp4");
    let output = local
        .kie()
        .args([
            "generate",
            KLING,
            "--prompt",
            "a red fox running through snow",
        ])
        .args(["--set", "duration=10", "--set", "cfg_scale=0.7", "--out"])
        .arg(&out)
        .output()
        .expect("kie runs");
    assert!(output.status.success(), "{}", stderr(&output));
    assert_mp4(&out);
    assert!(stdout(&output).contains("fox.mp4"), "{}", stdout(&output));
    assert!(
        stderr(&output).contains("created on kling/v2-1-master-text-to-video"),
        "{}",
        stderr(&output)
    );
    let tasks = local.emulator.tasks();
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0].request["input"]["duration"], "10");
    assert_eq!(tasks[0].request["input"]["cfg_scale"], 0.7);
}

#[test]
fn generate_json_prints_one_document_and_no_progress() {
    let local = fast();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let out = dir.path().join("sora.mp4");
    let output = local
        .kie()
        .args([
            "--json",
            "generate",
            "sora-2-pro-text-to-video",
            "--prompt",
            "waves",
        ])
        .arg("--out")
        .arg(&out)
        .output()
        .expect("kie runs");
    assert!(output.status.success(), "{}", stderr(&output));
    let document = json(&output);
    assert_eq!(document["state"], "success");
    assert_eq!(document["model"], "sora-2-pro-text-to-video");
    assert_eq!(
        document["bytes"].as_u64(),
        Some(std::fs::metadata(&out).expect("saved").len())
    );
    assert_eq!(stderr(&output), "", "--json keeps stderr quiet");
}

#[test]
fn generate_uploads_a_local_image_first() {
    let local = fast();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let image = dir.path().join("still.png");
    std::fs::write(&image, PNG).expect("written");
    let out = dir.path().join("still.mp4");
    let output = local
        .kie()
        .args([
            "generate",
            "bytedance/v1-pro-fast-image-to-video",
            "--prompt",
            "steam rises",
        ])
        .arg("--image")
        .arg(&image)
        .arg("--out")
        .arg(&out)
        .output()
        .expect("kie runs");
    assert!(output.status.success(), "{}", stderr(&output));
    assert_mp4(&out);
    assert_eq!(local.stats().requests.get(&Endpoint::Upload), Some(&1));
    let tasks = local.emulator.tasks();
    let image_url = tasks[0].request["input"]["image_url"]
        .as_str()
        .expect("an image URL");
    assert!(
        image_url.starts_with(local.emulator.upload_base_url()),
        "{image_url}"
    );
}

#[test]
fn no_wait_prints_the_id_then_status_wait_and_download_take_it_from_there() {
    let local = fast();
    let output = local
        .kie()
        .args(["generate", KLING, "--prompt", "a fox", "--no-wait"])
        .output()
        .expect("kie runs");
    assert!(output.status.success(), "{}", stderr(&output));
    let task_id = stdout(&output).trim().to_owned();
    assert_eq!(local.emulator.tasks()[0].task_id, task_id);

    let output = local
        .kie()
        .args(["status", &task_id])
        .output()
        .expect("runs");
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(text.contains(&format!("task {task_id}")), "{text}");
    assert!(text.contains("state:    success"), "{text}");
    assert!(text.contains("video:    http://127.0.0.1"), "{text}");

    let output = local
        .kie()
        .args(["--json", "status", &task_id])
        .output()
        .expect("runs");
    let status = json(&output);
    assert_eq!(status["record"]["state"], "success");
    assert_eq!(status["record"]["task_id"], task_id.as_str());
    assert!(status["param"]["input"]["prompt"].is_string(), "{status}");

    let dir = tempfile::tempdir().expect("a temporary directory");
    let waited = dir.path().join("waited.mp4");
    let output = local
        .kie()
        .args(["wait", &task_id, "--out"])
        .arg(&waited)
        .output()
        .expect("runs");
    assert!(output.status.success(), "{}", stderr(&output));
    assert_mp4(&waited);

    let output = local.kie().args(["wait", &task_id]).output().expect("runs");
    assert!(
        stdout(&output).starts_with("http://127.0.0.1"),
        "{}",
        stdout(&output)
    );

    let downloaded = dir.path().join("downloaded.mp4");
    let output = local
        .kie()
        .args(["download", &task_id, "--out"])
        .arg(&downloaded)
        .output()
        .expect("runs");
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        std::fs::read(&waited).expect("read"),
        std::fs::read(&downloaded).expect("read")
    );
    assert_eq!(local.stats().tasks_created, 1, "nothing was created again");
}

#[test]
fn download_of_an_unfinished_task_says_to_wait() {
    let local = Local::start(Emulator::builder());
    local.emulator.set_phases(
        KLING,
        Phases {
            waiting_ms: 60_000,
            queuing_ms: 60_000,
            generating_ms: 60_000,
        },
    );
    let output = local
        .kie()
        .args(["generate", KLING, "--prompt", "a fox", "--no-wait"])
        .output()
        .expect("kie runs");
    let task_id = stdout(&output).trim().to_owned();
    let output = local
        .kie()
        .args(["download", &task_id, "--out", "never.mp4"])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let text = stderr(&output);
    assert!(
        text.contains(&format!("task {task_id} is still waiting")),
        "{text}"
    );
    assert!(
        text.contains(&format!("`kie wait {task_id} --out never.mp4`")),
        "{text}"
    );
}

#[test]
fn credits_and_upload() {
    let local = Local::start(Emulator::builder().credits(1234.5));
    let output = local.kie().arg("credits").output().expect("runs");
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stdout(&output).trim(), "1234.5 credits");
    let output = local
        .kie()
        .args(["--json", "credits"])
        .output()
        .expect("runs");
    assert_eq!(json(&output)["credits"], 1234.5);

    let dir = tempfile::tempdir().expect("a temporary directory");
    let image = dir.path().join("still.png");
    std::fs::write(&image, PNG).expect("written");
    let output = local
        .kie()
        .args(["--json", "upload"])
        .arg(&image)
        .output()
        .expect("runs");
    assert!(output.status.success(), "{}", stderr(&output));
    let document = json(&output);
    let url = document["url"].as_str().expect("a URL");
    assert!(url.starts_with(local.emulator.upload_base_url()), "{url}");
    assert_eq!(document["size"], PNG.len());
}

#[test]
fn an_unknown_model_exits_2_and_sends_nothing() {
    let local = fast();
    let output = local
        .kie()
        .args(["generate", "kling/v9", "--prompt", "a fox"])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    let text = stderr(&output);
    assert!(
        text.contains("error: unknown model `kling/v9`; available: "),
        "{text}"
    );
    assert!(text.contains(KLING), "{text}");
    assert_eq!(local.requests(), 0);
}

#[test]
fn out_of_range_values_exit_2_naming_each_field_and_what_is_allowed() {
    let local = fast();
    let output = local
        .kie()
        .args(["generate", KLING, "--prompt", "a fox"])
        .args([
            "--set",
            "duration=7",
            "--set",
            "cfg_scale=3",
            "--set",
            "colour=red",
        ])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    let text = stderr(&output);
    for expected in [
        "error: invalid input, nothing was sent:",
        r#"`duration` is "7"; allowed: "5", "10""#,
        "`cfg_scale` is 3; allowed: 0 to 1",
        "`colour` is not supported by kling/v2-1-master-text-to-video",
        "hint: `kie models` lists each model's parameters",
    ] {
        assert!(text.contains(expected), "{expected:?} not in:\n{text}");
    }
    assert_eq!(local.requests(), 0, "nothing reached the emulator");

    let output = local
        .kie()
        .args([
            "--json",
            "generate",
            KLING,
            "--prompt",
            "a fox",
            "--set",
            "duration=7",
        ])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    let error = &json(&output)["error"];
    assert_eq!(error["kind"], "invalid_input");
    assert_eq!(
        error["details"][0],
        r#"`duration` is "7"; allowed: "5", "10""#
    );
}

#[test]
fn a_missing_key_exits_3_and_says_where_keys_come_from() {
    let output = bare_kie().arg("credits").output().expect("runs");
    assert_eq!(output.status.code(), Some(3));
    let text = stderr(&output);
    assert!(text.contains("error: no API key"), "{text}");
    assert!(text.contains("set KIE_API_KEY"), "{text}");
    assert!(text.contains("--emulator"), "{text}");
}

#[test]
fn a_refused_key_exits_3_and_a_key_never_shows() {
    let local = Local::start(Emulator::builder().api_key("the-right-key"));
    let output = local
        .kie()
        .args(["--api-key", "sk-canary-wrong-key", "credits"])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(3));
    let text = stderr(&output);
    assert!(text.contains("401"), "{text}");
    assert!(text.contains("check KIE_API_KEY"), "{text}");
    assert!(!text.contains("canary") && !stdout(&output).contains("canary"));
}

#[test]
fn too_few_credits_exits_3_with_where_to_top_up() {
    let local = Local::start(Emulator::builder().credits(0.0));
    let output = local
        .kie()
        .args(["generate", KLING, "--prompt", "a fox"])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(3));
    let text = stderr(&output);
    assert!(text.contains("402"), "{text}");
    assert!(text.contains("top up credits"), "{text}");
}

#[test]
fn a_failed_task_exits_4_with_its_id_and_reason() {
    let local = fast();
    let output = local
        .kie()
        .args([
            "generate",
            KLING,
            "--prompt",
            "a fox [emulator:fail:500:GPU melted]",
        ])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(4));
    let task_id = &local.emulator.tasks()[0].task_id;
    let text = stderr(&output);
    assert!(
        text.contains(&format!("task {task_id} failed: GPU melted")),
        "{text}"
    );
    assert!(text.contains(&format!("task: {task_id}")), "{text}");
}

#[test]
fn a_wait_past_max_wait_exits_5_and_says_how_to_resume() {
    let local = Local::start(Emulator::builder().timeline(Timeline::AfterPolls { polls: 100 }));
    let output = local
        .kie()
        .args(["generate", KLING, "--prompt", "a fox", "--max-wait", "1s"])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(5), "{}", stderr(&output));
    let task_id = &local.emulator.tasks()[0].task_id;
    let text = stderr(&output);
    assert!(
        text.contains(&format!(
            "`kie wait {task_id} --out {task_id}.mp4` goes on waiting, then downloads"
        )),
        "{text}"
    );
    // "after 2 s", not "after waiting 2.008848111s".
    let waited = text
        .split_once(" after ")
        .and_then(|(_, rest)| rest.split_once(';'))
        .map(|(waited, _)| waited)
        .unwrap_or_else(|| panic!("no duration in {text}"));
    let seconds = waited
        .strip_suffix(" s")
        .unwrap_or_else(|| panic!("{waited:?}"));
    assert!(seconds.parse::<u64>().is_ok(), "{waited:?} is not rounded");
}

#[test]
fn max_wait_takes_humantime_durations_and_refuses_a_negative_one_in_our_words() {
    let local = fast();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let output = local
        .kie()
        .current_dir(dir.path())
        .args([
            "generate",
            KLING,
            "--prompt",
            "a fox",
            "--max-wait",
            "1h30m",
        ])
        .output()
        .expect("runs");
    assert!(output.status.success(), "{}", stderr(&output));
    let sent = local.requests();

    let output = local
        .kie()
        .args(["generate", KLING, "--prompt", "a fox", "--max-wait", "-5m"])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let text = stderr(&output);
    assert!(text.contains("--max-wait"), "{text}");
    assert!(
        text.contains("\"-5m\" is negative: give how long to wait"),
        "{text}"
    );
    assert!(!text.contains("tip:"), "{text}");
    assert_eq!(local.requests(), sent, "nothing more was sent");
}

#[test]
fn an_unknown_task_exits_7_with_its_own_kind_not_as_invalid_input() {
    let local = fast();
    let output = local
        .kie()
        .args(["status", "no-such-task"])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(7), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("kie.ai knows no task no-such-task"),
        "{}",
        stderr(&output)
    );

    let output = local
        .kie()
        .args(["--json", "status", "no-such-task"])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(7), "{}", stderr(&output));
    let error = &json(&output)["error"];
    assert_eq!(error["kind"], "unknown_task");
    assert_eq!(error["task_id"], "no-such-task");
    assert_eq!(stderr(&output), "", "--json keeps stderr quiet");
}

#[test]
fn a_character_model_prints_its_character_and_saves_no_file() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let output = bare_kie()
        .current_dir(dir.path())
        .args(["--emulator", "--json", "generate", "sora-2-characters"])
        .args(["--prompt", "a calm orange cat"])
        .args(["--video", "https://example.com/cat.mp4", "--out", "cat.mp4"])
        .output()
        .expect("runs");
    assert!(output.status.success(), "{}", stderr(&output));
    let answer = json(&output);
    assert!(
        answer["character_id"]
            .as_str()
            .is_some_and(|id| !id.is_empty()),
        "{answer}"
    );
    assert_eq!(answer["urls"], serde_json::json!([]));
    assert!(!dir.path().join("cat.mp4").exists());
}

#[test]
fn the_emulator_flag_needs_no_account_and_says_so() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let output = bare_kie()
        .current_dir(dir.path())
        .args([
            "--emulator",
            "generate",
            KLING,
            "--prompt",
            "a red fox running through snow",
        ])
        .args(["--out", "fox.mp4"])
        .output()
        .expect("runs");
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("--emulator: using a local kie.ai at http://127.0.0.1:"),
        "{}",
        stderr(&output)
    );
    assert_mp4(&dir.path().join("fox.mp4"));
}

#[test]
fn kie_emulator_serves_until_killed_and_prints_the_exports_to_use_it() {
    let mut child = Command::new(crate::common::KIE)
        .args(["emulator", "--port", "0", "--speed", "60", "--seed", "7"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("kie emulator starts");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout"));
    let mut first = String::new();
    lines.read_line(&mut first).expect("a first line");
    let base = first
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
        .to_owned();
    // Read aside, so that an emulator that prints no second line fails the test
    // instead of hanging it.
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut export = String::new();
        let _ = lines.read_line(&mut export);
        let _ = sender.send(export);
    });
    let export = receiver.recv_timeout(std::time::Duration::from_secs(60));
    let export = export.unwrap_or_else(|_| {
        let _ = child.kill();
        panic!("no second line")
    });
    assert_eq!(
        export.trim(),
        format!("export KIE_BASE_URL={base} KIE_UPLOAD_BASE_URL={base} KIE_API_KEY=any")
    );
    // What the line exports reaches the emulator.
    let mut credits = bare_kie();
    for assignment in export.split_whitespace().skip(1) {
        let (name, value) = assignment.split_once('=').expect("NAME=VALUE");
        credits.env(name, value);
    }
    let output = credits.arg("credits").output().expect("runs");
    let _ = child.kill();
    let _ = child.wait();
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stdout(&output).trim(), "10000 credits");
}

#[test]
fn help_documents_the_exit_codes() {
    let output = bare_kie().arg("--help").output().expect("runs");
    let text = stdout(&output);
    for code in [
        "0    success",
        "2    bad usage",
        "3    account",
        "4    the task failed",
        "6    a batch",
        "7    kie.ai knows no task",
        "130  interrupted",
        "141  stdout was closed",
    ] {
        assert!(text.contains(code), "{code} not in:\n{text}");
    }
}

/// Bytes a terminal obeys instead of showing: ESC, BEL, and the bidi override
/// U+202E (UTF-8 E2 80 AE).
fn assert_no_terminal_controls(what: &str, bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    assert!(
        !bytes.iter().any(|&b| b == 0x1b || b == 0x07) && !text.contains('\u{202e}'),
        "{what} holds raw control characters: {text:?}"
    );
}

#[test]
fn text_from_kie_ai_reaches_the_terminal_escaped() {
    let local = fast();
    let hostile = "GPU \u{1b}[2J\u{1b}]0;pwned\u{7} melted \u{202e}4pm.exe";
    local
        .emulator
        .push_outcome(Outcome::fail("5\u{1b}[31m00", hostile));
    let output = local
        .kie()
        .args(["generate", KLING, "--prompt", "a fox"])
        .output()
        .expect("kie runs");
    assert_eq!(output.status.code(), Some(4), "{}", stderr(&output));
    assert_no_terminal_controls("stderr", &output.stderr);
    assert_no_terminal_controls("stdout", &output.stdout);
    let text = stderr(&output);
    assert!(
        text.contains("GPU \\u{1b}[2J\\u{1b}]0;pwned\\u{7} melted \\u{202e}4pm.exe"),
        "{text}"
    );

    let task_id = local.emulator.tasks()[0].task_id.clone();
    let output = local
        .kie()
        .args(["status", &task_id])
        .output()
        .expect("runs");
    assert!(output.status.success(), "{}", stderr(&output));
    assert_no_terminal_controls("stdout", &output.stdout);
    assert!(
        stdout(&output).contains("(failCode 5\\u{1b}[31m00)"),
        "{}",
        stdout(&output)
    );

    // JSON stays valid and carries the text as sent, with every control escaped.
    let output = local
        .kie()
        .args(["--json", "status", &task_id])
        .output()
        .expect("runs");
    assert_no_terminal_controls("stdout", &output.stdout);
    assert_eq!(json(&output)["record"]["fail_msg"], hostile);
}

#[test]
fn out_is_checked_before_anything_is_sent() {
    let local = fast();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let generate = |out: &std::path::Path| {
        local
            .kie()
            .args(["generate", KLING, "--prompt", "a fox", "--out"])
            .arg(out)
            .output()
            .expect("kie runs")
    };

    let output = generate(dir.path());
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let text = stderr(&output);
    assert!(
        text.contains(&format!("--out {} is a directory", dir.path().display())),
        "{text}"
    );
    assert!(!text.contains(".partial"), "{text}");

    let file = dir.path().join("file");
    std::fs::write(&file, "x").expect("written");
    let output = generate(&file.join("fox.mp4"));
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains(&format!("{} is not a directory", file.display())),
        "{}",
        stderr(&output)
    );
    assert_eq!(local.requests(), 0, "nothing was sent");

    for command in [["wait", "some-task"], ["download", "some-task"]] {
        let output = local
            .kie()
            .args(command)
            .arg("--out")
            .arg(dir.path())
            .output()
            .expect("runs");
        assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    }
    assert_eq!(local.requests(), 0, "nothing was asked either");

    let out = dir.path().join("new/videos/fox.mp4");
    let output = generate(&out);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stderr(&output).contains(&format!(
            "created the directory {} for --out",
            dir.path().join("new/videos").display()
        )),
        "{}",
        stderr(&output)
    );
    assert_mp4(&out);
}

#[test]
fn a_failed_download_says_how_to_finish_the_job() {
    let local = fast();
    let refused = local.emulator.add_fault(
        FaultRule::new(FaultEffect::Status {
            status: 403,
            retry_after_s: None,
        })
        .on(Endpoint::Files),
    );
    let dir = tempfile::tempdir().expect("a temporary directory");
    let out = dir.path().join("fox.mp4");
    let output = local
        .kie()
        .args(["generate", KLING, "--prompt", "a fox", "--out"])
        .arg(&out)
        .output()
        .expect("kie runs");
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let task_id = local.emulator.tasks()[0].task_id.clone();
    let text = stderr(&output);
    assert!(
        text.contains(&format!("could not save the video to {}", out.display())),
        "{text}"
    );
    assert!(text.contains(&format!("task: {task_id}")), "{text}");
    let finish = format!("kie download {task_id} --out {}", out.display());
    assert!(
        text.contains(&format!("`{finish}` finishes the job")),
        "{text}"
    );

    local.emulator.remove_fault(refused);
    let output = local
        .kie()
        .args(finish.split(' ').skip(1))
        .output()
        .expect("runs");
    assert!(output.status.success(), "{}", stderr(&output));
    assert_mp4(&out);
    assert_eq!(local.stats().tasks_created, 1, "nothing was created again");
}

#[test]
fn under_emulator_no_advice_points_to_a_later_command() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let emulator = || {
        let mut command = bare_kie();
        command.current_dir(dir.path()).arg("--emulator");
        command
    };
    for args in [
        &["generate", KLING, "--prompt", "a fox", "--no-wait"][..],
        &["status", "some-task"],
        &["wait", "some-task"],
        &["download", "some-task", "--out", "fox.mp4"],
        &["upload", "still.png"],
    ] {
        let output = emulator().args(args).output().expect("runs");
        assert_eq!(
            output.status.code(),
            Some(2),
            "{args:?}: {}",
            stderr(&output)
        );
        let text = stderr(&output);
        assert!(text.contains("cannot run with --emulator"), "{text}");
        assert!(text.contains("start `kie emulator`"), "{text}");
        assert!(text.contains("export KIE_BASE_URL="), "{text}");
        assert!(
            !text.contains("using a local kie.ai"),
            "no emulator was started: {text}"
        );
    }

    let output = emulator()
        .args([
            "generate",
            KLING,
            "--prompt",
            "a slow fox [emulator:polls:1000]",
            "--max-wait",
            "1s",
        ])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(5), "{}", stderr(&output));
    let text = stderr(&output);
    assert!(
        text.contains("with --emulator the task ends with this command"),
        "{text}"
    );
    assert!(
        !text.contains("resumes") && !text.contains("goes on waiting"),
        "{text}"
    );
    assert!(
        text.contains("ended with this command, and this task with it"),
        "{text}"
    );
    assert!(text.contains("start `kie emulator`"), "{text}");
}

#[test]
fn emulator_help_names_the_webhook_key_variable_but_not_its_value() {
    let output = bare_kie()
        .env("KIE_EMULATOR_WEBHOOK_KEY", "canary-webhook-secret")
        .args(["emulator", "--help"])
        .output()
        .expect("runs");
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(text.contains("KIE_EMULATOR_WEBHOOK_KEY"), "{text}");
    assert!(!text.contains("canary"), "{text}");
}

/// The stream a test closes.
#[derive(Debug, Clone, Copy)]
enum Closed {
    Stdout,
    Stderr,
}

/// `kie ARGS` in `dir`, run to the end with `closed` a pipe whose reader is already
/// gone (as after `| head -c 100` has read its bytes), and the other captured.
fn with_closed_pipe(closed: Closed, dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    let (reader, writer) = std::io::pipe().expect("a pipe");
    drop(reader);
    let mut command = Command::new(crate::common::KIE);
    command.current_dir(dir).args(args);
    for name in ["KIE_API_KEY", "KIE_BASE_URL", "KIE_UPLOAD_BASE_URL"] {
        command.env_remove(name);
    }
    match closed {
        Closed::Stdout => command.stdout(writer).stderr(Stdio::piped()),
        Closed::Stderr => command.stderr(writer).stdout(Stdio::piped()),
    };
    command.output().expect("kie runs")
}

#[test]
fn a_closed_stdout_ends_the_command_quietly_with_141() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    for args in [
        &["models", "--json"][..],
        &["models"],
        &["--json", "credits"],
    ] {
        let output = with_closed_pipe(Closed::Stdout, dir.path(), args);
        assert_eq!(
            output.status.code(),
            Some(141),
            "{args:?}: {}",
            stderr(&output)
        );
        assert_eq!(stderr(&output), "", "{args:?}: no panic, no message");
    }
}

#[test]
fn a_closed_stderr_loses_only_the_messages() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let output = with_closed_pipe(
        Closed::Stderr,
        dir.path(),
        &[
            "--emulator",
            "generate",
            KLING,
            "--prompt",
            "a fox",
            "--out",
            "fox.mp4",
        ],
    );
    assert!(output.status.success(), "{:?}", output.status);
    assert_mp4(&dir.path().join("fox.mp4"));
    assert!(
        stdout(&output).starts_with("fox.mp4 ("),
        "{}",
        stdout(&output)
    );
}

#[test]
fn json_reports_usage_errors_as_json_on_stdout_and_keeps_stderr_quiet() {
    for args in [
        &["--json", "generate"][..],
        &["generate", KLING, "--json", "--colour", "red"],
        &["--json", "frobnicate"],
        &["--json"],
        &["--json", "wait", "some-task", "--max-wait", "soon"],
    ] {
        let output = bare_kie().args(args).output().expect("runs");
        assert_eq!(
            output.status.code(),
            Some(2),
            "{args:?}: {}",
            stderr(&output)
        );
        assert_eq!(stderr(&output), "", "{args:?}");
        let error = &json(&output)["error"];
        assert_eq!(error["kind"], "usage", "{args:?}: {error}");
        assert!(
            !error["message"].as_str().unwrap_or_default().is_empty(),
            "{args:?}: {error}"
        );
    }
    let output = bare_kie()
        .args(["--json", "generate"])
        .output()
        .expect("runs");
    let error = &json(&output)["error"];
    assert_eq!(
        error["message"],
        "the following required arguments were not provided:"
    );
    assert_eq!(error["details"], serde_json::json!(["<MODEL>"]));
    assert!(
        error["hint"]
            .as_str()
            .is_some_and(|hint| hint.contains("kie generate <MODEL>")),
        "{error}"
    );

    // A failure after parsing: the document alone, nothing on stderr.
    let output = bare_kie()
        .args(["--json", "credits"])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(3));
    assert_eq!(json(&output)["error"]["kind"], "account");
    assert_eq!(stderr(&output), "", "--json keeps stderr quiet");

    // Help and version are not errors: they print as usual.
    let output = bare_kie()
        .args(["--json", "--help"])
        .output()
        .expect("runs");
    assert!(output.status.success());
    assert!(
        stdout(&output).contains("Exit codes:"),
        "{}",
        stdout(&output)
    );
    // Without --json, usage errors stay clap's words on stderr.
    let output = bare_kie().arg("generate").output().expect("runs");
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(stdout(&output), "");
    assert!(
        stderr(&output).contains("Usage: kie generate"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn an_image_url_of_another_scheme_is_refused_not_read_as_a_file() {
    let local = fast();
    for image in ["ftp://example.com/still.png", "FILE:///tmp/still.png"] {
        let output = local
            .kie()
            .args([
                "generate",
                "bytedance/v1-pro-fast-image-to-video",
                "--prompt",
                "steam",
            ])
            .args(["--image", image])
            .output()
            .expect("runs");
        assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
        let text = stderr(&output);
        let scheme = image
            .split_once("://")
            .map(|(scheme, _)| scheme)
            .unwrap_or_default();
        assert!(
            text.contains(&format!(
                "--image {image}: a {scheme}:// URL cannot be used; give an http(s) URL or a local file"
            )),
            "{text}"
        );
        assert!(!text.contains("readable file"), "{text}");
    }
    assert_eq!(local.requests(), 0);
}

#[test]
fn an_image_a_model_cannot_take_is_named_by_the_flag_given() {
    let local = fast();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let image = dir.path().join("still.png");
    std::fs::write(&image, PNG).expect("written");
    for given in [
        image.display().to_string(),
        "https://example.com/still.png".to_owned(),
    ] {
        let output = local
            .kie()
            .args(["generate", KLING, "--prompt", "a fox", "--image", &given])
            .output()
            .expect("runs");
        assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
        let text = stderr(&output);
        assert!(
            text.contains("`--image` is not supported by kling/v2-1-master-text-to-video"),
            "{text}"
        );
        assert!(
            !text.contains("image_url") && !text.contains("image_path"),
            "{text}"
        );
    }
    assert_eq!(local.requests(), 0);
}

/// The media flags besides `--image`, each with a value of its kind and the hint the
/// text-to-video models of this build give for it.
const MEDIA_FLAGS: [(&str, &str, &str); 4] = [
    ("--end-image", "last.png", "the model takes no last frame"),
    (
        "--reference-image",
        "ref.png",
        "the model takes no reference images",
    ),
    ("--video", "clip.mp4", "the model takes no input video"),
    ("--audio", "voice.mp3", "the model takes no input audio"),
];

#[test]
fn each_media_input_a_model_cannot_take_is_named_by_its_flag_with_the_models_hint() {
    let local = fast();
    let dir = tempfile::tempdir().expect("a temporary directory");
    for (flag, file, hint) in MEDIA_FLAGS {
        let path = dir.path().join(file);
        std::fs::write(&path, PNG).expect("written");
        for given in [
            path.display().to_string(),
            format!("https://example.com/{file}"),
        ] {
            let output = local
                .kie()
                .args(["generate", KLING, "--prompt", "a fox", flag, &given])
                .output()
                .expect("runs");
            assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
            let text = stderr(&output);
            assert!(
                text.contains(&format!("`{flag}` is not supported by {KLING} ({hint})")),
                "{text}"
            );
            assert!(text.contains("nothing was sent"), "{text}");
        }
    }
    // An image-to-video model takes --image, and says what it does not take beside it.
    let output = local
        .kie()
        .args([
            "generate",
            "bytedance/v1-pro-fast-image-to-video",
            "--prompt",
            "steam",
            "--image",
            "https://example.com/first.png",
            "--end-image",
            "https://example.com/last.png",
            "--reference-image",
            "https://example.com/a.png",
            "--reference-image",
            "https://example.com/b.png",
        ])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let text = stderr(&output);
    assert!(
        text.contains("`--end-image` is not supported by bytedance/v1-pro-fast-image-to-video"),
        "{text}"
    );
    assert!(
        text.contains("`--reference-image` is not supported by"),
        "{text}"
    );
    assert!(!text.contains("`--image`"), "{text}");
    assert_eq!(local.requests(), 0);
}

#[test]
fn a_missing_local_file_is_refused_naming_its_flag_before_anything_is_sent() {
    let local = fast();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let flags = [("--image", "first.png", "")]
        .into_iter()
        .chain(MEDIA_FLAGS);
    for (flag, file, _) in flags {
        let missing = dir.path().join(file);
        for model in [KLING, "bytedance/v1-pro-fast-image-to-video"] {
            let output = local
                .kie()
                .args(["generate", model, "--prompt", "steam"])
                .arg(flag)
                .arg(&missing)
                .output()
                .expect("runs");
            assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
            let text = stderr(&output);
            assert!(
                text.contains(&format!(
                    "{flag} {} is not a readable file; nothing was sent",
                    missing.display()
                )),
                "{text}"
            );
        }
    }
    // A directory is no file either, and a second reference image is checked too.
    let output = local
        .kie()
        .args(["generate", KLING, "--prompt", "a fox"])
        .args([
            "--reference-image",
            "https://example.com/a.png",
            "--reference-image",
        ])
        .arg(dir.path())
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains(&format!(
            "--reference-image {} is not a readable file",
            dir.path().display()
        )),
        "{}",
        stderr(&output)
    );
    assert_eq!(local.requests(), 0);
}

#[test]
fn every_media_flag_refuses_other_url_schemes_in_its_own_name() {
    let local = fast();
    for (flag, file, _) in MEDIA_FLAGS {
        let given = format!("ftp://example.com/{file}");
        let output = local
            .kie()
            .args([
                "--json", "generate", KLING, "--prompt", "a fox", flag, &given,
            ])
            .output()
            .expect("runs");
        assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
        let error = &json(&output)["error"];
        assert_eq!(error["kind"], "invalid_input", "{error}");
        assert_eq!(
            error["message"],
            format!(
                "{flag} {given}: a ftp:// URL cannot be used; give an http(s) URL or a local file; nothing was sent"
            ),
            "{error}"
        );
    }
    assert_eq!(local.requests(), 0);
}

#[test]
fn generate_help_says_what_each_media_flag_is_for_and_that_files_are_uploaded() {
    let output = bare_kie()
        .args(["generate", "--help"])
        .output()
        .expect("kie runs");
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    for expected in [
        "--image <PATH_OR_URL> The source image, or first frame",
        "--end-image <PATH_OR_URL> The last frame",
        "--reference-image <PATH_OR_URL> A reference image",
        "repeat the flag for several",
        "--video <PATH_OR_URL> The input video",
        "--audio <PATH_OR_URL> The driving audio",
    ] {
        assert!(text.contains(expected), "{expected:?} not in {text}");
    }
    assert_eq!(
        text.matches("a local file (uploaded first)").count(),
        5,
        "{text}"
    );
}

#[test]
fn a_parameter_set_twice_is_refused() {
    let local = fast();
    let output = local
        .kie()
        .args(["generate", KLING, "--prompt", "a fox"])
        .args([
            "--set",
            "duration=5",
            "--set",
            "cfg_scale=0.5",
            "--set",
            "duration=10",
        ])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let text = stderr(&output);
    assert!(
        text.contains("--set duration is given twice (5, then 10): give each parameter once"),
        "{text}"
    );
    assert_eq!(local.requests(), 0);
}

#[test]
fn completions_are_printed_for_each_shell() {
    for (shell, marker) in [
        ("bash", "complete -F _kie"),
        ("zsh", "#compdef kie"),
        ("fish", "complete -c kie"),
        ("powershell", "Register-ArgumentCompleter"),
        ("elvish", "edit:completion:arg-completer[kie]"),
    ] {
        let output = bare_kie()
            .args(["completions", shell])
            .output()
            .expect("runs");
        assert!(output.status.success(), "{shell}: {}", stderr(&output));
        let script = stdout(&output);
        assert!(script.contains(marker), "{shell}: {script}");
        assert!(
            script.contains("max-wait"),
            "{shell}: subcommands' flags are completed"
        );
    }
    let output = bare_kie()
        .args(["completions", "tcsh"])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("[possible values: bash"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn verbosity_flags_set_what_the_sdk_logs_on_stderr() {
    let local = fast();
    let credits = |flags: &[&str]| {
        // One 500 from kie.ai, retried: the SDK warns of the retry.
        local.emulator.add_fault(
            FaultRule::new(FaultEffect::Status {
                status: 500,
                retry_after_s: None,
            })
            .on(Endpoint::Credit)
            .next(1),
        );
        let output = local
            .kie()
            .args(flags)
            .arg("credits")
            .output()
            .expect("runs");
        assert!(output.status.success(), "{flags:?}: {}", stderr(&output));
        stderr(&output)
    };
    let default = credits(&[]);
    assert!(
        default.contains("WARN") && default.contains("retrying"),
        "{default}"
    );
    assert!(!default.contains("DEBUG"), "{default}");
    assert_eq!(credits(&["-q"]), "");
    let verbose = credits(&["-v"]);
    assert!(verbose.contains("DEBUG kie.credits"), "{verbose}");
    assert!(!verbose.contains("hyper"), "-v is the SDK's log: {verbose}");
    assert!(credits(&["-vv"]).contains("hyper"), "-vv is everything's");
    // --json keeps stderr quiet unless -v asks for the log.
    assert_eq!(credits(&["--json"]), "");
    assert!(credits(&["--json", "-v"]).contains("DEBUG"));
}

/// Sends SIGINT (Ctrl-C) to `child`.
#[cfg(unix)]
fn interrupt(child: &std::process::Child) {
    let sent = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(sent.success());
}

/// Blocks until the emulator has answered `n` recordInfo calls: the waits are under way.
fn until_polled(local: &Local, n: u64) {
    let started = std::time::Instant::now();
    while local
        .stats()
        .requests
        .get(&Endpoint::RecordInfo)
        .copied()
        .unwrap_or(0)
        < n
    {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(60),
            "no poll came"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[cfg(unix)]
#[test]
fn ctrl_c_during_a_wait_exits_130_naming_the_task_and_how_to_resume() {
    let local = Local::start(Emulator::builder().timeline(Timeline::AfterPolls { polls: 1_000 }));
    let dir = tempfile::tempdir().expect("a temporary directory");
    let spawn = |json: bool| {
        let mut command = Command::new(crate::common::KIE);
        command
            .env("KIE_API_KEY", "test-key")
            .env("KIE_BASE_URL", local.emulator.base_url())
            .env("KIE_UPLOAD_BASE_URL", local.emulator.upload_base_url())
            .current_dir(dir.path())
            .args(["generate", KLING, "--prompt", "a fox", "--out", "fox.mp4"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if json {
            command.arg("--json");
        }
        command.spawn().expect("kie starts")
    };

    let child = spawn(false);
    until_polled(&local, 1);
    interrupt(&child);
    let output = child.wait_with_output().expect("ends");
    assert_eq!(output.status.code(), Some(130), "{}", stderr(&output));
    let task_id = local.emulator.tasks()[0].task_id.clone();
    let text = stderr(&output);
    assert!(text.contains("error: interrupted"), "{text}");
    assert!(text.contains(&format!("task: {task_id}")), "{text}");
    assert!(
        text.contains(&format!(
            "`kie wait {task_id} --out fox.mp4` goes on waiting"
        )),
        "{text}"
    );

    let child = spawn(true);
    until_polled(&local, 2);
    interrupt(&child);
    let output = child.wait_with_output().expect("ends");
    assert_eq!(output.status.code(), Some(130), "{}", stderr(&output));
    assert_eq!(stderr(&output), "");
    let error = &json(&output)["error"];
    let task_id = local.emulator.tasks()[1].task_id.clone();
    assert_eq!(error["kind"], "interrupted");
    assert_eq!(error["task_id"], task_id.as_str());
    assert!(
        error["hint"]
            .as_str()
            .is_some_and(|hint| hint.contains(&format!("`kie wait {task_id} --out fox.mp4`"))),
        "{error}"
    );
}

/// Against the real kie.ai: `cargo test -p kie-cli --test it commands:: -- --ignored` with
/// KIE_API_KEY set. Reads the balance only; spends nothing.
#[test]
#[ignore = "needs KIE_API_KEY and the network"]
fn live_credits() {
    let key = std::env::var("KIE_API_KEY").expect("KIE_API_KEY is set for live tests");
    let output = bare_kie()
        .env("KIE_API_KEY", key)
        .args(["--json", "credits"])
        .output()
        .expect("runs");
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(json(&output)["credits"].is_number());
}

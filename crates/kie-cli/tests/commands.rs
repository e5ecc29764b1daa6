//! Every `kie` subcommand against the emulator, as a user runs it: exit codes, what is
//! printed, what reached the emulator, and the files written.

mod common;

use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};

use common::{Local, assert_mp4, bare_kie, json, stderr, stdout};
use kie_emulator::{Emulator, Endpoint, FaultEffect, FaultRule, Outcome, Phases, Timeline};

const KLING: &str = "kling/v2-1-master-text-to-video";

/// Tasks finish on their first status query: a wait costs one poll (2-3 s).
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

    let output = bare_kie()
        .args(["models", "--json"])
        .output()
        .expect("kie runs");
    let models = json(&output)["models"].as_array().cloned().expect("a list");
    assert_eq!(models.len(), 5);
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
    assert!(
        stderr(&output).contains(&format!(
            "`kie wait {task_id} --out {task_id}.mp4` goes on waiting, then downloads"
        )),
        "{}",
        stderr(&output)
    );
}

#[test]
fn status_of_an_unknown_task_exits_2() {
    let local = fast();
    let output = local
        .kie()
        .args(["status", "no-such-task"])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("kie.ai knows no task no-such-task"),
        "{}",
        stderr(&output)
    );
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
fn kie_emulator_serves_until_killed() {
    let mut child = Command::new(common::KIE)
        .args(["emulator", "--port", "0", "--speed", "60", "--seed", "7"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("kie emulator starts");
    let mut first = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut first)
        .expect("a first line");
    let base = first
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
        .to_owned();
    let output = bare_kie()
        .env("KIE_API_KEY", "k")
        .env("KIE_BASE_URL", &base)
        .arg("credits")
        .output()
        .expect("runs");
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
        "0  success",
        "2  bad usage",
        "3  account",
        "4  the task failed",
        "6  a batch",
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

/// A 1x1 PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4,
    0x89, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0xF8, 0xCF, 0xC0, 0xF0,
    0x1F, 0x00, 0x05, 0x00, 0x01, 0xFF, 0x89, 0x99, 0x3D, 0x1D, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
    0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
];

/// Against the real kie.ai: `cargo test -p kie-cli --test commands -- --ignored` with
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

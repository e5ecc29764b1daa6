//! `--redis`: kie.ai's rate limits kept together by every process that shares a Redis.
//!
//! The tests that need a Redis take its URL from `KIE_TEST_REDIS_URL` (CI sets it) and
//! are skipped, saying so, without it. Each uses a budget of its own (`--redis-prefix`),
//! so that runs sharing the Redis do not slow each other down.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

use kie_emulator::{Emulator, Timeline};

use crate::batch::{JOURNAL, KLING, assert_no_window_over_the_limit, line, write_batch};
use crate::common::{KIE, Local, assert_mp4, bare_kie, json, stderr, stdout};

/// The Redis to test against, or `None` (and a word on why the test is skipped).
fn redis_url() -> Option<String> {
    let url = std::env::var("KIE_TEST_REDIS_URL")
        .ok()
        .filter(|url| !url.is_empty());
    if url.is_none() {
        println!("skipped: KIE_TEST_REDIS_URL is not set (CI sets it to a Redis to test with)");
    }
    url
}

/// A budget prefix no other test run uses.
fn own_prefix() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("kie-test:{}:{nanos}", std::process::id())
}

#[test]
fn two_batches_sharing_a_redis_keep_to_the_limits_together() {
    let Some(url) = redis_url() else { return };
    let local = Local::start(
        Emulator::builder()
            .timeline(Timeline::AfterPolls { polls: 1 })
            .rate_limits(true),
    );
    let dir = tempfile::tempdir().expect("a temporary directory");
    let prefix = own_prefix();
    // 30 creates at once from two processes: 20 fit in kie.ai's window, 10 wait for it.
    let runs: Vec<_> = ["a", "b"]
        .into_iter()
        .map(|name| {
            let batches = dir.path().join(name);
            std::fs::create_dir(&batches).expect("made");
            let lines: Vec<String> = (1..=15).map(|n| line(&format!("{name} fox {n}"))).collect();
            let file = write_batch(&batches, &lines);
            let out = batches.join("out");
            let child = Command::new(KIE)
                .env_remove("KIE_UPLOAD_BASE_URL")
                .env_remove("KIE_REDIS_PREFIX")
                .env("KIE_API_KEY", "test-key")
                .env("KIE_BASE_URL", local.emulator.base_url())
                .env("KIE_REDIS_URL", &url)
                .args(["--redis-prefix", &prefix, "batch"])
                .arg(&file)
                .arg("--out-dir")
                .arg(&out)
                .args(["--concurrency", "15"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("kie batch starts");
            (child, out)
        })
        .collect();
    for (child, out) in runs {
        let output = child.wait_with_output().expect("ends");
        assert!(output.status.success(), "{}", stderr(&output));
        assert_eq!(
            stdout(&output).trim(),
            format!("15 of 15 videos saved in {}", out.display())
        );
    }
    let stats = local.stats();
    assert_eq!(stats.tasks_created, 30);
    assert_eq!(stats.rate_limited, 0, "no request was refused for the rate");
    assert_no_window_over_the_limit(&local);
}

#[test]
fn redis_works_with_the_in_process_emulator() {
    let Some(url) = redis_url() else { return };
    let dir = tempfile::tempdir().expect("a temporary directory");
    let out = dir.path().join("fox.mp4");
    let output = bare_kie()
        .args([
            "--emulator",
            "--redis",
            &url,
            "--redis-prefix",
            &own_prefix(),
        ])
        .args(["generate", KLING, "--prompt", "a fox", "--out"])
        .arg(&out)
        .output()
        .expect("runs");
    assert!(output.status.success(), "{}", stderr(&output));
    assert_mp4(&out);
}

#[test]
fn an_unreachable_redis_stops_the_command_before_anything_is_sent() {
    let local = Local::start(Emulator::builder());
    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = write_batch(dir.path(), &[line("a fox")]);
    let out = dir.path().join("out");
    // Nothing listens on port 1; the password must not be printed.
    let url = "redis://:hunter2-secret@127.0.0.1:1/0";
    let batch = |extra: &[&str]| {
        local
            .kie()
            .args(["--redis", url])
            .args(extra)
            .arg("batch")
            .arg(&file)
            .arg("--out-dir")
            .arg(&out)
            .output()
            .expect("runs")
    };

    let output = batch(&[]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let text = stderr(&output);
    assert!(
        text.contains("error: --redis: cannot reach Redis at 127.0.0.1:1"),
        "{text}"
    );
    assert!(text.contains("nothing was sent"), "{text}");
    assert!(text.contains("KIE_REDIS_URL"), "{text}");
    assert!(
        !text.contains("hunter2"),
        "the password was printed: {text}"
    );

    let output = batch(&["--json"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let error = &json(&output)["error"];
    assert_eq!(error["kind"], "service");
    assert!(!stdout(&output).contains("hunter2"), "{error}");

    assert_eq!(local.requests(), 0, "nothing reached the emulator");
    assert!(
        !Path::new(&out).join(JOURNAL).exists(),
        "no journal was begun"
    );
}

#[test]
fn help_names_the_redis_variables_but_not_their_values() {
    let output = bare_kie()
        .env("KIE_REDIS_URL", "redis://:hunter2-secret@127.0.0.1:6379/0")
        .arg("--help")
        .output()
        .expect("runs");
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(text.contains("--redis <URL>"), "{text}");
    assert!(text.contains("[env: KIE_REDIS_URL]"), "{text}");
    assert!(
        !text.contains("hunter2"),
        "the password was printed: {text}"
    );
}

#[test]
fn a_share_outside_0_to_1_is_refused_before_anything_is_sent() {
    let output = bare_kie()
        .args([
            "--emulator",
            "--redis",
            "redis://127.0.0.1:1/0",
            "--redis-share",
            "2",
        ])
        .args(["generate", KLING, "--prompt", "a fox"])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("expected a share in (0, 1], such as 0.5, got \"2\""),
        "{}",
        stderr(&output)
    );
}

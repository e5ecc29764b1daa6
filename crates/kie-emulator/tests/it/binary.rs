//! The `kie-emulator` binary: the first stdout line names the URL, and it serves.

use std::{
    io::{BufRead, BufReader},
    process::{Command, Stdio},
};

#[tokio::test]
async fn binary_prints_its_url_first_and_serves() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kie-emulator"))
        .args([
            "--port",
            "0",
            "--seed",
            "1",
            "--immediate",
            "--require-key",
            "k",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("binary starts");
    let stdout = child.stdout.take().expect("stdout");
    let first = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).map(|_| line)
    })
    .await
    .expect("join")
    .expect("reads a line");
    let base = first
        .trim()
        .strip_prefix("listening on ")
        .map(str::to_owned);

    let outcome = async {
        let base = base.clone().ok_or_else(|| format!("unexpected first line {first:?}"))?;
        let port: u16 = base.strip_prefix("http://127.0.0.1:").and_then(|p| p.parse().ok()).ok_or("no port")?;
        if port == 0 {
            return Err("port 0 was not replaced".to_owned());
        }
        let client = reqwest::Client::builder().no_proxy().build().map_err(|e| e.to_string())?;
        let created: serde_json::Value = client
            .post(format!("{base}/api/v1/jobs/createTask"))
            .bearer_auth("k")
            .json(&serde_json::json!({"model": "hailuo/02-text-to-video-pro", "input": {"prompt": "p"}}))
            .send()
            .await
            .map_err(|e| e.to_string())?
            .json()
            .await
            .map_err(|e| e.to_string())?;
        let id = created["data"]["taskId"].as_str().ok_or(format!("no task id: {created}"))?.to_owned();
        let record: serde_json::Value = client
            .get(format!("{base}/api/v1/jobs/recordInfo?taskId={id}"))
            .bearer_auth("k")
            .send()
            .await
            .map_err(|e| e.to_string())?
            .json()
            .await
            .map_err(|e| e.to_string())?;
        Ok::<_, String>(record["data"]["state"].as_str().unwrap_or_default().to_owned())
    }
    .await;
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(outcome, Ok("success".to_owned()));
}

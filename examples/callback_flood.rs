//! A callback receiver under a replay flood, and the memory it takes.
//!
//!     cargo run --release -p kie-examples --example callback_flood -- [DELIVERIES] [BODY_BYTES]
//!
//! kie.ai signs only `taskId + "." + timestamp`, not the body, so whoever captures one
//! delivery can post any body under its headers for five minutes. This serves an inbox,
//! lets a local emulator deliver one genuine callback, then replays its headers with
//! DELIVERIES bodies (default 1,500) of about BODY_BYTES each (default 250,000, near the
//! 256 KB limit), each naming a new state. It prints what the inbox took, what the
//! application saw, and the process's peak resident memory (VmHWM, Linux only) before
//! and after the flood. It always runs against the emulator, never kie.ai.

use std::time::Duration;

use kie::callback::{SIGNATURE_HEADER, TIMESTAMP_HEADER};
use kie::hailuo::Hailuo02TextToVideoProInput;
use kie::receiver::{self, ReceiverLimits};
use kie::{CallbackInbox, CallbackVerifier, Client};
use kie_emulator::{Emulator, Endpoint, Timeline};

#[tokio::main]
async fn main() {
    kie_examples::report(run().await);
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let deliveries: usize = args.next().map_or(Ok(1_500), |a| a.parse())?;
    let body_bytes: usize = args.next().map_or(Ok(250_000), |a| a.parse())?;

    let emulator = Emulator::builder()
        .timeline(Timeline::Immediate)
        .start()
        .await?;
    let client = Client::builder()
        .api_key("emulator")
        .base_url(emulator.base_url())
        .upload_base_url(emulator.upload_base_url())
        .build()?;
    let key = emulator.webhook_key().ok_or("callbacks are unsigned")?;
    let inbox = CallbackInbox::new(client.clone(), CallbackVerifier::new(key));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/", listener.local_addr()?);
    tokio::spawn(receiver::serve(
        listener,
        inbox.router(),
        ReceiverLimits::default(),
    ));
    let mut confirmed = inbox.subscribe();

    // The genuine callback, and the headers an attacker captures from it.
    let input = Hailuo02TextToVideoProInput::new("a lighthouse in a storm");
    let task = client.submit(&input).callback_url(&url).await?;
    let genuine = emulator
        .wait_for_callback_attempts(1, Duration::from_secs(30))
        .await?
        .remove(0);
    let signature = genuine.signature.ok_or("the callback is unsigned")?;
    let before = memory("VmHWM")?;

    let http = reqwest::Client::new();
    let padding = "x".repeat(body_bytes);
    let mut taken = 0;
    for n in 0..deliveries {
        let body = format!(
            r#"{{"code": 200, "data": {{"taskId": "{}", "state": "flood-{n}-{padding}"}}}}"#,
            task.id()
        );
        let answer = http
            .post(&url)
            .header(TIMESTAMP_HEADER, genuine.timestamp)
            .header(SIGNATURE_HEADER, &signature)
            .body(body)
            .send()
            .await?
            .text()
            .await?;
        if answer == "received" {
            taken += 1;
        }
    }

    let seen = tokio::time::timeout(Duration::from_secs(10), confirmed.recv()).await;
    let seen = match seen {
        Ok(Ok(record)) => format!(
            "task {} is {}, result {}",
            record.task_id,
            record.state,
            record.result.map(|r| r.urls.join(" ")).unwrap_or_default()
        ),
        Ok(Err(error)) => format!("nothing: {error}"),
        Err(_) => "nothing".to_owned(),
    };
    let record_info = emulator
        .stats()
        .requests
        .get(&Endpoint::RecordInfo)
        .copied();
    println!(
        "{deliveries} deliveries of {body_bytes} bytes under one captured signature: {taken} taken as new, {} dropped",
        deliveries - taken
    );
    println!("recordInfo calls: {}", record_info.unwrap_or(0));
    println!("the application saw: {seen}");
    println!(
        "peak RSS (VmHWM): {before:.1} MiB before the flood, {:.1} MiB after; RSS now {:.1} MiB",
        memory("VmHWM")?,
        memory("VmRSS")?
    );
    Ok(())
}

/// A memory figure of this process from /proc/self/status, in MiB.
fn memory(field: &str) -> Result<f64, Box<dyn std::error::Error>> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    let kib: f64 = status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| format!("no {field} in /proc/self/status"))?;
    Ok(kib / 1024.0)
}

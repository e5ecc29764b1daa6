//! Benchmark 1: a createTask + recordInfo round trip through the SDK against the same
//! two requests written by hand with reqwest, on the same emulator.
//!
//! The hand-written side is what a careful user would write: the same reqwest version
//! and configuration as the SDK's default client (its own pool, HTTP/1.1, 10 s connect
//! and 60 s read timeouts), the same JSON body, bearer key, user agent, accept header
//! and 60 s request timeout, and typed serde structs for the envelope, whose `code` is
//! checked, and for the record, whose `resultJson` is decoded and whose fields are
//! checked. Operations of each side alternate one by one (SDK first in even pairs, raw
//! first in odd ones) so that drift in the machine's load falls on both.

use std::time::{Duration, Instant};

use kie_core::{Client, TaskState};
use kie_hailuo::Hailuo02TextToVideoProInput;
use serde::{Deserialize, Serialize};

use crate::child::Server;
use crate::report::{Figure, Section};
use crate::stats::Spread;
use crate::{API_KEY, BoxError, Options, sdk_client};

const TARGET: f64 = 1.03;
const PROMPT: &str = "a red fox running through fresh snow, golden hour";

/// Runs the benchmark against an emulator that finishes tasks at once, so that each
/// record is a complete `success` record with a `resultJson`.
pub async fn run(options: &Options) -> Result<Section, BoxError> {
    let emulator = Server::start(&["serve-emulator", "--timeline", "immediate"]).await?;
    let sdk = sdk_client(&emulator.url)?;
    let raw = Raw::new(&emulator.url)?;
    check_same_body()?;
    // Measured in a spawned task, on a runtime worker, where application code runs.
    let samples = tokio::spawn(measure(sdk, raw, options.rounds, options.per_round));
    let Samples {
        sdk_us,
        raw_us,
        block_ratios,
    } = samples.await??;
    let sdk = Spread::of(&sdk_us).ok_or("no rounds")?;
    let raw = Spread::of(&raw_us).ok_or("no rounds")?;
    let blocks = Spread::of(&block_ratios).ok_or("no rounds")?;
    let ratio = sdk.median / raw.median;
    let details = format!(
        "An emulator in its own process (immediate timeline: each record is a `success` \
         with `resultJson`). One operation = createTask (Hailuo, typed input) then \
         recordInfo of that task, awaited in sequence. {total} operations per side, SDK \
         and raw alternating one by one (ABBA), after {n} warm-up operations each; the \
         figure is the ratio of the median latencies, and the spread is that of the same \
         ratio over {rounds} blocks of {n} pairs.\n\n\
         | side | µs per round trip: median (p25–p75, min–max) |\n|---|---|\n\
         | SDK (`client.submit(&input)`, `client.record(id)`) | {} |\n\
         | raw reqwest (serde structs, `code` checked, `resultJson` decoded) | {} |\n\n\
         Ratio of medians {ratio:.3}; per-block ratios {}.",
        sdk.describe(0),
        raw.describe(0),
        blocks.describe(3),
        total = options.rounds * options.per_round,
        rounds = options.rounds,
        n = options.per_round,
    );
    Ok(Section {
        title: "1. create + record round trip",
        figures: vec![
            Figure::info(
                "µs per round trip, SDK / raw (medians)",
                format!("{:.0} / {:.0}", sdk.median, raw.median),
            ),
            Figure::checked(
                "SDK time ÷ raw time",
                format!(
                    "{ratio:.3} (blocks p25–p75 {:.3}–{:.3})",
                    blocks.p25, blocks.p75
                ),
                format!("≤ {TARGET}"),
                ratio <= TARGET,
            ),
        ],
        details,
    })
}

/// Latencies of each side, and the ratio of their medians per block.
struct Samples {
    sdk_us: Vec<f64>,
    raw_us: Vec<f64>,
    block_ratios: Vec<f64>,
}

async fn measure(
    sdk: Client,
    raw: Raw,
    rounds: usize,
    per_round: usize,
) -> Result<Samples, BoxError> {
    // Warm-up: connections, allocator, the emulator's caches.
    for side in [Side::Sdk, Side::Raw] {
        for _ in 0..per_round {
            time(side, &sdk, &raw).await?;
        }
    }
    // Operations alternate one by one (SDK first in even pairs, raw first in odd ones),
    // so that both sides see the same moments of the machine's load.
    let (mut sdk_us, mut raw_us, mut block_ratios) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..rounds {
        let (mut sdk_block, mut raw_block) = (Vec::new(), Vec::new());
        for pair in 0..per_round {
            let order = if pair % 2 == 0 {
                [Side::Sdk, Side::Raw]
            } else {
                [Side::Raw, Side::Sdk]
            };
            for side in order {
                let micros = time(side, &sdk, &raw).await?.as_secs_f64() * 1e6;
                match side {
                    Side::Sdk => sdk_block.push(micros),
                    Side::Raw => raw_block.push(micros),
                }
            }
        }
        let median = |xs: &[f64]| Spread::of(xs).map_or(f64::NAN, |s| s.median);
        block_ratios.push(median(&sdk_block) / median(&raw_block));
        sdk_us.append(&mut sdk_block);
        raw_us.append(&mut raw_block);
    }
    Ok(Samples {
        sdk_us,
        raw_us,
        block_ratios,
    })
}

#[derive(Debug, Clone, Copy)]
enum Side {
    Sdk,
    Raw,
}

/// One round trip on one side, timed.
async fn time(side: Side, sdk: &Client, raw: &Raw) -> Result<Duration, BoxError> {
    let started = Instant::now();
    match side {
        Side::Sdk => sdk_round_trip(sdk).await?,
        Side::Raw => raw.round_trip().await?,
    }
    Ok(started.elapsed())
}

async fn sdk_round_trip(client: &Client) -> Result<(), BoxError> {
    let input = Hailuo02TextToVideoProInput::new(PROMPT);
    let task = client.submit(&input).await?;
    let record = client.record(task.id()).await?;
    let urls = record.result.map(|r| r.urls.len()).unwrap_or(0);
    if record.state != TaskState::Success || urls == 0 {
        return Err(format!("unexpected record: {} with {urls} URLs", record.state).into());
    }
    Ok(())
}

/// The body both sides send must be the same bytes' worth of JSON.
fn check_same_body() -> Result<(), BoxError> {
    let sdk = serde_json::to_value(Hailuo02TextToVideoProInput::new(PROMPT))?;
    let raw = serde_json::to_value(&CreateTask::new().input)?;
    if sdk != raw {
        return Err(format!("the raw body {raw} differs from the SDK's {sdk}").into());
    }
    Ok(())
}

/// The hand-written client.
struct Raw {
    http: reqwest::Client,
    create_url: String,
    record_url: String,
}

#[derive(Serialize)]
struct CreateTask {
    model: &'static str,
    input: HailuoInput,
}

#[derive(Serialize)]
struct HailuoInput {
    prompt: &'static str,
}

impl CreateTask {
    fn new() -> Self {
        Self {
            model: "hailuo/02-text-to-video-pro",
            input: HailuoInput { prompt: PROMPT },
        }
    }
}

#[derive(Deserialize)]
struct Envelope<T> {
    code: i64,
    msg: Option<String>,
    data: Option<T>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Created {
    task_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Record {
    task_id: String,
    model: String,
    state: String,
    param: String,
    result_json: Option<String>,
    fail_code: Option<String>,
    fail_msg: Option<String>,
    cost_time: Option<i64>,
    complete_time: Option<i64>,
    create_time: Option<i64>,
    update_time: Option<i64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ResultJson {
    result_urls: Vec<String>,
}

impl Record {
    /// What a user would check before trusting a finished record.
    fn check_success(&self, task_id: &str) -> Result<(), BoxError> {
        let urls = match &self.result_json {
            Some(text) => serde_json::from_str::<ResultJson>(text)?.result_urls,
            None => Vec::new(),
        };
        let complete = self.task_id == task_id
            && self.model == CreateTask::new().model
            && self.state == "success"
            && !self.param.is_empty()
            && !urls.is_empty()
            && self.fail_code.is_none()
            && self.fail_msg.is_none()
            && [
                self.cost_time,
                self.create_time,
                self.complete_time,
                self.update_time,
            ]
            .iter()
            .all(Option::is_some);
        if !complete {
            return Err(format!("not a complete success record: {}", self.state).into());
        }
        Ok(())
    }
}

impl Raw {
    fn new(base: &str) -> Result<Self, BoxError> {
        Ok(Self {
            http: crate::raw_http_client()?,
            create_url: format!("{base}/api/v1/jobs/createTask"),
            record_url: format!("{base}/api/v1/jobs/recordInfo"),
        })
    }

    async fn round_trip(&self) -> Result<(), BoxError> {
        let request = self.http.post(&self.create_url).json(&CreateTask::new());
        let created: Created = self.send(request).await?;
        let request = self
            .http
            .get(&self.record_url)
            .query(&[("taskId", created.task_id.as_str())]);
        let record: Record = self.send(request).await?;
        record.check_success(&created.task_id)
    }

    async fn send<T: for<'de> Deserialize<'de>>(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<T, BoxError> {
        let response = request
            .bearer_auth(API_KEY)
            .header(reqwest::header::USER_AGENT, "raw-reqwest")
            .header(reqwest::header::ACCEPT, "application/json")
            .timeout(Duration::from_secs(60))
            .send()
            .await?;
        let status = response.status();
        let envelope: Envelope<T> = response.json().await?;
        match envelope.data {
            Some(data) if status.is_success() && envelope.code == 200 => Ok(data),
            _ => Err(format!("{status} code {}: {:?}", envelope.code, envelope.msg).into()),
        }
    }
}

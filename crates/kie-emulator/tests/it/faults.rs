//! Fault rules: every effect, matched by endpoint, model and task, by count or by a
//! seeded probability.

use std::time::Duration;

use crate::common::{KEY, client, create, create_raw, kling, record};
use kie_emulator::{Emulator, Endpoint, FaultEffect, FaultRule, Timeline};
use serde_json::{Value, json};

async fn emulator() -> Emulator {
    Emulator::builder()
        .seed(5)
        .timeline(Timeline::AfterPolls { polls: 2 })
        .start()
        .await
        .expect("starts")
}

#[tokio::test]
async fn status_faults_use_the_kie_envelope_and_retry_after() {
    let emulator = emulator().await;
    let base = emulator.base_url();
    for status in [429u16, 433, 455, 500, 502, 503, 504, 505] {
        let retry_after = (status == 503).then_some(7);
        emulator.add_fault(
            FaultRule::new(FaultEffect::Status {
                status,
                retry_after_s: retry_after,
            })
            .on(Endpoint::CreateTask)
            .next(1),
        );
        let answer = create_raw(base, &kling("a cat").to_string()).await;
        assert_eq!(answer.status, status);
        assert_eq!(answer.body["code"], status);
        assert!(answer.body["msg"].as_str().is_some_and(|m| !m.is_empty()));
        match status {
            429 => assert_eq!(answer.headers["retry-after"], "1"),
            503 => assert_eq!(answer.headers["retry-after"], "7"),
            _ => assert!(answer.headers.get("retry-after").is_none()),
        }
    }
    assert_eq!(
        emulator.stats().tasks_created,
        0,
        "faults before processing create nothing"
    );
    assert_eq!(
        create_raw(base, &kling("a cat").to_string()).await.status,
        200,
        "next-N rules are used up"
    );
}

#[tokio::test]
async fn after_processing_faults_still_create_the_task() {
    let emulator = emulator().await;
    emulator.add_fault(
        FaultRule::new(FaultEffect::Status {
            status: 502,
            retry_after_s: None,
        })
        .on(Endpoint::CreateTask)
        .next(1)
        .after_processing(),
    );
    let answer = create_raw(emulator.base_url(), &kling("a cat").to_string()).await;
    assert_eq!(answer.status, 502);
    assert_eq!(
        emulator.stats().tasks_created,
        1,
        "the ambiguous case: an error, yet the task exists"
    );
}

#[tokio::test]
async fn body_level_error_code_under_http_200() {
    let emulator = emulator().await;
    emulator.add_fault(
        FaultRule::new(FaultEffect::BodyCode {
            code: 455,
            msg: None,
        })
        .on(Endpoint::Credit),
    );
    let answer = crate::common::answer(
        client()
            .get(format!("{}/api/v1/chat/credit", emulator.base_url()))
            .bearer_auth(KEY)
            .send()
            .await
            .expect("sent"),
    )
    .await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.body["code"], 455);
}

#[tokio::test]
async fn rules_match_model_and_task() {
    let emulator = emulator().await;
    let base = emulator.base_url();
    emulator.add_fault(
        FaultRule::new(FaultEffect::Status {
            status: 500,
            retry_after_s: None,
        })
        .on(Endpoint::CreateTask)
        .for_model("hailuo/02-text-to-video-pro"),
    );
    assert_eq!(create_raw(base, &kling("k").to_string()).await.status, 200);
    let hailuo = json!({"model": "hailuo/02-text-to-video-pro", "input": {"prompt": "h"}});
    assert_eq!(create_raw(base, &hailuo.to_string()).await.status, 500);

    let a = create(base, &kling("a")).await;
    let b = create(base, &kling("b")).await;
    emulator.add_fault(
        FaultRule::new(FaultEffect::Status {
            status: 503,
            retry_after_s: None,
        })
        .for_task(&a),
    );
    assert_eq!(record(base, &a).await.status, 503);
    assert_eq!(record(base, &b).await.status, 200);
    let listed = emulator.faults();
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[1].fired, 1);
    assert!(emulator.remove_fault(listed[1].id));
    assert_eq!(record(base, &a).await.status, 200);
}

#[tokio::test]
async fn truncated_and_malformed_json_bodies() {
    let emulator = emulator().await;
    let base = emulator.base_url();
    let id = create(base, &kling("a cat")).await;
    emulator.add_fault(
        FaultRule::new(FaultEffect::TruncatedJson)
            .on(Endpoint::RecordInfo)
            .next(1),
    );
    emulator.add_fault(
        FaultRule::new(FaultEffect::MalformedJson)
            .on(Endpoint::RecordInfo)
            .next(1),
    );
    for _ in 0..2 {
        let answer = record(base, &id).await;
        assert_eq!(answer.status, 200);
        assert_eq!(answer.headers["content-type"], "application/json");
        assert!(
            serde_json::from_str::<Value>(&answer.text).is_err(),
            "not JSON: {}",
            answer.text
        );
    }
    let clean = record(base, &id).await;
    assert_eq!(
        clean.body["data"]["state"], "success",
        "both mangled answers counted as polls"
    );
}

#[tokio::test]
async fn html_error_page() {
    let emulator = emulator().await;
    emulator
        .add_fault(FaultRule::new(FaultEffect::HtmlError { status: 502 }).on(Endpoint::RecordInfo));
    let answer = record(emulator.base_url(), "whatever").await;
    assert_eq!(answer.status, 502);
    assert!(
        answer.headers["content-type"]
            .to_str()
            .unwrap_or_default()
            .starts_with("text/html")
    );
    assert!(
        answer.text.contains("<title>502 Bad Gateway</title>"),
        "{}",
        answer.text
    );
    assert!(answer.headers.get(kie_emulator::VERSION_HEADER).is_some());
}

#[tokio::test]
async fn connection_reset_is_a_transport_error() {
    let emulator = emulator().await;
    emulator.add_fault(
        FaultRule::new(FaultEffect::Reset)
            .on(Endpoint::Credit)
            .next(1),
    );
    let url = format!("{}/api/v1/chat/credit", emulator.base_url());
    let result = match client().get(&url).bearer_auth(KEY).send().await {
        Ok(response) => response.bytes().await.map(|_| ()),
        Err(error) => Err(error),
    };
    assert!(result.is_err(), "the client must see a broken answer");
    assert_eq!(
        client()
            .get(&url)
            .bearer_auth(KEY)
            .send()
            .await
            .expect("next one is fine")
            .status(),
        200
    );
}

#[tokio::test]
async fn hang_makes_the_client_time_out() {
    let emulator = emulator().await;
    emulator.add_fault(
        FaultRule::new(FaultEffect::Hang { ms: None })
            .on(Endpoint::Credit)
            .next(1),
    );
    let error = client()
        .get(format!("{}/api/v1/chat/credit", emulator.base_url()))
        .bearer_auth(KEY)
        .timeout(Duration::from_millis(300))
        .send()
        .await
        .expect_err("hangs");
    assert!(error.is_timeout(), "{error}");
}

#[tokio::test]
async fn latency_delays_and_then_answers_normally() {
    let emulator = emulator().await;
    emulator.add_fault(
        FaultRule::new(FaultEffect::Latency { ms: 50 })
            .on(Endpoint::Credit)
            .next(1),
    );
    let response = client()
        .get(format!("{}/api/v1/chat/credit", emulator.base_url()))
        .bearer_auth(KEY)
        .send()
        .await
        .expect("answers");
    assert_eq!(response.status(), 200);
    assert_eq!(emulator.faults()[0].fired, 1);
}

#[tokio::test]
async fn file_download_truncation_breaks_the_body() {
    let emulator = emulator().await;
    let base = emulator.base_url();
    let id = create(base, &kling("a cat [emulator:immediate]")).await;
    let data = crate::common::poll_until_done(base, &id, 1).await;
    let url = crate::common::result_url(&data);
    emulator.add_fault(
        FaultRule::new(FaultEffect::TruncatedJson)
            .on(Endpoint::Files)
            .next(1),
    );
    // The head announces the whole file; half the bytes come, then the connection drops.
    let response = client().get(&url).send().await.expect("the head arrives");
    assert_eq!(response.status(), 200);
    let announced = response.content_length().expect("a Content-Length");
    let mut body = response.bytes_stream();
    let mut received = 0;
    let mut failed = false;
    while let Some(chunk) = futures_util::StreamExt::next(&mut body).await {
        match chunk {
            Ok(chunk) => received += chunk.len() as u64,
            Err(_) => {
                failed = true;
                break;
            }
        }
    }
    assert!(failed, "a cut download ends in an error");
    assert_eq!(received, announced / 2);
    let full = client()
        .get(&url)
        .send()
        .await
        .expect("get")
        .bytes()
        .await
        .expect("bytes");
    assert_eq!(full.len() as u64, announced);
}

#[tokio::test]
async fn a_fault_on_a_streamed_upload_waits_for_the_body_and_keeps_the_connection() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    // Answered with its body unread, a connection is closed, and a client still
    // sending the body sees a broken pipe instead of the fault's answer. So the
    // answer comes after the body, and the connection stays usable.
    let emulator = emulator().await;
    emulator.add_fault(
        FaultRule::new(FaultEffect::Status {
            status: 503,
            retry_after_s: None,
        })
        .on(Endpoint::Upload),
    );
    let body = "--b\r\ncontent-disposition: form-data; name=\"uploadPath\"\r\n\r\nin\r\n--b--\r\n";
    let head = format!(
        "POST /api/file-stream-upload HTTP/1.1\r\nhost: emulator\r\nauthorization: Bearer {KEY}\r\n\
         content-type: multipart/form-data; boundary=b\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    let mut stream = tokio::net::TcpStream::connect(emulator.addr())
        .await
        .expect("connects");
    for _ in 0..2 {
        stream.write_all(head.as_bytes()).await.expect("head sent");
        // The body comes late, as a file read from disk may.
        tokio::time::sleep(Duration::from_millis(50)).await;
        stream.write_all(body.as_bytes()).await.expect("body sent");
        let mut answer = Vec::new();
        let length = loop {
            let mut buf = [0u8; 1024];
            let n = stream.read(&mut buf).await.expect("the answer arrives");
            assert!(
                n > 0,
                "the connection was closed: {}",
                String::from_utf8_lossy(&answer)
            );
            answer.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&answer).to_ascii_lowercase();
            if let Some(end) = text.find("\r\n\r\n") {
                let length: usize = text
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse().ok())
                    .expect("a content-length");
                break end + 4 + length;
            }
        };
        while answer.len() < length {
            let mut buf = [0u8; 1024];
            let n = stream.read(&mut buf).await.expect("the body arrives");
            assert!(n > 0, "the connection was closed mid-answer");
            answer.extend_from_slice(&buf[..n]);
        }
        let text = String::from_utf8_lossy(&answer);
        assert!(text.starts_with("HTTP/1.1 503"), "{text}");
    }
}

#[tokio::test]
async fn probability_rules_fire_reproducibly_per_seed() {
    async fn trace(seed: u64) -> Vec<u16> {
        let emulator = Emulator::builder()
            .seed(seed)
            .start()
            .await
            .expect("starts");
        emulator.add_fault(
            FaultRule::new(FaultEffect::Status {
                status: 503,
                retry_after_s: None,
            })
            .on(Endpoint::Credit)
            .probability(0.5),
        );
        let mut statuses = Vec::new();
        for _ in 0..24 {
            let response = client()
                .get(format!("{}/api/v1/chat/credit", emulator.base_url()))
                .bearer_auth(KEY)
                .send()
                .await
                .expect("sent");
            statuses.push(response.status().as_u16());
        }
        statuses
    }
    let first = trace(99).await;
    assert_eq!(first, trace(99).await);
    assert!(first.contains(&503) && first.contains(&200), "{first:?}");
}

#[tokio::test]
async fn an_oversized_answer_streams_without_a_length() {
    let emulator = emulator().await;
    emulator.add_fault(
        FaultRule::new(FaultEffect::Oversized { bytes: 3 << 20 })
            .on(Endpoint::Credit)
            .next(1),
    );
    let response = client()
        .get(format!("{}/api/v1/chat/credit", emulator.base_url()))
        .bearer_auth(KEY)
        .send()
        .await
        .expect("an answer");
    assert_eq!(response.status(), 200);
    assert_eq!(response.content_length(), None, "no length announced");
    let body = response.bytes().await.expect("the whole body");
    assert_eq!(body.len(), 3 << 20);
    let value: Value = serde_json::from_slice(&body).expect("JSON once complete");
    assert_eq!(value["data"].as_str().map(str::len), Some((3 << 20) - 38));
}

#[tokio::test]
async fn a_trickle_sends_the_real_answer_slowly() {
    let emulator = emulator().await;
    emulator.add_fault(
        FaultRule::new(FaultEffect::Trickle { bytes_per_sec: 400 })
            .on(Endpoint::Credit)
            .next(1),
    );
    let started = std::time::Instant::now();
    let response = client()
        .get(format!("{}/api/v1/chat/credit", emulator.base_url()))
        .bearer_auth(KEY)
        .send()
        .await
        .expect("an answer");
    let announced = response.content_length().expect("the length is announced");
    let body = response.bytes().await.expect("the whole body");
    assert_eq!(body.len() as u64, announced);
    let value: Value = serde_json::from_slice(&body).expect("the real answer");
    assert_eq!(value["code"], 200);
    // 40 bytes every 100 ms: a body of some 60 bytes takes at least two slices.
    assert!(started.elapsed() >= Duration::from_millis(100));
}

#[tokio::test]
async fn a_redirect_keeps_the_path_and_query() {
    let emulator = emulator().await;
    let to = emulator.base_url().replace("127.0.0.1", "localhost");
    emulator.add_fault(
        FaultRule::new(FaultEffect::Redirect {
            status: 307,
            to: to.clone(),
        })
        .on(Endpoint::RecordInfo)
        .next(1),
    );
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a client");
    let response = no_redirects
        .get(format!(
            "{}/api/v1/jobs/recordInfo?taskId=abc",
            emulator.base_url()
        ))
        .bearer_auth(KEY)
        .send()
        .await
        .expect("an answer");
    assert_eq!(response.status(), 307);
    assert_eq!(
        response.headers()["location"],
        format!("{to}/api/v1/jobs/recordInfo?taskId=abc").as_str()
    );
}

#[tokio::test]
async fn a_partial_answer_to_a_whole_file_request_is_its_second_half() {
    let emulator = emulator().await;
    let base = emulator.base_url();
    let id = create(base, &kling("a cat [emulator:immediate]")).await;
    let url = crate::common::result_url(&crate::common::poll_until_done(base, &id, 1).await);
    let whole = client()
        .get(&url)
        .send()
        .await
        .expect("get")
        .bytes()
        .await
        .expect("bytes");
    emulator.add_fault(FaultRule::new(FaultEffect::PartialContent).on(Endpoint::Files));
    let response = client().get(&url).send().await.expect("get");
    assert_eq!(response.status(), 206);
    let len = whole.len();
    assert_eq!(
        response.headers()["content-range"],
        format!("bytes {}-{}/{len}", len / 2, len - 1).as_str()
    );
    assert_eq!(
        response.bytes().await.expect("bytes"),
        whole.slice(len / 2..)
    );
    // A ranged request is answered as asked.
    let ranged = client()
        .get(&url)
        .header("range", "bytes=10-")
        .send()
        .await
        .expect("get");
    assert_eq!(
        ranged.headers()["content-range"],
        format!("bytes 10-{}/{len}", len - 1).as_str()
    );
}

#[tokio::test]
async fn an_echoing_proxy_quotes_the_request_and_its_key() {
    let emulator = emulator().await;
    emulator.add_fault(FaultRule::new(FaultEffect::EchoRequest).on(Endpoint::Credit));
    let response = client()
        .get(format!("{}/api/v1/chat/credit", emulator.base_url()))
        .bearer_auth(KEY)
        .send()
        .await
        .expect("an answer");
    assert_eq!(response.status(), 502);
    let page = response.text().await.expect("text");
    assert!(
        page.starts_with("GET /api/v1/chat/credit HTTP/1.1"),
        "{page}"
    );
    assert!(
        page.contains(&format!("authorization: Bearer {KEY}")),
        "{page}"
    );
}

//! Every documented error, reproduced in the live wire shape.

use crate::common::{KEY, client, create, create_raw, kling, record};
use kie_emulator::{Emulator, Endpoint, FaultEffect, FaultRule, Timeline};
use serde_json::{Value, json};

#[tokio::test]
async fn missing_or_wrong_bearer_is_401() {
    let emulator = Emulator::builder()
        .api_key("right")
        .start()
        .await
        .expect("starts");
    let url = format!("{}/api/v1/jobs/createTask", emulator.base_url());
    let body = kling("a cat").to_string();
    for auth in [None, Some("Bearer wrong"), Some("Bearer "), Some("right")] {
        let mut request = client()
            .post(&url)
            .header("content-type", "application/json")
            .body(body.clone());
        if let Some(auth) = auth {
            request = request.header("authorization", auth);
        }
        let answer = crate::common::answer(request.send().await.expect("sent")).await;
        assert_eq!(answer.status, 200, "{auth:?}");
        assert_eq!(
            answer.body,
            json!({"code": 401, "msg": "You do not have access permissions"})
        );
    }
    let ok = client()
        .post(&url)
        .bearer_auth("right")
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("sent");
    assert_eq!(ok.status(), 200);
    let credit = client()
        .get(format!("{}/api/v1/chat/credit", emulator.base_url()))
        .send()
        .await
        .expect("sent");
    assert_eq!(credit.status(), 200);
}

#[tokio::test]
async fn unknown_model_is_the_live_422() {
    let emulator = Emulator::start().await.expect("starts");
    for body in [
        json!({"model": "kling/v9-imaginary", "input": {"prompt": "x"}}),
        json!({"input": {"prompt": "x"}}),
    ] {
        let answer = create_raw(emulator.base_url(), &body.to_string()).await;
        assert_eq!(answer.status, 200);
        assert_eq!(
            answer.body,
            json!({"code": 422, "msg": "The page does not exist or is not published", "data": null})
        );
    }
}

#[tokio::test]
async fn schema_violations_name_each_field_and_rule() {
    let emulator = Emulator::start().await.expect("starts");
    let body = json!({
        "model": "kling/v2-1-master-text-to-video",
        "callBackUrl": "not a url",
        "input": {"prompt": "x".repeat(5001), "duration": 5, "aspect_ratio": "2:1", "cfg_scale": 3}
    });
    let answer = create_raw(emulator.base_url(), &body.to_string()).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.body["code"], 422);
    assert!(answer.body["data"].is_null());
    let msg = answer.body["msg"].as_str().expect("msg");
    for needle in [
        "input.prompt",
        "(maxLength)",
        "input.duration",
        "(type)",
        "input.aspect_ratio",
        "(enum)",
        "input.cfg_scale",
        "(maximum)",
        "callBackUrl",
    ] {
        assert!(msg.contains(needle), "{needle:?} missing from {msg}");
    }

    let missing = create_raw(
        emulator.base_url(),
        &json!({"model": "hailuo/02-text-to-video-pro", "input": {}}).to_string(),
    )
    .await;
    assert_eq!(missing.status, 200);
    let msg = missing.body["msg"].as_str().expect("msg");
    assert!(
        msg.contains("input.prompt") && msg.contains("(required)"),
        "{msg}"
    );

    let extra = create_raw(
        emulator.base_url(),
        &json!({"model": "hailuo/02-text-to-video-pro", "input": {"prompt": "p", "duration": "6"}})
            .to_string(),
    )
    .await;
    assert_eq!(extra.status, 200, "hailuo has no duration: {}", extra.text);
    assert!(
        extra.body["msg"]
            .as_str()
            .unwrap_or_default()
            .contains("additionalProperties"),
        "{}",
        extra.text
    );
    assert_eq!(emulator.stats().rejected_invalid, 3);
    assert_eq!(emulator.stats().tasks_created, 0);
}

#[tokio::test]
async fn not_json_is_rejected() {
    let emulator = Emulator::start().await.expect("starts");
    let answer = create_raw(emulator.base_url(), "{not json").await;
    assert_eq!(answer.status, 200);
    assert!(
        answer.body["msg"]
            .as_str()
            .unwrap_or_default()
            .contains("not valid JSON"),
        "{}",
        answer.text
    );
}

#[tokio::test]
async fn record_info_errors() {
    let emulator = Emulator::builder()
        .timeline(Timeline::AfterPolls { polls: 2 })
        .start()
        .await
        .expect("starts");
    let base = emulator.base_url();
    let unknown = record(base, "0123456789abcdef0123456789abcdef").await;
    assert_eq!(unknown.status, 200);
    assert_eq!(
        unknown.body,
        json!({"code": 422, "msg": "recordInfo is null", "data": null})
    );

    let missing = crate::common::answer(
        client()
            .get(format!("{base}/api/v1/jobs/recordInfo"))
            .bearer_auth(KEY)
            .send()
            .await
            .expect("sent"),
    )
    .await;
    assert_eq!(missing.status, 200);
    assert_eq!(missing.body["msg"], "taskId parameter is required");
}

#[tokio::test]
async fn record_info_is_null_transiently_right_after_creation_when_asked() {
    let emulator = Emulator::builder()
        .timeline(Timeline::AfterPolls { polls: 2 })
        .record_info_null_polls(2)
        .start()
        .await
        .expect("starts");
    let base = emulator.base_url();
    let id = create(base, &kling("a cat")).await;
    let states: Vec<(Value, Value)> = {
        let mut out = Vec::new();
        for _ in 0..4 {
            let answer = record(base, &id).await;
            assert_eq!(answer.status, 200, "errors come with HTTP 200, as live");
            out.push((
                answer.body["code"].clone(),
                answer.body["data"]["state"].clone(),
            ));
        }
        out
    };
    assert_eq!(
        states,
        [
            (json!(422), Value::Null),
            (json!(422), Value::Null),
            (json!(200), json!("waiting")),
            (json!(200), json!("success"))
        ]
    );
}

#[tokio::test]
async fn insufficient_credits_is_402_and_failures_are_refunded() {
    let emulator = Emulator::builder()
        .credits(200.0)
        .timeline(Timeline::Immediate)
        .start()
        .await
        .expect("starts");
    let base = emulator.base_url();
    let credit = crate::common::answer(
        client()
            .get(format!("{base}/api/v1/chat/credit"))
            .bearer_auth(KEY)
            .send()
            .await
            .expect("sent"),
    )
    .await;
    assert_eq!(
        credit.body,
        json!({"code": 200, "msg": "success", "data": 200})
    );

    create(base, &kling("first")).await; // 160 credits
    let second = create_raw(base, &kling("second").to_string()).await;
    assert_eq!(second.status, 200);
    assert_eq!(second.body["code"], 402);
    assert_eq!(emulator.credits(), 40.0);

    emulator.set_credits(400.0);
    create(base, &kling("refund me [emulator:fail]")).await;
    assert_eq!(emulator.credits(), 400.0, "a failed task is refunded");
    emulator.set_price("kling/v2-1-master-text-to-video", 0.5);
    create(base, &kling("cheap")).await;
    let credit = crate::common::answer(
        client()
            .get(format!("{base}/api/v1/chat/credit"))
            .bearer_auth(KEY)
            .send()
            .await
            .expect("sent"),
    )
    .await;
    assert_eq!(credit.body["data"], json!(399.5));
}

#[tokio::test]
async fn rate_limits_when_asked() {
    let emulator = Emulator::builder()
        .frozen(true)
        .rate_limits(true)
        .timeline(Timeline::AfterPolls { polls: 100 })
        .start()
        .await
        .expect("starts");
    let base = emulator.base_url();
    let mut statuses = Vec::new();
    let mut id = String::new();
    for i in 0..21 {
        let answer = create_raw(base, &kling(&format!("cat {i}")).to_string()).await;
        if answer.status == 200 {
            id = answer.body["data"]["taskId"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
        } else {
            assert_eq!(answer.headers["retry-after"], "10");
            assert_eq!(answer.body["code"], 429);
        }
        statuses.push(answer.status);
    }
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 20);
    assert_eq!(statuses[20], 429);
    assert_eq!(
        emulator.stats().tasks_created,
        20,
        "rejected creates are not queued"
    );

    let polls: Vec<u16> = {
        let mut out = Vec::new();
        for _ in 0..11 {
            out.push(record(base, &id).await.status);
        }
        out
    };
    assert_eq!(polls.iter().filter(|s| **s == 200).count(), 10);
    assert_eq!(polls[10], 429);
    emulator.advance(std::time::Duration::from_secs(1));
    assert_eq!(
        record(base, &id).await.status,
        200,
        "the window slides on the virtual clock"
    );
    assert_eq!(emulator.stats().rate_limited, 2);
}

#[tokio::test]
async fn download_url_rejects_foreign_urls_and_expires_after_twenty_minutes() {
    let emulator = Emulator::builder()
        .frozen(true)
        .timeline(Timeline::Immediate)
        .start()
        .await
        .expect("starts");
    let base = emulator.base_url();
    let ask = |url: String| {
        let base = base.to_owned();
        async move {
            crate::common::answer(
                client()
                    .post(format!("{base}/api/v1/common/download-url"))
                    .bearer_auth(KEY)
                    .json(&json!({"url": url}))
                    .send()
                    .await
                    .expect("sent"),
            )
            .await
        }
    };
    // The live refusal, word for word.
    let wrong = json!({"code": 422, "msg": "url is wrong", "data": null});
    let foreign = ask("https://example.com/video.mp4".to_owned()).await;
    assert_eq!(foreign.status, 200);
    assert_eq!(foreign.body, wrong);
    let made_up = ask(format!("{base}/files/results/nothing/here.mp4")).await;
    assert_eq!(made_up.status, 200);
    assert_eq!(made_up.body, wrong);

    let id = create(base, &kling("a cat")).await;
    let data = crate::common::poll_until_done(base, &id, 1).await;
    let link = ask(crate::common::result_url(&data)).await;
    assert_eq!(link.status, 200, "{}", link.text);
    let link = link.body["data"]
        .as_str()
        .expect("data is a plain string")
        .to_owned();
    assert_eq!(client().get(&link).send().await.expect("get").status(), 200);
    emulator.advance(std::time::Duration::from_secs(20 * 60));
    assert_eq!(
        client().get(&link).send().await.expect("get").status(),
        404,
        "the link expired"
    );
}

#[tokio::test]
async fn unknown_routes_answer_404_with_the_version_header() {
    let emulator = Emulator::start().await.expect("starts");
    let response = client()
        .get(format!("{}/api/v1/nope", emulator.base_url()))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 404);
    assert_eq!(
        response.headers()[kie_emulator::VERSION_HEADER],
        env!("CARGO_PKG_VERSION")
    );
}

#[tokio::test]
async fn decimal_steps_are_checked_without_float_noise() {
    let emulator = Emulator::start().await.expect("starts");
    let body = |cfg: Value| {
        json!({"model": "kling/v2-1-master-text-to-video", "input": {"prompt": "p", "cfg_scale": cfg}}).to_string()
    };
    for ok in [json!(0), json!(0.3), json!(0.7), json!(1)] {
        assert_eq!(
            create_raw(emulator.base_url(), &body(ok.clone()))
                .await
                .status,
            200,
            "{ok}"
        );
    }
    for bad in [json!(0.15), json!(0.30000000000000004)] {
        let answer = create_raw(emulator.base_url(), &body(bad.clone())).await;
        assert_eq!(answer.status, 200, "{bad}");
        assert!(
            answer.body["msg"]
                .as_str()
                .unwrap_or_default()
                .contains("input.cfg_scale"),
            "{}",
            answer.text
        );
        assert!(
            answer.body["msg"]
                .as_str()
                .unwrap_or_default()
                .contains("(multipleOf)"),
            "{}",
            answer.text
        );
    }
}

/// One error answer of each kind kie.ai itself gives, as (what, HTTP status, body code).
async fn refusals(emulator: &Emulator) -> Vec<(&'static str, u16, Value)> {
    // Each refusal has a cause of its own ahead of the balance, except "no credits".
    emulator.set_credits(0.0);
    let create = "/api/v1/jobs/createTask";
    let upload = "/api/file-base64-upload";
    let kling_input =
        |input: Value| json!({"model": "kling/v2-1-master-text-to-video", "input": input});
    // (what, path, Bearer key, body: a POST with it, a GET without).
    let requests = [
        ("create without a key", create, None, Some(kling("a cat"))),
        (
            "unknown model",
            create,
            Some(KEY),
            Some(json!({"model": "kling/v9", "input": {}})),
        ),
        (
            "invalid input",
            create,
            Some(KEY),
            Some(kling_input(json!({}))),
        ),
        ("no credits", create, Some(KEY), Some(kling("a cat"))),
        (
            "unknown task",
            "/api/v1/jobs/recordInfo?taskId=0123456789abcdef0123456789abcdef",
            Some(KEY),
            None,
        ),
        ("no taskId", "/api/v1/jobs/recordInfo", Some(KEY), None),
        (
            "foreign download url",
            "/api/v1/common/download-url",
            Some(KEY),
            Some(json!({"url": "https://example.com/a.mp4"})),
        ),
        (
            "upload without uploadPath",
            upload,
            Some(KEY),
            Some(json!({"base64Data": "aGk="})),
        ),
        (
            "upload without a key",
            upload,
            None,
            Some(json!({"base64Data": "aGk=", "uploadPath": "x"})),
        ),
    ];
    let mut out = Vec::new();
    for (what, path, key, body) in requests {
        let url = format!("{}{path}", emulator.base_url());
        let request = match body {
            Some(body) => client().post(url).json(&body),
            None => client().get(url),
        };
        let request = match key {
            Some(key) => request.bearer_auth(key),
            None => request,
        };
        let answer = crate::common::answer(request.send().await.expect("sent")).await;
        out.push((what, answer.status, answer.body["code"].clone()));
    }
    out
}

#[tokio::test]
async fn errors_come_with_http_200_as_live_or_with_their_code_when_asked() {
    let live = Emulator::start().await.expect("starts");
    let seen = refusals(&live).await;
    assert_eq!(seen.len(), 9);
    for (what, status, code) in &seen {
        assert_eq!(
            *status, 200,
            "{what}: live kie.ai answers its errors with HTTP 200"
        );
        assert!(code.as_u64().is_some_and(|c| c >= 400), "{what}: {code}");
    }
    for mirrored in [
        Emulator::builder()
            .http_status_errors(true)
            .start()
            .await
            .expect("starts"),
        {
            let emulator = Emulator::start().await.expect("starts");
            let patched = client()
                .patch(format!("{}/_emulator/config", emulator.base_url()))
                .json(&json!({"http_status_errors": true}))
                .send()
                .await
                .expect("sent");
            assert_eq!(patched.status(), 200);
            emulator
        },
    ] {
        let again = refusals(&mirrored).await;
        for ((what, status, code), (_, _, live_code)) in again.iter().zip(&seen) {
            assert_eq!(code, live_code, "{what}: the same body code in both modes");
            assert_eq!(
                Some(u64::from(*status)),
                code.as_u64(),
                "{what}: status mirrors the code"
            );
        }
    }
}

#[tokio::test]
async fn fixed_statuses_stay_in_both_modes() {
    for mirrored in [false, true] {
        let emulator = Emulator::builder()
            .http_status_errors(mirrored)
            .rate_limits(true)
            .frozen(true)
            .start()
            .await
            .expect("starts");
        let base = emulator.base_url();
        let id = create(base, &kling("a cat")).await;
        let limited = {
            let mut last = 0;
            for _ in 0..11 {
                last = record(base, &id).await.status;
            }
            last
        };
        assert_eq!(
            limited, 429,
            "rate limits are HTTP 429 (mirrored: {mirrored})"
        );
        emulator.set_rate_limits(false);
        emulator.add_fault(
            FaultRule::new(FaultEffect::BodyCode {
                code: 500,
                msg: None,
            })
            .on(Endpoint::Credit)
            .next(1),
        );
        emulator.add_fault(
            FaultRule::new(FaultEffect::Status {
                status: 503,
                retry_after_s: None,
            })
            .on(Endpoint::Credit)
            .next(1),
        );
        let credit = || async {
            crate::common::answer(
                client()
                    .get(format!("{base}/api/v1/chat/credit"))
                    .bearer_auth(KEY)
                    .send()
                    .await
                    .expect("sent"),
            )
            .await
        };
        let body_code = credit().await;
        assert_eq!(
            (body_code.status, body_code.body["code"].clone()),
            (200, json!(500))
        );
        let status = credit().await;
        assert_eq!(
            (status.status, status.body["code"].clone()),
            (503, json!(503))
        );
        let unknown = client()
            .get(format!("{base}/api/v1/nothing"))
            .send()
            .await
            .expect("sent");
        assert_eq!(unknown.status(), 404);
    }
}

#[tokio::test]
async fn unknown_input_fields_are_refused_unless_the_lenient_mode_is_on() {
    // A misspelt `negative_prompt` inside input, and the same mistake beside it.
    let misspelt = json!({
        "model": "kling/v2-1-master-text-to-video",
        "input": {"prompt": "a cat", "negativ_prompt": "dogs"}
    });
    let beside = json!({
        "model": "kling/v2-1-master-text-to-video",
        "callbackUrl": "http://127.0.0.1:9/hook",
        "input": {"prompt": "a cat"}
    });
    let strict = Emulator::start().await.expect("starts");
    let refused = create_raw(strict.base_url(), &misspelt.to_string()).await;
    assert_eq!(refused.body["code"], 422, "{}", refused.text);
    assert!(refused.text.contains("negativ_prompt"), "{}", refused.text);

    let lenient = Emulator::builder()
        .ignore_unknown_input_fields(true)
        .start()
        .await
        .expect("starts");
    let accepted = create_raw(lenient.base_url(), &misspelt.to_string()).await;
    assert_eq!(accepted.body["code"], 200, "{}", accepted.text);
    let id = accepted.body["data"]["taskId"].as_str().expect("an id");
    let param = record(lenient.base_url(), id).await.body["data"]["param"].clone();
    assert!(
        param.as_str().is_some_and(|p| p.contains("negativ_prompt")),
        "the field is passed on in param: {param}"
    );
    // Only input is lenient: a wrong value, and a field beside input, are still refused.
    let wrong = json!({
        "model": "kling/v2-1-master-text-to-video",
        "input": {"prompt": "a cat", "negativ_prompt": "dogs", "duration": 5}
    });
    for body in [wrong, beside] {
        let answer = create_raw(lenient.base_url(), &body.to_string()).await;
        assert_eq!(answer.body["code"], 422, "{}", answer.text);
        assert!(!answer.text.contains("negativ_prompt"), "{}", answer.text);
    }
    assert_eq!(lenient.stats().tasks_created, 1);
}

//! Each seed document's curl example is accepted verbatim, and the whole flow a user
//! follows (create, poll, download) ends in a valid mp4.

use crate::common::{KEY, client, create_raw, poll_until_done, result_url, seeds::SEED_BODIES};
use kie_emulator::{Emulator, Timeline};
use serde_json::Value;

#[tokio::test]
async fn all_five_seed_models_are_discovered_without_spec_problems() {
    let emulator = Emulator::start().await.expect("starts");
    let stats = emulator.stats();
    assert!(stats.spec_problems.is_empty(), "{:?}", stats.spec_problems);
    for (model, _) in SEED_BODIES {
        assert!(
            emulator.models().iter().any(|m| m == model),
            "{model} missing from {:?}",
            emulator.models()
        );
    }
}

#[tokio::test]
async fn each_seed_request_body_is_accepted_verbatim_and_yields_an_mp4() {
    let emulator = Emulator::builder()
        .seed(11)
        .timeline(Timeline::AfterPolls { polls: 3 })
        .start()
        .await
        .expect("starts");
    let base = emulator.base_url();
    for (model, body) in SEED_BODIES {
        let created = create_raw(base, body).await;
        assert_eq!(created.status, 200, "{model}: {}", created.text);
        assert_eq!(created.body["code"], 200);
        assert_eq!(created.body["msg"], "success");
        let task_id = created.body["data"]["taskId"]
            .as_str()
            .expect("taskId")
            .to_owned();
        assert_eq!(
            created.body["data"]["recordId"],
            Value::from(task_id.clone())
        );
        assert_eq!(task_id.len(), 32);

        let data = poll_until_done(base, &task_id, 3).await;
        assert_eq!(data["state"], "success", "{model}");
        assert_eq!(data["model"], *model);
        // param carries the request with input encoded once more.
        let param: Value = serde_json::from_str(data["param"].as_str().expect("param string"))
            .expect("param parses");
        let input: Value = serde_json::from_str(param["input"].as_str().expect("input string"))
            .expect("input parses");
        let original: Value = serde_json::from_str(body).expect("seed parses");
        assert_eq!(input, original["input"], "{model}");

        let url = result_url(&data);
        let response = client()
            .get(&url)
            .bearer_auth(KEY)
            .send()
            .await
            .expect("download");
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "video/mp4");
        let bytes = response.bytes().await.expect("bytes");
        assert_eq!(&bytes[4..8], b"ftyp", "{model}: result is an mp4");
    }
    let stats = emulator.stats();
    assert_eq!(stats.tasks_created, 5);
    for (model, _) in SEED_BODIES {
        assert_eq!(stats.tasks_by_model.get(*model), Some(&1), "{model}");
    }
}

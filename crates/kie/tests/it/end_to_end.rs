//! Every model end to end on the emulator: its kie.ai page's example request, accepted
//! alike by the typed path (`VideoModel::parse_input`) and the registry's uniform path
//! (`input_for` of the same fields), submitted, waited for, and every file of its result
//! downloaded. Driven by the registry, so a model added to spec/ is covered here with no
//! new test code.

use std::time::Duration;

use crate::common::{CreateTask, client, example, models, spec};
use kie::{Media, PollSchedule, VideoRequest};
use serde_json::{Map, Value};

const KEY: &str = "end-to-end-key";

/// The uniform request that says the same as `input`: its prompt, its media inputs by
/// the uniform fields the model maps them from, everything else as extras.
fn uniform(doc: &Value, input: &Map<String, Value>) -> VideoRequest {
    let targets = doc["x-kie-rs"]["uniform"]
        .as_object()
        .expect("a uniform mapping");
    let from = |param: &str| {
        targets
            .iter()
            .filter(|(_, t)| t["param"] == param)
            .map(|(name, t)| (name.as_str(), t["item"].as_u64()))
            .collect::<Vec<_>>()
    };
    let mut request = VideoRequest::new("");
    for (name, value) in input {
        let mapped = from(name);
        let media = |v: &Value| v.as_str().map(|url| Media::Url(url.to_owned()));
        let list: Vec<Media> = match value {
            Value::Array(items) => items.iter().filter_map(media).collect(),
            other => media(other).into_iter().collect(),
        };
        let simple = match mapped.as_slice() {
            // An empty prompt is no prompt to the uniform request: "" goes as an extra.
            [("prompt", None)] => value
                .as_str()
                .filter(|p| !p.is_empty())
                .map(|p| request.prompt = p.to_owned()),
            [("reference_images", None)] => {
                request.reference_images = list.clone();
                Some(())
            }
            // A single media field sent as a one-item list, or items of a shared list.
            fields
                if !fields.is_empty()
                    && fields
                        .iter()
                        .all(|(f, _)| ["image", "end_image", "video", "audio"].contains(f))
                    && list.len() <= fields.len().max(1)
                    && (fields.len() > 1 || list.len() == 1) =>
            {
                for (i, media) in list.iter().enumerate() {
                    let Some((field, _)) = fields
                        .iter()
                        .find(|(_, item)| item.unwrap_or(0) == i as u64)
                    else {
                        continue;
                    };
                    let slot = match *field {
                        "image" => &mut request.image,
                        "end_image" => &mut request.end_image,
                        "video" => &mut request.video,
                        _ => &mut request.audio,
                    };
                    *slot = Some(media.clone());
                }
                Some(())
            }
            _ => None,
        };
        if simple.is_none() {
            request = request.extra(name.clone(), value.clone());
        }
    }
    request
}

#[tokio::test]
async fn every_model_s_example_goes_from_submit_to_its_downloaded_result() {
    let emulator = crate::common::emulator(KEY).await;
    emulator.set_speed(2_000.0);
    let client = client(&emulator, KEY);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut done = 0;
    for model in models() {
        let doc = spec(model.file);
        let input = example(&doc)["input"].clone();
        let object = input.as_object().expect("an input object");

        let typed = (model.parse)(input.clone())
            .unwrap_or_else(|e| panic!("{}: the example is refused: {e}", model.id));
        assert_eq!(
            typed, input,
            "{}: the typed path changes the example",
            model.id
        );
        let registered = kie::registry::model(model.id).expect("registered");
        let request = uniform(&doc, object);
        let mapped = registered
            .input_for(&request)
            .unwrap_or_else(|e| panic!("{}: the uniform request is refused: {e}", model.id));
        assert_eq!(
            mapped, input,
            "{}: the uniform path changes the example",
            model.id
        );

        let task = (model.submit)(
            client.clone(),
            CreateTask {
                input,
                callback_url: None,
                progress_callback_url: None,
            },
        )
        .await
        .unwrap_or_else(|e| panic!("{}: submit: {e}", model.id));
        let result = task
            .wait()
            .schedule(PollSchedule::fixed(Duration::from_millis(20)))
            .await
            .unwrap_or_else(|e| panic!("{}: wait: {e}", model.id));
        assert!(
            !result.urls.is_empty() || result.character_id.is_some(),
            "{}: the result has nothing: {:?}",
            model.id,
            result.record.raw
        );
        for (i, url) in result.urls.iter().enumerate() {
            let path = dir
                .path()
                .join(format!("{}-{i}", model.id.replace('/', "-")));
            let downloaded = client
                .download(url)
                .to_path(&path)
                .await
                .unwrap_or_else(|e| panic!("{}: download: {e}", model.id));
            assert!(downloaded.bytes > 0, "{}: an empty file", model.id);
        }
        done += 1;
    }
    assert_eq!(done, kie::registry::models().len());
    eprintln!("{done} models went end to end");
}

/// kie.ai's own request example of every page, exactly as published (an empty optional
/// URL, a field name with a trailing space, a number sent as text...), is taken by the
/// emulator: a user copying kie.ai's docs gets a task, not a 422 the live API would not
/// give. (The SDK refuses those forms before sending; spec/ records each correction.)
#[tokio::test]
async fn every_page_s_published_example_is_accepted_verbatim_by_the_emulator() {
    let emulator = crate::common::emulator(KEY).await;
    let http = reqwest::Client::new();
    let url = format!("{}/api/v1/jobs/createTask", emulator.base_url());
    let mut published = 0;
    for model in models() {
        let doc = spec(model.file);
        let body = match &doc["x-kie-rs"]["page-example"] {
            Value::Null => example(&doc).clone(),
            verbatim => {
                published += 1;
                verbatim.clone()
            }
        };
        let answer: Value = http
            .post(&url)
            .bearer_auth(KEY)
            .json(&body)
            .send()
            .await
            .expect("sent")
            .json()
            .await
            .expect("a JSON answer");
        assert_eq!(answer["code"], 200, "{}: {answer}", model.id);
    }
    assert!(
        published >= 6,
        "only {published} pages' examples differ from spec/"
    );
}

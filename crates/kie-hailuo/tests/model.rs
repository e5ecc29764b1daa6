//! hailuo/02-text-to-video-pro: the seed's request body, the prompt limit on both sides,
//! and the uniform-request mapping of a model with almost no knobs.

use kie_core::{
    AspectRatio, ModelInput, Problem, Resolution, ValidationError, VideoModel, VideoRequest,
};
use kie_hailuo::hailuo_02_text_to_video_pro::{
    self as hailuo, Hailuo02TextToVideoPro, Hailuo02TextToVideoProInput,
};
use serde_json::{Value, json};

/// The `input` of the curl example of seed 004, verbatim.
const SEED_004_INPUT: &str = r#"{
    "prompt": "高俯角宽景中近景跟拍镜头，以两米高度极速掠过史前蕨类植物和苔藓覆盖的地面，画面主体是一个真实的小男孩（粉色T恤、粉色短裤、白色鞋子、白色长袜），背向镜头，身体舒展，平稳向前滑翔，腾空而起，在下方的地形上投射出清晰的影子。他的腿和身体高高离开地面，双脚不着地，以超人的姿势翱翔。背景是广袤的侏罗纪山谷，遍布茂密的古老丛林植被和高大的苏铁树。远处，嶙峋的火山山脉拔地而起，一条蜿蜒的小路穿梭其间。体型庞大、行动缓慢的蜥脚类恐龙在遥远的地平线上觅食。鲜艳的蓝天上漂浮着大朵蓬松的白云。强烈的动态运动模糊效果，增添了高速飞行的逼真感和浓郁的电影级景深。写实画质——原生未修饰。",
    "prompt_optimizer": true
  }"#;

/// A spec document, as the emulator embeds it (the same bytes as the workspace's `spec/`,
/// and inside the published emulator too).
fn spec_document(file: &str) -> Value {
    let (_, text) = kie_emulator::spec_documents()
        .iter()
        .find(|(name, _)| *name == file)
        .unwrap_or_else(|| panic!("the emulator embeds no {file}"));
    serde_json::from_str(text).unwrap()
}

fn problem(err: &ValidationError, field: &str) -> Problem {
    err.violations()
        .iter()
        .find(|v| v.field == field)
        .map(|v| v.problem.clone())
        .unwrap_or_else(|| panic!("no violation on `{field}` in: {err}"))
}

#[test]
fn seed_004_round_trips_through_the_typed_input() {
    let seed: Value = serde_json::from_str(SEED_004_INPUT).unwrap();
    let input: Hailuo02TextToVideoProInput = serde_json::from_value(seed.clone()).unwrap();
    input.validate().unwrap();
    assert_eq!(serde_json::to_value(&input).unwrap(), seed);
    assert_eq!(input.prompt_optimizer, Some(true));
    assert_eq!(
        Hailuo02TextToVideoProInput::from_json(seed.clone()).unwrap(),
        input
    );

    let doc = spec_document("hailuo-02-text-to-video-pro.json");
    let example = &doc["paths"]["/api/v1/jobs/createTask"]["post"]["requestBody"]["content"]["application/json"]
        ["example"];
    assert_eq!(example["input"], seed);
    assert_eq!(example["model"], hailuo::MODEL_ID);
}

#[test]
fn the_prompt_is_limited_to_1500_characters_not_bytes() {
    for ch in ["a", "龙"] {
        assert!(
            Hailuo02TextToVideoProInput::new(ch.repeat(1_500))
                .validate()
                .is_ok()
        );
        let err = Hailuo02TextToVideoProInput::new(ch.repeat(1_501))
            .validate()
            .unwrap_err();
        assert_eq!(
            problem(&err, "prompt"),
            Problem::TooLong {
                max: 1_500,
                actual: 1_501
            }
        );
        assert_eq!(
            err.to_string(),
            "`prompt` is 1501 characters long; at most 1500 characters are allowed"
        );
    }
    // The Chinese seed prompt is far below 1500 characters but above 1500 / 3 bytes.
    let seed: Value = serde_json::from_str(SEED_004_INPUT).unwrap();
    let prompt = seed["prompt"].as_str().unwrap();
    assert!(prompt.len() > 500 && prompt.chars().count() <= 1_500);
}

#[test]
fn booleans_are_booleans() {
    let input = Hailuo02TextToVideoProInput::new("x")
        .prompt_optimizer(false)
        .nsfw_checker(true);
    assert_eq!(
        serde_json::to_value(&input).unwrap(),
        json!({"prompt": "x", "prompt_optimizer": false, "nsfw_checker": true})
    );
    let err =
        Hailuo02TextToVideoProInput::from_json(json!({"prompt": "x", "prompt_optimizer": "yes"}))
            .unwrap_err();
    assert!(matches!(
        problem(&err, "prompt_optimizer"),
        Problem::WrongType { .. }
    ));
    assert_eq!(
        hailuo::INFO.param("nsfw_checker").unwrap().default,
        Some("false")
    );
}

#[test]
fn the_uniform_request_maps_onto_hailuo_and_refuses_what_it_lacks() {
    let request = VideoRequest::new("a boy gliding").extra("prompt_optimizer", true);
    assert_eq!(
        Hailuo02TextToVideoPro.input_for(&request).unwrap(),
        json!({"prompt": "a boy gliding", "prompt_optimizer": true})
    );
    let request = VideoRequest::new("a boy gliding")
        .duration_secs(6)
        .aspect_ratio(AspectRatio::Landscape16x9)
        .resolution(Resolution::P1080)
        .seed(1)
        .negative_prompt("blur")
        .image_url("https://example.com/boy.png");
    let err = Hailuo02TextToVideoPro.input_for(&request).unwrap_err();
    assert_eq!(err.violations().len(), 6, "{err}");
    for field in [
        "duration_secs",
        "aspect_ratio",
        "resolution",
        "seed",
        "negative_prompt",
        "image_url",
    ] {
        assert!(
            matches!(problem(&err, field), Problem::Unsupported { .. }),
            "{field}"
        );
    }
    assert!(
        err.to_string().contains("its clips have a fixed length"),
        "{err}"
    );
}

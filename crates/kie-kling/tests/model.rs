//! kling/v2-1-master-text-to-video: the seed's request body, every limit on both sides,
//! every enum value, and the uniform-request mapping.

use kie_core::{
    AspectRatio, ModelInput, Problem, Resolution, ValidationError, VideoModel, VideoRequest,
};
use kie_kling::v2_1_master_text_to_video::{
    self as kling, KlingV21MasterTextToVideo, KlingV21MasterTextToVideoInput,
};
use serde_json::{Value, json};

/// The `input` of the curl example of seed 003, verbatim.
const SEED_003_INPUT: &str = r#"{
    "prompt": "士兵从运输机跳下的第一人称视角——镜头因气流颠簸而晃动，氧气面罩的反光忽明忽暗——云层散开时，下方战场中防空火力与导弹尾迹交织闪动",
    "duration": "5",
    "aspect_ratio": "16:9",
    "negative_prompt": "模糊、畸变、低画质",
    "cfg_scale": 0.5
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
fn seed_003_round_trips_through_the_typed_input() {
    let seed: Value = serde_json::from_str(SEED_003_INPUT).unwrap();
    let input: KlingV21MasterTextToVideoInput = serde_json::from_value(seed.clone()).unwrap();
    input.validate().unwrap();
    assert_eq!(serde_json::to_value(&input).unwrap(), seed);
    assert_eq!(input.duration, Some(kling::VideoDuration::Secs5));
    assert_eq!(input.cfg_scale, Some(0.5));
    assert_eq!(
        KlingV21MasterTextToVideoInput::from_json(seed.clone()).unwrap(),
        input
    );

    let doc = spec_document("kling-v2-1-master-text-to-video.json");
    let example = &doc["paths"]["/api/v1/jobs/createTask"]["post"]["requestBody"]["content"]["application/json"]
        ["example"];
    assert_eq!(example["input"], seed);
    assert_eq!(example["model"], kling::MODEL_ID);
}

#[test]
fn the_prompt_is_limited_to_5000_characters_and_the_negative_prompt_to_500() {
    for ch in ["a", "兵"] {
        assert!(
            KlingV21MasterTextToVideoInput::new(ch.repeat(5_000))
                .validate()
                .is_ok()
        );
        let err = KlingV21MasterTextToVideoInput::new(ch.repeat(5_001))
            .validate()
            .unwrap_err();
        assert_eq!(
            problem(&err, "prompt"),
            Problem::TooLong {
                max: 5_000,
                actual: 5_001
            }
        );

        let at = KlingV21MasterTextToVideoInput::new("x").negative_prompt(ch.repeat(500));
        assert!(at.validate().is_ok());
        let err = KlingV21MasterTextToVideoInput::new("x")
            .negative_prompt(ch.repeat(501))
            .validate()
            .unwrap_err();
        assert_eq!(
            problem(&err, "negative_prompt"),
            Problem::TooLong {
                max: 500,
                actual: 501
            }
        );
    }
}

#[test]
fn cfg_scale_runs_from_0_to_1_in_steps_of_a_tenth() {
    for ok in [0.0, 0.1, 0.3, 0.5, 0.7, 0.9, 1.0] {
        assert!(
            KlingV21MasterTextToVideoInput::new("x")
                .cfg_scale(ok)
                .validate()
                .is_ok(),
            "{ok}"
        );
    }
    for below_or_above in [-0.1, 1.1] {
        let err = KlingV21MasterTextToVideoInput::new("x")
            .cfg_scale(below_or_above)
            .validate()
            .unwrap_err();
        assert_eq!(
            problem(&err, "cfg_scale"),
            Problem::OutOfRange {
                value: below_or_above,
                min: Some(0.0),
                max: Some(1.0)
            }
        );
    }
    let err = KlingV21MasterTextToVideoInput::new("x")
        .cfg_scale(0.55)
        .validate()
        .unwrap_err();
    assert_eq!(
        problem(&err, "cfg_scale"),
        Problem::NotMultipleOf {
            value: 0.55,
            step: 0.1
        }
    );
    // JSON whole numbers are numbers too.
    assert!(
        KlingV21MasterTextToVideoInput::from_json(json!({"prompt": "x", "cfg_scale": 1})).is_ok()
    );
}

#[test]
fn every_enum_value_round_trips_as_its_documented_string() {
    let wire: Vec<&str> = kling::VideoDuration::ALL
        .iter()
        .map(|v| v.as_str())
        .collect();
    assert_eq!(wire, ["5", "10"]);
    let wire: Vec<&str> = kling::AspectRatio::ALL.iter().map(|v| v.as_str()).collect();
    assert_eq!(wire, ["16:9", "9:16", "1:1"]);
    for v in kling::VideoDuration::ALL {
        assert_eq!(serde_json::to_value(v).unwrap(), json!(v.as_str()));
        assert_eq!(
            serde_json::from_value::<kling::VideoDuration>(json!(v.as_str())).unwrap(),
            v
        );
        assert_eq!(v.as_str().parse::<kling::VideoDuration>().unwrap(), v);
    }
    for v in kling::AspectRatio::ALL {
        assert_eq!(serde_json::to_value(v).unwrap(), json!(v.as_str()));
        assert_eq!(
            serde_json::from_value::<kling::AspectRatio>(json!(v.as_str())).unwrap(),
            v
        );
        assert_eq!(v.as_str().parse::<kling::AspectRatio>().unwrap(), v);
    }
    let err =
        KlingV21MasterTextToVideoInput::from_json(json!({"prompt": "x", "aspect_ratio": "4:3"}))
            .unwrap_err();
    assert_eq!(
        problem(&err, "aspect_ratio"),
        Problem::NotAllowed {
            value: "4:3".into(),
            allowed: vec!["16:9".into(), "9:16".into(), "1:1".into()]
        }
    );
}

#[test]
fn the_uniform_request_maps_onto_kling() {
    let request = VideoRequest::new("soldiers")
        .duration_secs(10)
        .aspect_ratio(AspectRatio::Portrait9x16)
        .negative_prompt("blur")
        .extra("cfg_scale", 0.7);
    assert_eq!(
        KlingV21MasterTextToVideo.input_for(&request).unwrap(),
        json!({"prompt": "soldiers", "duration": "10", "aspect_ratio": "9:16", "negative_prompt": "blur", "cfg_scale": 0.7})
    );
}

#[test]
fn a_seed_sent_to_kling_is_a_clear_error() {
    let err = KlingV21MasterTextToVideo
        .input_for(&VideoRequest::new("x").seed(42))
        .unwrap_err();
    assert_eq!(
        problem(&err, "seed"),
        Problem::Unsupported {
            model: "kling/v2-1-master-text-to-video".into(),
            hint: Some("the model has no seed parameter".into())
        }
    );
    assert_eq!(
        err.to_string(),
        "`seed` is not supported by kling/v2-1-master-text-to-video (the model has no seed parameter)"
    );
    let request = VideoRequest::new("x")
        .resolution(Resolution::P720)
        .aspect_ratio(AspectRatio::Landscape21x9)
        .duration_secs(6)
        .extra("cfg_scale", 1.5)
        .extra("camera_fixed", true);
    let err = KlingV21MasterTextToVideo.input_for(&request).unwrap_err();
    assert_eq!(err.violations().len(), 5, "{err}");
    assert!(matches!(
        problem(&err, "resolution"),
        Problem::Unsupported { .. }
    ));
    assert!(matches!(
        problem(&err, "aspect_ratio"),
        Problem::NotAllowed { .. }
    ));
    assert!(matches!(
        problem(&err, "duration_secs"),
        Problem::NotAllowed { .. }
    ));
    assert!(matches!(
        problem(&err, "cfg_scale"),
        Problem::OutOfRange { .. }
    ));
    assert!(matches!(
        problem(&err, "camera_fixed"),
        Problem::Unsupported { .. }
    ));
}

#[test]
fn kling_takes_no_progress_callback_as_its_spec_says() {
    let doc = spec_document("kling-v2-1-master-text-to-video.json");
    let top = &doc["paths"]["/api/v1/jobs/createTask"]["post"]["requestBody"]["content"]["application/json"]
        ["schema"]["properties"];
    assert!(top.get("callBackUrl").is_some());
    assert_eq!(
        kling::PROGRESS_CALLBACK,
        top.get("progressCallBackUrl").is_some()
    );
}

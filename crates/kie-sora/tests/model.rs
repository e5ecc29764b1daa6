//! sora-2-pro-text-to-video: the seed's request body, every limit on both sides, every
//! enum value, the additions from later pages, and the uniform-request mapping.

use kie_core::{
    AspectRatio, ModelInput, Problem, Resolution, ValidationError, VideoModel, VideoRequest,
};
use kie_sora::sora_2_pro_text_to_video::{
    self as sora, Sora2ProTextToVideo, Sora2ProTextToVideoInput,
};
use serde_json::{Value, json};

/// The `input` of the curl example of seed 002, verbatim.
const SEED_002_INPUT: &str = r#"{
    "prompt": "一只快乐的小狗在花园里奔跑",
    "aspect_ratio": "landscape",
    "n_frames": "10",
    "size": "high",
    "remove_watermark": true
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
fn seed_002_round_trips_through_the_typed_input() {
    let seed: Value = serde_json::from_str(SEED_002_INPUT).unwrap();
    let input: Sora2ProTextToVideoInput = serde_json::from_value(seed.clone()).unwrap();
    input.validate().unwrap();
    assert_eq!(serde_json::to_value(&input).unwrap(), seed);
    assert_eq!(input.aspect_ratio, Some(sora::AspectRatio::Landscape));
    assert_eq!(input.n_frames, Some(sora::NFrames::Frames10));
    assert_eq!(input.size, Some(sora::Size::High));
    assert_eq!(
        input.upload_method, None,
        "the seed leaves upload_method out"
    );
    assert_eq!(
        Sora2ProTextToVideoInput::from_json(seed.clone()).unwrap(),
        input
    );

    let doc = spec_document("sora-2-pro-text-to-video.json");
    let example = &doc["paths"]["/api/v1/jobs/createTask"]["post"]["requestBody"]["content"]["application/json"]
        ["example"];
    assert_eq!(example["input"], seed);
    assert_eq!(example["model"], sora::MODEL_ID);
}

#[test]
fn the_prompt_is_limited_to_10000_characters_not_bytes() {
    for ch in ["a", "狗"] {
        assert!(
            Sora2ProTextToVideoInput::new(ch.repeat(10_000))
                .validate()
                .is_ok()
        );
        let err = Sora2ProTextToVideoInput::new(ch.repeat(10_001))
            .validate()
            .unwrap_err();
        assert_eq!(
            problem(&err, "prompt"),
            Problem::TooLong {
                max: 10_000,
                actual: 10_001
            }
        );
    }
}

#[test]
fn at_most_five_characters_are_cast() {
    let five = (1..=5).map(|i| format!("char_{i}"));
    let input = Sora2ProTextToVideoInput::new("a dog").character_id_list(five);
    assert!(input.validate().is_ok());
    let six = (1..=6).map(|i| format!("char_{i}"));
    let err = Sora2ProTextToVideoInput::new("a dog")
        .character_id_list(six)
        .validate()
        .unwrap_err();
    assert_eq!(
        problem(&err, "character_id_list"),
        Problem::TooManyItems { max: 5, actual: 6 }
    );
    let err =
        Sora2ProTextToVideoInput::from_json(json!({"prompt": "x", "character_id_list": ["a", 2]}))
            .unwrap_err();
    assert!(matches!(
        problem(&err, "character_id_list"),
        Problem::WrongType { .. }
    ));
}

#[test]
fn upload_method_is_optional_with_s3_as_default() {
    assert_eq!(sora::UploadMethod::default(), sora::UploadMethod::S3);
    assert_eq!(
        sora::INFO.param("upload_method").unwrap().default,
        Some("\"s3\"")
    );
    assert!(!sora::INFO.param("upload_method").unwrap().required);
    let input = Sora2ProTextToVideoInput::new("a dog").upload_method(sora::UploadMethod::Oss);
    assert_eq!(
        serde_json::to_value(&input).unwrap(),
        json!({"prompt": "a dog", "upload_method": "oss"})
    );
    let plain = Sora2ProTextToVideoInput::new("a dog");
    assert_eq!(
        serde_json::to_value(&plain).unwrap(),
        json!({"prompt": "a dog"})
    );
}

#[test]
fn every_enum_value_round_trips_as_its_documented_string() {
    fn check<T>(all: &[T], wire: &[&str], as_str: fn(&T) -> &'static str)
    where
        T: serde::Serialize
            + serde::de::DeserializeOwned
            + std::str::FromStr
            + PartialEq
            + std::fmt::Debug,
        <T as std::str::FromStr>::Err: std::fmt::Debug,
    {
        assert_eq!(all.iter().map(as_str).collect::<Vec<_>>(), wire);
        for v in all {
            let s = as_str(v);
            assert_eq!(
                serde_json::to_value(v).unwrap(),
                Value::String(s.to_owned())
            );
            assert_eq!(&serde_json::from_value::<T>(json!(s)).unwrap(), v);
            assert_eq!(&s.parse::<T>().unwrap(), v);
        }
    }
    check(&sora::AspectRatio::ALL, &["portrait", "landscape"], |v| {
        v.as_str()
    });
    check(&sora::NFrames::ALL, &["10", "15"], |v| v.as_str());
    check(&sora::Size::ALL, &["standard", "high"], |v| v.as_str());
    check(&sora::UploadMethod::ALL, &["s3", "oss"], |v| v.as_str());
    let err = "16:9".parse::<sora::AspectRatio>().unwrap_err();
    assert!(
        err.to_string()
            .contains(r#"allowed: "portrait", "landscape""#),
        "{err}"
    );
    let err =
        Sora2ProTextToVideoInput::from_json(json!({"prompt": "x", "n_frames": 10})).unwrap_err();
    assert!(
        matches!(problem(&err, "n_frames"), Problem::WrongType { .. }),
        "{err}"
    );
}

#[test]
fn nine_by_sixteen_is_portrait_and_sixteen_by_nine_is_landscape() {
    let map = |ratio| {
        Sora2ProTextToVideo
            .input_for(&VideoRequest::new("a dog").aspect_ratio(ratio))
            .map(|input| input["aspect_ratio"].clone())
    };
    assert_eq!(map(AspectRatio::Portrait9x16).unwrap(), "portrait");
    assert_eq!(map(AspectRatio::Landscape16x9).unwrap(), "landscape");
    for ratio in [
        AspectRatio::Landscape21x9,
        AspectRatio::Landscape4x3,
        AspectRatio::Square,
        AspectRatio::Portrait3x4,
    ] {
        let err = map(ratio).unwrap_err();
        assert_eq!(
            problem(&err, "aspect_ratio"),
            Problem::NotAllowed {
                value: ratio.as_str().into(),
                allowed: vec!["16:9".into(), "9:16".into()]
            }
        );
    }
}

#[test]
fn durations_map_onto_n_frames() {
    let input = Sora2ProTextToVideo
        .input_for(&VideoRequest::new("a dog").duration_secs(15))
        .unwrap();
    assert_eq!(input, json!({"prompt": "a dog", "n_frames": "15"}));
    let err = Sora2ProTextToVideo
        .input_for(&VideoRequest::new("a dog").duration_secs(5))
        .unwrap_err();
    assert_eq!(
        problem(&err, "duration_secs"),
        Problem::NotAllowed {
            value: "5".into(),
            allowed: vec!["10".into(), "15".into()]
        }
    );
}

#[test]
fn what_sora_cannot_take_is_an_error_and_extras_reach_its_own_fields() {
    let request = VideoRequest::new("a dog")
        .seed(3)
        .resolution(Resolution::P1080)
        .negative_prompt("cats")
        .image_url("https://example.com/dog.png");
    let err = Sora2ProTextToVideo.input_for(&request).unwrap_err();
    assert_eq!(err.violations().len(), 4, "{err}");
    for field in ["seed", "resolution", "negative_prompt", "image_url"] {
        assert!(
            matches!(problem(&err, field), Problem::Unsupported { .. }),
            "{field}"
        );
    }
    assert!(err.to_string().contains("set the `size` extra"), "{err}");

    let request = VideoRequest::new("a dog")
        .extra("size", "standard")
        .extra("remove_watermark", true)
        .extra("character_id_list", json!(["c1"]))
        .extra("upload_method", "oss");
    assert_eq!(
        Sora2ProTextToVideo.input_for(&request).unwrap(),
        json!({"prompt": "a dog", "size": "standard", "remove_watermark": true, "character_id_list": ["c1"], "upload_method": "oss"})
    );
    let err = Sora2ProTextToVideo
        .input_for(
            &VideoRequest::new("a dog")
                .aspect_ratio(AspectRatio::Portrait9x16)
                .extra("aspect_ratio", "landscape"),
        )
        .unwrap_err();
    assert!(
        matches!(problem(&err, "aspect_ratio"), Problem::Conflict { .. }),
        "{err}"
    );
}

#[test]
fn sora_takes_a_progress_callback_as_its_spec_says() {
    let doc = spec_document("sora-2-pro-text-to-video.json");
    let top = &doc["paths"]["/api/v1/jobs/createTask"]["post"]["requestBody"]["content"]["application/json"]
        ["schema"]["properties"];
    assert_eq!(top["progressCallBackUrl"]["format"], "uri");
    assert_eq!(
        sora::PROGRESS_CALLBACK,
        top.get("progressCallBackUrl").is_some()
    );
}

//! sora-2-pro-text-to-video: each enum's wire strings, the defaults, and the
//! uniform-request mapping onto Sora's own fields (limits and the documented example:
//! `spec_conformance`).

use crate::common::{problem, wire_strings};
use kie::sora::sora_2_pro_text_to_video::{
    self as sora, Sora2ProTextToVideo, Sora2ProTextToVideoInput,
};
use kie::{AspectRatio, Problem, Resolution, VideoModel, VideoRequest};
use serde_json::json;

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
    assert_eq!(
        wire_strings(&sora::AspectRatio::ALL, |v| v.as_str()),
        ["portrait", "landscape"]
    );
    assert_eq!(
        wire_strings(&sora::NFrames::ALL, |v| v.as_str()),
        ["10", "15"]
    );
    assert_eq!(
        wire_strings(&sora::Size::ALL, |v| v.as_str()),
        ["standard", "high"]
    );
    assert_eq!(
        wire_strings(&sora::UploadMethod::ALL, |v| v.as_str()),
        ["s3", "oss"]
    );
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
    for field in ["seed", "resolution", "negative_prompt", "image"] {
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

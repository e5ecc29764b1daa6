//! The two ByteDance models: each enum's wire strings, the builder, and the
//! uniform-request mapping (limits, required fields and the documented examples are
//! checked for every model by `spec_conformance`).

use crate::common::{problem, wire_strings};
use kie::bytedance::BytedanceV1ProTextToVideoInput;
use kie::bytedance::v1_pro_fast_image_to_video::{self as i2v, BytedanceV1ProFastImageToVideo};
use kie::bytedance::v1_pro_text_to_video::{self as t2v, BytedanceV1ProTextToVideo};
use kie::{AspectRatio, ModelInput, Problem, Resolution, VideoModel, VideoRequest};
use serde_json::json;

#[test]
fn every_enum_value_round_trips_as_its_documented_string() {
    assert_eq!(
        wire_strings(&t2v::AspectRatio::ALL, |v| v.as_str()),
        ["21:9", "16:9", "4:3", "1:1", "3:4", "9:16"]
    );
    assert_eq!(
        wire_strings(&t2v::Resolution::ALL, |v| v.as_str()),
        ["480p", "720p", "1080p"]
    );
    assert_eq!(
        wire_strings(&t2v::VideoDuration::ALL, |v| v.as_str()),
        ["5", "10"]
    );
    assert_eq!(
        wire_strings(&i2v::Resolution::ALL, |v| v.as_str()),
        ["720p", "1080p"]
    );
    assert_eq!(
        wire_strings(&i2v::VideoDuration::ALL, |v| v.as_str()),
        ["5", "10"]
    );
    assert_eq!(t2v::VideoDuration::default(), t2v::VideoDuration::Secs5);
    assert_eq!(t2v::AspectRatio::default(), t2v::AspectRatio::Ratio16x9);

    // Durations stay strings: the number 5 is not a duration.
    let err = BytedanceV1ProTextToVideoInput::from_json(json!({"prompt": "x", "duration": 5}))
        .unwrap_err();
    assert!(
        matches!(problem(&err, "duration"), Problem::WrongType { .. }),
        "{err}"
    );
    // The fast model has no 480p.
    let err = "480p".parse::<i2v::Resolution>().unwrap_err();
    assert_eq!(
        problem(&err, "resolution"),
        Problem::NotAllowed {
            value: "480p".into(),
            allowed: vec!["720p".into(), "1080p".into()]
        }
    );
}

#[test]
fn the_builder_sets_only_what_it_is_given() {
    let input = BytedanceV1ProTextToVideoInput::new("a fox")
        .aspect_ratio(t2v::AspectRatio::Ratio21x9)
        .duration(t2v::VideoDuration::Secs10)
        .camera_fixed(true)
        .nsfw_checker(false);
    assert_eq!(
        serde_json::to_value(&input).unwrap(),
        json!({"prompt": "a fox", "aspect_ratio": "21:9", "duration": "10", "camera_fixed": true, "nsfw_checker": false})
    );
    assert_eq!(input.model_id(), "bytedance/v1-pro-text-to-video");
    let err =
        BytedanceV1ProTextToVideoInput::from_json(json!({"prompt": "x", "aspectRatio": "16:9"}))
            .unwrap_err();
    assert!(
        matches!(problem(&err, "aspectRatio"), Problem::Unsupported { .. }),
        "{err}"
    );
}

#[test]
fn the_uniform_request_maps_onto_text_to_video() {
    let request = VideoRequest::new("a fox")
        .duration_secs(10)
        .aspect_ratio(AspectRatio::Portrait9x16)
        .resolution(Resolution::P1080)
        .seed(42)
        .extra("camera_fixed", true);
    assert_eq!(
        BytedanceV1ProTextToVideo.input_for(&request).unwrap(),
        json!({"prompt": "a fox", "duration": "10", "aspect_ratio": "9:16", "resolution": "1080p", "seed": 42, "camera_fixed": true})
    );
    // Every ratio of the uniform request is a ratio of this model.
    for ratio in AspectRatio::ALL {
        let input = BytedanceV1ProTextToVideo
            .input_for(&VideoRequest::new("a fox").aspect_ratio(ratio))
            .unwrap();
        assert_eq!(input["aspect_ratio"], ratio.as_str());
    }
}

#[test]
fn what_text_to_video_cannot_take_is_an_error() {
    let request = VideoRequest::new("a fox")
        .image_url("https://example.com/a.png")
        .negative_prompt("blur")
        .duration_secs(7)
        .seed(-2);
    let err = BytedanceV1ProTextToVideo.input_for(&request).unwrap_err();
    assert_eq!(err.violations().len(), 4, "{err}");
    assert!(matches!(
        problem(&err, "image"),
        Problem::Unsupported { .. }
    ));
    assert!(matches!(
        problem(&err, "negative_prompt"),
        Problem::Unsupported { .. }
    ));
    assert_eq!(
        problem(&err, "duration_secs"),
        Problem::NotAllowed {
            value: "7".into(),
            allowed: vec!["5".into(), "10".into()]
        }
    );
    assert!(matches!(problem(&err, "seed"), Problem::OutOfRange { .. }));
}

#[test]
fn the_uniform_request_maps_onto_image_to_video() {
    let request = VideoRequest::new("a cup")
        .image_url("https://example.com/cup.webp")
        .duration_secs(5)
        .resolution(Resolution::P720);
    assert_eq!(
        BytedanceV1ProFastImageToVideo.input_for(&request).unwrap(),
        json!({"prompt": "a cup", "image_url": "https://example.com/cup.webp", "duration": "5", "resolution": "720p"})
    );

    let err = BytedanceV1ProFastImageToVideo
        .input_for(&VideoRequest::new("a cup"))
        .unwrap_err();
    assert_eq!(problem(&err, "image"), Problem::Required);

    let request = VideoRequest::new("a cup")
        .image_url("https://example.com/cup.webp")
        .resolution(Resolution::P480)
        .aspect_ratio(AspectRatio::Square)
        .seed(1);
    let err = BytedanceV1ProFastImageToVideo
        .input_for(&request)
        .unwrap_err();
    assert_eq!(err.violations().len(), 3, "{err}");
    assert_eq!(
        problem(&err, "resolution"),
        Problem::NotAllowed {
            value: "480p".into(),
            allowed: vec!["720p".into(), "1080p".into()]
        }
    );
    assert!(matches!(
        problem(&err, "aspect_ratio"),
        Problem::Unsupported { .. }
    ));
    assert!(matches!(problem(&err, "seed"), Problem::Unsupported { .. }));
}

#[test]
fn the_crate_lists_its_models_with_their_parameters() {
    let models = kie::bytedance::models();
    let ids: Vec<&str> = models.iter().map(|m| m.id()).collect();
    assert!(
        ids.contains(&"bytedance/v1-pro-fast-image-to-video"),
        "{ids:?}"
    );
    assert!(ids.contains(&"bytedance/v1-pro-text-to-video"), "{ids:?}");
    assert!(models.iter().all(|m| m.info().provider == "bytedance"));
    let names: Vec<&str> = t2v::INFO.params.iter().map(|p| p.name).collect();
    assert_eq!(
        names,
        [
            "prompt",
            "aspect_ratio",
            "resolution",
            "duration",
            "camera_fixed",
            "seed",
            "enable_safety_checker",
            "nsfw_checker"
        ]
    );
    assert_eq!(t2v::INFO.param("seed").unwrap().default, Some("-1"));
    assert_eq!(i2v::INFO.modality, kie::Modality::ImageToVideo);
    assert!(i2v::INFO.param("image_url").unwrap().required);
}

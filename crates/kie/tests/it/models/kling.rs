//! Kling: each enum's wire strings and the uniform-request mapping of 2.1 Master and 3.0
//! (limits and the documented examples: `spec_conformance`).

use crate::common::{problem, wire_strings};
use kie::kling::v2_1_master_text_to_video::{
    self as kling, KlingV21MasterTextToVideo, KlingV21MasterTextToVideoInput,
};
use kie::{AspectRatio, Problem, Resolution, VideoModel, VideoRequest};
use serde_json::json;

#[test]
fn every_enum_value_round_trips_as_its_documented_string() {
    assert_eq!(
        wire_strings(&kling::VideoDuration::ALL, |v| v.as_str()),
        ["5", "10"]
    );
    assert_eq!(
        wire_strings(&kling::AspectRatio::ALL, |v| v.as_str()),
        ["16:9", "9:16", "1:1"]
    );
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

/// Kling 3.0 takes a first and a last frame as the two items of one list, and its shots
/// as a list of objects whose limits are checked item by item.
#[test]
fn kling_3_0_takes_both_frames_in_one_list_and_checks_each_shot() {
    use kie::ModelInput as _;
    use kie::kling::v3_0_video::{KlingV30Video, KlingV30VideoInput, MultiPromptItem};

    let request = VideoRequest::new("a dog runs to a cat")
        .image_url("https://example.com/first.png")
        .end_image_url("https://example.com/last.png")
        .extra("multi_prompt", json!([]));
    let input = KlingV30Video.input_for(&request).unwrap();
    assert_eq!(
        input["image_urls"],
        json!([
            "https://example.com/first.png",
            "https://example.com/last.png"
        ])
    );

    // A last frame without a first one cannot take the first place.
    let err = KlingV30Video
        .input_for(
            &VideoRequest::new("a dog")
                .end_image_url("https://example.com/last.png")
                .extra("multi_prompt", json!([])),
        )
        .unwrap_err();
    assert!(
        matches!(problem(&err, "end_image"), Problem::Unsupported { .. }),
        "{err}"
    );

    // Each shot's own limits, named with its place.
    let input = KlingV30VideoInput::new(
        "two shots",
        [
            MultiPromptItem::new("a dog", 3),
            MultiPromptItem::new("a cat", 13),
        ],
    );
    let err = input.validate().unwrap_err();
    assert!(
        matches!(
            problem(&err, "multi_prompt[1].duration"),
            Problem::OutOfRange { .. }
        ),
        "{err}"
    );
    assert_eq!(err.violations().len(), 1, "{err}");
}

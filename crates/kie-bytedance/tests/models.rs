//! The two ByteDance models: the seeds' request bodies, every limit on both sides, every
//! enum value, and the uniform-request mapping.

use kie_bytedance::v1_pro_fast_image_to_video::{self as i2v, BytedanceV1ProFastImageToVideo};
use kie_bytedance::v1_pro_text_to_video::{self as t2v, BytedanceV1ProTextToVideo};
use kie_bytedance::{BytedanceV1ProFastImageToVideoInput, BytedanceV1ProTextToVideoInput};
use kie_core::{
    AspectRatio, ModelInput, Problem, Resolution, ValidationError, VideoModel, VideoRequest,
};
use serde_json::{Value, json};

/// The `input` of the curl example of seed 000 (bytedance/v1-pro-text-to-video), verbatim.
const SEED_000_INPUT: &str = r#"{
    "prompt": "日落时分，一个卷头发、背着书包的男孩骑着自行车行驶在洒满金光的乡间小路上。\n【切镜】他放慢车速，望向一片高高的草地。\n【广角镜头】他的剪影停驻在橘色的薄雾中。",
    "aspect_ratio": "16:9",
    "resolution": "720p",
    "duration": "5",
    "camera_fixed": false,
    "seed": -1,
    "enable_safety_checker": true
  }"#;

/// The `input` of the curl example of seed 001 (bytedance/v1-pro-fast-image-to-video).
const SEED_001_INPUT: &str = r#"{
    "prompt": "电影质感的特写镜头序列：阳光洒落的窗边，质朴木桌上摆放着一只精致的陶瓷咖啡杯与杯碟，滚烫浓郁的意式浓缩咖啡从上方以纤细的金色水流缓缓注入杯中，分阶段逐步填满：空杯飘着淡淡蒸汽→1/4杯盛着深色油脂→半杯咖啡旋动、蒸汽升腾→3/4杯接近杯沿→满杯恰好未溢出，表面油亮且有柔和的焦外高光；超写实风格，暖调黄金时刻光线，浅景深，照片级真实感，纹理细节丰富，蒸汽轻扬，氛围静谧且具吸引力 --ar 16:9 --q 2 --style raw",
    "image_url": "https://file.aiquickdraw.com/custom-page/akr/section-images/1762340693669m6sey187.webp",
    "resolution": "720p",
    "duration": "5"
  }"#;

/// The request example of a spec document, as the emulator embeds it (the same bytes as
/// the workspace's `spec/`, and inside the published emulator too).
fn spec_example(file: &str) -> Value {
    let (_, text) = kie_emulator::spec_documents()
        .iter()
        .find(|(name, _)| *name == file)
        .unwrap_or_else(|| panic!("the emulator embeds no {file}"));
    let doc: Value = serde_json::from_str(text).unwrap();
    doc["paths"]["/api/v1/jobs/createTask"]["post"]["requestBody"]["content"]["application/json"]
        ["example"]
        .clone()
}

fn problem(err: &ValidationError, field: &str) -> Problem {
    err.violations()
        .iter()
        .find(|v| v.field == field)
        .map(|v| v.problem.clone())
        .unwrap_or_else(|| panic!("no violation on `{field}` in: {err}"))
}

#[test]
fn seed_000_round_trips_through_the_typed_input() {
    let seed: Value = serde_json::from_str(SEED_000_INPUT).unwrap();
    let input: BytedanceV1ProTextToVideoInput = serde_json::from_value(seed.clone()).unwrap();
    input.validate().unwrap();
    assert_eq!(serde_json::to_value(&input).unwrap(), seed);
    assert_eq!(input.aspect_ratio, Some(t2v::AspectRatio::Ratio16x9));
    assert_eq!(input.resolution, Some(t2v::Resolution::P720));
    assert_eq!(input.duration, Some(t2v::VideoDuration::Secs5));
    assert_eq!((input.camera_fixed, input.seed), (Some(false), Some(-1)));
    assert_eq!(input.enable_safety_checker, Some(true));
    assert_eq!(
        BytedanceV1ProTextToVideoInput::from_json(seed.clone()).unwrap(),
        input
    );

    let example = spec_example("bytedance-v1-pro-text-to-video.json");
    assert_eq!(example["model"], BytedanceV1ProTextToVideoInput::MODEL_ID);
    assert_eq!(example["input"], seed, "the spec's example is the seed's");
}

#[test]
fn seed_001_round_trips_through_the_typed_input() {
    let seed: Value = serde_json::from_str(SEED_001_INPUT).unwrap();
    let input: BytedanceV1ProFastImageToVideoInput = serde_json::from_value(seed.clone()).unwrap();
    input.validate().unwrap();
    assert_eq!(serde_json::to_value(&input).unwrap(), seed);
    assert_eq!(input.resolution, Some(i2v::Resolution::P720));
    assert_eq!(
        BytedanceV1ProFastImageToVideoInput::from_json(seed.clone()).unwrap(),
        input
    );

    let example = spec_example("bytedance-v1-pro-fast-image-to-video.json");
    assert_eq!(example["model"], i2v::MODEL_ID);
    assert_eq!(example["input"], seed);
}

#[test]
fn prompts_are_limited_to_10000_characters_not_bytes() {
    for ch in ["a", "日"] {
        let at = ch.repeat(10_000);
        assert!(
            BytedanceV1ProTextToVideoInput::new(at.clone())
                .validate()
                .is_ok()
        );
        let over = BytedanceV1ProTextToVideoInput::new(ch.repeat(10_001))
            .validate()
            .unwrap_err();
        assert_eq!(
            problem(&over, "prompt"),
            Problem::TooLong {
                max: 10_000,
                actual: 10_001
            }
        );

        let url = "https://example.com/cup.webp";
        assert!(
            BytedanceV1ProFastImageToVideoInput::new(at, url)
                .validate()
                .is_ok()
        );
        let over = BytedanceV1ProFastImageToVideoInput::new(ch.repeat(10_001), url)
            .validate()
            .unwrap_err();
        assert!(over.concerns("prompt"));
        assert!(
            over.to_string().contains("at most 10000 characters"),
            "{over}"
        );
    }
}

#[test]
fn the_seed_is_limited_to_minus_one_through_i32_max() {
    for ok in [-1, 0, 2_147_483_647] {
        let input = BytedanceV1ProTextToVideoInput::new("a fox").seed(ok);
        assert!(input.validate().is_ok(), "{ok}");
    }
    for bad in [-2, 2_147_483_648] {
        let err = BytedanceV1ProTextToVideoInput::new("a fox")
            .seed(bad)
            .validate()
            .unwrap_err();
        assert_eq!(
            problem(&err, "seed"),
            Problem::OutOfRange {
                value: bad as f64,
                min: Some(-1.0),
                max: Some(2_147_483_647.0)
            }
        );
    }
    let err =
        BytedanceV1ProTextToVideoInput::from_json(json!({"prompt": "x", "seed": 1.5})).unwrap_err();
    assert!(
        err.to_string().contains("`seed` must be a whole number"),
        "{err}"
    );
}

#[test]
fn the_image_must_be_an_http_url() {
    for bad in ["", "not a url", "ftp://example.com/a.png", "/uploads/a.png"] {
        let err = BytedanceV1ProFastImageToVideoInput::new("a cup", bad)
            .validate()
            .unwrap_err();
        assert_eq!(
            problem(&err, "image_url"),
            Problem::InvalidUrl {
                value: bad.to_owned()
            }
        );
    }
    let err =
        BytedanceV1ProFastImageToVideoInput::from_json(json!({"prompt": "a cup"})).unwrap_err();
    assert_eq!(problem(&err, "image_url"), Problem::Required);
}

#[test]
fn every_enum_value_round_trips_as_its_documented_string() {
    fn check<T>(all: &[T], as_str: fn(&T) -> &'static str)
    where
        T: serde::Serialize
            + serde::de::DeserializeOwned
            + std::str::FromStr
            + PartialEq
            + std::fmt::Debug
            + std::fmt::Display,
        <T as std::str::FromStr>::Err: std::fmt::Debug,
    {
        for v in all {
            let wire = as_str(v);
            assert_eq!(
                serde_json::to_value(v).unwrap(),
                Value::String(wire.to_owned())
            );
            assert_eq!(&serde_json::from_value::<T>(json!(wire)).unwrap(), v);
            assert_eq!(&wire.parse::<T>().unwrap(), v);
            assert_eq!(v.to_string(), wire);
        }
    }
    check(&t2v::AspectRatio::ALL, |v| v.as_str());
    check(&t2v::Resolution::ALL, |v| v.as_str());
    check(&t2v::VideoDuration::ALL, |v| v.as_str());
    check(&i2v::Resolution::ALL, |v| v.as_str());
    check(&i2v::VideoDuration::ALL, |v| v.as_str());

    let wire: Vec<&str> = t2v::AspectRatio::ALL.iter().map(|v| v.as_str()).collect();
    assert_eq!(wire, ["21:9", "16:9", "4:3", "1:1", "3:4", "9:16"]);
    let wire: Vec<&str> = i2v::Resolution::ALL.iter().map(|v| v.as_str()).collect();
    assert_eq!(wire, ["720p", "1080p"]);
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
        problem(&err, "image_url"),
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
    assert_eq!(problem(&err, "image_url"), Problem::Required);

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
fn the_crate_lists_both_models_with_their_parameters() {
    let models = kie_bytedance::models();
    let ids: Vec<&str> = models.iter().map(|m| m.id()).collect();
    assert_eq!(
        ids,
        [
            "bytedance/v1-pro-fast-image-to-video",
            "bytedance/v1-pro-text-to-video"
        ]
    );
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
    assert_eq!(i2v::INFO.modality, kie_core::Modality::ImageToVideo);
    assert!(i2v::INFO.param("image_url").unwrap().required);
}

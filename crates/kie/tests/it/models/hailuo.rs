//! hailuo/02-text-to-video-pro: the uniform-request mapping of a model with almost no
//! knobs (limits and the documented example: `spec_conformance`).

use crate::common::problem;
use kie::hailuo::hailuo_02_text_to_video_pro::Hailuo02TextToVideoPro;
use kie::{AspectRatio, Problem, Resolution, VideoModel, VideoRequest};
use serde_json::json;

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
        "image",
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

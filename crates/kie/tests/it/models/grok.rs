//! Grok Imagine: a duration its page types as free text takes the uniform
//! `duration_secs` as text.

use kie::grok::image_to_video::GrokImagineImageToVideo;
use kie::{VideoModel, VideoRequest};
use serde_json::json;

#[test]
fn a_duration_typed_as_text_takes_the_uniform_seconds_as_text() {
    let request = VideoRequest::new("the cat turns its head")
        .image_url("https://example.com/cat.png")
        .duration_secs(10);
    assert_eq!(
        GrokImagineImageToVideo.input_for(&request).unwrap(),
        json!({
            "prompt": "the cat turns its head",
            "image_urls": ["https://example.com/cat.png"],
            "duration": "10"
        })
    );
}

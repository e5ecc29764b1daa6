//! The registry: the enabled models, by id, as `Arc<dyn VideoModel>`.

use std::sync::Arc;

use kie::registry::{self, Registry};
use kie::{Modality, ModelInfo, ValidationError, VideoModel, VideoRequest};

const ALL_IDS: [&str; 5] = [
    "bytedance/v1-pro-fast-image-to-video",
    "bytedance/v1-pro-text-to-video",
    "hailuo/02-text-to-video-pro",
    "kling/v2-1-master-text-to-video",
    "sora-2-pro-text-to-video",
];

/// The ids this build should have, from its features.
fn expected_ids() -> Vec<&'static str> {
    let enabled = [
        ("bytedance", cfg!(feature = "bytedance")),
        ("hailuo", cfg!(feature = "hailuo")),
        ("kling", cfg!(feature = "kling")),
        ("sora", cfg!(feature = "sora")),
    ];
    ALL_IDS
        .into_iter()
        .filter(|id| {
            enabled
                .iter()
                .any(|(provider, on)| *on && id.starts_with(provider))
        })
        .collect()
}

#[test]
fn the_registry_lists_exactly_the_enabled_models() {
    let mut ids = Registry::enabled().ids();
    ids.sort_unstable();
    assert_eq!(ids, expected_ids());
    assert_eq!(registry::models().len(), ids.len());
    for info in registry::infos() {
        assert!(
            !info.params.is_empty() && !info.summary.is_empty(),
            "{}",
            info.id
        );
        assert!(
            info.param("prompt").is_some_and(|p| p.required),
            "{}",
            info.id
        );
        assert!(info.id.starts_with(info.provider), "{}", info.id);
        let expected = if info.id.contains("image-to-video") {
            Modality::ImageToVideo
        } else {
            Modality::TextToVideo
        };
        assert_eq!(info.modality, expected, "{}", info.id);
    }
}

#[test]
fn each_enabled_model_is_usable_through_arc_dyn_video_model() {
    for id in expected_ids() {
        let model: Arc<dyn VideoModel> = registry::model(id).unwrap();
        assert_eq!(model.id(), id);
        let mut request = VideoRequest::new("a red fox running through fresh snow");
        if model.info().modality == Modality::ImageToVideo {
            request = request.image_url("https://example.com/fox.png");
        }
        let input = model.input_for(&request).unwrap();
        assert_eq!(
            input["prompt"], "a red fox running through fresh snow",
            "{id}"
        );
    }
}

#[test]
fn an_unknown_id_lists_what_is_available() {
    let err = registry::model("acme/v9").unwrap_err();
    assert_eq!(err.id(), "acme/v9");
    assert_eq!(err.feature(), None);
    let mut available = err.available().to_vec();
    available.sort_unstable();
    assert_eq!(available, expected_ids());
    let text = err.to_string();
    if expected_ids().is_empty() {
        assert!(text.contains("no models are enabled"), "{text}");
    } else {
        assert!(
            text.starts_with("unknown model `acme/v9`; available: "),
            "{text}"
        );
    }
}

#[test]
fn a_known_model_left_out_of_the_build_names_its_feature() {
    let err = Registry::empty()
        .get("kling/v2-1-master-text-to-video")
        .unwrap_err();
    assert_eq!(err.feature(), Some("kling"));
    assert_eq!(
        err.to_string(),
        "model `kling/v2-1-master-text-to-video` is not in this build: enable the `kling` feature of the `kie` crate"
    );
    #[cfg(not(feature = "sora"))]
    assert_eq!(
        registry::model("sora-2-pro-text-to-video")
            .unwrap_err()
            .feature(),
        Some("sora")
    );
}

/// An application's own model, for `register`.
#[derive(Debug)]
struct Custom;

static CUSTOM: ModelInfo = ModelInfo::new(
    "kling/v2-1-master-text-to-video",
    "custom",
    Modality::TextToVideo,
    "A stand-in.",
    &[],
);

impl VideoModel for Custom {
    fn info(&self) -> &'static ModelInfo {
        &CUSTOM
    }

    fn input_for(&self, request: &VideoRequest) -> Result<serde_json::Value, ValidationError> {
        Ok(serde_json::json!({"prompt": request.prompt}))
    }
}

#[test]
fn register_adds_or_replaces_by_id() {
    let mut registry = Registry::enabled();
    let before = registry.ids().len();
    registry.register(Arc::new(Custom));
    let after = registry.ids().len();
    let had_kling = cfg!(feature = "kling");
    assert_eq!(after, if had_kling { before } else { before + 1 });
    let model = registry.get("kling/v2-1-master-text-to-video").unwrap();
    assert_eq!(model.info().provider, "custom");
    assert_eq!(Registry::empty().iter().count(), 0);
}

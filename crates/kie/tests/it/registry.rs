//! The registry: the enabled models, by id, as `Arc<dyn VideoModel>`.

use std::sync::Arc;

use kie::registry::{self, Registry};
use kie::{Modality, ModelInfo, ValidationError, VideoModel, VideoRequest};

/// The ids this build should have: every model of spec/, since this test binary needs
/// every provider feature (`required-features` in Cargo.toml).
fn expected_ids() -> Vec<&'static str> {
    let mut ids: Vec<&'static str> = kie_emulator::spec_documents()
        .iter()
        .filter(|(_, text)| text.contains("\"x-kie-rs\""))
        .map(|(name, _)| {
            let id = crate::common::spec(name)["paths"]["/api/v1/jobs/createTask"]["post"]
                ["requestBody"]["content"]["application/json"]["schema"]["properties"]
                ["model"]["enum"][0]
                .as_str()
                .expect("a model id")
                .to_owned();
            &*Box::leak(id.into_boxed_str())
        })
        .collect();
    ids.sort_unstable();
    ids
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
        assert!(info.id.starts_with(info.provider), "{}", info.id);
        // Provider and modality are the spec's decisions.
        let doc = crate::common::spec(crate::common::spec_file(info.id));
        assert_eq!(doc["x-kie-rs"]["provider"], info.provider, "{}", info.id);
        assert_eq!(
            doc["x-kie-rs"]["modality"],
            info.modality.as_str(),
            "{}",
            info.id
        );
    }
}

#[test]
fn each_enabled_model_is_usable_through_arc_dyn_video_model() {
    for id in expected_ids() {
        let model: Arc<dyn VideoModel> = registry::model(id).unwrap();
        assert_eq!(model.id(), id);
        assert_eq!(model.info().id, id);
        let doc = crate::common::spec(crate::common::spec_file(id));
        let input = crate::common::example(&doc)["input"].clone();
        assert_eq!(model.parse_input(input.clone()).unwrap(), input, "{id}");
        // What the model cannot take is named, never dropped.
        let err = model
            .input_for(&VideoRequest::new("a fox").extra("no_such_field", 1))
            .unwrap_err();
        assert!(err.concerns("no_such_field"), "{id}: {err}");
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

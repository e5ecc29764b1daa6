//! The models compiled into this build, to list them or pick one by id at run time.
//!
//! A product that lets its users (or its configuration) choose the model holds an
//! `Arc<dyn VideoModel>` from here and sends the uniform [`VideoRequest`]
//! (`kie_core::VideoRequest`) to it; swapping models is then a change of id, not of
//! code. Only the models of enabled features are listed; looking up a model whose
//! feature is off says which feature to turn on.

use std::fmt;
use std::sync::Arc;

use kie_core::{ModelInfo, VideoModel};

#[cfg(doc)]
use kie_core::VideoRequest;

use crate::generated;

/// A set of models by id: the enabled ones ([`Registry::enabled`]), plus any the
/// application registers itself.
#[derive(Debug, Clone)]
pub struct Registry {
    models: Vec<Arc<dyn VideoModel>>,
}

impl Registry {
    /// Every model of the enabled features, in the order of their spec files.
    pub fn enabled() -> Self {
        Self {
            models: generated::enabled(),
        }
    }

    /// A registry with no models, to fill with [`Registry::register`].
    pub fn empty() -> Self {
        Self { models: Vec::new() }
    }

    /// Adds `model`, replacing any model with the same id (so an application can swap
    /// in its own implementation, or a test double).
    pub fn register(&mut self, model: Arc<dyn VideoModel>) -> &mut Self {
        match self.models.iter_mut().find(|m| m.id() == model.id()) {
            Some(slot) => *slot = model,
            None => self.models.push(model),
        }
        self
    }

    /// The models, in registration order.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<dyn VideoModel>> {
        self.models.iter()
    }

    /// What each model is and accepts: id, provider, modality, parameters.
    pub fn infos(&self) -> Vec<&'static ModelInfo> {
        self.models.iter().map(|m| m.info()).collect()
    }

    /// The model ids.
    pub fn ids(&self) -> Vec<&'static str> {
        self.models.iter().map(|m| m.id()).collect()
    }

    /// The model with this id.
    ///
    /// # Errors
    ///
    /// [`UnknownModel`], which names the feature to enable when kie-rs knows the id
    /// but this build leaves its provider out, and lists the models that are there.
    pub fn get(&self, id: &str) -> Result<Arc<dyn VideoModel>, UnknownModel> {
        self.models
            .iter()
            .find(|m| m.id() == id)
            .cloned()
            .ok_or_else(|| UnknownModel {
                id: id.to_owned(),
                feature: generated::KNOWN
                    .iter()
                    .find(|(known, _)| *known == id)
                    .map(|(_, feature)| *feature),
                available: self.ids(),
            })
    }
}

impl Default for Registry {
    /// [`Registry::enabled`].
    fn default() -> Self {
        Self::enabled()
    }
}

/// Every enabled model.
pub fn models() -> Vec<Arc<dyn VideoModel>> {
    generated::enabled()
}

/// What each enabled model is and accepts.
pub fn infos() -> Vec<&'static ModelInfo> {
    Registry::enabled().infos()
}

/// The enabled model with this id.
///
/// # Errors
///
/// [`UnknownModel`] if no enabled model has this id.
pub fn model(id: &str) -> Result<Arc<dyn VideoModel>, UnknownModel> {
    Registry::enabled().get(id)
}

/// No model with the id asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownModel {
    id: String,
    feature: Option<&'static str>,
    available: Vec<&'static str>,
}

impl UnknownModel {
    /// The id asked for.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The cargo feature of `kie` that would compile the model in, when kie-rs knows it.
    pub fn feature(&self) -> Option<&'static str> {
        self.feature
    }

    /// The ids that are available.
    pub fn available(&self) -> &[&'static str] {
        &self.available
    }
}

impl fmt::Display for UnknownModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.feature {
            Some(feature) => write!(
                f,
                "model `{}` is not in this build: enable the `{feature}` feature of the `kie` crate",
                self.id
            ),
            None if self.available.is_empty() => write!(
                f,
                "unknown model `{}`; no models are enabled (see the features of the `kie` crate)",
                self.id
            ),
            None => write!(
                f,
                "unknown model `{}`; available: {}",
                self.id,
                self.available.join(", ")
            ),
        }
    }
}

impl std::error::Error for UnknownModel {}

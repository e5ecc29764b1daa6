//! Turning what the user typed (or a batch line) into a model and its uniform request.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use kie::{Error, ParamKind, ValidationError, VideoModel, VideoRequest};
use serde_json::Value;

use crate::failure::Failure;

/// The request for `model`: the prompt, model parameters by their kie.ai names (checked
/// by the model, which names any unknown one and what is allowed), and the image as a
/// local path (uploaded on submit) or an http(s) URL.
pub fn video_request(
    prompt: &str,
    params: impl IntoIterator<Item = (String, Value)>,
    image: Option<&str>,
    callback_url: Option<&str>,
) -> VideoRequest {
    let mut request = VideoRequest::new(prompt);
    for (name, value) in params {
        request = request.extra(name, value);
    }
    if let Some(image) = image {
        request = if is_url(image) {
            request.image_url(image)
        } else {
            request.image_path(image)
        };
    }
    if let Some(url) = callback_url {
        request = request.callback_url(url);
    }
    request
}

/// A `--set NAME=VALUE` value as the JSON the parameter takes: numbers and booleans for
/// numeric and boolean parameters, a list for list parameters (comma-separated or a
/// JSON array), text otherwise. Text that does not parse stays text, so that the
/// model's validation reports the wrong type with the field's name.
pub fn param_value(model: &Arc<dyn VideoModel>, name: &str, text: &str) -> Value {
    let kind = model.info().param(name).map(|p| p.kind);
    let parsed = match kind {
        Some(ParamKind::Integer { .. }) => text.trim().parse::<i64>().ok().map(Value::from),
        // A whole number stays whole (a seed of 42, not 42.0).
        Some(ParamKind::Number { .. }) => (text.trim().parse::<i64>().ok().map(Value::from))
            .or_else(|| text.trim().parse::<f64>().ok().map(Value::from)),
        Some(ParamKind::Boolean) => text.trim().parse::<bool>().ok().map(Value::from),
        Some(ParamKind::TextList { .. }) if text.trim_start().starts_with('[') => {
            serde_json::from_str(text).ok()
        }
        Some(ParamKind::TextList { .. }) => Some(Value::from(
            text.split(',')
                .map(|item| item.trim().to_owned())
                .collect::<Vec<_>>(),
        )),
        _ => None,
    };
    parsed.unwrap_or_else(|| Value::String(text.to_owned()))
}

/// Why a request cannot be sent, found before anything is.
#[derive(Debug)]
pub enum Unsendable {
    /// The local image is not a readable file.
    NoImage(PathBuf),
    /// The model's own validation refused it.
    Invalid(ValidationError),
}

impl fmt::Display for Unsendable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unsendable::NoImage(path) => {
                write!(f, "`image` {} is not a readable file", path.display())
            }
            Unsendable::Invalid(invalid) => invalid.fmt(f),
        }
    }
}

impl From<Unsendable> for Failure {
    fn from(unsendable: Unsendable) -> Self {
        match unsendable {
            Unsendable::Invalid(invalid) => Error::from(invalid).into(),
            no_image => Failure::input(format!("{no_image}; nothing was sent")),
        }
    }
}

/// Checks the request as the model will when it is submitted, so that nothing is
/// uploaded, created or written for a request that cannot go. A local image must be a
/// file, and stands in as a URL for the check since it gets one only when uploaded.
pub fn check(model: &dyn VideoModel, request: &VideoRequest) -> Result<(), Unsendable> {
    let mut checked = request.clone();
    if let Some(path) = checked.image_path.take() {
        if !path.is_file() {
            return Err(Unsendable::NoImage(path));
        }
        checked = checked.image_url("https://upload.invalid/stand-in-for-a-local-image");
    }
    model
        .input_for(&checked)
        .map(drop)
        .map_err(Unsendable::Invalid)
}

fn is_url(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn model(id: &str) -> Arc<dyn VideoModel> {
        kie::registry::model(id).expect("a model of this build")
    }

    #[test]
    fn values_take_the_parameter_type() {
        let kling = model("kling/v2-1-master-text-to-video");
        assert_eq!(param_value(&kling, "duration", "10"), json!("10"));
        assert_eq!(param_value(&kling, "cfg_scale", "0.5"), json!(0.5));
        assert_eq!(param_value(&kling, "cfg_scale", "high"), json!("high"));
        let bytedance = model("bytedance/v1-pro-text-to-video");
        assert_eq!(param_value(&bytedance, "seed", "42"), json!(42));
        assert_eq!(param_value(&bytedance, "camera_fixed", "true"), json!(true));
        assert_eq!(param_value(&bytedance, "nonsense", "1"), json!("1"));
    }

    #[test]
    fn an_image_is_a_url_or_a_local_path() {
        let request = video_request("p", [], Some("https://x/a.png"), None);
        assert_eq!(request.image_url.as_deref(), Some("https://x/a.png"));
        let request = video_request("p", [], Some("still.png"), None);
        assert_eq!(
            request.image_path.as_deref(),
            Some(std::path::Path::new("still.png"))
        );
    }
}

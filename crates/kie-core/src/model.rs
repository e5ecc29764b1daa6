//! Models: the typed-input trait, the uniform [`VideoModel`] face, and the description of
//! what each model accepts.
//!
//! Two ways in, on purpose. Typed inputs ([`ModelInput`], generated per model from
//! `spec/`) check every model-specific knob at compile time. The uniform
//! [`VideoRequest`] through `Arc<dyn VideoModel>` lets a product pick the model at run
//! time; whatever the chosen model cannot take is an error, never silently dropped.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::client::Client;
use crate::error::Error;
use crate::task::Task;
use crate::upload::FileLimits;
use crate::validation::{Problem, ValidationError, Violations};

/// A model's `input` object, ready to send: generated per model, or [`RawInput`].
///
/// `Serialize` must produce exactly the `input` object of createTask; the client adds
/// `model` and the callback URLs around it.
pub trait ModelInput: Serialize + Send + Sync {
    /// The model id sent as `model`, such as `kling/v2-1-master-text-to-video`.
    fn model_id(&self) -> &str;

    /// Checks every documented limit before anything is sent.
    ///
    /// # Errors
    ///
    /// A [`ValidationError`] naming each field, the rule it broke and what is allowed.
    fn validate(&self) -> Result<(), ValidationError>;

    /// Whether createTask takes a `progressCallBackUrl` for this model; the generated
    /// inputs say what their spec documents (only Sora's has one). By default yes: for a
    /// model the SDK does not know, such as a [`RawInput`]'s, kie.ai judges.
    fn takes_progress_callback(&self) -> bool {
        true
    }
}

/// The escape hatch: any model id and any JSON `input`, for models this SDK does not
/// know yet. Only the shape is checked (a non-empty id, an object input); kie.ai checks
/// the rest.
#[derive(Debug, Clone, PartialEq)]
pub struct RawInput {
    model: String,
    input: serde_json::Value,
}

impl RawInput {
    /// A request for `model` with `input` as its `input` object.
    pub fn new(model: impl Into<String>, input: serde_json::Value) -> Self {
        Self {
            model: model.into(),
            input,
        }
    }

    /// The `input` object.
    pub fn input(&self) -> &serde_json::Value {
        &self.input
    }
}

impl Serialize for RawInput {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.input.serialize(serializer)
    }
}

impl ModelInput for RawInput {
    fn model_id(&self) -> &str {
        &self.model
    }

    fn validate(&self) -> Result<(), ValidationError> {
        let mut v = Violations::default();
        if self.model.trim().is_empty() {
            v.push("model", Problem::Required);
        }
        if !self.input.is_object() {
            v.push(
                "input",
                Problem::WrongType {
                    expected: "a JSON object".into(),
                },
            );
        }
        v.finish()
    }
}

/// The uniform face of every model, so that an application can hold
/// `Arc<dyn VideoModel>` chosen at run time.
///
/// # Examples
///
/// ```no_run
/// use std::sync::Arc;
/// use kie_core::{AspectRatio, VideoModel, VideoRequest};
///
/// # async fn run(client: kie_core::Client, model: Arc<dyn VideoModel>) -> Result<(), kie_core::Error> {
/// let request = VideoRequest::new("a red fox in fresh snow")
///     .duration_secs(10)
///     .aspect_ratio(AspectRatio::Landscape16x9);
/// let input = model.input_for(&request)?;   // checked: what the model cannot take is an error
/// println!("{} takes {input}", model.id());
/// let task = model.submit(&client, &request).await?;
/// # let _ = task; Ok(()) }
/// ```
#[async_trait]
pub trait VideoModel: Send + Sync + fmt::Debug {
    /// What the model is and what it accepts.
    fn info(&self) -> &'static ModelInfo;

    /// The model id, such as `sora-2-pro-text-to-video`.
    fn id(&self) -> &'static str {
        self.info().id
    }

    /// Maps a uniform request onto this model's own validated `input` object.
    ///
    /// # Errors
    ///
    /// A [`ValidationError`] for each field the model cannot take (a seed sent to a model
    /// without one, a 21:9 frame for a model that has none) and each limit broken.
    fn input_for(&self, request: &VideoRequest) -> Result<serde_json::Value, ValidationError>;

    /// Maps, validates and submits `request`. A local [`VideoRequest::image_path`] is
    /// first checked (JPEG, PNG or WebP up to 10 MB, the rule kie.ai documents for
    /// image inputs) and uploaded; its URL becomes the image URL.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) before anything is sent, any error of the upload, or any
    /// error of [`Client::submit`].
    async fn submit(&self, client: &Client, request: &VideoRequest) -> Result<Task, Error> {
        let uploaded;
        let request = match &request.image_path {
            None => request,
            Some(path) => {
                let unsupported = |hint: &str| {
                    ValidationError::new(
                        "image_path",
                        Problem::Unsupported {
                            model: self.id().to_owned(),
                            hint: Some(hint.to_owned()),
                        },
                    )
                };
                if self.info().modality != Modality::ImageToVideo {
                    return Err(unsupported("a text-to-video model takes no image").into());
                }
                if request.image_url.is_some() {
                    return Err(unsupported("give an image URL or a local path, not both").into());
                }
                let file = client
                    .upload_file(path)
                    .limits(FileLimits::JPEG_PNG_WEBP_10MB)
                    .await?;
                uploaded = VideoRequest {
                    image_url: Some(file.download_url),
                    image_path: None,
                    ..request.clone()
                };
                &uploaded
            }
        };
        let input = RawInput::new(self.id(), self.input_for(request)?);
        let mut submit = client.submit(&input);
        if let Some(url) = &request.callback_url {
            submit = submit.callback_url(url.clone());
        }
        submit.await
    }
}

/// What a model is and what it accepts: enough for a command line or a form to show
/// and check its parameters without knowing the model's Rust type.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[non_exhaustive]
pub struct ModelInfo {
    /// The model id sent as `model`.
    pub id: &'static str,
    /// The provider's name, such as `kling`.
    pub provider: &'static str,
    /// Text or image to video.
    pub modality: Modality,
    /// A one-line description.
    pub summary: &'static str,
    /// Every parameter of `input`, in documented order.
    pub params: &'static [Param],
}

impl ModelInfo {
    /// A model's description: its id, provider, modality, one-line summary and every
    /// parameter of its `input`, in documented order (generated code builds its own
    /// from its spec; write one for a [`VideoModel`] of your own).
    pub const fn new(
        id: &'static str,
        provider: &'static str,
        modality: Modality,
        summary: &'static str,
        params: &'static [Param],
    ) -> Self {
        Self {
            id,
            provider,
            modality,
            summary,
            params,
        }
    }

    /// The parameter called `name`, if the model has one.
    pub fn param(&self, name: &str) -> Option<&'static Param> {
        self.params.iter().find(|p| p.name == name)
    }
}

/// What a model turns into a video.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Modality {
    /// A prompt in, a video out.
    TextToVideo,
    /// An image (by URL) and a prompt in, a video out.
    ImageToVideo,
}

/// The kind in words, for a command line or a form: "text, at most 500 characters",
/// "one of \"5\", \"10\"", "number from 0 to 1, in steps of 0.1".
impl fmt::Display for ParamKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ParamKind::Text {
                max_chars: Some(max),
            } => write!(f, "text, at most {max} characters"),
            ParamKind::Text { max_chars: None } => f.write_str("text"),
            ParamKind::Url => f.write_str("an http(s) URL"),
            ParamKind::Choice { values } => {
                f.write_str("one of ")?;
                for (i, value) in values.iter().enumerate() {
                    let comma = if i == 0 { "" } else { ", " };
                    write!(f, "{comma}{value:?}")?;
                }
                Ok(())
            }
            ParamKind::Integer { min, max } => write!(f, "whole number{}", Range(min, max)),
            ParamKind::Number { min, max, step } => {
                write!(f, "number{}", Range(min, max))?;
                match step {
                    Some(step) => write!(f, ", in steps of {step}"),
                    None => Ok(()),
                }
            }
            ParamKind::Boolean => f.write_str("true or false"),
            ParamKind::TextList {
                max_items: Some(max),
            } => write!(f, "list of text (comma-separated), at most {max} items"),
            ParamKind::TextList { max_items: None } => {
                f.write_str("list of text (comma-separated)")
            }
        }
    }
}

/// A numeric range in words: " from 0 to 1", ", at least 0", ", at most 10" or nothing.
struct Range<T>(Option<T>, Option<T>);

impl<T: fmt::Display> fmt::Display for Range<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.0, &self.1) {
            (Some(lo), Some(hi)) => write!(f, " from {lo} to {hi}"),
            (Some(lo), None) => write!(f, ", at least {lo}"),
            (None, Some(hi)) => write!(f, ", at most {hi}"),
            (None, None) => Ok(()),
        }
    }
}

impl fmt::Display for Modality {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Modality::TextToVideo => "text-to-video",
            Modality::ImageToVideo => "image-to-video",
        })
    }
}

/// One parameter of a model's `input`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Param {
    /// The field name as kie.ai spells it.
    pub name: &'static str,
    /// Its type and limits.
    pub kind: ParamKind,
    /// Whether the request must carry it.
    pub required: bool,
    /// The documented default, as JSON text (`"16:9"`, `-1`, `0.5`), if any.
    pub default: Option<&'static str>,
    /// The documented description.
    pub description: &'static str,
}

impl Param {
    /// An optional parameter called `name` (as kie.ai spells it), of `kind`, with no
    /// default and no description; the methods below add them.
    pub const fn new(name: &'static str, kind: ParamKind) -> Self {
        Self {
            name,
            kind,
            required: false,
            default: None,
            description: "",
        }
    }

    /// The request must carry it.
    #[must_use]
    pub const fn required(mut self) -> Self {
        self.required = true;
        self
    }

    /// Its documented default, as JSON text (`"\"16:9\""`, `"-1"`).
    #[must_use]
    pub const fn default(mut self, json: &'static str) -> Self {
        self.default = Some(json);
        self
    }

    /// Its documented description.
    #[must_use]
    pub const fn description(mut self, text: &'static str) -> Self {
        self.description = text;
        self
    }
}

/// A parameter's type and limits.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ParamKind {
    /// Text, with a length limit in characters.
    Text {
        /// Most characters allowed.
        max_chars: Option<u32>,
    },
    /// An absolute http(s) URL.
    Url,
    /// One of a fixed set of strings.
    Choice {
        /// The allowed values, exactly as sent.
        values: &'static [&'static str],
    },
    /// A whole number.
    Integer {
        /// Smallest allowed.
        min: Option<i64>,
        /// Largest allowed.
        max: Option<i64>,
    },
    /// A number, possibly on a step.
    Number {
        /// Smallest allowed.
        min: Option<f64>,
        /// Largest allowed.
        max: Option<f64>,
        /// The step values must be multiples of.
        step: Option<f64>,
    },
    /// `true` or `false`.
    Boolean,
    /// A list of strings.
    TextList {
        /// Most items allowed.
        max_items: Option<u32>,
    },
}

/// A model-independent request: what a product asks for, whichever model serves it.
///
/// Build it with [`VideoRequest::new`] and the setters; each model's
/// [`VideoModel::input_for`] maps it onto its own input or says what it cannot take.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct VideoRequest {
    /// What the video shows.
    pub prompt: String,
    /// The source image's URL, for image-to-video models.
    pub image_url: Option<String>,
    /// A local source image, uploaded by [`VideoModel::submit`] (kie.ai keeps uploads
    /// for 3 days). [`VideoModel::input_for`] refuses it: it needs a URL.
    pub image_path: Option<std::path::PathBuf>,
    /// Length in seconds.
    pub duration_secs: Option<u32>,
    /// Frame shape.
    pub aspect_ratio: Option<AspectRatio>,
    /// Output resolution.
    pub resolution: Option<Resolution>,
    /// Random seed, for models that take one.
    pub seed: Option<i64>,
    /// What the video should avoid, for models that take it.
    pub negative_prompt: Option<String>,
    /// Model-specific parameters by their kie.ai names (`camera_fixed`, `cfg_scale`...).
    pub extras: BTreeMap<String, serde_json::Value>,
    /// Where kie.ai POSTs the outcome.
    pub callback_url: Option<String>,
}

impl VideoRequest {
    /// A request with only a prompt; every other field takes the model's default.
    pub fn new(prompt: impl Into<String>) -> Self {
        Self {
            prompt: prompt.into(),
            ..Self::default()
        }
    }

    /// Sets the source image URL (image-to-video models).
    #[must_use]
    pub fn image_url(mut self, url: impl Into<String>) -> Self {
        self.image_url = Some(url.into());
        self
    }

    /// Sets a local source image, uploaded on submit (image-to-video models).
    #[must_use]
    pub fn image_path(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.image_path = Some(path.into());
        self
    }

    /// Sets the length in seconds.
    #[must_use]
    pub fn duration_secs(mut self, secs: u32) -> Self {
        self.duration_secs = Some(secs);
        self
    }

    /// Sets the frame shape.
    #[must_use]
    pub fn aspect_ratio(mut self, ratio: AspectRatio) -> Self {
        self.aspect_ratio = Some(ratio);
        self
    }

    /// Sets the resolution.
    #[must_use]
    pub fn resolution(mut self, resolution: Resolution) -> Self {
        self.resolution = Some(resolution);
        self
    }

    /// Sets the random seed.
    #[must_use]
    pub fn seed(mut self, seed: i64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Sets what the video should avoid.
    #[must_use]
    pub fn negative_prompt(mut self, text: impl Into<String>) -> Self {
        self.negative_prompt = Some(text.into());
        self
    }

    /// Sets a model-specific parameter by its kie.ai name.
    #[must_use]
    pub fn extra(mut self, name: impl Into<String>, value: impl Into<serde_json::Value>) -> Self {
        self.extras.insert(name.into(), value.into());
        self
    }

    /// Sets the URL kie.ai POSTs the outcome to.
    #[must_use]
    pub fn callback_url(mut self, url: impl Into<String>) -> Self {
        self.callback_url = Some(url.into());
        self
    }
}

/// The shape of the frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum AspectRatio {
    /// 21:9.
    #[serde(rename = "21:9")]
    Landscape21x9,
    /// 16:9.
    #[serde(rename = "16:9")]
    Landscape16x9,
    /// 4:3.
    #[serde(rename = "4:3")]
    Landscape4x3,
    /// 1:1.
    #[serde(rename = "1:1")]
    Square,
    /// 3:4.
    #[serde(rename = "3:4")]
    Portrait3x4,
    /// 9:16.
    #[serde(rename = "9:16")]
    Portrait9x16,
}

impl AspectRatio {
    /// Every ratio, widest first.
    pub const ALL: [AspectRatio; 6] = [
        AspectRatio::Landscape21x9,
        AspectRatio::Landscape16x9,
        AspectRatio::Landscape4x3,
        AspectRatio::Square,
        AspectRatio::Portrait3x4,
        AspectRatio::Portrait9x16,
    ];

    /// The ratio as kie.ai writes it, such as `16:9`.
    pub fn as_str(self) -> &'static str {
        match self {
            AspectRatio::Landscape21x9 => "21:9",
            AspectRatio::Landscape16x9 => "16:9",
            AspectRatio::Landscape4x3 => "4:3",
            AspectRatio::Square => "1:1",
            AspectRatio::Portrait3x4 => "3:4",
            AspectRatio::Portrait9x16 => "9:16",
        }
    }
}

impl fmt::Display for AspectRatio {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AspectRatio {
    type Err = ValidationError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AspectRatio::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| not_allowed("aspect_ratio", s, AspectRatio::ALL.map(|r| r.as_str())))
    }
}

/// The output resolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Resolution {
    /// 480p.
    #[serde(rename = "480p")]
    P480,
    /// 720p.
    #[serde(rename = "720p")]
    P720,
    /// 1080p.
    #[serde(rename = "1080p")]
    P1080,
}

impl Resolution {
    /// Every resolution, lowest first.
    pub const ALL: [Resolution; 3] = [Resolution::P480, Resolution::P720, Resolution::P1080];

    /// The resolution as kie.ai writes it, such as `720p`.
    pub fn as_str(self) -> &'static str {
        match self {
            Resolution::P480 => "480p",
            Resolution::P720 => "720p",
            Resolution::P1080 => "1080p",
        }
    }
}

impl fmt::Display for Resolution {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Resolution {
    type Err = ValidationError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Resolution::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| not_allowed("resolution", s, Resolution::ALL.map(|r| r.as_str())))
    }
}

fn not_allowed<const N: usize>(field: &str, value: &str, allowed: [&str; N]) -> ValidationError {
    ValidationError::new(
        field,
        Problem::NotAllowed {
            value: value.to_owned(),
            allowed: allowed.iter().map(|s| (*s).to_owned()).collect(),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratios_and_resolutions_parse_from_their_wire_names() {
        for r in AspectRatio::ALL {
            assert_eq!(r.as_str().parse::<AspectRatio>().unwrap(), r);
            assert_eq!(serde_json::to_value(r).unwrap(), r.as_str());
        }
        for r in Resolution::ALL {
            assert_eq!(r.as_str().parse::<Resolution>().unwrap(), r);
        }
        let err = "2:1".parse::<AspectRatio>().unwrap_err();
        assert!(err.to_string().contains("\"16:9\""), "{err}");
    }

    #[test]
    fn raw_input_serializes_to_its_input_and_checks_its_shape() {
        let raw = RawInput::new("new/model", serde_json::json!({"prompt": "x"}));
        assert_eq!(serde_json::to_string(&raw).unwrap(), r#"{"prompt":"x"}"#);
        assert!(raw.validate().is_ok());
        let bad = RawInput::new(" ", serde_json::json!("x"));
        let err = bad.validate().unwrap_err();
        assert!(err.concerns("model") && err.concerns("input"));
    }

    #[test]
    fn the_trait_is_object_safe() {
        fn _takes(_: std::sync::Arc<dyn VideoModel>) {}
    }
}

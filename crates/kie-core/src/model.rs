//! Models: the typed-input trait, the uniform [`VideoModel`] face, and the description of
//! what each model accepts.
//!
//! Two ways in, on purpose. Typed inputs ([`ModelInput`], generated per model from
//! `spec/`) check every model-specific knob at compile time. The uniform
//! [`VideoRequest`] through `Arc<dyn VideoModel>` lets a product pick the model at run
//! time; whatever the chosen model cannot take is an error, never silently dropped.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
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

    /// Checks a model's own `input` object, given as JSON (from a file, a form, a batch),
    /// and returns it as the model's typed input writes it: the generated models parse it
    /// into their typed input (unknown fields, types, enum values, then every limit).
    /// This default checks what [`ModelInfo`] describes: only documented fields, each of
    /// the right JSON type and among its allowed values, every required field present.
    ///
    /// # Errors
    ///
    /// A [`ValidationError`] naming each field, the rule it broke and what is allowed.
    fn parse_input(&self, input: serde_json::Value) -> Result<serde_json::Value, ValidationError> {
        crate::mapping::check_input(self.info(), &input)?;
        Ok(input)
    }

    /// Maps, validates and submits `request`. Local files in it are checked (against
    /// the documented types and size of the input field each lands in, by their magic
    /// bytes) and uploaded first, once the request is known to map; their URLs are sent.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) before anything is
    /// sent or uploaded, any error of an upload, or any error of [`Client::submit`].
    async fn submit(&self, client: &Client, request: &VideoRequest) -> Result<Task, Error> {
        let uploaded = crate::media::upload_files(self, client, request).await?;
        let request = uploaded.as_ref().unwrap_or(request);
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
    /// What it takes in and makes.
    pub modality: Modality,
    /// A one-line description.
    pub summary: &'static str,
    /// Every parameter of `input`, in documented order.
    pub params: &'static [Param],
    /// Whether createTask takes a `progressCallBackUrl` for this model.
    pub progress_callback: bool,
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
            progress_callback: false,
        }
    }

    /// The model takes a top-level `progressCallBackUrl` (its spec documents one).
    #[must_use]
    pub const fn with_progress_callback(mut self) -> Self {
        self.progress_callback = true;
        self
    }

    /// The parameter called `name`, if the model has one.
    pub fn param(&self, name: &str) -> Option<&'static Param> {
        self.params.iter().find(|p| p.name == name)
    }
}

/// What a model does: what it takes in and what it makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Modality {
    /// A prompt in, a video out.
    TextToVideo,
    /// An image (a first frame, perhaps a last one) and a prompt in, a video out.
    ImageToVideo,
    /// A video (and usually a prompt) in, a new video out.
    VideoToVideo,
    /// Reference images, videos or voices in, a video that keeps their subjects out.
    ReferenceToVideo,
    /// An image and a driving audio in, a video that speaks or moves to it out.
    AudioDriven,
    /// A video in, the same video at a higher resolution out.
    Upscale,
    /// A video in, the same video edited (restyled, a watermark removed) out.
    Edit,
    /// A video or a finished task in, a reusable character (an id, no file) out.
    Character,
}

impl Modality {
    /// Every modality, in the order a catalogue lists them.
    pub const ALL: [Modality; 8] = [
        Modality::TextToVideo,
        Modality::ImageToVideo,
        Modality::VideoToVideo,
        Modality::ReferenceToVideo,
        Modality::AudioDriven,
        Modality::Upscale,
        Modality::Edit,
        Modality::Character,
    ];

    /// The modality as spec/ and the command line write it, such as `text-to-video`.
    pub fn as_str(self) -> &'static str {
        match self {
            Modality::TextToVideo => "text-to-video",
            Modality::ImageToVideo => "image-to-video",
            Modality::VideoToVideo => "video-to-video",
            Modality::ReferenceToVideo => "reference-to-video",
            Modality::AudioDriven => "audio-driven",
            Modality::Upscale => "upscale",
            Modality::Edit => "edit",
            Modality::Character => "character",
        }
    }
}

impl FromStr for Modality {
    type Err = ValidationError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Modality::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| not_allowed("modality", s, Modality::ALL.map(|m| m.as_str())))
    }
}

/// The kind in words, for a command line or a form: "text, at most 500 characters",
/// "one of \"5\", \"10\"", "number from 0 to 1, in steps of 0.1".
impl fmt::Display for ParamKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ParamKind::Text {
                min_chars,
                max_chars,
            } => write!(f, "text{}", Count(min_chars, max_chars, "characters")),
            ParamKind::Url { max_chars } => {
                write!(f, "an http(s) URL{}", Count(None, max_chars, "characters"))
            }
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
                min_items,
                max_items,
            } => write!(
                f,
                "list of text (comma-separated){}",
                Count(min_items, max_items, "items")
            ),
            ParamKind::UrlList {
                min_items,
                max_items,
            } => write!(
                f,
                "list of http(s) URLs (comma-separated){}",
                Count(min_items, max_items, "items")
            ),
            ParamKind::ObjectList {
                fields,
                min_items,
                max_items,
            } => {
                f.write_str("list of objects (JSON) with ")?;
                for (i, field) in fields.iter().enumerate() {
                    let comma = if i == 0 { "" } else { ", " };
                    write!(f, "{comma}`{}`", field.name)?;
                }
                write!(f, "{}", Count(min_items, max_items, "items"))
            }
        }
    }
}

/// A count limit in words: ", 1 to 9 items", ", at least 3 characters", ", at most 5
/// items" or nothing.
struct Count(Option<u32>, Option<u32>, &'static str);

impl fmt::Display for Count {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let unit = self.2;
        match (self.0, self.1) {
            (Some(lo), Some(hi)) if lo == hi => write!(f, ", exactly {lo} {unit}"),
            (Some(lo), Some(hi)) => write!(f, ", {lo} to {hi} {unit}"),
            (Some(lo), None) => write!(f, ", at least {lo} {unit}"),
            (None, Some(hi)) => write!(f, ", at most {hi} {unit}"),
            (None, None) => Ok(()),
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
        f.write_str(self.as_str())
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
    /// For a URL (or list of URLs) of a file: the types and size its page documents,
    /// which [`VideoModel::submit`] checks a local file against before uploading it.
    pub file: Option<FileLimits>,
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
            file: None,
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

    /// The types and size its page documents for the file at its URL.
    #[must_use]
    pub const fn file(mut self, limits: FileLimits) -> Self {
        self.file = Some(limits);
        self
    }
}

/// A parameter's type and limits.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ParamKind {
    /// Text, with length limits in characters.
    Text {
        /// Fewest characters allowed.
        min_chars: Option<u32>,
        /// Most characters allowed.
        max_chars: Option<u32>,
    },
    /// An absolute http(s) URL: a file kie.ai fetches.
    Url {
        /// Most characters allowed.
        max_chars: Option<u32>,
    },
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
        /// Fewest items allowed.
        min_items: Option<u32>,
        /// Most items allowed.
        max_items: Option<u32>,
    },
    /// A list of absolute http(s) URLs.
    UrlList {
        /// Fewest items allowed.
        min_items: Option<u32>,
        /// Most items allowed.
        max_items: Option<u32>,
    },
    /// A list of objects, each with the same documented fields (a storyboard's shots).
    ObjectList {
        /// The fields of each object.
        fields: &'static [Param],
        /// Fewest items allowed.
        min_items: Option<u32>,
        /// Most items allowed.
        max_items: Option<u32>,
    },
}

/// A media input of a [`VideoRequest`]: a URL kie.ai can fetch, or a local file that
/// [`VideoModel::submit`] checks and uploads first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Media {
    /// An absolute http(s) URL.
    Url(String),
    /// A local file, uploaded on submit (kie.ai keeps uploads for 3 days).
    Path(PathBuf),
}

impl Media {
    /// The URL, when this is one.
    pub fn as_url(&self) -> Option<&str> {
        match self {
            Media::Url(url) => Some(url),
            Media::Path(_) => None,
        }
    }

    /// The local path, when this is one.
    pub fn as_path(&self) -> Option<&Path> {
        match self {
            Media::Url(_) => None,
            Media::Path(path) => Some(path),
        }
    }
}

/// A model-independent request: what a product asks for, whichever model serves it.
///
/// Build it with [`VideoRequest::new`] and the setters; each model's
/// [`VideoModel::input_for`] maps it onto its own input or says what it cannot take.
/// Media inputs (an image, a last frame, reference images, a video, an audio) are URLs
/// or local files; [`VideoModel::submit`] uploads the files.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct VideoRequest {
    /// What the video shows; empty means none (for models that take no prompt).
    pub prompt: String,
    /// The source image, or first frame.
    pub image: Option<Media>,
    /// The last frame, for models that end on a given image.
    pub end_image: Option<Media>,
    /// Reference images whose subjects, style or characters the video keeps.
    pub reference_images: Vec<Media>,
    /// The input video: to extend, restyle, edit, upscale or take motion from.
    pub video: Option<Media>,
    /// The input audio: speech or sound the video follows.
    pub audio: Option<Media>,
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

    /// Sets the source image (or first frame) by URL.
    #[must_use]
    pub fn image_url(mut self, url: impl Into<String>) -> Self {
        self.image = Some(Media::Url(url.into()));
        self
    }

    /// Sets the source image (or first frame) to a local file, uploaded on submit.
    #[must_use]
    pub fn image_path(mut self, path: impl Into<PathBuf>) -> Self {
        self.image = Some(Media::Path(path.into()));
        self
    }

    /// Sets the last frame by URL.
    #[must_use]
    pub fn end_image_url(mut self, url: impl Into<String>) -> Self {
        self.end_image = Some(Media::Url(url.into()));
        self
    }

    /// Sets the last frame to a local file, uploaded on submit.
    #[must_use]
    pub fn end_image_path(mut self, path: impl Into<PathBuf>) -> Self {
        self.end_image = Some(Media::Path(path.into()));
        self
    }

    /// Adds a reference image by URL.
    #[must_use]
    pub fn reference_image_url(mut self, url: impl Into<String>) -> Self {
        self.reference_images.push(Media::Url(url.into()));
        self
    }

    /// Adds a reference image from a local file, uploaded on submit.
    #[must_use]
    pub fn reference_image_path(mut self, path: impl Into<PathBuf>) -> Self {
        self.reference_images.push(Media::Path(path.into()));
        self
    }

    /// Sets the input video by URL.
    #[must_use]
    pub fn video_url(mut self, url: impl Into<String>) -> Self {
        self.video = Some(Media::Url(url.into()));
        self
    }

    /// Sets the input video to a local file, uploaded on submit.
    #[must_use]
    pub fn video_path(mut self, path: impl Into<PathBuf>) -> Self {
        self.video = Some(Media::Path(path.into()));
        self
    }

    /// Sets the input audio by URL.
    #[must_use]
    pub fn audio_url(mut self, url: impl Into<String>) -> Self {
        self.audio = Some(Media::Url(url.into()));
        self
    }

    /// Sets the input audio to a local file, uploaded on submit.
    #[must_use]
    pub fn audio_path(mut self, path: impl Into<PathBuf>) -> Self {
        self.audio = Some(Media::Path(path.into()));
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

    /// Every media input with the uniform field it came from (`image`, `end_image`,
    /// `reference_images`, `video`, `audio`), in that order.
    pub(crate) fn media_mut(&mut self) -> impl Iterator<Item = (&'static str, &mut Media)> {
        let singles = [
            ("image", self.image.as_mut()),
            ("end_image", self.end_image.as_mut()),
        ];
        let later = [
            ("video", self.video.as_mut()),
            ("audio", self.audio.as_mut()),
        ];
        singles
            .into_iter()
            .filter_map(|(field, media)| Some((field, media?)))
            .chain(
                self.reference_images
                    .iter_mut()
                    .map(|media| ("reference_images", media)),
            )
            .chain(
                later
                    .into_iter()
                    .filter_map(|(field, media)| Some((field, media?))),
            )
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

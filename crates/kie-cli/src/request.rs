//! Turning what the user typed (or a batch line) into a model and its uniform request,
//! and naming what is wrong with it as the user named it.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use kie::{Error, ErrorKind, Media, ParamKind, ValidationError, VideoModel, VideoRequest};
use serde_json::Value;

use crate::failure::Failure;

/// Where a request came from, which decides what its parts are called in errors. The
/// model's validation names kie.ai's fields (`image_url`); the user typed `--image`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// `kie generate`'s flags.
    Flags,
    /// A batch line's keys.
    BatchLine,
}

impl Origin {
    /// What the user calls the image.
    fn image(self) -> &'static str {
        match self {
            Origin::Flags => "--image",
            Origin::BatchLine => "`image`",
        }
    }

    /// What the user typed for kie.ai's `field`, when it is not the field's own name.
    fn alias(self, field: &str) -> Option<&'static str> {
        match (self, field) {
            (Origin::Flags, "prompt") => Some("`--prompt`"),
            (Origin::Flags, "image_url" | "image_path") => Some("`--image`"),
            (Origin::BatchLine, "image_url" | "image_path") => Some("`image`"),
            _ => None,
        }
    }
}

/// The source image: a URL kie.ai fetches, or a local file to upload first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Image {
    /// An http(s) URL.
    Url(String),
    /// A local file.
    Path(PathBuf),
}

impl Image {
    /// Reads `text` as an http(s) URL or a local path. Anything else with a URL scheme
    /// (`ftp://`, `file://`) is refused: read as a file name, it would only fail later
    /// as "not a readable file".
    pub fn parse(text: &str, origin: Origin) -> Result<Image, Unsendable> {
        match text.split_once("://") {
            Some((scheme, _))
                if scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https") =>
            {
                Ok(Image::Url(text.to_owned()))
            }
            Some((scheme, _)) if is_scheme(scheme) => Err(Unsendable::Scheme {
                origin,
                text: text.to_owned(),
                scheme: scheme.to_owned(),
            }),
            _ => Ok(Image::Path(PathBuf::from(text))),
        }
    }

    /// A relative path taken as relative to `dir` instead of the current directory.
    pub fn relative_to(self, dir: &Path) -> Image {
        match self {
            Image::Path(path) if path.is_relative() => Image::Path(dir.join(path)),
            image => image,
        }
    }
}

/// RFC 3986: a letter, then letters, digits, `+`, `-` and `.`.
fn is_scheme(text: &str) -> bool {
    let mut chars = text.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

/// The request for `model`: the prompt, model parameters by their kie.ai names (checked
/// by the model, which names any unknown one and what is allowed), the image, and the
/// callback URL.
pub fn video_request(
    prompt: &str,
    params: impl IntoIterator<Item = (String, Value)>,
    image: Option<Image>,
    callback_url: Option<&str>,
) -> VideoRequest {
    let mut request = VideoRequest::new(prompt);
    for (name, value) in params {
        request = request.extra(name, value);
    }
    request = match image {
        Some(Image::Url(url)) => request.image_url(url),
        Some(Image::Path(path)) => request.image_path(path),
        None => request,
    };
    if let Some(url) = callback_url {
        request = request.callback_url(url);
    }
    request
}

/// The `--set NAME=VALUE` assignments as the model's parameters, each value typed by
/// its parameter's kind. A parameter set twice is refused: which value was meant is
/// not for the command line to guess.
pub fn params(
    model: &Arc<dyn VideoModel>,
    assignments: &[(String, String)],
) -> Result<Vec<(String, Value)>, Failure> {
    let mut given: BTreeMap<&str, &str> = BTreeMap::new();
    for (name, text) in assignments {
        if let Some(first) = given.insert(name, text) {
            return Err(Failure::input(format!(
                "--set {name} is given twice ({first}, then {text}): give each parameter once"
            )));
        }
    }
    Ok(assignments
        .iter()
        .map(|(name, text)| (name.clone(), param_value(model, name, text)))
        .collect())
}

/// A `--set NAME=VALUE` value as the JSON the parameter takes: numbers and booleans for
/// numeric and boolean parameters, a list for list parameters (comma-separated or a
/// JSON array), text otherwise. Text that does not parse stays text, so that the
/// model's validation reports the wrong type with the field's name.
fn param_value(model: &Arc<dyn VideoModel>, name: &str, text: &str) -> Value {
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
    /// The image is a URL of a scheme kie.ai does not fetch.
    Scheme {
        /// Where the image was given.
        origin: Origin,
        /// The image as given.
        text: String,
        /// Its scheme.
        scheme: String,
    },
    /// The local image is not a readable file.
    NoImage {
        /// Where the image was given.
        origin: Origin,
        /// The file looked for.
        path: PathBuf,
    },
    /// The model's own validation refused it: one line per field, named as the user
    /// named it.
    Invalid(Vec<String>),
}

impl fmt::Display for Unsendable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unsendable::Scheme {
                origin,
                text,
                scheme,
            } => write!(
                f,
                "{} {text}: a {scheme}:// URL cannot be used; give an http(s) URL or a local file",
                origin.image()
            ),
            Unsendable::NoImage { origin, path } => {
                write!(
                    f,
                    "{} {} is not a readable file",
                    origin.image(),
                    path.display()
                )
            }
            Unsendable::Invalid(fields) => f.write_str(&fields.join("; ")),
        }
    }
}

impl From<Unsendable> for Failure {
    fn from(unsendable: Unsendable) -> Self {
        match unsendable {
            Unsendable::Invalid(fields) => Failure::invalid(fields),
            other => Failure::input(format!("{other}; nothing was sent")),
        }
    }
}

/// Checks the request as the model will when it is submitted, so that nothing is
/// uploaded, created or written for a request that cannot go. A local image must be a
/// file, and stands in as a URL for the check since it gets one only when uploaded.
pub fn check(
    model: &dyn VideoModel,
    request: &VideoRequest,
    origin: Origin,
) -> Result<(), Unsendable> {
    let mut checked = request.clone();
    let media = [
        checked.image.as_mut(),
        checked.end_image.as_mut(),
        checked.video.as_mut(),
        checked.audio.as_mut(),
    ]
    .into_iter()
    .flatten()
    .chain(checked.reference_images.iter_mut());
    for media in media {
        if let Media::Path(path) = media {
            if !path.is_file() {
                return Err(Unsendable::NoImage {
                    origin,
                    path: path.clone(),
                });
            }
            *media = Media::Url("https://upload.invalid/stand-in-for-a-local-file".into());
        }
    }
    model
        .input_for(&checked)
        .map(drop)
        .map_err(|invalid| Unsendable::Invalid(fields(&invalid, request, origin)))
}

/// The failure of submitting `request`: invalid input names its fields as the user
/// gave them, like [`check`].
pub fn submit_failure(error: Error, request: &VideoRequest, origin: Origin) -> Failure {
    match error.kind() {
        ErrorKind::InvalidInput(invalid) => Failure::invalid(fields(invalid, request, origin)),
        _ => error.into(),
    }
}

/// One line per broken rule. A field the user gave by its kie.ai name (`--set`, a
/// batch line's `params`) keeps it; the others are called what the user typed.
fn fields(invalid: &ValidationError, request: &VideoRequest, origin: Origin) -> Vec<String> {
    invalid
        .violations()
        .iter()
        .map(|violation| match origin.alias(&violation.field) {
            Some(alias) if !request.extras.contains_key(&violation.field) => {
                format!("{alias} {}", violation.problem)
            }
            _ => violation.to_string(),
        })
        .collect()
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
    fn a_parameter_given_twice_is_refused_naming_both_values() {
        let kling = model("kling/v2-1-master-text-to-video");
        let set = |pairs: &[(&str, &str)]| {
            let pairs: Vec<(String, String)> = pairs
                .iter()
                .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
                .collect();
            params(&kling, &pairs)
        };
        assert_eq!(
            set(&[("duration", "10"), ("cfg_scale", "0.5")]).expect("distinct"),
            vec![
                ("duration".into(), json!("10")),
                ("cfg_scale".into(), json!(0.5))
            ]
        );
        let failure = set(&[("duration", "5"), ("duration", "10")]).expect_err("twice");
        assert_eq!(
            failure.message(),
            "--set duration is given twice (5, then 10): give each parameter once"
        );
    }

    #[test]
    fn an_image_is_an_http_url_or_a_local_path_and_other_schemes_are_refused() {
        let image = |text: &str| Image::parse(text, Origin::Flags);
        assert_eq!(
            image("https://x/a.png").expect("a URL"),
            Image::Url("https://x/a.png".into())
        );
        assert_eq!(
            image("HTTP://x/a.png").expect("a URL"),
            Image::Url("HTTP://x/a.png".into())
        );
        assert_eq!(
            image("still.png").expect("a path"),
            Image::Path("still.png".into())
        );
        assert_eq!(
            image("C:\\stills\\a.png").expect("a path"),
            Image::Path("C:\\stills\\a.png".into())
        );
        for refused in ["ftp://x/a.png", "file:///tmp/a.png", "s3://bucket/a.png"] {
            let error = image(refused).expect_err(refused).to_string();
            assert!(
                error.starts_with(&format!("--image {refused}: a ")),
                "{error}"
            );
        }
        let error = Image::parse("ftp://x/a.png", Origin::BatchLine).expect_err("refused");
        assert_eq!(
            error.to_string(),
            "`image` ftp://x/a.png: a ftp:// URL cannot be used; give an http(s) URL or a local file"
        );
    }

    #[test]
    fn a_relative_image_path_is_taken_from_the_given_directory() {
        let dir = Path::new("/batches");
        assert_eq!(
            Image::Path("still.png".into()).relative_to(dir),
            Image::Path("/batches/still.png".into())
        );
        assert_eq!(
            Image::Path("/abs/still.png".into()).relative_to(dir),
            Image::Path("/abs/still.png".into())
        );
        let url = Image::Url("https://x/a.png".into());
        assert_eq!(url.clone().relative_to(dir), url);
    }

    #[test]
    fn fields_are_named_as_the_user_gave_them() {
        let kling = model("kling/v2-1-master-text-to-video");
        let request = video_request(
            "",
            [("duration".to_owned(), json!("7"))],
            Some(Image::Url("https://x/a.png".into())),
            None,
        );
        let Err(Unsendable::Invalid(flags)) = check(kling.as_ref(), &request, Origin::Flags) else {
            panic!("refused as invalid")
        };
        assert_eq!(flags.len(), 3, "{flags:?}");
        assert!(
            flags.contains(&"`--prompt` is required".to_owned()),
            "{flags:?}"
        );
        assert!(
            flags
                .iter()
                .any(|f| f.starts_with("`--image` is not supported by")),
            "{flags:?}"
        );
        assert!(
            flags.iter().any(|f| f.starts_with("`duration` is \"7\"")),
            "{flags:?}"
        );
        let Err(Unsendable::Invalid(line)) = check(kling.as_ref(), &request, Origin::BatchLine)
        else {
            panic!("refused as invalid")
        };
        assert!(
            line.contains(&"`prompt` is required".to_owned()),
            "{line:?}"
        );
        assert!(
            line.iter()
                .any(|f| f.starts_with("`image` is not supported by")),
            "{line:?}"
        );
    }
}

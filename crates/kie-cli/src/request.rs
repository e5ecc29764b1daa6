//! Turning what the user typed (or a batch line) into a model and its uniform request,
//! and naming what is wrong with it as the user named it.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use kie::{Error, ErrorKind, Media, ParamKind, Problem, ValidationError, VideoModel, VideoRequest};
use serde_json::Value;

use crate::failure::Failure;

/// A media input of the uniform request, named as each origin names it: the flag of
/// `kie generate`, the key of a batch line (the uniform field's own name), and the
/// field the model's validation reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaKind {
    /// The source image, or first frame.
    Image,
    /// The last frame.
    EndImage,
    /// One of the reference images (the flag repeats; the batch key is a list).
    ReferenceImage,
    /// The input video.
    Video,
    /// The input (driving) audio.
    Audio,
}

impl MediaKind {
    /// Every kind, in the uniform request's order.
    pub const ALL: [MediaKind; 5] = [
        MediaKind::Image,
        MediaKind::EndImage,
        MediaKind::ReferenceImage,
        MediaKind::Video,
        MediaKind::Audio,
    ];

    /// The uniform request's field, which is also the batch line's key.
    pub fn field(self) -> &'static str {
        match self {
            MediaKind::Image => "image",
            MediaKind::EndImage => "end_image",
            MediaKind::ReferenceImage => "reference_images",
            MediaKind::Video => "video",
            MediaKind::Audio => "audio",
        }
    }

    /// The `kie generate` flag.
    pub fn flag(self) -> &'static str {
        match self {
            MediaKind::Image => "--image",
            MediaKind::EndImage => "--end-image",
            MediaKind::ReferenceImage => "--reference-image",
            MediaKind::Video => "--video",
            MediaKind::Audio => "--audio",
        }
    }

    /// The kind whose uniform field is `field`.
    fn of_field(field: &str) -> Option<MediaKind> {
        MediaKind::ALL
            .into_iter()
            .find(|kind| kind.field() == field)
    }

    /// `request` with `media` as this input (added to the reference images).
    fn set(self, request: VideoRequest, media: Media) -> VideoRequest {
        let mut request = request;
        match self {
            MediaKind::Image => request.image = Some(media),
            MediaKind::EndImage => request.end_image = Some(media),
            MediaKind::ReferenceImage => request.reference_images.push(media),
            MediaKind::Video => request.video = Some(media),
            MediaKind::Audio => request.audio = Some(media),
        }
        request
    }

    /// The inputs of this kind `request` holds.
    fn of(self, request: &VideoRequest) -> Vec<&Media> {
        match self {
            MediaKind::Image => request.image.iter().collect(),
            MediaKind::EndImage => request.end_image.iter().collect(),
            MediaKind::ReferenceImage => request.reference_images.iter().collect(),
            MediaKind::Video => request.video.iter().collect(),
            MediaKind::Audio => request.audio.iter().collect(),
        }
    }
}

/// Where a request came from, which decides what its parts are called in errors. The
/// model's validation names the uniform request's fields (`end_image`) and kie.ai's
/// (`duration`); the user typed `--end-image`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// `kie generate`'s flags.
    Flags,
    /// A batch line's keys.
    BatchLine,
}

impl Origin {
    /// What the user calls a media input, as given in front of its value.
    fn media(self, kind: MediaKind) -> String {
        match self {
            Origin::Flags => kind.flag().to_owned(),
            Origin::BatchLine => format!("`{}`", kind.field()),
        }
    }

    /// What the user calls a media input, quoted as a field in a list of them.
    fn quoted(self, kind: MediaKind) -> String {
        match self {
            Origin::Flags => format!("`{}`", kind.flag()),
            Origin::BatchLine => format!("`{}`", kind.field()),
        }
    }

    /// What the user typed for the uniform `field`, when it is not the field's own name.
    fn alias(self, field: &str) -> Option<String> {
        match (self, field) {
            (Origin::Flags, "prompt") => Some("`--prompt`".to_owned()),
            (Origin::Flags, field) => MediaKind::of_field(field).map(|kind| self.quoted(kind)),
            (Origin::BatchLine, _) => None,
        }
    }
}

/// Reads `text`, given as `kind`, as an http(s) URL or a local path. Anything else with
/// a URL scheme (`ftp://`, `file://`) is refused: read as a file name, it would only
/// fail later as "not a readable file".
pub fn media(text: &str, kind: MediaKind, origin: Origin) -> Result<Media, Unsendable> {
    match text.split_once("://") {
        Some((scheme, _))
            if scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https") =>
        {
            Ok(Media::Url(text.to_owned()))
        }
        Some((scheme, _)) if is_scheme(scheme) => Err(Unsendable::Scheme {
            origin,
            kind,
            text: text.to_owned(),
            scheme: scheme.to_owned(),
        }),
        _ => Ok(Media::Path(PathBuf::from(text))),
    }
}

/// Every media input `given` as (kind, text), read by [`media`], in order.
pub fn media_inputs<'a>(
    given: impl IntoIterator<Item = (MediaKind, &'a [String])>,
    origin: Origin,
) -> Result<Vec<(MediaKind, Media)>, Unsendable> {
    given
        .into_iter()
        .flat_map(|(kind, texts)| texts.iter().map(move |text| (kind, text)))
        .map(|(kind, text)| Ok((kind, media(text, kind, origin)?)))
        .collect()
}

/// `media` with a relative path taken as relative to `dir` instead of the current
/// directory.
pub fn relative_to(media: Media, dir: &Path) -> Media {
    match media {
        Media::Path(path) if path.is_relative() => Media::Path(dir.join(path)),
        media => media,
    }
}

/// RFC 3986: a letter, then letters, digits, `+`, `-` and `.`.
fn is_scheme(text: &str) -> bool {
    let mut chars = text.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

/// The request for `model`: the prompt, model parameters by their kie.ai names (checked
/// by the model, which names any unknown one and what is allowed), the media inputs, and
/// the callback URL.
pub fn video_request(
    prompt: &str,
    params: impl IntoIterator<Item = (String, Value)>,
    media: impl IntoIterator<Item = (MediaKind, Media)>,
    callback_url: Option<&str>,
) -> VideoRequest {
    let mut request = VideoRequest::new(prompt);
    for (name, value) in params {
        request = request.extra(name, value);
    }
    for (kind, media) in media {
        request = kind.set(request, media);
    }
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
    /// A media input is a URL of a scheme kie.ai does not fetch.
    Scheme {
        /// Where it was given.
        origin: Origin,
        /// Which input it is.
        kind: MediaKind,
        /// The input as given.
        text: String,
        /// Its scheme.
        scheme: String,
    },
    /// A local media input is not a readable file.
    NoFile {
        /// Where it was given.
        origin: Origin,
        /// Which input it is.
        kind: MediaKind,
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
                kind,
                text,
                scheme,
            } => write!(
                f,
                "{} {text}: a {scheme}:// URL cannot be used; give an http(s) URL or a local file",
                origin.media(*kind)
            ),
            Unsendable::NoFile { origin, kind, path } => write!(
                f,
                "{} {} is not a readable file",
                origin.media(*kind),
                path.display()
            ),
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

/// Where stand-in URLs for local files point: a reserved name (RFC 6761), never fetched.
const STAND_IN: &str = "https://upload.invalid/stand-in-for-a-local-file";

/// Checks the request as the model will when it is submitted, so that nothing is
/// uploaded, created or written for a request that cannot go. Every local media input
/// must be a file, and stands in as a URL for the check since it gets one only when
/// uploaded.
pub fn check(
    model: &dyn VideoModel,
    request: &VideoRequest,
    origin: Origin,
) -> Result<(), Unsendable> {
    for kind in MediaKind::ALL {
        for media in kind.of(request) {
            if let Media::Path(path) = media
                && !path.is_file()
            {
                return Err(Unsendable::NoFile {
                    origin,
                    kind,
                    path: path.clone(),
                });
            }
        }
    }
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
        if let Media::Path(_) = media {
            *media = Media::Url(STAND_IN.into());
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
/// batch line's `params`) keeps it; the others are called what the user typed. A URL
/// the model refuses is named by the input it was given as, though the model names the
/// input field it landed in (`image_url`).
fn fields(invalid: &ValidationError, request: &VideoRequest, origin: Origin) -> Vec<String> {
    invalid
        .violations()
        .iter()
        .map(|violation| {
            let given_as_param = request.extras.contains_key(&violation.field);
            let alias = origin
                .alias(&violation.field)
                .or_else(|| match &violation.problem {
                    Problem::InvalidUrl { value } => MediaKind::ALL
                        .into_iter()
                        .find(|kind| kind.of(request).iter().any(|m| m.as_url() == Some(value)))
                        .map(|kind| origin.quoted(kind)),
                    _ => None,
                });
            match alias {
                Some(alias) if !given_as_param => format!("{alias} {}", violation.problem),
                _ => violation.to_string(),
            }
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
    fn media_is_an_http_url_or_a_local_path_and_other_schemes_are_refused() {
        for kind in MediaKind::ALL {
            let read = |text: &str| media(text, kind, Origin::Flags);
            assert_eq!(
                read("https://x/a.png").expect("a URL"),
                Media::Url("https://x/a.png".into())
            );
            assert_eq!(
                read("HTTP://x/a.png").expect("a URL"),
                Media::Url("HTTP://x/a.png".into())
            );
            assert_eq!(
                read("still.png").expect("a path"),
                Media::Path("still.png".into())
            );
            assert_eq!(
                read("C:\\stills\\a.png").expect("a path"),
                Media::Path("C:\\stills\\a.png".into())
            );
            for refused in ["ftp://x/a.png", "file:///tmp/a.png", "s3://bucket/a.png"] {
                let error = read(refused).expect_err(refused).to_string();
                assert!(
                    error.starts_with(&format!("{} {refused}: a ", kind.flag())),
                    "{error}"
                );
            }
        }
        let error =
            media("ftp://x/a.mp4", MediaKind::Video, Origin::BatchLine).expect_err("refused");
        assert_eq!(
            error.to_string(),
            "`video` ftp://x/a.mp4: a ftp:// URL cannot be used; give an http(s) URL or a local file"
        );
    }

    #[test]
    fn media_inputs_keep_their_kind_and_order_and_the_first_bad_one_is_named() {
        let images = ["a.png".to_owned(), "https://x/b.png".to_owned()];
        let audio = ["voice.mp3".to_owned()];
        let inputs = media_inputs(
            [
                (MediaKind::ReferenceImage, &images[..]),
                (MediaKind::Audio, &audio[..]),
            ],
            Origin::Flags,
        )
        .expect("readable");
        assert_eq!(
            inputs,
            [
                (MediaKind::ReferenceImage, Media::Path("a.png".into())),
                (
                    MediaKind::ReferenceImage,
                    Media::Url("https://x/b.png".into())
                ),
                (MediaKind::Audio, Media::Path("voice.mp3".into())),
            ]
        );
        let bad = ["a.png".to_owned(), "ftp://x/b.png".to_owned()];
        let error = media_inputs([(MediaKind::ReferenceImage, &bad[..])], Origin::Flags)
            .expect_err("refused");
        assert!(
            error
                .to_string()
                .starts_with("--reference-image ftp://x/b.png: "),
            "{error}"
        );
    }

    #[test]
    fn a_relative_path_is_taken_from_the_given_directory() {
        let dir = Path::new("/batches");
        assert_eq!(
            relative_to(Media::Path("still.png".into()), dir),
            Media::Path("/batches/still.png".into())
        );
        assert_eq!(
            relative_to(Media::Path("/abs/still.png".into()), dir),
            Media::Path("/abs/still.png".into())
        );
        let url = Media::Url("https://x/a.png".into());
        assert_eq!(relative_to(url.clone(), dir), url);
    }

    #[test]
    fn every_kind_lands_in_its_own_field_of_the_request() {
        let request = video_request(
            "x",
            [],
            [
                (MediaKind::Image, Media::Url("https://x/first.png".into())),
                (MediaKind::EndImage, Media::Path("last.png".into())),
                (
                    MediaKind::ReferenceImage,
                    Media::Url("https://x/r1.png".into()),
                ),
                (MediaKind::ReferenceImage, Media::Path("r2.png".into())),
                (MediaKind::Video, Media::Url("https://x/in.mp4".into())),
                (MediaKind::Audio, Media::Path("voice.mp3".into())),
            ],
            None,
        );
        let expected = VideoRequest::new("x")
            .image_url("https://x/first.png")
            .end_image_path("last.png")
            .reference_image_url("https://x/r1.png")
            .reference_image_path("r2.png")
            .video_url("https://x/in.mp4")
            .audio_path("voice.mp3");
        assert_eq!(request, expected);
    }

    #[test]
    fn a_missing_local_file_is_refused_naming_what_it_was_given_as() {
        let kling = model("kling/v2-1-master-text-to-video");
        for kind in MediaKind::ALL {
            let missing = Media::Path("/no/such/file".into());
            let request = video_request("a fox", [], [(kind, missing)], None);
            let error = check(kling.as_ref(), &request, Origin::Flags).expect_err("refused");
            assert!(matches!(error, Unsendable::NoFile { .. }), "{error:?}");
            assert_eq!(
                error.to_string(),
                format!("{} /no/such/file is not a readable file", kind.flag())
            );
            let error = check(kling.as_ref(), &request, Origin::BatchLine).expect_err("refused");
            assert_eq!(
                error.to_string(),
                format!("`{}` /no/such/file is not a readable file", kind.field())
            );
        }
    }

    #[test]
    fn fields_are_named_as_the_user_gave_them() {
        let kling = model("kling/v2-1-master-text-to-video");
        let request = video_request(
            "",
            [("duration".to_owned(), json!("7"))],
            [
                (MediaKind::Image, Media::Url("https://x/a.png".into())),
                (MediaKind::EndImage, Media::Url("https://x/z.png".into())),
                (
                    MediaKind::ReferenceImage,
                    Media::Url("https://x/r.png".into()),
                ),
                (MediaKind::Video, Media::Url("https://x/v.mp4".into())),
                (MediaKind::Audio, Media::Url("https://x/a.mp3".into())),
            ],
            None,
        );
        let Err(Unsendable::Invalid(flags)) = check(kling.as_ref(), &request, Origin::Flags) else {
            panic!("refused as invalid")
        };
        assert_eq!(flags.len(), 7, "{flags:?}");
        assert!(
            flags.contains(&"`--prompt` is required".to_owned()),
            "{flags:?}"
        );
        for flag in [
            "--image",
            "--end-image",
            "--reference-image",
            "--video",
            "--audio",
        ] {
            let named = format!("`{flag}` is not supported by kling/v2-1-master-text-to-video");
            assert!(flags.iter().any(|f| f.starts_with(&named)), "{flags:?}");
        }
        assert!(
            flags.contains(
                &"`--video` is not supported by kling/v2-1-master-text-to-video \
                  (the model takes no input video)"
                    .to_owned()
            ),
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
        for key in ["image", "end_image", "reference_images", "video", "audio"] {
            let named = format!("`{key}` is not supported by");
            assert!(line.iter().any(|f| f.starts_with(&named)), "{line:?}");
        }
    }

    #[test]
    fn a_url_the_model_refuses_is_named_by_the_input_it_was_given_as() {
        let fast = model("bytedance/v1-pro-fast-image-to-video");
        let bad = "https://exa mple.com/a.png";
        let request = video_request("x", [], [(MediaKind::Image, Media::Url(bad.into()))], None);
        for (origin, named) in [(Origin::Flags, "`--image`"), (Origin::BatchLine, "`image`")] {
            let Err(Unsendable::Invalid(fields)) = check(fast.as_ref(), &request, origin) else {
                panic!("refused as invalid")
            };
            assert_eq!(
                fields,
                [format!(
                    "{named} is {bad:?}, which is not an absolute http(s) URL"
                )]
            );
        }
    }
}

//! Shared helpers that map a uniform [`crate::VideoRequest`] onto a model's own input.
//!
//! Every generated model describes, as data, how it takes each field of the uniform
//! request (a [`UniformMapping`]): sent as is to one of its parameters, translated
//! through a table (a 9:16 frame is Sora's `portrait`), or not at all, with a hint that
//! says why. [`map_request`] applies that description, so the four provider crates share
//! one implementation and word their errors alike.
//!
//! The rule the mapping keeps: nothing the caller asked for is dropped. A uniform field
//! the model cannot take, a value outside the model's choices, an extra the model does
//! not know or one given twice is a [`ValidationError`] naming the field, never a
//! request sent without it.
//!
//! [`decode`] and [`check_input`] are the other half: they check a raw `input` object
//! against a model's [`ModelInfo`] (unknown fields, JSON types, enum values, required
//! fields) before it is deserialized, so that a bad value is reported by field name
//! rather than as a serde message.

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::media::local_file_problem;
use crate::model::{Media, ModelInfo, ModelInput, Param, ParamKind, VideoRequest};
use crate::validation::{Problem, ValidationError, Violations};

/// How a model takes each field of the uniform [`VideoRequest`].
///
/// Generated from the `x-kie-rs.uniform` member of each model's spec, which must say
/// something about every field: there is no default, so adding a uniform field forces a
/// decision for every model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UniformMapping {
    /// Where [`VideoRequest::prompt`] goes.
    pub prompt: Target,
    /// Where [`VideoRequest::image`] goes.
    pub image: Target,
    /// Where [`VideoRequest::end_image`] goes.
    pub end_image: Target,
    /// Where [`VideoRequest::reference_images`] go.
    pub reference_images: Target,
    /// Where [`VideoRequest::video`] goes.
    pub video: Target,
    /// Where [`VideoRequest::audio`] goes.
    pub audio: Target,
    /// Where [`VideoRequest::duration_secs`] goes (as the model's own value: `"10"`).
    pub duration_secs: Target,
    /// Where [`VideoRequest::aspect_ratio`] goes.
    pub aspect_ratio: Target,
    /// Where [`VideoRequest::resolution`] goes.
    pub resolution: Target,
    /// Where [`VideoRequest::seed`] goes.
    pub seed: Target,
    /// Where [`VideoRequest::negative_prompt`] goes.
    pub negative_prompt: Target,
}

/// Where one uniform field goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// Sent to this input field in its wire form: `"16:9"`, `"720p"`, a duration of
    /// 10 s as `"10"` (or `10` for a numeric field), the seed as a number, text as text;
    /// a URL as a one-item list to a list field, reference images as a list.
    Param(&'static str),
    /// Sent as item `index` of the list field `param`, which two uniform fields share
    /// (a first frame at 0, a last frame at 1); an item cannot follow a missing one.
    Item {
        /// The list field.
        param: &'static str,
        /// The position in it.
        index: usize,
    },
    /// Sent to `param` after translation through `values`, pairs of (the uniform wire
    /// form, the model's value); a value without a pair is refused.
    Translated {
        /// The input field.
        param: &'static str,
        /// (uniform value, model value) pairs.
        values: &'static [(&'static str, &'static str)],
    },
    /// The model has nothing for it; setting it is an error carrying this hint.
    Unsupported {
        /// Why, or what to use instead.
        hint: &'static str,
    },
}

impl Target {
    /// The input field this target writes, if any.
    pub fn param(&self) -> Option<&'static str> {
        match self {
            Target::Param(param)
            | Target::Item { param, .. }
            | Target::Translated { param, .. } => Some(param),
            Target::Unsupported { .. } => None,
        }
    }
}

/// A uniform field's value before it meets the model.
enum Uniform {
    Text(String),
    Whole(i64),
    List(Vec<String>),
}

impl Uniform {
    fn wire(&self) -> String {
        match self {
            Uniform::Text(text) => text.clone(),
            Uniform::Whole(n) => n.to_string(),
            Uniform::List(items) => items.join(", "),
        }
    }
}

/// Maps `request` onto a model's input, parses it into the model's typed input with
/// `parse` (which validates every limit), and returns that input as JSON.
///
/// Uniform fields go where `uniform` says; `request.extras` are taken by their kie.ai
/// names and checked against `info`. An empty (or blank) prompt counts as not given.
///
/// # Errors
///
/// A [`ValidationError`] listing every problem at once: uniform fields the model cannot
/// take ([`Problem::Unsupported`] with the model's hint), values outside the model's
/// choices ([`Problem::NotAllowed`] with the allowed values), local files (which
/// `VideoModel::submit` uploads), unknown or doubly given extras, wrong JSON types,
/// missing required fields and broken limits.
pub fn map_request<T, F>(
    info: &ModelInfo,
    uniform: &UniformMapping,
    request: &VideoRequest,
    parse: F,
) -> Result<Value, ValidationError>
where
    T: ModelInput,
    F: FnOnce(Value) -> Result<T, ValidationError>,
{
    // Named field by field, without `..`: a field added to `VideoRequest` stops this
    // from compiling until the mapping decides what to do with it, so no new field can
    // be dropped silently.
    let VideoRequest {
        prompt,
        image,
        end_image,
        reference_images,
        video,
        audio,
        duration_secs,
        aspect_ratio,
        resolution,
        seed,
        negative_prompt,
        extras,
        // Not part of `input`: `VideoModel::submit` sends it as `callBackUrl`.
        callback_url: _,
    } = request;
    let mut v = Violations::default();
    let mut input = Map::new();
    // Input fields already set from the uniform request: (param, uniform field).
    let mut claimed: Vec<(&str, &str)> = Vec::new();
    // Input fields whose uniform value was refused, so that the typed parse does not
    // report them a second time.
    let mut failed: Vec<String> = Vec::new();
    // List fields that uniform fields fill item by item: (param, index, field, url).
    let mut items: Vec<(&str, usize, &str, String)> = Vec::new();

    let url = |field: &'static str, media: &Media, v: &mut Violations| match media {
        Media::Url(url) => Some(url.clone()),
        Media::Path(_) => {
            v.push(field, local_file_problem(info));
            None
        }
    };
    let image = image.as_ref().and_then(|m| url("image", m, &mut v));
    let end_image = end_image.as_ref().and_then(|m| url("end_image", m, &mut v));
    let reference_images: Option<Vec<String>> = (!reference_images.is_empty()).then(|| {
        reference_images
            .iter()
            .filter_map(|m| url("reference_images", m, &mut v))
            .collect()
    });
    let video = video.as_ref().and_then(|m| url("video", m, &mut v));
    let audio = audio.as_ref().and_then(|m| url("audio", m, &mut v));

    let fields = [
        (
            "prompt",
            uniform.prompt,
            (!prompt.trim().is_empty()).then(|| Uniform::Text(prompt.clone())),
        ),
        ("image", uniform.image, image.map(Uniform::Text)),
        ("end_image", uniform.end_image, end_image.map(Uniform::Text)),
        (
            "reference_images",
            uniform.reference_images,
            reference_images.map(Uniform::List),
        ),
        ("video", uniform.video, video.map(Uniform::Text)),
        ("audio", uniform.audio, audio.map(Uniform::Text)),
        (
            "duration_secs",
            uniform.duration_secs,
            duration_secs.map(|s| Uniform::Whole(i64::from(s))),
        ),
        (
            "aspect_ratio",
            uniform.aspect_ratio,
            aspect_ratio.map(|r| Uniform::Text(r.as_str().to_owned())),
        ),
        (
            "resolution",
            uniform.resolution,
            resolution.map(|r| Uniform::Text(r.as_str().to_owned())),
        ),
        ("seed", uniform.seed, seed.map(Uniform::Whole)),
        (
            "negative_prompt",
            uniform.negative_prompt,
            negative_prompt.clone().map(Uniform::Text),
        ),
    ];
    for (field, target, value) in fields {
        let Some(value) = value else { continue };
        let param = match target {
            Target::Unsupported { hint } => {
                v.push(field, unsupported(info, hint.to_owned()));
                continue;
            }
            Target::Item { param, index } => {
                claimed.push((param, field));
                items.push((param, index, field, value.wire()));
                continue;
            }
            Target::Param(param) | Target::Translated { param, .. } => param,
        };
        claimed.push((param, field));
        let json = match target {
            Target::Translated { values, .. } => {
                let wire = value.wire();
                match values.iter().find(|(from, _)| *from == wire) {
                    Some((_, to)) => Ok(Value::String((*to).to_owned())),
                    None => Err(Problem::NotAllowed {
                        value: wire,
                        allowed: values.iter().map(|(from, _)| (*from).to_owned()).collect(),
                    }),
                }
            }
            _ => match info.param(param) {
                Some(p) => uniform_value(p, value),
                None => Err(unsupported(
                    info,
                    format!("its `{param}` is not documented"),
                )),
            },
        };
        match json {
            Ok(json) => {
                input.insert(param.to_owned(), json);
            }
            Err(problem) => {
                v.push(field, problem);
                failed.push(param.to_owned());
            }
        }
    }
    items.sort_by_key(|(param, index, ..)| (*param, *index));
    for (param, index, field, url) in items {
        let list = input
            .entry(param)
            .or_insert_with(|| Value::Array(Vec::new()));
        match list.as_array_mut() {
            Some(list) if list.len() == index => list.push(Value::String(url)),
            _ => {
                v.push(
                    field,
                    unsupported(
                        info,
                        format!(
                            "it follows {} in `{param}`: give that too",
                            items_before(uniform, param, index).join(" and ")
                        ),
                    ),
                );
                failed.push(param.to_owned());
            }
        }
    }

    for (name, value) in extras {
        if let Some((_, from)) = claimed.iter().find(|(param, _)| param == name) {
            v.push(
                name.as_str(),
                Problem::Conflict {
                    with: format!("the request's `{from}`"),
                },
            );
            continue;
        }
        match info.param(name) {
            None => v.push(name.as_str(), unknown_param(info)),
            Some(param) => match value_problem(param, value) {
                Some(problem) => v.push(name.as_str(), problem),
                None => {
                    input.insert(name.clone(), value.clone());
                }
            },
        }
    }

    match parse(Value::Object(input)) {
        Ok(typed) => {
            v.finish()?;
            to_json(&typed)
        }
        Err(err) => {
            // A field the mapping already refused is reported once, by the mapping. A
            // field the uniform request filled is reported by the uniform name the
            // caller set (`reference_images`, not `image_urls`), and so is a required
            // one it could fill; one given as an extra keeps its own name.
            for violation in err.violations() {
                if failed.contains(&violation.field) {
                    continue;
                }
                let (param, item) = violation
                    .field
                    .split_at(violation.field.find('[').unwrap_or(violation.field.len()));
                let mut by = claimed.iter().filter(|(p, _)| *p == param);
                // A list two uniform fields share keeps its own name: neither alone is meant.
                let named = match (by.next(), by.next()) {
                    (Some((_, from)), None) => Some(*from),
                    (Some(_), Some(_)) => None,
                    (None, _) if violation.problem == Problem::Required => {
                        uniform_name(uniform, param)
                    }
                    (None, _) => None,
                };
                let field = named.map_or_else(|| violation.field.clone(), |n| format!("{n}{item}"));
                v.push(field, violation.problem.clone());
            }
            v.finish()?;
            Err(err)
        }
    }
}

/// The uniform field that writes the input field `param`, if one does.
fn uniform_name(uniform: &UniformMapping, param: &str) -> Option<&'static str> {
    targets(uniform)
        .into_iter()
        .find(|(_, target)| target.param() == Some(param))
        .map(|(name, _)| name)
}

/// The uniform fields that go before item `index` of the list `param`, as `` `image` ``.
fn items_before(uniform: &UniformMapping, param: &str, index: usize) -> Vec<String> {
    targets(uniform)
        .into_iter()
        .filter(|(_, target)| {
            matches!(target, Target::Item { param: p, index: i } if *p == param && *i < index)
        })
        .map(|(name, _)| format!("`{name}`"))
        .collect()
}

/// Each uniform field's name and target, in the request's order.
fn targets(uniform: &UniformMapping) -> [(&'static str, Target); 11] {
    let UniformMapping {
        prompt,
        image,
        end_image,
        reference_images,
        video,
        audio,
        duration_secs,
        aspect_ratio,
        resolution,
        seed,
        negative_prompt,
    } = *uniform;
    [
        ("prompt", prompt),
        ("image", image),
        ("end_image", end_image),
        ("reference_images", reference_images),
        ("video", video),
        ("audio", audio),
        ("duration_secs", duration_secs),
        ("aspect_ratio", aspect_ratio),
        ("resolution", resolution),
        ("seed", seed),
        ("negative_prompt", negative_prompt),
    ]
}

/// Writes a number as kie.ai's pages write it: a whole one without a fraction (`5`, not
/// `5.0`), so that a documented example round-trips byte for byte. Generated inputs
/// serialize their `number` fields with it.
///
/// # Errors
///
/// The serializer's.
pub fn number<S: serde::Serializer>(value: &f64, serializer: S) -> Result<S::Ok, S::Error> {
    // Below 2^53 every whole f64 is exactly an i64.
    if value.fract() == 0.0 && value.abs() < 9_007_199_254_740_992.0 {
        serializer.serialize_i64(*value as i64)
    } else {
        serializer.serialize_f64(*value)
    }
}

/// [`number`] for an optional field (skipped when `None` by the field's own attribute).
///
/// # Errors
///
/// The serializer's.
pub fn optional_number<S: serde::Serializer>(
    value: &Option<f64>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match value {
        Some(value) => number(value, serializer),
        None => serializer.serialize_none(),
    }
}

/// A typed input as the JSON it sends.
///
/// # Errors
///
/// Never for the generated inputs (plain data); a hand-written input whose `Serialize`
/// fails is reported on the field `input`.
pub fn to_json<T: ModelInput>(typed: &T) -> Result<Value, ValidationError> {
    serde_json::to_value(typed).map_err(|e| {
        ValidationError::new(
            "input",
            Problem::WrongType {
                expected: format!("serializable to JSON ({e})"),
            },
        )
    })
}

/// Checks a raw `input` object against `info`, then deserializes it.
///
/// Limits are not checked here: the typed input's `validate()` does that.
///
/// # Errors
///
/// A field that is not documented, of the wrong JSON type or missing (see
/// `check_input`); or, should the typed input and `info` ever disagree, the
/// deserializer's message on the field `input`.
pub fn decode<T: DeserializeOwned>(info: &ModelInfo, value: Value) -> Result<T, ValidationError> {
    check_input(info, &value)?;
    serde_json::from_value(value).map_err(|e| {
        ValidationError::new(
            "input",
            Problem::WrongType {
                expected: format!("the object {} documents ({e})", info.id),
            },
        )
    })
}

/// Checks the shape of a raw `input` object against `info`: an object, only documented
/// fields, each of the right JSON type (and enum values among the allowed ones), every
/// required field present.
///
/// # Errors
///
/// A [`ValidationError`] naming every offending field.
pub fn check_input(info: &ModelInfo, value: &Value) -> Result<(), ValidationError> {
    let Some(object) = value.as_object() else {
        return Err(ValidationError::new(
            "input",
            Problem::WrongType {
                expected: "a JSON object".into(),
            },
        ));
    };
    let mut v = Violations::default();
    for (name, value) in object {
        match info.param(name) {
            None => v.push(name.as_str(), unknown_param(info)),
            Some(param) => {
                if let Some(problem) = value_problem(param, value) {
                    v.push(name.as_str(), problem);
                }
            }
        }
    }
    for param in info.params.iter().filter(|p| p.required) {
        if !object.contains_key(param.name) {
            v.push(param.name, Problem::Required);
        }
    }
    v.finish()
}

/// What is wrong with `value` as the JSON of `param`, limits aside: its JSON type, or,
/// for a choice, whether it is one of the allowed strings.
pub fn value_problem(param: &Param, value: &Value) -> Option<Problem> {
    let wrong = |expected: &str| {
        Some(Problem::WrongType {
            expected: expected.to_owned(),
        })
    };
    match param.kind {
        ParamKind::Text { .. } | ParamKind::Url { .. } => {
            if value.is_string() {
                None
            } else {
                wrong("a string")
            }
        }
        ParamKind::Choice { values } => match value.as_str() {
            Some(s) if values.contains(&s) => None,
            Some(s) => Some(Problem::NotAllowed {
                value: s.to_owned(),
                allowed: values.iter().map(|v| (*v).to_owned()).collect(),
            }),
            None => wrong(&format!(
                "one of the strings {}",
                values
                    .iter()
                    .map(|v| format!("{v:?}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        },
        ParamKind::Integer { min, max } => {
            if value.as_i64().is_some() {
                None
            } else if let Some(big) = value.as_u64() {
                // Larger than any i64: out of every documented range.
                Some(Problem::OutOfRange {
                    value: big as f64,
                    min: min.map(|m| m as f64),
                    max: max.map(|m| m as f64),
                })
            } else {
                wrong("a whole number (written without a fraction)")
            }
        }
        ParamKind::Number { .. } => {
            if value.is_number() {
                None
            } else {
                wrong("a number")
            }
        }
        ParamKind::Boolean => {
            if value.is_boolean() {
                None
            } else {
                wrong("true or false")
            }
        }
        ParamKind::TextList { .. } | ParamKind::UrlList { .. } => match value.as_array() {
            Some(items) if items.iter().all(Value::is_string) => None,
            _ => wrong("a list of strings"),
        },
        ParamKind::ObjectList { fields, .. } => {
            let Some(items) = value.as_array() else {
                return wrong("a list of objects");
            };
            items.iter().find_map(|item| {
                let Some(object) = item.as_object() else {
                    return wrong("a list of objects");
                };
                let names = || fields.iter().map(|f| f.name).collect::<Vec<_>>().join(", ");
                object
                    .iter()
                    .find_map(
                        |(name, value)| match fields.iter().find(|f| f.name == name) {
                            None => wrong(&format!(
                                "a list of objects with only the fields {}, not `{name}`",
                                names()
                            )),
                            Some(field) => value_problem(field, value),
                        },
                    )
                    .or_else(|| {
                        fields
                            .iter()
                            .find(|f| f.required && !object.contains_key(f.name))
                            .and_then(|f| {
                                wrong(&format!(
                                    "a list of objects that each have `{}` ({})",
                                    f.name,
                                    names()
                                ))
                            })
                    })
            })
        }
    }
}

/// A uniform value as the JSON of `param`.
fn uniform_value(param: &Param, value: Uniform) -> Result<Value, Problem> {
    match (param.kind, value) {
        (ParamKind::Choice { values }, value) => {
            let wire = value.wire();
            if values.contains(&wire.as_str()) {
                Ok(Value::String(wire))
            } else {
                Err(Problem::NotAllowed {
                    value: wire,
                    allowed: values.iter().map(|v| (*v).to_owned()).collect(),
                })
            }
        }
        (ParamKind::Text { .. } | ParamKind::Url { .. }, Uniform::Text(text)) => {
            Ok(Value::String(text))
        }
        // A duration a page types as free text (grok-imagine's "6" to "30").
        (ParamKind::Text { .. }, Uniform::Whole(n)) => Ok(Value::String(n.to_string())),
        (ParamKind::TextList { .. } | ParamKind::UrlList { .. }, Uniform::Text(text)) => {
            Ok(Value::Array(vec![Value::String(text)]))
        }
        (ParamKind::TextList { .. } | ParamKind::UrlList { .. }, Uniform::List(items)) => {
            Ok(Value::Array(items.into_iter().map(Value::String).collect()))
        }
        (ParamKind::Integer { .. } | ParamKind::Number { .. }, Uniform::Whole(n)) => {
            Ok(Value::from(n))
        }
        (_, value) => Err(Problem::WrongType {
            expected: format!(
                "something `{}` takes, which {:?} is not",
                param.name,
                value.wire()
            ),
        }),
    }
}

fn unsupported(info: &ModelInfo, hint: String) -> Problem {
    Problem::Unsupported {
        model: info.id.to_owned(),
        hint: Some(hint),
    }
}

fn unknown_param(info: &ModelInfo) -> Problem {
    let names: Vec<&str> = info.params.iter().map(|p| p.name).collect();
    unsupported(info, format!("it takes: {}", names.join(", ")))
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};
    use serde_json::json;

    use super::*;
    use crate::model::{AspectRatio, Modality, Resolution};

    static INFO: ModelInfo = ModelInfo {
        progress_callback: false,
        id: "test/model",
        provider: "test",
        modality: Modality::TextToVideo,
        summary: "A model for tests.",
        params: &[
            Param {
                name: "prompt",
                kind: ParamKind::Text {
                    min_chars: None,
                    max_chars: Some(10),
                },
                required: true,
                default: None,
                description: "The prompt.",
                file: None,
            },
            Param {
                name: "duration",
                kind: ParamKind::Choice {
                    values: &["5", "10"],
                },
                required: false,
                default: Some("\"5\""),
                description: "Seconds.",
                file: None,
            },
            Param {
                name: "frame",
                kind: ParamKind::Choice {
                    values: &["wide", "tall"],
                },
                required: false,
                default: None,
                description: "Frame.",
                file: None,
            },
            Param {
                name: "seed",
                kind: ParamKind::Integer {
                    min: Some(-1),
                    max: Some(100),
                },
                required: false,
                default: None,
                description: "Seed.",
                file: None,
            },
            Param {
                name: "fixed",
                kind: ParamKind::Boolean,
                required: false,
                default: None,
                description: "Fixed camera.",
                file: None,
            },
            Param {
                name: "tags",
                kind: ParamKind::TextList {
                    min_items: None,
                    max_items: Some(2),
                },
                required: false,
                default: None,
                description: "Tags.",
                file: None,
            },
            Param {
                name: "clips",
                kind: ParamKind::UrlList {
                    min_items: None,
                    max_items: Some(2),
                },
                required: false,
                default: None,
                description: "Clips.",
                file: None,
            },
            Param {
                name: "scale",
                kind: ParamKind::Number {
                    min: Some(0.0),
                    max: Some(1.0),
                    step: Some(0.1),
                },
                required: false,
                default: None,
                description: "Scale.",
                file: None,
            },
        ],
    };

    static UNIFORM: UniformMapping = UniformMapping {
        prompt: Target::Param("prompt"),
        image: Target::Unsupported {
            hint: "a text-to-video model",
        },
        end_image: Target::Unsupported { hint: "no end" },
        reference_images: Target::Param("tags"),
        video: Target::Item {
            param: "clips",
            index: 1,
        },
        audio: Target::Item {
            param: "clips",
            index: 0,
        },
        duration_secs: Target::Param("duration"),
        aspect_ratio: Target::Translated {
            param: "frame",
            values: &[("16:9", "wide"), ("9:16", "tall")],
        },
        resolution: Target::Unsupported {
            hint: "no resolution here",
        },
        seed: Target::Param("seed"),
        negative_prompt: Target::Unsupported {
            hint: "say it in the prompt",
        },
    };

    #[derive(Debug, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Input {
        prompt: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        duration: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        frame: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        seed: Option<i64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        fixed: Option<bool>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        tags: Option<Vec<String>>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        clips: Option<Vec<String>>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        scale: Option<f64>,
    }

    impl ModelInput for Input {
        fn model_id(&self) -> &str {
            INFO.id
        }

        fn validate(&self) -> Result<(), ValidationError> {
            let mut v = Violations::default();
            v.max_chars("prompt", &self.prompt, 10);
            if let Some(seed) = self.seed {
                v.range("seed", seed as f64, Some(-1.0), Some(100.0));
            }
            if let Some(tags) = &self.tags {
                v.max_items("tags", tags.len(), 2);
            }
            v.finish()
        }
    }

    fn parse(value: Value) -> Result<Input, ValidationError> {
        let input: Input = decode(&INFO, value)?;
        input.validate()?;
        Ok(input)
    }

    fn map(request: &VideoRequest) -> Result<Value, ValidationError> {
        map_request(&INFO, &UNIFORM, request, parse)
    }

    fn problem_of(err: &ValidationError, field: &str) -> Problem {
        err.violations()
            .iter()
            .find(|v| v.field == field)
            .map(|v| v.problem.clone())
            .unwrap_or_else(|| panic!("no violation on {field}: {err}"))
    }

    #[test]
    fn uniform_fields_land_on_their_params_in_the_model_s_spelling() {
        let request = VideoRequest::new("a fox")
            .duration_secs(10)
            .aspect_ratio(AspectRatio::Portrait9x16)
            .seed(7)
            .extra("fixed", true);
        assert_eq!(
            map(&request).unwrap(),
            json!({"prompt": "a fox", "duration": "10", "frame": "tall", "seed": 7, "fixed": true})
        );
    }

    #[test]
    fn what_the_model_cannot_take_is_an_error_with_its_hint() {
        let request = VideoRequest::new("a fox")
            .resolution(Resolution::P720)
            .negative_prompt("blur")
            .image_url("https://example.com/a.png");
        let err = map(&request).unwrap_err();
        assert_eq!(err.violations().len(), 3, "{err}");
        assert_eq!(
            problem_of(&err, "resolution"),
            Problem::Unsupported {
                model: "test/model".into(),
                hint: Some("no resolution here".into())
            }
        );
        assert!(err.concerns("negative_prompt") && err.concerns("image"));
        assert!(
            err.to_string()
                .contains("`resolution` is not supported by test/model (no resolution here)"),
            "{err}"
        );
    }

    #[test]
    fn values_outside_the_model_s_choices_list_what_is_allowed() {
        let request = VideoRequest::new("a fox")
            .duration_secs(7)
            .aspect_ratio(AspectRatio::Landscape4x3);
        let err = map(&request).unwrap_err();
        assert_eq!(
            problem_of(&err, "duration_secs"),
            Problem::NotAllowed {
                value: "7".into(),
                allowed: vec!["5".into(), "10".into()]
            }
        );
        assert_eq!(
            problem_of(&err, "aspect_ratio"),
            Problem::NotAllowed {
                value: "4:3".into(),
                allowed: vec!["16:9".into(), "9:16".into()]
            }
        );
        assert_eq!(err.violations().len(), 2, "{err}");
    }

    #[test]
    fn extras_are_checked_by_name_type_and_duplication() {
        let request = VideoRequest::new("a fox")
            .duration_secs(5)
            .extra("duration", "10")
            .extra("fixd", true)
            .extra("fixed", "yes")
            .extra("frame", "square")
            .extra("tags", json!(["a", 1]))
            .extra("seed", 1.5);
        let err = map(&request).unwrap_err();
        assert_eq!(err.violations().len(), 6, "{err}");
        assert!(matches!(
            problem_of(&err, "duration"),
            Problem::Conflict { with } if with.contains("`duration_secs`")
        ));
        assert!(matches!(
            problem_of(&err, "fixd"),
            Problem::Unsupported { hint: Some(h), .. }
                if h == "it takes: prompt, duration, frame, seed, fixed, tags, clips, scale"
        ));
        assert!(matches!(
            problem_of(&err, "fixed"),
            Problem::WrongType { .. }
        ));
        assert!(matches!(
            problem_of(&err, "frame"),
            Problem::NotAllowed { .. }
        ));
        assert!(matches!(
            problem_of(&err, "tags"),
            Problem::WrongType { .. }
        ));
        assert!(matches!(
            problem_of(&err, "seed"),
            Problem::WrongType { .. }
        ));
    }

    #[test]
    fn extras_set_params_the_uniform_request_has_no_field_for() {
        let request = VideoRequest::new("a fox")
            .extra("scale", 0.3)
            .extra("tags", json!(["a"]));
        assert_eq!(
            map(&request).unwrap(),
            json!({"prompt": "a fox", "scale": 0.3, "tags": ["a"]})
        );
    }

    #[test]
    fn limits_are_checked_after_mapping_and_reported_with_mapping_errors() {
        let request = VideoRequest::new("0123456789x")
            .seed(101)
            .resolution(Resolution::P1080);
        let err = map(&request).unwrap_err();
        assert_eq!(err.violations().len(), 3, "{err}");
        assert!(matches!(
            problem_of(&err, "prompt"),
            Problem::TooLong {
                max: 10,
                actual: 11
            }
        ));
        assert!(matches!(
            problem_of(&err, "seed"),
            Problem::OutOfRange { .. }
        ));
        assert!(err.concerns("resolution"));
    }

    #[test]
    fn a_blank_prompt_is_missing_and_reported_once() {
        let err = map(&VideoRequest::new("  ")).unwrap_err();
        assert_eq!(err.violations().len(), 1, "{err}");
        assert_eq!(problem_of(&err, "prompt"), Problem::Required);
        // An empty prompt is no prompt, so an extra may give it.
        assert_eq!(
            map(&VideoRequest::new("").extra("prompt", "x")).unwrap(),
            json!({"prompt": "x"})
        );
    }

    #[test]
    fn check_input_names_unknown_wrong_and_missing_fields() {
        let err =
            check_input(&INFO, &json!({"frame": 3, "seed": u64::MAX, "what": 1})).unwrap_err();
        assert_eq!(err.violations().len(), 4, "{err}");
        assert!(matches!(
            problem_of(&err, "frame"),
            Problem::WrongType { expected } if expected == r#"one of the strings "wide", "tall""#
        ));
        assert!(matches!(
            problem_of(&err, "seed"),
            Problem::OutOfRange { .. }
        ));
        assert!(matches!(
            problem_of(&err, "what"),
            Problem::Unsupported { .. }
        ));
        assert_eq!(problem_of(&err, "prompt"), Problem::Required);

        let err = check_input(&INFO, &json!(["prompt"])).unwrap_err();
        assert!(err.concerns("input"));
        assert!(check_input(&INFO, &json!({"prompt": "x", "seed": -1, "scale": 1})).is_ok());
    }

    #[test]
    fn null_is_not_a_value_of_any_kind() {
        for param in INFO.params {
            assert!(
                value_problem(param, &Value::Null).is_some(),
                "{} took null",
                param.name
            );
        }
    }

    #[test]
    fn a_local_file_is_refused_with_the_way_to_upload_it() {
        let err = map(&VideoRequest::new("a fox").image_path("fox.png")).unwrap_err();
        assert_eq!(err.violations().len(), 1, "{err}");
        assert!(matches!(
            problem_of(&err, "image"),
            Problem::Unsupported { hint: Some(h), .. } if h.contains("Client::upload_file")
        ));
        let err = map(&VideoRequest::new("a fox").reference_image_path("a.png")).unwrap_err();
        assert!(err.concerns("reference_images"), "{err}");
    }

    #[test]
    fn reference_images_go_as_a_list_and_items_in_their_places() {
        let request = VideoRequest::new("a fox")
            .reference_image_url("https://example.com/a.png")
            .reference_image_url("https://example.com/b.png")
            .video_url("https://example.com/v.mp4")
            .audio_url("https://example.com/a.mp3");
        assert_eq!(
            map(&request).unwrap(),
            json!({
                "prompt": "a fox",
                "tags": ["https://example.com/a.png", "https://example.com/b.png"],
                "clips": ["https://example.com/a.mp3", "https://example.com/v.mp4"],
            })
        );
    }

    #[test]
    fn a_limit_broken_by_a_uniform_field_is_named_by_it() {
        let request = VideoRequest::new("a fox")
            .reference_image_url("https://example.com/a.png")
            .reference_image_url("https://example.com/b.png")
            .reference_image_url("https://example.com/c.png");
        let err = map(&request).unwrap_err();
        assert_eq!(err.violations().len(), 1, "{err}");
        assert!(matches!(
            problem_of(&err, "reference_images"),
            Problem::TooManyItems { max: 2, actual: 3 }
        ));
        // The same field given as an extra keeps its own name.
        let err =
            map(&VideoRequest::new("a fox").extra("tags", json!(["a", "b", "c"]))).unwrap_err();
        assert!(err.concerns("tags"), "{err}");
    }

    #[test]
    fn an_item_cannot_follow_a_missing_one() {
        let request = VideoRequest::new("a fox").video_url("https://example.com/v.mp4");
        let err = map(&request).unwrap_err();
        assert_eq!(err.violations().len(), 1, "{err}");
        assert!(matches!(
            problem_of(&err, "video"),
            Problem::Unsupported { hint: Some(h), .. } if h == "it follows `audio` in `clips`: give that too"
        ));
        let err = map(&request.extra("clips", json!(["https://example.com/x.mp4"]))).unwrap_err();
        assert!(matches!(
            problem_of(&err, "clips"),
            Problem::Conflict { with } if with.contains("`video`")
        ));
    }

    #[test]
    fn a_required_field_the_uniform_request_fills_is_named_by_its_uniform_name() {
        static REQUIRED: ModelInfo = ModelInfo {
            params: &[Param::new("prompt", ParamKind::Url { max_chars: None }).required()],
            ..INFO
        };
        fn parse(value: Value) -> Result<Input, ValidationError> {
            decode(&REQUIRED, value)
        }
        let err = map_request(&REQUIRED, &UNIFORM, &VideoRequest::new(""), parse).unwrap_err();
        assert_eq!(problem_of(&err, "prompt"), Problem::Required);
    }

    #[test]
    fn whole_numbers_are_written_without_a_fraction() {
        #[derive(Serialize)]
        struct Numbers {
            #[serde(serialize_with = "number")]
            whole: f64,
            #[serde(serialize_with = "number")]
            fraction: f64,
            #[serde(serialize_with = "optional_number")]
            optional: Option<f64>,
        }
        let text = serde_json::to_string(&Numbers {
            whole: 80.0,
            fraction: 3.5,
            optional: Some(-1.0),
        })
        .unwrap();
        assert_eq!(text, r#"{"whole":80,"fraction":3.5,"optional":-1}"#);
    }

    #[test]
    fn targets_name_their_param() {
        assert_eq!(UNIFORM.duration_secs.param(), Some("duration"));
        assert_eq!(UNIFORM.aspect_ratio.param(), Some("frame"));
        assert_eq!(UNIFORM.resolution.param(), None);
    }
}

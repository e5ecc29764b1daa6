//! `kie models`: what this build can generate with, and what each model accepts.

use std::fmt::Write as _;

use kie::{Media, ModelInfo, Param, Problem, VideoModel};
use serde_json::{Value, json};

use crate::cli::ModelsArgs;
use crate::failure::Failure;
use crate::output::Output;
use crate::request::{MediaKind, video_request};

/// The enabled models that pass `args`' filters, grouped by provider, then modality,
/// each with the media inputs it takes, its parameters, allowed values, defaults and
/// limits. A filter value that
/// names nothing this build knows is refused with the values it knows, rather than
/// answered with an empty list.
pub fn models(args: &ModelsArgs) -> Result<Output, Failure> {
    let mut infos = kie::registry::infos();
    let provider = |info: &ModelInfo| info.provider.to_owned();
    let modality = |info: &ModelInfo| info.modality.to_string();
    check_filter("--provider", args.provider.as_deref(), &infos, provider)?;
    check_filter("--modality", args.modality.as_deref(), &infos, modality)?;
    infos.retain(|info| {
        args.provider.as_deref().is_none_or(|p| provider(info) == p)
            && args.modality.as_deref().is_none_or(|m| modality(info) == m)
    });
    infos.sort_by_key(|info| (info.provider, info.modality.to_string(), info.id));
    let mut text = String::new();
    let mut group = None;
    let mut listed = Vec::with_capacity(infos.len());
    for info in &infos {
        let this = (info.provider, info.modality);
        if group != Some(this) {
            if group.is_some() {
                text.push('\n');
            }
            let _ = writeln!(text, "== {} / {}", info.provider, info.modality);
            group = Some(this);
        }
        let media = kie::registry::model(info.id).map_or_else(|_| Vec::new(), |m| takes(&*m));
        text.push('\n');
        describe(&mut text, info, &media);
        let mut entry = serde_json::to_value(info).unwrap_or(Value::Null);
        if let Some(entry) = entry.as_object_mut() {
            let fields = media.iter().map(|kind| kind.field()).collect::<Vec<_>>();
            entry.insert("media".to_owned(), json!(fields));
        }
        listed.push(entry);
    }
    Ok(Output::new(json!({ "models": listed }), text))
}

/// The media inputs `model` takes: those its mapping of the uniform request does not
/// refuse as unsupported, asked with a URL that is never fetched. A last frame is asked
/// with a first one, which a model that takes both in one list needs before it.
fn takes(model: &dyn VideoModel) -> Vec<MediaKind> {
    let url = || Media::Url("https://probe.invalid/media".to_owned());
    MediaKind::ALL
        .into_iter()
        .filter(|&kind| {
            let mut media = vec![(kind, url())];
            if kind == MediaKind::EndImage {
                media.push((MediaKind::Image, url()));
            }
            let request = video_request("probe", [], media, None);
            model.input_for(&request).err().is_none_or(|invalid| {
                !invalid.violations().iter().any(|violation| {
                    violation.field == kind.field()
                        && matches!(violation.problem, Problem::Unsupported { .. })
                })
            })
        })
        .collect()
}

/// Refuses a `flag` value that no model of this build has, listing those it has.
fn check_filter(
    flag: &str,
    value: Option<&str>,
    infos: &[&ModelInfo],
    of: impl Fn(&ModelInfo) -> String,
) -> Result<(), Failure> {
    let Some(value) = value else { return Ok(()) };
    let mut known: Vec<String> = infos.iter().map(|info| of(info)).collect();
    known.sort();
    known.dedup();
    if known.iter().any(|k| k == value) {
        return Ok(());
    }
    Err(Failure::input(format!(
        "{flag} {value:?}: no model of this build has it; known: {}",
        known.join(", ")
    )))
}

fn describe(text: &mut String, info: &ModelInfo, media: &[MediaKind]) {
    let _ = writeln!(text, "{}", info.id);
    let _ = writeln!(text, "  {}", info.summary);
    let flags: Vec<&str> = media.iter().map(|kind| kind.flag()).collect();
    let flags = if flags.is_empty() {
        "none".to_owned()
    } else {
        flags.join(", ")
    };
    let _ = writeln!(text, "  media inputs: {flags}");
    let width = info.params.iter().map(|p| p.name.len()).max().unwrap_or(0);
    for param in info.params {
        let _ = writeln!(text, "  {:width$}  {}", param.name, rule(param));
    }
}

/// One parameter in words: its type and limits, whether it is required, its default,
/// and for a file's URL the types and size its page documents.
fn rule(param: &Param) -> String {
    let mut rule = param.kind.to_string();
    if param.required {
        rule.push_str("; required");
    }
    if let Some(default) = param.default {
        let _ = write!(rule, "; default {default}");
    }
    if let Some(file) = param.file {
        let _ = write!(rule, "; files: {}", file.mime_types.join(", "));
        if let Some(max) = file.max_bytes {
            let _ = write!(rule, ", at most {} MB", max as f64 / (1024.0 * 1024.0));
        }
    }
    rule
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all() -> ModelsArgs {
        ModelsArgs {
            provider: None,
            modality: None,
        }
    }

    #[test]
    fn every_model_and_parameter_is_listed_with_its_limits() {
        let output = models(&all()).unwrap();
        for info in kie::registry::infos() {
            assert!(output.text.contains(info.id), "{}", info.id);
            for param in info.params {
                assert!(output.text.contains(param.name), "{}", param.name);
            }
        }
        assert!(output.text.contains(r#"one of "5", "10"; default "5""#));
        assert!(
            output.text.contains(
                "an http(s) URL; required; files: image/jpeg, image/png, image/webp, at most 10 MB"
            ),
            "{}",
            output.text
        );
        assert!(
            output
                .text
                .contains("number from 0 to 1, in steps of 0.1; default 0.5")
        );
    }

    #[test]
    fn each_model_lists_the_media_inputs_it_takes() {
        let output = models(&all()).unwrap();
        let fast = "bytedance/v1-pro-fast-image-to-video\n  \
                    Turns a still image into a video with ByteDance's fast model.\n  \
                    media inputs: --image\n";
        assert!(output.text.contains(fast), "{}", output.text);
        let kling = "kling/v2-1-master-text-to-video\n  ";
        let at = output.text.find(kling).expect("kling is listed");
        let after = &output.text[at..];
        assert_eq!(
            after.lines().nth(2),
            Some("  media inputs: none"),
            "{after}"
        );
        let models = output.json["models"].as_array().unwrap();
        let media = |id: &str| {
            let model = models.iter().find(|m| m["id"] == id).expect("listed");
            assert!(model["params"].is_array(), "{model}");
            model["media"].clone()
        };
        assert_eq!(
            media("bytedance/v1-pro-fast-image-to-video"),
            json!(["image"])
        );
        assert_eq!(media("kling/v2-1-master-text-to-video"), json!([]));
    }

    #[test]
    fn models_are_grouped_by_provider_then_modality() {
        let text = models(&all()).unwrap().text;
        let headings: Vec<&str> = text.lines().filter(|l| l.starts_with("== ")).collect();
        assert_eq!(
            headings,
            [
                "== bytedance / image-to-video",
                "== bytedance / text-to-video",
                "== grok / image-to-video",
                "== grok / text-to-video",
                "== grok / upscale",
                "== grok / video-to-video",
                "== hailuo / image-to-video",
                "== hailuo / text-to-video",
                "== happyhorse / edit",
                "== happyhorse / image-to-video",
                "== happyhorse / reference-to-video",
                "== happyhorse / text-to-video",
                "== infinitalk / audio-driven",
                "== kling / audio-driven",
                "== kling / image-to-video",
                "== kling / text-to-video",
                "== kling / video-to-video",
                "== sora / character",
                "== sora / edit",
                "== sora / image-to-video",
                "== sora / text-to-video",
                "== topaz / upscale",
                "== wan / audio-driven",
                "== wan / edit",
                "== wan / image-to-video",
                "== wan / reference-to-video",
                "== wan / text-to-video",
                "== wan / video-to-video",
            ]
        );
    }

    #[test]
    fn filters_keep_only_the_matching_models() {
        let output = models(&ModelsArgs {
            provider: Some("bytedance".into()),
            modality: Some("image-to-video".into()),
        })
        .unwrap();
        let ids: Vec<&str> = output.json["models"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["id"].as_str().unwrap())
            .collect();
        assert_eq!(
            ids,
            [
                "bytedance/v1-lite-image-to-video",
                "bytedance/v1-pro-fast-image-to-video",
                "bytedance/v1-pro-image-to-video",
            ]
        );
        assert!(!output.text.contains("kling"));
    }

    #[test]
    fn a_filter_value_no_model_has_is_refused_with_the_known_values() {
        let Err(failure) = models(&ModelsArgs {
            provider: Some("klingg".into()),
            modality: None,
        }) else {
            panic!("an unknown provider was accepted")
        };
        let text = format!("{failure:?}");
        assert!(text.contains(r#"--provider \"klingg\""#), "{text}");
        assert!(
            text.contains(
                "known: bytedance, grok, hailuo, happyhorse, infinitalk, kling, sora, topaz, wan"
            ),
            "{text}"
        );
    }
}

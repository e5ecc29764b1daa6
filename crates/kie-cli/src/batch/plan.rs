//! Reading a batch file: one request per line, every line checked before anything is
//! sent, so that a typo on line 900 does not surface after 899 paid tasks.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use kie::{VideoModel, VideoRequest};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};
use sha2::{Digest as _, Sha256};
use unicode_normalization::UnicodeNormalization as _;

use crate::failure::Failure;
use crate::request::{self, MediaKind, Origin, Unsendable, check, video_request};

/// One line of a batch file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Spec {
    model: String,
    /// Absent for a model that takes no prompt.
    #[serde(default)]
    prompt: String,
    #[serde(default)]
    params: Map<String, Value>,
    image: Option<String>,
    end_image: Option<String>,
    #[serde(default, deserialize_with = "list")]
    reference_images: Vec<String>,
    video: Option<String>,
    audio: Option<String>,
    callback_url: Option<String>,
    name: Option<String>,
}

/// `reference_images`: a list of paths or URLs, said so when it is something else (one
/// path not in a list, say), which serde's own message would not name.
fn list<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    Vec::<String>::deserialize(deserializer).map_err(|_| {
        D::Error::custom(
            "`reference_images` must be a list of paths or URLs, e.g. [\"a.png\", \"https://host/b.png\"]",
        )
    })
}

/// A checked line, ready to submit.
#[derive(Debug)]
pub struct Line {
    /// 1-based line number in the file.
    pub number: usize,
    /// Digest of the line's text, so that a journal never applies to an edited line.
    pub hash: String,
    /// The video's file name in the output directory.
    pub file: String,
    /// The model.
    pub model: Arc<dyn VideoModel>,
    /// The request.
    pub request: VideoRequest,
}

/// Reads and checks every line of `path`; blank lines and comments (`#` first) are
/// skipped, and keep their numbers. A relative media path (image, video, audio) is taken
/// from `path`'s directory, so that a batch and its files can move together and run
/// from anywhere.
///
/// # Errors
///
/// A [`Failure`] of kind input listing every bad line (JSON, unknown model, invalid
/// field, missing media file, a file name used twice, even in another case or Unicode
/// form), or the file's read error.
pub fn read(path: &Path) -> Result<Vec<Line>, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::input(format!("could not read {}: {e}", path.display())))?;
    let dir = path.parent().unwrap_or(Path::new(""));
    let numbered: Vec<(usize, &str)> = text
        .lines()
        .enumerate()
        .map(|(i, line)| (i + 1, line))
        .filter(|(_, line)| !line.trim().is_empty() && !line.trim_start().starts_with('#'))
        .collect();
    let width = numbered.last().map_or(1, |(n, _)| n.to_string().len());
    let mut lines = Vec::new();
    let mut problems = Vec::new();
    // Each file name by its folded form, with the line that took it.
    let mut files: BTreeMap<String, (usize, String)> = BTreeMap::new();
    for (number, text) in numbered {
        match line(number, text, width, dir) {
            Ok(line) => match files.get(&folded(&line.file)) {
                Some((first, name)) if *name == line.file => problems.push(format!(
                    "line {number}: the name {:?} is also used by line {first}",
                    line.file
                )),
                Some((first, name)) => problems.push(format!(
                    "line {number}: the name {:?} and line {first}'s {name:?} are one file \
                     where names ignore case or Unicode form (macOS, Windows)",
                    line.file
                )),
                None => {
                    files.insert(folded(&line.file), (number, line.file.clone()));
                    lines.push(line);
                }
            },
            Err(problem) => problems.push(format!("line {number}: {problem}")),
        }
    }
    if !problems.is_empty() {
        return Err(Failure::input(format!(
            "{} has {} bad line(s); nothing was sent:",
            path.display(),
            problems.len()
        ))
        .hint(
            "each line is {\"model\": ID, \"prompt\": TEXT, \"params\": {NAME: VALUE}, \
             \"image\": PATH_OR_URL, \"end_image\": PATH_OR_URL, \
             \"reference_images\": [PATH_OR_URL, ...], \"video\": PATH_OR_URL, \
             \"audio\": PATH_OR_URL, \"callback_url\": URL, \"name\": FILE_STEM}; \
             `kie models` lists the models, their media inputs and parameters",
        )
        .details(problems));
    }
    if lines.is_empty() {
        return Err(Failure::input(format!(
            "{} has no requests",
            path.display()
        )));
    }
    Ok(lines)
}

/// Line `number` of a batch in `dir`, checked; `width` pads default names so that
/// they sort in line order.
fn line(number: usize, text: &str, width: usize, dir: &Path) -> Result<Line, String> {
    let spec: Spec = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let model = kie::registry::model(&spec.model).map_err(|e| e.to_string())?;
    if model.info().modality == kie::Modality::Character {
        return Err(format!(
            "{} makes a character (an id), not a file, and a batch saves each line's file: \
             use `kie generate`, which prints the character id",
            spec.model
        ));
    }
    let file = match &spec.name {
        Some(name) => format!("{}.mp4", file_stem(name)?),
        None => format!("line-{number:0width$}.mp4"),
    };
    let media = request::media_inputs(
        [
            (MediaKind::Image, spec.image.as_slice()),
            (MediaKind::EndImage, spec.end_image.as_slice()),
            (MediaKind::ReferenceImage, spec.reference_images.as_slice()),
            (MediaKind::Video, spec.video.as_slice()),
            (MediaKind::Audio, spec.audio.as_slice()),
        ],
        Origin::BatchLine,
    )
    .map_err(|unsendable| unsendable.to_string())?
    .into_iter()
    .map(|(kind, media)| (kind, request::relative_to(media, dir)));
    let request = video_request(
        &spec.prompt,
        spec.params,
        media,
        spec.callback_url.as_deref(),
    );
    check(model.as_ref(), &request, Origin::BatchLine).map_err(|unsendable| match unsendable {
        Unsendable::Invalid(_) => format!("invalid input for {}: {unsendable}", model.id()),
        other => other.to_string(),
    })?;
    Ok(Line {
        number,
        hash: digest(text),
        file,
        model,
        request,
    })
}

/// A name usable as a file stem in the output directory, and nowhere else.
fn file_stem(name: &str) -> Result<&str, String> {
    let ok = !name.is_empty()
        && name.len() <= 120
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | ' '));
    if ok {
        Ok(name)
    } else {
        Err(format!(
            "`name` {name:?} is not a file stem: use letters, digits, spaces, '-', '_' and '.', \
             not first, at most 120 bytes"
        ))
    }
}

/// A file name as a case-insensitive, normalization-insensitive filesystem (APFS,
/// NTFS) compares it, or more strictly: `Fox.mp4` and `fox.mp4` are one file there, and
/// so are an `é` composed and decomposed. Upper- then lowercasing folds `ß` with `ss`
/// and `ς` with `σ` as full case folding does.
fn folded(name: &str) -> String {
    let decomposed: String = name.nfd().collect();
    decomposed.to_uppercase().to_lowercase().nfc().collect()
}

fn digest(text: &str) -> String {
    Sha256::digest(text.trim().as_bytes())
        .iter()
        .take(12)
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn batch(text: &str) -> Result<Vec<Line>, Failure> {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("batch.jsonl");
        std::fs::write(&path, text).expect("written");
        read(&path)
    }

    #[test]
    fn lines_get_numbers_names_and_stable_hashes() {
        let lines = batch(concat!(
            r#"{"model": "kling/v2-1-master-text-to-video", "prompt": "a fox", "params": {"duration": "10"}}"#,
            "\n\n",
            r#"{"model": "hailuo/02-text-to-video-pro", "prompt": "a cat", "name": "cat"}"#,
            "\n",
        ))
        .expect("a valid batch");
        assert_eq!(lines.len(), 2);
        assert_eq!((lines[0].number, lines[0].file.as_str()), (1, "line-1.mp4"));
        assert_eq!((lines[1].number, lines[1].file.as_str()), (3, "cat.mp4"));
        assert_eq!(lines[0].hash.len(), 24);
        assert_ne!(lines[0].hash, lines[1].hash);
    }

    #[test]
    fn comments_and_blank_lines_are_skipped_and_keep_their_numbers() {
        let lines = batch(concat!(
            "# foxes\n",
            "\n",
            r#"{"model": "kling/v2-1-master-text-to-video", "prompt": "a fox"}"#,
            "\n",
            "  # an indented comment\n",
            r#"{"model": "kling/v2-1-master-text-to-video", "prompt": "a # in a prompt"}"#,
            "\n",
        ))
        .expect("a valid batch");
        let numbers: Vec<usize> = lines.iter().map(|line| line.number).collect();
        assert_eq!(numbers, [3, 5]);
        assert_eq!(lines[1].request.prompt, "a # in a prompt");
    }

    #[test]
    fn a_relative_image_is_taken_from_the_batch_files_directory() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        std::fs::write(dir.path().join("still.png"), "an image").expect("written");
        let path = dir.path().join("batch.jsonl");
        std::fs::write(
            &path,
            r#"{"model": "bytedance/v1-pro-fast-image-to-video", "prompt": "x", "image": "still.png"}"#,
        )
        .expect("written");
        let lines = read(&path).expect("the image is found beside the batch file");
        assert_eq!(
            lines[0].request.image,
            Some(kie::Media::Path(dir.path().join("still.png")))
        );
    }

    #[test]
    fn every_media_key_takes_a_relative_path_from_the_batch_files_directory() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        std::fs::write(dir.path().join("first.png"), "an image").expect("written");
        let path = dir.path().join("batch.jsonl");
        let fast = "bytedance/v1-pro-fast-image-to-video";
        let mut text = String::new();
        for (key, value) in [
            ("end_image", json!("last.png")),
            ("reference_images", json!(["https://h/r.png", "ref.png"])),
            ("video", json!("clip.mp4")),
            ("audio", json!("voice.mp3")),
        ] {
            let mut line = json!({"model": fast, "prompt": "x", "image": "first.png"});
            line[key] = value;
            text.push_str(&format!("{line}\n"));
        }
        std::fs::write(&path, text).expect("written");
        let text = format!("{:?}", read(&path).expect_err("the files are missing"));
        let beside = |file: &str| dir.path().join(file).display().to_string();
        for expected in [
            format!(
                "line 1: `end_image` {} is not a readable file",
                beside("last.png")
            ),
            format!(
                "line 2: `reference_images` {} is not a readable file",
                beside("ref.png")
            ),
            format!(
                "line 3: `video` {} is not a readable file",
                beside("clip.mp4")
            ),
            format!(
                "line 4: `audio` {} is not a readable file",
                beside("voice.mp3")
            ),
        ] {
            let expected = format!("{expected:?}");
            let expected = expected.trim_matches('"');
            assert!(text.contains(expected), "{expected} not in {text}");
        }
    }

    #[test]
    fn media_keys_a_model_cannot_take_are_named_with_its_hint() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        for file in ["first.png", "last.png", "ref.png", "clip.mp4", "voice.mp3"] {
            std::fs::write(dir.path().join(file), "bytes").expect("written");
        }
        let path = dir.path().join("batch.jsonl");
        let line = json!({
            "model": "bytedance/v1-pro-fast-image-to-video",
            "prompt": "x",
            "image": "first.png",
            "end_image": "last.png",
            "reference_images": ["ref.png", "https://h/r.png"],
            "video": "clip.mp4",
            "audio": "https://h/voice.mp3",
        });
        std::fs::write(&path, line.to_string()).expect("written");
        let text = format!("{:?}", read(&path).expect_err("refused"));
        for expected in [
            "`end_image` is not supported by bytedance/v1-pro-fast-image-to-video \
             (the model takes no last frame",
            "`reference_images` is not supported by bytedance/v1-pro-fast-image-to-video \
             (the model takes no reference images)",
            "`video` is not supported by bytedance/v1-pro-fast-image-to-video \
             (the model takes no input video)",
            "`audio` is not supported by bytedance/v1-pro-fast-image-to-video \
             (the model takes no input audio)",
        ] {
            assert!(text.contains(expected), "{expected} not in {text}");
        }
        assert!(!text.contains("`image`"), "{text}");
    }

    #[test]
    fn a_model_that_makes_no_file_is_refused_by_a_batch() {
        let failure = batch(
            r#"{"model": "sora-2-characters", "prompt": "a cat", "video": "https://h/cat.mp4"}"#,
        )
        .expect_err("refused");
        let text = format!("{failure:?}");
        assert!(
            text.contains("sora-2-characters makes a character (an id), not a file"),
            "{text}"
        );
    }

    #[test]
    fn reference_images_must_be_a_list_and_misspelt_keys_are_refused() {
        let failure = batch(concat!(
            r#"{"model": "kling/v2-1-master-text-to-video", "prompt": "x", "reference_images": "a.png"}"#,
            "\n",
            r#"{"model": "kling/v2-1-master-text-to-video", "prompt": "x", "reference_image": ["a.png"]}"#,
            "\n",
            r#"{"model": "kling/v2-1-master-text-to-video", "prompt": "x", "end-image": "a.png"}"#,
            "\n",
            r#"{"model": "kling/v2-1-master-text-to-video", "prompt": "x", "reference_images": []}"#,
            "\n",
        ))
        .expect_err("refused");
        let text = format!("{failure:?}");
        for expected in [
            "3 bad line(s)",
            "line 1: `reference_images` must be a list of paths or URLs",
            "line 2: unknown field `reference_image`",
            "line 3: unknown field `end-image`",
        ] {
            assert!(text.contains(expected), "{expected} not in {text}");
        }
        assert!(
            !text.contains("line 4"),
            "an empty list is no input: {text}"
        );
    }

    #[test]
    fn every_bad_line_is_reported_before_anything_is_sent() {
        let failure = batch(concat!(
            r#"{"model": "kling/v2-1-master-text-to-video", "prompt": "ok", "name": "a"}"#,
            "\n",
            r#"{"model": "nope", "prompt": "x"}"#,
            "\n",
            r#"{"model": "kling/v2-1-master-text-to-video", "prompt": "x", "params": {"duration": "7"}}"#,
            "\n",
            r#"{"model": "kling/v2-1-master-text-to-video", "promt": "x"}"#,
            "\n",
            r#"{"model": "kling/v2-1-master-text-to-video", "prompt": "x", "name": "a"}"#,
            "\n",
            r#"{"model": "bytedance/v1-pro-fast-image-to-video", "prompt": "x", "image": "/no/such.png"}"#,
            "\n",
            r#"{"model": "kling/v2-1-master-text-to-video", "prompt": "x", "name": "../up"}"#,
            "\n",
            r#"{"model": "bytedance/v1-pro-fast-image-to-video", "prompt": "x", "image": "ftp://h/a.png"}"#,
            "\n",
            r#"{"model": "kling/v2-1-master-text-to-video", "prompt": "x", "image": "https://h/a.png"}"#,
            "\n",
        ))
        .expect_err("refused");
        let text = format!("{failure:?}");
        for expected in [
            "8 bad line(s)",
            "line 2: unknown model `nope`",
            "line 3: invalid input for kling/v2-1-master-text-to-video: `duration` is \\\"7\\\"",
            "line 4: unknown field `promt`",
            "line 5: the name \\\"a.mp4\\\" is also used by line 1",
            "line 6: `image` /no/such.png is not a readable file",
            "line 7: `name` \\\"../up\\\" is not a file stem",
            "line 8: `image` ftp://h/a.png: a ftp:// URL cannot be used",
            "line 9: invalid input for kling/v2-1-master-text-to-video: `image` is not supported",
        ] {
            assert!(text.contains(expected), "{expected} not in {text}");
        }
    }

    #[test]
    fn names_that_one_filesystem_could_take_for_one_file_are_refused() {
        let named = |name: &str| {
            serde_json::json!({ "model": "kling/v2-1-master-text-to-video", "prompt": "x", "name": name })
                .to_string()
        };
        let failure = batch(
            &[
                named("Fox"),
                named("LINE-3"),
                "{\"model\": \"kling/v2-1-master-text-to-video\", \"prompt\": \"x\"}".to_owned(),
                named("fox"),
                named("\u{c5}ngstr\u{f6}m"),
                named("\u{212b}NGSTR\u{d6}M"),
                named("Stra\u{df}e"),
                named("STRASSE"),
            ]
            .join("\n"),
        )
        .expect_err("refused");
        let text = format!("{failure:?}");
        for expected in [
            "4 bad line(s)",
            // The default name of line 3 and line 2's own.
            "line 3: the name \\\"line-3.mp4\\\" and line 2's \\\"LINE-3.mp4\\\" are one file",
            "line 4: the name \\\"fox.mp4\\\" and line 1's \\\"Fox.mp4\\\" are one file \
             where names ignore case or Unicode form (macOS, Windows)",
            // The Angstrom sign is canonically the letter Å.
            "line 6: the name \\\"\u{212b}NGSTR\u{d6}M.mp4\\\" and line 5's",
            "line 8: the name \\\"STRASSE.mp4\\\" and line 7's",
        ] {
            assert!(text.contains(expected), "{expected} not in {text}");
        }
    }
}

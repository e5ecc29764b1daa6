//! Reading a batch file: one request per line, every line checked before anything is
//! sent, so that a typo on line 900 does not surface after 899 paid tasks.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use kie::{VideoModel, VideoRequest};
use serde::Deserialize;
use serde_json::{Map, Value};
use sha2::{Digest as _, Sha256};
use unicode_normalization::UnicodeNormalization as _;

use crate::failure::Failure;
use crate::request::{Image, Origin, Unsendable, check, video_request};

/// One line of a batch file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Spec {
    model: String,
    prompt: String,
    #[serde(default)]
    params: Map<String, Value>,
    image: Option<String>,
    callback_url: Option<String>,
    name: Option<String>,
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
/// skipped, and keep their numbers. A relative image path is taken from `path`'s
/// directory, so that a batch and its images can move together and run from anywhere.
///
/// # Errors
///
/// A [`Failure`] of kind input listing every bad line (JSON, unknown model, invalid
/// field, missing image file, a file name used twice, even in another case or Unicode
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
             \"image\": PATH_OR_URL, \"callback_url\": URL, \"name\": FILE_STEM}; \
             `kie models` lists the models and their parameters",
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
    let file = match &spec.name {
        Some(name) => format!("{}.mp4", file_stem(name)?),
        None => format!("line-{number:0width$}.mp4"),
    };
    let image = spec
        .image
        .as_deref()
        .map(|text| Image::parse(text, Origin::BatchLine).map(|image| image.relative_to(dir)))
        .transpose()
        .map_err(|unsendable| unsendable.to_string())?;
    let request = video_request(
        &spec.prompt,
        spec.params,
        image,
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

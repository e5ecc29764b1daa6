//! Local media files of a [`VideoRequest`]: checked, uploaded, replaced by their URLs.
//!
//! A request is mapped once with a stand-in URL for each local file before anything is
//! uploaded, so an invalid request costs no upload, and so that the mapping itself says
//! which input field each file lands in: that field's documented types and size
//! ([`Param::file`]) are what the file is checked against, by its magic bytes. A field
//! that documents none gets its family's rule (any image, video or audio type the SDK
//! recognises). Every file is checked before the first is uploaded.

use serde_json::Value;

use crate::client::Client;
use crate::error::Error;
use crate::model::{Media, ModelInfo, Param, VideoModel, VideoRequest};
use crate::upload::{FileLimits, check_file};
use crate::validation::Problem;

/// Where stand-in URLs point: a reserved name (RFC 6761), never fetched.
const STAND_IN: &str = "https://upload.invalid/kie-rs/";

/// `request` with every local file uploaded and replaced by its URL; the request itself
/// when it has none.
///
/// # Errors
///
/// The request maps to an invalid input (with stand-ins for the files), a file the
/// model cannot take (type or size, by its bytes), or an upload's error.
pub(crate) async fn upload_files(
    model: &(impl VideoModel + ?Sized),
    client: &Client,
    request: &VideoRequest,
) -> Result<Option<VideoRequest>, Error> {
    let mut stand_in = request.clone();
    let mut files = Vec::new();
    for (i, (field, media)) in stand_in.media_mut().enumerate() {
        if let Media::Path(path) = media {
            files.push((i, field, path.clone()));
            *media = Media::Url(format!("{STAND_IN}{i}"));
        }
    }
    if files.is_empty() {
        return Ok(None);
    }
    let input = model.input_for(&stand_in)?;
    // Every file is checked before any is uploaded, so a bad one leaves none behind.
    for (i, field, path) in &files {
        let param = landing(model.info(), &input, &format!("{STAND_IN}{i}"));
        check_file(path, Some(limits_for(field, param))).await?;
    }
    // Checked above: the uploads need not read each file's first bytes again.
    let mut urls = Vec::with_capacity(files.len());
    for (i, _, path) in files {
        let file = client.upload_file(&path).await?;
        urls.push((i, file.download_url));
    }
    let mut uploaded = request.clone();
    for (i, (_, media)) in uploaded.media_mut().enumerate() {
        if let Some((_, url)) = urls.iter().find(|(at, _)| *at == i) {
            *media = Media::Url(url.clone());
        }
    }
    Ok(Some(uploaded))
}

/// The input field that holds `url`, as a value or an item of a list.
fn landing(info: &ModelInfo, input: &Value, url: &str) -> Option<&'static Param> {
    let holds = |value: &Value| match value {
        Value::String(s) => s == url,
        Value::Array(items) => items.iter().any(|item| item.as_str() == Some(url)),
        _ => false,
    };
    let (name, _) = input.as_object()?.iter().find(|(_, value)| holds(value))?;
    info.param(name)
}

/// What a file for the uniform `field` landing in `param` may be: the field's documented
/// types and size, or its family's rule.
fn limits_for(field: &str, param: Option<&Param>) -> FileLimits {
    param.and_then(|p| p.file).unwrap_or(match field {
        "video" => FileLimits::VIDEOS,
        "audio" => FileLimits::AUDIO,
        _ => FileLimits::IMAGES,
    })
}

/// The error for a local file given to [`VideoModel::input_for`], which needs URLs.
pub(crate) fn local_file_problem(info: &ModelInfo) -> Problem {
    Problem::Unsupported {
        model: info.id.to_owned(),
        hint: Some(
            "a local file is uploaded by VideoModel::submit; to map by hand, upload it with \
             Client::upload_file and give its URL"
                .to_owned(),
        ),
    }
}

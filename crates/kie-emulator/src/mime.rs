//! Media types by file-name extension: one small table for the upload host's `mimeType`,
//! hosted files' `Content-Type` and the extension of a generated file name.
//!
//! kie.ai's upload host names the type after the file name (a base64 upload of `test.txt`
//! came back `text/plain` in recorded live answers), so the table covers the image,
//! video, audio and text types a video API's users upload; anything else is
//! `application/octet-stream`. A crate such as `mime_guess` knows more extensions, but
//! the emulator only needs the common ones, and a table keeps its answers reviewable.

/// Extension (lowercase) and media type; the first extension of a type is its preferred one.
const TYPES: &[(&str, &str)] = &[
    ("png", "image/png"),
    ("jpg", "image/jpeg"),
    ("jpeg", "image/jpeg"),
    ("webp", "image/webp"),
    ("gif", "image/gif"),
    ("bmp", "image/bmp"),
    ("avif", "image/avif"),
    ("heic", "image/heic"),
    ("tiff", "image/tiff"),
    ("tif", "image/tiff"),
    ("svg", "image/svg+xml"),
    ("mp4", "video/mp4"),
    ("m4v", "video/mp4"),
    ("mov", "video/quicktime"),
    ("webm", "video/webm"),
    ("mkv", "video/x-matroska"),
    ("avi", "video/x-msvideo"),
    ("mp3", "audio/mpeg"),
    ("wav", "audio/wav"),
    ("m4a", "audio/mp4"),
    ("aac", "audio/aac"),
    ("ogg", "audio/ogg"),
    ("flac", "audio/flac"),
    ("txt", "text/plain"),
    ("csv", "text/csv"),
    ("html", "text/html"),
    ("md", "text/markdown"),
    ("json", "application/json"),
    ("pdf", "application/pdf"),
];

/// The media type of a file name's extension, if the table knows it.
pub(crate) fn from_name(name: &str) -> Option<&'static str> {
    let ext = name.rsplit_once('.')?.1;
    TYPES
        .iter()
        .find(|(known, _)| known.eq_ignore_ascii_case(ext))
        .map(|&(_, mime)| mime)
}

/// The table's spelling of `mime` (`None` for a type it does not know).
pub(crate) fn known(mime: &str) -> Option<&'static str> {
    TYPES
        .iter()
        .find(|(_, known)| known.eq_ignore_ascii_case(mime))
        .map(|&(_, mime)| mime)
}

/// The preferred extension of `mime`, with its dot (empty for an unknown type).
pub(crate) fn extension(mime: &str) -> String {
    TYPES
        .iter()
        .find(|(_, known)| known.eq_ignore_ascii_case(mime))
        .map(|(ext, _)| format!(".{ext}"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_map_to_types_and_back() {
        assert_eq!(from_name("test.txt"), Some("text/plain"));
        assert_eq!(from_name("a.JPG"), Some("image/jpeg"));
        assert_eq!(from_name("clip.tar.mp4"), Some("video/mp4"));
        assert_eq!(from_name("README"), None);
        assert_eq!(from_name("x.unknown"), None);
        assert_eq!(known("Image/PNG"), Some("image/png"));
        assert_eq!(known("image/x-foo"), None);
        assert_eq!(extension("image/jpeg"), ".jpg");
        assert_eq!(extension("audio/mpeg"), ".mp3");
        assert_eq!(extension("application/octet-stream"), "");
    }
}

//! The build script embeds the crate's own `spec/` directory and refuses to build an
//! emulator that knows no model: a published crate once embedded nothing, silently, and
//! answered every createTask with 422.

#[path = "../../build/spec_files.rs"]
mod spec_files;

use std::fs;
use std::path::Path;

#[test]
fn the_crate_carries_a_spec_document_for_every_endpoint_and_model() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("spec");
    let files = spec_files::spec_files(&dir).unwrap();
    let embedded: Vec<&str> = kie_emulator::spec_documents()
        .iter()
        .map(|(name, _)| *name)
        .collect();
    assert_eq!(files, embedded);
    for document in [
        "common.json",
        "upload.json",
        "kling-v2-1-master-text-to-video.json",
    ] {
        assert!(
            embedded.contains(&document),
            "{document} not in {embedded:?}"
        );
    }
}

#[test]
fn a_directory_without_documents_is_a_build_error() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("README.md"), "not a spec").unwrap();
    let error = spec_files::spec_files(dir.path()).unwrap_err();
    assert!(
        error.contains("holds no *.json spec document, so the emulator would know no model"),
        "{error}"
    );
    assert!(error.contains(&dir.path().display().to_string()), "{error}");
}

#[test]
fn a_missing_directory_is_a_build_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("spec");
    let error = spec_files::spec_files(&missing).unwrap_err();
    assert!(
        error.starts_with(&format!(
            "cannot read the spec documents in {}",
            missing.display()
        )),
        "{error}"
    );
    assert!(error.contains("cargo xtask codegen"), "{error}");
}

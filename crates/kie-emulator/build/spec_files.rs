//! Which spec documents the build script embeds, shared with the test that checks it
//! refuses to embed none.

use std::{fs, path::Path};

/// The names of the `*.json` files in `dir`, sorted.
///
/// # Errors
///
/// `dir` cannot be read or holds no `*.json` file, with a message that says what to do.
pub fn spec_files(dir: &Path) -> Result<Vec<String>, String> {
    let entries = fs::read_dir(dir).map_err(|error| {
        format!(
            "cannot read the spec documents in {}: {error}; run `cargo xtask codegen` in the \
             kie-rs workspace to copy them from spec/",
            dir.display()
        )
    })?;
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".json"))
        .collect();
    if names.is_empty() {
        return Err(format!(
            "{} holds no *.json spec document, so the emulator would know no model; run \
             `cargo xtask codegen` in the kie-rs workspace to copy them from spec/",
            dir.display()
        ));
    }
    names.sort();
    Ok(names)
}

//! Embeds every JSON document of the workspace's `spec/` directory into the emulator.
//!
//! The emulator validates requests against the same OpenAPI documents the SDK is
//! generated from, but it must not depend on any SDK crate. Reading `spec/` at build time
//! (instead of at run time) means the `kie-emulator` binary works from any directory.

use std::{env, fs, path::PathBuf};

fn main() {
    let manifest_dir =
        PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let spec_dir = manifest_dir.join("..").join("..").join("spec");
    println!("cargo:rerun-if-changed={}", spec_dir.display());

    let mut files: Vec<PathBuf> = match fs::read_dir(&spec_dir) {
        Ok(entries) => entries
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
            .collect(),
        Err(_) => Vec::new(),
    };
    files.sort();

    let mut out = String::from(
        "/// The JSON documents found in `spec/` at build time, as (file name, contents).\n\
         pub(crate) const EMBEDDED_SPECS: &[(&str, &str)] = &[\n",
    );
    for path in &files {
        println!("cargo:rerun-if-changed={}", path.display());
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let absolute = fs::canonicalize(path).unwrap_or_else(|_| path.clone());
        out.push_str(&format!(
            "    ({name:?}, include_str!({:?})),\n",
            absolute.display().to_string()
        ));
    }
    out.push_str("];\n");

    let out_dir = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    fs::write(out_dir.join("embedded_specs.rs"), out).expect("OUT_DIR is writable");
}

//! Embeds the spec documents of this crate's `spec/` directory into the emulator.
//!
//! The emulator validates requests against the same OpenAPI documents the SDK is
//! generated from, but it must not depend on any SDK crate. `cargo xtask codegen` copies
//! the workspace's `spec/*.json` here, so that the published crate carries them; reading
//! them at build time (instead of at run time) means the `kie-emulator` binary works from
//! any directory. A missing or empty directory fails the build: an emulator without
//! documents would answer every createTask with 422.

mod spec_files;

use std::{env, fs, path::PathBuf};

fn main() {
    let manifest_dir =
        PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let spec_dir = manifest_dir.join("spec");
    println!("cargo::rerun-if-changed={}", spec_dir.display());
    let files = match spec_files::spec_files(&spec_dir) {
        Ok(files) => files,
        Err(error) => {
            println!("cargo::error={error}");
            return;
        }
    };
    for file in &files {
        println!("cargo::rerun-if-changed={}", spec_dir.join(file).display());
    }
    let out_dir = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    fs::write(out_dir.join("embedded_specs.rs"), table(&files)).expect("OUT_DIR is writable");
}

/// Rust source declaring `EMBEDDED_SPECS`: each file's name and contents, the contents
/// included from the crate's `spec/` directory at compile time.
fn table(files: &[String]) -> String {
    let mut out = String::from(
        "/// The JSON documents of the crate's `spec/` directory, as (file name, contents).\n\
         pub(crate) const EMBEDDED_SPECS: &[(&str, &str)] = &[\n",
    );
    for name in files {
        out.push_str(&format!(
            "    ({name:?}, include_str!(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/spec/\", {name:?}))),\n"
        ));
    }
    out.push_str("];\n");
    out
}

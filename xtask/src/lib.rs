//! The project's own tasks, run as `cargo xtask <task>`:
//!
//! - `import [--check] <page.md>...`: write or check `spec/` documents from kie.ai's
//!   docs pages (see [`import`]);
//! - `codegen [--check]`: generate the model code from `spec/` (see [`codegen`]);
//! - `features`: check that the facade's cargo features isolate the providers (see
//!   [`features`]).

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod codegen;
pub mod features;
pub mod import;
pub mod json;
pub mod spec;

use std::path::PathBuf;

/// The workspace root, found at run time: the parent of the directory in
/// `CARGO_MANIFEST_DIR`, which `cargo run` (so `cargo xtask`) and `cargo test` set to
/// this crate's directory.
///
/// The directory it was compiled in would be wrong: two checkouts sharing a
/// `CARGO_TARGET_DIR` can run each other's `xtask` binary, and `codegen --check` would
/// then check the other checkout's `spec/`.
///
/// # Errors
///
/// `CARGO_MANIFEST_DIR` is not set (the binary was run without cargo), or names `/`.
pub fn workspace_root() -> Result<PathBuf, String> {
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").ok_or(
        "CARGO_MANIFEST_DIR is not set: run this as `cargo xtask ...`, or pass --root DIR",
    )?);
    manifest_dir
        .parent()
        .map(PathBuf::from)
        .ok_or_else(|| format!("{} has no parent directory", manifest_dir.display()))
}

//! The project's own tasks, run as `cargo xtask <task>`:
//!
//! - `codegen [--check]`: generate the model code from `spec/` (see [`codegen`]);
//! - `features`: check that the facade's cargo features isolate the providers (see
//!   [`features`]).

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod codegen;
pub mod features;
pub mod json;
pub mod spec;

use std::path::PathBuf;

/// The workspace root: the parent of this crate's directory.
pub fn workspace_root() -> PathBuf {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    here.parent().map(PathBuf::from).unwrap_or(here)
}

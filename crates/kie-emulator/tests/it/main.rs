//! kie-emulator's integration tests, one binary: each module tries one part of the
//! emulator over HTTP, as a client in any language would.

#[cfg(feature = "cli")]
mod binary;
mod build_script;
mod callbacks;
mod common;
mod control;
mod determinism;
mod durations;
mod errors;
mod faults;
mod files;
mod peaks;
mod results;
mod seeds;

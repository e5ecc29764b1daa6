//! `cargo xtask codegen`, `cargo xtask features` and `cargo xtask import`, run on scratch
//! workspaces.

mod codegen;
mod features;
mod import;

//! `cargo xtask codegen` and `cargo xtask features`, run on scratch workspaces.

mod codegen;
mod features;

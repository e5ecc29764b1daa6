//! The `kie` command line, run as a user runs it, against an emulator on 127.0.0.1.

mod batch;
mod commands;
mod common;
mod redis;

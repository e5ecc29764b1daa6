//! The Kling models (Kling 3.0, 2.6, 2.5 Turbo and 2.1, motion control and AI avatar:
//! `kling/v2-1-master-text-to-video`, `kling-3.0/video` and the others)
//! for [kie-rs](https://github.com/kie-rs/kie-rs), generated from the OpenAPI documents in
//! the repository's `spec/`.
//!
//! Each model comes two ways: a typed input (`…Input`), whose every field, enum and
//! limit is checked at compile time or by `validate()` before anything is sent, and a
//! unit type implementing [`kie_core::VideoModel`], which maps the uniform
//! [`kie_core::VideoRequest`] onto that input, so an application can hold it as
//! `Arc<dyn VideoModel>` and swap models without code changes. Whatever a model cannot
//! take is an error, never silently dropped.
//!
//! ```
//! use kie_core::{AspectRatio, VideoModel, VideoRequest};
//! use kie_kling::KlingV21MasterTextToVideo;
//!
//! let request = VideoRequest::new("a red fox running through fresh snow")
//!     .duration_secs(10)
//!     .aspect_ratio(AspectRatio::Square)
//!     .negative_prompt("blur")
//!     .extra("cfg_scale", 0.7);
//! let input = KlingV21MasterTextToVideo.input_for(&request)?;
//! assert_eq!(input["duration"], "10");
//! assert_eq!(input["negative_prompt"], "blur");
//! assert_eq!(input["cfg_scale"], 0.7);
//! # Ok::<(), kie_core::ValidationError>(())
//! ```
//!
//! This crate depends on `kie-core` only; the `kie` crate re-exports it behind the
//! `kling` feature.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod generated;

pub use generated::*;

/// The README's example, compiled (and run, unless marked `no_run`) as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

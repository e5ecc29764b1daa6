//! The HappyHorse models (`happyhorse/text-to-video`, `happyhorse/image-to-video`,
//! `happyhorse/reference-to-video`, `happyhorse/video-edit`)
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
//! use kie_core::{AspectRatio, Resolution, VideoModel, VideoRequest};
//! use kie_happyhorse::HappyHorseTextToVideo;
//!
//! let request = VideoRequest::new("a red fox running through fresh snow")
//!     .duration_secs(8)
//!     .aspect_ratio(AspectRatio::Landscape4x3)
//!     .resolution(Resolution::P720)
//!     .seed(42);
//! let input = HappyHorseTextToVideo.input_for(&request)?;
//! assert_eq!(input["duration"], 8); // a whole number of seconds, 3 to 15
//! assert_eq!(input["aspect_ratio"], "4:3");
//! assert_eq!(input["resolution"], "720p");
//! assert_eq!(input["seed"], 42);
//! # Ok::<(), kie_core::ValidationError>(())
//! ```
//!
//! This crate depends on `kie-core` only; the `kie` crate re-exports it behind the
//! `happyhorse` feature.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod generated;

pub use generated::*;

/// The README's example, compiled (and run, unless marked `no_run`) as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

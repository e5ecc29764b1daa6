//! The Grok Imagine models (`grok-imagine/text-to-video`, `grok-imagine/image-to-video`,
//! `grok-imagine/extend`, `grok-imagine/upscale`)
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
//! use kie_grok::GrokImagineTextToVideo;
//!
//! let request = VideoRequest::new("a red fox running through fresh snow")
//!     .duration_secs(10)
//!     .aspect_ratio(AspectRatio::Portrait9x16)
//!     .extra("mode", "fun");
//! let input = GrokImagineTextToVideo.input_for(&request)?;
//! assert_eq!(input["duration"], 10);
//! assert_eq!(input["aspect_ratio"], "9:16");
//! assert_eq!(input["mode"], "fun");
//!
//! // Grok has no seed: asking for one is an error, not a silent drop.
//! let err = GrokImagineTextToVideo
//!     .input_for(&VideoRequest::new("a fox").seed(7))
//!     .unwrap_err();
//! assert!(err.concerns("seed"));
//! # Ok::<(), kie_core::ValidationError>(())
//! ```
//!
//! This crate depends on `kie-core` only; the `kie` crate re-exports it behind the
//! `grok` feature.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod generated;

pub use generated::*;

/// The README's example, compiled (and run, unless marked `no_run`) as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

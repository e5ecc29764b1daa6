//! The Sora models (OpenAI's Sora 2 and 2 Pro, storyboard, characters and watermark
//! remover: `sora-2-pro-text-to-video` and the others)
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
//! use kie_sora::Sora2ProTextToVideo;
//!
//! let request = VideoRequest::new("a red fox running through fresh snow")
//!     .duration_secs(15)
//!     .aspect_ratio(AspectRatio::Portrait9x16);
//! let input = Sora2ProTextToVideo.input_for(&request)?;
//! assert_eq!(input["n_frames"], "15");
//! assert_eq!(input["aspect_ratio"], "portrait"); // 9:16 is Sora's portrait
//!
//! let err = Sora2ProTextToVideo
//!     .input_for(&VideoRequest::new("a fox").seed(7))
//!     .unwrap_err();
//! assert!(err.concerns("seed")); // Sora has no seed: an error, not a silent drop
//! # Ok::<(), kie_core::ValidationError>(())
//! ```
//!
//! This crate depends on `kie-core` only; the `kie` crate re-exports it behind the
//! `sora` feature.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod generated;

pub use generated::*;

/// The README's example, compiled (and run, unless marked `no_run`) as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

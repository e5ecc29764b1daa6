//! The Topaz model (`topaz/video-upscale`)
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
//! use kie_core::{Resolution, VideoModel, VideoRequest};
//! use kie_topaz::TopazVideoUpscale;
//!
//! // An upscaler takes no prompt: the request's is left empty.
//! let request = VideoRequest::new("")
//!     .video_url("https://example.com/clip.mp4")
//!     .extra("upscale_factor", "4");
//! let input = TopazVideoUpscale.input_for(&request)?;
//! assert_eq!(input["video_url"], "https://example.com/clip.mp4");
//! assert_eq!(input["upscale_factor"], "4");
//!
//! // It scales by a factor, not to a resolution: asking for one is an error.
//! let err = TopazVideoUpscale
//!     .input_for(&request.clone().resolution(Resolution::P1080))
//!     .unwrap_err();
//! assert!(err.concerns("resolution"));
//! # Ok::<(), kie_core::ValidationError>(())
//! ```
//!
//! This crate depends on `kie-core` only; the `kie` crate re-exports it behind the
//! `topaz` feature.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod generated;

pub use generated::*;

/// The README's example, compiled (and run, unless marked `no_run`) as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

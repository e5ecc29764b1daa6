//! The Wan models (Alibaba's Wan 2.2, 2.5, 2.6 and 2.7: `wan/2-7-text-to-video`,
//! `wan/2-7-image-to-video`, `wan/2-7-r2v`, `wan/2-7-videoedit` and the others of `wan/`)
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
//! use kie_wan::Wan27TextToVideo;
//!
//! let request = VideoRequest::new("a red fox running through fresh snow")
//!     .duration_secs(12)
//!     .aspect_ratio(AspectRatio::Portrait3x4)
//!     .negative_prompt("blur")
//!     .seed(7);
//! let input = Wan27TextToVideo.input_for(&request)?;
//! assert_eq!(input["duration"], 12);
//! assert_eq!(input["ratio"], "3:4"); // Wan 2.7 calls its aspect ratio `ratio`
//! assert_eq!(input["negative_prompt"], "blur");
//! assert_eq!(input["seed"], 7);
//! # Ok::<(), kie_core::ValidationError>(())
//! ```
//!
//! This crate depends on `kie-core` only; the `kie` crate re-exports it behind the
//! `wan` feature.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod generated;

pub use generated::*;

/// The README's example, compiled (and run, unless marked `no_run`) as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

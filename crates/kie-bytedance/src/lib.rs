//! The ByteDance models (Seedance 2.0, 2.0 Fast and 1.5 Pro, V1 Pro, Pro Fast and Lite:
//! `bytedance/v1-pro-text-to-video`, `bytedance/seedance-2` and the others)
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
//! use kie_bytedance::BytedanceV1ProTextToVideo;
//!
//! let request = VideoRequest::new("a red fox running through fresh snow")
//!     .duration_secs(10)
//!     .aspect_ratio(AspectRatio::Landscape21x9)
//!     .seed(42);
//! let input = BytedanceV1ProTextToVideo.input_for(&request)?;
//! assert_eq!(input["duration"], "10"); // durations stay strings
//! assert_eq!(input["aspect_ratio"], "21:9");
//! assert_eq!(input["seed"], 42);
//! # Ok::<(), kie_core::ValidationError>(())
//! ```
//!
//! This crate depends on `kie-core` only; the `kie` crate re-exports it behind the
//! `bytedance` feature.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod generated;

pub use generated::*;

/// The README's example, compiled (and run, unless marked `no_run`) as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

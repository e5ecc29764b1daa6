//! The Hailuo models (MiniMax's Hailuo 02 and 2.3: `hailuo/02-text-to-video-pro` and the
//! others of `hailuo/`)
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
//! use kie_hailuo::Hailuo02TextToVideoPro;
//!
//! let request = VideoRequest::new("a red fox running through fresh snow")
//!     .extra("prompt_optimizer", true);
//! let input = Hailuo02TextToVideoPro.input_for(&request)?;
//! assert_eq!(input["prompt_optimizer"], true);
//!
//! // Hailuo has no aspect ratio: asking for one is an error, not a silent drop.
//! let request = VideoRequest::new("a fox").aspect_ratio(AspectRatio::Square);
//! assert!(Hailuo02TextToVideoPro.input_for(&request).is_err());
//! # Ok::<(), kie_core::ValidationError>(())
//! ```
//!
//! This crate depends on `kie-core` only; the `kie` crate re-exports it behind the
//! `hailuo` feature.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod generated;

pub use generated::*;

/// The README's example, compiled (and run, unless marked `no_run`) as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

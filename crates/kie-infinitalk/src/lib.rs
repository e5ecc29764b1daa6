//! The Infinitalk model (`infinitalk/from-audio`)
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
//! use kie_infinitalk::InfinitalkFromAudio;
//!
//! let request = VideoRequest::new("a woman talking on a podcast")
//!     .image_url("https://example.com/portrait.png")
//!     .audio_url("https://example.com/voice.mp3")
//!     .resolution(Resolution::P720);
//! let input = InfinitalkFromAudio.input_for(&request)?;
//! assert_eq!(input["image_url"], "https://example.com/portrait.png");
//! assert_eq!(input["audio_url"], "https://example.com/voice.mp3");
//! assert_eq!(input["resolution"], "720p");
//!
//! // The video lasts as long as its audio: a duration is an error, not a silent drop.
//! let err = InfinitalkFromAudio
//!     .input_for(&request.clone().duration_secs(5))
//!     .unwrap_err();
//! assert!(err.concerns("duration_secs"));
//! # Ok::<(), kie_core::ValidationError>(())
//! ```
//!
//! This crate depends on `kie-core` only; the `kie` crate re-exports it behind the
//! `infinitalk` feature.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod generated;

pub use generated::*;

/// The README's example, compiled (and run, unless marked `no_run`) as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

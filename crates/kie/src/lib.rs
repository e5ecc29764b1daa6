//! kie.ai video generation for Rust: typed, validated inputs for every model, one
//! [`VideoModel`] trait across them, and a client whose tasks are never lost and never
//! created twice.
//!
//! Submit, wait, download:
//!
//! ```no_run
//! # #[cfg(feature = "kling")]
//! # async fn quickstart() -> Result<(), kie::Error> {
//! use kie::Client;
//! use kie::kling::KlingV21MasterTextToVideoInput;
//!
//! let client = Client::from_env()?; // KIE_API_KEY
//! let input = KlingV21MasterTextToVideoInput::new("a red fox running through snow");
//! let task = client.submit(&input).await?; // validated first; never sent twice
//! println!("created {}", task.id()); // keep it: a wait can resume from it
//! let (video, saved) = task.wait().download_to("fox.mp4").await?;
//! println!("{} ({} bytes)", video.video_url(), saved.bytes);
//! # Ok(()) }
//! ```
//!
//! Two ways in to every model:
//!
//! - **Typed**: each provider module has an input type per model, whose fields are the
//!   model's documented parameters, with a setter each and every limit checked by
//!   `validate()` before anything is sent:
//!
//! ```
//! # #[cfg(feature = "kling")] {
//! use kie::ModelInput as _;
//! use kie::kling::{KlingV21MasterTextToVideoInput, v2_1_master_text_to_video::VideoDuration};
//!
//! let input = KlingV21MasterTextToVideoInput::new("a red fox")
//!     .duration(VideoDuration::Secs10)
//!     .cfg_scale(0.5);
//! input.validate()?;
//! # }
//! # Ok::<(), kie::ValidationError>(())
//! ```
//!
//! - **Chosen at run time**: the [`registry`] gives any model by id as
//!   `Arc<dyn VideoModel>`, fed the uniform [`VideoRequest`]; what a model cannot take
//!   is an error naming the field:
//!
//! TLS is rustls with the ring provider (`rustls-ring`, on by default); `rustls-aws-lc`
//! chooses AWS-LC and `webpki-roots` Mozilla's roots. With `default-features = false`,
//! name one: `features = ["kling", "rustls-ring"]`.
//!
//! ```
//! use kie::{VideoRequest, registry};
//!
//! // From a config file or a form:
//! let id = "kling/v2-1-master-text-to-video";
//! # #[cfg(feature = "kling")] {
//! let model = registry::model(id)?;
//! let input = model.input_for(&VideoRequest::new("a red fox in fresh snow").duration_secs(10))?;
//! assert_eq!(input["duration"], "10");
//! # }
//! for info in registry::infos() {
//!     println!("{} ({}, {}): {} parameters", info.id, info.provider, info.modality, info.params.len());
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Each provider is a cargo feature (all on by default), so an application that uses
//! one model compiles only that provider's crate:
//!
//! | feature | crate | models |
//! |---|---|---|
//! | `bytedance` | [`kie-bytedance`](bytedance) | `bytedance/v1-pro-text-to-video`, `bytedance/v1-pro-fast-image-to-video` |
//! | `sora` | [`kie-sora`](sora) | `sora-2-pro-text-to-video` |
//! | `kling` | [`kie-kling`](kling) | `kling/v2-1-master-text-to-video` |
//! | `hailuo` | [`kie-hailuo`](hailuo) | `hailuo/02-text-to-video-pro` |
//!
//! Everything of `kie-core` is re-exported here: [`Client`], [`Task`], [`Wait`],
//! [`Download`], [`Upload`], [`CallbackInbox`], [`Error`] and the rest.

#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod generated;
pub mod registry;

pub use kie_core::*;
pub use registry::{Registry, UnknownModel};

/// The callback receiver (feature `axum`): [`CallbackInbox::router`] and
/// [`receiver::serve`].
#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub use kie_core::{MAX_CALLBACK_BODY, receiver};

/// The `http` crate, re-exported: [`CallbackVerifier::verify_headers`] and
/// [`CallbackInbox::receive`] take its [`HeaderMap`](http::HeaderMap), and naming it
/// through `kie` needs no other dependency and is always the version `kie` uses.
pub use http;

/// The ByteDance models (feature `bytedance`).
#[cfg(feature = "bytedance")]
#[cfg_attr(docsrs, doc(cfg(feature = "bytedance")))]
pub use kie_bytedance as bytedance;
/// The Hailuo model (feature `hailuo`).
#[cfg(feature = "hailuo")]
#[cfg_attr(docsrs, doc(cfg(feature = "hailuo")))]
pub use kie_hailuo as hailuo;
/// The Kling model (feature `kling`).
#[cfg(feature = "kling")]
#[cfg_attr(docsrs, doc(cfg(feature = "kling")))]
pub use kie_kling as kling;
/// The Sora model (feature `sora`).
#[cfg(feature = "sora")]
#[cfg_attr(docsrs, doc(cfg(feature = "sora")))]
pub use kie_sora as sora;

/// The README's example, compiled (and run, unless marked `no_run`) as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

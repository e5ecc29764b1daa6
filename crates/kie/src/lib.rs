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
//! | `bytedance` | [`kie-bytedance`](bytedance) | 8: Seedance 2.0 and 2.0 Fast, Seedance 1.5 Pro, V1 Pro, Pro Fast and Lite (`bytedance/...`) |
//! | `sora` | [`kie-sora`](sora) | 8: Sora 2 and 2 Pro text and image to video, 2 Pro storyboard, characters, watermark remover |
//! | `kling` | [`kie-kling`](kling) | 13: Kling 3.0, 2.6, 2.5 Turbo and 2.1, motion control, AI avatar (`kling/...`, `kling-2.6/...`, `kling-3.0/...`) |
//! | `hailuo` | [`kie-hailuo`](hailuo) | 6: Hailuo 02 and 2.3, text and image to video (`hailuo/...`) |
//! | `grok` | [`kie-grok`](grok) | 4: Grok Imagine text and image to video, extend, upscale (`grok-imagine/...`) |
//! | `happyhorse` | [`kie-happyhorse`](happyhorse) | 4: HappyHorse text, image and reference to video, video edit (`happyhorse/...`) |
//! | `infinitalk` | [`kie-infinitalk`](infinitalk) | 1: `infinitalk/from-audio` |
//! | `topaz` | [`kie-topaz`](topaz) | 1: `topaz/video-upscale` |
//! | `wan` | [`kie-wan`](wan) | 16: Wan 2.2, 2.5, 2.6 and 2.7: text, image, speech and reference to video, animate, edit (`wan/...`) |
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
/// The Grok Imagine models (feature `grok`).
#[cfg(feature = "grok")]
#[cfg_attr(docsrs, doc(cfg(feature = "grok")))]
pub use kie_grok as grok;
/// The Hailuo models (feature `hailuo`).
#[cfg(feature = "hailuo")]
#[cfg_attr(docsrs, doc(cfg(feature = "hailuo")))]
pub use kie_hailuo as hailuo;
/// The HappyHorse models (feature `happyhorse`).
#[cfg(feature = "happyhorse")]
#[cfg_attr(docsrs, doc(cfg(feature = "happyhorse")))]
pub use kie_happyhorse as happyhorse;
/// The Infinitalk model (feature `infinitalk`).
#[cfg(feature = "infinitalk")]
#[cfg_attr(docsrs, doc(cfg(feature = "infinitalk")))]
pub use kie_infinitalk as infinitalk;
/// The Kling models (feature `kling`).
#[cfg(feature = "kling")]
#[cfg_attr(docsrs, doc(cfg(feature = "kling")))]
pub use kie_kling as kling;
/// The Sora models (feature `sora`).
#[cfg(feature = "sora")]
#[cfg_attr(docsrs, doc(cfg(feature = "sora")))]
pub use kie_sora as sora;
/// The Topaz model (feature `topaz`).
#[cfg(feature = "topaz")]
#[cfg_attr(docsrs, doc(cfg(feature = "topaz")))]
pub use kie_topaz as topaz;
/// The Wan models (feature `wan`).
#[cfg(feature = "wan")]
#[cfg_attr(docsrs, doc(cfg(feature = "wan")))]
pub use kie_wan as wan;

/// The README's example, compiled (and run, unless marked `no_run`) as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

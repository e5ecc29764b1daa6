//! kie.ai video generation for Rust: the core client of `kie-core`, every provider's
//! models, and a registry to pick a model by id at run time.
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
//! TLS is rustls with the ring provider (`rustls-ring`, on by default); `rustls-aws-lc`
//! chooses AWS-LC and `webpki-roots` Mozilla's roots. With `default-features = false`,
//! name one: `features = ["kling", "rustls-ring"]`.
//!
//! ```
//! use kie::{VideoRequest, registry};
//!
//! // Chosen at run time, from a config file or a form:
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

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod generated;
pub mod registry;

pub use kie_core::*;
pub use registry::{Registry, UnknownModel};

/// The ByteDance models (feature `bytedance`).
#[cfg(feature = "bytedance")]
pub use kie_bytedance as bytedance;
/// The Hailuo model (feature `hailuo`).
#[cfg(feature = "hailuo")]
pub use kie_hailuo as hailuo;
/// The Kling model (feature `kling`).
#[cfg(feature = "kling")]
pub use kie_kling as kling;
/// The Sora model (feature `sora`).
#[cfg(feature = "sora")]
pub use kie_sora as sora;

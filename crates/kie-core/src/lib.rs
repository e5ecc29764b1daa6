//! The core of kie-rs: a typed, retrying, never-losing client for kie.ai's video API.
//!
//! ```no_run
//! use kie_core::{Client, RawInput};
//!
//! # async fn run() -> Result<(), kie_core::Error> {
//! let client = Client::from_env()?; // KIE_API_KEY
//! let input = RawInput::new(
//!     "kling/v2-1-master-text-to-video",
//!     serde_json::json!({ "prompt": "a red fox running through snow" }),
//! );
//! let task = client.submit(&input).await?;
//! println!("created {task}"); // keep the id: a wait can resume from it
//! let video = task.wait().await?;
//! println!("{}", video.video_url());
//! # Ok(()) }
//! ```
//!
//! Provider crates (`kie-bytedance`, `kie-sora`, `kie-kling`, `kie-hailuo`) add typed
//! inputs and [`VideoModel`] implementations; the `kie` crate gathers them.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod budget;
pub mod callback;
mod client;
mod download;
mod error;
mod estimate;
#[cfg(feature = "unstable-fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
mod inbox;
mod mapping;
mod media;
mod model;
mod record;
mod redact;
mod retry;
mod schedule;
mod task;
pub mod time;
mod tls;
mod transport;
pub mod upload;
mod validation;
mod wait;
mod wire;

pub use budget::{QueuePosition, Rate};
pub use callback::{Callback, CallbackError, CallbackVerifier};
pub use client::{
    Client, ClientBuilder, DEFAULT_BASE_URL, DEFAULT_MAX_ANSWER_BYTES, DEFAULT_UPLOAD_BASE_URL,
    Submit, USER_AGENT,
};
pub use download::{Download, DownloadProgress, Downloaded, MAX_REDIRECTS, MinSpeed};
pub use error::{Error, ErrorKind, Operation, SpeedLimit, UnansweredCause};
pub use estimate::{GenerationTimes, RECENT_TIMES};
#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub use inbox::receiver;
#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub use inbox::receiver::MAX_CALLBACK_BODY;
pub use inbox::{CallbackInbox, DEFAULT_INBOX_BYTES, Receipt};
pub use model::{
    AspectRatio, Media, Modality, ModelInfo, ModelInput, Param, ParamKind, RawInput, Resolution,
    VideoModel, VideoRequest,
};
pub use record::{RecordError, TaskRecord, TaskResult, TaskState};
pub use retry::RetryPolicy;
pub use schedule::PollSchedule;
pub use task::{Task, TaskRef};
pub use upload::{FileLimits, Upload, UploadedFile};
pub use validation::{FieldError, Problem, ValidationError};
pub use wait::{DEFAULT_MAX_WAIT, DEFAULT_MISSING_GRACE, Progress, VideoResult, Wait, WaitEvent};
pub use wire::ApiCode;

/// Re-exported so that implementors of [`VideoModel`] need not depend on it.
pub use async_trait::async_trait;

/// What the code `cargo xtask codegen` writes into the provider crates builds on: the
/// uniform-request mapping and the collector of field problems. Not API: hidden from
/// the docs, outside semver, and changed with the generator.
#[doc(hidden)]
pub mod __private {
    pub use crate::mapping::{
        Target, UniformMapping, decode, map_request, number, optional_number, to_json,
    };
    pub use crate::validation::Violations;
}

/// The README's example, compiled (and run, unless marked `no_run`) as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

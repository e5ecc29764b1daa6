//! What the command-line tests share: an emulator on 127.0.0.1 kept alive on its own
//! runtime, and `kie` pointed at it with a clean environment.

#![allow(dead_code)] // each test binary uses its own part

use std::path::Path;
use std::process::Output;

use kie_emulator::{Emulator, EmulatorBuilder, Stats};

/// The `kie` binary under test.
pub const KIE: &str = env!("CARGO_BIN_EXE_kie");

/// An emulator serving from a runtime of its own, so that tests can block on `kie`.
pub struct Local {
    pub emulator: Emulator,
    _runtime: tokio::runtime::Runtime,
}

impl Local {
    pub fn start(builder: EmulatorBuilder) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a runtime");
        let emulator = runtime
            .block_on(builder.start())
            .expect("the emulator starts");
        Self {
            emulator,
            _runtime: runtime,
        }
    }

    /// `kie` with KIE_* pointing here and nothing else from the environment.
    pub fn kie(&self) -> assert_cmd::Command {
        let mut command = bare_kie();
        command
            .env("KIE_API_KEY", "test-key")
            .env("KIE_BASE_URL", self.emulator.base_url())
            .env("KIE_UPLOAD_BASE_URL", self.emulator.upload_base_url());
        command
    }

    pub fn stats(&self) -> Stats {
        self.emulator.stats()
    }

    /// Requests the emulator received, all endpoints together.
    pub fn requests(&self) -> u64 {
        self.stats().requests.values().sum()
    }
}

/// `kie` with none of the KIE_* variables it reads.
pub fn bare_kie() -> assert_cmd::Command {
    let mut command = assert_cmd::Command::new(KIE);
    for name in [
        "KIE_API_KEY",
        "KIE_BASE_URL",
        "KIE_UPLOAD_BASE_URL",
        "KIE_REDIS_URL",
        "KIE_REDIS_PREFIX",
    ] {
        command.env_remove(name);
    }
    command.timeout(std::time::Duration::from_secs(120));
    command
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The one JSON document `--json` prints.
pub fn json(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}): {}", stdout(output)))
}

/// Asserts `path` holds the emulator's playable mp4 (an ISO BMFF `ftyp` box first).
pub fn assert_mp4(path: &Path) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(
        bytes.len() > 1000,
        "{}: only {} bytes",
        path.display(),
        bytes.len()
    );
    assert_eq!(&bytes[4..8], b"ftyp", "{} is not an mp4", path.display());
    let moov = bytes.windows(4).any(|w| w == b"moov");
    let mdat = bytes.windows(4).any(|w| w == b"mdat");
    assert!(moov && mdat, "{} lacks moov or mdat", path.display());
}

/// A 1x1 PNG.
pub const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4,
    0x89, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0xF8, 0xCF, 0xC0, 0xF0,
    0x1F, 0x00, 0x05, 0x00, 0x01, 0xFF, 0x89, 0x99, 0x3D, 0x1D, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
    0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
];

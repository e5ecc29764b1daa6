//! `--out`, checked before anything is paid for. A video is written last, after the
//! task was created (and billed) and finished, so a path that cannot take it must be
//! refused first: otherwise the user learns of a typo only when the money is spent.

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};

use crate::failure::Failure;
use crate::progress::Display;

/// Makes sure a video can be saved at `out`: it must not be a directory, its directory
/// is created if missing (and the user told so), and a file can be made there. Every
/// refusal names `out` as the user wrote it.
pub fn prepare(out: &Path, display: Display) -> Result<(), Failure> {
    let names_a_directory = out.as_os_str().to_string_lossy().ends_with(['/', '\\']);
    if names_a_directory || out.is_dir() {
        return Err(Failure::input(format!(
            "--out {} is a directory; nothing was sent",
            out.display()
        ))
        .hint(format!(
            "give the video's file name, e.g. --out {}",
            out.join("video.mp4").display()
        )));
    }
    let parent = match out.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_owned(),
        _ => PathBuf::from("."),
    };
    prepare_dir(&parent, out, display)
}

/// Makes sure files can be made in `dir`, creating it if missing; `out` is what the
/// user asked for, named in every message.
pub fn prepare_dir(dir: &Path, out: &Path, display: Display) -> Result<(), Failure> {
    if !dir.exists() {
        std::fs::create_dir_all(dir).map_err(|e| {
            Failure::local(format!(
                "--out {}: could not create the directory {}: {e}; nothing was sent",
                out.display(),
                dir.display()
            ))
        })?;
        display.note(format!(
            "created the directory {} for --out {}",
            dir.display(),
            out.display()
        ));
    } else if !dir.is_dir() {
        return Err(Failure::input(format!(
            "--out {}: {} is not a directory; nothing was sent",
            out.display(),
            dir.display()
        )));
    }
    // Permissions alone do not say whether a file can be made (read-only mounts, ACLs,
    // quotas): making one does.
    let probe = dir.join(format!(".kie-out-check-{}", std::process::id()));
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
        .and_then(|file| {
            drop(file);
            std::fs::remove_file(&probe)
        })
        .map_err(|e| {
            Failure::local(format!(
                "--out {}: cannot write in {}: {e}; nothing was sent",
                out.display(),
                dir.display()
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directory_is_refused_by_the_name_given() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let failure = prepare(dir.path(), Display::Quiet).expect_err("refused");
        assert!(
            failure
                .message()
                .starts_with(&format!("--out {} is a directory", dir.path().display())),
            "{failure:?}"
        );
        let slash = PathBuf::from(format!("{}/missing/", dir.path().display()));
        assert!(prepare(&slash, Display::Quiet).is_err());
        assert!(!dir.path().join("missing").exists(), "nothing was made");
    }

    #[test]
    fn a_missing_directory_is_made_and_nothing_is_left_in_it() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let out = dir.path().join("a/b/fox.mp4");
        prepare(&out, Display::Quiet).expect("prepared");
        let made = dir.path().join("a/b");
        assert!(made.is_dir());
        assert_eq!(std::fs::read_dir(&made).expect("listed").count(), 0);
    }

    #[test]
    fn a_file_in_the_way_of_the_directory_is_refused() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        std::fs::write(dir.path().join("file"), "x").expect("written");
        let out = dir.path().join("file/fox.mp4");
        let failure = prepare(&out, Display::Quiet).expect_err("refused");
        assert!(
            failure
                .message()
                .starts_with(&format!("--out {}:", out.display())),
            "{failure:?}"
        );
    }
}

//! One `kie batch` per output directory at a time. Two runs on one directory each read
//! the journal, each found the same lines new, and each created them: 10 lines gave 19
//! tasks, 9 of them billed twice, and their appends tore each other's entries. The
//! journal cannot guard itself (both runs read it before either writes), so the
//! directory is claimed first with an OS lock, held for the whole run and released by
//! the kernel when the process ends, however it ends.

use std::fs::{File, OpenOptions};
use std::io::{Read as _, Seek as _, SeekFrom, Write as _};
use std::path::Path;
use std::time::SystemTime;

use fs4::TryLockError;
use serde::{Deserialize, Serialize};

use crate::failure::Failure;

/// The lock file's name, in the batch's output directory. It stays after a run (a lock
/// file removed on exit could be removed under a run that just took it); its content
/// names the last holder.
pub const FILE_NAME: &str = "kie-batch.lock";

/// Who holds the directory, as written in the lock file for a refused run to quote.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Holder {
    pid: u32,
    host: Option<String>,
    started: String,
}

/// The claim on an output directory; dropping it (or the process ending) releases it.
#[derive(Debug)]
pub struct DirLock {
    _file: File,
}

impl DirLock {
    /// Claims `dir` for this process, or refuses at once, naming the run that holds
    /// it and what to do.
    pub fn acquire(dir: &Path) -> Result<DirLock, Failure> {
        let path = dir.join(FILE_NAME);
        let fail = |what: &str, e: std::io::Error| {
            Failure::local(format!(
                "could not {what} the lock file {}: {e}",
                path.display()
            ))
        };
        let mut file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&path)
            .map_err(|e| fail("open", e))?;
        // Called through the trait: std's inherent `File::try_lock` (Rust 1.89) is above
        // the MSRV and would otherwise be chosen on newer compilers.
        match fs4::FileExt::try_lock(&file) {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => return Err(refusal(dir, &path, &mut file)),
            Err(TryLockError::Error(e)) => return Err(fail("lock", e)),
        }
        let holder = Holder {
            pid: std::process::id(),
            host: host_name(),
            started: httpdate::fmt_http_date(SystemTime::now()),
        };
        let text = serde_json::to_string(&holder)
            .map_err(|e| Failure::local(format!("could not encode the lock holder: {e}")))?;
        file.set_len(0)
            .and_then(|()| file.seek(SeekFrom::Start(0)))
            .and_then(|_| file.write_all(format!("{text}\n").as_bytes()))
            .map_err(|e| fail("write", e))?;
        Ok(DirLock { _file: file })
    }
}

/// The refusal of a second run: who holds `dir` (when the holder has written its
/// name yet) and what to do.
fn refusal(dir: &Path, path: &Path, file: &mut File) -> Failure {
    let mut text = String::new();
    let holder = file
        .read_to_string(&mut text)
        .ok()
        .and_then(|_| serde_json::from_str::<Holder>(text.trim()).ok());
    let who = match holder {
        Some(Holder { pid, host, started }) => {
            let host = host.map_or(String::new(), |host| format!(" on {host}"));
            format!("another `kie batch` (pid {pid}{host}, started {started})")
        }
        None => "another `kie batch`".to_owned(),
    };
    Failure::input(format!(
        "{who} is using {}; nothing was sent",
        dir.display()
    ))
    .hint(format!(
        "wait for it to finish, or stop it, then run this command again (it resumes \
         where the other left off); {} holds the lock",
        path.display()
    ))
}

/// This machine's name, for a refusal seen from another machine sharing the
/// directory; `None` where the system does not say.
fn host_name() -> Option<String> {
    ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .iter()
        .find_map(|file| std::fs::read_to_string(file).ok())
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_directory_is_refused_naming_the_holder_until_it_is_released() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let held = DirLock::acquire(dir.path()).expect("the first claim");
        // flock locks belong to an open file, so a second open in this process contends
        // as another process would.
        let failure = DirLock::acquire(dir.path()).expect_err("the second is refused");
        let message = failure.message();
        assert!(
            message.starts_with(&format!("another `kie batch` (pid {}", std::process::id())),
            "{message}"
        );
        assert!(
            message.ends_with(&format!(
                "is using {}; nothing was sent",
                dir.path().display()
            )),
            "{message}"
        );
        drop(held);
        DirLock::acquire(dir.path()).expect("free again once released");
    }
}

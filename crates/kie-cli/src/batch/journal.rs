//! The batch journal: an append-only JSON Lines file beside the videos, written and
//! flushed to disk before and after each step, so that a batch stopped at any moment
//! (SIGKILL, power loss) knows on its next run which lines have a task, which are done,
//! and which were being created when it stopped.
//!
//! Creating a task is the one step that cannot be replayed safely: `submitting` is on
//! disk before the request leaves, and `created` (with the task id) right after the
//! answer. A `submitting` with no outcome after it means the outcome is unknown: kie.ai
//! may or may not have made (and billed) the task, and it has no way to look it up
//! without the id.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead as _, BufReader, Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use crate::failure::Failure;

/// The journal's file name, in the batch's output directory.
pub const FILE_NAME: &str = "kie-batch.journal.jsonl";

/// One step of one line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// A create is about to be sent (written before it leaves).
    Submitting {
        /// When, in Unix milliseconds (the rate limit counts it).
        at_ms: u64,
    },
    /// kie.ai created the task.
    Created {
        /// Its id.
        task_id: String,
    },
    /// The video is in its file.
    Done {
        /// The task.
        task_id: String,
        /// The file, relative to the output directory.
        file: String,
        /// Its size.
        bytes: u64,
    },
    /// The task failed at kie.ai.
    Failed {
        /// The task.
        task_id: String,
        /// Why, in words.
        error: String,
    },
    /// The create failed such that the task may or may not exist.
    Unknown {
        /// Why, in words.
        error: String,
    },
    /// kie.ai refused the create: no task exists, the line may be sent again.
    Rejected {
        /// Why, in words.
        error: String,
    },
}

/// A journal line: which batch line, its content hash, and the event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Entry {
    line: usize,
    hash: String,
    #[serde(flatten)]
    event: Event,
}

/// Where a line stands, from everything the journal says about it.
#[derive(Debug, Clone, PartialEq)]
pub enum Standing {
    /// Never sent, or refused without creating anything.
    New,
    /// The task exists; wait for it and download.
    Created(String),
    /// Finished and saved.
    Done {
        /// The task.
        task_id: String,
        /// The file, relative to the output directory.
        file: String,
    },
    /// The task failed at kie.ai.
    Failed {
        /// The task.
        task_id: String,
        /// Why.
        error: String,
    },
    /// The create's outcome is unknown.
    Unknown(String),
}

/// An open journal, shared by the batch's concurrent lines.
pub struct Journal {
    path: PathBuf,
    file: Mutex<File>,
}

/// What an earlier run left: each line's standing and content hash, and the times of
/// recent creates.
pub struct Replay {
    /// Line number to (content hash, standing).
    pub lines: BTreeMap<usize, (String, Standing)>,
    /// When creates were sent, for the rate limit.
    pub submitted_at: Vec<SystemTime>,
}

impl Journal {
    /// Opens (or creates) the journal in `dir` and replays it. A last line cut short by
    /// a crash is dropped: its step did not complete, and the step before it stands.
    pub fn open(dir: &Path) -> Result<(Journal, Replay), Failure> {
        let path = dir.join(FILE_NAME);
        let fail = |what: &str, e: std::io::Error| {
            Failure::local(format!(
                "could not {what} the journal {}: {e}",
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
        let mut replay = Replay {
            lines: BTreeMap::new(),
            submitted_at: Vec::new(),
        };
        let mut complete = 0u64;
        let mut reader = BufReader::new(&file);
        let mut text = String::new();
        loop {
            text.clear();
            let read = reader.read_line(&mut text).map_err(|e| fail("read", e))?;
            if read == 0 || !text.ends_with('\n') {
                break;
            }
            let entry: Entry = serde_json::from_str(&text).map_err(|e| {
                Failure::local(format!(
                    "the journal {} is damaged after byte {complete}: {e}",
                    path.display()
                ))
                .hint("it is written by kie batch only; move it away to start the batch afresh")
            })?;
            complete += read as u64;
            replay.apply(entry);
        }
        drop(reader);
        file.set_len(complete).map_err(|e| fail("repair", e))?;
        file.seek(SeekFrom::End(0)).map_err(|e| fail("open", e))?;
        let journal = Journal {
            path,
            file: Mutex::new(file),
        };
        Ok((journal, replay))
    }

    /// Appends `event` for the line and flushes it to disk before returning.
    pub fn record(&self, line: usize, hash: &str, event: Event) -> Result<(), Failure> {
        let entry = Entry {
            line,
            hash: hash.to_owned(),
            event,
        };
        let mut text = serde_json::to_string(&entry)
            .map_err(|e| Failure::local(format!("could not encode a journal entry: {e}")))?;
        text.push('\n');
        let mut file = self
            .file
            .lock()
            .map_err(|_| Failure::local("the journal is unusable after an earlier failure"))?;
        file.write_all(text.as_bytes())
            .and_then(|()| file.sync_data())
            .map_err(|e| {
                Failure::local(format!(
                    "could not write the journal {}: {e}",
                    self.path.display()
                ))
            })
    }

    /// The journal's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Replay {
    fn apply(&mut self, entry: Entry) {
        if let Event::Submitting { at_ms } = &entry.event {
            self.submitted_at
                .push(SystemTime::UNIX_EPOCH + Duration::from_millis(*at_ms));
        }
        let standing = match entry.event {
            // Unless an outcome follows, the stop cut the create off.
            Event::Submitting { .. } => Standing::Unknown(
                "the batch stopped while this line's task was being created".to_owned(),
            ),
            Event::Created { task_id } => Standing::Created(task_id),
            Event::Done { task_id, file, .. } => Standing::Done { task_id, file },
            Event::Failed { task_id, error } => Standing::Failed { task_id, error },
            Event::Unknown { error } => Standing::Unknown(error),
            Event::Rejected { .. } => Standing::New,
        };
        self.lines.insert(entry.line, (entry.hash, standing));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now_ms() -> u64 {
        1_700_000_000_000
    }

    #[test]
    fn replay_follows_each_line_to_its_last_step() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        {
            let (journal, replay) = Journal::open(dir.path()).expect("a new journal");
            assert!(replay.lines.is_empty());
            let at = |at_ms| Event::Submitting { at_ms };
            journal.record(1, "h1", at(now_ms())).expect("written");
            journal
                .record(
                    1,
                    "h1",
                    Event::Created {
                        task_id: "t1".into(),
                    },
                )
                .expect("written");
            journal.record(2, "h2", at(now_ms())).expect("written");
            journal.record(3, "h3", at(now_ms())).expect("written");
            journal
                .record(
                    3,
                    "h3",
                    Event::Rejected {
                        error: "429".into(),
                    },
                )
                .expect("written");
            journal
                .record(
                    1,
                    "h1",
                    Event::Done {
                        task_id: "t1".into(),
                        file: "a.mp4".into(),
                        bytes: 9,
                    },
                )
                .expect("written");
        }
        let (_, replay) = Journal::open(dir.path()).expect("the journal again");
        assert_eq!(
            replay.lines[&1],
            (
                "h1".into(),
                Standing::Done {
                    task_id: "t1".into(),
                    file: "a.mp4".into()
                }
            )
        );
        assert!(
            matches!(&replay.lines[&2].1, Standing::Unknown(why) if why.contains("stopped while")),
            "{:?}",
            replay.lines[&2]
        );
        assert_eq!(replay.lines[&3].1, Standing::New);
        assert_eq!(replay.submitted_at.len(), 3);
    }

    #[test]
    fn a_torn_last_line_is_dropped_and_overwritten() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join(FILE_NAME);
        std::fs::write(
            &path,
            "{\"line\":1,\"hash\":\"h\",\"event\":\"created\",\"task_id\":\"t\"}\n{\"line\":2,\"ha",
        )
        .expect("written");
        let (journal, replay) = Journal::open(dir.path()).expect("opened");
        assert_eq!(replay.lines[&1].1, Standing::Created("t".into()));
        assert!(!replay.lines.contains_key(&2));
        journal
            .record(2, "h", Event::Rejected { error: "x".into() })
            .expect("written");
        let text = std::fs::read_to_string(&path).expect("read");
        assert_eq!(text.lines().count(), 2, "{text}");
        assert!(text.ends_with("\"error\":\"x\"}\n"), "{text}");
    }

    #[test]
    fn a_damaged_line_is_refused_rather_than_guessed_at() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        std::fs::write(dir.path().join(FILE_NAME), "not json\n").expect("written");
        let failure = Journal::open(dir.path()).err().expect("refused");
        assert!(format!("{failure:?}").contains("damaged"));
    }
}

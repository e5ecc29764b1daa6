//! The batch journal: an append-only JSON Lines file beside the videos, written and
//! flushed to disk before and after each step, so that a batch stopped at any moment
//! (SIGKILL, power loss) knows on its next run which lines have a task, which are done,
//! and which were being created when it stopped.
//!
//! Creating a task is the one step that cannot be replayed safely: `submitting` is on
//! disk before the create is handed to the client (which may queue it for the rate
//! limit before sending it), and `created` (with the task id) right after the answer. A
//! `submitting` with no outcome after it means the outcome is unknown: kie.ai may or may
//! not have made (and billed) the task, and it has no way to look it up without the id.
//!
//! The outcomes of a create carry the time their answer came, so that a run started
//! right after another can count the creates kie.ai still counts against its rate limit
//! (see [`Replay::answered`]).

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use super::repair::{Repaired, Scan};
use crate::failure::Failure;

/// The journal's file name, in the batch's output directory.
pub const FILE_NAME: &str = "kie-batch.journal.jsonl";

/// One step of one line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// A create is about to be handed to the client, which sends it when the rate limit
    /// has a place for it (written before it leaves).
    Submitting {
        /// When, in Unix milliseconds.
        at_ms: u64,
    },
    /// kie.ai created the task.
    Created {
        /// Its id.
        task_id: String,
        /// When the answer came, in Unix milliseconds; absent in journals written
        /// before answers were timed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        at_ms: Option<u64>,
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
        /// When the answer (or the failure) came, in Unix milliseconds; absent in
        /// journals written before answers were timed, and in the entries a repair
        /// adds for creates the damage may hide.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        at_ms: Option<u64>,
    },
    /// kie.ai refused the create: no task exists, the line may be sent again.
    Rejected {
        /// Why, in words.
        error: String,
        /// When the answer came, in Unix milliseconds; absent in journals written
        /// before answers were timed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        at_ms: Option<u64>,
    },
}

/// A journal line: which batch line, its content hash, and the event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// The batch line's number.
    pub line: usize,
    /// The batch line's digest when the entry was written.
    pub hash: String,
    /// What happened.
    #[serde(flatten)]
    pub event: Event,
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

/// An open journal, shared by the batch's concurrent lines. Opened for appending only
/// while the run holds the directory's lock ([`super::lock`]), so no other process
/// writes it, and each entry goes out in one write.
pub struct Journal {
    path: PathBuf,
    file: Mutex<File>,
}

/// What earlier runs left: each line's standing and content hash, and their creates as
/// kie.ai's rate limit counts them.
#[derive(Debug, Default)]
pub struct Replay {
    /// Line number to (content hash, standing).
    pub lines: BTreeMap<usize, (String, Standing)>,
    /// When each create with an outcome was answered. A create holds its place in
    /// kie.ai's window until a window after its answer (kie.ai counted it somewhere
    /// between its sending and its answer). In a journal written before answers were
    /// timed, the time it was journaled as submitting stands in: it was sent then.
    pub answered: Vec<SystemTime>,
    /// The lines whose create has no outcome yet, with when it was journaled.
    unanswered: BTreeMap<usize, u64>,
}

/// What to do with a damaged journal.
pub enum OnDamage {
    /// Refuse to run, reporting the damage; the hint names this command, which repairs.
    Refuse {
        /// The command line that repairs the journal and runs the batch.
        repair_command: String,
    },
    /// Rewrite the journal without the damage, keeping every whole entry.
    Repair,
}

impl Journal {
    /// Opens (or creates) the journal in `dir` and replays it. `batch` maps each line
    /// of the batch to its digest, to attribute damaged text to the lines it names.
    ///
    /// A last line cut short by a stop is dropped: an entry is on disk before the step
    /// it announces, so that step did not happen and the step before stands. A last
    /// entry that is whole but lacks its newline is kept, and the newline added. Damage
    /// anywhere else is refused with a report, or with [`OnDamage::Repair`] repaired
    /// (see [`super::repair`]), and what the repair did is returned.
    pub fn open(
        dir: &Path,
        batch: &BTreeMap<usize, String>,
        on_damage: OnDamage,
    ) -> Result<(Journal, Replay, Option<Repaired>), Failure> {
        let path = dir.join(FILE_NAME);
        let fail = |what: &str, e: std::io::Error| {
            Failure::local(format!(
                "could not {what} the journal {}: {e}",
                path.display()
            ))
        };
        let read = || match std::fs::read(&path) {
            Ok(bytes) => Ok(bytes),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(fail("read", e)),
        };
        let mut bytes = read()?;
        let mut scan = Scan::of(&bytes, batch);
        let mut repaired = None;
        if scan.is_damaged() {
            match on_damage {
                OnDamage::Refuse { repair_command } => {
                    return Err(scan.refusal(&path, batch, &repair_command));
                }
                OnDamage::Repair => {
                    repaired = Some(scan.repair(&path, &bytes, batch)?);
                    bytes = read()?;
                    scan = Scan::of(&bytes, batch);
                    if scan.is_damaged() {
                        return Err(Failure::local(format!(
                            "the repaired journal {} is still damaged",
                            path.display()
                        )));
                    }
                }
            }
        }
        if scan.keep < bytes.len() || scan.unterminated {
            let mut file = OpenOptions::new()
                .write(true)
                .open(&path)
                .map_err(|e| fail("open", e))?;
            file.set_len(scan.keep as u64)
                .and_then(|()| file.seek(SeekFrom::End(0)))
                .and_then(|_| {
                    if scan.unterminated {
                        file.write_all(b"\n")
                    } else {
                        Ok(())
                    }
                })
                .and_then(|()| file.sync_data())
                .map_err(|e| fail("repair the end of", e))?;
        }
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| fail("open", e))?;
        let journal = Journal {
            path,
            file: Mutex::new(file),
        };
        Ok((journal, scan.replay(), repaired))
    }

    /// Appends `event` for the line, in one write, and flushes it to disk before
    /// returning.
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

/// Now, in Unix milliseconds, as the journal keeps times.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

fn unix_ms(ms: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_millis(ms)
}

impl Replay {
    /// Takes `entry` into account: the last entry of a line decides its standing.
    pub fn apply(&mut self, entry: Entry) {
        match &entry.event {
            Event::Submitting { at_ms } => {
                // A run creates a line at most once, so the line's earlier create that
                // has no outcome belongs to an earlier run, and went out, if at all,
                // before this one journaled its own.
                if self.unanswered.insert(entry.line, *at_ms).is_some() {
                    self.answered.push(unix_ms(*at_ms));
                }
            }
            Event::Created { at_ms, .. }
            | Event::Unknown { at_ms, .. }
            | Event::Rejected { at_ms, .. } => {
                if let Some(submitted) = self.unanswered.remove(&entry.line) {
                    self.answered.push(unix_ms(at_ms.unwrap_or(submitted)));
                }
            }
            Event::Done { .. } | Event::Failed { .. } => {}
        }
        let standing = match entry.event {
            // Unless an outcome follows, the stop cut the create off.
            Event::Submitting { .. } => Standing::Unknown(
                "the batch stopped while this line's create was queued or in flight".to_owned(),
            ),
            Event::Created { task_id, .. } => Standing::Created(task_id),
            Event::Done { task_id, file, .. } => Standing::Done { task_id, file },
            Event::Failed { task_id, error } => Standing::Failed { task_id, error },
            Event::Unknown { error, .. } => Standing::Unknown(error),
            Event::Rejected { .. } => Standing::New,
        };
        self.lines.insert(entry.line, (entry.hash, standing));
    }

    /// How many creates have no outcome: each was queued for the rate limit or in
    /// flight when its run stopped, so it may have reached kie.ai at any moment up to
    /// that stop.
    pub fn unanswered(&self) -> usize {
        self.unanswered.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A moment in Unix milliseconds.
    const T0: u64 = 1_700_000_000_000;

    fn at(ms: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_millis(ms)
    }

    /// Opens the journal in `dir` as a batch of no lines would, refusing damage.
    fn open(dir: &Path) -> Result<(Journal, Replay), Failure> {
        let refuse = OnDamage::Refuse {
            repair_command: "kie batch b.jsonl --out-dir out --repair-journal".into(),
        };
        Journal::open(dir, &BTreeMap::new(), refuse).map(|(journal, replay, _)| (journal, replay))
    }

    #[test]
    fn replay_follows_each_line_to_its_last_step() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        {
            let (journal, replay) = open(dir.path()).expect("a new journal");
            assert!(replay.lines.is_empty());
            let submitting = |at_ms| Event::Submitting { at_ms };
            let entries = [
                (1, submitting(T0)),
                (2, submitting(T0 + 100)),
                (3, submitting(T0 + 200)),
                (
                    1,
                    Event::Created {
                        task_id: "t1".into(),
                        at_ms: Some(T0 + 300),
                    },
                ),
                (
                    3,
                    Event::Rejected {
                        error: "429".into(),
                        at_ms: Some(T0 + 400),
                    },
                ),
                (
                    1,
                    Event::Done {
                        task_id: "t1".into(),
                        file: "a.mp4".into(),
                        bytes: 9,
                    },
                ),
            ];
            for (line, event) in entries {
                journal
                    .record(line, &format!("h{line}"), event)
                    .expect("written");
            }
        }
        let (_, replay) = open(dir.path()).expect("the journal again");
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
        assert_eq!(
            replay.answered,
            [at(T0 + 300), at(T0 + 400)],
            "each create counts from its answer"
        );
        assert_eq!(replay.unanswered(), 1, "line 2's create was cut off");
    }

    #[test]
    fn a_journal_written_before_answers_were_timed_still_reads() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let text = [
            r#"{"line":1,"hash":"h1","event":"submitting","at_ms":1700000000000}"#,
            r#"{"line":1,"hash":"h1","event":"created","task_id":"t1"}"#,
            r#"{"line":2,"hash":"h2","event":"submitting","at_ms":1700000000100}"#,
            r#"{"line":2,"hash":"h2","event":"unknown","error":"reset"}"#,
            r#"{"line":3,"hash":"h3","event":"submitting","at_ms":1700000000200}"#,
            r#"{"line":3,"hash":"h3","event":"rejected","error":"429"}"#,
        ];
        std::fs::write(dir.path().join(FILE_NAME), text.join("\n") + "\n").expect("written");
        let (_, replay) = open(dir.path()).expect("opened");
        assert_eq!(replay.lines[&1].1, Standing::Created("t1".into()));
        assert_eq!(replay.lines[&2].1, Standing::Unknown("reset".into()));
        assert_eq!(replay.lines[&3].1, Standing::New);
        assert_eq!(
            replay.answered,
            [at(T0), at(T0 + 100), at(T0 + 200)],
            "without an answer time, a create counts from when it was journaled"
        );
        assert_eq!(replay.unanswered(), 0);
    }

    #[test]
    fn a_create_cut_off_and_sent_again_by_a_later_run_went_out_before_that_run() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        {
            let (journal, _) = open(dir.path()).expect("a new journal");
            let entries = [
                Event::Submitting { at_ms: T0 },
                Event::Submitting { at_ms: T0 + 5_000 },
                Event::Created {
                    task_id: "t1".into(),
                    at_ms: Some(T0 + 5_300),
                },
            ];
            for event in entries {
                journal.record(1, "h1", event).expect("written");
            }
        }
        let (_, replay) = open(dir.path()).expect("the journal again");
        assert_eq!(replay.answered, [at(T0 + 5_000), at(T0 + 5_300)]);
        assert_eq!(replay.unanswered(), 0);
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
        let (journal, replay) = open(dir.path()).expect("opened");
        assert_eq!(replay.lines[&1].1, Standing::Created("t".into()));
        assert!(!replay.lines.contains_key(&2));
        journal
            .record(
                2,
                "h",
                Event::Rejected {
                    error: "x".into(),
                    at_ms: None,
                },
            )
            .expect("written");
        let text = std::fs::read_to_string(&path).expect("read");
        assert_eq!(text.lines().count(), 2, "{text}");
        assert!(text.ends_with("\"error\":\"x\"}\n"), "{text}");
    }

    #[test]
    fn a_damaged_line_is_refused_rather_than_guessed_at() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        std::fs::write(dir.path().join(FILE_NAME), "not json\n").expect("written");
        let failure = open(dir.path()).err().expect("refused");
        assert!(format!("{failure:?}").contains("damaged"));
    }

    #[test]
    fn a_whole_last_entry_without_its_newline_is_kept_and_the_next_starts_a_line() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join(FILE_NAME);
        let created = r#"{"line":1,"hash":"h","event":"created","task_id":"t1"}"#;
        std::fs::write(&path, created).expect("written");
        let (journal, replay) = open(dir.path()).expect("opened");
        assert_eq!(replay.lines[&1].1, Standing::Created("t1".into()));
        journal
            .record(
                2,
                "h2",
                Event::Rejected {
                    error: "x".into(),
                    at_ms: None,
                },
            )
            .expect("written");
        drop(journal);
        let text = std::fs::read_to_string(&path).expect("read");
        assert!(text.starts_with(&format!("{created}\n")), "{text}");
        let (_, replay) = open(dir.path()).expect("opened again");
        assert_eq!(replay.lines[&1].1, Standing::Created("t1".into()));
        assert_eq!(replay.lines[&2].1, Standing::New);
    }
}

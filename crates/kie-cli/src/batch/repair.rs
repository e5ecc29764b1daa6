//! A damaged journal: every whole entry found, the damage reported precisely, and a
//! repair that keeps every entry and never lets a line that may have a task be sent
//! again as new.
//!
//! Task ids are what a journal is for (each is a paid task), so damage is no reason to
//! give up the entries around it, nor those still whole inside it. Starting afresh
//! would create every task again: 12 tasks for 6 lines. What damage can hide is a
//! `submitting` entry, after which the line looks new although its task may exist, so
//! a repair counts such a line as "outcome unknown", which is never sent again without
//! `--resubmit-unknown`. Damage that names batch lines (`"line":N`, or a line's digest)
//! is attributed to them; damage that names none, to every line that looks new.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use super::journal::{Entry, Event, FILE_NAME, Replay, Standing};
use crate::escape;
use crate::failure::Failure;

/// How many characters of a damaged stretch a report quotes.
const EXCERPT_CHARS: usize = 60;

/// Consecutive journal lines that are not entries.
#[derive(Debug)]
struct Damage {
    /// The first and last journal line, 1-based.
    lines: (usize, usize),
    /// Where the stretch is in the file, its last newline included.
    bytes: Range<usize>,
    /// Its beginning, escaped, for the report.
    excerpt: String,
    /// Whole entries found inside it.
    salvaged: Vec<Entry>,
    /// The batch lines it names, by `"line":N` or by a line's digest.
    names: BTreeSet<usize>,
}

impl Damage {
    /// `journal lines 5-6` or `journal line 5`.
    fn where_(&self) -> String {
        match self.lines {
            (first, last) if first == last => format!("journal line {first}"),
            (first, last) => format!("journal lines {first}-{last}"),
        }
    }

    /// One line of the report.
    fn describe(&self) -> String {
        let names = match self.names.len() {
            0 => "names no batch line".to_owned(),
            1 => format!("names batch line {}", list(&self.names)),
            _ => format!("names batch lines {}", list(&self.names)),
        };
        let salvaged = match self.salvaged.len() {
            0 => String::new(),
            1 => "; holds 1 whole entry".to_owned(),
            n => format!("; holds {n} whole entries"),
        };
        format!(
            "{}, bytes {}-{}: `{}`; {names}{salvaged}",
            self.where_(),
            self.bytes.start,
            self.bytes.end.saturating_sub(1),
            self.excerpt
        )
    }
}

/// A stretch of the journal.
#[derive(Debug)]
enum Piece {
    Entry(Entry),
    Damage(Damage),
}

impl Piece {
    /// The entries in this stretch.
    fn entries(&self) -> &[Entry] {
        match self {
            Piece::Entry(entry) => std::slice::from_ref(entry),
            Piece::Damage(damage) => &damage.salvaged,
        }
    }
}

/// A journal's text sorted into entries and damage.
#[derive(Debug)]
pub struct Scan {
    pieces: Vec<Piece>,
    /// How many bytes to keep: all but a torn last line.
    pub keep: usize,
    /// Whether the last entry is whole but lacks its newline.
    pub unterminated: bool,
}

/// What a repair did.
#[derive(Debug)]
pub struct Repaired {
    /// The entries kept.
    pub kept: usize,
    /// How many of them were found inside the damage.
    pub salvaged: usize,
    /// The batch lines now counted as outcome unknown.
    pub unknown: BTreeSet<usize>,
    /// Where the damaged journal was set aside, whole.
    pub set_aside: PathBuf,
}

impl Scan {
    /// Sorts `bytes` into entries and damage. `batch` maps the batch's lines to their
    /// digests. Blank lines hold nothing and are skipped; a last line that is not an
    /// entry and has no newline is a write cut off by a stop, left out of `keep`.
    pub fn of(bytes: &[u8], batch: &BTreeMap<usize, String>) -> Scan {
        let mut scan = Scan {
            pieces: Vec::new(),
            keep: bytes.len(),
            unterminated: false,
        };
        let mut start = 0;
        let mut number = 0;
        while start < bytes.len() {
            number += 1;
            let (end, next) = match bytes[start..].iter().position(|&b| b == b'\n') {
                Some(at) => (start + at, start + at + 1),
                None => (bytes.len(), bytes.len()),
            };
            let terminated = next > end;
            let text = &bytes[start..end];
            if !text.iter().all(u8::is_ascii_whitespace) {
                match serde_json::from_slice::<Entry>(text) {
                    Ok(entry) => {
                        scan.pieces.push(Piece::Entry(entry));
                        scan.unterminated = !terminated;
                    }
                    Err(_) if !terminated => scan.keep = start,
                    Err(_) => scan.add_damage(number, start..next, text, batch),
                }
            }
            start = next;
        }
        scan
    }

    /// Adds a damaged journal line, to the stretch before it when nothing lies between.
    fn add_damage(
        &mut self,
        number: usize,
        bytes: Range<usize>,
        text: &[u8],
        batch: &BTreeMap<usize, String>,
    ) {
        let salvaged = salvage(text);
        let names = names(text, batch);
        if let Some(Piece::Damage(damage)) = self.pieces.last_mut() {
            damage.lines.1 = number;
            damage.bytes.end = bytes.end;
            damage.salvaged.extend(salvaged);
            damage.names.extend(names);
            return;
        }
        let lossy = String::from_utf8_lossy(text);
        let mut excerpt: String = lossy.chars().take(EXCERPT_CHARS).collect();
        if lossy.chars().nth(EXCERPT_CHARS).is_some() {
            excerpt.push_str("...");
        }
        self.pieces.push(Piece::Damage(Damage {
            lines: (number, number),
            bytes,
            excerpt: escape::line(&excerpt).into_owned(),
            salvaged,
            names,
        }));
    }

    /// Whether anything but a torn last line is damaged.
    pub fn is_damaged(&self) -> bool {
        self.pieces
            .iter()
            .any(|piece| matches!(piece, Piece::Damage(_)))
    }

    fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.pieces.iter().flat_map(Piece::entries)
    }

    fn damages(&self) -> impl Iterator<Item = &Damage> {
        self.pieces.iter().filter_map(|piece| match piece {
            Piece::Damage(damage) => Some(damage),
            Piece::Entry(_) => None,
        })
    }

    /// Where the entries leave each line.
    pub fn replay(&self) -> Replay {
        let mut replay = Replay::default();
        for entry in self.entries() {
            replay.apply(entry.clone());
        }
        replay
    }

    /// The batch lines that damage may have hidden a create of: each that looks new
    /// (no entry, or a refused create last) with no entry after the damage, among the
    /// lines the damage names, or among all lines when it names none. Each with the
    /// damage that puts it at risk.
    fn at_risk(&self, batch: &BTreeMap<usize, String>) -> BTreeMap<usize, &Damage> {
        let replay = self.replay();
        let mut last_piece: BTreeMap<usize, usize> = BTreeMap::new();
        for (at, piece) in self.pieces.iter().enumerate() {
            for entry in piece.entries() {
                last_piece.insert(entry.line, at);
            }
        }
        let mut risk = BTreeMap::new();
        for (at, piece) in self.pieces.iter().enumerate() {
            let Piece::Damage(damage) = piece else {
                continue;
            };
            let candidates: Vec<usize> = if damage.names.is_empty() {
                batch.keys().copied().collect()
            } else {
                damage.names.iter().copied().collect()
            };
            for line in candidates.into_iter().filter(|n| batch.contains_key(n)) {
                let looks_new = replay
                    .lines
                    .get(&line)
                    .is_none_or(|(_, standing)| *standing == Standing::New);
                let nothing_after = last_piece.get(&line).is_none_or(|&last| last <= at);
                if looks_new && nothing_after {
                    risk.entry(line).or_insert(damage);
                }
            }
        }
        risk
    }

    /// The refusal of a damaged journal: each damaged stretch (journal lines, bytes, an
    /// excerpt, the batch lines it names), the whole entries found, the lines a repair
    /// would count as unknown, and the command that repairs.
    pub fn refusal(
        &self,
        path: &Path,
        batch: &BTreeMap<usize, String>,
        repair_command: &str,
    ) -> Failure {
        let entries = self.entries().count();
        let lines: BTreeSet<usize> = self.entries().map(|entry| entry.line).collect();
        let mut details: Vec<String> = self.damages().map(Damage::describe).collect();
        details.push(format!(
            "{entries} whole entries found, for {} batch lines: a repair keeps them all",
            lines.len()
        ));
        let risk: BTreeSet<usize> = self.at_risk(batch).into_keys().collect();
        if !risk.is_empty() {
            details.push(format!(
                "the damage may hide the create of batch line(s) {}: a repair counts them \
                 as outcome unknown",
                list(&risk)
            ));
        }
        Failure::local(format!(
            "the journal {} is damaged; nothing was sent:",
            path.display()
        ))
        .details(details)
        .hint(format!(
            "`{repair_command}` repairs it (every whole entry kept, the damaged file set \
             aside beside it) and runs the batch: lines saved or created are never sent \
             again, and lines of unknown outcome only with --resubmit-unknown"
        ))
    }

    /// Rewrites the journal at `path` (whose text is `original`) with every whole
    /// entry in order, then an `unknown` entry for each line at risk. The damaged file
    /// is first set aside beside it, whole; the new one replaces it atomically (written
    /// and synced under another name, then renamed), so a stop at any moment leaves one
    /// or the other.
    pub fn repair(
        &self,
        path: &Path,
        original: &[u8],
        batch: &BTreeMap<usize, String>,
    ) -> Result<Repaired, Failure> {
        let replay = self.replay();
        let risk = self.at_risk(batch);
        let mut text = String::new();
        let mut markers = Vec::new();
        for (&line, damage) in &risk {
            let hash = replay
                .lines
                .get(&line)
                .map(|(hash, _)| hash.clone())
                .or_else(|| batch.get(&line).cloned())
                .unwrap_or_default();
            markers.push(Entry {
                line,
                hash,
                event: Event::Unknown {
                    error: format!(
                        "the journal's damage at {} may hide this line's create; its task \
                         may exist",
                        damage.where_()
                    ),
                    at_ms: None,
                },
            });
        }
        for entry in self.entries().chain(&markers) {
            let json = serde_json::to_string(entry)
                .map_err(|e| Failure::local(format!("could not encode a journal entry: {e}")))?;
            text.push_str(&json);
            text.push('\n');
        }
        let stamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis());
        let set_aside = path.with_file_name(format!("{FILE_NAME}.damaged-{stamp}"));
        let temporary = path.with_file_name(format!("{FILE_NAME}.repairing"));
        let fail = |what: &str, file: &Path, e: std::io::Error| {
            Failure::local(format!("could not {what} {}: {e}", file.display()))
        };
        write_synced(&set_aside, original, true).map_err(|e| fail("write", &set_aside, e))?;
        write_synced(&temporary, text.as_bytes(), false)
            .map_err(|e| fail("write", &temporary, e))?;
        std::fs::rename(&temporary, path).map_err(|e| fail("replace", path, e))?;
        // The rename is durable once the directory is synced. Where a directory cannot
        // be opened as a file (Windows), its filesystem journals renames itself.
        if let Some(dir) = path.parent().and_then(|dir| File::open(dir).ok()) {
            dir.sync_all().map_err(|e| fail("sync", path, e))?;
        }
        Ok(Repaired {
            kept: self.entries().count(),
            salvaged: self.damages().map(|damage| damage.salvaged.len()).sum(),
            unknown: risk.into_keys().collect(),
            set_aside,
        })
    }
}

/// Writes `bytes` to `path` and syncs them; `new` refuses an existing file.
fn write_synced(path: &Path, bytes: &[u8], new: bool) -> std::io::Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .create(!new)
        .create_new(new)
        .truncate(!new)
        .open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// The entries still whole inside damaged text, in order: each `{` that starts one.
fn salvage(text: &[u8]) -> Vec<Entry> {
    let mut found = Vec::new();
    let mut at = 0;
    while let Some(offset) = text[at..].iter().position(|&b| b == b'{') {
        let from = at + offset;
        let mut stream = serde_json::Deserializer::from_slice(&text[from..]).into_iter::<Entry>();
        match stream.next() {
            Some(Ok(entry)) => {
                found.push(entry);
                at = from + stream.byte_offset();
            }
            _ => at = from + 1,
        }
    }
    found
}

/// The batch lines damaged text names: each `"line":N`, and each line whose digest it
/// holds.
fn names(text: &[u8], batch: &BTreeMap<usize, String>) -> BTreeSet<usize> {
    let text = String::from_utf8_lossy(text);
    let key = "\"line\":";
    let mut names: BTreeSet<usize> = text
        .match_indices(key)
        .filter_map(|(at, _)| {
            let rest = text[at + key.len()..].trim_start();
            let digits = rest
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(rest.len());
            rest[..digits].parse().ok()
        })
        .collect();
    names.extend(
        batch
            .iter()
            .filter(|(_, hash)| text.contains(hash.as_str()))
            .map(|(&line, _)| line),
    );
    names
}

/// `1, 2, 5`.
fn list(numbers: &BTreeSet<usize>) -> String {
    numbers
        .iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::journal::{Journal, OnDamage};
    use crate::connect::Backend;

    /// A journal entry as `kie batch` writes it.
    fn entry(line: usize, event: Event) -> String {
        let hash = format!("{line:0>24}");
        serde_json::to_string(&Entry { line, hash, event }).expect("encoded") + "\n"
    }

    fn created(line: usize, task_id: &str) -> String {
        entry(
            line,
            Event::Created {
                task_id: task_id.into(),
                at_ms: Some(2),
            },
        )
    }

    fn submitting(line: usize) -> String {
        entry(line, Event::Submitting { at_ms: 1 })
    }

    /// A batch of lines 1..=n, each with the digest `entry` writes.
    fn batch(n: usize) -> BTreeMap<usize, String> {
        (1..=n).map(|line| (line, format!("{line:0>24}"))).collect()
    }

    fn repair(dir: &Path, lines: usize) -> (Replay, Repaired) {
        let (_, replay, repaired) =
            Journal::open(dir, &batch(lines), OnDamage::Repair).expect("repaired");
        (replay, repaired.expect("there was damage"))
    }

    #[test]
    fn damage_is_reported_by_journal_line_byte_range_and_the_lines_it_names() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let first = submitting(1) + &created(1, "t1");
        let damaged = "{\"line\":3,\"hash\":\"00\u{1b}[2J\n";
        let text = first.clone() + damaged + &submitting(2) + &created(2, "t2");
        std::fs::write(dir.path().join(FILE_NAME), &text).expect("written");
        let refuse = OnDamage::Refuse {
            repair_command: "kie batch b.jsonl --out-dir out --repair-journal".into(),
        };
        let failure = Journal::open(dir.path(), &batch(3), refuse)
            .err()
            .expect("refused");
        let report = failure.text(Backend::Remote);
        let start = first.len();
        let end = start + damaged.len() - 1;
        for expected in [
            "is damaged; nothing was sent:".to_owned(),
            format!(
                r#"journal line 3, bytes {start}-{end}: `{{"line":3,"hash":"00\u{{1b}}[2J`; names batch line 3"#
            ),
            "4 whole entries found, for 2 batch lines: a repair keeps them all".to_owned(),
            "the damage may hide the create of batch line(s) 3".to_owned(),
            "`kie batch b.jsonl --out-dir out --repair-journal` repairs it".to_owned(),
        ] {
            assert!(report.contains(&expected), "{expected}\nnot in {report}");
        }
        assert!(!report.contains("move it away"), "{report}");
        let on_disk = std::fs::read_to_string(dir.path().join(FILE_NAME)).expect("read");
        assert_eq!(on_disk, text, "a refusal changes nothing");
    }

    #[test]
    fn a_repair_keeps_every_whole_entry_before_inside_and_after_the_damage() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join(FILE_NAME);
        // Two writers' entries torn into each other: line 2's `submitting` lost its
        // end, line 3's `created` is whole inside the damage.
        let torn = r#"{"line":2,"hash":"000000000000000000000002","event":"subm"#.to_owned()
            + created(3, "t3").trim_end()
            + "\n";
        let text = submitting(1)
            + &created(1, "t1")
            + &submitting(3)
            + &torn
            + &submitting(4)
            + &created(4, "t4");
        std::fs::write(&path, &text).expect("written");
        let (replay, repaired) = repair(dir.path(), 5);
        assert_eq!(replay.lines[&1].1, Standing::Created("t1".into()));
        assert_eq!(replay.lines[&3].1, Standing::Created("t3".into()));
        assert_eq!(replay.lines[&4].1, Standing::Created("t4".into()));
        assert!(
            matches!(&replay.lines[&2].1, Standing::Unknown(why) if why.contains("journal line 4")),
            "{:?}",
            replay.lines[&2]
        );
        assert!(
            !replay.lines.contains_key(&5),
            "line 5 is not named by the damage: {:?}",
            replay.lines
        );
        assert_eq!((repaired.kept, repaired.salvaged), (6, 1));
        assert_eq!(repaired.unknown, BTreeSet::from([2]));
        assert_eq!(
            std::fs::read_to_string(&repaired.set_aside).expect("kept"),
            text
        );
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .expect("listed")
            .map(|f| {
                f.expect("an entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        assert_eq!(names.len(), 2, "the journal and the damaged one: {names:?}");
        let (_, again, repaired) =
            Journal::open(dir.path(), &batch(5), OnDamage::Repair).expect("reopened");
        assert!(repaired.is_none(), "the repaired journal is whole");
        assert_eq!(again.lines.len(), 4);
    }

    #[test]
    fn damage_that_names_no_line_puts_every_line_that_looks_new_at_risk() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let refused = entry(
            2,
            Event::Rejected {
                error: "429".into(),
                at_ms: Some(2),
            },
        );
        let text = submitting(1)
            + &created(1, "t1")
            + &submitting(2)
            + &refused
            + "\u{0}\u{0}\u{0}\u{0}\n"
            + &submitting(3)
            + &refused.replace("\"line\":2", "\"line\":4")
            + &entry(
                5,
                Event::Done {
                    task_id: "t5".into(),
                    file: "line-5.mp4".into(),
                    bytes: 9,
                },
            );
        std::fs::write(dir.path().join(FILE_NAME), &text).expect("written");
        let (replay, repaired) = repair(dir.path(), 7);
        // 1 and 5 have tasks, 3 is unknown already, 4 was refused after the damage; 2
        // was refused before it and 6 and 7 have no entry: the damage may hide theirs.
        assert_eq!(repaired.unknown, BTreeSet::from([2, 6, 7]));
        assert_eq!(replay.lines[&1].1, Standing::Created("t1".into()));
        assert_eq!(replay.lines[&4].1, Standing::New);
        for line in [2, 3, 6, 7] {
            assert!(
                matches!(replay.lines[&line].1, Standing::Unknown(_)),
                "line {line}: {:?}",
                replay.lines[&line]
            );
        }
        assert_eq!(
            replay.lines[&6].0,
            format!("{:0>24}", 6),
            "the batch line's digest"
        );
    }
}

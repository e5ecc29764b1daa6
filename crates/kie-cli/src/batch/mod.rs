//! `kie batch`: many requests from a JSON Lines file, with bounded concurrency, kie.ai's
//! create rate, and a journal that makes the batch safe to kill and run again.
//!
//! The client paces the creates (its budget holds each create's place in kie.ai's
//! window until a window after its answer); a run counts its previous run's recent
//! creates in that budget before it sends any, so a batch killed and run again at once
//! still keeps to the limit.
//!
//! Running the same command again resumes: lines already saved are skipped, lines whose
//! task exists are awaited and downloaded (never created again), and lines whose create
//! was cut off are reported as unknown and only sent again with `--resubmit-unknown`.
//! One run at a time owns the output directory (`lock`), and a damaged journal is
//! repaired, never started afresh (`repair`).

mod journal;
mod lock;
mod plan;
mod repair;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

use futures_util::StreamExt as _;
use kie::Client;
use kie::budget::{Limit, LocalBudget, Rate};
use kie::time::Timer;
use serde_json::json;

use crate::cli::Batch;
use crate::connect::{Backend, SERVED_EMULATOR};
use crate::failure::{Failure, Kind, Resume, shell_word};
use crate::interrupt::Stake;
use crate::output::Output;
use crate::progress::Display;
use crate::task::{Video, await_video, save};

use self::journal::{Event, Journal, OnDamage, Replay, Standing, now_ms};
use self::lock::DirLock;
use self::plan::Line;
use self::repair::Repaired;

/// How a line ended in this run.
#[derive(Debug)]
enum Ending {
    /// Saved (now or by an earlier run) to `file` in the output directory; `bytes` is
    /// known when saved now.
    Done {
        task_id: String,
        file: String,
        bytes: Option<u64>,
    },
    /// The task failed at kie.ai; not created again.
    Failed { task_id: String, error: String },
    /// The create's outcome is unknown; not sent again without `--resubmit-unknown`.
    Unknown(String),
    /// Not finished this time; running the batch again continues it.
    Pending {
        task_id: Option<String>,
        error: String,
    },
}

/// Everything a line's work needs.
struct Run<'a> {
    client: &'a Client,
    journal: Arc<Journal>,
    out_dir: &'a Path,
    args: &'a Batch,
    display: Display,
}

/// Runs (or resumes) the batch, owning its output directory until it ends. `budget` is
/// the one `client` paces its calls through when this process keeps it; a budget kept
/// in Redis needs no carrying over, as it keeps a killed run's places itself. Once it
/// may send anything, a Ctrl-C (`stake`) says to run it again.
pub async fn run(
    client: &Client,
    budget: Option<&LocalBudget>,
    args: &Batch,
    display: Display,
    backend: Backend,
    stake: &Stake,
) -> Result<Output, Failure> {
    let lines = plan::read(&args.file)?;
    std::fs::create_dir_all(&args.out_dir)
        .map_err(|e| Failure::local(format!("could not create {}: {e}", args.out_dir.display())))?;
    let _owned = DirLock::acquire(&args.out_dir)?;
    let digests: BTreeMap<usize, String> = lines
        .iter()
        .map(|line| (line.number, line.hash.clone()))
        .collect();
    let on_damage = if args.repair_journal {
        OnDamage::Repair
    } else {
        OnDamage::Refuse {
            repair_command: format!(
                "kie batch {} --out-dir {} --repair-journal",
                shell_word(&args.file),
                shell_word(&args.out_dir)
            ),
        }
    };
    let (journal, replay, repaired) = Journal::open(&args.out_dir, &digests, on_damage)?;
    if let Some(repaired) = repaired {
        display.note(repaired_note(journal.path(), &repaired));
    }
    let mut work = Vec::with_capacity(lines.len());
    for line in &lines {
        let standing = match replay.lines.get(&line.number) {
            None => Standing::New,
            Some((hash, _)) if *hash != line.hash => {
                return Err(Failure::input(format!(
                    "line {} of {} changed since {} was written",
                    line.number,
                    args.file.display(),
                    journal.path().display()
                ))
                .hint("restore the line, or give the changed batch its own --out-dir"));
            }
            Some((_, standing)) => standing.clone(),
        };
        work.push((line, standing));
    }
    if backend == Backend::InProcess {
        refuse_earlier_tasks(&work, &args.out_dir, journal.path())?;
    }
    if let Some(note) = resumed_note(journal.path(), &work, &args.out_dir) {
        display.note(note);
    }
    if let Some(budget) = budget {
        carry_over(&replay, budget, client.timer().as_ref());
    }
    stake.set(Resume::Batch);
    let run = Run {
        client,
        journal: Arc::new(journal),
        out_dir: &args.out_dir,
        args,
        display,
    };
    let endings: Vec<(usize, Ending)> = futures_util::stream::iter(work)
        .map(|(line, standing)| {
            let run = &run;
            async move { (line.number, run.line(line, standing).await) }
        })
        .buffer_unordered(args.concurrency as usize)
        .collect()
        .await;
    summarize(endings, args)
}

/// Counts the creates of earlier runs that kie.ai may still count in its window as
/// holding places in `budget` (on `timer`), before this run sends any. One answered
/// holds its place until a window after its answer, as it did in the run that made it.
/// One without an outcome was in flight when its run stopped (`submitting` is journaled
/// once its turn came, right before it was sent), so it may have reached kie.ai at any
/// moment up to now: it holds its place for a window from now.
fn carry_over(replay: &Replay, budget: &LocalBudget, timer: &dyn Timer) {
    let rate = Rate::KIE_CREATE_TASK;
    let (now, wall) = (timer.now(), SystemTime::now());
    for answered in &replay.answered {
        // An answer "after now" (the wall clock was set back) counts as now.
        let ago = wall.duration_since(*answered).unwrap_or_default();
        if let Some(left) = rate.window().checked_sub(ago) {
            budget.hold_until(Limit::CreateTask, now + left);
        }
    }
    for _ in 0..replay.unanswered() {
        budget.hold_until(Limit::CreateTask, now + rate.window());
    }
}

/// Where the lines of a batch run again stand, in one line ("3 of 3 lines already
/// saved"); `None` when every line is new.
fn resumed_note(journal: &Path, work: &[(&Line, Standing)], out_dir: &Path) -> Option<String> {
    let (mut saved, mut created, mut failed, mut unknown) = (0, 0, 0, 0);
    for (_, standing) in work {
        match standing {
            Standing::New => {}
            Standing::Done { file, .. } if out_dir.join(file).is_file() => saved += 1,
            Standing::Done { .. } | Standing::Created(_) => created += 1,
            Standing::Failed { .. } => failed += 1,
            Standing::Unknown(_) => unknown += 1,
        }
    }
    let parts: Vec<String> = [
        (saved, "already saved"),
        (
            created,
            "created earlier (awaited now, never created again)",
        ),
        (failed, "failed at kie.ai (not sent again)"),
        (unknown, "with an unknown submission outcome"),
    ]
    .into_iter()
    .filter(|(n, _)| *n > 0)
    .enumerate()
    .map(|(i, (n, what))| match i {
        0 => format!("{n} of {} lines {what}", work.len()),
        _ => format!("{n} {what}"),
    })
    .collect();
    if parts.is_empty() {
        return None;
    }
    Some(format!(
        "resuming from {}: {}",
        journal.display(),
        parts.join(", ")
    ))
}

/// What a repair did, in one line.
fn repaired_note(journal: &Path, repaired: &Repaired) -> String {
    let unknown = match repaired.unknown.len() {
        0 => String::new(),
        _ => format!(
            "; line(s) {} now have an unknown outcome (sent again only with \
             --resubmit-unknown)",
            repaired
                .unknown
                .iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let salvaged = match repaired.salvaged {
        0 => String::new(),
        n => format!(" ({n} of them found inside the damage)"),
    };
    format!(
        "repaired {}: kept {} whole entries{salvaged}, set the damaged file aside as \
         {}{unknown}",
        journal.display(),
        repaired.kept,
        repaired.set_aside.display()
    )
}

/// Under `--emulator`, refuses a journal whose lines wait on tasks of an earlier run:
/// the emulator this run started is new and knows none of them, so waiting would fail
/// each line with "no such task".
fn refuse_earlier_tasks(
    work: &[(&Line, Standing)],
    out_dir: &Path,
    journal: &Path,
) -> Result<(), Failure> {
    let waiting: Vec<String> = work
        .iter()
        .filter_map(|(line, standing)| match standing {
            Standing::Created(task_id) => Some(format!("line {}: task {task_id}", line.number)),
            Standing::Done { task_id, file } if !out_dir.join(file).is_file() => Some(format!(
                "line {}: task {task_id} ({file} is gone)",
                line.number
            )),
            _ => None,
        })
        .collect();
    if waiting.is_empty() {
        return Ok(());
    }
    Err(Failure::input(format!(
        "{} says these lines wait on tasks of an earlier run, which --emulator cannot take \
         up: it starts a new emulator for each command, which knows none of them; nothing \
         was sent:",
        journal.display()
    ))
    .details(waiting)
    .hint(format!(
        "use a new --out-dir to run the batch afresh on --emulator; {SERVED_EMULATOR}"
    )))
}

impl Run<'_> {
    /// Takes one line from where it stands to its end (for this run).
    async fn line(&self, line: &Line, standing: Standing) -> Ending {
        let task_id = match standing {
            Standing::Done { task_id, file } if self.out_dir.join(&file).is_file() => {
                return Ending::Done {
                    task_id,
                    file,
                    bytes: None,
                };
            }
            // Saved once, but the file is gone: fetch it again from the same task.
            Standing::Done { task_id, .. } | Standing::Created(task_id) => task_id,
            Standing::Failed { task_id, error } => return Ending::Failed { task_id, error },
            Standing::Unknown(why) if !self.args.resubmit_unknown => return Ending::Unknown(why),
            Standing::Unknown(_) | Standing::New => match self.submit(line).await {
                Ok(task_id) => task_id,
                Err(ending) => return ending,
            },
        };
        self.finish(line, task_id).await
    }

    /// Creates the line's task (the client queues it for the rate limit), journaling
    /// before and after; each outcome is journaled with the time its answer came.
    async fn submit(&self, line: &Line) -> Result<String, Ending> {
        // `submitting` is journaled when the create's turn under the rate has come,
        // right before it is sent: a line still queued when the batch is stopped was
        // not sent, and stays new.
        let unwritten: Arc<Mutex<Option<String>>> = Arc::default();
        let client = {
            let (journal, number, hash) =
                (Arc::clone(&self.journal), line.number, line.hash.clone());
            let unwritten = Arc::clone(&unwritten);
            self.client.before_create(move || {
                let submitting = Event::Submitting { at_ms: now_ms() };
                journal
                    .record(number, &hash, submitting)
                    .map_err(|failure| {
                        let message = failure.message().to_owned();
                        *unwritten.lock().unwrap_or_else(PoisonError::into_inner) =
                            Some(message.clone());
                        message
                    })
            })
        };
        let submitted = line.model.submit(&client, &line.request).await;
        if let Some(error) = unwritten
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        {
            // Nothing was sent: the journal could not say so first.
            return Err(Ending::Pending {
                task_id: None,
                error,
            });
        }
        let at_ms = Some(now_ms());
        match submitted {
            Ok(task) => {
                let task_id = task.id().to_owned();
                self.journal_or_pending(
                    line,
                    Some(&task_id),
                    Event::Created {
                        task_id: task_id.clone(),
                        at_ms,
                    },
                )?;
                self.note(line, format!("task {task_id} created"));
                Ok(task_id)
            }
            Err(error) if error.task_may_exist() => {
                let error = error.to_string();
                self.journal_or_pending(
                    line,
                    None,
                    Event::Unknown {
                        error: error.clone(),
                        at_ms,
                    },
                )?;
                Err(Ending::Unknown(error))
            }
            Err(error) => {
                let error = error.to_string();
                self.journal_or_pending(
                    line,
                    None,
                    Event::Rejected {
                        error: error.clone(),
                        at_ms,
                    },
                )?;
                Err(Ending::Pending {
                    task_id: None,
                    error,
                })
            }
        }
    }

    /// Waits for the line's task and saves its video.
    async fn finish(&self, line: &Line, task_id: String) -> Ending {
        let task = self.client.task(task_id.as_str());
        let saved = match await_video(&task, self.args.max_wait, Display::Quiet, None).await {
            Ok(video) => {
                let out = self.out_dir.join(&line.file);
                save(self.client, Video::from(&video), &out, Display::Quiet).await
            }
            Err(failure) => Err(failure),
        };
        match saved {
            Ok(saved) => {
                let done = Event::Done {
                    task_id: task_id.clone(),
                    file: line.file.clone(),
                    bytes: saved.bytes(),
                };
                if let Err(ending) = self.journal_or_pending(line, Some(&task_id), done) {
                    return ending;
                }
                self.note(
                    line,
                    format!("saved {} ({} bytes)", line.file, saved.bytes()),
                );
                Ending::Done {
                    task_id,
                    file: line.file.clone(),
                    bytes: Some(saved.bytes()),
                }
            }
            Err(failure) if failure.kind() == Kind::TaskFailed => {
                let error = failure.message().to_owned();
                let failed = Event::Failed {
                    task_id: task_id.clone(),
                    error: error.clone(),
                };
                if let Err(ending) = self.journal_or_pending(line, Some(&task_id), failed) {
                    return ending;
                }
                self.note(line, format!("task {task_id} failed: {error}"));
                Ending::Failed { task_id, error }
            }
            Err(failure) => Ending::Pending {
                task_id: Some(task_id),
                error: failure.message().to_owned(),
            },
        }
    }

    /// Journals `event`; a journal that cannot be written ends the line as pending
    /// (what is on disk still says where it stands).
    fn journal_or_pending(
        &self,
        line: &Line,
        task_id: Option<&str>,
        event: Event,
    ) -> Result<(), Ending> {
        self.journal
            .record(line.number, &line.hash, event)
            .map_err(|failure| Ending::Pending {
                task_id: task_id.map(str::to_owned),
                error: failure.message().to_owned(),
            })
    }

    fn note(&self, line: &Line, text: String) {
        self.display.note(format!("line {}: {text}", line.number));
    }
}

/// The batch's outcome: success when every line is saved; otherwise each line that is
/// not, with what to do, and exit code 6.
fn summarize(mut endings: Vec<(usize, Ending)>, args: &Batch) -> Result<Output, Failure> {
    endings.sort_by_key(|(number, _)| *number);
    let mut done = Vec::new();
    let mut problems = Vec::new();
    let mut unknown = false;
    let mut pending = false;
    for (number, ending) in &endings {
        match ending {
            Ending::Done {
                task_id,
                file,
                bytes,
            } => {
                done.push(json!({
                    "line": number,
                    "task_id": task_id,
                    "file": args.out_dir.join(file),
                    "bytes": bytes,
                }));
            }
            Ending::Failed { task_id, error } => {
                problems.push(format!("line {number}: task {task_id} failed: {error}"));
            }
            Ending::Unknown(error) => {
                problems.push(format!(
                    "line {number}: submission outcome unknown ({error}); not sent again"
                ));
                unknown = true;
            }
            Ending::Pending { task_id, error } => {
                let task = task_id
                    .as_deref()
                    .map_or(String::new(), |id| format!(" (task {id})"));
                problems.push(format!("line {number}: not finished{task}: {error}"));
                pending = true;
            }
        }
    }
    let total = endings.len();
    if problems.is_empty() {
        return Ok(Output::new(
            json!({ "lines": total, "done": done, "out_dir": args.out_dir }),
            format!(
                "{total} of {total} videos saved in {}",
                args.out_dir.display()
            ),
        ));
    }
    let mut failure = Failure::incomplete(format!(
        "{} of {total} videos saved; {} lines are not done:",
        done.len(),
        problems.len()
    ))
    .details(problems);
    if pending {
        failure = failure.resume(Resume::Batch);
    }
    if unknown {
        failure = failure.hint(
            "a line whose outcome is unknown may exist (and be billed) at kie.ai: check \
             https://kie.ai/logs, then add --resubmit-unknown to send it again",
        );
    }
    Err(failure)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use kie::budget::{Budget as _, Busy};
    use kie::time::VirtualTimer;

    use super::journal::Entry;
    use super::*;

    fn apply(replay: &mut Replay, line: usize, event: Event) {
        let hash = format!("h{line}");
        replay.apply(Entry { line, hash, event });
    }

    fn created(at_ms: u64) -> Event {
        Event::Created {
            task_id: "t".into(),
            at_ms: Some(at_ms),
        }
    }

    #[tokio::test]
    async fn earlier_creates_hold_places_until_a_window_after_their_answer_or_from_now() {
        let rate = Rate::KIE_CREATE_TASK;
        let timer = Arc::new(VirtualTimer::new());
        // As the client's clock does, start a window in.
        timer.advance(rate.window());
        let budget = LocalBudget::new(timer.clone());
        let mut replay = Replay::default();
        let (now, a_minute_ago) = (now_ms(), now_ms() - 60_000);
        // 18 answered 5 s ago, one cut off (queued or in flight at the stop), and one
        // answered long ago, which no longer counts.
        for line in 1..=18 {
            apply(&mut replay, line, Event::Submitting { at_ms: now - 9_000 });
            apply(&mut replay, line, created(now - 5_000));
        }
        apply(&mut replay, 19, Event::Submitting { at_ms: now - 9_000 });
        apply(
            &mut replay,
            20,
            Event::Submitting {
                at_ms: a_minute_ago,
            },
        );
        apply(&mut replay, 20, created(a_minute_ago));
        carry_over(&replay, &budget, timer.as_ref());

        let take = || budget.try_take(Limit::CreateTask, rate);
        assert!(take().await.is_ok(), "one place of 20 is free");
        match take().await {
            Err(Busy::For(wait)) => assert!(
                wait > Duration::from_secs(5) && wait <= Duration::from_millis(5_250),
                "the answered ones free a window after their answer: {wait:?}"
            ),
            other => panic!("full, until the answered ones free: {other:?}"),
        }
        timer.advance(Duration::from_millis(5_300));
        for _ in 0..18 {
            assert!(take().await.is_ok(), "the answered ones have freed theirs");
        }
        assert!(
            take().await.is_err(),
            "the cut-off one holds its place for a window from the start"
        );
    }
}

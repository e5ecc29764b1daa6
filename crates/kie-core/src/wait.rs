//! Waiting for a task: polling recordInfo on a [`PollSchedule`] (adaptive by default)
//! until the task finishes or the wait's deadline passes.
//!
//! One state machine ([`Poller`]) produces the events; awaiting a [`Wait`] and reading
//! its [`Wait::events`] stream are two ways of consuming it. Dropping either stops the
//! polling and loses nothing: the task goes on at kie.ai and can be awaited again from
//! its id.

use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use futures_util::Stream;
use futures_util::future::Either;
use serde::Serialize;

use crate::budget::Admission;
use crate::error::{Error, Operation, unexpected_data};
use crate::inbox::{CallbackInbox, Watch};
use crate::record::{TaskRecord, TaskState};
use crate::redact::Redactor;
use crate::schedule::{Decision, PollSchedule, Situation};
use crate::task::Task;
use crate::time::Timer;

/// How long a wait lasts by default before giving up (the task goes on regardless).
pub const DEFAULT_MAX_WAIT: Duration = Duration::from_secs(30 * 60);

/// How long, right after creation, "recordInfo is null" is taken for a record that is
/// not visible yet rather than for an unknown task.
pub const DEFAULT_MISSING_GRACE: Duration = Duration::from_secs(60);

/// How many polls in a row may fail transiently (each after its own retries) before the
/// wait gives up and returns the error.
const MAX_CONSECUTIVE_FAILURES: u32 = 5;

/// A change seen while waiting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Progress {
    /// The task.
    pub task_id: String,
    /// Its state.
    pub state: TaskState,
    /// Percent done, for models that report it (Sora).
    pub percent: Option<u8>,
    /// How long the wait has lasted.
    pub elapsed: Duration,
}

/// What a wait yields: progress, then the result.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum WaitEvent {
    /// The state or percent changed.
    Progress(Progress),
    /// The task succeeded.
    Finished(Box<VideoResult>),
}

/// A finished task's result: its video (and, for some models, its first and last
/// frames), or, for the models that make no file, a character id or a text result.
///
/// A wait accepts a success that carries a file, a character id or a text result
/// ([`TaskResult::is_usable`](crate::TaskResult::is_usable)), and fails with
/// [`ErrorKind::Decode`](crate::ErrorKind::Decode), naming the task, on one that
/// carries none of them.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct VideoResult {
    /// The task.
    pub task_id: String,
    /// The model, when known.
    pub model: Option<String>,
    /// The result files (`resultUrls`; normally one video); empty only for a character
    /// or a text result. kie.ai keeps them for a limited time (about 24 h by one page,
    /// 14 days by another): download them promptly.
    pub urls: Vec<String>,
    /// The video's first frame as an image, when the model returns it (Seedance 2 and
    /// 2 Fast with `return_last_frame`).
    pub first_frame_url: Option<String>,
    /// The video's last frame as an image, when the model returns it (Seedance 2 and
    /// 2 Fast with `return_last_frame`).
    pub last_frame_url: Option<String>,
    /// The character a `sora-2-characters` or `sora-2-characters-pro` task made, for
    /// later requests' `character_id_list`; such a task makes no file.
    pub character_id: Option<String>,
    /// The final record, with timings, the original request and the whole decoded
    /// `resultJson` (`record.result`).
    pub record: TaskRecord,
}

impl VideoResult {
    /// The (first) video's URL, or `""` when the task made no file (a character or a
    /// text result: see [`VideoResult::character_id`] and [`VideoResult::object`]).
    /// [`Wait::download_to`] refuses such a result before downloading.
    pub fn video_url(&self) -> &str {
        self.urls.first().map_or("", String::as_str)
    }

    /// A text model's result (`resultObject`), as sent.
    pub fn object(&self) -> Option<&serde_json::Value> {
        self.record.result.as_ref()?.object.as_ref()
    }

    pub(crate) fn from_record(
        record: TaskRecord,
        fallback_model: Option<&str>,
        redactor: &Redactor,
    ) -> Result<Self, Error> {
        let Some(result) = record.result.as_ref().filter(|r| r.is_usable()) else {
            let reason = "the task succeeded but `resultJson` has no `resultUrls`, \
                          `character_id` or `resultObject`";
            return Err(
                unexpected_data(Operation::RecordInfo, 200, reason, &record.raw, redactor)
                    .for_task(&record.task_id),
            );
        };
        Ok(VideoResult {
            task_id: record.task_id.clone(),
            model: record.model.clone().or(fallback_model.map(str::to_owned)),
            urls: result.urls.clone(),
            first_frame_url: result.first_frame_url.clone(),
            last_frame_url: result.last_frame_url.clone(),
            character_id: result.character_id.clone(),
            record,
        })
    }
}

type ProgressFn = Box<dyn FnMut(&Progress) + Send>;

/// A wait being prepared: set options, then `.await` it for the result, or call
/// [`Wait::events`] for a stream of progress ending in the result.
///
/// # Examples
///
/// ```no_run
/// use futures_util::StreamExt as _;
/// use kie_core::WaitEvent;
/// use std::time::Duration;
///
/// # async fn run(task: kie_core::Task) -> Result<(), kie_core::Error> {
/// let video = task
///     .wait()
///     .max_wait(Duration::from_secs(20 * 60))
///     .on_progress(|p| eprintln!("{} {:?}", p.state, p.percent))
///     .await?;
/// println!("{}", video.video_url());
///
/// // Or as a stream of events:
/// let mut events = std::pin::pin!(task.wait().events());
/// while let Some(event) = events.next().await {
///     match event? {
///         WaitEvent::Progress(p) => eprintln!("{}", p.state),
///         WaitEvent::Finished(video) => println!("{}", video.video_url()),
///         _ => {}
///     }
/// }
/// # Ok(()) }
/// ```
#[must_use = "a wait does nothing until it is awaited or streamed"]
pub struct Wait {
    poller: Poller,
    on_progress: Option<ProgressFn>,
}

impl fmt::Debug for Wait {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Wait")
            .field("task", &self.poller.task)
            .field("max_wait", &self.poller.max_wait)
            .field("schedule", &self.poller.schedule)
            .finish_non_exhaustive()
    }
}

impl Wait {
    pub(crate) fn new(task: Task) -> Self {
        let timer = Arc::clone(task.client().timer());
        let created_at = task.created_at();
        let model = task.model().map(str::to_owned);
        Self {
            poller: Poller {
                started: timer.now(),
                timer,
                task,
                max_wait: DEFAULT_MAX_WAIT,
                created_here: created_at.is_some(),
                created_at,
                model,
                schedule: PollSchedule::adaptive(),
                missing_grace: DEFAULT_MISSING_GRACE,
                polled: false,
                inbox: None,
                seen: false,
                last: None,
                failures: 0,
            },
            on_progress: None,
        }
    }

    /// The longest the wait lasts (default 30 minutes). At the deadline it returns
    /// [`ErrorKind::WaitTimeout`](crate::ErrorKind::WaitTimeout); the task itself goes on.
    /// The last poll is due at the deadline; when the client's poll rate is all taken,
    /// it goes out when its turn comes, a little later.
    pub fn max_wait(mut self, max_wait: Duration) -> Self {
        self.poller.max_wait = max_wait;
        self
    }

    /// When to poll (default [`PollSchedule::adaptive`]; kie.ai's recommended fixed
    /// steps are [`PollSchedule::recommended`]).
    pub fn schedule(mut self, schedule: PollSchedule) -> Self {
        self.poller.schedule = schedule;
        self
    }

    /// How long after the wait starts "recordInfo is null" is taken as "not visible
    /// yet" (default 60 s), for tasks that were just created.
    pub fn missing_grace(mut self, grace: Duration) -> Self {
        self.poller.missing_grace = grace;
        self
    }

    /// Waits for callbacks instead of polling: the wait takes the records `inbox`
    /// confirms with recordInfo after each new callback for the task (progress from a
    /// running one, the result from a final one, with no poll of its own), so it ends
    /// on the task's final callback for one recordInfo call in all. A callback whose
    /// body recordInfo contradicts (forged, or early) changes nothing, and the next
    /// genuine one still ends the wait. Until then it polls only on
    /// [`PollSchedule::callback_fallback`] (or the schedule set after this call), in
    /// case no callback comes.
    ///
    /// The inbox keeps the task's records from now until the wait is dropped, whatever
    /// its memory bound.
    pub fn callbacks(mut self, inbox: &CallbackInbox) -> Self {
        self.poller.inbox = Some(inbox.watch(self.poller.task.id()));
        self.poller.schedule = PollSchedule::callback_fallback();
        self
    }

    /// Calls `f` on each change of state or percent.
    pub fn on_progress(mut self, f: impl FnMut(&Progress) + Send + 'static) -> Self {
        self.on_progress = Some(Box::new(f));
        self
    }

    /// Waits, then downloads the video to `path` (atomically). Returns the result and
    /// what was written.
    ///
    /// # Errors
    ///
    /// Any error of the wait or of [`crate::Download::to_path`], carrying the task id;
    /// [`ErrorKind::Decode`](crate::ErrorKind::Decode) when the task made no file (a
    /// character or a text result), before anything is downloaded.
    pub async fn download_to(
        self,
        path: impl AsRef<std::path::Path>,
    ) -> Result<(VideoResult, crate::Downloaded), Error> {
        let client = self.poller.task.client().clone();
        let video = self.await?;
        if video.urls.is_empty() {
            let what = if video.character_id.is_some() {
                "a character id"
            } else {
                "a text result"
            };
            let reason = format!("the task made {what}, not a file: there is nothing to download");
            return Err(unexpected_data(
                Operation::RecordInfo,
                200,
                reason,
                &video.record.raw,
                &client.inner.redactor,
            )
            .for_task(&video.task_id));
        }
        let downloaded = client
            .download(video.video_url())
            .to_path(path)
            .await
            .map_err(|e| e.for_task(&video.task_id))?;
        Ok((video, downloaded))
    }

    /// The wait as a stream: progress events, then one [`WaitEvent::Finished`] or an
    /// error, then the end.
    pub fn events(self) -> impl Stream<Item = Result<WaitEvent, Error>> + Send {
        futures_util::stream::unfold(Some(self.poller), |poller| async move {
            let mut poller = poller?;
            match poller.next().await {
                Ok(event @ WaitEvent::Progress(_)) => Some((Ok(event), Some(poller))),
                other => Some((other, None)),
            }
        })
    }
}

impl IntoFuture for Wait {
    type Output = Result<VideoResult, Error>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        let Wait {
            mut poller,
            mut on_progress,
        } = self;
        let span = tracing::info_span!("kie.wait", task_id = %poller.task.id());
        Box::pin(tracing::Instrument::instrument(
            async move {
                loop {
                    match poller.next().await? {
                        WaitEvent::Progress(p) => {
                            if let Some(f) = on_progress.as_mut() {
                                f(&p);
                            }
                        }
                        WaitEvent::Finished(result) => return Ok(*result),
                    }
                }
            },
            span,
        ))
    }
}

/// The polling state machine behind [`Wait`].
struct Poller {
    task: Task,
    timer: Arc<dyn Timer>,
    started: Duration,
    max_wait: Duration,
    schedule: PollSchedule,
    missing_grace: Duration,
    /// When the task was created, on the timer, once known.
    created_at: Option<Duration>,
    /// Whether this client created the task (so `created_at` is its own clock's).
    created_here: bool,
    /// The task's model, once known: whose times the adaptive schedule reads.
    model: Option<String>,
    /// Whether a poll was made (without an inbox, the first poll goes out at once
    /// unless the schedule knows enough to wait).
    polled: bool,
    /// The task's records as an inbox confirms them, for callback-first waiting.
    inbox: Option<Watch>,
    /// Whether a record was ever returned.
    seen: bool,
    /// The last state and percent reported.
    last: Option<(TaskState, Option<u8>)>,
    /// Transient failures in a row.
    failures: u32,
}

impl Poller {
    async fn next(&mut self) -> Result<WaitEvent, Error> {
        loop {
            let mut admission = Admission::default();
            if self.inbox.is_some() {
                if let Some(event) = self.next_from_inbox().await? {
                    return Ok(event);
                }
            } else if self.polled || self.knows_enough() {
                let decision = self.decide()?;
                self.timer.sleep(decision.delay).await;
                admission.headstart = decision.headstart();
            }
            self.polled = true;
            let client = self.task.client();
            let error = match client.record_queued(self.task.id(), admission).await {
                Ok(record) => match self.observe(record)? {
                    Some(event) => return Ok(event),
                    None => continue,
                },
                Err(error) => error,
            };
            let elapsed = self.elapsed();
            if !self.seen && error.is_unknown_task() && elapsed < self.missing_grace {
                tracing::debug!(task_id = %self.task.id(), "record not visible yet");
                continue;
            }
            if error.is_transient() && self.failures < MAX_CONSECUTIVE_FAILURES {
                self.failures += 1;
                tracing::warn!(task_id = %self.task.id(), %error, "poll failed; polling on");
                continue;
            }
            return Err(error);
        }
    }

    /// Turns a record into an event, if it is news.
    fn observe(&mut self, record: TaskRecord) -> Result<Option<WaitEvent>, Error> {
        self.seen = true;
        self.failures = 0;
        if self.model.is_none() {
            self.model.clone_from(&record.model);
        }
        if self.created_at.is_none() {
            self.created_at = record
                .create_time
                .and_then(age_by_wall_clock)
                .map(|age| self.timer.now().saturating_sub(age));
        }
        if let (true, Some(created), TaskState::Success) =
            (self.created_here, self.created_at, &record.state)
        {
            let waited = self.timer.now().saturating_sub(created);
            self.task
                .client()
                .inner
                .estimates
                .observe_wait(&record, waited);
        }
        match record.state {
            TaskState::Success => VideoResult::from_record(
                record,
                self.task.model(),
                &self.task.client().inner.redactor,
            )
            .map(|r| Some(WaitEvent::Finished(Box::new(r)))),
            TaskState::Fail => Err(Error::task_failed(record)),
            _ => {
                let now = (record.state.clone(), record.progress);
                if self.last.as_ref() == Some(&now) {
                    return Ok(None);
                }
                self.last = Some(now);
                Ok(Some(WaitEvent::Progress(Progress {
                    task_id: self.task.id().to_owned(),
                    state: record.state,
                    percent: record.progress,
                    elapsed: self.elapsed(),
                })))
            }
        }
    }

    /// Whether the first poll can wait: the adaptive schedule, for a task whose age is
    /// known (one this client created), need not ask at once what it can tell.
    fn knows_enough(&self) -> bool {
        self.schedule.is_adaptive() && self.created_at.is_some()
    }

    /// The next poll, or the timeout at the deadline. The last delay is cut short so
    /// that one final poll happens exactly at the deadline.
    fn decide(&self) -> Result<Decision, Error> {
        let elapsed = self.elapsed();
        let remaining = self.max_wait.saturating_sub(elapsed);
        if remaining.is_zero() {
            let last_state = self
                .last
                .as_ref()
                .map_or(TaskState::Waiting, |(state, _)| state.clone());
            return Err(Error::wait_timeout(self.task.id(), elapsed, last_state));
        }
        let times = match (&self.model, self.schedule.is_adaptive()) {
            (Some(model), true) => self.task.client().inner.estimates.sorted_secs(model),
            _ => Vec::new(),
        };
        let now = Situation {
            elapsed,
            age: self
                .created_at
                .map(|created| self.timer.now().saturating_sub(created)),
            state: self.last.as_ref().map(|(state, _)| state),
            percent: self.last.as_ref().and_then(|(_, percent)| *percent),
            times: &times,
        };
        let decision = self.schedule.next(&now, fastrand::f64());
        Ok(Decision {
            delay: decision.delay.min(remaining),
            ..decision
        })
    }

    /// Callback-first waiting: the next news among the records the inbox confirms, or
    /// `None` when the fallback poll is due.
    async fn next_from_inbox(&mut self) -> Result<Option<WaitEvent>, Error> {
        let mut fallback = None;
        loop {
            // A record already confirmed is taken before any sleep is started.
            let record = match self.inbox.as_mut().and_then(Watch::take) {
                Some(record) => record,
                None => {
                    let sleep = match fallback.take() {
                        Some(sleep) => sleep,
                        None => self.timer.sleep(self.decide()?.delay),
                    };
                    let Some(watch) = self.inbox.as_mut() else {
                        return Ok(None);
                    };
                    match futures_util::future::select(std::pin::pin!(watch.next()), sleep).await {
                        Either::Left((record, pending)) => {
                            fallback = Some(pending);
                            record
                        }
                        Either::Right(((), _)) => return Ok(None),
                    }
                }
            };
            tracing::debug!(task_id = %self.task.id(), state = %record.state, "confirmed after a callback");
            if let Some(event) = self.observe(record)? {
                return Ok(Some(event));
            }
        }
    }

    fn elapsed(&self) -> Duration {
        self.timer.now().saturating_sub(self.started)
    }
}

/// How old a task created at `create_time` (Unix ms, kie.ai's clock) is by this
/// machine's clock, when that is plausible (not in the future, under a day): how a
/// resumed wait learns the age of a task it did not create.
fn age_by_wall_clock(create_time: i64) -> Option<Duration> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?;
    let created = Duration::from_millis(u64::try_from(create_time).ok()?);
    now.checked_sub(created)
        .filter(|age| *age < Duration::from_secs(24 * 3600))
}

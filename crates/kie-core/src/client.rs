//! The client: configuration, and the calls of kie.ai's common API.

use std::fmt;
use std::future::{Future, IntoFuture};
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde_json::{Value, json};
use tracing::Instrument;
use url::Url;

use crate::budget::{Admission, Budget, Gates, LocalBudget, OnQueued, QueuePosition, Rate};
use crate::download::MinSpeed;
use crate::error::{Error, Operation};
use crate::estimate::{Estimates, GenerationTimes};
use crate::model::ModelInput;
use crate::record::TaskRecord;
use crate::redact::Redactor;
use crate::retry::{RequestKind, RetryPolicy};
use crate::task::{Task, TaskRef};
use crate::time::{Timer, TokioTimer};
use crate::transport::Request;
use crate::validation::{Problem, ValidationError, Violations};
use crate::wire::{kind_of_text, text, value};

/// kie.ai's API host.
pub const DEFAULT_BASE_URL: &str = "https://api.kie.ai";
/// kie.ai's file upload host (a different host from the API).
pub const DEFAULT_UPLOAD_BASE_URL: &str = "https://kieai.redpandaai.co";
/// The `User-Agent` sent with every request.
pub const USER_AGENT: &str = concat!("kie-rs/", env!("CARGO_PKG_VERSION"));
/// How many API calls one client sends at once unless told otherwise
/// ([`ClientBuilder::max_concurrent_requests`]).
const DEFAULT_MAX_CONCURRENT_REQUESTS: usize = 32;
/// The largest API or upload answer read unless told otherwise
/// ([`ClientBuilder::max_answer_bytes`]): kie.ai's answers are a few KB (a record with
/// a long prompt, tens of KB), so 4 MiB is far above any real one.
pub const DEFAULT_MAX_ANSWER_BYTES: u64 = 4 * 1024 * 1024;

/// A kie.ai client. Cheap to clone: clones share one connection pool, one bound on the
/// calls in flight, and the pacers that keep them within kie.ai's rate limits.
///
/// # Examples
///
/// ```no_run
/// use kie_core::{Client, RawInput, Rate};
/// use std::time::Duration;
///
/// # async fn run() -> Result<(), kie_core::Error> {
/// let client = Client::new("your-api-key")?; // or Client::from_env() for KIE_API_KEY
/// let client = Client::builder()               // or every setting at once
///     .api_key("your-api-key")
///     .request_timeout(Duration::from_secs(30))
///     .create_rate(Rate::per(10, Duration::from_secs(10))) // leave room for other programs
///     .build()?;
/// let task = client
///     .submit(&RawInput::new("kling/v2-1-master-text-to-video", serde_json::json!({"prompt": "a fox"})))
///     .await?;
/// println!("{} credits left", client.credits().await?);
/// # let _ = task; Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
    /// Run right before each createTask is sent ([`Client::before_create`]).
    pub(crate) before_create: Option<Arc<BeforeCreate>>,
}

/// What [`Client::before_create`] runs.
type BeforeCreate = dyn Fn() -> Result<(), String> + Send + Sync;

pub(crate) struct Inner {
    pub http: reqwest::Client,
    /// `Bearer <key>`, sensitive.
    pub authorization: reqwest::header::HeaderValue,
    pub base_url: String,
    pub upload_base_url: String,
    pub request_timeout: Duration,
    pub retry: RetryPolicy,
    pub timer: Arc<dyn Timer>,
    /// One permit per API call in flight.
    pub in_flight: tokio::sync::Semaphore,
    /// The queues in front of the createTask and recordInfo budgets, shared by every
    /// clone.
    pub gates: Gates,
    /// How long each model's tasks took lately, for the adaptive poll schedule.
    pub estimates: Estimates,
    /// The largest answer read.
    pub max_answer_bytes: u64,
    /// The floor under every download's speed, unless the download sets its own.
    pub download_min_speed: MinSpeed,
    /// The key and the other secrets errors must not quote.
    pub redactor: Redactor,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &self.inner;
        f.debug_struct("Client")
            .field("api_key", &"[redacted]")
            .field("base_url", &inner.base_url)
            .field("upload_base_url", &inner.upload_base_url)
            .field("request_timeout", &inner.request_timeout)
            .field("retry", &inner.retry)
            .field("gates", &inner.gates)
            .field("max_answer_bytes", &inner.max_answer_bytes)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client for kie.ai with this API key and every other setting at its default.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Config`](crate::ErrorKind::Config) when the key is empty or cannot
    /// go in an HTTP header.
    pub fn new(api_key: impl Into<String>) -> Result<Self, Error> {
        Self::builder().api_key(api_key).build()
    }

    /// A client configured from the environment: `KIE_API_KEY`, and optionally
    /// `KIE_BASE_URL` and `KIE_UPLOAD_BASE_URL` (see [`ClientBuilder::from_env`]).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Config`](crate::ErrorKind::Config) when the key is missing or a URL is invalid.
    pub fn from_env() -> Result<Self, Error> {
        Self::builder().from_env().build()
    }

    /// A builder, for every setting.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// The API base URL in use.
    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    /// The upload base URL in use.
    pub fn upload_base_url(&self) -> &str {
        &self.inner.upload_base_url
    }

    /// This client, running `f` right before each createTask it sends: after the
    /// call's turn under the createTask rate has come, before a byte leaves. An error
    /// from `f` ends the call unsent, as
    /// [`ErrorKind::Config`](crate::ErrorKind::Config) with its message.
    ///
    /// For a journal of work in progress: a create recorded before it queued for its
    /// turn would, after a crash, be indistinguishable from one sent without an
    /// answer; recorded here, only creates actually sent are. `f` runs again before a
    /// retry (a 429). The returned client shares everything else with this one.
    pub fn before_create(
        &self,
        f: impl Fn() -> Result<(), String> + Send + Sync + 'static,
    ) -> Client {
        Client {
            inner: Arc::clone(&self.inner),
            before_create: Some(Arc::new(f)),
        }
    }

    /// How long each model's tasks took lately, as this client saw them succeed: what
    /// the adaptive poll schedule ([`crate::PollSchedule::adaptive`]) reads. A
    /// snapshot, to keep across restarts if wanted ([`ClientBuilder::generation_times`]);
    /// nothing is persisted otherwise.
    pub fn generation_times(&self) -> GenerationTimes {
        self.inner.estimates.snapshot()
    }

    /// The clock and sleeper used for retries and waiting.
    pub fn timer(&self) -> &Arc<dyn Timer> {
        &self.inner.timer
    }

    /// Starts a createTask call for a typed input (or a [`crate::RawInput`]). Set the
    /// optional callback URLs on the returned [`Submit`], then `.await` it.
    ///
    /// The input is validated before anything is sent. The call is retried only where
    /// nothing can have been created (a 429, or a connection never made); any other
    /// failure after sending says whether a task may exist
    /// ([`Error::task_may_exist`]), so no retry ever creates a second task.
    pub fn submit<'a, I: ModelInput + ?Sized>(&'a self, input: &'a I) -> Submit<'a, I> {
        Submit {
            client: self,
            input,
            callback_url: None,
            progress_callback_url: None,
            on_queued: None,
        }
    }

    /// A handle on an existing task, from its id (and model, if known): how a wait
    /// resumes after a restart.
    pub fn task(&self, task: impl Into<TaskRef>) -> Task {
        Task::new(self.clone(), task.into())
    }

    /// Fetches a task's record (`GET /api/v1/jobs/recordInfo`).
    ///
    /// # Errors
    ///
    /// Any [`Error`] of the call, with the task id attached.
    pub async fn record(&self, task_id: &str) -> Result<TaskRecord, Error> {
        self.record_queued(task_id, Admission::default()).await
    }

    /// [`Client::record`], queued for the rate limit as `admission` says (a wait's
    /// poll, urgent as the task is near its expected end).
    #[tracing::instrument(name = "kie.recordInfo", skip(self, admission))]
    pub(crate) async fn record_queued(
        &self,
        task_id: &str,
        admission: Admission,
    ) -> Result<TaskRecord, Error> {
        let url = format!("{}/api/v1/jobs/recordInfo", self.inner.base_url);
        let request = Request::new(
            self,
            Operation::RecordInfo,
            RequestKind::Repeatable,
            move |c| Ok(c.get(&url).query(&[("taskId", task_id)])),
        )
        .admission(admission);
        let result = request.send(TaskRecord::from_raw).await;
        let record = result.map_err(|e| e.for_task(task_id))?;
        self.inner.estimates.observe(&record);
        Ok(record)
    }

    /// The account's remaining credits (`GET /api/v1/chat/credit`). kie.ai documents an
    /// integer but sends fractions, so this is a float.
    ///
    /// # Errors
    ///
    /// Any [`Error`] of the call.
    #[tracing::instrument(name = "kie.credits", skip(self))]
    pub async fn credits(&self) -> Result<f64, Error> {
        let url = format!("{}/api/v1/chat/credit", self.inner.base_url);
        let request = Request::new(
            self,
            Operation::Credits,
            RequestKind::Repeatable,
            move |c| Ok(c.get(&url)),
        );
        request
            .send(|data| {
                let credits = match &value(&data) {
                    Value::Number(n) => n.as_f64(),
                    Value::String(s) => s.trim().parse().ok(),
                    _ => None,
                };
                credits.ok_or_else(|| {
                    let reason = format!(
                        "`data` is {}, not a number of credits",
                        kind_of_text(data.get())
                    );
                    (reason, data)
                })
            })
            .await
    }

    /// A fresh temporary link (valid 20 minutes) for a file kie.ai generated
    /// (`POST /api/v1/common/download-url`). kie.ai refuses other URLs with a 422.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) for a URL that is not absolute http(s), or any [`Error`]
    /// of the call.
    #[tracing::instrument(name = "kie.downloadUrl", skip(self))]
    pub async fn download_url(&self, file_url: &str) -> Result<String, Error> {
        let mut v = Violations::default();
        v.url("url", file_url);
        v.finish()?;
        let url = format!("{}/api/v1/common/download-url", self.inner.base_url);
        let body = json!({ "url": file_url });
        let request = Request::new(
            self,
            Operation::DownloadUrl,
            RequestKind::Repeatable,
            move |c| Ok(c.post(&url).json(&body)),
        );
        request
            .send(|data| match value(&data) {
                Value::String(link) if !link.is_empty() => Ok(link),
                _ => {
                    let reason = format!("`data` is {}, not a URL", kind_of_text(data.get()));
                    Err((reason, data))
                }
            })
            .await
    }

    /// Sends createTask. `secrets` (the callback URLs' queries) are kept out of errors,
    /// as the key is: a proxy that echoes the request would quote them.
    async fn create_task(
        &self,
        model: &str,
        body: Vec<u8>,
        secrets: Vec<String>,
        admission: Admission,
    ) -> Result<Task, Error> {
        let url = format!("{}/api/v1/jobs/createTask", self.inner.base_url);
        let request = Request::new(self, Operation::CreateTask, RequestKind::Create, move |c| {
            Ok(c.post(&url)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.clone()))
        })
        .secrets(secrets)
        .admission(admission);
        let task_id = request
            .send(|data| {
                let id = text(value(&data).get("taskId"));
                id.ok_or_else(|| ("the answer has no `data.taskId`".to_owned(), data))
            })
            .await?;
        tracing::Span::current().record("task_id", task_id.as_str());
        Ok(Task::created(
            self.clone(),
            TaskRef {
                id: task_id,
                model: Some(model.to_owned()),
            },
        ))
    }
}

/// A createTask call being prepared; `.await` it to send.
#[must_use = "a submission does nothing until it is awaited"]
pub struct Submit<'a, I: ?Sized> {
    client: &'a Client,
    input: &'a I,
    callback_url: Option<String>,
    progress_callback_url: Option<String>,
    on_queued: Option<OnQueued>,
}

impl<I: ?Sized> fmt::Debug for Submit<'_, I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Submit")
            .field("callback_url", &self.callback_url)
            .field("progress_callback_url", &self.progress_callback_url)
            .finish_non_exhaustive()
    }
}

impl<I: ModelInput + ?Sized> Submit<'_, I> {
    /// The URL kie.ai POSTs the outcome to when the task finishes (`callBackUrl`).
    pub fn callback_url(mut self, url: impl Into<String>) -> Self {
        self.callback_url = Some(url.into());
        self
    }

    /// The URL kie.ai POSTs progress to while the task runs (`progressCallBackUrl`;
    /// documented for Sora models only, and refused before sending for a model whose
    /// input says it takes none: [`ModelInput::takes_progress_callback`]).
    pub fn progress_callback_url(mut self, url: impl Into<String>) -> Self {
        self.progress_callback_url = Some(url.into());
        self
    }

    /// Calls `f` when the submit has to wait for its turn under the createTask rate
    /// (submits are sent in the order they were made), with its place in this client's
    /// queue and when it is expected to go, then once a rate window while it waits.
    pub fn on_queued(mut self, f: impl FnMut(QueuePosition) + Send + 'static) -> Self {
        self.on_queued = Some(Box::new(f));
        self
    }

    fn body(&self) -> Result<Vec<u8>, Error> {
        let model = self.input.model_id();
        let mut v = Violations::default();
        if let Some(url) = &self.callback_url {
            v.url("callBackUrl", url);
        }
        if let Some(url) = &self.progress_callback_url {
            if self.input.takes_progress_callback() {
                v.url("progressCallBackUrl", url);
            } else {
                v.push(
                    "progressCallBackUrl",
                    Problem::Unsupported {
                        model: model.to_owned(),
                        hint: Some("the model reports no progress; set callBackUrl".to_owned()),
                    },
                );
            }
        }
        let checks = v.finish();
        let validated = self.input.validate();
        merge(validated, checks)?;
        // Written straight to bytes: no intermediate `Value` tree on the hot path.
        let body = CreateTaskBody {
            model,
            input: self.input,
            callback_url: self.callback_url.as_deref(),
            progress_callback_url: self.progress_callback_url.as_deref(),
        };
        serde_json::to_vec(&body).map_err(|e| {
            Error::config(format!(
                "the input for {model} could not be written as JSON: {e}"
            ))
        })
    }
}

/// createTask's request body.
#[derive(Serialize)]
#[serde(bound = "I: Serialize")]
struct CreateTaskBody<'a, I: ?Sized> {
    model: &'a str,
    input: &'a I,
    #[serde(rename = "callBackUrl", skip_serializing_if = "Option::is_none")]
    callback_url: Option<&'a str>,
    #[serde(
        rename = "progressCallBackUrl",
        skip_serializing_if = "Option::is_none"
    )]
    progress_callback_url: Option<&'a str>,
}

fn merge(a: Result<(), ValidationError>, b: Result<(), ValidationError>) -> Result<(), Error> {
    match (a, b) {
        (Ok(()), Ok(())) => Ok(()),
        (Err(e), Ok(())) | (Ok(()), Err(e)) => Err(e.into()),
        (Err(a), Err(b)) => Err(a.merged(b).into()),
    }
}

impl<'a, I: ModelInput + ?Sized> IntoFuture for Submit<'a, I> {
    type Output = Result<Task, Error>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send + 'a>>;

    fn into_future(self) -> Self::IntoFuture {
        let model = self.input.model_id().to_owned();
        let body = self.body();
        let secrets = [&self.callback_url, &self.progress_callback_url]
            .into_iter()
            .flatten()
            .flat_map(|url| url_secrets(url))
            .collect();
        let client = self.client;
        let admission = Admission {
            headstart: Duration::ZERO,
            on_queued: self.on_queued.map(std::sync::Mutex::new),
        };
        let span = tracing::info_span!(
            "kie.createTask",
            model = %model,
            task_id = tracing::field::Empty
        );
        Box::pin(
            async move { client.create_task(&model, body?, secrets, admission).await }
                .instrument(span),
        )
    }
}

/// The parts of a callback URL that may hold a secret: its query (and each value) and
/// its password.
fn url_secrets(url: &str) -> Vec<String> {
    let Ok(url) = Url::parse(url) else {
        return Vec::new();
    };
    let mut secrets: Vec<String> = url.password().map(str::to_owned).into_iter().collect();
    if let Some(query) = url.query() {
        secrets.push(query.to_owned());
        secrets.extend(url.query_pairs().map(|(_, value)| value.into_owned()));
    }
    secrets
}

/// Builds a [`Client`]. Every setting has a default; only the API key is required.
#[derive(Debug, Default)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct ClientBuilder {
    api_key: Option<SecretString>,
    base_url: Option<String>,
    upload_base_url: Option<String>,
    connect_timeout: Option<Duration>,
    request_timeout: Option<Duration>,
    retry: Option<RetryPolicy>,
    http: Option<reqwest::Client>,
    timer: Option<Arc<dyn Timer>>,
    max_concurrent_requests: Option<usize>,
    create_rate: Option<Option<Rate>>,
    poll_rate: Option<Option<Rate>>,
    budget: Option<Arc<dyn Budget>>,
    generation_times: Option<GenerationTimes>,
    max_answer_bytes: Option<u64>,
    download_min_speed: Option<MinSpeed>,
    secrets: Vec<SecretString>,
}

impl ClientBuilder {
    /// The API key (required; [`ClientBuilder::from_env`] reads `KIE_API_KEY`).
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(SecretString::from(key.into()));
        self
    }

    /// The API base URL (default [`DEFAULT_BASE_URL`]; [`ClientBuilder::from_env`]
    /// reads `KIE_BASE_URL`). Plain `http://` is refused unless the host is loopback (an
    /// emulator).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// The upload base URL (default [`DEFAULT_UPLOAD_BASE_URL`];
    /// [`ClientBuilder::from_env`] reads `KIE_UPLOAD_BASE_URL`).
    pub fn upload_base_url(mut self, url: impl Into<String>) -> Self {
        self.upload_base_url = Some(url.into());
        self
    }

    /// How long to wait for a connection (default 10 s). Ignored with
    /// [`ClientBuilder::http_client`]: configure the injected client instead.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// How long one API or upload request may take, body included (default 60 s). A
    /// download, which may rightly take longer, is cut off only when no byte comes for
    /// this long. Ignored with [`ClientBuilder::http_client`] for downloads: set the
    /// injected client's `read_timeout` instead.
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = Some(timeout);
        self
    }

    /// When to retry (default [`RetryPolicy::default`]).
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = Some(policy);
        self
    }

    /// A `reqwest::Client` to send with, sharing its pool, proxy and TLS settings. Build
    /// it with `redirect(reqwest::redirect::Policy::none())`: the client then follows a
    /// file host's redirects itself, checking each. With a client that follows
    /// redirects, an API answer from another origin is still refused
    /// ([`ErrorKind::Redirected`](crate::ErrorKind::Redirected)), but the request has by then reached that origin.
    ///
    /// reqwest is compiled without a TLS crypto provider of its own unless something
    /// enables its `rustls` feature (as `rustls-aws-lc` does): building your client then
    /// panics unless a provider is installed first, for instance with
    /// `rustls::crypto::ring::default_provider().install_default()`.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }

    /// How many API calls (createTask, recordInfo, credits, download-url, uploads) the
    /// client and its clones send at once (default 32, at least 1); further calls wait their turn
    /// before sending, so their request timeout starts when they are sent. Each call in
    /// flight holds a connection and its buffers (some 30 KB), so the bound keeps memory
    /// flat when thousands of tasks are submitted or awaited at once; kie.ai's own rate
    /// limits (20 createTask per 10 s, 10 recordInfo per second) make more pointless.
    /// Downloads are not counted.
    pub fn max_concurrent_requests(mut self, max: usize) -> Self {
        self.max_concurrent_requests = Some(max);
        self
    }

    /// How fast the client and its clones send createTask (default
    /// [`Rate::KIE_CREATE_TASK`], kie.ai's 20 per 10 s per account; `None`: unpaced).
    /// Calls beyond it wait their turn, first come first served, instead of being
    /// refused with 429 by kie.ai. Lower it when other programs share the account.
    pub fn create_rate(mut self, rate: impl Into<Option<Rate>>) -> Self {
        self.create_rate = Some(rate.into());
        self
    }

    /// How fast the client and its clones send recordInfo, the status calls of waits
    /// (default [`Rate::KIE_RECORD_INFO`], kie.ai's 10 per second per key; `None`:
    /// unpaced).
    pub fn poll_rate(mut self, rate: impl Into<Option<Rate>>) -> Self {
        self.poll_rate = Some(rate.into());
        self
    }

    /// Where the places of both rates are counted (default: a
    /// [`LocalBudget`](crate::budget::LocalBudget) of this client's own, on its
    /// timer). Hand several clients one budget, or every instance of a service a
    /// `RedisBudget` (feature `redis-budget`), so that together they keep to the
    /// account's limits. Every client of one budget must use the same rates.
    pub fn budget(mut self, budget: Arc<dyn Budget>) -> Self {
        self.budget = Some(budget);
        self
    }

    /// What the adaptive poll schedule starts from: times kept from an earlier run
    /// ([`Client::generation_times`]), or made with [`GenerationTimes::record`] (real
    /// seconds). By default it starts from nothing and learns, and reads the times it
    /// learns once a task it created has ended, which tells how fast the server's clock
    /// runs (an emulator's may run fast).
    pub fn generation_times(mut self, times: GenerationTimes) -> Self {
        self.generation_times = Some(times);
        self
    }

    /// The largest API or upload answer read, in bytes (default
    /// [`DEFAULT_MAX_ANSWER_BYTES`], 4 MiB). Reading stops there and the call fails with
    /// [`ErrorKind::AnswerTooLarge`](crate::ErrorKind::AnswerTooLarge), so a runaway or hostile server cannot fill memory.
    /// Downloads are streamed and not limited by it.
    pub fn max_answer_bytes(mut self, max: u64) -> Self {
        self.max_answer_bytes = Some(max);
        self
    }

    /// The floor under every download's speed (default [`MinSpeed::DEFAULT`]); a single
    /// download can set its own with [`crate::Download::min_speed`].
    pub fn download_min_speed(mut self, floor: MinSpeed) -> Self {
        self.download_min_speed = Some(floor);
        self
    }

    /// Another secret that errors must never quote, as they never quote the API key:
    /// a webhook key, a token your callback URLs carry. (The queries of the callback
    /// URLs given to a submission are kept out of its errors without this.)
    pub fn redact(mut self, secret: impl Into<String>) -> Self {
        self.secrets.push(SecretString::from(secret.into()));
        self
    }

    /// The clock and sleeper for retries and waiting (default: tokio's real time).
    /// Tests pass a [`crate::time::VirtualTimer`].
    pub fn timer(mut self, timer: Arc<dyn Timer>) -> Self {
        self.timer = Some(timer);
        self
    }

    /// Takes what was not set explicitly from the environment: the key from
    /// `KIE_API_KEY`, the URLs from `KIE_BASE_URL` and `KIE_UPLOAD_BASE_URL`. Only this
    /// step reads the environment, so an explicitly configured client never goes
    /// elsewhere because a variable happens to be set.
    pub fn from_env(self) -> Self {
        self.with_env_vars(|name| std::env::var(name).ok())
    }

    /// [`ClientBuilder::from_env`] with the variables read by `env`.
    fn with_env_vars(mut self, env: impl Fn(&str) -> Option<String>) -> Self {
        if self.api_key.is_none() {
            self.api_key = env("KIE_API_KEY").map(SecretString::from);
        }
        self.base_url = self.base_url.or_else(|| env("KIE_BASE_URL"));
        self.upload_base_url = self.upload_base_url.or_else(|| env("KIE_UPLOAD_BASE_URL"));
        self
    }

    /// Builds the client from what was set; what was not takes its default.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Config`](crate::ErrorKind::Config) when no key is set, the key cannot
    /// go in a header, a URL is invalid or plain http to a non-loopback host, or (without
    /// an injected [`http_client`](Self::http_client)) TLS cannot be set up: no crypto
    /// provider feature and none installed, or no system roots to load.
    pub fn build(self) -> Result<Client, Error> {
        let api_key = self
            .api_key
            .filter(|k| !k.expose_secret().trim().is_empty())
            .ok_or_else(|| {
                Error::config(
                    "no API key: call ClientBuilder::api_key, or ClientBuilder::from_env (or \
                     Client::from_env) to read KIE_API_KEY (get a key at https://kie.ai/api-key)",
                )
            })?;
        // Built once: every API call sends it. Marked sensitive, so that reqwest and
        // hyper never show it (and HTTP/2 never indexes it).
        let mut authorization =
            reqwest::header::HeaderValue::from_str(&format!("Bearer {}", api_key.expose_secret()))
                .map_err(|_| {
                    Error::config(
                        "the API key holds characters that cannot go in an HTTP header".to_owned(),
                    )
                })?;
        authorization.set_sensitive(true);
        let base_url = checked_base_url("base URL", self.base_url, DEFAULT_BASE_URL)?;
        let upload_base_url = checked_base_url(
            "upload base URL",
            self.upload_base_url,
            DEFAULT_UPLOAD_BASE_URL,
        )?;
        let request_timeout = self.request_timeout.unwrap_or(Duration::from_secs(60));
        let http = match self.http {
            Some(http) => http,
            None => reqwest::Client::builder()
                // rustls with the provider and roots the cargo features chose (`tls`).
                .tls_backend_preconfigured(crate::tls::client_config()?)
                .connect_timeout(self.connect_timeout.unwrap_or(Duration::from_secs(10)))
                // Downloads have no total timeout; without this, a file host that stops
                // sending would hold a download (and `Wait::download_to`) forever.
                .read_timeout(request_timeout)
                // API calls must not follow redirects (the body would go elsewhere);
                // downloads follow them one by one, checking each (`download`).
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .map_err(|e| Error::config(format!("could not build the HTTP client: {e}")))?,
        };
        let timer = self
            .timer
            .unwrap_or_else(|| Arc::new(TokioTimer::default()));
        let budget = self
            .budget
            .unwrap_or_else(|| Arc::new(LocalBudget::new(Arc::clone(&timer))));
        let gates = Gates::new(
            &budget,
            &timer,
            self.create_rate.unwrap_or(Some(Rate::KIE_CREATE_TASK)),
            self.poll_rate.unwrap_or(Some(Rate::KIE_RECORD_INFO)),
        );
        let mut redactor = Redactor::default();
        for secret in std::iter::once(&api_key).chain(&self.secrets) {
            redactor.add(secret.expose_secret());
        }
        Ok(Client {
            before_create: None,
            inner: Arc::new(Inner {
                http,
                authorization,
                base_url,
                upload_base_url,
                request_timeout,
                retry: self.retry.unwrap_or_default(),
                timer,
                in_flight: tokio::sync::Semaphore::new(
                    self.max_concurrent_requests
                        .unwrap_or(DEFAULT_MAX_CONCURRENT_REQUESTS)
                        .max(1),
                ),
                gates,
                estimates: Estimates::new(self.generation_times),
                max_answer_bytes: self.max_answer_bytes.unwrap_or(DEFAULT_MAX_ANSWER_BYTES),
                download_min_speed: self.download_min_speed.unwrap_or(MinSpeed::DEFAULT),
                redactor,
            }),
        })
    }
}

/// Whether `url`'s host is this machine: the one place plain `http://` is acceptable.
pub(crate) fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

/// Parses and checks a base URL, returning it without a trailing slash.
fn checked_base_url(what: &str, given: Option<String>, default: &str) -> Result<String, Error> {
    let text = given.unwrap_or_else(|| default.to_owned());
    let url = Url::parse(text.trim())
        .map_err(|e| Error::config(format!("the {what} {text:?} is not a URL: {e}")))?;
    let loopback = is_loopback(&url);
    match url.scheme() {
        "https" if url.host().is_some() => {}
        "http" if loopback => {}
        "http" => {
            return Err(Error::config(format!(
                "the {what} {text:?} is plain http to a non-loopback host; use https (plain http is allowed only for 127.0.0.1/localhost, such as an emulator)"
            )));
        }
        _ => {
            return Err(Error::config(format!(
                "the {what} {text:?} must be an https URL with a host"
            )));
        }
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(Error::config(format!(
            "the {what} {text:?} must not have a query or fragment"
        )));
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    fn from_env(vars: &[(&str, &str)]) -> ClientBuilder {
        Client::builder().with_env_vars(env(vars))
    }

    #[test]
    fn settings_come_from_arguments_then_environment_then_defaults() {
        let client = from_env(&[("KIE_API_KEY", "k")]).build().unwrap();
        assert_eq!(client.base_url(), DEFAULT_BASE_URL);
        assert_eq!(client.upload_base_url(), DEFAULT_UPLOAD_BASE_URL);

        let client = from_env(&[
            ("KIE_API_KEY", "k"),
            ("KIE_BASE_URL", "http://127.0.0.1:8080/"),
            ("KIE_UPLOAD_BASE_URL", "http://localhost:9090"),
        ])
        .build()
        .unwrap();
        assert_eq!(client.base_url(), "http://127.0.0.1:8080");
        assert_eq!(client.upload_base_url(), "http://localhost:9090");

        let client = Client::builder()
            .api_key("arg")
            .base_url("https://proxy.example.com/kie")
            .with_env_vars(env(&[("KIE_BASE_URL", "http://127.0.0.1:1")]))
            .build()
            .unwrap();
        assert_eq!(client.base_url(), "https://proxy.example.com/kie");
    }

    /// Found in review: an explicitly configured client read `KIE_UPLOAD_BASE_URL`, so a
    /// variable left set in a shell sent its uploads to another host.
    #[test]
    fn an_explicit_configuration_never_reads_the_environment() {
        // `build` has no way to the environment (only `with_env_vars` reads it); what
        // is checked here is what a caller sees.
        let client = Client::builder().api_key("k").build().unwrap();
        assert_eq!(client.upload_base_url(), DEFAULT_UPLOAD_BASE_URL);
        let err = Client::builder().build().unwrap_err();
        assert!(err.to_string().contains("ClientBuilder::from_env"), "{err}");
        assert_eq!(Client::new("k").unwrap().base_url(), DEFAULT_BASE_URL);
    }

    #[test]
    fn bad_configuration_is_refused_with_a_reason() {
        #[rustfmt::skip]
        let table: &[(&[(&str, &str)], &str)] = &[
            (&[], "no API key"),
            (&[("KIE_API_KEY", "  ")], "no API key"),
            (&[("KIE_API_KEY", "a\nb")], "cannot go in an HTTP header"),
            (&[("KIE_API_KEY", "k"), ("KIE_BASE_URL", "http://api.kie.ai")], "plain http"),
            (&[("KIE_API_KEY", "k"), ("KIE_BASE_URL", "http://10.0.0.1")], "plain http"),
            (&[("KIE_API_KEY", "k"), ("KIE_BASE_URL", "ftp://x")], "https URL"),
            (&[("KIE_API_KEY", "k"), ("KIE_BASE_URL", "not a url")], "is not a URL"),
            (&[("KIE_API_KEY", "k"), ("KIE_BASE_URL", "https://x/?a=b")], "query"),
            (&[("KIE_API_KEY", "k"), ("KIE_UPLOAD_BASE_URL", "http://u.example")], "upload base URL"),
        ];
        for (vars, expected) in table {
            let err = from_env(vars).build().unwrap_err();
            assert!(matches!(err.kind(), ErrorKind::Config(_)), "{vars:?}");
            assert!(err.to_string().contains(expected), "{vars:?}: {err}");
        }
        for ok in ["http://[::1]:3000", "http://127.0.0.2", "http://LOCALHOST"] {
            assert!(
                from_env(&[("KIE_API_KEY", "k"), ("KIE_BASE_URL", ok)])
                    .build()
                    .is_ok(),
                "{ok}"
            );
        }
    }

    /// A model input that, like every generated one but Sora's, takes no progress
    /// callback.
    #[derive(serde::Serialize)]
    struct NoProgress;

    impl ModelInput for NoProgress {
        fn model_id(&self) -> &str {
            "no/progress"
        }

        fn validate(&self) -> Result<(), ValidationError> {
            Ok(())
        }

        fn takes_progress_callback(&self) -> bool {
            false
        }
    }

    /// Found by the bad-input corpus: the progress callback went to every model, and
    /// kie.ai's documents refuse it outside Sora.
    #[test]
    fn a_progress_callback_is_refused_for_a_model_that_takes_none() {
        let client = Client::builder().api_key("k").build().unwrap();
        let url = "https://example.com/progress";
        let err = client
            .submit(&NoProgress)
            .progress_callback_url(url)
            .body()
            .unwrap_err();
        let ErrorKind::InvalidInput(v) = err.kind() else {
            panic!("{err}")
        };
        assert!(
            v.concerns("progressCallBackUrl") && err.to_string().contains("set callBackUrl"),
            "{err}"
        );
        let raw = crate::RawInput::new("new/model", json!({}));
        let body = client
            .submit(&raw)
            .progress_callback_url(url)
            .body()
            .unwrap();
        let body: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            body,
            json!({ "model": "new/model", "input": {}, "progressCallBackUrl": url })
        );
    }
}

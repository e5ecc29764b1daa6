//! Sending one call: pacing, authentication, timeouts, retries by [`RetryPolicy`], and
//! turning what came back into data or an [`Error`] that says where it failed.
//!
//! What a server can do to a call is bounded here: its answer is read up to the
//! client's limit and no further, a redirect is refused rather than followed (the body
//! would go to another host), and the text an error keeps from the answer is redacted.

use std::borrow::Cow;

use bytes::{Bytes, BytesMut};
use serde_json::value::RawValue;

use crate::budget::Admission;
use crate::client::{Client, USER_AGENT};
use crate::error::{Error, ErrorKind, Operation, refused, unexpected_data};
use crate::redact::Redactor;
use crate::retry::{Attempt, Failed, RequestKind, Retries, retry_after, unanswered};
use crate::wire::{Answer, Refusal};

/// One call, ready to be sent (and re-sent) as often as its policy allows.
pub(crate) struct Request<'a, F> {
    client: &'a Client,
    operation: Operation,
    kind: RequestKind,
    build: F,
    /// The client's, unless the call has secrets of its own.
    redactor: Cow<'a, Redactor>,
    /// How the call queues for its rate limit's place.
    admission: Admission,
}

/// A success whose `data` does not have the shape the call expects: why, and the data.
pub(crate) type Unexpected = (String, Box<RawValue>);

impl<'a, F> Request<'a, F>
where
    F: Fn(&reqwest::Client) -> Result<reqwest::RequestBuilder, Error>,
{
    pub(crate) fn new(
        client: &'a Client,
        operation: Operation,
        kind: RequestKind,
        build: F,
    ) -> Self {
        Self {
            client,
            operation,
            kind,
            build,
            redactor: Cow::Borrowed(&client.inner.redactor),
            admission: Admission::default(),
        }
    }

    /// How the call queues for its place under its rate limit.
    pub(crate) fn admission(mut self, admission: Admission) -> Self {
        self.admission = admission;
        self
    }

    /// Also keeps these secrets (a callback URL's query, say) out of the call's errors.
    pub(crate) fn secrets(mut self, secrets: impl IntoIterator<Item = impl AsRef<str>>) -> Self {
        self.redactor = Cow::Owned(self.redactor.with(secrets));
        self
    }

    /// Sends until success or the policy says stop, then decodes `data` with `decode`.
    /// `build` runs before each attempt; an error from it ends the call unsent. Text an
    /// error keeps from the answer is redacted.
    pub(crate) async fn send<T>(
        self,
        decode: impl FnOnce(Box<RawValue>) -> Result<T, Unexpected>,
    ) -> Result<T, Error> {
        let operation = self.operation;
        let redactor = self.redactor.clone();
        let (status, data) = self.send_raw().await?;
        decode(data)
            .map_err(|(reason, data)| unexpected_data(operation, status, reason, &data, &redactor))
    }

    async fn send_raw(self) -> Result<(u16, Box<RawValue>), Error> {
        let inner = &self.client.inner;
        let timer = inner.timer.as_ref();
        let mut retries = Retries::new(&inner.retry, timer, self.kind, self.operation);
        loop {
            let builder = (self.build)(&inner.http)?;
            // Paced first, so that a call waiting for its turn holds no connection slot;
            // the place is held until the answer is read, and not through a retry's
            // sleep.
            let place = inner.gates.admit(self.operation, &self.admission).await;
            if let (Operation::CreateTask, Some(before)) =
                (self.operation, &self.client.before_create)
            {
                before().map_err(|why| Error::config(format!("createTask was not sent: {why}")))?;
            }
            let (outcome, result) = self.attempt(builder).await;
            drop(place);
            match result {
                Ok(data) => return Ok(data),
                Err(error) => retries.after(Failed::retry(error, outcome)).await?,
            }
        }
    }

    async fn attempt(
        &self,
        builder: reqwest::RequestBuilder,
    ) -> (Attempt, Result<(u16, Box<RawValue>), Error>) {
        let inner = &self.client.inner;
        // Held until the answer is read; the semaphore is never closed.
        let _permit = inner.in_flight.acquire().await.ok();
        let (http, request) = builder
            .header(reqwest::header::AUTHORIZATION, inner.authorization.clone())
            .header(reqwest::header::USER_AGENT, USER_AGENT)
            .header(reqwest::header::ACCEPT, "application/json")
            .timeout(inner.request_timeout)
            .build_split();
        let request = match request {
            Ok(request) => request,
            Err(e) => return self.unanswered(e),
        };
        let mut response = match http.execute(request).await {
            Ok(response) => response,
            Err(e) => return self.unanswered(e),
        };
        let http_status = response.status().as_u16();
        let retry_after = retry_after(&response);
        let answered = Attempt::Answered {
            http_status,
            code: None,
            retry_after,
        };
        // The client built by default follows no redirect; one injected with
        // `ClientBuilder::http_client` may have, and its answer comes from elsewhere.
        if let Some(location) = redirected(&response, self.base()) {
            let error = Error::of(
                self.operation,
                ErrorKind::Redirected {
                    http_status,
                    location: self.redactor.redact(&location).into_owned(),
                },
            );
            return (answered, Err(error));
        }
        let body = match read_at_most(&mut response, inner.max_answer_bytes).await {
            Ok(Read::Whole(body)) => body,
            Ok(Read::Cut(_)) => {
                let error = Error::of(
                    self.operation,
                    ErrorKind::AnswerTooLarge {
                        http_status,
                        limit: inner.max_answer_bytes,
                    },
                );
                return (Attempt::Garbled, Err(error));
            }
            Err(e) => return self.unanswered(e),
        };
        tracing::debug!(operation = %self.operation, http_status, bytes = body.len(), "answer");
        let answer = Answer {
            http_status,
            body: &body,
            redactor: &self.redactor,
        };
        match answer.into_data() {
            Ok(data) => (
                Attempt::Answered {
                    http_status,
                    code: Some(200),
                    retry_after,
                },
                Ok((http_status, data.to_owned())),
            ),
            Err(refusal) => {
                let outcome = match &refusal {
                    Refusal::Decode { .. } => Attempt::Garbled,
                    Refusal::Api { code, .. } => Attempt::Answered {
                        http_status,
                        code: Some(code.as_i64()),
                        retry_after,
                    },
                    Refusal::Http { .. } => answered,
                };
                let error = refused(self.operation, http_status, retry_after, refusal);
                (outcome, Err(error))
            }
        }
    }

    /// The base URL the call goes to: the upload host's for uploads, else the API's.
    fn base(&self) -> &str {
        let inner = &self.client.inner;
        match self.operation {
            Operation::Upload => &inner.upload_base_url,
            _ => &inner.base_url,
        }
    }

    fn unanswered(&self, e: reqwest::Error) -> (Attempt, Result<(u16, Box<RawValue>), Error>) {
        // An injected client that follows redirects gives up on a loop with an error;
        // reqwest keeps the URL, not the status, so 300 stands for "a redirect".
        if e.is_redirect() {
            let location = e.url().map_or_else(String::new, ToString::to_string);
            let http_status = e.status().map_or(300, |s| s.as_u16());
            let error = Error::of(
                self.operation,
                ErrorKind::Redirected {
                    http_status,
                    location: self.redactor.redact(&location).into_owned(),
                },
            );
            let outcome = Attempt::Answered {
                http_status,
                code: None,
                retry_after: None,
            };
            return (outcome, Err(error));
        }
        let (outcome, cause) = unanswered(&e);
        let error = Error::of(self.operation, ErrorKind::Unanswered { cause, source: e });
        (outcome, Err(error))
    }
}

/// Where an answer points instead of answering: its `Location` when it is a redirect,
/// or its own URL when the HTTP client already followed one away from `base` (a base
/// URL without a trailing slash: the answer must come from under it).
fn redirected(response: &reqwest::Response, base: &str) -> Option<String> {
    if response.status().is_redirection() {
        let location = response
            .headers()
            .get(reqwest::header::LOCATION)
            .map_or_else(
                || "nowhere (no Location)".to_owned(),
                |l| String::from_utf8_lossy(l.as_bytes()).into_owned(),
            );
        return Some(location);
    }
    let url = response.url().as_str();
    let under_base = url
        .strip_prefix(base)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with(['/', '?']));
    (!under_base).then(|| url.to_owned())
}

/// A body read up to a limit.
pub(crate) enum Read {
    /// The whole body.
    Whole(Bytes),
    /// The first `limit` bytes of a longer body; the rest was not read.
    Cut(Bytes),
}

/// Reads `response`'s body, but no more than `limit` bytes: an answer that announces a
/// longer body is not read at all, and one that turns out longer stops at the limit.
/// Memory stays bounded whatever the server sends.
pub(crate) async fn read_at_most(
    response: &mut reqwest::Response,
    limit: u64,
) -> Result<Read, reqwest::Error> {
    if response.content_length().is_some_and(|len| len > limit) {
        return Ok(Read::Cut(Bytes::new()));
    }
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    // Most answers come in one chunk, kept as it came; a second starts a copy.
    let mut first: Option<Bytes> = None;
    let mut body = BytesMut::new();
    while let Some(chunk) = response.chunk().await? {
        let held = first.as_ref().map_or(0, Bytes::len) + body.len();
        let room = limit.saturating_sub(held);
        if chunk.len() > room {
            if let Some(first) = first.take() {
                body.extend_from_slice(&first);
            }
            body.extend_from_slice(&chunk[..room]);
            return Ok(Read::Cut(body.freeze()));
        }
        match first.take() {
            None if body.is_empty() => first = Some(chunk),
            taken => {
                if let Some(taken) = taken {
                    body.extend_from_slice(&taken);
                }
                body.extend_from_slice(&chunk);
            }
        }
    }
    Ok(Read::Whole(first.unwrap_or_else(|| body.freeze())))
}

//! Sending one call: authentication, timeouts, retries by [`RetryPolicy`], and turning
//! what came back into data or an [`Error`] that says where it failed.

use secrecy::ExposeSecret;
use serde_json::value::RawValue;

use crate::client::{Client, USER_AGENT};
use crate::envelope::Answer;
use crate::error::{Error, Operation};
use crate::retry::{Attempt, Decision, RequestKind, retry_after, unanswered};

/// One call, ready to be sent (and re-sent) as often as its policy allows.
pub(crate) struct Request<'a, F> {
    client: &'a Client,
    operation: Operation,
    kind: RequestKind,
    build: F,
}

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
        }
    }

    /// Sends until success or the policy says stop; returns the HTTP status and `data`
    /// as JSON text, for the caller to decode into its own types.
    /// `build` runs before each attempt; an error from it ends the call unsent.
    pub(crate) async fn send(self) -> Result<(u16, Box<RawValue>), Error> {
        let inner = &self.client.inner;
        let started = inner.timer.now();
        let mut attempts = 0;
        loop {
            attempts += 1;
            let builder = (self.build)(&inner.http)?;
            let (outcome, result) = self.attempt(builder).await;
            let error = match result {
                Ok(data) => return Ok(data),
                Err(error) => error,
            };
            let elapsed = inner.timer.now().saturating_sub(started);
            match inner
                .retry
                .decide(self.kind, outcome, attempts, elapsed, fastrand::f64())
            {
                Decision::Stop => return Err(error),
                Decision::RetryAfter(delay) => {
                    tracing::warn!(
                        operation = %self.operation,
                        attempt = attempts,
                        ?delay,
                        error = %error,
                        "retrying"
                    );
                    inner.timer.sleep(delay).await;
                }
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
        let request = builder
            .bearer_auth(inner.api_key.expose_secret())
            .header(reqwest::header::USER_AGENT, USER_AGENT)
            .header(reqwest::header::ACCEPT, "application/json")
            .timeout(inner.request_timeout);
        let response = match request.send().await {
            Ok(response) => response,
            Err(e) => return self.unanswered(e),
        };
        let http_status = response.status().as_u16();
        let retry_after = retry_after(&response);
        let body = match response.bytes().await {
            Ok(body) => body,
            Err(e) => return self.unanswered(e),
        };
        tracing::debug!(operation = %self.operation, http_status, bytes = body.len(), "answer");
        let answer = Answer {
            operation: self.operation,
            http_status,
            retry_after,
            body: &body,
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
            Err(error) => {
                let outcome = match &error {
                    Error::Decode { .. } => Attempt::Garbled,
                    Error::Api { code, .. } => Attempt::Answered {
                        http_status,
                        code: Some(code.as_i64()),
                        retry_after,
                    },
                    _ => Attempt::Answered {
                        http_status,
                        code: None,
                        retry_after,
                    },
                };
                (outcome, Err(error))
            }
        }
    }

    fn unanswered(&self, e: reqwest::Error) -> (Attempt, Result<(u16, Box<RawValue>), Error>) {
        let (outcome, cause) = unanswered(&e);
        let error = Error::Unanswered {
            operation: self.operation,
            task_id: None,
            cause,
            source: e,
        };
        (outcome, Err(error))
    }
}

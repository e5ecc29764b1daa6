//! Fault rules: misbehaviour on demand, matched by endpoint, model or task.
//!
//! Rules are kept in order and the first matching rule that fires decides the fault
//! (LocalStack's chaos model), except latency rules, which add up and let the request
//! continue, so "slow and then 503" is expressible. Probabilities are drawn from the
//! seeded fault stream, one draw per matching probabilistic rule, so a seed reproduces
//! the same fault sequence for the same requests.

use std::{io, time::Duration};

use axum::{
    body::Body,
    http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header},
    response::{IntoResponse, Response},
};
use bytes::Bytes;
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use crate::wire::Reply;

/// The endpoints a fault rule can target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Endpoint {
    /// `POST /api/v1/jobs/createTask`.
    CreateTask,
    /// `GET /api/v1/jobs/recordInfo`.
    RecordInfo,
    /// `GET /api/v1/chat/credit`.
    Credit,
    /// `POST /api/v1/common/download-url`.
    DownloadUrl,
    /// The three upload endpoints of the upload host.
    Upload,
    /// Hosted files (results, uploads, download links).
    Files,
}

/// When a matching rule fires.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Trigger {
    /// On every matching request.
    #[default]
    Always,
    /// With this probability (0.0 to 1.0), drawn from the seeded fault stream.
    Probability {
        /// Probability of firing on each matching request.
        p: f64,
    },
    /// On the next `n` matching requests, then never again.
    NextN {
        /// How many matching requests still fire.
        n: u32,
    },
}

/// What a fired rule does to the request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum FaultEffect {
    /// Answer with this HTTP status and the kie.ai JSON envelope carrying the same code
    /// (429, 455, 500, 502, 503, 504, ...); `Retry-After` is sent when given, and for 429
    /// always (1 second when not given).
    Status {
        /// HTTP status and body `code`.
        status: u16,
        /// Seconds for the `Retry-After` header.
        #[serde(default)]
        retry_after_s: Option<u64>,
    },
    /// Answer HTTP 200 with an error `code` in the body, the case clients that only check
    /// the HTTP status get wrong.
    BodyCode {
        /// The body `code`.
        code: u16,
        /// The body `msg` (a standard message for the code when absent).
        #[serde(default)]
        msg: Option<String>,
    },
    /// Delay the answer by this many real milliseconds, then carry on.
    Latency {
        /// Added delay in real milliseconds.
        ms: u64,
    },
    /// Never answer (until `ms` real milliseconds pass, default ten minutes, or the
    /// emulator stops), then drop the connection.
    Hang {
        /// How long to hang, in real milliseconds.
        #[serde(default)]
        ms: Option<u64>,
    },
    /// Drop the connection without a complete answer.
    Reset,
    /// Send the real answer cut in half (JSON: a complete HTTP answer whose body is a
    /// JSON prefix; files: half the bytes, then the connection drops).
    TruncatedJson,
    /// Send the real answer with a JSON syntax error.
    MalformedJson,
    /// Answer with an HTML error page (as a gateway in front of the API would).
    HtmlError {
        /// HTTP status of the page.
        status: u16,
    },
    /// Answer HTTP 200 with a kie.ai envelope whose `data` string runs to this many
    /// bytes, streamed without a `Content-Length` (a runaway or hostile server).
    Oversized {
        /// The body's length in bytes.
        bytes: u64,
    },
    /// Send the real answer (head at once, announced length) at this many bytes per
    /// real second: a host that trickles and never falls silent long enough to time out.
    Trickle {
        /// Bytes per real second (at least 1).
        bytes_per_sec: u64,
    },
    /// Answer with a redirect to the same path and query on another base URL (another
    /// origin, such as `http://localhost:PORT` for an emulator on 127.0.0.1).
    Redirect {
        /// The redirect status (301, 302, 303, 307 or 308).
        status: u16,
        /// The base URL the `Location` points into.
        to: String,
    },
    /// Answer a request for a whole file (no `Range`) with `206 Partial Content` and the
    /// file's second half, as a broken cache might. Other answers pass unchanged.
    PartialContent,
    /// Answer HTTP 502 with a plain-text page that echoes the request: its line and
    /// every header, `Authorization` included (a misconfigured proxy).
    EchoRequest,
}

/// A fault rule: a selector, a trigger and an effect.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaultRule {
    /// Only requests to this endpoint (any when absent).
    #[serde(default)]
    pub endpoint: Option<Endpoint>,
    /// Only requests about this model (any when absent).
    #[serde(default)]
    pub model: Option<String>,
    /// Only requests about this task (any when absent).
    #[serde(default)]
    pub task_id: Option<String>,
    /// When the rule fires.
    #[serde(default)]
    pub trigger: Trigger,
    /// What it does.
    pub effect: FaultEffect,
    /// Apply the effect after the request has been processed (a createTask that answers
    /// 502 but did create the task). Truncated and malformed JSON, a trickle and a
    /// partial answer always mangle the real answer, so the request takes effect for
    /// them regardless.
    #[serde(default)]
    pub after_processing: bool,
}

impl FaultRule {
    /// A rule with this effect on every request (narrow it with the other methods).
    pub fn new(effect: FaultEffect) -> Self {
        Self {
            endpoint: None,
            model: None,
            task_id: None,
            trigger: Trigger::Always,
            effect,
            after_processing: false,
        }
    }

    /// Only requests to `endpoint`.
    pub fn on(mut self, endpoint: Endpoint) -> Self {
        self.endpoint = Some(endpoint);
        self
    }

    /// Only requests about `model`.
    pub fn for_model(mut self, model: impl Into<String>) -> Self {
        self.model = Some(model.into());
        self
    }

    /// Only requests about `task_id`.
    pub fn for_task(mut self, task_id: impl Into<String>) -> Self {
        self.task_id = Some(task_id.into());
        self
    }

    /// Fire on the next `n` matching requests only.
    pub fn next(mut self, n: u32) -> Self {
        self.trigger = Trigger::NextN { n };
        self
    }

    /// Fire with probability `p` on each matching request.
    pub fn probability(mut self, p: f64) -> Self {
        self.trigger = Trigger::Probability { p };
        self
    }

    /// Apply the effect after the request was processed.
    pub fn after_processing(mut self) -> Self {
        self.after_processing = true;
        self
    }

    fn matches(&self, endpoint: Endpoint, model: Option<&str>, task_id: Option<&str>) -> bool {
        self.endpoint.is_none_or(|e| e == endpoint)
            && self.model.as_deref().is_none_or(|m| Some(m) == model)
            && self.task_id.as_deref().is_none_or(|t| Some(t) == task_id)
    }
}

/// A rule as listed by the control API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FaultStatus {
    /// The id to remove it with.
    pub id: u64,
    /// The rule, with its trigger's remaining count.
    pub rule: FaultRule,
    /// How often it has fired.
    pub fired: u64,
}

/// The ordered rule list.
#[derive(Debug, Default, Clone)]
pub(crate) struct FaultBook {
    rules: Vec<FaultStatus>,
    next_id: u64,
}

/// The outcome of drawing the rules for one request.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Drawn {
    /// Real milliseconds to wait before anything else.
    pub latency_ms: u64,
    /// The deciding fault, if one fired.
    pub fault: Option<(FaultEffect, bool)>,
}

impl FaultBook {
    /// Appends a rule and returns its id.
    pub(crate) fn add(&mut self, rule: FaultRule) -> u64 {
        self.next_id += 1;
        self.rules.push(FaultStatus {
            id: self.next_id,
            rule,
            fired: 0,
        });
        self.next_id
    }

    /// Removes a rule; whether it existed.
    pub(crate) fn remove(&mut self, id: u64) -> bool {
        let before = self.rules.len();
        self.rules.retain(|r| r.id != id);
        before != self.rules.len()
    }

    /// All rules in order.
    pub(crate) fn list(&self) -> Vec<FaultStatus> {
        self.rules.clone()
    }

    /// Total firings of all rules.
    pub(crate) fn fired(&self) -> u64 {
        self.rules.iter().map(|r| r.fired).sum()
    }

    /// Draws the rules for one request.
    pub(crate) fn draw(
        &mut self,
        rng: &mut fastrand::Rng,
        endpoint: Endpoint,
        model: Option<&str>,
        task_id: Option<&str>,
    ) -> Drawn {
        let mut drawn = Drawn::default();
        for status in &mut self.rules {
            if !status.rule.matches(endpoint, model, task_id) {
                continue;
            }
            let fires = match &mut status.rule.trigger {
                Trigger::Always => true,
                Trigger::Probability { p } => rng.f64() < *p,
                Trigger::NextN { n } if *n > 0 => {
                    *n -= 1;
                    true
                }
                Trigger::NextN { .. } => false,
            };
            if !fires {
                continue;
            }
            status.fired += 1;
            match &status.rule.effect {
                FaultEffect::Latency { ms } => {
                    drawn.latency_ms = drawn.latency_ms.saturating_add(*ms)
                }
                effect => {
                    drawn.fault = Some((effect.clone(), status.rule.after_processing));
                    break;
                }
            }
        }
        drawn
    }
}

/// What a fault may need of the request it breaks.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Incoming<'a> {
    /// The request's headers (echoed by [`FaultEffect::EchoRequest`]).
    pub headers: &'a HeaderMap,
    /// The method (echoed).
    pub method: &'a Method,
    /// The path and query (kept by [`FaultEffect::Redirect`], echoed).
    pub uri: &'a Uri,
}

impl FaultEffect {
    /// Whether the effect changes the real answer (so the request is processed first)
    /// rather than replacing it.
    fn mangles(&self) -> bool {
        matches!(
            self,
            FaultEffect::TruncatedJson
                | FaultEffect::MalformedJson
                | FaultEffect::Trickle { .. }
                | FaultEffect::PartialContent
        )
    }
}

/// Waits out the latency of `drawn`, then returns the answer that replaces processing, if
/// the fault says so.
pub(crate) async fn before(
    drawn: &Drawn,
    incoming: Incoming<'_>,
    shutdown: &watch::Receiver<bool>,
) -> Option<Response> {
    if drawn.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(drawn.latency_ms)).await;
    }
    match &drawn.fault {
        None | Some((_, true)) => None,
        Some((effect, false)) if effect.mangles() => None,
        Some((effect, false)) => Some(render(effect, None, incoming, shutdown).await),
    }
}

/// Applies a fault that comes after processing to the real answer.
pub(crate) async fn after(
    drawn: &Drawn,
    reply: Reply,
    incoming: Incoming<'_>,
    shutdown: &watch::Receiver<bool>,
) -> Response {
    match &drawn.fault {
        Some((effect, after)) if *after || effect.mangles() => {
            render(effect, Some(reply), incoming, shutdown).await
        }
        _ => reply.into_response(),
    }
}

/// The standard message of an HTTP status in the kie.ai envelope.
fn standard_message(code: u16) -> &'static str {
    match code {
        401 => crate::wire::MSG_UNAUTHORIZED,
        402 => crate::wire::MSG_INSUFFICIENT_CREDITS,
        404 => "Not found",
        422 => "Validation error",
        429 => "Too many requests, please slow down",
        433 => "Sub-key usage exceeds its limit",
        455 => "Service unavailable: system maintenance",
        500 => "Internal server error",
        501 => "Generation failed",
        502 => "Bad gateway",
        503 => "Service temporarily unavailable",
        504 => "Gateway timeout",
        505 => "Feature disabled",
        _ => "Error",
    }
}

async fn render(
    effect: &FaultEffect,
    reply: Option<Reply>,
    incoming: Incoming<'_>,
    shutdown: &watch::Receiver<bool>,
) -> Response {
    match effect {
        FaultEffect::Status {
            status,
            retry_after_s,
        } => {
            let http = StatusCode::from_u16(*status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let mut out = Reply::error_with_status(http, *status, standard_message(*status));
            let retry_after = retry_after_s.or((*status == 429).then_some(1));
            if let Some(seconds) = retry_after {
                out = out.with_header(header::RETRY_AFTER, HeaderValue::from(seconds));
            }
            out.into_response()
        }
        FaultEffect::BodyCode { code, msg } => {
            let msg = msg
                .clone()
                .unwrap_or_else(|| standard_message(*code).to_owned());
            Reply::error_with_status(StatusCode::OK, *code, &msg).into_response()
        }
        FaultEffect::Latency { .. } => reply
            .map(IntoResponse::into_response)
            .unwrap_or_else(|| aborted(Bytes::new())),
        FaultEffect::Hang { ms } => {
            let mut shutdown = shutdown.clone();
            let wait = Duration::from_millis(ms.unwrap_or(600_000));
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = shutdown.wait_for(|stop| *stop) => {}
            }
            aborted(Bytes::new())
        }
        FaultEffect::Reset => aborted(Bytes::new()),
        FaultEffect::TruncatedJson => match reply {
            Some(reply) if reply.content_type == "application/json" => {
                let cut = reply.body.len() / 2;
                Reply {
                    body: reply.body.slice(..cut),
                    ..reply
                }
                .into_response()
            }
            Some(reply) => truncated_stream(reply),
            None => aborted(Bytes::new()),
        },
        FaultEffect::MalformedJson => match reply {
            Some(reply) => {
                let mut body = Vec::with_capacity(reply.body.len() + 2);
                body.push(b'{');
                body.extend_from_slice(b",,");
                body.extend_from_slice(reply.body.strip_prefix(b"{").unwrap_or(&reply.body));
                Reply {
                    body: Bytes::from(body),
                    content_type: "application/json",
                    ..reply
                }
                .into_response()
            }
            None => aborted(Bytes::new()),
        },
        FaultEffect::HtmlError { status } => html_page(*status),
        FaultEffect::Oversized { bytes } => oversized(*bytes),
        FaultEffect::Trickle { bytes_per_sec } => match reply {
            Some(reply) => trickle(reply, *bytes_per_sec, shutdown.clone()),
            None => aborted(Bytes::new()),
        },
        FaultEffect::Redirect { status, to } => {
            let target = incoming.uri.path_and_query().map_or("/", |p| p.as_str());
            let location = format!("{}{target}", to.trim_end_matches('/'));
            let mut response = StatusCode::from_u16(*status)
                .unwrap_or(StatusCode::TEMPORARY_REDIRECT)
                .into_response();
            if let Ok(location) = HeaderValue::from_str(&location) {
                response.headers_mut().insert(header::LOCATION, location);
            }
            response
        }
        FaultEffect::PartialContent => match reply {
            Some(reply) if reply.status == StatusCode::OK => second_half(reply),
            Some(reply) => reply.into_response(),
            None => aborted(Bytes::new()),
        },
        FaultEffect::EchoRequest => {
            let mut page = format!("{} {} HTTP/1.1\r\n", incoming.method, incoming.uri);
            for (name, value) in incoming.headers {
                page.push_str(&format!(
                    "{name}: {}\r\n",
                    String::from_utf8_lossy(value.as_bytes())
                ));
            }
            let mut response = (StatusCode::BAD_GATEWAY, page).into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            );
            response
        }
    }
}

/// A success envelope whose `data` string makes the body `bytes` long, produced as it
/// is sent (the emulator holds none of it) and with no `Content-Length`.
fn oversized(bytes: u64) -> Response {
    const OPEN: &[u8] = br#"{"code":200,"msg":"success","data":""#;
    const CHUNK: usize = 64 * 1024;
    let filler = Bytes::from(vec![b'x'; CHUNK]);
    let total = bytes.saturating_sub((OPEN.len() + 2) as u64);
    let chunks = futures_util::stream::unfold(0u64, move |sent| {
        let filler = filler.clone();
        async move {
            (sent < total).then(|| {
                let n = (total - sent).min(CHUNK as u64);
                let chunk = filler.slice(..usize::try_from(n).unwrap_or(CHUNK));
                (Ok::<_, io::Error>(chunk), sent + n)
            })
        }
    });
    let body = futures_util::stream::iter([Ok(Bytes::from_static(OPEN))])
        .chain(chunks)
        .chain(futures_util::stream::iter([Ok(Bytes::from_static(b"\"}"))]));
    let mut response = (StatusCode::OK, Body::from_stream(body)).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// The real answer, its length announced, its body sent a little at a time: ten
/// slices a second, `bytes_per_sec` in all.
fn trickle(reply: Reply, bytes_per_sec: u64, shutdown: watch::Receiver<bool>) -> Response {
    let slice = usize::try_from((bytes_per_sec / 10).max(1)).unwrap_or(1);
    let full = reply.body.len();
    let body = futures_util::stream::unfold(
        (reply.body.clone(), shutdown),
        move |(rest, mut shutdown)| async move {
            if rest.is_empty() || *shutdown.borrow() {
                return None;
            }
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(100)) => {}
                _ = shutdown.wait_for(|stop| *stop) => return None,
            }
            let n = slice.min(rest.len());
            Some((
                Ok::<_, io::Error>(rest.slice(..n)),
                (rest.slice(n..), shutdown),
            ))
        },
    );
    let mut response = (reply.status, Body::from_stream(body)).into_response();
    keep_head(&mut response, reply, Some(full));
    response
}

/// A whole-file answer turned into a `206` carrying only the file's second half.
fn second_half(reply: Reply) -> Response {
    let len = reply.body.len();
    let start = len / 2;
    let body = reply.body.slice(start..);
    let mut response = (StatusCode::PARTIAL_CONTENT, body).into_response();
    keep_head(&mut response, reply, None);
    if let Ok(range) =
        HeaderValue::from_str(&format!("bytes {start}-{}/{len}", len.saturating_sub(1)))
    {
        response.headers_mut().insert(header::CONTENT_RANGE, range);
    }
    response
}

/// Gives a mangled answer the real one's content type and headers, with `length` as
/// its `Content-Length` (the body's own when `None`).
fn keep_head(response: &mut Response, reply: Reply, length: Option<usize>) {
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(reply.content_type),
    );
    for (name, value) in reply.headers {
        if name != header::CONTENT_LENGTH {
            headers.insert(name, value);
        }
    }
    if let Some(length) = length {
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    }
}

/// A gateway-style HTML error page.
fn html_page(status: u16) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
    let title = format!(
        "{} {}",
        code.as_u16(),
        code.canonical_reason().unwrap_or("Error")
    );
    let page = format!(
        "<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>{title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
    );
    let mut response = (code, page).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    response
}

/// A response whose body sends `prefix` and then fails, so the server drops the
/// connection and the client sees an incomplete answer (with an empty prefix, no answer
/// at all: hyper sends nothing when the body fails at once).
pub(crate) fn aborted(prefix: Bytes) -> Response {
    let reset = || io::Error::new(io::ErrorKind::ConnectionReset, "fault: connection reset");
    let body = if prefix.is_empty() {
        Body::from_stream(futures_util::stream::iter([Err::<Bytes, _>(reset())]))
    } else {
        // The failure comes one poll after the prefix: hyper flushes the head and the
        // prefix while the body is pending, and would drop both unsent otherwise.
        let failure = futures_util::stream::once(async move {
            tokio::task::yield_now().await;
            Err(reset())
        });
        Body::from_stream(futures_util::stream::iter([Ok(prefix)]).chain(failure))
    };
    (StatusCode::OK, body).into_response()
}

/// A non-JSON answer (a file) whose body stops halfway with the full length announced.
fn truncated_stream(reply: Reply) -> Response {
    let full = reply.body.len();
    let mut response = aborted(reply.body.slice(..full / 2));
    *response.status_mut() = reply.status;
    keep_head(&mut response, reply, Some(full));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_matching_rule_wins_and_latency_adds_up() {
        let mut book = FaultBook::default();
        book.add(FaultRule::new(FaultEffect::Latency { ms: 5 }));
        book.add(FaultRule::new(FaultEffect::Latency { ms: 7 }).on(Endpoint::RecordInfo));
        book.add(
            FaultRule::new(FaultEffect::Status {
                status: 503,
                retry_after_s: None,
            })
            .on(Endpoint::RecordInfo),
        );
        book.add(FaultRule::new(FaultEffect::Reset));
        let mut rng = fastrand::Rng::with_seed(1);
        let drawn = book.draw(&mut rng, Endpoint::RecordInfo, None, None);
        assert_eq!(drawn.latency_ms, 12);
        assert_eq!(
            drawn.fault,
            Some((
                FaultEffect::Status {
                    status: 503,
                    retry_after_s: None
                },
                false
            ))
        );
        let drawn = book.draw(&mut rng, Endpoint::Credit, None, None);
        assert_eq!(
            (drawn.latency_ms, drawn.fault),
            (5, Some((FaultEffect::Reset, false)))
        );
    }

    #[test]
    fn next_n_fires_exactly_n_times() {
        let mut book = FaultBook::default();
        let id = book.add(FaultRule::new(FaultEffect::Reset).for_model("m").next(2));
        let mut rng = fastrand::Rng::with_seed(1);
        let fired: Vec<bool> = (0..4)
            .map(|_| {
                book.draw(&mut rng, Endpoint::CreateTask, Some("m"), None)
                    .fault
                    .is_some()
            })
            .collect();
        assert_eq!(fired, [true, true, false, false]);
        assert!(
            book.draw(&mut rng, Endpoint::CreateTask, Some("other"), None)
                .fault
                .is_none()
        );
        assert_eq!(book.list()[0].fired, 2);
        assert!(book.remove(id));
        assert!(!book.remove(id));
    }

    #[test]
    fn probability_draws_are_reproducible() {
        let draws = |seed| {
            let mut book = FaultBook::default();
            book.add(FaultRule::new(FaultEffect::Reset).probability(0.5));
            let mut rng = fastrand::Rng::with_seed(seed);
            (0..64)
                .map(|_| {
                    book.draw(&mut rng, Endpoint::RecordInfo, None, None)
                        .fault
                        .is_some()
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(draws(3), draws(3));
        assert!(draws(3).contains(&true) && draws(3).contains(&false));
    }

    #[test]
    fn rules_round_trip_as_json() {
        let rule = FaultRule::new(FaultEffect::Status {
            status: 429,
            retry_after_s: Some(3),
        })
        .on(Endpoint::CreateTask)
        .next(1);
        let text = serde_json::to_string(&rule).unwrap_or_default();
        let back: Result<FaultRule, _> = serde_json::from_str(&text);
        assert_eq!(back.ok(), Some(rule));
        let minimal: Result<FaultRule, _> = serde_json::from_str(r#"{"effect":{"kind":"reset"}}"#);
        assert_eq!(minimal.ok(), Some(FaultRule::new(FaultEffect::Reset)));
    }
}

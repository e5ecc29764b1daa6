//! The kie.ai response envelope and the exact messages the live API sends.
//!
//! Every api.kie.ai answer is `{code, msg, data}`; the upload host adds `success`. The
//! messages below are the ones captured from the live service, so that an SDK matching on
//! them is tested against the real text.

use std::sync::Arc;

use axum::{
    extract::State,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use bytes::Bytes;
use serde_json::{Value, json};

use crate::state::Shared;

/// Live message for an unknown or unpublished model on createTask.
pub(crate) const MSG_UNKNOWN_MODEL: &str = "The page does not exist or is not published";
/// Live message for a task id recordInfo does not know (yet).
pub(crate) const MSG_RECORD_NULL: &str = "recordInfo is null";
/// Documented message for a missing or wrong Bearer key.
pub(crate) const MSG_UNAUTHORIZED: &str = "You do not have access permissions";
/// Documented message for recordInfo without a taskId.
pub(crate) const MSG_TASK_ID_REQUIRED: &str = "taskId parameter is required";
/// Message for a balance that cannot pay for the task.
pub(crate) const MSG_INSUFFICIENT_CREDITS: &str = "Credits insufficient";
/// Live message for a download-url request about a file kie.ai did not generate.
pub(crate) const MSG_FOREIGN_URL: &str = "url is wrong";
/// Upload host message for a missing or wrong Bearer key.
pub(crate) const MSG_UPLOAD_UNAUTHORIZED: &str = "Authentication failed: Invalid API Key";
/// Upload host message on success.
pub(crate) const MSG_UPLOADED: &str = "File uploaded successfully";

/// A JSON reply before faults are applied: the HTTP status, extra headers and body bytes.
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    pub status: StatusCode,
    /// The body `code` of one of kie.ai's own error answers, which [`error_status`] makes
    /// the HTTP status when [`crate::Config::http_status_errors`] is on; `None` for answers
    /// whose HTTP status is fixed (successes, files, rate limits, injected faults).
    pub error_code: Option<u16>,
    pub headers: Vec<(header::HeaderName, HeaderValue)>,
    pub body: Bytes,
    pub content_type: &'static str,
}

impl Reply {
    /// A JSON reply with the given HTTP status.
    pub(crate) fn json(status: StatusCode, body: &Value) -> Self {
        Self {
            status,
            error_code: None,
            headers: Vec::new(),
            body: Bytes::from(serde_json::to_vec(body).unwrap_or_default()),
            content_type: "application/json",
        }
    }

    /// The api.kie.ai success envelope.
    pub(crate) fn success(data: Value) -> Self {
        Self::json(
            StatusCode::OK,
            &json!({"code": 200, "msg": "success", "data": data}),
        )
    }

    /// One of kie.ai's own error answers: HTTP 200 with the error in the body `code`, as
    /// every recorded live error came; [`error_status`] turns the code into the HTTP
    /// status when the configuration asks for it.
    fn refusal(code: u16, body: &Value) -> Self {
        Self {
            error_code: Some(code),
            ..Self::json(StatusCode::OK, body)
        }
    }

    /// An api.kie.ai error envelope, answered as kie.ai answers its own errors (see
    /// [`Reply::refusal`]).
    pub(crate) fn error(code: u16, msg: &str) -> Self {
        Self::refusal(code, &json!({"code": code, "msg": msg, "data": null}))
    }

    /// An api.kie.ai error envelope under this HTTP status whatever the configuration:
    /// a gateway's refusal (kie.ai documents HTTP 429 for its rate limits) or an injected
    /// fault, which must produce exactly what it names.
    pub(crate) fn error_with_status(status: StatusCode, code: u16, msg: &str) -> Self {
        Self::json(status, &json!({"code": code, "msg": msg, "data": null}))
    }

    /// The documented 401 body, which has no `data` key.
    pub(crate) fn unauthorized() -> Self {
        Self::refusal(401, &json!({"code": 401, "msg": MSG_UNAUTHORIZED}))
    }

    /// An upload-host envelope (`success`, `code`, `msg`, optional `data`); an error is
    /// answered as kie.ai answers its own errors (see [`Reply::refusal`]).
    pub(crate) fn upload(code: u16, msg: &str, data: Option<Value>) -> Self {
        let mut body = json!({"success": code == 200, "code": code, "msg": msg});
        if let Some(data) = data {
            body["data"] = data;
        }
        if code == 200 {
            Self::json(StatusCode::OK, &body)
        } else {
            Self::refusal(code, &body)
        }
    }

    /// Adds a header.
    pub(crate) fn with_header(mut self, name: header::HeaderName, value: HeaderValue) -> Self {
        self.headers.push((name, value));
        self
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        let mut response = (self.status, self.body).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(self.content_type),
        );
        for (name, value) in self.headers {
            response.headers_mut().insert(name, value);
        }
        if let Some(code) = self.error_code {
            response.extensions_mut().insert(ErrorCode(code));
        }
        response
    }
}

/// Marks a response as one of kie.ai's own error answers, with its body `code`.
#[derive(Debug, Clone, Copy)]
struct ErrorCode(u16);

/// The one place an error answer's HTTP status is decided, for every endpoint: HTTP 200
/// as live kie.ai answers (the default), or the body `code` as the HTTP status when
/// [`crate::Config::http_status_errors`] asks for it, as some proxies and older
/// endpoints do. Answers with a fixed status (rate limits, faults, files, unknown
/// routes, the control plane) carry no mark and pass unchanged.
pub(crate) async fn error_status(
    State(shared): State<Arc<Shared>>,
    mut response: Response,
) -> Response {
    if let Some(&ErrorCode(code)) = response.extensions().get::<ErrorCode>()
        && shared.with_state(|state| state.config.http_status_errors)
        && let Ok(status) = StatusCode::from_u16(code)
    {
        *response.status_mut() = status;
    }
    response
}

/// Formats Unix milliseconds as ISO 8601 UTC (`2026-03-01T12:00:00.000Z`), the format of
/// the upload host's `uploadedAt`.
pub(crate) fn iso8601(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let millis = ms.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to (year, month, day), Howard Hinnant's algorithm.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso8601_formats_known_instants() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso8601(1_765_186_736_545), "2025-12-08T09:38:56.545Z");
        assert_eq!(iso8601(951_782_400_000), "2000-02-29T00:00:00.000Z");
    }

    #[test]
    fn error_envelope_answers_http_200_as_live_and_keeps_its_code() {
        let reply = Reply::error(422, MSG_RECORD_NULL);
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(reply.error_code, Some(422));
        let body: Value = serde_json::from_slice(&reply.body).unwrap_or_default();
        assert_eq!(
            body,
            json!({"code": 422, "msg": "recordInfo is null", "data": null})
        );
    }
}

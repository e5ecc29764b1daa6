//! The api.kie.ai endpoints: createTask, recordInfo, credits and download-url.
//!
//! Each handler draws the fault rules first (a gateway misbehaves before the service
//! sees the request), then authenticates, rate-limits and validates in the order the
//! live service appears to, and answers in the live envelope.

use std::{collections::HashMap, sync::Arc};

use axum::{
    extract::{Query, State, rejection::QueryRejection},
    http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header},
    response::Response,
};
use bytes::Bytes;
use serde_json::{Value, json};

use crate::{
    credits,
    faults::{self, Endpoint},
    ids, lifecycle,
    limits::Limit,
    state::Shared,
    wire::{self, Reply},
};

/// The Bearer key of a request, if it has a non-empty one.
pub(crate) fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, key) = value.split_once(' ')?;
    let key = key.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !key.is_empty()).then(|| key.to_owned())
}

/// The caller's key when it is acceptable: any non-empty key, or exactly the configured one.
pub(crate) fn authorize(shared: &Shared, headers: &HeaderMap) -> Option<String> {
    let key = bearer(headers)?;
    match &shared.api_key {
        Some(expected) if *expected != key => None,
        _ => Some(key),
    }
}

/// A 429 for an exceeded rate limit, under HTTP 429 in every mode: kie.ai documents HTTP
/// 429 for its rate limits, and no recorded live answer says otherwise.
fn rate_limited(limit: Limit, retry_after_s: u64) -> Reply {
    let msg = match limit {
        Limit::CreateTask => {
            "Rate limit exceeded: at most 20 new generation requests per 10 seconds"
        }
        Limit::RecordInfo => "Rate limit exceeded: at most 10 task queries per second",
    };
    Reply::error_with_status(StatusCode::TOO_MANY_REQUESTS, 429, msg)
        .with_header(header::RETRY_AFTER, HeaderValue::from(retry_after_s))
}

/// Applies the rate limit when enabled, and counts an admitted request towards the peak
/// windows (see [`Stats`](crate::Stats)) either way.
fn admit(shared: &Shared, limit: Limit, key: &str, now: i64) -> Result<(), Reply> {
    shared.with_state(|state| {
        if state.config.rate_limits {
            state
                .limiter
                .admit(limit, key, now)
                .map_err(|retry_after| {
                    state.stats.rate_limited += 1;
                    rate_limited(limit, retry_after)
                })?;
        }
        state.stats.peaks.record(limit, key, now);
        Ok(())
    })
}

/// `POST /api/v1/jobs/createTask`.
pub(crate) async fn create_task(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let parsed = serde_json::from_slice::<Value>(&body);
    let model = parsed
        .as_ref()
        .ok()
        .and_then(|v| v.get("model"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let drawn = shared.with_state(|state| {
        state.count(Endpoint::CreateTask);
        state.faults.draw(
            &mut state.streams.faults,
            Endpoint::CreateTask,
            model.as_deref(),
            None,
        )
    });
    let incoming = faults::Incoming {
        headers: &headers,
        method: &method,
        uri: &uri,
    };
    if let Some(response) = faults::before(&drawn, incoming, &shared.shutdown).await {
        return response;
    }
    let reply = create_reply(&shared, &headers, parsed);
    faults::after(&drawn, reply, incoming, &shared.shutdown).await
}

fn create_reply(
    shared: &Shared,
    headers: &HeaderMap,
    parsed: Result<Value, serde_json::Error>,
) -> Reply {
    let Some(key) = authorize(shared, headers) else {
        return Reply::unauthorized();
    };
    let now = shared.clock.now_ms();
    if let Err(reply) = admit(shared, Limit::CreateTask, &key, now) {
        return reply;
    }
    let request = match parsed {
        Ok(request @ Value::Object(_)) => request,
        Ok(_) => return Reply::error(422, "Invalid request: the body must be a JSON object"),
        Err(error) => {
            return Reply::error(
                422,
                &format!("Invalid request: the body is not valid JSON: {error}"),
            );
        }
    };
    let Some(spec) = request
        .get("model")
        .and_then(Value::as_str)
        .and_then(|id| shared.catalog.get(id))
    else {
        return Reply::error(422, wire::MSG_UNKNOWN_MODEL);
    };
    let ignore_unknown = shared.with_state(|state| state.config.ignore_unknown_input_fields);
    let violations: Vec<_> = spec
        .violations(&request)
        .into_iter()
        .filter(|violation| !(ignore_unknown && violation.is_unknown_input_field()))
        .collect();
    if !violations.is_empty() {
        shared.with_state(|state| state.stats.rejected_invalid += 1);
        let list: Vec<String> = violations.iter().map(ToString::to_string).collect();
        return Reply::error(422, &format!("Invalid request: {}", list.join("; ")));
    }
    shared.with_state(|state| {
        let input = request.get("input").cloned().unwrap_or(Value::Null);
        let price = lifecycle::price(state, &spec.id, &input);
        if state.credits < price {
            return Reply::error(402, wire::MSG_INSUFFICIENT_CREDITS);
        }
        let id = lifecycle::create(shared, state, now, spec, request, price);
        Reply::success(json!({"taskId": id, "recordId": id}))
    })
}

/// `GET /api/v1/jobs/recordInfo?taskId=...`.
pub(crate) async fn record_info(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Response {
    // An unparsable query is answered like a missing taskId, in the kie.ai envelope.
    let task_id = query
        .ok()
        .and_then(|Query(query)| query.get("taskId").map(|t| t.trim().to_owned()))
        .filter(|t| !t.is_empty());
    let drawn = shared.with_state(|state| {
        state.count(Endpoint::RecordInfo);
        let model = task_id
            .as_ref()
            .and_then(|id| state.tasks.get(id))
            .map(|t| t.model.clone());
        state.faults.draw(
            &mut state.streams.faults,
            Endpoint::RecordInfo,
            model.as_deref(),
            task_id.as_deref(),
        )
    });
    let incoming = faults::Incoming {
        headers: &headers,
        method: &method,
        uri: &uri,
    };
    if let Some(response) = faults::before(&drawn, incoming, &shared.shutdown).await {
        return response;
    }
    let reply = record_reply(&shared, &headers, task_id.as_deref());
    faults::after(&drawn, reply, incoming, &shared.shutdown).await
}

fn record_reply(shared: &Shared, headers: &HeaderMap, task_id: Option<&str>) -> Reply {
    let Some(key) = authorize(shared, headers) else {
        return Reply::unauthorized();
    };
    let now = shared.clock.now_ms();
    if let Err(reply) = admit(shared, Limit::RecordInfo, &key, now) {
        return reply;
    }
    let Some(task_id) = task_id else {
        return Reply::error(400, wire::MSG_TASK_ID_REQUIRED);
    };
    shared.with_state(|state| {
        let Some(task) = state.tasks.get_mut(task_id) else {
            return Reply::error(422, wire::MSG_RECORD_NULL);
        };
        if task.null_polls_left > 0 {
            task.null_polls_left -= 1;
            return Reply::error(422, wire::MSG_RECORD_NULL);
        }
        match lifecycle::poll(shared, state, task_id, now) {
            Some(position) => {
                let record = state
                    .tasks
                    .get(task_id)
                    .map(|t| t.record(position))
                    .unwrap_or(Value::Null);
                Reply::success(record)
            }
            None => Reply::error(422, wire::MSG_RECORD_NULL),
        }
    })
}

/// `GET /api/v1/chat/credit`.
pub(crate) async fn credit(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let drawn = shared.with_state(|state| {
        state.count(Endpoint::Credit);
        state
            .faults
            .draw(&mut state.streams.faults, Endpoint::Credit, None, None)
    });
    let incoming = faults::Incoming {
        headers: &headers,
        method: &method,
        uri: &uri,
    };
    if let Some(response) = faults::before(&drawn, incoming, &shared.shutdown).await {
        return response;
    }
    let reply = match authorize(&shared, &headers) {
        None => Reply::unauthorized(),
        Some(_) => Reply::success(credits::balance_json(
            shared.with_state(|state| state.credits),
        )),
    };
    faults::after(&drawn, reply, incoming, &shared.shutdown).await
}

/// `POST /api/v1/common/download-url` with `{"url": ...}`.
pub(crate) async fn download_url(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let drawn = shared.with_state(|state| {
        state.count(Endpoint::DownloadUrl);
        state
            .faults
            .draw(&mut state.streams.faults, Endpoint::DownloadUrl, None, None)
    });
    let incoming = faults::Incoming {
        headers: &headers,
        method: &method,
        uri: &uri,
    };
    if let Some(response) = faults::before(&drawn, incoming, &shared.shutdown).await {
        return response;
    }
    let reply = download_reply(&shared, &headers, &body);
    faults::after(&drawn, reply, incoming, &shared.shutdown).await
}

fn download_reply(shared: &Shared, headers: &HeaderMap, body: &[u8]) -> Reply {
    if authorize(shared, headers).is_none() {
        return Reply::unauthorized();
    }
    let url = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v.get("url").and_then(Value::as_str).map(str::to_owned));
    let Some(url) = url else {
        return Reply::error(422, "Invalid request: url is required");
    };
    let prefix = format!("{}/files/", shared.base_url);
    let Some(path) = url
        .strip_prefix(&prefix)
        .map(|p| p.split(['?', '#']).next().unwrap_or(p).to_owned())
    else {
        return Reply::error(422, wire::MSG_FOREIGN_URL);
    };
    let now = shared.clock.now_ms();
    shared.with_state(|state| {
        let Some(file) = state.files.get(&path).filter(|f| f.task_id.is_some()) else {
            return Reply::error(422, wire::MSG_FOREIGN_URL);
        };
        if file.expires_ms <= now {
            return Reply::error(422, "The file has expired");
        }
        let token = ids::hex32(&mut state.streams.ids);
        let name = path.rsplit('/').next().unwrap_or("file").to_owned();
        let expires = now
            .saturating_add(i64::try_from(state.config.download_link_ttl_ms).unwrap_or(i64::MAX));
        state.files.link(token.clone(), path, expires);
        Reply::success(json!(format!(
            "{}/files/dl/{token}/{name}",
            shared.base_url
        )))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_parsing() {
        let mut headers = HeaderMap::new();
        assert_eq!(bearer(&headers), None);
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer abc"),
        );
        assert_eq!(bearer(&headers), Some("abc".to_owned()));
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("bearer   abc "),
        );
        assert_eq!(bearer(&headers), Some("abc".to_owned()));
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer "));
        assert_eq!(bearer(&headers), None);
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic abc"));
        assert_eq!(bearer(&headers), None);
    }
}

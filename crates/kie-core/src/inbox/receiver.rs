//! The callback receiver for axum: the inbox's router, and [`serve`], a server for it.
//!
//! A receiver is a public URL, so it must not let slow clients hold it: a client that
//! sends its headers or body a byte at a time keeps a connection, a task and its buffer
//! for as long as it likes. The router bounds the body (size, silence while reading it)
//! and the whole request. The headers are read before any router runs, by the server:
//! `axum::serve` sets no header timeout and takes any number of connections, so
//! [`serve`] is a small hyper server that sets both. To mount the router in a server of
//! your own, give it a header read timeout (hyper's `http1::Builder::header_read_timeout`
//! with a timer, as [`serve`] does, or your proxy's equivalent).

use std::io;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower_http::timeout::{RequestBodyTimeoutLayer, TimeoutError, TimeoutLayer};

use super::{CallbackInbox, Receipt};
use crate::callback::CallbackError;

/// The largest callback body accepted; kie.ai's are a few KB.
pub const MAX_CALLBACK_BODY: usize = 256 * 1024;

/// How long a receiver gives each client, and how many it serves at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReceiverLimits {
    header_timeout: Duration,
    body_timeout: Duration,
    request_timeout: Duration,
    max_connections: usize,
}

impl Default for ReceiverLimits {
    /// Headers within 10 s, no silence over 10 s in a body, 30 s per request, 256
    /// connections. kie.ai sends a few KB at once; these leave room for slow networks.
    fn default() -> Self {
        Self {
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            max_connections: 256,
        }
    }
}

impl ReceiverLimits {
    /// How long a client may take to send a request's headers, from its first byte or,
    /// on a kept-alive connection, from the last answer; then the connection is closed
    /// ([`serve`] only: the server reads headers, not the router).
    #[must_use]
    pub fn header_timeout(mut self, timeout: Duration) -> Self {
        self.header_timeout = timeout;
        self
    }

    /// The longest silence while a body is read; then the answer is 408.
    #[must_use]
    pub fn body_timeout(mut self, timeout: Duration) -> Self {
        self.body_timeout = timeout;
        self
    }

    /// How long a request may take from its headers to its answer, however steadily its
    /// body trickles in; then the answer is 408.
    #[must_use]
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// How many connections [`serve`] holds at once; more wait in the listener's
    /// backlog until one closes.
    #[must_use]
    pub fn max_connections(mut self, max: usize) -> Self {
        self.max_connections = max.max(1);
        self
    }
}

#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
impl CallbackInbox {
    /// An axum router that takes callbacks on `POST /` (nest it where your
    /// `callBackUrl` points), with the default [`ReceiverLimits`]. It answers at once:
    /// 200 for a new or duplicate delivery (so kie.ai stops retrying), 401 for a bad or
    /// missing signature, 400 for a malformed body, 413 past [`MAX_CALLBACK_BODY`], 408
    /// for a body or request too slow.
    pub fn router(&self) -> axum::Router {
        self.router_with(ReceiverLimits::default())
    }

    /// [`CallbackInbox::router`] with the body and request timeouts of `limits`.
    pub fn router_with(&self, limits: ReceiverLimits) -> axum::Router {
        axum::Router::new()
            .route("/", post(take))
            .layer(DefaultBodyLimit::max(MAX_CALLBACK_BODY))
            .layer(RequestBodyTimeoutLayer::new(limits.body_timeout))
            .layer(TimeoutLayer::with_status_code(
                StatusCode::REQUEST_TIMEOUT,
                limits.request_timeout,
            ))
            .with_state(self.clone())
    }
}

async fn take(
    State(inbox): State<CallbackInbox>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> (StatusCode, &'static str) {
    let body = match body {
        Ok(body) => body,
        Err(rejection) if timed_out(&rejection) => {
            tracing::warn!("callback refused: the body came too slowly");
            return (StatusCode::REQUEST_TIMEOUT, "callback body too slow");
        }
        Err(rejection) => {
            tracing::warn!(error = %rejection, "callback refused");
            return (rejection.status(), "callback body unreadable");
        }
    };
    match inbox.receive(&body, &headers) {
        Ok(Receipt::New) => (StatusCode::OK, "received"),
        Ok(Receipt::Duplicate) => (StatusCode::OK, "duplicate"),
        Err(e @ (CallbackError::Malformed(_) | CallbackError::NoTaskId)) => {
            tracing::warn!(error = %e, "callback refused");
            (StatusCode::BAD_REQUEST, "malformed callback")
        }
        Err(e) => {
            tracing::warn!(error = %e, "callback refused");
            (StatusCode::UNAUTHORIZED, "callback not verified")
        }
    }
}

/// Whether a body failed because [`RequestBodyTimeoutLayer`] ran out.
fn timed_out(rejection: &BytesRejection) -> bool {
    std::iter::successors(std::error::Error::source(rejection), |e| e.source())
        .any(|e| e.is::<TimeoutError>())
}

/// Serves `app` (the inbox's router, or an application's router that nests it) on
/// `listener`, over HTTP/1.1, with the header timeout and connection cap of `limits`
/// (the router brings its own body and request timeouts). Runs until its task is
/// dropped or aborted; connections already open finish on their own.
pub async fn serve(listener: TcpListener, app: axum::Router, limits: ReceiverLimits) {
    let connections = Arc::new(Semaphore::new(limits.max_connections));
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    loop {
        let Ok(permit) = Arc::clone(&connections).acquire_owned().await else {
            return; // Never closed.
        };
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(error) => {
                tracing::warn!(%error, "callback receiver: accept failed");
                if !is_connection_error(&error) {
                    // Out of file descriptors, or the like: let some close first.
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                continue;
            }
        };
        let connection =
            http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(app.clone()));
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%error, "callback receiver: connection ended");
            }
            drop(permit);
        });
    }
}

/// An accept error that concerns one connection only.
fn is_connection_error(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

//! The HTTP server: one loopback port for the API, the upload host, hosted files and
//! the control plane, with the version header on every answer.

use std::{net::Ipv4Addr, sync::Arc};

use axum::{
    Router,
    extract::DefaultBodyLimit,
    http::{HeaderValue, StatusCode},
    middleware,
    response::{IntoResponse, Response},
    routing::{get, post},
    serve::ListenerExt,
};
use serde_json::json;
use tokio::{net::TcpListener, task::JoinHandle};

use crate::{api, control, files, state::Shared, uploads, wire};

/// The header carrying the emulator version, so test suites can require a minimum.
pub const VERSION_HEADER: &str = "x-kie-emulator-version";

async fn add_version(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(VERSION_HEADER, HeaderValue::from_static(control::VERSION));
    response
}

async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        axum::Json(json!({"code": 404, "msg": "Not found", "data": null})),
    )
        .into_response()
}

/// All routes.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/api/v1/jobs/createTask", post(api::create_task))
        .route("/api/v1/jobs/recordInfo", get(api::record_info))
        .route("/api/v1/chat/credit", get(api::credit))
        .route("/api/v1/common/download-url", post(api::download_url))
        .route("/api/file-stream-upload", post(uploads::stream_upload))
        .route("/api/file-base64-upload", post(uploads::base64_upload))
        .route("/api/file-url-upload", post(uploads::url_upload))
        .route("/files/{*path}", get(files::serve))
        .merge(control::router())
        .fallback(not_found)
        // base64 adds a third to the largest accepted file.
        .layer(DefaultBodyLimit::max(
            uploads::MAX_UPLOAD_BYTES / 3 * 4 + 4096,
        ))
        .layer(middleware::map_response_with_state(
            shared.clone(),
            wire::error_status,
        ))
        .layer(middleware::map_response(add_version))
        .with_state(shared)
}

/// Binds `127.0.0.1:port` (0 picks a free port).
///
/// # Errors
///
/// When the port cannot be bound.
pub(crate) async fn bind(port: u16) -> std::io::Result<TcpListener> {
    TcpListener::bind((Ipv4Addr::LOCALHOST, port)).await
}

/// Serves until the shutdown signal.
pub(crate) fn spawn(listener: TcpListener, shared: Arc<Shared>) -> JoinHandle<()> {
    let mut shutdown = shared.shutdown.clone();
    let app = router(shared);
    let listener = listener.tap_io(|tcp| {
        // Small JSON answers: do not let Nagle's algorithm hold them back.
        let _ = tcp.set_nodelay(true);
    });
    tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = shutdown.wait_for(|stop| *stop).await;
            })
            .await;
    })
}

//! Operations: `/healthz`, `/metrics` (Prometheus text), and the middleware that measures requests
//! and makes the request id available to error rendering.

use crate::WebState;
use crate::error::{ApiError, REQUEST_ID};
use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::Instant;

pub(crate) fn routes() -> Router<WebState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
}

/// `serve --test-clock` only: `POST /test/clock {"working_days": 15, "hours": 0}` moves the platform's clock
/// forward (see [`app::App::move_clock`]) and answers how far, so a browser test can pass a working-day window
/// without waiting and move the bank simulator's clock by the same amount.
pub(crate) fn test_clock_routes() -> Router<WebState> {
    Router::new().route("/test/clock", axum::routing::post(move_clock))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ClockMove {
    #[serde(default)]
    working_days: u32,
    #[serde(default)]
    hours: u32,
}

async fn move_clock(
    State(s): State<WebState>,
    axum::Json(body): axum::Json<ClockMove>,
) -> Result<impl IntoResponse, ApiError> {
    let moved_ms = s.app.move_clock(body.working_days, body.hours)?;
    Ok(axum::Json(serde_json::json!({
        "moved_ms": moved_ms,
        "now": s.app.clock().now().china_display(),
        "now_ms": s.app.clock().now().millis(),
    })))
}

/// The process-wide Prometheus recorder (installed once, however many routers a test builds).
pub fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            PrometheusBuilder::new()
                .set_buckets(&[
                    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
                ])
                .expect("static buckets are valid")
                .install_recorder()
                .expect("the metrics recorder is installed once")
        })
        .clone()
}

async fn healthz(State(s): State<WebState>) -> Result<impl IntoResponse, ApiError> {
    let database = s.app.health().await?;
    Ok(axum::Json(
        serde_json::json!({ "status": "ok", "database": database }),
    ))
}

async fn metrics() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        metrics_handle().render(),
    )
}

/// Counts and times every request by route template (never by raw path, which would explode the
/// label set), and runs the handler with the request id in scope.
pub(crate) async fn track(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().to_string();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", |m| m.as_str())
        .to_owned();
    let request_id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let resp = REQUEST_ID.scope(request_id, next.run(req)).await;
    let status = resp.status().as_u16().to_string();
    let labels = [("method", method), ("route", route), ("status", status)];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("http_request_duration_seconds", &labels)
        .record(started.elapsed().as_secs_f64());
    resp
}

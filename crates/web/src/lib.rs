//! HTTP for xiaowai: the JSON API under `/api/v1` (OpenAPI at `/api/openapi.json`, docs at
//! `/api/docs`) and the public website. Thin over `app`: handlers parse, call one use case, render.

pub mod access;
pub mod admin_api;
mod after_school_lists;
mod annual;
pub mod api;
mod assets;
pub mod auth_api;
mod bank_api;
mod bank_quality;
pub mod complaint_api;
mod complaint_pages;
pub mod console_pages;
mod consultation_pages;
pub mod error;
mod extract;
pub mod filing_api;
pub mod filing_pages;
mod guard;
pub mod inspection;
pub mod integration_api;
pub mod money_api;
pub mod monitoring;
mod openapi;
mod ops;
mod order_pages;
mod pages;
pub mod pdf;
pub mod plate_pages;
pub mod risk_api;
mod risk_pages;
pub mod routes;
pub mod school;
pub mod service_desk;
pub mod session_pages;
pub mod throttle;

use app::App;
use axum::Router;
use axum::http::{HeaderName, HeaderValue, header};
use std::time::Duration;
use tower_http::LatencyUnit;
use tower_http::compression::CompressionLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};

pub use ops::metrics_handle;

/// What every handler can reach.
#[derive(Clone)]
pub struct WebState {
    pub app: App,
    pub(crate) pdf_font: pdf::PdfFont,
    pub(crate) integration_limiter: throttle::IntegrationLimiter,
}

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; \
                   object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

/// Deployment settings of the HTTP layer.
#[derive(Clone, Debug)]
pub struct WebConfig {
    /// Sign-in attempts (password, SMS code) per client address per minute.
    pub sign_in_per_minute: u32,
    /// Reverse proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Mounts `POST /test/clock` (test deployments whose clock can move; never in production).
    pub test_clock: bool,
    /// The CJK font of server-made PDFs; without one, PDFs are refused with `pdf_unavailable`.
    pub pdf_font: Option<pdf::FontFile>,
    /// Integration API requests per integrator per minute.
    pub integration_per_minute: u32,
    /// The integrators' sandbox: every response carries `X-Xiaowai-Environment: sandbox`.
    pub sandbox: bool,
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            sign_in_per_minute: throttle::SIGN_IN_PER_MINUTE,
            trusted_proxies: Vec::new(),
            test_clock: false,
            pdf_font: pdf::FontFile::installed(),
            integration_per_minute: throttle::INTEGRATION_PER_MINUTE,
            sandbox: false,
        }
    }
}

/// The whole HTTP surface with default settings.
pub fn router(app: App) -> Router {
    router_with(app, &WebConfig::default())
}

/// The whole HTTP surface.
pub fn router_with(app: App, config: &WebConfig) -> Router {
    // Installed before the first request, so every request is counted.
    metrics_handle();
    let state = WebState {
        app,
        pdf_font: pdf::PdfFont::new(config.pdf_font.clone()),
        integration_limiter: throttle::IntegrationLimiter::new(config.integration_per_minute),
    };
    let limiter = throttle::SignInLimiter::new(config);
    let test_clock = if config.test_clock {
        ops::test_clock_routes()
    } else {
        Router::new()
    };
    Router::new()
        .merge(test_clock)
        .merge(routes::router(&state))
        .merge(ops::routes())
        .merge(assets::routes())
        .fallback(pages::not_found)
        .method_not_allowed_fallback(pages::method_not_allowed)
                .with_state(state)
        .layer(axum::middleware::from_fn(move |req, next| throttle::limit_sign_in(limiter.clone(), req, next)))
        .layer(TimeoutLayer::with_status_code(axum::http::StatusCode::REQUEST_TIMEOUT, Duration::from_secs(30)))
        .layer(axum::middleware::from_fn(error::bare_errors))
        .layer(axum::middleware::from_fn(ops::track))
        .layer(axum::middleware::from_fn(no_store_when_private))
        .layer(CompressionLayer::new())
        .layer(SetResponseHeaderLayer::if_not_present(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP)))
        .layer(SetResponseHeaderLayer::overriding(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .layer(SetResponseHeaderLayer::overriding(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        .layer(SetResponseHeaderLayer::overriding(header::REFERRER_POLICY, HeaderValue::from_static("same-origin")))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::HeaderName::from_static("x-xiaowai-environment"),
            HeaderValue::from_static(if config.sandbox { "sandbox" } else { "production" }),
        ))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &axum::http::Request<_>| {
                    let id = req.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("");
                    tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
                })
                // One access-log line per request (status, latency) inside the request's span.
                .on_response(DefaultOnResponse::new().level(tracing::Level::INFO).latency_unit(LatencyUnit::Micros)),
        )
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
}

/// An answer that carries a token or personal data is never kept by a browser or a proxy (`Cache-Control:
/// no-store`): the answer to every request with credentials (a bearer token, a signed integrator's or bank's
/// request, a session cookie), every answer that sets a cookie, and every API answer outside the public
/// registry. Public pages and assets keep their own caching.
async fn no_store_when_private(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let h = req.headers();
    let path = req.uri().path();
    let credentials = h.contains_key(header::AUTHORIZATION)
        || h.contains_key("x-xiaowai-key")
        || h.get_all(header::COOKIE).iter().any(|c| {
            c.to_str()
                .is_ok_and(|c| c.contains(session_pages::SESSION_COOKIE))
        });
    let private_api = path.starts_with("/api/v1/") && !path.starts_with("/api/v1/public/");
    let mut resp = next.run(req).await;
    if credentials || private_api || resp.headers().contains_key(header::SET_COOKIE) {
        resp.headers_mut()
            .entry(header::CACHE_CONTROL)
            .or_insert(HeaderValue::from_static("no-store"));
    }
    resp
}

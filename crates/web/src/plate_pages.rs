//! 合规码牌 on the web: the public verification page and API a scanned plate opens, and the printable plate
//! (A5, with the QR code as inline SVG) for the institution and its regulators.

use crate::WebState;
use crate::error::{ApiError, PageError};
use crate::session_pages::PageSession;
use app::plates::{PlateCheck, PlateView};
use askama::Template;
use askama_web::WebTemplate;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use serde::Serialize;

#[derive(Template, WebTemplate)]
#[template(path = "verify.html")]
pub(crate) struct VerifyPage {
    check: PlateCheck,
}

/// What a phone shows after scanning a plate.
pub(crate) async fn verify_page(
    State(s): State<WebState>,
    Path(token): Path<String>,
) -> Result<VerifyPage, PageError> {
    Ok(VerifyPage {
        check: s.app.registry().check_plate(&token).await?,
    })
}

/// Whether a plate token is genuine, and the plate's and the institution's status now. A forged or
/// altered token answers 200 with `verdict: invalid`.
#[utoipa::path(
    get,
    path = "/api/v1/public/verify/{token}",
    params(("token" = String, Path, description = "what the plate's QR code carries after /verify/")),
    responses((status = 200, body = PlateCheck))
)]
pub async fn verify_api(
    State(s): State<WebState>,
    Path(token): Path<String>,
) -> Result<Json<PlateCheck>, ApiError> {
    Ok(Json(s.app.registry().check_plate(&token).await?))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct PlateKey {
    /// `SM2` (GB/T 32918, distinguishing id `1234567812345678`) or `Ed25519`.
    algorithm: &'static str,
    /// Hex: an uncompressed SEC1 point for SM2, 32 bytes for Ed25519.
    public_key: String,
}

/// The key plates are signed with, for verifying tokens offline (`xiaowai plate verify`).
#[utoipa::path(
    get,
    path = "/api/v1/public/plate-key",
    responses((status = 200, body = PlateKey))
)]
pub async fn plate_key(State(s): State<WebState>) -> Json<PlateKey> {
    let (public_key, algorithm) = s.app.registry().plate_public_key();
    Json(PlateKey {
        algorithm,
        public_key,
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "plate.html")]
pub(crate) struct PlatePage {
    plate: PlateView,
    url: String,
    qr_svg: String,
}

/// The address a plate's QR code opens: this site as the request reached it.
fn absolute(headers: &HeaderMap, path: &str) -> String {
    let host = headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let scheme = match headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
    {
        Some("https") => "https",
        _ => "http",
    };
    format!("{scheme}://{host}{path}")
}

/// The printable plate (A5).
pub(crate) async fn plate_page(
    State(s): State<WebState>,
    PageSession(session): PageSession,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<PlatePage, PageError> {
    let plate = s.app.registry().current_plate(&session.actor, &id).await?;
    let url = absolute(&headers, &plate.verify_path);
    let qr_svg = qrcode::QrCode::with_error_correction_level(url.as_bytes(), qrcode::EcLevel::M)
        .map_err(|e| app::AppError::internal(format!("QR code: {e}")))?
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(240, 240)
        .quiet_zone(true)
        .build();
    Ok(PlatePage { plate, url, qr_svg })
}

/// 合规码牌 the institution's current plate — its token, the path its QR code opens and the serial — for its
/// own staff (to print it from their own system) and regulators over its region.
#[utoipa::path(get, path = "/api/v1/institutions/{id}/plate", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = PlateView),
              (status = 404, description = "not_found: no such institution, or no active plate", body = crate::error::Problem, content_type = "application/problem+json")))]
pub async fn plate_api(
    State(s): State<WebState>,
    bearer: crate::auth_api::Bearer,
    Path(id): Path<String>,
) -> Result<Json<PlateView>, ApiError> {
    Ok(Json(
        s.app.registry().current_plate(&bearer.actor, &id).await?,
    ))
}

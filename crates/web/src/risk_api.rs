//! 风险预警 over HTTP: the model regulators edit, the warnings each end works on, and the public warnings.
//! Rules, scope and deadlines are `app::risk`'s.

use crate::WebState;
use crate::auth_api::Bearer;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiQuery};
use app::risk::{ModelChange, ModelView, WarningAnswer, WarningDecision, WarningView};
use axum::Json;
use axum::extract::{Path, State};
use domain::access::Permission;
use serde::Deserialize;

/// The risk model in force in the supervisor's region.
#[utoipa::path(
    get,
    path = "/api/v1/regulator/risk-model",
    security(("bearer" = [])),
    responses((status = 200, body = ModelView))
)]
pub async fn risk_model(
    State(s): State<WebState>,
    bearer: Bearer,
) -> Result<Json<ModelView>, ApiError> {
    Ok(Json(
        s.app
            .supervision()
            .risk_model_seen_by(&bearer.actor)
            .await?,
    ))
}

/// A national supervisor sets the national model, a provincial one its province's (within bounds): a new
/// version; warnings already raised keep theirs.
#[utoipa::path(
    put,
    path = "/api/v1/regulator/risk-model",
    security(("bearer" = [])),
    request_body = ModelChange,
    responses((status = 200, body = ModelView))
)]
pub async fn set_risk_model(
    State(s): State<WebState>,
    bearer: Bearer,
    ApiJson(b): ApiJson<ModelChange>,
) -> Result<Json<ModelView>, ApiError> {
    s.app
        .require(&bearer.actor, Permission::SuperviseInstitution)
        .await?;
    Ok(Json(
        s.app
            .supervision()
            .set_risk_model(&bearer.actor, &b)
            .await?,
    ))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub struct Since {
    /// Only warnings raised after this instant (unix milliseconds); 0 for all.
    pub since: i64,
}

/// Warnings the caller works on: a supervisor's region's, a staff member's institution's; newest first.
#[utoipa::path(
    get,
    path = "/api/v1/warnings",
    security(("bearer" = [])),
    params(Since),
    responses((status = 200, body = Vec<WarningView>))
)]
pub async fn warnings(
    State(s): State<WebState>,
    bearer: Bearer,
    q: Result<ApiQuery<Since>, ApiError>,
) -> Result<Json<Vec<WarningView>>, ApiError> {
    // A `since` that does not parse reads as "from the start", as it always has.
    let since = q.map(|ApiQuery(q)| q.since).unwrap_or_default();
    Ok(Json(
        s.app
            .supervision()
            .warnings_for(&bearer.actor, since)
            .await?,
    ))
}

/// The institution explains its rectification.
#[utoipa::path(
    post,
    path = "/api/v1/institution/warnings/{id}/answer",
    security(("bearer" = [])),
    params(("id" = String, Path)),
    request_body = WarningAnswer,
    responses((status = 200, body = WarningView))
)]
pub async fn answer_warning(
    State(s): State<WebState>,
    bearer: Bearer,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<WarningAnswer>,
) -> Result<Json<WarningView>, ApiError> {
    s.app
        .require(&bearer.actor, Permission::HandleCustomerCases)
        .await?;
    Ok(Json(
        s.app
            .supervision()
            .answer_warning(&bearer.actor, &id, &b)
            .await?,
    ))
}

/// The regulator lifts (rectified) or escalates a warning.
#[utoipa::path(
    post,
    path = "/api/v1/regulator/warnings/{id}/decision",
    security(("bearer" = [])),
    params(("id" = String, Path)),
    request_body = WarningDecision,
    responses((status = 200, body = WarningView))
)]
pub async fn decide_warning(
    State(s): State<WebState>,
    bearer: Bearer,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<WarningDecision>,
) -> Result<Json<WarningView>, ApiError> {
    s.app
        .require(&bearer.actor, Permission::SuperviseInstitution)
        .await?;
    Ok(Json(
        s.app
            .supervision()
            .decide_warning(&bearer.actor, &id, &b)
            .await?,
    ))
}

/// 公开提示: warnings published because the institution did not rectify in time.
#[utoipa::path(
    get,
    path = "/api/v1/public/warnings",
    responses((status = 200, body = Vec<WarningView>))
)]
pub async fn public_warnings(
    State(s): State<WebState>,
) -> Result<Json<Vec<WarningView>>, ApiError> {
    Ok(Json(s.app.supervision().public_warnings().await?))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub struct DashboardQuery {
    /// A region code in the regulator's region (its own when empty).
    pub region: String,
    /// Days of trend, 1 to 366 (30 when absent).
    pub days: Option<u32>,
}

/// 监管看板: a region's institutions, money, trend, sub-regions and live warnings, from rollups.
#[utoipa::path(
    get,
    path = "/api/v1/regulator/dashboard",
    security(("bearer" = [])),
    params(DashboardQuery),
    responses((status = 200, body = app::dashboard::Dashboard))
)]
pub async fn dashboard(
    State(s): State<WebState>,
    bearer: Bearer,
    ApiQuery(q): ApiQuery<DashboardQuery>,
) -> Result<Json<app::dashboard::Dashboard>, ApiError> {
    Ok(Json(
        s.app
            .supervision()
            .dashboard(&bearer.actor, Some(&q.region), q.days.unwrap_or(30))
            .await?,
    ))
}

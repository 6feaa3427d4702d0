//! Complaints, consultations and run-offs over HTTP (evidence files are uploaded on the parent's page, `POST /complaints`). Rules, scope
//! and deadlines are `app::complaints`'.

use crate::WebState;
use crate::auth_api::Bearer;
use crate::error::ApiError;
use crate::extract::ApiJson;
use app::complaints::{
    ComplaintAnswer, ComplaintFigures, ComplaintRulingRequest, ComplaintView, NewComplaint,
};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use domain::access::Permission;

/// A parent files a complaint about an institution (optionally naming the order concerned).
#[utoipa::path(
    post,
    path = "/api/v1/parent/complaints",
    security(("bearer" = [])),
    request_body = NewComplaint,
    responses((status = 201, body = ComplaintView))
)]
pub async fn file_complaint(
    State(s): State<WebState>,
    bearer: Bearer,
    ApiJson(b): ApiJson<NewComplaint>,
) -> Result<(StatusCode, Json<ComplaintView>), ApiError> {
    let view = s
        .app
        .service()
        .file_complaint(&bearer.actor, &b, &[])
        .await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// The complaints the caller works on: a parent's own, those to a staff member's institution, those taken to
/// a supervisor in its region.
#[utoipa::path(
    get,
    path = "/api/v1/complaints",
    security(("bearer" = [])),
    responses((status = 200, body = Vec<ComplaintView>))
)]
pub async fn complaints(
    State(s): State<WebState>,
    bearer: Bearer,
) -> Result<Json<Vec<ComplaintView>>, ApiError> {
    Ok(Json(s.app.service().complaints_for(&bearer.actor).await?))
}

/// One complaint.
#[utoipa::path(
    get,
    path = "/api/v1/complaints/{id}",
    security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = ComplaintView))
)]
pub async fn complaint(
    State(s): State<WebState>,
    bearer: Bearer,
    Path(id): Path<String>,
) -> Result<Json<ComplaintView>, ApiError> {
    Ok(Json(
        s.app.service().complaint_for(&bearer.actor, &id).await?,
    ))
}

/// The institution's customer service answers.
#[utoipa::path(
    post,
    path = "/api/v1/institution/complaints/{id}/answer",
    security(("bearer" = [])),
    params(("id" = String, Path)),
    request_body = ComplaintAnswer,
    responses((status = 200, body = ComplaintView))
)]
pub async fn answer_complaint(
    State(s): State<WebState>,
    bearer: Bearer,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<ComplaintAnswer>,
) -> Result<Json<ComplaintView>, ApiError> {
    s.app
        .require(&bearer.actor, Permission::HandleCustomerCases)
        .await?;
    Ok(Json(
        s.app
            .service()
            .answer_complaint(&bearer.actor, &id, &b)
            .await?,
    ))
}

/// The parent accepts the answer (closed).
#[utoipa::path(
    post,
    path = "/api/v1/parent/complaints/{id}/accept",
    security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = ComplaintView))
)]
pub async fn accept_complaint(
    State(s): State<WebState>,
    bearer: Bearer,
    Path(id): Path<String>,
) -> Result<Json<ComplaintView>, ApiError> {
    Ok(Json(
        s.app.service().accept_complaint(&bearer.actor, &id).await?,
    ))
}

/// The parent takes the complaint to the competent regulator.
#[utoipa::path(
    post,
    path = "/api/v1/parent/complaints/{id}/escalate",
    security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = ComplaintView))
)]
pub async fn escalate_complaint(
    State(s): State<WebState>,
    bearer: Bearer,
    Path(id): Path<String>,
) -> Result<Json<ComplaintView>, ApiError> {
    Ok(Json(
        s.app
            .service()
            .escalate_complaint(&bearer.actor, &id)
            .await?,
    ))
}

/// The competent regulator rules, and may freeze the order's releases or order the rest refunded.
#[utoipa::path(
    post,
    path = "/api/v1/regulator/complaints/{id}/ruling",
    security(("bearer" = [])),
    params(("id" = String, Path)),
    request_body = ComplaintRulingRequest,
    responses((status = 200, body = ComplaintView))
)]
pub async fn rule_on_complaint(
    State(s): State<WebState>,
    bearer: Bearer,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<ComplaintRulingRequest>,
) -> Result<Json<ComplaintView>, ApiError> {
    s.app
        .require(&bearer.actor, Permission::SuperviseInstitution)
        .await?;
    Ok(Json(
        s.app
            .service()
            .rule_on_complaint(&bearer.actor, &id, &b)
            .await?,
    ))
}

/// An institution's complaint figures (public).
#[utoipa::path(
    get,
    path = "/api/v1/public/institutions/{id}/complaints",
    params(("id" = String, Path)),
    responses((status = 200, body = ComplaintFigures))
)]
pub async fn complaint_figures(
    State(s): State<WebState>,
    Path(id): Path<String>,
) -> Result<Json<ComplaintFigures>, ApiError> {
    Ok(Json(s.app.service().complaint_figures(&id).await?))
}

/// 清退: the competent supervisor freezes all of an institution's releases and refunds every family's
/// unconsumed fees by the original route.
#[utoipa::path(
    post,
    path = "/api/v1/regulator/institutions/{id}/run-off",
    security(("bearer" = [])),
    params(("id" = String, Path)),
    request_body = app::run_off::RunOffRequest,
    responses((status = 201, body = app::run_off::RunOffView))
)]
pub async fn start_run_off(
    State(s): State<WebState>,
    bearer: Bearer,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<app::run_off::RunOffRequest>,
) -> Result<(StatusCode, Json<app::run_off::RunOffView>), ApiError> {
    s.app
        .require(&bearer.actor, Permission::SuperviseInstitution)
        .await?;
    let view = s.app.money().start_run_off(&bearer.actor, &id, &b).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// A message in a consultation thread.
#[derive(Clone, Debug, serde::Deserialize, utoipa::ToSchema)]
pub struct ConsultationReply {
    pub body: String,
}

/// 课程咨询: a parent asks an institution.
#[utoipa::path(
    post,
    path = "/api/v1/parent/consultations",
    security(("bearer" = [])),
    request_body = app::consultations::NewConsultation,
    responses((status = 201, body = app::consultations::ConsultationView))
)]
pub async fn ask_institution(
    State(s): State<WebState>,
    bearer: Bearer,
    ApiJson(b): ApiJson<app::consultations::NewConsultation>,
) -> Result<(StatusCode, Json<app::consultations::ConsultationView>), ApiError> {
    let view = s.app.service().ask_institution(&bearer.actor, &b).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// The caller's threads: a parent's, or the institution's for its customer service.
#[utoipa::path(
    get,
    path = "/api/v1/consultations",
    security(("bearer" = [])),
    responses((status = 200, body = Vec<app::consultations::ConsultationView>))
)]
pub async fn consultations(
    State(s): State<WebState>,
    bearer: Bearer,
) -> Result<Json<Vec<app::consultations::ConsultationView>>, ApiError> {
    Ok(Json(
        s.app.service().consultations_for(&bearer.actor).await?,
    ))
}

/// One thread with its messages.
#[utoipa::path(
    get,
    path = "/api/v1/consultations/{id}",
    security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = app::consultations::ConsultationView))
)]
pub async fn consultation(
    State(s): State<WebState>,
    bearer: Bearer,
    Path(id): Path<String>,
) -> Result<Json<app::consultations::ConsultationView>, ApiError> {
    Ok(Json(
        s.app.service().consultation_for(&bearer.actor, &id).await?,
    ))
}

/// A message from the thread's parent or the institution's customer service (the first answer is timed).
#[utoipa::path(
    post,
    path = "/api/v1/consultations/{id}/messages",
    security(("bearer" = [])),
    params(("id" = String, Path)),
    request_body = ConsultationReply,
    responses((status = 200, body = app::consultations::ConsultationView))
)]
pub async fn reply_consultation(
    State(s): State<WebState>,
    bearer: Bearer,
    Path(id): Path<String>,
    ApiJson(reply): ApiJson<ConsultationReply>,
) -> Result<Json<app::consultations::ConsultationView>, ApiError> {
    // Who may write is checked before the body is read.
    s.app.service().consultation_for(&bearer.actor, &id).await?;
    Ok(Json(
        s.app
            .service()
            .reply_consultation(&bearer.actor, &id, &reply.body)
            .await?,
    ))
}

//! Onboarding and filing over the JSON API: sign-up, the admin's filing and documents, and the
//! regulator's review queue and decision. Rules and scope are `app::onboarding`'s.

use crate::WebState;
use crate::auth_api::Bearer;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiQuery};
use app::onboarding::{Decision, DocumentView, FilingView, QueueItem, SignUp, SignedUp};
use app::views::Page;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::access::Permission;
use domain::filing::Filing;
use serde::Deserialize;

/// An institution joins the platform (直接入驻): its record, not public until approved, and its admin.
#[utoipa::path(
    post,
    path = "/api/v1/institutions/sign-up",
    request_body = SignUp,
    responses(
        (status = 201, body = SignedUp),
        (status = 400, description = "invalid_credit_code, unknown_region, invalid_category, weak_password, …", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "the credit code or username is taken", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn sign_up(
    State(s): State<WebState>,
    ApiJson(b): ApiJson<SignUp>,
) -> Result<(StatusCode, Json<SignedUp>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(s.app.registry().sign_up(&b).await?),
    ))
}

/// The admin's filing: the newest version, what it lacks, reviewers' reasons, documents, history.
#[utoipa::path(
    get,
    path = "/api/v1/institution/filing",
    security(("bearer" = [])),
    responses((status = 200, body = FilingView), (status = 403, body = Problem, content_type = "application/problem+json"))
)]
pub async fn my_filing(
    State(s): State<WebState>,
    bearer: Bearer,
) -> Result<Json<FilingView>, ApiError> {
    Ok(Json(s.app.registry().my_filing(&bearer.actor).await?))
}

/// Save the draft (all six sections; anything may still be empty).
#[utoipa::path(
    put,
    path = "/api/v1/institution/filing",
    security(("bearer" = [])),
    request_body = Filing,
    responses(
        (status = 200, body = FilingView),
        (status = 400, description = "certificate_expired (a date not in the future), invalid_parameter", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "under review", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn save_filing(
    State(s): State<WebState>,
    bearer: Bearer,
    ApiJson(b): ApiJson<Filing>,
) -> Result<Json<FilingView>, ApiError> {
    s.app
        .require(&bearer.actor, Permission::EditOwnFiling)
        .await?;
    Ok(Json(s.app.registry().save_filing(&bearer.actor, &b).await?))
}

/// Submit the draft to the competent regulator.
#[utoipa::path(
    post,
    path = "/api/v1/institution/filing/submit",
    security(("bearer" = [])),
    responses(
        (status = 200, body = FilingView),
        (status = 422, description = "filing_incomplete, naming what is missing", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn submit_filing(
    State(s): State<WebState>,
    bearer: Bearer,
) -> Result<Json<FilingView>, ApiError> {
    Ok(Json(s.app.registry().submit_filing(&bearer.actor).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadQuery {
    /// licence, legal_person, premises, health, fire or other.
    kind: String,
    filename: String,
}

/// Upload a document: the raw bytes as the body (PDF, JPEG or PNG by content; at most 10 MB).
#[utoipa::path(
    post,
    path = "/api/v1/institution/documents",
    security(("bearer" = [])),
    params(UploadQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses(
        (status = 201, body = DocumentView),
        (status = 413, description = "document_too_large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "document_rejected: empty, or not PDF/JPEG/PNG by content", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn upload_document(
    State(s): State<WebState>,
    bearer: Bearer,
    ApiQuery(q): ApiQuery<UploadQuery>,
    bytes: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<(StatusCode, Json<DocumentView>), ApiError> {
    s.app
        .require(&bearer.actor, Permission::EditOwnFiling)
        .await?;
    let bytes = crate::error::document(bytes)?;
    let doc = s
        .app
        .registry()
        .upload_document(&bearer.actor, &q.kind, &q.filename, &bytes)
        .await?;
    Ok((StatusCode::CREATED, Json(doc)))
}

/// A filed document (its institution's staff; regulators over its region).
#[utoipa::path(
    get,
    path = "/api/v1/documents/{id}",
    security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, description = "the bytes, with their content type"), (status = 403, body = Problem, content_type = "application/problem+json"))
)]
pub async fn document(
    State(s): State<WebState>,
    bearer: Bearer,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let (view, bytes) = s.app.registry().document(&bearer.actor, &id).await?;
    Ok(document_response(&view, bytes))
}

/// The bytes as a download that a browser never sniffs into something else.
pub(crate) fn document_response(view: &DocumentView, bytes: Vec<u8>) -> Response {
    let disposition = format!("attachment; filename=\"document-{}\"", view.id);
    (
        [
            (header::CONTENT_TYPE, view.content_type.clone()),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, "private, no-store".to_owned()),
        ],
        bytes,
    )
        .into_response()
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QueueQuery {
    /// `onboarding` or `change`.
    kind: Option<String>,
    page: Option<i64>,
    per_page: Option<i64>,
}

/// The reviewer's queue: filings waiting for its region, oldest first, with their age in days.
#[utoipa::path(
    get,
    path = "/api/v1/regulator/reviews",
    security(("bearer" = [])),
    params(QueueQuery),
    responses((status = 200, body = Page<QueueItem>), (status = 403, body = Problem, content_type = "application/problem+json"))
)]
pub async fn review_queue(
    State(s): State<WebState>,
    bearer: Bearer,
    ApiQuery(q): ApiQuery<QueueQuery>,
) -> Result<Json<Page<QueueItem>>, ApiError> {
    let paging = domain::Paging::new(q.page, q.per_page).map_err(app::AppError::from)?;
    Ok(Json(
        s.app
            .registry()
            .review_queue(&bearer.actor, q.kind.as_deref(), paging)
            .await?,
    ))
}

/// An institution's filing, for regulators over its region.
#[utoipa::path(
    get,
    path = "/api/v1/regulator/institutions/{id}/filing",
    security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = FilingView), (status = 403, body = Problem, content_type = "application/problem+json"))
)]
pub async fn filing_for_review(
    State(s): State<WebState>,
    bearer: Bearer,
    Path(id): Path<String>,
) -> Result<Json<FilingView>, ApiError> {
    Ok(Json(
        s.app
            .registry()
            .filing_for_review(&bearer.actor, &id)
            .await?,
    ))
}

/// The competent reviewer approves, or rejects with a reason per field.
#[utoipa::path(
    post,
    path = "/api/v1/regulator/reviews/{id}/decision",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "the institution")),
    request_body = Decision,
    responses(
        (status = 200, body = FilingView),
        (status = 403, description = "not the competent reviewer", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "nothing waiting for review", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn decide(
    State(s): State<WebState>,
    bearer: Bearer,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<Decision>,
) -> Result<Json<FilingView>, ApiError> {
    s.app
        .require(&bearer.actor, Permission::ReviewFiling)
        .await?;
    Ok(Json(
        s.app
            .registry()
            .decide_filing(&bearer.actor, &id, &b)
            .await?,
    ))
}

/// Put a person on the practitioner black list (supervisors).
#[utoipa::path(
    post,
    path = "/api/v1/regulator/practitioner-blacklist",
    security(("bearer" = [])),
    request_body = app::staff::BlacklistEntry,
    responses((status = 204), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 409, description = "already listed", body = Problem, content_type = "application/problem+json"))
)]
pub async fn blacklist_practitioner(
    State(s): State<WebState>,
    bearer: Bearer,
    ApiJson(b): ApiJson<app::staff::BlacklistEntry>,
) -> Result<StatusCode, ApiError> {
    s.app
        .require(&bearer.actor, Permission::SuperviseInstitution)
        .await?;
    s.app
        .registry()
        .blacklist_practitioner(&bearer.actor, &b)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The institution's staff register, masked (its admin).
#[utoipa::path(
    get,
    path = "/api/v1/institution/staff-members",
    security(("bearer" = [])),
    responses((status = 200, body = Vec<app::staff::StaffMemberView>), (status = 403, body = Problem, content_type = "application/problem+json"))
)]
pub async fn staff_register(
    State(s): State<WebState>,
    bearer: Bearer,
) -> Result<Json<Vec<app::staff::StaffMemberView>>, ApiError> {
    Ok(Json(s.app.registry().staff_register(&bearer.actor).await?))
}

/// Hire a person: refused for the practitioner black list and serving school teachers; subject teachers
/// need a teacher qualification; the pre-hire record check is a filed document.
#[utoipa::path(
    post,
    path = "/api/v1/institution/staff-members",
    security(("bearer" = [])),
    request_body = app::staff::Hire,
    responses(
        (status = 201, body = app::staff::StaffMemberView),
        (status = 422, description = "practitioner_blacklisted, serving_teacher_not_allowed, teacher_qualification_required, record_check_required", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn hire(
    State(s): State<WebState>,
    bearer: Bearer,
    ApiJson(b): ApiJson<app::staff::Hire>,
) -> Result<(StatusCode, Json<app::staff::StaffMemberView>), ApiError> {
    s.app
        .require(&bearer.actor, Permission::EditOwnFiling)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(s.app.registry().hire_staff(&bearer.actor, &b).await?),
    ))
}

/// A regulator over the institution's region confirms a staff member's pre-hire record check.
#[utoipa::path(
    post,
    path = "/api/v1/regulator/staff-members/{id}/record-check",
    security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = app::staff::StaffMemberView), (status = 403, body = Problem, content_type = "application/problem+json"))
)]
pub async fn confirm_record_check(
    State(s): State<WebState>,
    bearer: Bearer,
    Path(id): Path<String>,
) -> Result<Json<app::staff::StaffMemberView>, ApiError> {
    s.app
        .require(&bearer.actor, Permission::ViewInstitutionPrivate)
        .await?;
    Ok(Json(
        s.app
            .registry()
            .confirm_record_check(&bearer.actor, &id)
            .await?,
    ))
}

/// Ask the bank to confirm a supervised account (the institution's admin; the filing must be approved).
#[utoipa::path(
    post,
    path = "/api/v1/institution/supervised-accounts",
    security(("bearer" = [])),
    request_body = app::funds::BindRequest,
    responses((status = 201, body = app::funds::SupervisedAccountView), (status = 409, description = "not yet approved, or the account is bound already", body = Problem, content_type = "application/problem+json"))
)]
pub async fn request_supervised_account(
    State(s): State<WebState>,
    bearer: Bearer,
    ApiJson(b): ApiJson<app::funds::BindRequest>,
) -> Result<(StatusCode, Json<app::funds::SupervisedAccountView>), ApiError> {
    s.app
        .require(&bearer.actor, Permission::EditOwnFiling)
        .await?;
    let view = s
        .app
        .money()
        .request_supervised_account(&bearer.actor, &b)
        .await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// The institution's supervised accounts and their state.
#[utoipa::path(
    get,
    path = "/api/v1/institution/supervised-accounts",
    security(("bearer" = [])),
    responses((status = 200, body = Vec<app::funds::SupervisedAccountView>))
)]
pub async fn supervised_accounts(
    State(s): State<WebState>,
    bearer: Bearer,
) -> Result<Json<Vec<app::funds::SupervisedAccountView>>, ApiError> {
    Ok(Json(
        s.app.money().my_supervised_accounts(&bearer.actor).await?,
    ))
}

/// The bank confirms a supervised account held with it (a signed request from the bank's system). An
/// approved institution waiting for this is white-listed and receives its compliance plate.
#[utoipa::path(
    post,
    path = "/api/v1/bank/supervised-accounts/{id}/confirm",
    params(("id" = String, Path)),
    responses(
        (status = 200, body = app::funds::SupervisedAccountView),
        (status = 401, description = "invalid_signature, stale_request or replayed_request", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "another bank's account", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn confirm_supervised_account(
    State(s): State<WebState>,
    Path(id): Path<String>,
    crate::auth_api::BankSigned(signed): crate::auth_api::BankSigned,
) -> Result<Json<app::funds::SupervisedAccountView>, ApiError> {
    Ok(Json(
        s.app
            .money()
            .confirm_supervised_account(&signed.actor, &id)
            .await?,
    ))
}

/// Publish a course (a white-listed institution's admin or operator). Each broken policy rule is named with
/// its numbers in the problem's `detail`, e.g. "单次收费不得超过60课时，本课程为61课时".
#[utoipa::path(
    post,
    path = "/api/v1/institution/courses",
    security(("bearer" = [])),
    request_body = app::courses::NewCourse,
    responses(
        (status = 201, description = "the new course's id", body = String, content_type = "application/json"),
        (status = 422, description = "policy_violation (the rules and numbers in detail), not_white_listed", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn publish_course(
    State(s): State<WebState>,
    bearer: Bearer,
    ApiJson(b): ApiJson<app::courses::NewCourse>,
) -> Result<(StatusCode, Json<String>), ApiError> {
    s.app
        .require(&bearer.actor, Permission::ManageCourses)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(s.app.registry().publish_course(&bearer.actor, &b).await?),
    ))
}

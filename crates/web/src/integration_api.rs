//! 系统接入 over HTTP: the service team registers integrators, institutions authorise and revoke them, and
//! integrators call the open API with signed requests, each mutation under an `Idempotency-Key`. Every
//! integration call is checked against the institution's live grant first (`app::integrations`).

use crate::WebState;
use crate::auth_api::{Bearer, Signed, body};
use crate::error::ApiError;
use crate::money_api::once;
use app::courses::NewCourse;
use app::integrations::{
    GrantRevocation, GrantView, IntegratorCredentials, NewGrant, NewIntegrator,
};
use app::lessons::{Attendance, LessonView};
use app::orders::OrderLine;
use app::{Actor, AppError};
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use domain::access::{IntegrationScope, Permission};
use serde::Serialize;

/// The platform's service team (national system administrator) registers a provider's system; the answer
/// carries its key id and secret, shown this once.
#[utoipa::path(post, path = "/api/v1/admin/integrators", security(("bearer" = [])),
    request_body = NewIntegrator, responses((status = 201, body = IntegratorCredentials)))]
pub async fn register(
    State(s): State<WebState>,
    bearer: Bearer,
    b: Result<Json<NewIntegrator>, JsonRejection>,
) -> Result<(StatusCode, Json<IntegratorCredentials>), ApiError> {
    s.app
        .require(&bearer.actor, Permission::ManageAccounts)
        .await?;
    let new = body(b)?;
    Ok((
        StatusCode::CREATED,
        Json(s.app.register_integrator(&bearer.actor, &new).await?),
    ))
}

/// The institution's authorisations of integrators, revoked ones included (its admin).
#[utoipa::path(get, path = "/api/v1/institution/integrations", security(("bearer" = [])),
    responses((status = 200, body = Vec<GrantView>)))]
pub async fn grants(
    State(s): State<WebState>,
    bearer: Bearer,
) -> Result<Json<Vec<GrantView>>, ApiError> {
    Ok(Json(s.app.institution_grants(&bearer.actor).await?))
}

/// The institution's admin authorises an integrator for some scopes.
#[utoipa::path(post, path = "/api/v1/institution/integrations", security(("bearer" = [])),
    request_body = NewGrant, responses((status = 201, body = GrantView)))]
pub async fn grant(
    State(s): State<WebState>,
    bearer: Bearer,
    b: Result<Json<NewGrant>, JsonRejection>,
) -> Result<(StatusCode, Json<GrantView>), ApiError> {
    s.app
        .require(&bearer.actor, Permission::EditOwnFiling)
        .await?;
    let view = s.app.grant_integration(&bearer.actor, &body(b)?).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// Revokes an authorisation at once, with a reason.
#[utoipa::path(post, path = "/api/v1/institution/integrations/{id}/revoke", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = GrantRevocation,
    responses((status = 200, body = GrantView)))]
pub async fn revoke(
    State(s): State<WebState>,
    bearer: Bearer,
    Path(id): Path<String>,
    b: Result<Json<GrantRevocation>, JsonRejection>,
) -> Result<Json<GrantView>, ApiError> {
    s.app
        .require(&bearer.actor, Permission::EditOwnFiling)
        .await?;
    Ok(Json(
        s.app
            .revoke_integration(&bearer.actor, &id, &body(b)?)
            .await?,
    ))
}

/// The signed-in integrator's live authorisations: which institutions, which scopes.
#[utoipa::path(get, path = "/api/v1/integration/grants",
    responses((status = 200, body = Vec<GrantView>)))]
pub async fn my_grants(
    State(s): State<WebState>,
    signed: Signed,
) -> Result<Json<Vec<GrantView>>, ApiError> {
    count(&s, &signed)?;
    Ok(Json(s.app.integrator_grants(&signed.actor).await?))
}

/// Counts the request against the client's quota (429 beyond it).
fn count(s: &WebState, signed: &Signed) -> Result<(), AppError> {
    match &signed.actor {
        Actor::ApiClient { key_id, .. } => s.integration_limiter.check(key_id),
        _ => Ok(()),
    }
}

/// The quota, then the institution's live grant for `scope`: the operator the integrator acts as.
async fn acting(
    s: &WebState,
    signed: &Signed,
    institution_id: &str,
    scope: IntegrationScope,
) -> Result<Actor, AppError> {
    count(s, signed)?;
    s.app.acting_for(&signed.actor, institution_id, scope).await
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SyncedCourse {
    pub course_id: String,
}

/// Publishes a course for an institution that authorised `courses`: the region's policy applies exactly
/// as on the institution end (422 `policy_violation` naming each broken rule).
#[utoipa::path(post, path = "/api/v1/integration/institutions/{id}/courses",
    params(("id" = String, Path), ("Idempotency-Key" = String, Header)), request_body = NewCourse,
    responses((status = 200, body = SyncedCourse)))]
pub async fn sync_course(
    State(s): State<WebState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    signed: Signed,
) -> Result<Response, ApiError> {
    let staff = acting(&s, &signed, &id, IntegrationScope::Courses).await?;
    let app = s.app.clone();
    once(&s, &headers, &signed, |_, new: NewCourse| async move {
        let course_id = app.publish_course(&staff, &new).await?;
        Ok(SyncedCourse { course_id })
    })
    .await
}

/// The institution's orders with their escrow, released and refunded amounts (scope `orders`).
#[utoipa::path(get, path = "/api/v1/integration/institutions/{id}/orders",
    params(("id" = String, Path)), responses((status = 200, body = Vec<OrderLine>)))]
pub async fn orders(
    State(s): State<WebState>,
    Path(id): Path<String>,
    signed: Signed,
) -> Result<Json<Vec<OrderLine>>, ApiError> {
    let staff = acting(&s, &signed, &id, IntegrationScope::Orders).await?;
    Ok(Json(s.app.institution_orders(&staff, id.trim()).await?))
}

/// Reports a child's attendance at the order's next lesson (scope `attendance`), under an
/// `Idempotency-Key`: the parent then confirms it on the parent end, as for the institution end's roll call.
#[utoipa::path(post, path = "/api/v1/integration/institutions/{id}/orders/{order_id}/attendance",
    params(("id" = String, Path), ("order_id" = String, Path), ("Idempotency-Key" = String, Header)),
    request_body = Attendance, responses((status = 200, body = LessonView)))]
pub async fn attendance(
    State(s): State<WebState>,
    Path((id, order_id)): Path<(String, String)>,
    headers: HeaderMap,
    signed: Signed,
) -> Result<Response, ApiError> {
    let staff = acting(&s, &signed, &id, IntegrationScope::Attendance).await?;
    let app = s.app.clone();
    once(&s, &headers, &signed, |_, taken: Attendance| async move {
        app.take_attendance(&staff, &order_id, &taken).await
    })
    .await
}

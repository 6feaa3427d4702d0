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
    Ok(Json(s.app.integrator_grants(&signed.actor).await?))
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
    let staff = s
        .app
        .acting_for(&signed.actor, &id, IntegrationScope::Courses)
        .await?;
    let app = s.app.clone();
    once(&s, &headers, &signed, |_, new: NewCourse| async move {
        let course_id = app.publish_course(&staff, &new).await?;
        Ok(SyncedCourse { course_id })
    })
    .await
}

//! `/api/v1/auth/*` and `/api/v1/me`: sign-in for the JSON API (mobile apps, integrators' users).

use crate::WebState;
use crate::error::{ApiError, Problem};
use app::auth::{ActorView, PasswordLogin, TokenPair};
use app::{Actor, AppError, ErrorCode};
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;

pub(crate) fn routes() -> Router<WebState> {
    Router::new()
        .route("/api/v1/auth/login", post(login))
        .route("/api/v1/auth/refresh", post(refresh))
        .route("/api/v1/auth/logout", post(logout))
        .route("/api/v1/me", get(me))
}

/// The actor behind `Authorization: Bearer <access token>`; a 401 problem otherwise.
pub struct Bearer {
    pub actor: Actor,
    pub token: String,
}

/// 401 with the challenge header RFC 6750 asks for.
pub struct Unauthorized(ApiError);

impl IntoResponse for Unauthorized {
    fn into_response(self) -> Response {
        let mut resp = self.0.into_response();
        resp.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"xiaowai\""),
        );
        resp
    }
}

impl FromRequestParts<WebState> for Bearer {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &WebState,
    ) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                Unauthorized(ApiError::new(
                    ErrorCode::Unauthenticated,
                    "an Authorization: Bearer token is required",
                ))
                .into_response()
            })?;
        match state.app.authenticate(token).await {
            Ok(actor) => Ok(Bearer {
                actor,
                token: token.to_owned(),
            }),
            Err(e) if e.code == ErrorCode::Unauthenticated => {
                Err(Unauthorized(ApiError(e)).into_response())
            }
            Err(e) => Err(ApiError(e).into_response()),
        }
    }
}

fn body<T>(b: Result<Json<T>, JsonRejection>) -> Result<T, ApiError> {
    b.map(|Json(v)| v)
        .map_err(|e| ApiError(AppError::new(ErrorCode::InvalidParameter, e.body_text())))
}

/// Sign in with a username and password (and a TOTP code for regulators and bank operators).
#[utoipa::path(
    post,
    path = "/api/v1/auth/login",
    request_body = PasswordLogin,
    responses(
        (status = 200, body = TokenPair),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "invalid_credentials, totp_required or totp_invalid", body = Problem, content_type = "application/problem+json"),
        (status = 423, description = "account_locked", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn login(
    State(s): State<WebState>,
    b: Result<Json<PasswordLogin>, JsonRejection>,
) -> Result<Json<TokenPair>, ApiError> {
    Ok(Json(s.app.login(&body(b)?).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct RefreshRequest {
    refresh_token: String,
}

/// Exchange a refresh token (good once) for a new token pair.
#[utoipa::path(
    post,
    path = "/api/v1/auth/refresh",
    request_body = RefreshRequest,
    responses((status = 200, body = TokenPair), (status = 401, body = Problem, content_type = "application/problem+json"))
)]
pub async fn refresh(
    State(s): State<WebState>,
    b: Result<Json<RefreshRequest>, JsonRejection>,
) -> Result<Json<TokenPair>, ApiError> {
    Ok(Json(s.app.refresh(&body(b)?.refresh_token).await?))
}

/// Sign out: revokes the access token and its refresh token.
#[utoipa::path(
    post,
    path = "/api/v1/auth/logout",
    security(("bearer" = [])),
    responses((status = 204), (status = 401, body = Problem, content_type = "application/problem+json"))
)]
pub async fn logout(State(s): State<WebState>, bearer: Bearer) -> Result<StatusCode, ApiError> {
    s.app.logout(&bearer.token).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Who the bearer token belongs to.
#[utoipa::path(
    get,
    path = "/api/v1/me",
    security(("bearer" = [])),
    responses((status = 200, body = ActorView), (status = 401, body = Problem, content_type = "application/problem+json"))
)]
pub async fn me(State(s): State<WebState>, bearer: Bearer) -> Result<Json<ActorView>, ApiError> {
    Ok(Json(s.app.me(&bearer.actor).await?))
}

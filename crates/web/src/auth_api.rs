//! `/api/v1/auth/*` and `/api/v1/me`: sign-in for the JSON API (mobile apps, integrators' users).

use crate::WebState;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiQuery};
use crate::throttle::ClientAddress;
use app::auth::{ActorView, PasswordLogin, TokenPair};
use app::parents::{ChildField, ChildView, NewChild, PhoneLogin};
use app::{Actor, ErrorCode};
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use axum::Json;
use serde::Deserialize;

/// The actor behind `Authorization: Bearer <access token>`; a 401 problem otherwise.
#[derive(Clone)]
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
        // The route's guard (`crate::guard`) resolved it already.
        if let Some(bearer) = parts.extensions.get::<Bearer>() {
            return Ok(bearer.clone());
        }
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
                    "请求须携带 Authorization: Bearer 令牌",
                    "an Authorization: Bearer token is required",
                ))
                .into_response()
            })?;
        match state.app.identity().authenticate(token).await {
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

/// Sign in with a username and password (and a TOTP code for regulators and bank operators).
#[utoipa::path(
    post,
    path = "/api/v1/auth/login",
    request_body = LoginRequest,
    responses(
        (status = 200, body = TokenPair),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "invalid_credentials, totp_required or totp_invalid", body = Problem, content_type = "application/problem+json"),
        (status = 423, description = "account_locked", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn login(
    State(s): State<WebState>,
    axum::Extension(ClientAddress(client)): axum::Extension<ClientAddress>,
    ApiJson(b): ApiJson<LoginRequest>,
) -> Result<Json<TokenPair>, ApiError> {
    let pair = match b {
        LoginRequest::Password(mut p) => {
            p.source = client.to_string();
            s.app.identity().login(&p).await?
        }
        LoginRequest::Phone(p) => s.app.identity().login_with_code(&p).await?,
    };
    Ok(Json(pair))
}

/// Either a username and password (+ TOTP), or a parent's phone number and SMS code.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum LoginRequest {
    Password(PasswordLogin),
    Phone(PhoneLogin),
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct SmsCodeRequest {
    phone: String,
}

/// Send a six-digit sign-in code to a parent's phone (at most one a minute, ten a day).
#[utoipa::path(
    post,
    path = "/api/v1/auth/sms-code",
    request_body = SmsCodeRequest,
    responses(
        (status = 204, description = "sent"),
        (status = 400, description = "invalid_phone", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "too_many_requests", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn sms_code(
    State(s): State<WebState>,
    ApiJson(b): ApiJson<SmsCodeRequest>,
) -> Result<StatusCode, ApiError> {
    s.app.identity().request_login_code(&b.phone).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The signed-in parent's children, masked.
#[utoipa::path(
    get,
    path = "/api/v1/me/children",
    security(("bearer" = [])),
    responses((status = 200, body = Vec<ChildView>), (status = 401, body = Problem, content_type = "application/problem+json"))
)]
pub async fn my_children(
    State(s): State<WebState>,
    bearer: Bearer,
) -> Result<Json<Vec<ChildView>>, ApiError> {
    Ok(Json(s.app.identity().my_children(&bearer.actor).await?))
}

/// Link a child (name, gender, ID-card number with a valid GB 11643 check character, school, grade).
#[utoipa::path(
    post,
    path = "/api/v1/me/children",
    security(("bearer" = [])),
    request_body = NewChild,
    responses(
        (status = 201, body = ChildView),
        (status = 400, description = "invalid_id_card, invalid_name, field_too_long", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn add_child(
    State(s): State<WebState>,
    bearer: Bearer,
    ApiJson(b): ApiJson<NewChild>,
) -> Result<(StatusCode, Json<ChildView>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(s.app.identity().add_child(&bearer.actor, &b).await?),
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct RevealRequest {
    field: ChildField,
    /// Why the plain value is needed; written to the personal-data access log.
    reason: String,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Revealed {
    value: String,
}

/// Show one of a child's personal data in plain text (logged with the actor and the reason).
#[utoipa::path(
    post,
    path = "/api/v1/children/{id}/reveal",
    security(("bearer" = [])),
    params(("id" = String, Path)),
    request_body = RevealRequest,
    responses((status = 200, body = Revealed), (status = 403, body = Problem, content_type = "application/problem+json"))
)]
pub async fn reveal_child(
    State(s): State<WebState>,
    bearer: Bearer,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<RevealRequest>,
) -> Result<Json<Revealed>, ApiError> {
    Ok(Json(Revealed {
        value: s
            .app
            .identity()
            .reveal_child(&bearer.actor, &id, req.field, &req.reason)
            .await?,
    }))
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
    ApiJson(b): ApiJson<RefreshRequest>,
) -> Result<Json<TokenPair>, ApiError> {
    Ok(Json(s.app.identity().refresh(&b.refresh_token).await?))
}

/// Sign out: revokes the access token and its refresh token.
#[utoipa::path(
    post,
    path = "/api/v1/auth/logout",
    security(("bearer" = [])),
    responses((status = 204), (status = 401, body = Problem, content_type = "application/problem+json"))
)]
pub async fn logout(State(s): State<WebState>, bearer: Bearer) -> Result<StatusCode, ApiError> {
    s.app.identity().logout(&bearer.token).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Change the signed-in account's password (a parent signed in by SMS may set a first one).
#[utoipa::path(
    post,
    path = "/api/v1/me/password",
    security(("bearer" = [])),
    request_body = app::auth::ChangePassword,
    responses(
        (status = 204, description = "changed"),
        (status = 400, description = "weak_password", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "invalid_credentials: the current password is wrong", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn change_password(
    State(s): State<WebState>,
    bearer: Bearer,
    ApiJson(b): ApiJson<app::auth::ChangePassword>,
) -> Result<StatusCode, ApiError> {
    s.app.identity().change_password(&bearer.actor, &b).await?;
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
    Ok(Json(s.app.identity().me(&bearer.actor).await?))
}

/// A request from an API client, verified against its signature headers; carries the raw body.
#[derive(Clone)]
pub struct Signed {
    pub actor: Actor,
    pub body: axum::body::Bytes,
}

impl axum::extract::FromRequest<WebState> for Signed {
    type Rejection = Response;

    async fn from_request(
        req: axum::extract::Request,
        state: &WebState,
    ) -> Result<Self, Self::Rejection> {
        // The route's guard (`crate::guard`) verified it already.
        if let Some(signed) = req.extensions().get::<Signed>() {
            return Ok(signed.clone());
        }
        let (parts, body) = req.into_parts();
        let header = |name: &str| {
            parts
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let missing = |name: &str| {
            Unauthorized(ApiError::new(
                ErrorCode::InvalidSignature,
                format!("须携带 {name} 请求头"),
                format!("the {name} header is required"),
            ))
            .into_response()
        };
        let key_id = header("x-xiaowai-key").ok_or_else(|| missing("X-Xiaowai-Key"))?;
        let timestamp = header("x-xiaowai-timestamp")
            .and_then(|t| t.parse::<i64>().ok())
            .ok_or_else(|| missing("X-Xiaowai-Timestamp"))?;
        let nonce = header("x-xiaowai-nonce").ok_or_else(|| missing("X-Xiaowai-Nonce"))?;
        let signature =
            header("x-xiaowai-signature").ok_or_else(|| missing("X-Xiaowai-Signature"))?;
        // API bodies are small; a megabyte bounds what an unauthenticated caller can make us hash.
        let body = axum::body::to_bytes(body, 1 << 20).await.map_err(|_| {
            ApiError::new(
                ErrorCode::FieldTooLong,
                "请求内容超过1MB",
                "request body over 1 MiB",
            )
            .into_response()
        })?;
        let path_and_query = parts.uri.path_and_query().map_or("/", |p| p.as_str());
        let request = app::signing::SignedRequest {
            key_id: &key_id,
            method: parts.method.as_str(),
            path_and_query,
            body: &body,
            timestamp_ms: timestamp,
            nonce: &nonce,
            signature: &signature,
        };
        match state.app.integration().verify_signed(&request).await {
            Ok(actor) => Ok(Signed { actor, body }),
            Err(e) if e.code.status() == 401 => Err(Unauthorized(ApiError(e)).into_response()),
            Err(e) => Err(ApiError(e).into_response()),
        }
    }
}

/// A signed request from a bank's system: any other client is refused (and audited) before its request is
/// read.
pub struct BankSigned(pub Signed);

impl axum::extract::FromRequest<WebState> for BankSigned {
    type Rejection = Response;

    async fn from_request(
        req: axum::extract::Request,
        state: &WebState,
    ) -> Result<Self, Self::Rejection> {
        let signed = Signed::from_request(req, state).await?;
        state
            .app
            .money()
            .require_bank(&signed.actor)
            .await
            .map_err(|e| ApiError(e).into_response())?;
        Ok(BankSigned(signed))
    }
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ClientView {
    key_id: String,
    owner_kind: String,
    owner_id: String,
    body_bytes: usize,
}

/// Checks a client's request signing: answers who the signed request came from (any method).
#[utoipa::path(
    method(get, post),
    path = "/api/v1/clients/me",
    responses(
        (status = 200, body = ClientView),
        (status = 401, description = "invalid_signature, stale_request or replayed_request", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn client_me(signed: Signed) -> Result<Json<ClientView>, ApiError> {
    match signed.actor {
        Actor::ApiClient {
            key_id,
            owner_kind,
            owner_id,
        } => Ok(Json(ClientView {
            key_id,
            owner_kind,
            owner_id,
            body_bytes: signed.body.len(),
        })),
        _ => Err(ApiError(app::AppError::internal(
            "a signed request resolved to a non-client actor",
        ))),
    }
}

/// An institution's audit trail, for a regulator whose region covers the institution.
#[utoipa::path(
    get,
    path = "/api/v1/regulator/institutions/{id}/audit",
    security(("bearer" = [])),
    params(("id" = String, Path)),
    responses(
        (status = 200, body = Vec<app::oversight::AuditEntryView>),
        (status = 403, description = "outside the regulator's region or role", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn institution_audit(
    State(s): State<WebState>,
    bearer: Bearer,
    Path(id): Path<String>,
) -> Result<Json<Vec<app::oversight::AuditEntryView>>, ApiError> {
    Ok(Json(
        s.app
            .supervision()
            .institution_audit_trail(&bearer.actor, &id)
            .await?,
    ))
}

/// Move an institution of the supervisor's region to the grey or black list, with a reason.
#[utoipa::path(
    post,
    path = "/api/v1/regulator/institutions/{id}/list",
    security(("bearer" = [])),
    params(("id" = String, Path)),
    request_body = app::supervision::ListMove,
    responses(
        (status = 204, description = "moved; the public site shows it at once"),
        (status = 403, description = "not a supervisor of the institution's region", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "already on that list", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "fund_supervision_required: white needs approval and a supervised account", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn move_to_list(
    State(s): State<WebState>,
    bearer: Bearer,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<app::supervision::ListMove>,
) -> Result<StatusCode, ApiError> {
    s.app
        .require(
            &bearer.actor,
            domain::access::Permission::SuperviseInstitution,
        )
        .await?;
    s.app
        .supervision()
        .move_to_list(&bearer.actor, &id, &b)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Remove (撤除) an institution after the local procedure: black list, plate revoked, notice if asked.
#[utoipa::path(
    post,
    path = "/api/v1/regulator/institutions/{id}/removal",
    security(("bearer" = [])),
    params(("id" = String, Path)),
    request_body = app::supervision::Removal,
    responses(
        (status = 204, description = "removed"),
        (status = 403, description = "not a supervisor of the institution's region", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "already removed", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn remove_institution(
    State(s): State<WebState>,
    bearer: Bearer,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<app::supervision::Removal>,
) -> Result<StatusCode, ApiError> {
    s.app
        .require(
            &bearer.actor,
            domain::access::Permission::SuperviseInstitution,
        )
        .await?;
    s.app
        .supervision()
        .remove_institution(&bearer.actor, &id, &b)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Record an institution found operating without a licence straight onto the black list (supervisors, in
/// their region).
#[utoipa::path(
    post,
    path = "/api/v1/regulator/unlicensed",
    security(("bearer" = [])),
    request_body = app::supervision::UnlicensedFinding,
    responses(
        (status = 201, description = "recorded: the new institution's id", body = String, content_type = "application/json"),
        (status = 403, description = "outside the supervisor's region", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn record_unlicensed(
    State(s): State<WebState>,
    bearer: Bearer,
    ApiJson(b): ApiJson<app::supervision::UnlicensedFinding>,
) -> Result<(StatusCode, Json<String>), ApiError> {
    s.app
        .require(
            &bearer.actor,
            domain::access::Permission::SuperviseInstitution,
        )
        .await?;
    let id = s
        .app
        .supervision()
        .record_unlicensed(&bearer.actor, &b)
        .await?;
    Ok((StatusCode::CREATED, Json(id)))
}

/// The signed-in account's newest notifications (站内信).
#[utoipa::path(
    get,
    path = "/api/v1/me/notifications",
    security(("bearer" = [])),
    responses((status = 200, body = Vec<app::inbox::NotificationView>), (status = 401, body = Problem, content_type = "application/problem+json"))
)]
pub async fn my_notifications(
    State(s): State<WebState>,
    bearer: Bearer,
) -> Result<Json<Vec<app::inbox::NotificationView>>, ApiError> {
    Ok(Json(s.app.service().my_notifications(&bearer.actor).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PolicyQuery {
    /// GB/T 2260 code (000000: the national defaults).
    region: String,
}

/// The policy in force in a region (purchase caps, lesson rules, guidance prices, windows).
#[utoipa::path(
    get,
    path = "/api/v1/public/policy",
    params(PolicyQuery),
    responses((status = 200, body = app::policy::PolicyView), (status = 400, body = Problem, content_type = "application/problem+json"))
)]
pub async fn region_policy(
    State(s): State<WebState>,
    ApiQuery(q): ApiQuery<PolicyQuery>,
) -> Result<Json<app::policy::PolicyView>, ApiError> {
    Ok(Json(s.app.registry().region_policy(&q.region).await?))
}

/// Set the supervisor's own region's policy override (a new version, with a reason).
#[utoipa::path(
    put,
    path = "/api/v1/regulator/policy",
    security(("bearer" = [])),
    request_body = app::policy::PolicyChange,
    responses((status = 200, body = app::policy::PolicyView), (status = 403, body = Problem, content_type = "application/problem+json"))
)]
pub async fn set_region_policy(
    State(s): State<WebState>,
    bearer: Bearer,
    ApiJson(b): ApiJson<app::policy::PolicyChange>,
) -> Result<Json<app::policy::PolicyView>, ApiError> {
    s.app
        .require(
            &bearer.actor,
            domain::access::Permission::SuperviseInstitution,
        )
        .await?;
    Ok(Json(
        s.app
            .registry()
            .set_region_policy(&bearer.actor, &b)
            .await?,
    ))
}

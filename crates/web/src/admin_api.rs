//! The three administrators over the JSON API: account administration (系统管理员 for the regulators of its
//! subtree and, nationally, the banks' operators; an institution's admin for its staff), the security
//! policy (安全管理员) and the audit logs (审计管理员). Who may do what is decided in `app`; these handlers
//! only parse and answer.

use crate::WebState;
use crate::auth_api::Bearer;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiQuery};
use app::admin::{
    AccountChange, AccountKind, AccountSummary, CreatedAccount, NewBankOperatorRequest,
    NewRegulatorRequest, NewSchoolAccountRequest, NewStaffRequest,
};
use app::oversight::{AuditLogPage, PiiAccessView};
use app::security::{SecurityPolicyChange, SecurityPolicyView};
use app::views::Page;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use domain::access::Permission;
use serde::Deserialize;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AccountQuery {
    /// From 1.
    page: Option<i64>,
    /// 1 to 100, default 20.
    per_page: Option<i64>,
    /// `bank_operator` lists the banks' operators (national administrators only).
    kind: Option<String>,
}

fn paging(q: AccountQuery) -> Result<(AccountQuery, domain::Paging), ApiError> {
    let paging = domain::Paging::new(q.page, q.per_page).map_err(app::AppError::from)?;
    Ok((q, paging))
}

/// The accounts the administrator manages, by username: a regulator's system administrator sees the
/// regulators of its subtree (the national one, with `kind=bank_operator`, the banks' operators); an
/// institution's admin its staff.
#[utoipa::path(
    get,
    path = "/api/v1/admin/accounts",
    security(("bearer" = [])),
    params(AccountQuery),
    responses(
        (status = 200, body = Page<AccountSummary>),
        (status = 403, description = "not a system administrator", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_accounts(
    State(s): State<WebState>,
    bearer: Bearer,
    ApiQuery(q): ApiQuery<AccountQuery>,
) -> Result<Json<Page<AccountSummary>>, ApiError> {
    let (q, paging) = paging(q)?;
    let bank_operators = q.kind.as_deref() == Some("bank_operator");
    Ok(Json(
        s.app
            .identity()
            .managed_accounts(&bearer.actor, bank_operators, paging)
            .await?,
    ))
}

/// Create a regulator account inside the administrator's region. The answer carries the authenticator
/// enrolment URI, shown this once; the password given is temporary (replaced at first sign-in).
#[utoipa::path(
    post,
    path = "/api/v1/admin/regulators",
    security(("bearer" = [])),
    request_body = NewRegulatorRequest,
    responses(
        (status = 201, body = CreatedAccount),
        (status = 403, description = "not a system administrator, or outside its region", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "username taken", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create_regulator(
    State(s): State<WebState>,
    bearer: Bearer,
    ApiJson(b): ApiJson<NewRegulatorRequest>,
) -> Result<(StatusCode, Json<CreatedAccount>), ApiError> {
    // Refuse before reading the body: who may ask comes before what is asked.
    s.app
        .identity()
        .require_account_admin(&bearer.actor, AccountKind::Regulator)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(s.app.identity().create_regulator(&bearer.actor, &b).await?),
    ))
}

/// Create a bank's portal operator (national system administrator). Signs in with TOTP.
#[utoipa::path(
    post,
    path = "/api/v1/admin/bank-operators",
    security(("bearer" = [])),
    request_body = NewBankOperatorRequest,
    responses(
        (status = 201, body = CreatedAccount),
        (status = 403, description = "not the national system administrator", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create_bank_operator(
    State(s): State<WebState>,
    bearer: Bearer,
    ApiJson(b): ApiJson<NewBankOperatorRequest>,
) -> Result<(StatusCode, Json<CreatedAccount>), ApiError> {
    s.app
        .identity()
        .require_account_admin(&bearer.actor, AccountKind::BankOperator)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(
            s.app
                .identity()
                .create_bank_operator(&bearer.actor, &b)
                .await?,
        ),
    ))
}

/// Create an account of a school in the administrator's subtree (a regulator's system administrator); the
/// school is created with its first account. Schools sign in with a password only.
#[utoipa::path(
    post,
    path = "/api/v1/admin/school-accounts",
    security(("bearer" = [])),
    request_body = NewSchoolAccountRequest,
    responses(
        (status = 201, body = CreatedAccount),
        (status = 403, description = "not a regulator's system administrator", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create_school_account(
    State(s): State<WebState>,
    bearer: Bearer,
    ApiJson(b): ApiJson<NewSchoolAccountRequest>,
) -> Result<(StatusCode, Json<CreatedAccount>), ApiError> {
    s.app
        .identity()
        .require_account_admin(&bearer.actor, AccountKind::School)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(
            s.app
                .identity()
                .create_school_account(&bearer.actor, &b)
                .await?,
        ),
    ))
}

/// Disable an account the administrator manages (a regulator's system administrator its subtree's
/// regulators, an institution's admin its staff): its sessions and tokens end at once.
#[utoipa::path(
    post,
    path = "/api/v1/admin/accounts/{id}/disable",
    security(("bearer" = [])),
    params(("id" = String, Path)),
    request_body = AccountChange,
    responses(
        (status = 200, body = AccountSummary),
        (status = 403, description = "outside what the administrator manages", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn disable_account(
    s: State<WebState>,
    bearer: Bearer,
    id: Path<String>,
    ApiJson(b): ApiJson<AccountChange>,
) -> Result<Json<AccountSummary>, ApiError> {
    set_enabled(s, bearer, id, false, b).await
}

async fn set_enabled(
    State(s): State<WebState>,
    bearer: Bearer,
    Path(id): Path<String>,
    enabled: bool,
    b: AccountChange,
) -> Result<Json<AccountSummary>, ApiError> {
    s.app
        .require(&bearer.actor, Permission::ManageAccounts)
        .await?;
    Ok(Json(
        s.app
            .identity()
            .set_account_enabled(&bearer.actor, &id, enabled, &b)
            .await?,
    ))
}

/// Re-enable an account (this also lifts a lockout after too many failed sign-ins).
#[utoipa::path(
    post,
    path = "/api/v1/admin/accounts/{id}/enable",
    security(("bearer" = [])),
    params(("id" = String, Path)),
    request_body = AccountChange,
    responses(
        (status = 200, body = AccountSummary),
        (status = 403, description = "outside what the administrator manages", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn enable_account(
    s: State<WebState>,
    bearer: Bearer,
    id: Path<String>,
    ApiJson(b): ApiJson<AccountChange>,
) -> Result<Json<AccountSummary>, ApiError> {
    set_enabled(s, bearer, id, true, b).await
}

/// Create a staff account (admin, operator or teacher) of the admin's own institution.
#[utoipa::path(
    post,
    path = "/api/v1/institution/staff",
    security(("bearer" = [])),
    request_body = NewStaffRequest,
    responses((status = 201, body = CreatedAccount), (status = 403, body = Problem, content_type = "application/problem+json"))
)]
pub async fn create_staff(
    State(s): State<WebState>,
    bearer: Bearer,
    ApiJson(b): ApiJson<NewStaffRequest>,
) -> Result<(StatusCode, Json<CreatedAccount>), ApiError> {
    s.app
        .identity()
        .require_account_admin(&bearer.actor, AccountKind::Staff)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(s.app.identity().create_staff(&bearer.actor, &b).await?),
    ))
}

/// The security policy in force (security administrators).
#[utoipa::path(
    get,
    path = "/api/v1/admin/security-policy",
    security(("bearer" = [])),
    responses((status = 200, body = SecurityPolicyView), (status = 403, body = Problem, content_type = "application/problem+json"))
)]
pub async fn security_policy(
    State(s): State<WebState>,
    bearer: Bearer,
) -> Result<Json<SecurityPolicyView>, ApiError> {
    Ok(Json(s.app.identity().security_policy(&bearer.actor).await?))
}

/// Set a new version of the security policy (the national security administrator), with a reason.
#[utoipa::path(
    put,
    path = "/api/v1/admin/security-policy",
    security(("bearer" = [])),
    request_body = SecurityPolicyChange,
    responses(
        (status = 200, body = SecurityPolicyView),
        (status = 400, description = "a value outside its bounds", body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn set_security_policy(
    State(s): State<WebState>,
    bearer: Bearer,
    ApiJson(b): ApiJson<SecurityPolicyChange>,
) -> Result<Json<SecurityPolicyView>, ApiError> {
    s.app
        .require(&bearer.actor, Permission::ManageSecurityPolicy)
        .await?;
    Ok(Json(
        s.app
            .identity()
            .set_security_policy(&bearer.actor, &b)
            .await?,
    ))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Entries with a sequence number below this (the previous page's `next_before`).
    before: Option<i64>,
}

/// The audit log, newest first, 50 a page (audit administrators: the national one all of it, a regional
/// one what its subtree's regulator accounts did or had done to them).
#[utoipa::path(
    get,
    path = "/api/v1/audit/entries",
    security(("bearer" = [])),
    params(AuditQuery),
    responses((status = 200, body = AuditLogPage), (status = 403, body = Problem, content_type = "application/problem+json"))
)]
pub async fn audit_entries(
    State(s): State<WebState>,
    bearer: Bearer,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> Result<Json<AuditLogPage>, ApiError> {
    Ok(Json(
        s.app
            .supervision()
            .audit_log(&bearer.actor, q.before)
            .await?,
    ))
}

/// The personal-data access log (who revealed what, when, and why), newest first.
#[utoipa::path(
    get,
    path = "/api/v1/audit/pii-access",
    security(("bearer" = [])),
    params(AccountQuery),
    responses((status = 200, body = Page<PiiAccessView>), (status = 403, body = Problem, content_type = "application/problem+json"))
)]
pub async fn pii_access(
    State(s): State<WebState>,
    bearer: Bearer,
    ApiQuery(q): ApiQuery<AccountQuery>,
) -> Result<Json<Page<PiiAccessView>>, ApiError> {
    let (_, paging) = paging(q)?;
    Ok(Json(
        s.app
            .supervision()
            .pii_access_log(&bearer.actor, paging)
            .await?,
    ))
}

//! 系统接入 over HTTP: the service team registers integrators, institutions authorise and revoke them, and
//! integrators call the open API with signed requests, each mutation under an `Idempotency-Key`. Every
//! integration call is checked against the institution's live grant first (`app::integrations`).

use crate::WebState;
use crate::auth_api::{Bearer, Signed};
use crate::bank_api::once;
use crate::error::{ApiError, PageError, form_outcome, rejected};
use crate::extract::{ApiJson, ApiQuery};
use crate::session_pages::PageSession;
use app::complaints::{ComplaintAnswer, ComplaintView};
use app::courses::NewCourse;
use app::integrations::IntegrationActivity;
use app::integrations::{
    GrantRevocation, GrantView, IntegratorCredentials, NewGrant, NewIntegrator,
};
use app::lessons::{Attendance, LessonView};
use app::orders::{OrderDetail, OrderForParent, OrderLine};
use app::refunds::{RefundAnswer, RefundView};
use app::webhooks::{WebhookDeliveryView, WebhookEndpoint, WebhookTest, WebhookTestResult};
use app::{Actor, AppError, ErrorCode};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use domain::access::{IntegrationScope, Permission};
use serde::{Deserialize, Serialize};

/// The platform's service team (national system administrator) registers a provider's system; the answer
/// carries its key id and secret, shown this once.
#[utoipa::path(post, path = "/api/v1/admin/integrators", security(("bearer" = [])),
    request_body = NewIntegrator, responses((status = 201, body = IntegratorCredentials)))]
pub async fn register(
    State(s): State<WebState>,
    bearer: Bearer,
    ApiJson(new): ApiJson<NewIntegrator>,
) -> Result<(StatusCode, Json<IntegratorCredentials>), ApiError> {
    s.app
        .require(&bearer.actor, Permission::ManageAccounts)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(
            s.app
                .integration()
                .register_integrator(&bearer.actor, &new)
                .await?,
        ),
    ))
}

/// The institution's authorisations of integrators, revoked ones included (its admin).
#[utoipa::path(get, path = "/api/v1/institution/integrations", security(("bearer" = [])),
    responses((status = 200, body = Vec<GrantView>)))]
pub async fn grants(
    State(s): State<WebState>,
    bearer: Bearer,
) -> Result<Json<Vec<GrantView>>, ApiError> {
    Ok(Json(
        s.app
            .integration()
            .institution_grants(&bearer.actor)
            .await?,
    ))
}

/// The institution's admin authorises an integrator for some scopes.
#[utoipa::path(post, path = "/api/v1/institution/integrations", security(("bearer" = [])),
    request_body = NewGrant, responses((status = 201, body = GrantView)))]
pub async fn grant(
    State(s): State<WebState>,
    bearer: Bearer,
    ApiJson(b): ApiJson<NewGrant>,
) -> Result<(StatusCode, Json<GrantView>), ApiError> {
    s.app
        .require(&bearer.actor, Permission::EditOwnFiling)
        .await?;
    let view = s
        .app
        .integration()
        .grant_integration(&bearer.actor, &b)
        .await?;
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
    ApiJson(b): ApiJson<GrantRevocation>,
) -> Result<Json<GrantView>, ApiError> {
    s.app
        .require(&bearer.actor, Permission::EditOwnFiling)
        .await?;
    Ok(Json(
        s.app
            .integration()
            .revoke_integration(&bearer.actor, &id, &b)
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
    Ok(Json(
        s.app.integration().integrator_grants(&signed.actor).await?,
    ))
}

/// Counts the request against the client's quota (429 beyond it).
fn count(s: &WebState, signed: &Signed) -> Result<(), AppError> {
    match &signed.actor {
        Actor::ApiClient { key_id, .. } => s.integration_limiter.check(key_id),
        _ => Ok(()),
    }
}

/// The quota, then that the caller is an integrator (before a body or an idempotency key is read).
async fn integrator(s: &WebState, signed: &Signed) -> Result<(), AppError> {
    count(s, signed)?;
    s.app
        .integration()
        .integrator_of(&signed.actor)
        .await
        .map(|_| ())
}

/// The quota, then the institution's live grant for `scope`: the operator the integrator acts as.
async fn acting(
    s: &WebState,
    signed: &Signed,
    institution_id: &str,
    scope: IntegrationScope,
) -> Result<Actor, AppError> {
    count(s, signed)?;
    s.app
        .integration()
        .acting_for(&signed.actor, institution_id, scope)
        .await
}

/// The grant for `scope`, then `command` once under the request's `Idempotency-Key`, as the institution's
/// operator.
async fn act_once<T, R, F, Fut>(
    s: &WebState,
    headers: &HeaderMap,
    signed: &Signed,
    institution_id: &str,
    scope: IntegrationScope,
    command: F,
) -> Result<Response, ApiError>
where
    T: serde::de::DeserializeOwned,
    R: Serialize,
    F: FnOnce(app::App, Actor, T) -> Fut,
    Fut: Future<Output = Result<R, AppError>>,
{
    let staff = acting(s, signed, institution_id, scope).await?;
    let app = s.app.clone();
    once(s, headers, signed, |_, request: T| {
        command(app, staff, request)
    })
    .await
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
    act_once(
        &s,
        &headers,
        &signed,
        &id,
        IntegrationScope::Courses,
        |app, staff, new: NewCourse| async move {
            let course_id = app.registry().publish_course(&staff, &new).await?;
            Ok(SyncedCourse { course_id })
        },
    )
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
    Ok(Json(
        s.app.money().institution_orders(&staff, id.trim()).await?,
    ))
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
    act_once(
        &s,
        &headers,
        &signed,
        &id,
        IntegrationScope::Attendance,
        |app, staff, taken: Attendance| async move {
            app.money().take_attendance(&staff, &order_id, &taken).await
        },
    )
    .await
}

/// Orders a course of the institution for a parent (scope `orders`), under an `Idempotency-Key`: the parent
/// is found by phone and the child by ID card, the order is checked exactly as on the parent end, and it
/// waits for the parent to pay through the bank.
#[utoipa::path(post, path = "/api/v1/integration/institutions/{id}/orders",
    params(("id" = String, Path), ("Idempotency-Key" = String, Header)), request_body = OrderForParent,
    responses((status = 200, body = OrderDetail)))]
pub async fn order_for_parent(
    State(s): State<WebState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    signed: Signed,
) -> Result<Response, ApiError> {
    act_once(
        &s,
        &headers,
        &signed,
        &id,
        IntegrationScope::Orders,
        |app, staff, new: OrderForParent| async move {
            app.money().place_order_for_parent(&staff, &new).await
        },
    )
    .await
}

/// One order with its contract, escrow, released and refunded amounts and its refund requests (scope
/// `orders`).
#[utoipa::path(get, path = "/api/v1/integration/institutions/{id}/orders/{order_id}",
    params(("id" = String, Path), ("order_id" = String, Path)),
    responses((status = 200, body = IntegrationOrder)))]
pub async fn order(
    State(s): State<WebState>,
    Path((id, order_id)): Path<(String, String)>,
    signed: Signed,
) -> Result<Json<IntegrationOrder>, ApiError> {
    let staff = acting(&s, &signed, &id, IntegrationScope::Orders).await?;
    let order = s.app.money().order_for(&staff, &order_id).await?;
    if order.line.institution_id != id.trim() {
        return Err(
            AppError::not_found("该机构没有这个订单", "no such order of the institution").into(),
        );
    }
    let refunds = s.app.money().refunds_of_order(&staff, &order_id).await?;
    Ok(Json(IntegrationOrder { order, refunds }))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct IntegrationOrder {
    pub order: OrderDetail,
    pub refunds: Vec<RefundView>,
}

/// Agrees to or refuses a parent's refund request (scope `service`), under an `Idempotency-Key`.
#[utoipa::path(post, path = "/api/v1/integration/institutions/{id}/refunds/{refund_id}/answer",
    params(("id" = String, Path), ("refund_id" = String, Path), ("Idempotency-Key" = String, Header)),
    request_body = RefundAnswer, responses((status = 200, body = RefundView)))]
pub async fn answer_refund(
    State(s): State<WebState>,
    Path((id, refund_id)): Path<(String, String)>,
    headers: HeaderMap,
    signed: Signed,
) -> Result<Response, ApiError> {
    act_once(
        &s,
        &headers,
        &signed,
        &id,
        IntegrationScope::Service,
        |app, staff, answer: RefundAnswer| async move {
            app.money().answer_refund(&staff, &refund_id, &answer).await
        },
    )
    .await
}

/// Answers a parent's complaint (scope `service`), under an `Idempotency-Key`.
#[utoipa::path(post, path = "/api/v1/integration/institutions/{id}/complaints/{complaint_id}/answer",
    params(("id" = String, Path), ("complaint_id" = String, Path), ("Idempotency-Key" = String, Header)),
    request_body = ComplaintAnswer, responses((status = 200, body = ComplaintView)))]
pub async fn answer_complaint(
    State(s): State<WebState>,
    Path((id, complaint_id)): Path<(String, String)>,
    headers: HeaderMap,
    signed: Signed,
) -> Result<Response, ApiError> {
    act_once(
        &s,
        &headers,
        &signed,
        &id,
        IntegrationScope::Service,
        |app, staff, answer: ComplaintAnswer| async move {
            app.service()
                .answer_complaint(&staff, &complaint_id, &answer)
                .await
        },
    )
    .await
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub struct ExportFormat {
    /// `csv` (default) or `jsonl`.
    pub format: String,
}

/// Every order of the institution with its escrow, released and refunded amounts, for the integrator's
/// reconciliation (scope `orders`): CSV or JSON lines, amounts in fen.
#[utoipa::path(get, path = "/api/v1/integration/institutions/{id}/export",
    params(("id" = String, Path), ExportFormat),
    responses((status = 200, content_type = "text/csv", description = "one order a row"),
              (status = 200, content_type = "application/x-ndjson", description = "one order a line")))]
pub async fn export(
    State(s): State<WebState>,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<ExportFormat>,
    signed: Signed,
) -> Result<Response, ApiError> {
    let staff = acting(&s, &signed, &id, IntegrationScope::Orders).await?;
    let jsonl = match q.format.as_str() {
        "" | "csv" => false,
        "jsonl" => true,
        _ => {
            return Err(AppError::new(
                ErrorCode::InvalidParameter,
                "格式：须为 CSV 或 JSONL",
                "format: csv or jsonl",
            )
            .on("format")
            .into());
        }
    };
    let rows = s.app.integration().export_orders(&staff, &id).await?;
    let failed = |e: String| ApiError(AppError::internal(e));
    let (bytes, content_type) = if jsonl {
        let mut out = Vec::new();
        for row in &rows {
            serde_json::to_writer(&mut out, row).map_err(|e| failed(e.to_string()))?;
            out.push(b'\n');
        }
        (out, "application/x-ndjson")
    } else {
        let mut w = csv::Writer::from_writer(Vec::new());
        for row in &rows {
            w.serialize(row).map_err(|e| failed(e.to_string()))?;
        }
        (
            w.into_inner().map_err(|e| failed(e.to_string()))?,
            "text/csv; charset=utf-8",
        )
    };
    let extension = if jsonl { "jsonl" } else { "csv" };
    Ok((
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"orders-{}.{extension}\"", id.trim()),
            ),
            (header::CACHE_CONTROL, "private, no-store".to_owned()),
        ],
        bytes,
    )
        .into_response())
}

/// Sets where the integrator's webhooks go, under an `Idempotency-Key`.
#[utoipa::path(put, path = "/api/v1/integration/webhook",
    params(("Idempotency-Key" = String, Header)), request_body = WebhookEndpoint,
    responses((status = 200, body = WebhookEndpoint)))]
pub async fn set_webhook(
    State(s): State<WebState>,
    headers: HeaderMap,
    signed: Signed,
) -> Result<Response, ApiError> {
    integrator(&s, &signed).await?;
    let app = s.app.clone();
    once(
        &s,
        &headers,
        &signed,
        |actor, endpoint: WebhookEndpoint| async move {
            app.integration()
                .set_webhook_endpoint(&actor, &endpoint)
                .await
        },
    )
    .await
}

/// The integrator's webhook URL (404 when none is set).
#[utoipa::path(get, path = "/api/v1/integration/webhook",
    responses((status = 200, body = WebhookEndpoint)))]
pub async fn webhook(
    State(s): State<WebState>,
    signed: Signed,
) -> Result<Json<WebhookEndpoint>, ApiError> {
    count(&s, &signed)?;
    Ok(Json(
        s.app.integration().webhook_endpoint(&signed.actor).await?,
    ))
}

/// Sends a `ping` to the webhook URL now and says what the receiver answered; `forged: true` signs it with
/// a wrong key, which a conforming receiver refuses.
#[utoipa::path(post, path = "/api/v1/integration/webhook/test", request_body = WebhookTest,
    responses((status = 200, body = WebhookTestResult)))]
pub async fn test_webhook(
    State(s): State<WebState>,
    signed: Signed,
) -> Result<Json<WebhookTestResult>, ApiError> {
    count(&s, &signed)?;
    let test: WebhookTest = if signed.body.is_empty() {
        WebhookTest::default()
    } else {
        serde_json::from_slice(&signed.body)
            .map_err(|e| rejected(StatusCode::BAD_REQUEST, e.to_string()))?
    };
    Ok(Json(
        s.app
            .integration()
            .test_webhook(&signed.actor, &test)
            .await?,
    ))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub struct DeliveryPage {
    /// An event id: deliveries of earlier events only.
    pub before: Option<i64>,
}

/// The integrator's webhook deliveries, newest first, each with every attempt.
#[utoipa::path(get, path = "/api/v1/integration/webhook/deliveries", params(DeliveryPage),
    responses((status = 200, body = Vec<WebhookDeliveryView>)))]
pub async fn deliveries(
    State(s): State<WebState>,
    ApiQuery(q): ApiQuery<DeliveryPage>,
    signed: Signed,
) -> Result<Json<Vec<WebhookDeliveryView>>, ApiError> {
    count(&s, &signed)?;
    Ok(Json(
        s.app
            .integration()
            .webhook_deliveries(&signed.actor, q.before)
            .await?,
    ))
}

/// Sends a delivered or given-up delivery again, under an `Idempotency-Key`.
#[utoipa::path(post, path = "/api/v1/integration/webhook/deliveries/{id}/replay",
    params(("id" = String, Path), ("Idempotency-Key" = String, Header)),
    responses((status = 200, body = WebhookDeliveryView)))]
pub async fn replay(
    State(s): State<WebState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    signed: Signed,
) -> Result<Response, ApiError> {
    integrator(&s, &signed).await?;
    let app = s.app.clone();
    once(
        &s,
        &headers,
        &signed,
        |actor, _: serde_json::Value| async move { app.integration().replay_webhook(&actor, &id).await },
    )
    .await
}

/// What the platform has seen of the integrator's adapter: its actions by kind and its deliveries by state
/// (the conformance kit's evidence).
#[utoipa::path(get, path = "/api/v1/integration/activity",
    responses((status = 200, body = IntegrationActivity)))]
pub async fn activity(
    State(s): State<WebState>,
    signed: Signed,
) -> Result<Json<IntegrationActivity>, ApiError> {
    count(&s, &signed)?;
    Ok(Json(
        s.app
            .integration()
            .integration_activity(&signed.actor)
            .await?,
    ))
}

// ---- the institution end's page ----

#[derive(askama::Template, askama_web::WebTemplate)]
#[template(path = "integrations.html")]
pub(crate) struct IntegrationsPage {
    grants: Vec<GrantView>,
    integrators: Vec<app::integrations::IntegratorChoice>,
    csrf: String,
    notice: Option<&'static str>,
    error: Option<String>,
}

async fn integrations_page(
    s: &WebState,
    session: app::sessions::ActiveSession,
    notice: Option<&'static str>,
    error: Option<String>,
) -> Result<IntegrationsPage, PageError> {
    Ok(IntegrationsPage {
        grants: s
            .app
            .integration()
            .institution_grants(&session.actor)
            .await?,
        integrators: s
            .app
            .integration()
            .integrators_to_authorise(&session.actor)
            .await?,
        csrf: session.csrf,
        notice,
        error,
    })
}

/// `/institution/integrations`: the admin's authorisations, a form to authorise a system, revoke buttons.
pub(crate) async fn page(
    State(s): State<WebState>,
    PageSession(session): PageSession,
) -> Result<IntegrationsPage, PageError> {
    integrations_page(&s, session, None, None).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct GrantForm {
    csrf: String,
    integrator_id: String,
    courses: String,
    orders: String,
    attendance: String,
    service: String,
    reason: String,
}

async fn after_form<T>(
    s: &WebState,
    session: app::sessions::ActiveSession,
    result: Result<T, AppError>,
    done: &'static str,
) -> Result<Response, PageError> {
    let o = form_outcome(result, StatusCode::OK, done)?;
    Ok((
        o.status,
        integrations_page(s, session, o.notice, o.error).await?,
    )
        .into_response())
}

pub(crate) async fn grant_form(
    State(s): State<WebState>,
    session: PageSession,
    Form(form): Form<GrantForm>,
) -> Result<Response, PageError> {
    session.check_csrf(&s, &form.csrf)?;
    let PageSession(session) = session;
    let scopes = [
        ("courses", &form.courses),
        ("orders", &form.orders),
        ("attendance", &form.attendance),
        ("service", &form.service),
    ]
    .into_iter()
    .filter(|(_, on)| !on.is_empty())
    .map(|(scope, _)| scope.to_owned())
    .collect();
    let new = NewGrant {
        integrator_id: form.integrator_id,
        scopes,
    };
    let result = s
        .app
        .integration()
        .grant_integration(&session.actor, &new)
        .await;
    after_form(
        &s,
        session,
        result,
        "已授权，该系统现在可以按所选范围接入。",
    )
    .await
}

pub(crate) async fn revoke_form(
    State(s): State<WebState>,
    session: PageSession,
    Path(id): Path<String>,
    Form(form): Form<GrantForm>,
) -> Result<Response, PageError> {
    session.check_csrf(&s, &form.csrf)?;
    let PageSession(session) = session;
    let revocation = GrantRevocation {
        reason: form.reason,
    };
    let result = s
        .app
        .integration()
        .revoke_integration(&session.actor, &id, &revocation)
        .await;
    after_form(
        &s,
        session,
        result,
        "已撤销授权，该系统的下一次请求将被拒绝。",
    )
    .await
}

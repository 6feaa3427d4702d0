//! The public JSON API, `/api/v1/public/...`, and its OpenAPI 3.1 document.

use crate::WebState;
use crate::error::{ApiError, Problem};
use app::registry::RawSearch;
use app::views::{
    CourseView, InstitutionDetail, InstitutionSummary, Labelled, ListChangeView, Page,
};
use app::regions::RegionView;
use app::{ErrorCode, views};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::{Json, Router};
use serde::Deserialize;
use utoipa::OpenApi;
use utoipa_swagger_ui::SwaggerUi;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "xiaowai — 全国校外教育培训监管与服务综合平台 API",
        description = "The public registry API. Errors are RFC 9457 `application/problem+json` bodies with a stable `code`."
    ),
    paths(
        search_institutions,
        institution_detail,
        regions,
        crate::plate_pages::verify_api,
        crate::plate_pages::plate_key,
        crate::plate_pages::plate_api,
        crate::auth_api::login,
        crate::auth_api::refresh,
        crate::auth_api::logout,
        crate::auth_api::me,
        crate::auth_api::sms_code,
        crate::auth_api::my_children,
        crate::auth_api::add_child,
        crate::auth_api::reveal_child,
        crate::auth_api::client_me,
        crate::auth_api::change_password,
        crate::auth_api::institution_audit,
        crate::auth_api::move_to_list,
        crate::filing_api::sign_up,
        crate::filing_api::my_filing,
        crate::filing_api::save_filing,
        crate::filing_api::submit_filing,
        crate::filing_api::upload_document,
        crate::filing_api::document,
        crate::filing_api::review_queue,
        crate::filing_api::filing_for_review,
        crate::filing_api::decide,
        crate::filing_api::blacklist_practitioner,
        crate::filing_api::publish_course,
        crate::filing_api::request_supervised_account,
        crate::filing_api::supervised_accounts,
        crate::filing_api::confirm_supervised_account,
        crate::filing_api::staff_register,
        crate::filing_api::hire,
        crate::filing_api::confirm_record_check,
        crate::auth_api::remove_institution,
        crate::auth_api::record_unlicensed,
        crate::auth_api::my_notifications,
        crate::auth_api::region_policy,
        crate::auth_api::set_region_policy,
        crate::admin_api::list_accounts,
        crate::admin_api::create_regulator,
        crate::admin_api::create_bank_operator,
        crate::admin_api::create_school_account,
        crate::integration_api::register,
        crate::integration_api::grants,
        crate::integration_api::grant,
        crate::integration_api::revoke,
        crate::integration_api::my_grants,
        crate::integration_api::sync_course,
        crate::integration_api::orders,
        crate::integration_api::attendance,
        crate::integration_api::order_for_parent,
        crate::integration_api::order,
        crate::integration_api::answer_refund,
        crate::integration_api::answer_complaint,
        crate::integration_api::export,
        crate::integration_api::set_webhook,
        crate::integration_api::webhook,
        crate::integration_api::test_webhook,
        crate::integration_api::deliveries,
        crate::integration_api::replay,
        crate::integration_api::activity,
        crate::service_desk::open,
        crate::service_desk::list,
        crate::service_desk::get_one,
        crate::service_desk::reply,
        crate::service_desk::assign,
        crate::service_desk::resolve,
        crate::service_desk::figures,
        crate::service_desk::integrator_open,
        crate::service_desk::integrator_list,
        crate::service_desk::integrator_get,
        crate::service_desk::integrator_reply,
        crate::admin_api::disable_account,
        crate::admin_api::enable_account,
        crate::admin_api::create_staff,
        crate::admin_api::security_policy,
        crate::admin_api::set_security_policy,
        crate::admin_api::audit_entries,
        crate::admin_api::pii_access,
        crate::money_api::set_endpoint,
        crate::money_api::payment,
        crate::money_api::payment_batch,
        crate::money_api::movement_batch,
        crate::monitoring::monitoring,
        crate::monitoring::file_statement,
        crate::monitoring::statements,
        crate::monitoring::staff_left,
        crate::money_api::movement,
        crate::money_api::instruction_result,
        crate::money_api::statement,
        crate::money_api::place_order,
        crate::money_api::my_orders,
        crate::money_api::order,
        crate::money_api::institution_orders,
        crate::money_api::institution_money,
        crate::money_api::regulator_orders,
        crate::money_api::regulator_money,
        crate::money_api::take_attendance,
        crate::money_api::discount_order,
        crate::money_api::order_lessons,
        crate::money_api::lessons_to_confirm,
        crate::money_api::confirm_lesson,
        crate::money_api::dispute_lesson,
        crate::money_api::request_refund,
        crate::money_api::order_refunds,
        crate::money_api::answer_refund,
        crate::money_api::escalate_refund,
        crate::money_api::rule_on_refund,
        crate::money_api::post_review,
        crate::money_api::reply_review,
        crate::money_api::hide_review,
        crate::money_api::public_reviews,
        crate::complaint_api::file_complaint,
        crate::complaint_api::complaints,
        crate::complaint_api::complaint,
        crate::complaint_api::answer_complaint,
        crate::complaint_api::accept_complaint,
        crate::complaint_api::escalate_complaint,
        crate::complaint_api::rule_on_complaint,
        crate::complaint_api::complaint_figures,
        crate::complaint_api::start_run_off,
        crate::money_api::request_leave,
        crate::money_api::transfer_class,
        crate::complaint_api::ask_institution,
        crate::complaint_api::consultations,
        crate::complaint_api::consultation,
        crate::complaint_api::reply_consultation,
        crate::risk_api::risk_model,
        crate::risk_api::set_risk_model,
        crate::risk_api::warnings,
        crate::risk_api::answer_warning,
        crate::risk_api::decide_warning,
        crate::risk_api::public_warnings,
        crate::money_api::bank_risk_score,
        crate::risk_api::dashboard,
        crate::inspection::create_campaign,
        crate::inspection::campaigns,
        crate::inspection::campaign,
        crate::inspection::record_result,
        crate::inspection::record_penalty,
        crate::inspection::credit,
        crate::inspection::credit_model,
        crate::inspection::set_credit_model,
        crate::inspection::publish,
        crate::inspection::export,
        crate::school::lists,
        crate::school::list,
        crate::school::choose,
        crate::school::withdraw,
        crate::inspection::create_after_school_list,
        crate::inspection::after_school_list,
        crate::inspection::add_candidate,
        crate::inspection::bank_quality,
        crate::inspection::annual,
        crate::inspection::annual_review
    ),
    components(schemas(
        Problem,
        Page<InstitutionSummary>,
        InstitutionSummary,
        InstitutionDetail,
        CourseView,
        ListChangeView,
        Labelled,
        RegionView,
        app::auth::PasswordLogin,
        app::auth::TokenPair,
        app::auth::ActorView,
        crate::auth_api::RefreshRequest,
        crate::auth_api::LoginRequest,
        crate::auth_api::SmsCodeRequest,
        crate::auth_api::RevealRequest,
        crate::auth_api::Revealed,
        app::parents::PhoneLogin,
        app::parents::NewChild,
        app::parents::ChildView,
        app::parents::ChildField,
        crate::auth_api::ClientView,
        app::oversight::AuditEntryView,
        app::auth::ChangePassword,
        app::admin::NewRegulatorRequest,
        app::admin::NewStaffRequest,
        app::admin::NewBankOperatorRequest,
        app::admin::NewSchoolAccountRequest,
        app::admin::CreatedAccount,
        app::admin::AccountSummary,
        app::admin::AccountChange,
        Page<app::admin::AccountSummary>,
        app::security::SecurityPolicy,
        app::security::SecurityPolicyView,
        app::security::SecurityPolicyChange,
        app::oversight::AuditLogPage,
        app::plates::PlateCheck,
        app::supervision::ListMove,
        app::onboarding::SignUp,
        app::staff::BlacklistEntry,
        app::courses::NewCourse,
        app::courses::NewSchedule,
        app::funds::BindRequest,
        app::funds::SupervisedAccountView,
        app::staff::Hire,
        app::staff::StaffMemberView,
        app::onboarding::SignedUp,
        app::onboarding::FilingView,
        app::onboarding::FieldNote,
        app::onboarding::DocumentView,
        app::onboarding::FilingVersionView,
        app::onboarding::QueueItem,
        app::onboarding::Decision,
        Page<app::onboarding::QueueItem>,
        domain::filing::Filing,
        domain::filing::BasicSection,
        domain::filing::LicenceSection,
        domain::filing::PremisesSection,
        domain::filing::OrganisationSection,
        domain::filing::StaffEntry,
        domain::filing::CoursesSection,
        domain::filing::FundsSection,
        domain::filing::OtherSection,
        app::supervision::Removal,
        app::supervision::UnlicensedFinding,
        app::inbox::NotificationView,
        app::policy::PolicyView,
        app::policy::PolicyChange,
        domain::policy::RegionPolicy,
        domain::policy::PolicyOverride,
        domain::policy::GuidancePrices,
        crate::plate_pages::PlateKey,
        app::oversight::PiiAccessView,
        Page<app::oversight::PiiAccessView>
    )),
    modifiers(&BearerScheme)
)]
pub struct ApiDoc;

/// Declares the `bearer` security scheme the authenticated paths refer to.
struct BearerScheme;

impl utoipa::Modify for BearerScheme {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The OpenAPI document, with the error-code table appended to its description.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    let mut table = String::from("\n\n| code | status | 中文 | English |\n|---|---|---|---|\n");
    for c in ErrorCode::ALL {
        table.push_str(&format!(
            "| `{}` | {} | {} | {} |\n",
            c.code(),
            c.status(),
            c.message_zh(),
            c.message_en()
        ));
    }
    let description = doc.info.description.take().unwrap_or_default();
    doc.info.description = Some(description + &table);
    with_errors_documented(doc)
}

/// Every operation documents the errors it can answer, from the route table's access rule and its shape:
/// 401 and 403 where a caller must sign in or sign the request (with the `signed` scheme declared on signed
/// routes), 404 under a path with an id, 400 where it takes parameters or a body, 413/415/422 where it takes a
/// body, 429 where requests are counted, and `default` for the rest (409, 503 …) — each a problem document
/// whose `code` is one of the table's.
fn with_errors_documented(mut doc: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    use crate::routes::{Access, api_routes};
    use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityRequirement, SecurityScheme};
    use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
    let problem = |codes: &str| {
        RefOr::T(
            ResponseBuilder::new()
                .description(codes)
                .content(
                    "application/problem+json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("Problem")))
                        .build(),
                )
                .build(),
        )
    };
    doc.components
        .get_or_insert_with(Default::default)
        .add_security_scheme(
            "signed",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-Xiaowai-Key",
                "A bank's or integrator's key id; the request also carries X-Xiaowai-Timestamp, \
                 X-Xiaowai-Nonce and X-Xiaowai-Signature (docs/api.md, signed requests).",
            ))),
        );
    for route in api_routes() {
        let Some(item) = doc.paths.paths.get_mut(route.path) else {
            continue;
        };
        let op = match route.method.as_str() {
            "GET" => item.get.as_mut(),
            "POST" => item.post.as_mut(),
            "PUT" => item.put.as_mut(),
            "DELETE" => item.delete.as_mut(),
            "PATCH" => item.patch.as_mut(),
            _ => None,
        };
        let Some(op) = op else {
            continue;
        };
        let takes_body = op.request_body.is_some();
        let takes_parameters = takes_body || op.parameters.as_ref().is_some_and(|p| !p.is_empty());
        let mut statuses: Vec<(&str, &str)> = Vec::new();
        match route.access {
            Access::Public => {}
            Access::SignedIn(_) => {
                statuses.push(("401", "unauthenticated: no valid bearer token"));
                statuses.push(("403", "forbidden: this caller may not do this here"));
            }
            Access::Signed(_) => {
                op.security = Some(vec![SecurityRequirement::new::<_, _, String>("signed", [])]);
                statuses.push((
                    "401",
                    "invalid_signature, stale_request or replayed_request",
                ));
                statuses.push(("403", "forbidden: this client may not do this"));
                statuses.push((
                    "429",
                    "too_many_requests: this client's quota is used up (Retry-After)",
                ));
            }
        }
        if route.path.contains('{') {
            statuses.push(("404", "not_found"));
        }
        if takes_parameters {
            statuses.push(("400", "invalid_parameter, or the invalid field's own code"));
        }
        if takes_body {
            statuses.push(("413", "payload_too_large"));
            statuses.push(("415", "unsupported_media_type"));
            statuses.push(("422", "a rule refused the request: the code says which"));
        }
        if route.path.starts_with("/api/v1/auth/") || route.path == "/api/v1/institutions/sign-up" {
            statuses.push((
                "429",
                "too_many_requests: too many attempts from this address (Retry-After)",
            ));
        }
        statuses.push((
            "default",
            "any other error (409 conflict, 503 unavailable …), its code from the table",
        ));
        for (status, codes) in statuses {
            op.responses
                .responses
                .entry(status.to_owned())
                .or_insert_with(|| problem(codes));
        }
    }
    doc
}

/// The API: the route table plus its documentation.
pub(crate) fn routes() -> Router<WebState> {
    crate::routes::router().merge(SwaggerUi::new("/api/docs").url("/api/openapi.json", openapi()))
}

fn query<T>(q: Result<Query<T>, QueryRejection>) -> Result<T, ApiError> {
    q.map(|Query(v)| v)
        .map_err(|e| crate::error::rejected(e.status(), e.body_text()))
}

/// Search the registry of training institutions.
#[utoipa::path(
    get,
    path = "/api/v1/public/institutions",
    params(
        ("q" = Option<String>, Query, description = "Chinese or English text; every word must match (jieba segmentation)"),
        ("region" = Option<String>, Query, description = "GB/T 2260 code of a province, prefecture or county; includes everything below it"),
        ("category" = Option<String>, Query, description = "subject | sports | arts | practice | technology (or 学科/体育/艺术/综合实践/科技)"),
        ("mode" = Option<String>, Query, description = "online | offline"),
        ("list" = Option<String>, Query, description = "white | grey | black"),
        ("page" = Option<i64>, Query, description = "from 1"),
        ("per_page" = Option<i64>, Query, description = "1 to 100, default 20"),
    ),
    responses(
        (status = 200, description = "One page of institutions", body = Page<InstitutionSummary>),
        (status = 400, description = "Invalid parameter", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn search_institutions(
    State(s): State<WebState>,
    q: Result<Query<RawSearch>, QueryRejection>,
) -> Result<Json<Page<InstitutionSummary>>, ApiError> {
    let raw = query(q)?;
    let parsed = s.app.parse_search(&raw)?;
    Ok(Json(s.app.search_institutions(&parsed).await?))
}

/// One institution: licence, list status with reason and date, courses, list history.
#[utoipa::path(
    get,
    path = "/api/v1/public/institutions/{id}",
    params(("id" = String, Path, description = "Institution id (UUID)")),
    responses(
        (status = 200, body = InstitutionDetail),
        (status = 400, description = "Malformed id", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such institution", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn institution_detail(
    State(s): State<WebState>,
    Path(id): Path<String>,
) -> Result<Json<views::InstitutionDetail>, ApiError> {
    Ok(Json(s.app.institution_detail(&id).await?))
}

#[derive(Debug, Deserialize)]
pub struct RegionParams {
    parent: Option<String>,
}

/// Regions below `parent` (provinces when absent). 市辖区-style placeholders carry `placeholder: true`
/// and a `display_name` naming their municipality.
#[utoipa::path(
    get,
    path = "/api/v1/public/regions",
    params(("parent" = Option<String>, Query, description = "GB/T 2260 code; omit for provinces")),
    responses(
        (status = 200, body = Vec<RegionView>),
        (status = 400, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn regions(
    State(s): State<WebState>,
    q: Result<Query<RegionParams>, QueryRejection>,
) -> Result<Json<Vec<RegionView>>, ApiError> {
    let params = query(q)?;
    Ok(Json(s.app.region_children(params.parent.as_deref())?))
}

//! The OpenAPI 3.1 document: its frame (title, description, shared schemas, security schemes) here, its
//! operations from the route table, and for every operation the errors it can answer.

use crate::access::{Access, Route};
use crate::error::Problem;
use app::ErrorCode;
use app::regions::RegionView;
use app::views::{
    CourseView, InstitutionDetail, InstitutionSummary, Labelled, ListChangeView, Page,
};
use axum::http::Method;
use utoipa::OpenApi;
use utoipa::openapi::PathItem;
use utoipa::openapi::path::Operation;

/// The document's frame: its title, description and shared schemas; the operations come from the route
/// table (`routes`).
#[derive(OpenApi)]
#[openapi(
    info(
        title = "xiaowai — 全国校外教育培训监管与服务综合平台 API",
        description = "The public registry API. Errors are RFC 9457 `application/problem+json` bodies with a stable `code`."
    ),
    components(schemas(
        Problem,
        // The `data` of each webhook body (docs/api.md, "Webhooks"), for clients generated from this document.
        app::events::OrderPaid,
        app::events::LessonConfirmed,
        app::events::LessonDisputed,
        app::events::RefundRequested,
        app::events::RefundAgreed,
        app::events::ComplaintOpened,
        app::events::WarningRaised,
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
pub fn document(mut doc: utoipa::openapi::OpenApi, routes: &[Route]) -> utoipa::openapi::OpenApi {
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
    with_errors_documented(doc, routes)
}

/// Every operation documents the errors it can answer, from the route table's access rule and its shape:
/// 401 and 403 where a caller must sign in or sign the request (with the `signed` scheme declared on signed
/// routes), 404 under a path with an id, 400 where it takes parameters or a body, 413/415/422 where it takes a
/// body, 429 where requests are counted, and `default` for the rest (409, 503 …) — each a problem document
/// whose `code` is one of the table's.
fn with_errors_documented(
    mut doc: utoipa::openapi::OpenApi,
    routes: &[Route],
) -> utoipa::openapi::OpenApi {
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
    for route in routes {
        let Some(item) = doc.paths.paths.get_mut(&route.path) else {
            continue;
        };
        let Some((_, op)) = operations_mut(item).find(|(method, _)| *method == route.method) else {
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

/// A path item's operations with their methods.
pub(crate) fn operations_mut(
    item: &mut PathItem,
) -> impl Iterator<Item = (Method, &mut Operation)> {
    [
        (Method::GET, &mut item.get),
        (Method::POST, &mut item.post),
        (Method::PUT, &mut item.put),
        (Method::DELETE, &mut item.delete),
        (Method::PATCH, &mut item.patch),
    ]
    .into_iter()
    .filter_map(|(method, op)| op.as_mut().map(|op| (method, op)))
}

//! The route tables: every `/api/v1` operation, grouped by the end that calls it, and every page, each with who
//! may call it. The router and the OpenAPI document are built from these tables, so a route cannot exist
//! without its rule or its documentation, and a test walks them calling every route as every kind of caller
//! to check that the handlers enforce what the tables say.

use crate::WebState;
use crate::access::{Access, Caller, Route};
use crate::guard::guarded;
use crate::{
    admin_api, api, auth_api, complaint_api, complaint_pages, console_pages, consultation_pages,
    filing_api, filing_pages, inspection, integration_api, money_api, monitoring, openapi,
    order_pages, pages, plate_pages, risk_api, risk_pages, school, service_desk, session_pages,
};
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::Method;
use axum::routing::{MethodRouter, get, post};
use utoipa::OpenApi;
use utoipa::openapi::PathItem;
use utoipa::openapi::tag::{Tag, TagBuilder};
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;
use utoipa_swagger_ui::SwaggerUi;

/// One API operation: who may call it, and its handler, whose `#[utoipa::path]` gives its method, its path
/// and its documentation — so a route is declared once, beside its handler, and registered once, here.
type ApiOperation = (Access, UtoipaMethodRouter<WebState>);

/// One page: its route and its handler.
fn route(
    method: Method,
    path: &'static str,
    access: Access,
    handler: MethodRouter<WebState>,
) -> (Route, MethodRouter<WebState>) {
    let route = Route {
        method,
        path: path.to_owned(),
        access,
    };
    (route, handler)
}

const SIGNED_CLIENTS: &[Caller] = &[Caller::BankClient, Caller::IntegratorClient];

const ANY_ACCOUNT: &[Caller] = &[
    Caller::BankOperator,
    Caller::Parent,
    Caller::Staff,
    Caller::StaffAdmin,
    Caller::Reviewer,
    Caller::Supervisor,
    Caller::SystemAdmin,
    Caller::SecurityAdmin,
    Caller::AuditAdmin,
    Caller::School,
];

/// Who sees one order: its parent, the institution's staff, regulators over the institution.
const ORDER_READERS: &[Caller] = &[
    Caller::Parent,
    Caller::Staff,
    Caller::StaffAdmin,
    Caller::Reviewer,
    Caller::Supervisor,
];

/// Who works on complaints: the parent, the institution's customer service, the supervisors.
const COMPLAINT_PARTIES: &[Caller] = &[
    Caller::Parent,
    Caller::Staff,
    Caller::StaffAdmin,
    Caller::Supervisor,
];

/// Who talks in a consultation thread: the parent and the institution's customer service.
const CONSULTATION_PARTIES: &[Caller] = &[Caller::Parent, Caller::Staff, Caller::StaffAdmin];

/// Who opens service-desk tickets on an account.
const TICKET_OPENERS: &[Caller] = &[Caller::Staff, Caller::StaffAdmin, Caller::BankOperator];

/// Who answers them: the service team (technical) and the regions' reviewers and supervisors (policy).
const TICKET_ANSWERERS: &[Caller] = &[Caller::Reviewer, Caller::Supervisor, Caller::SystemAdmin];

const DESK_PARTIES: &[Caller] = &[
    Caller::BankOperator,
    Caller::Staff,
    Caller::StaffAdmin,
    Caller::Reviewer,
    Caller::Supervisor,
    Caller::SystemAdmin,
];

fn public_end() -> Vec<ApiOperation> {
    use Access::*;
    vec![
        (Public, routes!(api::search_institutions)),
        (Public, routes!(api::institution_detail)),
        (Public, routes!(api::regions)),
        (Public, routes!(plate_pages::verify_api)),
        (Public, routes!(auth_api::region_policy)),
        (Public, routes!(plate_pages::plate_key)),
        (Public, routes!(complaint_api::complaint_figures)),
        (Public, routes!(risk_api::public_warnings)),
        (Public, routes!(money_api::public_reviews)),
        (Public, routes!(inspection::bank_quality)),
    ]
}

fn parent_end() -> Vec<ApiOperation> {
    use Access::*;
    vec![
        (SignedIn(&[Caller::Parent]), routes!(money_api::place_order)),
        (SignedIn(&[Caller::Parent]), routes!(money_api::my_orders)),
        (
            SignedIn(&[Caller::Parent]),
            routes!(money_api::lessons_to_confirm),
        ),
        (
            SignedIn(&[Caller::Parent]),
            routes!(money_api::confirm_lesson),
        ),
        (
            SignedIn(&[Caller::Parent]),
            routes!(money_api::dispute_lesson),
        ),
        (
            SignedIn(&[Caller::Parent]),
            routes!(money_api::transfer_class),
        ),
        (
            SignedIn(&[Caller::Parent]),
            routes!(money_api::request_leave),
        ),
        (
            SignedIn(&[Caller::Parent]),
            routes!(money_api::request_refund),
        ),
        (
            SignedIn(&[Caller::Parent]),
            routes!(money_api::escalate_refund),
        ),
        (
            SignedIn(&[Caller::Parent]),
            routes!(complaint_api::ask_institution),
        ),
        (
            SignedIn(&[Caller::Parent]),
            routes!(complaint_api::file_complaint),
        ),
        (
            SignedIn(&[Caller::Parent]),
            routes!(complaint_api::accept_complaint),
        ),
        (
            SignedIn(&[Caller::Parent]),
            routes!(complaint_api::escalate_complaint),
        ),
        (SignedIn(&[Caller::Parent]), routes!(money_api::post_review)),
        (SignedIn(&[Caller::Parent]), routes!(auth_api::reveal_child)),
    ]
}

fn institution_end() -> Vec<ApiOperation> {
    use Access::*;
    vec![
        (
            SignedIn(&[Caller::StaffAdmin]),
            routes!(filing_api::my_filing),
        ),
        (
            SignedIn(&[Caller::StaffAdmin]),
            routes!(filing_api::save_filing),
        ),
        (
            SignedIn(&[Caller::StaffAdmin]),
            routes!(filing_api::submit_filing),
        ),
        (
            SignedIn(&[Caller::StaffAdmin]),
            routes!(filing_api::upload_document)
                .map(|handler| handler.layer(DefaultBodyLimit::max(DOCUMENT_BODY_LIMIT))),
        ),
        (
            SignedIn(&[Caller::Staff, Caller::StaffAdmin]),
            routes!(filing_api::publish_course),
        ),
        (
            SignedIn(&[Caller::StaffAdmin]),
            routes!(filing_api::request_supervised_account),
        ),
        (
            SignedIn(&[Caller::StaffAdmin]),
            routes!(filing_api::supervised_accounts),
        ),
        (
            SignedIn(&[Caller::Staff, Caller::StaffAdmin]),
            routes!(money_api::take_attendance),
        ),
        (
            SignedIn(&[Caller::Staff, Caller::StaffAdmin]),
            routes!(money_api::discount_order),
        ),
        (
            SignedIn(&[Caller::Staff, Caller::StaffAdmin]),
            routes!(money_api::answer_refund),
        ),
        (
            SignedIn(&[Caller::Staff, Caller::StaffAdmin]),
            routes!(complaint_api::answer_complaint),
        ),
        (
            SignedIn(&[Caller::Staff, Caller::StaffAdmin]),
            routes!(risk_api::answer_warning),
        ),
        (
            SignedIn(&[Caller::Staff, Caller::StaffAdmin]),
            routes!(money_api::reply_review),
        ),
        (
            SignedIn(&[Caller::Staff, Caller::StaffAdmin]),
            routes!(money_api::institution_orders),
        ),
        (
            SignedIn(&[Caller::Staff, Caller::StaffAdmin]),
            routes!(money_api::institution_money),
        ),
        (
            SignedIn(&[Caller::StaffAdmin]),
            routes!(filing_api::staff_register),
        ),
        (SignedIn(&[Caller::StaffAdmin]), routes!(filing_api::hire)),
        (
            SignedIn(&[Caller::StaffAdmin]),
            routes!(monitoring::staff_left),
        ),
        (
            SignedIn(&[Caller::StaffAdmin]),
            routes!(monitoring::statements),
        ),
        (
            SignedIn(&[Caller::StaffAdmin]),
            routes!(monitoring::file_statement)
                .map(|handler| handler.layer(DefaultBodyLimit::max(DOCUMENT_BODY_LIMIT))),
        ),
        (
            SignedIn(&[Caller::StaffAdmin]),
            routes!(integration_api::grants),
        ),
        (
            SignedIn(&[Caller::StaffAdmin]),
            routes!(integration_api::grant),
        ),
        (
            SignedIn(&[Caller::StaffAdmin]),
            routes!(integration_api::revoke),
        ),
        (
            SignedIn(&[Caller::StaffAdmin]),
            routes!(admin_api::create_staff),
        ),
    ]
}

fn regulator_end() -> Vec<ApiOperation> {
    use Access::*;
    vec![
        (
            SignedIn(&[Caller::Supervisor]),
            routes!(auth_api::set_region_policy),
        ),
        (
            SignedIn(&[Caller::Reviewer]),
            routes!(filing_api::review_queue),
        ),
        (
            SignedIn(&[Caller::Reviewer, Caller::Supervisor]),
            routes!(filing_api::filing_for_review),
        ),
        (SignedIn(&[Caller::Reviewer]), routes!(filing_api::decide)),
        (
            SignedIn(&[Caller::Supervisor]),
            routes!(money_api::rule_on_refund),
        ),
        (
            SignedIn(&[Caller::Supervisor]),
            routes!(complaint_api::rule_on_complaint),
        ),
        (
            SignedIn(&[Caller::Supervisor]),
            routes!(complaint_api::start_run_off),
        ),
        (
            SignedIn(&[Caller::Reviewer, Caller::Supervisor]),
            routes!(risk_api::dashboard),
        ),
        (
            SignedIn(&[Caller::Supervisor]),
            routes!(risk_api::risk_model),
        ),
        (
            SignedIn(&[Caller::Supervisor]),
            routes!(risk_api::set_risk_model),
        ),
        (
            SignedIn(&[Caller::Supervisor, Caller::Staff, Caller::StaffAdmin]),
            routes!(risk_api::warnings),
        ),
        (
            SignedIn(&[Caller::Supervisor]),
            routes!(risk_api::decide_warning),
        ),
        (
            SignedIn(&[Caller::Supervisor]),
            routes!(money_api::hide_review),
        ),
        (
            SignedIn(&[Caller::Reviewer, Caller::Supervisor]),
            routes!(money_api::regulator_orders),
        ),
        (
            SignedIn(&[Caller::Reviewer, Caller::Supervisor]),
            routes!(money_api::regulator_money),
        ),
        (
            SignedIn(&[Caller::Supervisor]),
            routes!(filing_api::blacklist_practitioner),
        ),
        (SignedIn(REGULATOR_STAFF), routes!(monitoring::monitoring)),
        (
            SignedIn(&[Caller::Reviewer, Caller::Supervisor]),
            routes!(filing_api::confirm_record_check),
        ),
        (
            SignedIn(&[Caller::Reviewer, Caller::Supervisor]),
            routes!(auth_api::institution_audit),
        ),
        (
            SignedIn(&[Caller::Supervisor]),
            routes!(auth_api::move_to_list),
        ),
        (
            SignedIn(&[Caller::Supervisor]),
            routes!(auth_api::record_unlicensed),
        ),
        (
            SignedIn(&[Caller::Supervisor]),
            routes!(inspection::create_campaign),
        ),
        (
            SignedIn(&[Caller::Reviewer, Caller::Supervisor]),
            routes!(inspection::campaigns),
        ),
        (
            SignedIn(&[Caller::Reviewer, Caller::Supervisor]),
            routes!(inspection::campaign),
        ),
        (
            SignedIn(&[Caller::Reviewer, Caller::Supervisor]),
            routes!(inspection::record_result),
        ),
        (
            SignedIn(&[Caller::Supervisor]),
            routes!(inspection::record_penalty),
        ),
        (
            SignedIn(&[Caller::Supervisor]),
            routes!(inspection::credit_model),
        ),
        (
            SignedIn(&[Caller::Supervisor]),
            routes!(inspection::set_credit_model),
        ),
        (
            SignedIn(&[Caller::Supervisor]),
            routes!(inspection::publish),
        ),
        (SignedIn(&[Caller::Supervisor]), routes!(inspection::export)),
        (
            SignedIn(&[Caller::Supervisor]),
            routes!(inspection::create_after_school_list),
        ),
        (
            SignedIn(&[Caller::Reviewer, Caller::Supervisor]),
            routes!(inspection::after_school_list),
        ),
        (
            SignedIn(&[Caller::Supervisor]),
            routes!(inspection::add_candidate),
        ),
        (
            SignedIn(&[Caller::Reviewer, Caller::Supervisor]),
            routes!(inspection::annual),
        ),
        (
            SignedIn(&[Caller::Supervisor]),
            routes!(inspection::annual_review),
        ),
        (
            SignedIn(&[Caller::Supervisor]),
            routes!(auth_api::remove_institution),
        ),
    ]
}

fn bank_end() -> Vec<ApiOperation> {
    use Access::*;
    vec![
        (
            Signed(&[Caller::BankClient]),
            routes!(filing_api::confirm_supervised_account),
        ),
        (
            Signed(&[Caller::BankClient]),
            routes!(money_api::set_endpoint),
        ),
        (Signed(&[Caller::BankClient]), routes!(money_api::payment)),
        (
            Signed(&[Caller::BankClient]),
            routes!(money_api::payment_batch),
        ),
        (Signed(&[Caller::BankClient]), routes!(money_api::movement)),
        (
            Signed(&[Caller::BankClient]),
            routes!(money_api::movement_batch),
        ),
        (
            Signed(&[Caller::BankClient]),
            routes!(money_api::bank_risk_score),
        ),
        (
            Signed(&[Caller::BankClient]),
            routes!(money_api::instruction_result),
        ),
        (Signed(&[Caller::BankClient]), routes!(money_api::statement)),
    ]
}

fn integrator_end() -> Vec<ApiOperation> {
    use Access::*;
    vec![
        (
            Signed(&[Caller::IntegratorClient]),
            routes!(integration_api::my_grants),
        ),
        (
            Signed(&[Caller::IntegratorClient]),
            routes!(integration_api::sync_course),
        ),
        (
            Signed(&[Caller::IntegratorClient]),
            routes!(integration_api::orders),
        ),
        (
            Signed(&[Caller::IntegratorClient]),
            routes!(integration_api::attendance),
        ),
        (
            Signed(&[Caller::IntegratorClient]),
            routes!(integration_api::order_for_parent),
        ),
        (
            Signed(&[Caller::IntegratorClient]),
            routes!(integration_api::order),
        ),
        (
            Signed(&[Caller::IntegratorClient]),
            routes!(integration_api::answer_refund),
        ),
        (
            Signed(&[Caller::IntegratorClient]),
            routes!(integration_api::answer_complaint),
        ),
        (
            Signed(&[Caller::IntegratorClient]),
            routes!(integration_api::export),
        ),
        (
            Signed(&[Caller::IntegratorClient]),
            routes!(integration_api::set_webhook),
        ),
        (
            Signed(&[Caller::IntegratorClient]),
            routes!(integration_api::webhook),
        ),
        (
            Signed(&[Caller::IntegratorClient]),
            routes!(integration_api::test_webhook),
        ),
        (
            Signed(&[Caller::IntegratorClient]),
            routes!(integration_api::deliveries),
        ),
        (
            Signed(&[Caller::IntegratorClient]),
            routes!(integration_api::replay),
        ),
        (
            Signed(&[Caller::IntegratorClient]),
            routes!(integration_api::activity),
        ),
        (
            Signed(&[Caller::IntegratorClient]),
            routes!(service_desk::integrator_open),
        ),
        (
            Signed(&[Caller::IntegratorClient]),
            routes!(service_desk::integrator_list),
        ),
        (
            Signed(&[Caller::IntegratorClient]),
            routes!(service_desk::integrator_get),
        ),
        (
            Signed(&[Caller::IntegratorClient]),
            routes!(service_desk::integrator_reply),
        ),
        (Signed(SIGNED_CLIENTS), routes!(auth_api::client_me)),
    ]
}

fn school_end() -> Vec<ApiOperation> {
    use Access::*;
    vec![
        (SignedIn(&[Caller::School]), routes!(school::lists)),
        (SignedIn(&[Caller::School]), routes!(school::list)),
        (SignedIn(&[Caller::School]), routes!(school::choose)),
        (SignedIn(&[Caller::School]), routes!(school::withdraw)),
    ]
}

fn admin_end() -> Vec<ApiOperation> {
    use Access::*;
    vec![
        (SignedIn(ADMINS), routes!(admin_api::list_accounts)),
        (
            SignedIn(&[Caller::SystemAdmin]),
            routes!(admin_api::create_regulator),
        ),
        (
            SignedIn(&[Caller::SystemAdmin]),
            routes!(admin_api::create_bank_operator),
        ),
        (
            SignedIn(&[Caller::SystemAdmin]),
            routes!(integration_api::register),
        ),
        (
            SignedIn(&[Caller::SystemAdmin]),
            routes!(admin_api::create_school_account),
        ),
        (SignedIn(ADMINS), routes!(admin_api::disable_account)),
        (SignedIn(ADMINS), routes!(admin_api::enable_account)),
        (
            SignedIn(&[Caller::SecurityAdmin]),
            routes!(admin_api::security_policy),
        ),
        (
            SignedIn(&[Caller::SecurityAdmin]),
            routes!(admin_api::set_security_policy),
        ),
        (
            SignedIn(&[Caller::AuditAdmin]),
            routes!(admin_api::audit_entries),
        ),
        (
            SignedIn(&[Caller::AuditAdmin]),
            routes!(admin_api::pii_access),
        ),
    ]
}

fn shared() -> Vec<ApiOperation> {
    use Access::*;
    vec![
        (Public, routes!(filing_api::sign_up)),
        (
            SignedIn(&[
                Caller::Staff,
                Caller::StaffAdmin,
                Caller::Reviewer,
                Caller::Supervisor,
            ]),
            routes!(filing_api::document),
        ),
        (SignedIn(ORDER_READERS), routes!(money_api::order)),
        (SignedIn(ORDER_READERS), routes!(money_api::order_lessons)),
        (SignedIn(ORDER_READERS), routes!(money_api::order_refunds)),
        (
            SignedIn(CONSULTATION_PARTIES),
            routes!(complaint_api::consultations),
        ),
        (
            SignedIn(CONSULTATION_PARTIES),
            routes!(complaint_api::consultation),
        ),
        (
            SignedIn(CONSULTATION_PARTIES),
            routes!(complaint_api::reply_consultation),
        ),
        (
            SignedIn(COMPLAINT_PARTIES),
            routes!(complaint_api::complaints),
        ),
        (SignedIn(ORDER_READERS), routes!(complaint_api::complaint)),
        (Public, routes!(auth_api::login)),
        (Public, routes!(auth_api::refresh)),
        (Public, routes!(auth_api::sms_code)),
        (SignedIn(ANY_ACCOUNT), routes!(auth_api::logout)),
        (SignedIn(ANY_ACCOUNT), routes!(auth_api::me)),
        (SignedIn(&[Caller::Parent]), routes!(auth_api::my_children)),
        (SignedIn(&[Caller::Parent]), routes!(auth_api::add_child)),
        (
            SignedIn(&[
                Caller::Staff,
                Caller::StaffAdmin,
                Caller::Reviewer,
                Caller::Supervisor,
            ]),
            routes!(inspection::credit),
        ),
        (
            SignedIn(&[
                Caller::Staff,
                Caller::StaffAdmin,
                Caller::Reviewer,
                Caller::Supervisor,
            ]),
            routes!(plate_pages::plate_api),
        ),
        (SignedIn(ANY_ACCOUNT), routes!(auth_api::my_notifications)),
        (SignedIn(ANY_ACCOUNT), routes!(auth_api::change_password)),
        (SignedIn(TICKET_OPENERS), routes!(service_desk::open)),
        (SignedIn(DESK_PARTIES), routes!(service_desk::list)),
        (SignedIn(DESK_PARTIES), routes!(service_desk::get_one)),
        (SignedIn(DESK_PARTIES), routes!(service_desk::reply)),
        (SignedIn(TICKET_ANSWERERS), routes!(service_desk::assign)),
        (SignedIn(DESK_PARTIES), routes!(service_desk::resolve)),
        (SignedIn(TICKET_ANSWERERS), routes!(service_desk::figures)),
    ]
}

/// Uploads may carry a 10 MB document (the application refuses more, with a clear code): room for a
/// multipart form's overhead on top.
const DOCUMENT_BODY_LIMIT: usize = app::onboarding::MAX_DOCUMENT_BYTES + 1024 * 1024;

const ADMINS: &[Caller] = &[Caller::SystemAdmin, Caller::StaffAdmin];
const REGULATOR_STAFF: &[Caller] = &[Caller::Reviewer, Caller::Supervisor];

/// Every page of the website, on browser sessions.
pub fn page_routes() -> Vec<Route> {
    pages().into_iter().map(|(route, _)| route).collect()
}

fn pages() -> Vec<(Route, MethodRouter<WebState>)> {
    use Access::*;
    vec![
        route(Method::GET, "/", Public, get(pages::home)),
        route(Method::GET, "/institutions", Public, get(pages::search)),
        route(
            Method::GET,
            "/institutions/{id}",
            Public,
            get(pages::institution),
        ),
        route(Method::GET, "/lists/{status}", Public, get(pages::list)),
        route(Method::GET, "/notices", Public, get(pages::notices)),
        route(
            Method::GET,
            "/regions/options",
            Public,
            get(pages::region_options),
        ),
        route(
            Method::GET,
            "/login",
            Public,
            get(session_pages::login_page),
        ),
        route(
            Method::POST,
            "/login",
            Public,
            post(session_pages::login_submit),
        ),
        route(
            Method::GET,
            "/login/{end}",
            Public,
            get(session_pages::end_login_page),
        ),
        route(
            Method::POST,
            "/login/{end}",
            Public,
            post(session_pages::end_login_submit),
        ),
        route(
            Method::GET,
            "/login/parent",
            Public,
            get(session_pages::parent_login_page),
        ),
        route(
            Method::POST,
            "/login/parent",
            Public,
            post(session_pages::parent_login_submit),
        ),
        route(
            Method::POST,
            "/login/parent/code",
            Public,
            post(session_pages::parent_send_code),
        ),
        route(
            Method::GET,
            "/account",
            SignedIn(ANY_ACCOUNT),
            get(session_pages::account_page),
        ),
        route(
            Method::POST,
            "/account/password",
            SignedIn(ANY_ACCOUNT),
            post(session_pages::change_password),
        ),
        route(
            Method::POST,
            "/logout",
            SignedIn(ANY_ACCOUNT),
            post(session_pages::logout),
        ),
        route(
            Method::GET,
            "/children",
            SignedIn(&[Caller::Parent]),
            get(session_pages::children_page),
        ),
        route(
            Method::POST,
            "/children",
            SignedIn(&[Caller::Parent]),
            post(session_pages::add_child),
        ),
        route(
            Method::POST,
            "/children/{id}/reveal",
            SignedIn(&[Caller::Parent]),
            post(session_pages::reveal_child),
        ),
        route(
            Method::GET,
            "/regulator",
            SignedIn(REGULATOR_STAFF),
            get(console_pages::console),
        ),
        route(
            Method::GET,
            "/regulator/institutions/{id}",
            SignedIn(REGULATOR_STAFF),
            get(console_pages::institution),
        ),
        route(
            Method::POST,
            "/regulator/practitioner-blacklist",
            SignedIn(&[Caller::Supervisor]),
            post(console_pages::blacklist_practitioner),
        ),
        route(
            Method::POST,
            "/regulator/staff-members/{id}/record-check",
            SignedIn(&[Caller::Reviewer, Caller::Supervisor]),
            post(console_pages::confirm_record_check),
        ),
        route(
            Method::POST,
            "/regulator/unlicensed",
            SignedIn(&[Caller::Supervisor]),
            post(console_pages::record_unlicensed),
        ),
        route(
            Method::POST,
            "/regulator/institutions/{id}/list",
            SignedIn(&[Caller::Supervisor]),
            post(console_pages::move_to_list),
        ),
        route(
            Method::POST,
            "/regulator/institutions/{id}/removal",
            SignedIn(&[Caller::Supervisor]),
            post(console_pages::remove),
        ),
        route(
            Method::GET,
            "/admin/accounts",
            SignedIn(ADMINS),
            get(console_pages::accounts),
        ),
        route(
            Method::POST,
            "/admin/accounts",
            SignedIn(ADMINS),
            post(console_pages::create_account),
        ),
        route(
            Method::POST,
            "/admin/accounts/{id}/disable",
            SignedIn(ADMINS),
            post(console_pages::disable),
        ),
        route(
            Method::POST,
            "/admin/accounts/{id}/enable",
            SignedIn(ADMINS),
            post(console_pages::enable),
        ),
        route(
            Method::GET,
            "/admin/security",
            SignedIn(&[Caller::SecurityAdmin]),
            get(console_pages::security),
        ),
        route(
            Method::POST,
            "/admin/security",
            SignedIn(&[Caller::SecurityAdmin]),
            post(console_pages::set_security),
        ),
        route(
            Method::GET,
            "/regulator/dashboard",
            SignedIn(&[Caller::Reviewer, Caller::Supervisor]),
            get(risk_pages::dashboard),
        ),
        route(
            Method::GET,
            "/regulator/warnings",
            SignedIn(&[Caller::Supervisor]),
            get(risk_pages::console),
        ),
        route(
            Method::GET,
            "/regulator/warnings/stream",
            SignedIn(&[Caller::Supervisor]),
            get(risk_pages::stream),
        ),
        route(
            Method::POST,
            "/regulator/warnings/{id}/decision",
            SignedIn(&[Caller::Supervisor]),
            post(risk_pages::decide),
        ),
        route(
            Method::GET,
            "/institution/warnings",
            SignedIn(&[Caller::Staff, Caller::StaffAdmin]),
            get(risk_pages::institution),
        ),
        route(
            Method::POST,
            "/institution/warnings/{id}/answer",
            SignedIn(&[Caller::Staff, Caller::StaffAdmin]),
            post(risk_pages::answer),
        ),
        route(
            Method::GET,
            "/complaints",
            SignedIn(COMPLAINT_PARTIES),
            get(complaint_pages::list),
        ),
        route(
            Method::POST,
            "/complaints",
            SignedIn(&[Caller::Parent]),
            post(complaint_pages::file).layer(DefaultBodyLimit::max(
                app::complaints::MAX_EVIDENCE * DOCUMENT_BODY_LIMIT,
            )),
        ),
        route(
            Method::GET,
            "/complaints/new",
            SignedIn(&[Caller::Parent]),
            get(complaint_pages::new_form),
        ),
        route(
            Method::GET,
            "/complaints/{id}",
            SignedIn(ORDER_READERS),
            get(complaint_pages::detail),
        ),
        route(
            Method::POST,
            "/complaints/{id}/answer",
            SignedIn(&[Caller::Staff, Caller::StaffAdmin]),
            post(complaint_pages::answer),
        ),
        route(
            Method::POST,
            "/complaints/{id}/accept",
            SignedIn(&[Caller::Parent]),
            post(complaint_pages::accept),
        ),
        route(
            Method::POST,
            "/complaints/{id}/escalate",
            SignedIn(&[Caller::Parent]),
            post(complaint_pages::escalate),
        ),
        route(
            Method::POST,
            "/complaints/{id}/ruling",
            SignedIn(&[Caller::Supervisor]),
            post(complaint_pages::ruling),
        ),
        route(
            Method::GET,
            "/courses/{id}/buy",
            SignedIn(&[Caller::Parent]),
            get(order_pages::buy_page),
        ),
        route(
            Method::POST,
            "/courses/{id}/buy",
            SignedIn(&[Caller::Parent]),
            post(order_pages::buy),
        ),
        route(
            Method::GET,
            "/consultations",
            SignedIn(CONSULTATION_PARTIES),
            get(consultation_pages::list),
        ),
        route(
            Method::POST,
            "/consultations",
            SignedIn(&[Caller::Parent]),
            post(consultation_pages::ask),
        ),
        route(
            Method::GET,
            "/consultations/{id}",
            SignedIn(CONSULTATION_PARTIES),
            get(consultation_pages::thread),
        ),
        route(
            Method::POST,
            "/consultations/{id}/messages",
            SignedIn(CONSULTATION_PARTIES),
            post(consultation_pages::reply),
        ),
        route(
            Method::GET,
            "/todo",
            SignedIn(&[Caller::Parent]),
            get(order_pages::todo),
        ),
        route(
            Method::GET,
            "/orders",
            SignedIn(&[Caller::Parent]),
            get(order_pages::my_orders),
        ),
        route(
            Method::GET,
            "/orders/{id}",
            SignedIn(ORDER_READERS),
            get(order_pages::order_page),
        ),
        route(
            Method::POST,
            "/orders/{id}/transfer",
            SignedIn(&[Caller::Parent]),
            post(order_pages::transfer_class),
        ),
        route(
            Method::POST,
            "/orders/{id}/leave",
            SignedIn(&[Caller::Parent]),
            post(order_pages::request_leave),
        ),
        route(
            Method::POST,
            "/orders/{id}/refund",
            SignedIn(&[Caller::Parent]),
            post(order_pages::request_refund),
        ),
        route(
            Method::POST,
            "/orders/{id}/review",
            SignedIn(&[Caller::Parent]),
            post(order_pages::post_review),
        ),
        route(
            Method::POST,
            "/refunds/{id}/escalate",
            SignedIn(&[Caller::Parent]),
            post(order_pages::escalate_refund),
        ),
        route(
            Method::POST,
            "/refunds/{id}/answer",
            SignedIn(&[Caller::Staff, Caller::StaffAdmin]),
            post(order_pages::answer_refund),
        ),
        route(
            Method::POST,
            "/refunds/{id}/ruling",
            SignedIn(&[Caller::Supervisor]),
            post(order_pages::rule_on_refund),
        ),
        route(
            Method::POST,
            "/lessons/{id}/confirm",
            SignedIn(&[Caller::Parent]),
            post(order_pages::confirm_lesson),
        ),
        route(
            Method::POST,
            "/lessons/{id}/dispute",
            SignedIn(&[Caller::Parent]),
            post(order_pages::dispute_lesson),
        ),
        route(
            Method::POST,
            "/institution/orders/{id}/attendance",
            SignedIn(&[Caller::Staff, Caller::StaffAdmin]),
            post(order_pages::take_attendance),
        ),
        route(
            Method::POST,
            "/institution/orders/{id}/discount",
            SignedIn(&[Caller::Staff, Caller::StaffAdmin]),
            post(order_pages::discount_order),
        ),
        route(
            Method::GET,
            "/institution/money",
            SignedIn(&[Caller::Staff, Caller::StaffAdmin]),
            get(order_pages::institution_money),
        ),
        route(
            Method::POST,
            "/regulator/institutions/{id}/run-off",
            SignedIn(&[Caller::Supervisor]),
            post(order_pages::start_run_off),
        ),
        route(
            Method::GET,
            "/regulator/institutions/{id}/money",
            SignedIn(&[Caller::Reviewer, Caller::Supervisor]),
            get(order_pages::regulator_money),
        ),
        route(Method::GET, "/join", Public, get(filing_pages::join_page)),
        route(Method::POST, "/join", Public, post(filing_pages::join)),
        route(
            Method::GET,
            "/institution/filing",
            SignedIn(&[Caller::StaffAdmin]),
            get(filing_pages::filing),
        ),
        route(
            Method::POST,
            "/institution/filing",
            SignedIn(&[Caller::StaffAdmin]),
            post(filing_pages::save),
        ),
        route(
            Method::POST,
            "/institution/filing/submit",
            SignedIn(&[Caller::StaffAdmin]),
            post(filing_pages::submit),
        ),
        route(
            Method::POST,
            "/institution/documents",
            SignedIn(&[Caller::StaffAdmin]),
            post(filing_pages::upload).layer(DefaultBodyLimit::max(DOCUMENT_BODY_LIMIT)),
        ),
        route(
            Method::POST,
            "/institution/supervised-accounts",
            SignedIn(&[Caller::StaffAdmin]),
            post(filing_pages::bind_account),
        ),
        route(
            Method::GET,
            "/institution/staff",
            SignedIn(&[Caller::StaffAdmin]),
            get(filing_pages::staff),
        ),
        route(
            Method::POST,
            "/institution/staff",
            SignedIn(&[Caller::StaffAdmin]),
            post(filing_pages::hire),
        ),
        route(
            Method::POST,
            "/institution/staff/{id}/left",
            SignedIn(&[Caller::StaffAdmin]),
            post(filing_pages::staff_left),
        ),
        route(
            Method::GET,
            "/institution/statements",
            SignedIn(&[Caller::StaffAdmin]),
            get(monitoring::statements_view),
        ),
        route(
            Method::POST,
            "/institution/statements",
            SignedIn(&[Caller::StaffAdmin]),
            post(monitoring::file_statement_form).layer(DefaultBodyLimit::max(DOCUMENT_BODY_LIMIT)),
        ),
        route(
            Method::GET,
            "/regulator/institutions/{id}/monitoring",
            SignedIn(REGULATOR_STAFF),
            get(monitoring::monitoring_page),
        ),
        route(
            Method::GET,
            "/regulator/institutions/{id}/monitoring/export",
            SignedIn(REGULATOR_STAFF),
            get(monitoring::monitoring_export),
        ),
        route(
            Method::GET,
            "/documents/{id}",
            SignedIn(&[
                Caller::Staff,
                Caller::StaffAdmin,
                Caller::Reviewer,
                Caller::Supervisor,
            ]),
            get(filing_pages::document),
        ),
        route(
            Method::GET,
            "/regulator/reviews",
            SignedIn(&[Caller::Reviewer]),
            get(filing_pages::reviews),
        ),
        route(
            Method::GET,
            "/regulator/reviews/{id}",
            SignedIn(&[Caller::Reviewer, Caller::Supervisor]),
            get(filing_pages::review),
        ),
        route(
            Method::POST,
            "/regulator/reviews/{id}/decision",
            SignedIn(&[Caller::Reviewer]),
            post(filing_pages::decide),
        ),
        route(
            Method::GET,
            "/verify/{token}",
            Public,
            get(plate_pages::verify_page),
        ),
        route(
            Method::GET,
            "/institutions/{id}/plate",
            SignedIn(&[
                Caller::Staff,
                Caller::StaffAdmin,
                Caller::Reviewer,
                Caller::Supervisor,
            ]),
            get(plate_pages::plate_page),
        ),
        route(
            Method::GET,
            "/regulator/spot-checks",
            SignedIn(&[Caller::Supervisor]),
            get(inspection::campaigns_page),
        ),
        route(
            Method::POST,
            "/regulator/spot-checks",
            SignedIn(&[Caller::Supervisor]),
            post(inspection::create_campaign_form),
        ),
        route(
            Method::GET,
            "/regulator/spot-checks/{id}",
            SignedIn(&[Caller::Reviewer, Caller::Supervisor]),
            get(inspection::campaign_page),
        ),
        route(
            Method::GET,
            "/regulator/spot-check-items/{id}",
            SignedIn(&[Caller::Reviewer, Caller::Supervisor]),
            get(inspection::check_page),
        ),
        route(
            Method::POST,
            "/regulator/spot-check-items/{id}",
            SignedIn(&[Caller::Reviewer, Caller::Supervisor]),
            post(inspection::record_form),
        ),
        route(
            Method::GET,
            "/regulator/institutions/{id}/credit",
            SignedIn(&[Caller::Reviewer, Caller::Supervisor]),
            get(inspection::regulator_credit_page),
        ),
        route(
            Method::POST,
            "/regulator/institutions/{id}/penalties",
            SignedIn(&[Caller::Supervisor]),
            post(inspection::penalty_form),
        ),
        route(
            Method::GET,
            "/institution/credit",
            SignedIn(&[Caller::Staff, Caller::StaffAdmin]),
            get(inspection::institution_credit_page),
        ),
        route(
            Method::GET,
            "/regulator/credit",
            SignedIn(&[Caller::Supervisor]),
            get(inspection::credit_admin_page),
        ),
        route(
            Method::POST,
            "/regulator/credit/publications",
            SignedIn(&[Caller::Supervisor]),
            post(inspection::publish_form),
        ),
        route(
            Method::GET,
            "/regulator/credit/export",
            SignedIn(&[Caller::Supervisor]),
            get(inspection::export_page),
        ),
        route(
            Method::GET,
            "/regulator/after-school",
            SignedIn(&[Caller::Supervisor]),
            get(inspection::after_school_page),
        ),
        route(
            Method::POST,
            "/regulator/after-school",
            SignedIn(&[Caller::Supervisor]),
            post(inspection::create_after_school_form),
        ),
        route(
            Method::GET,
            "/regulator/after-school/{id}",
            SignedIn(&[Caller::Supervisor]),
            get(inspection::after_school_list_page),
        ),
        route(
            Method::POST,
            "/regulator/after-school/{id}/candidates",
            SignedIn(&[Caller::Supervisor]),
            post(inspection::add_candidate_form),
        ),
        route(
            Method::GET,
            "/school",
            SignedIn(&[Caller::School]),
            get(school::home),
        ),
        route(
            Method::GET,
            "/school/after-school/{id}",
            SignedIn(&[Caller::School]),
            get(school::list_page),
        ),
        route(
            Method::POST,
            "/school/after-school/{id}/choices",
            SignedIn(&[Caller::School]),
            post(school::choose_form),
        ),
        route(
            Method::POST,
            "/school/after-school/{id}/choices/{institution_id}/withdraw",
            SignedIn(&[Caller::School]),
            post(school::withdraw_form),
        ),
        route(
            Method::GET,
            "/institution/integrations",
            SignedIn(&[Caller::StaffAdmin]),
            get(integration_api::page),
        ),
        route(
            Method::POST,
            "/institution/integrations",
            SignedIn(&[Caller::StaffAdmin]),
            post(integration_api::grant_form),
        ),
        route(
            Method::POST,
            "/institution/integrations/{id}/revoke",
            SignedIn(&[Caller::StaffAdmin]),
            post(integration_api::revoke_form),
        ),
        route(
            Method::GET,
            "/service",
            SignedIn(DESK_PARTIES),
            get(service_desk::home),
        ),
        route(
            Method::POST,
            "/service/tickets",
            SignedIn(TICKET_OPENERS),
            post(service_desk::open_form),
        ),
        route(
            Method::GET,
            "/service/tickets/{id}",
            SignedIn(DESK_PARTIES),
            get(service_desk::ticket_page),
        ),
        route(
            Method::POST,
            "/service/tickets/{id}/messages",
            SignedIn(DESK_PARTIES),
            post(service_desk::reply_form),
        ),
        route(
            Method::POST,
            "/service/tickets/{id}/assign",
            SignedIn(TICKET_ANSWERERS),
            post(service_desk::assign_form),
        ),
        route(
            Method::POST,
            "/service/tickets/{id}/resolve",
            SignedIn(DESK_PARTIES),
            post(service_desk::resolve_form),
        ),
        route(
            Method::GET,
            "/banks/quality",
            Public,
            get(inspection::bank_quality_page),
        ),
        route(
            Method::GET,
            "/regulator/institutions/{id}/annual/{year}",
            SignedIn(&[Caller::Reviewer, Caller::Supervisor]),
            get(inspection::annual_page),
        ),
        route(
            Method::POST,
            "/regulator/institutions/{id}/annual/{year}/review",
            SignedIn(&[Caller::Supervisor]),
            post(inspection::annual_review_form),
        ),
        route(
            Method::GET,
            "/audit",
            SignedIn(&[Caller::AuditAdmin]),
            get(console_pages::audit),
        ),
    ]
}

/// The API's ends, each a tag of the OpenAPI document (its name and what it is) with its operations.
fn ends() -> [(&'static str, &'static str, Vec<ApiOperation>); 9] {
    [
        (
            "public",
            "The public site's data, for anyone: the registry, plates, lists, the banks' quality.",
            public_end(),
        ),
        (
            "parent",
            "The parent end: children, orders, lessons, refunds, reviews.",
            parent_end(),
        ),
        (
            "institution",
            "The institution end: filing, staff, courses, attendance, accounts, money.",
            institution_end(),
        ),
        (
            "regulator",
            "The regulator end, at every level: reviews, lists, risk, spot checks, penalties, credit.",
            regulator_end(),
        ),
        (
            "bank",
            "The supervising banks' systems, on signed requests.",
            bank_end(),
        ),
        (
            "integrator",
            "Technology providers' systems connected for an institution, on signed requests.",
            integrator_end(),
        ),
        (
            "school",
            "Schools choosing after-school providers.",
            school_end(),
        ),
        (
            "admin",
            "The system, security and audit administrators.",
            admin_end(),
        ),
        (
            "shared",
            "What several ends share: signing in, one's own account, orders, complaints, consultations, the service desk.",
            shared(),
        ),
    ]
}

/// Every API operation, tagged with its end.
fn api_operations() -> Vec<ApiOperation> {
    ends()
        .into_iter()
        .flat_map(|(tag, _, operations)| {
            operations.into_iter().map(move |(access, mut operation)| {
                for item in operation.1.paths.values_mut() {
                    for op in [
                        &mut item.get,
                        &mut item.post,
                        &mut item.put,
                        &mut item.delete,
                        &mut item.patch,
                    ]
                    .into_iter()
                    .flatten()
                    {
                        op.tags = Some(vec![tag.to_owned()]);
                    }
                }
                (access, operation)
            })
        })
        .collect()
}

/// The ends as the OpenAPI document's tags.
fn end_tags() -> Vec<Tag> {
    ends()
        .into_iter()
        .map(|(name, description, _)| {
            TagBuilder::new()
                .name(name)
                .description(Some(description))
                .build()
        })
        .collect()
}

/// Every `/api/v1` route, read off the operations' own declarations.
pub fn api_routes() -> Vec<Route> {
    api_operations()
        .into_iter()
        .flat_map(|(access, (_, paths, _))| {
            paths.paths.into_iter().flat_map(move |(path, item)| {
                methods_of(&item).map(move |method| Route {
                    method,
                    path: path.clone(),
                    access,
                })
            })
        })
        .collect()
}

/// The methods a path item has operations for.
pub(crate) fn methods_of(item: &PathItem) -> impl Iterator<Item = Method> + use<> {
    [
        (item.get.is_some(), Method::GET),
        (item.post.is_some(), Method::POST),
        (item.put.is_some(), Method::PUT),
        (item.delete.is_some(), Method::DELETE),
        (item.patch.is_some(), Method::PATCH),
    ]
    .into_iter()
    .filter_map(|(has, method)| has.then_some(method))
}

/// The router of every API operation and every page, each behind the guard of its rule, with the API's
/// OpenAPI document (served at `/api/openapi.json`, read at `/api/docs`), all made from the same declarations.
pub(crate) fn router(state: &WebState) -> Router<WebState> {
    let (api, doc) = api_operations()
        .into_iter()
        .fold(
            OpenApiRouter::with_openapi(openapi::ApiDoc::openapi()),
            |router, (access, operation)| {
                router.routes(operation.map(|handler| guarded(state, access, handler)))
            },
        )
        .split_for_parts();
    let router = pages().into_iter().fold(api, |router, (route, handler)| {
        router.route(&route.path, guarded(state, route.access, handler))
    });
    let mut doc = openapi::document(doc, &api_routes());
    doc.tags = Some(end_tags());
    router.merge(SwaggerUi::new("/api/docs").url("/api/openapi.json", doc))
}

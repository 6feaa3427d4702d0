//! The route tables: every `/api/v1` operation, grouped by the end that calls it, and every page, each with who
//! may call it. The router and the OpenAPI document are built from these tables, so a route cannot exist
//! without its rule or its documentation, and a test walks them calling every route as every kind of caller
//! to check that the handlers enforce what the tables say.

use crate::WebState;
use crate::access::Access::{Public, Signed, SignedIn};
use crate::access::Caller::*;
use crate::access::{Access, Route};
use crate::guard::guarded;
use crate::openapi::operations_mut;
use crate::{
    admin_api, after_school_lists, annual, api, auth_api, bank_api, bank_quality, complaint_api,
    complaint_pages, console_pages, consultation_pages, filing_api, filing_pages, inspection,
    integration_api, money_api, monitoring, openapi, order_pages, pages, plate_pages, risk_api,
    risk_pages, school, service_desk, session_pages,
};
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{self, MethodRouter};
use utoipa::OpenApi;
use utoipa::openapi::tag::{Tag, TagBuilder};
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;
use utoipa_swagger_ui::SwaggerUi;

/// One API operation: who may call it, and its handler, whose `#[utoipa::path]` gives its method, its path
/// and its documentation — so a route is declared once, beside its handler, and registered once, here.
type ApiOperation = (Access, UtoipaMethodRouter<WebState>);

/// One page: its route and its handler.
struct Page {
    route: Route,
    handler: MethodRouter<WebState>,
}

impl Page {
    fn new(method: Method, path: &str, access: Access, handler: MethodRouter<WebState>) -> Page {
        let route = Route {
            method,
            path: path.to_owned(),
            access,
        };
        Page { route, handler }
    }

    /// Takes bodies of up to `bytes` (an upload) instead of axum's default 2 MB.
    fn up_to(mut self, bytes: usize) -> Page {
        self.handler = self.handler.layer(DefaultBodyLimit::max(bytes));
        self
    }
}

fn get<H: Handler<T, WebState>, T: 'static>(path: &str, access: Access, handler: H) -> Page {
    Page::new(Method::GET, path, access, routing::get(handler))
}

fn post<H: Handler<T, WebState>, T: 'static>(path: &str, access: Access, handler: H) -> Page {
    Page::new(Method::POST, path, access, routing::post(handler))
}

/// A parent (家长).
const PARENT: Access = SignedIn(&[Parent]);
/// Any of an institution's staff (机构人员), its admin included.
const STAFF: Access = SignedIn(&[Staff, StaffAdmin]);
/// An institution's admin (机构管理员).
const STAFF_ADMIN: Access = SignedIn(&[StaffAdmin]);
/// A reviewer (审核员) of any level.
const REVIEWER: Access = SignedIn(&[Reviewer]);
/// A supervisor (监管员) of any level.
const SUPERVISOR: Access = SignedIn(&[Supervisor]);
/// Reviewers and supervisors of any level.
const REGULATORS: Access = SignedIn(&[Reviewer, Supervisor]);
/// The system administrator (系统管理员) of a regulator.
const SYSTEM_ADMIN: Access = SignedIn(&[SystemAdmin]);
/// The security administrator (安全管理员).
const SECURITY_ADMIN: Access = SignedIn(&[SecurityAdmin]);
/// The audit administrator (审计管理员).
const AUDIT_ADMIN: Access = SignedIn(&[AuditAdmin]);
/// A school's account (学校).
const SCHOOL: Access = SignedIn(&[School]);
/// Who administers accounts: a regulator's system administrator, an institution's admin.
const ADMINS: Access = SignedIn(&[SystemAdmin, StaffAdmin]);
/// Anyone signed in.
const ANY_ACCOUNT: Access = SignedIn(&[
    BankOperator,
    Parent,
    Staff,
    StaffAdmin,
    Reviewer,
    Supervisor,
    SystemAdmin,
    SecurityAdmin,
    AuditAdmin,
    School,
]);
/// An institution's staff and the regulators over it (reviewers, supervisors).
const STAFF_AND_REGULATORS: Access = SignedIn(&[Staff, StaffAdmin, Reviewer, Supervisor]);
/// Who sees risk warnings: the supervisors who raise them, the warned institution's staff.
const WARNING_PARTIES: Access = SignedIn(&[Supervisor, Staff, StaffAdmin]);
/// Who sees one order: its parent, the institution's staff, regulators over the institution.
const ORDER_READERS: Access = SignedIn(&[Parent, Staff, StaffAdmin, Reviewer, Supervisor]);
/// Who works on complaints: the parent, the institution's customer service, the supervisors.
const COMPLAINT_PARTIES: Access = SignedIn(&[Parent, Staff, StaffAdmin, Supervisor]);
/// Who talks in a consultation thread: the parent and the institution's customer service.
const CONSULTATION_PARTIES: Access = SignedIn(&[Parent, Staff, StaffAdmin]);
/// Who opens service-desk tickets on an account.
const TICKET_OPENERS: Access = SignedIn(&[Staff, StaffAdmin, BankOperator]);
/// Who answers them: the service team (technical) and the regions' reviewers and supervisors (policy).
const TICKET_ANSWERERS: Access = SignedIn(&[Reviewer, Supervisor, SystemAdmin]);
/// Who takes part in a ticket: its opener's side and its answerers.
const DESK_PARTIES: Access = SignedIn(&[
    BankOperator,
    Staff,
    StaffAdmin,
    Reviewer,
    Supervisor,
    SystemAdmin,
]);
/// A bank's system, on signed requests.
const BANK: Access = Signed(&[BankClient]);
/// An integrator's system, on signed requests.
const INTEGRATOR: Access = Signed(&[IntegratorClient]);
/// Either.
const ANY_CLIENT: Access = Signed(&[BankClient, IntegratorClient]);

fn public_end() -> Vec<ApiOperation> {
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
        (Public, routes!(bank_quality::bank_quality)),
    ]
}

fn parent_end() -> Vec<ApiOperation> {
    vec![
        (PARENT, routes!(money_api::place_order)),
        (PARENT, routes!(money_api::my_orders)),
        (PARENT, routes!(money_api::lessons_to_confirm)),
        (PARENT, routes!(money_api::confirm_lesson)),
        (PARENT, routes!(money_api::dispute_lesson)),
        (PARENT, routes!(money_api::transfer_class)),
        (PARENT, routes!(money_api::request_leave)),
        (PARENT, routes!(money_api::request_refund)),
        (PARENT, routes!(money_api::escalate_refund)),
        (PARENT, routes!(complaint_api::ask_institution)),
        (PARENT, routes!(complaint_api::file_complaint)),
        (PARENT, routes!(complaint_api::accept_complaint)),
        (PARENT, routes!(complaint_api::escalate_complaint)),
        (PARENT, routes!(money_api::post_review)),
        (PARENT, routes!(auth_api::reveal_child)),
    ]
}

fn institution_end() -> Vec<ApiOperation> {
    vec![
        (STAFF_ADMIN, routes!(filing_api::my_filing)),
        (STAFF_ADMIN, routes!(filing_api::save_filing)),
        (STAFF_ADMIN, routes!(filing_api::submit_filing)),
        (
            STAFF_ADMIN,
            routes!(filing_api::upload_document)
                .map(|handler| handler.layer(DefaultBodyLimit::max(DOCUMENT_BODY_LIMIT))),
        ),
        (STAFF, routes!(filing_api::publish_course)),
        (STAFF_ADMIN, routes!(filing_api::request_supervised_account)),
        (STAFF_ADMIN, routes!(filing_api::supervised_accounts)),
        (STAFF, routes!(money_api::take_attendance)),
        (STAFF, routes!(money_api::discount_order)),
        (STAFF, routes!(money_api::answer_refund)),
        (STAFF, routes!(complaint_api::answer_complaint)),
        (STAFF, routes!(risk_api::answer_warning)),
        (STAFF, routes!(money_api::reply_review)),
        (STAFF, routes!(money_api::institution_orders)),
        (STAFF, routes!(money_api::institution_money)),
        (STAFF_ADMIN, routes!(filing_api::staff_register)),
        (STAFF_ADMIN, routes!(filing_api::hire)),
        (STAFF_ADMIN, routes!(monitoring::staff_left)),
        (STAFF_ADMIN, routes!(monitoring::statements)),
        (
            STAFF_ADMIN,
            routes!(monitoring::file_statement)
                .map(|handler| handler.layer(DefaultBodyLimit::max(DOCUMENT_BODY_LIMIT))),
        ),
        (STAFF_ADMIN, routes!(integration_api::grants)),
        (STAFF_ADMIN, routes!(integration_api::grant)),
        (STAFF_ADMIN, routes!(integration_api::revoke)),
        (STAFF_ADMIN, routes!(admin_api::create_staff)),
    ]
}

fn regulator_end() -> Vec<ApiOperation> {
    vec![
        (SUPERVISOR, routes!(auth_api::set_region_policy)),
        (REVIEWER, routes!(filing_api::review_queue)),
        (REGULATORS, routes!(filing_api::filing_for_review)),
        (REVIEWER, routes!(filing_api::decide)),
        (SUPERVISOR, routes!(money_api::rule_on_refund)),
        (SUPERVISOR, routes!(complaint_api::rule_on_complaint)),
        (SUPERVISOR, routes!(complaint_api::start_run_off)),
        (REGULATORS, routes!(risk_api::dashboard)),
        (SUPERVISOR, routes!(risk_api::risk_model)),
        (SUPERVISOR, routes!(risk_api::set_risk_model)),
        (WARNING_PARTIES, routes!(risk_api::warnings)),
        (SUPERVISOR, routes!(risk_api::decide_warning)),
        (SUPERVISOR, routes!(money_api::hide_review)),
        (REGULATORS, routes!(money_api::regulator_orders)),
        (REGULATORS, routes!(money_api::regulator_money)),
        (SUPERVISOR, routes!(filing_api::blacklist_practitioner)),
        (REGULATORS, routes!(monitoring::monitoring)),
        (REGULATORS, routes!(filing_api::confirm_record_check)),
        (REGULATORS, routes!(auth_api::institution_audit)),
        (SUPERVISOR, routes!(auth_api::move_to_list)),
        (SUPERVISOR, routes!(auth_api::record_unlicensed)),
        (SUPERVISOR, routes!(inspection::create_campaign)),
        (REGULATORS, routes!(inspection::campaigns)),
        (REGULATORS, routes!(inspection::campaign)),
        (REGULATORS, routes!(inspection::record_result)),
        (SUPERVISOR, routes!(inspection::record_penalty)),
        (SUPERVISOR, routes!(inspection::credit_model)),
        (SUPERVISOR, routes!(inspection::set_credit_model)),
        (SUPERVISOR, routes!(inspection::publish)),
        (SUPERVISOR, routes!(inspection::export)),
        (
            SUPERVISOR,
            routes!(after_school_lists::create_after_school_list),
        ),
        (REGULATORS, routes!(after_school_lists::after_school_list)),
        (SUPERVISOR, routes!(after_school_lists::add_candidate)),
        (REGULATORS, routes!(annual::annual)),
        (SUPERVISOR, routes!(annual::annual_review)),
        (SUPERVISOR, routes!(auth_api::remove_institution)),
    ]
}

fn bank_end() -> Vec<ApiOperation> {
    vec![
        (BANK, routes!(filing_api::confirm_supervised_account)),
        (BANK, routes!(bank_api::set_endpoint)),
        (BANK, routes!(bank_api::payment)),
        (BANK, routes!(bank_api::payment_batch)),
        (BANK, routes!(bank_api::movement)),
        (BANK, routes!(bank_api::movement_batch)),
        (BANK, routes!(bank_api::bank_risk_score)),
        (BANK, routes!(bank_api::instruction_result)),
        (BANK, routes!(bank_api::statement)),
    ]
}

fn integrator_end() -> Vec<ApiOperation> {
    vec![
        (INTEGRATOR, routes!(integration_api::my_grants)),
        (INTEGRATOR, routes!(integration_api::sync_course)),
        (INTEGRATOR, routes!(integration_api::orders)),
        (INTEGRATOR, routes!(integration_api::attendance)),
        (INTEGRATOR, routes!(integration_api::order_for_parent)),
        (INTEGRATOR, routes!(integration_api::order)),
        (INTEGRATOR, routes!(integration_api::answer_refund)),
        (INTEGRATOR, routes!(integration_api::answer_complaint)),
        (INTEGRATOR, routes!(integration_api::export)),
        (INTEGRATOR, routes!(integration_api::set_webhook)),
        (INTEGRATOR, routes!(integration_api::webhook)),
        (INTEGRATOR, routes!(integration_api::test_webhook)),
        (INTEGRATOR, routes!(integration_api::deliveries)),
        (INTEGRATOR, routes!(integration_api::replay)),
        (INTEGRATOR, routes!(integration_api::activity)),
        (INTEGRATOR, routes!(service_desk::integrator_open)),
        (INTEGRATOR, routes!(service_desk::integrator_list)),
        (INTEGRATOR, routes!(service_desk::integrator_get)),
        (INTEGRATOR, routes!(service_desk::integrator_reply)),
        (ANY_CLIENT, routes!(auth_api::client_me)),
    ]
}

fn school_end() -> Vec<ApiOperation> {
    vec![
        (SCHOOL, routes!(school::lists)),
        (SCHOOL, routes!(school::list)),
        (SCHOOL, routes!(school::choose)),
        (SCHOOL, routes!(school::withdraw)),
    ]
}

fn admin_end() -> Vec<ApiOperation> {
    vec![
        (ADMINS, routes!(admin_api::list_accounts)),
        (SYSTEM_ADMIN, routes!(admin_api::create_regulator)),
        (SYSTEM_ADMIN, routes!(admin_api::create_bank_operator)),
        (SYSTEM_ADMIN, routes!(integration_api::register)),
        (SYSTEM_ADMIN, routes!(admin_api::create_school_account)),
        (ADMINS, routes!(admin_api::disable_account)),
        (ADMINS, routes!(admin_api::enable_account)),
        (SECURITY_ADMIN, routes!(admin_api::security_policy)),
        (SECURITY_ADMIN, routes!(admin_api::set_security_policy)),
        (AUDIT_ADMIN, routes!(admin_api::audit_entries)),
        (AUDIT_ADMIN, routes!(admin_api::pii_access)),
    ]
}

fn shared() -> Vec<ApiOperation> {
    vec![
        (Public, routes!(filing_api::sign_up)),
        (STAFF_AND_REGULATORS, routes!(filing_api::document)),
        (ORDER_READERS, routes!(money_api::order)),
        (ORDER_READERS, routes!(money_api::order_lessons)),
        (ORDER_READERS, routes!(money_api::order_refunds)),
        (CONSULTATION_PARTIES, routes!(complaint_api::consultations)),
        (CONSULTATION_PARTIES, routes!(complaint_api::consultation)),
        (
            CONSULTATION_PARTIES,
            routes!(complaint_api::reply_consultation),
        ),
        (COMPLAINT_PARTIES, routes!(complaint_api::complaints)),
        (ORDER_READERS, routes!(complaint_api::complaint)),
        (Public, routes!(auth_api::login)),
        (Public, routes!(auth_api::refresh)),
        (Public, routes!(auth_api::sms_code)),
        (ANY_ACCOUNT, routes!(auth_api::logout)),
        (ANY_ACCOUNT, routes!(auth_api::me)),
        (PARENT, routes!(auth_api::my_children)),
        (PARENT, routes!(auth_api::add_child)),
        (STAFF_AND_REGULATORS, routes!(inspection::credit)),
        (STAFF_AND_REGULATORS, routes!(plate_pages::plate_api)),
        (ANY_ACCOUNT, routes!(auth_api::my_notifications)),
        (ANY_ACCOUNT, routes!(auth_api::change_password)),
        (TICKET_OPENERS, routes!(service_desk::open)),
        (DESK_PARTIES, routes!(service_desk::list)),
        (DESK_PARTIES, routes!(service_desk::get_one)),
        (DESK_PARTIES, routes!(service_desk::reply)),
        (TICKET_ANSWERERS, routes!(service_desk::assign)),
        (DESK_PARTIES, routes!(service_desk::resolve)),
        (TICKET_ANSWERERS, routes!(service_desk::figures)),
    ]
}

/// Uploads may carry a 10 MB document (the application refuses more, with a clear code): room for a
/// multipart form's overhead on top.
const DOCUMENT_BODY_LIMIT: usize = app::onboarding::MAX_DOCUMENT_BYTES + 1024 * 1024;

/// Every page of the website, on browser sessions.
pub fn page_routes() -> Vec<Route> {
    pages().into_iter().map(|page| page.route).collect()
}

/// The pages, one a line: a table reads best unwrapped.
#[rustfmt::skip]
fn pages() -> Vec<Page> {
    vec![
        get("/", Public, pages::home),
        get("/institutions", Public, pages::search),
        get("/institutions/{id}", Public, pages::institution),
        get("/lists/{status}", Public, pages::list),
        get("/notices", Public, pages::notices),
        get("/regions/options", Public, pages::region_options),
        get("/login", Public, session_pages::login_page),
        post("/login", Public, session_pages::login_submit),
        get("/login/{end}", Public, session_pages::end_login_page),
        post("/login/{end}", Public, session_pages::end_login_submit),
        get("/login/parent", Public, session_pages::parent_login_page),
        post("/login/parent", Public, session_pages::parent_login_submit),
        post("/login/parent/code", Public, session_pages::parent_send_code),
        get("/account", ANY_ACCOUNT, session_pages::account_page),
        post("/account/password", ANY_ACCOUNT, session_pages::change_password),
        post("/logout", ANY_ACCOUNT, session_pages::logout),
        get("/children", PARENT, session_pages::children_page),
        post("/children", PARENT, session_pages::add_child),
        post("/children/{id}/reveal", PARENT, session_pages::reveal_child),
        get("/regulator", REGULATORS, console_pages::console),
        get("/regulator/institutions/{id}", REGULATORS, console_pages::institution),
        post("/regulator/practitioner-blacklist", SUPERVISOR, console_pages::blacklist_practitioner),
        post("/regulator/staff-members/{id}/record-check", REGULATORS, console_pages::confirm_record_check),
        post("/regulator/unlicensed", SUPERVISOR, console_pages::record_unlicensed),
        post("/regulator/institutions/{id}/list", SUPERVISOR, console_pages::move_to_list),
        post("/regulator/institutions/{id}/removal", SUPERVISOR, console_pages::remove),
        get("/admin/accounts", ADMINS, console_pages::accounts),
        post("/admin/accounts", ADMINS, console_pages::create_account),
        post("/admin/accounts/{id}/disable", ADMINS, console_pages::disable),
        post("/admin/accounts/{id}/enable", ADMINS, console_pages::enable),
        get("/admin/security", SECURITY_ADMIN, console_pages::security),
        post("/admin/security", SECURITY_ADMIN, console_pages::set_security),
        get("/regulator/dashboard", REGULATORS, risk_pages::dashboard),
        get("/regulator/warnings", SUPERVISOR, risk_pages::console),
        get("/regulator/warnings/stream", SUPERVISOR, risk_pages::stream),
        post("/regulator/warnings/{id}/decision", SUPERVISOR, risk_pages::decide),
        get("/institution/warnings", STAFF, risk_pages::institution),
        post("/institution/warnings/{id}/answer", STAFF, risk_pages::answer),
        get("/complaints", COMPLAINT_PARTIES, complaint_pages::list),
        post("/complaints", PARENT, complaint_pages::file).up_to(app::complaints::MAX_EVIDENCE * DOCUMENT_BODY_LIMIT),
        get("/complaints/new", PARENT, complaint_pages::new_form),
        get("/complaints/{id}", ORDER_READERS, complaint_pages::detail),
        post("/complaints/{id}/answer", STAFF, complaint_pages::answer),
        post("/complaints/{id}/accept", PARENT, complaint_pages::accept),
        post("/complaints/{id}/escalate", PARENT, complaint_pages::escalate),
        post("/complaints/{id}/ruling", SUPERVISOR, complaint_pages::ruling),
        get("/courses/{id}/buy", PARENT, order_pages::buy_page),
        post("/courses/{id}/buy", PARENT, order_pages::buy),
        get("/consultations", CONSULTATION_PARTIES, consultation_pages::list),
        post("/consultations", PARENT, consultation_pages::ask),
        get("/consultations/{id}", CONSULTATION_PARTIES, consultation_pages::thread),
        post("/consultations/{id}/messages", CONSULTATION_PARTIES, consultation_pages::reply),
        get("/todo", PARENT, order_pages::todo),
        get("/orders", PARENT, order_pages::my_orders),
        get("/orders/{id}", ORDER_READERS, order_pages::order_page),
        post("/orders/{id}/transfer", PARENT, order_pages::transfer_class),
        post("/orders/{id}/leave", PARENT, order_pages::request_leave),
        post("/orders/{id}/refund", PARENT, order_pages::request_refund),
        post("/orders/{id}/review", PARENT, order_pages::post_review),
        post("/refunds/{id}/escalate", PARENT, order_pages::escalate_refund),
        post("/refunds/{id}/answer", STAFF, order_pages::answer_refund),
        post("/refunds/{id}/ruling", SUPERVISOR, order_pages::rule_on_refund),
        post("/lessons/{id}/confirm", PARENT, order_pages::confirm_lesson),
        post("/lessons/{id}/dispute", PARENT, order_pages::dispute_lesson),
        post("/institution/orders/{id}/attendance", STAFF, order_pages::take_attendance),
        post("/institution/orders/{id}/discount", STAFF, order_pages::discount_order),
        get("/institution/money", STAFF, order_pages::institution_money),
        post("/regulator/institutions/{id}/run-off", SUPERVISOR, order_pages::start_run_off),
        get("/regulator/institutions/{id}/money", REGULATORS, order_pages::regulator_money),
        get("/join", Public, filing_pages::join_page),
        post("/join", Public, filing_pages::join),
        get("/institution/filing", STAFF_ADMIN, filing_pages::filing),
        post("/institution/filing", STAFF_ADMIN, filing_pages::save),
        post("/institution/filing/submit", STAFF_ADMIN, filing_pages::submit),
        post("/institution/documents", STAFF_ADMIN, filing_pages::upload).up_to(DOCUMENT_BODY_LIMIT),
        post("/institution/supervised-accounts", STAFF_ADMIN, filing_pages::bind_account),
        get("/institution/staff", STAFF_ADMIN, filing_pages::staff),
        post("/institution/staff", STAFF_ADMIN, filing_pages::hire),
        post("/institution/staff/{id}/left", STAFF_ADMIN, filing_pages::staff_left),
        get("/institution/statements", STAFF_ADMIN, monitoring::statements_view),
        post("/institution/statements", STAFF_ADMIN, monitoring::file_statement_form).up_to(DOCUMENT_BODY_LIMIT),
        get("/regulator/institutions/{id}/monitoring", REGULATORS, monitoring::monitoring_page),
        get("/regulator/institutions/{id}/monitoring/export", REGULATORS, monitoring::monitoring_export),
        get("/documents/{id}", STAFF_AND_REGULATORS, filing_pages::document),
        get("/regulator/reviews", REVIEWER, filing_pages::reviews),
        get("/regulator/reviews/{id}", REGULATORS, filing_pages::review),
        post("/regulator/reviews/{id}/decision", REVIEWER, filing_pages::decide),
        get("/verify/{token}", Public, plate_pages::verify_page),
        get("/institutions/{id}/plate", STAFF_AND_REGULATORS, plate_pages::plate_page),
        get("/regulator/spot-checks", SUPERVISOR, inspection::campaigns_page),
        post("/regulator/spot-checks", SUPERVISOR, inspection::create_campaign_form),
        get("/regulator/spot-checks/{id}", REGULATORS, inspection::campaign_page),
        get("/regulator/spot-check-items/{id}", REGULATORS, inspection::check_page),
        post("/regulator/spot-check-items/{id}", REGULATORS, inspection::record_form),
        get("/regulator/institutions/{id}/credit", REGULATORS, inspection::regulator_credit_page),
        post("/regulator/institutions/{id}/penalties", SUPERVISOR, inspection::penalty_form),
        get("/institution/credit", STAFF, inspection::institution_credit_page),
        get("/regulator/credit", SUPERVISOR, inspection::credit_admin_page),
        post("/regulator/credit/publications", SUPERVISOR, inspection::publish_form),
        get("/regulator/credit/export", SUPERVISOR, inspection::export_page),
        get("/regulator/after-school", SUPERVISOR, after_school_lists::after_school_page),
        post("/regulator/after-school", SUPERVISOR, after_school_lists::create_after_school_form),
        get("/regulator/after-school/{id}", SUPERVISOR, after_school_lists::after_school_list_page),
        post("/regulator/after-school/{id}/candidates", SUPERVISOR, after_school_lists::add_candidate_form),
        get("/school", SCHOOL, school::home),
        get("/school/after-school/{id}", SCHOOL, school::list_page),
        post("/school/after-school/{id}/choices", SCHOOL, school::choose_form),
        post("/school/after-school/{id}/choices/{institution_id}/withdraw", SCHOOL, school::withdraw_form),
        get("/institution/integrations", STAFF_ADMIN, integration_api::page),
        post("/institution/integrations", STAFF_ADMIN, integration_api::grant_form),
        post("/institution/integrations/{id}/revoke", STAFF_ADMIN, integration_api::revoke_form),
        get("/service", DESK_PARTIES, service_desk::home),
        post("/service/tickets", TICKET_OPENERS, service_desk::open_form),
        get("/service/tickets/{id}", DESK_PARTIES, service_desk::ticket_page),
        post("/service/tickets/{id}/messages", DESK_PARTIES, service_desk::reply_form),
        post("/service/tickets/{id}/assign", TICKET_ANSWERERS, service_desk::assign_form),
        post("/service/tickets/{id}/resolve", DESK_PARTIES, service_desk::resolve_form),
        get("/banks/quality", Public, bank_quality::bank_quality_page),
        get("/regulator/institutions/{id}/annual/{year}", REGULATORS, annual::annual_page),
        post("/regulator/institutions/{id}/annual/{year}/review", SUPERVISOR, annual::annual_review_form),
        get("/audit", AUDIT_ADMIN, console_pages::audit),
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

/// The ends' operations, each tagged with its end.
fn tagged(ends: [(&'static str, &'static str, Vec<ApiOperation>); 9]) -> Vec<ApiOperation> {
    ends.into_iter()
        .flat_map(|(tag, _, operations)| {
            operations.into_iter().map(move |(access, mut operation)| {
                for item in operation.1.paths.values_mut() {
                    for (_, op) in operations_mut(item) {
                        op.tags = Some(vec![tag.to_owned()]);
                    }
                }
                (access, operation)
            })
        })
        .collect()
}

/// The routes of these operations, read off their own declarations.
fn routes_of(operations: &mut [ApiOperation]) -> Vec<Route> {
    let mut routes = Vec::new();
    for (access, (_, paths, _)) in operations {
        for (path, item) in paths.paths.iter_mut() {
            for (method, _) in operations_mut(item) {
                routes.push(Route {
                    method,
                    path: path.clone(),
                    access: *access,
                });
            }
        }
    }
    routes
}

/// Every `/api/v1` route with its rule.
pub fn api_routes() -> Vec<Route> {
    routes_of(&mut tagged(ends()))
}

/// The router of every API operation and every page, each behind the guard of its rule, with the API's
/// OpenAPI document (served at `/api/openapi.json`, read at `/api/docs`), all made from the same declarations.
pub(crate) fn router(state: &WebState) -> Router<WebState> {
    let ends = ends();
    let tags: Vec<Tag> = ends
        .iter()
        .map(|(name, description, _)| {
            TagBuilder::new()
                .name(*name)
                .description(Some(*description))
                .build()
        })
        .collect();
    let mut operations = tagged(ends);
    let routes = routes_of(&mut operations);
    let (api, doc) = operations
        .into_iter()
        .fold(
            OpenApiRouter::with_openapi(openapi::ApiDoc::openapi()),
            |router, (access, operation)| {
                router.routes(operation.map(|handler| guarded(state, access, handler)))
            },
        )
        .split_for_parts();
    let router = pages().into_iter().fold(api, |router, page| {
        router.route(
            &page.route.path,
            guarded(state, page.route.access, page.handler),
        )
    });
    let mut doc = openapi::document(doc, &routes);
    doc.tags = Some(tags);
    router.merge(SwaggerUi::new("/api/docs").url("/api/openapi.json", doc))
}

//! The route tables: every `/api/v1` route and every page, each with who may call it. The router is built
//! from these tables, so a route cannot exist without its rule, and a test walks them calling every route
//! as every kind of caller to check that the handlers enforce what the tables say.

use crate::WebState;
use crate::{
    admin_api, api, auth_api, console_pages, filing_api, filing_pages, money_api, order_pages,
    pages, plate_pages, session_pages,
};
use axum::Router;
use axum::http::Method;
use axum::routing::{MethodRouter, get, post, put};

/// The kinds of caller the access test plays.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Caller {
    Anonymous,
    Parent,
    Staff,
    /// An institution's admin (机构管理员).
    StaffAdmin,
    /// A county-level reviewer.
    Reviewer,
    /// A county-level supervisor.
    Supervisor,
    /// The national system administrator (系统管理员).
    SystemAdmin,
    /// The national security administrator (安全管理员).
    SecurityAdmin,
    /// The national audit administrator (审计管理员).
    AuditAdmin,
    /// A bank's system, signing its requests.
    BankClient,
}

/// Who may call a route.
#[derive(Clone, Copy, Debug)]
pub enum Access {
    /// Anyone.
    Public,
    /// A signed-in account of one of these kinds (others get 403; nobody signed in gets 401 from the API
    /// and is sent to the sign-in page by a page).
    SignedIn(&'static [Caller]),
    /// A signed request from an API client.
    Signed,
}

pub struct Route {
    pub method: Method,
    pub path: &'static str,
    pub access: Access,
    handler: MethodRouter<WebState>,
}

fn route(
    method: Method,
    path: &'static str,
    access: Access,
    handler: MethodRouter<WebState>,
) -> Route {
    Route {
        method,
        path,
        access,
        handler,
    }
}

const ANY_ACCOUNT: &[Caller] = &[
    Caller::Parent,
    Caller::Staff,
    Caller::StaffAdmin,
    Caller::Reviewer,
    Caller::Supervisor,
    Caller::SystemAdmin,
    Caller::SecurityAdmin,
    Caller::AuditAdmin,
];

/// Who sees one order: its parent, the institution's staff, regulators over the institution.
const ORDER_READERS: &[Caller] = &[
    Caller::Parent,
    Caller::Staff,
    Caller::StaffAdmin,
    Caller::Reviewer,
    Caller::Supervisor,
];

/// Every `/api/v1` route.
pub fn api_routes() -> Vec<Route> {
    use Access::*;
    vec![
        route(
            Method::GET,
            "/api/v1/public/institutions",
            Public,
            get(api::search_institutions),
        ),
        route(
            Method::GET,
            "/api/v1/public/institutions/{id}",
            Public,
            get(api::institution_detail),
        ),
        route(
            Method::GET,
            "/api/v1/public/regions",
            Public,
            get(api::regions),
        ),
        route(
            Method::GET,
            "/api/v1/public/verify/{token}",
            Public,
            get(plate_pages::verify_api),
        ),
        route(
            Method::GET,
            "/api/v1/public/policy",
            Public,
            get(auth_api::region_policy),
        ),
        route(
            Method::PUT,
            "/api/v1/regulator/policy",
            SignedIn(&[Caller::Supervisor]),
            put(auth_api::set_region_policy),
        ),
        route(
            Method::GET,
            "/api/v1/public/plate-key",
            Public,
            get(plate_pages::plate_key),
        ),
        route(
            Method::POST,
            "/api/v1/institutions/sign-up",
            Public,
            post(filing_api::sign_up),
        ),
        route(
            Method::GET,
            "/api/v1/institution/filing",
            SignedIn(&[Caller::StaffAdmin]),
            get(filing_api::my_filing),
        ),
        route(
            Method::PUT,
            "/api/v1/institution/filing",
            SignedIn(&[Caller::StaffAdmin]),
            put(filing_api::save_filing),
        ),
        route(
            Method::POST,
            "/api/v1/institution/filing/submit",
            SignedIn(&[Caller::StaffAdmin]),
            post(filing_api::submit_filing),
        ),
        route(
            Method::POST,
            "/api/v1/institution/documents",
            SignedIn(&[Caller::StaffAdmin]),
            post(filing_api::upload_document)
                .layer(axum::extract::DefaultBodyLimit::max(DOCUMENT_BODY_LIMIT)),
        ),
        route(
            Method::GET,
            "/api/v1/documents/{id}",
            SignedIn(&[
                Caller::Staff,
                Caller::StaffAdmin,
                Caller::Reviewer,
                Caller::Supervisor,
            ]),
            get(filing_api::document),
        ),
        route(
            Method::GET,
            "/api/v1/regulator/reviews",
            SignedIn(&[Caller::Reviewer]),
            get(filing_api::review_queue),
        ),
        route(
            Method::GET,
            "/api/v1/regulator/institutions/{id}/filing",
            SignedIn(&[Caller::Reviewer, Caller::Supervisor]),
            get(filing_api::filing_for_review),
        ),
        route(
            Method::POST,
            "/api/v1/regulator/reviews/{id}/decision",
            SignedIn(&[Caller::Reviewer]),
            post(filing_api::decide),
        ),
        route(
            Method::POST,
            "/api/v1/institution/courses",
            SignedIn(&[Caller::Staff, Caller::StaffAdmin]),
            post(filing_api::publish_course),
        ),
        route(
            Method::POST,
            "/api/v1/institution/supervised-accounts",
            SignedIn(&[Caller::StaffAdmin]),
            post(filing_api::request_supervised_account),
        ),
        route(
            Method::GET,
            "/api/v1/institution/supervised-accounts",
            SignedIn(&[Caller::StaffAdmin]),
            get(filing_api::supervised_accounts),
        ),
        route(
            Method::POST,
            "/api/v1/bank/supervised-accounts/{id}/confirm",
            Signed,
            post(filing_api::confirm_supervised_account),
        ),
        route(
            Method::PUT,
            "/api/v1/bank/endpoint",
            Signed,
            put(money_api::set_endpoint),
        ),
        route(
            Method::POST,
            "/api/v1/bank/payments",
            Signed,
            post(money_api::payment),
        ),
        route(
            Method::POST,
            "/api/v1/bank/payments/batch",
            Signed,
            post(money_api::payment_batch),
        ),
        route(
            Method::POST,
            "/api/v1/bank/movements",
            Signed,
            post(money_api::movement),
        ),
        route(
            Method::POST,
            "/api/v1/bank/instructions/{id}/result",
            Signed,
            post(money_api::instruction_result),
        ),
        route(
            Method::POST,
            "/api/v1/bank/statements",
            Signed,
            post(money_api::statement),
        ),
        route(
            Method::POST,
            "/api/v1/parent/orders",
            SignedIn(&[Caller::Parent]),
            post(money_api::place_order),
        ),
        route(
            Method::GET,
            "/api/v1/parent/orders",
            SignedIn(&[Caller::Parent]),
            get(money_api::my_orders),
        ),
        route(
            Method::GET,
            "/api/v1/orders/{id}",
            SignedIn(ORDER_READERS),
            get(money_api::order),
        ),
        route(
            Method::POST,
            "/api/v1/institution/orders/{id}/attendance",
            SignedIn(&[Caller::Staff, Caller::StaffAdmin]),
            post(money_api::take_attendance),
        ),
        route(
            Method::GET,
            "/api/v1/orders/{id}/lessons",
            SignedIn(ORDER_READERS),
            get(money_api::order_lessons),
        ),
        route(
            Method::GET,
            "/api/v1/parent/lessons",
            SignedIn(&[Caller::Parent]),
            get(money_api::lessons_to_confirm),
        ),
        route(
            Method::POST,
            "/api/v1/parent/lessons/{id}/confirm",
            SignedIn(&[Caller::Parent]),
            post(money_api::confirm_lesson),
        ),
        route(
            Method::POST,
            "/api/v1/parent/lessons/{id}/dispute",
            SignedIn(&[Caller::Parent]),
            post(money_api::dispute_lesson),
        ),
        route(
            Method::POST,
            "/api/v1/parent/orders/{id}/refund",
            SignedIn(&[Caller::Parent]),
            post(money_api::request_refund),
        ),
        route(
            Method::GET,
            "/api/v1/orders/{id}/refunds",
            SignedIn(ORDER_READERS),
            get(money_api::order_refunds),
        ),
        route(
            Method::POST,
            "/api/v1/institution/refunds/{id}/answer",
            SignedIn(&[Caller::Staff, Caller::StaffAdmin]),
            post(money_api::answer_refund),
        ),
        route(
            Method::POST,
            "/api/v1/parent/refunds/{id}/escalate",
            SignedIn(&[Caller::Parent]),
            post(money_api::escalate_refund),
        ),
        route(
            Method::POST,
            "/api/v1/regulator/refunds/{id}/ruling",
            SignedIn(&[Caller::Supervisor]),
            post(money_api::rule_on_refund),
        ),
        route(
            Method::POST,
            "/api/v1/parent/orders/{id}/review",
            SignedIn(&[Caller::Parent]),
            post(money_api::post_review),
        ),
        route(
            Method::POST,
            "/api/v1/institution/reviews/{id}/reply",
            SignedIn(&[Caller::Staff, Caller::StaffAdmin]),
            post(money_api::reply_review),
        ),
        route(
            Method::POST,
            "/api/v1/regulator/institution-reviews/{id}/hide",
            SignedIn(&[Caller::Supervisor]),
            post(money_api::hide_review),
        ),
        route(
            Method::GET,
            "/api/v1/public/institutions/{id}/reviews",
            Public,
            get(money_api::public_reviews),
        ),
        route(
            Method::GET,
            "/api/v1/institution/orders",
            SignedIn(&[Caller::Staff, Caller::StaffAdmin]),
            get(money_api::institution_orders),
        ),
        route(
            Method::GET,
            "/api/v1/institution/money",
            SignedIn(&[Caller::Staff, Caller::StaffAdmin]),
            get(money_api::institution_money),
        ),
        route(
            Method::GET,
            "/api/v1/regulator/institutions/{id}/orders",
            SignedIn(&[Caller::Reviewer, Caller::Supervisor]),
            get(money_api::regulator_orders),
        ),
        route(
            Method::GET,
            "/api/v1/regulator/institutions/{id}/money",
            SignedIn(&[Caller::Reviewer, Caller::Supervisor]),
            get(money_api::regulator_money),
        ),
        route(
            Method::POST,
            "/api/v1/regulator/practitioner-blacklist",
            SignedIn(&[Caller::Supervisor]),
            post(filing_api::blacklist_practitioner),
        ),
        route(
            Method::GET,
            "/api/v1/institution/staff-members",
            SignedIn(&[Caller::StaffAdmin]),
            get(filing_api::staff_register),
        ),
        route(
            Method::POST,
            "/api/v1/institution/staff-members",
            SignedIn(&[Caller::StaffAdmin]),
            post(filing_api::hire),
        ),
        route(
            Method::POST,
            "/api/v1/regulator/staff-members/{id}/record-check",
            SignedIn(&[Caller::Reviewer, Caller::Supervisor]),
            post(filing_api::confirm_record_check),
        ),
        route(
            Method::POST,
            "/api/v1/auth/login",
            Public,
            post(auth_api::login),
        ),
        route(
            Method::POST,
            "/api/v1/auth/refresh",
            Public,
            post(auth_api::refresh),
        ),
        route(
            Method::POST,
            "/api/v1/auth/sms-code",
            Public,
            post(auth_api::sms_code),
        ),
        route(
            Method::POST,
            "/api/v1/auth/logout",
            SignedIn(ANY_ACCOUNT),
            post(auth_api::logout),
        ),
        route(
            Method::GET,
            "/api/v1/me",
            SignedIn(ANY_ACCOUNT),
            get(auth_api::me),
        ),
        route(
            Method::GET,
            "/api/v1/me/children",
            SignedIn(&[Caller::Parent]),
            get(auth_api::my_children),
        ),
        route(
            Method::POST,
            "/api/v1/me/children",
            SignedIn(&[Caller::Parent]),
            post(auth_api::add_child),
        ),
        route(
            Method::POST,
            "/api/v1/children/{id}/reveal",
            SignedIn(&[Caller::Parent]),
            post(auth_api::reveal_child),
        ),
        route(
            Method::GET,
            "/api/v1/regulator/institutions/{id}/audit",
            SignedIn(&[Caller::Reviewer, Caller::Supervisor]),
            get(auth_api::institution_audit),
        ),
        route(
            Method::POST,
            "/api/v1/regulator/institutions/{id}/list",
            SignedIn(&[Caller::Supervisor]),
            post(auth_api::move_to_list),
        ),
        route(
            Method::POST,
            "/api/v1/regulator/unlicensed",
            SignedIn(&[Caller::Supervisor]),
            post(auth_api::record_unlicensed),
        ),
        route(
            Method::POST,
            "/api/v1/regulator/institutions/{id}/removal",
            SignedIn(&[Caller::Supervisor]),
            post(auth_api::remove_institution),
        ),
        route(
            Method::GET,
            "/api/v1/me/notifications",
            SignedIn(ANY_ACCOUNT),
            get(auth_api::my_notifications),
        ),
        route(
            Method::POST,
            "/api/v1/me/password",
            SignedIn(ANY_ACCOUNT),
            post(auth_api::change_password),
        ),
        route(
            Method::GET,
            "/api/v1/admin/accounts",
            SignedIn(ADMINS),
            get(admin_api::list_accounts),
        ),
        route(
            Method::POST,
            "/api/v1/admin/regulators",
            SignedIn(&[Caller::SystemAdmin]),
            post(admin_api::create_regulator),
        ),
        route(
            Method::POST,
            "/api/v1/admin/bank-operators",
            SignedIn(&[Caller::SystemAdmin]),
            post(admin_api::create_bank_operator),
        ),
        route(
            Method::POST,
            "/api/v1/admin/accounts/{id}/disable",
            SignedIn(ADMINS),
            post(admin_api::disable_account),
        ),
        route(
            Method::POST,
            "/api/v1/admin/accounts/{id}/enable",
            SignedIn(ADMINS),
            post(admin_api::enable_account),
        ),
        route(
            Method::POST,
            "/api/v1/institution/staff",
            SignedIn(&[Caller::StaffAdmin]),
            post(admin_api::create_staff),
        ),
        route(
            Method::GET,
            "/api/v1/admin/security-policy",
            SignedIn(&[Caller::SecurityAdmin]),
            get(admin_api::security_policy),
        ),
        route(
            Method::PUT,
            "/api/v1/admin/security-policy",
            SignedIn(&[Caller::SecurityAdmin]),
            put(admin_api::set_security_policy),
        ),
        route(
            Method::GET,
            "/api/v1/audit/entries",
            SignedIn(&[Caller::AuditAdmin]),
            get(admin_api::audit_entries),
        ),
        route(
            Method::GET,
            "/api/v1/audit/pii-access",
            SignedIn(&[Caller::AuditAdmin]),
            get(admin_api::pii_access),
        ),
        route(
            Method::GET,
            "/api/v1/clients/me",
            Signed,
            get(auth_api::client_me),
        ),
        route(
            Method::POST,
            "/api/v1/clients/me",
            Signed,
            post(auth_api::client_me),
        ),
    ]
}

/// Uploads may carry a 10 MB document (the application refuses more, with a clear code): room for a
/// multipart form's overhead on top.
const DOCUMENT_BODY_LIMIT: usize = app::onboarding::MAX_DOCUMENT_BYTES + 1024 * 1024;

const ADMINS: &[Caller] = &[Caller::SystemAdmin, Caller::StaffAdmin];
const REGULATOR_STAFF: &[Caller] = &[Caller::Reviewer, Caller::Supervisor];

/// Every page of the website, on browser sessions.
pub fn page_routes() -> Vec<Route> {
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
            Method::GET,
            "/institution/money",
            SignedIn(&[Caller::Staff, Caller::StaffAdmin]),
            get(order_pages::institution_money),
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
            post(filing_pages::upload)
                .layer(axum::extract::DefaultBodyLimit::max(DOCUMENT_BODY_LIMIT)),
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
            "/audit",
            SignedIn(&[Caller::AuditAdmin]),
            get(console_pages::audit),
        ),
    ]
}

/// The router of both tables (method routers for the same path are merged).
pub(crate) fn router() -> Router<WebState> {
    let mut by_path: Vec<(&'static str, MethodRouter<WebState>)> = Vec::new();
    for r in api_routes().into_iter().chain(page_routes()) {
        match by_path.iter_mut().find(|(p, _)| *p == r.path) {
            Some((_, existing)) => *existing = std::mem::take(existing).merge(r.handler),
            None => by_path.push((r.path, r.handler)),
        }
    }
    by_path
        .into_iter()
        .fold(Router::new(), |router, (path, handler)| {
            router.route(path, handler)
        })
}

//! Who may call a route: the kinds of caller, and the rule each route declares in `routes`.

use axum::http::Method;

/// The kinds of caller a route's rule names; the route-walk tests play each of them.
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
    /// An integrator's system (the demo's tutoring SaaS), signing its requests.
    IntegratorClient,
    /// A Haidian school's account (学校).
    School,
    /// An operator of a supervising bank (银行操作员).
    BankOperator,
}

/// Who may call a route.
#[derive(Clone, Copy, Debug)]
pub enum Access {
    /// Anyone.
    Public,
    /// A signed-in account of one of these kinds (others get 403; nobody signed in gets 401 from the API
    /// and is sent to the sign-in page by a page).
    SignedIn(&'static [Caller]),
    /// A signed request from an API client of one of these kinds (other clients get 403, unsigned requests
    /// 401 `invalid_signature`).
    Signed(&'static [Caller]),
}

/// One route and who may call it.
pub struct Route {
    pub method: Method,
    pub path: String,
    pub access: Access,
}

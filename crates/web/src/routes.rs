//! The JSON API's route table: every `/api/v1` route with who may call it. The router is built from this
//! table, so a route cannot exist without its rule, and a test walks the table calling every route as
//! every kind of caller to check that the handlers enforce what the table says.

use crate::WebState;
use crate::{api, auth_api};
use axum::Router;
use axum::http::Method;
use axum::routing::{MethodRouter, get, post};

/// The kinds of caller the access test plays.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Caller {
    Anonymous,
    Parent,
    Staff,
    /// A county-level reviewer.
    Reviewer,
    /// A county-level supervisor.
    Supervisor,
    /// A province-level system administrator (系统管理员).
    SystemAdmin,
    /// A bank's system, signing its requests.
    BankClient,
}

/// Who may call a route.
#[derive(Clone, Copy, Debug)]
pub enum Access {
    /// Anyone.
    Public,
    /// A signed-in account of one of these kinds (others get 403, nobody signed in 401).
    SignedIn(&'static [Caller]),
    /// A signed request from an API client.
    Signed,
}

pub struct ApiRoute {
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
) -> ApiRoute {
    ApiRoute {
        method,
        path,
        access,
        handler,
    }
}

const ANY_ACCOUNT: &[Caller] = &[
    Caller::Parent,
    Caller::Staff,
    Caller::Reviewer,
    Caller::Supervisor,
    Caller::SystemAdmin,
];

/// Every `/api/v1` route.
pub fn api_routes() -> Vec<ApiRoute> {
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
            SignedIn(&[Caller::Parent, Caller::Supervisor]),
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
            "/api/v1/admin/regulators",
            SignedIn(&[Caller::SystemAdmin]),
            post(auth_api::create_regulator),
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

/// The router of the table (method routers for the same path are merged).
pub(crate) fn router() -> Router<WebState> {
    let mut by_path: Vec<(&'static str, MethodRouter<WebState>)> = Vec::new();
    for r in api_routes() {
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

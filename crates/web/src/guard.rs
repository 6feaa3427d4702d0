//! The router enforces each route's rule (`routes`) before its handler reads anything: nobody signed in (or an
//! unsigned request) gets 401 from the API and the sign-in page from a page; an account or client of another
//! kind gets 403, audited. Who may ask comes before what is asked, so a malformed body or query string is
//! only ever answered to a caller the route is for. The caller is handed on to the handler's `Bearer`,
//! `PageSession` or `Signed`.

use crate::WebState;
use crate::access::{Access, Caller};
use crate::auth_api::{Bearer, Signed};
use crate::error::{ApiError, PageError};
use crate::session_pages::PageSession;
use app::Actor;
use axum::body::Body;
use axum::extract::{FromRequest, FromRequestParts, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::MethodRouter;
use domain::access::{RegulatorRole, StaffRole};

/// The kind of account an actor signed in with, as route rules name them.
pub fn caller_of(actor: &Actor) -> Option<Caller> {
    Some(match actor {
        Actor::Parent { .. } => Caller::Parent,
        Actor::Staff {
            role: StaffRole::Admin,
            ..
        } => Caller::StaffAdmin,
        Actor::Staff { .. } => Caller::Staff,
        Actor::Regulator { role, .. } => match role {
            RegulatorRole::Reviewer => Caller::Reviewer,
            RegulatorRole::Supervisor => Caller::Supervisor,
            RegulatorRole::SystemAdmin => Caller::SystemAdmin,
            RegulatorRole::SecurityAdmin => Caller::SecurityAdmin,
            RegulatorRole::AuditAdmin => Caller::AuditAdmin,
        },
        Actor::BankOperator { .. } => Caller::BankOperator,
        Actor::School { .. } => Caller::School,
        Actor::ApiClient { owner_kind, .. } => match owner_kind.as_str() {
            "bank" => Caller::BankClient,
            "integrator" => Caller::IntegratorClient,
            _ => return None,
        },
        Actor::Public | Actor::System { .. } => return None,
    })
}

/// A route's handler behind the guard of its rule (public routes need none).
pub(crate) fn guarded(
    state: &WebState,
    access: Access,
    handler: MethodRouter<WebState>,
) -> MethodRouter<WebState> {
    if matches!(access, Access::Public) {
        return handler;
    }
    handler.route_layer(axum::middleware::from_fn_with_state(
        state.clone(),
        move |s: State<WebState>, req: Request, next: Next| guard(s, access, req, next),
    ))
}

async fn guard(State(s): State<WebState>, access: Access, req: Request, next: Next) -> Response {
    let api = req.uri().path().starts_with("/api/");
    let (callers, resolved) = match access {
        Access::Public => return next.run(req).await,
        Access::Signed(callers) => (callers, signed(&s, req).await),
        Access::SignedIn(callers) if api => (callers, bearer(&s, req).await),
        Access::SignedIn(callers) => (callers, session(&s, req).await),
    };
    let (actor, req) = match resolved {
        Ok(resolved) => resolved,
        Err(refused) => return refused,
    };
    if caller_of(&actor).is_some_and(|caller| callers.contains(&caller)) {
        return next.run(req).await;
    }
    let details = serde_json::json!({"method": req.method().as_str(), "path": req.uri().path()});
    let refusal = s
        .app
        .deny(
            &actor,
            "route",
            details,
            "此功能不适用于您的账户类型",
            "this is not for your kind of account",
        )
        .await;
    if api {
        ApiError(refusal).into_response()
    } else {
        PageError(refusal).into_response()
    }
}

/// The caller of a signed request. The signature covers the body: it is read here, checked, and handed on
/// with the request.
async fn signed(s: &WebState, req: Request) -> Result<(Actor, Request), Response> {
    let (mut parts, body) = req.into_parts();
    let signed = Signed::from_request(Request::from_parts(parts.clone(), body), s).await?;
    let body = Body::from(signed.body.clone());
    let actor = signed.actor.clone();
    parts.extensions.insert(signed);
    Ok((actor, Request::from_parts(parts, body)))
}

/// The caller behind an API request's bearer token.
async fn bearer(s: &WebState, req: Request) -> Result<(Actor, Request), Response> {
    let (mut parts, body) = req.into_parts();
    let bearer = Bearer::from_request_parts(&mut parts, s).await?;
    let actor = bearer.actor.clone();
    parts.extensions.insert(bearer);
    Ok((actor, Request::from_parts(parts, body)))
}

/// The caller behind a page request's session cookie.
async fn session(s: &WebState, req: Request) -> Result<(Actor, Request), Response> {
    let (mut parts, body) = req.into_parts();
    let session = PageSession::from_request_parts(&mut parts, s).await?;
    let actor = session.0.actor.clone();
    parts.extensions.insert(session);
    Ok((actor, Request::from_parts(parts, body)))
}

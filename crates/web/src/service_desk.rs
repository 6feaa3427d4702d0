//! 分级服务保障 the service desk over HTTP and on pages: institutions and bank operators open tickets and
//! follow them; integrators do the same with signed requests; the service team and regulators answer from
//! their queues with the figures per tier. Rules are `app::service_desk`'s.

use crate::WebState;
use crate::auth_api::{Bearer, Signed};
use crate::bank_api::once;
use crate::error::{ApiError, PageError, form_outcome};
use crate::extract::ApiJson;
use crate::session_pages::PageSession;
use app::service_desk::{DeskFigures, NewTicket, TicketAssignment, TicketReply, TicketView};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Json};

// ---- API: accounts ----

/// Opens a ticket (an institution's staff or a bank operator).
#[utoipa::path(post, path = "/api/v1/service/tickets", security(("bearer" = [])),
    request_body = NewTicket, responses((status = 201, body = TicketView)))]
pub async fn open(
    State(s): State<WebState>,
    bearer: Bearer,
    ApiJson(new): ApiJson<NewTicket>,
) -> Result<(StatusCode, Json<TicketView>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(s.app.service().open_ticket(&bearer.actor, &new).await?),
    ))
}

/// The caller's tickets: its own, or the queue it answers.
#[utoipa::path(get, path = "/api/v1/service/tickets", security(("bearer" = [])),
    responses((status = 200, body = Vec<TicketView>)))]
pub async fn list(
    State(s): State<WebState>,
    bearer: Bearer,
) -> Result<Json<Vec<TicketView>>, ApiError> {
    Ok(Json(s.app.service().tickets(&bearer.actor).await?))
}

/// One ticket with its messages.
#[utoipa::path(get, path = "/api/v1/service/tickets/{id}", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, body = TicketView)))]
pub async fn get_one(
    State(s): State<WebState>,
    bearer: Bearer,
    Path(id): Path<String>,
) -> Result<Json<TicketView>, ApiError> {
    Ok(Json(s.app.service().ticket(&bearer.actor, &id).await?))
}

/// A message on the ticket: an answerer's first is the response.
#[utoipa::path(post, path = "/api/v1/service/tickets/{id}/messages", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = TicketReply, responses((status = 200, body = TicketView)))]
pub async fn reply(
    State(s): State<WebState>,
    bearer: Bearer,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<TicketReply>,
) -> Result<Json<TicketView>, ApiError> {
    s.app.service().ticket(&bearer.actor, &id).await?;
    Ok(Json(
        s.app
            .service()
            .reply_to_ticket(&bearer.actor, &id, &b)
            .await?,
    ))
}

/// An answerer assigns the ticket.
#[utoipa::path(post, path = "/api/v1/service/tickets/{id}/assign", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = TicketAssignment, responses((status = 200, body = TicketView)))]
pub async fn assign(
    State(s): State<WebState>,
    bearer: Bearer,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<TicketAssignment>,
) -> Result<Json<TicketView>, ApiError> {
    s.app.service().require_answerer(&bearer.actor).await?;
    Ok(Json(
        s.app
            .service()
            .assign_ticket(&bearer.actor, &id, &b)
            .await?,
    ))
}

/// The opener or an answerer marks the ticket resolved.
#[utoipa::path(post, path = "/api/v1/service/tickets/{id}/resolve", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, body = TicketView)))]
pub async fn resolve(
    State(s): State<WebState>,
    bearer: Bearer,
    Path(id): Path<String>,
) -> Result<Json<TicketView>, ApiError> {
    Ok(Json(
        s.app.service().resolve_ticket(&bearer.actor, &id).await?,
    ))
}

/// The answerer's queue's figures per tier: deadlines, answers in time, median response, overdue now.
#[utoipa::path(get, path = "/api/v1/service/figures", security(("bearer" = [])),
    responses((status = 200, body = Vec<DeskFigures>)))]
pub async fn figures(
    State(s): State<WebState>,
    bearer: Bearer,
) -> Result<Json<Vec<DeskFigures>>, ApiError> {
    Ok(Json(s.app.service().desk_figures(&bearer.actor).await?))
}

// ---- API: integrators (signed) ----

/// An integrator opens a ticket, under an `Idempotency-Key`.
#[utoipa::path(post, path = "/api/v1/integration/tickets",
    params(("Idempotency-Key" = String, Header)), request_body = NewTicket,
    responses((status = 200, body = TicketView)))]
pub async fn integrator_open(
    State(s): State<WebState>,
    headers: HeaderMap,
    signed: Signed,
) -> Result<Response, ApiError> {
    s.app.integration().integrator_of(&signed.actor).await?;
    let app = s.app.clone();
    once(&s, &headers, &signed, |actor, new: NewTicket| async move {
        app.service().open_ticket(&actor, &new).await
    })
    .await
}

/// The integrator's tickets.
#[utoipa::path(get, path = "/api/v1/integration/tickets",
    responses((status = 200, body = Vec<TicketView>)))]
pub async fn integrator_list(
    State(s): State<WebState>,
    signed: Signed,
) -> Result<Json<Vec<TicketView>>, ApiError> {
    s.app.integration().integrator_of(&signed.actor).await?;
    Ok(Json(s.app.service().tickets(&signed.actor).await?))
}

/// One of the integrator's tickets.
#[utoipa::path(get, path = "/api/v1/integration/tickets/{id}",
    params(("id" = String, Path)), responses((status = 200, body = TicketView)))]
pub async fn integrator_get(
    State(s): State<WebState>,
    Path(id): Path<String>,
    signed: Signed,
) -> Result<Json<TicketView>, ApiError> {
    s.app.integration().integrator_of(&signed.actor).await?;
    Ok(Json(s.app.service().ticket(&signed.actor, &id).await?))
}

/// The integrator adds a message, under an `Idempotency-Key`.
#[utoipa::path(post, path = "/api/v1/integration/tickets/{id}/messages",
    params(("id" = String, Path), ("Idempotency-Key" = String, Header)), request_body = TicketReply,
    responses((status = 200, body = TicketView)))]
pub async fn integrator_reply(
    State(s): State<WebState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    signed: Signed,
) -> Result<Response, ApiError> {
    s.app.integration().integrator_of(&signed.actor).await?;
    let app = s.app.clone();
    once(
        &s,
        &headers,
        &signed,
        |actor, reply: TicketReply| async move {
            app.service().reply_to_ticket(&actor, &id, &reply).await
        },
    )
    .await
}

// ---- pages ----

#[derive(Template, WebTemplate)]
#[template(path = "service.html")]
pub(crate) struct ServicePage {
    tickets: Vec<TicketView>,
    /// The answerer's figures; empty for openers (who get the form instead).
    figures: Vec<DeskFigures>,
    answerer: bool,
    ticket: Option<TicketView>,
    csrf: String,
    notice: Option<&'static str>,
    error: Option<String>,
}

async fn desk_page(
    s: &WebState,
    session: app::sessions::ActiveSession,
    ticket: Option<TicketView>,
    notice: Option<&'static str>,
    error: Option<String>,
) -> Result<ServicePage, PageError> {
    let answerer = app::service::Service::answers_tickets(&session.actor);
    let figures = if answerer {
        s.app.service().desk_figures(&session.actor).await?
    } else {
        Vec::new()
    };
    let tickets = if ticket.is_some() {
        Vec::new()
    } else {
        s.app.service().tickets(&session.actor).await?
    };
    Ok(ServicePage {
        tickets,
        figures,
        answerer,
        ticket,
        csrf: session.csrf,
        notice,
        error,
    })
}

pub(crate) async fn home(
    State(s): State<WebState>,
    PageSession(session): PageSession,
) -> Result<ServicePage, PageError> {
    s.app.service().tickets(&session.actor).await?;
    desk_page(&s, session, None, None, None).await
}

pub(crate) async fn ticket_page(
    State(s): State<WebState>,
    PageSession(session): PageSession,
    Path(id): Path<String>,
) -> Result<ServicePage, PageError> {
    let ticket = s.app.service().ticket(&session.actor, &id).await?;
    desk_page(&s, session, Some(ticket), None, None).await
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub(crate) struct TicketForm {
    csrf: String,
    kind: String,
    tier: String,
    subject: String,
    body: String,
    assignee_id: String,
}

pub(crate) async fn open_form(
    State(s): State<WebState>,
    session: PageSession,
    Form(form): Form<TicketForm>,
) -> Result<Response, PageError> {
    session.check_csrf(&s, &form.csrf)?;
    let PageSession(session) = session;
    let new = NewTicket {
        kind: form.kind,
        tier: form.tier,
        subject: form.subject,
        body: form.body,
    };
    match s.app.service().open_ticket(&session.actor, &new).await {
        Ok(t) => Ok(Redirect::to(&format!("/service/tickets/{}", t.id)).into_response()),
        Err(e) => {
            let o = form_outcome::<()>(Err(e), StatusCode::OK, "")?;
            Ok((o.status, desk_page(&s, session, None, None, o.error).await?).into_response())
        }
    }
}

/// Replying, assigning and resolving re-show the ticket with what happened.
async fn after_form(
    s: &WebState,
    session: app::sessions::ActiveSession,
    id: &str,
    result: Result<TicketView, app::AppError>,
    done: &'static str,
) -> Result<Response, PageError> {
    let o = form_outcome(result, StatusCode::OK, done)?;
    let ticket = s.app.service().ticket(&session.actor, id).await?;
    let page = desk_page(s, session, Some(ticket), o.notice, o.error).await?;
    Ok((o.status, page).into_response())
}

pub(crate) async fn reply_form(
    State(s): State<WebState>,
    session: PageSession,
    Path(id): Path<String>,
    Form(form): Form<TicketForm>,
) -> Result<Response, PageError> {
    session.check_csrf(&s, &form.csrf)?;
    let PageSession(session) = session;
    s.app.service().ticket(&session.actor, &id).await?;
    let result = s
        .app
        .service()
        .reply_to_ticket(&session.actor, &id, &TicketReply { body: form.body })
        .await;
    after_form(&s, session, &id, result, "已发送。").await
}

pub(crate) async fn assign_form(
    State(s): State<WebState>,
    session: PageSession,
    Path(id): Path<String>,
    Form(form): Form<TicketForm>,
) -> Result<Response, PageError> {
    session.check_csrf(&s, &form.csrf)?;
    let PageSession(session) = session;
    s.app.service().require_answerer(&session.actor).await?;
    let assignee_id = if form.assignee_id.trim().is_empty() {
        session.actor.account_id().unwrap_or_default().to_owned()
    } else {
        form.assignee_id
    };
    let result = s
        .app
        .service()
        .assign_ticket(&session.actor, &id, &TicketAssignment { assignee_id })
        .await;
    after_form(&s, session, &id, result, "已分派。").await
}

pub(crate) async fn resolve_form(
    State(s): State<WebState>,
    session: PageSession,
    Path(id): Path<String>,
    Form(form): Form<TicketForm>,
) -> Result<Response, PageError> {
    session.check_csrf(&s, &form.csrf)?;
    let PageSession(session) = session;
    let result = s.app.service().resolve_ticket(&session.actor, &id).await;
    after_form(&s, session, &id, result, "已标记为解决。").await
}

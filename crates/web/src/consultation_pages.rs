//! 课程咨询 pages: a parent's threads (and a new question to an institution), the institution's customer
//! service's threads, one thread with its messages. Rules are `app::consultations`'.

use crate::WebState;
use crate::error::PageError;
use crate::session_pages::PageSession;
use app::consultations::{ConsultationView, NewConsultation};
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

#[derive(Deserialize, Default)]
pub(crate) struct ListQuery {
    #[serde(default)]
    institution: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "consultations.html")]
pub(crate) struct ListPage {
    threads: Vec<ConsultationView>,
    /// The institution a parent is about to ask (id, name).
    ask: Option<(String, String)>,
    csrf: String,
}

pub(crate) async fn list(
    State(s): State<WebState>,
    PageSession(session): PageSession,
    Query(q): Query<ListQuery>,
) -> Result<ListPage, PageError> {
    let threads = s.app.service().consultations_for(&session.actor).await?;
    let ask = match (&session.actor, q.institution.trim()) {
        (app::Actor::Parent { .. }, id) if !id.is_empty() => {
            let d = s.app.registry().institution_detail(id).await?;
            Some((d.summary.id, d.summary.name))
        }
        _ => None,
    };
    Ok(ListPage {
        threads,
        ask,
        csrf: session.csrf,
    })
}

#[derive(Deserialize)]
pub(crate) struct MessageForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    institution_id: String,
    #[serde(default)]
    topic: String,
    #[serde(default)]
    body: String,
}

pub(crate) async fn ask(
    State(s): State<WebState>,
    session: PageSession,
    Form(form): Form<MessageForm>,
) -> Result<Response, PageError> {
    session.check_csrf(&s, &form.csrf)?;
    let new = NewConsultation {
        institution_id: form.institution_id,
        topic: form.topic,
        body: form.body,
    };
    let thread = s
        .app
        .service()
        .ask_institution(&session.0.actor, &new)
        .await?;
    Ok(Redirect::to(&format!("/consultations/{}", thread.id)).into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "consultation.html")]
pub(crate) struct ThreadPage {
    t: ConsultationView,
    csrf: String,
}

pub(crate) async fn thread(
    State(s): State<WebState>,
    PageSession(session): PageSession,
    Path(id): Path<String>,
) -> Result<ThreadPage, PageError> {
    Ok(ThreadPage {
        t: s.app
            .service()
            .consultation_for(&session.actor, &id)
            .await?,
        csrf: session.csrf,
    })
}

pub(crate) async fn reply(
    State(s): State<WebState>,
    session: PageSession,
    Path(id): Path<String>,
    Form(form): Form<MessageForm>,
) -> Result<Response, PageError> {
    session.check_csrf(&s, &form.csrf)?;
    let thread = s
        .app
        .service()
        .reply_consultation(&session.0.actor, &id, &form.body)
        .await?;
    Ok(Redirect::to(&format!("/consultations/{}", thread.id)).into_response())
}

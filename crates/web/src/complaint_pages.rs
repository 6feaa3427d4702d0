//! The complaint pages: a parent files one (with evidence files) and follows it; the institution's customer
//! service answers; the parent accepts or escalates; the competent supervisor rules. Rules are
//! `app::complaints`'.

use crate::WebState;
use crate::error::PageError;
use crate::session_pages::PageSession;
use app::complaints::{
    CATEGORIES, ComplaintAnswer, ComplaintRulingRequest, ComplaintView, EvidenceFile,
    MONEY_ACTIONS, NewComplaint, OUTCOMES,
};
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use domain::access::Permission;
use serde::Deserialize;

/// Who is looking at a complaint: `parent`, `staff` or `regulator`.
fn viewer(actor: &app::Actor) -> &'static str {
    match actor {
        app::Actor::Parent { .. } => "parent",
        app::Actor::Staff { .. } => "staff",
        app::Actor::Regulator { .. } => "regulator",
        _ => "",
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "complaints.html")]
pub(crate) struct ListPage {
    complaints: Vec<ComplaintView>,
    viewer: &'static str,
}

pub(crate) async fn list(
    State(s): State<WebState>,
    PageSession(session): PageSession,
) -> Result<ListPage, PageError> {
    Ok(ListPage {
        complaints: s.app.service().complaints_for(&session.actor).await?,
        viewer: viewer(&session.actor),
    })
}

#[derive(Deserialize, Default)]
pub(crate) struct NewQuery {
    #[serde(default)]
    institution: String,
    #[serde(default)]
    order: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "complaint_new.html")]
pub(crate) struct NewPage {
    institution_id: String,
    institution_name: String,
    order_id: String,
    categories: &'static [(&'static str, &'static str)],
    csrf: String,
    error: Option<String>,
}

pub(crate) async fn new_form(
    State(s): State<WebState>,
    PageSession(session): PageSession,
    Query(q): Query<NewQuery>,
) -> Result<NewPage, PageError> {
    let institution = s.app.registry().institution_detail(&q.institution).await?;
    Ok(NewPage {
        institution_id: q.institution,
        institution_name: institution.summary.name,
        order_id: q.order,
        categories: CATEGORIES,
        csrf: session.csrf,
        error: None,
    })
}

/// The new complaint, multipart: `csrf`, `institution_id`, `order_id`, `category`, `body`, up to three
/// `evidence` files. A refusal (a bad file, a missing text) stays on the form with the reason.
pub(crate) async fn file(
    State(s): State<WebState>,
    session: PageSession,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, PageError> {
    let mut multipart = multipart.map_err(|e| crate::error::unreadable_upload(e.body_text()))?;
    let (mut csrf, mut new, mut files) = (String::new(), NewComplaint::default(), Vec::new());
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| crate::error::unreadable_upload(e.body_text()))?
    {
        let name = field.name().unwrap_or_default().to_owned();
        let filename = field.file_name().map(str::to_owned);
        let bytes = field
            .bytes()
            .await
            .map_err(|_| crate::error::unreadable_upload("unreadable upload"))?;
        let text = || String::from_utf8_lossy(&bytes).into_owned();
        match name.as_str() {
            "csrf" => csrf = text(),
            "institution_id" => new.institution_id = text(),
            "order_id" => new.order_id = Some(text()),
            "category" => new.category = text(),
            "body" => new.body = text(),
            // A file input left empty still sends a part, with no name and no bytes.
            "evidence" if !bytes.is_empty() => files.push(EvidenceFile {
                filename: filename.unwrap_or_else(|| "evidence".into()),
                bytes: bytes.to_vec(),
            }),
            _ => {}
        }
    }
    session.check_csrf(&s, &csrf)?;
    let PageSession(session) = session;
    match s
        .app
        .service()
        .file_complaint(&session.actor, &new, &files)
        .await
    {
        Ok(c) => Ok(Redirect::to(&format!("/complaints/{}", c.id)).into_response()),
        Err(e) if matches!(e.code.status(), 400 | 413 | 415 | 422) => {
            let institution = s
                .app
                .registry()
                .institution_detail(&new.institution_id)
                .await?;
            let page = NewPage {
                institution_id: new.institution_id,
                institution_name: institution.summary.name,
                order_id: new.order_id.unwrap_or_default(),
                categories: CATEGORIES,
                csrf: session.csrf,
                error: Some(crate::error::in_chinese(&e)),
            };
            Ok((crate::error::status_of(e.code), page).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "complaint.html")]
pub(crate) struct DetailPage {
    c: ComplaintView,
    viewer: &'static str,
    outcomes: &'static [(&'static str, &'static str)],
    money_actions: &'static [(&'static str, &'static str)],
    csrf: String,
}

pub(crate) async fn detail(
    State(s): State<WebState>,
    PageSession(session): PageSession,
    Path(id): Path<String>,
) -> Result<DetailPage, PageError> {
    Ok(DetailPage {
        c: s.app.service().complaint_for(&session.actor, &id).await?,
        viewer: viewer(&session.actor),
        outcomes: OUTCOMES,
        money_actions: MONEY_ACTIONS,
        csrf: session.csrf,
    })
}

#[derive(Deserialize)]
pub(crate) struct StepForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    answer: String,
    #[serde(default)]
    outcome: String,
    #[serde(default)]
    ruling: String,
    #[serde(default)]
    money_action: String,
}

fn back(c: &ComplaintView) -> Response {
    Redirect::to(&format!("/complaints/{}", c.id)).into_response()
}

pub(crate) async fn answer(
    State(s): State<WebState>,
    session: PageSession,
    Path(id): Path<String>,
    Form(form): Form<StepForm>,
) -> Result<Response, PageError> {
    session
        .authorize(&s, &form.csrf, Permission::HandleCustomerCases)
        .await?;
    let answer = ComplaintAnswer {
        answer: form.answer,
    };
    Ok(back(
        &s.app
            .service()
            .answer_complaint(&session.0.actor, &id, &answer)
            .await?,
    ))
}

pub(crate) async fn accept(
    State(s): State<WebState>,
    session: PageSession,
    Path(id): Path<String>,
    Form(form): Form<StepForm>,
) -> Result<Response, PageError> {
    session.check_csrf(&s, &form.csrf)?;
    Ok(back(
        &s.app
            .service()
            .accept_complaint(&session.0.actor, &id)
            .await?,
    ))
}

pub(crate) async fn escalate(
    State(s): State<WebState>,
    session: PageSession,
    Path(id): Path<String>,
    Form(form): Form<StepForm>,
) -> Result<Response, PageError> {
    session.check_csrf(&s, &form.csrf)?;
    Ok(back(
        &s.app
            .service()
            .escalate_complaint(&session.0.actor, &id)
            .await?,
    ))
}

pub(crate) async fn ruling(
    State(s): State<WebState>,
    session: PageSession,
    Path(id): Path<String>,
    Form(form): Form<StepForm>,
) -> Result<Response, PageError> {
    session
        .authorize(&s, &form.csrf, Permission::SuperviseInstitution)
        .await?;
    let ruling = ComplaintRulingRequest {
        outcome: form.outcome,
        ruling: form.ruling,
        money_action: form.money_action,
    };
    Ok(back(
        &s.app
            .service()
            .rule_on_complaint(&session.0.actor, &id, &ruling)
            .await?,
    ))
}

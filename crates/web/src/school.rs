//! 学校端 the school end: a school reads the after-school service lists covering its region and chooses
//! providers from them, or withdraws a choice. Rules are `app::after_school`'s.

use crate::WebState;
use crate::auth_api::Bearer;
use crate::error::{ApiError, PageError, form_outcome};
use crate::extract::ApiJson;
use crate::session_pages::PageSession;
use app::after_school::{AfterSchoolListView, ChoiceWithdrawal, NewChoice};
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

// ---- API ----

/// The after-school service lists covering the signed-in school's region.
#[utoipa::path(get, path = "/api/v1/school/after-school-lists", security(("bearer" = [])),
    responses((status = 200, body = Vec<AfterSchoolListView>)))]
pub async fn lists(
    State(s): State<WebState>,
    bearer: Bearer,
) -> Result<Json<Vec<AfterSchoolListView>>, ApiError> {
    Ok(Json(
        s.app
            .supervision()
            .school_after_school_lists(&bearer.actor)
            .await?,
    ))
}

/// A list covering the school: candidates compared and ranked, with the school's own choices.
#[utoipa::path(get, path = "/api/v1/school/after-school-lists/{id}", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, body = AfterSchoolListView)))]
pub async fn list(
    State(s): State<WebState>,
    bearer: Bearer,
    Path(id): Path<String>,
) -> Result<Json<AfterSchoolListView>, ApiError> {
    Ok(Json(
        s.app
            .supervision()
            .school_after_school_list(&bearer.actor, &id)
            .await?,
    ))
}

/// The school chooses a candidate; a candidate with a barring flag is refused with `candidate_flagged`.
#[utoipa::path(post, path = "/api/v1/school/after-school-lists/{id}/choices", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = NewChoice,
    responses((status = 201, body = AfterSchoolListView)))]
pub async fn choose(
    State(s): State<WebState>,
    bearer: Bearer,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<NewChoice>,
) -> Result<(StatusCode, Json<AfterSchoolListView>), ApiError> {
    let list = s
        .app
        .supervision()
        .choose_after_school(&bearer.actor, &id, &b)
        .await?;
    Ok((StatusCode::CREATED, Json(list)))
}

/// The school withdraws its standing choice, with a reason.
#[utoipa::path(post, path = "/api/v1/school/after-school-lists/{id}/choices/{institution_id}/withdraw",
    security(("bearer" = [])), params(("id" = String, Path), ("institution_id" = String, Path)),
    request_body = ChoiceWithdrawal, responses((status = 200, body = AfterSchoolListView)))]
pub async fn withdraw(
    State(s): State<WebState>,
    bearer: Bearer,
    Path((id, institution_id)): Path<(String, String)>,
    ApiJson(b): ApiJson<ChoiceWithdrawal>,
) -> Result<Json<AfterSchoolListView>, ApiError> {
    Ok(Json(
        s.app
            .supervision()
            .withdraw_after_school_choice(&bearer.actor, &id, &institution_id, &b)
            .await?,
    ))
}

// ---- pages ----

#[derive(Template, WebTemplate)]
#[template(path = "school.html")]
pub(crate) struct SchoolPage {
    lists: Vec<AfterSchoolListView>,
    /// The list shown with its candidates, if one is open.
    list: Option<AfterSchoolListView>,
    csrf: String,
    notice: Option<&'static str>,
    error: Option<String>,
}

pub(crate) async fn home(
    State(s): State<WebState>,
    PageSession(session): PageSession,
) -> Result<SchoolPage, PageError> {
    Ok(SchoolPage {
        lists: s
            .app
            .supervision()
            .school_after_school_lists(&session.actor)
            .await?,
        list: None,
        csrf: session.csrf,
        notice: None,
        error: None,
    })
}

pub(crate) async fn list_page(
    State(s): State<WebState>,
    PageSession(session): PageSession,
    Path(id): Path<String>,
) -> Result<SchoolPage, PageError> {
    Ok(SchoolPage {
        list: Some(
            s.app
                .supervision()
                .school_after_school_list(&session.actor, &id)
                .await?,
        ),
        lists: Vec::new(),
        csrf: session.csrf,
        notice: None,
        error: None,
    })
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub(crate) struct ChoiceForm {
    csrf: String,
    institution_id: String,
    note: String,
    reason: String,
}

/// Choosing and withdrawing re-show the list with what happened.
async fn after_form(
    s: &WebState,
    session: app::sessions::ActiveSession,
    id: &str,
    result: Result<AfterSchoolListView, app::AppError>,
    done: &'static str,
) -> Result<Response, PageError> {
    let o = form_outcome(result, StatusCode::OK, done)?;
    let page = SchoolPage {
        list: Some(
            s.app
                .supervision()
                .school_after_school_list(&session.actor, id)
                .await?,
        ),
        lists: Vec::new(),
        csrf: session.csrf,
        notice: o.notice,
        error: o.error,
    };
    Ok((o.status, page).into_response())
}

pub(crate) async fn choose_form(
    State(s): State<WebState>,
    session: PageSession,
    Path(id): Path<String>,
    Form(form): Form<ChoiceForm>,
) -> Result<Response, PageError> {
    session.check_csrf(&s, &form.csrf)?;
    let PageSession(session) = session;
    let new = NewChoice {
        institution_id: form.institution_id,
        note: form.note,
    };
    let result = s
        .app
        .supervision()
        .choose_after_school(&session.actor, &id, &new)
        .await;
    after_form(&s, session, &id, result, "已选用，机构已收到通知。").await
}

pub(crate) async fn withdraw_form(
    State(s): State<WebState>,
    session: PageSession,
    Path((id, institution_id)): Path<(String, String)>,
    Form(form): Form<ChoiceForm>,
) -> Result<Response, PageError> {
    session.check_csrf(&s, &form.csrf)?;
    let PageSession(session) = session;
    let withdrawal = ChoiceWithdrawal {
        reason: form.reason,
    };
    let result = s
        .app
        .supervision()
        .withdraw_after_school_choice(&session.actor, &id, &institution_id, &withdrawal)
        .await;
    after_form(&s, session, &id, result, "已撤回选用。").await
}

//! 课后服务 the after-school service lists over HTTP: a regulator builds a list and adds candidates, compared
//! side by side; schools choose from it (`school`). Rules are `app::after_school`'s.

use crate::WebState;
use crate::auth_api::Bearer;
use crate::error::{ApiError, PageError, form_outcome};
use crate::extract::ApiJson;
use crate::session_pages::PageSession;
use app::after_school::{AfterSchoolListView, NewAfterSchoolList, NewCandidate};
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use domain::access::Permission;
use serde::Deserialize;

/// A supervisor starts an after-school service list for its region's schools.
#[utoipa::path(post, path = "/api/v1/regulator/after-school-lists", security(("bearer" = [])),
    request_body = NewAfterSchoolList, responses((status = 201, body = AfterSchoolListView)))]
pub async fn create_after_school_list(
    State(s): State<WebState>,
    bearer: Bearer,
    ApiJson(b): ApiJson<NewAfterSchoolList>,
) -> Result<(StatusCode, Json<AfterSchoolListView>), ApiError> {
    s.app
        .require(&bearer.actor, Permission::SuperviseInstitution)
        .await?;
    let list = s
        .app
        .supervision()
        .create_after_school_list(&bearer.actor, &b)
        .await?;
    Ok((StatusCode::CREATED, Json(list)))
}

/// A list with its candidates compared against what the platform knows, ranked by credit.
#[utoipa::path(get, path = "/api/v1/regulator/after-school-lists/{id}", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, body = AfterSchoolListView)))]
pub async fn after_school_list(
    State(s): State<WebState>,
    bearer: Bearer,
    Path(id): Path<String>,
) -> Result<Json<AfterSchoolListView>, ApiError> {
    Ok(Json(
        s.app
            .supervision()
            .after_school_list(&bearer.actor, &id)
            .await?,
    ))
}

/// Adds a candidate institution of the list's region.
#[utoipa::path(post, path = "/api/v1/regulator/after-school-lists/{id}/candidates", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = NewCandidate,
    responses((status = 200, body = AfterSchoolListView)))]
pub async fn add_candidate(
    State(s): State<WebState>,
    bearer: Bearer,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<NewCandidate>,
) -> Result<Json<AfterSchoolListView>, ApiError> {
    s.app
        .require(&bearer.actor, Permission::SuperviseInstitution)
        .await?;
    Ok(Json(
        s.app
            .supervision()
            .add_after_school_candidate(&bearer.actor, &id, &b)
            .await?,
    ))
}

#[derive(Template, WebTemplate)]
#[template(path = "after_school.html")]
pub(crate) struct AfterSchoolPage {
    lists: Vec<AfterSchoolListView>,
    /// The list shown with its candidates, if one is open.
    list: Option<AfterSchoolListView>,
    csrf: String,
    error: Option<String>,
}

pub(crate) async fn after_school_page(
    State(s): State<WebState>,
    PageSession(session): PageSession,
) -> Result<AfterSchoolPage, PageError> {
    s.app
        .require(&session.actor, Permission::SuperviseInstitution)
        .await?;
    Ok(AfterSchoolPage {
        lists: s
            .app
            .supervision()
            .after_school_lists(&session.actor)
            .await?,
        list: None,
        csrf: session.csrf,
        error: None,
    })
}

pub(crate) async fn after_school_list_page(
    State(s): State<WebState>,
    PageSession(session): PageSession,
    Path(id): Path<String>,
) -> Result<AfterSchoolPage, PageError> {
    s.app
        .require(&session.actor, Permission::SuperviseInstitution)
        .await?;
    Ok(AfterSchoolPage {
        list: Some(
            s.app
                .supervision()
                .after_school_list(&session.actor, &id)
                .await?,
        ),
        lists: Vec::new(),
        csrf: session.csrf,
        error: None,
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct AfterSchoolForm {
    csrf: String,
    name: String,
    school_year: String,
    institution_id: String,
}

pub(crate) async fn create_after_school_form(
    State(s): State<WebState>,
    session: PageSession,
    Form(form): Form<AfterSchoolForm>,
) -> Result<Response, PageError> {
    session
        .authorize(&s, &form.csrf, Permission::SuperviseInstitution)
        .await?;
    let PageSession(session) = session;
    let new = NewAfterSchoolList {
        name: form.name,
        school_year: form.school_year,
    };
    match s
        .app
        .supervision()
        .create_after_school_list(&session.actor, &new)
        .await
    {
        Ok(list) => {
            Ok(Redirect::to(&format!("/regulator/after-school/{}", list.id)).into_response())
        }
        Err(e) => {
            let o = form_outcome::<()>(Err(e), StatusCode::OK, "")?;
            let page = AfterSchoolPage {
                lists: s
                    .app
                    .supervision()
                    .after_school_lists(&session.actor)
                    .await?,
                list: None,
                csrf: session.csrf,
                error: o.error,
            };
            Ok((o.status, page).into_response())
        }
    }
}

pub(crate) async fn add_candidate_form(
    State(s): State<WebState>,
    session: PageSession,
    Path(id): Path<String>,
    Form(form): Form<AfterSchoolForm>,
) -> Result<Response, PageError> {
    session
        .authorize(&s, &form.csrf, Permission::SuperviseInstitution)
        .await?;
    let PageSession(session) = session;
    let new = NewCandidate {
        institution_id: form.institution_id,
    };
    match s
        .app
        .supervision()
        .add_after_school_candidate(&session.actor, &id, &new)
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/regulator/after-school/{id}")).into_response()),
        Err(e) => {
            let o = form_outcome::<()>(Err(e), StatusCode::OK, "")?;
            let page = AfterSchoolPage {
                list: Some(
                    s.app
                        .supervision()
                        .after_school_list(&session.actor, &id)
                        .await?,
                ),
                lists: Vec::new(),
                csrf: session.csrf,
                error: o.error,
            };
            Ok((o.status, page).into_response())
        }
    }
}

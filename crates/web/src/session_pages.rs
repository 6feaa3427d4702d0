//! Sign-in, account and sign-out pages, on browser sessions.
//!
//! The session cookie is HttpOnly, SameSite=Lax, and Secure when the request came over HTTPS (as a
//! reverse proxy reports with `X-Forwarded-Proto`). Every state-changing form carries a CSRF token: the
//! sign-in form a double-submit token (cookie + field, before any session exists), later forms the
//! session's own token.

use crate::WebState;
use crate::error::PageError;
use app::auth::{ActorView, PasswordLogin};
use app::sessions::SignIn;
use app::{AppError, ErrorCode};
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use rand::RngCore;
use serde::Deserialize;

pub const SESSION_COOKIE: &str = "xw_session";
pub const LOGIN_CSRF_COOKIE: &str = "xw_login_csrf";

pub(crate) fn routes() -> axum::Router<WebState> {
    axum::Router::new()
        .route("/login", get(login_page).post(login_submit))
        .route("/account", get(account_page))
        .route("/logout", post(logout))
        .route(
            "/login/parent",
            get(parent_login_page).post(parent_login_submit),
        )
        .route("/login/parent/code", post(parent_send_code))
        .route("/children", get(children_page).post(add_child))
}

fn secure(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        == Some("https")
}

fn cookie(
    name: &'static str,
    value: String,
    headers: &HeaderMap,
    same_site: SameSite,
) -> Cookie<'static> {
    Cookie::build((name, value))
        .http_only(true)
        .same_site(same_site)
        .path("/")
        .secure(secure(headers))
        .build()
}

fn random_token() -> String {
    let mut bytes = [0u8; 24];
    rand::rng().fill_bytes(&mut bytes);
    data_encoding::BASE64URL_NOPAD.encode(&bytes)
}

/// A fresh double-submit token for a sign-in form: set as a cookie, echoed in the form.
fn with_login_csrf(jar: CookieJar, headers: &HeaderMap) -> (CookieJar, String) {
    let csrf = random_token();
    (
        jar.add(cookie(
            LOGIN_CSRF_COOKIE,
            csrf.clone(),
            headers,
            SameSite::Strict,
        )),
        csrf,
    )
}

fn login_csrf_refused() -> Response {
    PageError(AppError::new(
        ErrorCode::CsrfFailed,
        "sign-in form without its token",
    ))
    .into_response()
}

/// After a successful sign-in: the form's token is spent, the session cookie set, on to `to`.
fn signed_in(jar: CookieJar, headers: &HeaderMap, token: String, to: &'static str) -> Response {
    let jar = jar
        .remove(Cookie::build(LOGIN_CSRF_COOKIE).path("/"))
        .add(cookie(SESSION_COOKIE, token, headers, SameSite::Lax));
    (jar, Redirect::to(to)).into_response()
}

#[derive(Template, WebTemplate)]
#[template(path = "login.html")]
struct LoginPage {
    csrf: String,
    username: String,
    error: Option<&'static str>,
}

async fn login_page(jar: CookieJar, headers: HeaderMap) -> (CookieJar, LoginPage) {
    let (jar, csrf) = with_login_csrf(jar, &headers);
    (
        jar,
        LoginPage {
            csrf,
            username: String::new(),
            error: None,
        },
    )
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    totp: String,
}

async fn login_submit(
    State(s): State<WebState>,
    jar: CookieJar,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    if !login_csrf_ok(&jar, &form.csrf) {
        return login_csrf_refused();
    }
    let req = PasswordLogin {
        username: form.username.clone(),
        password: form.password,
        totp: Some(form.totp).filter(|t| !t.trim().is_empty()),
    };
    match s.app.start_session(&SignIn::Password(req)).await {
        Ok(session) => signed_in(jar, &headers, session.token, "/account"),
        Err(e) if e.code.status() < 500 => {
            // Refusals re-show the form with the stable message, keeping the username typed.
            let page = LoginPage {
                csrf: form.csrf,
                username: form.username,
                error: Some(e.code.message_zh()),
            };
            (crate::error::status_of(e.code), page).into_response()
        }
        Err(e) => PageError(e).into_response(),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "account.html")]
struct AccountPage {
    view: ActorView,
    csrf: String,
}

/// The session behind the cookie, or a redirect to the sign-in page.
async fn session_of(
    s: &WebState,
    jar: &CookieJar,
) -> Result<app::sessions::ActiveSession, Response> {
    let token = jar
        .get(SESSION_COOKIE)
        .map(|c| c.value().to_owned())
        .ok_or_else(|| Redirect::to("/login").into_response())?;
    match s.app.session(&token).await {
        Ok(session) => Ok(session),
        Err(e) if e.code == ErrorCode::Unauthenticated => {
            Err(Redirect::to("/login").into_response())
        }
        Err(e) => Err(PageError(e).into_response()),
    }
}

async fn account_page(State(s): State<WebState>, jar: CookieJar) -> Response {
    match session_of(&s, &jar).await {
        Ok(session) => AccountPage {
            view: session.view,
            csrf: session.csrf,
        }
        .into_response(),
        Err(r) => r,
    }
}

#[derive(Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

async fn logout(State(s): State<WebState>, jar: CookieJar, Form(form): Form<CsrfForm>) -> Response {
    let session = match session_of(&s, &jar).await {
        Ok(session) => session,
        Err(r) => return r,
    };
    match s.app.end_session(&session, &form.csrf).await {
        Ok(()) => (
            jar.remove(Cookie::build(SESSION_COOKIE).path("/")),
            Redirect::to("/"),
        )
            .into_response(),
        Err(e) => PageError(e).into_response(),
    }
}

fn login_csrf_ok(jar: &CookieJar, form_csrf: &str) -> bool {
    jar.get(LOGIN_CSRF_COOKIE)
        .is_some_and(|c| !c.value().is_empty() && c.value() == form_csrf)
}

#[derive(Template, WebTemplate)]
#[template(path = "parent_login.html")]
struct ParentLoginPage {
    csrf: String,
    phone: String,
    code_sent: bool,
    error: Option<&'static str>,
}

async fn parent_login_page(jar: CookieJar, headers: HeaderMap) -> (CookieJar, ParentLoginPage) {
    let (jar, csrf) = with_login_csrf(jar, &headers);
    (
        jar,
        ParentLoginPage {
            csrf,
            phone: String::new(),
            code_sent: false,
            error: None,
        },
    )
}

#[derive(Deserialize)]
struct ParentForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    code: String,
}

fn parent_page_error(form: ParentForm, code_sent: bool, e: &AppError) -> Response {
    let page = ParentLoginPage {
        csrf: form.csrf,
        phone: form.phone,
        code_sent,
        error: Some(e.code.message_zh()),
    };
    (crate::error::status_of(e.code), page).into_response()
}

async fn parent_send_code(
    State(s): State<WebState>,
    jar: CookieJar,
    Form(form): Form<ParentForm>,
) -> Response {
    if !login_csrf_ok(&jar, &form.csrf) {
        return login_csrf_refused();
    }
    match s.app.request_login_code(&form.phone).await {
        Ok(()) => ParentLoginPage {
            csrf: form.csrf,
            phone: form.phone,
            code_sent: true,
            error: None,
        }
        .into_response(),
        Err(e) if e.code.status() < 500 => parent_page_error(form, false, &e),
        Err(e) => PageError(e).into_response(),
    }
}

async fn parent_login_submit(
    State(s): State<WebState>,
    jar: CookieJar,
    headers: HeaderMap,
    Form(form): Form<ParentForm>,
) -> Response {
    if !login_csrf_ok(&jar, &form.csrf) {
        return login_csrf_refused();
    }
    let req = app::parents::PhoneLogin {
        phone: form.phone.clone(),
        code: form.code.clone(),
    };
    match s.app.start_session(&SignIn::Code(req)).await {
        Ok(session) => signed_in(jar, &headers, session.token, "/children"),
        Err(e) if e.code.status() < 500 => parent_page_error(form, true, &e),
        Err(e) => PageError(e).into_response(),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "children.html")]
struct ChildrenPage {
    children: Vec<app::parents::ChildView>,
    csrf: String,
    error: Option<&'static str>,
}

async fn children_page(State(s): State<WebState>, jar: CookieJar) -> Response {
    let session = match session_of(&s, &jar).await {
        Ok(session) => session,
        Err(r) => return r,
    };
    match s.app.my_children(&session.actor).await {
        Ok(children) => ChildrenPage {
            children,
            csrf: session.csrf,
            error: None,
        }
        .into_response(),
        Err(e) => PageError(e).into_response(),
    }
}

#[derive(Deserialize)]
struct ChildForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    gender: String,
    #[serde(default)]
    id_card: String,
    #[serde(default)]
    school: String,
    #[serde(default)]
    grade: String,
}

async fn add_child(
    State(s): State<WebState>,
    jar: CookieJar,
    Form(form): Form<ChildForm>,
) -> Response {
    let session = match session_of(&s, &jar).await {
        Ok(session) => session,
        Err(r) => return r,
    };
    if let Err(e) = s.app.check_csrf(&session, &form.csrf) {
        return PageError(e).into_response();
    }
    let child = app::parents::NewChild {
        name: form.name,
        gender: form.gender,
        id_card: form.id_card,
        school: form.school,
        grade: form.grade,
    };
    match s.app.add_child(&session.actor, &child).await {
        Ok(_) => Redirect::to("/children").into_response(),
        Err(e) if e.code.status() == 400 => {
            let children = s.app.my_children(&session.actor).await.unwrap_or_default();
            let page = ChildrenPage {
                children,
                csrf: session.csrf,
                error: Some(e.code.message_zh()),
            };
            (crate::error::status_of(e.code), page).into_response()
        }
        Err(e) => PageError(e).into_response(),
    }
}

//! Sign-in, account and sign-out pages, on browser sessions.
//!
//! The session cookie is HttpOnly, SameSite=Lax, and Secure when the request came over HTTPS (as a
//! reverse proxy reports with `X-Forwarded-Proto`). Every state-changing form carries a CSRF token: the
//! sign-in form a double-submit token (cookie + field, before any session exists), later forms the
//! session's own token.

use crate::WebState;
use crate::error::PageError;
use app::auth::{ActorView, PasswordLogin};
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

#[derive(Template, WebTemplate)]
#[template(path = "login.html")]
struct LoginPage {
    csrf: String,
    username: String,
    error: Option<&'static str>,
}

async fn login_page(jar: CookieJar, headers: HeaderMap) -> (CookieJar, LoginPage) {
    let csrf = random_token();
    let jar = jar.add(cookie(
        LOGIN_CSRF_COOKIE,
        csrf.clone(),
        &headers,
        SameSite::Strict,
    ));
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
    let expected = jar
        .get(LOGIN_CSRF_COOKIE)
        .map(|c| c.value().to_owned())
        .unwrap_or_default();
    if expected.is_empty() || expected != form.csrf {
        return PageError(AppError::new(
            ErrorCode::CsrfFailed,
            "sign-in form without its token",
        ))
        .into_response();
    }
    let req = PasswordLogin {
        username: form.username.clone(),
        password: form.password,
        totp: Some(form.totp).filter(|t| !t.trim().is_empty()),
    };
    match s.app.start_session(&req).await {
        Ok(session) => {
            let jar = jar
                .remove(Cookie::build(LOGIN_CSRF_COOKIE).path("/"))
                .add(cookie(
                    SESSION_COOKIE,
                    session.token,
                    &headers,
                    SameSite::Lax,
                ));
            (jar, Redirect::to("/account")).into_response()
        }
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

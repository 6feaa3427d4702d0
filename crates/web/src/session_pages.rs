//! Sign-in, account and sign-out pages, on browser sessions.
//!
//! The session cookie is HttpOnly, SameSite=Lax, and Secure when the request came over HTTPS (as a
//! reverse proxy reports with `X-Forwarded-Proto`). Every state-changing form carries a CSRF token: the
//! sign-in form a double-submit token (cookie + field, before any session exists), later forms the
//! session's own token.

use crate::WebState;
use crate::error::PageError;
use crate::throttle::ClientAddress;
use app::auth::{ActorView, PasswordLogin};
use app::sessions::{ActiveSession, SignIn};
use app::{AppError, ErrorCode};
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use rand::RngCore;
use serde::Deserialize;

pub const SESSION_COOKIE: &str = "xw_session";
pub const LOGIN_CSRF_COOKIE: &str = "xw_login_csrf";

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
        "登录表单缺少校验令牌，请刷新后重试",
        "sign-in form without its token",
    ))
    .into_response()
}

/// After a successful sign-in: the form's token is spent, the session cookie set, on to `to`.
fn signed_in(jar: CookieJar, headers: &HeaderMap, token: String, to: &str) -> Response {
    let jar = jar
        .remove(Cookie::build(LOGIN_CSRF_COOKIE).path("/"))
        .add(cookie(SESSION_COOKIE, token, headers, SameSite::Lax));
    (jar, Redirect::to(to)).into_response()
}

#[derive(Template, WebTemplate)]
#[template(path = "login.html")]
pub(crate) struct LoginPage {
    csrf: String,
    /// Which end's sign-in this is (机构端, 监管端, 银行端), or `None` for the common page.
    end: Option<&'static str>,
    action: String,
    username: String,
    /// The account still has its temporary password: ask for a new one with the next attempt.
    change_password: bool,
    error: Option<&'static str>,
}

/// The sign-in ends with username and password; the parents' end is `/login/parent`.
fn end_label(end: &str) -> Option<&'static str> {
    match end {
        "institution" => Some("机构端"),
        "regulator" => Some("监管端"),
        "bank" => Some("银行端"),
        "school" => Some("学校端"),
        _ => None,
    }
}

pub(crate) async fn login_page(jar: CookieJar, headers: HeaderMap) -> (CookieJar, LoginPage) {
    let (jar, csrf) = with_login_csrf(jar, &headers);
    let page = LoginPage {
        csrf,
        end: None,
        action: "/login".into(),
        username: String::new(),
        change_password: false,
        error: None,
    };
    (jar, page)
}

pub(crate) async fn end_login_page(
    jar: CookieJar,
    headers: HeaderMap,
    Path(end): Path<String>,
) -> Result<(CookieJar, LoginPage), PageError> {
    let label = end_label(&end).ok_or_else(|| {
        PageError(AppError::not_found(
            "没有这个登录页面",
            "no such sign-in page",
        ))
    })?;
    let (jar, mut page) = login_page(jar, headers).await;
    page.end = Some(label);
    page.action = format!("/login/{end}");
    Ok((jar, page))
}

#[derive(Deserialize)]
pub(crate) struct LoginForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    totp: String,
    #[serde(default)]
    new_password: String,
}

pub(crate) async fn end_login_submit(
    s: State<WebState>,
    client: axum::Extension<ClientAddress>,
    jar: CookieJar,
    headers: HeaderMap,
    Path(end): Path<String>,
    form: Form<LoginForm>,
) -> Response {
    match end_label(&end) {
        Some(label) => {
            sign_in(
                s,
                client,
                jar,
                headers,
                Some((label, format!("/login/{end}"))),
                form,
            )
            .await
        }
        None => PageError(AppError::not_found(
            "没有这个登录页面",
            "no such sign-in page",
        ))
        .into_response(),
    }
}

pub(crate) async fn login_submit(
    s: State<WebState>,
    client: axum::Extension<ClientAddress>,
    jar: CookieJar,
    headers: HeaderMap,
    form: Form<LoginForm>,
) -> Response {
    sign_in(s, client, jar, headers, None, form).await
}

async fn sign_in(
    State(s): State<WebState>,
    axum::Extension(ClientAddress(client)): axum::Extension<ClientAddress>,
    jar: CookieJar,
    headers: HeaderMap,
    end: Option<(&'static str, String)>,
    Form(form): Form<LoginForm>,
) -> Response {
    if !login_csrf_ok(&jar, &form.csrf) {
        return login_csrf_refused();
    }
    let non_empty = |v: String| Some(v).filter(|t| !t.trim().is_empty());
    let req = PasswordLogin {
        username: form.username.clone(),
        password: form.password,
        totp: non_empty(form.totp),
        new_password: non_empty(form.new_password),
        source: client.to_string(),
    };
    match s.app.identity().start_session(&SignIn::Password(req)).await {
        Ok(session) => {
            // Each lands where its work is: reviewers and supervisors on the console, each of the three
            // administrators on its own page, a parent on the children, others on the account.
            let home = match (session.actor.kind.as_str(), session.actor.role.as_deref()) {
                ("regulator", Some("reviewer" | "supervisor")) => "/regulator",
                ("regulator", Some("system_admin")) => "/admin/accounts",
                ("regulator", Some("security_admin")) => "/admin/security",
                ("regulator", Some("audit_admin")) => "/audit",
                ("parent", _) => "/children",
                ("school", _) => "/school",
                ("staff", Some("admin")) => "/institution/filing",
                _ => "/account",
            };
            signed_in(jar, &headers, session.token, home)
        }
        Err(e) if e.code.status() < 500 => {
            // Refusals re-show the form with the stable message, keeping the username typed.
            let change_password = matches!(
                e.code,
                ErrorCode::PasswordChangeRequired | ErrorCode::WeakPassword
            );
            let page = LoginPage {
                csrf: form.csrf,
                end: end.as_ref().map(|(label, _)| *label),
                action: end.map_or_else(|| "/login".to_owned(), |(_, action)| action),
                username: form.username,
                change_password,
                error: Some(e.code.message_zh()),
            };
            (crate::error::status_of(e.code), page).into_response()
        }
        Err(e) => PageError(e).into_response(),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "account.html")]
pub(crate) struct AccountPage {
    view: ActorView,
    csrf: String,
    notifications: Vec<app::inbox::NotificationView>,
    notice: Option<&'static str>,
    error: Option<&'static str>,
}

/// The browser session behind the cookie. Without one, a visitor is sent to the sign-in page.
#[derive(Clone)]
pub(crate) struct PageSession(pub ActiveSession);

impl FromRequestParts<WebState> for PageSession {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, s: &WebState) -> Result<Self, Response> {
        // The route's guard (`crate::guard`) resolved it already.
        if let Some(session) = parts.extensions.get::<PageSession>() {
            return Ok(session.clone());
        }
        let jar = CookieJar::from_headers(&parts.headers);
        let token = jar
            .get(SESSION_COOKIE)
            .map(|c| c.value().to_owned())
            .ok_or_else(|| Redirect::to("/login").into_response())?;
        match s.app.identity().session(&token).await {
            Ok(session) => Ok(PageSession(session)),
            Err(e) if e.code == ErrorCode::Unauthenticated => {
                Err(Redirect::to("/login").into_response())
            }
            Err(e) => Err(PageError(e).into_response()),
        }
    }
}

impl PageSession {
    /// Refuses a form whose CSRF token is not this session's, then an actor whose role lacks `permission`
    /// (audited): who may ask comes before what is asked.
    pub(crate) async fn authorize(
        &self,
        s: &WebState,
        form_csrf: &str,
        permission: domain::access::Permission,
    ) -> Result<(), PageError> {
        self.check_csrf(s, form_csrf)?;
        s.app
            .require(&self.0.actor, permission)
            .await
            .map_err(PageError)
    }

    /// Refuses a form whose CSRF token is not this session's.
    pub(crate) fn check_csrf(&self, s: &WebState, form_csrf: &str) -> Result<(), PageError> {
        s.app
            .identity()
            .check_csrf(&self.0, form_csrf)
            .map_err(PageError)
    }
}

pub(crate) async fn account_page(
    State(s): State<WebState>,
    PageSession(session): PageSession,
) -> Result<AccountPage, PageError> {
    Ok(AccountPage {
        notifications: s.app.service().my_notifications(&session.actor).await?,
        view: session.view,
        csrf: session.csrf,
        notice: None,
        error: None,
    })
}

#[derive(Deserialize)]
pub(crate) struct PasswordForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
}

pub(crate) async fn change_password(
    State(s): State<WebState>,
    session: PageSession,
    Form(form): Form<PasswordForm>,
) -> Response {
    if let Err(r) = session.check_csrf(&s, &form.csrf) {
        return r.into_response();
    }
    let PageSession(session) = session;
    let req = app::auth::ChangePassword {
        current_password: form.current_password,
        new_password: form.new_password,
    };
    let (status, notice, error) = match s.app.identity().change_password(&session.actor, &req).await
    {
        Ok(()) => (StatusCode::OK, Some("密码已修改。"), None),
        Err(e) if e.code.status() < 500 => (
            crate::error::status_of(e.code),
            None,
            Some(e.code.message_zh()),
        ),
        Err(e) => return PageError(e).into_response(),
    };
    let page = AccountPage {
        notifications: s
            .app
            .service()
            .my_notifications(&session.actor)
            .await
            .unwrap_or_default(),
        view: session.view,
        csrf: session.csrf,
        notice,
        error,
    };
    (status, page).into_response()
}

#[derive(Deserialize)]
pub(crate) struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

pub(crate) async fn logout(
    State(s): State<WebState>,
    PageSession(session): PageSession,
    jar: CookieJar,
    Form(form): Form<CsrfForm>,
) -> Response {
    match s.app.identity().end_session(&session, &form.csrf).await {
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
pub(crate) struct ParentLoginPage {
    csrf: String,
    phone: String,
    code_sent: bool,
    error: Option<&'static str>,
}

pub(crate) async fn parent_login_page(
    jar: CookieJar,
    headers: HeaderMap,
) -> (CookieJar, ParentLoginPage) {
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
pub(crate) struct ParentForm {
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

pub(crate) async fn parent_send_code(
    State(s): State<WebState>,
    jar: CookieJar,
    Form(form): Form<ParentForm>,
) -> Response {
    if !login_csrf_ok(&jar, &form.csrf) {
        return login_csrf_refused();
    }
    match s.app.identity().request_login_code(&form.phone).await {
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

pub(crate) async fn parent_login_submit(
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
    match s.app.identity().start_session(&SignIn::Code(req)).await {
        Ok(session) => signed_in(jar, &headers, session.token, "/children"),
        Err(e) if e.code.status() < 500 => parent_page_error(form, true, &e),
        Err(e) => PageError(e).into_response(),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "children.html")]
pub(crate) struct ChildrenPage {
    children: Vec<app::parents::ChildView>,
    csrf: String,
    error: Option<&'static str>,
    /// A child's id and one of its data in plain text, just revealed.
    revealed: Option<(String, String)>,
}

pub(crate) async fn children_page(
    State(s): State<WebState>,
    PageSession(session): PageSession,
) -> Result<ChildrenPage, PageError> {
    Ok(ChildrenPage {
        children: s.app.identity().my_children(&session.actor).await?,
        csrf: session.csrf,
        error: None,
        revealed: None,
    })
}

#[derive(Deserialize)]
pub(crate) struct RevealForm {
    #[serde(default)]
    csrf: String,
    field: app::parents::ChildField,
    #[serde(default)]
    reason: String,
}

/// Shows one datum of a child in plain text on the children page, once, with the reason logged.
pub(crate) async fn reveal_child(
    State(s): State<WebState>,
    session: PageSession,
    Path(id): Path<String>,
    Form(form): Form<RevealForm>,
) -> Response {
    if let Err(r) = session.check_csrf(&s, &form.csrf) {
        return r.into_response();
    }
    let PageSession(session) = session;
    let outcome = s
        .app
        .identity()
        .reveal_child(&session.actor, &id, form.field, &form.reason)
        .await;
    let (status, revealed, error) = match outcome {
        Ok(value) => (StatusCode::OK, Some((id, value)), None),
        Err(e) if e.code.status() == 400 => (
            crate::error::status_of(e.code),
            None,
            Some(e.code.message_zh()),
        ),
        Err(e) => return PageError(e).into_response(),
    };
    match s.app.identity().my_children(&session.actor).await {
        Ok(children) => {
            let page = ChildrenPage {
                children,
                csrf: session.csrf,
                error,
                revealed,
            };
            (status, page).into_response()
        }
        Err(e) => PageError(e).into_response(),
    }
}

#[derive(Deserialize)]
pub(crate) struct ChildForm {
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

pub(crate) async fn add_child(
    State(s): State<WebState>,
    session: PageSession,
    Form(form): Form<ChildForm>,
) -> Response {
    if let Err(r) = session.check_csrf(&s, &form.csrf) {
        return r.into_response();
    }
    let PageSession(session) = session;
    let child = app::parents::NewChild {
        name: form.name,
        gender: form.gender,
        id_card: form.id_card,
        school: form.school,
        grade: form.grade,
    };
    match s.app.identity().add_child(&session.actor, &child).await {
        Ok(_) => Redirect::to("/children").into_response(),
        Err(e) if e.code.status() == 400 => {
            let children = s
                .app
                .identity()
                .my_children(&session.actor)
                .await
                .unwrap_or_default();
            let page = ChildrenPage {
                children,
                csrf: session.csrf,
                error: Some(e.code.message_zh()),
                revealed: None,
            };
            (crate::error::status_of(e.code), page).into_response()
        }
        Err(e) => PageError(e).into_response(),
    }
}

//! The HTTP surface over a real socket (port 0) with a real client, on SQLite or PostgreSQL.

use app::testing::TestApp;

use reqwest::StatusCode;

use serde_json::Value;

struct Server {
    base: String,
    t: TestApp,
    client: reqwest::Client,
}

/// A client that shows redirects instead of following them.
fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The authenticator code for `secret` at the test clock's time.
fn totp_now(t: &TestApp, secret: &[u8]) -> String {
    ledger::totp::code_at(secret, (t.app.clock().now().millis() / 1000) as u64, 6)
}

impl Server {
    async fn start(demo: usize) -> Server {
        Server::start_with(demo, web::WebConfig::default()).await
    }

    async fn start_with(demo: usize, config: web::WebConfig) -> Server {
        let t = if demo == 0 {
            TestApp::empty().await
        } else {
            TestApp::with_demo(demo).await
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let router = web::router_with(t.app.clone(), &config);
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        Server {
            base: format!("http://{addr}"),
            t,
            client: reqwest::Client::new(),
        }
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap()
    }

    async fn json(&self, path: &str) -> (StatusCode, Value) {
        let r = self.get(path).await;
        (r.status(), r.json().await.unwrap())
    }

    async fn html(&self, path: &str) -> (StatusCode, String) {
        let r = self.get(path).await;
        let status = r.status();
        assert!(
            r.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html"),
            "{path} is not HTML"
        );
        (status, r.text().await.unwrap())
    }
}

async fn first_in(s: &Server, county: &str) -> String {
    let (_, page) = s
        .json(&format!(
            "/api/v1/public/institutions?region={county}&per_page=1"
        ))
        .await;
    page["items"][0]["id"]
        .as_str()
        .expect("the demo has institutions in this county")
        .to_owned()
}

/// Signs a demo regulator in; the clock moves 30 s first so every sign-in has an unused TOTP step.
async fn regulator_token(s: &Server, username: &str) -> String {
    use app::demo::{DEMO_PASSWORD, DEMO_TOTP_SECRET};
    s.t.clock.advance_millis(30_000);
    let code = totp_now(&s.t, DEMO_TOTP_SECRET);
    let body = serde_json::json!({"username": username, "password": DEMO_PASSWORD, "totp": code});
    let pair: Value = s
        .client
        .post(format!("{}/api/v1/auth/login", s.base))
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    pair["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("{username} signs in: {pair}"))
        .to_owned()
}

async fn audit_trail(s: &Server, token: &str, id: &str) -> reqwest::Response {
    s.client
        .get(format!(
            "{}/api/v1/regulator/institutions/{id}/audit",
            s.base
        ))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

/// Signs a request as the demo bank's system.
fn signed(
    s: &Server,
    method: reqwest::Method,
    path: &str,
    body: &str,
    nonce: &str,
) -> reqwest::RequestBuilder {
    use app::demo::{DEMO_BANK_KEY_ID, DEMO_BANK_SECRET};
    signed_as(
        s,
        (DEMO_BANK_KEY_ID, DEMO_BANK_SECRET),
        method,
        path,
        body,
        nonce,
    )
}

/// A request signed with a client's key id and secret.
fn signed_as(
    s: &Server,
    (key_id, secret): (&str, &str),
    method: reqwest::Method,
    path: &str,
    body: &str,
    nonce: &str,
) -> reqwest::RequestBuilder {
    let crypto = ledger::SmSuite;
    let ts = s.t.app.clock().now().millis();
    let canonical =
        app::signing::canonical_request(&crypto, method.as_str(), path, body.as_bytes(), ts, nonce);
    s.client
        .request(method, format!("{}{path}", s.base))
        .header("x-xiaowai-key", key_id)
        .header("x-xiaowai-timestamp", ts.to_string())
        .header("x-xiaowai-nonce", nonce)
        .header(
            "x-xiaowai-signature",
            app::signing::sign(&crypto, secret.as_bytes(), &canonical),
        )
        .body(body.to_owned())
}

/// The demo account that plays each kind of signed-in caller (the parent signs in by SMS).
fn demo_username(caller: web::access::Caller) -> Option<&'static str> {
    use web::access::Caller;
    match caller {
        Caller::Staff => Some("inst.operator"),
        Caller::StaffAdmin => Some("inst.admin"),
        Caller::Reviewer => Some("haidian.reviewer"),
        Caller::Supervisor => Some("haidian.supervisor"),
        Caller::SystemAdmin => Some("moe.admin"),
        Caller::SecurityAdmin => Some("moe.security"),
        Caller::AuditAdmin => Some("moe.auditor"),
        Caller::School => Some(app::demo::DEMO_SCHOOL_USERNAME),
        Caller::BankOperator => Some("bank.operator"),
        Caller::Anonymous | Caller::Parent | Caller::BankClient | Caller::IntegratorClient => None,
    }
}

/// How a demo caller signs in; the clock moves first so every sign-in has an unused TOTP step (and the
/// parent a fresh SMS code).
async fn demo_sign_in(s: &Server, caller: web::access::Caller) -> Option<app::sessions::SignIn> {
    use app::demo::{DEMO_PARENT_PHONE, DEMO_PASSWORD, DEMO_TOTP_SECRET};
    use app::sessions::SignIn;
    if caller == web::access::Caller::Parent {
        // At most one code a minute per phone.
        s.t.clock.advance_millis(61_000);
        s.t.app
            .identity()
            .request_login_code(DEMO_PARENT_PHONE)
            .await
            .unwrap();
        let message = s.t.sms.last_to(DEMO_PARENT_PHONE).unwrap();
        let code = message
            .split("验证码 ")
            .nth(1)
            .unwrap()
            .chars()
            .take(6)
            .collect();
        return Some(SignIn::Code(app::parents::PhoneLogin {
            phone: DEMO_PARENT_PHONE.into(),
            code,
        }));
    }
    let username = demo_username(caller)?;
    s.t.clock.advance_millis(30_000);
    let code = totp_now(&s.t, DEMO_TOTP_SECRET);
    Some(SignIn::Password(app::auth::PasswordLogin {
        username: username.into(),
        password: DEMO_PASSWORD.into(),
        totp: Some(code),
        new_password: None,
        source: String::new(),
    }))
}

/// The callers the route tests play, in order.
const CALLERS: [web::access::Caller; 13] = {
    use web::access::Caller::*;
    [
        Anonymous,
        Parent,
        Staff,
        StaffAdmin,
        Reviewer,
        Supervisor,
        SystemAdmin,
        SecurityAdmin,
        AuditAdmin,
        BankClient,
        School,
        IntegratorClient,
        BankOperator,
    ]
};

/// Sample values for path parameters, per route and caller: an administrator acts on an account it
/// manages (a Chaoyang reviewer for the national administrator, a teacher for the institution's admin).
struct Samples {
    institution: String,
    /// The demo staff's own institution (white-listed, in Haidian, with a plate).
    own_institution: String,
    child: String,
    /// An order of the demo parent at the demo staff's institution.
    order: String,
    regulator_account: String,
    staff_account: String,
}

impl Samples {
    async fn of(s: &Server) -> Samples {
        let mut tx = s.t.app.store().begin_write().await.unwrap();
        let mut id_of = async |u: &str| {
            tx.accounts()
                .account_by_username(u)
                .await
                .unwrap()
                .unwrap_or_else(|| panic!("demo account {u}"))
                .id
        };
        let regulator_account = id_of("chaoyang.reviewer").await;
        let staff_account = id_of("inst.teacher").await;
        let own_institution = tx
            .accounts()
            .account_by_username("inst.admin")
            .await
            .unwrap()
            .and_then(|a| a.institution_id)
            .unwrap();
        drop(tx);
        let Some(app::sessions::SignIn::Code(login)) =
            demo_sign_in(s, web::access::Caller::Parent).await
        else {
            unreachable!("the parent signs in by SMS")
        };
        let pair = s.t.app.identity().login_with_code(&login).await.unwrap();
        let parent =
            s.t.app
                .identity()
                .authenticate(&pair.access_token)
                .await
                .unwrap();
        let child = s.t.app.identity().my_children(&parent).await.unwrap()[0]
            .id
            .clone();
        let course =
            s.t.app
                .store()
                .read()
                .registry()
                .courses_of(&own_institution)
                .await
                .unwrap();
        let new = app::orders::NewOrder {
            course_id: course[0].id.clone(),
            child_id: child.clone(),
        };
        let order =
            s.t.app
                .money()
                .place_order(&parent, &new)
                .await
                .unwrap()
                .line
                .id;
        Samples {
            own_institution,
            institution: first_in(s, "110108").await,
            child,
            order,
            regulator_account,
            staff_account,
        }
    }

    fn path(&self, template: &str, caller: web::access::Caller) -> String {
        // The demo integrator is authorised by the demo staff's institution.
        let id = if template.starts_with("/api/v1/integration/institutions/") {
            &self.own_institution
        } else if template.contains("/children/") {
            &self.child
        } else if template.contains("/orders/") {
            &self.order
        } else if template.ends_with("/plate") || template.ends_with("/credit") {
            &self.own_institution
        } else if template.contains("/accounts/") {
            if caller == web::access::Caller::StaffAdmin {
                &self.staff_account
            } else {
                &self.regulator_account
            }
        } else {
            &self.institution
        };
        let path = template
            .replace("{id}", id)
            .replace("{status}", "white")
            .replace("{end}", "regulator")
            .replace("{token}", "not-a-plate-token")
            .replace("{focus}", "orders")
            .replace("{year}", "2026")
            .replace("{institution_id}", &self.institution)
            .replace("{order_id}", &self.order)
            .replace("{refund_id}", "no-such-refund")
            .replace("{complaint_id}", "no-such-complaint");
        assert!(
            !path.contains('{'),
            "no sample value for the parameters of {template}: add one here"
        );
        path
    }
}

/// The value of a cookie set by a response.
fn set_cookie(r: &reqwest::Response, name: &str) -> Option<(String, String)> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with(&format!("{name}=")))
        .map(|c| {
            let value = c.split(';').next().unwrap()[name.len() + 1..].to_owned();
            (value, c.to_owned())
        })
}

fn hidden_csrf(page: &str) -> String {
    let start =
        page.find(r#"name="csrf" value=""#).expect("a csrf field") + r#"name="csrf" value=""#.len();
    page[start..].split('"').next().unwrap().to_owned()
}

/// Signs a demo account in through the sign-in form; returns the session cookie and where it was sent.
async fn page_sign_in(s: &Server, username: &str) -> (String, String) {
    let browser = no_redirects();
    let form = browser
        .get(format!("{}/login/regulator", s.base))
        .send()
        .await
        .unwrap();
    let (csrf, _) = set_cookie(&form, "xw_login_csrf").unwrap();
    s.t.clock.advance_millis(30_000);
    let code = totp_now(&s.t, app::demo::DEMO_TOTP_SECRET);
    let signed_in = browser
        .post(format!("{}/login/regulator", s.base))
        .header("cookie", format!("xw_login_csrf={csrf}"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("username", username),
            ("password", app::demo::DEMO_PASSWORD),
            ("totp", code.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), 303, "{username} signs in");
    let location = signed_in.headers()["location"].to_str().unwrap().to_owned();
    let (session, _) = set_cookie(&signed_in, "xw_session").unwrap();
    (format!("xw_session={session}"), location)
}

async fn page_as(s: &Server, cookie: &str, path: &str) -> (StatusCode, String) {
    let r = s
        .client
        .get(format!("{}{path}", s.base))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    (r.status(), r.text().await.unwrap())
}

/// A stand-in SMS gateway on a real socket: records what it receives and answers with `status`.
async fn sms_gateway(
    status: u16,
) -> (
    String,
    std::sync::Arc<std::sync::Mutex<Vec<(String, Value)>>>,
) {
    use axum::http::HeaderMap;
    let received = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = received.clone();
    let handler = move |headers: HeaderMap, axum::Json(body): axum::Json<Value>| {
        let log = log.clone();
        async move {
            let auth = headers["authorization"].to_str().unwrap().to_owned();
            log.lock().unwrap().push((auth, body));
            StatusCode::from_u16(status).unwrap()
        }
    };
    let router = axum::Router::new().route("/send", axum::routing::post(handler));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/send", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (url, received)
}

#[tokio::test]
async fn every_api_route_is_in_the_openapi_document() {
    let s = Server::start(0).await;
    let (_, doc) = s.json("/api/openapi.json").await;
    let missing: Vec<String> = web::routes::api_routes()
        .iter()
        .filter(|r| {
            !doc["paths"][r.path.as_str()][r.method.as_str().to_ascii_lowercase()].is_object()
        })
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert!(missing.is_empty(), "not documented: {missing:#?}");
}

#[path = "http/edge.rs"]
mod edge;

#[path = "http/basics.rs"]
mod basics;

#[path = "http/sign_in.rs"]
mod sign_in;

#[path = "http/access.rs"]
mod access;

#[path = "http/sessions.rs"]
mod sessions;

#[path = "http/registry.rs"]
mod registry;

#[path = "http/money.rs"]
mod money;

#[path = "http/integration.rs"]
mod integration;

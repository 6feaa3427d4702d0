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

#[tokio::test]
async fn health_reports_the_backend() {
    let s = Server::start(0).await;
    let (status, body) = s.json("/healthz").await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], "ok");
    assert_eq!(body["database"], s.t.app.store().backend().name());
}

#[tokio::test]
async fn search_api_returns_a_page_of_institutions() {
    let s = Server::start(300).await;
    let (status, body) = s
        .json("/api/v1/public/institutions?per_page=7&page=2")
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["total"], 300);
    assert_eq!(
        (body["page"].as_u64(), body["per_page"].as_u64()),
        (Some(2), Some(7))
    );
    let items = body["items"].as_array().unwrap();
    assert_eq!(items.len(), 7);
    for i in items {
        for field in ["id", "name", "region_code", "list_status"] {
            assert!(i[field].is_string(), "item lacks {field}: {i}");
        }
    }
    let (_, maths) = s
        .json("/api/v1/public/institutions?q=%E6%95%B0%E5%AD%A6&region=330000")
        .await;
    for i in maths["items"].as_array().unwrap() {
        assert!(i["region_code"].as_str().unwrap().starts_with("33"));
    }
}

#[tokio::test]
async fn bad_input_is_a_problem_document_never_a_500() {
    let s = Server::start(10).await;
    let cases = [
        (
            "/api/v1/public/institutions?region=999999",
            400,
            "unknown_region",
        ),
        (
            "/api/v1/public/institutions?region=11",
            400,
            "invalid_region",
        ),
        (
            "/api/v1/public/institutions?per_page=101",
            400,
            "per_page_out_of_range",
        ),
        ("/api/v1/public/institutions?page=-1", 400, "invalid_page"),
        (
            "/api/v1/public/institutions?page=99999999999",
            400,
            "invalid_page",
        ),
        ("/api/v1/public/institutions?mode=both", 400, "invalid_mode"),
        (
            "/api/v1/public/institutions?list=red",
            400,
            "invalid_list_status",
        ),
        ("/api/v1/public/institutions/not-an-id", 400, "invalid_id"),
        (
            "/api/v1/public/institutions/01909a55-3fd9-7b92-aff1-c6c58a7c0cce",
            404,
            "not_found",
        ),
        ("/api/v1/public/regions?parent=123", 400, "invalid_region"),
        (
            "/api/v1/public/regions?parent=990000",
            400,
            "unknown_region",
        ),
        ("/api/v1/nothing-here", 404, "not_found"),
    ];
    let wrong_method = s
        .client
        .post(format!("{}/api/v1/public/institutions", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_method.status(), 405);
    assert_eq!(
        wrong_method.headers()["content-type"],
        "application/problem+json"
    );
    assert_eq!(
        wrong_method.json::<Value>().await.unwrap()["code"],
        "method_not_allowed"
    );
    for (path, status, code) in cases {
        let r = s.get(path).await;
        assert_eq!(r.status().as_u16(), status, "{path}");
        assert_eq!(
            r.headers()["content-type"],
            "application/problem+json",
            "{path}"
        );
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["code"], code, "{path}");
        assert_eq!(body["status"], status);
        assert!(!body["message_zh"].as_str().unwrap().is_empty());
        assert!(!body["request_id"].as_str().unwrap().is_empty());
    }
}

#[tokio::test]
async fn detail_and_regions_api() {
    let s = Server::start(60).await;
    let (_, list) = s
        .json("/api/v1/public/institutions?list=white&per_page=1")
        .await;
    let id = list["items"][0]["id"].as_str().unwrap();
    let (status, d) = s.json(&format!("/api/v1/public/institutions/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(d["id"], id);
    assert!(d["licence_no"].is_string());
    assert!(!d["courses"].as_array().unwrap().is_empty());
    assert_eq!(d["list_history"][0]["to_status"], "white");
    let (_, regions) = s.json("/api/v1/public/regions?parent=110000").await;
    assert_eq!(regions[0]["display_name"], "北京市");
    assert_eq!(regions[0]["placeholder"], true);
    let (_, provinces) = s.json("/api/v1/public/regions").await;
    assert_eq!(provinces.as_array().unwrap().len(), 31);
}

#[tokio::test]
async fn openapi_document_and_docs_page_are_served_locally() {
    let s = Server::start(0).await;
    let (status, doc) = s.json("/api/openapi.json").await;
    assert_eq!(status, 200);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    for path in [
        "/api/v1/public/institutions",
        "/api/v1/public/institutions/{id}",
        "/api/v1/public/regions",
    ] {
        assert!(
            doc["paths"][path].is_object(),
            "{path} missing from OpenAPI"
        );
    }
    let description = doc["info"]["description"].as_str().unwrap();
    for code in app::ErrorCode::ALL {
        assert!(
            description.contains(&format!("`{}`", code.code())),
            "{} not documented",
            code.code()
        );
    }
    let (status, page) = s.html("/api/docs/").await;
    assert_eq!(status, 200);
    assert!(page.contains("swagger-ui"));
    assert_eq!(
        s.get("/api/docs/swagger-ui.css").await.status(),
        200,
        "Swagger UI assets are vendored"
    );
}

#[tokio::test]
async fn pages_show_real_data() {
    let s = Server::start(300).await;
    let stats = s.t.app.home_stats().await.unwrap();
    let (status, home) = s.html("/").await;
    assert_eq!(status, 200);
    assert!(home.contains(&format!(
        r#"<b id="stat-white">{}</b>"#,
        stats.white_institutions
    )));
    assert!(home.contains(&format!(
        r#"<b id="stat-black">{}</b>"#,
        stats.black_institutions
    )));

    let (status, search) = s.html("/institutions?q=%E6%95%B0%E5%AD%A6").await;
    assert_eq!(status, 200);
    let (_, api) = s
        .json("/api/v1/public/institutions?q=%E6%95%B0%E5%AD%A6")
        .await;
    assert!(search.contains(&format!("共找到 <b>{}</b> 家机构", api["total"])));
    assert!(search.contains(api["items"][0]["name"].as_str().unwrap()));

    let id = api["items"][0]["id"].as_str().unwrap();
    let (status, detail) = s.html(&format!("/institutions/{id}")).await;
    assert_eq!(status, 200);
    assert!(detail.contains(api["items"][0]["name"].as_str().unwrap()));
    assert!(detail.contains("统一社会信用代码"));

    let black =
        s.t.app
            .list_page(
                domain::ListStatus::Black,
                domain::Paging::new(None, None).unwrap(),
            )
            .await
            .unwrap();
    let (status, page) = s.html("/lists/black").await;
    assert_eq!(status, 200);
    assert!(page.contains(&black.items[0].name) && page.contains(&black.items[0].reason));

    let (status, notices) = s.html("/notices").await;
    assert_eq!(status, 200);
    assert!(notices.contains("黑名单公示"));
}

#[tokio::test]
async fn the_county_search_keeps_its_selectors_and_escapes_input() {
    let s = Server::start(0).await;
    let (status, page) = s.html("/institutions?county=110108&q=%3Cscript%3E").await;
    assert_eq!(status, 200);
    assert!(page.contains(r#"<option value="110108" selected>海淀区</option>"#));
    assert!(page.contains(r#"<option value="110100" selected>北京市</option>"#));
    assert!(!page.contains("<script>"), "user input is escaped");
    // The htmx fragment for 北京市 pre-selects its single placeholder prefecture and fills the counties.
    let (status, fragment) = s.html("/regions/options?province=110000").await;
    assert_eq!(status, 200);
    assert!(fragment.contains(r#"<option value="110100" selected>北京市</option>"#));
    assert!(fragment.contains(r#"hx-swap-oob="innerHTML""#) && fragment.contains("海淀区"));
}

#[tokio::test]
async fn errors_in_the_browser_are_friendly_pages() {
    let s = Server::start(0).await;
    for (path, status, text) in [
        ("/no/such/page", 404, "未找到您要访问的内容"),
        ("/lists/purple", 404, "未找到您要访问的内容"),
        ("/institutions/not-an-id", 400, "编号格式无效"),
        ("/institutions?region=999999", 400, "行政区划代码不存在"),
        ("/institutions?page=0", 400, "页码无效"),
    ] {
        let (got, body) = s.html(path).await;
        assert_eq!(got.as_u16(), status, "{path}");
        assert!(body.contains(text), "{path} lacks {text}");
        assert!(body.contains("返回首页"));
    }
}

#[tokio::test]
async fn responses_carry_security_headers_and_request_ids() {
    let s = Server::start(0).await;
    let r = s.get("/").await;
    let h = r.headers();
    assert!(
        h["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("default-src 'self'")
    );
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["x-frame-options"], "DENY");
    assert!(!h["x-request-id"].is_empty());
    let echoed = s
        .client
        .get(format!("{}/healthz", s.base))
        .header("x-request-id", "trace-me-42")
        .send()
        .await
        .unwrap();
    assert_eq!(echoed.headers()["x-request-id"], "trace-me-42");
    let problem: Value = s
        .client
        .get(format!("{}/api/v1/x", s.base))
        .header("x-request-id", "trace-me-43")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(problem["request_id"], "trace-me-43");
}

#[tokio::test]
async fn metrics_count_requests_by_route_template() {
    let s = Server::start(0).await;
    s.get("/api/v1/public/regions?parent=110000").await;
    let text = s.get("/metrics").await.text().await.unwrap();
    let line = text
        .lines()
        .find(|l| {
            l.starts_with("http_requests_total")
                && l.contains(r#"route="/api/v1/public/regions""#)
                && l.contains(r#"status="200""#)
        })
        .unwrap_or_else(|| panic!("no counter for the regions route in:\n{text}"));
    let n: f64 = line.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(n >= 1.0);
    assert!(text.contains("http_request_duration_seconds_bucket"));
}

#[tokio::test]
async fn sign_in_over_http_gives_a_bearer_token_for_me_and_sign_out_revokes_it() {
    use app::admin::{NewAccount, NewAccountKind};
    let s = Server::start(5).await;
    let institution =
        s.t.app
            .store()
            .read()
            .institutions_after("", 1)
            .await
            .unwrap()[0]
            .id
            .clone();
    let account = NewAccount {
        username: "operator.wang".into(),
        display_name: "王老师".into(),
        password: "correct horse battery".into(),
        kind: NewAccountKind::Staff {
            institution_id: institution,
            role: domain::access::StaffRole::Operator,
        },
    };
    s.t.app
        .create_account(&app::Actor::System { name: "test" }, account)
        .await
        .unwrap();
    let url = |p: &str| format!("{}{p}", s.base);

    let anonymous = s.get("/api/v1/me").await;
    assert_eq!(anonymous.status(), 401);
    assert!(
        anonymous.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer")
    );
    assert_eq!(
        anonymous.json::<Value>().await.unwrap()["code"],
        "unauthenticated"
    );

    let wrong = s
        .client
        .post(url("/api/v1/auth/login"))
        .json(&serde_json::json!({"username": "operator.wang", "password": "nope nope nope"}))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    assert_eq!(
        wrong.json::<Value>().await.unwrap()["code"],
        "invalid_credentials"
    );
    let malformed = s
        .client
        .post(url("/api/v1/auth/login"))
        .json(&serde_json::json!({"user": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), 400);
    assert_eq!(
        malformed.headers()["content-type"],
        "application/problem+json"
    );

    let pair: Value = s
        .client
        .post(url("/api/v1/auth/login"))
        .json(
            &serde_json::json!({"username": "operator.wang", "password": "correct horse battery"}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let access = pair["access_token"].as_str().unwrap();
    assert_eq!(pair["token_type"], "Bearer");
    assert_eq!(pair["actor"]["role"], "operator");
    let me: Value = s
        .client
        .get(url("/api/v1/me"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["display_name"], "王老师");
    assert_eq!(me["kind"], "staff");

    let refreshed = s
        .client
        .post(url("/api/v1/auth/refresh"))
        .json(&serde_json::json!({"refresh_token": pair["refresh_token"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(refreshed.status(), 200);
    let logout = s
        .client
        .post(url("/api/v1/auth/logout"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), 204);
    assert_eq!(
        s.client
            .get(url("/api/v1/me"))
            .bearer_auth(access)
            .send()
            .await
            .unwrap()
            .status(),
        401
    );

    let (_, doc) = s.json("/api/openapi.json").await;
    assert!(doc["paths"]["/api/v1/auth/login"]["post"].is_object());
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
}

#[tokio::test]
async fn a_parent_signs_in_by_sms_links_a_child_and_sees_only_masked_data() {
    let s = Server::start(0).await;
    let url = |p: &str| format!("{}{p}", s.base);
    let post = |p: &str, body: Value| s.client.post(url(p)).json(&body).send();

    let bad_phone = post(
        "/api/v1/auth/sms-code",
        serde_json::json!({"phone": "12345"}),
    )
    .await
    .unwrap();
    assert_eq!(bad_phone.status(), 400);
    assert_eq!(
        bad_phone.json::<Value>().await.unwrap()["code"],
        "invalid_phone"
    );
    assert_eq!(
        post(
            "/api/v1/auth/sms-code",
            serde_json::json!({"phone": "13600000005"})
        )
        .await
        .unwrap()
        .status(),
        204
    );
    let message = s.t.sms.last_to("13600000005").unwrap();
    let code: String = message
        .split("验证码 ")
        .nth(1)
        .unwrap()
        .chars()
        .take(6)
        .collect();
    let pair: Value = post(
        "/api/v1/auth/login",
        serde_json::json!({"phone": "13600000005", "code": code}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let token = pair["access_token"].as_str().unwrap().to_owned();
    let me: Value = s
        .client
        .get(url("/api/v1/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["kind"], "parent");
    assert_eq!(me["display_name"], "家长136****0005");
    assert!(
        !me.to_string().contains("13600000005"),
        "the API never shows the number in full"
    );

    let add = |body: Value| {
        s.client
            .post(url("/api/v1/me/children"))
            .bearer_auth(&token)
            .json(&body)
            .send()
    };
    let child = |id_card: &str, school: &str| serde_json::json!({"name": "赵小雨", "gender": "female", "id_card": id_card, "school": school, "grade": "五年级"});
    let bad_id = add(child("110108201503010011", "海淀实验小学"))
        .await
        .unwrap();
    assert_eq!(bad_id.status(), 400);
    let problem: Value = bad_id.json().await.unwrap();
    assert_eq!(problem["code"], "invalid_id_card");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("check character")
    );
    let long = add(child("11010820150301001X", &"校".repeat(101)))
        .await
        .unwrap();
    assert_eq!(
        long.json::<Value>().await.unwrap()["code"],
        "field_too_long"
    );
    let created = add(child("11010820150301001X", "海淀实验小学"))
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let view: Value = created.json().await.unwrap();
    assert_eq!(view["name_masked"], "赵*雨");
    assert_eq!(view["id_card_masked"], "1101**********001X");
    let listed: Value = s
        .client
        .get(url("/api/v1/me/children"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        !listed.to_string().contains("11010820150301001X")
            && !listed.to_string().contains("赵小雨")
    );

    let reveal_url = url(&format!(
        "/api/v1/children/{}/reveal",
        view["id"].as_str().unwrap()
    ));
    let revealed: Value = s
        .client
        .post(&reveal_url)
        .bearer_auth(&token)
        .json(&serde_json::json!({"field": "id_card", "reason": "填写报名表"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(revealed["value"], "11010820150301001X");
    let log = s.t.app.store().read().pii_access_log(5).await.unwrap();
    assert_eq!(
        (log[0].reason.as_str(), log[0].field.as_str()),
        ("填写报名表", "child.id_card")
    );
    assert!(log[0].actor.starts_with("parent:"));
    let anonymous = s
        .client
        .post(&reveal_url)
        .json(&serde_json::json!({"field": "name", "reason": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
}

#[tokio::test]
async fn signed_requests_over_http_are_refused_when_replayed_stale_or_unsigned() {
    use app::demo::{DEMO_BANK_KEY_ID, DEMO_BANK_SECRET};
    use app::signing::{canonical_request, sign};
    let s = Server::start(3).await;
    let crypto = ledger::SmSuite;
    let path = "/api/v1/clients/me?check=1";
    let body = r#"{"hello":"bank"}"#;
    let send = |ts: i64, nonce: &'static str| {
        let signature = sign(
            &crypto,
            DEMO_BANK_SECRET.as_bytes(),
            &canonical_request(&crypto, "POST", path, body.as_bytes(), ts, nonce),
        );
        s.client
            .post(format!("{}{path}", s.base))
            .header("x-xiaowai-key", DEMO_BANK_KEY_ID)
            .header("x-xiaowai-timestamp", ts.to_string())
            .header("x-xiaowai-nonce", nonce)
            .header("x-xiaowai-signature", signature)
            .body(body)
            .send()
    };
    let now = s.t.app.clock().now().millis();
    let ok = send(now, "http-nonce-000001").await.unwrap();
    assert_eq!(ok.status(), 200);
    let who: Value = ok.json().await.unwrap();
    assert_eq!(
        (
            who["key_id"].as_str(),
            who["owner_kind"].as_str(),
            who["body_bytes"].as_u64()
        ),
        (Some(DEMO_BANK_KEY_ID), Some("bank"), Some(16))
    );

    let replayed = send(now, "http-nonce-000001").await.unwrap();
    assert_eq!(replayed.status(), 401);
    assert_eq!(
        replayed.json::<Value>().await.unwrap()["code"],
        "replayed_request"
    );
    let stale = send(now - 10 * 60_000, "http-nonce-000002").await.unwrap();
    assert_eq!(
        stale.json::<Value>().await.unwrap()["code"],
        "stale_request"
    );
    let unsigned = s
        .client
        .post(format!("{}{path}", s.base))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status(), 401);
    assert_eq!(
        unsigned.json::<Value>().await.unwrap()["code"],
        "invalid_signature"
    );
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

#[tokio::test]
async fn haidian_cannot_read_a_chaoyang_institution_and_beijing_can() {
    let s = Server::start(2400).await;
    let haidian_institution = first_in(&s, "110108").await;
    let chaoyang_institution = first_in(&s, "110105").await;
    let haidian = regulator_token(&s, "haidian.reviewer").await;
    let beijing = regulator_token(&s, "beijing.supervisor").await;
    let admin = regulator_token(&s, "beijing.admin").await;

    let own = audit_trail(&s, &haidian, &haidian_institution).await;
    assert_eq!(own.status(), 200);
    let trail: Value = own.json().await.unwrap();
    assert!(
        trail
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "institution.registered")
    );

    let other = audit_trail(&s, &haidian, &chaoyang_institution).await;
    assert_eq!(
        other.status(),
        403,
        "Haidian cannot read a Chaoyang institution"
    );
    assert_eq!(other.json::<Value>().await.unwrap()["code"], "forbidden");
    assert_eq!(
        audit_trail(&s, &beijing, &chaoyang_institution)
            .await
            .status(),
        200,
        "Beijing covers Chaoyang"
    );
    assert_eq!(
        audit_trail(&s, &beijing, &haidian_institution)
            .await
            .status(),
        200
    );
    assert_eq!(
        audit_trail(&s, &admin, &haidian_institution).await.status(),
        403,
        "the system administrator has no business role"
    );
    assert_eq!(
        s.get(&format!(
            "/api/v1/regulator/institutions/{chaoyang_institution}/audit"
        ))
        .await
        .status(),
        401
    );
    // The refusal left evidence.
    let entries =
        s.t.app
            .store()
            .read()
            .audit_entries_about(&format!("institution:{chaoyang_institution}"), 50)
            .await
            .unwrap();
    assert!(entries.iter().any(
        |e| e.body.action == "auth.permission_denied" && e.body.actor.starts_with("regulator:")
    ));
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
        s.t.app.request_login_code(DEMO_PARENT_PHONE).await.unwrap();
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
            tx.account_by_username(u)
                .await
                .unwrap()
                .unwrap_or_else(|| panic!("demo account {u}"))
                .id
        };
        let regulator_account = id_of("chaoyang.reviewer").await;
        let staff_account = id_of("inst.teacher").await;
        let own_institution = tx
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
        let pair = s.t.app.login_with_code(&login).await.unwrap();
        let parent = s.t.app.authenticate(&pair.access_token).await.unwrap();
        let child = s.t.app.my_children(&parent).await.unwrap()[0].id.clone();
        let course =
            s.t.app
                .store()
                .read()
                .courses_of(&own_institution)
                .await
                .unwrap();
        let new = app::orders::NewOrder {
            course_id: course[0].id.clone(),
            child_id: child.clone(),
        };
        let order = s.t.app.place_order(&parent, &new).await.unwrap().line.id;
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

#[tokio::test]
async fn every_api_route_enforces_its_rule_for_every_kind_of_caller() {
    use web::access::{Access, Caller};
    use web::routes::api_routes;
    let s = Server::start(2400).await;
    let url = |p: &str| format!("{}{p}", s.base);
    let samples = Samples::of(&s).await;
    let mut tokens = Vec::new();
    for caller in CALLERS {
        let token = match demo_sign_in(&s, caller).await {
            Some(app::sessions::SignIn::Password(login)) => s.t.app.login(&login).await,
            Some(app::sessions::SignIn::Code(login)) => s.t.app.login_with_code(&login).await,
            None => continue,
        };
        tokens.push((caller, token.unwrap().access_token));
    }

    let mut routes = api_routes();
    // Signing out spends the token: check it last.
    routes.sort_by_key(|r| r.path == "/api/v1/auth/logout");
    let mut nonce = 0;
    for route in &routes {
        let body = match route.path.as_str() {
            "/api/v1/me/children" => {
                r#"{"name":"测试","gender":"male","id_card":"11010820150301001X","school":"一小","grade":"一年级"}"#
            }
            "/api/v1/children/{id}/reveal" => r#"{"field":"name","reason":"权限测试"}"#,
            p if p.ends_with("/disable") || p.ends_with("/enable") => r#"{"reason":"权限测试"}"#,
            _ => "{}",
        };
        for caller in CALLERS {
            let path = samples.path(&route.path, caller);
            let request = match caller {
                Caller::BankClient | Caller::IntegratorClient => {
                    use app::demo::{
                        DEMO_BANK_KEY_ID, DEMO_BANK_SECRET, DEMO_INTEGRATOR_KEY_ID,
                        DEMO_INTEGRATOR_SECRET,
                    };
                    nonce += 1;
                    let key = if caller == Caller::BankClient {
                        (DEMO_BANK_KEY_ID, DEMO_BANK_SECRET)
                    } else {
                        (DEMO_INTEGRATOR_KEY_ID, DEMO_INTEGRATOR_SECRET)
                    };
                    signed_as(
                        &s,
                        key,
                        route.method.clone(),
                        &path,
                        body,
                        &format!("route-test-nonce-{nonce:04}"),
                    )
                }
                _ => {
                    let r = s
                        .client
                        .request(route.method.clone(), url(&path))
                        .header("content-type", "application/json")
                        .body(body);
                    match tokens.iter().find(|(c, _)| *c == caller) {
                        Some((_, t)) => r.bearer_auth(t),
                        None => r,
                    }
                }
            };
            let response = request.send().await.unwrap();
            let status = response.status();
            let code = response
                .json::<Value>()
                .await
                .ok()
                .and_then(|v| v["code"].as_str().map(str::to_owned));
            let code = code.as_deref();
            let denied = matches!(
                code,
                Some("unauthenticated" | "forbidden" | "invalid_signature")
            );
            let what = format!(
                "{} {} as {caller:?}: {status} {code:?}",
                route.method, route.path
            );
            match route.access {
                Access::Public => assert!(!denied, "{what}"),
                Access::Signed(allowed) if allowed.contains(&caller) => {
                    assert!(!denied, "{what}")
                }
                Access::Signed(_)
                    if matches!(caller, Caller::BankClient | Caller::IntegratorClient) =>
                {
                    assert_eq!(code, Some("forbidden"), "{what}")
                }
                Access::Signed(_) => assert_eq!(code, Some("invalid_signature"), "{what}"),
                Access::SignedIn(allowed) if allowed.contains(&caller) => {
                    assert!(!denied, "{what}")
                }
                Access::SignedIn(_)
                    if matches!(
                        caller,
                        Caller::Anonymous | Caller::BankClient | Caller::IntegratorClient
                    ) =>
                {
                    assert_eq!(code, Some("unauthenticated"), "{what}")
                }
                Access::SignedIn(_) => assert_eq!(code, Some("forbidden"), "{what}"),
            }
        }
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

#[tokio::test]
async fn page_sessions_need_csrf_tokens_and_regulators_time_out_after_thirty_idle_minutes() {
    let s = Server::start(5).await;
    let no_redirects = no_redirects();
    let url = |p: &str| format!("{}{p}", s.base);

    // The sign-in form sets a double-submit token.
    let form = no_redirects.get(url("/login")).send().await.unwrap();
    let (login_csrf, _) = set_cookie(&form, "xw_login_csrf").expect("a CSRF cookie");
    assert_eq!(hidden_csrf(&form.text().await.unwrap()), login_csrf);
    let fields = |csrf: &str, user: &str, totp: &str| {
        vec![
            ("csrf", csrf.to_owned()),
            ("username", user.to_owned()),
            ("password", app::demo::DEMO_PASSWORD.to_owned()),
            ("totp", totp.to_owned()),
        ]
    };
    let without_token = no_redirects
        .post(url("/login"))
        .form(&fields("", "inst.admin", ""))
        .send()
        .await
        .unwrap();
    assert_eq!(
        without_token.status(),
        403,
        "a POST without a CSRF token is refused"
    );
    assert!(
        without_token
            .text()
            .await
            .unwrap()
            .contains("页面已过期或来源不明")
    );
    let forged = no_redirects
        .post(url("/login"))
        .header("cookie", "xw_login_csrf=abc")
        .form(&fields("xyz", "inst.admin", ""))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);

    let signed_in = no_redirects
        .post(url("/login"))
        .header("cookie", format!("xw_login_csrf={login_csrf}"))
        .form(&fields(&login_csrf, "inst.admin", ""))
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), 303);
    assert_eq!(
        signed_in.headers()["location"],
        "/institution/filing",
        "an institution admin lands on its filing"
    );
    let (session, raw) = set_cookie(&signed_in, "xw_session").expect("a session cookie");
    assert!(
        raw.contains("HttpOnly") && raw.contains("SameSite=Lax"),
        "{raw}"
    );
    let session_cookie = format!("xw_session={session}");
    let account = no_redirects
        .get(url("/account"))
        .header("cookie", &session_cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(account.status(), 200);
    let page = account.text().await.unwrap();
    assert!(page.contains("机构管理员"));
    let csrf = hidden_csrf(&page);

    // Signing out is a state change: it needs the session's token.
    let bare = no_redirects
        .post(url("/logout"))
        .header("cookie", &session_cookie)
        .form(&[("csrf", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(bare.status(), 403);
    let out = no_redirects
        .post(url("/logout"))
        .header("cookie", &session_cookie)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 303);
    let after = no_redirects
        .get(url("/account"))
        .header("cookie", &session_cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(
        (
            after.status().as_u16(),
            after.headers()["location"].to_str().unwrap()
        ),
        (303, "/login")
    );

    // A regulator's session ends after 30 idle minutes; a staff session does not.
    let sign_in = |user: &'static str, totp: String| {
        let client = no_redirects.clone();
        let login = url("/login");
        async move {
            let form = client.get(&login).send().await.unwrap();
            let (csrf, _) = set_cookie(&form, "xw_login_csrf").unwrap();
            let fields = vec![
                ("csrf", csrf.clone()),
                ("username", user.to_owned()),
                ("password", app::demo::DEMO_PASSWORD.to_owned()),
                ("totp", totp),
            ];
            let r = client
                .post(&login)
                .header("cookie", format!("xw_login_csrf={csrf}"))
                .form(&fields)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 303, "{user} signs in");
            format!("xw_session={}", set_cookie(&r, "xw_session").unwrap().0)
        }
    };
    let totp = totp_now(&s.t, app::demo::DEMO_TOTP_SECRET);
    let regulator = sign_in("haidian.reviewer", totp).await;
    let staff = sign_in("inst.teacher", String::new()).await;
    s.t.clock.advance_millis(29 * 60_000);
    assert_eq!(
        no_redirects
            .get(url("/account"))
            .header("cookie", &regulator)
            .send()
            .await
            .unwrap()
            .status(),
        200,
        "activity restarts the idle clock"
    );
    s.t.clock.advance_millis(31 * 60_000);
    assert_eq!(
        no_redirects
            .get(url("/account"))
            .header("cookie", &regulator)
            .send()
            .await
            .unwrap()
            .status(),
        303,
        "30 idle minutes end it"
    );
    assert_eq!(
        no_redirects
            .get(url("/account"))
            .header("cookie", &staff)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

#[tokio::test]
async fn a_parent_signs_in_on_the_website_and_sees_their_children_masked() {
    let s = Server::start(5).await;
    let no_redirects = no_redirects();
    let url = |p: &str| format!("{}{p}", s.base);
    let phone = app::demo::DEMO_PARENT_PHONE;

    let form = no_redirects.get(url("/login/parent")).send().await.unwrap();
    let (csrf, _) = set_cookie(&form, "xw_login_csrf").unwrap();
    let login_cookie = format!("xw_login_csrf={csrf}");
    let bad = no_redirects
        .post(url("/login/parent/code"))
        .header("cookie", &login_cookie)
        .form(&[("csrf", csrf.as_str()), ("phone", "123")])
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    assert!(bad.text().await.unwrap().contains("手机号格式不正确"));
    let sent = no_redirects
        .post(url("/login/parent/code"))
        .header("cookie", &login_cookie)
        .form(&[("csrf", csrf.as_str()), ("phone", phone)])
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status(), 200);
    assert!(sent.text().await.unwrap().contains(r#"id="code-sent""#));
    let message = s.t.sms.last_to(phone).unwrap();
    let code: String = message
        .split("验证码 ")
        .nth(1)
        .unwrap()
        .chars()
        .take(6)
        .collect();
    let no_token = no_redirects
        .post(url("/login/parent"))
        .form(&[("csrf", ""), ("phone", phone), ("code", code.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(no_token.status(), 403);
    let signed_in = no_redirects
        .post(url("/login/parent"))
        .header("cookie", &login_cookie)
        .form(&[
            ("csrf", csrf.as_str()),
            ("phone", phone),
            ("code", code.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), 303);
    assert_eq!(signed_in.headers()["location"], "/children");
    let session = format!(
        "xw_session={}",
        set_cookie(&signed_in, "xw_session").unwrap().0
    );

    let page = no_redirects
        .get(url("/children"))
        .header("cookie", &session)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("王*明") && page.contains("王*红"),
        "the demo children, masked"
    );
    assert!(
        !page.contains("王小明") && !page.contains("11010820150301001X"),
        "never in plain text"
    );
    let page_csrf = hidden_csrf(&page);
    let child = |csrf: &str, id_card: &str| {
        vec![
            ("csrf", csrf.to_owned()),
            ("name", "钱小多".to_owned()),
            ("gender", "male".to_owned()),
            ("id_card", id_card.to_owned()),
            ("school", "一小".to_owned()),
            ("grade", "一年级".to_owned()),
        ]
    };
    let forged = no_redirects
        .post(url("/children"))
        .header("cookie", &session)
        .form(&child("forged", "11010820150301001X"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        forged.status(),
        403,
        "adding a child needs the session's CSRF token"
    );
    let bad_id = no_redirects
        .post(url("/children"))
        .header("cookie", &session)
        .form(&child(&page_csrf, "110108201503010011"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad_id.status(), 400);
    assert!(bad_id.text().await.unwrap().contains("身份证号码不正确"));
    let twice = no_redirects
        .post(url("/children"))
        .header("cookie", &session)
        .form(&child(&page_csrf, "11010820150301001X"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        twice.status(),
        409,
        "a child already linked (same ID number) cannot be linked again"
    );
    let added = no_redirects
        .post(url("/children"))
        .header("cookie", &session)
        .form(&child(&page_csrf, "11010820160101003X"))
        .send()
        .await
        .unwrap();
    assert_eq!(added.status(), 303);
    let page = no_redirects
        .get(url("/children"))
        .header("cookie", &session)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("钱*多"));
    assert_eq!(
        no_redirects
            .get(url("/children"))
            .send()
            .await
            .unwrap()
            .status(),
        303,
        "signed out: to the sign-in page"
    );
}

#[tokio::test]
async fn a_system_administrator_creates_regulators_only_inside_its_region() {
    let s = Server::start(3).await;
    let admin = regulator_token(&s, "beijing.admin").await;
    let create = |region: &str, username: &str, token: &str| {
        let body = serde_json::json!({"username": username, "display_name": "新审核员", "password": "a long password 1", "region_code": region, "role": "reviewer"});
        s.client
            .post(format!("{}/api/v1/admin/regulators", s.base))
            .bearer_auth(token.to_owned())
            .json(&body)
            .send()
    };
    let created = create("110108", "haidian.reviewer2", &admin).await.unwrap();
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.unwrap();
    let uri = created["totp_enrolment_uri"].as_str().unwrap();
    let secret_b32 = uri
        .split("secret=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap();
    let secret = data_encoding::BASE32_NOPAD
        .decode(secret_b32.as_bytes())
        .unwrap();

    let shanghai = create("310104", "xuhui.reviewer", &admin).await.unwrap();
    assert_eq!(
        shanghai.status(),
        403,
        "Beijing's administrator cannot create a Shanghai account"
    );
    assert_eq!(
        create("110108", "haidian.reviewer2", &admin)
            .await
            .unwrap()
            .status(),
        409,
        "usernames are unique"
    );
    let reviewer = regulator_token(&s, "haidian.reviewer").await;
    assert_eq!(
        create("110108", "someone.else", &reviewer)
            .await
            .unwrap()
            .status(),
        403,
        "only the system administrator"
    );

    // The new regulator signs in with the enrolled secret, replacing the temporary password.
    s.t.clock.advance_millis(30_000);
    let code = totp_now(&s.t, &secret);
    let sign_in = |body: Value| {
        s.client
            .post(format!("{}/api/v1/auth/login", s.base))
            .json(&body)
            .send()
    };
    let body = serde_json::json!({"username": "haidian.reviewer2", "password": "a long password 1", "totp": code});
    let refused = sign_in(body).await.unwrap();
    assert_eq!(refused.status(), 403);
    assert_eq!(
        refused.json::<Value>().await.unwrap()["code"],
        "password_change_required"
    );
    let body = serde_json::json!({"username": "haidian.reviewer2", "password": "a long password 1", "totp": code, "new_password": "my own passphrase"});
    let signed_in = sign_in(body).await.unwrap();
    assert_eq!(signed_in.status(), 200);
    assert_eq!(
        signed_in.json::<Value>().await.unwrap()["actor"]["region_code"],
        "110108"
    );
}

#[tokio::test]
async fn one_address_gets_sixty_sign_in_attempts_a_minute() {
    let s = Server::start(0).await;
    let attempt = || {
        s.client
            .post(format!("{}/api/v1/auth/sms-code", s.base))
            .json(&serde_json::json!({"phone": "1"}))
            .send()
    };
    for i in 0..60 {
        let r = attempt().await.unwrap();
        assert_eq!(
            r.json::<Value>().await.unwrap()["code"],
            "invalid_phone",
            "attempt {i} reaches the application"
        );
    }
    let refused = attempt().await.unwrap();
    assert_eq!(refused.status(), 429);
    assert_eq!(
        refused.json::<Value>().await.unwrap()["code"],
        "too_many_requests"
    );
    // Other requests from the same address are not throttled.
    assert_eq!(s.get("/api/v1/public/regions").await.status(), 200);
}

#[tokio::test]
async fn every_page_enforces_its_rule_for_every_kind_of_caller() {
    use web::access::{Access, Caller};
    use web::routes::page_routes;
    let s = Server::start(2400).await;
    let samples = Samples::of(&s).await;
    let no_redirects = no_redirects();
    // A browser session (cookie and CSRF token) for every kind of account.
    let mut sessions = Vec::new();
    for caller in CALLERS {
        if let Some(sign_in) = demo_sign_in(&s, caller).await {
            let new = s.t.app.start_session(&sign_in).await.unwrap();
            let csrf = s.t.app.session(&new.token).await.unwrap().csrf;
            sessions.push((caller, format!("xw_session={}", new.token), csrf));
        }
    }
    let mut routes = page_routes();
    // Signing out ends the session: check it last.
    routes.sort_by_key(|r| r.path == "/logout");
    for route in &routes {
        for caller in CALLERS
            .into_iter()
            .filter(|c| !matches!(c, Caller::BankClient | Caller::IntegratorClient))
        {
            let path = samples.path(&route.path, caller);
            let session = sessions.iter().find(|(c, _, _)| *c == caller);
            let mut form = vec![
                (
                    "csrf",
                    session.map(|(_, _, csrf)| csrf.clone()).unwrap_or_default(),
                ),
                ("reason", "权限测试".to_owned()),
            ];
            if route.path.ends_with("/reveal") {
                form.push(("field", "name".to_owned()));
            }
            let mut request =
                no_redirects.request(route.method.clone(), format!("{}{path}", s.base));
            if route.method == reqwest::Method::POST {
                request = request.form(&form);
            }
            if let Some((_, cookie, _)) = session {
                request = request.header("cookie", cookie);
            }
            let response = request.send().await.unwrap();
            let status = response.status();
            let location = response
                .headers()
                .get("location")
                .map(|l| l.to_str().unwrap().to_owned());
            // A live stream never ends: its status and headers say enough.
            let streaming = response
                .headers()
                .get("content-type")
                .is_some_and(|t| t.as_bytes().starts_with(b"text/event-stream"));
            let page = if streaming {
                String::new()
            } else {
                response.text().await.unwrap_or_default()
            };
            let to_sign_in = status == 303 && location.as_deref() == Some("/login");
            let forbidden = status == 403 && page.contains("无权执行此操作");
            let what = format!(
                "{} {} as {caller:?}: {status} {location:?}",
                route.method, route.path
            );
            assert!(status.as_u16() < 500, "{what}");
            match route.access {
                Access::Public | Access::Signed(_) => assert!(!to_sign_in && !forbidden, "{what}"),
                Access::SignedIn(allowed) if allowed.contains(&caller) => {
                    assert!(!to_sign_in && !forbidden, "{what}")
                }
                Access::SignedIn(_) if caller == Caller::Anonymous => assert!(to_sign_in, "{what}"),
                Access::SignedIn(_) => assert!(forbidden, "{what}"),
            }
        }
    }
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

#[tokio::test]
async fn on_the_website_too_haidian_cannot_open_a_chaoyang_institution_and_beijing_can() {
    let s = Server::start(2400).await;
    let haidian_institution = first_in(&s, "110108").await;
    let chaoyang_institution = first_in(&s, "110105").await;
    let (haidian, home) = page_sign_in(&s, "haidian.reviewer").await;
    assert_eq!(home, "/regulator", "regulators land on their console");

    // The console lists exactly the Haidian institutions.
    let (_, in_haidian) = s
        .json("/api/v1/public/institutions?region=110108&per_page=1")
        .await;
    let (status, console) = page_as(&s, &haidian, "/regulator").await;
    assert_eq!(status, 200);
    assert!(
        console.contains(&format!("本辖区共 <b>{}</b> 家机构", in_haidian["total"])),
        "{console}"
    );
    assert!(console.contains(&format!("/regulator/institutions/{haidian_institution}")));
    let (status, page) = page_as(&s, &haidian, "/regulator?region=110105").await;
    assert_eq!(status, 403, "no searching outside the region");
    assert!(page.contains("无权执行此操作"));

    let (status, page) = page_as(
        &s,
        &haidian,
        &format!("/regulator/institutions/{haidian_institution}"),
    )
    .await;
    assert_eq!(status, 200);
    assert!(page.contains("institution.registered"));
    let (status, page) = page_as(
        &s,
        &haidian,
        &format!("/regulator/institutions/{chaoyang_institution}"),
    )
    .await;
    assert_eq!(status, 403, "Haidian cannot open a Chaoyang institution");
    assert!(page.contains("无权执行此操作") && !page.contains("audit-trail"));

    let (beijing, _) = page_sign_in(&s, "beijing.supervisor").await;
    let (status, page) = page_as(
        &s,
        &beijing,
        &format!("/regulator/institutions/{chaoyang_institution}"),
    )
    .await;
    assert_eq!(status, 200, "Beijing covers Chaoyang");
    assert!(page.contains("audit-trail"));
}

#[tokio::test]
async fn an_administrator_manages_accounts_on_the_website_within_its_region() {
    let s = Server::start(3).await;
    let (admin, home) = page_sign_in(&s, "beijing.admin").await;
    assert_eq!(home, "/admin/accounts");
    let (status, page) = page_as(&s, &admin, "/admin/accounts").await;
    assert_eq!(status, 200);
    assert!(page.contains(r#"data-username="haidian.reviewer""#));
    assert!(
        !page.contains(r#"data-username="moe.supervisor""#),
        "the national level is above Beijing's administrator"
    );
    let csrf = hidden_csrf(&page);
    let create = |region: &str, username: &str, csrf: &str| {
        s.client
            .post(format!("{}/admin/accounts", s.base))
            .header("cookie", &admin)
            .form(&[
                ("csrf", csrf),
                ("username", username),
                ("display_name", "新审核员"),
                ("password", "a temporary pass"),
                ("region_code", region),
                ("role", "reviewer"),
            ])
            .send()
    };
    let created = create("110108", "haidian.new", &csrf).await.unwrap();
    assert_eq!(created.status(), 201);
    let page = created.text().await.unwrap();
    assert!(
        page.contains("otpauth://totp/"),
        "the enrolment is shown once"
    );
    assert!(page.contains(r#"data-username="haidian.new""#));
    let secret_b32 = page
        .split("secret=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap();
    let secret = data_encoding::BASE32_NOPAD
        .decode(secret_b32.as_bytes())
        .unwrap();

    // The new regulator's first sign-in on the website asks for a new password, then lets it in.
    let browser = no_redirects();
    let form = browser
        .get(format!("{}/login", s.base))
        .send()
        .await
        .unwrap();
    let (login_csrf, _) = set_cookie(&form, "xw_login_csrf").unwrap();
    s.t.clock.advance_millis(30_000);
    let code = totp_now(&s.t, &secret);
    let attempt = |new_password: &'static str| {
        browser
            .post(format!("{}/login", s.base))
            .header("cookie", format!("xw_login_csrf={login_csrf}"))
            .form(&[
                ("csrf", login_csrf.as_str()),
                ("username", "haidian.new"),
                ("password", "a temporary pass"),
                ("totp", code.as_str()),
                ("new_password", new_password),
            ])
            .send()
    };
    let asked = attempt("").await.unwrap();
    assert_eq!(asked.status(), 403);
    let page = asked.text().await.unwrap();
    assert!(page.contains("首次登录请先修改初始密码") && page.contains(r#"id="new-password""#));
    let let_in = attempt("my own passphrase").await.unwrap();
    assert_eq!(let_in.status(), 303);
    assert_eq!(let_in.headers()["location"], "/regulator");
    let outside = create("310104", "xuhui.new", &csrf).await.unwrap();
    assert_eq!(outside.status(), 403, "Shanghai is outside Beijing");
    let forged = create("110108", "haidian.forged", "not-the-token")
        .await
        .unwrap();
    assert_eq!(
        forged.status(),
        403,
        "a POST without the session's CSRF token is refused"
    );
    assert!(
        forged
            .text()
            .await
            .unwrap()
            .contains("页面已过期或来源不明")
    );

    // Disable with a reason: the row says so.
    let mut tx = s.t.app.store().begin_write().await.unwrap();
    let id = tx
        .account_by_username("haidian.new")
        .await
        .unwrap()
        .unwrap()
        .id;
    drop(tx);
    let disabled = s
        .client
        .post(format!("{}/admin/accounts/{id}/disable", s.base))
        .header("cookie", &admin)
        .form(&[("csrf", csrf.as_str()), ("reason", "人员调离")])
        .send()
        .await
        .unwrap();
    assert_eq!(disabled.status(), 200, "redirected back to the list");
    let page = disabled.text().await.unwrap();
    let row = page.split(r#"data-username="haidian.new""#).nth(1).unwrap();
    assert!(row.split("</tr>").next().unwrap().contains("已停用"));
}

#[tokio::test]
async fn a_parent_reveals_a_childs_id_number_on_the_website_with_a_reason() {
    let s = Server::start(3).await;
    let sign_in = demo_sign_in(&s, web::access::Caller::Parent).await.unwrap();
    let session = s.t.app.start_session(&sign_in).await.unwrap();
    let cookie = format!("xw_session={}", session.token);
    let (status, page) = page_as(&s, &cookie, "/children").await;
    assert_eq!(status, 200);
    let csrf = hidden_csrf(&page);
    let action = page.split(r#"action="/children/"#).nth(1).unwrap();
    let child_id = action.split('/').next().unwrap();
    let reveal = |reason: &str| {
        s.client
            .post(format!("{}/children/{child_id}/reveal", s.base))
            .header("cookie", &cookie)
            .form(&[
                ("csrf", csrf.as_str()),
                ("field", "id_card"),
                ("reason", reason),
            ])
            .send()
    };
    let no_reason = reveal(" ").await.unwrap();
    assert_eq!(no_reason.status(), 400);
    assert!(!no_reason.text().await.unwrap().contains(r#"id="revealed""#));
    let shown = reveal("核对报名表").await.unwrap();
    assert_eq!(shown.status(), 200);
    let page = shown.text().await.unwrap();
    let revealed = page.split(r#"id="revealed">"#).nth(1).unwrap();
    assert_eq!(
        revealed.split('<').next().unwrap().len(),
        18,
        "the whole ID-card number"
    );
    let log = s.t.app.store().read().pii_access_log(10).await.unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(
        (log[0].reason.as_str(), log[0].field.as_str()),
        ("核对报名表", "child.id_card")
    );
    assert!(log[0].actor.starts_with("parent:"));
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_quota() {
    let t = TestApp::empty().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let config = web::WebConfig {
        sign_in_per_minute: 3,
        trusted_proxies: vec!["127.0.0.1".parse().unwrap()],
        ..web::WebConfig::default()
    };
    let router = web::router_with(t.app.clone(), &config)
        .into_make_service_with_connect_info::<std::net::SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let client = reqwest::Client::new();
    let attempt = |forwarded: &'static str| {
        client
            .post(format!("{base}/login/regulator"))
            .header("x-forwarded-for", forwarded)
            .form(&[("csrf", "")])
            .send()
    };
    // A client cannot escape its quota by prepending addresses: the proxy's own entry is the last one.
    for forged in ["1.1.1.1, 10.0.0.1", "2.2.2.2, 10.0.0.1", "10.0.0.1"] {
        assert_eq!(
            attempt(forged).await.unwrap().status(),
            403,
            "CSRF, not the limit"
        );
    }
    assert_eq!(attempt("3.3.3.3, 10.0.0.1").await.unwrap().status(), 429);
    assert_eq!(
        attempt("10.0.0.2").await.unwrap().status(),
        403,
        "another client behind the same proxy has its own quota"
    );
}

/// `POST /test/clock` exists only where the deployment asked for it, and moves the clock past the close of
/// the named working days; by default the path is unknown.
#[tokio::test]
async fn the_test_clock_moves_only_in_a_test_deployment() {
    let t = TestApp::empty().await;
    let serve = |test_clock: bool| {
        let app = t.app.clone();
        async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let base = format!("http://{}", listener.local_addr().unwrap());
            let config = web::WebConfig {
                test_clock,
                ..web::WebConfig::default()
            };
            let router = web::router_with(app, &config)
                .into_make_service_with_connect_info::<std::net::SocketAddr>();
            tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
            base
        }
    };
    let client = reqwest::Client::new();
    let production = serve(false).await;
    let res = client
        .post(format!("{production}/test/clock"))
        .json(&serde_json::json!({"working_days": 5}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);

    let before = t.app.clock().now();
    let testing = serve(true).await;
    let res = client
        .post(format!("{testing}/test/clock"))
        .json(&serde_json::json!({"working_days": 5}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let moved = res.json::<serde_json::Value>().await.unwrap()["moved_ms"]
        .as_i64()
        .unwrap();
    let after = t.app.clock().now();
    assert_eq!(after.millis() - before.millis(), moved);
    assert!(
        moved >= 5 * 86_400_000,
        "five working days are at least five days"
    );
    let res = client
        .post(format!("{testing}/test/clock"))
        .json(&serde_json::json!({"working_days": 0, "hours": 0}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400, "the clock only moves forward");
    assert_eq!(t.app.clock().now(), after);
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
async fn sign_in_codes_go_through_the_http_sms_gateway() {
    use app::parents::HttpSmsSender;
    let (url, received) = sms_gateway(200).await;
    let t = TestApp::empty().await;
    let sender = HttpSmsSender::new(&url, "gateway-key-1").unwrap();
    let app = t.app.clone().with_sms(std::sync::Arc::new(sender));
    app.request_login_code("13900000002").await.unwrap();
    let sent = received.lock().unwrap().clone();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].0, "Bearer gateway-key-1");
    assert_eq!(sent[0].1["phone"], "13900000002");
    let text = sent[0].1["text"].as_str().unwrap();
    let code: String = text
        .split("验证码 ")
        .nth(1)
        .unwrap()
        .chars()
        .take(6)
        .collect();
    let pair = app
        .login_with_code(&app::parents::PhoneLogin {
            phone: "13900000002".into(),
            code,
        })
        .await
        .unwrap();
    assert_eq!(pair.actor.kind, "parent");

    // A gateway that refuses: the parent gets `unavailable` and may ask again at once.
    let (url, _) = sms_gateway(500).await;
    let failing = t
        .app
        .clone()
        .with_sms(std::sync::Arc::new(HttpSmsSender::new(&url, "k").unwrap()));
    for _ in 0..2 {
        assert_eq!(
            failing
                .request_login_code("13900000003")
                .await
                .unwrap_err()
                .code,
            app::ErrorCode::Unavailable
        );
    }
    assert!(HttpSmsSender::new("ftp://example.org", "k").is_err());
    assert!(HttpSmsSender::new(&url, " ").is_err());
}

#[tokio::test]
async fn the_security_and_audit_administrators_each_have_their_page_and_nothing_else() {
    let s = Server::start(3).await;
    let (security, home) = page_sign_in(&s, "moe.security").await;
    assert_eq!(home, "/admin/security");
    let (status, page) = page_as(&s, &security, "/admin/security").await;
    assert_eq!(status, 200);
    assert!(page.contains(r#"id="policy-version">0<"#));
    let csrf = hidden_csrf(&page);
    let save = |max_failures: &str| {
        s.client
            .post(format!("{}/admin/security", s.base))
            .header("cookie", &security)
            .form(&[
                ("csrf", csrf.as_str()),
                ("max_failures", max_failures),
                ("lockout_minutes", "30"),
                ("privileged_idle_minutes", "15"),
                ("idle_minutes", "60"),
                ("session_hours", "8"),
                ("reason", "等保测评整改"),
            ])
            .send()
    };
    let refused = save("50").await.unwrap();
    assert_eq!(refused.status(), 400);
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("max_failures must be between 3 and 10")
    );
    let saved = save("4").await.unwrap();
    assert_eq!(saved.status(), 200);
    let page = saved.text().await.unwrap();
    assert!(page.contains("安全策略已更新") && page.contains(r#"id="policy-version">1<"#));
    // The new idle timeout applies to sessions started from now on.
    let (auditor, home) = page_sign_in(&s, "beijing.auditor").await;
    assert_eq!(home, "/audit");
    s.t.clock.advance_millis(16 * 60_000);
    let r = no_redirects()
        .get(format!("{}/audit", s.base))
        .header("cookie", &auditor)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        303,
        "15 idle minutes end a regulator's session under the new policy"
    );

    let (auditor, _) = page_sign_in(&s, "beijing.auditor").await;
    let (status, page) = page_as(&s, &auditor, "/audit").await;
    assert_eq!(status, 200);
    assert!(
        page.contains("auth.signed_in"),
        "Beijing's own regulators' sign-ins"
    );
    assert!(
        !page.contains("security_policy.changed"),
        "a national change is not Beijing's to read"
    );
    let (status, _) = page_as(&s, &auditor, "/admin/security").await;
    assert_eq!(
        status, 403,
        "the audit administrator cannot manage policies"
    );
    let (status, _) = page_as(&s, &security, "/audit").await;
    assert_eq!(
        status, 403,
        "the security administrator cannot read the audit log"
    );
}

#[tokio::test]
async fn a_white_listed_institution_prints_its_plate_and_a_scan_verifies_it() {
    let s = Server::start(30).await;
    let sign_in = demo_sign_in(&s, web::access::Caller::StaffAdmin)
        .await
        .unwrap();
    let session = s.t.app.start_session(&sign_in).await.unwrap();
    let own = session.actor.institution_id.clone().unwrap();
    let cookie = format!("xw_session={}", session.token);
    let (status, page) = page_as(&s, &cookie, &format!("/institutions/{own}/plate")).await;
    assert_eq!(status, 200);
    assert!(page.contains("<svg"), "the QR code is inline SVG");
    let url = page
        .split(r#"id="plate-url">"#)
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap();
    assert!(url.starts_with(&format!("{}/verify/", s.base)), "{url}");
    let token = url.rsplit('/').next().unwrap().to_owned();

    let (status, check) = s.json(&format!("/api/v1/public/verify/{token}")).await;
    assert_eq!(status, 200);
    assert_eq!(
        (check["verdict"].as_str(), check["genuine"].as_bool()),
        (Some("valid"), Some(true))
    );
    assert_eq!(check["institution"]["id"], own);
    let (_, page) = s.html(&format!("/verify/{token}")).await;
    assert!(page.contains(r#"data-verdict="valid""#) && page.contains("真实有效"));

    // One character changed anywhere: invalid.
    let mut altered = token.clone().into_bytes();
    altered[30] = if altered[30] == b'A' { b'B' } else { b'A' };
    let altered = String::from_utf8(altered).unwrap();
    let (status, check) = s.json(&format!("/api/v1/public/verify/{altered}")).await;
    assert_eq!(status, 200);
    assert_eq!(
        (check["verdict"].as_str(), check["genuine"].as_bool()),
        (Some("invalid"), Some(false))
    );
    let (_, page) = s.html(&format!("/verify/{altered}")).await;
    assert!(page.contains("无效码牌"));

    // Someone else's institution: no plate to print.
    let (_, all) = s
        .json("/api/v1/public/institutions?list=white&per_page=5")
        .await;
    let other = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .find(|id| *id != own)
        .unwrap();
    let (status, _) = page_as(&s, &cookie, &format!("/institutions/{other}/plate")).await;
    assert_eq!(status, 403);
    let (_, key) = s.json("/api/v1/public/plate-key").await;
    assert_eq!(key["algorithm"], "SM2");
    assert_eq!(
        key["public_key"].as_str().unwrap().len(),
        130,
        "65 bytes, hex"
    );
}

#[tokio::test]
async fn black_listing_turns_a_plate_red_and_removal_revokes_it() {
    let s = Server::start(2400).await;
    let institution = first_in(&s, "110108").await;
    let plate_token = |s: &Server, id: String| {
        let store = s.t.app.store().clone();
        async move {
            let plates = store.read().plates_of(&id).await.unwrap();
            plates.first().map(|p| p.token.clone())
        }
    };
    // The first Haidian institution in the demo may be grey; take a white one with a plate.
    let (_, white) = s
        .json("/api/v1/public/institutions?region=110108&list=white&per_page=1")
        .await;
    let institution = white["items"][0]["id"]
        .as_str()
        .map(str::to_owned)
        .unwrap_or(institution);
    let token = plate_token(&s, institution.clone())
        .await
        .expect("white-listed: a plate");
    let verdict = |s: &Server, token: String| {
        let base = s.base.clone();
        let client = s.client.clone();
        async move {
            let v: Value = client
                .get(format!("{base}/api/v1/public/verify/{token}"))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            (
                v["verdict"].as_str().unwrap().to_owned(),
                v["plate_status"].clone(),
            )
        }
    };
    assert_eq!(verdict(&s, token.clone()).await.0, "valid");

    let haidian = regulator_token(&s, "haidian.supervisor").await;
    let chaoyang_institution = first_in(&s, "110105").await;
    let post = |path: String, token: &str, body: Value| {
        s.client
            .post(format!("{}{path}", s.base))
            .bearer_auth(token.to_owned())
            .json(&body)
            .send()
    };
    let outside = post(
        format!("/api/v1/regulator/institutions/{chaoyang_institution}/list"),
        &haidian,
        serde_json::json!({"to": "black", "reason": "无证经营"}),
    )
    .await
    .unwrap();
    assert_eq!(outside.status(), 403, "Haidian cannot act on Chaoyang");
    let to_white = post(
        format!("/api/v1/regulator/institutions/{institution}/list"),
        &haidian,
        serde_json::json!({"to": "white", "reason": "x"}),
    )
    .await
    .unwrap();
    assert_eq!(to_white.status(), 422);

    let black = post(
        format!("/api/v1/regulator/institutions/{institution}/list"),
        &haidian,
        serde_json::json!({"to": "black", "reason": "存在安全隐患"}),
    )
    .await
    .unwrap();
    assert_eq!(black.status(), 204);
    assert_eq!(
        verdict(&s, token.clone()).await.0,
        "warning",
        "black-listed: red"
    );
    let (_, detail) = s
        .json(&format!("/api/v1/public/institutions/{institution}"))
        .await;
    assert_eq!(
        detail["list_status"], "black",
        "the public record changed at once"
    );
    let (_, found) = s
        .json("/api/v1/public/institutions?list=black&region=110108&per_page=100")
        .await;
    assert!(
        found["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["id"] == institution.as_str()),
        "and so did search"
    );

    let removal = serde_json::json!({"reason": "停止办学", "decision_no": "海教监〔2026〕12号",
                                     "decided_on": "2026-11-20", "publish": true});
    let future = serde_json::json!({"reason": "停止办学", "decision_no": "海教监〔2026〕12号",
                                    "decided_on": "2099-01-01"});
    let path = format!("/api/v1/regulator/institutions/{institution}/removal");
    assert_eq!(
        post(path.clone(), &haidian, future).await.unwrap().status(),
        400
    );
    assert_eq!(
        post(path.clone(), &haidian, removal.clone())
            .await
            .unwrap()
            .status(),
        204
    );
    assert_eq!(
        post(path, &haidian, removal).await.unwrap().status(),
        409,
        "once"
    );
    let (v, plate_status) = verdict(&s, token).await;
    assert_eq!(
        (v.as_str(), plate_status.as_str()),
        ("warning", Some("revoked"))
    );
    let (_, page) = s.html("/notices").await;
    assert!(page.contains("关于撤除"), "the removal is published");

    // An unlicensed operator found in the field goes straight onto the black list, with or without a code.
    let finding = |region: &str| {
        serde_json::json!({"name": "无名数学补习班", "address": "海淀区某小区3号楼", "region_code": region,
                           "mode": "offline", "categories": ["subject"], "reason": "无办学许可证开展学科类培训"})
    };
    let outside = post(
        "/api/v1/regulator/unlicensed".into(),
        &haidian,
        finding("110105"),
    )
    .await
    .unwrap();
    assert_eq!(outside.status(), 403, "Haidian records only in Haidian");
    let recorded = post(
        "/api/v1/regulator/unlicensed".into(),
        &haidian,
        finding("110108"),
    )
    .await
    .unwrap();
    assert_eq!(recorded.status(), 201);
    let id: String = recorded.json().await.unwrap();
    let (status, detail) = s.json(&format!("/api/v1/public/institutions/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(detail["list_status"], "black");
    assert!(detail["credit_code"].is_null(), "no code was known");
    assert!(
        detail["list_reason"]
            .as_str()
            .unwrap()
            .starts_with("无证经营")
    );
}

#[tokio::test]
async fn onboarding_over_the_api_from_sign_up_to_the_public_record() {
    let s = Server::start(3).await;
    let url = |p: &str| format!("{}{p}", s.base);
    let credit_code = domain::credit_code::CreditCode::complete("52", "110108", "MJ000077")
        .unwrap()
        .as_str()
        .to_owned();
    let mut form = serde_json::json!({"name": "海淀弈秋围棋培训中心", "credit_code": "91110108MA0000000X",
        "mode": "offline", "region_code": "110108", "address": "北京市海淀区中关村大街1号", "categories": ["arts"],
        "admin_username": "yiqiu.admin", "admin_display_name": "李校长", "admin_password": "yiqiu passphrase"});
    let bad = s
        .client
        .post(url("/api/v1/institutions/sign-up"))
        .json(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    assert_eq!(
        bad.json::<Value>().await.unwrap()["code"],
        "invalid_credit_code"
    );
    form["credit_code"] = credit_code.into();
    let signed_up = s
        .client
        .post(url("/api/v1/institutions/sign-up"))
        .json(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(signed_up.status(), 201);
    let institution = signed_up.json::<Value>().await.unwrap()["institution_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let admin: Value = s
        .client
        .post(url("/api/v1/auth/login"))
        .json(&serde_json::json!({"username": "yiqiu.admin", "password": "yiqiu passphrase"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let admin = admin["access_token"].as_str().unwrap().to_owned();
    let upload = |kind: &str, name: &str, bytes: Vec<u8>| {
        s.client
            .post(url(&format!(
                "/api/v1/institution/documents?kind={kind}&filename={name}"
            )))
            .bearer_auth(&admin)
            .body(bytes)
            .send()
    };
    let exe = upload("licence", "licence.pdf", b"MZ\x90\x00 not a pdf".to_vec())
        .await
        .unwrap();
    assert_eq!(exe.status(), 415);
    assert_eq!(
        exe.json::<Value>().await.unwrap()["code"],
        "document_rejected"
    );
    let big = upload(
        "licence",
        "licence.pdf",
        [b"%PDF-1.4\n".as_slice(), &vec![b' '; 10 * 1024 * 1024]].concat(),
    )
    .await
    .unwrap();
    assert_eq!(big.status(), 413);
    assert_eq!(
        big.json::<Value>().await.unwrap()["code"],
        "document_too_large"
    );
    let pdf = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n".to_vec();
    let ok = upload("licence", "licence.pdf", pdf.clone()).await.unwrap();
    assert_eq!(ok.status(), 201);
    let doc_id = ok.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let filing = serde_json::json!({
        "basic": {"name": "海淀弈秋围棋培训中心", "legal_representative": "李明"},
        "licence": {"school_licence_no": "教民111010870077号", "school_licence_expires": "2029-12-31",
                    "legal_person_cert_no": "52110108MJ0000077", "legal_person_cert_expires": "2030-12-31"},
        "premises": {"address": "北京市海淀区中关村大街1号", "tenure": "owned", "health_cert_no": "海卫77",
                     "health_cert_expires": "2027-12-31", "fire_cert_no": "海消77", "fire_cert_expires": "2027-12-31"},
        "organisation": {"training_materials": "自编讲义", "staff": [{"name": "赵老师", "role": "teaching"}]},
        "courses": {"summary": "少儿围棋"}
    });
    let mut expired = filing.clone();
    expired["licence"]["school_licence_expires"] = "2025-12-31".into();
    let put = |body: Value| {
        s.client
            .put(url("/api/v1/institution/filing"))
            .bearer_auth(&admin)
            .json(&body)
            .send()
    };
    let refused = put(expired).await.unwrap();
    assert_eq!(refused.status(), 400);
    assert_eq!(
        refused.json::<Value>().await.unwrap()["code"],
        "certificate_expired"
    );
    assert_eq!(put(filing).await.unwrap().status(), 200);
    let submitted = s
        .client
        .post(url("/api/v1/institution/filing/submit"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(submitted.status(), 200);

    let reviewer = regulator_token(&s, "haidian.reviewer").await;
    let queue: Value = s
        .client
        .get(url("/api/v1/regulator/reviews"))
        .bearer_auth(&reviewer)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(queue["items"][0]["institution_id"], institution.as_str());
    let fetched = s
        .client
        .get(url(&format!("/api/v1/documents/{doc_id}")))
        .bearer_auth(&reviewer)
        .send()
        .await
        .unwrap();
    assert_eq!(fetched.status(), 200);
    assert_eq!(fetched.headers()["content-type"], "application/pdf");
    assert_eq!(
        fetched.bytes().await.unwrap().to_vec(),
        pdf,
        "the reviewer reads the licence"
    );
    let chaoyang = regulator_token(&s, "chaoyang.reviewer").await;
    let decide = |token: &str, body: Value| {
        s.client
            .post(url(&format!(
                "/api/v1/regulator/reviews/{institution}/decision"
            )))
            .bearer_auth(token.to_owned())
            .json(&body)
            .send()
    };
    let approve = serde_json::json!({"approve": true});
    assert_eq!(
        decide(&chaoyang, approve.clone()).await.unwrap().status(),
        403,
        "outside the region"
    );
    assert_eq!(
        s.get(&format!("/api/v1/public/institutions/{institution}"))
            .await
            .status(),
        404,
        "not public yet"
    );
    assert_eq!(decide(&reviewer, approve).await.unwrap().status(), 200);
    let (status, public) = s
        .json(&format!("/api/v1/public/institutions/{institution}"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        (public["name"].as_str(), public["list_status"].as_str()),
        (Some("海淀弈秋围棋培训中心"), Some("grey"))
    );

    // The supervised account: asked for by the institution, confirmed by its bank's system.
    let bind = s
        .client
        .post(url("/api/v1/institution/supervised-accounts"))
        .bearer_auth(&admin)
        .json(&serde_json::json!({"bank_id": "demo-bank", "account_no": "6222020200112233", "mode": "custody"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bind.status(), 201);
    let account = bind.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let confirm_path = format!("/api/v1/bank/supervised-accounts/{account}/confirm");
    let (other_key, other_secret) =
        s.t.app
            .create_api_client(&app::Actor::System { name: "test" }, "bank", "other-bank")
            .await
            .unwrap();
    let ts = s.t.app.clock().now().millis();
    let crypto = ledger::SmSuite;
    let canonical = app::signing::canonical_request(
        &crypto,
        "POST",
        &confirm_path,
        b"",
        ts,
        "other-bank-nonce-1",
    );
    let foreign = s
        .client
        .post(url(&confirm_path))
        .header("x-xiaowai-key", other_key)
        .header("x-xiaowai-timestamp", ts.to_string())
        .header("x-xiaowai-nonce", "other-bank-nonce-1")
        .header(
            "x-xiaowai-signature",
            app::signing::sign(&crypto, other_secret.as_bytes(), &canonical),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        foreign.status(),
        403,
        "only the account's own bank confirms it"
    );
    let confirmed = signed(
        &s,
        reqwest::Method::POST,
        &confirm_path,
        "",
        "demo-bank-confirm-0001",
    )
    .send()
    .await
    .unwrap();
    assert_eq!(confirmed.status(), 200);
    assert_eq!(
        confirmed.json::<Value>().await.unwrap()["status"],
        "confirmed"
    );
    let again = signed(
        &s,
        reqwest::Method::POST,
        &confirm_path,
        "",
        "demo-bank-confirm-0002",
    )
    .send()
    .await
    .unwrap();
    assert_eq!(again.status(), 409);
    let (_, public) = s
        .json(&format!("/api/v1/public/institutions/{institution}"))
        .await;
    assert_eq!(
        public["list_status"], "white",
        "approved and under fund supervision"
    );
    let plate =
        s.t.app
            .store()
            .read()
            .plates_of(&institution)
            .await
            .unwrap();
    assert_eq!(plate.len(), 1);
    let (_, check) = s
        .json(&format!("/api/v1/public/verify/{}", plate[0].token))
        .await;
    assert_eq!(check["verdict"], "valid");
}

#[tokio::test]
async fn staff_pages_refuse_a_blacklisted_hire_and_a_regulator_confirms_the_record_check() {
    let s = Server::start(30).await;
    // The national supervisor: the small demo's staff institution may lie anywhere.
    let (supervisor, _) = page_sign_in(&s, "moe.supervisor").await;
    let (_, console) = page_as(&s, &supervisor, "/regulator").await;
    let csrf = hidden_csrf(&console);
    let listed = s
        .client
        .post(format!("{}/regulator/practitioner-blacklist", s.base))
        .header("cookie", &supervisor)
        .form(&[
            ("csrf", csrf.as_str()),
            ("name", "赵某"),
            ("id_card", "110105198001010024"),
            ("reason", "体罚学生"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status(), 200, "back on the console");

    let sign_in = demo_sign_in(&s, web::access::Caller::StaffAdmin)
        .await
        .unwrap();
    let session = s.t.app.start_session(&sign_in).await.unwrap();
    let admin = s.t.app.session(&session.token).await.unwrap().actor;
    let check =
        s.t.app
            .upload_document(&admin, "record_check", "查询.pdf", b"%PDF-1.4\n%%EOF\n")
            .await
            .unwrap();
    let cookie = format!("xw_session={}", session.token);
    let (status, page) = page_as(&s, &cookie, "/institution/staff").await;
    assert_eq!(status, 200);
    assert!(
        page.contains(&check.id),
        "the filed record check can be cited"
    );
    let csrf = hidden_csrf(&page);
    let hire = |id_card: &str| {
        s.client
            .post(format!("{}/institution/staff", s.base))
            .header("cookie", &cookie)
            .form(&[
                ("csrf", csrf.as_str()),
                ("name", "赵某"),
                ("id_card", id_card),
                ("role", "teaching"),
                ("record_check_document", check.id.as_str()),
            ])
            .send()
    };
    let refused = hire("110105198001010024").await.unwrap();
    assert_eq!(refused.status(), 422);
    assert!(refused.text().await.unwrap().contains("从业人员黑名单"));
    let hired = hire("11010819900101001X").await.unwrap();
    assert_eq!(hired.status(), 201);
    assert!(hired.text().await.unwrap().contains("待确认"));

    let own = session.actor.institution_id.clone().unwrap();
    let (_, page) = page_as(&s, &supervisor, &format!("/regulator/institutions/{own}")).await;
    let form = page
        .split(r#"action="/regulator/staff-members/"#)
        .nth(1)
        .expect("a confirm button");
    let staff_id = form.split('/').next().unwrap();
    let csrf = hidden_csrf(&page);
    let confirmed = s
        .client
        .post(format!(
            "{}/regulator/staff-members/{staff_id}/record-check",
            s.base
        ))
        .header("cookie", &supervisor)
        .form(&[("csrf", csrf.as_str()), ("institution", own.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(confirmed.status(), 200);
    assert!(confirmed.text().await.unwrap().contains("入职查询已确认"));
}

#[tokio::test]
async fn a_course_breaking_a_policy_rule_is_refused_with_the_rule_and_its_numbers() {
    let s = Server::start(30).await;
    let url = |p: &str| format!("{}{p}", s.base);
    // National guidance price: 80 yuan per person per standard lesson, +10% at most.
    let moe = regulator_token(&s, "moe.supervisor").await;
    let policy = serde_json::json!({"policy": {"guidance_prices": {"online_fen": [8000, 8000, 8000],
        "offline_fen": [8000, 8000, 8000], "float_up_percent": 10}}, "reason": "政府指导价"});
    let set = s
        .client
        .put(url("/api/v1/regulator/policy"))
        .bearer_auth(&moe)
        .json(&policy)
        .send()
        .await
        .unwrap();
    assert_eq!(set.status(), 200);
    let (_, applies) = s.json("/api/v1/public/policy?region=110108").await;
    assert_eq!(applies["policy"]["guidance_prices"]["float_up_percent"], 10);

    let operator: Value = s
        .client
        .post(url("/api/v1/auth/login"))
        .json(
            &serde_json::json!({"username": "inst.operator", "password": app::demo::DEMO_PASSWORD}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let operator = operator["access_token"].as_str().unwrap().to_owned();
    let course = |mode: &str,
                  lessons: u32,
                  minutes: u32,
                  price: i64,
                  category: &str,
                  last: &str| {
        serde_json::json!({"name": "围棋提高班", "category": category, "mode": mode, "grades": "三至五年级",
            "lessons": lessons, "minutes_per_lesson": minutes, "class_size": 20, "price_per_lesson_fen": price,
            "first_lesson": "2027-03-01", "last_lesson": last})
    };
    let publish = |body: Value| {
        s.client
            .post(url("/api/v1/institution/courses"))
            .bearer_auth(&operator)
            .json(&body)
            .send()
    };
    for (body, says) in [
        (
            course("offline", 61, 45, 5_000, "arts", "2027-05-31"),
            "单次收费不得超过60课时，本课程为61课时",
        ),
        (
            course("offline", 1, 45, 500_100, "arts", "2027-05-31"),
            "单次收费不得超过5000元，本课程为5001元",
        ),
        (
            course("offline", 10, 45, 5_000, "arts", "2027-07-01"),
            "单次收费时间跨度不得超过3个月",
        ),
        (
            course("offline", 10, 45, 8_801, "subject", "2027-05-31"),
            "学科类课程收费不得超过政府指导价上浮上限（每人每课时88元），本课程为88.01元",
        ),
    ] {
        let refused = publish(body).await.unwrap();
        assert_eq!(refused.status(), 422);
        let problem: Value = refused.json().await.unwrap();
        assert_eq!(problem["code"], "policy_violation");
        assert!(
            problem["detail"].as_str().unwrap().contains(says),
            "{problem}"
        );
    }
    let ok = publish(course("offline", 20, 45, 8_800, "subject", "2027-05-31"))
        .await
        .unwrap();
    assert_eq!(ok.status(), 201, "at the ceiling exactly");
}

#[tokio::test]
async fn a_parent_orders_over_http_and_the_bank_pays_it_once_per_idempotency_key() {
    let s = Server::start(2400).await;
    let samples = Samples::of(&s).await;
    let Some(app::sessions::SignIn::Code(login)) =
        demo_sign_in(&s, web::access::Caller::Parent).await
    else {
        unreachable!("the parent signs in by SMS")
    };
    let token = s.t.app.login_with_code(&login).await.unwrap().access_token;
    let endpoint = r#"{"instruction_url":"http://127.0.0.1:9/instructions","checkout_url":"http://127.0.0.1:9/checkout"}"#;
    let set = signed(
        &s,
        reqwest::Method::PUT,
        "/api/v1/bank/endpoint",
        endpoint,
        "endpoint-nonce-0001",
    )
    .header("idempotency-key", "endpoint-1")
    .send()
    .await
    .unwrap();
    assert_eq!(set.status(), 200);
    let order: Value = s
        .client
        .get(format!("{}/api/v1/orders/{}", s.base, samples.order))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(order["status"], "awaiting_payment");
    let amount = order["amount_fen"].as_i64().unwrap();
    assert!(
        order["checkout_url"]
            .as_str()
            .unwrap()
            .starts_with("http://127.0.0.1:9/checkout?order_no=XW"),
        "{order}"
    );
    assert_eq!(order["contract"]["template"], "GF-2021-2604");

    let pay = |key: &'static str, nonce: &'static str, bank_ref: &str| {
        let body = serde_json::json!({
            "order_no": order["order_no"], "account_no": app::demo::DEMO_ACCOUNT_NO,
            "amount_fen": amount, "bank_ref": bank_ref, "paid_at": 1_795_654_800_000i64,
        })
        .to_string();
        let mut r = signed(
            &s,
            reqwest::Method::POST,
            "/api/v1/bank/payments",
            &body,
            nonce,
        );
        if !key.is_empty() {
            r = r.header("idempotency-key", key);
        }
        r.send()
    };
    let keyless = pay("", "payment-nonce-0000", "B-1").await.unwrap();
    assert_eq!(keyless.status(), 400);
    assert_eq!(
        keyless.json::<Value>().await.unwrap()["code"],
        "idempotency_key_required"
    );
    let first = pay("pay-1", "payment-nonce-0001", "B-1").await.unwrap();
    assert_eq!(first.status(), 200);
    let first: Value = first.json().await.unwrap();
    assert_eq!(
        (first["status"].as_str(), first["escrow_fen"].as_i64()),
        (Some("paid"), Some(amount))
    );
    let repeat = pay("pay-1", "payment-nonce-0002", "B-1").await.unwrap();
    assert_eq!(repeat.headers()["idempotent-replayed"], "true");
    assert_eq!(
        repeat.json::<Value>().await.unwrap(),
        first,
        "the first answer, again"
    );
    let reused = pay("pay-1", "payment-nonce-0003", "B-2").await.unwrap();
    assert_eq!(reused.status(), 422);
    assert_eq!(
        reused.json::<Value>().await.unwrap()["code"],
        "idempotency_key_reused"
    );
    let replayed_nonce = pay("pay-2", "payment-nonce-0001", "B-1").await.unwrap();
    assert_eq!(
        replayed_nonce.json::<Value>().await.unwrap()["code"],
        "replayed_request"
    );
    let tampered = signed(
        &s,
        reqwest::Method::POST,
        "/api/v1/bank/payments",
        "{}",
        "payment-nonce-0004",
    )
    .header("idempotency-key", "pay-3")
    .body(r#"{"order_no":"XW0"}"#)
    .send()
    .await
    .unwrap();
    assert_eq!(
        tampered.json::<Value>().await.unwrap()["code"],
        "invalid_signature"
    );

    let mine: Value = s
        .client
        .get(format!("{}/api/v1/parent/orders", s.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let line = mine
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["id"] == samples.order.as_str())
        .unwrap();
    assert_eq!(
        (line["status"].as_str(), line["escrow_fen"].as_i64()),
        (Some("paid"), Some(amount))
    );
}

/// 风险预警 live: a warning raised by a bank's report reaches a regulator's open event stream within a second,
/// and the console and the institution's list show it.
#[tokio::test]
async fn a_new_warning_reaches_the_regulators_live_stream_within_a_second() {
    use app::Clock;
    let s = Server::start(6).await;
    let (cookie, _) = page_sign_in(&s, "moe.supervisor").await;
    let now = s.t.clock.now().millis();
    let mut stream = s
        .client
        .get(format!("{}/regulator/warnings/stream?since={now}", s.base))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    assert!(
        stream.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );

    let bank = app::Actor::ApiClient {
        key_id: app::demo::DEMO_BANK_KEY_ID.into(),
        owner_kind: "bank".into(),
        owner_id: "demo-bank".into(),
    };
    let rogue = app::bank::MovementReport {
        account_no: app::demo::DEMO_ACCOUNT_NO.into(),
        bank_ref: "MV-ROGUE".into(),
        direction: "out".into(),
        amount_fen: 100,
        balance_after_fen: 0,
        occurred_at: now,
        instruction_id: None,
        order_no: None,
    };
    let started = std::time::Instant::now();
    s.t.app.record_movement(&bank, &rogue).await.unwrap();
    let mut received = String::new();
    tokio::time::timeout(std::time::Duration::from_secs(1), async {
        while !received.contains("unmatched_outflow") {
            let chunk = stream
                .chunk()
                .await
                .unwrap()
                .expect("the stream stays open");
            received.push_str(&String::from_utf8_lossy(&chunk));
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no warning within a second: {received:?}"));
    assert!(received.contains("event: warning"), "{received}");
    assert!(started.elapsed() < std::time::Duration::from_secs(1));

    let (status, console) = page_as(&s, &cookie, "/regulator/warnings").await;
    assert_eq!(status, 200);
    assert!(console.contains("未经平台指令的资金流出"), "{console}");
    assert!(console.contains("/static/warnings.js"));
}

#[tokio::test]
async fn monitoring_views_export_as_csv_and_xlsx_within_the_region() {
    let s = Server::start(2400).await;
    let haidian_institution = first_in(&s, "110108").await;
    let chaoyang_institution = first_in(&s, "110105").await;
    let haidian = regulator_token(&s, "haidian.reviewer").await;
    let url = |id: &str, focus: &str, format: &str| {
        format!("/api/v1/regulator/institutions/{id}/monitoring/{focus}?format={format}")
    };
    let get = |path: String| {
        s.client
            .get(format!("{}{path}", s.base))
            .bearer_auth(&haidian)
            .send()
    };
    let json: Value = get(url(&haidian_institution, "changes", "json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(json["focus"], "changes");
    assert_eq!(json["columns"][3]["label"], "变更事项");

    let csv = get(url(&haidian_institution, "staff", "csv"))
        .await
        .unwrap();
    assert_eq!(csv.status(), 200);
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    let body = csv.bytes().await.unwrap();
    assert!(
        body.starts_with(b"\xEF\xBB\xBF"),
        "a BOM for spreadsheet programs"
    );
    let text = String::from_utf8(body[3..].to_vec()).unwrap();
    assert!(text.starts_with("姓名,身份证号,岗位"), "{text}");

    let xlsx = get(url(&haidian_institution, "orders", "xlsx"))
        .await
        .unwrap();
    assert_eq!(xlsx.status(), 200);
    assert!(
        xlsx.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .ends_with(".xlsx\"")
    );
    assert!(
        xlsx.bytes().await.unwrap().starts_with(b"PK\x03\x04"),
        "a zip container"
    );

    let bad = get(url(&haidian_institution, "orders", "pdf"))
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    let other = get(url(&chaoyang_institution, "orders", "csv"))
        .await
        .unwrap();
    assert_eq!(
        other.status(),
        403,
        "Haidian cannot export a Chaoyang institution"
    );
}

#[tokio::test]
async fn without_a_cjk_font_the_annual_pdf_is_a_503_problem_and_the_csv_still_works() {
    let config = web::WebConfig {
        pdf_font: Some(web::pdf::FontFile::parse("/no/such/font.ttc#2")),
        ..web::WebConfig::default()
    };
    let s = Server::start_with(2400, config).await;
    let token = regulator_token(&s, "haidian.supervisor").await;
    let institution = {
        let mut tx = s.t.app.store().begin_write().await.unwrap();
        tx.account_by_username("inst.admin")
            .await
            .unwrap()
            .and_then(|a| a.institution_id)
            .unwrap()
    };
    let annual = |format: &'static str| {
        s.client
            .get(format!(
                "{}/api/v1/regulator/institutions/{institution}/annual/2026?format={format}",
                s.base
            ))
            .bearer_auth(&token)
            .send()
    };
    let pdf = annual("pdf").await.unwrap();
    assert_eq!(pdf.status(), 503);
    assert_eq!(
        pdf.headers()["content-type"].to_str().unwrap(),
        "application/problem+json"
    );
    let problem: Value = pdf.json().await.unwrap();
    assert_eq!(problem["code"], "pdf_unavailable");
    let json: Value = annual("json").await.unwrap().json().await.unwrap();
    let csv = annual("csv").await.unwrap();
    assert_eq!(csv.status(), 200);
    let csv = csv.text().await.unwrap();
    assert!(csv.starts_with("\u{feff}类别,项目,数值,显示"));
    // The CSV carries what the JSON carries, the current credit score included.
    let score = json["credit_score_now"].as_i64().unwrap();
    assert!(csv.contains(&format!("信用,当前信用分,{score},")), "{csv}");
    let other = annual("xml").await.unwrap();
    assert_eq!(other.status(), 400);
}

#[tokio::test]
async fn an_integrator_syncs_a_course_by_signed_request_until_its_grant_is_revoked() {
    use app::demo::{DEMO_INTEGRATOR_KEY_ID, DEMO_INTEGRATOR_SECRET};
    use reqwest::Method;
    let s = Server::start(6).await;
    let key = (DEMO_INTEGRATOR_KEY_ID, DEMO_INTEGRATOR_SECRET);
    let admin_row = {
        let mut tx = s.t.app.store().begin_write().await.unwrap();
        tx.account_by_username("inst.admin").await.unwrap().unwrap()
    };
    let institution = admin_row.institution_id.clone().unwrap();
    // The demo's integrator sees the walkthrough institution's grant, every scope.
    let grants: Value = signed_as(
        &s,
        key,
        Method::GET,
        "/api/v1/integration/grants",
        "",
        "grants-nonce-000001",
    )
    .send()
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(grants[0]["institution_id"], institution.as_str());
    assert_eq!(grants[0]["scopes"].as_array().unwrap().len(), 4);
    let path = format!("/api/v1/integration/institutions/{institution}/courses");
    let course = |lessons: u32| {
        serde_json::json!({
            "name": "暑期创意美术", "category": "arts", "mode": "offline", "grades": "一至三年级",
            "lessons": lessons, "minutes_per_lesson": 60, "class_size": 10, "price_per_lesson_fen": 12000,
            "first_lesson": "2027-07-01", "last_lesson": "2027-08-31"
        })
        .to_string()
    };
    let sync = |body: String, nonce: &'static str, idempotency: Option<&'static str>| {
        let r = signed_as(&s, key, Method::POST, &path, &body, nonce)
            .header("content-type", "application/json");
        match idempotency {
            Some(k) => r.header("idempotency-key", k),
            None => r,
        }
        .send()
    };
    let first = sync(course(12), "sync-nonce-0000001", Some("course-0001"))
        .await
        .unwrap();
    assert_eq!(first.status(), 200);
    let first: Value = first.json().await.unwrap();
    let course_id = first["course_id"].as_str().unwrap().to_owned();
    // The same request again (a retry) answers the same course; nothing new is published.
    let again = sync(course(12), "sync-nonce-0000002", Some("course-0001"))
        .await
        .unwrap();
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(
        again.json::<Value>().await.unwrap()["course_id"],
        course_id.as_str()
    );
    let missing = sync(course(12), "sync-nonce-0000003", None).await.unwrap();
    assert_eq!(missing.status(), 400);
    assert_eq!(
        missing.json::<Value>().await.unwrap()["code"],
        "idempotency_key_required"
    );
    // The region's policy, exactly as on the institution end.
    let broken = sync(course(61), "sync-nonce-0000004", Some("course-0002"))
        .await
        .unwrap();
    assert_eq!(broken.status(), 422);
    assert_eq!(
        broken.json::<Value>().await.unwrap()["code"],
        "policy_violation"
    );
    // Orders with their money, and attendance through the roll call's own checks.
    let orders = signed_as(
        &s,
        key,
        Method::GET,
        &format!("/api/v1/integration/institutions/{institution}/orders"),
        "",
        "orders-nonce-00001",
    )
    .send()
    .await
    .unwrap();
    assert_eq!(orders.status(), 200);
    assert!(orders.json::<Value>().await.unwrap().is_array());
    let attendance_path =
        format!("/api/v1/integration/institutions/{institution}/orders/no-such-order/attendance");
    let unknown = signed_as(
        &s,
        key,
        Method::POST,
        &attendance_path,
        r#"{"evidence":"点名表 12"}"#,
        "attend-nonce-00001",
    )
    .header("idempotency-key", "attend-0001")
    .send()
    .await
    .unwrap();
    assert_eq!(unknown.status(), 404);
    // Revoked by the institution's admin: the next request is refused, with nothing published.
    let admin = app::Actor::Staff {
        account_id: admin_row.id.clone(),
        institution_id: institution.clone(),
        role: domain::access::StaffRole::Admin,
    };
    let grant_id = grants[0]["id"].as_str().unwrap();
    s.t.app
        .revoke_integration(
            &admin,
            grant_id,
            &app::integrations::GrantRevocation {
                reason: "改为直接使用平台".into(),
            },
        )
        .await
        .unwrap();
    let courses_before =
        s.t.app
            .store()
            .read()
            .courses_of(&institution)
            .await
            .unwrap()
            .len();
    let refused = sync(course(12), "sync-nonce-0000005", Some("course-0003"))
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    assert_eq!(refused.json::<Value>().await.unwrap()["code"], "forbidden");
    assert_eq!(
        s.t.app
            .store()
            .read()
            .courses_of(&institution)
            .await
            .unwrap()
            .len(),
        courses_before
    );
}

#[tokio::test]
async fn each_integrator_has_its_own_quota_of_requests() {
    use app::demo::{DEMO_INTEGRATOR_KEY_ID, DEMO_INTEGRATOR_SECRET};
    use reqwest::Method;
    let config = web::WebConfig {
        integration_per_minute: 3,
        ..web::WebConfig::default()
    };
    let s = Server::start_with(6, config).await;
    let key = (DEMO_INTEGRATOR_KEY_ID, DEMO_INTEGRATOR_SECRET);
    let grants = |nonce: String| {
        signed_as(
            &s,
            key,
            Method::GET,
            "/api/v1/integration/grants",
            "",
            &nonce,
        )
        .send()
    };
    for n in 0..3 {
        assert_eq!(
            grants(format!("quota-nonce-{n:06}"))
                .await
                .unwrap()
                .status(),
            200
        );
    }
    let over = grants("quota-nonce-000009".into()).await.unwrap();
    assert_eq!(over.status(), 429);
    assert_eq!(
        over.json::<Value>().await.unwrap()["code"],
        "too_many_requests"
    );
    // Another client's quota is its own.
    let bank = signed(
        &s,
        Method::GET,
        "/api/v1/clients/me",
        "",
        "quota-bank-000001",
    )
    .send()
    .await
    .unwrap();
    assert_eq!(bank.status(), 200);
}

#[tokio::test]
async fn an_integrator_orders_for_a_parent_reads_and_exports_orders_and_sets_its_webhook() {
    use app::demo::{DEMO_INTEGRATOR_KEY_ID, DEMO_INTEGRATOR_SECRET, DEMO_PARENT_PHONE};
    use reqwest::Method;
    let s = Server::start(4).await;
    let key = (DEMO_INTEGRATOR_KEY_ID, DEMO_INTEGRATOR_SECRET);
    let institution = {
        let mut tx = s.t.app.store().begin_write().await.unwrap();
        tx.account_by_username("inst.admin")
            .await
            .unwrap()
            .unwrap()
            .institution_id
            .unwrap()
    };
    let course =
        s.t.app
            .store()
            .read()
            .courses_of(&institution)
            .await
            .unwrap()[0]
            .id
            .clone();
    let path = format!("/api/v1/integration/institutions/{institution}/orders");
    let mut nonce = 0;
    let mut call = async |method: Method, path: &str, body: Value, idempotency: Option<&str>| {
        nonce += 1;
        let body = if body.is_null() {
            String::new()
        } else {
            body.to_string()
        };
        let r = signed_as(
            &s,
            key,
            method,
            path,
            &body,
            &format!("order-for-parent-{nonce:04}"),
        )
        .header("content-type", "application/json");
        let r = match idempotency {
            Some(k) => r.header("idempotency-key", k),
            None => r,
        };
        let response = r.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (
            status,
            serde_json::from_str::<Value>(&text).unwrap_or(Value::String(text)),
        )
    };

    let order = |phone: &str, id_card: &str| serde_json::json!({"course_id": course, "parent_phone": phone, "child_id_card": id_card});
    let (status, unknown) = call(
        Method::POST,
        &path,
        order("13911112222", "11010820150301001X"),
        Some("o-1"),
    )
    .await;
    assert_eq!(
        (status, unknown["code"].as_str()),
        (404, Some("not_found")),
        "{unknown}"
    );
    let (status, bad) = call(
        Method::POST,
        &path,
        order("12345", "11010820150301001X"),
        Some("o-2"),
    )
    .await;
    assert_eq!(bad["code"], "invalid_phone", "{status} {bad}");
    let (status, bad) = call(
        Method::POST,
        &path,
        order(DEMO_PARENT_PHONE, "110108"),
        Some("o-3"),
    )
    .await;
    assert_eq!(bad["code"], "invalid_id_card", "{status} {bad}");
    let (status, placed) = call(
        Method::POST,
        &path,
        order(DEMO_PARENT_PHONE, "11010820150301001X"),
        Some("o-4"),
    )
    .await;
    assert_eq!(status, 200, "{placed}");
    assert_eq!(placed["status"], "awaiting_payment");
    let order_id = placed["id"].as_str().unwrap().to_owned();
    let (_, again) = call(
        Method::POST,
        &path,
        order(DEMO_PARENT_PHONE, "11010820150301001X"),
        Some("o-4"),
    )
    .await;
    assert_eq!(
        again["id"],
        order_id.as_str(),
        "a retry answers the same order"
    );
    let (status, read) = call(
        Method::GET,
        &format!("{path}/{order_id}"),
        Value::Null,
        None,
    )
    .await;
    assert_eq!(status, 200, "{read}");
    assert_eq!(read["order"]["order_no"], placed["order_no"]);
    assert_eq!(read["refunds"], serde_json::json!([]));

    // Bulk export for reconciliation: CSV and JSON lines, the new order in both.
    let export = format!("/api/v1/integration/institutions/{institution}/export");
    let (status, csv) = call(
        Method::GET,
        &format!("{export}?format=csv"),
        Value::Null,
        None,
    )
    .await;
    assert_eq!(status, 200);
    let csv = csv.as_str().unwrap().to_owned();
    assert!(
        csv.starts_with("order_id,order_no,course_name,lessons,amount_fen,status,escrow_fen"),
        "{csv}"
    );
    assert!(csv.contains(placed["order_no"].as_str().unwrap()));
    let (_, jsonl) = call(
        Method::GET,
        &format!("{export}?format=jsonl"),
        Value::Null,
        None,
    )
    .await;
    // A single line is itself a JSON document, which the helper parsed.
    let jsonl = match jsonl {
        Value::String(text) => text,
        one => one.to_string(),
    };
    let lines: Vec<Value> = jsonl
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), csv.lines().count() - 1, "one line per CSV row");
    assert!(
        lines
            .iter()
            .any(|l| l["order_id"] == order_id.as_str() && l["status"] == "awaiting_payment")
    );
    let (status, bad) = call(
        Method::GET,
        &format!("{export}?format=xml"),
        Value::Null,
        None,
    )
    .await;
    assert_eq!(
        (status, bad["code"].as_str()),
        (400, Some("invalid_parameter")),
        "{bad}"
    );

    // Service cases of another institution or none: 404, not a bypass.
    let (status, _) = call(
        Method::POST,
        &format!("/api/v1/integration/institutions/{institution}/refunds/nope/answer"),
        serde_json::json!({"agree": true}),
        Some("r-1"),
    )
    .await;
    assert_eq!(status, 404);

    // The webhook URL: validated, set under an idempotency key, read back.
    let (status, bad) = call(
        Method::PUT,
        "/api/v1/integration/webhook",
        serde_json::json!({"url": "ftp://x"}),
        Some("w-1"),
    )
    .await;
    assert_eq!(bad["code"], "invalid_parameter", "{status} {bad}");
    let (status, _) = call(
        Method::GET,
        "/api/v1/integration/webhook",
        Value::Null,
        None,
    )
    .await;
    assert_eq!(status, 404, "nothing was kept");
    let url = serde_json::json!({"url": "https://saas.example.com/xiaowai/webhooks"});
    let (status, _) = call(
        Method::PUT,
        "/api/v1/integration/webhook",
        url.clone(),
        Some("w-2"),
    )
    .await;
    assert_eq!(status, 200);
    let (_, read) = call(
        Method::GET,
        "/api/v1/integration/webhook",
        Value::Null,
        None,
    )
    .await;
    assert_eq!(read, url);
    let (_, activity) = call(
        Method::GET,
        "/api/v1/integration/activity",
        Value::Null,
        None,
    )
    .await;
    assert!(
        activity["actions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["action"] == "order.placed" && a["count"] == 1),
        "{activity}"
    );
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

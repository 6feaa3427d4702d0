//! Browser sessions and the pages of the accounts behind them: CSRF, idle time-outs, administrators, the
//! parent's website, throttles, the test clock and the SMS gateway.

use super::*;

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
        .accounts()
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
    let session = s.t.app.identity().start_session(&sign_in).await.unwrap();
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
    let log =
        s.t.app
            .store()
            .read()
            .parents()
            .pii_access_log(10)
            .await
            .unwrap();
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

#[tokio::test]
async fn sign_in_codes_go_through_the_http_sms_gateway() {
    use app::parents::HttpSmsSender;
    let (url, received) = sms_gateway(200).await;
    let t = TestApp::empty().await;
    let sender = HttpSmsSender::new(&url, "gateway-key-1").unwrap();
    let app = t.app.clone().with_sms(std::sync::Arc::new(sender));
    app.identity()
        .request_login_code("13900000002")
        .await
        .unwrap();
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
        .identity()
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
                .identity()
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
            .contains("登录失败次数上限须在3至10之间")
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

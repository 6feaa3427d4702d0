//! Who may call what: regions scope what a regulator reads, and every route enforces its rule for every kind
//! of caller, over the API and on the website.

use super::*;

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
            Some(app::sessions::SignIn::Password(login)) => s.t.app.identity().login(&login).await,
            Some(app::sessions::SignIn::Code(login)) => {
                s.t.app.identity().login_with_code(&login).await
            }
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
            let new = s.t.app.identity().start_session(&sign_in).await.unwrap();
            let csrf = s.t.app.identity().session(&new.token).await.unwrap().csrf;
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

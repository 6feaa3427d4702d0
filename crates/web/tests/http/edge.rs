//! The edge of the router (issue 21): whatever the framework or a layer answers by itself is a problem
//! document; a refusal in time says when it lifts; answers with tokens or personal data are not kept.

use super::Server;
use serde_json::Value;

/// The answer is RFC 9457 problem+json with our stable `code`.
async fn problem(r: reqwest::Response, status: u16, code: &str) -> Value {
    assert_eq!(r.status(), status, "{}", r.url());
    assert_eq!(
        r.headers()["content-type"],
        "application/problem+json",
        "{}",
        r.url()
    );
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], code, "{body}");
    assert!(body["message_zh"].as_str().is_some_and(|m| !m.is_empty()));
    body
}

/// The demo institution's admin signs in over the API.
async fn institution_admin(s: &Server) -> String {
    let pair: Value = s
        .client
        .post(format!("{}/api/v1/auth/login", s.base))
        .json(&serde_json::json!({"username": "inst.admin", "password": app::demo::DEMO_PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    pair["access_token"]
        .as_str()
        .expect("inst.admin signs in")
        .to_owned()
}

#[tokio::test]
async fn an_upload_over_the_body_limit_is_the_documented_problem() {
    let s = Server::start(2).await;
    let admin = institution_admin(&s).await;
    let r = s
        .client
        .post(format!(
            "{}/api/v1/institution/documents?kind=licence&filename=big.pdf",
            s.base
        ))
        .bearer_auth(&admin)
        .body([b"%PDF-1.4\n".as_slice(), &vec![b' '; 12 * 1024 * 1024]].concat())
        .send()
        .await
        .unwrap();
    problem(r, 413, "document_too_large").await;
}

#[tokio::test]
async fn a_json_body_over_the_limit_is_a_413_problem_not_a_400() {
    let s = Server::start(0).await;
    let password = "x".repeat(3 * 1024 * 1024);
    let r = s
        .client
        .post(format!("{}/api/v1/auth/login", s.base))
        .json(&serde_json::json!({"username": "nobody", "password": password}))
        .send()
        .await
        .unwrap();
    problem(r, 413, "payload_too_large").await;
}

#[tokio::test]
async fn a_bad_query_string_is_a_problem_and_comes_after_authentication() {
    let s = Server::start(2).await;
    // Signed-in routes refuse the caller before they read the query.
    let anonymous = s
        .get("/api/v1/integration/webhook/deliveries?before=not-a-number")
        .await;
    problem(anonymous, 401, "invalid_signature").await;
    // Public routes: the query's own fault, as a problem document.
    let public = s.get("/api/v1/public/institutions?page=abc").await;
    problem(public, 400, "invalid_page").await;
    // A path the router cannot decode is no plain text either.
    let path = s.get("/api/v1/public/institutions/%FF%FE").await;
    assert_eq!(
        path.headers()["content-type"],
        "application/problem+json",
        "{}",
        path.status()
    );
}

/// A refusal says what exactly was wrong in Chinese and in English and names the field at fault; a page says
/// it in Chinese only.
#[tokio::test]
async fn a_refusal_says_what_was_wrong_in_both_languages_and_names_the_field() {
    let s = Server::start(2).await;
    let api = problem(
        s.get("/api/v1/public/institutions?per_page=101").await,
        400,
        "per_page_out_of_range",
    )
    .await;
    assert_eq!(api["field"], "per_page", "{api}");
    assert_eq!(api["detail_zh"], "每页条数须在1至100之间，实为101", "{api}");
    assert_eq!(
        api["detail_en"], "per_page must be between 1 and 100, got 101",
        "{api}"
    );
    assert_eq!(
        api["detail"], api["detail_en"],
        "RFC 9457's detail is the English"
    );
    assert!(
        api.get("rules").is_none(),
        "only policy refusals list rules"
    );

    let (status, page) = s
        .html("/institutions/01909a55-3fd9-7b92-aff1-c6c58a7c0cce")
        .await;
    assert_eq!(status, 404);
    assert!(page.contains("没有机构 01909a55"), "{page}");
    assert!(
        !page.contains("no institution"),
        "no English on the page: {page}"
    );
}

#[tokio::test]
async fn a_refusal_in_time_says_when_to_come_back() {
    let t = app::testing::TestApp::empty().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let config = web::WebConfig {
        sign_in_per_minute: 1,
        ..web::WebConfig::default()
    };
    let router = web::router_with(t.app.clone(), &config);
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let client = reqwest::Client::new();
    let login = || {
        client
            .post(format!("{base}/api/v1/auth/login"))
            .json(&serde_json::json!({"username": "nobody", "password": "wrong password"}))
            .send()
    };
    assert_eq!(login().await.unwrap().status(), 401);
    let limited = login().await.unwrap();
    let wait: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "Retry-After: {wait}");
    problem(limited, 429, "too_many_requests").await;
}

#[tokio::test]
async fn tokens_and_personal_data_are_never_stored_by_caches() {
    let s = Server::start(2).await;
    let token = institution_admin(&s).await;
    let me = s
        .client
        .get(format!("{}/api/v1/me", s.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    assert_eq!(me.headers()["cache-control"], "no-store");
    let refused = s
        .client
        .post(format!("{}/api/v1/auth/login", s.base))
        .json(&serde_json::json!({"username": "nobody", "password": "wrong password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.headers()["cache-control"], "no-store");
    // The public registry stays cacheable.
    let public = s.get("/api/v1/public/regions").await;
    assert!(
        public
            .headers()
            .get("cache-control")
            .is_none_or(|c| c != "no-store")
    );
}

/// Authorize before you look: every regulator route about a Chaoyang institution, asked by Haidian's
/// supervisor, is refused — for reading routes and, with a well-formed body, for acting ones — before
/// anything about the institution's state is said.
#[tokio::test]
async fn every_regulator_route_about_an_institution_refuses_another_countys_supervisor() {
    use web::access::{Access, Caller};
    use web::routes::api_routes;
    let s = Server::start(2400).await;
    let chaoyang = super::first_in(&s, "110105").await;
    let haidian = super::regulator_token(&s, "haidian.supervisor").await;
    let mut walked = 0;
    for route in api_routes() {
        let for_regulators = matches!(route.access, Access::SignedIn(who)
            if who.contains(&Caller::Supervisor) || who.contains(&Caller::Reviewer));
        if !for_regulators || !route.path.contains("institutions/{id}") {
            continue;
        }
        let body = match route.path.rsplit('/').next().unwrap() {
            "run-off" => serde_json::json!({"reason": "检查"}),
            "removal" => serde_json::json!({"reason": "检查", "decision_no": "海教监〔2026〕1号",
                "decided_on": "2026-11-20", "publish": false}),
            "list" => serde_json::json!({"to": "grey", "reason": "检查"}),
            "penalties" => {
                serde_json::json!({"kind": "warning", "decision_no": "海教罚〔2026〕1号",
                "decided_on": "2026-11-20", "legal_basis": "第十六条", "facts": "检查"})
            }
            "review" => serde_json::json!({"result": "pass", "remarks": "检查"}),
            _ => serde_json::json!({}),
        };
        let path = route
            .path
            .replace("{id}", &chaoyang)
            .replace("{year}", "2026")
            .replace("{focus}", "orders");
        let r = s
            .client
            .request(route.method.clone(), format!("{}{path}", s.base))
            .bearer_auth(&haidian)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status();
        let code = r.json::<Value>().await.ok().map(|v| v["code"].clone());
        assert!(
            status == 403 || status == 404,
            "{} {}: {status} {code:?}",
            route.method,
            route.path
        );
        walked += 1;
    }
    assert!(walked >= 10, "walked {walked} routes");
}

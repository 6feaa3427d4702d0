//! The platform over plain HTTP: health, the public registry API and pages, the OpenAPI document, errors,
//! security headers and metrics.

use super::*;

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
    let stats = s.t.app.registry().home_stats().await.unwrap();
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
            .registry()
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

//! Money over HTTP: an order paid once per idempotency key, live warnings, monitoring exports, the annual PDF.

use super::*;

#[tokio::test]
async fn a_parent_orders_over_http_and_the_bank_pays_it_once_per_idempotency_key() {
    let s = Server::start(2400).await;
    let samples = Samples::of(&s).await;
    let Some(app::sessions::SignIn::Code(login)) =
        demo_sign_in(&s, web::access::Caller::Parent).await
    else {
        unreachable!("the parent signs in by SMS")
    };
    let token =
        s.t.app
            .identity()
            .login_with_code(&login)
            .await
            .unwrap()
            .access_token;
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
    s.t.app
        .money()
        .record_movement(&bank, &rogue)
        .await
        .unwrap();
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
        tx.accounts()
            .account_by_username("inst.admin")
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

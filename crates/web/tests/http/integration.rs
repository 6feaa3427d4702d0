//! Technology providers' systems: course sync, quotas, orders for parents, exports and webhooks.

use super::*;

#[tokio::test]
async fn an_integrator_syncs_a_course_by_signed_request_until_its_grant_is_revoked() {
    use app::demo::{DEMO_INTEGRATOR_KEY_ID, DEMO_INTEGRATOR_SECRET};
    use reqwest::Method;
    let s = Server::start(6).await;
    let key = (DEMO_INTEGRATOR_KEY_ID, DEMO_INTEGRATOR_SECRET);
    let admin_row = {
        let mut tx = s.t.app.store().begin_write().await.unwrap();
        tx.accounts()
            .account_by_username("inst.admin")
            .await
            .unwrap()
            .unwrap()
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
        .integration()
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
            .registry()
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
            .registry()
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
        tx.accounts()
            .account_by_username("inst.admin")
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
            .registry()
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

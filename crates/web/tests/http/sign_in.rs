//! Signing in over the API: passwords and tokens, a parent by SMS, and signed requests from banks and
//! integrators.

use super::*;

#[tokio::test]
async fn sign_in_over_http_gives_a_bearer_token_for_me_and_sign_out_revokes_it() {
    use app::admin::{NewAccount, NewAccountKind};
    let s = Server::start(5).await;
    let institution =
        s.t.app
            .store()
            .read()
            .registry()
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
        .identity()
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
    let log =
        s.t.app
            .store()
            .read()
            .parents()
            .pii_access_log(5)
            .await
            .unwrap();
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

//! The registry end to end: plates, lists, onboarding, staff checks and course policies.

use super::*;

#[tokio::test]
async fn a_white_listed_institution_prints_its_plate_and_a_scan_verifies_it() {
    let s = Server::start(30).await;
    let sign_in = demo_sign_in(&s, web::access::Caller::StaffAdmin)
        .await
        .unwrap();
    let session = s.t.app.identity().start_session(&sign_in).await.unwrap();
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
            let plates = store.read().plates().plates_of(&id).await.unwrap();
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
            .integration()
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
            .plates()
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
    let session = s.t.app.identity().start_session(&sign_in).await.unwrap();
    let admin =
        s.t.app
            .identity()
            .session(&session.token)
            .await
            .unwrap()
            .actor;
    let check =
        s.t.app
            .registry()
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
            problem["detail_zh"].as_str().unwrap().contains(says),
            "{problem}"
        );
        // Each rule broken is listed by its stable name, in both languages.
        let rules = problem["rules"].as_array().expect("rules are listed");
        assert!(
            rules.iter().any(
                |r| r["message_zh"].as_str().is_some_and(|m| m.contains(says))
                    && r["rule"].as_str().is_some_and(|n| !n.is_empty())
                    && r["message_en"].as_str().is_some_and(|m| !m.is_empty())
            ),
            "{problem}"
        );
    }
    let ok = publish(course("offline", 20, 45, 8_800, "subject", "2027-05-31"))
        .await
        .unwrap();
    assert_eq!(ok.status(), 201, "at the ceiling exactly");
}

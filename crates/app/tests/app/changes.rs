use super::onboarding::complete_filing;
use super::*;
use app::onboarding::Decision;
use domain::access::RegulatorRole;

#[tokio::test]
async fn an_approved_name_change_updates_the_record_publishes_it_and_replaces_the_plate() {
    let t = TestApp::with_demo(30).await;
    let admin = t
        .app
        .identity()
        .login(&app::auth::PasswordLogin {
            username: "inst.admin".into(),
            password: app::demo::DEMO_PASSWORD.into(),
            totp: None,
            new_password: None,
            source: String::new(),
        })
        .await
        .unwrap();
    let admin = t
        .app
        .identity()
        .authenticate(&admin.access_token)
        .await
        .unwrap();
    let id = match &admin {
        Actor::Staff { institution_id, .. } => institution_id.clone(),
        _ => unreachable!(),
    };
    let before = t
        .app
        .store()
        .read()
        .registry()
        .institution(&id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(before.list_status, domain::ListStatus::White);
    let old_token = t.app.store().read().plates().plates_of(&id).await.unwrap()[0]
        .token
        .clone();
    let draft = t.app.registry().my_filing(&admin).await.unwrap();
    assert_eq!(
        draft.data.basic.name, before.name,
        "a first draft starts from the registry"
    );

    let mut change = complete_filing();
    change.basic.name = "海淀新名称培训学校".into();
    change.premises.address = before.address.clone();
    t.app.registry().save_filing(&admin, &change).await.unwrap();
    t.app
        .registry()
        .upload_document(
            &admin,
            "licence",
            "许可证.png",
            b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR",
        )
        .await
        .unwrap();
    let submitted = t.app.registry().submit_filing(&admin).await.unwrap();
    assert_eq!(submitted.history[0].kind, "change");
    // Offline: the county's reviewer; online: the province's.
    let competent = domain::access::competent_region(
        domain::TeachingMode::parse(&before.mode).unwrap(),
        &domain::RegionCode::parse(&before.region_code).unwrap(),
    );
    let reviewer = Actor::Regulator {
        account_id: "rev".into(),
        region: competent,
        role: RegulatorRole::Reviewer,
    };
    let approve = Decision {
        approve: true,
        field_reasons: Default::default(),
    };
    t.app
        .registry()
        .decide_filing(&reviewer, &id, &approve)
        .await
        .unwrap();

    let after = t.app.registry().institution_detail(&id).await.unwrap();
    assert_eq!(after.summary.name, "海淀新名称培训学校");
    assert_eq!(
        after.summary.list_status,
        domain::ListStatus::White,
        "a change does not move lists"
    );
    assert_eq!(search(&t.app, raw("新名称")).await.total, 1);
    let notices = t
        .app
        .registry()
        .notices(Paging::new(None, Some(5)).unwrap())
        .await
        .unwrap();
    assert!(
        notices
            .items
            .iter()
            .any(|n| n.title.contains("海淀新名称培训学校") && n.body.contains(&before.name))
    );
    let old = t.app.registry().check_plate(&old_token).await.unwrap();
    assert_eq!(
        (old.verdict, old.plate_status),
        ("attention", Some(domain::PlateStatus::Superseded))
    );
    let plates = t.app.store().read().plates().plates_of(&id).await.unwrap();
    assert_eq!((plates[0].serial, plates[0].status.as_str()), (2, "active"));
    let new = t
        .app
        .registry()
        .check_plate(&plates[0].token)
        .await
        .unwrap();
    assert_eq!(new.verdict, "valid");
}

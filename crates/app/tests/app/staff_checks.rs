use super::*;
use app::staff::{BlacklistEntry, Hire};
use domain::access::{RegulatorRole, StaffRole};

#[tokio::test]
async fn hiring_refuses_the_black_list_and_serving_teachers_and_files_a_confirmed_record_check() {
    let t = TestApp::empty().await;
    let signed = t
        .app
        .registry()
        .sign_up(&super::onboarding::sign_up(&code(77), "staff.admin"))
        .await
        .unwrap();
    let admin = Actor::Staff {
        account_id: signed.admin_account_id,
        institution_id: signed.institution_id.clone(),
        role: StaffRole::Admin,
    };
    let supervisor = Actor::Regulator {
        account_id: "sup".into(),
        region: domain::RegionCode::parse("110000").unwrap(),
        role: RegulatorRole::Supervisor,
    };
    t.app
        .registry()
        .blacklist_practitioner(
            &supervisor,
            &BlacklistEntry {
                name: "黑名单".into(),
                id_card: "110105198001010024".into(),
                reason: "体罚学生（红线第3条）".into(),
            },
        )
        .await
        .unwrap();
    let check = t
        .app
        .registry()
        .upload_document(&admin, "record_check", "查询结果.pdf", b"%PDF-1.4\n%%EOF\n")
        .await
        .unwrap();
    let hire = |name: &str, id_card: &str| Hire {
        name: name.into(),
        id_card: id_card.into(),
        role: "teaching".into(),
        subject_teacher: false,
        teacher_cert_no: String::new(),
        serving_school_teacher: false,
        record_check_document: check.id.clone(),
    };
    let refused = t
        .app
        .registry()
        .hire_staff(&admin, &hire("某某", "110105198001010024"))
        .await
        .unwrap_err();
    assert_eq!(refused.code, ErrorCode::PractitionerBlacklisted);
    let mut serving = hire("李老师", "11010819900101001X");
    serving.serving_school_teacher = true;
    assert_eq!(
        t.app
            .registry()
            .hire_staff(&admin, &serving)
            .await
            .unwrap_err()
            .code,
        ErrorCode::ServingTeacherNotAllowed
    );
    let mut subject = hire("王老师", "11010819900101001X");
    subject.subject_teacher = true;
    assert_eq!(
        t.app
            .registry()
            .hire_staff(&admin, &subject)
            .await
            .unwrap_err()
            .code,
        ErrorCode::TeacherQualificationRequired
    );
    let mut no_check = hire("王老师", "11010819900101001X");
    no_check.record_check_document = uuid::Uuid::now_v7().to_string();
    assert_eq!(
        t.app
            .registry()
            .hire_staff(&admin, &no_check)
            .await
            .unwrap_err()
            .code,
        ErrorCode::RecordCheckRequired
    );
    assert_eq!(
        t.app
            .registry()
            .hire_staff(&admin, &hire("王老师", "110108199001010015"))
            .await
            .unwrap_err()
            .code,
        ErrorCode::InvalidIdCard
    );
    assert!(
        t.app
            .registry()
            .staff_register(&admin)
            .await
            .unwrap()
            .is_empty(),
        "nothing half-hired"
    );

    let hired = t
        .app
        .registry()
        .hire_staff(&admin, &hire("王老师", "11010819900101001X"))
        .await
        .unwrap();
    assert_eq!(
        (hired.name_masked.as_str(), hired.record_check_confirmed),
        ("王*师", false)
    );
    let chaoyang = Actor::Regulator {
        account_id: "cy".into(),
        region: domain::RegionCode::parse("110105").unwrap(),
        role: RegulatorRole::Reviewer,
    };
    assert_eq!(
        t.app
            .registry()
            .confirm_record_check(&chaoyang, &hired.id)
            .await
            .unwrap_err()
            .code,
        ErrorCode::Forbidden
    );
    let haidian = Actor::Regulator {
        account_id: "hd".into(),
        region: domain::RegionCode::parse("110108").unwrap(),
        role: RegulatorRole::Reviewer,
    };
    assert!(
        t.app
            .registry()
            .confirm_record_check(&haidian, &hired.id)
            .await
            .unwrap()
            .record_check_confirmed
    );
    // The ID-card number is sealed: not in the row in plain text.
    let (sealed,): (String,) = sqlx::query_as("SELECT id_card_sealed FROM staff_members")
        .fetch_one(t.app.store().pool_for_tests())
        .await
        .unwrap();
    assert!(!sealed.contains("11010819900101001X"));
}

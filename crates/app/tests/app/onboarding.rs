use super::*;
use app::onboarding::{Decision, SignUp};
use domain::access::{RegulatorRole, StaffRole};
use domain::filing::{Filing, StaffEntry};

/// A minimal real PDF (the header is what the content check reads).
const PDF: &[u8] = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n";

pub(crate) fn sign_up(credit_code: &str, username: &str) -> SignUp {
    SignUp {
        name: "海淀启明围棋培训中心".into(),
        credit_code: credit_code.into(),
        mode: "offline".into(),
        region_code: "110108".into(),
        address: "北京市海淀区学院路1号".into(),
        categories: vec!["arts".into()],
        admin_username: username.into(),
        admin_display_name: "张校长".into(),
        admin_password: "our own passphrase".into(),
    }
}

pub(crate) fn complete_filing() -> Filing {
    let mut f = Filing::default();
    f.basic.name = "海淀启明围棋培训中心".into();
    f.basic.legal_representative = "张明".into();
    f.licence.school_licence_no = "教民111010870001号".into();
    f.licence.school_licence_expires = "2029-12-31".into();
    f.licence.legal_person_cert_no = "52110108MJ0000001X".into();
    f.licence.legal_person_cert_expires = "2030-06-30".into();
    f.premises.address = "北京市海淀区学院路1号".into();
    f.premises.tenure = "owned".into();
    f.premises.health_cert_no = "海卫2026-001".into();
    f.premises.health_cert_expires = "2027-12-31".into();
    f.premises.fire_cert_no = "海消2026-002".into();
    f.premises.fire_cert_expires = "2027-12-31".into();
    f.organisation.training_materials = "自编讲义".into();
    f.organisation.staff = vec![StaffEntry {
        name: "王老师".into(),
        role: "teaching".into(),
        subject_teacher: false,
        teacher_cert_no: String::new(),
    }];
    f.courses.summary = "围棋启蒙".into();
    f
}

fn reviewer(region: &str) -> Actor {
    Actor::Regulator {
        account_id: format!("rev-{region}"),
        region: domain::RegionCode::parse(region).unwrap(),
        role: RegulatorRole::Reviewer,
    }
}

#[tokio::test]
async fn an_institution_signs_up_files_is_rejected_on_one_field_then_approved() {
    let t = TestApp::empty().await;
    let code = code(42);
    // Bad input leaves nothing behind.
    let mut bad = sign_up("91110108MA00000000", "qiming.admin");
    assert_eq!(
        t.app.registry().sign_up(&bad).await.unwrap_err().code,
        ErrorCode::InvalidCreditCode
    );
    bad.credit_code = code.clone();
    bad.region_code = "110000".into();
    assert_eq!(
        t.app.registry().sign_up(&bad).await.unwrap_err().code,
        ErrorCode::UnknownRegion,
        "the premises are in a county"
    );
    let signed = t
        .app
        .registry()
        .sign_up(&sign_up(&code, "qiming.admin"))
        .await
        .unwrap();
    let again = t
        .app
        .registry()
        .sign_up(&sign_up(&code, "other.admin"))
        .await
        .unwrap_err();
    assert_eq!(
        again.code,
        ErrorCode::Conflict,
        "one credit code, one institution"
    );
    assert_eq!(
        t.app
            .store()
            .read()
            .registry()
            .institution_count()
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        t.app
            .store()
            .read()
            .accounts()
            .account_count()
            .await
            .unwrap(),
        1,
        "no orphan admin"
    );
    // Not public while applying.
    assert_eq!(
        t.app
            .registry()
            .institution_detail(&signed.institution_id)
            .await
            .unwrap_err()
            .code,
        ErrorCode::NotFound
    );

    let admin = Actor::Staff {
        account_id: signed.admin_account_id.clone(),
        institution_id: signed.institution_id.clone(),
        role: StaffRole::Admin,
    };
    let fresh = t.app.registry().my_filing(&admin).await.unwrap();
    assert_eq!((fresh.version, fresh.completeness < 100), (0, true));
    assert!(fresh.missing.iter().any(|m| m.field == "licence.document"));

    let mut expired = complete_filing();
    expired.licence.school_licence_expires = "2026-01-31".into();
    let e = t
        .app
        .registry()
        .save_filing(&admin, &expired)
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::CertificateExpired);
    assert!(
        e.detail.en.contains("licence.school_licence_expires"),
        "{}",
        e.detail
    );
    assert_eq!(
        t.app.registry().my_filing(&admin).await.unwrap().version,
        0,
        "nothing saved"
    );

    // Documents: checked by content and size.
    let upload = |kind: &'static str, name: &'static str, bytes: Vec<u8>| {
        let app = t.app.clone();
        let admin = admin.clone();
        async move {
            app.registry()
                .upload_document(&admin, kind, name, &bytes)
                .await
        }
    };
    let refused = [
        (
            upload("licence", "许可证.pdf", Vec::new()).await,
            ErrorCode::DocumentRejected,
        ),
        (
            upload(
                "licence",
                "许可证.pdf",
                b"MZ\x90\x00\x03\x00\x00\x00 an executable".to_vec(),
            )
            .await,
            ErrorCode::DocumentRejected,
        ),
        (
            upload(
                "licence",
                "许可证.pdf",
                [PDF, &vec![b' '; 10 * 1024 * 1024]].concat(),
            )
            .await,
            ErrorCode::DocumentTooLarge,
        ),
        (
            upload("passport", "x.pdf", PDF.to_vec()).await,
            ErrorCode::InvalidParameter,
        ),
    ];
    for (outcome, code) in refused {
        assert_eq!(outcome.unwrap_err().code, code);
    }
    assert!(
        t.app
            .registry()
            .my_filing(&admin)
            .await
            .unwrap()
            .documents
            .is_empty(),
        "no partial records"
    );

    t.app
        .registry()
        .save_filing(&admin, &complete_filing())
        .await
        .unwrap();
    let incomplete = t.app.registry().submit_filing(&admin).await.unwrap_err();
    assert_eq!(incomplete.code, ErrorCode::FilingIncomplete);
    assert!(
        incomplete.detail.zh.contains("办学许可证扫描件"),
        "{}",
        incomplete.detail
    );
    let doc = upload("licence", "办学许可证.pdf", PDF.to_vec())
        .await
        .unwrap();
    assert_eq!(doc.content_type, "application/pdf");
    let (_, bytes) = t.app.registry().document(&admin, &doc.id).await.unwrap();
    assert_eq!(bytes, PDF);
    let submitted = t.app.registry().submit_filing(&admin).await.unwrap();
    assert_eq!(
        (submitted.status.as_str(), submitted.completeness),
        ("submitted", 100)
    );
    assert_eq!(
        t.app
            .registry()
            .save_filing(&admin, &complete_filing())
            .await
            .unwrap_err()
            .code,
        ErrorCode::Conflict,
        "frozen while under review"
    );

    // Routed to Haidian (offline: the county of the premises), not Chaoyang, not Beijing.
    let paging = Paging::new(None, None).unwrap();
    let queue = t
        .app
        .registry()
        .review_queue(&reviewer("110108"), None, paging)
        .await
        .unwrap();
    assert_eq!(queue.total, 1);
    assert_eq!(queue.items[0].institution_id, signed.institution_id);
    t.clock.advance_millis(3 * 86_400_000);
    let queue = t
        .app
        .registry()
        .review_queue(&reviewer("110108"), None, paging)
        .await
        .unwrap();
    assert_eq!(queue.items[0].age_days, 3);
    assert_eq!(
        t.app
            .registry()
            .review_queue(&reviewer("110105"), None, paging)
            .await
            .unwrap()
            .total,
        0
    );
    let reject = Decision {
        approve: false,
        field_reasons: [(
            "premises.fire_cert_no".to_owned(),
            "消防证明编号与扫描件不符".to_owned(),
        )]
        .into(),
    };
    for outsider in [reviewer("110105"), reviewer("110000")] {
        assert_eq!(
            t.app
                .registry()
                .decide_filing(&outsider, &signed.institution_id, &reject)
                .await
                .unwrap_err()
                .code,
            ErrorCode::Forbidden
        );
    }
    let no_reason = Decision {
        approve: false,
        field_reasons: Default::default(),
    };
    assert_eq!(
        t.app
            .registry()
            .decide_filing(&reviewer("110108"), &signed.institution_id, &no_reason)
            .await
            .unwrap_err()
            .code,
        ErrorCode::InvalidParameter
    );
    let rejected = t
        .app
        .registry()
        .decide_filing(&reviewer("110108"), &signed.institution_id, &reject)
        .await
        .unwrap();
    assert_eq!(rejected.status, domain::FilingStatus::Rejected);
    let mine = t.app.registry().my_filing(&admin).await.unwrap();
    assert_eq!(mine.rejected_fields.len(), 1);
    assert_eq!(mine.rejected_fields[0].label, "消防证明");

    // Fixed in a new version and submitted again.
    let mut fixed = complete_filing();
    fixed.premises.fire_cert_no = "海消2026-0002".into();
    let draft = t.app.registry().save_filing(&admin, &fixed).await.unwrap();
    assert_eq!((draft.version, draft.status.as_str()), (2, "draft"));
    t.app.registry().submit_filing(&admin).await.unwrap();
    let approve = Decision {
        approve: true,
        field_reasons: Default::default(),
    };
    let approved = t
        .app
        .registry()
        .decide_filing(&reviewer("110108"), &signed.institution_id, &approve)
        .await
        .unwrap();
    assert_eq!(
        (approved.status.as_str(), approved.registry_state.as_str()),
        ("approved", "listed")
    );
    assert_eq!(approved.history.len(), 2);
    let public = t
        .app
        .registry()
        .institution_detail(&signed.institution_id)
        .await
        .unwrap();
    assert_eq!(
        public.summary.list_status,
        domain::ListStatus::Grey,
        "white waits for fund supervision"
    );
    assert_eq!(
        public.summary.licence_no.as_deref(),
        Some("教民111010870001号")
    );
    assert_eq!(
        search(&t.app, raw("启明")).await.total,
        1,
        "searchable once approved"
    );
    let actions: Vec<String> = t
        .app
        .store()
        .read()
        .audit_entries_about(&format!("institution:{}", signed.institution_id), 50)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.body.action)
        .collect();
    for expected in [
        "institution.signed_up",
        "document.uploaded",
        "filing.submitted",
        "filing.rejected",
        "filing.approved",
        "institution.list_changed",
    ] {
        assert!(
            actions.iter().any(|a| a == expected),
            "{expected} in {actions:?}"
        );
    }
}

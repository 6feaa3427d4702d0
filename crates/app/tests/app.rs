//! Use cases over a real database (SQLite, or PostgreSQL when `XIAOWAI_TEST_DATABASE_URL` is set).

use app::bank::PaymentResult;
use app::ledger_check::{ChainReport, verify_audit_chain};
use app::registry::{InstitutionRecord, RawSearch};
use app::testing::TestApp;
use app::{Actor, ErrorCode, SearchLocation};
use domain::{InstructionStatus, ListStatus, OrderStatus, Paging};
use std::collections::HashSet;
use store::{InstitutionRow, ListChangeRow};

fn raw(q: &str) -> RawSearch {
    with("q", q)
}

async fn search(
    app: &app::App,
    input: RawSearch,
) -> app::views::Page<app::views::InstitutionSummary> {
    app.search_institutions(&app.parse_search(&input).unwrap())
        .await
        .unwrap()
}

/// A search with one parameter set, as a query string would give it.
fn with(field: &str, value: &str) -> RawSearch {
    let mut r = RawSearch::default();
    let slot = match field {
        "q" => &mut r.q,
        "region" => &mut r.region,
        "category" => &mut r.category,
        "mode" => &mut r.mode,
        "list" => &mut r.list,
        "page" => &mut r.page,
        "per_page" => &mut r.per_page,
        other => panic!("no search parameter {other}"),
    };
    *slot = Some(value.to_owned());
    r
}

async fn all_institutions(t: &TestApp) -> Vec<InstitutionRow> {
    t.app
        .store()
        .read()
        .institutions_after("", 100_000)
        .await
        .unwrap()
}

#[tokio::test]
async fn demo_data_is_reproducible_realistic_and_within_policy() {
    let a = TestApp::with_demo(400).await;
    let b = TestApp::with_demo(400).await;
    let rows_a = all_institutions(&a).await;
    let rows_b = all_institutions(&b).await;
    assert_eq!(rows_a.len(), 400);
    assert_eq!(rows_a, rows_b, "the same seed gives the same registry");

    let provinces: HashSet<&str> = rows_a.iter().map(|r| &r.region_code[..2]).collect();
    assert!(provinces.len() >= 5, "only {} provinces", provinces.len());
    let statuses: HashSet<&str> = rows_a.iter().map(|r| r.list_status.as_str()).collect();
    assert_eq!(statuses.len(), 3, "white, grey and black all present");
    assert!(
        rows_a.iter().any(|r| r.mode == "online") && rows_a.iter().any(|r| r.mode == "offline")
    );
    for r in &rows_a {
        assert!(
            !r.list_reason.trim().is_empty(),
            "{} has no list reason",
            r.name
        );
        domain::credit_code::CreditCode::parse(&r.credit_code).expect("valid GB 32100 credit code");
        for c in a.app.store().read().courses_of(&r.id).await.unwrap() {
            assert!(c.lessons <= 60, "{} has {} lessons", c.name, c.lessons);
            assert!(
                c.lessons * c.price_per_lesson_fen <= 500_000,
                "{} costs more than 5,000 yuan",
                c.name
            );
        }
    }
}

#[tokio::test]
async fn demo_refuses_more_institutions_than_it_can_number() {
    let t = TestApp::empty().await;
    let err = t
        .app
        .seed_demo(app::demo::MAX_INSTITUTIONS + 1, 1, |_| {})
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidParameter);
    assert_eq!(t.app.store().read().institution_count().await.unwrap(), 0);
}

#[tokio::test]
async fn demo_seeding_writes_a_complete_verifiable_audit_trail() {
    let t = TestApp::with_demo(200).await;
    let counts = t.app.store().read().registry_counts().await.unwrap();
    let institutions =
        counts.white_institutions + counts.grey_institutions + counts.black_institutions;
    let (_, _, courses) = t.app.store().read().registry_fingerprint().await.unwrap();
    let notices = t
        .app
        .notices(Paging::new(None, Some(1)).unwrap())
        .await
        .unwrap()
        .total as i64;
    let accounts = t.app.store().read().account_count().await.unwrap();
    assert_eq!(
        accounts, 17,
        "eleven regulators, a bank operator, three staff, a school, a parent"
    );
    // One registration and one list placement per institution, a plate per white-listed one, one entry
    // per course, notice and account, one per child the demo parent links (two), the bank's API key, the
    // demo institution's confirmed supervised account, and the demo integrator's registration and grant.
    let expected =
        2 * institutions + counts.white_institutions + courses + notices + accounts + 2 + 1 + 1 + 2;
    assert_eq!(t.app.store().read().audit_count().await.unwrap(), expected);
    match verify_audit_chain(t.app.store()).await.unwrap() {
        ChainReport::Intact { entries, .. } => assert_eq!(entries, expected),
        ChainReport::Broken(b) => panic!("fresh demo chain broken: {b}"),
    }
}

#[tokio::test]
async fn a_chinese_word_finds_only_relevant_institutions() {
    let t = TestApp::with_demo(400).await;
    let q = t
        .app
        .parse_search(&RawSearch {
            per_page: Some("100".into()),
            ..raw("数学")
        })
        .unwrap();
    let page = t.app.search_institutions(&q).await.unwrap();
    assert!(
        page.total >= 5,
        "expected several 数学 institutions, got {}",
        page.total
    );
    for item in &page.items {
        let detail = t.app.institution_detail(&item.id).await.unwrap();
        let text = format!(
            "{} {} {} {}",
            detail.summary.name,
            detail.address,
            detail.intro,
            detail
                .courses
                .iter()
                .map(|c| c.name.as_str())
                .collect::<Vec<_>>()
                .join(" ")
        );
        assert!(
            text.contains("数学"),
            "irrelevant hit: {}",
            detail.summary.name
        );
    }
    // A name match ranks above a mention elsewhere.
    assert!(page.items[0].name.contains("数学"));
}

#[tokio::test]
async fn filters_hold_for_every_result() {
    let t = TestApp::with_demo(400).await;
    let q = t
        .app
        .parse_search(&RawSearch {
            region: Some("330000".into()),
            category: Some("艺术".into()),
            list: Some("white".into()),
            per_page: Some("100".into()),
            ..RawSearch::default()
        })
        .unwrap();
    let page = t.app.search_institutions(&q).await.unwrap();
    assert!(page.total > 0);
    for i in &page.items {
        assert!(
            i.region_code.starts_with("33"),
            "{} is in {}",
            i.name,
            i.region_code
        );
        assert_eq!(i.list_status, domain::ListStatus::White);
        assert!(i.categories.iter().any(|c| c.code == "arts"));
    }
    // The total counts every match, not just the page.
    let all = t
        .app
        .store()
        .read()
        .institutions_after("", 100_000)
        .await
        .unwrap();
    let expected = all
        .iter()
        .filter(|r| {
            r.region_code.starts_with("33")
                && r.list_status == domain::ListStatus::White
                && r.categories.split(',').any(|c| c == "arts")
        })
        .count();
    assert_eq!(page.total as usize, expected);
}

#[tokio::test]
async fn bad_search_input_gets_a_stable_code() {
    let t = TestApp::empty().await;
    let cases = [
        ("region", "999999".to_owned(), ErrorCode::UnknownRegion),
        ("region", "11010".to_owned(), ErrorCode::InvalidRegion),
        ("per_page", "101".to_owned(), ErrorCode::PerPageOutOfRange),
        ("page", "-1".to_owned(), ErrorCode::InvalidPage),
        ("page", "一".to_owned(), ErrorCode::InvalidPage),
        ("category", "烹饪".to_owned(), ErrorCode::InvalidCategory),
        ("mode", "hybrid".to_owned(), ErrorCode::InvalidMode),
        ("list", "purple".to_owned(), ErrorCode::InvalidListStatus),
        ("q", "长".repeat(101), ErrorCode::QueryTooLong),
    ];
    for (field, value, code) in cases {
        let input = with(field, &value);
        assert_eq!(
            t.app.parse_search(&input).unwrap_err().code,
            code,
            "{input:?}"
        );
    }
    // Empty form fields mean "not given".
    assert!(
        t.app
            .parse_search(&RawSearch {
                region: Some(String::new()),
                q: Some("  ".into()),
                ..RawSearch::default()
            })
            .is_ok()
    );
    assert_eq!(
        t.app.institution_detail("nope").await.unwrap_err().code,
        ErrorCode::InvalidId
    );
    assert_eq!(
        t.app
            .institution_detail("01909a55-3fd9-7b92-aff1-c6c58a7c0cce")
            .await
            .unwrap_err()
            .code,
        ErrorCode::NotFound
    );
}

fn record(t: &TestApp, n: u32, credit_code: &str) -> InstitutionRecord {
    let id = domain::InstitutionId::new_v7().to_string();
    let now = t.app.clock().now().millis();
    InstitutionRecord {
        institution: InstitutionRow {
            id: id.clone(),
            name: format!("测试围棋培训中心{n}"),
            credit_code: credit_code.to_owned(),
            licence_no: Some(format!("教民11010824{n:07}号")),
            region_code: "110108".into(),
            address: "北京市海淀区学院路1号".into(),
            mode: "offline".into(),
            categories: "arts".into(),
            intro: String::new(),
            list_status: domain::ListStatus::White,
            list_reason: "审核通过".into(),
            list_changed_at: now,
            created_at: now,
            updated_at: now,
            registry_state: domain::RegistryState::Listed,
        },
        courses: Vec::new(),
        list_change: ListChangeRow {
            id: domain::ListChangeId::new_v7().to_string(),
            institution_id: id,
            from_status: None,
            to_status: "white".into(),
            reason: "审核通过".into(),
            actor: "regulator:test".into(),
            at: now,
        },
        notices: Vec::new(),
    }
}

fn code(n: u32) -> String {
    domain::credit_code::CreditCode::complete("91", "110108", &format!("T{n:07}"))
        .unwrap()
        .as_str()
        .to_owned()
}

#[tokio::test]
async fn a_recorded_institution_is_searchable_at_once_with_its_evidence() {
    let t = TestApp::empty().await;
    let actor = Actor::System { name: "test" };
    t.app
        .record_institutions(&actor, &[record(&t, 1, &code(1))])
        .await
        .unwrap();
    let page = search(&t.app, raw("围棋")).await;
    assert_eq!(page.total, 1);
    // Registered, placed on the white list, and given its compliance plate.
    assert_eq!(t.app.store().read().audit_count().await.unwrap(), 3);
    let stats = t.app.home_stats().await.unwrap();
    assert_eq!(
        (
            stats.white_institutions,
            stats.counties_covered,
            stats.provinces_covered
        ),
        (1, 1, 1)
    );
}

#[tokio::test]
async fn a_failing_batch_leaves_no_partial_state() {
    let t = TestApp::empty().await;
    let actor = Actor::System { name: "test" };
    t.app
        .record_institutions(&actor, &[record(&t, 1, &code(1))])
        .await
        .unwrap();
    // The second record reuses a credit code: the whole batch must fail.
    let err = t
        .app
        .record_institutions(&actor, &[record(&t, 2, &code(2)), record(&t, 3, &code(1))])
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::Conflict);
    assert_eq!(t.app.store().read().institution_count().await.unwrap(), 1);
    assert_eq!(t.app.store().read().audit_count().await.unwrap(), 3);
    let page = search(&t.app, raw("围棋")).await;
    assert_eq!(
        page.total, 1,
        "nothing of the failed batch became searchable"
    );
    // Invalid input is refused before the database is touched.
    let mut bad = record(&t, 4, &code(4));
    bad.institution.region_code = "119999".into();
    assert_eq!(
        t.app
            .record_institutions(&actor, &[bad])
            .await
            .unwrap_err()
            .code,
        ErrorCode::UnknownRegion
    );
    let mut bad = record(&t, 5, "91110108T000000512");
    bad.institution.credit_code = "91110108T00000051X".into();
    assert_eq!(
        t.app
            .record_institutions(&actor, &[bad])
            .await
            .unwrap_err()
            .code,
        ErrorCode::InvalidCreditCode
    );
}

#[tokio::test]
async fn lists_show_newest_moves_first_with_reasons() {
    let t = TestApp::with_demo(300).await;
    let page = t
        .app
        .list_page(ListStatus::Black, Paging::new(None, Some(100)).unwrap())
        .await
        .unwrap();
    assert!(page.total > 0, "the demo black list is not empty");
    assert_eq!(
        page.total as i64,
        t.app.home_stats().await.unwrap().black_institutions
    );
    assert!(page.items.windows(2).all(|w| w[0].since >= w[1].since));
    assert!(
        page.items
            .iter()
            .all(|i| !i.reason.is_empty() && i.list_status == domain::ListStatus::Black)
    );
    let detail = t.app.institution_detail(&page.items[0].id).await.unwrap();
    assert_eq!(detail.list_history.len(), 1);
    assert_eq!(detail.list_history[0].to_status, "black");
    assert!(
        detail.courses.is_empty(),
        "black-listed institutions sell nothing"
    );
}

#[tokio::test]
async fn regions_come_from_the_directory_with_placeholders_named() {
    let t = TestApp::empty().await;
    assert_eq!(t.app.region_children(None).unwrap().len(), 31);
    let beijing = t.app.region_children(Some("110000")).unwrap();
    assert_eq!(beijing.len(), 1);
    assert!(beijing[0].placeholder);
    assert_eq!(beijing[0].display_name, "北京市");
    assert_eq!(t.app.region_children(Some("110100")).unwrap().len(), 16);
    assert_eq!(
        t.app.region_children(Some("999900")).unwrap_err().code,
        ErrorCode::UnknownRegion
    );
    assert_eq!(
        t.app.region_children(Some("x")).unwrap_err().code,
        ErrorCode::InvalidRegion
    );
    let code = domain::RegionCode::parse("110108").unwrap();
    assert_eq!(t.app.regions().full_name(&code), "北京市 海淀区");
}

#[tokio::test]
async fn a_persisted_index_is_reused_until_the_registry_changes() {
    let t = TestApp::with_demo(50).await;
    let dir = tempfile::tempdir().unwrap();
    let open = || {
        app::App::open(
            t.app.store().clone(),
            SearchLocation::Dir(dir.path().join("idx")),
            t.clock.clone(),
            app::vault::KeyRing::generate(std::sync::Arc::new(ledger::SmSuite)),
        )
    };
    let first = open().await.unwrap();
    assert_eq!(
        first
            .search_institutions(&first.parse_search(&RawSearch::default()).unwrap())
            .await
            .unwrap()
            .total,
        50
    );
    drop(first);
    let second = open().await.unwrap();
    assert_eq!(
        second.refresh_search_index().await.unwrap(),
        0,
        "unchanged registry: no rebuild"
    );
    drop(second);
    t.app
        .record_institutions(&Actor::System { name: "test" }, &[record(&t, 9, &code(9))])
        .await
        .unwrap();
    // A change made elsewhere (another process) is picked up on the next start.
    let third = open().await.unwrap();
    assert_eq!(
        third
            .search_institutions(&third.parse_search(&RawSearch::default()).unwrap())
            .await
            .unwrap()
            .total,
        51
    );
}

pub(crate) mod onboarding {
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
            t.app.sign_up(&bad).await.unwrap_err().code,
            ErrorCode::InvalidCreditCode
        );
        bad.credit_code = code.clone();
        bad.region_code = "110000".into();
        assert_eq!(
            t.app.sign_up(&bad).await.unwrap_err().code,
            ErrorCode::UnknownRegion,
            "the premises are in a county"
        );
        let signed = t
            .app
            .sign_up(&sign_up(&code, "qiming.admin"))
            .await
            .unwrap();
        let again = t
            .app
            .sign_up(&sign_up(&code, "other.admin"))
            .await
            .unwrap_err();
        assert_eq!(
            again.code,
            ErrorCode::Conflict,
            "one credit code, one institution"
        );
        assert_eq!(t.app.store().read().institution_count().await.unwrap(), 1);
        assert_eq!(
            t.app.store().read().account_count().await.unwrap(),
            1,
            "no orphan admin"
        );
        // Not public while applying.
        assert_eq!(
            t.app
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
        let fresh = t.app.my_filing(&admin).await.unwrap();
        assert_eq!((fresh.version, fresh.completeness < 100), (0, true));
        assert!(fresh.missing.iter().any(|m| m.field == "licence.document"));

        let mut expired = complete_filing();
        expired.licence.school_licence_expires = "2026-01-31".into();
        let e = t.app.save_filing(&admin, &expired).await.unwrap_err();
        assert_eq!(e.code, ErrorCode::CertificateExpired);
        assert!(
            e.detail.contains("licence.school_licence_expires"),
            "{}",
            e.detail
        );
        assert_eq!(
            t.app.my_filing(&admin).await.unwrap().version,
            0,
            "nothing saved"
        );

        // Documents: checked by content and size.
        let upload = |kind: &'static str, name: &'static str, bytes: Vec<u8>| {
            let app = t.app.clone();
            let admin = admin.clone();
            async move { app.upload_document(&admin, kind, name, &bytes).await }
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
            t.app.my_filing(&admin).await.unwrap().documents.is_empty(),
            "no partial records"
        );

        t.app.save_filing(&admin, &complete_filing()).await.unwrap();
        let incomplete = t.app.submit_filing(&admin).await.unwrap_err();
        assert_eq!(incomplete.code, ErrorCode::FilingIncomplete);
        assert!(
            incomplete.detail.contains("办学许可证扫描件"),
            "{}",
            incomplete.detail
        );
        let doc = upload("licence", "办学许可证.pdf", PDF.to_vec())
            .await
            .unwrap();
        assert_eq!(doc.content_type, "application/pdf");
        let (_, bytes) = t.app.document(&admin, &doc.id).await.unwrap();
        assert_eq!(bytes, PDF);
        let submitted = t.app.submit_filing(&admin).await.unwrap();
        assert_eq!(
            (submitted.status.as_str(), submitted.completeness),
            ("submitted", 100)
        );
        assert_eq!(
            t.app
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
            .review_queue(&reviewer("110108"), None, paging)
            .await
            .unwrap();
        assert_eq!(queue.total, 1);
        assert_eq!(queue.items[0].institution_id, signed.institution_id);
        t.clock.advance_millis(3 * 86_400_000);
        let queue = t
            .app
            .review_queue(&reviewer("110108"), None, paging)
            .await
            .unwrap();
        assert_eq!(queue.items[0].age_days, 3);
        assert_eq!(
            t.app
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
                .decide_filing(&reviewer("110108"), &signed.institution_id, &no_reason)
                .await
                .unwrap_err()
                .code,
            ErrorCode::InvalidParameter
        );
        let rejected = t
            .app
            .decide_filing(&reviewer("110108"), &signed.institution_id, &reject)
            .await
            .unwrap();
        assert_eq!(rejected.status, domain::FilingStatus::Rejected);
        let mine = t.app.my_filing(&admin).await.unwrap();
        assert_eq!(mine.rejected_fields.len(), 1);
        assert_eq!(mine.rejected_fields[0].label, "消防证明");

        // Fixed in a new version and submitted again.
        let mut fixed = complete_filing();
        fixed.premises.fire_cert_no = "海消2026-0002".into();
        let draft = t.app.save_filing(&admin, &fixed).await.unwrap();
        assert_eq!((draft.version, draft.status.as_str()), (2, "draft"));
        t.app.submit_filing(&admin).await.unwrap();
        let approve = Decision {
            approve: true,
            field_reasons: Default::default(),
        };
        let approved = t
            .app
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
}

mod changes {
    use super::onboarding::complete_filing;
    use super::*;
    use app::onboarding::Decision;
    use domain::access::RegulatorRole;

    #[tokio::test]
    async fn an_approved_name_change_updates_the_record_publishes_it_and_replaces_the_plate() {
        let t = TestApp::with_demo(30).await;
        let admin = t
            .app
            .login(&app::auth::PasswordLogin {
                username: "inst.admin".into(),
                password: app::demo::DEMO_PASSWORD.into(),
                totp: None,
                new_password: None,
                source: String::new(),
            })
            .await
            .unwrap();
        let admin = t.app.authenticate(&admin.access_token).await.unwrap();
        let id = match &admin {
            Actor::Staff { institution_id, .. } => institution_id.clone(),
            _ => unreachable!(),
        };
        let before = t
            .app
            .store()
            .read()
            .institution(&id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(before.list_status, domain::ListStatus::White);
        let old_token = t.app.store().read().plates_of(&id).await.unwrap()[0]
            .token
            .clone();
        let draft = t.app.my_filing(&admin).await.unwrap();
        assert_eq!(
            draft.data.basic.name, before.name,
            "a first draft starts from the registry"
        );

        let mut change = complete_filing();
        change.basic.name = "海淀新名称培训学校".into();
        change.premises.address = before.address.clone();
        t.app.save_filing(&admin, &change).await.unwrap();
        t.app
            .upload_document(
                &admin,
                "licence",
                "许可证.png",
                b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR",
            )
            .await
            .unwrap();
        let submitted = t.app.submit_filing(&admin).await.unwrap();
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
        t.app.decide_filing(&reviewer, &id, &approve).await.unwrap();

        let after = t.app.institution_detail(&id).await.unwrap();
        assert_eq!(after.summary.name, "海淀新名称培训学校");
        assert_eq!(
            after.summary.list_status,
            domain::ListStatus::White,
            "a change does not move lists"
        );
        assert_eq!(search(&t.app, raw("新名称")).await.total, 1);
        let notices = t
            .app
            .notices(Paging::new(None, Some(5)).unwrap())
            .await
            .unwrap();
        assert!(
            notices
                .items
                .iter()
                .any(|n| n.title.contains("海淀新名称培训学校") && n.body.contains(&before.name))
        );
        let old = t.app.check_plate(&old_token).await.unwrap();
        assert_eq!(
            (old.verdict, old.plate_status),
            ("attention", Some(domain::PlateStatus::Superseded))
        );
        let plates = t.app.store().read().plates_of(&id).await.unwrap();
        assert_eq!((plates[0].serial, plates[0].status.as_str()), (2, "active"));
        let new = t.app.check_plate(&plates[0].token).await.unwrap();
        assert_eq!(new.verdict, "valid");
    }
}

mod staff_checks {
    use super::*;
    use app::staff::{BlacklistEntry, Hire};
    use domain::access::{RegulatorRole, StaffRole};

    #[tokio::test]
    async fn hiring_refuses_the_black_list_and_serving_teachers_and_files_a_confirmed_record_check()
    {
        let t = TestApp::empty().await;
        let signed = t
            .app
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
            .hire_staff(&admin, &hire("某某", "110105198001010024"))
            .await
            .unwrap_err();
        assert_eq!(refused.code, ErrorCode::PractitionerBlacklisted);
        let mut serving = hire("李老师", "11010819900101001X");
        serving.serving_school_teacher = true;
        assert_eq!(
            t.app.hire_staff(&admin, &serving).await.unwrap_err().code,
            ErrorCode::ServingTeacherNotAllowed
        );
        let mut subject = hire("王老师", "11010819900101001X");
        subject.subject_teacher = true;
        assert_eq!(
            t.app.hire_staff(&admin, &subject).await.unwrap_err().code,
            ErrorCode::TeacherQualificationRequired
        );
        let mut no_check = hire("王老师", "11010819900101001X");
        no_check.record_check_document = uuid::Uuid::now_v7().to_string();
        assert_eq!(
            t.app.hire_staff(&admin, &no_check).await.unwrap_err().code,
            ErrorCode::RecordCheckRequired
        );
        assert_eq!(
            t.app
                .hire_staff(&admin, &hire("王老师", "110108199001010015"))
                .await
                .unwrap_err()
                .code,
            ErrorCode::InvalidIdCard
        );
        assert!(
            t.app.staff_register(&admin).await.unwrap().is_empty(),
            "nothing half-hired"
        );

        let hired = t
            .app
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
}

mod region_policy {
    use super::*;
    use app::policy::PolicyChange;
    use domain::access::RegulatorRole;
    use domain::policy::PolicyOverride;

    /// A supervisor of `region` (its own level: national, province, prefecture or county).
    pub(super) fn supervisor(region: &str) -> Actor {
        Actor::Regulator {
            account_id: format!("sup-{region}"),
            region: domain::RegionCode::parse(region).unwrap(),
            role: RegulatorRole::Supervisor,
        }
    }

    #[tokio::test]
    async fn each_level_sets_its_own_policy_and_the_lineage_applies_in_order() {
        let t = TestApp::empty().await;
        let national = PolicyChange {
            policy: PolicyOverride {
                max_fen_per_purchase: Some(300_000),
                ..PolicyOverride::default()
            },
            reason: "全国统一调整".into(),
        };
        t.app
            .set_region_policy(&supervisor("000000"), &national)
            .await
            .unwrap();
        let beijing = PolicyChange {
            policy: PolicyOverride {
                confirmation_working_days: Some(10),
                ..PolicyOverride::default()
            },
            reason: "北京市规定".into(),
        };
        t.app
            .set_region_policy(&supervisor("110000"), &beijing)
            .await
            .unwrap();

        let haidian = t.app.region_policy("110108").await.unwrap();
        assert_eq!(
            (
                haidian.policy.max_fen_per_purchase,
                haidian.policy.confirmation_working_days
            ),
            (300_000, 10)
        );
        assert_eq!(
            haidian.policy.max_lessons_per_purchase, 60,
            "the default where nobody set one"
        );
        assert_eq!(haidian.set_by_levels.len(), 2);
        let shanghai = t.app.region_policy("310104").await.unwrap();
        assert_eq!(
            (
                shanghai.policy.max_fen_per_purchase,
                shanghai.policy.confirmation_working_days
            ),
            (300_000, 15),
            "Beijing's rule stays in Beijing"
        );

        let mut wild = beijing.clone();
        wild.policy.confirmation_working_days = Some(0);
        assert_eq!(
            t.app
                .set_region_policy(&supervisor("110000"), &wild)
                .await
                .unwrap_err()
                .code,
            ErrorCode::InvalidParameter
        );
        let reviewer = Actor::Regulator {
            account_id: "rev".into(),
            region: domain::RegionCode::parse("110000").unwrap(),
            role: RegulatorRole::Reviewer,
        };
        assert_eq!(
            t.app
                .set_region_policy(&reviewer, &beijing)
                .await
                .unwrap_err()
                .code,
            ErrorCode::Forbidden
        );
        let trail = t
            .app
            .store()
            .read()
            .audit_entries_about("region:110000", 5)
            .await
            .unwrap();
        assert_eq!(trail[0].body.action, "region_policy.changed");
    }

    #[tokio::test]
    async fn a_county_cannot_loosen_a_national_rule_but_may_tighten_it() {
        let t = TestApp::empty().await;
        let change = |lessons| PolicyChange {
            policy: PolicyOverride {
                max_lessons_per_purchase: Some(lessons),
                ..PolicyOverride::default()
            },
            reason: "海淀区规定".into(),
        };
        let refused = t
            .app
            .set_region_policy(&supervisor("110108"), &change(80))
            .await
            .unwrap_err();
        assert_eq!(refused.code, ErrorCode::PolicyLoosened);
        assert!(
            refused.detail.contains("上级规定为60课时"),
            "names the national value: {}",
            refused.detail
        );
        assert_eq!(
            t.app
                .region_policy("110108")
                .await
                .unwrap()
                .policy
                .max_lessons_per_purchase,
            60,
            "nothing changed"
        );
        // Beijing tightens to 48: Haidian may go lower still, not back to the national 60.
        t.app
            .set_region_policy(&supervisor("110000"), &change(48))
            .await
            .unwrap();
        let refused = t
            .app
            .set_region_policy(&supervisor("110108"), &change(60))
            .await
            .unwrap_err();
        assert!(
            refused.detail.contains("上级规定为48课时"),
            "{}",
            refused.detail
        );
        t.app
            .set_region_policy(&supervisor("110108"), &change(40))
            .await
            .unwrap();
        assert_eq!(
            t.app
                .region_policy("110108")
                .await
                .unwrap()
                .policy
                .max_lessons_per_purchase,
            40
        );
        // The national level loosening its own rule is the national level's to decide.
        t.app
            .set_region_policy(&supervisor("000000"), &change(72))
            .await
            .unwrap();
    }
}

mod stored_ledger {
    use super::*;
    use app::money::LedgerAccountKind as K;
    use ledger::posting::{Posted, Transfer};

    fn transfer(id: &str, debit: &str, credit: &str, amount: u64) -> Transfer<String> {
        Transfer {
            id: id.into(),
            debit: debit.into(),
            credit: credit.into(),
            amount,
            code: 1,
        }
    }

    #[tokio::test]
    async fn stored_transfers_are_idempotent_and_escrow_never_goes_negative_in_code_or_database() {
        let t = TestApp::empty().await;
        for (id, kind) in [
            ("bank", K::BankClearing),
            ("escrow:o1", K::OrderEscrow),
            ("released:i1", K::InstitutionReleased),
        ] {
            t.app.open_ledger_account(id, kind, "test").await.unwrap();
        }
        let pay = transfer("pay:o1", "bank", "escrow:o1", 120_000);
        assert_eq!(t.app.post_transfer(&pay).await.unwrap(), Posted::Created);
        assert_eq!(
            t.app.post_transfer(&pay).await.unwrap(),
            Posted::AlreadyExists
        );
        let escrow = t.app.ledger_balance("escrow:o1").await.unwrap();
        assert_eq!(
            escrow.credit_balance(),
            120_000,
            "the duplicate changed nothing"
        );
        let mut changed = pay.clone();
        changed.amount = 1;
        assert_eq!(
            t.app.post_transfer(&changed).await.unwrap_err().code,
            ErrorCode::Conflict
        );

        let release = transfer("release:o1:1", "escrow:o1", "released:i1", 3_000);
        assert_eq!(
            t.app.post_transfer(&release).await.unwrap(),
            Posted::Created
        );
        let overdraw = transfer("release:o1:2", "escrow:o1", "released:i1", 117_001);
        assert_eq!(
            t.app.post_transfer(&overdraw).await.unwrap_err().code,
            ErrorCode::InsufficientFunds
        );
        let escrow = t.app.ledger_balance("escrow:o1").await.unwrap();
        let released = t.app.ledger_balance("released:i1").await.unwrap();
        assert_eq!(
            (escrow.credit_balance(), released.credit_balance()),
            (117_000, 3_000)
        );
        assert_eq!(
            escrow.credit_balance() + released.credit_balance(),
            120_000,
            "every fen accounted for"
        );

        // The database refuses an overdraft and a rewritten transfer even if code went around the rules.
        let pool = t.app.store().pool_for_tests();
        assert!(
            sqlx::query("UPDATE ledger_accounts SET debits_posted = 999999 WHERE id = 'escrow:o1'")
                .execute(pool)
                .await
                .is_err()
        );
        assert!(
            sqlx::query("UPDATE ledger_transfers SET amount = 1 WHERE id = 'pay:o1'")
                .execute(pool)
                .await
                .is_err()
        );
    }
}

/// Purchase, payment, movements, instructions and statements between the platform and a bank.
mod money_flow {
    use super::*;
    use app::bank::{DailyStatement, InstructionResult, MovementReport, PaymentNotice};
    use app::demo::{DEMO_ACCOUNT_NO, DEMO_BANK_KEY_ID};
    use app::orders::NewOrder;
    use app::parents::{NewChild, PhoneLogin};
    use app::testing::TEST_NOW;

    pub(super) struct Shop {
        pub(super) t: TestApp,
        parent: Actor,
        child_id: String,
        course_id: String,
        pub(super) institution_id: String,
        pub(super) bank: Actor,
    }

    const PHONE: &str = "13700000009";

    pub(super) async fn demo_staff(t: &TestApp) -> store::AccountRow {
        let mut tx = t.app.store().begin_write().await.unwrap();
        tx.account_by_username("inst.admin").await.unwrap().unwrap()
    }

    pub(super) async fn shop() -> Shop {
        let t = TestApp::with_demo(6).await;
        let staff = demo_staff(&t).await;
        let institution_id = staff.institution_id.unwrap();
        let course_id = t
            .app
            .store()
            .read()
            .courses_of(&institution_id)
            .await
            .unwrap()
            .into_iter()
            .find(|c| c.price_per_lesson_fen > 0)
            .expect("the demo institution sells a priced course")
            .id;
        t.app.request_login_code(PHONE).await.unwrap();
        let text = t.sms.last_to(PHONE).unwrap();
        let code: String = text.chars().filter(char::is_ascii_digit).take(6).collect();
        let parent = Actor::Parent {
            account_id: t
                .app
                .login_with_code(&PhoneLogin {
                    phone: PHONE.into(),
                    code,
                })
                .await
                .unwrap()
                .actor
                .account_id,
        };
        let child = NewChild {
            name: "李小华".into(),
            gender: "female".into(),
            id_card: "110108201506060039".into(),
            school: "海淀实验小学".into(),
            grade: "小学四年级".into(),
        };
        let child_id = t.app.add_child(&parent, &child).await.unwrap().id;
        Shop {
            t,
            parent,
            child_id,
            course_id,
            institution_id,
            bank: Actor::ApiClient {
                key_id: DEMO_BANK_KEY_ID.into(),
                owner_kind: "bank".into(),
                owner_id: "demo-bank".into(),
            },
        }
    }

    /// When a window of `working_days` opened today (the tests' now) closes: the end of its last working day,
    /// China time.
    pub(super) fn window_closes(working_days: u32) -> i64 {
        let last = domain::WorkingDayCalendar::china()
            .add_working_days(TEST_NOW.china_date(), working_days);
        last.succ_opt()
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap()
            .and_local_timezone(domain::time::china_offset())
            .unwrap()
            .timestamp_millis()
    }

    /// A supervisor of a province other than the one `region` lies in.
    pub(super) fn supervisor_outside(region: &str) -> Actor {
        let other = if region.starts_with("11") {
            "310000"
        } else {
            "110000"
        };
        Actor::Regulator {
            account_id: "elsewhere".into(),
            region: domain::RegionCode::parse(other).unwrap(),
            role: domain::access::RegulatorRole::Supervisor,
        }
    }

    impl Shop {
        pub(super) fn parent_actor(&self) -> Actor {
            self.parent.clone()
        }

        pub(super) fn bank_actor(&self) -> Actor {
            self.bank.clone()
        }

        /// The demo institution's admin, acting in `role`.
        pub(super) async fn staff(&self, role: domain::access::StaffRole) -> Actor {
            Actor::Staff {
                account_id: demo_staff(&self.t).await.id,
                institution_id: self.institution_id.clone(),
                role,
            }
        }

        /// The region of the regulator competent for the demo institution (county offline, province online).
        pub(super) async fn competent_region(&self) -> domain::RegionCode {
            let institution = self
                .t
                .app
                .store()
                .read()
                .institution(&self.institution_id)
                .await
                .unwrap()
                .unwrap();
            domain::access::competent_region(
                domain::TeachingMode::parse(&institution.mode).unwrap(),
                &domain::RegionCode::parse(&institution.region_code).unwrap(),
            )
        }

        /// A supervisor of the competent region.
        pub(super) async fn competent_supervisor(&self) -> Actor {
            Actor::Regulator {
                account_id: "competent-supervisor".into(),
                region: self.competent_region().await,
                role: domain::access::RegulatorRole::Supervisor,
            }
        }

        /// The demo institution's admin takes attendance (with a sign-in sheet) for the order's next lesson.
        pub(super) async fn attend(&self, order_id: &str) -> app::lessons::LessonView {
            let admin = self.staff(domain::access::StaffRole::Admin).await;
            let attendance = app::lessons::Attendance {
                evidence: "点名".into(),
            };
            self.t
                .app
                .take_attendance(&admin, order_id, &attendance)
                .await
                .unwrap()
        }

        /// The order as its parent sees it.
        pub(super) async fn line(&self, order_id: &str) -> app::orders::OrderLine {
            self.t
                .app
                .order_for(&self.parent, order_id)
                .await
                .unwrap()
                .line
        }

        pub(super) async fn order(&self) -> app::orders::OrderDetail {
            self.try_order().await.unwrap()
        }

        pub(super) async fn try_order(&self) -> Result<app::orders::OrderDetail, app::AppError> {
            let new = NewOrder {
                course_id: self.course_id.clone(),
                child_id: self.child_id.clone(),
            };
            self.t.app.place_order(&self.parent, &new).await
        }

        /// An order paid, with the bank's report of the money arriving in the supervised account (the
        /// account's balance is then exactly the order's amount). Returns the order and its amount.
        pub(super) async fn paid_and_deposited(&self) -> (app::orders::OrderDetail, i64) {
            let order = self.order().await;
            let paid = order.line.amount_fen;
            self.pay(&order, "PAY-1").await;
            self.movement("MV-IN", "in", paid, paid, TEST_NOW.millis(), None)
                .await
                .unwrap();
            (order, paid)
        }

        pub(super) async fn pay(
            &self,
            order: &app::orders::OrderDetail,
            bank_ref: &str,
        ) -> app::bank::PaymentAck {
            let notice = PaymentNotice {
                order_no: order.line.order_no.clone(),
                account_no: DEMO_ACCOUNT_NO.into(),
                amount_fen: order.line.amount_fen,
                bank_ref: bank_ref.into(),
                paid_at: TEST_NOW.millis(),
            };
            self.t
                .app
                .record_payment(&self.bank, &notice)
                .await
                .unwrap()
        }

        pub(super) async fn movement(
            &self,
            bank_ref: &str,
            direction: &str,
            amount_fen: i64,
            balance_after_fen: i64,
            at: i64,
            instruction_id: Option<&str>,
        ) -> Result<app::bank::MovementAck, app::AppError> {
            let report = MovementReport {
                account_no: DEMO_ACCOUNT_NO.into(),
                bank_ref: bank_ref.into(),
                direction: direction.into(),
                amount_fen,
                balance_after_fen,
                occurred_at: at,
                instruction_id: instruction_id.map(str::to_owned),
                order_no: None,
            };
            self.t.app.record_movement(&self.bank, &report).await
        }

        /// What the platform holds in escrow on the demo account, all orders together.
        pub(super) async fn escrow_total(&self) -> i64 {
            let account = self
                .t
                .app
                .store()
                .read()
                .supervised_accounts_of(&self.institution_id)
                .await
                .unwrap()
                .into_iter()
                .find(|a| a.account_no == DEMO_ACCOUNT_NO)
                .unwrap();
            self.t
                .app
                .store()
                .read()
                .escrow_owed(&account.id)
                .await
                .unwrap()
        }

        pub(super) async fn escrow(&self, order_id: &str) -> i64 {
            self.t
                .app
                .order_for(&self.parent, order_id)
                .await
                .unwrap()
                .line
                .escrow_fen
        }

        pub(super) async fn risks(&self) -> Vec<String> {
            self.t
                .app
                .store()
                .read()
                .risk_events(Some(&self.institution_id), 50)
                .await
                .unwrap()
                .into_iter()
                .map(|r| r.kind)
                .collect()
        }
    }

    #[tokio::test]
    async fn an_order_carries_its_contract_and_turns_paid_only_once_when_the_bank_says_so() {
        let s = shop().await;
        let order = s.order().await;
        assert_eq!(order.line.status, OrderStatus::AwaitingPayment);
        assert_eq!(order.line.escrow_fen, 0);
        assert!(order.line.order_no.starts_with("XW20261126"));
        let c = &order.contract;
        assert_eq!(c.template, "GF-2021-2604");
        assert_eq!(c.price.total_fen, order.line.amount_fen);
        assert_eq!(
            c.price.total_fen,
            c.price.price_per_lesson_fen * i64::from(c.price.lessons)
        );
        assert_eq!(c.customer.child_name_masked, "李*华");
        assert_eq!(c.supervision.account_no, DEMO_ACCOUNT_NO);
        assert_eq!(c.refund_terms.response_working_days, 5);
        assert_eq!(order.contract_digest.len(), 64);
        let digest = hex::encode(ledger::Crypto::hash(
            &ledger::SmSuite,
            &[ledger::canonical_json(&serde_json::to_value(c).unwrap()).as_bytes()],
        ));
        assert_eq!(
            order.contract_digest, digest,
            "the digest is the SM3 of the stored contract"
        );
        assert_eq!(order.refund_preview.len(), c.price.lessons as usize + 1);
        assert_eq!(order.refund_preview[0].refund_fen, order.line.amount_fen);
        assert_eq!(order.refund_preview.last().unwrap().refund_fen, 0);

        let ack = s.pay(&order, "PAY-0001").await;
        assert_eq!(
            (ack.status, ack.escrow_fen, ack.duplicate),
            (PaymentResult::Paid, order.line.amount_fen, false)
        );
        let again = s.pay(&order, "PAY-0001").await;
        assert!(again.duplicate, "the same payment twice changes nothing");
        assert_eq!(s.escrow(&order.line.id).await, order.line.amount_fen);
        let other = PaymentNotice {
            order_no: order.line.order_no.clone(),
            account_no: DEMO_ACCOUNT_NO.into(),
            amount_fen: order.line.amount_fen,
            bank_ref: "PAY-0002".into(),
            paid_at: TEST_NOW.millis(),
        };
        assert_eq!(
            s.t.app
                .record_payment(&s.bank, &other)
                .await
                .unwrap_err()
                .code,
            ErrorCode::AlreadyPaid
        );
        assert_eq!(s.escrow(&order.line.id).await, order.line.amount_fen);

        let second = s.order().await;
        let short = PaymentNotice {
            order_no: second.line.order_no.clone(),
            amount_fen: second.line.amount_fen - 1,
            bank_ref: "PAY-0003".into(),
            ..other.clone()
        };
        assert_eq!(
            s.t.app
                .record_payment(&s.bank, &short)
                .await
                .unwrap_err()
                .code,
            ErrorCode::AmountMismatch
        );
        let stranger_bank = Actor::ApiClient {
            key_id: "xwk_other".into(),
            owner_kind: "bank".into(),
            owner_id: "other-bank".into(),
        };
        let full = PaymentNotice {
            amount_fen: second.line.amount_fen,
            ..short.clone()
        };
        assert_eq!(
            s.t.app
                .record_payment(&stranger_bank, &full)
                .await
                .unwrap_err()
                .code,
            ErrorCode::NotFound,
            "another bank cannot pay into this account"
        );
        let still = s.t.app.order_for(&s.parent, &second.line.id).await.unwrap();
        assert_eq!(
            (still.line.status.as_str(), still.line.escrow_fen),
            ("awaiting_payment", 0)
        );

        // The institution and a regulator over it see the same escrow; a stranger parent does not see it.
        let staff = s.staff(domain::access::StaffRole::Admin).await;
        let lines =
            s.t.app
                .institution_orders(&staff, &s.institution_id)
                .await
                .unwrap();
        let seen = lines.iter().find(|l| l.id == order.line.id).unwrap();
        assert_eq!(seen.escrow_fen, order.line.amount_fen);
        let stranger = Actor::Parent {
            account_id: "nobody".into(),
        };
        assert_eq!(
            s.t.app
                .order_for(&stranger, &order.line.id)
                .await
                .unwrap_err()
                .code,
            ErrorCode::Forbidden
        );
    }

    #[tokio::test]
    async fn a_batch_answers_each_notice_and_commits_the_good_ones_together() {
        use app::bank::{PaymentBatch, PaymentOutcome};
        let s = shop().await;
        let (a, b) = (s.order().await, s.order().await);
        let notice = |o: &app::orders::OrderDetail, amount: i64, bank_ref: &str| PaymentNotice {
            order_no: o.line.order_no.clone(),
            account_no: DEMO_ACCOUNT_NO.into(),
            amount_fen: amount,
            bank_ref: bank_ref.into(),
            paid_at: TEST_NOW.millis(),
        };
        let batch = PaymentBatch {
            payments: vec![
                notice(&a, a.line.amount_fen, "B-1"),
                notice(&b, b.line.amount_fen + 1, "B-2"),
                notice(&a, a.line.amount_fen, "B-1"),
                notice(&a, a.line.amount_fen, "B-3"),
            ],
        };
        let outcomes = s.t.app.record_payments(&s.bank, &batch).await.unwrap();
        let summary: Vec<String> = outcomes
            .iter()
            .map(|o| match o {
                PaymentOutcome::Ok(ack) => format!("ok duplicate={}", ack.duplicate),
                PaymentOutcome::Refused { code, .. } => format!("refused {code}"),
            })
            .collect();
        assert_eq!(
            summary,
            [
                "ok duplicate=false",
                "refused amount_mismatch",
                "ok duplicate=true",
                "refused already_paid"
            ]
        );
        assert_eq!(s.escrow(&a.line.id).await, a.line.amount_fen);
        assert_eq!(s.escrow(&b.line.id).await, 0);
        let empty = PaymentBatch { payments: vec![] };
        assert_eq!(
            s.t.app
                .record_payments(&s.bank, &empty)
                .await
                .unwrap_err()
                .code,
            ErrorCode::InvalidParameter
        );
    }

    #[tokio::test]
    async fn a_region_may_forbid_collecting_long_before_the_course_starts() {
        let s = shop().await;
        let admin = s.staff(domain::access::StaffRole::Admin).await;
        let course = app::courses::NewCourse {
            name: "春季创意美术".into(),
            category: "arts".into(),
            mode: "offline".into(),
            grades: "一至三年级".into(),
            lessons: 12,
            minutes_per_lesson: 60,
            class_size: 10,
            price_per_lesson_fen: 12_000,
            first_lesson: "2027-03-01".into(),
            last_lesson: "2027-05-31".into(),
            preferential_total_fen: None,
            schedule: None,
        };
        let course_id = s.t.app.publish_course(&admin, &course).await.unwrap();
        let national = Actor::Regulator {
            account_id: "sup".into(),
            region: domain::RegionCode::parse("000000").unwrap(),
            role: domain::access::RegulatorRole::Supervisor,
        };
        let rule = app::policy::PolicyChange {
            policy: domain::policy::PolicyOverride {
                max_days_before_start: Some(30),
                ..Default::default()
            },
            reason: "开课前一个月内方可收费".into(),
        };
        s.t.app.set_region_policy(&national, &rule).await.unwrap();
        let new = NewOrder {
            course_id,
            child_id: s.child_id.clone(),
        };
        let early = s.t.app.place_order(&s.parent, &new).await.unwrap_err();
        assert_eq!(early.code, ErrorCode::PolicyViolation);
        assert_eq!(early.detail, "开课前30天以上不得收费，本课程2027-03-01开课");
        // 2027-02-01 in China: within 30 days of the start.
        s.t.clock
            .set(domain::Timestamp::from_millis(1_801_443_600_000));
        assert_eq!(s.t.app.clock().now().china_date().to_string(), "2027-02-01");
        s.t.app.place_order(&s.parent, &new).await.unwrap();
    }

    #[tokio::test]
    async fn duplicated_and_reordered_movements_change_nothing_the_second_time() {
        let s = shop().await;
        let order = s.order().await;
        let paid = order.line.amount_fen;
        s.pay(&order, "PAY-1").await;
        let t0 = TEST_NOW.millis();
        let system = Actor::System { name: "test" };
        let fee =
            domain::contract::lesson_fee(domain::Fen::new(paid), order.contract.price.lessons, 1)
                .unwrap()
                .get();
        let release =
            s.t.app
                .instruct_bank(&system, "release", &order.line.id, fee)
                .await
                .unwrap();

        // The outflow arrives before the inflow that preceded it at the bank.
        let out = s
            .movement(
                "MV-2",
                "out",
                fee,
                paid - fee,
                t0 + 2_000,
                Some(&release.instruction_id),
            )
            .await
            .unwrap();
        assert_eq!(
            (out.matched.as_str(), out.risk_events.len()),
            ("matched", 0)
        );
        let late_in = s
            .movement("MV-1", "in", paid, paid, t0 + 1_000, None)
            .await
            .unwrap();
        assert!(late_in.risk_events.is_empty());
        let again = s
            .movement(
                "MV-2",
                "out",
                fee,
                paid - fee,
                t0 + 2_000,
                Some(&release.instruction_id),
            )
            .await
            .unwrap();
        assert!(again.duplicate);
        // The bank's result after its movement: already executed, nothing moves twice.
        let result = InstructionResult {
            status: "executed".into(),
            bank_ref: Some("MV-2".into()),
            reason: None,
        };
        let view =
            s.t.app
                .record_instruction_result(&s.bank, &release.instruction_id, &result)
                .await
                .unwrap();
        assert_eq!(view.status, InstructionStatus::Executed);
        s.t.app
            .record_instruction_result(&s.bank, &release.instruction_id, &result)
            .await
            .unwrap();

        let line =
            s.t.app
                .order_for(&s.parent, &order.line.id)
                .await
                .unwrap()
                .line;
        assert_eq!(
            (line.escrow_fen, line.released_fen, line.refunded_fen),
            (paid - fee, fee, 0)
        );
        assert_eq!(
            line.escrow_fen + line.released_fen + line.refunded_fen,
            paid
        );
        let account =
            s.t.app
                .store()
                .read()
                .supervised_accounts_of(&s.institution_id)
                .await
                .unwrap()
                .remove(0);
        assert_eq!(
            (account.reported_balance_fen, account.reported_at),
            (Some(paid - fee), Some(t0 + 2_000)),
            "the older report did not roll the balance back"
        );
        assert!(account.reconciled_at.is_some());
        assert!(s.risks().await.is_empty());

        // More than the escrow cannot be instructed, counting what is instructed and not yet executed.
        let refund =
            s.t.app
                .instruct_bank(&system, "refund", &order.line.id, paid - fee)
                .await
                .unwrap();
        assert_eq!(
            s.t.app
                .instruct_bank(&system, "refund", &order.line.id, 1)
                .await
                .unwrap_err()
                .code,
            ErrorCode::InsufficientFunds
        );
        let failed = InstructionResult {
            status: "failed".into(),
            bank_ref: None,
            reason: Some("收款账户已销户".into()),
        };
        s.t.app
            .record_instruction_result(&s.bank, &refund.instruction_id, &failed)
            .await
            .unwrap();
        assert_eq!(
            s.escrow(&order.line.id).await,
            paid - fee,
            "a failed refund leaves the escrow"
        );
        assert_eq!(
            s.t.app
                .record_instruction_result(&s.bank, &refund.instruction_id, &result)
                .await
                .unwrap_err()
                .code,
            ErrorCode::Conflict
        );
    }

    #[tokio::test]
    async fn an_outflow_nobody_instructed_raises_a_red_event_within_the_report() {
        let s = shop().await;
        let order = s.order().await;
        let paid = order.line.amount_fen;
        s.pay(&order, "PAY-1").await;
        let t0 = TEST_NOW.millis();
        s.movement("MV-1", "in", paid, paid, t0, None)
            .await
            .unwrap();
        let started = std::time::Instant::now();
        let ack = s
            .movement("MV-X", "out", 50_000, paid - 50_000, t0 + 1, None)
            .await
            .unwrap();
        let elapsed = started.elapsed();
        assert_eq!(ack.matched, "unmatched");
        assert_eq!(
            ack.risk_events,
            vec!["unmatched_outflow", "balance_shortfall"]
        );
        assert!(
            elapsed < std::time::Duration::from_secs(1),
            "raised in {elapsed:?}"
        );
        // The institution's staff are told at once, by inbox and text message.
        let admin = s.staff(domain::access::StaffRole::Admin).await;
        let inbox = s.t.app.my_notifications(&admin).await.unwrap();
        assert!(
            inbox
                .iter()
                .any(|n| n.title == "红色风险预警" && n.body.contains("未经平台指令")),
            "{inbox:?}"
        );
        // The model raised its warnings from the same report, with the version and inputs that fired them.
        let warnings = s.t.app.warnings_for(&admin, 0).await.unwrap();
        let mut fired: Vec<(&str, &str)> = warnings
            .iter()
            .map(|w| (w.indicator.as_str(), w.level.as_str()))
            .collect();
        fired.sort();
        use domain::risk::{Indicator, RiskModel};
        let model = RiskModel::default();
        let mut expected = vec![("unmatched_outflow", "red")];
        for (indicator, value) in [
            (Indicator::LargeOutflow, 50_000 * 100 / paid),
            (Indicator::BalanceCoverage, (paid - 50_000) * 100 / paid),
        ] {
            if let Some(f) = model.evaluate(indicator, value) {
                expected.push((indicator.as_str(), f.level.as_str()));
            }
        }
        assert!(
            expected.len() > 1,
            "a coverage or large-outflow warning too"
        );
        expected.sort();
        assert_eq!(fired, expected);
        assert!(
            warnings
                .iter()
                .all(|w| w.model_version == 0 && w.status == domain::WarningStatus::Open)
        );
        let unmatched = warnings
            .iter()
            .find(|w| w.indicator == "unmatched_outflow")
            .unwrap();
        assert_eq!(unmatched.inputs["value"], 50_000);
        let stored =
            s.t.app
                .store()
                .read()
                .risk_events(Some(&s.institution_id), 10)
                .await
                .unwrap();
        let red: Vec<_> = stored.iter().filter(|r| r.level == "red").collect();
        assert_eq!(red.len(), 2);
        assert!(
            stored.iter().all(|r| r.raised_at == t0),
            "stamped on the platform's clock at the report"
        );
        // A made-up instruction id is no better than none.
        let ack = s
            .movement(
                "MV-Y",
                "out",
                100,
                paid - 50_100,
                t0 + 2,
                Some("ins_forged"),
            )
            .await
            .unwrap();
        assert_eq!(ack.matched, "unmatched");
        assert_eq!(
            s.escrow(&order.line.id).await,
            paid,
            "the platform's escrow is untouched"
        );
    }

    #[tokio::test]
    async fn statements_must_add_up_and_agree_with_the_movements_and_must_arrive() {
        let s = shop().await;
        let order = s.order().await;
        let paid = order.line.amount_fen;
        s.pay(&order, "PAY-1").await;
        s.movement("MV-1", "in", paid, paid, TEST_NOW.millis(), None)
            .await
            .unwrap();
        let statement = DailyStatement {
            account_no: DEMO_ACCOUNT_NO.into(),
            date: "2026-11-26".into(),
            opening_fen: 0,
            closing_fen: paid,
            inflow_fen: paid,
            outflow_fen: 0,
            movement_count: 1,
            entries: Vec::new(),
        };
        let ack = s.t.app.record_statement(&s.bank, &statement).await.unwrap();
        assert!(ack.consistent && !ack.duplicate);
        assert!(
            s.t.app
                .record_statement(&s.bank, &statement)
                .await
                .unwrap()
                .duplicate
        );
        let wrong_sum = DailyStatement {
            closing_fen: paid + 1,
            date: "2026-11-25".into(),
            ..statement.clone()
        };
        assert_eq!(
            s.t.app
                .record_statement(&s.bank, &wrong_sum)
                .await
                .unwrap_err()
                .code,
            ErrorCode::AmountMismatch
        );
        let invented = DailyStatement {
            date: "2026-11-25".into(),
            opening_fen: 0,
            closing_fen: 0,
            inflow_fen: 500,
            outflow_fen: 500,
            movement_count: 2,
            ..statement.clone()
        };
        assert!(
            !s.t.app
                .record_statement(&s.bank, &invented)
                .await
                .unwrap()
                .consistent
        );
        assert_eq!(s.risks().await, vec!["statement_mismatch"]);

        // The next day passes without a statement for the 27th: the sweep raises it once.
        let day = chrono::NaiveDate::from_ymd_opt(2026, 11, 27).unwrap();
        assert_eq!(
            s.t.app.check_statements(day).await.unwrap(),
            0,
            "the day is not over yet"
        );
        s.t.clock.advance_millis(2 * 86_400_000);
        assert_eq!(s.t.app.check_statements(day).await.unwrap(), 1);
        assert_eq!(
            s.t.app.check_statements(day).await.unwrap(),
            0,
            "raised once"
        );
        let kinds = s.risks().await;
        assert_eq!(
            kinds.iter().filter(|k| *k == "missing_statement").count(),
            1
        );
    }

    #[tokio::test]
    async fn instructions_are_signed_and_retried_with_backoff_until_the_bank_acknowledges() {
        use std::sync::{Arc, Mutex};
        let s = shop().await;
        let order = s.order().await;
        s.pay(&order, "PAY-1").await;
        // A bank endpoint that fails twice, then acknowledges; it keeps what it received.
        type Received = Arc<Mutex<Vec<(axum::http::HeaderMap, Vec<u8>)>>>;
        let received: Received = Arc::default();
        let seen = received.clone();
        let router = axum::Router::new().route(
            "/bank/instructions",
            axum::routing::post(
                move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
                    let seen = seen.clone();
                    async move {
                        let mut all = seen.lock().unwrap();
                        all.push((headers, body.to_vec()));
                        if all.len() <= 2 {
                            axum::http::StatusCode::SERVICE_UNAVAILABLE
                        } else {
                            axum::http::StatusCode::ACCEPTED
                        }
                    }
                },
            ),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        let endpoint = app::bank::EndpointRegistration {
            instruction_url: format!("{base}/bank/instructions"),
            checkout_url: format!("{base}/checkout"),
        };
        s.t.app
            .register_bank_endpoint(&s.bank, &endpoint)
            .await
            .unwrap();
        let system = Actor::System { name: "test" };
        let ins =
            s.t.app
                .instruct_bank(&system, "release", &order.line.id, 100)
                .await
                .unwrap();

        assert_eq!(s.t.app.deliver_due_instructions().await.unwrap(), 0);
        assert_eq!(
            s.t.app.deliver_due_instructions().await.unwrap(),
            0,
            "not due again before its backoff"
        );
        assert_eq!(received.lock().unwrap().len(), 1);
        s.t.clock.advance_millis(1_000);
        assert_eq!(s.t.app.deliver_due_instructions().await.unwrap(), 0);
        s.t.clock.advance_millis(2_000);
        assert_eq!(s.t.app.deliver_due_instructions().await.unwrap(), 1);
        let view = s.t.app.instruction_view(&ins.instruction_id).await.unwrap();
        assert_eq!((view.status.as_str(), view.attempts), ("acknowledged", 3));
        s.t.clock.advance_millis(599_000);
        s.t.app.deliver_due_instructions().await.unwrap();
        assert_eq!(
            received.lock().unwrap().len(),
            3,
            "an acknowledged instruction is not sent again before it is due to be asked again"
        );

        // Each delivery is signed with the bank's key, as the bank's own requests are.
        let (headers, body) = received.lock().unwrap()[2].clone();
        let h = |n: &str| headers.get(n).unwrap().to_str().unwrap().to_owned();
        let canonical = app::signing::canonical_request(
            &ledger::SmSuite,
            "POST",
            "/bank/instructions",
            &body,
            h("x-xiaowai-timestamp").parse().unwrap(),
            &h("x-xiaowai-nonce"),
        );
        assert_eq!(
            h("x-xiaowai-signature"),
            app::signing::sign(
                &ledger::SmSuite,
                app::demo::DEMO_BANK_SECRET.as_bytes(),
                &canonical
            )
        );
        assert_eq!(h("idempotency-key"), ins.instruction_id);
        let sent: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(sent["amount_fen"], 100);
        assert_eq!(sent["order_no"], order.line.order_no.as_str());
    }

    #[tokio::test]
    async fn an_idempotency_key_answers_the_same_request_once_and_refuses_another() {
        let s = shop().await;
        let answer = serde_json::json!({"ok": true});
        assert!(
            s.t.app
                .idempotent_replay(&s.bank, "k-1", b"{}")
                .await
                .unwrap()
                .is_none()
        );
        s.t.app
            .remember_answer(&s.bank, "k-1", b"{}", 200, &answer)
            .await
            .unwrap();
        assert_eq!(
            s.t.app
                .idempotent_replay(&s.bank, "k-1", b"{}")
                .await
                .unwrap(),
            Some((200, answer))
        );
        assert_eq!(
            s.t.app
                .idempotent_replay(&s.bank, "k-1", b"{\"x\":1}")
                .await
                .unwrap_err()
                .code,
            ErrorCode::IdempotencyKeyReused
        );
    }
}

mod risk_deposit {
    #[tokio::test]
    async fn a_deposit_below_the_regions_share_of_outstanding_fees_is_a_shortfall() {
        // The demo institution's account switched to risk-deposit mode: the deposit must cover 20% of what
        // families have prepaid and not yet consumed (the national default), not all of it.
        let s = super::money_flow::shop().await;
        sqlx::query("UPDATE supervised_accounts SET mode = 'risk_deposit'")
            .execute(s.t.app.store().pool_for_tests())
            .await
            .unwrap();
        let order = s.order().await;
        let paid = order.line.amount_fen;
        s.pay(&order, "PAY-1").await;
        let share = paid * 20 / 100;
        let t0 = app::testing::TEST_NOW.millis();
        let enough = s
            .movement("DEP-1", "in", share, share, t0, None)
            .await
            .unwrap();
        assert!(
            enough.risk_events.is_empty(),
            "20% of {paid} is covered by {share}"
        );
        let short = s
            .movement("DEP-2", "out", 1, share - 1, t0 + 1, None)
            .await
            .unwrap();
        assert_eq!(
            short.risk_events,
            vec!["unmatched_outflow", "deposit_shortfall"]
        );
        let events =
            s.t.app
                .store()
                .read()
                .risk_events(Some(&s.institution_id), 10)
                .await
                .unwrap();
        let shortfall = events
            .iter()
            .find(|e| e.kind == "deposit_shortfall")
            .unwrap();
        assert_eq!(shortfall.level, "orange");
        let detail: serde_json::Value = serde_json::from_str(&shortfall.detail_json).unwrap();
        assert_eq!(detail["required_fen"], share);
        assert_eq!(detail["balance_fen"], share - 1);
    }
}

mod schedules {
    use super::*;
    use app::courses::{NewCourse, NewSchedule};

    async fn teacher(
        t: &TestApp,
        admin: &Actor,
        institution_id: &str,
        cert: Option<&str>,
    ) -> String {
        let check = t
            .app
            .upload_document(
                admin,
                "record_check",
                "check.pdf",
                b"%PDF-1.4\n%record check\n",
            )
            .await
            .unwrap();
        let id = uuid::Uuid::now_v7().to_string();
        let mut tx = t.app.store().begin_write().await.unwrap();
        tx.insert_staff_member(&store::StaffMemberRow {
            id: id.clone(),
            institution_id: institution_id.into(),
            name_sealed: "sealed".into(),
            id_card_sealed: "sealed".into(),
            id_card_index: id.clone(),
            role: "teaching".into(),
            subject_teacher: i64::from(cert.is_some()),
            teacher_cert_no: cert.map(str::to_owned),
            record_check_document: check.id,
            record_check_confirmed_by: None,
            record_check_confirmed_at: None,
            hired_at: 0,
            left_at: None,
        })
        .await
        .unwrap();
        tx.commit().await.unwrap();
        id
    }

    fn course(
        category: &str,
        weekdays: Vec<u32>,
        start: &str,
        teacher: &str,
        room: &str,
    ) -> NewCourse {
        NewCourse {
            name: format!("{category} {start}"),
            category: category.into(),
            mode: "offline".into(),
            grades: "三年级".into(),
            lessons: 4,
            minutes_per_lesson: 45,
            class_size: 12,
            price_per_lesson_fen: 5_000,
            first_lesson: "2027-03-01".into(),
            last_lesson: "2027-03-31".into(),
            preferential_total_fen: None,
            schedule: Some(NewSchedule {
                weekdays,
                times: vec![start.into()],
                teacher_id: teacher.into(),
                room: room.into(),
            }),
        }
    }

    /// The refusal names the rule with its numbers.
    fn says(e: &app::AppError, text: &str) {
        assert_eq!(e.code, ErrorCode::PolicyViolation);
        assert!(e.detail.contains(text), "{}", e.detail);
    }

    #[tokio::test]
    async fn a_schedule_keeps_the_time_rules_and_never_puts_a_teacher_or_room_in_two_places() {
        let t = TestApp::with_demo(6).await;
        let staff = super::money_flow::demo_staff(&t).await;
        let institution_id = staff.institution_id.clone().unwrap();
        let operator = Actor::Staff {
            account_id: staff.id,
            institution_id: institution_id.clone(),
            role: domain::access::StaffRole::Admin,
        };
        let plain = teacher(&t, &operator, &institution_id, None).await;
        let qualified = teacher(&t, &operator, &institution_id, Some("20211100142000123")).await;
        let refused = |c: NewCourse| {
            let (app, operator) = (&t.app, &operator);
            async move { app.publish_course(operator, &c).await.unwrap_err() }
        };

        let first = course("arts", vec![2, 4], "19:00", &plain, "A101");
        t.app.publish_course(&operator, &first).await.unwrap();
        let sessions: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM course_sessions")
            .fetch_one(t.app.store().pool_for_tests())
            .await
            .unwrap();
        assert_eq!(sessions, 4, "one session per lesson");

        let e = refused(course("arts", vec![4], "19:30", &plain, "B2")).await;
        assert_eq!(e.code, ErrorCode::PolicyViolation);
        says(&e, "授课教师2027-03-04与课程“arts 19:00”时间冲突");
        let e = refused(course("sports", vec![2], "18:30", &qualified, "A101")).await;
        says(&e, "教室“A101”2027-03-02已被课程“arts 19:00”占用");
        let e = refused(course("arts", vec![1], "20:00", &qualified, "C3")).await;
        says(&e, "课程须在20:30前结束，2027-03-01的课程20:45结束");
        let e = refused(course("subject", vec![6], "09:00", &plain, "C3")).await;
        assert_eq!(e.code, ErrorCode::TeacherQualificationRequired);
        let e = refused(course("subject", vec![6], "09:00", &qualified, "C3")).await;
        says(&e, "学科类培训不得在周末、法定节假日开展：2027-03-06");
        // Back to back with the first course, in its room, is fine.
        t.app
            .publish_course(
                &operator,
                &course("arts", vec![2], "19:45", &qualified, "A101"),
            )
            .await
            .unwrap();
    }
}

mod ecny {
    use app::Actor;

    #[tokio::test]
    async fn an_ecny_wallet_locks_the_money_and_releases_it_per_lesson_through_the_same_ledger() {
        let s = super::money_flow::shop().await;
        sqlx::query("UPDATE supervised_accounts SET mode = 'ecny'")
            .execute(s.t.app.store().pool_for_tests())
            .await
            .unwrap();
        let order = s.order().await;
        assert_eq!(order.contract.supervision.mode, "ecny");
        let paid = order.line.amount_fen;
        s.pay(&order, "WALLET-LOCK-1").await;
        let t0 = app::testing::TEST_NOW.millis();
        // The wallet operator reports the locked amount as the contract's balance.
        let locked = s.movement("W-1", "in", paid, paid, t0, None).await.unwrap();
        assert!(locked.risk_events.is_empty());
        let fee =
            domain::contract::lesson_fee(domain::Fen::new(paid), order.contract.price.lessons, 1)
                .unwrap()
                .get();
        let system = Actor::System { name: "test" };
        let release =
            s.t.app
                .instruct_bank(&system, "release", &order.line.id, fee)
                .await
                .unwrap();
        let out = s
            .movement(
                "W-2",
                "out",
                fee,
                paid - fee,
                t0 + 1,
                Some(&release.instruction_id),
            )
            .await
            .unwrap();
        assert_eq!(out.matched, "matched");
        let line = s.line(&order.line.id).await;
        assert_eq!((line.escrow_fen, line.released_fen), (paid - fee, fee));
        // Unlocking more than the platform released is a shortfall of the wallet contract, as in custody.
        let rogue = s
            .movement("W-3", "out", 1, paid - fee - 1, t0 + 2, None)
            .await
            .unwrap();
        assert_eq!(
            rogue.risk_events,
            vec!["unmatched_outflow", "balance_shortfall"]
        );
    }
}

/// 消课: attendance, the parent's answer, the confirmation window on the working-day calendar, releases.
mod lessons {
    use super::money_flow::shop;
    use app::lessons::{Attendance, Dispute};
    use app::testing::TEST_NOW;
    use app::{Actor, ErrorCode};

    #[tokio::test]
    async fn confirmed_lessons_release_their_fee_silence_confirms_only_with_evidence_and_a_dispute_freezes_one_fee()
     {
        let s = shop().await;
        let order = s.order().await;
        let paid = order.line.amount_fen;
        let t0 = TEST_NOW.millis();
        let teacher = s.staff(domain::access::StaffRole::Teacher).await;
        let take = |evidence: &str| {
            let a = Attendance {
                evidence: evidence.into(),
            };
            let (app, teacher, id) = (&s.t.app, &teacher, order.line.id.clone());
            async move { app.take_attendance(teacher, &id, &a).await }
        };
        assert_eq!(
            take("点名").await.unwrap_err().code,
            ErrorCode::Conflict,
            "not paid yet"
        );
        s.pay(&order, "PAY-1").await;
        s.movement("MV-IN", "in", paid, paid, t0, None)
            .await
            .unwrap();

        let first = take("点名表 2026-11-26").await.unwrap();
        let second = take("签到照片").await.unwrap();
        let third = take("").await.unwrap();
        let fourth = take("刷卡记录").await.unwrap();
        assert_eq!((first.lesson_no, fourth.lesson_no), (1, 4));
        assert_eq!(first.status, domain::LessonStatus::AwaitingConfirmation);
        let inbox = s.t.app.my_notifications(&s.parent_actor()).await.unwrap();
        assert!(inbox[0].body.contains("第4课"), "{}", inbox[0].body);

        let confirmed =
            s.t.app
                .confirm_lesson(&s.parent_actor(), &first.id)
                .await
                .unwrap();
        assert_eq!(
            (confirmed.status.as_str(), confirmed.release_status),
            (
                "confirmed",
                Some(domain::instruction::ReleaseProgress::Pending)
            )
        );
        assert_eq!(
            s.t.app
                .confirm_lesson(&s.parent_actor(), &first.id)
                .await
                .unwrap_err()
                .code,
            ErrorCode::Conflict,
            "answered once"
        );
        let dispute = Dispute {
            reason: "孩子当天请假，未上课".into(),
        };
        let disputed =
            s.t.app
                .dispute_lesson(&s.parent_actor(), &second.id, &dispute)
                .await
                .unwrap();
        assert_eq!(disputed.status, domain::LessonStatus::Disputed);
        let stranger = Actor::Parent {
            account_id: "another-family".into(),
        };
        assert_eq!(
            s.t.app
                .confirm_lesson(&stranger, &third.id)
                .await
                .unwrap_err()
                .code,
            ErrorCode::NotFound,
            "another family's lesson"
        );

        // The window: 15 working days after the lesson, to the end of that day, China time.
        let boundary = super::money_flow::window_closes(15);
        s.t.clock.set(domain::Timestamp::from_millis(boundary - 1));
        assert_eq!(
            s.t.app.auto_confirm_due().await.unwrap(),
            0,
            "not a moment early"
        );
        s.t.clock.set(domain::Timestamp::from_millis(boundary));
        assert_eq!(s.t.app.auto_confirm_due().await.unwrap(), 2);
        let lessons =
            s.t.app
                .lessons_of_order(&s.parent_actor(), &order.line.id)
                .await
                .unwrap();
        let states: Vec<&str> = lessons.iter().map(|l| l.status.as_str()).collect();
        assert_eq!(
            states,
            ["confirmed", "disputed", "needs_review", "auto_confirmed"]
        );

        // The bank executes both releases; the disputed and unproven lessons' fees stay in escrow.
        let mut released = 0;
        for (k, lesson) in [&lessons[0], &lessons[3]].into_iter().enumerate() {
            let row =
                s.t.app
                    .store()
                    .read()
                    .lesson(&lesson.id)
                    .await
                    .unwrap()
                    .unwrap();
            let instruction = row.release_instruction_id.unwrap();
            released += lesson.fee_fen;
            s.movement(
                &format!("MV-OUT-{k}"),
                "out",
                lesson.fee_fen,
                paid - released,
                boundary + k as i64,
                Some(&instruction),
            )
            .await
            .unwrap();
        }
        let line = s.line(&order.line.id).await;
        assert_eq!(
            (line.escrow_fen, line.released_fen),
            (paid - released, released)
        );
        assert_eq!(
            line.escrow_fen + line.released_fen + line.refunded_fen,
            paid
        );
        assert!(
            s.t.app
                .store()
                .read()
                .risk_events(Some(&s.institution_id), 10)
                .await
                .unwrap()
                .is_empty(),
            "every outflow was instructed and the balance covers the escrow"
        );
        assert_eq!(
            s.t.app
                .take_attendance(&s.parent_actor(), &order.line.id, &Attendance::default())
                .await
                .unwrap_err()
                .code,
            ErrorCode::Forbidden
        );
    }
}

/// 退费: the request, the institution's answer or silence, escalation, the regulator's ruling, the bank.
mod refunds {
    use super::money_flow::shop;
    use app::lessons::Attendance;
    use app::refunds::{RefundAnswer, RefundRequest};
    use app::testing::TEST_NOW;
    use app::{Actor, ErrorCode};

    #[tokio::test]
    async fn silence_agrees_the_bank_refunds_the_untaken_lessons_and_the_order_closes() {
        let s = shop().await;
        let order = s.order().await;
        let paid = order.line.amount_fen;
        let lessons = order.contract.price.lessons;
        s.pay(&order, "PAY-1").await;
        let t0 = TEST_NOW.millis();
        s.movement("MV-IN", "in", paid, paid, t0, None)
            .await
            .unwrap();
        let admin = s.staff(domain::access::StaffRole::Admin).await;
        let attend = Attendance {
            evidence: "点名".into(),
        };
        s.t.app
            .take_attendance(&admin, &order.line.id, &attend)
            .await
            .unwrap();

        let ask = RefundRequest {
            reason: "孩子转学".into(),
        };
        let stranger = Actor::Parent {
            account_id: "another-family".into(),
        };
        assert_eq!(
            s.t.app
                .request_refund(&stranger, &order.line.id, &ask)
                .await
                .unwrap_err()
                .code,
            ErrorCode::NotFound
        );
        let refund =
            s.t.app
                .request_refund(&s.parent_actor(), &order.line.id, &ask)
                .await
                .unwrap();
        let expected = domain::contract::refund_after(domain::Fen::new(paid), lessons, 1)
            .unwrap()
            .get();
        assert_eq!(
            refund.amount_fen, expected,
            "the untaken lessons at the price paid"
        );
        assert_eq!(
            refund.amount_fen, order.refund_preview[1].refund_fen,
            "what the preview promised"
        );
        assert_eq!(
            s.t.app
                .request_refund(&s.parent_actor(), &order.line.id, &ask)
                .await
                .unwrap_err()
                .code,
            ErrorCode::Conflict,
            "one open request per order"
        );
        assert_eq!(
            s.t.app
                .take_attendance(&admin, &order.line.id, &attend)
                .await
                .unwrap_err()
                .code,
            ErrorCode::Conflict,
            "no lessons while a refund is decided"
        );

        // Five working days of silence (a Thursday request: the window ends with the next Thursday).
        assert_eq!(s.t.app.auto_agree_due().await.unwrap(), 0);
        let boundary = super::money_flow::window_closes(5);
        s.t.clock.set(domain::Timestamp::from_millis(boundary - 1));
        assert_eq!(s.t.app.auto_agree_due().await.unwrap(), 0);
        s.t.clock.set(domain::Timestamp::from_millis(boundary));
        assert_eq!(s.t.app.auto_agree_due().await.unwrap(), 1);
        let views =
            s.t.app
                .refunds_of_order(&s.parent_actor(), &order.line.id)
                .await
                .unwrap();
        assert_eq!(
            (views[0].status.as_str(), views[0].instruction_status),
            ("agreed", Some(domain::InstructionStatus::Pending))
        );

        // The bank refunds by the original route; the ledger moves the escrow to the refund destination.
        let row =
            s.t.app
                .store()
                .read()
                .refunds_of_order(&order.line.id)
                .await
                .unwrap()
                .remove(0);
        let instruction = row.instruction_id.unwrap();
        s.movement(
            "MV-REFUND",
            "out",
            expected,
            paid - expected,
            boundary,
            Some(&instruction),
        )
        .await
        .unwrap();
        let line = s.line(&order.line.id).await;
        assert_eq!(
            (line.refunded_fen, line.escrow_fen),
            (expected, paid - expected)
        );
        assert_eq!(
            line.escrow_fen + line.released_fen + line.refunded_fen,
            paid
        );
        // Closed: no more lessons, no second refund; the taken lesson's fee still awaits its confirmation.
        assert_eq!(
            s.t.app
                .take_attendance(&admin, &order.line.id, &attend)
                .await
                .unwrap_err()
                .code,
            ErrorCode::Conflict
        );
        assert_eq!(
            s.t.app
                .request_refund(&s.parent_actor(), &order.line.id, &ask)
                .await
                .unwrap_err()
                .code,
            ErrorCode::Conflict
        );
    }

    #[tokio::test]
    async fn a_refused_refund_goes_to_the_competent_regulator_who_decides() {
        let s = shop().await;
        let order = s.order().await;
        s.pay(&order, "PAY-1").await;
        let admin = s.staff(domain::access::StaffRole::Admin).await;
        let ask = RefundRequest {
            reason: "课程与宣传不符".into(),
        };
        let refund =
            s.t.app
                .request_refund(&s.parent_actor(), &order.line.id, &ask)
                .await
                .unwrap();
        assert_eq!(
            refund.amount_fen, order.line.amount_fen,
            "nothing taken: everything back"
        );
        let bare = RefundAnswer {
            agree: false,
            reason: String::new(),
        };
        assert_eq!(
            s.t.app
                .answer_refund(&admin, &refund.id, &bare)
                .await
                .unwrap_err()
                .code,
            ErrorCode::FieldTooLong,
            "a refusal needs its reason"
        );
        let refuse = RefundAnswer {
            agree: false,
            reason: "已过全额退费期".into(),
        };
        let refused =
            s.t.app
                .answer_refund(&admin, &refund.id, &refuse)
                .await
                .unwrap();
        assert_eq!(refused.status, domain::RefundStatus::Refused);
        let escalated =
            s.t.app
                .escalate_refund(&s.parent_actor(), &refund.id)
                .await
                .unwrap();
        assert_eq!(escalated.status, domain::RefundStatus::Escalated);

        let competent = s.competent_region().await;
        let elsewhere = super::money_flow::supervisor_outside(competent.as_str());
        let uphold = RefundAnswer {
            agree: true,
            reason: "宣传内容与实际课程不符".into(),
        };
        assert_eq!(
            s.t.app
                .rule_on_refund(&elsewhere, &refund.id, &uphold)
                .await
                .unwrap_err()
                .code,
            ErrorCode::Forbidden
        );
        let regulator = s.competent_supervisor().await;
        let upheld =
            s.t.app
                .rule_on_refund(&regulator, &refund.id, &uphold)
                .await
                .unwrap();
        assert_eq!(
            (upheld.status.as_str(), upheld.instruction_status),
            ("upheld", Some(domain::InstructionStatus::Pending))
        );
        assert_eq!(
            s.t.app
                .rule_on_refund(&regulator, &refund.id, &uphold)
                .await
                .unwrap_err()
                .code,
            ErrorCode::Conflict,
            "decided once"
        );
    }
}

/// 评价: only after a confirmed lesson, checked words, one reply, hidden never deleted, weighted aggregate.
mod reviews {
    use super::money_flow::shop;
    use app::lessons::Attendance;
    use app::reviews::{NewReview, ReviewNote};
    use app::{Actor, ErrorCode};
    use domain::access::StaffRole;
    use domain::review::Ratings;

    fn stars(s: u8) -> Ratings {
        Ratings {
            teaching: s,
            environment: s,
            service: s,
            value: s,
        }
    }

    #[tokio::test]
    async fn a_review_needs_a_confirmed_lesson_and_is_hidden_never_deleted() {
        let s = shop().await;
        let teacher = s.staff(StaffRole::Teacher).await;
        let admin = s.staff(StaffRole::Admin).await;
        let parent = s.parent_actor();
        // Two orders: one with two confirmed lessons, one with one.
        let mut orders = Vec::new();
        for (k, lessons) in [2, 1].into_iter().enumerate() {
            let order = s.order().await;
            s.pay(&order, &format!("PAY-{k}")).await;
            for _ in 0..lessons {
                let lesson =
                    s.t.app
                        .take_attendance(
                            &teacher,
                            &order.line.id,
                            &Attendance {
                                evidence: "点名".into(),
                            },
                        )
                        .await
                        .unwrap();
                s.t.app.confirm_lesson(&parent, &lesson.id).await.unwrap();
            }
            orders.push(order);
        }
        let review = |stars_given: u8, text: &str| NewReview {
            ratings: stars(stars_given),
            text: text.into(),
        };

        let unconfirmed = s.order().await;
        s.pay(&unconfirmed, "PAY-X").await;
        assert_eq!(
            s.t.app
                .post_review(&parent, &unconfirmed.line.id, &review(5, "很好"))
                .await
                .unwrap_err()
                .code,
            ErrorCode::ReviewNeedsConfirmedLesson
        );
        assert_eq!(
            s.t.app
                .post_review(&parent, &orders[0].line.id, &review(5, "不错，详情加微信"))
                .await
                .unwrap_err()
                .code,
            ErrorCode::BlockedWords
        );
        assert_eq!(
            s.t.app
                .post_review(&parent, &orders[0].line.id, &review(6, "很好"))
                .await
                .unwrap_err()
                .code,
            ErrorCode::InvalidParameter
        );
        let stranger = Actor::Parent {
            account_id: "another-family".into(),
        };
        assert_eq!(
            s.t.app
                .post_review(&stranger, &orders[0].line.id, &review(1, "差"))
                .await
                .unwrap_err()
                .code,
            ErrorCode::NotFound
        );
        let first =
            s.t.app
                .post_review(
                    &parent,
                    &orders[0].line.id,
                    &review(5, "老师耐心，孩子进步很大"),
                )
                .await
                .unwrap();
        assert_eq!(first.weight, 2, "two confirmed lessons");
        assert_eq!(
            s.t.app
                .post_review(&parent, &orders[0].line.id, &review(1, "改主意了"))
                .await
                .unwrap_err()
                .code,
            ErrorCode::Conflict,
            "one review per order"
        );
        let second =
            s.t.app
                .post_review(&parent, &orders[1].line.id, &review(2, "教室有点挤"))
                .await
                .unwrap();
        assert_eq!(second.weight, 1);
        let public = s.t.app.public_reviews(&s.institution_id).await.unwrap();
        // (5×2 + 2×1) / 3 = 4.00
        assert_eq!(
            (public.count, public.averages.clone().unwrap()[0].as_str()),
            (2, "4.00")
        );

        let reply = ReviewNote {
            text: "感谢认可，我们会继续努力".into(),
        };
        assert_eq!(
            s.t.app
                .reply_review(&admin, &first.id, &reply)
                .await
                .unwrap()
                .reply
                .as_deref(),
            Some("感谢认可，我们会继续努力")
        );
        assert_eq!(
            s.t.app
                .reply_review(&admin, &first.id, &reply)
                .await
                .unwrap_err()
                .code,
            ErrorCode::Conflict
        );

        let institution =
            s.t.app
                .store()
                .read()
                .institution(&s.institution_id)
                .await
                .unwrap()
                .unwrap();
        let elsewhere = super::money_flow::supervisor_outside(&institution.region_code);
        let why = ReviewNote {
            text: "经核实为同行恶意评价".into(),
        };
        assert_eq!(
            s.t.app
                .hide_review(&elsewhere, &second.id, &why)
                .await
                .unwrap_err()
                .code,
            ErrorCode::Forbidden
        );
        let national = Actor::Regulator {
            account_id: "moe".into(),
            region: domain::RegionCode::NATIONAL,
            role: domain::access::RegulatorRole::Supervisor,
        };
        s.t.app
            .hide_review(&national, &second.id, &why)
            .await
            .unwrap();
        let public = s.t.app.public_reviews(&s.institution_id).await.unwrap();
        assert_eq!(
            (public.count, public.averages.unwrap()[0].as_str()),
            (1, "5.00")
        );
        assert!(
            sqlx::query("DELETE FROM reviews")
                .execute(s.t.app.store().pool_for_tests())
                .await
                .is_err(),
            "reviews are never deleted"
        );
    }
}

mod complaints {
    use super::money_flow::{shop, window_closes};
    use app::complaints::{ComplaintAnswer, ComplaintRulingRequest, EvidenceFile, NewComplaint};
    use app::lessons::Attendance;
    use app::{Actor, ErrorCode};
    use domain::access::StaffRole;

    /// The smallest file `infer` reads as PNG.
    fn png() -> Vec<u8> {
        let mut b = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
        b.resize(64, 0);
        b
    }

    fn complaint(s: &super::money_flow::Shop, order_id: &str) -> NewComplaint {
        NewComplaint {
            institution_id: s.institution_id.clone(),
            order_id: Some(order_id.to_owned()),
            category: "teaching_quality".into(),
            body: "老师连续三次迟到，课程内容与宣传不符".into(),
        }
    }

    #[tokio::test]
    async fn a_complaint_goes_to_the_institution_then_the_competent_regulator_who_orders_the_refund()
     {
        let s = shop().await;
        let order = s.order().await;
        let paid = order.line.amount_fen;
        s.pay(&order, "PAY-C1").await;
        s.attend(&order.line.id).await;
        let admin = s.staff(StaffRole::Admin).await;
        let parent = s.parent_actor();
        let new = complaint(&s, &order.line.id);

        // A renamed executable as evidence, a missing text, another family's order: refused, nothing kept.
        let exe = EvidenceFile {
            filename: "证据.png".into(),
            bytes: b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0".to_vec(),
        };
        let refused = s.t.app.file_complaint(&parent, &new, &[exe]).await;
        assert_eq!(refused.unwrap_err().code, ErrorCode::DocumentRejected);
        let empty = NewComplaint {
            body: "  ".into(),
            ..complaint(&s, &order.line.id)
        };
        assert_eq!(
            s.t.app
                .file_complaint(&parent, &empty, &[])
                .await
                .unwrap_err()
                .code,
            ErrorCode::FieldTooLong
        );
        let stranger = Actor::Parent {
            account_id: "another-family".into(),
        };
        assert_eq!(
            s.t.app
                .file_complaint(&stranger, &new, &[])
                .await
                .unwrap_err()
                .code,
            ErrorCode::NotFound
        );
        assert!(s.t.app.complaints_for(&parent).await.unwrap().is_empty());

        let evidence = EvidenceFile {
            filename: "迟到记录.png".into(),
            bytes: png(),
        };
        let c =
            s.t.app
                .file_complaint(&parent, &new, &[evidence])
                .await
                .unwrap();
        assert_eq!(c.status, domain::ComplaintStatus::WithInstitution);
        assert_eq!(c.evidence.len(), 1);
        assert!(c.complaint_no.starts_with("TS20261126"));
        assert!(
            !c.may_escalate,
            "the institution has its 5 working days first"
        );
        assert_eq!(
            s.t.app
                .escalate_complaint(&parent, &c.id)
                .await
                .unwrap_err()
                .code,
            ErrorCode::Conflict
        );
        // The institution's staff see it, with the evidence, in their inbox and list.
        let inbox = s.t.app.my_notifications(&admin).await.unwrap();
        assert!(inbox.iter().any(|n| n.title == "收到家长投诉"), "{inbox:?}");
        assert_eq!(s.t.app.complaints_for(&admin).await.unwrap().len(), 1);
        assert_eq!(
            s.t.app
                .complaint_for(&stranger, &c.id)
                .await
                .unwrap_err()
                .code,
            ErrorCode::NotFound,
            "another family's complaint does not exist for them"
        );

        let answer = ComplaintAnswer {
            answer: "已与老师沟通，调整排课".into(),
        };
        let answered =
            s.t.app
                .answer_complaint(&admin, &c.id, &answer)
                .await
                .unwrap();
        assert_eq!(answered.status, domain::ComplaintStatus::Answered);
        assert_eq!(
            s.t.app
                .answer_complaint(&admin, &c.id, &answer)
                .await
                .unwrap_err()
                .code,
            ErrorCode::Conflict,
            "answered once"
        );
        let escalated = s.t.app.escalate_complaint(&parent, &c.id).await.unwrap();
        assert_eq!(escalated.status, domain::ComplaintStatus::Escalated);
        let supervisor = s.competent_supervisor().await;
        assert_eq!(
            escalated.regulator_region.as_deref(),
            match &supervisor {
                Actor::Regulator { region, .. } => Some(region.as_str()),
                _ => None,
            },
            "the competent region"
        );
        assert_eq!(s.t.app.complaints_for(&supervisor).await.unwrap().len(), 1);

        let ruling = ComplaintRulingRequest {
            outcome: "penalised".into(),
            ruling: "查实虚假宣传，责令退还未上课时费用".into(),
            money_action: "refund".into(),
        };
        let elsewhere =
            super::money_flow::supervisor_outside(escalated.regulator_region.as_deref().unwrap());
        assert_eq!(
            s.t.app
                .rule_on_complaint(&elsewhere, &c.id, &ruling)
                .await
                .unwrap_err()
                .code,
            ErrorCode::Forbidden
        );
        let bad = ComplaintRulingRequest {
            money_action: "confiscate".into(),
            ..ruling.clone()
        };
        assert_eq!(
            s.t.app
                .rule_on_complaint(&supervisor, &c.id, &bad)
                .await
                .unwrap_err()
                .code,
            ErrorCode::InvalidParameter
        );
        let resolved =
            s.t.app
                .rule_on_complaint(&supervisor, &c.id, &ruling)
                .await
                .unwrap();
        assert_eq!(
            (resolved.status.as_str(), resolved.outcome.as_deref()),
            ("resolved", Some("penalised"))
        );
        assert_eq!(
            s.t.app
                .rule_on_complaint(&supervisor, &c.id, &ruling)
                .await
                .unwrap_err()
                .code,
            ErrorCode::Conflict
        );

        // The ordered refund: the untaken lessons at the price paid, instructed by the original route.
        let refunds =
            s.t.app
                .refunds_of_order(&parent, &order.line.id)
                .await
                .unwrap();
        let expected =
            domain::contract::refund_after(domain::Fen::new(paid), order.contract.price.lessons, 1)
                .unwrap()
                .get();
        assert_eq!(
            (
                refunds.len(),
                refunds[0].status.as_str(),
                refunds[0].amount_fen
            ),
            (1, "upheld", expected)
        );
        assert!(
            s.t.app
                .order_for(&parent, &order.line.id)
                .await
                .unwrap()
                .closed
        );

        let figures = s.t.app.complaint_figures(&s.institution_id).await.unwrap();
        assert_eq!(
            (figures.received, figures.closed, figures.escalated),
            (1, 1, 1)
        );
        // The parent hears of it by text message once the worker runs.
        s.t.app.send_queued_sms().await.unwrap();
        let text = s.t.sms.last_to("13700000009").unwrap();
        assert!(text.contains("投诉处理结果"), "{text}");
    }

    #[tokio::test]
    async fn silence_past_the_deadline_lets_the_parent_escalate_and_a_freeze_holds_the_fees() {
        let s = shop().await;
        let order = s.order().await;
        s.pay(&order, "PAY-C2").await;
        let parent = s.parent_actor();
        let c =
            s.t.app
                .file_complaint(&parent, &complaint(&s, &order.line.id), &[])
                .await
                .unwrap();
        s.t.clock
            .set(domain::Timestamp::from_millis(window_closes(5) - 1));
        assert!(
            !s.t.app
                .complaint_for(&parent, &c.id)
                .await
                .unwrap()
                .institution_overdue
        );
        s.t.clock
            .set(domain::Timestamp::from_millis(window_closes(5)));
        let overdue = s.t.app.complaint_for(&parent, &c.id).await.unwrap();
        assert!(overdue.institution_overdue && overdue.may_escalate);
        s.t.app.escalate_complaint(&parent, &c.id).await.unwrap();

        let supervisor = s.competent_supervisor().await;
        let freeze = ComplaintRulingRequest {
            outcome: "mediated".into(),
            ruling: "调查期间冻结资金划转".into(),
            money_action: "freeze".into(),
        };
        s.t.app
            .rule_on_complaint(&supervisor, &c.id, &freeze)
            .await
            .unwrap();

        // A lesson taken and confirmed on a frozen order: confirmed, its fee held in escrow.
        let lesson = s.attend(&order.line.id).await;
        let confirmed = s.t.app.confirm_lesson(&parent, &lesson.id).await.unwrap();
        assert_eq!(confirmed.status, domain::LessonStatus::Confirmed);
        assert_eq!(confirmed.release_status, None, "nothing instructed");
        let line = s.line(&order.line.id).await;
        assert_eq!(
            (line.escrow_fen, line.released_fen),
            (order.line.amount_fen, 0)
        );
    }

    /// The four refusals the issue names, each leaving the order, its lessons, refunds and the ledger as they
    /// were.
    #[tokio::test]
    async fn bad_money_requests_get_clear_errors_and_change_nothing() {
        let s = shop().await;
        let order = s.order().await;
        let paid = order.line.amount_fen;
        s.pay(&order, "PAY-C3").await;
        let parent = s.parent_actor();
        let admin = s.staff(StaffRole::Admin).await;
        let attend = Attendance {
            evidence: "点名".into(),
        };
        let lesson =
            s.t.app
                .take_attendance(&admin, &order.line.id, &attend)
                .await
                .unwrap();
        let snapshot = || async {
            let line = s.line(&order.line.id).await;
            let lessons =
                s.t.app
                    .lessons_of_order(&parent, &order.line.id)
                    .await
                    .unwrap();
            let refunds =
                s.t.app
                    .refunds_of_order(&parent, &order.line.id)
                    .await
                    .unwrap();
            let ledger = s.t.app.store().read().ledger_recount().await.unwrap();
            (
                (line.escrow_fen, line.released_fen, line.refunded_fen),
                lessons.iter().map(|l| l.status).collect::<Vec<_>>(),
                refunds.len(),
                ledger.transfers,
            )
        };
        let before = snapshot().await;

        // A refund larger than what remains in escrow.
        let system = Actor::System { name: "test" };
        assert_eq!(
            s.t.app
                .instruct_bank(&system, "refund", &order.line.id, paid + 1)
                .await
                .unwrap_err()
                .code,
            ErrorCode::InsufficientFunds
        );
        // Another family confirming this family's lesson.
        let stranger = Actor::Parent {
            account_id: "another-family".into(),
        };
        assert_eq!(
            s.t.app
                .confirm_lesson(&stranger, &lesson.id)
                .await
                .unwrap_err()
                .code,
            ErrorCode::NotFound
        );
        // A review with no confirmed lesson yet.
        let review = app::reviews::NewReview {
            ratings: domain::review::Ratings {
                teaching: 5,
                environment: 5,
                service: 5,
                value: 5,
            },
            text: "很好".into(),
        };
        assert_eq!(
            s.t.app
                .post_review(&parent, &order.line.id, &review)
                .await
                .unwrap_err()
                .code,
            ErrorCode::ReviewNeedsConfirmedLesson
        );
        assert_eq!(snapshot().await, before, "nothing changed");

        // A closed order: the rest refunded, then every further step refused.
        let ask = app::refunds::RefundRequest {
            reason: "搬家".into(),
        };
        let refund =
            s.t.app
                .request_refund(&parent, &order.line.id, &ask)
                .await
                .unwrap();
        let agree = app::refunds::RefundAnswer {
            agree: true,
            reason: String::new(),
        };
        s.t.app
            .answer_refund(&admin, &refund.id, &agree)
            .await
            .unwrap();
        let closed = snapshot().await;
        assert_eq!(
            s.t.app
                .take_attendance(&admin, &order.line.id, &attend)
                .await
                .unwrap_err()
                .code,
            ErrorCode::Conflict
        );
        assert_eq!(
            s.t.app
                .request_refund(&parent, &order.line.id, &ask)
                .await
                .unwrap_err()
                .code,
            ErrorCode::Conflict
        );
        assert_eq!(
            s.t.app
                .answer_refund(&admin, &refund.id, &agree)
                .await
                .unwrap_err()
                .code,
            ErrorCode::Conflict
        );
        assert_eq!(
            snapshot().await,
            closed,
            "nothing changed on the closed order"
        );
    }
}

mod run_off {
    use super::money_flow::{shop, supervisor_outside};
    use app::ErrorCode;
    use app::run_off::RunOffRequest;
    use domain::access::StaffRole;

    #[tokio::test]
    async fn one_action_freezes_releases_and_refunds_every_family_tracked_to_completion() {
        let s = shop().await;
        let (a, b) = (s.order().await, s.order().await);
        s.pay(&a, "PAY-RA").await;
        s.pay(&b, "PAY-RB").await;
        let admin = s.staff(StaffRole::Admin).await;
        let lesson = s.attend(&a.line.id).await;
        let competent = s.competent_region().await;
        let supervisor = s.competent_supervisor().await;
        let req = RunOffRequest {
            reason: "机构停业".into(),
        };
        assert_eq!(
            s.t.app
                .start_run_off(
                    &supervisor_outside(competent.as_str()),
                    &s.institution_id,
                    &req
                )
                .await
                .unwrap_err()
                .code,
            ErrorCode::Forbidden
        );
        assert!(
            s.t.app
                .run_off(&supervisor, &s.institution_id)
                .await
                .unwrap()
                .is_none()
        );

        let started =
            s.t.app
                .start_run_off(&supervisor, &s.institution_id, &req)
                .await
                .unwrap();
        let untaken = |o: &app::orders::OrderDetail, taken| {
            domain::contract::refund_after(
                domain::Fen::new(o.line.amount_fen),
                o.contract.price.lessons,
                taken,
            )
            .unwrap()
            .get()
        };
        assert_eq!(
            (
                started.refunds,
                started.refunds_fen,
                started.executed,
                started.complete
            ),
            (2, untaken(&a, 1) + untaken(&b, 0), 0, false)
        );
        assert_eq!(
            s.t.app
                .start_run_off(&supervisor, &s.institution_id, &req)
                .await
                .unwrap_err()
                .code,
            ErrorCode::Conflict,
            "once"
        );
        // Both orders closed to new lessons; the taken lesson's fee, confirmed now, stays frozen in escrow.
        for o in [&a, &b] {
            assert!(
                s.t.app
                    .order_for(&s.parent_actor(), &o.line.id)
                    .await
                    .unwrap()
                    .closed
            );
        }
        let confirmed =
            s.t.app
                .confirm_lesson(&s.parent_actor(), &lesson.id)
                .await
                .unwrap();
        assert_eq!(confirmed.release_status, None);

        // The bank executes one refund: the progress follows, until both are back.
        for (n, o) in [&b, &a].into_iter().enumerate() {
            let refund =
                s.t.app
                    .store()
                    .read()
                    .refunds_of_order(&o.line.id)
                    .await
                    .unwrap()
                    .remove(0);
            s.movement(
                &format!("MV-RO-{n}"),
                "out",
                refund.amount_fen,
                0,
                app::testing::TEST_NOW.millis(),
                refund.instruction_id.as_deref(),
            )
            .await
            .unwrap();
            let progress =
                s.t.app
                    .run_off(&supervisor, &s.institution_id)
                    .await
                    .unwrap()
                    .unwrap();
            assert_eq!(progress.executed, n as i64 + 1);
        }
        let done =
            s.t.app
                .run_off(&admin, &s.institution_id)
                .await
                .unwrap()
                .unwrap();
        assert!(done.complete && done.executed_fen == done.refunds_fen);
        let inbox = s.t.app.my_notifications(&s.parent_actor()).await.unwrap();
        assert!(inbox.iter().any(|n| n.title.contains("清退")), "{inbox:?}");
    }
}

mod consultations {
    use super::money_flow::shop;
    use app::consultations::NewConsultation;
    use app::{Actor, ErrorCode};
    use domain::access::StaffRole;

    #[tokio::test]
    async fn a_parent_asks_the_institution_answers_and_regulators_see_how_fast() {
        let s = shop().await;
        let parent = s.parent_actor();
        let new = NewConsultation {
            institution_id: s.institution_id.clone(),
            topic: "四年级数学班".into(),
            body: "周末有班吗？".into(),
        };
        let empty = NewConsultation {
            body: " ".into(),
            ..new.clone()
        };
        assert_eq!(
            s.t.app
                .ask_institution(&parent, &empty)
                .await
                .unwrap_err()
                .code,
            ErrorCode::FieldTooLong
        );
        let thread = s.t.app.ask_institution(&parent, &new).await.unwrap();
        assert!(!thread.answered);
        let stranger = Actor::Parent {
            account_id: "another-family".into(),
        };
        assert_eq!(
            s.t.app
                .consultation_for(&stranger, &thread.id)
                .await
                .unwrap_err()
                .code,
            ErrorCode::NotFound
        );

        // The institution answers 90 minutes later, then again: the first answer is what is measured.
        let service = s.staff(StaffRole::Admin).await;
        s.t.clock.advance_millis(90 * 60_000);
        s.t.app
            .reply_consultation(&service, &thread.id, "周六上午有")
            .await
            .unwrap();
        s.t.clock.advance_millis(60 * 60_000);
        let answered =
            s.t.app
                .reply_consultation(&service, &thread.id, "可预约试听")
                .await
                .unwrap();
        assert!(answered.answered);
        assert_eq!(answered.messages.len(), 3);
        assert_eq!(
            s.t.app.consultations_for(&service).await.unwrap().len(),
            1,
            "the institution's threads"
        );

        let region =
            s.t.app
                .store()
                .read()
                .institution(&s.institution_id)
                .await
                .unwrap()
                .unwrap()
                .region_code;
        let regulator = Actor::Regulator {
            account_id: "r".into(),
            region: domain::RegionCode::parse(&region).unwrap(),
            role: domain::access::RegulatorRole::Supervisor,
        };
        let times =
            s.t.app
                .response_times(&regulator, &s.institution_id)
                .await
                .unwrap();
        assert_eq!(
            (times.threads, times.answered, times.median_minutes),
            (1, 1, Some(90))
        );
        let elsewhere = super::money_flow::supervisor_outside(&region);
        assert_eq!(
            s.t.app
                .response_times(&elsewhere, &s.institution_id)
                .await
                .unwrap_err()
                .code,
            ErrorCode::Forbidden
        );
    }
}

mod leave {
    use super::money_flow::shop;
    use app::lessons::{Attendance, LeaveRequest};
    use app::testing::TEST_NOW;
    use app::{Actor, ErrorCode};
    use domain::access::StaffRole;

    #[tokio::test]
    async fn on_a_day_of_leave_no_lesson_of_the_order_is_taken() {
        let s = shop().await;
        let order = s.order().await;
        s.pay(&order, "PAY-L").await;
        let parent = s.parent_actor();
        let today = TEST_NOW.china_date();
        let ask = |date: chrono::NaiveDate| LeaveRequest {
            date: date.to_string(),
            reason: "孩子发烧".into(),
        };
        assert_eq!(
            s.t.app
                .request_leave(&parent, &order.line.id, &ask(today.pred_opt().unwrap()))
                .await
                .unwrap_err()
                .code,
            ErrorCode::InvalidParameter,
            "not backdated"
        );
        let stranger = Actor::Parent {
            account_id: "another-family".into(),
        };
        assert_eq!(
            s.t.app
                .request_leave(&stranger, &order.line.id, &ask(today))
                .await
                .unwrap_err()
                .code,
            ErrorCode::NotFound
        );
        s.t.app
            .request_leave(&parent, &order.line.id, &ask(today))
            .await
            .unwrap();
        assert_eq!(
            s.t.app
                .request_leave(&parent, &order.line.id, &ask(today))
                .await
                .unwrap_err()
                .code,
            ErrorCode::Conflict,
            "one leave per day"
        );
        let admin = s.staff(StaffRole::Admin).await;
        let attend = Attendance {
            evidence: "点名".into(),
        };
        assert_eq!(
            s.t.app
                .take_attendance(&admin, &order.line.id, &attend)
                .await
                .unwrap_err()
                .code,
            ErrorCode::Conflict
        );
        assert!(
            s.t.app
                .lessons_of_order(&parent, &order.line.id)
                .await
                .unwrap()
                .is_empty()
        );
        // The next day the class goes on.
        s.t.clock.advance_millis(86_400_000);
        s.t.app
            .take_attendance(&admin, &order.line.id, &attend)
            .await
            .unwrap();
        assert_eq!(
            s.t.app
                .leaves_of_order(&admin, &order.line.id)
                .await
                .unwrap()
                .len(),
            1
        );
    }
}

mod class_transfer {
    use super::money_flow::shop;
    use app::ErrorCode;
    use app::orders::ClassTransferRequest;
    use domain::access::StaffRole;

    #[tokio::test]
    async fn the_rest_of_an_order_moves_to_a_class_at_the_same_price_and_nothing_else_changes() {
        let s = shop().await;
        let order = s.order().await;
        s.pay(&order, "PAY-T").await;
        let admin = s.staff(StaffRole::Admin).await;
        let lesson = s.attend(&order.line.id).await;
        let current =
            s.t.app
                .store()
                .read()
                .order(&order.line.id)
                .await
                .unwrap()
                .unwrap()
                .course_id;
        let current =
            s.t.app
                .store()
                .read()
                .course(&current)
                .await
                .unwrap()
                .unwrap();
        let today = app::testing::TEST_NOW.china_date();
        let new_class = |name: &str, price: i64| app::courses::NewCourse {
            name: name.into(),
            category: current.category.clone(),
            mode: current.mode.clone(),
            grades: current.grades.clone(),
            lessons: u32::try_from(current.lessons).unwrap(),
            minutes_per_lesson: u32::try_from(current.minutes_per_lesson).unwrap(),
            class_size: u32::try_from(current.class_size).unwrap(),
            price_per_lesson_fen: price,
            first_lesson: (today + chrono::Days::new(1)).to_string(),
            last_lesson: (today + chrono::Days::new(60)).to_string(),
            preferential_total_fen: None,
            schedule: None,
        };
        let dearer =
            s.t.app
                .publish_course(
                    &admin,
                    &new_class("周末班（加价）", current.price_per_lesson_fen + 100),
                )
                .await
                .unwrap();
        let same =
            s.t.app
                .publish_course(&admin, &new_class("周末班", current.price_per_lesson_fen))
                .await
                .unwrap();
        let parent = s.parent_actor();
        let to = |id: &str| ClassTransferRequest {
            course_id: id.to_owned(),
        };
        assert_eq!(
            s.t.app
                .transfer_class(&parent, &order.line.id, &to(&dearer))
                .await
                .unwrap_err()
                .code,
            ErrorCode::PolicyViolation,
            "another price per lesson would change what was paid for"
        );
        let before = s.line(&order.line.id).await;
        let moved =
            s.t.app
                .transfer_class(&parent, &order.line.id, &to(&same))
                .await
                .unwrap();
        assert_eq!(
            (moved.to_course.as_str(), moved.lessons_remaining),
            ("周末班", order.line.lessons - 1)
        );
        let after = s.line(&order.line.id).await;
        assert_eq!(after.course_name, "周末班");
        assert_eq!(
            (after.amount_fen, after.escrow_fen, after.lessons),
            (before.amount_fen, before.escrow_fen, before.lessons),
            "the money is as it was"
        );
        // The lesson taken before the move still confirms and releases its fee as the contract set it.
        let confirmed = s.t.app.confirm_lesson(&parent, &lesson.id).await.unwrap();
        assert_eq!(confirmed.fee_fen, lesson.fee_fen);
        let (history, _) =
            s.t.app
                .class_transfers(&admin, &order.line.id)
                .await
                .unwrap();
        assert_eq!(history.len(), 1);
    }
}

/// 批量划转: a region that batches releases gets one instruction per supervised account per day.
mod release_batches {
    use super::money_flow::shop;
    use app::bank::InstructionResult;
    use app::testing::TEST_NOW;
    use app::{Actor, Clock, ErrorCode};

    #[tokio::test]
    async fn a_batching_region_releases_a_days_confirmed_lessons_in_one_instruction_per_account() {
        let s = shop().await;
        let supervisor = s.competent_supervisor().await;
        let batching = app::policy::PolicyChange {
            policy: domain::policy::PolicyOverride {
                daily_release_batch: Some(true),
                ..Default::default()
            },
            reason: "监管账户每日批量划转".into(),
        };
        s.t.app
            .set_region_policy(&supervisor, &batching)
            .await
            .unwrap();
        let (a, b) = (s.order().await, s.order().await);
        s.pay(&a, "PAY-A").await;
        s.pay(&b, "PAY-B").await;
        let paid = a.line.amount_fen + b.line.amount_fen;
        let t0 = TEST_NOW.millis();
        s.movement("MV-IN", "in", paid, paid, t0, None)
            .await
            .unwrap();
        let parent = s.parent_actor();
        let mut fees = 0;
        for order in [&a, &b] {
            let lesson = s.attend(&order.line.id).await;
            let confirmed = s.t.app.confirm_lesson(&parent, &lesson.id).await.unwrap();
            assert_eq!(
                confirmed.release_status,
                Some(domain::instruction::ReleaseProgress::HeldForBatch),
                "reserved at once, sent with the day's batch"
            );
            fees += lesson.fee_fen;
        }
        assert!(
            s.t.app
                .store()
                .read()
                .due_instructions(t0, 100)
                .await
                .unwrap()
                .is_empty(),
            "nothing goes to the bank lesson by lesson"
        );
        assert_eq!(
            s.t.app.form_release_batches().await.unwrap(),
            0,
            "the day is not over"
        );

        // The next morning: one batch for the account, carrying both releases.
        s.t.clock.advance_millis(24 * 3_600_000);
        assert_eq!(s.t.app.form_release_batches().await.unwrap(), 1);
        assert_eq!(s.t.app.form_release_batches().await.unwrap(), 0, "once");
        let staff = s.staff(domain::access::StaffRole::Admin).await;
        let money =
            s.t.app
                .institution_money(&staff, &s.institution_id)
                .await
                .unwrap();
        let batch = money.accounts[0].batches[0].clone();
        assert_eq!(
            (batch.item_count, batch.amount_fen, batch.status.as_str()),
            (2, fees, "pending")
        );
        assert_eq!(
            batch.business_date,
            TEST_NOW.china_date().to_string(),
            "the day the lessons were confirmed"
        );
        let view = s.t.app.instruction_view(&batch.batch_id).await.unwrap();
        assert_eq!(
            (view.kind.as_str(), view.items.len(), view.order_id),
            ("release_batch", 2, None)
        );
        assert_eq!(
            s.t.app
                .store()
                .read()
                .due_batches(s.t.clock.now().millis(), 10)
                .await
                .unwrap()
                .len(),
            1,
            "due for delivery"
        );

        // An outflow naming the batch for another amount is not its execution.
        let at = s.t.clock.now().millis();
        let wrong = s
            .movement(
                "MV-WRONG",
                "out",
                fees - 1,
                paid - fees + 1,
                at,
                Some(&batch.batch_id),
            )
            .await
            .unwrap();
        assert_eq!(wrong.matched, "unmatched");
        assert_eq!(s.line(&a.line.id).await.released_fen, 0);

        // The bank's one outflow executes both releases: each order's escrow moves by its own fee.
        let done = s
            .movement(
                "MV-BATCH",
                "out",
                fees,
                paid - fees,
                at + 1,
                Some(&batch.batch_id),
            )
            .await
            .unwrap();
        assert_eq!(done.matched, "matched");
        for order in [&a, &b] {
            let line = s.line(&order.line.id).await;
            let fee =
                s.t.app
                    .lessons_of_order(&parent, &order.line.id)
                    .await
                    .unwrap()[0]
                    .clone();
            assert_eq!(
                (line.released_fen, line.escrow_fen),
                (fee.fee_fen, order.line.amount_fen - fee.fee_fen)
            );
            assert_eq!(
                fee.release_status,
                Some(domain::instruction::ReleaseProgress::Executed)
            );
        }
        let result = InstructionResult {
            status: "executed".into(),
            bank_ref: Some("MV-BATCH".into()),
            reason: None,
        };
        let again =
            s.t.app
                .record_instruction_result(&s.bank_actor(), &batch.batch_id, &result)
                .await
                .unwrap();
        assert_eq!(
            (
                again.status.as_str(),
                again
                    .items
                    .iter()
                    .filter(|i| i.status == domain::InstructionStatus::Executed)
                    .count()
            ),
            ("executed", 2)
        );
        assert_eq!(
            s.line(&a.line.id).await.released_fen + s.line(&b.line.id).await.released_fen,
            fees,
            "the result after the movement moves nothing twice"
        );
        let failed = InstructionResult {
            status: "failed".into(),
            bank_ref: None,
            reason: Some("余额不足".into()),
        };
        assert_eq!(
            s.t.app
                .record_instruction_result(&s.bank_actor(), &batch.batch_id, &failed)
                .await
                .unwrap_err()
                .code,
            ErrorCode::Conflict
        );
        let other_bank = Actor::ApiClient {
            key_id: "other".into(),
            owner_kind: "bank".into(),
            owner_id: "other-bank".into(),
        };
        assert_eq!(
            s.t.app
                .record_instruction_result(&other_bank, &batch.batch_id, &result)
                .await
                .unwrap_err()
                .code,
            ErrorCode::NotFound,
            "another bank's batch"
        );
        let recount = s.t.app.store().read().ledger_recount().await.unwrap();
        assert_eq!(
            (recount.transfers, recount.mismatched.len()),
            (4, 0),
            "two payments and two releases, each its own transfer: {recount:?}"
        );
    }
}

/// 风险预警: the versioned model, the sweep's indicators, and the rectification workflow.
mod risk_engine {
    use super::money_flow::shop;
    use super::region_policy::supervisor;
    use app::risk::{ModelChange, WarningAnswer, WarningDecision};
    use app::testing::TEST_NOW;
    use app::{Actor, ErrorCode};
    use domain::risk::{Indicator, RiskModel};

    fn with(edit: impl FnOnce(&mut RiskModel)) -> ModelChange {
        let mut model = RiskModel::default();
        edit(&mut model);
        ModelChange {
            model,
            reason: "根据近期机构行为调整模型".into(),
        }
    }

    #[tokio::test]
    async fn the_demo_shows_warnings_from_movements_and_from_the_sweep_at_once() {
        let t = app::testing::TestApp::with_demo(2400).await;
        t.app.sweep_risks().await.unwrap();
        let warnings = t.app.warnings_for(&supervisor("000000"), 0).await.unwrap();
        let fired: std::collections::BTreeSet<&str> =
            warnings.iter().map(|w| w.indicator.as_str()).collect();
        // Every indicator of the model has an institution that trips it.
        for indicator in Indicator::ALL {
            assert!(
                fired.contains(indicator.as_str()),
                "{indicator:?} in {fired:?}"
            );
        }
        // The walkthrough's institution stays clean.
        let demo_institution = super::money_flow::demo_staff(&t)
            .await
            .institution_id
            .unwrap();
        assert!(
            warnings
                .iter()
                .all(|w| w.institution_id != demo_institution),
            "{warnings:?}"
        );
    }

    #[tokio::test]
    async fn a_batch_of_movements_answers_each_and_is_evaluated_like_single_reports() {
        use app::bank::{MovementBatch, MovementOutcome, MovementReport};
        let s = shop().await;
        let (_, paid) = s.paid_and_deposited().await;
        let t0 = TEST_NOW.millis();
        let admin = s.staff(domain::access::StaffRole::Admin).await;
        let report =
            |bank_ref: &str, account_no: &str, direction: &str, amount: i64, balance: i64| {
                MovementReport {
                    account_no: account_no.into(),
                    bank_ref: bank_ref.into(),
                    direction: direction.into(),
                    amount_fen: amount,
                    balance_after_fen: balance,
                    occurred_at: t0 + 1,
                    instruction_id: None,
                    order_no: None,
                }
            };
        let account = app::demo::DEMO_ACCOUNT_NO;
        let batch = MovementBatch {
            movements: vec![
                report("BM-1", account, "in", 5_000, paid + 5_000),
                report("BM-2", account, "sideways", 5_000, paid),
                report("BM-3", "6222000000000000000", "in", 5_000, paid),
                report("BM-4", account, "out", paid, 5_000),
                report("BM-1", account, "in", 5_000, paid + 5_000),
            ],
        };
        let outcomes = s.t.app.record_movements(&s.bank, &batch).await.unwrap();
        let summary: Vec<String> = outcomes
            .iter()
            .map(|o| match o {
                MovementOutcome::Ok(ack) => format!("{} duplicate={}", ack.matched, ack.duplicate),
                MovementOutcome::Refused { code, .. } => format!("refused {code}"),
            })
            .collect();
        assert_eq!(
            summary,
            [
                "inflow duplicate=false",
                "refused invalid_parameter",
                "refused not_found",
                "unmatched duplicate=false",
                "inflow duplicate=true"
            ]
        );
        // The unmatched outflow of nearly the whole balance fired the same warnings a single report would have.
        let warned = s.t.app.warnings_for(&admin, 0).await.unwrap();
        let level = |indicator: &str| {
            warned
                .iter()
                .find(|w| w.indicator == indicator)
                .map(|w| w.level.clone())
        };
        assert_eq!(level("unmatched_outflow").as_deref(), Some("red"));
        assert_eq!(level("large_outflow").as_deref(), Some("red"));
        // A refused report left nothing: sent alone now, it is new, not a duplicate.
        let again = s
            .movement("BM-2", "in", 5_000, paid + 10_000, t0 + 2, None)
            .await
            .unwrap();
        assert!(!again.duplicate);
        let empty = MovementBatch { movements: vec![] };
        assert_eq!(
            s.t.app
                .record_movements(&s.bank, &empty)
                .await
                .unwrap_err()
                .code,
            ErrorCode::InvalidParameter
        );
    }

    #[tokio::test]
    async fn editing_a_threshold_makes_a_new_version_that_changes_the_outcome_and_old_warnings_keep_theirs()
     {
        let s = shop().await;
        let (_, paid) = s.paid_and_deposited().await;
        let t0 = TEST_NOW.millis();
        let admin = s.staff(domain::access::StaffRole::Admin).await;
        // 1% of the balance, matched to nothing: unmatched (red) under version 0, but not a large outflow.
        let small = paid / 100;
        s.movement("MV-1", "out", small, paid - small, t0 + 1, None)
            .await
            .unwrap();
        let first = s.t.app.warnings_for(&admin, 0).await.unwrap();
        assert!(first.iter().all(|w| w.model_version == 0));
        assert!(!first.iter().any(|w| w.indicator == "large_outflow"));

        let national = supervisor("000000");
        let v1 =
            s.t.app
                .set_risk_model(
                    &national,
                    &with(|m| {
                        let r = m.rules.get_mut(&Indicator::LargeOutflow).unwrap();
                        (r.yellow, r.orange, r.red) = (1, 30, 50);
                    }),
                )
                .await
                .unwrap();
        assert_eq!(v1.version, 1);
        s.movement("MV-2", "out", small, paid - 2 * small, t0 + 2, None)
            .await
            .unwrap();
        let now = s.t.app.warnings_for(&admin, 0).await.unwrap();
        let large = now.iter().find(|w| w.indicator == "large_outflow").unwrap();
        assert_eq!((large.level.as_str(), large.model_version), ("yellow", 1));
        assert!(
            now.iter()
                .filter(|w| first.iter().any(|f| f.id == w.id))
                .all(|w| w.model_version == 0),
            "old warnings keep the version that fired them"
        );

        // A province adjusts within bounds; beyond them, or below the province, is refused.
        let province = format!("{}0000", &s.competent_region().await.as_str()[..2]);
        let adjusted = |edit: fn(&mut RiskModel)| {
            let mut model = v1.model.clone();
            edit(&mut model);
            ModelChange {
                model,
                reason: "本省调整".into(),
            }
        };
        let too_far = adjusted(|m| m.rules.get_mut(&Indicator::LargeOutflow).unwrap().yellow = 3);
        assert_eq!(
            s.t.app
                .set_risk_model(&supervisor(&province), &too_far)
                .await
                .unwrap_err()
                .code,
            ErrorCode::InvalidParameter
        );
        let v2 =
            s.t.app
                .set_risk_model(
                    &supervisor(&province),
                    &adjusted(|m| m.rules.get_mut(&Indicator::RefundSurge).unwrap().yellow = 3),
                )
                .await
                .unwrap();
        assert_eq!(v2.version, 2);
        let institution =
            s.t.app
                .store()
                .read()
                .institution(&s.institution_id)
                .await
                .unwrap()
                .unwrap();
        assert_eq!(
            s.t.app
                .risk_model_for(&institution.region_code)
                .await
                .unwrap()
                .version,
            2
        );
        let county = format!("{}0102", &province[..2]);
        assert_eq!(
            s.t.app
                .set_risk_model(&supervisor(&county), &with(|_| {}))
                .await
                .unwrap_err()
                .code,
            ErrorCode::Forbidden
        );
        assert_eq!(
            s.t.app
                .set_risk_model(&admin, &with(|_| {}))
                .await
                .unwrap_err()
                .code,
            ErrorCode::Forbidden
        );
    }

    #[tokio::test]
    async fn banks_score_their_institutions_beside_the_platforms_score() {
        let s = shop().await;
        let scores = s.t.app.risk_scores(&s.institution_id).await.unwrap();
        assert_eq!((scores.platform, scores.banks.len()), (0, 0));
        let (_, paid) = s.paid_and_deposited().await;
        let t0 = TEST_NOW.millis();
        s.movement("MV-X", "out", 100, paid - 100, t0 + 1, None)
            .await
            .unwrap();
        let score = app::risk::BankRiskScore {
            account_no: app::demo::DEMO_ACCOUNT_NO.into(),
            score: 72,
            note: "近期大额支取频繁".into(),
        };
        let scores =
            s.t.app
                .record_bank_risk_score(&s.bank_actor(), &score)
                .await
                .unwrap();
        assert!(
            scores.platform > 0,
            "the live unmatched-outflow warning counts"
        );
        assert_eq!(scores.banks[0].score, 72);
        let too_high = app::risk::BankRiskScore {
            score: 101,
            ..score.clone()
        };
        assert_eq!(
            s.t.app
                .record_bank_risk_score(&s.bank_actor(), &too_high)
                .await
                .unwrap_err()
                .code,
            ErrorCode::InvalidParameter
        );
        let other_bank = Actor::ApiClient {
            key_id: "other".into(),
            owner_kind: "bank".into(),
            owner_id: "other-bank".into(),
        };
        assert_eq!(
            s.t.app
                .record_bank_risk_score(&other_bank, &score)
                .await
                .unwrap_err()
                .code,
            ErrorCode::NotFound,
            "only the bank holding the account scores through it"
        );
        // The next morning's digest tells the national supervisor how many were raised, by level.
        assert!(
            s.t.app
                .send_warning_digest(TEST_NOW.china_date())
                .await
                .unwrap()
                >= 1
        );
        let moe = {
            let mut tx = s.t.app.store().begin_write().await.unwrap();
            tx.account_by_username("moe.supervisor")
                .await
                .unwrap()
                .unwrap()
        };
        let inbox =
            s.t.app
                .my_notifications(&Actor::Regulator {
                    account_id: moe.id,
                    region: domain::RegionCode::parse("000000").unwrap(),
                    role: domain::access::RegulatorRole::Supervisor,
                })
                .await
                .unwrap();
        let digest = inbox
            .iter()
            .find(|n| n.title.starts_with("风险预警日报"))
            .expect("a digest");
        assert!(digest.body.contains("红色 "), "{}", digest.body);
        assert_eq!(
            s.t.app
                .send_warning_digest(TEST_NOW.china_date().succ_opt().unwrap())
                .await
                .unwrap(),
            0,
            "a day without warnings tells nobody"
        );
        assert_eq!(
            s.t.app
                .record_bank_risk_score(&s.parent_actor(), &score)
                .await
                .unwrap_err()
                .code,
            ErrorCode::Forbidden
        );
    }

    #[tokio::test]
    async fn the_sweep_fires_above_each_threshold_and_stays_silent_below() {
        let s = shop().await;
        let national = supervisor("000000");
        s.t.app
            .set_risk_model(
                &national,
                &with(|m| {
                    m.sales_surge_min_fen = 0;
                    m.rules.get_mut(&Indicator::RefundSurge).unwrap().yellow = 1;
                }),
            )
            .await
            .unwrap();
        // Nothing happened yet: nothing fires.
        assert_eq!(s.t.app.sweep_risks().await.unwrap(), 0);

        // One sale, then 34 days later two in a week: sales at 800% of the weekly average before.
        let base = s.order().await;
        s.pay(&base, "PAY-BASE").await;
        let admin = s.staff(domain::access::StaffRole::Admin).await;
        let fired = |app: app::App, admin: Actor| async move {
            let mut v: Vec<(String, String)> = app
                .warnings_for(&admin, 0)
                .await
                .unwrap()
                .into_iter()
                .map(|w| (w.indicator, w.level))
                .collect();
            v.sort();
            v
        };
        assert_eq!(
            s.t.app.sweep_risks().await.unwrap(),
            0,
            "no base to surge from"
        );
        s.t.clock.advance_millis(15 * 86_400_000);
        // Fifteen days without a confirmed lesson while the escrow remains: dormant (yellow at 14).
        assert_eq!(s.t.app.sweep_risks().await.unwrap(), 1);
        assert_eq!(
            fired(s.t.app.clone(), admin.clone()).await,
            [("dormant_escrow".to_owned(), "yellow".to_owned())]
        );
        s.t.clock.advance_millis(15 * 86_400_000);
        assert_eq!(
            s.t.app.sweep_risks().await.unwrap(),
            1,
            "thirty days: orange"
        );
        assert_eq!(
            s.t.app.sweep_risks().await.unwrap(),
            0,
            "raised once per level"
        );

        s.t.clock.advance_millis(4 * 86_400_000);
        let (a, b) = (s.order().await, s.order().await);
        s.pay(&a, "PAY-A").await;
        s.pay(&b, "PAY-B").await;
        // The parent asks for one back: one refund request in a week reaches the edited threshold (1).
        let request = app::refunds::RefundRequest {
            reason: "孩子不想上了".into(),
        };
        s.t.app
            .request_refund(&s.parent_actor(), &a.line.id, &request)
            .await
            .unwrap();
        s.t.app.sweep_risks().await.unwrap();
        let all = fired(s.t.app.clone(), admin.clone()).await;
        assert!(
            all.contains(&("sales_surge".into(), "red".into())),
            "{all:?}"
        );
        assert!(
            all.contains(&("refund_surge".into(), "yellow".into())),
            "{all:?}"
        );
        assert!(!all.iter().any(|(i, _)| i == "complaint_spike"), "{all:?}");
    }

    #[tokio::test]
    async fn a_warning_not_rectified_by_its_deadline_is_published_and_the_institution_goes_grey() {
        let s = shop().await;
        let (_, paid) = s.paid_and_deposited().await;
        let t0 = TEST_NOW.millis();
        s.movement("MV-X", "out", 100, paid - 100, t0 + 1, None)
            .await
            .unwrap();
        let admin = s.staff(domain::access::StaffRole::Admin).await;
        let warnings = s.t.app.warnings_for(&admin, 0).await.unwrap();
        let unmatched = warnings
            .iter()
            .find(|w| w.indicator == "unmatched_outflow")
            .unwrap()
            .clone();
        let others: Vec<_> = warnings.iter().filter(|w| w.id != unmatched.id).collect();
        let regulator = s.competent_supervisor().await;

        // One the institution explains and the regulator lifts.
        for w in &others {
            let answered =
                s.t.app
                    .answer_warning(
                        &admin,
                        &w.id,
                        &WarningAnswer {
                            explanation: "已补足监管账户余额".into(),
                        },
                    )
                    .await
                    .unwrap();
            assert_eq!(answered.status, domain::WarningStatus::Answered);
            let lifted =
                s.t.app
                    .decide_warning(
                        &regulator,
                        &w.id,
                        &WarningDecision {
                            decision: "lift".into(),
                            reason: "核实已整改".into(),
                        },
                    )
                    .await
                    .unwrap();
            assert_eq!(lifted.status, domain::WarningStatus::Lifted);
        }
        assert_eq!(
            s.t.app
                .decide_warning(
                    &super::money_flow::supervisor_outside(s.competent_region().await.as_str()),
                    &unmatched.id,
                    &WarningDecision {
                        decision: "lift".into(),
                        reason: "越权".into(),
                    },
                )
                .await
                .unwrap_err()
                .code,
            ErrorCode::Forbidden
        );

        // The other is left: a day before the deadline nothing is published; after it, it is.
        let national = supervisor("000000");
        let lists_before =
            s.t.app
                .dashboard(&national, None, 1)
                .await
                .unwrap()
                .institutions;
        assert_eq!(s.t.app.publish_overdue_warnings().await.unwrap(), 0);
        s.t.app.move_clock(4, 0).unwrap();
        assert_eq!(s.t.app.publish_overdue_warnings().await.unwrap(), 0);
        s.t.app.move_clock(2, 0).unwrap();
        assert_eq!(s.t.app.publish_overdue_warnings().await.unwrap(), 1);
        assert_eq!(s.t.app.publish_overdue_warnings().await.unwrap(), 0, "once");
        let public = s.t.app.public_warnings().await.unwrap();
        assert_eq!(public[0].id, unmatched.id);
        let institution =
            s.t.app
                .store()
                .read()
                .institution(&s.institution_id)
                .await
                .unwrap()
                .unwrap();
        assert_eq!(institution.list_status, domain::ListStatus::Grey);
        let lists =
            s.t.app
                .dashboard(&national, None, 1)
                .await
                .unwrap()
                .institutions;
        assert_eq!(
            (lists.white, lists.grey, lists.total),
            (
                lists_before.white - 1,
                lists_before.grey + 1,
                lists_before.total
            ),
            "the dashboard's list counts follow the move"
        );
        assert_eq!(
            s.t.app
                .answer_warning(
                    &admin,
                    &unmatched.id,
                    &WarningAnswer {
                        explanation: "迟到的说明".into(),
                    },
                )
                .await
                .unwrap_err()
                .code,
            ErrorCode::Conflict,
            "published: too late to answer"
        );
    }
}

/// 监管看板: figures from rollups kept in the events' transactions, region by region.
mod dashboard {
    use super::money_flow::shop;
    use super::region_policy::supervisor;
    use app::ErrorCode;
    use app::testing::TEST_NOW;

    #[tokio::test]
    async fn open_complaints_with_their_deadlines_and_the_weekly_and_monthly_trends() {
        let s = shop().await;
        let (order, paid) = s.paid_and_deposited().await;
        let national = supervisor("000000");
        let d = s.t.app.dashboard(&national, None, 7).await.unwrap();
        assert_eq!((d.weekly.len(), d.monthly.len()), (12, 12));
        assert_eq!(d.weekly.last().unwrap().collected_fen, paid);
        assert_eq!(d.monthly.last().unwrap().collected_fen, paid);
        assert_eq!(d.monthly.last().unwrap().day, "2026-11-01");
        assert_eq!(
            d.weekly.last().unwrap().day,
            "2026-11-23",
            "the Monday of TEST_NOW's week"
        );
        assert_eq!(d.weekly.iter().map(|w| w.collected_fen).sum::<i64>(), paid);
        assert_eq!(d.complaints.with_institution, 0);

        let complaint = app::complaints::NewComplaint {
            institution_id: s.institution_id.clone(),
            order_id: Some(order.line.id.clone()),
            category: "teaching_quality".into(),
            body: "老师连续三次迟到".into(),
        };
        s.t.app
            .file_complaint(&s.parent_actor(), &complaint, &[])
            .await
            .unwrap();
        let d = s.t.app.dashboard(&national, None, 7).await.unwrap();
        assert_eq!(
            (
                d.complaints.with_institution,
                d.complaints.institution_overdue
            ),
            (1, 0)
        );
        // Ten days later the institution's five working days have passed without an answer.
        s.t.clock.advance_millis(10 * 86_400_000);
        let d = s.t.app.dashboard(&national, None, 7).await.unwrap();
        assert_eq!(
            (
                d.complaints.with_institution,
                d.complaints.institution_overdue
            ),
            (1, 1)
        );
        let elsewhere =
            s.t.app
                .dashboard(&supervisor("440000"), None, 7)
                .await
                .unwrap();
        assert_eq!(
            elsewhere.complaints.with_institution, 0,
            "another province's"
        );
    }

    #[tokio::test]
    async fn payments_releases_and_refunds_roll_up_to_every_level_and_drill_down() {
        let s = shop().await;
        let national = supervisor("000000");
        let before = s.t.app.dashboard(&national, None, 30).await.unwrap();
        assert_eq!(before.money.collected_fen, 0);
        assert_eq!(
            before.institutions.total,
            s.t.app.store().read().institution_count().await.unwrap()
        );
        assert_eq!(before.trend.len(), 30);

        let (order, paid) = s.paid_and_deposited().await;
        let t0 = TEST_NOW.millis();
        let lesson = s.attend(&order.line.id).await;
        s.t.app
            .confirm_lesson(&s.parent_actor(), &lesson.id)
            .await
            .unwrap();
        let instruction =
            s.t.app
                .store()
                .read()
                .lesson(&lesson.id)
                .await
                .unwrap()
                .unwrap()
                .release_instruction_id
                .unwrap();
        s.movement(
            "MV-OUT",
            "out",
            lesson.fee_fen,
            paid - lesson.fee_fen,
            t0 + 1,
            Some(&instruction),
        )
        .await
        .unwrap();

        let institution =
            s.t.app
                .store()
                .read()
                .institution(&s.institution_id)
                .await
                .unwrap()
                .unwrap();
        let county = institution.region_code.clone();
        let province = format!("{}0000", &county[..2]);
        for region in [None, Some(province.as_str()), Some(county.as_str())] {
            let d = s.t.app.dashboard(&national, region, 7).await.unwrap();
            assert_eq!(
                (
                    d.money.orders_paid,
                    d.money.collected_fen,
                    d.money.released_fen,
                    d.money.escrow_fen
                ),
                (1, paid, lesson.fee_fen, paid - lesson.fee_fen),
                "{region:?}"
            );
            let today = d.trend.last().unwrap();
            assert_eq!(
                (today.day.clone(), today.collected_fen),
                (TEST_NOW.china_date().to_string(), paid)
            );
        }
        // Rebuilding the rollups from the orders and instructions (as on opening older data) gives the same.
        let kept =
            s.t.app
                .dashboard(&national, Some(&province), 7)
                .await
                .unwrap();
        let mut tx = s.t.app.store().begin_write().await.unwrap();
        tx.rebuild_dashboard_rollups().await.unwrap();
        tx.commit().await.unwrap();
        let rebuilt =
            s.t.app
                .dashboard(&national, Some(&province), 7)
                .await
                .unwrap();
        assert!(
            kept.institutions.supervised >= 1,
            "the demo account is confirmed"
        );
        assert_eq!(
            (
                rebuilt.money.collected_fen,
                rebuilt.money.released_fen,
                rebuilt.institutions.total,
                rebuilt.institutions.supervised
            ),
            (
                kept.money.collected_fen,
                kept.money.released_fen,
                kept.institutions.total,
                kept.institutions.supervised
            )
        );
        // The nation drills down to the province that holds the money, and only to it.
        let d = s.t.app.dashboard(&national, None, 7).await.unwrap();
        let holding: Vec<&str> = d
            .children
            .iter()
            .filter(|c| c.money.collected_fen > 0)
            .map(|c| c.region.code.as_str())
            .collect();
        assert_eq!(holding, [province.as_str()]);
        let elsewhere = if province == "110000" {
            "310000"
        } else {
            "110000"
        };
        assert_eq!(
            s.t.app
                .dashboard(&national, Some(elsewhere), 7)
                .await
                .unwrap()
                .money
                .collected_fen,
            0
        );
        // A regulator sees its own subtree only; bad periods are refused.
        assert_eq!(
            s.t.app
                .dashboard(&supervisor(elsewhere), Some(&province), 7)
                .await
                .unwrap_err()
                .code,
            ErrorCode::Forbidden
        );
        assert_eq!(
            s.t.app
                .dashboard(&national, None, 0)
                .await
                .unwrap_err()
                .code,
            ErrorCode::InvalidParameter
        );
        assert_eq!(
            s.t.app
                .dashboard(&s.parent_actor(), None, 7)
                .await
                .unwrap_err()
                .code,
            ErrorCode::Forbidden
        );
    }
}

mod monitoring {
    use super::money_flow::shop;
    use super::region_policy::supervisor;
    use app::ErrorCode;
    use app::monitoring::{Cell, NewFinancialStatement};
    use domain::access::StaffRole;

    const PDF: &[u8] = b"%PDF-1.4\n%statement\n";

    /// An 18-digit resident ID with a valid check character.
    fn id_card(seq: u32) -> String {
        domain::person::IdCardNumber::with_check_character(&format!("11010819900101{seq:03}"))
            .unwrap()
    }

    fn statement(period: &str, revenue_fen: i64) -> NewFinancialStatement {
        NewFinancialStatement {
            period: period.into(),
            revenue_fen,
            expenses_fen: 800_000,
            net_assets_fen: -50_000,
            prepaid_fen: 300_000,
            filename: "2026年三季度报表.pdf".into(),
        }
    }

    #[tokio::test]
    async fn the_five_focus_items_show_the_institutions_records_and_exports_are_audited() {
        let s = shop().await;
        let (order, paid) = s.paid_and_deposited().await;
        let admin = s.staff(StaffRole::Admin).await;
        s.t.app
            .file_financial_statement(&admin, &statement("2026-Q3", 1_234_567), PDF)
            .await
            .unwrap();
        let regulator = s.competent_supervisor().await;
        let id = s.institution_id.clone();
        let table = |focus: &'static str| {
            let (app, regulator, id) = (s.t.app.clone(), regulator.clone(), id.clone());
            async move { app.monitoring_table(&regulator, &id, focus).await.unwrap() }
        };

        let orders = table("orders").await;
        let row = orders
            .rows
            .iter()
            .find(|r| r[0] == Cell::Text(order.line.order_no.clone()))
            .expect("the paid order is listed");
        assert_eq!(row[3], Cell::Number(paid));
        assert_eq!(row[7], Cell::Number(paid), "all of it still in escrow");
        let movements = table("movements").await;
        assert!(
            movements
                .rows
                .iter()
                .any(|r| r[3] == Cell::Text("入账".into()) && r[4] == Cell::Number(paid))
        );
        let statements = table("statements").await;
        assert_eq!(statements.rows.len(), 1);
        assert_eq!(statements.rows[0][0], Cell::Text("2026-Q3".into()));
        assert_eq!(statements.rows[0][1], Cell::Number(1_234_567));
        assert_eq!(
            statements.rows[0][1].display(statements.columns[1].kind),
            "12345.67"
        );
        assert_eq!(
            statements.rows[0][3].display(statements.columns[3].kind),
            "-500.00"
        );
        let staff = table("staff").await;
        assert_eq!(staff.columns.len(), 8);
        let changes = table("changes").await;
        assert_eq!(changes.columns[3].label, "变更事项");

        // Outside the region, an unknown focus, an unknown format: refused.
        assert_eq!(
            s.t.app
                .monitoring_table(&supervisor("440000"), &id, "orders")
                .await
                .unwrap_err()
                .code,
            ErrorCode::Forbidden
        );
        assert_eq!(
            s.t.app
                .monitoring_table(&regulator, &id, "gossip")
                .await
                .unwrap_err()
                .code,
            ErrorCode::InvalidParameter
        );
        assert_eq!(
            s.t.app
                .monitoring_export(&regulator, &id, "orders", "pdf")
                .await
                .unwrap_err()
                .code,
            ErrorCode::InvalidParameter
        );
        let exported =
            s.t.app
                .monitoring_export(&regulator, &id, "orders", "xlsx")
                .await
                .unwrap();
        assert_eq!(exported.rows.len(), orders.rows.len());
        let audited =
            s.t.app
                .store()
                .read()
                .audit_entries_about(&format!("institution:{id}"), 20)
                .await
                .unwrap()
                .into_iter()
                .find(|e| e.body.action == "monitoring.exported")
                .expect("the export is audited");
        let payload: serde_json::Value = serde_json::from_str(&audited.body.payload).unwrap();
        assert_eq!(payload["focus"], "orders");
        assert_eq!(payload["rows"], orders.rows.len());
    }

    #[tokio::test]
    async fn a_statement_with_a_bad_period_figure_or_file_is_refused_and_keeps_nothing() {
        let s = shop().await;
        let admin = s.staff(StaffRole::Admin).await;
        let documents = || async {
            s.t.app
                .store()
                .read()
                .documents_of(&s.institution_id)
                .await
                .unwrap()
                .len()
        };
        let before = documents().await;
        for (bad, bytes) in [
            (statement("2026-Q5", 1), PDF),
            (statement("2026", -1), PDF),
            (statement("2026", 1), &b"MZ\x90\x00 not a statement"[..]),
        ] {
            let code =
                s.t.app
                    .file_financial_statement(&admin, &bad, bytes)
                    .await
                    .unwrap_err()
                    .code;
            assert!(
                matches!(
                    code,
                    ErrorCode::InvalidParameter | ErrorCode::DocumentRejected
                ),
                "{code:?}"
            );
        }
        assert_eq!(documents().await, before);
        assert!(
            s.t.app
                .my_financial_statements(&admin)
                .await
                .unwrap()
                .is_empty()
        );
        // A parent may not file; a restatement of the same period is kept beside the first.
        assert_eq!(
            s.t.app
                .file_financial_statement(&s.parent_actor(), &statement("2026", 1), PDF)
                .await
                .unwrap_err()
                .code,
            ErrorCode::Forbidden
        );
        s.t.app
            .file_financial_statement(&admin, &statement("2026", 1), PDF)
            .await
            .unwrap();
        s.t.app
            .file_financial_statement(&admin, &statement("2026", 2), PDF)
            .await
            .unwrap();
        let filed = s.t.app.my_financial_statements(&admin).await.unwrap();
        assert_eq!(
            filed.iter().map(|f| f.revenue_fen).collect::<Vec<_>>(),
            [2, 1],
            "newest first"
        );
    }

    #[tokio::test]
    async fn staff_who_leave_are_kept_with_the_date_and_feed_the_staff_churn_indicator() {
        let s = shop().await;
        let admin = s.staff(StaffRole::Admin).await;
        let check =
            s.t.app
                .upload_document(&admin, "record_check", "check.pdf", PDF)
                .await
                .unwrap();
        let mut hired = Vec::new();
        for seq in 1..=5 {
            let hire = app::staff::Hire {
                name: "李老师".into(),
                id_card: id_card(seq),
                role: "teaching".into(),
                subject_teacher: false,
                teacher_cert_no: String::new(),
                serving_school_teacher: false,
                record_check_document: check.id.clone(),
            };
            hired.push(s.t.app.hire_staff(&admin, &hire).await.unwrap());
        }
        let quiet = s.t.app.sweep_risks().await.unwrap();
        let churn = |s: &super::money_flow::Shop| {
            let (app, admin) = (s.t.app.clone(), admin.clone());
            async move {
                app.warnings_for(&admin, 0)
                    .await
                    .unwrap()
                    .into_iter()
                    .find(|w| w.indicator == "staff_churn")
            }
        };
        assert!(
            churn(&s).await.is_none(),
            "nobody left yet ({quiet} raised)"
        );
        let left = s.t.app.staff_left(&admin, &hired[0].id).await.unwrap();
        assert!(left.left_on.is_some());
        assert_eq!(
            s.t.app
                .staff_left(&admin, &hired[0].id)
                .await
                .unwrap_err()
                .code,
            ErrorCode::NotFound,
            "once"
        );
        s.t.app.sweep_risks().await.unwrap();
        assert!(
            churn(&s).await.is_none(),
            "1 of 5 (20%) is below the yellow 30%"
        );
        s.t.app.staff_left(&admin, &hired[1].id).await.unwrap();
        s.t.app.sweep_risks().await.unwrap();
        let warning = churn(&s).await.expect("2 of 5 left: 40%");
        assert_eq!(warning.level, "yellow");
        let regulator = s.competent_supervisor().await;
        let staff =
            s.t.app
                .monitoring_table(&regulator, &s.institution_id, "staff")
                .await
                .unwrap();
        let left_dates = staff
            .rows
            .iter()
            .filter(|r| r[7] != Cell::Text(String::new()))
            .count();
        assert_eq!(left_dates, 2);
    }
}

mod inspection {
    use super::money_flow::{shop, supervisor_outside};
    use super::region_policy::supervisor;
    use app::credit::CreditModelChange;
    use app::penalties::NewPenalty;
    use app::spot_checks::{CHECKLIST, EvidenceFile, Finding, NewCampaign, SpotCheckResult};
    use app::testing::{TEST_NOW, TestApp};
    use app::{Actor, ErrorCode};
    use domain::access::RegulatorRole;
    use domain::credit::CreditModel;
    use domain::sampling::stratum_quota;
    use std::collections::BTreeMap;

    const PDF: &[u8] = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n";

    fn campaign(seed: Option<u64>) -> NewCampaign {
        NewCampaign {
            name: "2026年第四季度抽检".into(),
            share_percent: 20,
            strata: vec!["mode".into(), "category".into(), "risk".into()],
            seed,
        }
    }

    fn result(issues: &[(&str, &str)]) -> SpotCheckResult {
        SpotCheckResult {
            findings: CHECKLIST
                .iter()
                .map(|(key, _)| {
                    let issue = issues.iter().find(|(k, _)| k == key);
                    Finding {
                        item: (*key).into(),
                        ok: issue.is_none(),
                        note: issue.map_or(String::new(), |(_, n)| (*n).into()),
                    }
                })
                .collect(),
        }
    }

    #[tokio::test]
    async fn the_same_seed_draws_the_same_stratified_sample_and_checkers_take_turns() {
        let t = TestApp::with_demo(2400).await;
        let haidian = supervisor("110108");
        let first = t
            .app
            .create_spot_check_campaign(&haidian, &campaign(Some(20_261_126)))
            .await
            .unwrap();
        let again = t
            .app
            .create_spot_check_campaign(&haidian, &campaign(Some(20_261_126)))
            .await
            .unwrap();
        let other = t
            .app
            .create_spot_check_campaign(&haidian, &campaign(Some(7)))
            .await
            .unwrap();
        let drawn = |c: &app::spot_checks::CampaignView| {
            c.checks
                .iter()
                .map(|k| k.institution_id.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            drawn(&first),
            drawn(&again),
            "the recorded seed re-draws the sample"
        );
        assert_ne!(drawn(&first), drawn(&other));
        assert_eq!(first.seed, 20_261_126);
        // Every stratum gives its share, rounded up, and only Haidian institutions are drawn.
        let mut sizes: BTreeMap<String, usize> = BTreeMap::new();
        let mut drawn_per: BTreeMap<String, usize> = BTreeMap::new();
        for k in &first.checks {
            *drawn_per.entry(k.stratum.clone()).or_default() += 1;
            let row = t
                .app
                .store()
                .read()
                .institution(&k.institution_id)
                .await
                .unwrap()
                .unwrap();
            assert_eq!(row.region_code, "110108");
        }
        let population = t
            .app
            .store()
            .read()
            .spot_check_population("110108")
            .await
            .unwrap();
        assert_eq!(first.population as usize, population.len());
        for row in &population {
            let risk = ["none", "yellow", "orange", "red"][row.risk_rank as usize];
            let category = row.categories.split(',').next().unwrap();
            *sizes
                .entry(format!("{}|{category}|{risk}", row.mode))
                .or_default() += 1;
        }
        assert!(sizes.len() > 2, "several strata: {sizes:?}");
        for (stratum, size) in &sizes {
            assert_eq!(
                drawn_per.get(stratum).copied().unwrap_or(0),
                stratum_quota(*size, 20),
                "{stratum}"
            );
        }
        // The demo's Haidian reviewer and supervisor check in turn.
        let checkers: std::collections::BTreeSet<&str> =
            first.checks.iter().map(|k| k.checker_id.as_str()).collect();
        assert_eq!(checkers.len(), 2);
        // Refused: a bad share, a stratum that does not exist, a reviewer drawing, another region's campaign.
        let mut bad = campaign(None);
        bad.share_percent = 0;
        assert_eq!(
            t.app
                .create_spot_check_campaign(&haidian, &bad)
                .await
                .unwrap_err()
                .code,
            ErrorCode::InvalidParameter
        );
        bad.share_percent = 10;
        bad.strata = vec!["colour".into()];
        assert_eq!(
            t.app
                .create_spot_check_campaign(&haidian, &bad)
                .await
                .unwrap_err()
                .code,
            ErrorCode::InvalidParameter
        );
        let reviewer = Actor::Regulator {
            account_id: "rev".into(),
            region: domain::RegionCode::parse("110108").unwrap(),
            role: RegulatorRole::Reviewer,
        };
        assert_eq!(
            t.app
                .create_spot_check_campaign(&reviewer, &campaign(None))
                .await
                .unwrap_err()
                .code,
            ErrorCode::Forbidden
        );
        assert_eq!(
            t.app
                .spot_check_campaign(&supervisor("110105"), &first.id)
                .await
                .unwrap_err()
                .code,
            ErrorCode::NotFound
        );
        // Three here and the demo's own.
        assert_eq!(t.app.spot_check_campaigns(&haidian).await.unwrap().len(), 4);
    }

    #[tokio::test]
    async fn findings_raise_a_warning_and_lower_the_credit_whose_breakdown_adds_up() {
        let t = TestApp::with_demo(2400).await;
        let haidian = supervisor("110108");
        let c = t
            .app
            .create_spot_check_campaign(&haidian, &campaign(Some(1)))
            .await
            .unwrap();
        let (check, clean) = (&c.checks[0], &c.checks[1]);
        let before = t
            .app
            .credit_of(&haidian, &check.institution_id)
            .await
            .unwrap();
        // A finding without a note is refused and nothing is kept.
        let err = t
            .app
            .record_spot_check(&haidian, &check.id, &result(&[("staff", "")]), &[])
            .await
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::FieldTooLong);
        let mut short = result(&[]);
        short.findings.pop();
        assert_eq!(
            t.app
                .record_spot_check(&haidian, &check.id, &short, &[])
                .await
                .unwrap_err()
                .code,
            ErrorCode::InvalidParameter
        );
        assert_eq!(
            t.app.spot_check(&haidian, &check.id).await.unwrap().status,
            domain::SpotCheckStatus::Assigned
        );
        let evidence = [EvidenceFile {
            filename: "现场照片.pdf".into(),
            bytes: PDF.to_vec(),
        }];
        let recorded = t
            .app
            .record_spot_check(
                &haidian,
                &check.id,
                &result(&[
                    ("staff", "两名教师无入职查询记录"),
                    ("statements", "未报送三季度财务报表"),
                ]),
                &evidence,
            )
            .await
            .unwrap();
        assert_eq!(
            (recorded.status.as_str(), recorded.finding_count),
            ("recorded", 2)
        );
        assert_eq!(recorded.evidence.len(), 1);
        assert_eq!(
            t.app
                .record_spot_check(&haidian, &check.id, &result(&[]), &[])
                .await
                .unwrap_err()
                .code,
            ErrorCode::Conflict,
            "recorded once"
        );
        // The finding raised an orange warning (two items) and cost the credit its points.
        let warnings = t.app.warnings_for(&haidian, 0).await.unwrap();
        let w = warnings
            .iter()
            .find(|w| {
                w.institution_id == check.institution_id && w.indicator == "spot_check_findings"
            })
            .expect("a spot-check warning");
        assert_eq!(w.level, "orange");
        let after = t
            .app
            .credit_of(&haidian, &check.institution_id)
            .await
            .unwrap();
        let m = CreditModel::default();
        assert_eq!(after.facts.spot_check_findings, 2);
        assert_eq!(
            after.rating.score,
            (before.rating.score + 2 * m.spot_check_finding + m.warning_orange).clamp(0, 100)
        );
        let sum = after.rating.base + after.rating.items.iter().map(|i| i.points).sum::<i32>();
        assert_eq!(
            after.rating.score,
            sum.clamp(0, 100),
            "the breakdown adds up"
        );
        // A clean check adds its points.
        let clean_before = t
            .app
            .credit_of(&haidian, &clean.institution_id)
            .await
            .unwrap()
            .rating
            .score;
        t.app
            .record_spot_check(&haidian, &clean.id, &result(&[]), &[])
            .await
            .unwrap();
        let clean_after = t
            .app
            .credit_of(&haidian, &clean.institution_id)
            .await
            .unwrap()
            .rating
            .score;
        assert_eq!(clean_after, (clean_before + m.spot_check_passed).min(100));
        // Someone else's region, a parent: refused.
        assert_eq!(
            t.app
                .record_spot_check(&supervisor("110105"), &clean.id, &result(&[]), &[])
                .await
                .unwrap_err()
                .code,
            ErrorCode::Forbidden
        );
        assert_eq!(
            t.app
                .credit_of(&supervisor_outside("110108"), &check.institution_id)
                .await
                .unwrap_err()
                .code,
            ErrorCode::Forbidden
        );
    }

    fn penalty(kind: &str, no: &str) -> NewPenalty {
        NewPenalty {
            kind: kind.into(),
            decision_no: no.into(),
            decided_on: TEST_NOW.china_date().to_string(),
            amount_fen: None,
            legal_basis: "《校外培训行政处罚暂行办法》第十六条".into(),
            facts: "超前收费、超期收费".into(),
            in_force_until: None,
            publish: None,
        }
    }

    #[tokio::test]
    async fn each_penalty_has_its_effect() {
        let s = shop().await;
        let region = s.competent_region().await;
        let sup = supervisor(region.as_str());
        let id = s.institution_id.clone();
        let credit = |app: app::App| {
            let sup = sup.clone();
            let id = id.clone();
            async move { app.credit_of(&sup, &id).await.unwrap().rating.score }
        };
        let start = credit(s.t.app.clone()).await;
        // A fine states an amount; a warning none; a date in the future is refused.
        let mut fine = penalty("fine", "海教罚〔2026〕1号");
        assert_eq!(
            s.t.app
                .record_penalty(&sup, &id, &fine)
                .await
                .unwrap_err()
                .code,
            ErrorCode::InvalidParameter
        );
        fine.amount_fen = Some(2_000_000);
        let recorded = s.t.app.record_penalty(&sup, &id, &fine).await.unwrap();
        assert!(recorded.published, "a fine is published");
        assert_eq!(
            s.t.app
                .record_penalty(&sup, &id, &fine)
                .await
                .unwrap_err()
                .code,
            ErrorCode::Conflict,
            "one decision number, one decision"
        );
        let mut warning = penalty("warning", "海教罚〔2026〕2号");
        warning.amount_fen = Some(1);
        assert_eq!(
            s.t.app
                .record_penalty(&sup, &id, &warning)
                .await
                .unwrap_err()
                .code,
            ErrorCode::InvalidParameter
        );
        let mut future = penalty("warning", "海教罚〔2026〕3号");
        future.decided_on = "2099-01-01".into();
        assert_eq!(
            s.t.app
                .record_penalty(&sup, &id, &future)
                .await
                .unwrap_err()
                .code,
            ErrorCode::InvalidParameter
        );
        assert_eq!(
            s.t.app
                .record_penalty(
                    &supervisor_outside(region.as_str()),
                    &id,
                    &penalty("warning", "X")
                )
                .await
                .unwrap_err()
                .code,
            ErrorCode::Forbidden
        );
        let m = CreditModel::default();
        assert_eq!(credit(s.t.app.clone()).await, start + m.penalty_fine);
        let detail = s.t.app.institution_detail(&id).await.unwrap();
        assert_eq!(detail.penalties.len(), 1, "the published fine is public");
        let notices =
            s.t.app
                .notices(domain::Paging::new(None, Some(50)).unwrap())
                .await
                .unwrap();
        assert!(
            notices
                .items
                .iter()
                .any(|n| n.title.starts_with("行政处罚决定公示"))
        );

        // Stopping enrolment until a date: no courses shown, no orders, until the day after.
        assert!(!detail.courses.is_empty());
        let paid = s.order().await;
        let mut stop = penalty("stop_enrolling", "海教罚〔2026〕4号");
        stop.in_force_until = Some(TEST_NOW.china_date().succ_opt().unwrap().to_string());
        s.t.app.record_penalty(&sup, &id, &stop).await.unwrap();
        let detail = s.t.app.institution_detail(&id).await.unwrap();
        assert!(detail.courses.is_empty() && detail.sales_stopped.is_some());
        assert_eq!(
            s.try_order().await.unwrap_err().code,
            ErrorCode::SalesSuspended
        );
        s.t.clock.advance_millis(2 * 86_400_000);
        assert!(
            s.try_order().await.is_ok(),
            "in force until its last day only"
        );

        // Revoking the licence: the black list, the plate revoked, the run-off of the prepaid money.
        s.pay(&paid, "PAY-PENALTY").await;
        let mut revoke = penalty("licence_revocation", "海教罚〔2026〕5号");
        revoke.decided_on = s.t.app.clock().now().china_date().to_string();
        s.t.app.record_penalty(&sup, &id, &revoke).await.unwrap();
        let detail = s.t.app.institution_detail(&id).await.unwrap();
        assert_eq!(detail.summary.list_status, domain::ListStatus::Black);
        assert!(detail.sales_stopped.is_some());
        let run_off =
            s.t.app
                .run_off(&sup, &id)
                .await
                .unwrap()
                .expect("the run-off started");
        assert!(run_off.refunds >= 1, "the paid order's money goes back");
        assert_eq!(credit(s.t.app.clone()).await, 0, "a revoked licence is D");
    }

    #[tokio::test]
    async fn a_year_is_published_once_exported_and_the_model_versioned_nationally() {
        let t = TestApp::with_demo(2400).await;
        let haidian = supervisor("110108");
        let n = t.app.publish_credit_ratings(&haidian, 2026).await.unwrap();
        assert!(n > 10, "{n}");
        assert_eq!(
            t.app
                .publish_credit_ratings(&haidian, 2026)
                .await
                .unwrap_err()
                .code,
            ErrorCode::Conflict
        );
        assert_eq!(
            t.app
                .publish_credit_ratings(&haidian, 2030)
                .await
                .unwrap_err()
                .code,
            ErrorCode::InvalidParameter
        );
        let rows = t.app.credit_export(&haidian, 2026).await.unwrap();
        assert_eq!(rows.len(), n);
        assert!(
            rows.iter()
                .all(|r| r.region_code == "110108" && r.year == 2026)
        );
        let first = &rows[0];
        let id = t
            .app
            .store()
            .read()
            .published_ratings("110108", 2026)
            .await
            .unwrap()[0]
            .rating
            .institution_id
            .clone();
        let public = t.app.institution_detail(&id).await.unwrap().credit.unwrap();
        assert_eq!(
            (public.score, public.grade.as_str()),
            (first.score, first.grade.as_str())
        );
        // The model: only the national supervisor edits it; bands must descend.
        let model = CreditModel {
            a_from: 95,
            ..CreditModel::default()
        };
        let change = CreditModelChange {
            model: model.clone(),
            reason: "提高A级门槛".into(),
        };
        assert_eq!(
            t.app
                .set_credit_model(&haidian, &change)
                .await
                .unwrap_err()
                .code,
            ErrorCode::Forbidden
        );
        let national = supervisor("000000");
        assert_eq!(
            t.app
                .set_credit_model(&national, &change)
                .await
                .unwrap()
                .version,
            1
        );
        let mut bad = change.clone();
        bad.model.b_from = 99;
        assert_eq!(
            t.app
                .set_credit_model(&national, &bad)
                .await
                .unwrap_err()
                .code,
            ErrorCode::InvalidParameter
        );
        let now = t.app.credit_of(&haidian, &id).await.unwrap();
        assert_eq!(now.model_version, 1);
        assert_eq!(now.rating.grade, model.grade(now.rating.score));
    }
}

mod after_school {
    use super::region_policy::supervisor;
    use app::after_school::{NewAfterSchoolList, NewCandidate};
    use app::testing::TestApp;
    use app::{Actor, ErrorCode};
    use domain::access::RegulatorRole;

    #[tokio::test]
    async fn candidates_are_compared_and_an_expired_licence_is_flagged() {
        let t = TestApp::with_demo(2400).await;
        let haidian = supervisor("110108");
        let mut new = NewAfterSchoolList {
            name: "海淀区课后服务非学科类机构名单".into(),
            school_year: "2026-2028".into(),
        };
        assert_eq!(
            t.app
                .create_after_school_list(&haidian, &new)
                .await
                .unwrap_err()
                .code,
            ErrorCode::InvalidParameter
        );
        new.school_year = "2026-2027".into();
        let list = t
            .app
            .create_after_school_list(&haidian, &new)
            .await
            .unwrap();
        // The demo neighbour whose licence expires in 20 days, a subject-training institution, one off the white
        // list.
        t.app.sweep_risks().await.unwrap();
        let warnings = t.app.warnings_for(&haidian, 0).await.unwrap();
        let licensed = warnings
            .iter()
            .find(|w| w.indicator == "licence_expiry")
            .unwrap()
            .institution_id
            .clone();
        let population = t
            .app
            .store()
            .read()
            .spot_check_population("110108")
            .await
            .unwrap();
        let subject = population
            .iter()
            .find(|r| r.categories.split(',').any(|c| c == "subject") && r.id != licensed)
            .unwrap()
            .id
            .clone();
        let mut after = String::new();
        let black = 'scan: loop {
            let batch = t
                .app
                .store()
                .read()
                .institutions_after(&after, 500)
                .await
                .unwrap();
            after = batch.last().unwrap().id.clone();
            for i in batch {
                if i.region_code == "110108"
                    && i.list_status != domain::ListStatus::White
                    && i.registry_state == domain::RegistryState::Listed
                {
                    break 'scan i.id;
                }
            }
        };
        for id in [&licensed, &subject, &black] {
            t.app
                .add_after_school_candidate(
                    &haidian,
                    &list.id,
                    &NewCandidate {
                        institution_id: id.clone(),
                    },
                )
                .await
                .unwrap();
        }
        let flags =
            |view: &app::after_school::AfterSchoolListView, id: &str| -> Vec<&'static str> {
                view.candidates
                    .iter()
                    .find(|c| c.institution_id == id)
                    .unwrap()
                    .flags
                    .iter()
                    .map(|f| f.code)
                    .collect()
            };
        let view = t.app.after_school_list(&haidian, &list.id).await.unwrap();
        assert!(
            flags(&view, &licensed).contains(&"licence_expiring"),
            "{:?}",
            flags(&view, &licensed)
        );
        assert!(!flags(&view, &licensed).contains(&"licence_expired"));
        assert!(flags(&view, &subject).contains(&"subject_training"));
        assert!(flags(&view, &black).contains(&"not_white_listed"));
        // Twenty-one days later the licence has expired: the list says so.
        t.clock.advance_millis(21 * 86_400_000);
        let view = t.app.after_school_list(&haidian, &list.id).await.unwrap();
        assert!(
            flags(&view, &licensed).contains(&"licence_expired"),
            "{:?}",
            flags(&view, &licensed)
        );
        // Ranked: fewer problems do not matter, only none; within a group the higher credit first.
        let keys: Vec<(bool, i32)> = view
            .candidates
            .iter()
            .map(|c| (!c.flags.is_empty(), -c.credit_score))
            .collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted);
        // Refused: twice, outside the region, by a reviewer.
        let again = NewCandidate {
            institution_id: subject.clone(),
        };
        assert_eq!(
            t.app
                .add_after_school_candidate(&haidian, &list.id, &again)
                .await
                .unwrap_err()
                .code,
            ErrorCode::Conflict
        );
        let chaoyang = t
            .app
            .store()
            .read()
            .spot_check_population("110105")
            .await
            .unwrap()[0]
            .id
            .clone();
        assert_eq!(
            t.app
                .add_after_school_candidate(
                    &haidian,
                    &list.id,
                    &NewCandidate {
                        institution_id: chaoyang
                    }
                )
                .await
                .unwrap_err()
                .code,
            ErrorCode::NotFound
        );
        let reviewer = Actor::Regulator {
            account_id: "rev".into(),
            region: domain::RegionCode::parse("110108").unwrap(),
            role: RegulatorRole::Reviewer,
        };
        assert_eq!(
            t.app
                .add_after_school_candidate(&reviewer, &list.id, &again)
                .await
                .unwrap_err()
                .code,
            ErrorCode::Forbidden
        );
        // The demo's list and this one.
        assert_eq!(t.app.after_school_lists(&haidian).await.unwrap().len(), 2);
    }

    /// The demo school (海淀区中关村第一小学) as its account acts.
    async fn demo_school(t: &TestApp) -> Actor {
        let mut tx = t.app.store().begin_write().await.unwrap();
        let row = tx
            .account_by_username(app::demo::DEMO_SCHOOL_USERNAME)
            .await
            .unwrap()
            .unwrap();
        Actor::School {
            account_id: row.id,
            school_id: row.school_id.unwrap(),
            region: domain::RegionCode::parse(&row.region_code.unwrap()).unwrap(),
        }
    }

    #[tokio::test]
    async fn a_school_chooses_an_unflagged_candidate_from_the_lists_covering_it() {
        let t = TestApp::with_demo(2400).await;
        let school = demo_school(&t).await;
        let Actor::School { school_id, .. } = &school else {
            unreachable!()
        };
        // The lists of its county and its city, not another county's.
        let year = |name: &str| NewAfterSchoolList {
            name: name.into(),
            school_year: "2026-2027".into(),
        };
        let beijing = t
            .app
            .create_after_school_list(&supervisor("110000"), &year("北京市课后服务机构名单"))
            .await
            .unwrap();
        let chaoyang = t
            .app
            .create_after_school_list(&supervisor("110105"), &year("朝阳区课后服务机构名单"))
            .await
            .unwrap();
        let lists = t.app.school_after_school_lists(&school).await.unwrap();
        let names: Vec<&str> = lists.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(names.len(), 2, "{names:?}");
        assert!(names.contains(&"北京市课后服务机构名单"));
        assert!(!names.contains(&"朝阳区课后服务机构名单"));
        assert_eq!(
            t.app
                .school_after_school_list(&school, &chaoyang.id)
                .await
                .unwrap_err()
                .code,
            ErrorCode::NotFound
        );
        assert!(
            t.app
                .school_after_school_list(&school, &beijing.id)
                .await
                .unwrap()
                .candidates
                .is_empty()
        );
        // The demo's Haidian list: one candidate whose teacher a reviewer vetted, others flagged.
        let demo = lists
            .iter()
            .find(|l| l.region_code == "110108")
            .unwrap()
            .id
            .clone();
        let view = t
            .app
            .school_after_school_list(&school, &demo)
            .await
            .unwrap();
        let chosen = view
            .candidates
            .iter()
            .find(|c| c.selectable && c.flags.is_empty())
            .expect("the demo list has an unflagged candidate")
            .institution_id
            .clone();
        let barred = view
            .candidates
            .iter()
            .find(|c| !c.selectable)
            .expect("the demo list has a flagged candidate");
        assert!(!barred.flags.is_empty());
        let choose = |institution_id: &str, note: &str| app::after_school::NewChoice {
            institution_id: institution_id.into(),
            note: note.into(),
        };
        let refused = t
            .app
            .choose_after_school(&school, &demo, &choose(&barred.institution_id, ""))
            .await
            .unwrap_err();
        assert_eq!(refused.code, ErrorCode::CandidateFlagged);
        for f in barred.flags.iter().filter(|f| f.code != "licence_expiring") {
            assert!(refused.detail.contains(f.code), "{}", refused.detail);
        }
        let long = "美".repeat(201);
        assert_eq!(
            t.app
                .choose_after_school(&school, &demo, &choose(&chosen, &long))
                .await
                .unwrap_err()
                .code,
            ErrorCode::FieldTooLong
        );
        assert!(
            t.app
                .store()
                .read()
                .after_school_choices(&demo)
                .await
                .unwrap()
                .is_empty(),
            "a refused choice keeps nothing"
        );
        // Only schools choose.
        assert_eq!(
            t.app
                .choose_after_school(&supervisor("110108"), &demo, &choose(&chosen, ""))
                .await
                .unwrap_err()
                .code,
            ErrorCode::Forbidden
        );
        let view = t
            .app
            .choose_after_school(&school, &demo, &choose(&chosen, "周三下午 三年级 美术社团"))
            .await
            .unwrap();
        let mine = |v: &app::after_school::AfterSchoolListView| -> Vec<String> {
            v.candidates
                .iter()
                .filter(|c| !c.choices.is_empty())
                .map(|c| c.institution_id.clone())
                .collect()
        };
        assert_eq!(mine(&view), vec![chosen.clone()]);
        assert_eq!(
            t.app
                .choose_after_school(&school, &demo, &choose(&chosen, ""))
                .await
                .unwrap_err()
                .code,
            ErrorCode::Conflict
        );
        // The supervisor sees which school chose what, and for what.
        let regulator_view = t
            .app
            .after_school_list(&supervisor("110108"), &demo)
            .await
            .unwrap();
        let c = regulator_view
            .candidates
            .iter()
            .find(|c| c.institution_id == chosen)
            .unwrap();
        assert_eq!(c.choices.len(), 1);
        assert_eq!(c.choices[0].school_name, "北京市海淀区中关村第一小学");
        assert_eq!(c.choices[0].note, "周三下午 三年级 美术社团");
        assert_eq!(&c.choices[0].school_id, school_id);
        // Withdrawn with a reason, then chosen again.
        let withdraw = |reason: &str| app::after_school::ChoiceWithdrawal {
            reason: reason.into(),
        };
        assert!(
            t.app
                .withdraw_after_school_choice(&school, &demo, &chosen, &withdraw(" "))
                .await
                .is_err()
        );
        let view = t
            .app
            .withdraw_after_school_choice(&school, &demo, &chosen, &withdraw("课程时间调整"))
            .await
            .unwrap();
        assert!(mine(&view).is_empty());
        assert_eq!(
            t.app
                .withdraw_after_school_choice(&school, &demo, &chosen, &withdraw("再次撤回"))
                .await
                .unwrap_err()
                .code,
            ErrorCode::NotFound
        );
        let view = t
            .app
            .choose_after_school(&school, &demo, &choose(&chosen, "周五下午 足球"))
            .await
            .unwrap();
        assert_eq!(mine(&view), vec![chosen.clone()]);
        let rows = t
            .app
            .store()
            .read()
            .after_school_choices(&demo)
            .await
            .unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].note, "周五下午 足球");
        assert!(rows[0].withdrawn_at.is_none());
    }

    #[tokio::test]
    async fn a_regions_system_administrator_creates_school_accounts_in_its_subtree() {
        let t = TestApp::with_demo(200).await;
        let admin = |region: &str, role: RegulatorRole| Actor::Regulator {
            account_id: format!("admin-{region}"),
            region: domain::RegionCode::parse(region).unwrap(),
            role,
        };
        let beijing = admin("110000", RegulatorRole::SystemAdmin);
        let request =
            |username: &str, region: &str, school: &str| app::admin::NewSchoolAccountRequest {
                username: username.into(),
                display_name: "教务处".into(),
                password: "a-temporary-password".into(),
                region_code: region.into(),
                school_name: school.into(),
            };
        let demo = demo_school(&t).await;
        let Actor::School { school_id, .. } = &demo else {
            unreachable!()
        };
        // A second account of the demo school joins it; a new name is a new school.
        let second = t
            .app
            .create_school_account(
                &beijing,
                &request("zgc.second", "110108", "北京市海淀区中关村第一小学"),
            )
            .await
            .unwrap();
        let other = t
            .app
            .create_school_account(
                &beijing,
                &request("cy.school", "110105", "北京市朝阳区实验小学"),
            )
            .await
            .unwrap();
        let read = t.app.store().read();
        let second = read.account(&second.account_id).await.unwrap().unwrap();
        assert_eq!(second.kind, "school");
        assert_eq!(second.school_id.as_ref(), Some(school_id));
        assert_eq!(second.must_change_password, 1, "a person set the password");
        let other = read.account(&other.account_id).await.unwrap().unwrap();
        assert_ne!(other.school_id.as_ref(), Some(school_id));
        assert!(
            read.school(other.school_id.as_deref().unwrap())
                .await
                .unwrap()
                .is_some_and(|s| s.name == "北京市朝阳区实验小学" && s.region_code == "110105")
        );
        // Refused, with nothing kept: outside the subtree, the national code, a blank name, a supervisor.
        let before = read.account_count().await.unwrap();
        for (actor, req, code) in [
            (
                &beijing,
                request("sh.school", "310104", "上海市徐汇区小学"),
                ErrorCode::Forbidden,
            ),
            (
                &beijing,
                request("nat.school", "000000", "全国小学"),
                ErrorCode::UnknownRegion,
            ),
            (
                &beijing,
                request("blank.school", "110108", " "),
                ErrorCode::FieldTooLong,
            ),
            (
                &admin("110108", RegulatorRole::Supervisor),
                request("sup.school", "110108", "海淀小学"),
                ErrorCode::Forbidden,
            ),
        ] {
            let e = t.app.create_school_account(actor, &req).await.unwrap_err();
            assert_eq!(e.code, code, "{}", req.username);
        }
        assert_eq!(read.account_count().await.unwrap(), before);
        assert!(
            read.school_by_name("310104", "上海市徐汇区小学")
                .await
                .unwrap()
                .is_none()
        );
    }
}

mod bank_quality {
    use super::money_flow::shop;
    use app::ErrorCode;
    use app::testing::TEST_NOW;

    #[tokio::test]
    async fn a_banks_month_counts_its_instructions_reports_and_breaks() {
        let s = shop().await;
        let period = TEST_NOW.china_date().format("%Y-%m").to_string();
        let before = s.t.app.bank_quality(&period).await.unwrap();
        let demo = |reports: &[app::bank_quality::BankQualityReport]| {
            reports
                .iter()
                .find(|r| r.bank_id == "demo-bank")
                .cloned()
                .unwrap()
        };
        let b = demo(&before);
        assert!(b.provisional, "this month has not ended");
        // The bank reports a deposit two hours after the money moved, and an outflow nobody instructed.
        let (_, paid) = s.paid_and_deposited().await;
        s.movement(
            "MV-LATE",
            "in",
            100,
            paid + 100,
            TEST_NOW.millis() - 2 * 3_600_000,
            None,
        )
        .await
        .unwrap();
        s.movement("MV-OUT", "out", 100, paid, TEST_NOW.millis(), None)
            .await
            .unwrap();
        let a = demo(&s.t.app.bank_quality(&period).await.unwrap());
        assert_eq!(a.movements_reported, b.movements_reported + 3);
        assert_eq!(a.reported_late, b.reported_late + 1);
        assert!(
            a.reconciliation_breaks > b.reconciliation_breaks,
            "the unmatched outflow"
        );
        assert!(a.report_delay_p95_ms.unwrap() >= 2 * 3_600_000);
        // A month in the future, or not a month: refused.
        assert_eq!(
            s.t.app.bank_quality("2099-01").await.unwrap_err().code,
            ErrorCode::InvalidParameter
        );
        assert_eq!(
            s.t.app.bank_quality("2026-13").await.unwrap_err().code,
            ErrorCode::InvalidParameter
        );
    }
}

mod annual {
    use super::money_flow::shop;
    use super::region_policy::supervisor;
    use app::ErrorCode;
    use app::annual::AnnualReviewRequest;

    #[tokio::test]
    async fn a_year_in_figures_and_its_review_recorded_once() {
        let s = shop().await;
        let region = s.competent_region().await;
        let sup = supervisor(region.as_str());
        let id = s.institution_id.clone();
        let year = s.t.app.current_year();
        let before = s.t.app.annual_report(&sup, &id, year).await.unwrap();
        let figure = |r: &app::annual::AnnualReport, label: &str| {
            r.figures.iter().find(|f| f.label == label).unwrap().value
        };
        let (_, paid) = s.paid_and_deposited().await;
        let after = s.t.app.annual_report(&sup, &id, year).await.unwrap();
        assert_eq!(
            figure(&after, "支付订单数"),
            figure(&before, "支付订单数") + 1
        );
        assert_eq!(
            figure(&after, "预收学费（进入监管）"),
            figure(&before, "预收学费（进入监管）") + paid
        );
        assert!(after.provisional && after.review.is_none());
        let last_year = s.t.app.annual_report(&sup, &id, year - 1).await.unwrap();
        assert_eq!(
            figure(&last_year, "支付订单数"),
            0,
            "last year saw none of it"
        );
        assert_eq!(
            s.t.app
                .annual_report(&sup, &id, year + 1)
                .await
                .unwrap_err()
                .code,
            ErrorCode::InvalidParameter
        );
        // The review: a result of the three, once; the staff hear of it.
        let mut req = AnnualReviewRequest {
            result: "excellent".into(),
            remarks: "资金监管规范".into(),
        };
        assert_eq!(
            s.t.app
                .record_annual_review(&sup, &id, year, &req)
                .await
                .unwrap_err()
                .code,
            ErrorCode::InvalidParameter
        );
        req.result = "pass".into();
        let reviewed =
            s.t.app
                .record_annual_review(&sup, &id, year, &req)
                .await
                .unwrap();
        assert_eq!(reviewed.review.unwrap().result_label, "合格");
        assert_eq!(
            s.t.app
                .record_annual_review(&sup, &id, year, &req)
                .await
                .unwrap_err()
                .code,
            ErrorCode::Conflict
        );
        assert_eq!(
            s.t.app
                .annual_report(&s.parent_actor(), &id, year)
                .await
                .unwrap_err()
                .code,
            ErrorCode::Forbidden
        );
    }
}

mod integrations {
    use super::money_flow::shop;
    use app::integrations::{GrantRevocation, NewGrant, NewIntegrator};
    use app::{Actor, ErrorCode};
    use domain::access::{IntegrationScope, RegulatorRole, StaffRole};

    fn admin(region: &str) -> Actor {
        Actor::Regulator {
            account_id: format!("admin-{region}"),
            region: domain::RegionCode::parse(region).unwrap(),
            role: RegulatorRole::SystemAdmin,
        }
    }

    fn course(lessons: u32) -> app::courses::NewCourse {
        app::courses::NewCourse {
            name: "春季创意美术".into(),
            category: "arts".into(),
            mode: "offline".into(),
            grades: "一至三年级".into(),
            lessons,
            minutes_per_lesson: 60,
            class_size: 10,
            price_per_lesson_fen: 12_000,
            first_lesson: "2027-03-01".into(),
            last_lesson: "2027-05-31".into(),
            preferential_total_fen: None,
            schedule: None,
        }
    }

    #[tokio::test]
    async fn an_integrator_acts_only_where_authorised_and_a_revocation_stops_it_at_once() {
        let s = shop().await;
        let app = &s.t.app;
        let new = NewIntegrator {
            name: "某某教务SaaS".into(),
            contact: "张工 13900000001".into(),
        };
        // Only the national system administrator registers integrators; names are unique.
        assert_eq!(
            app.register_integrator(&admin("110000"), &new)
                .await
                .unwrap_err()
                .code,
            ErrorCode::Forbidden
        );
        let credentials = app
            .register_integrator(&admin("000000"), &new)
            .await
            .unwrap();
        assert_eq!(credentials.secret.len(), 64);
        assert_eq!(
            app.register_integrator(&admin("000000"), &new)
                .await
                .unwrap_err()
                .code,
            ErrorCode::Conflict
        );
        let integrator = Actor::ApiClient {
            key_id: credentials.key_id.clone(),
            owner_kind: "integrator".into(),
            owner_id: credentials.integrator_id.clone(),
        };
        // Nothing is authorised yet.
        assert_eq!(
            app.acting_for(&integrator, &s.institution_id, IntegrationScope::Courses)
                .await
                .unwrap_err()
                .code,
            ErrorCode::Forbidden
        );
        // The institution's admin authorises courses only; bad or no scopes are refused, twice is 409.
        let institution_admin = s.staff(StaffRole::Admin).await;
        let grant = |scopes: &[&str]| NewGrant {
            integrator_id: credentials.integrator_id.clone(),
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
        };
        for bad in [&["payments"][..], &[][..]] {
            assert_eq!(
                app.grant_integration(&institution_admin, &grant(bad))
                    .await
                    .unwrap_err()
                    .code,
                ErrorCode::InvalidParameter
            );
        }
        assert_eq!(
            app.grant_integration(&s.staff(StaffRole::Operator).await, &grant(&["courses"]))
                .await
                .unwrap_err()
                .code,
            ErrorCode::Forbidden,
            "only the admin authorises"
        );
        let granted = app
            .grant_integration(&institution_admin, &grant(&["courses", "courses"]))
            .await
            .unwrap();
        assert_eq!(granted.scopes, vec!["courses"]);
        assert_eq!(
            app.grant_integration(&institution_admin, &grant(&["orders"]))
                .await
                .unwrap_err()
                .code,
            ErrorCode::Conflict
        );
        let mine = app.integrator_grants(&integrator).await.unwrap();
        assert_eq!(mine.len(), 1);
        assert_eq!(mine[0].institution_id, s.institution_id);
        // Another institution, another scope: refused.
        let other = super::first_institution_other_than(app, &s.institution_id).await;
        assert_eq!(
            app.acting_for(&integrator, &other, IntegrationScope::Courses)
                .await
                .unwrap_err()
                .code,
            ErrorCode::Forbidden
        );
        assert_eq!(
            app.acting_for(&integrator, &s.institution_id, IntegrationScope::Attendance)
                .await
                .unwrap_err()
                .code,
            ErrorCode::Forbidden
        );
        // Within its grant it acts as the operator: the same policy check as the direct path.
        let acting = app
            .acting_for(&integrator, &s.institution_id, IntegrationScope::Courses)
            .await
            .unwrap();
        assert!(app.publish_course(&acting, &course(12)).await.is_ok());
        let direct = app
            .publish_course(&s.staff(StaffRole::Operator).await, &course(61))
            .await
            .unwrap_err();
        let through = app.publish_course(&acting, &course(61)).await.unwrap_err();
        assert_eq!(direct.code, ErrorCode::PolicyViolation);
        assert_eq!((through.code, through.detail), (direct.code, direct.detail));
        // Revoked with a reason: the very next request is refused.
        assert!(
            app.revoke_integration(
                &institution_admin,
                &granted.id,
                &GrantRevocation { reason: " ".into() }
            )
            .await
            .is_err()
        );
        let revoked = app
            .revoke_integration(
                &institution_admin,
                &granted.id,
                &GrantRevocation {
                    reason: "更换教务系统".into(),
                },
            )
            .await
            .unwrap();
        assert!(!revoked.live);
        assert_eq!(
            app.acting_for(&integrator, &s.institution_id, IntegrationScope::Courses)
                .await
                .unwrap_err()
                .code,
            ErrorCode::Forbidden
        );
        assert!(app.integrator_grants(&integrator).await.unwrap().is_empty());
        assert_eq!(
            app.revoke_integration(
                &institution_admin,
                &granted.id,
                &GrantRevocation {
                    reason: "再次撤销".into()
                }
            )
            .await
            .unwrap_err()
            .code,
            ErrorCode::Conflict
        );
        // Authorised again, with other scopes; the history keeps both.
        app.grant_integration(&institution_admin, &grant(&["attendance"]))
            .await
            .unwrap();
        let history = app.institution_grants(&institution_admin).await.unwrap();
        assert_eq!(
            history
                .iter()
                .filter(|g| g.integrator_id == credentials.integrator_id)
                .count(),
            2
        );
        // A bank's key is not an integrator's.
        assert_eq!(
            app.integrator_grants(&s.bank).await.unwrap_err().code,
            ErrorCode::Forbidden
        );
    }
}

/// The first institution of the registry that is not `id`.
async fn first_institution_other_than(app: &app::App, id: &str) -> String {
    app.store()
        .read()
        .institutions_after("", 10)
        .await
        .unwrap()
        .into_iter()
        .find(|i| i.id != id)
        .unwrap()
        .id
}

mod service_desk {
    use app::service_desk::{NewTicket, TicketAssignment, TicketReply};
    use app::testing::TestApp;
    use app::{Actor, ErrorCode};
    use domain::access::{RegulatorRole, StaffRole};

    async fn account(t: &TestApp, username: &str) -> store::AccountRow {
        let mut tx = t.app.store().begin_write().await.unwrap();
        tx.account_by_username(username).await.unwrap().unwrap()
    }

    async fn regulator(t: &TestApp, username: &str) -> Actor {
        let a = account(t, username).await;
        Actor::Regulator {
            region: domain::RegionCode::parse(a.region_code.as_deref().unwrap()).unwrap(),
            role: RegulatorRole::parse(a.regulator_role.as_deref().unwrap()).unwrap(),
            account_id: a.id,
        }
    }

    fn ticket(kind: &str, tier: &str, subject: &str) -> NewTicket {
        NewTicket {
            kind: kind.into(),
            tier: tier.into(),
            subject: subject.into(),
            body: "详细描述".into(),
        }
    }

    #[tokio::test]
    async fn tickets_reach_the_right_desk_and_its_figures_follow_the_clock() {
        let t = TestApp::with_demo(6).await;
        let app = &t.app;
        let admin = account(&t, "inst.admin").await;
        let staff = Actor::Staff {
            account_id: admin.id.clone(),
            institution_id: admin.institution_id.clone().unwrap(),
            role: StaffRole::Admin,
        };
        let operator = account(&t, "bank.operator").await;
        let bank = Actor::BankOperator {
            account_id: operator.id.clone(),
            bank_id: operator.bank_id.clone().unwrap(),
        };
        let integrator = t.demo_integrator().await;
        let service = regulator(&t, "moe.admin").await;
        // The county regulators of the demo institution's region, and of another county.
        let county_code = app
            .store()
            .read()
            .institution(admin.institution_id.as_deref().unwrap())
            .await
            .unwrap()
            .unwrap()
            .region_code;
        let county_reviewer = |code: &str| Actor::Regulator {
            account_id: format!("reviewer-{code}"),
            region: domain::RegionCode::parse(code).unwrap(),
            role: RegulatorRole::Reviewer,
        };
        let haidian = county_reviewer(&county_code);
        let elsewhere = if county_code == "110105" {
            "110108"
        } else {
            "110105"
        };
        let chaoyang = county_reviewer(elsewhere);
        let ineligible = regulator(&t, "haidian.reviewer").await;
        let beijing_admin = regulator(&t, "beijing.admin").await;
        let parent = Actor::Parent {
            account_id: "someone".into(),
        };

        // Bad input is refused and nothing is kept; parents do not open tickets.
        for (bad, code) in [
            (
                ticket("billing", "normal", "标题"),
                ErrorCode::InvalidParameter,
            ),
            (
                ticket("technical", "p0", "标题"),
                ErrorCode::InvalidParameter,
            ),
            (ticket("technical", "normal", " "), ErrorCode::FieldTooLong),
        ] {
            assert_eq!(app.open_ticket(&staff, &bad).await.unwrap_err().code, code);
        }
        assert!(app.tickets(&staff).await.unwrap().is_empty());
        assert_eq!(
            app.open_ticket(&parent, &ticket("technical", "normal", "x"))
                .await
                .unwrap_err()
                .code,
            ErrorCode::Forbidden
        );

        let outage = app
            .open_ticket(&integrator, &ticket("technical", "urgent", "推送全部失败"))
            .await
            .unwrap();
        assert_eq!(
            (outage.status.as_str(), outage.opener_kind.as_str()),
            ("open", "integrator")
        );
        assert_eq!(outage.messages.len(), 1);
        let question = app
            .open_ticket(
                &staff,
                &ticket("policy", "normal", "寒假班可提前多久收费？"),
            )
            .await
            .unwrap();
        assert_eq!(
            question.region_code, county_code,
            "a policy question goes to the institution's county"
        );
        let slow = app
            .open_ticket(&bank, &ticket("technical", "high", "对账单推送偶发超时"))
            .await
            .unwrap();

        // Each desk sees its own queue; openers see their own tickets; others are refused or find nothing.
        let subjects = |v: Vec<app::service_desk::TicketView>| {
            v.into_iter().map(|t| t.subject).collect::<Vec<_>>()
        };
        assert_eq!(
            subjects(app.tickets(&service).await.unwrap()),
            ["对账单推送偶发超时", "推送全部失败"]
        );
        assert_eq!(
            subjects(app.tickets(&haidian).await.unwrap()),
            ["寒假班可提前多久收费？"]
        );
        assert!(app.tickets(&chaoyang).await.unwrap().is_empty());
        assert_eq!(
            subjects(app.tickets(&staff).await.unwrap()),
            ["寒假班可提前多久收费？"]
        );
        assert_eq!(
            app.tickets(&beijing_admin).await.unwrap_err().code,
            ErrorCode::Forbidden
        );
        assert_eq!(
            app.ticket(&chaoyang, &question.id).await.unwrap_err().code,
            ErrorCode::NotFound
        );
        assert_eq!(
            app.ticket(&staff, &outage.id).await.unwrap_err().code,
            ErrorCode::NotFound
        );
        assert_eq!(
            app.ticket(&service, &question.id).await.unwrap_err().code,
            ErrorCode::NotFound
        );

        // The service team answers the outage in 30 minutes: in time for the urgent tier (1 h).
        t.clock.advance_millis(30 * 60_000);
        let answered = app
            .reply_to_ticket(
                &service,
                &outage.id,
                &TicketReply {
                    body: "已定位：证书过期，已更换".into(),
                },
            )
            .await
            .unwrap();
        assert_eq!(answered.status, domain::TicketStatus::Answered);
        assert!(answered.messages[1].from_desk);
        // The integrator writes back: the ticket is open again, the first answer's time kept.
        let back = app
            .reply_to_ticket(
                &integrator,
                &outage.id,
                &TicketReply {
                    body: "仍有少量失败".into(),
                },
            )
            .await
            .unwrap();
        assert_eq!(back.status, domain::TicketStatus::Open);
        assert!(back.first_response_display.is_some());

        // Assignment: to an account that may answer (the service team itself), not to a county reviewer.
        let assigned = app
            .assign_ticket(
                &service,
                &outage.id,
                &TicketAssignment {
                    assignee_id: service.account_id().unwrap().into(),
                },
            )
            .await
            .unwrap();
        assert_eq!(assigned.assignee_id.as_deref(), service.account_id());
        assert_eq!(
            app.assign_ticket(
                &service,
                &outage.id,
                &TicketAssignment {
                    assignee_id: ineligible.account_id().unwrap().into()
                }
            )
            .await
            .unwrap_err()
            .code,
            ErrorCode::InvalidParameter
        );
        assert_eq!(
            app.assign_ticket(
                &integrator,
                &outage.id,
                &TicketAssignment {
                    assignee_id: String::new()
                }
            )
            .await
            .unwrap_err()
            .code,
            ErrorCode::Forbidden
        );

        // Two hours in: the high-tier ticket (4 h) is not overdue yet; five hours in it is.
        t.clock.advance_millis(90 * 60_000);
        let figures = app.desk_figures(&service).await.unwrap();
        let tier = |f: &[app::service_desk::DeskFigures], name: &str| {
            f.iter().find(|x| x.tier == name).unwrap().clone()
        };
        let urgent = tier(&figures, "urgent");
        assert_eq!(
            (urgent.opened, urgent.answered, urgent.answered_in_time),
            (1, 1, 1)
        );
        assert_eq!(urgent.median_response_minutes, Some(30));
        assert_eq!(tier(&figures, "high").overdue, 0);
        t.clock.advance_millis(3 * 3_600_000);
        let figures = app.desk_figures(&service).await.unwrap();
        assert_eq!(tier(&figures, "high").overdue, 1);
        assert!(app.ticket(&bank, &slow.id).await.unwrap().overdue);
        assert_eq!(
            app.desk_figures(&staff).await.unwrap_err().code,
            ErrorCode::Forbidden
        );

        // Haidian answers the policy question within its day; the institution resolves it.
        let reply = app
            .reply_to_ticket(
                &haidian,
                &question.id,
                &TicketReply {
                    body: "最早可在开课前 3 个月内收取".into(),
                },
            )
            .await
            .unwrap();
        assert_eq!(reply.status, domain::TicketStatus::Answered);
        let inbox = app.my_notifications(&staff).await.unwrap();
        assert!(
            inbox
                .iter()
                .any(|n| n.title == "服务保障工单已答复" && n.body.contains(&question.ticket_no)),
            "the institution's admin is told"
        );
        let figures = app.desk_figures(&haidian).await.unwrap();
        assert_eq!(tier(&figures, "normal").answered_in_time, 1);
        let resolved = app.resolve_ticket(&staff, &question.id).await.unwrap();
        assert_eq!(resolved.status, domain::TicketStatus::Resolved);
        assert_eq!(
            app.resolve_ticket(&staff, &question.id)
                .await
                .unwrap_err()
                .code,
            ErrorCode::Conflict
        );
        assert_eq!(
            app.reply_to_ticket(
                &staff,
                &question.id,
                &TicketReply {
                    body: "还有一个问题".into()
                }
            )
            .await
            .unwrap_err()
            .code,
            ErrorCode::Conflict
        );
        let figures = app.desk_figures(&haidian).await.unwrap();
        assert_eq!(
            (
                tier(&figures, "normal").resolved,
                tier(&figures, "normal").resolved_in_time
            ),
            (1, 1)
        );

        // Every step is in the audit log.
        let audited = app
            .store()
            .read()
            .audit_entries_after(0, 1_000_000)
            .await
            .unwrap();
        let count = |action: &str| audited.iter().filter(|e| e.body.action == action).count();
        assert_eq!(count("service.ticket_opened"), 3);
        assert_eq!(count("service.ticket_replied"), 3);
        assert_eq!(count("service.ticket_assigned"), 1);
        assert_eq!(count("service.ticket_resolved"), 1);
    }
}

/// The money invariants of issue 20: held by the database under concurrency, the door closed by a run-off,
/// bank messages settled to the end, reused references refused.
#[path = "app/money_invariants.rs"]
mod money_invariants;

#[path = "app/egress.rs"]
mod egress;

/// Every amount has a documented bound.
#[path = "app/bounds.rs"]
mod bounds;

/// Personal data sealed at rest.
#[path = "app/personal_data.rs"]
mod personal_data;

/// Authorize before you look.
#[path = "app/region_first.rs"]
mod region_first;

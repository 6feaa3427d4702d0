//! Use cases over a real database (SQLite, or PostgreSQL when `XIAOWAI_TEST_DATABASE_URL` is set).

use app::ledger_check::{ChainReport, verify_audit_chain};
use app::registry::{InstitutionRecord, RawSearch};
use app::testing::TestApp;
use app::{Actor, ErrorCode, SearchLocation};
use domain::{ListStatus, Paging};
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
        accounts, 16,
        "eleven regulators, a bank operator, three staff, a parent"
    );
    // One registration and one list placement per institution, a plate per white-listed one, one entry
    // per course, notice and account, one per child the demo parent links (two), and the bank's API key.
    let expected =
        2 * institutions + counts.white_institutions + courses + notices + accounts + 2 + 1;
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
        assert_eq!(i.list_status, "white");
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
                && r.list_status == "white"
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
            list_status: "white".into(),
            list_reason: "审核通过".into(),
            list_changed_at: now,
            created_at: now,
            updated_at: now,
            registry_state: "listed".into(),
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
            .all(|i| !i.reason.is_empty() && i.list_status == "black")
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
        assert_eq!(rejected.status, "rejected");
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
            public.summary.list_status, "grey",
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
        assert_eq!(before.list_status, "white");
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
            after.summary.list_status, "white",
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
            (old.verdict, old.plate_status.as_deref()),
            ("attention", Some("superseded"))
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

    fn supervisor(region: &str) -> Actor {
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

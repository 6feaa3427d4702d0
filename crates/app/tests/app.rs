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
    app.registry()
        .search_institutions(&app.registry().parse_search(&input).unwrap())
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
        .registry()
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
        for c in a
            .app
            .store()
            .read()
            .registry()
            .courses_of(&r.id)
            .await
            .unwrap()
        {
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
    assert_eq!(
        t.app
            .store()
            .read()
            .registry()
            .institution_count()
            .await
            .unwrap(),
        0
    );
}

#[tokio::test]
async fn demo_seeding_writes_a_complete_verifiable_audit_trail() {
    let t = TestApp::with_demo(200).await;
    let counts = t
        .app
        .store()
        .read()
        .registry()
        .registry_counts()
        .await
        .unwrap();
    let institutions =
        counts.white_institutions + counts.grey_institutions + counts.black_institutions;
    let (_, _, courses) = t
        .app
        .store()
        .read()
        .registry()
        .registry_fingerprint()
        .await
        .unwrap();
    let notices = t
        .app
        .registry()
        .notices(Paging::new(None, Some(1)).unwrap())
        .await
        .unwrap()
        .total as i64;
    let accounts = t
        .app
        .store()
        .read()
        .accounts()
        .account_count()
        .await
        .unwrap();
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
        .registry()
        .parse_search(&RawSearch {
            per_page: Some("100".into()),
            ..raw("数学")
        })
        .unwrap();
    let page = t.app.registry().search_institutions(&q).await.unwrap();
    assert!(
        page.total >= 5,
        "expected several 数学 institutions, got {}",
        page.total
    );
    for item in &page.items {
        let detail = t.app.registry().institution_detail(&item.id).await.unwrap();
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
        .registry()
        .parse_search(&RawSearch {
            region: Some("330000".into()),
            category: Some("艺术".into()),
            list: Some("white".into()),
            per_page: Some("100".into()),
            ..RawSearch::default()
        })
        .unwrap();
    let page = t.app.registry().search_institutions(&q).await.unwrap();
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
        .registry()
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
            t.app.registry().parse_search(&input).unwrap_err().code,
            code,
            "{input:?}"
        );
    }
    // Empty form fields mean "not given".
    assert!(
        t.app
            .registry()
            .parse_search(&RawSearch {
                region: Some(String::new()),
                q: Some("  ".into()),
                ..RawSearch::default()
            })
            .is_ok()
    );
    assert_eq!(
        t.app
            .registry()
            .institution_detail("nope")
            .await
            .unwrap_err()
            .code,
        ErrorCode::InvalidId
    );
    assert_eq!(
        t.app
            .registry()
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
        .registry()
        .record_institutions(&actor, &[record(&t, 1, &code(1))])
        .await
        .unwrap();
    let page = search(&t.app, raw("围棋")).await;
    assert_eq!(page.total, 1);
    // Registered, placed on the white list, and given its compliance plate.
    assert_eq!(t.app.store().read().audit_count().await.unwrap(), 3);
    let stats = t.app.registry().home_stats().await.unwrap();
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
        .registry()
        .record_institutions(&actor, &[record(&t, 1, &code(1))])
        .await
        .unwrap();
    // The second record reuses a credit code: the whole batch must fail.
    let err = t
        .app
        .registry()
        .record_institutions(&actor, &[record(&t, 2, &code(2)), record(&t, 3, &code(1))])
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::Conflict);
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
            .registry()
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
            .registry()
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
        .registry()
        .list_page(ListStatus::Black, Paging::new(None, Some(100)).unwrap())
        .await
        .unwrap();
    assert!(page.total > 0, "the demo black list is not empty");
    assert_eq!(
        page.total as i64,
        t.app
            .registry()
            .home_stats()
            .await
            .unwrap()
            .black_institutions
    );
    assert!(page.items.windows(2).all(|w| w[0].since >= w[1].since));
    assert!(
        page.items
            .iter()
            .all(|i| !i.reason.is_empty() && i.list_status == domain::ListStatus::Black)
    );
    let detail = t
        .app
        .registry()
        .institution_detail(&page.items[0].id)
        .await
        .unwrap();
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
    assert_eq!(t.app.registry().region_children(None).unwrap().len(), 31);
    let beijing = t.app.registry().region_children(Some("110000")).unwrap();
    assert_eq!(beijing.len(), 1);
    assert!(beijing[0].placeholder);
    assert_eq!(beijing[0].display_name, "北京市");
    assert_eq!(
        t.app
            .registry()
            .region_children(Some("110100"))
            .unwrap()
            .len(),
        16
    );
    assert_eq!(
        t.app
            .registry()
            .region_children(Some("999900"))
            .unwrap_err()
            .code,
        ErrorCode::UnknownRegion
    );
    assert_eq!(
        t.app
            .registry()
            .region_children(Some("x"))
            .unwrap_err()
            .code,
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
            .registry()
            .search_institutions(
                &first
                    .registry()
                    .parse_search(&RawSearch::default())
                    .unwrap()
            )
            .await
            .unwrap()
            .total,
        50
    );
    drop(first);
    let second = open().await.unwrap();
    assert_eq!(
        second.registry().refresh_search_index().await.unwrap(),
        0,
        "unchanged registry: no rebuild"
    );
    drop(second);
    t.app
        .registry()
        .record_institutions(&Actor::System { name: "test" }, &[record(&t, 9, &code(9))])
        .await
        .unwrap();
    // A change made elsewhere (another process) is picked up on the next start.
    let third = open().await.unwrap();
    assert_eq!(
        third
            .registry()
            .search_institutions(
                &third
                    .registry()
                    .parse_search(&RawSearch::default())
                    .unwrap()
            )
            .await
            .unwrap()
            .total,
        51
    );
}

#[path = "app/onboarding.rs"]
pub(crate) mod onboarding;

#[path = "app/changes.rs"]
mod changes;

#[path = "app/staff_checks.rs"]
mod staff_checks;

#[path = "app/region_policy.rs"]
mod region_policy;

#[path = "app/stored_ledger.rs"]
mod stored_ledger;

/// Purchase, payment, movements, instructions and statements between the platform and a bank.
#[path = "app/money_flow.rs"]
mod money_flow;

#[path = "app/risk_deposit.rs"]
mod risk_deposit;

#[path = "app/schedules.rs"]
mod schedules;

#[path = "app/ecny.rs"]
mod ecny;

/// 消课: attendance, the parent's answer, the confirmation window on the working-day calendar, releases.
#[path = "app/lessons.rs"]
mod lessons;

/// 退费: the request, the institution's answer or silence, escalation, the regulator's ruling, the bank.
#[path = "app/refunds.rs"]
mod refunds;

/// 评价: only after a confirmed lesson, checked words, one reply, hidden never deleted, weighted aggregate.
#[path = "app/reviews.rs"]
mod reviews;

#[path = "app/complaints.rs"]
mod complaints;

#[path = "app/run_off.rs"]
mod run_off;

#[path = "app/consultations.rs"]
mod consultations;

#[path = "app/leave.rs"]
mod leave;

#[path = "app/class_transfer.rs"]
mod class_transfer;

/// 批量划转: a region that batches releases gets one instruction per supervised account per day.
#[path = "app/release_batches.rs"]
mod release_batches;

/// 风险预警: the versioned model, the sweep's indicators, and the rectification workflow.
#[path = "app/risk_engine.rs"]
mod risk_engine;

/// 监管看板: figures from rollups kept in the events' transactions, region by region.
#[path = "app/dashboard.rs"]
mod dashboard;

#[path = "app/monitoring.rs"]
mod monitoring;

#[path = "app/inspection.rs"]
mod inspection;

#[path = "app/after_school.rs"]
mod after_school;

#[path = "app/bank_quality.rs"]
mod bank_quality;

#[path = "app/annual.rs"]
mod annual;

#[path = "app/integrations.rs"]
mod integrations;

/// The first institution of the registry that is not `id`.
async fn first_institution_other_than(app: &app::App, id: &str) -> String {
    app.store()
        .read()
        .registry()
        .institutions_after("", 10)
        .await
        .unwrap()
        .into_iter()
        .find(|i| i.id != id)
        .unwrap()
        .id
}

#[path = "app/service_desk.rs"]
mod service_desk;

/// The money invariants of issue 20: held by the database under concurrency, the door closed by a run-off,
/// bank messages settled to the end, reused references refused.
#[path = "app/money_invariants.rs"]
mod money_invariants;

#[path = "app/workers.rs"]
mod workers;

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

/// What an integrator's system receives for each event, pinned.
#[path = "app/webhook_bodies.rs"]
mod webhook_bodies;

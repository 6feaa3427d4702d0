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
        .supervision()
        .create_spot_check_campaign(&haidian, &campaign(Some(20_261_126)))
        .await
        .unwrap();
    let again = t
        .app
        .supervision()
        .create_spot_check_campaign(&haidian, &campaign(Some(20_261_126)))
        .await
        .unwrap();
    let other = t
        .app
        .supervision()
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
            .registry()
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
        .inspection()
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
            .supervision()
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
            .supervision()
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
            .supervision()
            .create_spot_check_campaign(&reviewer, &campaign(None))
            .await
            .unwrap_err()
            .code,
        ErrorCode::Forbidden
    );
    assert_eq!(
        t.app
            .supervision()
            .spot_check_campaign(&supervisor("110105"), &first.id)
            .await
            .unwrap_err()
            .code,
        ErrorCode::NotFound
    );
    // Three here and the demo's own.
    assert_eq!(
        t.app
            .supervision()
            .spot_check_campaigns(&haidian)
            .await
            .unwrap()
            .len(),
        4
    );
}

#[tokio::test]
async fn findings_raise_a_warning_and_lower_the_credit_whose_breakdown_adds_up() {
    let t = TestApp::with_demo(2400).await;
    let haidian = supervisor("110108");
    let c = t
        .app
        .supervision()
        .create_spot_check_campaign(&haidian, &campaign(Some(1)))
        .await
        .unwrap();
    let (check, clean) = (&c.checks[0], &c.checks[1]);
    let before = t
        .app
        .supervision()
        .credit_of(&haidian, &check.institution_id)
        .await
        .unwrap();
    // A finding without a note is refused and nothing is kept.
    let err = t
        .app
        .supervision()
        .record_spot_check(&haidian, &check.id, &result(&[("staff", "")]), &[])
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::FieldTooLong);
    let mut short = result(&[]);
    short.findings.pop();
    assert_eq!(
        t.app
            .supervision()
            .record_spot_check(&haidian, &check.id, &short, &[])
            .await
            .unwrap_err()
            .code,
        ErrorCode::InvalidParameter
    );
    assert_eq!(
        t.app
            .supervision()
            .spot_check(&haidian, &check.id)
            .await
            .unwrap()
            .status,
        domain::SpotCheckStatus::Assigned
    );
    let evidence = [EvidenceFile {
        filename: "现场照片.pdf".into(),
        bytes: PDF.to_vec(),
    }];
    let recorded = t
        .app
        .supervision()
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
            .supervision()
            .record_spot_check(&haidian, &check.id, &result(&[]), &[])
            .await
            .unwrap_err()
            .code,
        ErrorCode::Conflict,
        "recorded once"
    );
    // The finding raised an orange warning (two items) and cost the credit its points.
    let warnings = t.app.supervision().warnings_for(&haidian, 0).await.unwrap();
    let w = warnings
        .iter()
        .find(|w| w.institution_id == check.institution_id && w.indicator == "spot_check_findings")
        .expect("a spot-check warning");
    assert_eq!(w.level, "orange");
    let after = t
        .app
        .supervision()
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
        .supervision()
        .credit_of(&haidian, &clean.institution_id)
        .await
        .unwrap()
        .rating
        .score;
    t.app
        .supervision()
        .record_spot_check(&haidian, &clean.id, &result(&[]), &[])
        .await
        .unwrap();
    let clean_after = t
        .app
        .supervision()
        .credit_of(&haidian, &clean.institution_id)
        .await
        .unwrap()
        .rating
        .score;
    assert_eq!(clean_after, (clean_before + m.spot_check_passed).min(100));
    // Someone else's region, a parent: refused.
    assert_eq!(
        t.app
            .supervision()
            .record_spot_check(&supervisor("110105"), &clean.id, &result(&[]), &[])
            .await
            .unwrap_err()
            .code,
        ErrorCode::Forbidden
    );
    assert_eq!(
        t.app
            .supervision()
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
        async move {
            app.supervision()
                .credit_of(&sup, &id)
                .await
                .unwrap()
                .rating
                .score
        }
    };
    let start = credit(s.t.app.clone()).await;
    // A fine states an amount; a warning none; a date in the future is refused.
    let mut fine = penalty("fine", "海教罚〔2026〕1号");
    assert_eq!(
        s.t.app
            .supervision()
            .record_penalty(&sup, &id, &fine)
            .await
            .unwrap_err()
            .code,
        ErrorCode::InvalidParameter
    );
    fine.amount_fen = Some(2_000_000);
    let recorded =
        s.t.app
            .supervision()
            .record_penalty(&sup, &id, &fine)
            .await
            .unwrap();
    assert!(recorded.published, "a fine is published");
    assert_eq!(
        s.t.app
            .supervision()
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
            .supervision()
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
            .supervision()
            .record_penalty(&sup, &id, &future)
            .await
            .unwrap_err()
            .code,
        ErrorCode::InvalidParameter
    );
    assert_eq!(
        s.t.app
            .supervision()
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
    let detail = s.t.app.registry().institution_detail(&id).await.unwrap();
    assert_eq!(detail.penalties.len(), 1, "the published fine is public");
    let notices =
        s.t.app
            .registry()
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
    s.t.app
        .supervision()
        .record_penalty(&sup, &id, &stop)
        .await
        .unwrap();
    let detail = s.t.app.registry().institution_detail(&id).await.unwrap();
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
    s.t.app
        .supervision()
        .record_penalty(&sup, &id, &revoke)
        .await
        .unwrap();
    let detail = s.t.app.registry().institution_detail(&id).await.unwrap();
    assert_eq!(detail.summary.list_status, domain::ListStatus::Black);
    assert!(detail.sales_stopped.is_some());
    let run_off =
        s.t.app
            .money()
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
    let n = t
        .app
        .supervision()
        .publish_credit_ratings(&haidian, 2026)
        .await
        .unwrap();
    assert!(n > 10, "{n}");
    assert_eq!(
        t.app
            .supervision()
            .publish_credit_ratings(&haidian, 2026)
            .await
            .unwrap_err()
            .code,
        ErrorCode::Conflict
    );
    assert_eq!(
        t.app
            .supervision()
            .publish_credit_ratings(&haidian, 2030)
            .await
            .unwrap_err()
            .code,
        ErrorCode::InvalidParameter
    );
    let rows = t
        .app
        .supervision()
        .credit_export(&haidian, 2026)
        .await
        .unwrap();
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
        .inspection()
        .published_ratings("110108", 2026)
        .await
        .unwrap()[0]
        .rating
        .institution_id
        .clone();
    let public = t
        .app
        .registry()
        .institution_detail(&id)
        .await
        .unwrap()
        .credit
        .unwrap();
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
            .supervision()
            .set_credit_model(&haidian, &change)
            .await
            .unwrap_err()
            .code,
        ErrorCode::Forbidden
    );
    let national = supervisor("000000");
    assert_eq!(
        t.app
            .supervision()
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
            .supervision()
            .set_credit_model(&national, &bad)
            .await
            .unwrap_err()
            .code,
        ErrorCode::InvalidParameter
    );
    let now = t.app.supervision().credit_of(&haidian, &id).await.unwrap();
    assert_eq!(now.model_version, 1);
    assert_eq!(now.rating.grade, model.grade(now.rating.score));
}

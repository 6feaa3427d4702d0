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
    t.app.supervision().sweep_risks().await.unwrap();
    let warnings = t
        .app
        .supervision()
        .warnings_for(&supervisor("000000"), 0)
        .await
        .unwrap();
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
    let report = |bank_ref: &str, account_no: &str, direction: &str, amount: i64, balance: i64| {
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
    let outcomes =
        s.t.app
            .money()
            .record_movements(&s.bank, &batch)
            .await
            .unwrap();
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
    let warned = s.t.app.supervision().warnings_for(&admin, 0).await.unwrap();
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
            .money()
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
    let first = s.t.app.supervision().warnings_for(&admin, 0).await.unwrap();
    assert!(first.iter().all(|w| w.model_version == 0));
    assert!(!first.iter().any(|w| w.indicator == "large_outflow"));

    let national = supervisor("000000");
    let v1 =
        s.t.app
            .supervision()
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
    let now = s.t.app.supervision().warnings_for(&admin, 0).await.unwrap();
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
            .supervision()
            .set_risk_model(&supervisor(&province), &too_far)
            .await
            .unwrap_err()
            .code,
        ErrorCode::InvalidParameter
    );
    let v2 =
        s.t.app
            .supervision()
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
            .registry()
            .institution(&s.institution_id)
            .await
            .unwrap()
            .unwrap();
    assert_eq!(
        s.t.app
            .supervision()
            .risk_model_for(&institution.region_code)
            .await
            .unwrap()
            .version,
        2
    );
    let county = format!("{}0102", &province[..2]);
    assert_eq!(
        s.t.app
            .supervision()
            .set_risk_model(&supervisor(&county), &with(|_| {}))
            .await
            .unwrap_err()
            .code,
        ErrorCode::Forbidden
    );
    assert_eq!(
        s.t.app
            .supervision()
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
    let scores =
        s.t.app
            .supervision()
            .risk_scores(&s.institution_id)
            .await
            .unwrap();
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
            .supervision()
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
            .supervision()
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
            .supervision()
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
            .supervision()
            .send_warning_digest(TEST_NOW.china_date())
            .await
            .unwrap()
            >= 1
    );
    let moe = {
        let mut tx = s.t.app.store().begin_write().await.unwrap();
        tx.accounts()
            .account_by_username("moe.supervisor")
            .await
            .unwrap()
            .unwrap()
    };
    let inbox =
        s.t.app
            .service()
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
            .supervision()
            .send_warning_digest(TEST_NOW.china_date().succ_opt().unwrap())
            .await
            .unwrap(),
        0,
        "a day without warnings tells nobody"
    );
    assert_eq!(
        s.t.app
            .supervision()
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
        .supervision()
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
    assert_eq!(s.t.app.supervision().sweep_risks().await.unwrap(), 0);

    // One sale, then 34 days later two in a week: sales at 800% of the weekly average before.
    let base = s.order().await;
    s.pay(&base, "PAY-BASE").await;
    let admin = s.staff(domain::access::StaffRole::Admin).await;
    let fired = |app: app::App, admin: Actor| async move {
        let mut v: Vec<(String, String)> = app
            .supervision()
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
        s.t.app.supervision().sweep_risks().await.unwrap(),
        0,
        "no base to surge from"
    );
    s.t.clock.advance_millis(15 * 86_400_000);
    // Fifteen days without a confirmed lesson while the escrow remains: dormant (yellow at 14).
    assert_eq!(s.t.app.supervision().sweep_risks().await.unwrap(), 1);
    assert_eq!(
        fired(s.t.app.clone(), admin.clone()).await,
        [("dormant_escrow".to_owned(), "yellow".to_owned())]
    );
    s.t.clock.advance_millis(15 * 86_400_000);
    assert_eq!(
        s.t.app.supervision().sweep_risks().await.unwrap(),
        1,
        "thirty days: orange"
    );
    assert_eq!(
        s.t.app.supervision().sweep_risks().await.unwrap(),
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
        .money()
        .request_refund(&s.parent_actor(), &a.line.id, &request)
        .await
        .unwrap();
    s.t.app.supervision().sweep_risks().await.unwrap();
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
    let warnings = s.t.app.supervision().warnings_for(&admin, 0).await.unwrap();
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
                .supervision()
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
                .supervision()
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
            .supervision()
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
            .supervision()
            .dashboard(&national, None, 1)
            .await
            .unwrap()
            .institutions;
    assert_eq!(
        s.t.app
            .supervision()
            .publish_overdue_warnings()
            .await
            .unwrap(),
        0
    );
    s.t.app.move_clock(4, 0).unwrap();
    assert_eq!(
        s.t.app
            .supervision()
            .publish_overdue_warnings()
            .await
            .unwrap(),
        0
    );
    s.t.app.move_clock(2, 0).unwrap();
    assert_eq!(
        s.t.app
            .supervision()
            .publish_overdue_warnings()
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        s.t.app
            .supervision()
            .publish_overdue_warnings()
            .await
            .unwrap(),
        0,
        "once"
    );
    let public = s.t.app.supervision().public_warnings().await.unwrap();
    assert_eq!(public[0].id, unmatched.id);
    let institution =
        s.t.app
            .store()
            .read()
            .registry()
            .institution(&s.institution_id)
            .await
            .unwrap()
            .unwrap();
    assert_eq!(institution.list_status, domain::ListStatus::Grey);
    let lists =
        s.t.app
            .supervision()
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
            .supervision()
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

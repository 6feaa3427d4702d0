//! Every amount the platform takes has a documented bound (issue 21): 2^63−1 fen is refused with 422
//! `amount_out_of_range`, naming the field and the bound, and nothing of the command is kept.

use super::money_flow::shop;
use app::ErrorCode;
use app::monitoring::NewFinancialStatement;
use app::penalties::NewPenalty;
use app::testing::TEST_NOW;
use domain::access::StaffRole;

/// The refusal names the field and its bound.
fn out_of_range(e: app::AppError, field: &str, max: i64) {
    assert_eq!(e.code, ErrorCode::AmountOutOfRange, "{e}");
    assert_eq!(e.code.status(), 422);
    assert!(
        e.detail.en.contains(field) && e.detail.en.contains(&max.to_string()),
        "{}",
        e.detail
    );
}

#[tokio::test]
async fn a_fine_of_two_to_the_sixty_third_fen_is_refused_and_nothing_is_recorded() {
    let s = shop().await;
    let supervisor = s.competent_supervisor().await;
    let mut fine = NewPenalty {
        kind: "fine".into(),
        decision_no: "海教罚〔2026〕9号".into(),
        decided_on: TEST_NOW.china_date().to_string(),
        amount_fen: Some(i64::MAX),
        legal_basis: "《校外培训行政处罚暂行办法》第十六条".into(),
        facts: "超前收费".into(),
        in_force_until: None,
        publish: None,
    };
    let refused =
        s.t.app
            .supervision()
            .record_penalty(&supervisor, &s.institution_id, &fine)
            .await
            .unwrap_err();
    out_of_range(refused, "amount_fen", domain::money::PENALTY.max);
    // Nothing was kept: the same decision number is still free.
    fine.amount_fen = Some(domain::money::PENALTY.max);
    s.t.app
        .supervision()
        .record_penalty(&supervisor, &s.institution_id, &fine)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_bank_movement_or_balance_beyond_its_bound_is_refused_and_its_reference_stays_free() {
    let s = shop().await;
    let at = TEST_NOW.millis();
    let refused = s
        .movement("MV-HUGE-1", "in", i64::MAX, 1_000, at, None)
        .await
        .unwrap_err();
    out_of_range(refused, "amount_fen", domain::money::BANK_AMOUNT.max);
    let refused = s
        .movement("MV-HUGE-1", "in", 1_000, i64::MAX, at, None)
        .await
        .unwrap_err();
    out_of_range(
        refused,
        "balance_after_fen",
        domain::money::ACCOUNT_BALANCE.max,
    );
    let ack = s
        .movement("MV-HUGE-1", "in", 1_000, 1_000, at, None)
        .await
        .unwrap();
    assert!(!ack.duplicate, "the refused reports left nothing behind");
}

#[tokio::test]
async fn a_financial_statement_figure_beyond_its_bound_is_refused() {
    let s = shop().await;
    let admin = s.staff(StaffRole::Admin).await;
    let mut statement = NewFinancialStatement {
        period: "2026-Q3".into(),
        revenue_fen: i64::MAX,
        expenses_fen: 800_000,
        net_assets_fen: -50_000,
        prepaid_fen: 300_000,
        filename: "2026年三季度报表.pdf".into(),
    };
    let pdf = b"%PDF-1.4\n%statement\n";
    let refused =
        s.t.app
            .supervision()
            .file_financial_statement(&admin, &statement, pdf)
            .await
            .unwrap_err();
    out_of_range(refused, "revenue_fen", domain::money::STATEMENT_FIGURE.max);
    statement.revenue_fen = 1_234_567;
    s.t.app
        .supervision()
        .file_financial_statement(&admin, &statement, pdf)
        .await
        .unwrap();
}

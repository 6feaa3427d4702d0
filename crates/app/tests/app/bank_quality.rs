use super::money_flow::shop;
use app::ErrorCode;
use app::testing::TEST_NOW;

#[tokio::test]
async fn a_banks_month_counts_its_instructions_reports_and_breaks() {
    let s = shop().await;
    let period = TEST_NOW.china_date().format("%Y-%m").to_string();
    let before = s.t.app.supervision().bank_quality(&period).await.unwrap();
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
    let a = demo(&s.t.app.supervision().bank_quality(&period).await.unwrap());
    assert_eq!(a.movements_reported, b.movements_reported + 3);
    assert_eq!(a.reported_late, b.reported_late + 1);
    assert!(
        a.reconciliation_breaks > b.reconciliation_breaks,
        "the unmatched outflow"
    );
    assert!(a.report_delay_p95_ms.unwrap() >= 2 * 3_600_000);
    // A month in the future, or not a month: refused.
    assert_eq!(
        s.t.app
            .supervision()
            .bank_quality("2099-01")
            .await
            .unwrap_err()
            .code,
        ErrorCode::InvalidParameter
    );
    assert_eq!(
        s.t.app
            .supervision()
            .bank_quality("2026-13")
            .await
            .unwrap_err()
            .code,
        ErrorCode::InvalidParameter
    );
}

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
            .bank()
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

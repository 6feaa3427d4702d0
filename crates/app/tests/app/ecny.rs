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
    let fee = domain::contract::lesson_fee(domain::Fen::new(paid), order.contract.price.lessons, 1)
        .unwrap()
        .get();
    let system = Actor::System { name: "test" };
    let release =
        s.t.app
            .money()
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

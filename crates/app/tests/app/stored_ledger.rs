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
        t.app
            .money()
            .open_ledger_account(id, kind, "test")
            .await
            .unwrap();
    }
    let pay = transfer("pay:o1", "bank", "escrow:o1", 120_000);
    assert_eq!(
        t.app.money().post_transfer(&pay).await.unwrap(),
        Posted::Created
    );
    assert_eq!(
        t.app.money().post_transfer(&pay).await.unwrap(),
        Posted::AlreadyExists
    );
    let escrow = t.app.money().ledger_balance("escrow:o1").await.unwrap();
    assert_eq!(
        escrow.credit_balance(),
        120_000,
        "the duplicate changed nothing"
    );
    let mut changed = pay.clone();
    changed.amount = 1;
    assert_eq!(
        t.app
            .money()
            .post_transfer(&changed)
            .await
            .unwrap_err()
            .code,
        ErrorCode::Conflict
    );

    let release = transfer("release:o1:1", "escrow:o1", "released:i1", 3_000);
    assert_eq!(
        t.app.money().post_transfer(&release).await.unwrap(),
        Posted::Created
    );
    let overdraw = transfer("release:o1:2", "escrow:o1", "released:i1", 117_001);
    assert_eq!(
        t.app
            .money()
            .post_transfer(&overdraw)
            .await
            .unwrap_err()
            .code,
        ErrorCode::InsufficientFunds
    );
    let escrow = t.app.money().ledger_balance("escrow:o1").await.unwrap();
    let released = t.app.money().ledger_balance("released:i1").await.unwrap();
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

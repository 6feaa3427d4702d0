//! The store's contract, run on SQLite always and on PostgreSQL when `XIAOWAI_TEST_DATABASE_URL` is set
//! (each test in a fresh database).

use ledger::{ChainVerifier, NewAuditEntry, SmSuite};
use sqlx::AssertSqlSafe;
use store::testing::TestDb;
use store::{Backend, InstitutionRow, Store, StoreError};

fn entry(n: i64) -> NewAuditEntry {
    NewAuditEntry {
        at_ms: 1_790_000_000_000 + n,
        actor: "system:test".into(),
        action: "test.happened".into(),
        subject: format!("test:{n}"),
        schema_version: 1,
        payload: format!(r#"{{"n":{n}}}"#),
    }
}

fn institution(id: &str, credit_code: &str, region: &str) -> InstitutionRow {
    InstitutionRow {
        id: id.into(),
        name: "测试培训学校".into(),
        credit_code: credit_code.into(),
        licence_no: None,
        region_code: region.into(),
        address: "北京市海淀区学院路1号".into(),
        mode: "offline".into(),
        categories: "arts".into(),
        intro: String::new(),
        list_status: domain::ListStatus::White,
        list_reason: "审核通过".into(),
        list_changed_at: 1,
        created_at: 1,
        updated_at: 1,
        registry_state: domain::RegistryState::Listed,
    }
}

async fn verify(store: &Store) -> Result<i64, ledger::ChainBreak> {
    let mut v = ChainVerifier::new(&SmSuite);
    for e in store
        .read()
        .audit_entries_after(0, 1_000_000)
        .await
        .unwrap()
    {
        v.push(&e)?;
    }
    Ok(v.verified())
}

#[tokio::test]
async fn migrations_load_the_full_region_table_once() {
    let db = TestDb::new().await;
    let store = db.store().await.unwrap();
    let reader = store.read();
    assert_eq!(
        reader.registry().region_count().await.unwrap(),
        3_348,
        "31 provinces + 342 prefectures + 2,978 counties, less 3 cities listed as both"
    );
    // Running again is a no-op, not a failure.
    store.migrate().await.unwrap();
    assert_eq!(reader.registry().region_count().await.unwrap(), 3_348);
    let haidian = reader.registry().region("110108").await.unwrap().unwrap();
    assert_eq!(
        (
            haidian.name.as_str(),
            haidian.level,
            haidian.parent_code.as_deref()
        ),
        ("海淀区", 3, Some("110100"))
    );
    let beijing_districts = reader.registry().region("110100").await.unwrap().unwrap();
    assert_eq!(
        (
            beijing_districts.display_name.as_str(),
            beijing_districts.placeholder
        ),
        ("北京市", 1)
    );
    assert_eq!(
        reader.registry().region_children(None).await.unwrap().len(),
        31
    );
    let chongqing: Vec<_> = reader
        .registry()
        .region_children(Some("500000"))
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.display_name)
        .collect();
    assert_eq!(chongqing, vec!["重庆市（区）", "重庆市（县）"]);
}

#[tokio::test]
async fn audit_entries_chain_across_transactions_and_verify() {
    let db = TestDb::new().await;
    let store = db.store().await.unwrap();
    for batch in 0..3 {
        let mut tx = store.begin_write().await.unwrap();
        tx.append_audit((0..4).map(|k| entry(batch * 4 + k)).collect())
            .await
            .unwrap();
        tx.commit().await.unwrap();
        // Sealed at commit, in the order appended, numbered after the transactions before.
        let sealed = store
            .read()
            .audit_entries_after(batch * 4, 100)
            .await
            .unwrap();
        assert_eq!(
            sealed.iter().map(|e| e.seq).collect::<Vec<_>>(),
            ((batch * 4 + 1)..=(batch * 4 + 4)).collect::<Vec<_>>()
        );
        assert_eq!(
            sealed.iter().map(|e| e.body.clone()).collect::<Vec<_>>(),
            (0..4).map(|k| entry(batch * 4 + k)).collect::<Vec<_>>()
        );
    }
    // Appended and not committed: nothing reaches the chain.
    let mut tx = store.begin_write().await.unwrap();
    tx.append_audit(vec![entry(99)]).await.unwrap();
    drop(tx);
    assert_eq!(verify(&store).await, Ok(12));
}

#[tokio::test]
async fn concurrent_writers_never_fork_the_chain() {
    let db = TestDb::new().await;
    let store = db.store().await.unwrap();
    let tasks: Vec<_> = (0..16)
        .map(|k| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut tx = store.begin_write().await.unwrap();
                tx.append_audit(vec![entry(k), entry(100 + k)])
                    .await
                    .unwrap();
                tx.commit().await.unwrap();
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(verify(&store).await, Ok(32));
}

#[tokio::test]
async fn the_audit_log_refuses_updates_and_deletes() {
    let db = TestDb::new().await;
    let store = db.store().await.unwrap();
    let mut tx = store.begin_write().await.unwrap();
    tx.append_audit(vec![entry(1), entry(2)]).await.unwrap();
    tx.commit().await.unwrap();
    let pool = store.pool_for_tests();
    let update = sqlx::query("UPDATE audit_log SET actor = 'mallory' WHERE seq = 1")
        .execute(pool)
        .await;
    assert!(matches!(
        update.map_err(StoreError::from),
        Err(StoreError::AppendOnly(_))
    ));
    let delete = sqlx::query("DELETE FROM audit_log WHERE seq = 2")
        .execute(pool)
        .await;
    assert!(matches!(
        delete.map_err(StoreError::from),
        Err(StoreError::AppendOnly(_))
    ));
    assert_eq!(verify(&store).await, Ok(2));
}

#[tokio::test]
async fn tampering_under_the_triggers_is_named_by_sequence_number() {
    let db = TestDb::new().await;
    let store = db.store().await.unwrap();
    let mut tx = store.begin_write().await.unwrap();
    tx.append_audit((1..=5).map(entry).collect()).await.unwrap();
    tx.commit().await.unwrap();
    let pool = store.pool_for_tests();
    // An attacker with database access removes the guard and edits history.
    let drop_trigger = match store.backend() {
        Backend::Sqlite => "DROP TRIGGER audit_log_no_update",
        Backend::Postgres => "DROP TRIGGER audit_log_append_only ON audit_log",
    };
    sqlx::query(drop_trigger).execute(pool).await.unwrap();
    sqlx::query(AssertSqlSafe(
        "UPDATE audit_log SET payload = '{\"n\":999}' WHERE seq = 3".to_owned(),
    ))
    .execute(pool)
    .await
    .unwrap();
    let broken = verify(&store).await.unwrap_err();
    assert_eq!(broken.seq, 3);
}

#[tokio::test]
async fn constraint_violations_are_conflicts_not_faults() {
    let db = TestDb::new().await;
    let store = db.store().await.unwrap();
    let mut tx = store.begin_write().await.unwrap();
    tx.registry()
        .insert_institutions(&[institution("a", "52110108MJ0000016X", "110108")])
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let mut tx = store.begin_write().await.unwrap();
    let dup = tx
        .registry()
        .insert_institutions(&[institution("b", "52110108MJ0000016X", "110108")])
        .await;
    assert!(matches!(dup, Err(StoreError::Conflict(_))), "{dup:?}");
    drop(tx);

    let mut tx = store.begin_write().await.unwrap();
    let bad_region = tx
        .registry()
        .insert_institutions(&[institution("c", "other", "119999")])
        .await;
    assert!(
        matches!(bad_region, Err(StoreError::Constraint(_))),
        "{bad_region:?}"
    );
    drop(tx);

    let mut tx = store.begin_write().await.unwrap();
    let mut bad_mode = institution("d", "other2", "110108");
    bad_mode.mode = "hybrid".into();
    assert!(matches!(
        tx.registry().insert_institutions(&[bad_mode]).await,
        Err(StoreError::Constraint(_))
    ));
}

#[tokio::test]
async fn an_uncommitted_transaction_leaves_nothing_behind() {
    let db = TestDb::new().await;
    let store = db.store().await.unwrap();
    {
        let mut tx = store.begin_write().await.unwrap();
        tx.registry()
            .insert_institutions(&[institution("a", "c1", "110108")])
            .await
            .unwrap();
        tx.append_audit(vec![entry(1)]).await.unwrap();
        // Dropped: a failed command.
    }
    assert_eq!(
        store.read().registry().institution_count().await.unwrap(),
        0
    );
    assert_eq!(store.read().audit_count().await.unwrap(), 0);
    // And the write gate was released: the next command proceeds.
    let mut tx = store.begin_write().await.unwrap();
    tx.append_audit(vec![entry(1)]).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(verify(&store).await, Ok(1));
}

/// 监管看板: one transaction's figures for two counties of one prefecture (two institutions paid in one bank
/// batch) add up at every level they share, in one write.
#[tokio::test]
async fn a_transactions_figures_add_up_where_their_regions_meet() {
    let db = TestDb::new().await;
    let store = db.store().await.unwrap();
    let paid = |fen: i64| store::MoneyRollup {
        orders_paid: 1,
        collected_fen: fen,
        ..Default::default()
    };
    let mut tx = store.begin_write().await.unwrap();
    tx.dashboard()
        .add_money_rollup("110108", "2026-11-27", &paid(100));
    tx.dashboard()
        .add_money_rollup("110108", "2026-11-27", &paid(20));
    tx.dashboard()
        .add_money_rollup("110105", "2026-11-27", &paid(3));
    tx.commit().await.unwrap();
    let figures = |region: &'static str| {
        let store = store.clone();
        async move {
            let r = store.read().dashboard().money_total(region).await.unwrap();
            (r.orders_paid, r.collected_fen)
        }
    };
    assert_eq!(figures("110108").await, (2, 120));
    assert_eq!(figures("110105").await, (1, 3));
    assert_eq!(figures("110100").await, (3, 123), "the prefecture");
    assert_eq!(figures("110000").await, (3, 123), "the province");
    assert_eq!(figures("000000").await, (3, 123), "the nation");

    // A sum past i64 is refused whole, not wrapped.
    let mut tx = store.begin_write().await.unwrap();
    tx.dashboard()
        .add_money_rollup("110108", "2026-11-28", &paid(i64::MAX));
    tx.dashboard()
        .add_money_rollup("110105", "2026-11-28", &paid(1));
    assert!(matches!(
        tx.commit().await.unwrap_err(),
        StoreError::Constraint(_)
    ));
    assert_eq!(figures("000000").await, (3, 123));
}

fn ledger_account(id: &str, kind: &str) -> store::LedgerAccountRow {
    store::LedgerAccountRow {
        id: id.into(),
        kind: kind.into(),
        owner: "acct-1".into(),
        debits_must_not_exceed_credits: 0,
        debits_posted: 0,
        credits_posted: 0,
    }
}

/// A bank's clearing account is posted to by every payment into its supervised accounts. Opening it again
/// (every payment names the accounts it posts to) must not wait for the payment that holds it: on
/// PostgreSQL an `INSERT … ON CONFLICT DO NOTHING` of a row another transaction is updating waits for that
/// transaction's commit. A shared account seen committed is not written again.
#[tokio::test]
async fn opening_a_shared_ledger_account_never_waits_for_its_holder() {
    let db = TestDb::new().await;
    let store = db.store().await.unwrap();
    let clearing = ledger_account("clearing:acct-1", "bank_clearing");
    let mut tx = store.begin_write().await.unwrap();
    tx.ledger()
        .insert_ledger_accounts(std::slice::from_ref(&clearing))
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let escrow = ledger_account("escrow:order-1", "order_escrow");
    if store.backend() == Backend::Postgres {
        // A payment holds the clearing account: locked and updated, not yet committed.
        let mut holder = store.begin_write().await.unwrap();
        holder
            .ledger()
            .ledger_accounts_locked(std::slice::from_ref(&clearing.id))
            .await
            .unwrap();
        holder
            .ledger()
            .record_transfers(&[], &[(clearing.id.clone(), 0, 0)])
            .await
            .unwrap();
        let mut next = store.begin_write().await.unwrap();
        tokio::time::timeout(
            std::time::Duration::from_secs(3),
            next.ledger()
                .insert_ledger_accounts(&[clearing.clone(), escrow.clone()]),
        )
        .await
        .expect("opening the clearing account waited for the payment holding it")
        .unwrap();
        next.commit().await.unwrap();
        holder.commit().await.unwrap();
    } else {
        let mut next = store.begin_write().await.unwrap();
        next.ledger()
            .insert_ledger_accounts(&[clearing.clone(), escrow.clone()])
            .await
            .unwrap();
        next.commit().await.unwrap();
    }
    for id in [&clearing.id, &escrow.id] {
        assert!(
            store
                .read()
                .ledger()
                .ledger_account(id)
                .await
                .unwrap()
                .is_some(),
            "{id}"
        );
    }
}

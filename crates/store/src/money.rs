//! The money ledger's rows (the rules are `ledger::posting`'s).

use crate::insert::{AnyQuery, InsertRow};
use crate::{Reader, StoreError, WriteTx};
use sqlx::AssertSqlSafe;

crate::repository!(
    /// 账本 ledger accounts and transfers.
    Ledger,
    ledger
);

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct LedgerAccountRow {
    pub id: String,
    pub kind: String,
    pub owner: String,
    pub debits_must_not_exceed_credits: i64,
    pub debits_posted: i64,
    pub credits_posted: i64,
}

const ACCOUNT_COLUMNS: &str =
    "id, kind, owner, debits_must_not_exceed_credits, debits_posted, credits_posted";

impl InsertRow for LedgerAccountRow {
    const TABLE: &'static str = "ledger_accounts";
    const COLUMNS: &'static str = ACCOUNT_COLUMNS;
    /// Opening an account that exists is a no-op (two first payments into one account may race to open it).
    const ON_CONFLICT: &'static str = " ON CONFLICT (id) DO NOTHING";
    fn bind<'q>(&self, q: AnyQuery<'q>) -> AnyQuery<'q> {
        q.bind(self.id.clone())
            .bind(self.kind.clone())
            .bind(self.owner.clone())
            .bind(self.debits_must_not_exceed_credits)
            .bind(self.debits_posted)
            .bind(self.credits_posted)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct LedgerTransferRow {
    pub id: String,
    pub debit_account: String,
    pub credit_account: String,
    pub amount: i64,
    pub code: i64,
    pub posted_at: i64,
}

const TRANSFER_COLUMNS: &str = "id, debit_account, credit_account, amount, code, posted_at";

impl InsertRow for LedgerTransferRow {
    const TABLE: &'static str = "ledger_transfers";
    const COLUMNS: &'static str = TRANSFER_COLUMNS;
    fn bind<'q>(&self, q: AnyQuery<'q>) -> AnyQuery<'q> {
        q.bind(self.id.clone())
            .bind(self.debit_account.clone())
            .bind(self.credit_account.clone())
            .bind(self.amount)
            .bind(self.code)
            .bind(self.posted_at)
    }
}

impl Ledger<&Reader<'_>> {
    /// The money ledger recomputed from its transfers: the number of transfers and accounts, the fen moved,
    /// and every account whose stored totals differ from the sum of its transfers (empty when sound).
    pub async fn ledger_recount(&self) -> Result<LedgerRecount, StoreError> {
        let (transfers, moved): (i64, i64) = sqlx::query_as(
            "SELECT COUNT(*), CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM ledger_transfers",
        )
        .fetch_one(&self.store.pool)
        .await?;
        let accounts: (i64,) = sqlx::query_as("SELECT COUNT(*) FROM ledger_accounts")
            .fetch_one(&self.store.pool)
            .await?;
        let mismatched: Vec<(String,)> = sqlx::query_as(
            "SELECT a.id FROM ledger_accounts a \
             WHERE a.debits_posted <> CAST(COALESCE((SELECT SUM(t.amount) FROM ledger_transfers t WHERE t.debit_account = a.id), 0) AS BIGINT) \
                OR a.credits_posted <> CAST(COALESCE((SELECT SUM(t.amount) FROM ledger_transfers t WHERE t.credit_account = a.id), 0) AS BIGINT) \
                OR (a.debits_must_not_exceed_credits = 1 AND a.debits_posted > a.credits_posted) \
             ORDER BY a.id LIMIT 100",
        )
        .fetch_all(&self.store.pool)
        .await?;
        Ok(LedgerRecount {
            transfers,
            accounts: accounts.0,
            moved_fen: moved,
            mismatched: mismatched.into_iter().map(|(id,)| id).collect(),
        })
    }
}

/// One order's money as its escrow account and its bank instructions record it (`ledger verify`'s money
/// check and the simulator read it; `app::ledger_check` judges it).
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct OrderMoneyRow {
    pub id: String,
    pub order_no: String,

    #[sqlx(try_from = "String")]
    pub status: domain::OrderStatus,
    pub amount_fen: i64,
    /// What the order's escrow account was credited (the payment) and debited (executed releases and
    /// refunds).
    pub escrow_credits_fen: i64,
    pub escrow_debits_fen: i64,
    /// Instructions on the order that the bank has not finished (pending or acknowledged).
    pub outstanding_fen: i64,
    /// Instructions the bank executed.
    pub executed_fen: i64,
    /// Releases not failed that no lesson of the order names as its release.
    pub unexplained_release_fen: i64,
}

const ORDER_MONEY_SELECT: &str = "SELECT o.id, o.order_no, o.status, o.amount_fen, \
     CAST(COALESCE(e.credits_posted, 0) AS BIGINT) AS escrow_credits_fen, \
     CAST(COALESCE(e.debits_posted, 0) AS BIGINT) AS escrow_debits_fen, \
     CAST(COALESCE((SELECT SUM(i.amount_fen) FROM bank_instructions i WHERE i.order_id = o.id \
        AND i.status IN ('pending', 'acknowledged')), 0) AS BIGINT) AS outstanding_fen, \
     CAST(COALESCE((SELECT SUM(i.amount_fen) FROM bank_instructions i WHERE i.order_id = o.id \
        AND i.status = 'executed'), 0) AS BIGINT) AS executed_fen, \
     CAST(COALESCE((SELECT SUM(i.amount_fen) FROM bank_instructions i WHERE i.order_id = o.id \
        AND i.kind = 'release' AND i.status <> 'failed' AND NOT EXISTS (SELECT 1 FROM lessons l \
        WHERE l.order_id = o.id AND l.release_instruction_id = i.id)), 0) AS BIGINT) AS unexplained_release_fen \
     FROM orders o LEFT JOIN ledger_accounts e ON e.id = 'escrow:' || o.id";

impl Ledger<&Reader<'_>> {
    /// Orders' money after `after` in id order, `limit` at a time (a whole-database check in constant memory).
    pub async fn order_money_after(
        &self,
        after: &str,
        limit: i64,
    ) -> Result<Vec<OrderMoneyRow>, StoreError> {
        let sql = format!("{ORDER_MONEY_SELECT} WHERE o.id > $1 ORDER BY o.id LIMIT $2");
        Ok(sqlx::query_as(AssertSqlSafe(sql))
            .bind(after)
            .bind(limit)
            .fetch_all(&self.store.pool)
            .await?)
    }

    /// These orders' money.
    pub async fn order_money_of(&self, ids: &[String]) -> Result<Vec<OrderMoneyRow>, StoreError> {
        let mut out = Vec::new();
        for chunk in ids.chunks(500) {
            let sql = format!(
                "{ORDER_MONEY_SELECT} WHERE o.id IN ({}) ORDER BY o.id",
                self.store.backend.placeholders(0, chunk.len())
            );
            let mut q = sqlx::query_as(AssertSqlSafe(sql));
            for id in chunk {
                q = q.bind(id.clone());
            }
            out.extend(q.fetch_all(&self.store.pool).await?);
        }
        Ok(out)
    }

    /// Instructions that more than one reported outflow was matched to: (instruction id, how many).
    pub async fn instructions_matched_twice(&self) -> Result<Vec<(String, i64)>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT instruction_id, COUNT(*) FROM bank_movements WHERE matched = 'matched' \
             AND instruction_id IS NOT NULL GROUP BY instruction_id HAVING COUNT(*) > 1 ORDER BY instruction_id",
        )
        .fetch_all(&self.store.pool)
        .await?)
    }
}

/// See [`Ledger::ledger_recount`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LedgerRecount {
    pub transfers: i64,
    pub accounts: i64,
    pub moved_fen: i64,
    pub mismatched: Vec<String>,
}

impl Ledger<&mut WriteTx> {
    /// Opens ledger accounts that may exist already (`ON CONFLICT DO NOTHING`). A shared account this store
    /// has seen committed (a bank's clearing account, an institution's settlement account) is skipped
    /// without a statement: re-inserting a row that another transaction is posting to would wait for that
    /// transaction's commit, and those rows are the hottest in the ledger.
    pub async fn insert_ledger_accounts(
        &mut self,
        rows: &[LedgerAccountRow],
    ) -> Result<(), StoreError> {
        let missing: Vec<LedgerAccountRow> = match self.known_ledger_accounts.lock() {
            Ok(known) => rows
                .iter()
                .filter(|r| !known.contains(&r.id))
                .cloned()
                .collect(),
            Err(_) => rows.to_vec(),
        };
        self.insert(&missing).await?;
        self.opened_ledger_accounts.extend(
            missing
                .into_iter()
                .filter(|r| r.kind != "order_escrow")
                .map(|r| r.id),
        );
        Ok(())
    }

    /// Accounts by id, locked until the transaction ends (PostgreSQL), in id order.
    pub async fn ledger_accounts_locked(
        &mut self,
        ids: &[String],
    ) -> Result<Vec<LedgerAccountRow>, StoreError> {
        let mut out = Vec::with_capacity(ids.len());
        let mut sorted: Vec<&String> = ids.iter().collect();
        sorted.sort_unstable();
        sorted.dedup();
        for chunk in sorted.chunks(500) {
            let sql = format!(
                "SELECT {ACCOUNT_COLUMNS} FROM ledger_accounts WHERE id IN ({}) ORDER BY id{}",
                self.backend.placeholders(0, chunk.len()),
                self.backend.row_lock_suffix()
            );
            let mut q = sqlx::query_as(AssertSqlSafe(sql));
            for id in chunk {
                q = q.bind((*id).clone());
            }
            out.extend(q.fetch_all(&mut *self.tx).await?);
        }
        Ok(out)
    }

    /// Transfers by id (to answer repeated ones).
    pub async fn ledger_transfers(
        &mut self,
        ids: &[String],
    ) -> Result<Vec<LedgerTransferRow>, StoreError> {
        let mut out = Vec::new();
        for chunk in ids.chunks(500) {
            let sql = format!(
                "SELECT {TRANSFER_COLUMNS} FROM ledger_transfers WHERE id IN ({})",
                self.backend.placeholders(0, chunk.len())
            );
            let mut q = sqlx::query_as(AssertSqlSafe(sql));
            for id in chunk {
                q = q.bind(id.clone());
            }
            out.extend(q.fetch_all(&mut *self.tx).await?);
        }
        Ok(out)
    }

    /// Records transfers and sets the touched accounts' totals, which the caller computed from rows it read
    /// locked ([`Ledger::ledger_accounts_locked`]).
    pub async fn record_transfers(
        &mut self,
        transfers: &[LedgerTransferRow],
        totals: &[(String, i64, i64)],
    ) -> Result<(), StoreError> {
        self.insert(transfers).await?;
        for chunk in totals.chunks(300) {
            let n = chunk.len();
            let sql = format!(
                "UPDATE ledger_accounts SET debits_posted = CASE id {} END, credits_posted = CASE id {} END \
                 WHERE id IN ({})",
                self.backend.when_then(0, n),
                self.backend.when_then(2 * n, n),
                self.backend.placeholders(4 * n, n)
            );
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for (id, debits, _) in chunk {
                q = q.bind(id.clone()).bind(*debits);
            }
            for (id, _, credits) in chunk {
                q = q.bind(id.clone()).bind(*credits);
            }
            for (id, _, _) in chunk {
                q = q.bind(id.clone());
            }
            let done = q.execute(&mut *self.tx).await?;
            if done.rows_affected() != n as u64 {
                return Err(StoreError::Conflict(
                    "a ledger account of the batch is missing".into(),
                ));
            }
        }
        Ok(())
    }
}

impl<S: crate::Connection> Ledger<S> {
    pub async fn ledger_account(
        &mut self,
        id: &str,
    ) -> Result<Option<LedgerAccountRow>, StoreError> {
        let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM ledger_accounts WHERE id = $1");
        Ok(sqlx::query_as(AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(self.0.executor())
            .await?)
    }
}

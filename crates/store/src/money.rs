//! The money ledger's rows (the rules are `ledger::posting`'s).

use crate::insert::{AnyQuery, InsertRow, insert_rows};
use crate::{Reader, StoreError, WriteTx};
use sqlx::AssertSqlSafe;

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

impl Reader<'_> {
    pub async fn ledger_account(&self, id: &str) -> Result<Option<LedgerAccountRow>, StoreError> {
        let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM ledger_accounts WHERE id = $1");
        Ok(sqlx::query_as(AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.store.pool)
            .await?)
    }
}

impl WriteTx {
    pub async fn insert_ledger_accounts(
        &mut self,
        rows: &[LedgerAccountRow],
    ) -> Result<(), StoreError> {
        insert_rows(&mut self.tx, self.backend, rows).await
    }

    pub async fn ledger_account(
        &mut self,
        id: &str,
    ) -> Result<Option<LedgerAccountRow>, StoreError> {
        let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM ledger_accounts WHERE id = $1");
        Ok(sqlx::query_as(AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&mut *self.tx)
            .await?)
    }

    /// The accounts a transfer moves, locked until the transaction ends (PostgreSQL; SQLite has one writer),
    /// in id order so two transfers over the same accounts cannot deadlock.
    pub async fn ledger_accounts_for_update(
        &mut self,
        ids: [&str; 2],
    ) -> Result<Vec<LedgerAccountRow>, StoreError> {
        let mut sorted = ids;
        sorted.sort_unstable();
        let sql = format!(
            "SELECT {ACCOUNT_COLUMNS} FROM ledger_accounts WHERE id IN ($1, $2) ORDER BY id{}",
            self.backend.row_lock_suffix()
        );
        Ok(sqlx::query_as(AssertSqlSafe(sql))
            .bind(sorted[0])
            .bind(sorted[1])
            .fetch_all(&mut *self.tx)
            .await?)
    }

    pub async fn ledger_transfer(
        &mut self,
        id: &str,
    ) -> Result<Option<LedgerTransferRow>, StoreError> {
        let sql = format!("SELECT {TRANSFER_COLUMNS} FROM ledger_transfers WHERE id = $1");
        Ok(sqlx::query_as(AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&mut *self.tx)
            .await?)
    }

    /// Records a transfer and the two accounts' new totals. Each total moves only from the value the caller
    /// read (a concurrent change makes this a conflict, never a lost update).
    pub async fn record_transfer(
        &mut self,
        transfer: &LedgerTransferRow,
        debit: (&LedgerAccountRow, i64),
        credit: (&LedgerAccountRow, i64),
    ) -> Result<(), StoreError> {
        insert_rows(&mut self.tx, self.backend, std::slice::from_ref(transfer)).await?;
        for (sql, (row, new_total), old_total) in [
            (
                "UPDATE ledger_accounts SET debits_posted = $2 WHERE id = $1 AND debits_posted = $3",
                debit,
                debit.0.debits_posted,
            ),
            (
                "UPDATE ledger_accounts SET credits_posted = $2 WHERE id = $1 AND credits_posted = $3",
                credit,
                credit.0.credits_posted,
            ),
        ] {
            let done = sqlx::query(sql)
                .bind(row.id.clone())
                .bind(new_total)
                .bind(old_total)
                .execute(&mut *self.tx)
                .await?;
            if done.rows_affected() != 1 {
                return Err(StoreError::Conflict(format!(
                    "ledger account {} changed meanwhile",
                    row.id
                )));
            }
        }
        Ok(())
    }
}

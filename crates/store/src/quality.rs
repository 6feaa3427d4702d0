//! What a bank's service-quality report reads: its instructions' times, its movement reports' delays and the
//! reconciliation breaks on its accounts, over a period.

use crate::{Reader, StoreError};

crate::repository!(
    /// 银行服务质量 bank quality figures.
    Quality,
    quality
);

/// One instruction to a bank: when the platform created it, when the bank finished it, and how.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct InstructionTimeRow {
    pub created_at: i64,
    pub finished_at: Option<i64>,

    #[sqlx(try_from = "String")]
    pub status: domain::InstructionStatus,
}

impl Quality<&Reader<'_>> {
    /// The banks that hold supervised accounts or take instructions, by id.
    pub async fn bank_ids(&self) -> Result<Vec<String>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT bank_id FROM supervised_accounts UNION SELECT bank_id FROM bank_endpoints ORDER BY 1",
        )
        .fetch_all(&self.store.pool)
        .await?)
    }

    /// A bank's single instructions and release batches created in `[from, to)`.
    pub async fn instruction_times(
        &self,
        bank_id: &str,
        from: i64,
        to: i64,
    ) -> Result<Vec<InstructionTimeRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT created_at, finished_at, status FROM bank_instructions \
             WHERE bank_id = $1 AND created_at >= $2 AND created_at < $3 AND batch_id IS NULL \
             UNION ALL SELECT created_at, finished_at, status FROM release_batches \
             WHERE bank_id = $1 AND created_at >= $2 AND created_at < $3",
        )
        .bind(bank_id)
        .bind(from)
        .bind(to)
        .fetch_all(&self.store.pool)
        .await?)
    }

    /// How long after the money moved the bank reported each movement received in `[from, to)`, in ms.
    pub async fn movement_report_delays(
        &self,
        bank_id: &str,
        from: i64,
        to: i64,
    ) -> Result<Vec<i64>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT CAST(m.received_at - m.occurred_at AS BIGINT) FROM bank_movements m \
             JOIN supervised_accounts a ON a.id = m.supervised_account_id \
             WHERE a.bank_id = $1 AND m.received_at >= $2 AND m.received_at < $3",
        )
        .bind(bank_id)
        .bind(from)
        .bind(to)
        .fetch_all(&self.store.pool)
        .await?)
    }

    /// Reconciliation breaks on the bank's accounts raised in `[from, to)`: outflows nobody instructed, balances
    /// below what is owed, statements that disagree or are missing.
    pub async fn reconciliation_breaks(
        &self,
        bank_id: &str,
        from: i64,
        to: i64,
    ) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM risk_events e JOIN supervised_accounts a ON a.id = e.supervised_account_id \
             WHERE a.bank_id = $1 AND e.raised_at >= $2 AND e.raised_at < $3",
        )
        .bind(bank_id)
        .bind(from)
        .bind(to)
        .fetch_one(&self.store.pool)
        .await?)
    }
}

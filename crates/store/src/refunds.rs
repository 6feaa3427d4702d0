//! 退费 refund requests.

use crate::insert::{AnyQuery, InsertRow};
use crate::{Reader, StoreError, WriteTx};
use sqlx::AssertSqlSafe;

crate::repository!(
    /// 退费 refunds.
    Refunds,
    refunds
);

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct RefundRow {
    pub id: String,
    pub order_id: String,
    pub institution_id: String,
    pub parent_id: String,
    pub lessons_taken: i64,
    pub amount_fen: i64,
    pub reason: String,
    #[sqlx(try_from = "String")]
    pub status: domain::RefundStatus,
    pub answer_by: i64,
    pub answer_reason: Option<String>,
    pub decided_by: Option<String>,
    pub decided_at: Option<i64>,
    pub instruction_id: Option<String>,
    pub created_at: i64,
}

const COLUMNS: &str = "id, order_id, institution_id, parent_id, lessons_taken, amount_fen, reason, status, answer_by, \
     answer_reason, decided_by, decided_at, instruction_id, created_at";

/// A step of a refund's decision.
#[derive(Clone, Copy, Debug)]
pub struct RefundDecision<'a> {
    pub event: domain::RefundEvent,
    pub by: &'a str,
    pub at: i64,
    pub answer_reason: Option<&'a str>,
    pub instruction_id: Option<&'a str>,
}

impl InsertRow for RefundRow {
    const TABLE: &'static str = "refunds";
    const COLUMNS: &'static str = COLUMNS;
    fn bind<'q>(&self, q: AnyQuery<'q>) -> AnyQuery<'q> {
        q.bind(self.id.clone())
            .bind(self.order_id.clone())
            .bind(self.institution_id.clone())
            .bind(self.parent_id.clone())
            .bind(self.lessons_taken)
            .bind(self.amount_fen)
            .bind(self.reason.clone())
            .bind(self.status.as_str())
            .bind(self.answer_by)
            .bind(self.answer_reason.clone())
            .bind(self.decided_by.clone())
            .bind(self.decided_at)
            .bind(self.instruction_id.clone())
            .bind(self.created_at)
    }
}

impl Refunds<&Reader<'_>> {
    /// Requests the institution left unanswered past their window.
    pub async fn refunds_due(&self, now: i64, limit: i64) -> Result<Vec<RefundRow>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM refunds WHERE status = 'requested' AND answer_by <= $1 ORDER BY answer_by, id LIMIT $2"
        );
        Ok(sqlx::query_as(AssertSqlSafe(sql))
            .bind(now)
            .bind(limit)
            .fetch_all(&self.store.pool)
            .await?)
    }
}

impl Refunds<&mut WriteTx> {
    pub async fn insert_refund(&mut self, row: &RefundRow) -> Result<(), StoreError> {
        self.insert(std::slice::from_ref(row)).await
    }

    /// An order's refund still being decided (requested, refused, escalated), if any.
    pub async fn open_refund(&mut self, order_id: &str) -> Result<Option<RefundRow>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM refunds WHERE order_id = $1 AND status IN ('requested', 'refused', 'escalated')"
        );
        Ok(sqlx::query_as(AssertSqlSafe(sql))
            .bind(order_id)
            .fetch_optional(&mut *self.tx)
            .await?)
    }

    /// Moves a refund from `from` to the decision's status (0 rows when it had moved meanwhile).
    pub async fn decide_refund(
        &mut self,
        id: &str,
        d: &RefundDecision<'_>,
    ) -> Result<u64, StoreError> {
        let (to, from) = crate::states::transition::<domain::RefundStatus>(d.event);
        let sql = format!(
            "UPDATE refunds SET status = $2, decided_by = $3, decided_at = $4, \
             answer_reason = COALESCE($5, answer_reason), instruction_id = COALESCE($6, instruction_id) \
             WHERE id = $1 AND status IN ({from})"
        );
        let done = sqlx::query(AssertSqlSafe(sql))
            .bind(id)
            .bind(to)
            .bind(d.by)
            .bind(d.at)
            .bind(d.answer_reason.map(str::to_owned))
            .bind(d.instruction_id.map(str::to_owned))
            .execute(&mut *self.tx)
            .await?;
        Ok(done.rows_affected())
    }
}

/// 清退 a run-off's start.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct RunOffRow {
    pub institution_id: String,
    pub reason: String,
    pub started_by: String,
    pub started_at: i64,
}

impl Refunds<&Reader<'_>> {
    /// The institution's run-off, once one started.
    pub async fn run_off(&self, institution_id: &str) -> Result<Option<RunOffRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT institution_id, reason, started_by, started_at FROM run_offs WHERE institution_id = $1",
        )
        .bind(institution_id)
        .fetch_optional(&self.store.pool)
        .await?)
    }

    /// An institution's refunds decided since `since`, oldest first.
    pub async fn refunds_decided_since(
        &self,
        institution_id: &str,
        since: i64,
    ) -> Result<Vec<RefundRow>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM refunds WHERE institution_id = $1 AND decided_at >= $2 ORDER BY decided_at, id"
        );
        Ok(sqlx::query_as(AssertSqlSafe(sql))
            .bind(institution_id)
            .bind(since)
            .fetch_all(&self.store.pool)
            .await?)
    }
}

impl Refunds<&mut WriteTx> {
    /// Records a run-off's start; a second start is a conflict (the primary key).
    pub async fn insert_run_off(&mut self, row: &RunOffRow) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO run_offs (institution_id, reason, started_by, started_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(row.institution_id.clone())
        .bind(row.reason.clone())
        .bind(row.started_by.clone())
        .bind(row.started_at)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }
}

impl<S: crate::Connection> Refunds<S> {
    pub async fn refund(&mut self, id: &str) -> Result<Option<RefundRow>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM refunds WHERE id = $1");
        Ok(sqlx::query_as(AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(self.0.executor())
            .await?)
    }

    /// An order's refund requests, oldest first.
    pub async fn refunds_of_order(&mut self, order_id: &str) -> Result<Vec<RefundRow>, StoreError> {
        let sql =
            format!("SELECT {COLUMNS} FROM refunds WHERE order_id = $1 ORDER BY created_at, id");
        Ok(sqlx::query_as(AssertSqlSafe(sql))
            .bind(order_id)
            .fetch_all(self.0.executor())
            .await?)
    }
}

//! 年检年审: an institution's year in figures, and the annual review results.

use crate::{Reader, StoreError, WriteTx};

crate::repository!(
    /// 年检 annual inspection records.
    AnnualReviews,
    annual
);

/// One institution's year, `[from, to)` in unix ms.
#[derive(Clone, Debug, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct AnnualFigures {
    pub orders_paid: i64,
    pub paid_fen: i64,
    pub released_fen: i64,
    pub refunds_requested: i64,
    pub refunded_fen: i64,
    pub lessons_confirmed: i64,
    pub lessons_disputed: i64,
    pub complaints: i64,
    pub complaints_upheld: i64,
    pub warnings_yellow: i64,
    pub warnings_orange: i64,
    pub warnings_red: i64,
    pub public_warnings: i64,
    pub unmatched_outflows: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct AnnualReviewRow {
    pub institution_id: String,
    pub year: i64,
    /// `pass`, `conditional` or `fail`.
    pub result: String,
    pub remarks: String,
    pub reviewed_by: String,
    pub reviewed_at: i64,
}

impl AnnualReviews<&Reader<'_>> {
    pub async fn annual_figures(
        &self,
        institution_id: &str,
        from: i64,
        to: i64,
    ) -> Result<AnnualFigures, StoreError> {
        Ok(sqlx::query_as(
            "SELECT \
             (SELECT COUNT(*) FROM orders o WHERE o.institution_id = $1 AND o.paid_at >= $2 AND o.paid_at < $3) AS orders_paid, \
             CAST(COALESCE((SELECT SUM(o.amount_fen) FROM orders o WHERE o.institution_id = $1 AND o.paid_at >= $2 AND o.paid_at < $3), 0) AS BIGINT) AS paid_fen, \
             CAST(COALESCE((SELECT SUM(b.amount_fen) FROM bank_instructions b JOIN orders o ON o.id = b.order_id \
                WHERE o.institution_id = $1 AND b.kind = 'release' AND b.status = 'executed' AND b.finished_at >= $2 AND b.finished_at < $3), 0) AS BIGINT) AS released_fen, \
             (SELECT COUNT(*) FROM refunds r WHERE r.institution_id = $1 AND r.created_at >= $2 AND r.created_at < $3) AS refunds_requested, \
             CAST(COALESCE((SELECT SUM(b.amount_fen) FROM bank_instructions b JOIN orders o ON o.id = b.order_id \
                WHERE o.institution_id = $1 AND b.kind = 'refund' AND b.status = 'executed' AND b.finished_at >= $2 AND b.finished_at < $3), 0) AS BIGINT) AS refunded_fen, \
             (SELECT COUNT(*) FROM lessons l JOIN orders o ON o.id = l.order_id WHERE o.institution_id = $1 \
                AND l.status IN ('confirmed', 'auto_confirmed') AND l.decided_at >= $2 AND l.decided_at < $3) AS lessons_confirmed, \
             (SELECT COUNT(*) FROM lessons l JOIN orders o ON o.id = l.order_id WHERE o.institution_id = $1 \
                AND l.status = 'disputed' AND l.created_at >= $2 AND l.created_at < $3) AS lessons_disputed, \
             (SELECT COUNT(*) FROM complaints c WHERE c.institution_id = $1 AND c.created_at >= $2 AND c.created_at < $3) AS complaints, \
             (SELECT COUNT(*) FROM complaints c WHERE c.institution_id = $1 AND c.outcome = 'penalised' AND c.closed_at >= $2 AND c.closed_at < $3) AS complaints_upheld, \
             (SELECT COUNT(*) FROM risk_warnings w WHERE w.institution_id = $1 AND w.level = 'yellow' AND w.raised_at >= $2 AND w.raised_at < $3) AS warnings_yellow, \
             (SELECT COUNT(*) FROM risk_warnings w WHERE w.institution_id = $1 AND w.level = 'orange' AND w.raised_at >= $2 AND w.raised_at < $3) AS warnings_orange, \
             (SELECT COUNT(*) FROM risk_warnings w WHERE w.institution_id = $1 AND w.level = 'red' AND w.raised_at >= $2 AND w.raised_at < $3) AS warnings_red, \
             (SELECT COUNT(*) FROM risk_warnings w WHERE w.institution_id = $1 AND w.published_at >= $2 AND w.published_at < $3) AS public_warnings, \
             (SELECT COUNT(*) FROM risk_events e WHERE e.institution_id = $1 AND e.kind = 'unmatched_outflow' AND e.raised_at >= $2 AND e.raised_at < $3) AS unmatched_outflows",
        )
        .bind(institution_id)
        .bind(from)
        .bind(to)
        .fetch_one(&self.store.pool)
        .await?)
    }

    pub async fn annual_review(
        &self,
        institution_id: &str,
        year: i64,
    ) -> Result<Option<AnnualReviewRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT institution_id, year, result, remarks, reviewed_by, reviewed_at FROM annual_reviews \
             WHERE institution_id = $1 AND year = $2",
        )
        .bind(institution_id)
        .bind(year)
        .fetch_optional(&self.store.pool)
        .await?)
    }
}

impl AnnualReviews<&mut WriteTx> {
    pub async fn insert_annual_review(&mut self, row: &AnnualReviewRow) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO annual_reviews (institution_id, year, result, remarks, reviewed_by, reviewed_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(row.institution_id.clone())
        .bind(row.year)
        .bind(row.result.clone())
        .bind(row.remarks.clone())
        .bind(row.reviewed_by.clone())
        .bind(row.reviewed_at)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }
}

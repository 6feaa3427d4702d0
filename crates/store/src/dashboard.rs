//! 监管看板 the dashboards' rollups: money per county and China day, institutions per county, list status and
//! mode. A region's figures are the sum over the counties under its code's prefix.

use crate::{Reader, StoreError, WriteTx};

/// Money figures of a region, over a period or a day.
#[derive(Clone, Debug, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct MoneyRollup {
    pub key: String,
    pub orders_paid: i64,
    pub collected_fen: i64,
    pub released_fen: i64,
    pub refunded_fen: i64,
}

/// `region_code >= lo AND region_code < hi` covers every code starting with `prefix` (the index is used).
fn bounds(prefix: &str) -> (String, String) {
    (prefix.to_owned(), format!("{prefix}~"))
}

const SUMS: &str = "CAST(COALESCE(SUM(orders_paid), 0) AS BIGINT) AS orders_paid, \
     CAST(COALESCE(SUM(collected_fen), 0) AS BIGINT) AS collected_fen, \
     CAST(COALESCE(SUM(released_fen), 0) AS BIGINT) AS released_fen, \
     CAST(COALESCE(SUM(refunded_fen), 0) AS BIGINT) AS refunded_fen";

impl Reader<'_> {
    /// All-time money figures of the region under `prefix` (`key` empty).
    pub async fn money_total(&self, prefix: &str) -> Result<MoneyRollup, StoreError> {
        let (lo, hi) = bounds(prefix);
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT '' AS key, {SUMS} FROM money_rollups WHERE region_code >= $1 AND region_code < $2"
        )))
        .bind(lo)
        .bind(hi)
        .fetch_one(&self.store.pool)
        .await?)
    }

    /// Figures per China day (`key`: `YYYY-MM-DD`) from `from_day` on, oldest first.
    pub async fn money_by_day(
        &self,
        prefix: &str,
        from_day: &str,
    ) -> Result<Vec<MoneyRollup>, StoreError> {
        let (lo, hi) = bounds(prefix);
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT day AS key, {SUMS} FROM money_rollups WHERE region_code >= $1 AND region_code < $2 \
             AND day >= $3 GROUP BY day ORDER BY day"
        )))
        .bind(lo)
        .bind(hi)
        .bind(from_day)
        .fetch_all(&self.store.pool)
        .await?)
    }

    /// All-time figures per sub-region (`key`: the first `child_len` digits of the code).
    pub async fn money_by_child(
        &self,
        prefix: &str,
        child_len: i64,
    ) -> Result<Vec<MoneyRollup>, StoreError> {
        let (lo, hi) = bounds(prefix);
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT substr(region_code, 1, CAST($3 AS INTEGER)) AS key, {SUMS} FROM money_rollups \
             WHERE region_code >= $1 AND region_code < $2 GROUP BY substr(region_code, 1, CAST($3 AS INTEGER)) ORDER BY key"
        )))
        .bind(lo)
        .bind(hi)
        .bind(child_len)
        .fetch_all(&self.store.pool)
        .await?)
    }

    /// Institutions under `prefix` by list status and mode.
    pub async fn institution_counts(
        &self,
        prefix: &str,
    ) -> Result<Vec<(String, String, i64)>, StoreError> {
        let (lo, hi) = bounds(prefix);
        Ok(sqlx::query_as(
            "SELECT list_status, mode, CAST(SUM(n) AS BIGINT) FROM institution_rollups \
             WHERE region_code >= $1 AND region_code < $2 GROUP BY list_status, mode ORDER BY list_status, mode",
        )
        .bind(lo)
        .bind(hi)
        .fetch_all(&self.store.pool)
        .await?)
    }

    /// Warnings still being handled under `prefix`, by level.
    pub async fn live_warning_counts(
        &self,
        prefix: &str,
    ) -> Result<Vec<(String, i64)>, StoreError> {
        let (lo, hi) = bounds(prefix);
        Ok(sqlx::query_as(
            "SELECT level, COUNT(*) FROM risk_warnings WHERE region_code >= $1 AND region_code < $2 \
             AND status IN ('open', 'answered', 'escalated') GROUP BY level ORDER BY level",
        )
        .bind(lo)
        .bind(hi)
        .fetch_all(&self.store.pool)
        .await?)
    }

    /// Institutions under `prefix` with a supervised account the bank confirmed, and the newest reconciliation
    /// among them (unix ms).
    pub async fn supervised_coverage(
        &self,
        prefix: &str,
    ) -> Result<(i64, Option<i64>), StoreError> {
        let (lo, hi) = bounds(prefix);
        Ok(sqlx::query_as(
            "SELECT COUNT(DISTINCT s.institution_id), MAX(s.reconciled_at) FROM supervised_accounts s \
             JOIN institutions i ON i.id = s.institution_id \
             WHERE s.status = 'confirmed' AND i.region_code >= $1 AND i.region_code < $2",
        )
        .bind(lo)
        .bind(hi)
        .fetch_one(&self.store.pool)
        .await?)
    }
}

impl WriteTx {
    /// Adds to a county's figures of a China day (inside the event's transaction).
    pub async fn add_money_rollup(
        &mut self,
        region_code: &str,
        day: &str,
        delta: &MoneyRollup,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO money_rollups (region_code, day, orders_paid, collected_fen, released_fen, refunded_fen) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (region_code, day) DO UPDATE SET \
             orders_paid = money_rollups.orders_paid + excluded.orders_paid, \
             collected_fen = money_rollups.collected_fen + excluded.collected_fen, \
             released_fen = money_rollups.released_fen + excluded.released_fen, \
             refunded_fen = money_rollups.refunded_fen + excluded.refunded_fen",
        )
        .bind(region_code)
        .bind(day)
        .bind(delta.orders_paid)
        .bind(delta.collected_fen)
        .bind(delta.released_fen)
        .bind(delta.refunded_fen)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }
}

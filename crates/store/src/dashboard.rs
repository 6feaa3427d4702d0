//! 监管看板 the dashboards' rollups: money per county and China day, institutions per county, list status and
//! mode. A region's figures are the sum over the counties under its code's prefix.

use crate::{Reader, StoreError, WriteTx};
use std::sync::atomic::{AtomicI64, Ordering};

crate::repository!(
    /// 驾驶舱 the dashboard rollups.
    Dashboard,
    dashboard
);

/// Money figures of a region, over a period or a day.
#[derive(Clone, Debug, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct MoneyRollup {
    pub key: String,
    pub orders_paid: i64,
    pub collected_fen: i64,
    pub released_fen: i64,
    pub refunded_fen: i64,
}

/// Shards of every region's row of a day: a read sums them.
pub const SHARDS: i64 = 16;

/// The region codes a county's figures add to, with their levels (0 nation … 3 county): a prefecture-level
/// city without counties is its own prefecture, so the same code never counts twice.
pub fn levels_of(code: &str) -> Vec<(String, i64)> {
    let level = |c: &str| match c {
        "000000" => 0,
        c if c.get(2..) == Some("0000") => 1,
        c if c.get(4..) == Some("00") => 2,
        _ => 3,
    };
    let mut out: Vec<(String, i64)> = Vec::with_capacity(4);
    for c in [
        code.to_owned(),
        format!("{}00", code.get(..4).unwrap_or_default()),
        format!("{}0000", code.get(..2).unwrap_or_default()),
        "000000".to_owned(),
    ] {
        if !out.iter().any(|(seen, _)| *seen == c) {
            let l = level(&c);
            out.push((c, l));
        }
    }
    out
}

const SUMS: &str = "CAST(COALESCE(SUM(orders_paid), 0) AS BIGINT) AS orders_paid, \
     CAST(COALESCE(SUM(collected_fen), 0) AS BIGINT) AS collected_fen, \
     CAST(COALESCE(SUM(released_fen), 0) AS BIGINT) AS released_fen, \
     CAST(COALESCE(SUM(refunded_fen), 0) AS BIGINT) AS refunded_fen";

/// `region_code >= lo AND region_code < hi` covers every code starting with `prefix` (the index is used).
fn bounds(prefix: &str) -> (String, String) {
    (prefix.to_owned(), format!("{prefix}~"))
}

impl Dashboard<&Reader<'_>> {
    /// All-time money figures of a region (`key` empty).
    pub async fn money_total(&self, region_code: &str) -> Result<MoneyRollup, StoreError> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT '' AS key, {SUMS} FROM money_rollups WHERE region_code = $1"
        )))
        .bind(region_code)
        .fetch_one(&self.store.pool)
        .await?)
    }

    /// A region's figures per China day (`key`: `YYYY-MM-DD`) from `from_day` on, oldest first.
    pub async fn money_by_day(
        &self,
        region_code: &str,
        from_day: &str,
    ) -> Result<Vec<MoneyRollup>, StoreError> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT day AS key, {SUMS} FROM money_rollups WHERE region_code = $1 AND day >= $2 \
             GROUP BY day ORDER BY day"
        )))
        .bind(region_code)
        .bind(from_day)
        .fetch_all(&self.store.pool)
        .await?)
    }

    /// All-time figures of each region of `child_level` under `prefix` (`key`: its code).
    pub async fn money_by_child(
        &self,
        prefix: &str,
        child_level: i64,
    ) -> Result<Vec<MoneyRollup>, StoreError> {
        let (lo, hi) = bounds(prefix);
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT region_code AS key, {SUMS} FROM money_rollups \
             WHERE level = $1 AND region_code >= $2 AND region_code < $3 GROUP BY region_code ORDER BY region_code"
        )))
        .bind(child_level)
        .bind(lo)
        .bind(hi)
        .fetch_all(&self.store.pool)
        .await?)
    }

    /// A region's institutions by list status and mode.
    pub async fn institution_counts(
        &self,
        region_code: &str,
    ) -> Result<Vec<(String, String, i64)>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT list_status, mode, n FROM institution_rollups WHERE region_code = $1 \
             ORDER BY list_status, mode",
        )
        .bind(region_code)
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

    /// Complaints about the region's institutions not yet closed: (waiting for the institution, of which past
    /// its deadline, answered and waiting for the parent, with the regulator, of which past its deadline).
    pub async fn open_complaint_counts(
        &self,
        prefix: &str,
        now: i64,
    ) -> Result<(i64, i64, i64, i64, i64), StoreError> {
        let (lo, hi) = bounds(prefix);
        Ok(sqlx::query_as(
            "SELECT \
             CAST(COALESCE(SUM(CASE WHEN c.status = 'with_institution' THEN 1 ELSE 0 END), 0) AS BIGINT), \
             CAST(COALESCE(SUM(CASE WHEN c.status = 'with_institution' AND c.answer_by < $3 THEN 1 ELSE 0 END), 0) AS BIGINT), \
             CAST(COALESCE(SUM(CASE WHEN c.status = 'answered' THEN 1 ELSE 0 END), 0) AS BIGINT), \
             CAST(COALESCE(SUM(CASE WHEN c.status = 'escalated' THEN 1 ELSE 0 END), 0) AS BIGINT), \
             CAST(COALESCE(SUM(CASE WHEN c.status = 'escalated' AND c.ruling_by < $3 THEN 1 ELSE 0 END), 0) AS BIGINT) \
             FROM complaints c JOIN institutions i ON i.id = c.institution_id \
             WHERE c.status IN ('with_institution', 'answered', 'escalated') \
             AND i.region_code >= $1 AND i.region_code < $2",
        )
        .bind(lo)
        .bind(hi)
        .bind(now)
        .fetch_one(&self.store.pool)
        .await?)
    }

    /// A region's supervised accounts the banks confirmed.
    pub async fn confirmed_accounts(&self, region_code: &str) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT CAST(COALESCE(SUM(confirmed), 0) AS BIGINT) FROM account_rollups WHERE region_code = $1",
        )
        .bind(region_code)
        .fetch_one(&self.store.pool)
        .await?)
    }
}

impl Dashboard<&mut WriteTx> {
    /// Adds to a county's figures of a China day and to every region above it, in this transaction. The rows
    /// are written at commit ([`WriteTx::commit`]), just before the evidence: held for the shortest time, taken
    /// in key order (two transactions never wait for each other's rows in opposite orders), and all in one
    /// shard chosen per transaction, so concurrent payments — even of one institution — seldom queue on a row.
    pub fn add_money_rollup(&mut self, county_code: &str, day: &str, delta: &MoneyRollup) {
        for (code, level) in levels_of(county_code) {
            self.pending_rollups
                .push((code, day.to_owned(), level, delta.clone()));
        }
    }

    /// Writes the transaction's rollups (see [`Dashboard::add_money_rollup`]): the rows of one region and day
    /// added together, then one multi-row upsert in key order — one round trip however many levels and
    /// institutions the transaction touched.
    pub(crate) async fn write_rollups(&mut self) -> Result<(), StoreError> {
        static NEXT_SHARD: AtomicI64 = AtomicI64::new(0);
        let pending = std::mem::take(&mut self.pending_rollups);
        if pending.is_empty() {
            return Ok(());
        }
        let mut rows: std::collections::BTreeMap<(String, String), (i64, MoneyRollup)> =
            std::collections::BTreeMap::new();
        for (code, day, level, delta) in pending {
            let (_, sum) = rows
                .entry((code, day))
                .or_insert((level, MoneyRollup::default()));
            let add = |a: i64, b: i64| {
                a.checked_add(b)
                    .ok_or_else(|| StoreError::Constraint("a money figure overflows".into()))
            };
            sum.orders_paid = add(sum.orders_paid, delta.orders_paid)?;
            sum.collected_fen = add(sum.collected_fen, delta.collected_fen)?;
            sum.released_fen = add(sum.released_fen, delta.released_fen)?;
            sum.refunded_fen = add(sum.refunded_fen, delta.refunded_fen)?;
        }
        let shard = NEXT_SHARD
            .fetch_add(1, Ordering::Relaxed)
            .rem_euclid(SHARDS);
        let sql = format!(
            "INSERT INTO money_rollups (region_code, level, day, shard, orders_paid, collected_fen, \
             released_fen, refunded_fen) VALUES {} \
             ON CONFLICT (region_code, day, shard) DO UPDATE SET \
             orders_paid = money_rollups.orders_paid + excluded.orders_paid, \
             collected_fen = money_rollups.collected_fen + excluded.collected_fen, \
             released_fen = money_rollups.released_fen + excluded.released_fen, \
             refunded_fen = money_rollups.refunded_fen + excluded.refunded_fen",
            self.backend.values_rows(rows.len(), 8)
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for ((code, day), (level, delta)) in rows {
            query = query
                .bind(code)
                .bind(level)
                .bind(day)
                .bind(shard)
                .bind(delta.orders_paid)
                .bind(delta.collected_fen)
                .bind(delta.released_fen)
                .bind(delta.refunded_fen);
        }
        query.execute(&mut *self.tx).await?;
        Ok(())
    }

    /// Rebuilds both rollups from the institutions, paid orders and executed instructions (after a bulk load,
    /// or on a database that held data before the rollups existed).
    pub async fn rebuild_dashboard_rollups(&mut self) -> Result<(), StoreError> {
        let day = |col: &str| match self.backend {
            crate::Backend::Sqlite => format!("date({col} / 1000 + 8 * 3600, 'unixepoch')"),
            crate::Backend::Postgres => format!(
                "to_char(to_timestamp({col} / 1000.0) AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD')"
            ),
        };
        // Each row once per level: the code itself, its prefecture and province when they differ, the nation.
        let expand = |inner: &str, cols: &str| {
            format!(
                "SELECT region_code AS code, {cols} FROM ({inner}) AS x \
                 UNION ALL SELECT substr(region_code, 1, 4) || '00', {cols} FROM ({inner}) AS x \
                   WHERE substr(region_code, 1, 4) || '00' <> region_code \
                 UNION ALL SELECT substr(region_code, 1, 2) || '0000', {cols} FROM ({inner}) AS x \
                   WHERE substr(region_code, 1, 2) || '0000' <> substr(region_code, 1, 4) || '00' \
                 UNION ALL SELECT '000000', {cols} FROM ({inner}) AS x"
            )
        };
        let level = "CASE WHEN code = '000000' THEN 0 WHEN substr(code, 3) = '0000' THEN 1 \
                     WHEN substr(code, 5) = '00' THEN 2 ELSE 3 END";
        // Each source is first summed per county into a temporary table (a few hundred thousand rows at most),
        // then spread to the levels above: one pass over the orders, not four.
        let institutions_by_county = "SELECT region_code, list_status, mode, COUNT(*) AS n FROM institutions \
             GROUP BY region_code, list_status, mode";
        let money_by_county = format!(
            "SELECT region_code, day, CAST(SUM(orders_paid) AS BIGINT) AS orders_paid, \
                   CAST(SUM(collected_fen) AS BIGINT) AS collected_fen, \
                   CAST(SUM(released_fen) AS BIGINT) AS released_fen, \
                   CAST(SUM(refunded_fen) AS BIGINT) AS refunded_fen FROM ( \
                 SELECT i.region_code, {} AS day, 1 AS orders_paid, o.amount_fen AS collected_fen, \
                   0 AS released_fen, 0 AS refunded_fen \
                 FROM orders o JOIN institutions i ON i.id = o.institution_id WHERE o.paid_at IS NOT NULL \
                 UNION ALL SELECT i.region_code, {}, 0, 0, \
                   CASE WHEN b.kind = 'release' THEN b.amount_fen ELSE 0 END, \
                   CASE WHEN b.kind = 'refund' THEN b.amount_fen ELSE 0 END \
                 FROM bank_instructions b JOIN orders o ON o.id = b.order_id \
                   JOIN institutions i ON i.id = o.institution_id WHERE b.status = 'executed') AS events \
                 GROUP BY region_code, day",
            day("o.paid_at"),
            day("b.finished_at")
        );
        let institutions = expand("SELECT * FROM rollup_institutions", "list_status, mode, n");
        let money = expand(
            "SELECT * FROM rollup_money",
            "day, orders_paid, collected_fen, released_fen, refunded_fen",
        );
        let accounts = expand("SELECT * FROM rollup_accounts", "n");
        for sql in [
            format!("CREATE TEMP TABLE rollup_institutions AS {institutions_by_county}"),
            format!("CREATE TEMP TABLE rollup_money AS {money_by_county}"),
            "CREATE TEMP TABLE rollup_accounts AS SELECT i.region_code, COUNT(*) AS n FROM supervised_accounts s \
             JOIN institutions i ON i.id = s.institution_id WHERE s.status = 'confirmed' GROUP BY i.region_code"
                .to_owned(),
            "DELETE FROM account_rollups".to_owned(),
            "DELETE FROM institution_rollups".to_owned(),
            "DELETE FROM money_rollups".to_owned(),
            format!(
                "INSERT INTO institution_rollups (region_code, level, list_status, mode, n) \
                 SELECT code, {level}, list_status, mode, CAST(SUM(n) AS BIGINT) FROM ({institutions}) AS e \
                 GROUP BY code, list_status, mode"
            ),
            format!(
                "INSERT INTO money_rollups (region_code, level, day, shard, orders_paid, collected_fen, \
                 released_fen, refunded_fen) \
                 SELECT code, {level}, day, 0, CAST(SUM(orders_paid) AS BIGINT), CAST(SUM(collected_fen) AS BIGINT), \
                 CAST(SUM(released_fen) AS BIGINT), CAST(SUM(refunded_fen) AS BIGINT) FROM ({money}) AS e \
                 GROUP BY code, day"
            ),
            format!(
                "INSERT INTO account_rollups (region_code, level, confirmed) \
                 SELECT code, {level}, CAST(SUM(n) AS BIGINT) FROM ({accounts}) AS e GROUP BY code"
            ),
            "DROP TABLE rollup_accounts".to_owned(),
            "DROP TABLE rollup_institutions".to_owned(),
            "DROP TABLE rollup_money".to_owned(),
        ] {
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .execute(&mut *self.tx)
                .await?;
        }
        Ok(())
    }

    /// Whether data exists that the rollups do not count yet (they are empty but institutions or paid orders
    /// are not).
    pub async fn dashboard_rollups_missing(&mut self) -> Result<bool, StoreError> {
        let (missing,): (i64,) = sqlx::query_as(
            "SELECT CASE WHEN (NOT EXISTS (SELECT 1 FROM institution_rollups) \
                 AND EXISTS (SELECT 1 FROM institutions)) \
              OR (NOT EXISTS (SELECT 1 FROM money_rollups) AND EXISTS (SELECT 1 FROM orders WHERE paid_at IS NOT NULL)) \
              OR (NOT EXISTS (SELECT 1 FROM account_rollups) \
                 AND EXISTS (SELECT 1 FROM supervised_accounts WHERE status = 'confirmed')) \
              THEN 1 ELSE 0 END",
        )
        .fetch_one(&mut *self.tx)
        .await?;
        Ok(missing == 1)
    }
}

#[cfg(test)]
mod tests {
    use super::levels_of;

    #[test]
    fn a_county_adds_to_four_levels_and_a_city_without_counties_to_three() {
        let codes = |c: &str| {
            levels_of(c)
                .into_iter()
                .map(|(c, l)| format!("{c}:{l}"))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            codes("110108"),
            ["110108:3", "110100:2", "110000:1", "000000:0"]
        );
        assert_eq!(codes("441900"), ["441900:2", "440000:1", "000000:0"]);
    }
}

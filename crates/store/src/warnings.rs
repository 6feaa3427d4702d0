//! 风险预警 the risk model's versions, the warnings it raised with their rectification workflow, the signals
//! the periodic sweep reads, and banks' own scores.

use crate::insert::{AnyQuery, InsertRow};
use crate::{Reader, StoreError, WriteTx};
use sqlx::AssertSqlSafe;

crate::repository!(
    /// 预警 risk warnings and risk models.
    Warnings,
    warnings
);

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct RiskModelRow {
    pub version: i64,
    pub region_code: String,
    pub model_json: String,
    pub reason: String,
    pub set_by: String,
    pub set_at: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct WarningRow {
    pub id: String,
    pub institution_id: String,
    pub region_code: String,
    pub indicator: String,
    pub level: String,
    pub model_version: i64,
    pub inputs_json: String,
    #[sqlx(try_from = "String")]
    pub status: domain::WarningStatus,
    pub raised_at: i64,
    pub rectify_by: i64,
    pub answer: Option<String>,
    pub answered_at: Option<i64>,
    pub decided_by: Option<String>,
    pub decided_at: Option<i64>,
    pub decision_reason: Option<String>,
    pub published_at: Option<i64>,
}

const WARNING_COLUMNS: &str = "id, institution_id, region_code, indicator, level, model_version, inputs_json, \
     status, raised_at, rectify_by, answer, answered_at, decided_by, decided_at, decision_reason, published_at";

impl InsertRow for WarningRow {
    const TABLE: &'static str = "risk_warnings";
    const COLUMNS: &'static str = WARNING_COLUMNS;
    fn bind<'q>(&self, q: AnyQuery<'q>) -> AnyQuery<'q> {
        q.bind(self.id.clone())
            .bind(self.institution_id.clone())
            .bind(self.region_code.clone())
            .bind(self.indicator.clone())
            .bind(self.level.clone())
            .bind(self.model_version)
            .bind(self.inputs_json.clone())
            .bind(self.status.as_str())
            .bind(self.raised_at)
            .bind(self.rectify_by)
            .bind(self.answer.clone())
            .bind(self.answered_at)
            .bind(self.decided_by.clone())
            .bind(self.decided_at)
            .bind(self.decision_reason.clone())
            .bind(self.published_at)
    }
}

impl InsertRow for RiskModelRow {
    const TABLE: &'static str = "risk_models";
    const COLUMNS: &'static str = "version, region_code, model_json, reason, set_by, set_at";
    fn bind<'q>(&self, q: AnyQuery<'q>) -> AnyQuery<'q> {
        q.bind(self.version)
            .bind(self.region_code.clone())
            .bind(self.model_json.clone())
            .bind(self.reason.clone())
            .bind(self.set_by.clone())
            .bind(self.set_at)
    }
}

/// Per institution, what the periodic sweep measures (counts and sums over windows ending now).
#[derive(Clone, Debug, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct SweepSignals {
    pub institution_id: String,
    pub region_code: String,
    /// Fen paid in the last 7 days, and in the 28 days before.
    pub sales_recent_fen: i64,
    pub sales_before_fen: i64,
    pub refunds_recent: i64,
    pub complaints_recent: i64,
    /// Escrow the institution's orders still hold, and when a lesson was last confirmed (or the first payment).
    pub escrow_fen: i64,
    pub last_activity_at: Option<i64>,
    /// The latest approved filing (JSON), whose licence dates the sweep reads.
    pub approved_filing: Option<String>,
    pub staff_on_register: i64,
    pub staff_left_recent: i64,
}

impl Warnings<&Reader<'_>> {
    /// The newest model version a region (national `000000` or a province) has set.
    pub async fn latest_risk_model(
        &self,
        region_code: &str,
    ) -> Result<Option<RiskModelRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT version, region_code, model_json, reason, set_by, set_at FROM risk_models \
             WHERE region_code = $1 ORDER BY version DESC LIMIT 1",
        )
        .bind(region_code)
        .fetch_optional(&self.store.pool)
        .await?)
    }

    pub async fn risk_model_versions(&self, limit: i64) -> Result<Vec<RiskModelRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT version, region_code, model_json, reason, set_by, set_at FROM risk_models \
             ORDER BY version DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.store.pool)
        .await?)
    }

    /// Warnings of institutions in a region's subtree (`prefix` of its code) or of one institution, raised
    /// after `since`, newest first.
    pub async fn list(
        &self,
        region_prefix: Option<&str>,
        institution_id: Option<&str>,
        since: i64,
        limit: i64,
    ) -> Result<Vec<WarningRow>, StoreError> {
        Ok(sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {WARNING_COLUMNS} FROM risk_warnings WHERE ($1 IS NULL OR region_code LIKE $1) \
             AND ($2 IS NULL OR institution_id = $2) AND raised_at > $3 ORDER BY raised_at DESC, id DESC LIMIT $4"
        )))
        .bind(region_prefix.map(|p| format!("{p}%")))
        .bind(institution_id.map(str::to_owned))
        .bind(since)
        .bind(limit)
        .fetch_all(&self.store.pool)
        .await?)
    }

    /// Published warnings (公开提示), newest first.
    pub async fn published_warnings(&self, limit: i64) -> Result<Vec<WarningRow>, StoreError> {
        Ok(sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {WARNING_COLUMNS} FROM risk_warnings WHERE status = 'published' \
             ORDER BY published_at DESC, id DESC LIMIT $1"
        )))
        .bind(limit)
        .fetch_all(&self.store.pool)
        .await?)
    }

    /// Open or escalated warnings whose rectification deadline has passed.
    pub async fn overdue_warnings(
        &self,
        now: i64,
        limit: i64,
    ) -> Result<Vec<WarningRow>, StoreError> {
        Ok(sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {WARNING_COLUMNS} FROM risk_warnings WHERE status IN ('open', 'escalated') \
             AND rectify_by <= $1 ORDER BY rectify_by, id LIMIT $2"
        )))
        .bind(now)
        .bind(limit)
        .fetch_all(&self.store.pool)
        .await?)
    }

    /// Warnings raised in `[from, to)` counted by the institution's region and level (the daily digest).
    pub async fn warning_counts(
        &self,
        from: i64,
        to: i64,
    ) -> Result<Vec<(String, String, i64)>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT region_code, level, COUNT(*) FROM risk_warnings WHERE raised_at >= $1 AND raised_at < $2 \
             GROUP BY region_code, level ORDER BY region_code, level",
        )
        .bind(from)
        .bind(to)
        .fetch_all(&self.store.pool)
        .await?)
    }

    /// Every regulator account with its region.
    pub async fn regulator_regions(&self) -> Result<Vec<(String, String)>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT id, region_code FROM accounts WHERE kind = 'regulator' AND region_code IS NOT NULL ORDER BY id",
        )
        .fetch_all(&self.store.pool)
        .await?)
    }

    /// The banks' own scores for an institution.
    pub async fn bank_risk_scores(
        &self,
        institution_id: &str,
    ) -> Result<Vec<(String, i64, String, i64)>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT bank_id, score, note, reported_at FROM bank_risk_scores WHERE institution_id = $1 \
             ORDER BY bank_id",
        )
        .bind(institution_id)
        .fetch_all(&self.store.pool)
        .await?)
    }

    /// What the sweep measures for every institution not on the black list, as of `now`.
    pub async fn sweep_signals(&self, now: i64) -> Result<Vec<SweepSignals>, StoreError> {
        const DAY: i64 = 86_400_000;
        Ok(sqlx::query_as(
            "SELECT i.id AS institution_id, i.region_code, \
             CAST(COALESCE((SELECT SUM(o.amount_fen) FROM orders o WHERE o.institution_id = i.id AND o.paid_at > $2), 0) AS BIGINT) AS sales_recent_fen, \
             CAST(COALESCE((SELECT SUM(o.amount_fen) FROM orders o WHERE o.institution_id = i.id AND o.paid_at > $3 AND o.paid_at <= $2), 0) AS BIGINT) AS sales_before_fen, \
             (SELECT COUNT(*) FROM refunds r WHERE r.institution_id = i.id AND r.created_at > $2) AS refunds_recent, \
             (SELECT COUNT(*) FROM complaints c WHERE c.institution_id = i.id AND c.created_at > $4) AS complaints_recent, \
             CAST(COALESCE((SELECT SUM(a.credits_posted - a.debits_posted) FROM ledger_accounts a \
                JOIN supervised_accounts s ON s.id = a.owner WHERE s.institution_id = i.id AND a.kind = 'order_escrow'), 0) AS BIGINT) AS escrow_fen, \
             COALESCE((SELECT MAX(l.decided_at) FROM lessons l JOIN orders o ON o.id = l.order_id \
                WHERE o.institution_id = i.id AND l.status IN ('confirmed', 'auto_confirmed')), \
                (SELECT MIN(o.paid_at) FROM orders o WHERE o.institution_id = i.id AND o.paid_at IS NOT NULL)) AS last_activity_at, \
             (SELECT f.data FROM filings f WHERE f.institution_id = i.id AND f.status = 'approved' \
                ORDER BY f.version DESC LIMIT 1) AS approved_filing, \
             (SELECT COUNT(*) FROM staff_members s WHERE s.institution_id = i.id AND s.left_at IS NULL) AS staff_on_register, \
             (SELECT COUNT(*) FROM staff_members s WHERE s.institution_id = i.id AND s.left_at > $5) AS staff_left_recent \
             FROM institutions i WHERE i.list_status <> 'black' ORDER BY i.id",
        )
        .bind(now)
        .bind(now - 7 * DAY)
        .bind(now - 35 * DAY)
        .bind(now - 30 * DAY)
        .bind(now - 90 * DAY)
        .fetch_all(&self.store.pool)
        .await?)
    }
}

impl Warnings<&mut WriteTx> {
    /// Stores a new model version: one more than the greatest so far.
    pub async fn insert_risk_model(
        &mut self,
        region_code: &str,
        model_json: &str,
        reason: &str,
        set_by: &str,
        at: i64,
    ) -> Result<i64, StoreError> {
        let version = self.next_version("risk_models").await?;
        let row = RiskModelRow {
            version,
            region_code: region_code.to_owned(),
            model_json: model_json.to_owned(),
            reason: reason.to_owned(),
            set_by: set_by.to_owned(),
            set_at: at,
        };
        self.insert(std::slice::from_ref(&row)).await?;
        Ok(version)
    }

    pub async fn insert_warning(&mut self, row: &WarningRow) -> Result<(), StoreError> {
        self.insert(std::slice::from_ref(row)).await
    }

    /// The highest level among the institution's warnings on an indicator still being handled.
    pub async fn live_warning_level(
        &mut self,
        institution_id: &str,
        indicator: &str,
    ) -> Result<Option<String>, StoreError> {
        let levels: Vec<String> = sqlx::query_scalar(
            "SELECT level FROM risk_warnings WHERE institution_id = $1 AND indicator = $2 \
             AND status IN ('open', 'answered', 'escalated')",
        )
        .bind(institution_id)
        .bind(indicator)
        .fetch_all(&mut *self.tx)
        .await?;
        let rank = |l: &str| match l {
            "red" => 3,
            "orange" => 2,
            _ => 1,
        };
        Ok(levels.into_iter().max_by_key(|l| rank(l)))
    }

    /// Moves a warning from one of `from` to `to`, recording who and why; 0 rows when it was not in `from`.
    pub async fn move_warning(
        &mut self,
        id: &str,
        event: domain::WarningEvent,
        by: &str,
        reason: &str,
        at: i64,
    ) -> Result<u64, StoreError> {
        let (to, allowed) = crate::states::transition::<domain::WarningStatus>(event);
        let sql = match event {
            domain::WarningEvent::Answer => format!(
                "UPDATE risk_warnings SET status = $2, answer = $4, answered_at = $5 \
                 WHERE id = $1 AND status IN ({allowed}) AND $3 = $3"
            ),
            domain::WarningEvent::Publish => format!(
                "UPDATE risk_warnings SET status = $2, published_at = $5 \
                 WHERE id = $1 AND status IN ({allowed}) AND $3 = $3 AND $4 = $4"
            ),
            _ => format!(
                "UPDATE risk_warnings SET status = $2, decided_by = $3, decision_reason = $4, decided_at = $5 \
                 WHERE id = $1 AND status IN ({allowed})"
            ),
        };
        Ok(sqlx::query(AssertSqlSafe(sql))
            .bind(id)
            .bind(to)
            .bind(by)
            .bind(reason)
            .bind(at)
            .execute(&mut *self.tx)
            .await?
            .rows_affected())
    }

    /// A bank's score for an institution, replacing its previous one.
    pub async fn upsert_bank_risk_score(
        &mut self,
        institution_id: &str,
        bank_id: &str,
        score: i64,
        note: &str,
        at: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO bank_risk_scores (institution_id, bank_id, score, note, reported_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (institution_id, bank_id) \
             DO UPDATE SET score = excluded.score, note = excluded.note, reported_at = excluded.reported_at",
        )
        .bind(institution_id)
        .bind(bank_id)
        .bind(score)
        .bind(note)
        .bind(at)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// The institution's outflows the platform did not instruct (bank time) since each of two instants: the
    /// day's and the week's. Its own releases and refunds are not withdrawals.
    pub async fn outflows_since(
        &mut self,
        institution_id: &str,
        day_start: i64,
        week_start: i64,
    ) -> Result<(i64, i64), StoreError> {
        Ok(sqlx::query_as(
            "SELECT CAST(COALESCE(SUM(CASE WHEN m.occurred_at >= $2 THEN m.amount_fen ELSE 0 END), 0) AS BIGINT), \
             CAST(COALESCE(SUM(m.amount_fen), 0) AS BIGINT) FROM bank_movements m \
             JOIN supervised_accounts s ON s.id = m.supervised_account_id \
             WHERE s.institution_id = $1 AND m.direction = 'out' AND m.matched <> 'matched' AND m.occurred_at >= $3",
        )
        .bind(institution_id)
        .bind(day_start)
        .bind(week_start)
        .fetch_one(&mut *self.tx)
        .await?)
    }
}

impl<S: crate::Connection> Warnings<S> {
    pub async fn warning(&mut self, id: &str) -> Result<Option<WarningRow>, StoreError> {
        Ok(sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {WARNING_COLUMNS} FROM risk_warnings WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(self.0.executor())
        .await?)
    }
}

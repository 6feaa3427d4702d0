//! 抽检 spot checks, 行政处罚 penalties and 信用 credit: the campaigns with their drawn institutions and
//! findings, penalty decisions, the credit model's versions, published ratings, and the facts a rating reads.

use crate::insert::{AnyQuery, InsertRow};
use crate::{Reader, StoreError, WriteTx};
use sqlx::AssertSqlSafe;

crate::repository!(
    /// 检查 spot checks, penalties, credit models and ratings.
    Inspections,
    inspection
);

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct SpotCheckCampaignRow {
    pub id: String,
    pub region_code: String,
    pub name: String,
    pub share_percent: i64,
    /// The stratifying dimensions, comma-separated: `mode`, `category`, `risk`.
    pub strata: String,
    pub seed: i64,
    /// How many institutions the sample was drawn from.
    pub population: i64,
    pub created_by: String,
    pub created_at: i64,
}

const CAMPAIGN_COLUMNS: &str =
    "id, region_code, name, share_percent, strata, seed, population, created_by, created_at";

impl InsertRow for SpotCheckCampaignRow {
    const TABLE: &'static str = "spot_check_campaigns";
    const COLUMNS: &'static str = CAMPAIGN_COLUMNS;
    fn bind<'q>(&self, q: AnyQuery<'q>) -> AnyQuery<'q> {
        q.bind(self.id.clone())
            .bind(self.region_code.clone())
            .bind(self.name.clone())
            .bind(self.share_percent)
            .bind(self.strata.clone())
            .bind(self.seed)
            .bind(self.population)
            .bind(self.created_by.clone())
            .bind(self.created_at)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct SpotCheckRow {
    pub id: String,
    pub campaign_id: String,
    pub institution_id: String,
    pub stratum: String,
    pub checker_id: String,
    #[sqlx(try_from = "String")]
    pub status: domain::SpotCheckStatus,
    /// Focus item → `{"ok": bool, "note": "…"}`, once recorded.
    pub findings_json: Option<String>,
    /// Focus items found wanting.
    pub finding_count: i64,
    pub recorded_by: Option<String>,
    pub recorded_at: Option<i64>,
}

const CHECK_COLUMNS: &str = "id, campaign_id, institution_id, stratum, checker_id, status, findings_json, \
     finding_count, recorded_by, recorded_at";

impl InsertRow for SpotCheckRow {
    const TABLE: &'static str = "spot_checks";
    const COLUMNS: &'static str = CHECK_COLUMNS;
    fn bind<'q>(&self, q: AnyQuery<'q>) -> AnyQuery<'q> {
        q.bind(self.id.clone())
            .bind(self.campaign_id.clone())
            .bind(self.institution_id.clone())
            .bind(self.stratum.clone())
            .bind(self.checker_id.clone())
            .bind(self.status.as_str())
            .bind(self.findings_json.clone())
            .bind(self.finding_count)
            .bind(self.recorded_by.clone())
            .bind(self.recorded_at)
    }
}

/// A drawn institution with its name, for campaign pages.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct SpotCheckListRow {
    #[sqlx(flatten)]
    pub check: SpotCheckRow,
    pub institution_name: String,
    pub campaign_name: String,
}

/// An institution that a campaign may draw, with what its strata read.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct SpotCheckCandidateRow {
    pub id: String,
    pub mode: String,
    pub categories: String,
    /// The highest level among its live warnings: 3 red, 2 orange, 1 yellow, 0 none.
    pub risk_rank: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct PenaltyRow {
    pub id: String,
    pub institution_id: String,
    pub kind: String,
    pub decision_no: String,
    /// `YYYY-MM-DD`.
    pub decided_on: String,
    pub amount_fen: Option<i64>,
    pub legal_basis: String,
    pub facts: String,
    /// Stop enrolling or operating: the last day in force (`YYYY-MM-DD`); none: until further decision.
    pub in_force_until: Option<String>,
    pub published: i64,
    pub region_code: String,
    pub decided_by: String,
    pub recorded_at: i64,
}

/// Penalties (of institution `$1`) that stop it selling on the day `$2`.
const SALES_STOP_WHERE: &str = "institution_id = $1 \
     AND kind IN ('stop_enrolling', 'stop_operating', 'licence_revocation') AND decided_on <= $2 \
     AND (in_force_until IS NULL OR in_force_until >= $2)";

/// What closes an institution's door besides its list: a run-off started, a penalty stopping its sales.
#[derive(Clone, Debug, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct DoorFacts {
    /// The run-off's reason, once one started (清退).
    pub run_off_reason: Option<String>,
    /// 1 when a penalty stops it selling today (read which with [`Inspections::sales_stop`]).
    pub sales_stopped: i64,
}

impl Inspections<&mut WriteTx> {
    /// [`DoorFacts`] of an institution on `today`, in one round trip: what a payment or an order is checked
    /// against, inside its transaction.
    pub async fn door_facts(
        &mut self,
        institution_id: &str,
        today: &str,
    ) -> Result<DoorFacts, StoreError> {
        Ok(sqlx::query_as(AssertSqlSafe(format!(
            "SELECT (SELECT reason FROM run_offs WHERE institution_id = $1) AS run_off_reason, \
             CASE WHEN EXISTS (SELECT 1 FROM penalties WHERE {SALES_STOP_WHERE}) THEN 1 ELSE 0 END \
             AS sales_stopped"
        )))
        .bind(institution_id)
        .bind(today)
        .fetch_one(&mut *self.tx)
        .await?)
    }
}

const PENALTY_COLUMNS: &str = "id, institution_id, kind, decision_no, decided_on, amount_fen, legal_basis, facts, \
     in_force_until, published, region_code, decided_by, recorded_at";

impl InsertRow for PenaltyRow {
    const TABLE: &'static str = "penalties";
    const COLUMNS: &'static str = PENALTY_COLUMNS;
    fn bind<'q>(&self, q: AnyQuery<'q>) -> AnyQuery<'q> {
        q.bind(self.id.clone())
            .bind(self.institution_id.clone())
            .bind(self.kind.clone())
            .bind(self.decision_no.clone())
            .bind(self.decided_on.clone())
            .bind(self.amount_fen)
            .bind(self.legal_basis.clone())
            .bind(self.facts.clone())
            .bind(self.in_force_until.clone())
            .bind(self.published)
            .bind(self.region_code.clone())
            .bind(self.decided_by.clone())
            .bind(self.recorded_at)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct CreditModelRow {
    pub version: i64,
    pub model_json: String,
    pub reason: String,
    pub set_by: String,
    pub set_at: i64,
}

impl InsertRow for CreditModelRow {
    const TABLE: &'static str = "credit_models";
    const COLUMNS: &'static str = "version, model_json, reason, set_by, set_at";
    fn bind<'q>(&self, q: AnyQuery<'q>) -> AnyQuery<'q> {
        q.bind(self.version)
            .bind(self.model_json.clone())
            .bind(self.reason.clone())
            .bind(self.set_by.clone())
            .bind(self.set_at)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct CreditRatingRow {
    pub institution_id: String,
    pub year: i64,
    pub score: i64,
    pub grade: String,
    pub breakdown_json: String,
    pub model_version: i64,
    pub published_by: String,
    pub published_at: i64,
}

const RATING_COLUMNS: &str =
    "institution_id, year, score, grade, breakdown_json, model_version, published_by, published_at";

impl InsertRow for CreditRatingRow {
    const TABLE: &'static str = "credit_ratings";
    const COLUMNS: &'static str = RATING_COLUMNS;
    fn bind<'q>(&self, q: AnyQuery<'q>) -> AnyQuery<'q> {
        q.bind(self.institution_id.clone())
            .bind(self.year)
            .bind(self.score)
            .bind(self.grade.clone())
            .bind(self.breakdown_json.clone())
            .bind(self.model_version)
            .bind(self.published_by.clone())
            .bind(self.published_at)
    }
}

/// A published rating with the institution it rates, for the export.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct PublishedRatingRow {
    #[sqlx(flatten)]
    pub rating: CreditRatingRow,
    pub credit_code: String,
    pub name: String,
    pub region_code: String,
}

/// What the credit model reads about one institution: counts over the last year (penalties: three years).
#[derive(Clone, Debug, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct CreditSignals {
    pub institution_id: String,
    pub confirmed_accounts: i64,
    pub lessons: i64,
    pub lessons_late_or_disputed: i64,
    pub approved_filing: Option<String>,
    pub filing_approved_at: Option<i64>,
    pub penalties_warning: i64,
    pub penalties_fine: i64,
    pub penalties_stop_enrolling: i64,
    pub penalties_stop_operating: i64,
    pub penalties_licence_revoked: i64,
    pub complaints_upheld: i64,
    pub complaints_mediated: i64,
    pub spot_check_findings: i64,
    pub spot_checks_passed: i64,
    pub warnings_yellow: i64,
    pub warnings_orange: i64,
    pub warnings_red: i64,
    pub public_warnings: i64,
}

/// `$1`: the institution id or region pattern of `{filter}`, `$2`: a year ago (ms), `$3`: three years ago
/// (`YYYY-MM-DD`).
const CREDIT_SIGNALS: &str = "SELECT i.id AS institution_id, \
     (SELECT COUNT(*) FROM supervised_accounts s WHERE s.institution_id = i.id AND s.status = 'confirmed') AS confirmed_accounts, \
     (SELECT COUNT(*) FROM lessons l JOIN orders o ON o.id = l.order_id WHERE o.institution_id = i.id AND l.created_at > $2) AS lessons, \
     (SELECT COUNT(*) FROM lessons l JOIN orders o ON o.id = l.order_id WHERE o.institution_id = i.id AND l.created_at > $2 \
        AND l.status IN ('auto_confirmed', 'disputed')) AS lessons_late_or_disputed, \
     (SELECT f.data FROM filings f WHERE f.institution_id = i.id AND f.status = 'approved' ORDER BY f.version DESC LIMIT 1) AS approved_filing, \
     (SELECT MAX(f.decided_at) FROM filings f WHERE f.institution_id = i.id AND f.status = 'approved') AS filing_approved_at, \
     (SELECT COUNT(*) FROM penalties p WHERE p.institution_id = i.id AND p.decided_on >= $3 AND p.kind IN ('warning', 'public_criticism')) AS penalties_warning, \
     (SELECT COUNT(*) FROM penalties p WHERE p.institution_id = i.id AND p.decided_on >= $3 AND p.kind IN ('fine', 'confiscation')) AS penalties_fine, \
     (SELECT COUNT(*) FROM penalties p WHERE p.institution_id = i.id AND p.decided_on >= $3 AND p.kind = 'stop_enrolling') AS penalties_stop_enrolling, \
     (SELECT COUNT(*) FROM penalties p WHERE p.institution_id = i.id AND p.decided_on >= $3 AND p.kind IN ('stop_operating', 'trade_ban')) AS penalties_stop_operating, \
     (SELECT COUNT(*) FROM penalties p WHERE p.institution_id = i.id AND p.decided_on >= $3 AND p.kind = 'licence_revocation') AS penalties_licence_revoked, \
     (SELECT COUNT(*) FROM complaints c WHERE c.institution_id = i.id AND c.status = 'resolved' AND c.outcome = 'penalised' AND c.closed_at > $2) AS complaints_upheld, \
     (SELECT COUNT(*) FROM complaints c WHERE c.institution_id = i.id AND c.status = 'resolved' AND c.outcome = 'mediated' AND c.closed_at > $2) AS complaints_mediated, \
     CAST(COALESCE((SELECT SUM(k.finding_count) FROM spot_checks k WHERE k.institution_id = i.id AND k.status = 'recorded' AND k.recorded_at > $2), 0) AS BIGINT) AS spot_check_findings, \
     (SELECT COUNT(*) FROM spot_checks k WHERE k.institution_id = i.id AND k.status = 'recorded' AND k.finding_count = 0 AND k.recorded_at > $2) AS spot_checks_passed, \
     (SELECT COUNT(*) FROM risk_warnings w WHERE w.institution_id = i.id AND w.raised_at > $2 AND w.level = 'yellow') AS warnings_yellow, \
     (SELECT COUNT(*) FROM risk_warnings w WHERE w.institution_id = i.id AND w.raised_at > $2 AND w.level = 'orange') AS warnings_orange, \
     (SELECT COUNT(*) FROM risk_warnings w WHERE w.institution_id = i.id AND w.raised_at > $2 AND w.level = 'red') AS warnings_red, \
     (SELECT COUNT(*) FROM risk_warnings w WHERE w.institution_id = i.id AND w.published_at > $2) AS public_warnings \
     FROM institutions i WHERE {filter} AND i.registry_state <> 'applying' ORDER BY i.id";

impl Inspections<&Reader<'_>> {
    /// The listed institutions of a region that are not on the black list, with their live warnings' level.
    pub async fn spot_check_population(
        &self,
        region_prefix: &str,
    ) -> Result<Vec<SpotCheckCandidateRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT i.id, i.mode, i.categories, \
             CAST(COALESCE((SELECT MAX(CASE w.level WHEN 'red' THEN 3 WHEN 'orange' THEN 2 ELSE 1 END) \
                FROM risk_warnings w WHERE w.institution_id = i.id \
                AND w.status IN ('open', 'answered', 'escalated', 'published')), 0) AS BIGINT) AS risk_rank \
             FROM institutions i WHERE i.region_code LIKE $1 AND i.registry_state = 'listed' \
             AND i.list_status <> 'black' ORDER BY i.id",
        )
        .bind(format!("{region_prefix}%"))
        .fetch_all(&self.store.pool)
        .await?)
    }

    /// A region's campaigns (and those of the regions under it), newest first.
    pub async fn spot_check_campaigns(
        &self,
        region_prefix: &str,
    ) -> Result<Vec<SpotCheckCampaignRow>, StoreError> {
        Ok(sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {CAMPAIGN_COLUMNS} FROM spot_check_campaigns WHERE region_code LIKE $1 \
             ORDER BY created_at DESC, id DESC LIMIT 200"
        )))
        .bind(format!("{region_prefix}%"))
        .fetch_all(&self.store.pool)
        .await?)
    }

    pub async fn spot_check_campaign(
        &self,
        id: &str,
    ) -> Result<Option<SpotCheckCampaignRow>, StoreError> {
        Ok(sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {CAMPAIGN_COLUMNS} FROM spot_check_campaigns WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.store.pool)
        .await?)
    }

    /// Spot checks with their institutions' and campaigns' names: of a campaign, or of an institution.
    pub async fn spot_checks(
        &self,
        of: SpotChecksOf<'_>,
    ) -> Result<Vec<SpotCheckListRow>, StoreError> {
        let (filter, value) = match of {
            SpotChecksOf::Campaign(id) => ("k.campaign_id = $1", id),
            SpotChecksOf::Institution(id) => ("k.institution_id = $1", id),
            SpotChecksOf::Check(id) => ("k.id = $1", id),
        };
        let columns = CHECK_COLUMNS
            .split(", ")
            .map(|c| format!("k.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        Ok(sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {columns}, i.name AS institution_name, c.name AS campaign_name FROM spot_checks k \
             JOIN institutions i ON i.id = k.institution_id JOIN spot_check_campaigns c ON c.id = k.campaign_id \
             WHERE {filter} ORDER BY c.created_at DESC, k.stratum, k.institution_id"
        )))
        .bind(value.to_owned())
        .fetch_all(&self.store.pool)
        .await?)
    }

    /// The evidence documents of a spot check.
    pub async fn spot_check_evidence(&self, id: &str) -> Result<Vec<String>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT document_id FROM spot_check_evidence WHERE spot_check_id = $1 ORDER BY document_id",
        )
        .bind(id)
        .fetch_all(&self.store.pool)
        .await?)
    }

    /// An institution's penalty decisions, newest first; `published_only` for the public.
    pub async fn penalties_of(
        &self,
        institution_id: &str,
        published_only: bool,
    ) -> Result<Vec<PenaltyRow>, StoreError> {
        Ok(sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {PENALTY_COLUMNS} FROM penalties WHERE institution_id = $1 AND published >= $2 \
             ORDER BY decided_on DESC, recorded_at DESC"
        )))
        .bind(institution_id)
        .bind(i64::from(published_only))
        .fetch_all(&self.store.pool)
        .await?)
    }

    pub async fn latest_credit_model(&self) -> Result<Option<CreditModelRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT version, model_json, reason, set_by, set_at FROM credit_models ORDER BY version DESC LIMIT 1",
        )
        .fetch_optional(&self.store.pool)
        .await?)
    }

    /// What the credit model reads: of one institution, or of every institution in a region.
    pub async fn credit_signals(
        &self,
        of: CreditOf<'_>,
        year_ago_ms: i64,
        three_years_ago: &str,
    ) -> Result<Vec<CreditSignals>, StoreError> {
        let (filter, value) = match of {
            CreditOf::Institution(id) => ("i.id = $1", id.to_owned()),
            CreditOf::Region(prefix) => ("i.region_code LIKE $1", format!("{prefix}%")),
        };
        Ok(
            sqlx::query_as(AssertSqlSafe(CREDIT_SIGNALS.replace("{filter}", filter)))
                .bind(value)
                .bind(year_ago_ms)
                .bind(three_years_ago.to_owned())
                .fetch_all(&self.store.pool)
                .await?,
        )
    }

    pub async fn credit_rating(
        &self,
        institution_id: &str,
        year: i64,
    ) -> Result<Option<CreditRatingRow>, StoreError> {
        Ok(sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {RATING_COLUMNS} FROM credit_ratings WHERE institution_id = $1 AND year = $2"
        )))
        .bind(institution_id)
        .bind(year)
        .fetch_optional(&self.store.pool)
        .await?)
    }

    /// The newest published rating of an institution.
    pub async fn latest_credit_rating(
        &self,
        institution_id: &str,
    ) -> Result<Option<CreditRatingRow>, StoreError> {
        Ok(sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {RATING_COLUMNS} FROM credit_ratings WHERE institution_id = $1 ORDER BY year DESC LIMIT 1"
        )))
        .bind(institution_id)
        .fetch_optional(&self.store.pool)
        .await?)
    }

    /// A year's published ratings in a region, by credit code.
    pub async fn published_ratings(
        &self,
        region_prefix: &str,
        year: i64,
    ) -> Result<Vec<PublishedRatingRow>, StoreError> {
        let columns = RATING_COLUMNS
            .split(", ")
            .map(|c| format!("r.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        Ok(sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {columns}, i.credit_code, i.name, i.region_code FROM credit_ratings r \
             JOIN institutions i ON i.id = r.institution_id WHERE r.year = $1 AND i.region_code LIKE $2 \
             ORDER BY i.credit_code"
        )))
        .bind(year)
        .bind(format!("{region_prefix}%"))
        .fetch_all(&self.store.pool)
        .await?)
    }
}

/// Whose credit facts to read.
#[derive(Clone, Copy, Debug)]
pub enum CreditOf<'a> {
    Institution(&'a str),
    /// A region prefix (`11`, `1101`, `110108`; empty for the nation).
    Region(&'a str),
}

/// Whose spot checks to list.
#[derive(Clone, Copy, Debug)]
pub enum SpotChecksOf<'a> {
    Campaign(&'a str),
    Institution(&'a str),
    Check(&'a str),
}

impl Inspections<&mut WriteTx> {
    pub async fn insert_spot_check_campaign(
        &mut self,
        campaign: &SpotCheckCampaignRow,
        checks: &[SpotCheckRow],
    ) -> Result<(), StoreError> {
        self.insert(std::slice::from_ref(campaign)).await?;
        self.insert(checks).await
    }

    /// Records a spot check's findings once; returns false when it was recorded already.
    pub async fn record_spot_check(
        &mut self,
        id: &str,
        findings_json: &str,
        finding_count: i64,
        recorded_by: &str,
        at: i64,
    ) -> Result<bool, StoreError> {
        let (to, from) =
            crate::states::transition::<domain::SpotCheckStatus>(domain::SpotCheckEvent::Record);
        let sql = format!(
            "UPDATE spot_checks SET status = '{to}', findings_json = $2, finding_count = $3, \
             recorded_by = $4, recorded_at = $5 WHERE id = $1 AND status IN ({from})"
        );
        let done = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .bind(findings_json)
            .bind(finding_count)
            .bind(recorded_by)
            .bind(at)
            .execute(&mut *self.tx)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn insert_spot_check_evidence(
        &mut self,
        spot_check_id: &str,
        document_id: &str,
    ) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO spot_check_evidence (spot_check_id, document_id) VALUES ($1, $2)")
            .bind(spot_check_id)
            .bind(document_id)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    pub async fn insert_penalty(&mut self, row: &PenaltyRow) -> Result<(), StoreError> {
        self.insert(std::slice::from_ref(row)).await
    }

    /// Stores a new credit model version: one more than the greatest so far.
    pub async fn insert_credit_model(
        &mut self,
        model_json: &str,
        reason: &str,
        set_by: &str,
        at: i64,
    ) -> Result<i64, StoreError> {
        let version = self.next_version("credit_models").await?;
        let row = CreditModelRow {
            version,
            model_json: model_json.to_owned(),
            reason: reason.to_owned(),
            set_by: set_by.to_owned(),
            set_at: at,
        };
        self.insert(std::slice::from_ref(&row)).await?;
        Ok(version)
    }

    pub async fn insert_credit_ratings(
        &mut self,
        rows: &[CreditRatingRow],
    ) -> Result<(), StoreError> {
        for chunk in rows.chunks(500) {
            self.insert(chunk).await?;
        }
        Ok(())
    }
}

impl<S: crate::Connection> Inspections<S> {
    /// The penalty that stops the institution selling on `today`, if any.
    pub async fn sales_stop(
        &mut self,
        institution_id: &str,
        today: &str,
    ) -> Result<Option<PenaltyRow>, StoreError> {
        Ok(sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {PENALTY_COLUMNS} FROM penalties WHERE {SALES_STOP_WHERE} ORDER BY decided_on DESC LIMIT 1"
        )))
        .bind(institution_id)
        .bind(today)
        .fetch_optional(self.0.executor())
        .await?)
    }
}

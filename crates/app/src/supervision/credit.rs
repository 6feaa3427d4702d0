//! 信用 credit (DOMAIN.md §5): each institution's score and grade from what the platform knows — its use of
//! the platform (fund supervision, lesson confirmations, filed information), penalties, complaints found true,
//! spot checks and risk warnings — with the breakdown that explains it. The national supervisor versions the
//! model; supervisors publish a year's ratings for their region, which the public institution page shows and
//! the national credit system takes as a CSV export (docs/credit-export.md).

use crate::supervision::Supervision;
use crate::{Actor, AppError, ErrorCode, evidence};
use domain::Action;
use domain::Timestamp;
use domain::access::Permission;
use domain::credit::{CreditFacts, CreditModel, CreditRating, Grade};
use serde::{Deserialize, Serialize};
use serde_json::json;
use store::{CreditRatingRow, CreditSignals};

const DAY_MS: i64 = 86_400_000;

/// The credit model in force.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct CreditModelView {
    /// 0: the built-in defaults.
    pub version: i64,
    pub model: CreditModel,
    pub reason: String,
    pub set_by: String,
}

/// `PUT /api/v1/regulator/credit-model`.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
pub struct CreditModelChange {
    pub model: CreditModel,
    pub reason: String,
}

/// An institution's credit as of now, with the facts and each item that moved it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct CreditView {
    pub institution_id: String,
    pub institution_name: String,
    pub model_version: i64,
    pub rating: CreditRating,
    pub grade_label: &'static str,
    pub facts: CreditFacts,
    /// The newest published rating.
    pub published: Option<PublishedCredit>,
}

/// A published yearly rating, as the public sees it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct PublishedCredit {
    pub year: i64,
    pub score: i64,
    pub grade: String,
    pub grade_label: &'static str,
}

impl PublishedCredit {
    pub(crate) fn from_row(row: CreditRatingRow) -> PublishedCredit {
        PublishedCredit {
            grade_label: grade_of(&row.grade).map_or("", Grade::label),
            year: row.year,
            score: row.score,
            grade: row.grade,
        }
    }
}

/// One line of the export for the national credit system (docs/credit-export.md).
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct CreditExportRow {
    pub credit_code: String,
    pub name: String,
    pub region_code: String,
    pub year: i64,
    pub score: i64,
    pub grade: String,
    pub grade_label: &'static str,
    pub model_version: i64,
    pub published_on: String,
    /// Each item as `label:points`, separated by `;`.
    pub breakdown: String,
}

fn grade_of(s: &str) -> Option<Grade> {
    [Grade::A, Grade::B, Grade::C, Grade::D]
        .into_iter()
        .find(|g| g.as_str() == s)
}

fn count(n: i64) -> u32 {
    u32::try_from(n.max(0)).unwrap_or(u32::MAX)
}

/// What the model reads, from the store's counts.
fn facts(s: &CreditSignals, now: Timestamp) -> CreditFacts {
    let expired = s
        .approved_filing
        .as_deref()
        .and_then(crate::risk::licence_expiry)
        .is_some_and(|d| d < now.china_date());
    CreditFacts {
        fund_supervised: s.confirmed_accounts > 0,
        lessons_late_or_disputed_percent: if s.lessons > 0 {
            count(s.lessons_late_or_disputed.saturating_mul(100) / s.lessons)
        } else {
            0
        },
        filing_approved: s.approved_filing.is_some(),
        filing_stale: s
            .filing_approved_at
            .is_some_and(|at| at < now.millis() - 365 * DAY_MS),
        licence_expired: expired,
        penalties_warning: count(s.penalties_warning),
        penalties_fine: count(s.penalties_fine),
        penalties_stop_enrolling: count(s.penalties_stop_enrolling),
        penalties_stop_operating: count(s.penalties_stop_operating),
        penalties_licence_revoked: count(s.penalties_licence_revoked),
        complaints_upheld: count(s.complaints_upheld),
        complaints_mediated: count(s.complaints_mediated),
        spot_check_findings: count(s.spot_check_findings),
        spot_checks_passed: count(s.spot_checks_passed),
        warnings_yellow: count(s.warnings_yellow),
        warnings_orange: count(s.warnings_orange),
        warnings_red: count(s.warnings_red),
        public_warnings: count(s.public_warnings),
    }
}

impl<'a> Supervision<'a> {
    /// This year in China: the year a publication now would rate by default.
    pub fn current_year(self) -> i64 {
        i64::from(chrono::Datelike::year(&self.clock.now().china_date()))
    }

    /// The credit model in force: the newest version, else the built-in defaults (version 0).
    pub async fn credit_model(self) -> Result<CreditModelView, AppError> {
        match self.store.read().inspection().latest_credit_model().await? {
            Some(row) => Ok(CreditModelView {
                version: row.version,
                model: serde_json::from_str(&row.model_json)
                    .map_err(|e| AppError::internal(format!("stored credit model: {e}")))?,
                reason: row.reason,
                set_by: row.set_by,
            }),
            None => Ok(CreditModelView {
                version: 0,
                model: CreditModel::default(),
                reason: "默认信用评价模型（基础分90分）".into(),
                set_by: "platform".into(),
            }),
        }
    }

    /// The national supervisor sets a new version of the credit model (bands, base, points).
    pub async fn set_credit_model(
        self,
        actor: &Actor,
        change: &CreditModelChange,
    ) -> Result<CreditModelView, AppError> {
        let national =
            matches!(actor, Actor::Regulator { region, .. } if region.as_str() == "000000");
        if !national || !actor.has(Permission::SuperviseInstitution) {
            return Err(self
                .deny(
                    actor,
                    "credit_model",
                    json!({}),
                    "仅限全国监管员",
                    "the national supervisor only",
                )
                .await);
        }
        let reason = crate::error::stated_reason("reason", &change.reason)?;
        change.model.check().map_err(|e| {
            AppError::invalid(format!("信用评价模型参数不正确（{e}）"), e).on("model")
        })?;
        let json =
            serde_json::to_string(&change.model).map_err(|e| AppError::internal(e.to_string()))?;
        let now = self.clock.now().millis();
        let mut tx = self.store.begin_write().await?;
        let version = tx
            .inspection()
            .insert_credit_model(&json, reason, &actor.audit_name(), now)
            .await?;
        tx.append_audit(vec![evidence::record(
            &actor.audit_name(),
            now,
            Action::CreditModelSet,
            "credit_model".into(),
            json!({"version": version, "model": change.model, "reason": reason}),
        )])
        .await?;
        tx.commit().await?;
        self.credit_model().await
    }

    /// An institution's credit now, for its staff and regulators over it.
    pub async fn credit_of(
        self,
        actor: &Actor,
        institution_id: &str,
    ) -> Result<CreditView, AppError> {
        let institution = self.registry().institution_row(institution_id).await?;
        self.registry()
            .require_sight_of(actor, &institution)
            .await?;
        let (model, facts, rating) = self.rating_now(&institution.id).await?;
        Ok(CreditView {
            institution_id: institution.id.clone(),
            institution_name: institution.name,
            model_version: model.version,
            grade_label: rating.grade.label(),
            rating,
            facts,
            published: self
                .store
                .read()
                .inspection()
                .latest_credit_rating(&institution.id)
                .await?
                .map(PublishedCredit::from_row),
        })
    }

    /// An institution's rating as of now, under the model in force (no authorization: callers check).
    pub(crate) async fn rating_now(
        self,
        institution_id: &str,
    ) -> Result<(CreditModelView, CreditFacts, CreditRating), AppError> {
        let now = self.clock.now();
        let signals = self
            .credit_signals(store::CreditOf::Institution(institution_id), now)
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| AppError::not_found("没有这家机构", "no such institution"))?;
        let model = self.credit_model().await?;
        let facts = facts(&signals, now);
        let rating = model.model.rate(&facts);
        Ok((model, facts, rating))
    }

    async fn credit_signals(
        self,
        of: store::CreditOf<'_>,
        now: Timestamp,
    ) -> Result<Vec<CreditSignals>, AppError> {
        let three_years_ago = now
            .china_date()
            .checked_sub_months(chrono::Months::new(36))
            .ok_or_else(|| AppError::internal("date range"))?;
        Ok(self
            .store
            .read()
            .inspection()
            .credit_signals(
                of,
                now.millis() - 365 * DAY_MS,
                &three_years_ago.to_string(),
            )
            .await?)
    }

    /// A supervisor publishes a year's ratings of every institution in its region, as of now (年度公布).
    /// Each institution is rated once a year: publishing the year again is refused.
    pub async fn publish_credit_ratings(self, actor: &Actor, year: i64) -> Result<usize, AppError> {
        let Actor::Regulator { region, .. } = actor else {
            return Err(self
                .deny(
                    actor,
                    "credit",
                    json!({}),
                    "仅限监管部门",
                    "regulators only",
                )
                .await);
        };
        self.require(actor, Permission::SuperviseInstitution)
            .await?;
        let now = self.clock.now();
        let this_year = self.current_year();
        if !(2021..=this_year).contains(&year) {
            return Err(AppError::new(
                ErrorCode::InvalidParameter,
                format!("年度：2021至{this_year}"),
                format!("year: 2021 to {this_year}"),
            ));
        }
        let model = self.credit_model().await?;
        let signals = self
            .credit_signals(store::CreditOf::Region(region.prefix()), now)
            .await?;
        let rows: Vec<CreditRatingRow> = signals
            .iter()
            .map(|s| {
                let rating = model.model.rate(&facts(s, now));
                Ok(CreditRatingRow {
                    institution_id: s.institution_id.clone(),
                    year,
                    score: i64::from(rating.score),
                    grade: rating.grade.as_str().to_owned(),
                    breakdown_json: serde_json::to_string(&rating.items)
                        .map_err(|e| AppError::internal(e.to_string()))?,
                    model_version: model.version,
                    published_by: actor.audit_name(),
                    published_at: now.millis(),
                })
            })
            .collect::<Result<_, AppError>>()?;
        let mut tx = self.store.begin_write().await?;
        tx.inspection()
            .insert_credit_ratings(&rows)
            .await
            .map_err(|e| match e {
                store::StoreError::Conflict(_) => AppError::new(
                    ErrorCode::Conflict,
                    format!("本地区{year}年度的信用评价已经公布"),
                    format!("ratings of {year} were published in this region already"),
                ),
                other => other.into(),
            })?;
        let mut grades = std::collections::BTreeMap::new();
        for r in &rows {
            *grades.entry(r.grade.clone()).or_insert(0u64) += 1;
        }
        tx.append_audit(vec![evidence::record(
            &actor.audit_name(),
            now.millis(),
            Action::CreditPublished,
            format!("region:{}", region.as_str()),
            json!({"year": year, "institutions": rows.len(), "grades": grades, "model_version": model.version}),
        )])
        .await?;
        tx.commit().await?;
        Ok(rows.len())
    }

    /// A year's published ratings in the regulator's region, for the national credit system; audited.
    pub async fn credit_export(
        self,
        actor: &Actor,
        year: i64,
    ) -> Result<Vec<CreditExportRow>, AppError> {
        let Actor::Regulator { region, .. } = actor else {
            return Err(self
                .deny(
                    actor,
                    "credit",
                    json!({}),
                    "仅限监管部门",
                    "regulators only",
                )
                .await);
        };
        self.require(actor, Permission::SuperviseInstitution)
            .await?;
        let rows = self
            .store
            .read()
            .inspection()
            .published_ratings(region.prefix(), year)
            .await?;
        let out: Vec<CreditExportRow> = rows
            .into_iter()
            .map(|r| {
                /// A breakdown item as stored.
                #[derive(Deserialize)]
                struct Stored {
                    label: String,
                    points: i32,
                }
                let items: Vec<Stored> =
                    serde_json::from_str(&r.rating.breakdown_json).unwrap_or_default();
                CreditExportRow {
                    grade_label: grade_of(&r.rating.grade).map_or("", Grade::label),
                    credit_code: r.credit_code,
                    name: r.name,
                    region_code: r.region_code,
                    year: r.rating.year,
                    score: r.rating.score,
                    grade: r.rating.grade,
                    model_version: r.rating.model_version,
                    published_on: Timestamp::from_millis(r.rating.published_at)
                        .china_date()
                        .to_string(),
                    breakdown: items
                        .iter()
                        .map(|i| format!("{}:{}", i.label, i.points))
                        .collect::<Vec<_>>()
                        .join(";"),
                }
            })
            .collect();
        let now = self.clock.now().millis();
        let mut tx = self.store.begin_write().await?;
        tx.append_audit(vec![evidence::record(
            &actor.audit_name(),
            now,
            Action::CreditExported,
            format!("region:{}", region.as_str()),
            json!({"year": year, "rows": out.len()}),
        )])
        .await?;
        tx.commit().await?;
        Ok(out)
    }
}

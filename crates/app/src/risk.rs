//! 风险预警 the risk engine and its workflow (DOMAIN.md §5: 线索收集 → 风险识别 → 监测预警 → 处置反馈).
//!
//! Indicators are evaluated from events inside the event's own transaction (a bank movement: unmatched
//! outflow, large outflow, coverage, daily and weekly withdrawals) and by a periodic sweep (sales and refund
//! surges, complaint spikes, dormant escrow, licence expiry, staff churn). The thresholds are the versioned
//! [`RiskModel`]: national, with provinces adjusting within bounds; each warning records the version and the
//! inputs that fired it. A warning reminds the institution (inbox and SMS) with a rectification deadline; the
//! institution answers; the regulator lifts or escalates; an open or escalated warning past its deadline is
//! published (公开提示) and the institution moves to the grey list.

use crate::{Actor, App, AppError, ErrorCode, evidence};
use domain::access::Permission;
use domain::risk::{Firing, Indicator, Level, RiskModel};
use domain::{ListStatus, Machine, RegionCode, Timestamp, WarningEvent, WarningStatus};
use serde::{Deserialize, Serialize};
use serde_json::json;
use store::{InstitutionRow, WarningRow, WriteTx};

/// The national model's region code.
const NATIONAL: &str = "000000";

/// A model version as regulators see it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ModelView {
    /// 0: the built-in defaults.
    pub version: i64,
    pub region_code: String,
    pub model: RiskModel,
    pub reason: String,
    pub set_by: String,
}

/// `PUT /api/v1/regulator/risk-model`.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
pub struct ModelChange {
    pub model: RiskModel,
    pub reason: String,
}

/// A warning, for pages and the API.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct WarningView {
    pub id: String,
    pub institution_id: String,
    pub institution_name: String,
    pub indicator: String,
    pub indicator_label: &'static str,
    pub level: String,
    pub level_label: &'static str,
    pub model_version: i64,
    /// What fired: the value, the threshold crossed, and the event's facts.
    pub inputs: serde_json::Value,
    pub status: WarningStatus,
    pub status_label: &'static str,
    pub raised_at: i64,
    pub raised_at_display: String,
    /// When the time to rectify ends (unix ms, exclusive); unanswered then, the warning goes public.
    pub rectify_by: i64,
    pub rectify_by_display: String,
    pub answer: Option<String>,
    pub decision_reason: Option<String>,
}

/// `POST /api/v1/institution/warnings/{id}/answer`.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct WarningAnswer {
    pub explanation: String,
}

/// `POST /api/v1/regulator/warnings/{id}/decision`: `lift` (rectified) or `escalate`.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct WarningDecision {
    pub decision: String,
    pub reason: String,
}

/// `POST /api/v1/bank/risk-scores`: a bank's own risk score (0 sound – 100 worst) for the institution that
/// holds one of its supervised accounts, shown beside the platform's.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
pub struct BankRiskScore {
    pub account_no: String,
    pub score: i64,
    pub note: String,
}

/// An institution's risk scores: the platform's from its live warnings, and each bank's.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct RiskScores {
    /// 0–100 under the model in force, from the warnings still being handled.
    pub platform: u32,
    pub model_version: i64,
    pub banks: Vec<BankScoreView>,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct BankScoreView {
    pub bank_id: String,
    pub score: i64,
    pub note: String,
    pub reported_at_display: String,
}

/// The facts of a bank movement that the event-time indicators read.
pub(crate) struct MovementFacts<'a> {
    pub institution_id: &'a str,
    pub bank_ref: &'a str,
    pub amount_fen: i64,
    pub balance_after_fen: i64,
    /// What the bank must hold on the account (order escrow less instructions in flight, which the bank may
    /// have executed without saying so yet), read once for the reconciliation and the model.
    pub must_hold_fen: i64,
    /// The balance must cover all escrow (custody, e-CNY); a risk deposit covers a share, checked elsewhere.
    pub covers_escrow: bool,
    pub outflow: bool,
    pub unmatched: bool,
    /// The outflow executes one of the platform's own instructions (a release or refund it decided).
    pub instructed: bool,
    pub occurred_at: i64,
    /// (occurred at, amount) of the institution's outflows reported in the same batch, this one included,
    /// which the movements table does not hold yet.
    pub unrecorded_outflows: Vec<(i64, i64)>,
}

/// Institutions and (per province) models read once per batch of events rather than once per event.
#[derive(Default)]
pub(crate) struct EvaluationCache {
    institutions: std::collections::HashMap<String, InstitutionRow>,
    models: std::collections::HashMap<String, ModelView>,
}

impl EvaluationCache {
    /// Reads what evaluating a bank's reports on these accounts needs, in a few queries and before the write
    /// transaction: the accounts' institutions and their provinces' models. A model changed meanwhile applies
    /// from the next report on.
    pub(crate) async fn prepare_for_accounts(
        &mut self,
        app: &App,
        bank_id: &str,
        account_nos: &[String],
    ) -> Result<(), AppError> {
        for row in app
            .store
            .read()
            .institutions_of_accounts(bank_id, account_nos)
            .await?
        {
            app.model_by_province(&mut self.models, &row.region_code)
                .await?;
            self.institutions.insert(row.id.clone(), row);
        }
        Ok(())
    }
}

impl App {
    /// The model in force in a region: its province's newest version, else the national newest, else the
    /// built-in defaults (version 0).
    pub async fn risk_model_for(&self, region_code: &str) -> Result<ModelView, AppError> {
        let read = self.store.read();
        let province = format!("{}0000", region_code.get(..2).unwrap_or("00"));
        let levels = if province == NATIONAL {
            vec![NATIONAL]
        } else {
            vec![province.as_str(), NATIONAL]
        };
        for level in levels {
            if let Some(row) = read.latest_risk_model(level).await? {
                let model = serde_json::from_str(&row.model_json)
                    .map_err(|e| AppError::internal(format!("stored risk model: {e}")))?;
                return Ok(ModelView {
                    version: row.version,
                    region_code: row.region_code,
                    model,
                    reason: row.reason,
                    set_by: row.set_by,
                });
            }
        }
        Ok(ModelView {
            version: 0,
            region_code: NATIONAL.into(),
            model: RiskModel::default(),
            reason: "国家默认模型".into(),
            set_by: "system".into(),
        })
    }

    /// [`Self::risk_model_for`], read once per province into `models` (a batch of events, a sweep).
    async fn model_by_province<'c>(
        &self,
        models: &'c mut std::collections::HashMap<String, ModelView>,
        region_code: &str,
    ) -> Result<&'c ModelView, AppError> {
        let province = region_code.get(..2).unwrap_or_default().to_owned();
        if !models.contains_key(&province) {
            let model = self.risk_model_for(region_code).await?;
            models.insert(province.clone(), model);
        }
        Ok(&models[&province])
    }

    /// The model in force in a regulator's own region.
    pub async fn risk_model_seen_by(&self, actor: &Actor) -> Result<ModelView, AppError> {
        let Actor::Regulator { region, .. } = actor else {
            return Err(self
                .deny(actor, "risk_model", json!({}), "regulators only")
                .await);
        };
        self.require(actor, Permission::SuperviseInstitution)
            .await?;
        self.risk_model_for(region.as_str()).await
    }

    /// A national supervisor sets the national model; a provincial one its province's, within the bounds
    /// the national model allows. Each change is a new version; warnings already raised keep theirs.
    pub async fn set_risk_model(
        &self,
        actor: &Actor,
        change: &ModelChange,
    ) -> Result<ModelView, AppError> {
        let Actor::Regulator { region, .. } = actor else {
            return Err(self
                .deny(actor, "risk_model", json!({}), "regulators only")
                .await);
        };
        self.require(actor, Permission::SuperviseInstitution)
            .await?;
        let level = match region.as_str() {
            NATIONAL => NATIONAL.to_owned(),
            r if r.ends_with("0000") => r.to_owned(),
            _ => {
                return Err(self
                    .deny(
                        actor,
                        "risk_model",
                        json!({"region": region.as_str()}),
                        "the national and provincial supervisors set the risk model",
                    )
                    .await);
            }
        };
        let reason = crate::error::stated_reason("reason", &change.reason)?;
        let checked = if level == NATIONAL {
            change.model.check()
        } else {
            let national = self.risk_model_for(NATIONAL).await?.model;
            change.model.within_bounds_of(&national)
        };
        checked.map_err(|e| AppError::new(ErrorCode::InvalidParameter, e))?;
        let json = serde_json::to_string(&change.model)
            .map_err(|e| AppError::internal(format!("risk model: {e}")))?;
        let now = self.clock.now().millis();
        let mut tx = self.store.begin_write().await?;
        let version = tx
            .insert_risk_model(&level, &json, reason, &actor.audit_name(), now)
            .await?;
        tx.append_audit(vec![evidence::record(
            &actor.audit_name(),
            now,
            "risk.model_set",
            format!("region:{level}"),
            json!({"version": version, "reason": reason}),
        )])
        .await?;
        tx.commit().await?;
        self.risk_model_for(&level).await
    }

    /// Raises what fired, inside the event's transaction: one live warning per institution and indicator (a
    /// higher level raises a new one). The institution's staff and the competent regulator get one reminder per
    /// event (inbox and SMS) naming every warning it raised, the highest level first, with the deadline.
    pub(crate) async fn raise_in(
        &self,
        tx: &mut WriteTx,
        institution: &InstitutionRow,
        model: &ModelView,
        firings: &[Firing],
        facts: serde_json::Value,
        now: i64,
    ) -> Result<Vec<WarningRow>, AppError> {
        let today = Timestamp::from_millis(now).china_date();
        let days = model.model.rectification_working_days;
        let mut raised: Vec<(WarningRow, &Firing)> = Vec::new();
        for f in firings {
            let live = tx
                .live_warning_level(&institution.id, f.indicator.as_str())
                .await?
                .and_then(|l| Level::parse(&l));
            if live.is_some_and(|l| l >= f.level) {
                continue;
            }
            let row = WarningRow {
                id: uuid::Uuid::now_v7().to_string(),
                institution_id: institution.id.clone(),
                region_code: institution.region_code.clone(),
                indicator: f.indicator.as_str().to_owned(),
                level: f.level.as_str().to_owned(),
                model_version: model.version,
                inputs_json: json!({"value": f.value, "threshold": f.threshold, "facts": facts})
                    .to_string(),
                status: WarningStatus::Open,
                raised_at: now,
                rectify_by: crate::lessons::window_end(today, days),
                answer: None,
                answered_at: None,
                decided_by: None,
                decided_at: None,
                decision_reason: None,
                published_at: None,
            };
            tx.insert_warning(&row).await?;
            tx.append_audit(vec![evidence::record(
                "system:risk_engine",
                now,
                "risk.warning_raised",
                format!("institution:{}", institution.id),
                json!({"warning": row.id, "indicator": row.indicator, "level": row.level,
                       "model_version": row.model_version, "inputs": row.inputs_json}),
            )])
            .await?;
            raised.push((row, f));
        }
        raised.sort_by_key(|(_, f)| std::cmp::Reverse(f.level));
        if let Some((_, worst)) = raised.first() {
            let deadline = domain::WorkingDayCalendar::china().add_working_days(today, days);
            let what: Vec<String> = raised
                .iter()
                .map(|(_, f)| format!("{}（{}）", f.indicator.label(), f.level.label()))
                .collect();
            let competent = crate::regions::competent_region_of(institution)?;
            let mut told = tx.staff_accounts_of(&institution.id).await?;
            told.extend(tx.regulator_accounts_of(competent.as_str()).await?);
            self.notify_by_sms_in(
                tx,
                &told,
                &format!("{}风险预警", worst.level.label()),
                &format!(
                    "{}：{}（模型第{}版）。请于 {} 前整改并在平台说明。",
                    institution.name,
                    what.join("；"),
                    model.version,
                    deadline
                ),
                now,
            )
            .await?;
        }
        Ok(raised.into_iter().map(|(row, _)| row).collect())
    }

    /// Event-time indicators of a bank movement, evaluated in the movement's transaction.
    pub(crate) async fn evaluate_movement_in(
        &self,
        tx: &mut WriteTx,
        m: &MovementFacts<'_>,
        seen: &mut EvaluationCache,
        now: i64,
    ) -> Result<Vec<WarningRow>, AppError> {
        if !seen.institutions.contains_key(m.institution_id) {
            let row = self.institution_row(m.institution_id).await?;
            seen.institutions.insert(row.id.clone(), row);
        }
        let institution = &seen.institutions[m.institution_id];
        let model = self
            .model_by_province(&mut seen.models, &institution.region_code)
            .await?;
        let mut firings = Vec::new();
        let owed = m.must_hold_fen;
        if owed > 0 && m.covers_escrow {
            let coverage = i64::try_from(i128::from(m.balance_after_fen) * 100 / i128::from(owed))
                .unwrap_or(i64::MAX);
            firings.extend(model.model.evaluate(Indicator::BalanceCoverage, coverage));
        }
        // The platform's own releases and refunds are not withdrawals: only outflows it did not instruct count
        // toward the large-outflow and withdrawal indicators.
        if m.outflow && !m.instructed {
            if m.unmatched {
                firings.extend(
                    model
                        .model
                        .evaluate(Indicator::UnmatchedOutflow, m.amount_fen),
                );
            }
            let before = m.balance_after_fen.saturating_add(m.amount_fen);
            if before > 0 {
                let share = i64::try_from(i128::from(m.amount_fen) * 100 / i128::from(before))
                    .unwrap_or(i64::MAX);
                firings.extend(model.model.evaluate(Indicator::LargeOutflow, share));
            }
            let day_start = Timestamp::from_millis(m.occurred_at)
                .china_date()
                .and_hms_opt(0, 0, 0)
                .and_then(|d| d.and_local_timezone(domain::time::china_offset()).single())
                .map_or(m.occurred_at, |d| d.timestamp_millis());
            let unrecorded = |from: i64| -> i64 {
                m.unrecorded_outflows
                    .iter()
                    .filter(|(at, _)| *at >= from)
                    .fold(0i64, |sum, (_, amount)| sum.saturating_add(*amount))
            };
            // The week (seven days back) always starts before the China day does.
            let week_start = m.occurred_at - 7 * 86_400_000;
            let (daily, weekly) = tx
                .outflows_since(m.institution_id, day_start, week_start)
                .await?;
            let daily = daily.saturating_add(unrecorded(day_start));
            firings.extend(model.model.evaluate(Indicator::DailyWithdrawals, daily));
            let weekly = weekly.saturating_add(unrecorded(week_start));
            firings.extend(model.model.evaluate(Indicator::WeeklyWithdrawals, weekly));
        }
        let facts = json!({"bank_ref": m.bank_ref, "amount_fen": m.amount_fen,
                           "balance_after_fen": m.balance_after_fen, "must_hold_fen": owed});
        self.raise_in(tx, institution, model, &firings, facts, now)
            .await
    }

    /// The periodic sweep: surges, spikes, dormant escrow, licence expiry and staff churn for every
    /// institution not on the black list. Returns how many warnings were raised.
    pub async fn sweep_risks(&self) -> Result<usize, AppError> {
        let now = self.clock.now();
        let signals = self.store.read().sweep_signals(now.millis()).await?;
        let mut raised = 0;
        // One model per province for the whole sweep: at national scale it reads hundreds of thousands of rows.
        let mut models = std::collections::HashMap::new();
        for s in signals {
            let model = self.model_by_province(&mut models, &s.region_code).await?;
            let m = &model.model;
            let mut firings = Vec::new();
            if s.sales_recent_fen >= m.sales_surge_min_fen && s.sales_recent_fen > 0 {
                // The recent week against the weekly average of the four weeks before (none before: no base).
                let weekly_before = s.sales_before_fen / 4;
                if weekly_before > 0 {
                    firings.extend(m.evaluate(
                        Indicator::SalesSurge,
                        s.sales_recent_fen.saturating_mul(100) / weekly_before,
                    ));
                }
            }
            firings.extend(m.evaluate(Indicator::RefundSurge, s.refunds_recent));
            firings.extend(m.evaluate(Indicator::ComplaintSpike, s.complaints_recent));
            if s.escrow_fen > 0
                && let Some(last) = s.last_activity_at
            {
                firings.extend(
                    m.evaluate(Indicator::DormantEscrow, (now.millis() - last) / 86_400_000),
                );
            }
            if let Some(expires) = s.approved_filing.as_deref().and_then(licence_expiry) {
                let days = (expires - now.china_date()).num_days();
                firings.extend(m.evaluate(Indicator::LicenceExpiry, days));
            }
            let headcount = s.staff_on_register + s.staff_left_recent;
            if headcount >= 5 {
                firings.extend(
                    m.evaluate(Indicator::StaffChurn, s.staff_left_recent * 100 / headcount),
                );
            }
            if firings.is_empty() {
                continue;
            }
            let facts = json!({"sales_recent_fen": s.sales_recent_fen, "sales_before_fen": s.sales_before_fen,
                "refunds_recent": s.refunds_recent, "complaints_recent": s.complaints_recent,
                "escrow_fen": s.escrow_fen, "staff_on_register": s.staff_on_register,
                "staff_left_recent": s.staff_left_recent});
            let institution = self.institution_row(&s.institution_id).await?;
            let mut tx = self.store.begin_write().await?;
            raised += self
                .raise_in(&mut tx, &institution, model, &firings, facts, now.millis())
                .await?
                .len();
            tx.commit().await?;
        }
        Ok(raised)
    }

    /// The institution explains how it rectified; the regulator then lifts or escalates.
    pub async fn answer_warning(
        &self,
        actor: &Actor,
        id: &str,
        answer: &WarningAnswer,
    ) -> Result<WarningView, AppError> {
        let Actor::Staff { institution_id, .. } = actor else {
            return Err(self
                .deny(
                    actor,
                    "risk_warning",
                    json!({}),
                    "the institution's staff only",
                )
                .await);
        };
        let explanation = crate::error::stated_reason("explanation", &answer.explanation)?;
        let warning = self
            .store
            .read()
            .warning(id.trim())
            .await?
            .filter(|w| &w.institution_id == institution_id)
            .ok_or_else(|| AppError::not_found("no such warning of your institution"))?;
        let now = self.clock.now().millis();
        let mut tx = self.store.begin_write().await?;
        if tx
            .move_warning(
                &warning.id,
                WarningEvent::Answer,
                &actor.audit_name(),
                explanation,
                now,
            )
            .await?
            != 1
        {
            return Err(AppError::new(
                ErrorCode::Conflict,
                "the warning is not waiting for an answer",
            ));
        }
        tx.append_audit(vec![evidence::record(
            &actor.audit_name(),
            now,
            "risk.warning_answered",
            format!("institution:{institution_id}"),
            json!({"warning": warning.id, "explanation": explanation}),
        )])
        .await?;
        tx.commit().await?;
        self.warning_view(&warning.id).await
    }

    /// A regulator over the institution lifts a warning (rectified) or escalates it (not rectified: it stays
    /// live and is published if the deadline passes).
    pub async fn decide_warning(
        &self,
        actor: &Actor,
        id: &str,
        decision: &WarningDecision,
    ) -> Result<WarningView, AppError> {
        let warning = self
            .store
            .read()
            .warning(id.trim())
            .await?
            .ok_or_else(|| AppError::not_found("no such warning"))?;
        self.require_regulator_over(
            actor,
            Permission::SuperviseInstitution,
            &RegionCode::parse(&warning.region_code)?,
            &format!("institution:{}", warning.institution_id),
        )
        .await?;
        let Some(event) = WarningEvent::regulator_decision(&decision.decision) else {
            return Err(AppError::new(
                ErrorCode::InvalidParameter,
                "decision: lift or escalate",
            ));
        };
        let to = WarningStatus::target(event).ok_or_else(|| AppError::internal("warning event"))?;
        let reason = crate::error::stated_reason("reason", &decision.reason)?;
        let now = self.clock.now().millis();
        let mut tx = self.store.begin_write().await?;
        if tx
            .move_warning(&warning.id, event, &actor.audit_name(), reason, now)
            .await?
            != 1
        {
            return Err(AppError::new(
                ErrorCode::Conflict,
                "the warning was already decided",
            ));
        }
        tx.append_audit(vec![evidence::record(
            &actor.audit_name(),
            now,
            &format!("risk.warning_{to}"),
            format!("institution:{}", warning.institution_id),
            json!({"warning": warning.id, "reason": reason}),
        )])
        .await?;
        tx.commit().await?;
        self.warning_view(&warning.id).await
    }

    /// 公开提示: every open or escalated warning past its deadline is published on the website and the
    /// institution moves to the grey list (unless it is on the black list already). Returns how many.
    pub async fn publish_overdue_warnings(&self) -> Result<usize, AppError> {
        let now = self.clock.now();
        let overdue = self
            .store
            .read()
            .overdue_warnings(now.millis(), 100)
            .await?;
        let system = Actor::System {
            name: "risk_deadline",
        };
        let mut published = 0;
        for w in overdue {
            let mut tx = self.store.begin_write().await?;
            if tx
                .move_warning(
                    &w.id,
                    WarningEvent::Publish,
                    "system:risk_deadline",
                    "",
                    now.millis(),
                )
                .await?
                != 1
            {
                continue;
            }
            let institution = tx
                .institution_for_update(&w.institution_id)
                .await?
                .ok_or_else(|| AppError::internal("warning of a missing institution"))?;
            let label = Indicator::parse(&w.indicator).map_or("风险", Indicator::label);
            let notice = store::NoticeRow {
                id: uuid::Uuid::now_v7().to_string(),
                kind: "public_warning".into(),
                institution_id: Some(institution.id.clone()),
                region_code: institution.region_code.clone(),
                title: format!("关于{}的风险公开提示", institution.name),
                body: format!(
                    "{}经平台监测存在风险（{}），经提醒后逾期未整改。请家长谨慎选择、理性缴费，切勿一次性大额预付。",
                    institution.name, label
                ),
                published_at: now.millis(),
                until_at: None,
            };
            tx.insert_notices(std::slice::from_ref(&notice)).await?;
            if institution.list_status == domain::ListStatus::White {
                self.move_in(
                    &mut tx,
                    &system,
                    &institution,
                    ListStatus::Grey,
                    &format!("风险预警逾期未整改：{label}"),
                    now,
                )
                .await?;
            }
            tx.append_audit(vec![evidence::record(
                "system:risk_deadline",
                now.millis(),
                "risk.warning_published",
                format!("institution:{}", institution.id),
                json!({"warning": w.id, "notice": notice.id}),
            )])
            .await?;
            tx.commit().await?;
            self.reindex(&institution.id).await?;
            published += 1;
        }
        Ok(published)
    }

    /// Warnings a regulator sees (its region's subtree) or a staff member (its institution's), raised after
    /// `since` (unix ms), newest first.
    pub async fn warnings_for(
        &self,
        actor: &Actor,
        since: i64,
    ) -> Result<Vec<WarningView>, AppError> {
        let rows = match actor {
            Actor::Regulator { region, .. } => {
                self.require(actor, Permission::SuperviseInstitution)
                    .await?;
                let prefix = region.prefix().to_owned();
                self.store
                    .read()
                    .warnings(Some(&prefix), None, since, 200)
                    .await?
            }
            Actor::Staff { institution_id, .. } => {
                self.store
                    .read()
                    .warnings(None, Some(institution_id), since, 200)
                    .await?
            }
            _ => {
                return Err(self
                    .deny(
                        actor,
                        "risk_warnings",
                        json!({}),
                        "regulators and staff only",
                    )
                    .await);
            }
        };
        let mut views = Vec::with_capacity(rows.len());
        for r in rows {
            views.push(self.view_of(r).await?);
        }
        Ok(views)
    }

    /// A bank scores the institution behind one of its confirmed supervised accounts.
    pub async fn record_bank_risk_score(
        &self,
        actor: &Actor,
        req: &BankRiskScore,
    ) -> Result<RiskScores, AppError> {
        let bank_id = self.bank_of(actor).await?.to_owned();
        if !(0..=100).contains(&req.score) {
            return Err(AppError::new(
                ErrorCode::InvalidParameter,
                "score: 0 to 100",
            ));
        }
        let note = crate::error::stated_reason("note", &req.note)?;
        let now = self.clock.now().millis();
        let mut tx = self.store.begin_write().await?;
        let account = Self::banks_account(&mut tx, &bank_id, &req.account_no).await?;
        tx.upsert_bank_risk_score(&account.institution_id, &bank_id, req.score, note, now)
            .await?;
        tx.append_audit(vec![evidence::record(
            &actor.audit_name(),
            now,
            "risk.bank_score",
            format!("institution:{}", account.institution_id),
            json!({"bank": bank_id, "score": req.score, "note": note}),
        )])
        .await?;
        tx.commit().await?;
        self.risk_scores(&account.institution_id).await
    }

    /// The platform's score from the institution's live warnings, beside the banks' scores.
    pub async fn risk_scores(&self, institution_id: &str) -> Result<RiskScores, AppError> {
        let institution = self.institution_row(institution_id).await?;
        let model = self.risk_model_for(&institution.region_code).await?;
        let read = self.store.read();
        let firings: Vec<Firing> = read
            .warnings(None, Some(institution_id), 0, 500)
            .await?
            .into_iter()
            .filter(|w| w.status.is_live())
            .filter_map(|w| {
                Some(Firing {
                    indicator: Indicator::parse(&w.indicator)?,
                    level: Level::parse(&w.level)?,
                    value: 0,
                    threshold: 0,
                })
            })
            .collect();
        let banks = read
            .bank_risk_scores(institution_id)
            .await?
            .into_iter()
            .map(|(bank_id, score, note, at)| BankScoreView {
                bank_id,
                score,
                note,
                reported_at_display: Timestamp::from_millis(at).china_display(),
            })
            .collect();
        Ok(RiskScores {
            platform: model.model.score(&firings),
            model_version: model.version,
            banks,
        })
    }

    /// 预警日报 the daily digest: each regulator's inbox gets the count of warnings raised in its region's
    /// subtree on `date` (China time), by level. Regulators with none get nothing. Returns how many were told.
    pub async fn send_warning_digest(&self, date: chrono::NaiveDate) -> Result<usize, AppError> {
        let start = crate::lessons::window_end(date, 0);
        let from = date
            .and_hms_opt(0, 0, 0)
            .and_then(|d| d.and_local_timezone(domain::time::china_offset()).single())
            .map_or(start, |d| d.timestamp_millis());
        let read = self.store.read();
        let counts = read.warning_counts(from, start).await?;
        let mut notes = Vec::new();
        for (account, region) in read.regulator_regions().await? {
            let Ok(region) = RegionCode::parse(&region) else {
                continue;
            };
            let prefix = region.prefix();
            let mut by_level = [0i64; 3];
            for (code, level, n) in &counts {
                if code.starts_with(prefix)
                    && let Some(l) = Level::parse(level)
                {
                    by_level[l as usize] += n;
                }
            }
            if by_level.iter().sum::<i64>() == 0 {
                continue;
            }
            notes.push(crate::inbox::Note::new(
                &account,
                &format!("风险预警日报 {date}"),
                &format!(
                    "辖区内新增预警：红色 {} 条、橙色 {} 条、黄色 {} 条。请在风险预警台处理。",
                    by_level[Level::Red as usize],
                    by_level[Level::Orange as usize],
                    by_level[Level::Yellow as usize]
                ),
            ));
        }
        if notes.is_empty() {
            return Ok(0);
        }
        let now = self.clock.now().millis();
        let mut tx = self.store.begin_write().await?;
        crate::inbox::notify_each_in(&mut tx, &notes, false, now).await?;
        tx.append_audit(vec![evidence::record(
            "system:risk_digest",
            now,
            "risk.digest_sent",
            format!("date:{date}"),
            json!({"regulators": notes.len()}),
        )])
        .await?;
        tx.commit().await?;
        Ok(notes.len())
    }

    /// 公开提示 the published warnings, for everyone.
    pub async fn public_warnings(&self) -> Result<Vec<WarningView>, AppError> {
        let mut views = Vec::new();
        for r in self.store.read().published_warnings(100).await? {
            views.push(self.view_of(r).await?);
        }
        Ok(views)
    }

    pub async fn warning_view(&self, id: &str) -> Result<WarningView, AppError> {
        let row = self
            .store
            .read()
            .warning(id)
            .await?
            .ok_or_else(|| AppError::not_found("no such warning"))?;
        self.view_of(row).await
    }

    async fn view_of(&self, r: WarningRow) -> Result<WarningView, AppError> {
        let name = self.institution_row(&r.institution_id).await?.name;
        let indicator = Indicator::parse(&r.indicator);
        let level = Level::parse(&r.level);
        Ok(WarningView {
            institution_name: name,
            indicator_label: indicator.map_or("其他风险", Indicator::label),
            level_label: level.map_or("", Level::label),
            inputs: serde_json::from_str(&r.inputs_json).unwrap_or(serde_json::Value::Null),
            status_label: r.status.label_zh(),
            raised_at_display: Timestamp::from_millis(r.raised_at).china_display(),
            rectify_by: r.rectify_by,
            rectify_by_display: Timestamp::from_millis(r.rectify_by - 1).china_display(),
            id: r.id,
            institution_id: r.institution_id,
            indicator: r.indicator,
            level: r.level,
            model_version: r.model_version,
            status: r.status,
            raised_at: r.raised_at,
            answer: r.answer,
            decision_reason: r.decision_reason,
        })
    }
}

/// The school-running licence's expiry date in an approved filing's JSON, if it names one.
pub(crate) fn licence_expiry(filing_json: &str) -> Option<chrono::NaiveDate> {
    let v: serde_json::Value = serde_json::from_str(filing_json).ok()?;
    let date = v.pointer("/licence/school_licence_expires")?.as_str()?;
    chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()
}

//! 风险预警 the risk engine and its workflow (DOMAIN.md §5: 线索收集 → 风险识别 → 监测预警 → 处置反馈).
//!
//! Indicators are evaluated from events inside the event's own transaction (a bank movement: unmatched
//! outflow, large outflow, coverage, daily and weekly withdrawals) and by a periodic sweep (sales and refund
//! surges, complaint spikes, dormant escrow, licence expiry, staff churn). The thresholds are the versioned
//! [`RiskModel`]: national, with provinces adjusting within bounds; each warning records the version and the
//! inputs that fired it. A warning reminds the institution (inbox and SMS) with a rectification deadline; the
//! institution answers; the regulator lifts or escalates; an open or escalated warning past its deadline is
//! published (公开提示) and the institution moves to the grey list.

use crate::supervision::Supervision;
use crate::{Actor, App, AppError, evidence};
use domain::Action;
use domain::WarningStatus;
use domain::access::Permission;
use domain::risk::RiskModel;
use serde::{Deserialize, Serialize};
use serde_json::json;
use store::InstitutionRow;

mod bank_scores;
mod evaluation;
mod warnings;

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
            .registry()
            .institutions_of_accounts(bank_id, account_nos)
            .await?
        {
            app.supervision()
                .model_by_province(&mut self.models, &row.region_code)
                .await?;
            self.institutions.insert(row.id.clone(), row);
        }
        Ok(())
    }
}

impl<'a> Supervision<'a> {
    /// The model in force in a region: its province's newest version, else the national newest, else the
    /// built-in defaults (version 0).
    pub async fn risk_model_for(self, region_code: &str) -> Result<ModelView, AppError> {
        let read = self.store.read();
        let province = format!("{}0000", region_code.get(..2).unwrap_or("00"));
        let levels = if province == NATIONAL {
            vec![NATIONAL]
        } else {
            vec![province.as_str(), NATIONAL]
        };
        for level in levels {
            if let Some(row) = read.warnings().latest_risk_model(level).await? {
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
        self,
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
    pub async fn risk_model_seen_by(self, actor: &Actor) -> Result<ModelView, AppError> {
        let Actor::Regulator { region, .. } = actor else {
            return Err(self
                .deny(
                    actor,
                    "risk_model",
                    json!({}),
                    "仅限监管部门",
                    "regulators only",
                )
                .await);
        };
        self.require(actor, Permission::SuperviseInstitution)
            .await?;
        self.risk_model_for(region.as_str()).await
    }

    /// A national supervisor sets the national model; a provincial one its province's, within the bounds
    /// the national model allows. Each change is a new version; warnings already raised keep theirs.
    pub async fn set_risk_model(
        self,
        actor: &Actor,
        change: &ModelChange,
    ) -> Result<ModelView, AppError> {
        let Actor::Regulator { region, .. } = actor else {
            return Err(self
                .deny(
                    actor,
                    "risk_model",
                    json!({}),
                    "仅限监管部门",
                    "regulators only",
                )
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
                        "风险模型由全国和省级监管员设定",
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
        checked
            .map_err(|e| AppError::invalid(format!("风险模型参数不正确（{e}）"), e).on("model"))?;
        let json = serde_json::to_string(&change.model)
            .map_err(|e| AppError::internal(format!("risk model: {e}")))?;
        let now = self.clock.now().millis();
        let mut tx = self.store.begin_write().await?;
        let version = tx
            .warnings()
            .insert_risk_model(&level, &json, reason, &actor.audit_name(), now)
            .await?;
        tx.append_audit(vec![evidence::record(
            &actor.audit_name(),
            now,
            Action::RiskModelSet,
            format!("region:{level}"),
            json!({"version": version, "reason": reason}),
        )])
        .await?;
        tx.commit().await?;
        self.risk_model_for(&level).await
    }
}

/// The school-running licence's expiry date in an approved filing's JSON, if it names one.
pub(crate) fn licence_expiry(filing_json: &str) -> Option<chrono::NaiveDate> {
    let v: serde_json::Value = serde_json::from_str(filing_json).ok()?;
    let date = v.pointer("/licence/school_licence_expires")?.as_str()?;
    chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()
}

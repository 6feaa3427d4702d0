//! The banks' own risk scores of the institutions they hold accounts for, beside the platform's.

use super::{BankRiskScore, BankScoreView, RiskScores};
use crate::supervision::Supervision;
use crate::{Actor, AppError, ErrorCode, evidence};
use domain::Action;
use domain::Timestamp;
use domain::risk::{Firing, Indicator, Level};
use serde_json::json;

impl<'a> Supervision<'a> {
    /// A bank scores the institution behind one of its confirmed supervised accounts.
    pub async fn record_bank_risk_score(
        self,
        actor: &Actor,
        req: &BankRiskScore,
    ) -> Result<RiskScores, AppError> {
        let bank_id = self.money().bank_of(actor).await?.to_owned();
        if !(0..=100).contains(&req.score) {
            return Err(AppError::new(
                ErrorCode::InvalidParameter,
                "分数：0至100",
                "score: 0 to 100",
            )
            .on("score"));
        }
        let note = crate::error::stated_reason("note", &req.note)?;
        let now = self.clock.now().millis();
        let mut tx = self.store.begin_write().await?;
        let account =
            crate::money::Money::banks_account(&mut tx, &bank_id, &req.account_no).await?;
        tx.warnings()
            .upsert_bank_risk_score(&account.institution_id, &bank_id, req.score, note, now)
            .await?;
        tx.append_audit(vec![evidence::record(
            &actor.audit_name(),
            now,
            Action::BankRiskScore,
            format!("institution:{}", account.institution_id),
            json!({"bank": bank_id, "score": req.score, "note": note}),
        )])
        .await?;
        tx.commit().await?;
        self.risk_scores(&account.institution_id).await
    }

    /// The platform's score from the institution's live warnings, beside the banks' scores.
    pub async fn risk_scores(self, institution_id: &str) -> Result<RiskScores, AppError> {
        let institution = self.registry().institution_row(institution_id).await?;
        let model = self.risk_model_for(&institution.region_code).await?;
        let read = self.store.read();
        let firings: Vec<Firing> = read
            .warnings()
            .list(None, Some(institution_id), 0, 500)
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
            .warnings()
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
}

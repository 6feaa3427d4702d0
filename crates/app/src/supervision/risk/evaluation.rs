//! Raising warnings: from each movement the bank reports, in its transaction, and from the hourly sweep over
//! every institution's indicators.

use super::{EvaluationCache, ModelView, MovementFacts, licence_expiry};
use crate::events;
use crate::supervision::Supervision;
use crate::{AppError, evidence};
use domain::Action;
use domain::risk::{Firing, Indicator, Level};
use domain::{Timestamp, WarningStatus};
use serde_json::json;
use store::{InstitutionRow, WarningRow, WriteTx};

impl<'a> Supervision<'a> {
    /// Raises what fired, inside the event's transaction: one live warning per institution and indicator (a
    /// higher level raises a new one). The institution's staff and the competent regulator get one reminder per
    /// event (inbox and SMS) naming every warning it raised, the highest level first, with the deadline.
    pub(crate) async fn raise_in(
        self,
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
                .warnings()
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
            tx.warnings().insert_warning(&row).await?;
            tx.append_audit(vec![evidence::record(
                "system:risk_engine",
                now,
                Action::WarningRaised,
                format!("institution:{}", institution.id),
                events::public(
                    &events::WarningRaised {
                        warning: row.id.clone(),
                        indicator: row.indicator.clone(),
                        level: row.level.clone(),
                    },
                    json!({"model_version": row.model_version, "inputs": row.inputs_json}),
                ),
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
            let mut told = tx.inbox().staff_accounts_of(&institution.id).await?;
            told.extend(tx.inbox().regulator_accounts_of(competent.as_str()).await?);
            self.service()
                .notify_by_sms_in(
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
        self,
        tx: &mut WriteTx,
        m: &MovementFacts<'_>,
        seen: &mut EvaluationCache,
        now: i64,
    ) -> Result<Vec<WarningRow>, AppError> {
        if !seen.institutions.contains_key(m.institution_id) {
            let row = self.registry().institution_row(m.institution_id).await?;
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
                .warnings()
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
    pub async fn sweep_risks(self) -> Result<usize, AppError> {
        let now = self.clock.now();
        let signals = self
            .store
            .read()
            .warnings()
            .sweep_signals(now.millis())
            .await?;
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
            let institution = self.registry().institution_row(&s.institution_id).await?;
            let mut tx = self.store.begin_write().await?;
            raised += self
                .raise_in(&mut tx, &institution, model, &firings, facts, now.millis())
                .await?
                .len();
            tx.commit().await?;
        }
        Ok(raised)
    }
}

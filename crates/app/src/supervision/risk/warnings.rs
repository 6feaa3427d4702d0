//! A warning's life after it is raised: the institution answers, the supervisor decides, overdue ones are
//! published, and each reader sees the warnings that are theirs.

use super::{WarningAnswer, WarningDecision, WarningView};
use crate::supervision::Supervision;
use crate::{Actor, AppError, ErrorCode, evidence};
use domain::Action;
use domain::access::Permission;
use domain::risk::{Indicator, Level};
use domain::{ListStatus, Machine, RegionCode, Timestamp, WarningEvent, WarningStatus};
use serde_json::json;
use store::WarningRow;

impl<'a> Supervision<'a> {
    /// The institution explains how it rectified; the regulator then lifts or escalates.
    pub async fn answer_warning(
        self,
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
                    "仅限本机构工作人员",
                    "the institution's staff only",
                )
                .await);
        };
        let explanation = crate::error::stated_reason("explanation", &answer.explanation)?;
        let warning = self
            .store
            .read()
            .warnings()
            .warning(id.trim())
            .await?
            .filter(|w| &w.institution_id == institution_id)
            .ok_or_else(|| {
                AppError::not_found("本机构没有这条预警", "no such warning of your institution")
            })?;
        let now = self.clock.now().millis();
        let mut tx = self.store.begin_write().await?;
        if tx
            .warnings()
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
                "该预警不在等待答复状态",
                "the warning is not waiting for an answer",
            ));
        }
        tx.append_audit(vec![evidence::record(
            &actor.audit_name(),
            now,
            Action::WarningAnswered,
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
        self,
        actor: &Actor,
        id: &str,
        decision: &WarningDecision,
    ) -> Result<WarningView, AppError> {
        let warning = self
            .store
            .read()
            .warnings()
            .warning(id.trim())
            .await?
            .ok_or_else(|| AppError::not_found("没有这条预警", "no such warning"))?;
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
                "处理决定：须为解除或升级",
                "decision: lift or escalate",
            )
            .on("decision"));
        };
        let to = WarningStatus::target(event).ok_or_else(|| AppError::internal("warning event"))?;
        let reason = crate::error::stated_reason("reason", &decision.reason)?;
        let now = self.clock.now().millis();
        let mut tx = self.store.begin_write().await?;
        if tx
            .warnings()
            .move_warning(&warning.id, event, &actor.audit_name(), reason, now)
            .await?
            != 1
        {
            return Err(AppError::new(
                ErrorCode::Conflict,
                "该预警已经处理",
                "the warning was already decided",
            ));
        }
        tx.append_audit(vec![evidence::record(
            &actor.audit_name(),
            now,
            Action::warning_moved(to),
            format!("institution:{}", warning.institution_id),
            json!({"warning": warning.id, "reason": reason}),
        )])
        .await?;
        tx.commit().await?;
        self.warning_view(&warning.id).await
    }

    /// 公开提示: every open or escalated warning past its deadline is published on the website and the
    /// institution moves to the grey list (unless it is on the black list already). Returns how many.
    pub async fn publish_overdue_warnings(self) -> Result<usize, AppError> {
        let now = self.clock.now();
        let overdue = self
            .store
            .read()
            .warnings()
            .overdue_warnings(now.millis(), 100)
            .await?;
        let system = Actor::System {
            name: "risk_deadline",
        };
        let mut published = 0;
        for w in overdue {
            let mut tx = self.store.begin_write().await?;
            if tx
                .warnings()
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
                .registry()
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
            tx.registry()
                .insert_notices(std::slice::from_ref(&notice))
                .await?;
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
                Action::WarningPublished,
                format!("institution:{}", institution.id),
                json!({"warning": w.id, "notice": notice.id}),
            )])
            .await?;
            tx.commit().await?;
            self.registry().reindex(&institution.id).await?;
            published += 1;
        }
        Ok(published)
    }

    /// Warnings a regulator sees (its region's subtree) or a staff member (its institution's), raised after
    /// `since` (unix ms), newest first.
    pub async fn warnings_for(
        self,
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
                    .warnings()
                    .list(Some(&prefix), None, since, 200)
                    .await?
            }
            Actor::Staff { institution_id, .. } => {
                self.store
                    .read()
                    .warnings()
                    .list(None, Some(institution_id), since, 200)
                    .await?
            }
            _ => {
                return Err(self
                    .deny(
                        actor,
                        "risk_warnings",
                        json!({}),
                        "仅限监管部门和机构工作人员",
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

    /// 预警日报 the daily digest: each regulator's inbox gets the count of warnings raised in its region's
    /// subtree on `date` (China time), by level. Regulators with none get nothing. Returns how many were told.
    pub async fn send_warning_digest(self, date: chrono::NaiveDate) -> Result<usize, AppError> {
        let start = crate::lessons::window_end(date, 0);
        let from = date
            .and_hms_opt(0, 0, 0)
            .and_then(|d| d.and_local_timezone(domain::time::china_offset()).single())
            .map_or(start, |d| d.timestamp_millis());
        let read = self.store.read();
        let counts = read.warnings().warning_counts(from, start).await?;
        let mut notes = Vec::new();
        for (account, region) in read.warnings().regulator_regions().await? {
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
            Action::RiskDigestSent,
            format!("date:{date}"),
            json!({"regulators": notes.len()}),
        )])
        .await?;
        tx.commit().await?;
        Ok(notes.len())
    }

    /// 公开提示 the published warnings, for everyone.
    pub async fn public_warnings(self) -> Result<Vec<WarningView>, AppError> {
        let mut views = Vec::new();
        for r in self.store.read().warnings().published_warnings(100).await? {
            views.push(self.view_of(r).await?);
        }
        Ok(views)
    }

    pub async fn warning_view(self, id: &str) -> Result<WarningView, AppError> {
        let row = self
            .store
            .read()
            .warnings()
            .warning(id)
            .await?
            .ok_or_else(|| AppError::not_found("没有这条预警", "no such warning"))?;
        self.view_of(row).await
    }

    pub(super) async fn view_of(self, r: WarningRow) -> Result<WarningView, AppError> {
        let name = self
            .registry()
            .institution_row(&r.institution_id)
            .await?
            .name;
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

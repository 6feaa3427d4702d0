//! 审核 the reviewer's side of a filing: the queue of the region, one filing with its documents, the decision.

use super::{APPROVED_AWAITING_FUNDS, Decision, FilingView, QueueItem};
use crate::error::required_text as text;
use crate::registry::Registry;
use crate::{Actor, AppError, ErrorCode, evidence};
use domain::Action;
use domain::access::{Permission, competent_region, regulator_reviews};
use domain::filing::{FIELDS, Filing};
use domain::{
    FilingEvent, FilingStatus, ListChangeId, ListStatus, RegionCode, TeachingMode, Timestamp,
};
use serde_json::json;
use store::ListChangeRow;

impl<'a> Registry<'a> {
    /// An institution's filing for the regulators over its region (its own staff use [`Registry::my_filing`]).
    pub async fn filing_for_review(
        self,
        actor: &Actor,
        institution_id: &str,
    ) -> Result<FilingView, AppError> {
        let institution = self.institution_row(institution_id).await?;
        let region = RegionCode::parse(&institution.region_code)?;
        self.require_regulator_over(
            actor,
            Permission::ViewInstitutionPrivate,
            &region,
            &format!("institution:{}", institution.id),
        )
        .await?;
        self.filing_view(&institution).await
    }

    /// The reviewer's queue: submitted filings whose competent authority is the reviewer's region,
    /// oldest first, with their age.
    pub async fn review_queue(
        self,
        actor: &Actor,
        kind: Option<&str>,
        paging: domain::Paging,
    ) -> Result<crate::views::Page<QueueItem>, AppError> {
        self.require(actor, Permission::ReviewFiling).await?;
        let Actor::Regulator { region, .. } = actor else {
            return Err(AppError::new(
                ErrorCode::Forbidden,
                "仅限监管部门",
                "regulators only",
            ));
        };
        let kind = kind.map(str::trim).filter(|k| !k.is_empty());
        if kind.is_some_and(|k| !matches!(k, "onboarding" | "change")) {
            return Err(AppError::new(
                ErrorCode::InvalidParameter,
                "审核类别：须为入驻或变更",
                "kind: onboarding or change",
            )
            .on("kind"));
        }
        let rows = self
            .store
            .read()
            .filings()
            .review_queue(region.as_str(), kind, paging.per_page(), paging.offset())
            .await?;
        let now = self.clock.now().millis();
        let items = rows
            .rows
            .into_iter()
            .map(|r| {
                let region_name = RegionCode::parse(&r.region_code)
                    .map(|c| self.regions.full_name(&c))
                    .unwrap_or_default();
                QueueItem {
                    age_days: (now - r.submitted_at).max(0) / 86_400_000,
                    submitted_at_display: Timestamp::from_millis(r.submitted_at).china_display(),
                    institution_id: r.institution_id,
                    name: r.name,
                    region_name,
                    kind: r.kind,
                    version: r.version,
                }
            })
            .collect();
        Ok(crate::views::Page {
            items,
            total: u64::try_from(rows.total).unwrap_or(0),
            page: paging.page(),
            per_page: paging.per_page(),
        })
    }

    /// The competent reviewer approves the submitted filing (an applying institution is listed, grey until
    /// its supervised account is confirmed) or rejects it with a reason per field.
    pub async fn decide_filing(
        self,
        actor: &Actor,
        institution_id: &str,
        decision: &Decision,
    ) -> Result<FilingView, AppError> {
        let institution = self.institution_row(institution_id).await?;
        let id = institution.id.clone();
        let premises = RegionCode::parse(&institution.region_code)?;
        let mode = TeachingMode::parse(&institution.mode)?;
        let competent = match actor {
            Actor::Regulator { region, .. } => {
                actor.has(Permission::ReviewFiling) && regulator_reviews(region, mode, &premises)
            }
            _ => false,
        };
        if !competent {
            let details = json!({"permission": "ReviewFiling", "competent_region": competent_region(mode, &premises).as_str()});
            return Err(self
                .deny(
                    actor,
                    &format!("institution:{id}"),
                    details,
                    "您不是该事项的主管审核部门",
                    "not the competent reviewer",
                )
                .await);
        }
        let field_reasons = if decision.approve {
            None
        } else {
            if decision.field_reasons.is_empty() {
                return Err(AppError::new(
                    ErrorCode::InvalidParameter,
                    "退回意见：退回须至少指出一个项目及原因",
                    "field_reasons: a rejection names at least one field and why",
                )
                .on("field_reasons"));
            }
            for (field, reason) in &decision.field_reasons {
                if !FIELDS.iter().any(|(p, _)| p == field) {
                    return Err(AppError::new(
                        ErrorCode::InvalidParameter,
                        format!("退回意见：没有“{field}”这一项"),
                        format!("field_reasons: no field {field}"),
                    ));
                }
                text(field, reason, 200)?;
            }
            Some(
                serde_json::to_string(&decision.field_reasons)
                    .map_err(|e| AppError::internal(e.to_string()))?,
            )
        };
        let now = self.clock.now();
        let at = now.millis();
        let mut tx = self.store.begin_write().await?;
        let latest = tx
            .filings()
            .latest_filing(&id)
            .await?
            .filter(|v| v.status == FilingStatus::Submitted)
            .ok_or_else(|| {
                AppError::new(
                    ErrorCode::Conflict,
                    "没有待审核的内容",
                    "nothing is waiting for review",
                )
            })?;
        let event = if decision.approve {
            FilingEvent::Approve
        } else {
            FilingEvent::Reject
        };
        tx.filings()
            .decide_filing(
                &id,
                latest.version,
                event,
                &actor.audit_name(),
                field_reasons.as_deref(),
                at,
            )
            .await?;
        let mut entries = vec![crate::evidence::record(
            &actor.audit_name(),
            at,
            if decision.approve {
                Action::FilingApproved
            } else {
                Action::FilingRejected
            },
            format!("institution:{id}"),
            json!({"version": latest.version, "field_reasons": decision.field_reasons}),
        )];
        let listed =
            decision.approve && institution.registry_state == domain::RegistryState::Applying;
        let mut changed = false;
        if decision.approve {
            let filing: Filing = serde_json::from_str(&latest.data)
                .map_err(|e| AppError::internal(format!("stored filing: {e}")))?;
            let (name, address, licence) = (
                filing.basic.name.trim(),
                filing.premises.address.trim(),
                filing.licence.school_licence_no.trim(),
            );
            let mut changes = Vec::new();
            if name != institution.name {
                changes.push(format!("名称由“{}”变更为“{name}”", institution.name));
            }
            if address != institution.address {
                changes.push(format!("地址由“{}”变更为“{address}”", institution.address));
            }
            if institution.licence_no.as_deref() != Some(licence) {
                changes.push(format!("办学许可证号为{licence}"));
            }
            tx.registry()
                .apply_filed_record(&id, name, address, licence, at)
                .await?;
            changed = !changes.is_empty();
            if listed {
                let reason = APPROVED_AWAITING_FUNDS;
                let change = ListChangeRow {
                    id: ListChangeId::new_v7().to_string(),
                    institution_id: id.clone(),
                    from_status: None,
                    to_status: ListStatus::Grey.as_str().to_owned(),
                    reason: reason.to_owned(),
                    actor: actor.audit_name(),
                    at,
                };
                tx.registry()
                    .set_registry_state(&id, domain::RegistryEvent::List, at)
                    .await?;
                tx.registry()
                    .set_list_status(&id, ListStatus::Grey, reason, at)
                    .await?;
                tx.registry()
                    .insert_list_changes(std::slice::from_ref(&change))
                    .await?;
                entries.push(evidence::list_changed(actor, now, &change));
            } else if changed {
                // 变更公示: the public record changed; the public is told, and the plate on the wall is
                // replaced so that a scan of the old one says "superseded".
                let notice = store::NoticeRow {
                    id: uuid::Uuid::now_v7().to_string(),
                    kind: "announcement".into(),
                    institution_id: Some(id.clone()),
                    region_code: institution.region_code.clone(),
                    title: format!("关于{name}信息变更的公示"),
                    body: format!(
                        "经审核，{}。公示期{}天。",
                        changes.join("；"),
                        self.change_notice_days
                    ),
                    published_at: at,
                    until_at: Some(at + i64::from(self.change_notice_days) * 86_400_000),
                };
                tx.registry()
                    .insert_notices(std::slice::from_ref(&notice))
                    .await?;
                entries.push(evidence::notice_published(actor, now, &notice));
                if institution.list_status == domain::ListStatus::White {
                    self.issue_plate_in(&mut tx, actor, &id, at).await?;
                }
            }
        }
        tx.append_audit(entries).await?;
        tx.commit().await?;
        if listed || changed {
            self.reindex(&id).await?;
        }
        self.filing_view(&self.institution_row(&id).await?).await
    }
}

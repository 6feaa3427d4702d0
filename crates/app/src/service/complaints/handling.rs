//! A complaint after it is filed: the institution answers within its deadline, the parent accepts or escalates,
//! and the competent regulator rules, with money actions on the order (refund, freeze).

use super::{
    ComplaintAnswer, ComplaintRulingRequest, ComplaintView, MAX_BODY_CHARS, MONEY_ACTIONS,
    OUTCOMES, label,
};
use crate::lessons::window_end;
use crate::refunds::refund_of_rest_in;
use crate::service::Service;
use crate::{Actor, AppError, ErrorCode, evidence};
use domain::Action;
use domain::access::Permission;
use domain::{RefundEvent, RegionCode, Timestamp};
use serde_json::json;
use store::ComplaintRuling;

impl<'a> Service<'a> {
    /// The institution's customer service answers (once).
    pub async fn answer_complaint(
        self,
        actor: &Actor,
        id: &str,
        answer: &ComplaintAnswer,
    ) -> Result<ComplaintView, AppError> {
        self.require(actor, Permission::HandleCustomerCases).await?;
        let institution_id = self.own_institution(actor).await?;
        let text = answer.answer.trim();
        if text.is_empty() || text.chars().count() > MAX_BODY_CHARS {
            return Err(AppError::new(
                ErrorCode::FieldTooLong,
                format!("答复：须为1至{MAX_BODY_CHARS}个字符"),
                format!("answer: 1 to {MAX_BODY_CHARS} characters"),
            ));
        }
        let now = self.clock.now().millis();
        let mut tx = self.store.begin_write().await?;
        let complaint = tx
            .complaints()
            .complaint(id.trim())
            .await?
            .filter(|c| c.institution_id == institution_id)
            .ok_or_else(|| {
                AppError::not_found(
                    "本机构没有这件投诉",
                    "no such complaint to your institution",
                )
            })?;
        if tx
            .complaints()
            .answer_complaint(&complaint.id, text, now)
            .await?
            != 1
        {
            return Err(AppError::new(
                ErrorCode::Conflict,
                "该投诉已不在机构处理阶段",
                "the complaint is no longer with the institution",
            ));
        }
        tx.append_audit(vec![evidence::record(
            &actor.audit_name(),
            now,
            Action::ComplaintAnswered,
            format!("institution:{institution_id}"),
            json!({"complaint": complaint.id, "answer": text}),
        )])
        .await?;
        self.notify_by_sms_in(
            &mut tx,
            std::slice::from_ref(&complaint.parent_id),
            "机构已答复您的投诉",
            &format!(
                "投诉 {} 已有答复，请查看并确认是否接受",
                complaint.complaint_no
            ),
            now,
        )
        .await?;
        tx.commit().await?;
        self.complaint_by_id(&complaint.id).await
    }

    /// The parent accepts the institution's answer: the complaint is closed.
    pub async fn accept_complaint(
        self,
        actor: &Actor,
        id: &str,
    ) -> Result<ComplaintView, AppError> {
        let parent_id = self.require_parent(actor).await?.to_owned();
        let now = self.clock.now().millis();
        let mut tx = self.store.begin_write().await?;
        let complaint = self.parents_complaint_in(&mut tx, &parent_id, id).await?;
        if tx.complaints().accept_complaint(&complaint.id, now).await? != 1 {
            return Err(AppError::new(
                ErrorCode::Conflict,
                "只有机构已答复的投诉可以确认接受",
                "only an answered complaint can be accepted",
            ));
        }
        tx.append_audit(vec![evidence::record(
            &actor.audit_name(),
            now,
            Action::ComplaintAccepted,
            format!("institution:{}", complaint.institution_id),
            json!({"complaint": complaint.id}),
        )])
        .await?;
        tx.commit().await?;
        self.complaint_by_id(&complaint.id).await
    }

    /// The parent takes the complaint to the competent regulator: after an answer it does not accept, or
    /// when the institution's deadline passed without one.
    pub async fn escalate_complaint(
        self,
        actor: &Actor,
        id: &str,
    ) -> Result<ComplaintView, AppError> {
        let parent_id = self.require_parent(actor).await?.to_owned();
        let now = self.clock.now();
        let mut tx = self.store.begin_write().await?;
        let complaint = self.parents_complaint_in(&mut tx, &parent_id, id).await?;
        let overdue = complaint
            .status
            .institution_overdue(now.millis(), complaint.answer_by);
        if !complaint.status.may_escalate(overdue) {
            return Err(AppError::new(
                ErrorCode::Conflict,
                format!(
                    "机构可在{}前答复；机构答复后或逾期未答复的，投诉方可提交监管部门",
                    Timestamp::from_millis(complaint.answer_by).china_display()
                ),
                format!(
                    "the institution may answer until {}; a complaint goes to the regulator after its answer or once that passes",
                    Timestamp::from_millis(complaint.answer_by).china_display()
                ),
            ));
        }
        let institution = self
            .store
            .read()
            .registry()
            .institution(&complaint.institution_id)
            .await?
            .ok_or_else(|| AppError::internal("complaint about a missing institution"))?;
        let competent = crate::regions::competent_region_of(&institution)?;
        let window = self
            .registry()
            .region_policy(competent.as_str())
            .await?
            .policy
            .complaint_ruling_working_days;
        let ruling_by = window_end(now.china_date(), window);
        if tx
            .complaints()
            .escalate_complaint(
                &complaint.id,
                complaint.status,
                competent.as_str(),
                now.millis(),
                ruling_by,
            )
            .await?
            != 1
        {
            return Err(AppError::new(
                ErrorCode::Conflict,
                "该投诉刚刚已有新进展",
                "the complaint moved on meanwhile",
            ));
        }
        tx.append_audit(vec![evidence::record(
            &actor.audit_name(),
            now.millis(),
            Action::ComplaintEscalated,
            format!("institution:{}", complaint.institution_id),
            json!({"complaint": complaint.id, "regulator_region": competent.as_str(),
                   "institution_overdue": overdue}),
        )])
        .await?;
        let mut told = tx.inbox().regulator_accounts_of(competent.as_str()).await?;
        told.extend(
            tx.inbox()
                .staff_accounts_of(&complaint.institution_id)
                .await?,
        );
        self.notify_in(
            &mut tx,
            &told,
            "投诉已提交监管部门",
            &format!(
                "投诉 {}（{}）已提交监管部门，须于 {} 前处理",
                complaint.complaint_no,
                institution.name,
                Timestamp::from_millis(ruling_by).china_display()
            ),
            now.millis(),
        )
        .await?;
        tx.commit().await?;
        self.complaint_by_id(&complaint.id).await
    }

    /// The competent regulator rules: an outcome, its reasons, and what happens to the order's money.
    pub async fn rule_on_complaint(
        self,
        actor: &Actor,
        id: &str,
        req: &ComplaintRulingRequest,
    ) -> Result<ComplaintView, AppError> {
        self.require(actor, Permission::SuperviseInstitution)
            .await?;
        let complaint = self
            .store
            .read()
            .complaints()
            .complaint(id.trim())
            .await?
            .ok_or_else(|| AppError::not_found("没有这件投诉", "no such complaint"))?;
        // Who may rule is settled before anything about the complaint's state is said: a regulator not over
        // the institution learns nothing more than that it may not.
        let subject = format!("institution:{}", complaint.institution_id);
        let institution = self
            .store
            .read()
            .registry()
            .institution(&complaint.institution_id)
            .await?
            .ok_or_else(|| AppError::internal("complaint of a missing institution"))?;
        self.require_regulator_over(
            actor,
            Permission::SuperviseInstitution,
            &RegionCode::parse(&institution.region_code)?,
            &subject,
        )
        .await?;
        let region = match &complaint.regulator_region {
            Some(r) => RegionCode::parse(r)?,
            None => {
                return Err(AppError::new(
                    ErrorCode::Conflict,
                    "该投诉尚未提交监管部门",
                    "the complaint has not been taken to a regulator",
                ));
            }
        };
        self.require_regulator_over(
            actor,
            Permission::SuperviseInstitution,
            &region,
            &format!("institution:{}", complaint.institution_id),
        )
        .await?;
        if !OUTCOMES.iter().any(|(k, _)| *k == req.outcome) {
            return Err(AppError::new(
                ErrorCode::InvalidParameter,
                "处理结果：须为调解、处罚或驳回",
                "outcome: mediated, penalised or dismissed",
            )
            .on("outcome"));
        }
        let money_action = match req.money_action.trim() {
            "" => "none",
            a => a,
        };
        if !MONEY_ACTIONS.iter().any(|(k, _)| *k == money_action) {
            return Err(AppError::new(
                ErrorCode::InvalidParameter,
                "资金处理：须为不处理、冻结或退费",
                "money_action: none, freeze or refund",
            )
            .on("money_action"));
        }
        let ruling = crate::error::stated_reason("ruling", &req.ruling)?;
        if money_action != "none" && complaint.order_id.is_none() {
            return Err(AppError::new(
                ErrorCode::InvalidParameter,
                "资金处理：该投诉未关联订单，无法处理资金",
                "money_action: the complaint names no order to act on",
            )
            .on("money_action"));
        }
        let by = actor.audit_name();
        let now = self.clock.now().millis();
        let mut tx = self.store.begin_write().await?;
        let decided = ComplaintRuling {
            outcome: &req.outcome,
            ruling,
            money_action,
            by: &by,
            at: now,
        };
        if tx
            .complaints()
            .resolve_complaint(&complaint.id, &decided)
            .await?
            != 1
        {
            return Err(AppError::new(
                ErrorCode::Conflict,
                "只有已提交监管部门的投诉可以作出处理决定",
                "only an escalated complaint can be ruled on",
            ));
        }
        let mut money = json!(null);
        if let Some(order_id) = &complaint.order_id
            && money_action != "none"
        {
            let order = tx
                .orders()
                .order_for_update(order_id)
                .await?
                .ok_or_else(|| AppError::internal("complaint of a missing order"))?;
            let reason = format!("投诉 {}：{ruling}", complaint.complaint_no);
            if money_action == "freeze" {
                tx.orders()
                    .freeze_orders(std::slice::from_ref(&order.id), &reason, now)
                    .await?;
                money = json!({"frozen": order.id});
            } else {
                let refund = refund_of_rest_in(&mut tx, &order, &reason, now, now).await?;
                crate::money::Money::grant_in(
                    &mut tx,
                    &refund,
                    RefundEvent::Enforce,
                    &by,
                    None,
                    now,
                )
                .await?;
                money = json!({"refund": refund.id, "amount_fen": refund.amount_fen});
            }
        }
        tx.append_audit(vec![evidence::record(
            &by,
            now,
            Action::ComplaintResolved,
            format!("institution:{}", complaint.institution_id),
            json!({"complaint": complaint.id, "outcome": req.outcome, "ruling": ruling,
                   "money_action": money_action, "money": money}),
        )])
        .await?;
        let mut told = vec![complaint.parent_id.clone()];
        told.extend(
            tx.inbox()
                .staff_accounts_of(&complaint.institution_id)
                .await?,
        );
        self.notify_by_sms_in(
            &mut tx,
            &told,
            "投诉处理结果",
            &format!(
                "投诉 {}：{}（{}）",
                complaint.complaint_no,
                label(OUTCOMES, &req.outcome),
                label(MONEY_ACTIONS, money_action)
            ),
            now,
        )
        .await?;
        tx.commit().await?;
        self.complaint_by_id(&complaint.id).await
    }
}

//! 退费 refunds: the parent asks for the unconsumed part of an order — the lessons not yet taken, at the price
//! actually paid (`domain::contract::refund_after`, the function behind the refund preview). The institution
//! agrees or refuses with a reason within the region's window (5 working days by default); silence agrees. A
//! refusal may be escalated to the competent regulator, who upholds or dismisses it. An agreed or upheld refund
//! closes the order to new lessons and becomes a bank instruction by the original route, in the same transaction.

use crate::bank::instruct_in;
use crate::events;
use crate::inbox::{Note, notify_each_in};
use crate::lessons::window_end;
use crate::money::Money;
use crate::{Actor, AppError, ErrorCode, evidence};
use domain::Action;
use domain::access::Permission;
use domain::contract::refund_after;
use domain::{Fen, InstructionStatus, Machine, OrderStatus, RefundEvent, RefundStatus, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::json;
use store::{RefundDecision, RefundRow, WriteTx};

/// `POST /api/v1/parent/orders/{id}/refund`.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
pub struct RefundRequest {
    pub reason: String,
}

/// `POST /api/v1/institution/refunds/{id}/answer` and `POST /api/v1/regulator/refunds/{id}/ruling`.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
pub struct RefundAnswer {
    /// Institution: agree; regulator: uphold the parent's request.
    pub agree: bool,
    /// Required when refusing or dismissing.
    #[serde(default)]
    pub reason: String,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct RefundView {
    pub id: String,
    pub order_id: String,
    pub lessons_taken: i64,
    pub amount_fen: i64,
    pub amount_display: String,
    pub reason: String,
    pub status: RefundStatus,
    pub status_label: &'static str,
    /// When the institution's time to answer ends (unix ms); silence then agrees.
    pub answer_by: i64,
    pub answer_by_display: String,
    pub answer_reason: Option<String>,
    /// The refund instruction's state, once there is one.
    pub instruction_status: Option<InstructionStatus>,
}

/// May `actor` ask for the rest of this order back: its parent, the order paid and open, no request being
/// decided. (`request_refund` enforces the same; pages use this to offer the form.)
pub fn may_request_refund(
    actor: &Actor,
    order: &crate::orders::OrderDetail,
    refunds: &[RefundView],
) -> bool {
    matches!(actor, Actor::Parent { .. })
        && order.line.status == OrderStatus::Paid
        && !order.closed
        && !refunds.iter().any(|r| r.status.is_open())
}

/// A refund request for the rest of a paid, open order with no other request being decided: the untaken
/// lessons at the price paid. Inserted as `requested`, answerable until `answer_by`.
pub(crate) async fn refund_of_rest_in(
    tx: &mut WriteTx,
    order: &store::OrderRow,
    reason: &str,
    now: i64,
    answer_by: i64,
) -> Result<RefundRow, AppError> {
    if order.status != OrderStatus::Paid || order.closed_at.is_some() {
        return Err(AppError::new(
            ErrorCode::Conflict,
            "只有已付款且未结束的订单可以退费",
            "only a paid, open order can be refunded",
        ));
    }
    if tx.refunds().open_refund(&order.id).await?.is_some() {
        return Err(AppError::new(
            ErrorCode::Conflict,
            "该订单的退费申请正在处理中",
            "a refund of this order is being decided",
        ));
    }
    let taken = tx.lessons().lesson_count(&order.id).await?;
    let lessons = u32::try_from(order.lessons).map_err(|_| AppError::internal("lessons"))?;
    let amount = refund_after(
        Fen::new(order.amount_fen),
        lessons,
        u32::try_from(taken).map_err(|_| AppError::internal("lessons taken"))?,
    )
    .ok_or_else(|| AppError::internal("refund amount"))?;
    if amount.get() <= 0 {
        return Err(AppError::new(
            ErrorCode::Conflict,
            "该订单的课时已全部消课，没有可退的余额",
            "every lesson of the order is taken: nothing is left to refund",
        ));
    }
    let row = RefundRow {
        id: uuid::Uuid::now_v7().to_string(),
        order_id: order.id.clone(),
        institution_id: order.institution_id.clone(),
        parent_id: order.parent_id.clone(),
        lessons_taken: taken,
        amount_fen: amount.get(),
        reason: reason.to_owned(),
        status: RefundStatus::Requested,
        answer_by,
        answer_reason: None,
        decided_by: None,
        decided_at: None,
        instruction_id: None,
        created_at: now,
    };
    tx.refunds().insert_refund(&row).await?;
    Ok(row)
}

impl<'a> Money<'a> {
    /// The parent asks for the rest of an order back.
    pub async fn request_refund(
        self,
        actor: &Actor,
        order_id: &str,
        req: &RefundRequest,
    ) -> Result<RefundView, AppError> {
        let parent_id = self.require_parent(actor).await?.to_owned();
        let reason = crate::error::stated_reason("reason", &req.reason)?;
        let now = self.clock.now();
        let mut tx = self.store.begin_write().await?;
        let order = tx
            .orders()
            .order_for_update(order_id.trim())
            .await?
            .filter(|o| o.parent_id == parent_id)
            .ok_or_else(|| AppError::not_found("您没有这个订单", "no such order of yours"))?;
        let institution = self
            .store
            .read()
            .registry()
            .institution(&order.institution_id)
            .await?
            .ok_or_else(|| AppError::internal("order of a missing institution"))?;
        let window = self
            .registry()
            .region_policy(&institution.region_code)
            .await?
            .policy
            .refund_response_working_days;
        let row = refund_of_rest_in(
            &mut tx,
            &order,
            reason,
            now.millis(),
            window_end(now.china_date(), window),
        )
        .await?;
        let taken = row.lessons_taken;
        let staff = tx.inbox().staff_accounts_of(&order.institution_id).await?;
        let notes: Vec<Note> = staff
            .iter()
            .map(|a| {
                Note::new(
                    a,
                    "收到退费申请",
                    &format!(
                        "订单 {} 申请退还 {}，请于 {} 前答复（逾期视为同意）",
                        order.order_no,
                        domain::money::yuan(row.amount_fen),
                        Timestamp::from_millis(row.answer_by).china_display()
                    ),
                )
            })
            .collect();
        notify_each_in(&mut tx, &notes, true, now.millis()).await?;
        tx.append_audit(vec![evidence::record(
            &actor.audit_name(),
            now.millis(),
            Action::RefundRequested,
            format!("institution:{}", order.institution_id),
            events::public(
                &events::RefundRequested {
                    refund: row.id.clone(),
                    order: order.id.clone(),
                    amount_fen: row.amount_fen,
                    lessons_taken: taken,
                    reason: reason.to_owned(),
                },
                json!({}),
            ),
        )])
        .await?;
        tx.commit().await?;
        self.refund_view(row).await
    }

    /// The institution agrees (the refund is instructed) or refuses with a reason.
    pub async fn answer_refund(
        self,
        actor: &Actor,
        refund_id: &str,
        answer: &RefundAnswer,
    ) -> Result<RefundView, AppError> {
        self.require(actor, Permission::HandleCustomerCases).await?;
        let institution_id = self.own_institution(actor).await?;
        let now = self.clock.now().millis();
        let mut tx = self.store.begin_write().await?;
        let refund = Self::locked_refund(&mut tx, refund_id.trim())
            .await?
            .filter(|r| r.institution_id == institution_id)
            .ok_or_else(|| {
                AppError::not_found(
                    "本机构没有这项退费申请",
                    "no such refund request to your institution",
                )
            })?;
        Self::decide_in(
            &mut tx,
            &refund,
            (RefundEvent::Agree, RefundEvent::Refuse),
            actor,
            answer,
            now,
        )
        .await?;
        tx.commit().await?;
        self.refund_by_id(&refund.id).await
    }

    /// The parent takes a refused refund to the competent regulator.
    pub async fn escalate_refund(
        self,
        actor: &Actor,
        refund_id: &str,
    ) -> Result<RefundView, AppError> {
        let parent_id = self.require_parent(actor).await?.to_owned();
        let now = self.clock.now().millis();
        let mut tx = self.store.begin_write().await?;
        let refund = Self::locked_refund(&mut tx, refund_id.trim())
            .await?
            .filter(|r| r.parent_id == parent_id)
            .ok_or_else(|| {
                AppError::not_found("您没有这项退费申请", "no such refund request of yours")
            })?;
        Self::move_refund(
            &mut tx,
            &refund,
            RefundEvent::Escalate,
            &actor.audit_name(),
            None,
            now,
        )
        .await?;
        tx.commit().await?;
        self.refund_by_id(&refund.id).await
    }

    /// The competent regulator (county for offline institutions, province for online) upholds an escalated
    /// refund (it is instructed) or dismisses it with a reason.
    pub async fn rule_on_refund(
        self,
        actor: &Actor,
        refund_id: &str,
        ruling: &RefundAnswer,
    ) -> Result<RefundView, AppError> {
        let refund = self
            .store
            .read()
            .refunds()
            .refund(refund_id.trim())
            .await?
            .ok_or_else(|| AppError::not_found("没有这项退费申请", "no such refund request"))?;
        let institution = self
            .store
            .read()
            .registry()
            .institution(&refund.institution_id)
            .await?
            .ok_or_else(|| AppError::internal("refund of a missing institution"))?;
        let competent = crate::regions::competent_region_of(&institution)?;
        let subject = format!("institution:{}", institution.id);
        self.require_regulator_over(
            actor,
            Permission::SuperviseInstitution,
            &competent,
            &subject,
        )
        .await?;
        let now = self.clock.now().millis();
        let mut tx = self.store.begin_write().await?;
        // Read again inside the transaction, its order locked: the decision must see the refund as it is now.
        let refund = Self::locked_refund(&mut tx, &refund.id)
            .await?
            .ok_or_else(|| AppError::internal("refund vanished"))?;
        Self::decide_in(
            &mut tx,
            &refund,
            (RefundEvent::Uphold, RefundEvent::Dismiss),
            actor,
            ruling,
            now,
        )
        .await?;
        tx.commit().await?;
        self.refund_by_id(&refund.id).await
    }

    /// The timer: requests the institution left unanswered past their window are agreed, each in its own
    /// transaction on its locked order; one that cannot be granted does not hold up the others. Returns how
    /// many were agreed.
    pub async fn auto_agree_due(self) -> Result<usize, AppError> {
        let now = self.clock.now().millis();
        let due = self.store.read().refunds().refunds_due(now, 200).await?;
        let mut agreed = 0;
        for refund in &due {
            match self.auto_agree_one(&refund.id, now).await {
                Ok(true) => agreed += 1,
                Ok(false) => {}
                Err(e) => {
                    tracing::warn!(refund = %refund.id, error = %e, "agreeing a refund by silence")
                }
            }
        }
        Ok(agreed)
    }

    async fn auto_agree_one(self, refund_id: &str, now: i64) -> Result<bool, AppError> {
        let mut tx = self.store.begin_write().await?;
        let Some(refund) = Self::locked_refund(&mut tx, refund_id).await? else {
            return Ok(false);
        };
        if refund.status != RefundStatus::Requested || refund.answer_by > now {
            return Ok(false);
        }
        Self::grant_in(
            &mut tx,
            &refund,
            RefundEvent::Agree,
            "system:refund_timer",
            None,
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// A refund request with its order locked first and the request read after it, as it stands once no
    /// other command on the order can move it.
    async fn locked_refund(tx: &mut WriteTx, id: &str) -> Result<Option<RefundRow>, AppError> {
        let Some(first) = tx.refunds().refund(id).await? else {
            return Ok(None);
        };
        tx.orders().order_for_update(&first.order_id).await?;
        Ok(tx.refunds().refund(id).await?)
    }

    /// An answer to a refund: granted (`outcomes.0`) or refused with its reason (`outcomes.1`).
    async fn decide_in(
        tx: &mut WriteTx,
        refund: &RefundRow,
        outcomes: (RefundEvent, RefundEvent),
        actor: &Actor,
        answer: &RefundAnswer,
        now: i64,
    ) -> Result<(), AppError> {
        let by = actor.audit_name();
        if answer.agree {
            Self::grant_in(tx, refund, outcomes.0, &by, None, now).await
        } else {
            let reason = crate::error::stated_reason("reason", &answer.reason)?;
            Self::move_refund(tx, refund, outcomes.1, &by, Some(reason), now).await
        }
    }

    /// Grants a refund: instructs the bank to return the amount by the original route and closes the order to
    /// new lessons.
    pub(crate) async fn grant_in(
        tx: &mut WriteTx,
        refund: &RefundRow,
        event: RefundEvent,
        by: &str,
        reason: Option<&str>,
        now: i64,
    ) -> Result<(), AppError> {
        let to = refund.status.apply(event)?;
        let order = tx
            .orders()
            .order_for_update(&refund.order_id)
            .await?
            .ok_or_else(|| AppError::internal("refund of a missing order"))?;
        let instruction =
            instruct_in(tx, by, "refund", &order, refund.amount_fen, None, now).await?;
        let decision = RefundDecision {
            event,
            by,
            at: now,
            answer_reason: reason,
            instruction_id: Some(&instruction.id),
        };
        Self::decide_refund_in(tx, refund, &decision).await?;
        tx.orders().close_order(&order.id, now).await?;
        let note = Note::new(
            &refund.parent_id,
            "退费已同意",
            &format!(
                "订单 {} 的退费 {}（{}）已向银行发出原路退回指令",
                order.order_no,
                domain::money::yuan(refund.amount_fen),
                to.label_zh()
            ),
        );
        notify_each_in(tx, std::slice::from_ref(&note), true, now).await?;
        tx.append_audit(vec![evidence::record(
            by,
            now,
            Action::refund_moved(to),
            format!("institution:{}", refund.institution_id),
            events::public(
                &events::RefundAgreed {
                    refund: refund.id.clone(),
                    order: refund.order_id.clone(),
                    amount_fen: refund.amount_fen,
                    instruction: instruction.id.clone(),
                },
                json!({}),
            ),
        )])
        .await?;
        Ok(())
    }

    /// Records a decision the refund as read allows (the caller applied it), refused when another command
    /// moved the refund first.
    async fn decide_refund_in(
        tx: &mut WriteTx,
        refund: &RefundRow,
        decision: &RefundDecision<'_>,
    ) -> Result<(), AppError> {
        if tx.refunds().decide_refund(&refund.id, decision).await? != 1 {
            return Err(AppError::new(
                ErrorCode::Conflict,
                "该退费申请刚刚已有处理结果",
                "the refund was decided meanwhile",
            ));
        }
        Ok(())
    }

    async fn move_refund(
        tx: &mut WriteTx,
        refund: &RefundRow,
        event: RefundEvent,
        by: &str,
        reason: Option<&str>,
        now: i64,
    ) -> Result<(), AppError> {
        let to = refund.status.apply(event)?;
        let decision = RefundDecision {
            event,
            by,
            at: now,
            answer_reason: reason,
            instruction_id: None,
        };
        Self::decide_refund_in(tx, refund, &decision).await?;
        if to != RefundStatus::Escalated {
            let note = Note::new(
                &refund.parent_id,
                "退费申请有了答复",
                &format!(
                    "退费 {}：{}。理由：{}",
                    domain::money::yuan(refund.amount_fen),
                    to.label_zh(),
                    reason.unwrap_or("")
                ),
            );
            notify_each_in(tx, std::slice::from_ref(&note), true, now).await?;
        }
        tx.append_audit(vec![evidence::record(
            by,
            now,
            Action::refund_moved(to),
            format!("institution:{}", refund.institution_id),
            json!({"refund": refund.id, "order": refund.order_id, "reason": reason}),
        )])
        .await?;
        Ok(())
    }

    /// An order's refund requests, for whoever may see the order.
    pub async fn refunds_of_order(
        self,
        actor: &Actor,
        order_id: &str,
    ) -> Result<Vec<RefundView>, AppError> {
        let order = self.visible_order(actor, order_id).await?;
        let mut views = Vec::new();
        for row in self
            .store
            .read()
            .refunds()
            .refunds_of_order(&order.id)
            .await?
        {
            views.push(self.refund_view(row).await?);
        }
        Ok(views)
    }

    async fn refund_by_id(self, id: &str) -> Result<RefundView, AppError> {
        let row = self.store.read().refunds().refund(id).await?;
        self.refund_view(row.ok_or_else(|| AppError::internal("refund vanished"))?)
            .await
    }

    async fn refund_view(self, r: RefundRow) -> Result<RefundView, AppError> {
        let instruction_status = match &r.instruction_id {
            Some(id) => self
                .store
                .read()
                .instructions()
                .instruction(id)
                .await?
                .map(|i| i.status),
            None => None,
        };
        Ok(RefundView {
            status_label: r.status.label_zh(),
            amount_display: domain::money::yuan(r.amount_fen),
            answer_by: r.answer_by,
            answer_by_display: Timestamp::from_millis(r.answer_by).china_display(),
            id: r.id,
            order_id: r.order_id,
            lessons_taken: r.lessons_taken,
            amount_fen: r.amount_fen,
            reason: r.reason,
            status: r.status,
            answer_reason: r.answer_reason,
            instruction_status,
        })
    }
}

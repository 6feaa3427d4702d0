//! Changes to an order after it is placed: a discounted price before payment (优惠), and moving the remaining
//! lessons to another class (转班).

use super::OrderDetail;
use crate::money::Money;
use crate::{Actor, AppError, ErrorCode, evidence};
use domain::Action;
use domain::access::Permission;
use domain::contract::{self, Contract};
use domain::money::yuan;
use domain::{OrderStatus, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// `POST /api/v1/institution/orders/{id}/discount`: a preferential price for one order, before it is paid.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
pub struct OrderDiscount {
    /// What the parent is to pay for the whole order, in fen: above zero, at most the list price.
    pub total_fen: i64,
    /// Why, for the contract and the parent, e.g. "老学员九折".
    pub reason: String,
}

/// `POST /api/v1/parent/orders/{id}/transfer`.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct ClassTransferRequest {
    /// Another course of the same institution, on sale, at the same price per lesson.
    pub course_id: String,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ClassTransferView {
    pub from_course: String,
    pub to_course: String,
    pub lessons_remaining: i64,
    pub at_display: String,
}

impl<'a> Money<'a> {
    /// 优惠 the institution sets the price an order awaiting payment is to be paid at: the contract is
    /// written again with the list price, the discount and its reason (a new digest), and the parent is told
    /// to read it before paying. Every lesson fee, release and refund then follows the price paid. Staff who
    /// manage courses; the order locked, so a payment arriving at the same moment is for one price or the other.
    pub async fn discount_order(
        self,
        actor: &Actor,
        order_id: &str,
        req: &OrderDiscount,
    ) -> Result<OrderDetail, AppError> {
        self.require(actor, Permission::ManageCourses).await?;
        let institution_id = self.own_institution(actor).await?;
        let reason = crate::error::stated_reason("reason", &req.reason)?;
        let now = self.clock.now().millis();
        let mut tx = self.store.begin_write().await?;
        let order = tx
            .orders()
            .order_for_update(order_id.trim())
            .await?
            .filter(|o| o.institution_id == institution_id)
            .ok_or_else(|| {
                AppError::not_found("本机构没有这个订单", "no such order of your institution")
            })?;
        if order.status != OrderStatus::AwaitingPayment {
            return Err(AppError::new(
                ErrorCode::Conflict,
                "订单价格须在付款前确定",
                "the price of an order is set before it is paid",
            ));
        }
        let mut contract: Contract = serde_json::from_str(&order.contract_json)
            .map_err(|e| AppError::internal(format!("stored contract: {e}")))?;
        domain::money::ORDER_TOTAL.check("total_fen", req.total_fen)?;
        let list = contract.price.list_total_fen();
        contract.price = contract::Price::paid(
            contract.price.price_per_lesson_fen,
            contract.price.lessons,
            req.total_fen,
            reason,
        )
        .ok_or_else(|| {
            AppError::new(
                ErrorCode::InvalidParameter,
                format!("总价：须大于零且不超过原价{list}分"),
                format!("total_fen: above zero and at most the list price, {list} fen"),
            )
        })?;
        let value =
            serde_json::to_value(&contract).map_err(|e| AppError::internal(e.to_string()))?;
        let canonical = ledger::canonical_json(&value);
        let digest = hex::encode(self.store.crypto().hash(&[canonical.as_bytes()]));
        if tx
            .orders()
            .reprice_order(&order.id, req.total_fen, &canonical, &digest)
            .await?
            != 1
        {
            return Err(AppError::new(
                ErrorCode::Conflict,
                "订单刚刚已付款",
                "the order was paid meanwhile",
            ));
        }
        tx.append_audit(vec![evidence::record(
            &actor.audit_name(),
            now,
            Action::OrderDiscounted,
            format!("institution:{}", order.institution_id),
            json!({"order": order.id, "order_no": order.order_no, "list_total_fen": list,
                   "from_fen": order.amount_fen, "to_fen": req.total_fen, "reason": reason,
                   "contract_digest": digest}),
        )])
        .await?;
        let note = crate::inbox::Note::new(
            &order.parent_id,
            "机构调整了订单价格",
            &format!(
                "订单 {} 的应付金额由 {} 调整为 {}（{reason}），合同已更新，请核对后再支付。",
                order.order_no,
                yuan(order.amount_fen),
                yuan(req.total_fen)
            ),
        );
        crate::inbox::notify_each_in(&mut tx, std::slice::from_ref(&note), true, now).await?;
        tx.commit().await?;
        self.order_detail(&order.id).await
    }

    /// 转班: the parent moves the order's remaining lessons to another class of the same institution. The
    /// price per lesson must be the same, so every lesson fee, release and refund stays as the contract set it;
    /// the new class must have room for the lessons left.
    pub async fn transfer_class(
        self,
        actor: &Actor,
        order_id: &str,
        req: &ClassTransferRequest,
    ) -> Result<ClassTransferView, AppError> {
        let parent_id = self.require_parent(actor).await?.to_owned();
        let now = self.clock.now().millis();
        let mut tx = self.store.begin_write().await?;
        let order = tx
            .orders()
            .order_for_update(order_id.trim())
            .await?
            .filter(|o| o.parent_id == parent_id)
            .ok_or_else(|| AppError::not_found("您没有这个订单", "no such order of yours"))?;
        if order.status != OrderStatus::Paid
            || order.closed_at.is_some()
            || order.frozen_at.is_some()
        {
            return Err(AppError::new(
                ErrorCode::Conflict,
                "只有已付款、未结束且未冻结的订单可以转班",
                "only a paid, open order that is not frozen changes class",
            ));
        }
        if tx.refunds().open_refund(&order.id).await?.is_some() {
            return Err(AppError::new(
                ErrorCode::Conflict,
                "该订单的退费申请正在处理中",
                "a refund of this order is being decided",
            ));
        }
        let (institution, target) = self.course_on_sale(&req.course_id).await?;
        let current = self
            .store
            .read()
            .registry()
            .course(&order.course_id)
            .await?
            .ok_or_else(|| AppError::internal("order of a missing course"))?;
        if institution.summary.id != order.institution_id || target.id == current.id {
            return Err(AppError::new(
                ErrorCode::InvalidParameter,
                "课程：须为同一机构的另一个班级",
                "course_id: another class of the same institution",
            )
            .on("course_id"));
        }
        if institution.summary.list_status != domain::ListStatus::White {
            return Err(AppError::new(
                ErrorCode::NotWhiteListed,
                "该机构不在白名单上",
                "the institution is not on the white list",
            ));
        }
        let remaining = order.lessons - tx.lessons().lesson_count(&order.id).await?;
        if target.price_per_lesson_fen != current.price_per_lesson_fen || target.lessons < remaining
        {
            return Err(AppError::new(
                ErrorCode::PolicyViolation,
                format!(
                    "转班须保持每课时价格不变（现为{}分，新班级为{}分），且新班级须能容纳剩余的{remaining}课时（新班级共{}课时）",
                    current.price_per_lesson_fen, target.price_per_lesson_fen, target.lessons
                ),
                format!(
                    "a transfer keeps the price per lesson ({} fen; the new class {} fen) and needs room for the {remaining} lessons left (the new class has {})",
                    current.price_per_lesson_fen, target.price_per_lesson_fen, target.lessons
                ),
            ));
        }
        let row = store::ClassTransferRow {
            id: uuid::Uuid::now_v7().to_string(),
            order_id: order.id.clone(),
            from_course_id: current.id.clone(),
            to_course_id: target.id.clone(),
            lessons_remaining: remaining,
            transferred_by: actor.audit_name(),
            transferred_at: now,
        };
        if tx.orders().transfer_order(&row).await? != 1 {
            return Err(AppError::new(
                ErrorCode::Conflict,
                "订单刚刚发生了变化",
                "the order changed meanwhile",
            ));
        }
        tx.append_audit(vec![evidence::record(
            &actor.audit_name(),
            now,
            Action::ClassTransferred,
            format!("institution:{}", order.institution_id),
            json!({"order": order.id, "from_course": current.id, "to_course": target.id,
                   "lessons_remaining": remaining}),
        )])
        .await?;
        let staff = tx.inbox().staff_accounts_of(&order.institution_id).await?;
        self.service()
            .notify_in(
                &mut tx,
                &staff,
                "学员转班",
                &format!(
                    "订单 {} 由「{}」转至「{}」，剩余 {remaining} 课时",
                    order.order_no, current.name, target.name
                ),
                now,
            )
            .await?;
        tx.commit().await?;
        Ok(ClassTransferView {
            from_course: current.name,
            to_course: target.name,
            lessons_remaining: remaining,
            at_display: Timestamp::from_millis(now).china_display(),
        })
    }

    /// The order's class transfers, and the other classes it may move to (same institution, same price per
    /// lesson), for whoever may see the order.
    pub async fn class_transfers(
        self,
        actor: &Actor,
        order_id: &str,
    ) -> Result<(Vec<ClassTransferView>, Vec<crate::views::CourseView>), AppError> {
        let order = self.visible_order(actor, order_id).await?;
        let read = self.store.read();
        let mut done = Vec::new();
        for t in read.orders().class_transfers(&order.id).await? {
            let name = async |id: &str| {
                read.registry()
                    .course(id)
                    .await
                    .map(|c| c.map(|c| c.name).unwrap_or_default())
            };
            done.push(ClassTransferView {
                from_course: name(&t.from_course_id).await?,
                to_course: name(&t.to_course_id).await?,
                lessons_remaining: t.lessons_remaining,
                at_display: Timestamp::from_millis(t.transferred_at).china_display(),
            });
        }
        let current = read
            .registry()
            .course(&order.course_id)
            .await?
            .ok_or_else(|| AppError::internal("order of a missing course"))?;
        let options = self
            .registry()
            .institution_detail(&order.institution_id)
            .await?
            .courses
            .into_iter()
            .filter(|c| {
                c.id != current.id && c.price_per_lesson_fen == current.price_per_lesson_fen
            })
            .collect();
        Ok((done, options))
    }
}

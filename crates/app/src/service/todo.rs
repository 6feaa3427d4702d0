//! 待办 the parent end's first page: what waits for the parent's answer (lessons to confirm, complaints
//! answered), what is under way (refunds), and each order's money (paid, consumed, escrow left).

use crate::complaints::ComplaintView;
use crate::lessons::LessonView;
use crate::orders::OrderLine;
use crate::refunds::RefundView;
use crate::service::Service;
use crate::{Actor, AppError};
use domain::{InstructionStatus, OrderStatus, RefundStatus};
use serde::Serialize;

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ParentTodo {
    /// Lessons awaiting the parent's confirmation, oldest deadline first.
    pub lessons: Vec<LessonView>,
    /// Refunds not yet paid back.
    pub refunds: Vec<RefundView>,
    /// Complaints waiting for the parent: answered (accept or escalate), or past the institution's deadline.
    pub complaints: Vec<ComplaintView>,
    pub orders: Vec<OrderLine>,
}

impl<'a> Service<'a> {
    pub async fn parent_todo(self, actor: &Actor) -> Result<ParentTodo, AppError> {
        let orders = self.money().my_orders(actor).await?;
        let mut refunds = Vec::new();
        for o in orders.iter().filter(|o| o.status == OrderStatus::Paid) {
            refunds.extend(
                self.money()
                    .refunds_of_order(actor, &o.id)
                    .await?
                    .into_iter()
                    .filter(|r| r.instruction_status != Some(InstructionStatus::Executed))
                    .filter(|r| r.status != RefundStatus::Dismissed),
            );
        }
        let complaints = self
            .complaints_for(actor)
            .await?
            .into_iter()
            .filter(|c| c.may_escalate)
            .collect();
        Ok(ParentTodo {
            lessons: self.money().lessons_to_confirm(actor).await?,
            refunds,
            complaints,
            orders,
        })
    }
}

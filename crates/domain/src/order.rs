//! 订单: an order's payment state. Whether a paid order is closed or frozen is kept beside the state
//! (`closed_at`, `frozen_at`), because money rules ask about both at once.

use strum::IntoStaticStr;

use crate::state::Machine;

crate::state::states! {
    /// 订单状态
    pub enum OrderStatus("order") {
        /// 待支付
        #[strum(message = "待支付")]
        AwaitingPayment,
        /// 已支付: the money is in escrow at the supervising bank.
        #[strum(message = "已支付（资金监管中）")]
        Paid,
        /// 已取消
        #[strum(message = "已取消")]
        Cancelled,
    }
}

/// What can happen to an order's payment state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
pub enum OrderEvent {
    /// The bank reports the payment (支付到账).
    Pay,
    /// The parent or the platform cancels an unpaid order.
    Cancel,
}

impl Machine for OrderStatus {
    type Event = OrderEvent;
    const KIND: &'static str = "order";

    fn next(self, event: OrderEvent) -> Option<Self> {
        match (self, event) {
            (Self::AwaitingPayment, OrderEvent::Pay) => Some(Self::Paid),
            (Self::AwaitingPayment, OrderEvent::Cancel) => Some(Self::Cancelled),
            _ => None,
        }
    }
}

impl OrderStatus {
    /// The label a parent reads, where a paid order may already be closed (all lessons and refunds
    /// settled).
    pub fn label_for_parent(self, closed: bool) -> &'static str {
        match self {
            Self::Paid if closed => "已结清（订单关闭）",
            other => other.label_zh(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::{TransitionRefused, testing};

    #[test]
    fn only_an_unpaid_order_is_paid_or_cancelled() {
        use OrderStatus::*;
        assert_eq!(AwaitingPayment.apply(OrderEvent::Pay), Ok(Paid));
        assert_eq!(AwaitingPayment.apply(OrderEvent::Cancel), Ok(Cancelled));
        assert_eq!(
            Cancelled.apply(OrderEvent::Pay),
            Err(TransitionRefused {
                kind: "order",
                from: "cancelled",
                event: "pay",
                from_zh: OrderStatus::Cancelled.label_zh(),
            })
        );
        assert!(Paid.apply(OrderEvent::Cancel).is_err());
        assert_eq!(OrderStatus::sources(OrderEvent::Pay), vec![AwaitingPayment]);
    }

    #[test]
    fn stored_names_are_the_columns_values() {
        testing::round_trips::<OrderStatus>(
            OrderStatus::label_zh,
            &[OrderEvent::Pay, OrderEvent::Cancel],
        );
        assert_eq!(OrderStatus::AwaitingPayment.as_str(), "awaiting_payment");
        assert_eq!(
            serde_json::to_value(OrderStatus::Paid).ok(),
            Some("paid".into())
        );
        assert_eq!(
            OrderStatus::Paid.label_for_parent(true),
            "已结清（订单关闭）"
        );
    }
}

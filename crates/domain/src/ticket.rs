//! 客服工单: a question to the service desk (technical) or to regulators (policy). A reply from the desk
//! answers it, a reply from the opener reopens it, and either side may mark it resolved.

use strum::IntoStaticStr;

use crate::state::Machine;

crate::state::states! {
    /// 工单状态
    pub enum TicketStatus("ticket") {
        #[strum(message = "待答复")]
        Open,
        #[strum(message = "已答复")]
        Answered,
        #[strum(message = "已解决")]
        Resolved,
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
pub enum TicketEvent {
    /// The desk (or a regulator) replies.
    DeskReplies,
    /// The opener writes again.
    OpenerReplies,
    Resolve,
}

impl Machine for TicketStatus {
    type Event = TicketEvent;
    const KIND: &'static str = "ticket";

    fn next(self, event: TicketEvent) -> Option<Self> {
        if self == Self::Resolved {
            return None;
        }
        Some(match event {
            TicketEvent::DeskReplies => Self::Answered,
            TicketEvent::OpenerReplies => Self::Open,
            TicketEvent::Resolve => Self::Resolved,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::testing;

    #[test]
    fn a_resolved_ticket_stays_resolved() {
        use TicketEvent as E;
        use TicketStatus::*;
        assert_eq!(Open.apply(E::DeskReplies), Ok(Answered));
        assert_eq!(Answered.apply(E::OpenerReplies), Ok(Open));
        assert_eq!(Answered.apply(E::Resolve), Ok(Resolved));
        assert!(Resolved.apply(E::OpenerReplies).is_err());
        testing::round_trips::<TicketStatus>(
            TicketStatus::label_zh,
            &[E::DeskReplies, E::OpenerReplies, E::Resolve],
        );
    }
}

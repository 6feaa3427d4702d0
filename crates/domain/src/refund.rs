//! 退费: a parent's refund request. The institution answers within its window (silence agrees); a
//! refusal may be taken to the competent regulator, who upholds or dismisses it; a regulator's ruling
//! on a complaint, or a run-off, upholds any open request.

use strum::IntoStaticStr;

use crate::state::Machine;

crate::state::states! {
    /// 退费状态
    pub enum RefundStatus("refund") {
        #[strum(message = "待机构答复")]
        Requested,
        #[strum(message = "机构同意，退款中")]
        Agreed,
        #[strum(message = "机构拒绝")]
        Refused,
        #[strum(message = "已提交监管部门")]
        Escalated,
        #[strum(message = "监管部门支持退费，退款中")]
        Upheld,
        #[strum(message = "监管部门未支持")]
        Dismissed,
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
pub enum RefundEvent {
    /// The institution agrees, or its window passes in silence.
    Agree,
    Refuse,
    /// The parent takes a refusal to the regulator.
    Escalate,
    /// The regulator rules for the parent on an escalated request.
    Uphold,
    /// The regulator rules against an escalated request.
    Dismiss,
    /// 责令退费: a regulator orders the refund outside a ruling (a complaint's money action, a run-off),
    /// whatever stage an open request is at.
    Enforce,
}

impl Machine for RefundStatus {
    type Event = RefundEvent;
    const KIND: &'static str = "refund";

    fn next(self, event: RefundEvent) -> Option<Self> {
        use RefundEvent as E;
        use RefundStatus as S;
        match (self, event) {
            (S::Requested, E::Agree) => Some(S::Agreed),
            (S::Requested, E::Refuse) => Some(S::Refused),
            (S::Refused, E::Escalate) => Some(S::Escalated),
            (S::Escalated, E::Uphold) => Some(S::Upheld),
            (S::Escalated, E::Dismiss) => Some(S::Dismissed),
            (S::Requested | S::Refused | S::Escalated, E::Enforce) => Some(S::Upheld),
            _ => None,
        }
    }
}

impl RefundStatus {
    /// Still open: a parent may not ask again while one is.
    pub fn is_open(self) -> bool {
        matches!(self, Self::Requested | Self::Refused | Self::Escalated)
    }

    /// Granted: the refund is instructed to the bank.
    pub fn is_granted(self) -> bool {
        matches!(self, Self::Agreed | Self::Upheld)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::testing;
    use strum::VariantArray;

    #[test]
    fn a_refund_moves_forward_only() {
        use RefundEvent as E;
        use RefundStatus::*;
        assert_eq!(Requested.apply(E::Agree), Ok(Agreed));
        assert_eq!(Requested.apply(E::Refuse), Ok(Refused));
        assert!(Requested.apply(E::Escalate).is_err());
        assert_eq!(Refused.apply(E::Escalate), Ok(Escalated));
        assert_eq!(Escalated.apply(E::Uphold), Ok(Upheld));
        assert_eq!(Escalated.apply(E::Dismiss), Ok(Dismissed));
        assert!(
            Requested.apply(E::Uphold).is_err(),
            "a ruling needs an escalation"
        );
        assert!(Agreed.apply(E::Enforce).is_err() && Dismissed.apply(E::Enforce).is_err());
        for s in RefundStatus::VARIANTS {
            assert_eq!(
                s.is_open(),
                RefundStatus::sources(E::Enforce).contains(s),
                "{s}"
            );
        }
    }

    #[test]
    fn stored_names_are_the_columns_values() {
        testing::round_trips::<RefundStatus>(
            RefundStatus::label_zh,
            &[
                RefundEvent::Agree,
                RefundEvent::Refuse,
                RefundEvent::Escalate,
                RefundEvent::Uphold,
                RefundEvent::Dismiss,
            ],
        );
    }
}
